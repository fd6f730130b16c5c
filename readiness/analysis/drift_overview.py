"""Everything the Drift page and ``python -m readiness drift`` show, from one call.

Baseline vs a range of windows (merged stored day profiles), the same per window for the
"when did it start" heatmap, data quality per window, and a multivariate check on bounded
samples. Only the multivariate check and hourly windows read raw rows, and boundedly.
Results come from the one result cache, keyed on the model's data version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from readiness.analysis.cache import cached
from readiness.analysis.settings import checklist_config
from readiness.core.drift import (
    METHOD_NAMES,
    METHODS,
    NUMERIC_ONLY,
    ColumnDrift,
    DriftOptions,
    DriftReport,
    calibrate_thresholds,
    column_drift,
)
from readiness.core.drift_now import (
    ColumnNow,
    DriftNow,
    WindowDrift,
    complete_end,
    day_label,
    default_window,
    drift_now,
    drift_timeline,
    run_length,
    window_profiles,
)
from readiness.core.mapping import proba_class
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
from readiness.core.records import Baseline, FeatureSpec, Model, features_from_json, utcnow
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
    "MAX_CLASS_CHARTS",
    "METHODS",
    "METHOD_NAMES",
    "NUMERIC_ONLY",
    "WINDOWS",
    "ClassOutput",
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

MAX_CLASS_CHARTS = 8  # class probability charts shown at once; more classes are picked from a list
MULTIVARIATE_ROWS = 3_000  # per side: AUC standard error about 0.01, under a second to fit
MULTIVARIATE_FOLDS = 3


@dataclass(frozen=True)
class LogRange:
    """The first and last UTC day with stored profiles, and the window size volume suggests."""

    first_day: date | None
    last_day: date | None
    n_rows: int
    suggested_window: str


@dataclass(frozen=True)
class WindowVerdict:
    """One column in one window: drifted (None when it could not be analyzed) and the numbers."""

    start: datetime
    rows: int
    drifted: bool | None
    statistic: float | None
    p_value: float | None
    effect: float | None


@dataclass(frozen=True)
class DriftColumn:
    """One column's row of the drift table: drifting now and since when, with the evidence.

    ``method`` to ``explanation`` describe the latest complete window's verdict;
    ``drifted_in_range`` is the verdict of the whole range merged into one sample.
    """

    column: str
    kind: str
    drifting_now: bool
    since: datetime | None
    recovered_on: datetime | None
    run: str
    method: str
    statistic: float | None
    p_value: float | None  # adjusted across columns when the test gives one
    threshold: float | None
    effect: float | None
    effect_threshold: float | None
    explanation: str
    analyzed: bool
    drifted_in_range: bool
    missing_share: float
    quality: tuple[str, ...]
    note: str
    series: tuple[WindowVerdict, ...]

    @property
    def state(self) -> str:
        """The state now in words: "drifting", "steady" or "not analyzed"."""
        return "drifting" if self.drifting_now else ("steady" if self.analyzed else "not analyzed")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (snake_case keys, booleans for verdicts, null for missing numbers)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "drifting_now": self.drifting_now,
            "since": _iso_day(self.since),
            "recovered_on": _iso_day(self.recovered_on),
            "method": self.method,
            "statistic": _plain(self.statistic),
            "p_value": _plain(self.p_value),
            "threshold": _plain(self.threshold),
            "effect": _plain(self.effect),
            "effect_threshold": _plain(self.effect_threshold),
            "explanation": self.explanation,
            "analyzed": self.analyzed,
            "drifted_in_range": self.drifted_in_range,
            "missing_share": _plain(self.missing_share),
            "quality": list(self.quality),
            "note": self.note,
            "series": [
                {
                    "start": f"{w.start:%Y-%m-%dT%H:%M:%SZ}",
                    "rows": int(w.rows),
                    "drifted": w.drifted,
                    "statistic": _plain(w.statistic),
                    "p_value": _plain(w.p_value),
                    "effect": _plain(w.effect),
                }
                for w in self.series
            ],
        }


@dataclass(frozen=True)
class ClassOutput:
    """One class's probability as a model output: the class and its row of the drift table."""

    label: str
    drift: DriftColumn


