"""Stored drift profiles: the baseline's reference, one merged profile per model and UTC day.

``refresh_profiles`` reads only prediction rows past a watermark, in bounded chunks, so rows
that services inserted directly are picked up incrementally; a new baseline resets the
watermark and profiles are recomputed from the raw rows. Any range of days is answered by
merging stored profiles, so a page over millions of predictions reads kilobytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select, update

from readiness import schema as t
from readiness.profiles import FrameProfile, Reference, build_reference, merge, profile_frame
from readiness.store import Baseline, FeatureSpec, Model, Store, features_from_json, utcnow
from readiness.windows import window_starts

REFRESH_CHUNK_ROWS = 100_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh profiled."""

    model: str
    rows_profiled: int
    days_touched: int
    watermark: int
    rebuilt: bool  # True when a new baseline made every profile be recomputed


def reference_columns(model: Model, baseline: Baseline, has_score: bool) -> tuple[FeatureSpec, ...]:
    """The columns drift is computed on: every feature, the prediction and (binary) the score."""
    prediction_kind = "numeric" if model.task == "regression" else "categorical"
    columns = [*baseline.features, FeatureSpec("prediction", prediction_kind)]
    if model.task == "binary" and has_score:
        columns.append(FeatureSpec("score", "numeric"))
    return tuple(columns)


