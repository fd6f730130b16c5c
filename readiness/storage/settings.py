"""A model's settings in the store: success criteria, attestations and checklist configuration.

Every change is one transaction with its audit entry, so the audit trail (and the data
version every cached analysis is keyed on) moves with it. Readers take a resolved
:class:`~readiness.core.records.Model`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, delete, select

from readiness.core.checklist import DEFAULT_VALIDITY_DAYS, Attestation, new_attestation
from readiness.core.checklist_config import ChecklistConfig
from readiness.core.criteria import DEFAULT_CRITERIA, Criterion, check_criterion
from readiness.core.records import Model, utcnow
from readiness.errors import ChecklistError, CriterionError
from readiness.storage import schema as t
from readiness.storage.sql import upsert
from readiness.storage.store import Store

# --------------------------------------------------------------------------- criteria


def stored_criteria(conn: Connection, model_id: int) -> tuple[Criterion, ...]:
    """The model's stored criteria, oldest first (empty when it uses its task's defaults)."""
    c = t.criteria.c
    rows = conn.execute(select(t.criteria).where(c.model_id == model_id).order_by(c.id)).all()
    return tuple(
        Criterion(int(r.id), r.metric, r.comparison, float(r.threshold), r.window, int(r.min_labels))
        for r in rows
    )


def model_criteria(store: Store, model: Model) -> tuple[Criterion, ...]:
    """The model's stored criteria, oldest first, or its task's defaults when none are stored."""
    with store.engine.connect() as conn:
        stored = stored_criteria(conn, model.id)
    return stored or DEFAULT_CRITERIA[model.task]


def write_criterion(
    store: Store, conn: Connection, model_id: int, criterion: Criterion, actor: str = ""
) -> None:
    """Insert one (validated) criterion and its audit entry inside the caller's transaction."""
    values = {
        "metric": criterion.metric,
        "comparison": criterion.comparison,
        "threshold": float(criterion.threshold),
        "window": criterion.window,
        "min_labels": criterion.min_labels,
    }
    conn.execute(t.criteria.insert().values(model_id=model_id, created_at=utcnow(), **values))
    store.audit(conn, "criterion.add", model_id, actor, values)


def add_criterion(store: Store, model: Model, criterion: Criterion, actor: str = "") -> Criterion:
    """Validate and store a criterion; it replaces one on the same metric, comparison and window.

    One transaction, audited as "criterion.add" (and "criterion.remove" for a replaced one).
    When a model on task defaults gets its first criterion, the defaults simply stop applying:
    they are not copied into the store, so add every criterion the model should keep.
    """
    check_criterion(criterion, model.task)
    with store.begin() as conn:
        for old in stored_criteria(conn, model.id):
            if _slot(old) == _slot(criterion):
                _delete_criterion(store, conn, model, old, actor, replaced=True)
        write_criterion(store, conn, model.id, criterion, actor)
        return stored_criteria(conn, model.id)[-1]


def remove_criterion(store: Store, model: Model, criterion_id: int, actor: str = "") -> Criterion:
    """Remove one stored criterion of the model (audited as "criterion.remove"); return it."""
    with store.begin() as conn:
        stored = stored_criteria(conn, model.id)
        found = next((c for c in stored if c.id == criterion_id), None)
        if found is None:
            raise CriterionError(_not_found(model, criterion_id, stored))
        _delete_criterion(store, conn, model, found, actor, replaced=False)
    return found


def _slot(criterion: Criterion) -> tuple[str, str, str]:
    """What a new criterion replaces: the same metric, comparison and window."""
    return criterion.metric, criterion.comparison, criterion.window


def _not_found(model: Model, criterion_id: Any, stored: tuple[Criterion, ...]) -> str:
    if not stored:
        return (
            f"Model {model.name!r} has no stored criteria (it uses the {model.task} task defaults), so there "
            f"is no criterion {criterion_id!r} to remove. Add a criterion to replace the defaults."
        )
    valid = "; ".join(f"{c.id}: {c.text}" for c in stored)
    return f"Model {model.name!r} has no criterion with id {criterion_id!r}. Its criteria are {valid}."


def _delete_criterion(
    store: Store, conn: Connection, model: Model, criterion: Criterion, actor: str, replaced: bool
) -> None:
    conn.execute(delete(t.criteria).where(t.criteria.c.id == criterion.id, t.criteria.c.model_id == model.id))
    detail = {**criterion.to_dict(), "reason": "replaced" if replaced else "removed"}
    detail.pop("default")
    store.audit(conn, "criterion.remove", model.id, actor, detail)


