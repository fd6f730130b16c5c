"""Readiness: is each ML model ready for, and healthy in, production?

The package behind the dashboard, in three layers (core, storage, analysis; see
docs/architecture.md). It never imports streamlit. What a service needs is exported here.
"""

from readiness.analysis.ingest import IngestResult, ModelSpec, ingest_csv, preview_upload
from readiness.analysis.log import log_predictions
from readiness.core.mapping import ColumnMapping, propose_mapping
from readiness.errors import ReadinessError
from readiness.storage.store import Store

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
