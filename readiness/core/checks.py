"""The automatic checklist items: pure functions from analysis results to an item result.

Each ``check_*`` takes what one item needs (a drift report, quality rows, aggregates,
criterion tracks) and returns an :class:`~readiness.checklist.ItemResult` whose evidence
names the figure, the window and the app page that shows it. None of them reads the
database; :mod:`readiness.analysis.assessment` gathers their inputs. A check that lacks the data to
decide returns "unknown" (0 points, never a pass); one that cannot apply to the model
returns "not applicable" with the reason.

Rule for "worse than" comparisons (production vs development, newest window vs earlier
ones): a metric counts as worse only when it is worse by more than the margin AND its 95%
interval lies entirely beyond that margin, so a few labels never fail a check on noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from readiness.core import metrics as m
from readiness.core.checklist import ChecklistItem, Evidence, ItemResult
from readiness.core.criteria import OPERATIONS_METRICS, Criterion, CriterionResult
from readiness.core.drift_now import ColumnNow, DriftNow, day_label, run_length
from readiness.core.performance import CriterionTrack
from readiness.core.quality import ColumnQuality
from readiness.core.status import CriterionStatus, ItemStatus

MAX_LISTED = 3
DEFAULT_LATENCY_SLO_MS = 500.0


@dataclass(frozen=True)
class Period:
    """The days a check looked at: [start, end) as UTC midnights."""

    start: datetime
    end: datetime

    @property
    def text(self) -> str:
        """The period for people, end inclusive: "2026-11-24 to 2026-11-30"."""
        last = self.end - timedelta(days=1)
        return f"{self.start:%Y-%m-%d}" if last <= self.start else f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"

    @property
    def days(self) -> int:
        """Whole days in the period."""
        return max((self.end - self.start).days, 0)


@dataclass(frozen=True)
class SchemaSample:
    """What a bounded sample of raw live rows carried, feature by feature.

    ``present`` counts rows whose JSON has the key (null or not); ``non_numeric`` counts, per
    numeric baseline feature, the non-null values that are not numbers; ``values`` counts
    the non-null values; ``extra`` counts rows per key the baseline does not have.
    """

    n_rows: int
    present: Mapping[str, int]
    values: Mapping[str, int]
    non_numeric: Mapping[str, int]
    extra: Mapping[str, int]


def _result(
    item: ChecklistItem, status: ItemStatus, reason: str, figure: str, period: Period | str | None, page: str
) -> ItemResult:
    window = period.text if isinstance(period, Period) else (period or "")
    return ItemResult(item, status, Evidence(figure, window, page), reason)


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%" if share < 0.1 else f"{100 * share:.0f}%"


def _num(value: float | None) -> str:
    """A metric value for people: 0.355, 16.08, 1,234."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _no_period(item: ChecklistItem, page: str, what: str = "predictions") -> ItemResult:
    return _result(item, ItemStatus.UNKNOWN, f"No {what} to check yet.", "no data", None, page)


# --------------------------------------------------------------------------- data


def check_schema(
    item: ChecklistItem,
    sample: SchemaSample | None,
    features: Mapping[str, str],
    period: Period | None,
    numeric_share: float = 0.9,
) -> ItemResult:
    """Every baseline feature arrives, numeric ones as numbers, and no unknown feature appears.

    ``features`` maps each baseline feature to "numeric" or "categorical"; a numeric
    feature fails when more than ``1 - numeric_share`` of its sampled values are not numbers.
    """
    if sample is None or sample.n_rows == 0 or period is None:
        return _no_period(item, "Drift")
    absent = [f for f in features if sample.present.get(f, 0) == 0]
    changed = [
        f
        for f, kind in features.items()
        if kind == "numeric"
        and sample.values.get(f, 0)
        and sample.non_numeric.get(f, 0) / sample.values[f] > 1 - numeric_share
    ]
    extra = sorted(sample.extra, key=lambda k: (-sample.extra[k], k))
    figure = f"{sample.n_rows:,} sampled rows, {len(features)} baseline features"
    problems = []
    if absent:
        problems.append(f"missing from every row: {_listed(absent)}")
    if changed:
        problems.append(f"text where the baseline has numbers: {_listed(changed)}")
    if extra:
        problems.append(f"features the baseline lacks: {_listed(extra)}")
    if problems:
        return _result(
            item,
            ItemStatus.FAIL,
            "Live rows do not match the baseline (" + "; ".join(problems) + ").",
            figure,
            period,
            "Drift",
        )
    return _result(
        item,
        ItemStatus.PASS,
        f"All {len(features)} baseline features arrive with their types, and no others.",
        figure,
        period,
        "Drift",
    )