# --------------------------------------------------------------------------- attestations


def attest(
    store: Store,
    model: Model,
    item_key: str,
    owner: str,
    evidence_url: str,
    days: int = DEFAULT_VALIDITY_DAYS,
    today: date | None = None,
    note: str = "",
    actor: str = "",
) -> Attestation:
    """Record that ``owner`` attests ``item_key`` for the model today, valid for ``days`` days.

    Every attestation is kept (the newest per item counts), so the audit trail can say who
    confirmed what and when.
    """
    att = new_attestation(item_key, owner, evidence_url, today or utcnow().date(), days, note=note)
    with store.begin() as conn:
        write_attestation(store, conn, model.id, att, actor)
    return att


def write_attestation(
    store: Store, conn: Connection, model_id: int, att: Attestation, actor: str = ""
) -> None:
    """Insert one (validated) attestation and its audit entry inside the caller's transaction."""
    conn.execute(
        t.attestations.insert().values(
            model_id=model_id,
            item=att.item_key,
            owner=att.owner,
            attested_at=_midnight(att.attested_at),
            expires_at=_midnight(att.expires_at),
            evidence_url=att.evidence_url,
            note=att.note,
        )
    )
    store.audit(
        conn,
        "checklist.attest",
        model_id,
        actor or att.owner,
        {
            "item": att.item_key,
            "owner": att.owner,
            "attested_at": att.attested_at.isoformat(),
            "expires_at": att.expires_at.isoformat(),
            "evidence_url": att.evidence_url,
        },
    )


def withdraw(store: Store, model: Model, item_key: str, actor: str = "") -> int:
    """Withdraw every attestation of one item of the model (it counts as not attested); return how many."""
    a = t.attestations.c
    with store.begin() as conn:
        found = conn.execute(select(a.id).where(a.model_id == model.id, a.item == item_key)).scalars().all()
        if not found:
            raise ChecklistError(
                f"Checklist item {item_key!r} of model {model.name!r} has no attestation to withdraw."
            )
        conn.execute(delete(t.attestations).where(a.model_id == model.id, a.item == item_key))
        store.audit(
            conn, "checklist.withdraw", model.id, actor, {"item": item_key, "attestations": len(found)}
        )
    return len(found)


def current_attestations(store: Store, model_id: int, as_of: date | None = None) -> dict[str, Attestation]:
    """The newest attestation of each item made on or before ``as_of`` (default: any), by item key."""
    a = t.attestations.c
    query = select(t.attestations).where(a.model_id == model_id).order_by(a.attested_at, a.id)
    if as_of is not None:
        query = query.where(a.attested_at <= _midnight(as_of))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    newest: dict[str, Attestation] = {}
    for row in rows:
        newest[row.item] = Attestation(
            row.item,
            row.owner,
            _day(row.attested_at),
            _day(row.expires_at),
            row.evidence_url or "",
            row.note or "",
        )
    return newest


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


# --------------------------------------------------------------------------- checklist configuration


def load_config(store: Store, model_id: int, conn: Connection | None = None) -> ChecklistConfig:
    """The model's stored checklist configuration, or the defaults."""
    query = select(t.checklist_config.c.data).where(t.checklist_config.c.model_id == model_id)
    if conn is not None:
        text = conn.execute(query).scalar_one_or_none()
    else:
        with store.engine.connect() as c:
            text = c.execute(query).scalar_one_or_none()
    return ChecklistConfig.from_dict(json.loads(text)) if text else ChecklistConfig()


def write_config(
    store: Store, conn: Connection, model_id: int, config: ChecklistConfig, actor: str = ""
) -> None:
    """Store a model's configuration (replacing the previous one) and its audit entry, in the caller's transaction."""
    data = json.dumps(config.to_dict(), sort_keys=True)
    upsert(conn, t.checklist_config, {"model_id": model_id}, {"data": data, "updated_at": utcnow()})
    store.audit(conn, "checklist.configure", model_id, actor, config.to_dict())


def update_config(
    store: Store, model: Model, change: Callable[[ChecklistConfig], ChecklistConfig], actor: str = ""
) -> ChecklistConfig:
    """Read the model's configuration, apply ``change`` and store the result, in one audited transaction."""
    with store.begin() as conn:
        updated = change(load_config(store, model.id, conn))
        write_config(store, conn, model.id, updated, actor)
    return updated
