"""Stored drift profiles: the baseline's reference, one merged profile per model and UTC day.

``refresh_profiles`` reads only prediction rows past a watermark, in bounded chunks, so rows
that services inserted directly are picked up incrementally; a new baseline resets the
watermark and profiles are recomputed from the raw rows. Any range of days is answered by
merging stored profiles, so a page over millions of predictions reads kilobytes. Refreshes
run when data arrives or from ``python -m readiness refresh``; reading never writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, func, select, update

from readiness.core.day_profiles import profile_days, profile_input
from readiness.core.lazy import lazy_module
from readiness.core.profiles import (
    OUTPUT_ROLES,
    FrameProfile,
    Reference,
    baseline_reference,
    merge,
    raw_log_frame,
)
from readiness.core.records import Baseline, Model, utcnow
from readiness.core.windows import window_starts
from readiness.storage import schema as t
from readiness.storage.log_blocks import each_block
from readiness.storage.sql import (
    LABELLED_LOG,
    effective_label,
    parse_times,
    plausible_time,
    result_frame,
    stored_time,
    upsert,
)
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

REFRESH_CHUNK_ROWS = 100_000
Progress = Callable[[int], None]
ChunkMerge = Callable[[Connection, "pd.DataFrame", int, int], None]


@dataclass(frozen=True)
class AlsoFed:
    """Another aggregate fed from the same read of new rows: where its watermark stands, and what merges a chunk.

    ``merge(conn, rows, old, new)`` runs in the chunk's transaction with the rows (their
    outputs, effective labels and feature JSON) and moves its own watermark from old to new.
    """

    watermark: int
    merge: ChunkMerge


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh profiled."""

    model: str
    rows_profiled: int
    days_touched: int
    watermark: int
    rebuilt: bool  # True when a new baseline made every profile be recomputed


@dataclass(frozen=True)
class ProfileSpan:
    """The first and last UTC day with a stored profile, and the rows they cover."""

    first_day: datetime | None
    last_day: datetime | None
    n_rows: int


def load_reference(store: Store, model: Model, baseline: Baseline) -> Reference:
    """The baseline's stored reference bins, or (before its first refresh) the same bins computed in memory."""
    with store.engine.connect() as conn:
        text = conn.execute(
            select(t.drift_references.c.data).where(t.drift_references.c.baseline_id == baseline.id)
        ).scalar_one_or_none()
    if text is not None:
        return Reference.from_dict(json.loads(text))
    return baseline_reference(model, baseline, store.read_baseline(baseline))


def _stored_reference(store: Store, conn: Connection, model: Model, baseline: Baseline) -> Reference:
    """The baseline's reference, built and stored on the first refresh after the baseline arrived."""
    text = conn.execute(
        select(t.drift_references.c.data).where(t.drift_references.c.baseline_id == baseline.id)
    ).scalar_one_or_none()
    if text is not None:
        return Reference.from_dict(json.loads(text))
    return store_reference(conn, model, baseline, store.read_baseline(baseline))


def store_reference(conn: Connection, model: Model, baseline: Baseline, frame: pd.DataFrame) -> Reference:
    """Build and store a new baseline's reference from its canonical frame, in the transaction that stores the baseline.

    The same reference the first refresh would build from the stored rows, without reading them back.
    """
    reference = baseline_reference(model, baseline, frame)
    upsert(
        conn,
        t.drift_references,
        {"baseline_id": baseline.id},
        {"model_id": model.id, "data": json.dumps(reference.to_dict()), "created_at": utcnow()},
    )
    return reference


def refresh_profiles(
    store: Store,
    model: Model,
    chunk_rows: int = REFRESH_CHUNK_ROWS,
    progress: Progress | None = None,
    upto: int | None = None,
    also: AlsoFed | None = None,
) -> RefreshResult:
    """Profile every prediction past the watermark (up to ``upto``: Store.committed_bounds), chunk by chunk.

    With ``also`` standing at the same watermark, each chunk is read once, with its labels, and
    handed to it in the same transaction (one read feeds both aggregates).
    """
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return RefreshResult(model.name, 0, 0, 0, False)
    with store.begin() as conn:
        reference = _stored_reference(store, conn, model, baseline)
    watermark, rebuilt, (rows, days) = _start_state(store, model, baseline, reference)
    if upto is None:  # rows past it are read by the next refresh
        upto = store.committed_bounds(model.id)[0]
    feeding = also if also is not None and also.watermark == watermark else None
    touched: set[datetime] = set()  # a day two chunks share is one day
    while True:
        raw = _read_chunk(store, model.id, watermark, chunk_rows, upto, labelled=feeding is not None)
        if raw.empty:
            break
        new_watermark = int(raw["id"].max())
        with store.begin() as conn:
            if not _advance(conn, model.id, baseline.id, watermark, new_watermark):
                break  # another refresh moved the watermark: it owns these rows
            touched |= _merge_chunk(conn, model, baseline, reference, raw)
            if feeding is not None:
                feeding.merge(conn, raw, watermark, new_watermark)
        watermark = new_watermark
        rows += len(raw)
        if progress is not None:
            progress(rows)
    return RefreshResult(model.name, rows, days + len(touched), watermark, rebuilt)


