"""Stored performance aggregates: one record per model, UTC day and model version.

Each record holds the labelled-quality aggregate (confusion counts and score histograms, or
error sums), operations (latency, invalid outputs), label delay, and for binary models the
label-free estimate aggregate. Labels arrive days late, so a refresh finds the days touched by
new predictions (past one watermark) and by new or corrected labels (past another) and
recomputes just those days from raw rows, which also makes corrected labels exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update

from readiness import estimation
from readiness import metrics as m
from readiness import schema as t
from readiness.store import Baseline, Model, Store, utcnow
from readiness.windows import window_starts

@dataclass(frozen=True)
class DayRecord:
    """Aggregates of one model's predictions of one UTC day and model version."""

    day: datetime
    version: str
    n_rows: int
    n_labelled: int
    quality: Any  # BinaryAggregate | MulticlassAggregate | RegressionAggregate
    operations: m.LatencyAggregate
    delay: m.LatencyAggregate  # label delays, in hours (a latency sketch read in hours, not ms)
    estimate: estimation.EstimationAggregate | None

    def to_json(self) -> str:
        """The aggregates as JSON for the ``perf_windows.data`` column."""
        return json.dumps({
            "quality": self.quality.to_dict(),
            "operations": self.operations.to_dict(),
            "delay": self.delay.to_dict(),
            "estimate": self.estimate.to_dict() if self.estimate is not None else None,
        })


@dataclass(frozen=True)
class PerformanceRefresh:
    """What one refresh recomputed."""

    model: str
    days_recomputed: int
    rebuilt: bool
    prediction_watermark: int = 0
    label_watermark: int = 0


def empty_quality(model: Model, baseline: Baseline) -> Any:
    """The identity aggregate of the model's task."""
    if model.task == "binary":
        return m.BinaryAggregate.empty()
    if model.task == "multiclass":
        return m.MulticlassAggregate.empty(baseline.classes)
    return m.RegressionAggregate.empty()


def quality_aggregate(model: Model, baseline: Baseline, frame: pd.DataFrame) -> Any:
    """Labelled-quality aggregate of rows with columns prediction, score, label."""
    labelled = frame[frame["label"].notna()]
    if model.task == "binary":
        scores = labelled["score"] if labelled["score"].notna().any() else None
        return m.BinaryAggregate.from_arrays(labelled["label"], labelled["prediction"], scores,
                                             positive_class=model.positive_class)
    if model.task == "multiclass":
        return m.MulticlassAggregate.from_arrays(labelled["label"], labelled["prediction"], baseline.classes)
    return m.RegressionAggregate.from_arrays(pd.to_numeric(labelled["label"], errors="coerce"),
                                             pd.to_numeric(labelled["prediction"], errors="coerce"))


def day_record(model: Model, baseline: Baseline, calibrator: estimation.ScoreCalibrator | None,
               day: datetime, version: str, frame: pd.DataFrame) -> DayRecord:
    """All aggregates of one day and version from its raw rows."""
    scores = pd.to_numeric(frame["score"], errors="coerce")
    invalid = m.invalid_output_flags(frame["prediction"], scores if scores.notna().any() else None)
    operations = m.LatencyAggregate.from_arrays(pd.to_numeric(frame["latency_ms"], errors="coerce"), invalid)
    delay_hours = (frame["received_at"] - frame["timestamp"]).dt.total_seconds() / 3600
    delay = m.LatencyAggregate.from_arrays(delay_hours[frame["received_at"].notna()].clip(lower=0))
    estimate = None
    if model.task == "binary" and calibrator is not None and scores.notna().any():
        usable = scores.between(0, 1)
        positive = frame["prediction"].astype(str) == str(model.positive_class)
        estimate = estimation.aggregate_window(calibrator, scores[usable].to_numpy(), positive[usable].to_numpy())
    return DayRecord(day, version, len(frame), int(frame["label"].notna().sum()),
                     quality_aggregate(model, baseline, frame), operations, delay, estimate)