def check_missing(
    item: ChecklistItem,
    quality: Sequence[ColumnQuality],
    features: Sequence[str],
    margin: float,
    period: Period | None,
) -> ItemResult:
    """No feature's missing share exceeds the baseline's by more than ``margin``."""
    rows = [q for q in quality if q.column in features]
    if period is None or not rows or all(q.n_rows == 0 for q in rows):
        return _no_period(item, "Drift")
    worse = sorted(
        (q for q in rows if q.n_rows and q.missing_share > q.missing_share_baseline + margin),
        key=lambda q: q.missing_share_baseline - q.missing_share,
    )
    worst = max(rows, key=lambda q: q.missing_share - q.missing_share_baseline)
    if worse:
        listed = [
            f"{q.column} {_pct(q.missing_share)} (baseline {_pct(q.missing_share_baseline)})" for q in worse
        ]
        return _result(
            item,
            ItemStatus.FAIL,
            f"Missing more often than in the baseline: {_listed(listed)}.",
            f"{len(worse)} of {len(rows)} features over the baseline + {_pct(margin)}",
            period,
            "Drift",
        )
    figure = (
        f"largest rise {worst.column}: {_pct(worst.missing_share)} vs {_pct(worst.missing_share_baseline)} "
        f"(allowed + {_pct(margin)})"
    )
    return _result(
        item,
        ItemStatus.PASS,
        f"All {len(rows)} features are missing no more often than in the baseline (+ {_pct(margin)}).",
        figure,
        period,
        "Drift",
    )


def check_domain(
    item: ChecklistItem,
    quality: Sequence[ColumnQuality],
    features: Sequence[str],
    out_of_range: float,
    unseen: float,
    period: Period | None,
) -> ItemResult:
    """Numeric values stay within the baseline's range and categories within its categories."""
    rows = [q for q in quality if q.column in features]
    if period is None or not rows or all(q.n_rows == 0 for q in rows):
        return _no_period(item, "Drift")
    problems = []
    for q in rows:
        if q.out_of_range_share is not None and q.out_of_range_share > out_of_range:
            problems.append(f"{q.column}: {_pct(q.out_of_range_share)} outside the baseline range")
        if q.unseen_share is not None and q.unseen_share > unseen:
            problems.append(f"{q.column}: {_pct(q.unseen_share)} unseen categories")
    limits = f"limits {_pct(out_of_range)} out of range, {_pct(unseen)} unseen"
    if problems:
        return _result(
            item,
            ItemStatus.FAIL,
            f"Values outside the baseline's domain: {_listed(problems)}.",
            f"{len(problems)} feature(s) over the {limits}",
            period,
            "Drift",
        )
    return _result(
        item,
        ItemStatus.PASS,
        f"All {len(rows)} features stay within the baseline's ranges and categories.",
        limits,
        period,
        "Drift",
    )


def drift_period(now: DriftNow) -> Period | None:
    """The latest window a drift verdict judged, as a check period."""
    return Period(now.start, now.end) if now.start is not None and now.end is not None else None


def column_since(column: ColumnNow, now: DriftNow) -> str:
    """A drifting column with its run: "amount since 7 Apr 2026 (8 weeks)"."""
    if not column.drifting or column.since is None or now.end is None:
        return column.column
    return (
        f"{column.column} since {day_label(column.since)} ({run_length(column.since, now.end, now.window)})"
    )


def _drift_figure(column: ColumnNow) -> str:
    return f"{column.column}: {column.explanation}"


def check_feature_drift(item: ChecklistItem, now: DriftNow | None, features: Sequence[str]) -> ItemResult:
    """No baseline feature drifts in the latest complete window (the Drift page's "drifting now")."""
    period = drift_period(now) if now is not None else None
    if now is None or period is None:
        return _no_period(item, "Drift")
    columns = [c for c in now.columns if c.column in features and c.analyzed]
    if not columns:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No feature could be analyzed for drift.",
            "no analyzable feature",
            period,
            "Drift",
        )
    drifted = [c for c in columns if c.drifting]
    if drifted:
        return _result(
            item,
            ItemStatus.FAIL,
            f"{len(drifted)} of {len(columns)} features drifting in {now.period}: "
            f"{_listed([column_since(c, now) for c in drifted])}.",
            _drift_figure(drifted[0]),
            period,
            "Drift",
        )
    return _result(
        item,
        ItemStatus.PASS,
        f"None of {len(columns)} features drifting in {now.period}.",
        _drift_figure(columns[0]),
        period,
        "Drift",
    )


