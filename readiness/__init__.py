"""Readiness: is each ML model ready for, and healthy in, production?

The package behind the dashboard, in three layers (core, storage, analysis; see
docs/architecture.md). It never imports streamlit. What a service needs is exported here,
imported on first use, so ``python -m readiness models`` does not pay for pandas' and scipy's
start-up before it needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from readiness.analysis.ingest import IngestResult, ModelSpec, ingest_csv, preview_upload
    from readiness.analysis.log import log_predictions
    from readiness.core.mapping import ColumnMapping, propose_mapping
    from readiness.errors import ReadinessError
    from readiness.storage.store import Store

_EXPORTS = {  # name -> the module that defines it
    "ColumnMapping": "readiness.core.mapping",
    "IngestResult": "readiness.analysis.ingest",
    "ModelSpec": "readiness.analysis.ingest",
    "ReadinessError": "readiness.errors",
    "Store": "readiness.storage.store",
    "ingest_csv": "readiness.analysis.ingest",
    "log_predictions": "readiness.analysis.log",
    "preview_upload": "readiness.analysis.ingest",
    "propose_mapping": "readiness.core.mapping",
}
__all__ = [
    "ColumnMapping",
    "IngestResult",
    "ModelSpec",
    "ReadinessError",
    "Store",
    "ingest_csv",
    "log_predictions",
    "preview_upload",
    "propose_mapping",
]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'readiness' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