def _iso_day(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment:%Y-%m-%d}"


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
    now: DriftNow
    baseline: Baseline | None = None  # what the log is compared with (its rows, its period)

    @property
    def baseline_text(self) -> str:
        """What the log is compared with, in a phrase ("the baseline (3,000 rows, development period ...)")."""
        return self.baseline.described() if self.baseline is not None else "the baseline"

    @property
    def dataset_drifted(self) -> bool:
        """The data as a whole changed now: half the columns drift, or a classifier tells the rows apart."""
        share = len(self.now.drifting) / self.now.n_analyzed if self.now.n_analyzed else 0.0
        return share >= self.report.options.dataset_share or bool(
            self.multivariate and self.multivariate.drifted
        )

    def dataset_text(self) -> str:
        """One sentence on the data as a whole, reconciling the column count and the classifier."""
        k, n = len(self.now.drifting), self.now.n_analyzed
        columns = f"{k} of {n} columns drift on their own"
        mv = self.multivariate
        if mv is None or mv.auc is None or math.isnan(mv.auc):  # not run, or too few rows to train it
            text = f"{columns} in {self.now.period}." if k else f"No column drifts in {self.now.period}."
            return text + (
                f" The classifier check did not run ({mv.note.rstrip('.')})."
                if mv is not None and mv.note
                else ""
            )
        auc = f"AUC {mv.auc:.2f}"
        if mv.drifted and k == 0:
            return (
                f"No column drifts on its own in {self.now.period}, but together they changed: a classifier "
                f"tells live rows from baseline rows ({auc})."
            )
        if mv.drifted:
            return f"{columns} in {self.now.period}, and a classifier tells live rows from baseline rows ({auc})."
        if k:
            return (
                f"{columns} in {self.now.period}, but the change is too small for a classifier to tell live rows "
                f"from baseline rows ({auc})."
            )
        return f"No column drifts in {self.now.period}, and a classifier cannot tell live rows from baseline rows ({auc})."

    @property
    def n_current(self) -> int:
        """Predictions in the range."""
        return self.current.n_rows

    @property
    def last_day(self) -> datetime:
        """The last day of the range (its end is exclusive)."""
        return self.end - timedelta(days=1)

    def columns(self) -> tuple[DriftColumn, ...]:
        """One row per column, drifting now first (longest run first), with the whole range's quality flags."""
        flags = {q.column: q.flags for q in self.range_quality}
        return tuple(
            _drift_column(c, self.now, self.report[c.column], self.windows, flags.get(c.column, ()))
            for c in self.now.columns
        )

    def class_outputs(self) -> tuple[ClassOutput, ...]:
        """Each class probability the log is compared on (multiclass models that log them), in class order."""
        rows = {r.column: r for r in self.columns()}
        labels = ((spec.name, proba_class(spec.name)) for spec in self.reference.specs)
        return tuple(
            ClassOutput(label, rows[name]) for name, label in labels if label is not None and name in rows
        )

    def classes_to_chart(self, limit: int = MAX_CLASS_CHARTS) -> tuple[str, ...]:
        """The classes whose probability charts to show first: drifting ones, then the rest in class order."""
        outputs = sorted(
            self.class_outputs(), key=lambda o: not o.drift.drifting_now
        )  # stable: class order kept
        return tuple(o.label for o in outputs[:limit])

    def severity_matrix(self) -> pd.DataFrame:
        """Columns x window starts: effective severity, capped at 5 (>= 1 means drift)."""
        data = {w.start: {c.column: _capped(c) for c in w.report.columns} for w in self.windows}
        order = [c.column for c in self.now.columns]
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