def record_from_row(row: Any) -> DayRecord:
    """A stored perf_windows row back as a DayRecord."""
    data = json.loads(row.data)
    estimate = data.get("estimate")
    return DayRecord(
        row.window_start, row.model_version, row.n_rows, row.n_labelled,
        m.aggregate_from_dict(data["quality"]), m.aggregate_from_dict(data["operations"]),
        m.aggregate_from_dict(data["delay"]),
        estimation.EstimationAggregate.from_dict(estimate) if estimate else None,
    )


def fit_baseline_calibrator(store: Store, model: Model, baseline: Baseline) -> estimation.ScoreCalibrator | None:
    """Calibrate scores on the baseline's (score, label) pairs; None for non-binary models."""
    if model.task != "binary":
        return None
    frame = baseline_outputs(store, baseline)
    labelled = frame[frame["score"].notna() & frame["label"].notna()]
    if labelled.empty:
        return None
    return estimation.fit_calibrator(labelled["score"].to_numpy(), labelled["label"].to_numpy(),
                                     model.positive_class)


def baseline_outputs(store: Store, baseline: Baseline) -> pd.DataFrame:
    """The baseline's prediction, score and label columns (no features)."""
    b = t.baseline_rows
    query = select(b.c.prediction, b.c.score, b.c.label).where(b.c.baseline_id == baseline.id)
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=["prediction", "score", "label"])
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame


def refresh_performance(store: Store, model_name: str,
                        progress: Callable[[int, int], None] | None = None) -> PerformanceRefresh:
    """Recompute the days touched by new predictions or labels since the last refresh."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return PerformanceRefresh(model.name, 0, False)
    state, rebuilt = _state(store, model, baseline)
    days, prediction_mark, label_mark = _touched_days(store, model.id, state)
    calibrator = (estimation.ScoreCalibrator.from_dict(json.loads(state.calibrator))
                  if state.calibrator else None)
    for i, day in enumerate(sorted(days)):
        _recompute_day(store, model, baseline, calibrator, day)
        if progress is not None:
            progress(i + 1, len(days))
    with store.begin() as conn:
        conn.execute(update(t.perf_state).where(t.perf_state.c.model_id == model.id).values(
            prediction_watermark=prediction_mark, label_watermark=label_mark, updated_at=utcnow()))
    return PerformanceRefresh(model.name, len(days), rebuilt, prediction_mark, label_mark)


def _state(store: Store, model: Model, baseline: Baseline) -> tuple[Any, bool]:
    with store.engine.connect() as conn:
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
    if state is not None and state.baseline_id == baseline.id:
        return state, False
    replaced = state is not None  # an older baseline's aggregates are being dropped
    calibrator = fit_baseline_calibrator(store, model, baseline)
    with store.begin() as conn:
        conn.execute(delete(t.perf_windows).where(t.perf_windows.c.model_id == model.id))
        conn.execute(delete(t.perf_state).where(t.perf_state.c.model_id == model.id))
        conn.execute(t.perf_state.insert().values(
            model_id=model.id, baseline_id=baseline.id, prediction_watermark=0, label_watermark=0,
            calibrator=json.dumps(calibrator.to_dict()) if calibrator is not None else "", updated_at=utcnow()))
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).one()
    return state, replaced


def _touched_days(store: Store, model_id: int, state: Any) -> tuple[set[datetime], int, int]:
    """UTC days with predictions past the watermark or labels past the label watermark."""
    p, lab = t.predictions, t.labels
    with store.engine.connect() as conn:
        new_rows = conn.execute(
            select(p.c.timestamp, p.c.id).where(p.c.model_id == model_id, p.c.id > state.prediction_watermark)
        ).all()
        new_labels = conn.execute(
            select(p.c.timestamp, lab.c.id)
            .select_from(lab.outerjoin(p, (p.c.model_id == lab.c.model_id) & (p.c.request_id == lab.c.request_id)))
            .where(lab.c.model_id == model_id, lab.c.id > state.label_watermark)
        ).all()
    days = {_day(ts) for ts, _ in new_rows} | {_day(ts) for ts, _ in new_labels if ts is not None}
    prediction_mark = max((i for _, i in new_rows), default=state.prediction_watermark)
    label_mark = max((i for _, i in new_labels), default=state.label_watermark)
    return days, prediction_mark, label_mark


def _day(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day)


def day_rows(store: Store, model_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """Raw outputs of the model's predictions in [start, end), with their effective labels."""
    p, lab = t.predictions, t.labels
    query = (
        select(p.c.timestamp, p.c.model_version, p.c.prediction, p.c.score, p.c.latency_ms,
               func.coalesce(lab.c.label, p.c.label).label("label"), lab.c.received_at)
        .select_from(p.outerjoin(lab, (lab.c.model_id == p.c.model_id) & (lab.c.request_id == p.c.request_id)))
        .where(p.c.model_id == model_id, p.c.timestamp >= start, p.c.timestamp < end)
    )
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))
    frame["model_version"] = frame["model_version"].fillna("").astype(str)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    return frame