def check_label_coverage(
    item: ChecklistItem, n_rows: int, n_labelled: int, minimum: float, period: Period | None
) -> ItemResult:
    """At least ``minimum`` of the predictions old enough to have a label have one."""
    if period is None or n_rows == 0:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No predictions old enough to expect labels yet.",
            "no data",
            period,
            "Performance",
        )
    share = n_labelled / n_rows
    figure = f"{n_labelled:,} of {n_rows:,} predictions labelled ({_pct(share)}; needs {_pct(minimum)})"
    if share >= minimum:
        return _result(
            item, ItemStatus.PASS, f"{_pct(share)} of predictions have labels.", figure, period, "Performance"
        )
    return _result(
        item,
        ItemStatus.FAIL,
        f"Only {_pct(share)} of predictions have labels; at least {_pct(minimum)} are "
        "needed to measure performance.",
        figure,
        period,
        "Performance",
    )


# --------------------------------------------------------------------------- model


def _window_text(start: datetime, criterion: Criterion) -> str:
    return f"{criterion.window} from {start:%Y-%m-%d}"


# A criterion track, the window its evidence shows, and how many windows were judged.
_JudgedTrack = tuple[CriterionTrack, tuple[datetime, CriterionResult], int]


def _unjudged_reason(unjudged: Sequence[CriterionTrack]) -> str:
    """Why criteria have no judged window, in the words that fit each: labels, latency, or time."""
    metrics = [(t.criterion.metric, t.criterion.text) for t in unjudged]
    labels = [text for metric, text in metrics if metric not in OPERATIONS_METRICS]
    latency = [
        text for metric, text in metrics if metric in OPERATIONS_METRICS and metric.startswith("latency_")
    ]
    other = [
        text for metric, text in metrics if metric in OPERATIONS_METRICS and not metric.startswith("latency_")
    ]
    parts = []
    if labels:
        parts.append(f"Not enough labels yet to judge: {_listed(labels)}.")
    if latency:
        parts.append(
            f"No latency is logged to judge: {_listed(latency)} (log latency_ms with each prediction)."
        )
    if other:
        parts.append(f"No complete window yet to judge: {_listed(other)}.")
    return " ".join(parts)


def check_criteria(item: ChecklistItem, tracks: Sequence[CriterionTrack], n_windows: int) -> ItemResult:
    """Every criterion passes in its newest ``n_windows`` complete windows with enough labels.

    A failure anywhere fails the item; a criterion never judged (too few labels) leaves it
    unknown, because an unmeasured criterion is not a met one.
    """
    if not tracks:
        return _result(
            item, ItemStatus.UNKNOWN, "The model has no success criteria.", "no criteria", None, "Settings"
        )
    failing: list[_JudgedTrack] = []
    passing: list[_JudgedTrack] = []
    unjudged: list[CriterionTrack] = []
    for track in tracks:
        judged = track.judged_windows[-n_windows:]
        if not judged:
            unjudged.append(track)
            continue
        bad = [(start, r) for start, r in judged if r.status == CriterionStatus.FAIL]
        (failing if bad else passing).append((track, bad[-1] if bad else judged[-1], len(judged)))
    if failing:
        track, (start, r), _ = failing[0]
        figure = (
            f"{track.criterion.metric} {_num(r.value)} vs {track.criterion.comparison} "
            f"{track.criterion.threshold:g} ({r.n:,} labels)"
        )
        names = [
            f"{t.criterion.text} ({_num(res.value)} in the {_window_text(s, t.criterion)})"
            for t, (s, res), _ in failing
        ]
        return _result(
            item,
            ItemStatus.FAIL,
            f"{len(failing)} of {len(tracks)} criteria fail: {_listed(names)}.",
            figure,
            _window_text(start, track.criterion),
            "Performance",
        )
    if unjudged:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            _unjudged_reason(unjudged),
            f"{len(unjudged)} of {len(tracks)} criteria without a judged window",
            None,
            "Performance",
        )
    newest, newest_track = max(((start, t) for t, (start, _), _ in passing), key=lambda st: st[0])
    track, (start, r), _k = passing[0]
    figure = f"{track.criterion.metric} {_num(r.value)} vs {track.criterion.comparison} {track.criterion.threshold:g}"
    return _result(
        item,
        ItemStatus.PASS,
        f"All {len(tracks)} criteria pass in their newest judged windows (up to {n_windows} each).",
        figure,
        f"newest judged windows, up to the {_window_text(newest, newest_track.criterion)}",
        "Performance",
    )


