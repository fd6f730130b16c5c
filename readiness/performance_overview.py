"""Everything the Performance page and ``python -m readiness performance`` show, from one call.

Metrics per window with intervals (merged from stored day records), each success criterion
per its own window with pass / fail / insufficient data, the label-free estimate while labels
are missing, development (baseline) vs production, and the same metrics per model version.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from readiness import estimation
from readiness import metrics as m
from readiness.criteria import Criterion, CriterionResult, evaluate_criterion, model_criteria
from readiness.errors import ReadinessError
from readiness.performance_store import (
    DayRecord,
    baseline_outputs,
    day_records,
    group_by_window,
    label_delay_hours,
    merge_records,
    quality_aggregate,
    refresh_performance,
)
from readiness.store import Baseline, Model, Store, utcnow
from readiness.windows import check_window, next_window_start

OPERATIONS = ("volume", "invalid_rate", "latency_p50", "latency_p95", "latency_p99")
PERFORMANCE_WINDOWS = ("day", "week", "month")


class NoPerformanceData(ReadinessError):
    """The model has no baseline or no predictions in the chosen range."""


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
    estimates: Mapping[str, estimation.Estimate]

    @property
    def label_coverage(self) -> float | None:
        """Share of the window's predictions that have a label."""
        return self.n_labelled / self.n_rows if self.n_rows else None


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
        return tuple((start, r) for start, r in self.windows[: self._complete] if r.status != "insufficient data")

    @property
    def _complete(self) -> int:
        if self.current_window is None:
            return 0
        return next(i for i, (start, _) in enumerate(self.windows) if start == self.current_window) + 1

    @property
    def failed_windows(self) -> tuple[datetime, ...]:
        """Starts of every window where the criterion failed."""
        return tuple(start for start, r in self.windows if r.status == "fail")


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

    def metric_series(self, name: str) -> pd.DataFrame:
        """One row per window: value, interval, rows it rests on, and whether it is usable."""
        rows = []
        for w in self.windows:
            value = w.metrics.get(name)
            estimate = w.estimates.get(name)
            rows.append({
                "start": w.start, "value": value.value if value else None,
                "lower": value.lower if value else None, "upper": value.upper if value else None,
                "n": value.n if value else 0, "labelled": w.n_labelled, "complete": w.complete,
                "estimate": estimate.value if estimate else None,
                "estimate_lower": estimate.lower if estimate else None,
                "estimate_upper": estimate.upper if estimate else None,
            })
        return pd.DataFrame(rows)

    def criteria_table(self) -> pd.DataFrame:
        """Each criterion's current status, observed value and interval."""
        return pd.DataFrame([{
            "Criterion": track.criterion.text,
            "Status": track.current.status if track.current else "insufficient data",
            "Window": f"{track.current_window:%Y-%m-%d}" if track.current_window else "",
            "Value": track.current.value if track.current else None,
            "Lower": track.current.lower if track.current else None,
            "Upper": track.current.upper if track.current else None,
            "Rows": track.current.n if track.current else 0,
            "Last judged": (f"{track.latest_judged[1].status} ({track.latest_judged[0]:%Y-%m-%d})"
                            if track.latest_judged else ""),
            "Default": track.criterion.is_default,
        } for track in self.criteria])

    def development_vs_production(self) -> pd.DataFrame:
        """Each quality metric on the baseline and in production, with the gap."""
        rows = []
        for name, dev in self.baseline.items():
            prod = self.production.get(name)
            gap = (prod.value - dev.value) if prod and prod.value is not None and dev.value is not None else None
            rows.append({"Metric": name, "Baseline": dev.value, "Production": prod.value if prod else None,
                         "Production interval": _interval_text(prod), "Difference": gap})
        return pd.DataFrame(rows)

    def versions_table(self) -> pd.DataFrame:
        """Quality metrics per model version over the range."""
        return pd.DataFrame([
            {"Version": version or "(none)", **{name: v.value for name, v in values.items()}}
            for version, values in self.versions.items()
        ])

    def coverage_table(self) -> pd.DataFrame:
        """Label coverage and median label delay per window."""
        return pd.DataFrame([{"start": w.start, "coverage": w.label_coverage, "delay_hours": w.label_delay_hours,
                              "predictions": w.n_rows, "labelled": w.n_labelled} for w in self.windows])


def _interval_text(value: m.MetricValue | None) -> str:
    if value is None or value.lower is None or value.upper is None:
        return ""
    return f"{value.lower:.3g} to {value.upper:.3g}"


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


def performance_overview(
    store: Store,
    model_name: str,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    window: str = "week",
    now: datetime | None = None,
) -> PerformanceOverview:
    """Metrics per window, criteria status, estimate, dev vs production and versions in [start, end].

    Results are kept in memory per inputs, criteria and data version (both watermarks), so a
    repeated call with no new predictions or labels is a lookup.
    """
    if window not in PERFORMANCE_WINDOWS:
        check_window(window)
        raise NoPerformanceData(f"Performance windows are day, week or month; got {window!r}.")
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise NoPerformanceData(f"Model {model.name!r} has no baseline yet: upload one on the Data page first.")
    refreshed = refresh_performance(store, model.name)
    criteria = model_criteria(store, model.name)
    as_of = now or utcnow().replace(minute=0, second=0, microsecond=0)
    key = (str(store.engine.url), model.id, baseline.id, refreshed.prediction_watermark,
           refreshed.label_watermark, criteria, start, end, window, as_of)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    result = _analyze(store, model, baseline, criteria, start, end, window, as_of)
    _MEMO[key] = result
    while len(_MEMO) > MEMO_ENTRIES:
        _MEMO.popitem(last=False)
    return result


