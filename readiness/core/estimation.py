"""Confidence-based performance estimation (CBPE) for binary classifiers without labels.

While labels are delayed, a calibrated score says how likely each prediction is to be
right, so the confusion matrix of a window can be *expected* from its scores alone (the
idea NannyML calls CBPE):

1. :func:`fit_calibrator` learns ``P(label = positive | score)`` on the baseline's labelled
   rows: isotonic regression with each block's mean shrunk to ``(k + 1/2) / (m + 1)``
   (against the estimator's bias toward 0 and 1 at the ends), or identity, with a note, when
   the baseline has fewer than ``MIN_CALIBRATION_ROWS`` labelled rows or one class.
   Estimates are only as good as the assumption that this relation still holds in
   production: covariate shift (the score distribution moves) is handled, concept shift
   (the relation itself moves) is invisible without labels.
2. :func:`estimation_aggregate` (or :func:`aggregate_window` from raw scores) turns a
   window's calibrated probabilities ``p_i`` and logged predicted classes into a small
   mergeable :class:`EstimationAggregate`: the expected confusion cells ``E[TP] = sum p`` and
   ``E[FP] = sum (1 - p)`` over predicted positives, ``E[FN] = sum p`` and
   ``E[TN] = sum (1 - p)`` over predicted negatives, the variances ``sum p (1 - p)`` of those
   sums, and per predicted class a histogram over ``bins`` equal bins of ``[0, 1]`` holding
   per bin the row count, ``sum p``, ``sum p (1 - p)`` and the sum of the calibrator's
   standard errors.
3. :func:`estimate_from_aggregate` gives a :class:`~readiness.core.metrics.MetricValue` per metric in ``METRICS``.
   The value is the metric of the expected confusion matrix. The interval says where the
   *realized* metric will fall once the labels arrive: ``value +- z * (se_label +
   se_calibrator)``, clipped to ``[0, 1]``, from two analytic (not bootstrap) standard
   errors:

   * label noise: given the scores, labels are independent ``Bernoulli(p_i)``, so the
     realized TP and FN counts are independent Poisson-binomial sums with the stored
     variances. Accuracy and precision are linear in them (exact variance); recall, F1,
     false positive rate and specificity are ratios and get the delta method;
   * calibrator error: each isotonic block's probability is a mean of ``m`` baseline labels
     with standard error ``sqrt(p (1 - p) / m)``; rows in one histogram bin share that
     error fully, bins are independent. The identity calibrator has no such term (its note
     says it assumes a calibrated model). Every window scored with one calibrator shares
     its error, so the two half-widths are added rather than combined in quadrature: for
     all but about 5% of baselines the interval then covers the realized metric in at
     least 95% of windows, not just 95% of (baseline, window) pairs on average.

   ROC AUC is the *expected* AUC: every row counts as positive with weight ``p`` and as
   negative with weight ``1 - p``; pairs are ranked by calibrated probability (rows in one
   bin tie and count 1/2); self-pairs are removed; AUC = ``E[U] / E[N1 * N0]``. Its label
   variance is the delta method over the per-bin positive counts (independent, mean
   ``sum p``, variance ``sum p (1 - p)``) plus the Mann-Whitney null variance of the order
   inside each bin (rows in one bin are exchangeable); its calibrator term goes through the
   same gradient. Expected AUC is computed on the calibrated scale: isotonic steps tie
   scores that the raw ranking separates, which the within-bin term accounts for.

>>> cal = fit_calibrator([0.2, 0.8], [0, 1], positive_class=1)  # too small: identity
>>> cal.method
'identity'
>>> est = estimate_window(cal, [0.9, 0.8, 0.3, 0.1], [True, True, False, False])
>>> round(est["accuracy"].value, 3)
0.825
>>> round(est["precision"].value, 3), round(est["recall"].value, 3)
(0.85, 0.81)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from readiness.core.lazy import lazy_module
from readiness.core.metrics import MetricValue, float_tuple, int_tuple
from readiness.errors import EstimationError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

DEFAULT_BINS = 200
DEFAULT_LEVEL = 0.95
MIN_CALIBRATION_ROWS = 200
METRICS = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "specificity", "roc_auc")
INSUFFICIENT = "insufficient data: the window has no rows"
METHOD_CONFUSION = (
    "CBPE expected confusion matrix; normal interval from the Poisson-binomial label variance "
    "(delta method for ratios) plus the calibrator's standard error"
)
METHOD_AUC = (
    "CBPE expected ROC AUC (fractional labels, binned calibrated probabilities); normal interval "
    "by the delta method plus within-bin order and calibrator terms"
)


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class ScoreCalibrator:
    """A monotone map from a model score to ``P(label = positive | score)``.

    ``method`` is ``"isotonic"`` (piecewise linear through the thresholds ``x``/``y`` and
    flat outside them, like sklearn's ``IsotonicRegression(out_of_bounds="clip")``, with the
    block means shrunk; ``sd`` is the standard error of ``y`` at each threshold) or
    ``"identity"`` (scores are used as probabilities; ``note`` says why).
    """

    method: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    sd: tuple[float, ...] = ()
    n_baseline: int = 0
    n_positive: int = 0
    note: str = ""

    def transform(self, scores: Any) -> np.ndarray:
        """Calibrated probabilities of the positive class for scores in [0, 1]."""
        values = _probabilities(scores, "score")
        if self.method == "identity":
            return values
        return np.clip(np.interp(values, np.asarray(self.x), np.asarray(self.y)), 0.0, 1.0)

    def standard_error(self, scores: Any) -> np.ndarray:
        """Standard error of each calibrated probability (zeros for the identity calibrator)."""
        values = _probabilities(scores, "score")
        if self.method == "identity":
            return np.zeros_like(values)
        return np.interp(values, np.asarray(self.x), np.asarray(self.sd))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "sd": list(self.sd),
            "n_baseline": self.n_baseline,
            "n_positive": self.n_positive,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreCalibrator:
        """Read back what ``to_dict`` wrote."""
        try:
            calibrator = cls(
                method=str(data["method"]),
                x=_float_tuple(data["x"]),
                y=_float_tuple(data["y"]),
                sd=_float_tuple(data["sd"]),
                n_baseline=int(data["n_baseline"]),
                n_positive=int(data["n_positive"]),
                note=str(data.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad_dict("calibrator", exc) from exc
        _check_calibrator(calibrator)
        return calibrator


def _check_calibrator(cal: ScoreCalibrator) -> None:
    if cal.method not in ("isotonic", "identity"):
        raise EstimationError(
            f"Stored calibrator has unknown method {cal.method!r}; expected 'isotonic' or 'identity'. "
            "Refit the calibrator on the baseline."
        )
    if cal.method == "identity":
        return
    x, y, sd = np.asarray(cal.x), np.asarray(cal.y), np.asarray(cal.sd)
    shapes_ok = len(x) == len(y) == len(sd) >= 1
    if not (shapes_ok and np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0) and np.all((y >= 0) & (y <= 1))):
        raise EstimationError(
            f"Stored isotonic calibrator is malformed ({len(x)} x, {len(y)} y and {len(sd)} sd values; "
            "x must increase, y must not decrease and lie in [0, 1]). Refit the calibrator on the baseline."
        )


def fit_calibrator(scores: Any, labels: Any, positive_class: Any) -> ScoreCalibrator:
    """Fit ``P(label = positive_class | score)`` on the baseline's labelled rows."""
    values = _probabilities(scores, "baseline score")
    label_series = pd.Series(np.asarray(labels, dtype=object).ravel())
    if len(label_series) != len(values):
        raise EstimationError(
            f"Baseline has {len(values)} scores but {len(label_series)} labels; "
            "pass one label per score (missing labels as None)."
        )
    known = ~label_series.isna().to_numpy()
    values, label_series = values[known], label_series[known]
    positive = _positive_mask(label_series, positive_class)
    n, n_pos = len(values), int(positive.sum())
    reason = _identity_reason(n, n_pos, positive_class)
    if reason:
        note = f"{reason}; scores are used as probabilities, so estimates assume the model is calibrated"
        return ScoreCalibrator("identity", n_baseline=n, n_positive=n_pos, note=note)
    return _fit_isotonic(values, positive)