def _majority_share(agg: m.MulticlassAggregate) -> float:
    counts = agg.array().sum(axis=1)
    return float(counts.max() / counts.sum()) if counts.sum() else 0.0


def check_trivial_baseline(
    item: ChecklistItem, task: str, quality: object, period: Period | None
) -> ItemResult:
    """The model beats a trivial baseline on the period's labelled predictions.

    Binary with scores: ROC AUC's lower 95% bound above 0.5 (a constant score); binary
    without: balanced accuracy above 0.5 (always one class); multiclass: accuracy's lower
    bound above the majority class's share; regression: R^2's lower bound above 0 (the mean).
    """
    if period is None:
        return _no_period(item, "Performance", "labelled predictions")
    if task == "binary" and isinstance(quality, m.BinaryAggregate):
        if quality.n_scored:
            value, bar, what = m.roc_auc_score(quality), 0.5, "a constant score (ROC AUC 0.5)"
        else:
            recall, specificity = m.recall_score(quality), m.specificity_score(quality)
            if recall.value is None or specificity.value is None:
                return _no_period(item, "Performance", "labelled predictions of both classes")
            balanced = (recall.value + specificity.value) / 2
            value = m.MetricValue("balanced_accuracy", balanced, None, None, quality.n, "point estimate")
            bar, what = 0.5, "always predicting one class (balanced accuracy 0.5)"
    elif task == "multiclass" and isinstance(quality, m.MulticlassAggregate):
        value, bar = m.accuracy_score(quality), _majority_share(quality)
        what = f"always predicting the most frequent class (accuracy {bar:.3f})"
    elif task == "regression" and isinstance(quality, m.RegressionAggregate):
        value, bar, what = m.r2_score(quality), 0.0, "predicting the mean (R² 0)"
    else:
        return _no_period(item, "Performance", "labelled predictions")
    if value.value is None:
        return _no_period(item, "Performance", "labelled predictions")
    low = value.lower if value.lower is not None else value.value
    interval = f" [{value.lower:.3f}, {value.upper:.3f}]" if value.lower is not None else ""
    figure = f"{value.name} {value.value:.3f}{interval} on {value.n:,} rows"
    if low > bar:
        return _result(item, ItemStatus.PASS, f"Beats {what}.", figure, period, "Performance")
    return _result(item, ItemStatus.FAIL, f"Does not clearly beat {what}.", figure, period, "Performance")


def _calibration_result(
    item: ChecklistItem, ece: m.MetricValue, max_ece: float, period: Period, what: str, figure_words: str
) -> ItemResult:
    """Pass when the calibration error is at most ``max_ece``; ``what`` names the outputs ("Scores")."""
    assert ece.value is not None
    figure = f"{figure_words} {ece.value:.3f} (at most {max_ece:g}) on {ece.n:,} rows"
    if ece.value <= max_ece:
        return _result(
            item, ItemStatus.PASS, f"{what} match the observed rates.", figure, period, "Performance"
        )
    return _result(
        item, ItemStatus.FAIL, f"{what} and observed rates disagree.", figure, period, "Performance"
    )


def _nothing_to_calibrate(item: ChecklistItem, period: Period, what: str) -> ItemResult:
    return ItemResult(
        item,
        ItemStatus.NOT_APPLICABLE,
        Evidence(f"no {what} logged", period.text, "Performance"),
        f"The model logs no {what}, so there is nothing to calibrate.",
    )


def _multiclass_calibration(
    item: ChecklistItem, quality: object, max_ece: float, period: Period | None
) -> ItemResult:
    if not isinstance(quality, m.MulticlassAggregate) or period is None:
        return _no_period(item, "Performance", "labelled predictions with class probabilities")
    if quality.n and not quality.n_with_probabilities:
        return _nothing_to_calibrate(item, period, "class probabilities")
    ece = m.macro_calibration_error(quality)
    if ece.value is None:
        return _no_period(item, "Performance", "labelled predictions with class probabilities")
    return _calibration_result(
        item, ece, max_ece, period, "Class probabilities", "mean per-class calibration error"
    )


