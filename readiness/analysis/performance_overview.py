"""Everything the Performance page and ``python -m readiness performance`` show, from one call.

Metrics per window with intervals (merged from stored day records), each success criterion
per its own window with pass / fail / insufficient data, the label-free estimate while labels
are missing, development (baseline) vs production, and the same metrics per model version.
Results come from the one result cache, keyed on the model's data version and the hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from readiness.analysis.cache import cached
from readiness.analysis.kept import kept
from readiness.analysis.settings import checklist_config, judged_at, model_criteria
from readiness.core import estimators
from readiness.core import metrics as m
from readiness.core.criteria import Criterion
from readiness.core.lazy import lazy_module
from readiness.core.performance import (
    OPERATIONS,
    PERFORMANCE_WINDOWS,
    CriterionTrack,
    DayRecord,
    compute_all,
    development_record,
    group_by_window,
    label_delay_hours,
    merge_records,
    quality_metrics,
    track_criterion,
)
from readiness.core.records import Baseline, Model, utcnow
from readiness.core.windows import check_window, date_range, next_window_start
from readiness.errors import NoDataError
from readiness.storage.performance_store import baseline_estimator, baseline_outputs, day_records
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [  # what the Performance page and the CLI use from here
    "PERFORMANCE_WINDOWS",
    "DevelopmentGap",
    "PerformanceOverview",
    "WindowMetrics",
    "development_performance",
    "performance_overview",
    "quality_metrics",
]


@dataclass(frozen=True)
class WindowMetrics:
    """Metrics of one window, with label coverage and delay, and the label-free estimate."""

    start: datetime
    end: datetime
    complete: bool
    n_rows: int
    n_labelled: int
    label_delay_hours: float | None
    metrics: Mapping[str, m.MetricValue]
    estimates: Mapping[str, m.MetricValue]

    @property
    def label_coverage(self) -> float | None:
        """Share of the window's predictions that have a label."""
        return self.n_labelled / self.n_rows if self.n_rows else None


@dataclass(frozen=True)
class DevelopmentGap:
    """One quality metric on the baseline (development) and on the production log, with the gap."""

    metric: str
    development: float | None
    production: m.MetricValue | None

    @property
    def difference(self) -> float | None:
        """Production minus development (None when either is missing)."""
        if self.production is None or self.production.value is None or self.development is None:
            return None
        return self.production.value - self.development


def provisional_windows(series: pd.DataFrame) -> pd.Series:
    """Windows whose value may still move: not over yet, or labelled at under half the range's usual rate.

    Labels arrive late, so the newest windows rest on the few that came quickly; drawn like the
    others they read as a plunge.

    >>> frame = pd.DataFrame({"complete": [True, True, True], "labelled": [900, 950, 120], "predictions": [1000] * 3})
    >>> provisional_windows(frame).tolist()
    [False, False, True]
    """
    if series.empty:
        return pd.Series([], dtype=bool)
    share = series["labelled"] / series["predictions"].where(series["predictions"] > 0)
    usual = share[series["complete"]].median()
    low = share < 0.5 * usual if pd.notna(usual) else pd.Series(False, index=series.index)
    return (~series["complete"].astype(bool)) | low.fillna(False)


@dataclass(frozen=True)
class PerformanceOverview:
    """Performance of a model's log in a range against its criteria and its baseline."""

    model: Model
    window: str
    start: datetime
    end: datetime
    windows: tuple[WindowMetrics, ...]
    criteria: tuple[CriterionTrack, ...]
    baseline: Mapping[str, m.MetricValue]
    production: Mapping[str, m.MetricValue]
    versions: Mapping[str, Mapping[str, m.MetricValue]]
    total: DayRecord
    development_period: str = ""  # the baseline's period in words, when its file had timestamps
    label_delay_known: bool = True  # False for a historical log whose label files stated no arrival times
    estimator_note: str = ""  # what limits the label-free estimate (e.g. too few labelled baseline rows)

    @property
    def last_day(self) -> datetime:
        """The last day of the range (its end is exclusive)."""
        return self.end - timedelta(days=1)

    @property
    def logs_latency(self) -> bool:
        """Whether any prediction in the range carries a serving latency."""
        return bool(self.metric_series("latency_p95")["value"].notna().any())

    def metric_series(self, name: str) -> pd.DataFrame:
        """One row per window: value, interval, rows it rests on, whether it is complete, and the estimate."""
        rows = []
        for w in self.windows:
            value = w.metrics.get(name)
            estimate = w.estimates.get(name)
            rows.append(
                {
                    "start": w.start,
                    "value": value.value if value else None,
                    "lower": value.lower if value else None,
                    "upper": value.upper if value else None,
                    "n": value.n if value else 0,
                    "labelled": w.n_labelled,
                    "predictions": w.n_rows,
                    "complete": w.complete,
                    "estimate": estimate.value if estimate else None,
                    "estimate_lower": estimate.lower if estimate else None,
                    "estimate_upper": estimate.upper if estimate else None,
                }
            )
        series = pd.DataFrame(rows)
        series["provisional"] = provisional_windows(series)
        return series

    def estimate_table(self) -> pd.DataFrame:
        """The newest window with a label-free estimate: per estimated metric, the estimate, its interval and
        what the labels measured so far (empty when the model's logs give no estimate)."""
        newest = next((w for w in reversed(self.windows) if w.estimates), None)
        if newest is None:
            return pd.DataFrame()
        rows = []
        for name, estimate in newest.estimates.items():
            measured = newest.metrics.get(name)
            rows.append(
                {
                    "metric": name,
                    "window": newest.start,
                    "estimate": estimate.value,
                    "estimate_lower": estimate.lower,
                    "estimate_upper": estimate.upper,
                    "measured": measured.value if measured else None,
                    "measured_lower": measured.lower if measured else None,
                    "measured_upper": measured.upper if measured else None,
                    "labelled": newest.label_coverage,
                }
            )
        return pd.DataFrame(rows)

    def coverage_table(self) -> pd.DataFrame:
        """Label coverage and median label delay per window."""
        return pd.DataFrame(
            [
                {
                    "start": w.start,
                    "coverage": w.label_coverage,
                    "delay_hours": w.label_delay_hours,
                    "predictions": w.n_rows,
                    "labelled": w.n_labelled,
                }
                for w in self.windows
            ]
        )

    def class_table(self) -> pd.DataFrame:
        """A multiclass model's classes over the range, one row each: labelled, predicted, precision, recall,
        F1, one-vs-rest ROC AUC and calibration error (the last two need logged class probabilities)."""
        quality = self.total.quality
        if not isinstance(quality, m.MulticlassAggregate):
            return pd.DataFrame()
        return pd.DataFrame(
            [
                {
                    "class": c.cls,
                    "labelled": c.support,
                    "predicted": c.predicted,
                    "precision": c.precision.value,
                    "recall": c.recall.value,
                    "f1": c.f1.value,
                    "roc_auc": c.roc_auc.value if c.roc_auc else None,
                    "calibration_error": c.ece.value if c.ece else None,
                }
                for c in m.class_metrics(quality)
            ]
        )

    def development_vs_production(self) -> tuple[DevelopmentGap, ...]:
        """Each quality metric on the baseline and in production."""
        return tuple(
            DevelopmentGap(name, dev.value, self.production.get(name)) for name, dev in self.baseline.items()
        )


