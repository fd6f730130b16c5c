"""Days of a log profiled outside this database (by a Spark job over a data lake): written whole, read like any day.

A model's log lives in one place: either its rows are in this database (uploads, services'
inserts) or a job over the data lake writes its days' aggregates here. Each write replaces the
days it brings (and, with ``since``, every external day from then on), in one transaction, so
running the same job twice leaves the same store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection, delete, func, select

from readiness.core.records import Baseline, Model, utcnow
from readiness.errors import ExternalLogError
from readiness.storage import schema as t
from readiness.storage.performance_store import row_of_record
from readiness.storage.sql import chunks
from readiness.storage.store import Store

if TYPE_CHECKING:
    from readiness.core.day_parts import DayParts


@dataclass(frozen=True)
class ExternalWrite:
    """What one write of external days did."""

    model: str
    days_written: int
    days_removed: int  # external days from ``since`` on that the job no longer found
    rows: int


def refuse_stored_log(conn: Connection, model: Model) -> None:
    """Raise ExternalLogError when the model has rows in this database (a service's or an upload's): its days cannot also come from a lake."""
    for table in (t.predictions, t.prediction_blocks):
        if conn.execute(select(table.c.id).where(table.c.model_id == model.id).limit(1)).first() is not None:
            raise ExternalLogError(
                f"Model {model.name!r} already has predictions stored in this database, so its days cannot "
                "also come from a Spark job over its data lake (they would be counted apart). Profile the "
                "lake's log under a new model name, or delete this model's stored log first."
            )


def is_external(conn: Connection, model_id: int) -> bool:
    """Whether a job outside this database writes the model's days."""
    e = t.external_days.c
    return conn.execute(select(e.day).where(e.model_id == model_id).limit(1)).first() is not None


def refuse_raw_rows(conn: Connection, model: Model) -> None:
    """Raise ExternalLogError when the model's log is profiled outside this database (rows added here would be counted apart)."""
    if is_external(conn, model.id):
        raise ExternalLogError(
            f"Model {model.name!r} is profiled by a Spark job over its data lake (python -m readiness "
            "spark-profile), so its log is not stored here. Add these rows to the lake and run the job "
            "again, or log them under another model name."
        )


def external_sample(
    conn: Connection, model_id: int, lo: datetime, hi: datetime, n: int, seed: int = 0
) -> list[str]:
    """Feature JSON of at most ``n`` rows of the external days that overlap [lo, hi), each day weighted by its rows.

    Each day keeps a uniform sample of its rows; a row of a day's sample stands for
    ``n_rows / len(sample)`` rows, so the draw across days is uniform over the range's rows.
    """
    e = t.external_days.c
    query = (
        select(e.n_rows, e.sample)
        .where(e.model_id == model_id, e.day < hi, e.last_time >= lo)
        .order_by(e.day)
    )
    texts: list[str] = []
    weights: list[float] = []
    for n_rows, sample in conn.execute(query):
        rows = json.loads(sample)
        texts.extend(rows)
        weights.extend([n_rows / len(rows)] * len(rows) if rows else [])
    if len(texts) <= n:
        return texts
    p = np.asarray(weights) / sum(weights)
    picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=n, replace=False, p=p))
    return [texts[i] for i in picked]


def newest_external_rows(conn: Connection, model_id: int, lo: datetime, hi: datetime, n: int) -> list[str]:
    """Feature JSON of at most ``n`` sampled rows of the newest external day that overlaps [lo, hi)."""
    e = t.external_days.c
    query = (
        select(e.sample)
        .where(e.model_id == model_id, e.day < hi, e.last_time >= lo)
        .order_by(e.day.desc())
        .limit(1)
    )
    sample = conn.execute(query).scalar_one_or_none()
    return [] if sample is None else json.loads(sample)[:n]


def external_baseline(conn: Connection, model_id: int) -> int | None:
    """The baseline the model's external days were profiled against (None: no external days)."""
    e = t.external_days.c
    return conn.execute(select(func.max(e.baseline_id)).where(e.model_id == model_id)).scalar_one_or_none()


def write_external_days(
    store: Store,
    model: Model,
    baseline: Baseline,
    parts: DayParts,
    since: datetime | None = None,
    actor: str = "spark-profile",
) -> ExternalWrite:
    """Replace the model's external days from ``since`` (all when None) with ``parts``, in one transaction."""
    with store.begin() as conn:
        refuse_stored_log(conn, model)
        active = store.active_baseline(model.id, conn)
        if active is None or active.id != baseline.id:
            raise ExternalLogError(
                f"Model {model.name!r} got a new baseline while the job ran. Run the job again: every day is "
                "profiled against the new baseline's bins."
            )
        e = t.external_days.c
        stale = select(e.day).where(e.model_id == model.id)
        if since is not None:
            stale = stale.where(e.day >= since)
        replaced = {row.day for row in conn.execute(stale)}
        days = replaced | set(parts.days)
        _delete_days(conn, model.id, baseline.id, sorted(days))
        _insert_days(conn, model, baseline, parts)
        store.audit(
            conn,
            "spark.profile",
            model.id,
            actor,
            {"days": len(parts.days), "rows": parts.n_rows, "since": since.isoformat() if since else None},
        )
    return ExternalWrite(model.name, len(parts.days), len(replaced - set(parts.days)), parts.n_rows)


def _delete_days(conn: Connection, model_id: int, baseline_id: int, days: list[datetime]) -> None:
    """Drop these days' external rows, profiles and day records."""
    for chunk in chunks(days):
        conn.execute(
            delete(t.external_days).where(
                t.external_days.c.model_id == model_id, t.external_days.c.day.in_(chunk)
            )
        )
        conn.execute(
            delete(t.profiles).where(
                t.profiles.c.baseline_id == baseline_id, t.profiles.c.window_start.in_(chunk)
            )
        )
        conn.execute(
            delete(t.perf_windows).where(
                t.perf_windows.c.baseline_id == baseline_id, t.perf_windows.c.window_start.in_(chunk)
            )
        )


def _in_time(row: tuple[int, str, str]) -> tuple[str, int]:
    """A sampled row's place in its day: by time, as the rows were logged."""
    return row[1], row[0]


def _insert_days(conn: Connection, model: Model, baseline: Baseline, parts: DayParts) -> None:
    """Insert the parts' profiles, day records and external day rows."""
    now = utcnow()
    profiles = [
        {
            "model_id": model.id,
            "baseline_id": baseline.id,
            "window_start": day,
            "n_rows": profile.n_rows,
            "data": json.dumps(profile.to_dict()),
        }
        for day, profile in sorted(parts.profiles.items())
    ]
    records = [row_of_record(model, baseline, record) for _, record in sorted(parts.records.items())]
    days = [
        {
            "model_id": model.id,
            "day": day,
            "baseline_id": baseline.id,
            "n_rows": total.n_rows,
            "n_labelled": total.n_labelled,
            "first_time": total.first,
            "last_time": total.last,
            "sample": json.dumps([text for _, _, text in sorted(parts.samples.get(day, ()), key=_in_time)]),
            "written_at": now,
        }
        for day, total in sorted(parts.totals.items())
    ]
    for table, rows in ((t.profiles, profiles), (t.perf_windows, records), (t.external_days, days)):
        if rows:
            conn.execute(table.insert(), rows)