def check_calibration(
    item: ChecklistItem,
    task: str,
    quality: object,
    max_ece: float,
    max_bias_share: float,
    period: Period | None,
) -> ItemResult:
    """Binary: expected calibration error at most ``max_ece``; regression: mean error within a share of the mean.

    Regression fails only when the bias exceeds ``max_bias_share`` of the mean label AND its
    95% interval excludes 0. Multiclass: the mean over classes of each class probability's
    calibration error at most ``max_ece``; not applicable when the log carries no class probabilities.
    """
    if task == "multiclass":
        return _multiclass_calibration(item, quality, max_ece, period)
    if task == "binary" and isinstance(quality, m.BinaryAggregate) and period is not None:
        if quality.n and not quality.n_scored:
            return _nothing_to_calibrate(item, period, "scores")
        ece = m.expected_calibration_error(quality)
        if ece.value is None:
            return _no_period(item, "Performance", "scored, labelled predictions")
        return _calibration_result(item, ece, max_ece, period, "Scores", "expected calibration error")
    if task == "regression" and isinstance(quality, m.RegressionAggregate) and period is not None:
        if quality.n < 2:
            return _no_period(item, "Performance", "labelled predictions")
        bias = quality.sum_error / quality.n
        variance = max(quality.sum_sq_error / quality.n - bias * bias, 0.0) * quality.n / (quality.n - 1)
        half = m.Z95 * (variance / quality.n) ** 0.5
        allowed = max_bias_share * abs(quality.mean_y)
        figure = (
            f"mean error {bias:+.3g} [{bias - half:+.3g}, {bias + half:+.3g}] against a mean label of "
            f"{quality.mean_y:.3g} (allowed ± {allowed:.3g})"
        )
        if abs(bias) > allowed and abs(bias) > half:
            side = "over" if bias > 0 else "under"
            return _result(
                item,
                ItemStatus.FAIL,
                f"Predictions {side}estimate on average.",
                figure,
                period,
                "Performance",
            )
        return _result(
            item, ItemStatus.PASS, "Predictions are unbiased on average.", figure, period, "Performance"
        )
    return _no_period(item, "Performance", "labelled predictions")


def check_score_stability(item: ChecklistItem, now: DriftNow | None, columns: Sequence[str]) -> ItemResult:
    """The model's outputs (score, prediction) do not drift in the latest complete window."""
    period = drift_period(now) if now is not None else None
    if now is None or period is None:
        return _no_period(item, "Drift")
    present = [now[name] for name in columns if name in {c.column for c in now.columns}]
    what = " and ".join(columns) if len(columns) > 1 else columns[0] if columns else "output"
    if not present:
        return _result(
            item, ItemStatus.UNKNOWN, f"No {what} distribution to compare.", "not profiled", period, "Drift"
        )
    analyzed = [c for c in present if c.analyzed]
    if not analyzed:
        note = present[0].latest.note if present[0].latest is not None else "no values in the window"
        return _result(
            item,
            ItemStatus.UNKNOWN,
            f"The {present[0].column} distribution could not be analyzed: {note}",
            "not analyzed",
            period,
            "Drift",
        )
    drifting = [c for c in analyzed if c.drifting]
    if drifting:
        names = " and ".join(c.column for c in drifting)
        return _result(
            item,
            ItemStatus.FAIL,
            f"The {names} distribution{'s' if len(drifting) > 1 else ''} drift{'' if len(drifting) > 1 else 's'} "
            f"from the baseline's in {now.period}: {'; '.join(column_since(c, now) for c in drifting)}.",
            _drift_figure(drifting[0]),
            period,
            "Drift",
        )
    names = " and ".join(c.column for c in analyzed)
    return _result(
        item,
        ItemStatus.PASS,
        f"The {names} distribution{'s match' if len(analyzed) > 1 else ' matches'} the baseline's in {now.period}.",
        _drift_figure(analyzed[0]),
        period,
        "Drift",
    )


