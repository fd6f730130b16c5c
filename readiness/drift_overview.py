"""Everything the Drift page and ``python -m readiness drift`` show, from one call.

Baseline vs a range of windows (merged stored day profiles), the same per window for the
"when did it start" heatmap, data quality per window, and a multivariate check on bounded
samples. Only the multivariate check reads raw rows, and at most a few thousand of them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from readiness import schema as t
from readiness.drift import ColumnDrift, DriftOptions, DriftReport, calibrate_thresholds, column_drift
from readiness.errors import ReadinessError
from readiness.multivariate import MultivariateDrift, classifier_drift
from readiness.profile_store import (
    RefreshResult,
    day_profiles,
    load_reference,
    raw_log_frame,
    refresh_profiles,
    typed_log_frame,
)
from readiness.profiles import FrameProfile, Reference, merge_all, profile_frame
from readiness.quality import QualityReport, column_quality, quality_report
from readiness.store import Model, Store, features_from_json
from readiness.windows import MAX_HOUR_RANGE, check_window, choose_window, window_starts

MULTIVARIATE_ROWS = 3_000  # per side: AUC standard error about 0.01, under a second to fit
MULTIVARIATE_FOLDS = 3
MEMO_ENTRIES = 32
TIMELINE_NOISE_REPS = 50  # per-window verdicts: a coarser noise floor keeps 90 windows fast


class NoDataError(ReadinessError):
    """The model has no baseline, or no predictions in the chosen range."""


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
    range_quality: tuple
    multivariate: MultivariateDrift | None
    refreshed: RefreshResult

    @property
    def n_current(self) -> int:
        """Predictions in the range."""
        return self.current.n_rows

    def column_table(self) -> pd.DataFrame:
        """One row per column, most severe first, with the quality flags of the whole range."""
        flags = {q.column: "; ".join(q.flags) for q in self.range_quality}
        return pd.DataFrame([_column_row(c, flags.get(c.column, "")) for c in self.report.columns])

    def severity_matrix(self) -> pd.DataFrame:
        """Columns x window starts: effective severity, capped at 5 (>= 1 means drift)."""
        data = {w.start: {c.column: _capped(c) for c in w.report.columns} for w in self.windows}
        order = [c.column for c in self.report.columns]
        return pd.DataFrame(data).reindex(order)

    def quality_table(self) -> pd.DataFrame:
        """Flagged column-windows, newest first."""
        return pd.DataFrame([
            {"Window": q.window_start, "Column": q.column, "Rows": q.n_rows,
             "Missing": q.missing_share, "Missing (baseline)": q.missing_share_baseline,
             "Outside baseline range": q.out_of_range_share, "Unseen categories": q.unseen_share,
             "Problem": "; ".join(q.flags)}
            for q in self.quality.problems
        ])


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


def _column_row(c: ColumnDrift, flags: str) -> dict:
    return {
        "Column": c.column,
        "Type": c.kind,
        "Test": c.method,
        "Statistic": c.statistic,
        "p-value": c.p_adjusted if c.p_adjusted is not None else c.p_value,
        "Threshold": c.threshold,
        "Drift": "drift" if c.drifted else ("not analyzed" if not c.analyzed else "ok"),
        "PSI": c.psi,
        "Missing": c.missing_share,
        "Quality": flags,
        "Note": c.note,
    }


def test_choices(store: Store, model_name: str) -> pd.DataFrame:
    """Every drift column with its type and "default" test, for a per-column test picker."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return pd.DataFrame(columns=["Column", "Type", "Test"])
    reference = load_reference(store, model, baseline)
    return pd.DataFrame({"Column": list(reference.names), "Type": [c.kind for c in reference.columns],
                         "Test": ["default"] * len(reference.names)})