def _fit_isotonic(values: np.ndarray, positive: np.ndarray) -> ScoreCalibrator:
    """Isotonic regression with each block's mean shrunk to ``(k + 1/2) / (m + 1)``.

    Plain isotonic blocks at the ends are biased toward 0 and 1 (the "spiking" of the
    isotonic estimator), which would overstate the estimated accuracy and AUC; the shrinkage
    removes most of that bias. Shrunk means are pooled again if they break monotonicity.
    """
    x, y = isotonic_steps(values, positive.astype(float))
    levels, block, size = np.unique(np.interp(values, x, y), return_inverse=True, return_counts=True)
    hits = np.bincount(block, weights=positive.astype(float), minlength=len(levels))
    shrunk = _increasing((hits + 0.5) / (size + 1.0), size.astype(float))
    sd = _pooled_standard_errors(shrunk, size)
    where = _nearest(levels, y)
    return ScoreCalibrator(
        "isotonic",
        _floats(x),
        _floats(shrunk[where]),
        _floats(sd[where]),
        n_baseline=len(values),
        n_positive=int(positive.sum()),
    )


def isotonic_steps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The increasing least-squares fit of y on x in [0, 1], as the points where it steps (what scikit-learn keeps).

    Equal x values are pooled first (their mean y, weighted by how many); ``np.interp`` over
    the points returned predicts as ``IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")``
    does. Our own pool-adjacent-violators is used instead of scikit-learn's estimator: same
    fit, without importing scikit-learn (0.8 s) or SciPy's optimizers on every baseline upload.

    >>> isotonic_steps(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.0, 1.0, 0.0, 1.0]))
    (array([0.1, 0.2, 0.3, 0.4]), array([0. , 0.5, 0.5, 1. ]))
    """
    unique_x, group, counts = np.unique(x, return_inverse=True, return_counts=True)
    weights = counts.astype(float)
    fitted = _increasing(np.bincount(group, weights=y, minlength=len(unique_x)) / weights, weights)
    keep = np.ones(len(fitted), dtype=bool)  # a flat run keeps its two ends: interp is unchanged
    keep[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
    return unique_x[keep], fitted[keep]


def _increasing(means: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted pool-adjacent-violators fit of ``means`` (in order), clipped to [0, 1].

    One pass over a stack of pooled blocks: a value below the block before it is pooled with
    it (their weighted mean) until the blocks increase. Written here because importing SciPy's
    (``scipy.optimize``) costs a baseline upload more than the fit over 10,000 distinct scores.

    >>> _increasing(np.array([0.2, 0.6, 0.4, 0.9]), np.array([1.0, 1.0, 3.0, 1.0])).round(12).tolist()
    [0.2, 0.45, 0.45, 0.9]
    """
    values: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for mean, weight in zip(means.tolist(), weights.tolist(), strict=True):
        value, total, size = mean, weight, 1
        while values and values[-1] > value:
            before, before_total = values.pop(), totals.pop()
            value = (before * before_total + value * total) / (before_total + total)
            total += before_total
            size += sizes.pop()
        values.append(value)
        totals.append(total)
        sizes.append(size)
    return np.clip(np.repeat(np.asarray(values, dtype=float), sizes), 0.0, 1.0)