def worse_beyond_margin(
    value: m.MetricValue | CriterionResult, reference: float, margin: float, direction: str
) -> bool:
    """True when ``value`` is worse than ``reference`` by more than ``margin`` (relative), interval included.

    >>> v = m.MetricValue("recall", 0.5, 0.45, 0.55, 400, "Wilson")
    >>> worse_beyond_margin(v, 0.9, 0.1, "higher"), worse_beyond_margin(v, 0.58, 0.1, "higher")
    (True, False)
    """
    if value.value is None:
        return False
    if direction == "higher":
        best = value.upper if value.upper is not None else value.value
        return best < reference - margin * abs(reference)
    best = value.lower if value.lower is not None else value.value
    return best > reference + margin * abs(reference)


def check_dev_gap(
    item: ChecklistItem,
    metric: str,
    development: m.MetricValue | None,
    production: m.MetricValue | None,
    margin: float,
    period: Period | None,
) -> ItemResult:
    """The primary metric in production is not worse than on the baseline by more than ``margin``."""
    if development is None or development.value is None:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            f"The baseline has no labels to measure {metric} in development.",
            "no development value",
            None,
            "Performance",
        )
    if production is None or production.value is None or period is None:
        return _no_period(item, "Performance", "labelled production predictions")
    direction = m.METRICS[metric].direction
    interval = f" [{production.lower:.3f}, {production.upper:.3f}]" if production.lower is not None else ""
    figure = (
        f"{metric} {production.value:.3f}{interval} in production vs {development.value:.3f} in development "
        f"(allowed {_pct(margin)} worse)"
    )
    if worse_beyond_margin(production, development.value, margin, direction):
        return _result(
            item,
            ItemStatus.FAIL,
            f"{metric} in production is clearly worse than in development.",
            figure,
            period,
            "Performance",
        )
    return _result(
        item,
        ItemStatus.PASS,
        f"{metric} in production is in line with development.",
        figure,
        period,
        "Performance",
    )


# --------------------------------------------------------------------------- operations


def check_outputs(
    item: ChecklistItem,
    operations: m.LatencyAggregate | None,
    unknown_classes: int,
    max_invalid_share: float,
    period: Period | None,
) -> ItemResult:
    """At most ``max_invalid_share`` of outputs are invalid (no prediction, score outside [0, 1], unknown class)."""
    if operations is None or operations.n == 0 or period is None:
        return _no_period(item, "Performance")
    invalid = operations.invalid + unknown_classes
    share = invalid / operations.n
    figure = (
        f"{invalid:,} invalid of {operations.n:,} predictions ({share:.3%}; at most {max_invalid_share:.2%})"
    )
    if share <= max_invalid_share:
        return _result(item, ItemStatus.PASS, "Outputs are valid.", figure, period, "Performance")
    parts = []
    if operations.invalid:
        parts.append(f"{operations.invalid:,} without a prediction or with a score outside 0-1")
    if unknown_classes:
        parts.append(f"{unknown_classes:,} predicting a class the baseline does not have")
    return _result(
        item, ItemStatus.FAIL, f"Invalid outputs: {'; '.join(parts)}.", figure, period, "Performance"
    )


def check_latency(
    item: ChecklistItem,
    operations: m.LatencyAggregate | None,
    slo_ms: float,
    source: str,
    period: Period | None,
) -> ItemResult:
    """p95 latency over the period is within the objective ``slo_ms``."""
    if operations is None or period is None or operations.n == 0:
        return _no_period(item, "Performance")
    p95 = m.latency_quantile(operations, 0.95)
    if p95.value is None:  # exactly when no row is timed
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No latency is logged (latency_ms), so it cannot be checked.",
            "no timed predictions",
            period,
            "Performance",
        )
    figure = f"p95 {p95.value:,.0f} ms (objective {slo_ms:,.0f} ms, {source}) on {p95.n:,} rows"
    if p95.value <= slo_ms:
        return _result(
            item, ItemStatus.PASS, "Latency is within its objective.", figure, period, "Performance"
        )
    return _result(item, ItemStatus.FAIL, "Latency is above its objective.", figure, period, "Performance")