def _drift_column(
    c: ColumnNow, now: DriftNow, whole: ColumnDrift, windows: tuple[WindowDrift, ...], flags: tuple[str, ...]
) -> DriftColumn:
    latest = c.latest
    series = tuple(_verdict(w, c.column) for w in windows)
    return DriftColumn(
        column=c.column,
        kind=c.kind,
        drifting_now=c.drifting,
        since=c.since,
        recovered_on=c.recovered_on,
        run=run_text(c, now),
        method=latest.method if latest else "none",
        statistic=latest.statistic if latest else None,
        p_value=(latest.p_adjusted if latest.p_adjusted is not None else latest.p_value) if latest else None,
        threshold=latest.threshold if latest else None,
        effect=latest.effect if latest else None,
        effect_threshold=latest.effect_threshold if latest else None,
        explanation=c.explanation,
        analyzed=c.analyzed,
        drifted_in_range=whole.drifted,
        missing_share=latest.missing_share if latest else whole.missing_share,
        quality=flags,
        note=latest.note if latest else whole.note,
        series=series,
    )


def run_text(c: ColumnNow, now: DriftNow) -> str:
    """The run in words: "since 1 Apr 2019 (22 weeks)", "recovered on 3 Jun 2019" or ""."""
    if c.drifting and c.since is not None and now.end is not None:
        return f"since {day_label(c.since)} ({run_length(c.since, now.end, now.window)})"
    if c.recovered_on is not None:
        return f"recovered on {day_label(c.recovered_on)}"
    return ""


def _verdict(w: WindowDrift, name: str) -> WindowVerdict:
    try:
        c = w.report[name]
    except KeyError:
        return WindowVerdict(w.start, w.n_rows, None, None, None, None)
    p = c.p_adjusted if c.p_adjusted is not None else c.p_value
    return WindowVerdict(w.start, w.n_rows, c.drifted if c.analyzed else None, c.statistic, p, c.effect)


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
        window = choose_window(
            span.n_rows, span.first_day, span.last_day + timedelta(days=1), allow_hour=False
        )
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
    as_of: datetime | None = None,
) -> DriftOverview:
    """Drift of a model's log in [start, end] (dates inclusive) against its baseline.

    ``window`` is hour, day, week or month (default: chosen from volume); hour windows are
    profiled from raw rows and allowed for ranges of up to three days. ``calibrated`` judges
    every column by thresholds learned from the baseline itself (mean + 3 std of the statistic
    over baseline chunks the size of a typical window). ``now`` judges the latest window
    complete by ``as_of`` (default: now).
    """
    args = (start, end, window, options, multivariate, multivariate_rows, calibrated, as_of)
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
    as_of: datetime | None,
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
    window = window or default_window(days)
    check_window(window)
    windows = (
        _hour_profiles(store, model, reference, lo, hi) if window == "hour" else window_profiles(days, window)
    )
    current = merge_all(p for _, p in windows)
    if calibrated:
        options = calibrated_options(store, baseline, reference, windows, options)
    report = column_drift(reference, current, options)
    timeline = drift_timeline(reference, windows, options)
    log_end = min(hi, days[-1][0] + timedelta(days=1))
    finished = checklist_config(store, model).historical  # a finished log: its last window is complete too
    now = drift_now(timeline, window, complete_end(log_end, as_of or utcnow(), finished), max(lo, days[0][0]))
    mv = (
        _multivariate(store, model, baseline, now.start or lo, min(now.end or hi, hi), multivariate_rows)
        if multivariate
        else None
    )
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
        now,
        baseline,
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
    reference = features_from_json(sample_baseline(store, baseline, n), names)
    current = features_from_json(sample_predictions(store, model.id, lo, hi, n), names)
    return classifier_drift(reference, current, baseline.features, max_rows=n, folds=MULTIVARIATE_FOLDS)
