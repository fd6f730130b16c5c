"""Attestations in the store: a person confirms an attested checklist item, with evidence.

Every attestation is kept (the newest per item counts), so the audit trail and the score
history can say who confirmed what and when. Attesting and withdrawing are each one
transaction, audited as "checklist.attest" and "checklist.withdraw".
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Connection, delete, select

from readiness import schema as t
from readiness.checklist import DEFAULT_VALIDITY_DAYS, Attestation, ChecklistError, new_attestation
from readiness.store import Store, utcnow


def attest(
    store: Store,
    model_name: str,
    item_key: str,
    owner: str,
    evidence_url: str,
    days: int = DEFAULT_VALIDITY_DAYS,
    today: date | None = None,
    note: str = "",
    actor: str = "",
) -> Attestation:
    """Record that ``owner`` attests ``item_key`` for the model today, valid for ``days`` days.

    >>> store = Store.open("sqlite:///:memory:")
    >>> _ = store.create_model("fraud", task="binary", positive_class="1")
    >>> attest(store, "fraud", "model_card", "Ana", "https://wiki/fraud-card", today=date(2026, 1, 1)).expires_at
    datetime.date(2026, 6, 30)
    """
    model = store.get_model(model_name)
    att = new_attestation(item_key, owner, evidence_url, today or utcnow().date(), days, note=note)
    with store.begin() as conn:
        write_attestation(store, conn, model.id, att, actor)
    return att


def write_attestation(store: Store, conn: Connection, model_id: int, att: Attestation, actor: str = "") -> None:
    """Insert one (validated) attestation and its audit entry inside the caller's transaction."""
    conn.execute(t.attestations.insert().values(
        model_id=model_id, item=att.item_key, owner=att.owner, attested_at=_midnight(att.attested_at),
        expires_at=_midnight(att.expires_at), evidence_url=att.evidence_url, note=att.note))
    store.audit(conn, "checklist.attest", model_id, actor or att.owner, {
        "item": att.item_key, "owner": att.owner, "attested_at": att.attested_at.isoformat(),
        "expires_at": att.expires_at.isoformat(), "evidence_url": att.evidence_url})


def withdraw(store: Store, model_name: str, item_key: str, actor: str = "") -> int:
    """Withdraw every attestation of one item of the model (the item counts as not attested); return how many."""
    model = store.get_model(model_name)
    a = t.attestations.c
    with store.begin() as conn:
        found = conn.execute(select(a.id).where(a.model_id == model.id, a.item == item_key)).scalars().all()
        if not found:
            raise ChecklistError(f"Checklist item {item_key!r} of model {model.name!r} has no attestation to "
                                 "withdraw.")
        conn.execute(delete(t.attestations).where(a.model_id == model.id, a.item == item_key))
        store.audit(conn, "checklist.withdraw", model.id, actor, {"item": item_key, "attestations": len(found)})
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
        newest[row.item] = Attestation(row.item, row.owner, _day(row.attested_at), _day(row.expires_at),
                                       row.evidence_url or "", row.note or "")
    return newest


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment
