"""A model's settings as people change them: success criteria, attestations, checklist configuration.

The Settings and Checklist pages and the CLI call these; each change is one audited
transaction in the store (:mod:`readiness.storage.settings`), and it moves the model's data
version, so every cached analysis of the model is recomputed on its next view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from readiness.analysis.aggregates import stored_aggregates
from readiness.analysis.cache import cached
from readiness.core.checklist import DEFAULT_ITEMS, DEFAULT_VALIDITY_DAYS
from readiness.core.checklist_config import (
    ChecklistConfig,
    with_bands,
    with_critical,
    with_margins,
    with_not_applicable,
    without_not_applicable,
)
from readiness.core.criteria import (
    COMPARISONS,
    CRITERION_WINDOWS,
    DEFAULT_MIN_LABELS,
    Criterion,
    logged_defaults,
    new_criterion,
    parse_criterion,
)
from readiness.core.metrics import METRICS, metrics_for_task
from readiness.core.records import Model
from readiness.storage import settings as stored
from readiness.storage.settings import (
    add_criterion,
    attest,
    load_config,
    remove_criterion,
    withdraw,
)
from readiness.storage.store import Store

__all__ = [  # what the Settings and Checklist pages and the CLI use from here
    "COMPARISONS",
    "CRITERION_WINDOWS",
    "DEFAULT_ITEMS",
    "DEFAULT_MIN_LABELS",
    "DEFAULT_VALIDITY_DAYS",
    "METRICS",
    "AuditEntry",
    "Criterion",
    "add_criterion",
    "attest",
    "audit_trail",
    "checklist_config",
    "judged_at",
    "mark_applicable",
    "mark_not_applicable",
    "metrics_for_task",
    "model_criteria",
    "new_criterion",
    "parse_criterion",
    "remove_criterion",
    "set_bands",
    "set_critical",
    "set_historical",
    "set_margins",
    "withdraw",
]


def model_criteria(store: Store, model: Model) -> tuple[Criterion, ...]:
    """The model's criteria: those its owner set, or its task's defaults for what its log records.

    The latency default only applies once a prediction carries a latency, so a log without
    latency is never judged on it (and never reads "not enough labels" for it).
    """

    def compute() -> tuple[Criterion, ...]:
        criteria = stored.model_criteria(store, model)
        if not any(c.is_default for c in criteria):
            return criteria
        baseline = store.active_baseline(model.id)
        records = stored_aggregates(store, model, baseline).records if baseline is not None else ()
        return logged_defaults(criteria, sum(r.operations.n_timed for r in records))

    return cached(store, model, "criteria", (), compute)


@dataclass(frozen=True)
class AuditEntry:
    """One change to a model: when (UTC), who, the action, and what changed in words."""

    at: datetime
    actor: str
    action: str
    details: str
    model: str = ""  # the model it changed ("" for a change to no single model)


def checklist_config(store: Store, model: Model) -> ChecklistConfig:
    """The model's checklist configuration (the defaults until someone changes it)."""
    return load_config(store, model.id)


def mark_not_applicable(
    store: Store, model: Model, item_key: str, reason: str, actor: str = ""
) -> ChecklistConfig:
    """Mark one item not applicable to the model, with the reason (it leaves the score's denominator)."""
    return stored.update_config(store, model, lambda c: with_not_applicable(c, item_key, reason), actor)


def mark_applicable(store: Store, model: Model, item_key: str, actor: str = "") -> ChecklistConfig:
    """Undo :func:`mark_not_applicable` for one item."""
    return stored.update_config(
        store, model, lambda c: without_not_applicable(c, item_key, model.name), actor
    )


def set_margins(store: Store, model: Model, actor: str = "", **values: Any) -> ChecklistConfig:
    """Change some margins of the model's checklist, e.g. ``set_margins(store, model, max_ece=0.03)``."""
    return stored.update_config(store, model, lambda c: with_margins(c, **values), actor)


def judged_at(store: Store, model: Model, as_of: datetime, config: ChecklistConfig | None = None) -> datetime:
    """When the model's log is judged: ``as_of``, or for a historical log the end of its last day.

    The checklist and the Performance page both judge a finished log as of its own end, so
    their windows (and verdicts) are the same.
    """
    historical = (config or stored.load_config(store, model.id)).historical
    last = store.prediction_bounds(model.id, before=as_of)[1] if historical else None
    if last is None:
        return as_of
    return min(as_of, datetime.combine(last.date(), time()) + timedelta(days=1))


def set_historical(store: Store, model: Model, historical: bool, actor: str = "") -> ChecklistConfig:
    """Judge the model as a finished (historical) log, as of its own end, or as a live service."""
    return stored.update_config(store, model, lambda c: replace(c, historical=historical), actor)


def set_bands(store: Store, model: Model, ready: float, at_risk: float, actor: str = "") -> ChecklistConfig:
    """Change the model's status bands (Ready from ``ready``, At risk from ``at_risk``)."""
    return stored.update_config(store, model, lambda c: with_bands(c, ready, at_risk), actor)


def set_critical(
    store: Store, model: Model, item_key: str, critical: bool, actor: str = ""
) -> ChecklistConfig:
    """Make one item critical (a failure means Not ready) or not, for this model."""
    return stored.update_config(store, model, lambda c: with_critical(c, item_key, critical), actor)


def audit_trail(store: Store, model: Model | None, limit: int = 200) -> tuple[AuditEntry, ...]:
    """The audit trail, newest first: uploads, criteria, attestations and configuration; of one model, or of all (None)."""
    entries = store.audit_entries(model, limit)
    names = {m.id: m.name for m in store.list_models()}
    return tuple(
        AuditEntry(row.at, row.actor, row.action, _details(row.detail), names.get(row.model_id, ""))
        for row in entries.itertuples()
    )


def _details(detail: Any) -> str:
    """An audit entry's detail in words: a criterion as its text, anything else as key=value pairs."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    if "text" in detail:
        return f"{detail['text']} ({detail['reason']})" if "reason" in detail else str(detail["text"])
    if {"metric", "comparison", "threshold"} <= detail.keys():
        return Criterion(
            None,
            detail["metric"],
            detail["comparison"],
            float(detail["threshold"]),
            detail.get("window", "week"),
            int(detail.get("min_labels") or 0),
        ).text
    return ", ".join(f"{k}={v}" for k, v in detail.items())
