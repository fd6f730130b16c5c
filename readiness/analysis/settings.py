"""A model's settings as people change them: success criteria, attestations, checklist configuration.

The Settings and Checklist pages and the CLI call these; each change is one audited
transaction in the store (:mod:`readiness.storage.settings`), and it moves the model's data
version, so every cached analysis of the model is recomputed on its next view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from readiness.analysis.aggregates import stored_records
from readiness.analysis.cache import cached
from readiness.core.access import Action, Actor, require
from readiness.core.checklist import DEFAULT_ITEMS, DEFAULT_VALIDITY_DAYS, Attestation
from readiness.core.checklist_config import (
    ChecklistConfig,
    is_critical,
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
from readiness.storage.settings import load_config
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
        records = stored_records(store, model, baseline) if baseline is not None else ()
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


def add_criterion(store: Store, model: Model, criterion: Criterion, actor: Actor | str = "") -> Criterion:
    """Store a success criterion for the model (editor role); it replaces one on the same metric, comparison and window."""
    who = require(actor, Action.SET_CRITERIA, model.name)
    return stored.add_criterion(store, model, criterion, who.name)


def remove_criterion(store: Store, model: Model, criterion_id: int, actor: Actor | str = "") -> Criterion:
    """Remove one stored criterion of the model (editor role); return it."""
    who = require(actor, Action.SET_CRITERIA, model.name)
    return stored.remove_criterion(store, model, criterion_id, who.name)


def attest(
    store: Store,
    model: Model,
    item_key: str,
    owner: str,
    evidence_url: str,
    days: int = DEFAULT_VALIDITY_DAYS,
    today: date | None = None,
    note: str = "",
    actor: Actor | str = "",
) -> Attestation:
    """Attest one checklist item of the model (owner role), with its owner, evidence link and validity from ``today``."""
    who = require(actor, Action.ATTEST, model.name)
    return stored.attest(store, model, item_key, owner, evidence_url, days, today, note=note, actor=who.name)


def withdraw(store: Store, model: Model, item_key: str, actor: Actor | str = "") -> int:
    """Withdraw every attestation of one item of the model (owner role); return how many."""
    who = require(actor, Action.ATTEST, model.name)
    return stored.withdraw(store, model, item_key, who.name)


def mark_not_applicable(
    store: Store, model: Model, item_key: str, reason: str, actor: Actor | str = ""
) -> ChecklistConfig:
    """Mark one item not applicable to the model, with the reason (owner role; admin for a critical item)."""
    who = require(actor, Action.NOT_APPLICABLE, model.name)

    def change(config: ChecklistConfig) -> ChecklistConfig:
        if is_critical(config, item_key):  # checked on the configuration the transaction writes over
            require(who, Action.CRITICAL_EXEMPTION, model.name)
        return with_not_applicable(config, item_key, reason)

    return stored.update_config(store, model, change, who.name)


def mark_applicable(store: Store, model: Model, item_key: str, actor: Actor | str = "") -> ChecklistConfig:
    """Undo :func:`mark_not_applicable` for one item (owner role)."""
    who = require(actor, Action.NOT_APPLICABLE, model.name)
    return stored.update_config(
        store, model, lambda c: without_not_applicable(c, item_key, model.name), who.name
    )


def set_margins(store: Store, model: Model, actor: Actor | str = "", **values: Any) -> ChecklistConfig:
    """Change some margins of the model's checklist (owner role), e.g. ``set_margins(store, model, max_ece=0.03)``."""
    who = require(actor, Action.CONFIGURE, model.name)
    return stored.update_config(store, model, lambda c: with_margins(c, **values), who.name)


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


def set_historical(store: Store, model: Model, historical: bool, actor: Actor | str = "") -> ChecklistConfig:
    """Judge the model as a finished (historical) log, as of its own end, or as a live service (owner role)."""
    who = require(actor, Action.CONFIGURE, model.name)
    return stored.update_config(store, model, lambda c: replace(c, historical=historical), who.name)


def set_bands(
    store: Store, model: Model, ready: float, at_risk: float, actor: Actor | str = ""
) -> ChecklistConfig:
    """Change the model's status bands (owner role): Ready from ``ready``, At risk from ``at_risk``."""
    who = require(actor, Action.CONFIGURE, model.name)
    return stored.update_config(store, model, lambda c: with_bands(c, ready, at_risk), who.name)


def set_critical(
    store: Store, model: Model, item_key: str, critical: bool, actor: Actor | str = ""
) -> ChecklistConfig:
    """Make one item critical (a failure means Not ready) or not (owner role; admin to make a critical item not critical)."""
    who = require(actor, Action.CONFIGURE, model.name)

    def change(config: ChecklistConfig) -> ChecklistConfig:
        if not critical and is_critical(config, item_key):
            require(who, Action.CRITICAL_EXEMPTION, model.name)
        return with_critical(config, item_key, critical)

    return stored.update_config(store, model, change, who.name)


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
