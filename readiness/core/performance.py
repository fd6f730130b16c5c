"""Performance aggregates of a model's log, pure: one record per UTC day and version, merged per window.

A :class:`DayRecord` holds the labelled-quality aggregate (confusion counts and score
histograms, or error sums), operations (latency, invalid outputs), label delay and the
label-free estimate aggregate (:mod:`readiness.core.estimators`). Any window is the merge of its days;
criteria are judged per window (:func:`track_criterion`). No database here: the storage
layer stores and reads day records, the analyses merge them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.core import estimation, estimators, loss_estimation, multiclass_estimation
from readiness.core import metrics as m
from readiness.core.criteria import Criterion, CriterionResult, evaluate_criterion
from readiness.core.lazy import lazy_module
from readiness.core.probabilities import probability_matrix
from readiness.core.records import Baseline, Model
from readiness.core.status import CriterionStatus
from readiness.core.windows import next_window_start, window_start
from readiness.errors import MetricsError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

OPERATIONS = ("volume", "invalid_rate", "latency_p50", "latency_p95", "latency_p99")
PERFORMANCE_WINDOWS = ("day", "week", "month")


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
    estimate: estimators.EstimateAggregate | None
    # delays of the labels whose arrival time their file stated (the rest count from their upload)
    stated_delay: m.LatencyAggregate = field(default_factory=m.LatencyAggregate.empty)

    def to_json(self) -> str:
        """The aggregates as JSON text (what the store keeps); :meth:`from_json` reads it back."""
        return json.dumps(
            {
                "quality": self.quality.to_dict(),
                "operations": self.operations.to_dict(),
                "delay": self.delay.to_dict(),
                "estimate": self.estimate.to_dict() if self.estimate is not None else None,
                "stated_delay": self.stated_delay.to_dict(),
            }
        )

    @classmethod
    def from_json(cls, day: datetime, version: str, n_rows: int, n_labelled: int, text: str) -> DayRecord:
        """A record from what :meth:`to_json` wrote, with its day, version and counts."""
        data = json.loads(text)
        estimate = data.get("estimate")
        return cls(
            day,
            version,
            n_rows,
            n_labelled,
            m.aggregate_from_dict(data["quality"]),
            _latency(m.aggregate_from_dict(data["operations"])),
            _latency(m.aggregate_from_dict(data["delay"])),
            estimators.aggregate_from_dict(estimate) if estimate else None,
            _latency(m.aggregate_from_dict(data["stated_delay"]))
            if "stated_delay" in data
            else m.LatencyAggregate.empty(),
        )


def _latency(aggregate: m.Aggregate) -> m.LatencyAggregate:
    """An operations or delay aggregate, which is always a latency aggregate."""
    if not isinstance(aggregate, m.LatencyAggregate):
        raise MetricsError(
            f"Expected a latency aggregate, got a {aggregate.kind} one. "
            "Recompute the day records from the raw rows."
        )
    return aggregate


def empty_quality(model: Model, baseline: Baseline) -> Any:
    """The identity aggregate of the model's task."""
    if model.task == "binary":
        return m.BinaryAggregate.empty()
    if model.task == "multiclass":
        return m.MulticlassAggregate.empty(baseline.classes)
    return m.RegressionAggregate.empty()


def quality_aggregate(
    model: Model, baseline: Baseline, frame: pd.DataFrame, probabilities: np.ndarray | None = None
) -> Any:
    """Labelled-quality aggregate of rows with columns prediction, score, label.

    ``probabilities``: the frame's class probabilities already parsed (:func:`class_probability_matrix`),
    so a caller that needs them for every row reads the JSON once.
    """
    has_label = frame["label"].notna().to_numpy()

    def labelled(column: str) -> np.ndarray:  # arrays, not frames: a day has a few hundred rows
        return frame[column].to_numpy()[has_label]

    if model.task == "binary":
        scores = labelled("score")
        return m.BinaryAggregate.from_arrays(
            labelled("label"),
            labelled("prediction"),
            scores if pd.notna(scores).any() else None,
            positive_class=model.positive_class,
        )
    if model.task == "multiclass":
        if probabilities is None:
            probabilities = class_probability_matrix(model, baseline, frame)
        has_labelled = "probabilities" in frame and bool(pd.notna(labelled("probabilities")).any())
        return m.MulticlassAggregate.from_arrays(
            labelled("label"),
            labelled("prediction"),
            baseline.classes,
            probabilities[has_label] if has_labelled and probabilities is not None else None,
        )
    return m.RegressionAggregate.from_arrays(
        pd.to_numeric(labelled("label"), errors="coerce"),
        pd.to_numeric(labelled("prediction"), errors="coerce"),
    )


def class_probability_matrix(model: Model, baseline: Baseline, frame: pd.DataFrame) -> np.ndarray | None:
    """A multiclass frame's stored class probabilities as rows x baseline classes (None: none stored, or not multiclass)."""
    if model.task != "multiclass" or "probabilities" not in frame or not frame["probabilities"].notna().any():
        return None
    return probability_matrix(frame["probabilities"], baseline.classes)


