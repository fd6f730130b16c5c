"""Alerts in the store: what watch last saw per model, the changes it found, their deliveries, channels.

Every write here runs inside the caller's transaction (a ``conn`` from ``store.begin()``), so a
watch run records a model's changes and its new snapshot together, or neither.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, or_, select, update

from readiness.core.alerts import AlertPolicy, Change, QuietHours, Snapshot
from readiness.core.channels import Channel
from readiness.storage import schema as t
from readiness.storage.sql import result_frame, upsert
from readiness.storage.store import Store


@dataclass(frozen=True)
class StoredAlert:
    """One recorded change with its delivery state."""

    id: int
    model_id: int
    change: Change
    detected_at: datetime
    open: bool
    last_notified_at: datetime | None
    reminders: int
    acknowledged_by: str | None
    snoozed_until: datetime | None


# --------------------------------------------------------------------------- snapshots


def last_snapshot(conn: Connection, model_id: int) -> Snapshot | None:
    """The snapshot watch stored for the model last time (None before its first watch)."""
    text = conn.execute(
        select(t.alert_state.c.snapshot).where(t.alert_state.c.model_id == model_id)
    ).scalar_one_or_none()
    return None if text is None else Snapshot.from_json(text)


def save_snapshot(conn: Connection, model_id: int, snapshot: Snapshot, at: datetime) -> None:
    """Keep ``snapshot`` as the model's last seen state."""
    upsert(conn, t.alert_state, {"model_id": model_id}, {"snapshot": snapshot.to_json(), "assessed_at": at})


# --------------------------------------------------------------------------- alerts