def log_range(store: Store, model_name: str) -> LogRange:
    """The days a model's stored profiles cover, for range pickers."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return LogRange(None, None, 0, "day")
    refresh_profiles(store, model_name)
    query = select(func.min(t.profiles.c.window_start), func.max(t.profiles.c.window_start),
                   func.coalesce(func.sum(t.profiles.c.n_rows), 0)).where(t.profiles.c.baseline_id == baseline.id)
    with store.engine.connect() as conn:
        first, last, n = conn.execute(query).one()
    if first is None:
        return LogRange(None, None, 0, "day")
    window = choose_window(int(n), first, last + timedelta(days=1))
    return LogRange(first.date(), last.date(), int(n), window)


def drift_overview(
    store: Store,
    model_name: str,
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
    over baseline chunks the size of a typical window). Results are kept in
    memory per inputs and data version (the profile watermark), so a repeated call with no
    new predictions is a lookup.
    """
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise NoDataError(f"Model {model.name!r} has no baseline yet: upload one on the Data page first.")
    refreshed = refresh_profiles(store, model.name)
    key = (str(store.engine.url), model.id, baseline.id, refreshed.watermark, start, end, window, options,
           multivariate, multivariate_rows, calibrated)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    result = _analyze(store, model, baseline, refreshed, start, end, window, options, multivariate,
                      multivariate_rows, calibrated)
    _MEMO[key] = result
    while len(_MEMO) > MEMO_ENTRIES:
        _MEMO.popitem(last=False)
    return result


_MEMO: OrderedDict = OrderedDict()


def _analyze(store: Store, model: Model, baseline, refreshed: RefreshResult, start, end, window: str | None,
             options: DriftOptions, multivariate: bool, multivariate_rows: int, calibrated: bool
             ) -> DriftOverview:
    reference = load_reference(store, model, baseline)
    lo, hi = _bounds(start, end)
    days = day_profiles(store, model, lo, hi)
    if not days:
        raise NoDataError(
            f"Model {model.name!r} has no predictions between {_day(lo)} and {_day(hi, -1)}. "
            "Pick a range that holds predictions (the Overview shows each model's dates).")
    lo = lo or days[0][0]
    hi = hi or days[-1][0] + timedelta(days=1)
    window = window or choose_window(sum(p.n_rows for _, p in days), lo, hi)
    check_window(window)
    windows = _hour_profiles(store, model, reference, lo, hi) if window == "hour" else _merge_days(days, window)
    current = merge_all(p for _, p in windows)
    if calibrated:
        options = calibrated_options(store, model, reference, windows, options)
    report = column_drift(reference, current, options)
    timeline_options = replace(options, noise_reps=min(options.noise_reps, TIMELINE_NOISE_REPS))
    timeline = tuple(WindowDrift(s, p.n_rows, column_drift(reference, p, timeline_options)) for s, p in windows)
    mv = _multivariate(store, model, baseline, lo, hi, multivariate_rows) if multivariate else None
    return DriftOverview(model, lo, hi, window, reference, current, report, timeline,
                         quality_report(reference, windows), column_quality(reference, current), mv, refreshed)


