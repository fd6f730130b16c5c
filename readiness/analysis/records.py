"""The records and statuses the pages render, re-exported so pages depend on the analysis layer only.

The analyses themselves live in :mod:`readiness.analysis.assessment`,
:mod:`readiness.analysis.overview` and :mod:`readiness.analysis.report`.
"""

from __future__ import annotations

from readiness.core.access import Action
from readiness.core.checklist import (
    DEFAULT_ITEMS,
    DEFAULT_VALIDITY_DAYS,
    SECTIONS,
    Bands,
    ItemResult,
    band_status,
    points,
    status_words,
)
from readiness.core.records import TASKS, Model, utcnow
from readiness.core.status import CriteriaState, CriterionStatus, Freshness, ItemStatus, ReadinessStatus

__all__ = [
    "DEFAULT_ITEMS",
    "DEFAULT_VALIDITY_DAYS",
    "SECTIONS",
    "TASKS",
    "Action",
    "Bands",
    "CriteriaState",
    "CriterionStatus",
    "Freshness",
    "ItemResult",
    "ItemStatus",
    "Model",
    "ReadinessStatus",
    "band_status",
    "points",
    "status_words",
    "utcnow",
]