def add_alert(conn: Connection, model_id: int, change: Change, at: datetime) -> int:
    """Record a change; it closes the open alert about the same thing, and opens one when it is a problem."""
    a = t.alerts.c
    conn.execute(
        update(t.alerts)
        .where(a.model_id == model_id, a.kind == change.kind, a.key == change.key, a.open.is_(True))
        .values(open=False, resolved_at=at)
    )
    result = conn.execute(
        t.alerts.insert().values(
            model_id=model_id,
            kind=change.kind,
            key=change.key,
            event=change.event,
            title=change.title,
            severity=change.severity,
            status=change.status,
            score=change.score,
            evidence=json.dumps(list(change.evidence)),
            page=change.page,
            problem=change.problem,
            detected_at=at,
            open=change.problem,
            reminders=0,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def change_of(row: Mapping[str, Any], model_name: str) -> Change:
    """The change an ``alerts`` row records (a row of :func:`alert_frame`, or of the table)."""
    score = row["score"]
    return Change(
        model_name,
        str(row["kind"]),
        str(row["key"]),
        str(row["event"]),
        str(row["title"]),
        str(row["severity"]),
        str(row["status"]),
        None if score is None or pd.isna(score) else float(score),
        tuple(str(line) for line in json.loads(row["evidence"] or "[]")),
        str(row["page"]),
        bool(row["problem"]),
    )


def _stored(row: Any, model_name: str) -> StoredAlert:
    change = change_of(row._mapping, model_name)
    return StoredAlert(
        int(row.id),
        int(row.model_id),
        change,
        row.detected_at,
        bool(row.open),
        row.last_notified_at,
        int(row.reminders),
        row.acknowledged_by,
        row.snoozed_until,
    )


def _with_names(conn: Connection, query: Any) -> list[StoredAlert]:
    names = dict(conn.execute(select(t.models.c.id, t.models.c.name)).all())
    return [_stored(row, names.get(row.model_id, "?")) for row in conn.execute(query).all()]


def get_alert(conn: Connection, alert_id: int) -> StoredAlert | None:
    """One alert by id."""
    found = _with_names(conn, select(t.alerts).where(t.alerts.c.id == alert_id))
    return found[0] if found else None


def undelivered(conn: Connection, since: datetime) -> list[StoredAlert]:
    """Alerts detected since ``since`` that no channel has delivered yet, oldest first."""
    a = t.alerts.c
    return _with_names(
        conn,
        select(t.alerts).where(a.detected_at >= since, a.last_notified_at.is_(None)).order_by(a.id),
    )


def failed_deliveries(conn: Connection, since: datetime) -> list[tuple[StoredAlert, str]]:
    """(alert, channel name) pairs detected since ``since`` whose deliveries on that channel all failed."""
    d = t.alert_deliveries.c
    a = t.alerts.c
    sent = (
        select(d.alert_id, d.channel)
        .where(d.outcome == "sent", d.reminder.is_(False))
        .group_by(d.alert_id, d.channel)
        .subquery()
    )
    pairs = conn.execute(
        select(d.alert_id, d.channel)
        .join(t.alerts, t.alerts.c.id == d.alert_id)
        .outerjoin(sent, and_(sent.c.alert_id == d.alert_id, sent.c.channel == d.channel))
        .where(
            d.outcome == "failed", d.reminder.is_(False), a.detected_at >= since, sent.c.alert_id.is_(None)
        )
        .group_by(d.alert_id, d.channel)
    ).all()
    ids = sorted({p.alert_id for p in pairs})
    if not ids:
        return []
    alerts = {x.id: x for x in _with_names(conn, select(t.alerts).where(a.id.in_(ids)))}
    return [(alerts[p.alert_id], p.channel) for p in pairs]


def due_reminders(conn: Connection, now: datetime, remind_before: datetime) -> list[StoredAlert]:
    """Open problems, neither acknowledged nor snoozed, last notified before ``remind_before``.

    A problem never notified (it came up before any channel was set, or past the retry
    period) is due as well once it is that old: whoever is listening now hears it still lasts.
    """
    a = t.alerts.c
    return _with_names(
        conn,
        select(t.alerts)
        .where(
            a.open.is_(True),
            a.problem.is_(True),
            a.acknowledged_at.is_(None),
            or_(a.snoozed_until.is_(None), a.snoozed_until <= now),
            or_(
                a.last_notified_at <= remind_before,
                and_(a.last_notified_at.is_(None), a.detected_at <= remind_before),
            ),
        )
        .order_by(a.id),
    )


def record_delivery(
    conn: Connection,
    entries: Sequence[tuple[int, bool]],
    channel: Channel,
    at: datetime,
    error: str,
    attempts: int,
) -> None:
    """Record one message's outcome for each (alert id, reminder) it carried; a success marks them notified."""
    outcome = "failed" if error else "sent"
    conn.execute(
        t.alert_deliveries.insert(),
        [
            {
                "alert_id": alert_id,
                "channel": channel.name[:200],
                "channel_kind": channel.kind,
                "at": at,
                "outcome": outcome,
                "attempts": attempts,
                "error": error,
                "reminder": reminder,
                "digest": len(entries) > 1,
            }
            for alert_id, reminder in entries
        ],
    )
    if error:
        return
    a = t.alerts.c
    first = [alert_id for alert_id, reminder in entries if not reminder]
    again = [alert_id for alert_id, reminder in entries if reminder]
    if first:
        conn.execute(update(t.alerts).where(a.id.in_(first)).values(last_notified_at=at))
    if again:
        conn.execute(
            update(t.alerts)
            # counted once, however many channels; a problem never notified before counts too
            .where(a.id.in_(again), or_(a.last_notified_at.is_(None), a.last_notified_at < at))
            .values(last_notified_at=at, reminders=a.reminders + 1)
        )


def acknowledge(conn: Connection, alert_id: int, actor: str, at: datetime) -> None:
    """Mark an alert acknowledged by ``actor``: no more reminders for it."""
    conn.execute(
        update(t.alerts)
        .where(t.alerts.c.id == alert_id)
        .values(acknowledged_by=actor[:200], acknowledged_at=at)
    )


def snooze(conn: Connection, alert_id: int, actor: str, until: datetime) -> None:
    """Hold an alert's reminders until ``until``."""
    conn.execute(
        update(t.alerts).where(t.alerts.c.id == alert_id).values(snoozed_by=actor[:200], snoozed_until=until)
    )


HISTORY_COLUMNS = [
    "id",
    "model",
    "detected_at",
    "kind",
    "key",
    "event",
    "title",
    "severity",
    "status",
    "score",
    "evidence",
    "page",
    "problem",
    "open",
    "resolved_at",
    "last_notified_at",
    "reminders",
    "acknowledged_by",
    "acknowledged_at",
    "snoozed_until",
    "snoozed_by",
]


def alert_frame(
    store: Store,
    model_id: int | None = None,
    limit: int = 500,
    kinds: Sequence[str] = (),
    open_only: bool = False,
) -> pd.DataFrame:
    """The newest alerts (one row each, newest first), for one model or all, of some kinds, open or all."""
    a = t.alerts.c
    query = (
        select(*(getattr(a, c) for c in HISTORY_COLUMNS if c != "model"), t.models.c.name.label("model"))
        .join(t.models, t.models.c.id == a.model_id)
        .order_by(a.detected_at.desc(), a.id.desc())  # a replayed history's ids are not in time order
        .limit(limit)
    )
    if model_id is not None:
        query = query.where(a.model_id == model_id)
    if kinds:
        query = query.where(a.kind.in_(list(kinds)))
    if open_only:
        query = query.where(a.open.is_(True))
    with store.engine.connect() as conn:
        frame = result_frame(conn.execute(query), [c for c in HISTORY_COLUMNS if c != "model"] + ["model"])
    return frame[HISTORY_COLUMNS]


DELIVERY_COLUMNS = [
    "alert_id",
    "at",
    "channel",
    "channel_kind",
    "outcome",
    "attempts",
    "error",
    "reminder",
    "digest",
]


def delivery_frame(store: Store, alert_ids: Sequence[int]) -> pd.DataFrame:
    """The deliveries of the given alerts, newest first."""
    d = t.alert_deliveries.c
    with store.engine.connect() as conn:
        return result_frame(
            conn.execute(
                select(*(getattr(d, c) for c in DELIVERY_COLUMNS))
                .where(d.alert_id.in_(list(alert_ids)))
                .order_by(d.id.desc())
            ),
            DELIVERY_COLUMNS,
        )


def latest_failures(store: Store, since: datetime) -> pd.DataFrame:
    """Per channel, its newest delivery since ``since`` when that one failed: channels that are down now."""
    d = t.alert_deliveries.c
    newest = select(d.channel, func.max(d.id).label("id")).where(d.at >= since).group_by(d.channel).subquery()
    with store.engine.connect() as conn:
        return result_frame(
            conn.execute(
                select(d.channel, d.channel_kind, d.at, d.error)
                .join(newest, newest.c.id == d.id)
                .where(d.outcome == "failed")
                .order_by(d.channel)
            ),
            ["channel", "channel_kind", "at", "error"],
        )


# --------------------------------------------------------------------------- channels and policy


def stored_channels(store: Store) -> tuple[Channel, ...]:
    """The channels added in Settings: global ones first, then per model."""
    c = t.alert_channels.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.id, c.kind, c.target, t.models.c.name)
            .outerjoin(t.models, t.models.c.id == c.model_id)
            .order_by(c.model_id.is_not(None), c.id)
        ).all()
    return tuple(Channel(f"channel-{r.id}", r.kind, r.target, r.name, "settings") for r in rows)