def _nearest(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the level nearest each value (levels sorted)."""
    right = np.clip(np.searchsorted(levels, values), 0, len(levels) - 1)
    left = np.clip(right - 1, 0, None)
    return np.where(np.abs(levels[left] - values) <= np.abs(levels[right] - values), left, right)


def _pooled_standard_errors(means: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Binomial standard error ``sqrt(p (1 - p) / m)`` of each block, blocks of equal mean pooled."""
    _, group = np.unique(means, return_inverse=True)
    pooled_size = np.bincount(group, weights=size)[group]
    return np.sqrt(means * (1.0 - means) / pooled_size)


def _identity_reason(n: int, n_pos: int, positive_class: Any) -> str:
    if n < MIN_CALIBRATION_ROWS:
        return (
            f"baseline has {n} labelled rows, fewer than the {MIN_CALIBRATION_ROWS} needed to calibrate "
            "(upload a larger labelled baseline)"
        )
    if n_pos in (0, n):
        which = "positive" if n_pos == n else "negative"
        return (
            f"baseline labels are all {which} (positive class {positive_class!r}), so calibration cannot be "
            "learned (upload a baseline with both classes)"
        )
    return ""


def _positive_mask(labels: pd.Series, positive_class: Any) -> np.ndarray:
    exact = (labels == positive_class).to_numpy(dtype=bool)
    as_text = (labels.astype(str) == str(positive_class)).to_numpy(dtype=bool)
    positive = exact | as_text
    others = sorted({str(v) for v in labels[~positive]})
    if len(others) > 1:
        raise EstimationError(
            f"Baseline labels are not binary around positive class {positive_class!r}: found other labels "
            f"{others[:5]}. Map labels to the positive class and one negative class."
        )
    return positive


# --------------------------------------------------------------------------- aggregate


@dataclass(frozen=True)
class EstimationAggregate:
    """Mergeable sufficient statistics of one window for label-free estimation.

    Histograms are pairs: index 0 for rows predicted negative, 1 for rows predicted positive.
    Bin ``k`` of ``bins`` holds calibrated probabilities in ``[k / bins, (k + 1) / bins)``
    (1.0 in the last bin); ``hist_p``, ``hist_var`` and ``hist_sd`` hold ``sum p``,
    ``sum p (1 - p)`` and the sum of the calibrator's standard errors.
    """

    n: int
    n_predicted_positive: int
    expected_tp: float
    expected_fp: float
    expected_fn: float
    expected_tn: float
    var_predicted_positive: float
    var_predicted_negative: float
    hist_count: tuple[tuple[int, ...], tuple[int, ...]]
    hist_p: tuple[tuple[float, ...], tuple[float, ...]]
    hist_var: tuple[tuple[float, ...], tuple[float, ...]]
    hist_sd: tuple[tuple[float, ...], tuple[float, ...]]

    @classmethod
    def empty(cls, bins: int = DEFAULT_BINS) -> EstimationAggregate:
        """The identity of merge for ``bins`` histogram bins."""
        ints, floats = ((0,) * bins,) * 2, ((0.0,) * bins,) * 2
        return cls(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, ints, floats, floats, floats)

    @property
    def bins(self) -> int:
        """Number of histogram bins on [0, 1]."""
        return len(self.hist_count[0])

    @property
    def n_predicted_negative(self) -> int:
        """Rows predicted negative."""
        return self.n - self.n_predicted_positive

    @property
    def var_tp(self) -> float:
        """Variance of the realized TP count (equal to that of FP, since TP + FP is fixed)."""
        return self.var_predicted_positive

    @property
    def var_fn(self) -> float:
        """Variance of the realized FN count (equal to that of TN, since FN + TN is fixed)."""
        return self.var_predicted_negative

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        scalars = {name: getattr(self, name) for name in _SCALARS}
        return scalars | {name: [list(h) for h in getattr(self, name)] for name in _HISTOGRAMS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EstimationAggregate:
        """Read back what ``to_dict`` wrote."""
        try:
            agg = cls(
                n=int(data["n"]),
                n_predicted_positive=int(data["n_predicted_positive"]),
                expected_tp=float(data["expected_tp"]),
                expected_fp=float(data["expected_fp"]),
                expected_fn=float(data["expected_fn"]),
                expected_tn=float(data["expected_tn"]),
                var_predicted_positive=float(data["var_predicted_positive"]),
                var_predicted_negative=float(data["var_predicted_negative"]),
                hist_count=_pair(data["hist_count"], int_tuple),
                hist_p=_pair(data["hist_p"], float_tuple),
                hist_var=_pair(data["hist_var"], float_tuple),
                hist_sd=_pair(data["hist_sd"], float_tuple),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad_dict("estimation aggregate", exc) from exc
        _check_aggregate(agg)
        return agg


_SCALARS = (
    "n",
    "n_predicted_positive",
    "expected_tp",
    "expected_fp",
    "expected_fn",
    "expected_tn",
    "var_predicted_positive",
    "var_predicted_negative",
)
_HISTOGRAMS = ("hist_count", "hist_p", "hist_var", "hist_sd")
_T = TypeVar("_T")


def _pair(value: Any, convert: Callable[[Any], tuple[_T, ...]]) -> tuple[tuple[_T, ...], tuple[_T, ...]]:
    first, second = value
    return convert(first), convert(second)


def _check_aggregate(agg: EstimationAggregate) -> None:
    lengths = {len(h) for name in _HISTOGRAMS for h in getattr(agg, name)}
    counts_ok = sum(map(sum, agg.hist_count)) == agg.n and sum(agg.hist_count[1]) == agg.n_predicted_positive
    if len(lengths) != 1 or 0 in lengths or not counts_ok:
        raise EstimationError(
            "Stored estimation aggregate is inconsistent (histograms of different lengths, or counts that "
            f"do not add up to n={agg.n}). Recompute the window's aggregate from its rows."
        )


def estimation_aggregate(
    calibrated: Any,
    predicted_positive: Any,
    calibration_sd: Any = None,
    bins: int = DEFAULT_BINS,
) -> EstimationAggregate:
    """Aggregate a window's calibrated probabilities and predicted-positive flags."""
    p = _probabilities(calibrated, "calibrated probability")
    yhat = _predicted(predicted_positive, len(p))
    sd = np.zeros_like(p) if calibration_sd is None else _standard_errors(calibration_sd, len(p))
    if bins < 1:
        raise EstimationError(f"bins must be at least 1; got {bins}. Use the default of {DEFAULT_BINS}.")
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    var = p * (1.0 - p)
    hists: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _HISTOGRAMS}
    for mask in (~yhat, yhat):
        hists["hist_count"].append(tuple(np.bincount(idx[mask], minlength=bins).tolist()))
        for name, weights in (("hist_p", p), ("hist_var", var), ("hist_sd", sd)):
            hists[name].append(_floats(np.bincount(idx[mask], weights=weights[mask], minlength=bins)))
    pos, neg = p[yhat], p[~yhat]
    return EstimationAggregate(
        n=len(p),
        n_predicted_positive=int(yhat.sum()),
        expected_tp=float(pos.sum()),
        expected_fp=float((1.0 - pos).sum()),
        expected_fn=float(neg.sum()),
        expected_tn=float((1.0 - neg).sum()),
        var_predicted_positive=float(var[yhat].sum()),
        var_predicted_negative=float(var[~yhat].sum()),
        **{name: (h[0], h[1]) for name, h in hists.items()},
    )


def aggregate_window(
    calibrator: ScoreCalibrator,
    scores: Any,
    predictions_positive: Any = None,
    threshold: float = 0.5,
    bins: int = DEFAULT_BINS,
) -> EstimationAggregate:
    """Aggregate raw scores (predicted positive: the given flags, else score >= threshold)."""
    raw = _probabilities(scores, "score")
    predicted = raw >= threshold if predictions_positive is None else predictions_positive
    return estimation_aggregate(calibrator.transform(raw), predicted, calibrator.standard_error(raw), bins)


def merge(a: EstimationAggregate, b: EstimationAggregate) -> EstimationAggregate:
    """The aggregate of the union of two windows' rows."""
    if a.bins != b.bins:
        raise EstimationError(
            f"Cannot merge estimation aggregates with {a.bins} and {b.bins} bins; "
            "recompute them with the same number of bins."
        )
    scalars = {name: getattr(a, name) + getattr(b, name) for name in _SCALARS}
    hists = {name: _add_pairs(getattr(a, name), getattr(b, name)) for name in _HISTOGRAMS}
    return EstimationAggregate(**scalars, **hists)


def merge_all(
    aggregates: Iterable[EstimationAggregate], start: EstimationAggregate | None = None
) -> EstimationAggregate:
    """Merge any number of aggregates; ``start`` (e.g. ``EstimationAggregate.empty()``) is merged in too.

    Like every ``merge_all`` in the core, nothing to merge and no ``start`` is an error.
    """
    items = list(aggregates) if start is None else [start, *aggregates]
    if not items:
        raise EstimationError(
            "There are no estimation aggregates to merge: the chosen range holds no windows. "
            "Pick a range with data, or pass start=EstimationAggregate.empty()."
        )
    result = items[0]
    for agg in items[1:]:
        result = merge(result, agg)
    return result


def _add_pairs(a: tuple[tuple[Any, ...], ...], b: tuple[tuple[Any, ...], ...]) -> Any:
    return tuple(tuple(x + y for x, y in zip(ha, hb, strict=False)) for ha, hb in zip(a, b, strict=False))


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class _Linear:
    """A metric's value and its gradient in the realized TP and FN counts (or why it is undefined)."""

    value: float | None
    d_tp: float = 0.0
    d_fn: float = 0.0
    note: str = ""


def estimate_window(
    calibrator: ScoreCalibrator,
    scores: Any,
    predictions_positive: Any = None,
    threshold: float = 0.5,
    level: float = DEFAULT_LEVEL,
) -> dict[str, MetricValue]:
    """Estimates for one window of raw scores (predicted positive: given, else score >= threshold)."""
    agg = aggregate_window(calibrator, scores, predictions_positive, threshold)
    return estimate_from_aggregate(agg, level)


def estimate_from_aggregate(agg: EstimationAggregate, level: float = DEFAULT_LEVEL) -> dict[str, MetricValue]:
    """Estimates of every metric in ``METRICS`` from a (merged) aggregate."""
    if not 0.0 < level < 1.0:
        raise EstimationError(f"Interval level must be between 0 and 1; got {level}. Use e.g. 0.95.")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    if agg.n == 0:
        return {m: MetricValue(m, None, None, None, 0, _method(m), INSUFFICIENT) for m in METRICS}
    result = {name: _confusion_estimate(name, lin, agg, z) for name, lin in _linearized(agg).items()}
    result["roc_auc"] = _auc_estimate(agg, z)
    return result


def _method(metric: str) -> str:
    return METHOD_AUC if metric == "roc_auc" else METHOD_CONFUSION


def _linearized(agg: EstimationAggregate) -> dict[str, _Linear]:
    """Every confusion metric as a function of the realized TP and FN counts, at their expectations."""
    tp, fn, fp, tn = agg.expected_tp, agg.expected_fn, agg.expected_fp, agg.expected_tn
    n, p = agg.n, agg.n_predicted_positive
    no_positive_predictions = _Linear(None, note="undefined: no rows are predicted positive")
    precision = _Linear(tp / p, 1.0 / p) if p else no_positive_predictions
    fpr = _ratio(fp, tn, "undefined: no negatives are expected (every probability is 1)")
    f1_denominator = tp + p + fn  # F1 = 2 TP / (TP + FP + TP + FN) with TP + FP = p fixed
    f1 = (
        _Linear(2.0 * tp / f1_denominator, 2.0 * (p + fn) / f1_denominator**2, -2.0 * tp / f1_denominator**2)
        if f1_denominator > 0.0
        else _Linear(None, note="undefined: no rows are predicted positive and no positives are expected")
    )
    return {
        "accuracy": _Linear((tp + tn) / n, 1.0 / n, -1.0 / n),
        "precision": precision,
        "recall": _ratio(tp, fn, "undefined: no positives are expected (every probability is 0)"),
        "f1": f1,
        # FP = p - TP and TN = (n - p) - FN, so d/dTP and d/dFN change sign
        "false_positive_rate": _Linear(fpr.value, -fpr.d_tp, -fpr.d_fn, fpr.note),
        "specificity": _Linear(None if fpr.value is None else 1.0 - fpr.value, fpr.d_tp, fpr.d_fn, fpr.note),
    }


def _ratio(a: float, b: float, note: str) -> _Linear:
    """a / (a + b) and its gradient in (a, b)."""
    total = a + b
    if total <= 0.0:
        return _Linear(None, note=note)
    return _Linear(a / total, b / total**2, -a / total**2)


def _confusion_estimate(name: str, lin: _Linear, agg: EstimationAggregate, z: float) -> MetricValue:
    if lin.value is None:
        return MetricValue(name, None, None, None, agg.n, METHOD_CONFUSION, lin.note)
    label_var = lin.d_tp**2 * agg.var_tp + lin.d_fn**2 * agg.var_fn
    sd_neg, sd_pos = (np.asarray(h) for h in agg.hist_sd)
    calibration_var = float(((lin.d_tp * sd_pos + lin.d_fn * sd_neg) ** 2).sum())
    return _interval(name, lin.value, label_var, calibration_var, agg.n, METHOD_CONFUSION, z)


def _auc_estimate(agg: EstimationAggregate, z: float) -> MetricValue:
    """Expected AUC from the histograms, with a delta-method variance (see module docstring)."""
    count, pos, var, sd = (np.add(*map(np.asarray, getattr(agg, name))) for name in _HISTOGRAMS)
    neg = np.clip(count - pos, 0.0, None)
    n1, n0, total_var = float(pos.sum()), float(neg.sum()), float(var.sum())
    pairs = n1 * n0 - total_var  # E[N1 * N0] without self-pairs
    if pairs <= 1e-12 * max(n1 * n0, 1.0):
        note = "undefined: the probabilities expect only one class"
        return MetricValue("roc_auc", None, None, None, agg.n, METHOD_AUC, note)
    neg_below = np.cumsum(neg) - neg
    pos_above = n1 - np.cumsum(pos)
    auc = (float((pos * (neg_below + 0.5 * neg)).sum()) - 0.5 * total_var) / pairs
    gradient = ((neg_below + 0.5 * neg) - (pos_above + 0.5 * pos) - auc * (n0 - n1)) / pairs
    within_bin = float((pos * neg * (count + 1.0) / 12.0).sum()) / pairs**2
    label_var = float((gradient**2 * var).sum()) + within_bin
    return _interval("roc_auc", auc, label_var, float(((gradient * sd) ** 2).sum()), agg.n, METHOD_AUC, z)


def _interval(
    name: str, value: float, label_var: float, calibration_var: float, n: int, method: str, z: float
) -> MetricValue:
    """``value +- z * (label se + calibrator se)``: the calibrator's error is shared by every window."""
    value = min(max(value, 0.0), 1.0)
    half = z * (math.sqrt(max(label_var, 0.0)) + math.sqrt(max(calibration_var, 0.0)))
    return MetricValue(name, value, max(value - half, 0.0), min(value + half, 1.0), n, method)


# --------------------------------------------------------------------------- validation


def _probabilities(values: Any, what: str) -> np.ndarray:
    """A 1-d float array of values in [0, 1], or an EstimationError naming the first bad one."""
    try:
        if isinstance(values, np.ndarray) and values.dtype.kind == "f":  # already numbers: no parsing
            array = values.astype(float, copy=False).ravel()
        else:
            series = pd.Series(np.asarray(values, dtype=object).ravel())
            array = np.asarray(pd.to_numeric(series, errors="raise"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"Every {what} must be a number in [0, 1]; found a non-numeric value ({exc}). "
            "Log the probability of the positive class as the score."
        ) from exc
    bad = ~np.isfinite(array) | (array < 0.0) | (array > 1.0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EstimationError(
            f"Every {what} must be a number in [0, 1]; found {array[first]!r} at row {first} "
            f"({int(bad.sum())} bad values). Log the probability of the positive class, not a logit or a "
            "percentage, and drop rows without a score."
        )
    return array


def _standard_errors(values: Any, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if len(array) != n or not np.all(np.isfinite(array) & (array >= 0.0)):
        raise EstimationError(
            f"calibration_sd must hold {n} finite non-negative standard errors; got {len(array)} values. "
            "Pass calibrator.standard_error(scores) or leave it out."
        )
    return array


def _predicted(values: Any, n: int) -> np.ndarray:
    """Predicted-positive flags as a bool array of length ``n``."""
    array = np.asarray(values).ravel()
    if len(array) != n:
        raise EstimationError(
            f"Got {n} probabilities but {len(array)} predicted classes; pass one predicted-positive flag "
            "per row."
        )
    if array.dtype == bool:
        return array
    try:
        numeric = np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        numeric = np.array([np.nan])
    if not np.all(np.isin(numeric, (0.0, 1.0))):
        raise EstimationError(
            f"Predicted-positive flags must be True/False or 1/0; found values such as {array[:3].tolist()}. "
            "Compare the logged prediction with the positive class first."
        )
    return numeric == 1.0


def _float_tuple(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(np.asarray(values, dtype=np.float64).tolist())  # tolist converts in C


def _bad_dict(what: str, exc: Exception) -> EstimationError:
    return EstimationError(
        f"Stored {what} cannot be read ({type(exc).__name__}: {exc}); it was not written by to_dict. "
        "Recompute it from the baseline or the window's rows."
    )