def _start_state(
    store: Store, model: Model, baseline: Baseline, reference: Reference
) -> tuple[int, bool, tuple[int, int]]:
    """The watermark to continue from, whether older profiles were dropped, and the block rows and days profiled.

    A new baseline drops old profiles and starts at zero.

    Starting over profiles every uploaded block in the same transaction: uploads profile their
    blocks themselves from then on, so each block is profiled exactly once.
    """
    with store.begin() as conn:
        state = conn.execute(select(t.profile_state).where(t.profile_state.c.model_id == model.id)).first()
        if state is not None and state.baseline_id == baseline.id:
            return int(state.watermark), False, (0, 0)
        conn.execute(delete(t.profiles).where(t.profiles.c.model_id == model.id))
        conn.execute(delete(t.profile_state).where(t.profile_state.c.model_id == model.id))
        conn.execute(
            t.profile_state.insert().values(
                model_id=model.id, baseline_id=baseline.id, watermark=0, updated_at=utcnow()
            )
        )
        rows = days = 0
        step = InStep(model, baseline, reference, 0, True)
        columns = ("timestamp", *OUTPUT_ROLES, "probabilities")
        for block in each_block(conn, model.id, baseline.features, columns):
            days += profile_in_step(conn, step, block, baseline.feature_names)
            rows += len(block)
        return 0, state is not None, (rows, days)


def _advance(conn: Connection, model_id: int, baseline_id: int, old: int, new: int) -> bool:
    """Move the watermark from old to new; False when someone else already moved it."""
    state = t.profile_state.c
    result = conn.execute(
        update(t.profile_state)
        .where(state.model_id == model_id, state.baseline_id == baseline_id, state.watermark == old)
        .values(watermark=new, updated_at=utcnow())
    )
    return result.rowcount == 1


def _read_chunk(
    store: Store, model_id: int, watermark: int, limit: int, upto: int | None = None, labelled: bool = False
) -> pd.DataFrame:
    """The next ``limit`` plausible rows past the watermark, oldest first (``labelled``: with what day records need)."""
    p = t.predictions
    columns = [p.c.id, stored_time(p.c.timestamp), p.c.prediction, p.c.score, p.c.features, p.c.probabilities]
    if labelled:
        lab = t.labels.c
        columns += [
            p.c.model_version,
            p.c.latency_ms,
            effective_label().label("label"),
            stored_time(lab.received_at).label("received_at"),
            stored_time(lab.arrived_at).label("arrived_at"),
        ]
    query = (
        select(*columns)
        .select_from(LABELLED_LOG if labelled else p)
        .where(p.c.model_id == model_id, p.c.id > watermark, plausible_time(p.c.timestamp))
        .order_by(p.c.id)
        .limit(limit)
    )
    if upto is not None:
        query = query.where(p.c.id <= upto)
    with store.engine.connect() as conn:
        frame = result_frame(
            conn.execute(query), list(query.selected_columns.keys()), as_objects=("features",)
        )
    frame["timestamp"] = parse_times(frame["timestamp"])
    if labelled:
        frame["model_version"] = frame["model_version"].fillna("").astype(str)
        frame["received_at"] = parse_times(frame["received_at"])
        frame["arrived_at"] = parse_times(frame["arrived_at"])
    return frame


def _merge_chunk(
    conn: Connection, model: Model, baseline: Baseline, reference: Reference, raw: pd.DataFrame
) -> set[datetime]:
    return _merge_days(conn, model, baseline, reference, raw_log_frame(raw, reference), raw["timestamp"])


def _merge_days(
    conn: Connection,
    model: Model,
    baseline: Baseline,
    reference: Reference,
    frame: pd.DataFrame,
    timestamps: pd.Series,
) -> set[datetime]:
    """Profile typed rows per UTC day and merge each day into its stored profile; return the days touched."""
    days = window_starts(timestamps, "day")
    touched: set[datetime] = set()
    for day, profile in profile_days(frame, reference, days.to_numpy()).items():
        start = pd.Timestamp(day).to_pydatetime()
        existing = conn.execute(
            select(t.profiles.c.data).where(
                t.profiles.c.baseline_id == baseline.id, t.profiles.c.window_start == start
            )
        ).scalar_one_or_none()
        if existing is not None:
            profile = merge(FrameProfile.from_dict(json.loads(existing)), profile)
        upsert(
            conn,
            t.profiles,
            {"baseline_id": baseline.id, "window_start": start},
            {"model_id": model.id, "n_rows": profile.n_rows, "data": json.dumps(profile.to_dict())},
        )
        touched.add(start)
    return touched