def day_record(
    model: Model,
    baseline: Baseline,
    estimator: estimators.Estimator | None,
    day: datetime,
    version: str,
    frame: pd.DataFrame,
    features: pd.DataFrame | None = None,
) -> DayRecord:
    """All aggregates of one day and version from its raw rows (``features``: their typed features, for regression estimates)."""
    scores = _numbers(frame["score"])
    invalid = m.invalid_output_flags(frame["prediction"], None if np.isnan(scores).all() else scores)
    operations = m.LatencyAggregate.from_arrays(_numbers(frame["latency_ms"]), invalid)
    delay, stated_delay = _label_delays(frame)
    probabilities = class_probability_matrix(model, baseline, frame)  # parsed once, for quality and estimate
    return DayRecord(
        day,
        version,
        len(frame),
        int(frame["label"].notna().sum()),
        quality_aggregate(model, baseline, frame, probabilities),
        operations,
        delay,
        estimate_aggregate(model, estimator, frame, scores, probabilities, features),
        stated_delay,
    )


def label_record(
    model: Model, baseline: Baseline, day: datetime, version: str, frame: pd.DataFrame
) -> DayRecord:
    """What labels arriving for rows that had none add to their day's record: labelled quality and label delays.

    Merged into the stored record (:func:`merge_records`), it gives the record of the day with
    those rows labelled: volume, operations and the label-free estimate do not depend on labels.
    """
    delay, stated_delay = _label_delays(frame)
    return DayRecord(
        day,
        version,
        0,
        int(frame["label"].notna().sum()),
        quality_aggregate(model, baseline, frame),
        m.LatencyAggregate.empty(),
        delay,
        None,
        stated_delay,
    )


def _label_delays(frame: pd.DataFrame) -> tuple[m.LatencyAggregate, m.LatencyAggregate]:
    """Hours from each prediction to its label: all labels' (unstated arrivals count from the upload), and the stated ones'."""
    stated = _times(frame["arrived_at"]) if "arrived_at" in frame else np.full(len(frame), NOT_A_TIME)
    arrived = np.where(np.isnat(stated), _times(frame["received_at"]), stated)  # unstated: from the upload
    delay_hours = (arrived - _times(frame["timestamp"])) / np.timedelta64(1, "s") / 3600
    delay_hours = np.where(delay_hours < 0, 0.0, delay_hours)  # NaN (no label) stays NaN
    return (
        m.LatencyAggregate.from_arrays(delay_hours[~np.isnat(arrived)]),
        m.LatencyAggregate.from_arrays(delay_hours[~np.isnat(stated)]),
    )


NOT_A_TIME = np.datetime64("NaT", "us")