def calibrated_options(store: Store, model: Model, reference: Reference,
                       windows: list[tuple[datetime, FrameProfile]], options: DriftOptions) -> DriftOptions:
    """Options whose thresholds come from the baseline: chunks the size of a typical window.

    The baseline needs at least five chunks, so windows larger than a fifth of it are
    calibrated on chunks of a fifth (a stricter threshold than the window would get).
    """
    baseline = store.read_baseline(model.name)
    frame = typed_log_frame(baseline, model, reference.specs)
    typical = int(np.median([p.n_rows for _, p in windows]))
    chunk = max(min(typical, len(frame) // 5), 2)
    if len(frame) < 10:
        raise NoDataError(f"The baseline has {len(frame)} rows; calibrating thresholds needs at least 10.")
    return calibrate_thresholds(reference, frame, chunk, options).options(options)


def _bounds(start: date | datetime | None, end: date | datetime | None) -> tuple[datetime | None, datetime | None]:
    lo = datetime.combine(start, datetime.min.time()) if isinstance(start, date) and not isinstance(start, datetime) else start
    hi = end
    if isinstance(end, date) and not isinstance(end, datetime):
        hi = datetime.combine(end, datetime.min.time()) + timedelta(days=1)  # end date is inclusive
    if lo is not None and hi is not None and hi <= lo:
        raise NoDataError(f"The range ends ({_day(hi, -1)}) before it starts ({_day(lo)}); swap the dates.")
    return lo, hi


def _day(moment: datetime | None, shift: int = 0) -> str:
    return "the first prediction" if moment is None and shift == 0 else (
        "the last prediction" if moment is None else f"{moment + timedelta(days=shift):%Y-%m-%d}")


def _merge_days(days: list[tuple[datetime, FrameProfile]], window: str) -> list[tuple[datetime, FrameProfile]]:
    if window == "day":
        return days
    starts = window_starts(pd.Series([d for d, _ in days]), window)
    groups: dict[datetime, list[FrameProfile]] = {}
    for start, (_, profile) in zip(starts, days, strict=True):
        groups.setdefault(start.to_pydatetime(), []).append(profile)
    return [(start, merge_all(profiles)) for start, profiles in groups.items()]


def _hour_profiles(store: Store, model: Model, reference: Reference, lo: datetime, hi: datetime
                   ) -> list[tuple[datetime, FrameProfile]]:
    if hi - lo > MAX_HOUR_RANGE:
        raise NoDataError(
            f"Hourly windows are profiled from raw rows, so the range may span at most "
            f"{MAX_HOUR_RANGE.days} days; this one spans {(hi - lo).days}. Pick a shorter range or day windows.")
    raw = _raw_rows(store, model.id, lo, hi)
    frame = raw_log_frame(raw, model, reference)
    hours = window_starts(raw["timestamp"], "hour")
    return [(pd.Timestamp(h).to_pydatetime(), profile_frame(part, reference))
            for h, part in frame.groupby(hours.to_numpy(), sort=True)]


def _raw_rows(store: Store, model_id: int, lo: datetime, hi: datetime) -> pd.DataFrame:
    p = t.predictions
    query = (select(p.c.id, p.c.timestamp, p.c.prediction, p.c.score, p.c.features)
             .where(p.c.model_id == model_id, p.c.timestamp >= lo, p.c.timestamp < hi))
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=["id", "timestamp", "prediction", "score", "features"])


def sample_predictions(store: Store, model_id: int, lo: datetime, hi: datetime, n: int, seed: int = 0) -> pd.DataFrame:
    """About ``n`` rows drawn uniformly by id from the model's rows in [lo, hi), without a full scan.

    Ids grow with insertion time, so the ids of the first and last rows in the range bound
    it; random ids in between are fetched by primary key and filtered to the model and range.
    """
    p = t.predictions
    in_range = (p.c.model_id == model_id) & (p.c.timestamp >= lo) & (p.c.timestamp < hi)
    with store.engine.connect() as conn:
        first = conn.execute(select(p.c.id).where(in_range).order_by(p.c.timestamp, p.c.id).limit(1)).scalar()
        last = conn.execute(select(p.c.id).where(in_range).order_by(p.c.timestamp.desc(), p.c.id.desc()).limit(1)).scalar()
        if first is None:
            return pd.DataFrame(columns=["features"])
        lo_id, hi_id = min(first, last), max(first, last)
        ids = _random_ids(lo_id, hi_id, 2 * n, seed)  # 2n: other models' rows may interleave
        rows = _fetch_by_id(conn, p, ids, lambda row: row[1] == model_id and lo <= row[2] < hi)
    return pd.DataFrame({"features": _at_most(rows, n, seed)})


def _fetch_by_id(conn, table, ids: np.ndarray, keep) -> list[str]:
    """Feature JSON of the rows with these ids for which ``keep(row)`` holds.

    The query filters on the primary key alone: with the model and time conditions in SQL,
    SQLite prefers the (model, time) index and walks the whole range (3 s at 10M rows).
    """
    rows: list[str] = []
    key = "baseline_id" if "baseline_id" in table.c else "model_id"
    extra = [table.c[key]] + ([table.c.timestamp] if "timestamp" in table.c else [])
    for start in range(0, len(ids), 5_000):
        chunk = [int(i) for i in ids[start : start + 5_000]]
        result = conn.execute(select(table.c.features, *extra).where(table.c.id.in_(chunk)))
        rows.extend(row[0] for row in result if keep(row))
    return rows


def _at_most(rows: list[str], n: int, seed: int) -> list[str]:
    """A uniform random subset of n rows (rows arrive in id order, so never just the first n)."""
    if len(rows) <= n:
        return rows
    keep = np.sort(np.random.default_rng(seed + 1).choice(len(rows), size=n, replace=False))
    return [rows[i] for i in keep]


def sample_baseline(store: Store, baseline_id: int, n: int, seed: int = 0) -> list[str]:
    """Feature JSON of at most ``n`` baseline rows drawn uniformly by primary key."""
    b = t.baseline_rows
    with store.engine.connect() as conn:
        lo_id, hi_id = conn.execute(select(func.min(b.c.id), func.max(b.c.id)).where(b.c.baseline_id == baseline_id)).one()
        if lo_id is None:
            return []
        rows = _fetch_by_id(conn, b, _random_ids(lo_id, hi_id, n, seed), lambda row: row[1] == baseline_id)
    return _at_most(rows, n, seed)


def _random_ids(lo_id: int, hi_id: int, n: int, seed: int) -> np.ndarray:
    span = hi_id - lo_id + 1
    if span <= n:
        return np.arange(lo_id, hi_id + 1)
    picked = np.random.default_rng(seed).choice(span, size=n, replace=False)  # Floyd's method: O(n) memory
    return np.sort(picked) + lo_id


def _multivariate(store: Store, model: Model, baseline, lo: datetime, hi: datetime, n: int) -> MultivariateDrift:
    names = list(baseline.feature_names)
    reference = features_from_json(sample_baseline(store, baseline.id, n), names)
    sample = sample_predictions(store, model.id, lo, hi, n)
    current = features_from_json(sample["features"].tolist(), names)
    return classifier_drift(reference, current, baseline.features, max_rows=n, folds=MULTIVARIATE_FOLDS)


def drift_summary(overview: DriftOverview, per_window: bool = False) -> dict:
    """The overview as plain JSON-ready data (for the CLI, notebooks and CI jobs)."""
    report = overview.report
    summary = {
        "model": overview.model.name,
        "start": f"{overview.start:%Y-%m-%d}",
        "end": f"{overview.end - timedelta(days=1):%Y-%m-%d}",
        "window": overview.window,
        "predictions": overview.n_current,
        "columns_analyzed": report.n_analyzed,
        "columns_drifting": report.n_drifted,
        "share_drifting": report.share_drifted,
        "dataset_drift": report.dataset_drifted,
        "drifted": list(report.drifted_columns),
        "correction": report.options.correction,
    }
    mv = overview.multivariate
    if mv is not None:
        summary["multivariate"] = {"auc": _plain(mv.auc), "drifted": mv.drifted, "threshold": mv.threshold,
                                   "top_features": [list(f) for f in mv.top_features], "note": mv.note}
    result = {"summary": summary, "columns": _records(overview.column_table())}
    if per_window:
        result["windows"] = [
            {"window": f"{w.start:%Y-%m-%d %H:%M}", "column": c.column, "rows": w.n_rows, "test": c.method,
             "statistic": _plain(c.statistic), "threshold": c.threshold, "drift": c.drifted}
            for w in overview.windows for c in w.report.columns
        ]
    return result


def _plain(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (_plain(v) if isinstance(v, float) else v) for k, v in row.items()} for row in frame.to_dict("records")]
