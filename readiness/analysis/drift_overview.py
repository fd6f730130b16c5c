"""Everything the Drift page and ``python -m readiness drift`` show, from one call.

Baseline vs a range of windows (merged stored day profiles), the same per window for the
"when did it start" heatmap, data quality per window, and a multivariate check on bounded
samples. Only the multivariate check and hourly windows read raw rows, and boundedly.
Results come from the one result cache, keyed on the model's data version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from readiness.analysis.cache import cached
from readiness.core.drift import (
    METHODS,
    NUMERIC_ONLY,
    ColumnDrift,
    DriftOptions,
    DriftReport,
    calibrate_thresholds,
    column_drift,
)
from readiness.core.multivariate import MultivariateDrift, classifier_drift
from readiness.core.profiles import (
    FrameProfile,
    Reference,
    merge_all,
    profile_frame,
    raw_log_frame,
    typed_log_frame,
)
from readiness.core.quality import ColumnQuality, QualityReport, column_quality, quality_report
from readiness.core.records import Baseline, FeatureSpec, Model, features_from_json
from readiness.core.windows import (
    MAX_HOUR_RANGE,
    WINDOWS,
    check_window,
    choose_window,
    date_range,
    window_starts,
)
from readiness.errors import NoDataError
from readiness.storage.profile_store import day_profiles, load_reference, profile_span
from readiness.storage.samples import raw_rows, sample_baseline, sample_predictions
from readiness.storage.store import Store

__all__ = [  # what the Drift page and the CLI use from here
    "METHODS",
    "NUMERIC_ONLY",
    "WINDOWS",
    "ColumnDrift",
    "DriftColumn",
    "DriftOptions",
    "DriftOverview",
    "LogRange",
    "drift_overview",
    "effective_severity",
    "log_range",
    "test_choices",
]

MULTIVARIATE_ROWS = 3_000  # per side: AUC standard error about 0.01, under a second to fit
MULTIVARIATE_FOLDS = 3
TIMELINE_NOISE_REPS = 50  # per-window verdicts: a coarser noise floor keeps 90 windows fast


@dataclass(frozen=True)
class WindowDrift:
    """Column drift of one window against the baseline."""

    start: datetime
    n_rows: int
    report: DriftReport


@dataclass(frozen=True)
class LogRange:
    """The first and last UTC day with stored profiles, and the window size volume suggests."""

    first_day: date | None
    last_day: date | None
    n_rows: int
    suggested_window: str


@dataclass(frozen=True)
class DriftColumn:
    """One column's row of the drift table: its verdict with the quality flags of the whole range."""

    column: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None  # adjusted across columns when the test gives one
    threshold: float
    analyzed: bool
    drifted: bool
    psi: float | None
    missing_share: float
    quality: tuple[str, ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (snake_case keys, booleans for verdicts, null for missing numbers)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _plain(self.statistic),
            "p_value": _plain(self.p_value),
            "threshold": _plain(self.threshold),
            "analyzed": self.analyzed,
            "drifted": self.drifted,
            "psi": _plain(self.psi),
            "missing_share": _plain(self.missing_share),
            "quality": list(self.quality),
            "note": self.note,
        }


@dataclass(frozen=True)
class DriftOverview:
    """Baseline vs a range of the live log: per column, per window, quality, multivariate."""

    model: Model
    start: datetime
    end: datetime
    window: str
    reference: Reference
    current: FrameProfile
    report: DriftReport
    windows: tuple[WindowDrift, ...]
    quality: QualityReport
    range_quality: tuple[ColumnQuality, ...]
    multivariate: MultivariateDrift | None

    @property
    def n_current(self) -> int:
        """Predictions in the range."""
        return self.current.n_rows

    @property
    def last_day(self) -> datetime:
        """The last day of the range (its end is exclusive)."""
        return self.end - timedelta(days=1)

    def columns(self) -> tuple[DriftColumn, ...]:
        """One row per column, most severe first, with the quality flags of the whole range."""
        flags = {q.column: q.flags for q in self.range_quality}
        return tuple(_drift_column(c, flags.get(c.column, ())) for c in self.report.columns)

    def severity_matrix(self) -> pd.DataFrame:
        """Columns x window starts: effective severity, capped at 5 (>= 1 means drift)."""
        data = {w.start: {c.column: _capped(c) for c in w.report.columns} for w in self.windows}
        order = [c.column for c in self.report.columns]
        return pd.DataFrame(data).reindex(order)