def check_volume(
    item: ChecklistItem, daily: Sequence[tuple[date, int]], min_share: float, period: Period | None
) -> ItemResult:
    """No complete day of the period has fewer predictions than ``min_share`` of the median day."""
    if period is None or not daily:
        return _no_period(item, "Overview")
    counts = sorted(n for _, n in daily)
    median = (
        counts[len(counts) // 2]
        if len(counts) % 2
        else (counts[len(counts) // 2 - 1] + counts[len(counts) // 2]) / 2
    )
    gaps = [day for day, n in daily if n < min_share * median]
    figure = (
        f"{len(daily)} days, median {median:,.0f} predictions a day (a gap is under {_pct(min_share)} of it)"
    )
    if gaps:
        days = [f"{d:%Y-%m-%d}" for d in gaps]
        return _result(
            item,
            ItemStatus.FAIL,
            f"{len(gaps)} day(s) with (almost) no predictions: {_listed(days)}.",
            figure,
            period,
            "Overview",
        )
    return _result(item, ItemStatus.PASS, "Predictions were logged every day.", figure, period, "Overview")


def check_versions(item: ChecklistItem, n_rows: int, n_unversioned: int, period: Period | None) -> ItemResult:
    """Every prediction of the period names its model version."""
    if period is None or n_rows == 0:
        return _no_period(item, "Performance")
    figure = f"{n_rows - n_unversioned:,} of {n_rows:,} predictions carry a model version"
    if n_unversioned == 0:
        return _result(
            item,
            ItemStatus.PASS,
            "Every prediction records its model version.",
            figure,
            period,
            "Performance",
        )
    return _result(
        item,
        ItemStatus.FAIL,
        f"{n_unversioned:,} predictions have no model version.",
        figure,
        period,
        "Performance",
    )


# --------------------------------------------------------------------------- monitoring


def check_freshness(
    item: ChecklistItem, last_prediction: datetime | None, as_of: datetime, max_hours: float
) -> ItemResult:
    """The newest prediction is at most ``max_hours`` old."""
    if last_prediction is None:
        return _no_period(item, "Overview")
    hours = max((as_of - last_prediction).total_seconds() / 3600, 0.0)
    figure = (
        f"last prediction {last_prediction:%Y-%m-%d %H:%M} UTC, {hours:,.1f} h ago (at most {max_hours:g} h)"
    )
    if hours <= max_hours:
        return _result(item, ItemStatus.PASS, "Logs are fresh.", figure, "", "Overview")
    return _result(
        item, ItemStatus.FAIL, f"No prediction logged for {hours / 24:,.1f} days.", figure, "", "Overview"
    )


def check_criteria_defined(item: ChecklistItem, criteria: Sequence[Criterion]) -> ItemResult:
    """The model has its own stored success criteria, not just task defaults."""
    stored = [c for c in criteria if not c.is_default]
    if stored:
        return _result(
            item,
            ItemStatus.PASS,
            f"{len(stored)} criteria set for this model.",
            _listed([c.text for c in stored]),
            "",
            "Settings",
        )
    return _result(
        item, ItemStatus.FAIL, "Only the task's default criteria are in use.", "task defaults", "", "Settings"
    )


def check_performance_measured(
    item: ChecklistItem, tracks: Sequence[CriterionTrack], as_of: datetime, max_age_days: int
) -> ItemResult:
    """Every criterion that needs labels was judged on a window starting within ``max_age_days``."""
    labelled = [t for t in tracks if not t.criterion.is_operations]
    if not labelled:
        return _result(
            item,
            ItemStatus.FAIL,
            "No success criterion needs labels, so model quality is not measured.",
            "no label-based criterion",
            "",
            "Settings",
        )
    if not any(t.windows for t in labelled):
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No labelled predictions yet, so performance cannot be measured.",
            "no windows",
            "",
            "Performance",
        )
    oldest_allowed = as_of - timedelta(days=max_age_days)
    stale = []
    newest: list[datetime] = []
    for track in labelled:
        judged = track.latest_judged
        if judged is None or judged[0] < oldest_allowed:
            stale.append(track.criterion.text)
        else:
            newest.append(judged[0])
    figure = f"the newest judged window must start on or after {oldest_allowed:%Y-%m-%d}"
    if stale:
        return _result(
            item,
            ItemStatus.FAIL,
            f"Not judged on a recent window: {_listed(stale)}.",
            figure,
            "",
            "Performance",
        )
    return _result(
        item,
        ItemStatus.PASS,
        f"Every criterion was judged on a window from {min(newest):%Y-%m-%d} or later.",
        figure,
        "",
        "Performance",
    )


def check_regression(item: ChecklistItem, track: CriterionTrack | None, margin: float, k: int) -> ItemResult:
    """The newest judged window of the primary criterion is not worse than the ``k`` before it."""
    if track is None:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No label-based criterion to follow over time.",
            "no criterion",
            "",
            "Performance",
        )
    judged = track.judged_windows
    if len(judged) < 2:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "Fewer than two judged windows: nothing to compare yet.",
            f"{len(judged)} judged window(s)",
            "",
            "Performance",
        )
    (start, newest), earlier = judged[-1], [r.value for _, r in judged[-1 - k : -1] if r.value is not None]
    metric = track.criterion.metric
    reference = sum(earlier) / len(earlier)
    interval = f" [{newest.lower:.3f}, {newest.upper:.3f}]" if newest.lower is not None else ""
    figure = (
        f"{metric} {_num(newest.value)}{interval} vs {reference:.3f} on average over the {len(earlier)} "
        f"earlier window(s) (allowed {_pct(margin)} worse)"
    )
    window = _window_text(start, track.criterion)
    if worse_beyond_margin(newest, reference, margin, m.METRICS[metric].direction):
        return _result(
            item,
            ItemStatus.FAIL,
            f"{metric} fell in the newest judged window.",
            figure,
            window,
            "Performance",
        )
    return _result(
        item, ItemStatus.PASS, f"{metric} holds up against earlier windows.", figure, window, "Performance"
    )