def performance_overview(
    store: Store,
    model: Model,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    window: str = "week",
    now: datetime | None = None,
) -> PerformanceOverview:
    """Metrics per window, criteria status, estimate, dev vs production and versions in [start, end]."""
    if window not in PERFORMANCE_WINDOWS:
        check_window(window)
        raise NoDataError(f"Performance windows are day, week or month; got {window!r}.")
    config = checklist_config(store, model)
    as_of = judged_at(store, model, now or utcnow().replace(minute=0, second=0, microsecond=0), config)
    args = (start, end, window, as_of, config.historical)
    return cached(store, model, "performance_overview", args, lambda: _analyze(store, model, *args))


def _analyze(
    store: Store,
    model: Model,
    start: date | datetime | None,
    end: date | datetime | None,
    window: str,
    as_of: datetime,
    stated_only: bool,  # a historical log: only label arrival times its files stated count as delay
) -> PerformanceOverview:
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise NoDataError(f"Model {model.name!r} has no baseline yet: upload one on the Data page first.")
    criteria: tuple[Criterion, ...] = model_criteria(store, model)
    lo, hi = date_range(start, end)
    records = day_records(store, baseline, lo, hi)
    if not records:
        raise NoDataError(f"Model {model.name!r} has no predictions in the chosen range; pick another range.")
    lo = lo or records[0].day
    hi = hi or records[-1].day + timedelta(days=1)
    names = quality_metrics(model) + OPERATIONS
    windows = tuple(
        _window_metrics(model, baseline, start_, group, window, names, as_of, stated_only)
        for start_, group in group_by_window(records, window).items()
    )
    total = merge_records(records, model, baseline, lo)
    return PerformanceOverview(
        model=model,
        window=window,
        start=lo,
        end=hi,
        windows=windows,
        criteria=tuple(track_criterion(c, records, model, baseline, as_of) for c in criteria),
        baseline=compute_all(development_performance(store, model, baseline), quality_metrics(model)),
        production=compute_all(total, quality_metrics(model)),
        versions={
            version: compute_all(merge_records(group, model, baseline, lo, version), quality_metrics(model))
            for version, group in _by_version(records).items()
        },
        total=total,
        development_period=baseline.period,
        label_delay_known=not stated_only or total.stated_delay.n > 0,
        estimator_note=estimators.estimator_note(baseline_estimator(store, model, baseline)),
    )


def development_performance(store: Store, model: Model, baseline: Baseline) -> DayRecord:
    """The baseline's outputs and labels as one record (development performance), cached per data version.

    It is also kept on disk under the baseline's id (its rows never change), so a command
    after new data does not read the baseline again (:mod:`readiness.analysis.kept`).
    """

    def compute() -> DayRecord:
        return development_record(model, baseline, baseline_outputs(store, baseline))

    return cached(
        store,
        model,
        "development",
        (baseline.id,),
        lambda: kept(store, model, "development", (baseline.id,), compute),
    )


def _window_metrics(
    model: Model,
    baseline: Baseline,
    start: datetime,
    group: list[DayRecord],
    window: str,
    names: tuple[str, ...],
    as_of: datetime,
    stated_only: bool = False,
) -> WindowMetrics:
    record = merge_records(group, model, baseline, start)
    end = next_window_start(start, window)
    estimates = estimators.estimate(record.estimate) if record.estimate is not None else {}
    return WindowMetrics(
        start,
        end,
        end <= as_of,
        record.n_rows,
        record.n_labelled,
        label_delay_hours(record, stated_only=stated_only),
        compute_all(record, names),
        estimates,
    )


def _by_version(records: list[DayRecord]) -> dict[str, list[DayRecord]]:
    groups: dict[str, list[DayRecord]] = {}
    for record in records:
        groups.setdefault(record.version, []).append(record)
    return dict(sorted(groups.items()))