def effective_severity(column: ColumnDrift) -> float:
    """Statistic over the bar it must clear (threshold, or the noise floor when higher); >= 1 is drift.

    For p-value tests it is the significance level over the adjusted p-value.
    """
    if not column.analyzed:
        return float("nan")
    if column.threshold_on == "statistic" and column.noise_floor is not None and column.statistic is not None:
        bar = max(column.threshold, column.noise_floor)
        return column.statistic / bar if bar > 0 else float("inf")
    return column.severity


def _capped(column: ColumnDrift) -> float:
    return float(min(effective_severity(column), 5.0))


def _drift_column(c: ColumnDrift, flags: tuple[str, ...]) -> DriftColumn:
    return DriftColumn(
        column=c.column,
        kind=c.kind,
        test=c.method,
        statistic=c.statistic,
        p_value=c.p_adjusted if c.p_adjusted is not None else c.p_value,
        threshold=c.threshold,
        analyzed=c.analyzed,
        drifted=c.drifted,
        psi=c.psi,
        missing_share=c.missing_share,
        quality=flags,
        note=c.note,
    )


def _plain(value: float | None) -> float | None:
    return None if value is None or value != value or value in (float("inf"), float("-inf")) else float(value)


def test_choices(store: Store, model: Model) -> tuple[FeatureSpec, ...]:
    """Every column drift is computed on (features, prediction, score) with its kind, for a per-column test picker."""

    def compute() -> tuple[FeatureSpec, ...]:
        baseline = store.active_baseline(model.id)
        return () if baseline is None else load_reference(store, model, baseline).specs

    return cached(store, model, "test_choices", (), compute)


def log_range(store: Store, model: Model) -> LogRange:
    """The days a model's stored profiles cover, for range pickers."""

    def compute() -> LogRange:
        baseline = store.active_baseline(model.id)
        if baseline is None:
            return LogRange(None, None, 0, "day")
        span = profile_span(store, baseline)
        if span.first_day is None or span.last_day is None:
            return LogRange(None, None, 0, "day")
        window = choose_window(span.n_rows, span.first_day, span.last_day + timedelta(days=1))
        return LogRange(span.first_day.date(), span.last_day.date(), span.n_rows, window)

    return cached(store, model, "log_range", (), compute)


def drift_overview(
    store: Store,
    model: Model,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    window: str | None = None,
    options: DriftOptions = DriftOptions(),
    multivariate: bool = True,
    multivariate_rows: int = MULTIVARIATE_ROWS,
    calibrated: bool = False,
) -> DriftOverview:
    """Drift of a model's log in [start, end] (dates inclusive) against its baseline.

    ``window`` is hour, day, week or month (default: chosen from volume); hour windows are
    profiled from raw rows and allowed for ranges of up to three days. ``calibrated`` judges
    every column by thresholds learned from the baseline itself (mean + 3 std of the statistic
    over baseline chunks the size of a typical window).
    """
    args = (start, end, window, options, multivariate, multivariate_rows, calibrated)
    return cached(store, model, "drift_overview", args, lambda: _analyze(store, model, *args))