def check_estimate(
    item: ChecklistItem,
    not_estimable: str,
    windows: Sequence[tuple[datetime, CriterionResult, m.MetricValue | None]],
) -> ItemResult:
    """In recent judged windows, the label-free estimate's interval overlaps the measured one.

    Disjoint intervals mean the model's outputs (or inputs, for a regression model's error
    estimate) no longer relate to its errors as they did on the baseline (concept drift), so
    the estimate cannot be trusted while labels are missing. ``not_estimable`` says why the
    model's logs cannot give an estimate at all ("" when they can).
    """
    if not_estimable:
        return ItemResult(
            item,
            ItemStatus.NOT_APPLICABLE,
            Evidence("nothing to estimate from", "", "Performance"),
            not_estimable,
        )
    usable = [
        (s, r, r.value, e, e.value)
        for s, r, e in windows
        if e is not None and e.value is not None and r.value is not None
    ]
    if not usable:
        return _result(
            item,
            ItemStatus.UNKNOWN,
            "No judged window has both a measured and an estimated value.",
            "nothing to compare",
            "",
            "Performance",
        )
    for start, measured, m_value, estimate, e_value in reversed(usable):
        m_lo = measured.lower if measured.lower is not None else m_value
        m_hi = measured.upper if measured.upper is not None else m_value
        e_lo = estimate.lower if estimate.lower is not None else e_value
        e_hi = estimate.upper if estimate.upper is not None else e_value
        if e_hi < m_lo or e_lo > m_hi:
            figure = (
                f"{measured.criterion.metric} measured {m_value:.3f} [{m_lo:.3f}, {m_hi:.3f}], "
                f"estimated {e_value:.3f} [{e_lo:.3f}, {e_hi:.3f}]"
            )
            return _result(
                item,
                ItemStatus.FAIL,
                "The estimate and the measured value disagree.",
                figure,
                _window_text(start, measured.criterion),
                "Performance",
            )
    start, measured, m_value, estimate, e_value = usable[-1]
    figure = f"{measured.criterion.metric} measured {m_value:.3f}, estimated {e_value:.3f}"
    return _result(
        item,
        ItemStatus.PASS,
        f"The estimate agrees with the labels in {len(usable)} judged window(s).",
        figure,
        _window_text(start, measured.criterion),
        "Performance",
    )


def primary_criterion(criteria: Sequence[Criterion]) -> Criterion | None:
    """The first criterion that needs labels: the metric the model's quality is followed by."""
    return next((c for c in criteria if not c.is_operations), None)


def latency_objective(criteria: Sequence[Criterion], configured: float | None) -> tuple[float, str]:
    """The p95 latency objective in ms and where it comes from (setting, criterion or default)."""
    if configured is not None:
        return float(configured), "checklist setting"
    criterion = next((c for c in criteria if c.metric == "latency_p95"), None)
    if criterion is not None:
        return criterion.threshold, "latency_p95 criterion" + (
            " (task default)" if criterion.is_default else ""
        )
    return DEFAULT_LATENCY_SLO_MS, "default"