def _recompute_day(store: Store, model: Model, baseline: Baseline,
                   calibrator: estimation.ScoreCalibrator | None, day: datetime) -> None:
    frame = day_rows(store, model.id, day, day + timedelta(days=1))
    records = [day_record(model, baseline, calibrator, day, version, part)
               for version, part in frame.groupby("model_version", sort=True)]
    with store.begin() as conn:
        conn.execute(delete(t.perf_windows).where(t.perf_windows.c.baseline_id == baseline.id,
                                                  t.perf_windows.c.window_start == day))
        if records:
            conn.execute(t.perf_windows.insert(), [
                {"model_id": model.id, "baseline_id": baseline.id, "window_start": r.day,
                 "model_version": r.version, "n_rows": r.n_rows, "n_labelled": r.n_labelled, "data": r.to_json()}
                for r in records
            ])


def day_records(store: Store, model: Model, start: datetime | None = None,
                end: datetime | None = None) -> list[DayRecord]:
    """Stored day records of the model's active baseline in [start, end), oldest first."""
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return []
    w = t.perf_windows
    query = select(w).where(w.c.baseline_id == baseline.id).order_by(w.c.window_start, w.c.model_version)
    if start is not None:
        query = query.where(w.c.window_start >= start)
    if end is not None:
        query = query.where(w.c.window_start < end)
    with store.engine.connect() as conn:
        return [record_from_row(row) for row in conn.execute(query)]


def merge_records(records: list[DayRecord], model: Model, baseline: Baseline, start: datetime,
                  version: str = "*", estimate: bool = True) -> DayRecord:
    """One record for a set of days (and versions; "*" merges all versions); ``estimate=False`` skips the estimate."""
    estimates = [r.estimate for r in records if r.estimate is not None] if estimate else []
    return DayRecord(
        start, version, sum(r.n_rows for r in records), sum(r.n_labelled for r in records),
        m.merge_all([r.quality for r in records], start=empty_quality(model, baseline)),
        m.merge_all([r.operations for r in records], start=m.LatencyAggregate.empty()),
        m.merge_all([r.delay for r in records], start=m.LatencyAggregate.empty()),
        estimation.merge_all(estimates) if estimates else None,
    )


def group_by_window(records: list[DayRecord], window: str) -> dict[datetime, list[DayRecord]]:
    """Day records grouped by the start of the window (day, week, month) they fall in."""
    if not records:
        return {}
    starts = window_starts(pd.Series([r.day for r in records]), window)
    groups: dict[datetime, list[DayRecord]] = {}
    for start, record in zip(starts, records, strict=True):
        groups.setdefault(start.to_pydatetime(), []).append(record)
    return groups


def label_delay_hours(record: DayRecord, q: float = 0.5) -> float | None:
    """A quantile of label delay in hours (None without labels)."""
    value = m.latency_quantile(record.delay, q)
    return value.value