def _analyze(
    store: Store,
    model: Model,
    start: date | datetime | None,
    end: date | datetime | None,
    window: str | None,
    options: DriftOptions,
    multivariate: bool,
    multivariate_rows: int,
    calibrated: bool,
) -> DriftOverview:
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise NoDataError(f"Model {model.name!r} has no baseline yet: upload one on the Data page first.")
    reference = load_reference(store, model, baseline)
    lo, hi = date_range(start, end)
    days = day_profiles(store, baseline, lo, hi)
    if not days:
        raise NoDataError(
            f"Model {model.name!r} has no predictions between {_day(lo)} and {_day(hi, -1)}. "
            "Pick a range that holds predictions (the Overview shows each model's dates)."
        )
    lo = lo or days[0][0]
    hi = hi or days[-1][0] + timedelta(days=1)
    window = window or choose_window(sum(p.n_rows for _, p in days), lo, hi)
    check_window(window)
    windows = (
        _hour_profiles(store, model, reference, lo, hi) if window == "hour" else _merge_days(days, window)
    )
    current = merge_all(p for _, p in windows)
    if calibrated:
        options = calibrated_options(store, baseline, reference, windows, options)
    report = column_drift(reference, current, options)
    timeline_options = replace(options, noise_reps=min(options.noise_reps, TIMELINE_NOISE_REPS))
    timeline = tuple(
        WindowDrift(s, p.n_rows, column_drift(reference, p, timeline_options)) for s, p in windows
    )
    mv = _multivariate(store, model, baseline, lo, hi, multivariate_rows) if multivariate else None
    return DriftOverview(
        model,
        lo,
        hi,
        window,
        reference,
        current,
        report,
        timeline,
        quality_report(reference, windows),
        column_quality(reference, current),
        mv,
    )


def calibrated_options(
    store: Store,
    baseline: Baseline,
    reference: Reference,
    windows: list[tuple[datetime, FrameProfile]],
    options: DriftOptions,
) -> DriftOptions:
    """Options whose thresholds come from the baseline: chunks the size of a typical window.

    The baseline needs at least five chunks, so windows larger than a fifth of it are
    calibrated on chunks of a fifth (a stricter threshold than the window would get).
    """
    frame = typed_log_frame(store.read_baseline(baseline), reference.specs)
    typical = int(np.median([p.n_rows for _, p in windows]))
    chunk = max(min(typical, len(frame) // 5), 2)
    if len(frame) < 10:
        raise NoDataError(f"The baseline has {len(frame)} rows; calibrating thresholds needs at least 10.")
    return calibrate_thresholds(reference, frame, chunk, options).options(options)


def _day(moment: datetime | None, shift: int = 0) -> str:
    return (
        "the first prediction"
        if moment is None and shift == 0
        else ("the last prediction" if moment is None else f"{moment + timedelta(days=shift):%Y-%m-%d}")
    )


def _merge_days(
    days: list[tuple[datetime, FrameProfile]], window: str
) -> list[tuple[datetime, FrameProfile]]:
    if window == "day":
        return days
    starts = window_starts(pd.Series([d for d, _ in days]), window)
    groups: dict[datetime, list[FrameProfile]] = {}
    for start, (_, profile) in zip(starts, days, strict=True):
        groups.setdefault(start.to_pydatetime(), []).append(profile)
    return [(start, merge_all(profiles)) for start, profiles in groups.items()]


def _hour_profiles(
    store: Store, model: Model, reference: Reference, lo: datetime, hi: datetime
) -> list[tuple[datetime, FrameProfile]]:
    if hi - lo > MAX_HOUR_RANGE:
        raise NoDataError(
            f"Hourly windows are profiled from raw rows, so the range may span at most "
            f"{MAX_HOUR_RANGE.days} days; this one spans {(hi - lo).days}. Pick a shorter range or day windows."
        )
    raw = raw_rows(store, model.id, lo, hi)
    frame = raw_log_frame(raw, reference)
    hours = window_starts(raw["timestamp"], "hour")
    return [
        (pd.Timestamp(h).to_pydatetime(), profile_frame(part, reference))
        for h, part in frame.groupby(hours.to_numpy(), sort=True)
    ]


def _multivariate(
    store: Store, model: Model, baseline: Baseline, lo: datetime, hi: datetime, n: int
) -> MultivariateDrift:
    names = list(baseline.feature_names)
    reference = features_from_json(sample_baseline(store, baseline.id, n), names)
    current = features_from_json(sample_predictions(store, model.id, lo, hi, n), names)
    return classifier_drift(reference, current, baseline.features, max_rows=n, folds=MULTIVARIATE_FOLDS)