@dataclass(frozen=True)
class InStep:
    """Profiling an upload's rows as they are stored, in the transaction that stores them.

    Only where that equals what a refresh would do afterwards: SQLite (the transaction holds the
    write lock, so no other rows get ids among the upload's) and nothing left to profile before
    the upload (the watermark is at the model's newest row). Otherwise ``start_in_step`` gives
    None and the refresh after storing profiles the rows, reading them back.
    """

    model: Model
    baseline: Baseline
    reference: Reference
    watermark: int
    blocks: bool = False  # rows stored as blocks: the refresh never reads them, so no watermark moves


def start_in_step(
    store: Store, conn: Connection, model: Model, baseline: Baseline, blocks: bool = False
) -> InStep | None:
    """Whether an upload's rows can be profiled as they are stored (see InStep), and with what.

    Rows stored as blocks (``blocks``) always are, on any database, once the model's profiles
    are this baseline's: the refresh reads blocks only when it rebuilds every profile, and the
    upload holds the model's refresh lock. Otherwise None: the refresh after storing rebuilds.
    """
    state = conn.execute(select(t.profile_state).where(t.profile_state.c.model_id == model.id)).first()
    if blocks:
        if state is None or state.baseline_id != baseline.id:
            return None
        return InStep(
            model, baseline, _stored_reference(store, conn, model, baseline), int(state.watermark), True
        )
    if store.dialect != "sqlite":
        return None
    if state is not None and state.baseline_id != baseline.id:
        return None  # a new baseline: the next refresh rebuilds every profile
    watermark = int(state.watermark) if state is not None else 0
    p = t.predictions.c
    pending = conn.execute(select(func.count()).where(p.model_id == model.id, p.id > watermark)).scalar_one()
    if pending:
        return None
    if state is None:  # a model's first rows: nothing to profile before them
        conn.execute(
            t.profile_state.insert().values(
                model_id=model.id, baseline_id=baseline.id, watermark=0, updated_at=utcnow()
            )
        )
    return InStep(model, baseline, _stored_reference(store, conn, model, baseline), watermark)


def start_new_baseline_in_step(
    conn: Connection, model: Model, baseline: Baseline, reference: Reference
) -> InStep:
    """Profile the blocks stored with a new baseline, in its transaction, when they are the model's only rows.

    Starts the baseline's profile state as its first refresh would (older profiles dropped,
    watermark at zero), so no refresh reads the blocks back to profile them (the demo's seed).
    """
    conn.execute(delete(t.profiles).where(t.profiles.c.model_id == model.id))
    conn.execute(delete(t.profile_state).where(t.profile_state.c.model_id == model.id))
    conn.execute(
        t.profile_state.insert().values(
            model_id=model.id, baseline_id=baseline.id, watermark=0, updated_at=utcnow()
        )
    )
    return InStep(model, baseline, reference, 0, True)


def profile_in_step(conn: Connection, step: InStep, frame: pd.DataFrame, feature_names: Sequence[str]) -> int:
    """Merge the day profiles of canonical rows this transaction just stored, as a refresh would; return the days."""
    typed = profile_input(frame, step.reference, feature_names)
    return len(_merge_days(conn, step.model, step.baseline, step.reference, typed, frame["timestamp"]))


def finish_in_step(conn: Connection, step: InStep) -> None:
    """Move the watermark past the rows this transaction stored and profiled (blocks: nothing to move)."""
    if step.blocks:
        return
    newest = conn.execute(
        select(func.max(t.predictions.c.id)).where(t.predictions.c.model_id == step.model.id)
    ).scalar_one()
    if newest is not None and not _advance(
        conn, step.model.id, step.baseline.id, step.watermark, int(newest)
    ):
        raise RuntimeError("the profile watermark moved while this transaction held the write lock")


def day_profiles(
    store: Store, baseline: Baseline, start: datetime | None = None, end: datetime | None = None
) -> list[tuple[datetime, FrameProfile]]:
    """Stored per-day profiles of a baseline in [start, end), oldest first."""
    query = (
        select(t.profiles.c.window_start, t.profiles.c.data)
        .where(t.profiles.c.baseline_id == baseline.id, plausible_time(t.profiles.c.window_start))
        .order_by(t.profiles.c.window_start)
    )
    if start is not None:
        query = query.where(t.profiles.c.window_start >= start)
    if end is not None:
        query = query.where(t.profiles.c.window_start < end)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(row.window_start, FrameProfile.from_dict(json.loads(row.data))) for row in rows]


def profile_span(store: Store, baseline: Baseline) -> ProfileSpan:
    """The days a baseline's stored profiles cover and the rows in them (no profile: Nones and 0)."""
    p = t.profiles.c
    query = select(
        func.min(p.window_start), func.max(p.window_start), func.coalesce(func.sum(p.n_rows), 0)
    ).where(p.baseline_id == baseline.id, plausible_time(p.window_start))
    with store.engine.connect() as conn:
        first, last, n = conn.execute(query).one()
    return ProfileSpan(first, last, int(n))