def _numbers(column: pd.Series) -> np.ndarray:
    """A column as float64, NaN where missing or not a number (as ``pd.to_numeric(errors="coerce")``)."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _times(column: pd.Series) -> np.ndarray:
    """A naive time column as datetime64[us], NaT where missing."""
    return column.to_numpy(dtype="datetime64[us]")


def estimate_aggregate(
    model: Model,
    estimator: estimators.Estimator | None,
    frame: pd.DataFrame,
    scores: pd.Series | np.ndarray,
    probabilities: np.ndarray | None,
    features: pd.DataFrame | None,
) -> estimators.EstimateAggregate | None:
    """The label-free estimate aggregate of a day's rows (None when the model's outputs cannot give one)."""
    if isinstance(estimator, estimation.ScoreCalibrator) and model.task == "binary":
        s = np.asarray(scores, dtype=np.float64)
        usable = (s >= 0) & (s <= 1)  # False where missing
        if not usable.any():
            return None
        positive = _is_class(frame["prediction"], str(model.positive_class))
        return estimation.aggregate_window(estimator, s[usable], positive[usable])
    if isinstance(estimator, multiclass_estimation.ClassCalibrators) and probabilities is not None:
        if np.isnan(probabilities).all():
            return None
        return multiclass_estimation.aggregate_window(estimator, probabilities, frame["prediction"])
    if isinstance(estimator, loss_estimation.LossModel) and features is not None:
        return loss_estimation.aggregate_window(estimator, features.loc[frame.index], frame["prediction"])
    return None


def _is_class(predictions: pd.Series, name: str) -> np.ndarray:
    """Which predictions are the class ``name`` (as text; missing ones are no class).

    Text (every stored prediction) is compared as it is: ``astype(str)`` first copied each
    day's predictions (0.1 s per million rows of an upload).
    """
    text = isinstance(predictions.dtype, pd.StringDtype) or (
        predictions.dtype == object
        and pd.api.types.infer_dtype(predictions, skipna=True) in ("string", "empty")
    )
    if not text:
        predictions = predictions.astype(str).where(predictions.notna())
    return predictions.eq(name).fillna(False).to_numpy(dtype=bool)


def merge_records(
    records: list[DayRecord],
    model: Model,
    baseline: Baseline,
    start: datetime,
    version: str = "*",
    estimate: bool = True,
) -> DayRecord:
    """One record for a set of days (and versions; "*" merges all versions); ``estimate=False`` skips the estimate."""
    estimates = [r.estimate for r in records if r.estimate is not None] if estimate else []
    return DayRecord(
        start,
        version,
        sum(r.n_rows for r in records),
        sum(r.n_labelled for r in records),
        m.merge_all([r.quality for r in records], start=empty_quality(model, baseline)),
        _latency(m.merge_all([r.operations for r in records], start=m.LatencyAggregate.empty())),
        _latency(m.merge_all([r.delay for r in records], start=m.LatencyAggregate.empty())),
        estimators.merge_all(estimates) if estimates else None,
        _latency(m.merge_all([r.stated_delay for r in records], start=m.LatencyAggregate.empty())),
    )


def group_by_window(records: list[DayRecord], window: str) -> dict[datetime, list[DayRecord]]:
    """Day records grouped by the start of the window (day, week, month) they fall in."""
    groups: dict[datetime, list[DayRecord]] = {}
    for record in records:
        groups.setdefault(window_start(record.day, window), []).append(record)
    return groups


def label_delay_hours(record: DayRecord, q: float = 0.5, stated_only: bool = False) -> float | None:
    """A quantile of label delay in hours (None without labels); ``stated_only`` counts only stated arrivals."""
    value = m.latency_quantile(record.stated_delay if stated_only else record.delay, q)
    return value.value


@dataclass(frozen=True)
class CriterionTrack:
    """One criterion evaluated in each of its windows; the current status is the last complete one's."""

    criterion: Criterion
    windows: tuple[tuple[datetime, CriterionResult], ...]
    current: CriterionResult | None
    current_window: datetime | None

    @property
    def latest_judged(self) -> tuple[datetime, CriterionResult] | None:
        """The newest complete window that had enough data for a pass or fail (labels lag)."""
        judged = self.judged_windows
        return judged[-1] if judged else None

    @property
    def judged_windows(self) -> tuple[tuple[datetime, CriterionResult], ...]:
        """Every complete window with enough data for a pass or fail, oldest first."""
        return tuple(
            (start, r)
            for start, r in self.windows[: self._complete]
            if r.status != CriterionStatus.INSUFFICIENT
        )

    @property
    def _complete(self) -> int:
        if self.current_window is None:
            return 0
        return next(i for i, (start, _) in enumerate(self.windows) if start == self.current_window) + 1

    @property
    def failed_windows(self) -> tuple[datetime, ...]:
        """Starts of every window where the criterion failed."""
        return tuple(start for start, r in self.windows if r.status == CriterionStatus.FAIL)


def quality_metrics(model: Model) -> tuple[str, ...]:
    """The model's quality metrics (those that need labels), in registry order."""
    return tuple(name for name in m.metrics_for_task(model.task) if name not in OPERATIONS)


def compute_all(record: DayRecord, names: tuple[str, ...]) -> dict[str, m.MetricValue]:
    """Metrics by name, each from the aggregate it needs (quality or operations)."""
    out = {}
    for name in names:
        spec = m.METRICS[name]
        source = record.operations if m.LatencyAggregate in spec.aggregates else record.quality
        out[name] = m.compute_metric(name, source)
    return out


Merge = Callable[[list[DayRecord], datetime], DayRecord]  # a window's day records, its start -> one record


def track_criterion(
    criterion: Criterion,
    records: list[DayRecord],
    model: Model,
    baseline: Baseline,
    as_of: datetime,
    merge: Merge | None = None,
) -> CriterionTrack:
    """One criterion judged in each of its windows over day records; windows ending by ``as_of`` are complete.

    ``merge`` (default :func:`merge_records` without estimates) lets a caller that judges the same
    windows again reuse their merged records.
    """
    results = []
    current = current_start = None
    for start, group in group_by_window(records, criterion.window).items():
        record = (
            merge(group, start)
            if merge is not None
            else merge_records(group, model, baseline, start, estimate=False)
        )
        value = compute_all(record, (criterion.metric,))[criterion.metric]
        counted = record.n_rows if criterion.metric in OPERATIONS else record.n_labelled
        result = evaluate_criterion(criterion, value, counted)
        results.append((start, result))
        if next_window_start(start, criterion.window) <= as_of:
            current, current_start = result, start
    return CriterionTrack(criterion, tuple(results), current, current_start)


def development_record(model: Model, baseline: Baseline, outputs: pd.DataFrame) -> DayRecord:
    """The baseline's outputs and labels (prediction, score, label) as one record: development performance."""
    empty = merge_records([], model, baseline, datetime.min)
    return DayRecord(
        datetime.min,
        "baseline",
        len(outputs),
        int(outputs["label"].notna().sum()),
        quality_aggregate(model, baseline, outputs),
        empty.operations,
        empty.delay,
        None,
    )
