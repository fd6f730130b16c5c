"""Success criteria per model: parse, validate, store, remove, and judge one window's metric.

A criterion is a threshold on one registered metric (:data:`readiness.metrics.METRICS`) in
the metric's own direction (``>=`` for higher-is-better, ``<=`` for lower-is-better), judged
per window (day, week or month) and only when the window holds at least ``min_labels``
labelled rows. A window with too few labels, or without a value, is "insufficient data",
never a pass. Operations metrics (latency, volume, invalid rate) need no labels: for them
``min_labels`` counts predictions instead.

A model without stored criteria is judged against its task's :data:`DEFAULT_CRITERIA`, so a
new model is never without criteria.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from readiness.core.metrics import METRICS, LatencyAggregate, MetricValue, metrics_for_task
from readiness.core.status import CriterionStatus
from readiness.errors import CriterionError

COMPARISONS = (">=", "<=")
CRITERION_WINDOWS = ("day", "week", "month")
DEFAULT_MIN_LABELS = 100
OPERATIONS_METRICS = tuple(name for name, spec in METRICS.items() if spec.aggregates == (LatencyAggregate,))
EXAMPLE = "recall >= 0.8 per week, with at least 200 labels"

# Metrics whose values live in [0, 1] (proportions, areas, calibration errors) and R^2 (at
# most 1); every other metric is non-negative. A threshold outside its range is a mistake.
_UNIT_INTERVAL = frozenset(
    {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
        "specificity",
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
        "macro_f1",
        "weighted_f1",
        "invalid_rate",
    }
)
_AT_MOST_ONE = frozenset({"r2"})


@dataclass(frozen=True)
class Criterion:
    """A success criterion: ``metric comparison threshold`` per window, given enough labels."""

    id: int | None  # None for a task default
    metric: str
    comparison: str  # ">=" or "<="
    threshold: float
    window: str = "week"  # "day", "week" or "month"
    min_labels: int = 0
    is_default: bool = False

    @property
    def is_operations(self) -> bool:
        """True for latency, volume and invalid-rate criteria, whose minimum counts predictions."""
        return self.metric in OPERATIONS_METRICS

    @property
    def text(self) -> str:
        """Readable form, which :func:`parse_criterion` reads back.

        >>> Criterion(None, "recall", ">=", 0.8, "week", 200).text
        'recall >= 0.80 per week, with at least 200 labels'
        >>> Criterion(None, "latency_p95", "<=", 500.0, "day", 0).text
        'latency_p95 <= 500 ms per day'
        """
        spec = METRICS.get(self.metric)
        unit = f" {spec.unit}" if spec is not None and spec.unit else ""
        text = f"{self.metric} {self.comparison} {format_threshold(self.threshold)}{unit} per {self.window}"
        if self.min_labels > 0:
            text += f", with at least {self.min_labels} {'predictions' if self.is_operations else 'labels'}"
        return text

    def passes(self, value: float) -> bool:
        """True when ``value`` meets the threshold (NaN never does).

        >>> Criterion(None, "mae", "<=", 12.0).passes(11.5)
        True
        """
        return value >= self.threshold if self.comparison == ">=" else value <= self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "id": self.id,
            "metric": self.metric,
            "comparison": self.comparison,
            "threshold": self.threshold,
            "window": self.window,
            "min_labels": self.min_labels,
            "default": self.is_default,
            "text": self.text,
        }


@dataclass(frozen=True)
class CriterionResult:
    """One window judged against a criterion.

    ``status`` is pass, fail or insufficient data (:class:`CriterionStatus`); ``value``/``lower``/``upper`` are the
    metric and its 95% interval (None without a value); ``n`` is the count compared with
    ``min_labels`` (labelled rows, or predictions for operations metrics); ``reason`` says why.
    """

    criterion: Criterion
    status: CriterionStatus
    value: float | None
    lower: float | None
    upper: float | None
    n: int
    reason: str


def format_threshold(value: float) -> str:
    """A threshold as people write it: two decimals below 1, no trailing ".0" above.

    >>> [format_threshold(v) for v in (0.8, 0.005, 500.0, 12.5)]
    ['0.80', '0.005', '500', '12.5']
    """
    if abs(value) < 1 and round(value, 2) == value:
        return f"{value:.2f}"
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.6g}"


def _default(metric: str, comparison: str, threshold: float, min_labels: int) -> Criterion:
    return Criterion(None, metric, comparison, threshold, "week", min_labels, is_default=True)


_OPERATIONS_DEFAULTS = (_default("latency_p95", "<=", 500.0, 0), _default("invalid_rate", "<=", 0.01, 0))
DEFAULT_CRITERIA: dict[str, tuple[Criterion, ...]] = {
    "binary": (
        _default("roc_auc", ">=", 0.70, 100),
        _default("accuracy", ">=", 0.70, 100),
        _default("false_positive_rate", "<=", 0.10, 100),
        *_OPERATIONS_DEFAULTS,
    ),
    "multiclass": (
        _default("accuracy", ">=", 0.70, 100),
        _default("macro_f1", ">=", 0.60, 100),
        *_OPERATIONS_DEFAULTS,
    ),
    "regression": (_default("r2", ">=", 0.50, 100), *_OPERATIONS_DEFAULTS),
}


# --------------------------------------------------------------------------- parsing

_METRIC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_COMPARISON = re.compile(r"(>=|<=|=>|=<|≥|≤|==|=|>|<)\s*")
_NUMBER = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])\s*")
_WINDOW = re.compile(r"(?:per|each|every)\s+(\w+)|(daily|weekly|monthly)\b", re.IGNORECASE)
_MINIMUM = re.compile(
    r"\b(?:with\s+)?(?:at\s+least|min(?:imum)?(?:[\s_]labels)?)\s*[=:]?\s*(\S+?)"
    r"(?:\s+(?:labels|labelled rows|rows|predictions))?(?=[\s,;]|$)",
    re.IGNORECASE,
)
_ADVERBS = {"daily": "day", "weekly": "week", "monthly": "month"}
_CANONICAL_COMPARISON = {">=": ">=", "=>": ">=", "≥": ">=", "<=": "<=", "=<": "<=", "≤": "<="}


def parse_criterion(text: str, window: str = "week", min_labels: int | None = None) -> Criterion:
    """Read "metric >= threshold [per week] [min N]"; ``window``/``min_labels`` apply when the text is silent.

    Without a minimum, label metrics need ``DEFAULT_MIN_LABELS`` labels and operations metrics none.

    >>> parse_criterion("recall >= 0.8 weekly min 200").text
    'recall >= 0.80 per week, with at least 200 labels'
    >>> parse_criterion("latency_p95<=200").text
    'latency_p95 <= 200 ms per week'
    >>> parse_criterion("mae <= 12 per day", min_labels=50) == Criterion(None, "mae", "<=", 12.0, "day", 50)
    True
    """
    source = text if isinstance(text, str) else ""
    metric, rest = _read_metric(source)
    comparison, rest = _read_comparison(source, metric, rest)
    threshold, rest = _read_threshold(source, metric, rest)
    window, min_labels, rest = _read_options(source, rest, window, min_labels)
    if rest.strip(" ,;"):
        raise CriterionError(
            f"Cannot read {rest.strip(' ,;')!r} in criterion {source!r}: after the threshold "
            f"write 'per day|week|month' and 'with at least N labels', e.g. {EXAMPLE!r}."
        )
    if min_labels is None:
        min_labels = 0 if metric in OPERATIONS_METRICS else DEFAULT_MIN_LABELS
    return check_criterion(Criterion(None, metric, comparison, threshold, window, min_labels))


def _read_metric(source: str) -> tuple[str, str]:
    match = _METRIC.match(source)
    if match is None:
        raise CriterionError(f"Cannot read criterion {source!r}: start with a metric name, e.g. {EXAMPLE!r}.")
    name = match.group(1).lower()
    if name not in METRICS:
        raise CriterionError(_unknown_metric(name, tuple(METRICS)))
    return name, source[match.end() :]


def _read_comparison(source: str, metric: str, rest: str) -> tuple[str, str]:
    match = _COMPARISON.match(rest)
    found = match.group(1) if match else (rest.split() or ["nothing"])[0]
    if match is None or found not in _CANONICAL_COMPARISON:
        better = _better_comparison(metric)
        raise CriterionError(
            f"Criterion {source!r} has {found!r} where the comparison goes: write '>=' or '<=' "
            f"after the metric, e.g. '{metric} {better} ...'."
        )
    return _CANONICAL_COMPARISON[found], rest[match.end() :]


def _read_threshold(source: str, metric: str, rest: str) -> tuple[float, str]:
    match = _NUMBER.match(rest)
    if match is None:
        found = (rest.split() or ["nothing"])[0]
        raise CriterionError(
            f"The threshold of {source!r} is {found!r}, not a number: write e.g. {EXAMPLE!r}."
        )
    rest = rest[match.end() :]
    unit = METRICS[metric].unit
    if unit and rest.lower().startswith(unit) and not rest[len(unit) : len(unit) + 1].isalnum():
        rest = rest[len(unit) :]
    return float(match.group(1)), rest


def _read_options(source: str, rest: str, window: str, min_labels: int | None) -> tuple[str, int | None, str]:
    window_match = _WINDOW.search(rest)
    if window_match is not None:
        said = (window_match.group(1) or "").lower()
        window = _ADVERBS.get((window_match.group(2) or "").lower(), said.rstrip("s"))
        rest = rest[: window_match.start()] + " " + rest[window_match.end() :]
    minimum_match = _MINIMUM.search(rest)
    if minimum_match is not None:
        count = minimum_match.group(1)
        if not re.fullmatch(r"[-+]?\d+", count):
            raise CriterionError(
                f"The minimum in {source!r} is {count!r}, not a whole number: "
                "write e.g. 'with at least 200 labels' or 'min 200'."
            )
        min_labels = int(count)
        rest = rest[: minimum_match.start()] + " " + rest[minimum_match.end() :]
    return window, min_labels, rest


# --------------------------------------------------------------------------- validation


def check_criterion(criterion: Criterion, task: str | None = None) -> Criterion:
    """Return the criterion if it is usable (for ``task`` when given), else raise CriterionError."""
    _check_parts(
        criterion.metric,
        criterion.comparison,
        criterion.threshold,
        criterion.window,
        criterion.min_labels,
        task,
    )
    return criterion


def new_criterion(
    metric: str,
    comparison: str,
    threshold: float | None,
    window: str = "week",
    min_labels: int = 0,
    task: str | None = None,
) -> Criterion:
    """A criterion from form fields (the threshold may be empty), checked as :func:`check_criterion` does.

    >>> new_criterion("recall", ">=", 0.8, "week", 200).text
    'recall >= 0.80 per week, with at least 200 labels'
    """
    number = _check_parts(metric, comparison, threshold, window, min_labels, task)
    return Criterion(None, metric, comparison, number, window, min_labels)


MAX_MIN_LABELS = 1_000_000_000  # fits every backend's integer column, and more labels than a window holds


def _check_parts(
    metric: str, comparison: str, threshold: object, window: str, min_labels: object, task: str | None
) -> float:
    """Raise CriterionError for the first unusable part of a criterion; return its threshold."""
    if metric not in METRICS:
        raise CriterionError(_unknown_metric(metric, tuple(METRICS)))
    if task is not None and metric not in metrics_for_task(task):
        raise CriterionError(
            f"Metric {metric!r} does not apply to a {task} model. "
            f"Choose one of: {', '.join(metrics_for_task(task))}."
        )
    better = _better_comparison(metric)
    if comparison not in COMPARISONS:
        raise CriterionError(
            f"Comparison {comparison!r} is not supported: use '>=' or '<=' (for {metric}, '{better}')."
        )
    if comparison != better:
        direction = METRICS[metric].direction
        raise CriterionError(
            f"'{metric} {comparison} ...' asks for a {'lower' if better == '>=' else 'higher'} "
            f"{metric}, but {metric} is {direction}-is-better: use '{metric} {better} "
            f"{_shown(threshold)}' to require at {'least' if better == '>=' else 'most'} that value."
        )
    number = _check_threshold(metric, threshold)
    if window not in CRITERION_WINDOWS:
        raise CriterionError(
            f"Unknown window {window!r} for {metric}: choose one of "
            f"{', '.join(CRITERION_WINDOWS)} (e.g. 'per week')."
        )
    if (
        isinstance(min_labels, bool)
        or not isinstance(min_labels, int)
        or not 0 <= min_labels <= MAX_MIN_LABELS
    ):
        raise CriterionError(
            f"The minimum number of labels for {metric} is {min_labels!r}: use a whole number from 0 to "
            f"{MAX_MIN_LABELS:,} (0 judges every window, however few labels)."
        )
    return number


def _check_threshold(metric: str, threshold: object) -> float:
    if threshold is None or isinstance(threshold, bool) or not isinstance(threshold, int | float):
        found = "missing" if threshold is None else f"{threshold!r}, not a number"
        raise CriterionError(f"The threshold for {metric} is {found}: enter a number, e.g. {EXAMPLE!r}.")
    if not math.isfinite(threshold):
        raise CriterionError(f"The threshold for {metric} is {threshold}: enter a finite number.")
    low = None if metric in _AT_MOST_ONE else 0.0
    high = 1.0 if metric in _UNIT_INTERVAL or metric in _AT_MOST_ONE else None
    if (low is not None and threshold < low) or (high is not None and threshold > high):
        span = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else (f"at most {high:g}" if high is not None else f"at least {low:g}")
        )
        percent = metric in _UNIT_INTERVAL and 1 < threshold <= 100
        hint = f" (for {threshold:g}% write {threshold / 100:g})" if percent else ""
        raise CriterionError(
            f"The threshold for {metric} is {threshold:g}, but {metric} is always {span}: "
            f"enter a threshold in that range{hint}."
        )
    return threshold


def _better_comparison(metric: str) -> str:
    return ">=" if METRICS[metric].direction == "higher" else "<="


def _shown(threshold: Any) -> str:
    usable = isinstance(threshold, int | float) and math.isfinite(threshold)
    return format_threshold(threshold) if usable else "..."


def _unknown_metric(name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    return f"Unknown metric {name!r}. {hint}Known metrics: {', '.join(known)}."


# --------------------------------------------------------------------------- evaluation


def evaluate_criterion(criterion: Criterion, value: MetricValue, n_labelled: int) -> CriterionResult:
    """Judge one window: "insufficient data" without a value or below ``min_labels``, else pass or fail.

    ``n_labelled`` is the window's labelled rows; for operations metrics (latency, volume,
    invalid rate) pass the window's predictions instead, as their minimum counts rows.

    >>> c = Criterion(None, "recall", ">=", 0.8, "week", 200)
    >>> evaluate_criterion(c, MetricValue("recall", 0.85, 0.8, 0.9, 150, "Wilson"), 400).status.label
    'pass'
    >>> evaluate_criterion(c, MetricValue("recall", 0.85, 0.8, 0.9, 50, "Wilson"), 120).status.label
    'insufficient data'
    """
    if value.name != criterion.metric:
        raise ValueError(f"Criterion on {criterion.metric!r} evaluated with a {value.name!r} value.")
    counted = "predictions" if criterion.is_operations else "labels"
    if value.value is None:
        reason = f"no value: {value.note}" if value.note else "no value"
        return CriterionResult(criterion, CriterionStatus.INSUFFICIENT, None, None, None, n_labelled, reason)
    if n_labelled < criterion.min_labels:
        reason = (
            f"only {n_labelled} {counted} in the window; the criterion needs at least {criterion.min_labels}"
        )
        return CriterionResult(
            criterion, CriterionStatus.INSUFFICIENT, value.value, value.lower, value.upper, n_labelled, reason
        )
    passed = criterion.passes(value.value)
    reason = (
        f"{value.value:.4g} {'meets' if passed else 'misses'} "
        f"{criterion.comparison} {format_threshold(criterion.threshold)}"
    )
    if (
        value.lower is not None
        and value.upper is not None
        and value.lower <= criterion.threshold <= value.upper
    ):
        reason += "; the 95% interval includes the threshold, so more labels may change the verdict"
    return CriterionResult(
        criterion,
        CriterionStatus.PASS if passed else CriterionStatus.FAIL,
        value.value,
        value.lower,
        value.upper,
        n_labelled,
        reason,
    )


def logged_defaults(criteria: Sequence[Criterion], timed_rows: int) -> tuple[Criterion, ...]:
    """Task defaults that judge only what the log records: no latency default without a logged latency.

    Criteria the owner set are kept as they are (a missing latency then shows as such).

    >>> [c.metric for c in logged_defaults(DEFAULT_CRITERIA["regression"], timed_rows=0)]
    ['r2', 'invalid_rate']
    """
    return tuple(
        c for c in criteria if not (c.is_default and c.metric.startswith("latency_") and timed_rows == 0)
    )