def insert_channel(
    conn: Connection, model_id: int | None, kind: str, target: str, actor: str, at: datetime
) -> int:
    """Store a (checked) channel; return its id."""
    result = conn.execute(
        t.alert_channels.insert().values(
            model_id=model_id, kind=kind, target=target, created_by=actor[:200], created_at=at
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def audit_channel(
    store: Store, conn: Connection, action: str, model_id: int | None, actor: str, channel: Channel
) -> None:
    """Audit a channel change by its masked form: the trail never holds a webhook's secret URL."""
    store.audit(conn, action, model_id, actor, {"channel": channel.name, "shown": channel.masked})


def delete_channel(conn: Connection, channel_id: int) -> Any:
    """Remove a stored channel; return its row (None when there was none)."""
    c = t.alert_channels.c
    row = conn.execute(select(t.alert_channels).where(c.id == channel_id)).first()
    if row is not None:
        conn.execute(delete(t.alert_channels).where(c.id == channel_id))
    return row


def load_policy(store: Store) -> tuple[AlertPolicy, str]:
    """The stored alert policy and the app's address for links ("" when not set)."""
    with store.engine.connect() as conn:
        text = conn.execute(
            select(t.alert_settings.c.data).where(t.alert_settings.c.id == 1)
        ).scalar_one_or_none()
    data = json.loads(text) if text else {}
    quiet = data.get("quiet_hours") or ""
    default = AlertPolicy()
    policy = AlertPolicy(
        remind_hours=float(data.get("remind_hours", default.remind_hours)),
        digest_from=int(data.get("digest_from", default.digest_from)),
        quiet=QuietHours.parse(quiet) if quiet else None,
        retry_hours=float(data.get("retry_hours", default.retry_hours)),
        expiry_warning_days=int(data.get("expiry_warning_days", default.expiry_warning_days)),
    )
    return policy, str(data.get("app_url", ""))


def save_policy(conn: Connection, policy: AlertPolicy, app_url: str, at: datetime) -> dict[str, Any]:
    """Store the alert policy and app address; return what was stored."""
    data = {
        "remind_hours": policy.remind_hours,
        "digest_from": policy.digest_from,
        "quiet_hours": policy.quiet.text if policy.quiet else "",
        "retry_hours": policy.retry_hours,
        "expiry_warning_days": policy.expiry_warning_days,
        "app_url": app_url,
    }
    upsert(conn, t.alert_settings, {"id": 1}, {"data": json.dumps(data), "updated_at": at})
    return data