_MEMO: OrderedDict = OrderedDict()
MEMO_ENTRIES = 32


def _analyze(store: Store, model: Model, baseline: Baseline, criteria: tuple[Criterion, ...],
             start: date | datetime | None, end: date | datetime | None, window: str,
             as_of: datetime) -> PerformanceOverview:
    lo, hi = _bounds(start, end)
    records = day_records(store, model, lo, hi)
    if not records:
        raise NoPerformanceData(f"Model {model.name!r} has no predictions in the chosen range; pick another range.")
    lo = lo or records[0].day
    hi = hi or records[-1].day + timedelta(days=1)
    names = quality_metrics(model) + OPERATIONS
    windows = tuple(_window_metrics(model, baseline, start_, group, window, names, as_of)
                    for start_, group in group_by_window(records, window).items())
    total = merge_records(records, model, baseline, lo)
    return PerformanceOverview(
        model=model, window=window, start=lo, end=hi, windows=windows,
        criteria=tuple(track_criterion(c, records, model, baseline, as_of) for c in criteria),
        baseline=compute_all(baseline_record(store, model, baseline), quality_metrics(model)),
        production=compute_all(total, quality_metrics(model)),
        versions={version: compute_all(merge_records(group, model, baseline, lo, version), quality_metrics(model))
                  for version, group in _by_version(records).items()},
        total=total,
    )


def _bounds(start: date | datetime | None, end: date | datetime | None) -> tuple[datetime | None, datetime | None]:
    lo = datetime.combine(start, datetime.min.time()) if isinstance(start, date) and not isinstance(start, datetime) else start
    hi = (datetime.combine(end, datetime.min.time()) + timedelta(days=1)
          if isinstance(end, date) and not isinstance(end, datetime) else end)
    if lo is not None and hi is not None and hi <= lo:
        raise NoPerformanceData("The range ends before it starts; swap the dates.")
    return lo, hi


def _window_metrics(model: Model, baseline: Baseline, start: datetime, group: list[DayRecord], window: str,
                    names: tuple[str, ...], as_of: datetime) -> WindowMetrics:
    record = merge_records(group, model, baseline, start)
    end = next_window_start(start, window)
    estimates = estimation.estimate_from_aggregate(record.estimate) if record.estimate is not None else {}
    return WindowMetrics(start, end, end <= as_of, record.n_rows, record.n_labelled,
                         label_delay_hours(record), compute_all(record, names), estimates)


def track_criterion(criterion: Criterion, records: list[DayRecord], model: Model, baseline: Baseline,
                    as_of: datetime) -> CriterionTrack:
    """One criterion judged in each of its windows over day records; windows ending by ``as_of`` are complete."""
    results = []
    current = current_start = None
    for start, group in group_by_window(records, criterion.window).items():
        record = merge_records(group, model, baseline, start, estimate=False)
        value = compute_all(record, (criterion.metric,))[criterion.metric]
        counted = record.n_rows if criterion.metric in OPERATIONS else record.n_labelled
        result = evaluate_criterion(criterion, value, counted)
        results.append((start, result))
        if next_window_start(start, criterion.window) <= as_of:
            current, current_start = result, start
    return CriterionTrack(criterion, tuple(results), current, current_start)


def baseline_record(store: Store, model: Model, baseline: Baseline) -> DayRecord:
    """The baseline's outputs and labels as one record (development performance)."""
    frame = baseline_outputs(store, baseline)
    empty = merge_records([], model, baseline, datetime.min)
    return DayRecord(datetime.min, "baseline", len(frame), int(frame["label"].notna().sum()),
                     quality_aggregate(model, baseline, frame), empty.operations, empty.delay, None)


def _by_version(records: list[DayRecord]) -> dict[str, list[DayRecord]]:
    groups: dict[str, list[DayRecord]] = {}
    for record in records:
        groups.setdefault(record.version, []).append(record)
    return dict(sorted(groups.items()))


def performance_summary(overview: PerformanceOverview) -> dict:
    """The overview as plain JSON-ready data (for the CLI, notebooks and CI jobs)."""
    def plain(value: m.MetricValue | estimation.Estimate | None) -> dict | None:
        if value is None:
            return None
        return {"value": value.value, "lower": value.lower, "upper": value.upper, "n": value.n}

    return {
        "model": overview.model.name,
        "window": overview.window,
        "start": f"{overview.start:%Y-%m-%d}",
        "end": f"{overview.end - timedelta(days=1):%Y-%m-%d}",
        "criteria": [{
            "criterion": track.criterion.text, "metric": track.criterion.metric,
            "status": track.current.status if track.current else "insufficient data",
            "window": f"{track.current_window:%Y-%m-%d}" if track.current_window else None,
            "value": plain(track.current) if track.current else None,
            "default": track.criterion.is_default,
            "history": [{"window": f"{start:%Y-%m-%d}", "status": r.status, "value": r.value}
                        for start, r in track.windows],
        } for track in overview.criteria],
        "windows": [{
            "start": f"{w.start:%Y-%m-%d}", "complete": w.complete, "predictions": w.n_rows,
            "labelled": w.n_labelled, "label_coverage": w.label_coverage, "label_delay_hours": w.label_delay_hours,
            "metrics": {name: plain(v) for name, v in w.metrics.items()},
            "estimated": {name: plain(v) for name, v in w.estimates.items()},
        } for w in overview.windows],
        "development_vs_production": overview.development_vs_production().to_dict("records"),
        "versions": {version or "(none)": {name: v.value for name, v in values.items()}
                     for version, values in overview.versions.items()},
    }