def typed_log_frame(raw: pd.DataFrame, model: Model, columns: tuple[FeatureSpec, ...]) -> pd.DataFrame:
    """Stored text and JSON turned into typed columns (bad values from direct inserts become missing)."""
    out = {}
    for spec in columns:
        values = raw[spec.name] if spec.name in raw else pd.Series(np.nan, index=raw.index)
        if spec.kind == "numeric":
            out[spec.name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[spec.name] = values.map(lambda v: str(v), na_action="ignore").astype(object)
    return pd.DataFrame(out, index=raw.index)


def load_reference(store: Store, model: Model, baseline: Baseline) -> Reference:
    """The baseline's reference bins, built and stored on first use."""
    with store.engine.connect() as conn:
        text = conn.execute(
            select(t.drift_references.c.data).where(t.drift_references.c.baseline_id == baseline.id)
        ).scalar_one_or_none()
    if text is not None:
        return Reference.from_dict(json.loads(text))
    reference = build_baseline_reference(store, model, baseline)
    with store.begin() as conn:
        exists = conn.execute(
            select(t.drift_references.c.baseline_id).where(t.drift_references.c.baseline_id == baseline.id)
        ).first()
        if exists is None:
            conn.execute(t.drift_references.insert().values(
                baseline_id=baseline.id, model_id=model.id, data=json.dumps(reference.to_dict()),
                created_at=utcnow()))
    return reference


def build_baseline_reference(store: Store, model: Model, baseline: Baseline) -> Reference:
    """Build the reference from the stored baseline rows."""
    frame = store.read_baseline(model.name)
    has_score = "score" in frame and bool(frame["score"].notna().any())
    columns = reference_columns(model, baseline, has_score)
    return build_reference(typed_log_frame(frame, model, columns), columns)


def refresh_profiles(store: Store, model_name: str, chunk_rows: int = REFRESH_CHUNK_ROWS,
                     progress: Progress | None = None) -> RefreshResult:
    """Profile every prediction past the watermark, chunk by chunk, merging into per-day profiles."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return RefreshResult(model.name, 0, 0, 0, False)
    reference = load_reference(store, model, baseline)
    watermark, rebuilt = _start_state(store, model, baseline)
    rows = days = 0
    while True:
        raw = _read_chunk(store, model.id, watermark, chunk_rows)
        if raw.empty:
            break
        new_watermark = int(raw["id"].max())
        with store.begin() as conn:
            if not _advance(conn, model.id, baseline.id, watermark, new_watermark):
                break  # another refresh moved the watermark: it owns these rows
            days += _merge_chunk(conn, model, baseline, reference, raw)
        watermark = new_watermark
        rows += len(raw)
        if progress is not None:
            progress(rows)
    return RefreshResult(model.name, rows, days, watermark, rebuilt)


def _start_state(store: Store, model: Model, baseline: Baseline) -> tuple[int, bool]:
    """The watermark to continue from; a new baseline drops old profiles and starts at zero."""
    with store.begin() as conn:
        state = conn.execute(select(t.profile_state).where(t.profile_state.c.model_id == model.id)).first()
        if state is not None and state.baseline_id == baseline.id:
            return int(state.watermark), False
        conn.execute(delete(t.profiles).where(t.profiles.c.model_id == model.id))
        conn.execute(delete(t.profile_state).where(t.profile_state.c.model_id == model.id))
        conn.execute(t.profile_state.insert().values(
            model_id=model.id, baseline_id=baseline.id, watermark=0, updated_at=utcnow()))
        return 0, state is not None


def _advance(conn: Connection, model_id: int, baseline_id: int, old: int, new: int) -> bool:
    """Move the watermark from old to new; False when someone else already moved it."""
    result = conn.execute(
        update(t.profile_state)
        .where(t.profile_state.c.model_id == model_id, t.profile_state.c.baseline_id == baseline_id,
               t.profile_state.c.watermark == old)
        .values(watermark=new, updated_at=utcnow())
    )
    return result.rowcount == 1


def _read_chunk(store: Store, model_id: int, watermark: int, limit: int) -> pd.DataFrame:
    p = t.predictions
    query = (
        select(p.c.id, p.c.timestamp, p.c.prediction, p.c.score, p.c.features)
        .where(p.c.model_id == model_id, p.c.id > watermark)
        .order_by(p.c.id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["id", "timestamp", "prediction", "score", "features"])


def raw_log_frame(raw: pd.DataFrame, model: Model, reference: Reference) -> pd.DataFrame:
    """Stored prediction rows (with JSON features) as a typed frame of the reference columns."""
    features = features_from_json(raw["features"].tolist())
    features.index = raw.index
    merged = pd.concat([features.drop(columns=["prediction", "score"], errors="ignore"),
                        raw[["prediction", "score"]]], axis=1)
    return typed_log_frame(merged, model, reference.specs)


def _merge_chunk(conn: Connection, model: Model, baseline: Baseline, reference: Reference,
                 raw: pd.DataFrame) -> int:
    frame = raw_log_frame(raw, model, reference)
    days = window_starts(raw["timestamp"], "day")
    touched = 0
    for day, part in frame.groupby(days.to_numpy(), sort=True):
        day = pd.Timestamp(day).to_pydatetime()
        profile = profile_frame(part, reference)
        existing = conn.execute(
            select(t.profiles.c.id, t.profiles.c.data)
            .where(t.profiles.c.baseline_id == baseline.id, t.profiles.c.window_start == day)
        ).first()
        if existing is None:
            conn.execute(t.profiles.insert().values(
                model_id=model.id, baseline_id=baseline.id, window_start=day, n_rows=profile.n_rows,
                data=json.dumps(profile.to_dict())))
        else:
            combined = merge(FrameProfile.from_dict(json.loads(existing.data)), profile)
            conn.execute(update(t.profiles).where(t.profiles.c.id == existing.id).values(
                n_rows=combined.n_rows, data=json.dumps(combined.to_dict())))
        touched += 1
    return touched


def day_profiles(store: Store, model: Model, start: datetime | None = None,
                 end: datetime | None = None) -> list[tuple[datetime, FrameProfile]]:
    """Stored per-day profiles of the model's active baseline in [start, end), oldest first."""
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return []
    query = (
        select(t.profiles.c.window_start, t.profiles.c.data)
        .where(t.profiles.c.baseline_id == baseline.id)
        .order_by(t.profiles.c.window_start)
    )
    if start is not None:
        query = query.where(t.profiles.c.window_start >= start)
    if end is not None:
        query = query.where(t.profiles.c.window_start < end)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(row.window_start, FrameProfile.from_dict(json.loads(row.data))) for row in rows]
