"""Confidence-based performance estimation (CBPE) for binary classifiers without labels.

While labels are delayed, a calibrated score says how likely each prediction is to be
right, so the confusion matrix of a window can be *expected* from its scores alone (the
idea NannyML calls CBPE):

1. :func:`fit_calibrator` learns ``P(label = positive | score)`` on the baseline's labelled
   rows (isotonic regression; identity, with a note, when the baseline is too small or has
   one class). The estimate is only as good as the assumption that this relation still holds
   in production: covariate shift (the score distribution moves) is fine, concept shift
   (the relation itself moves) is not detectable without labels.
2. :func:`estimation_aggregate` turns a window's calibrated probabilities ``p_i`` and logged
   predicted classes into a small mergeable :class:`EstimationAggregate`: the expected
   confusion cells ``E[TP] = sum p`` and ``E[FP] = sum (1 - p)`` over predicted positives,
   ``E[FN] = sum p`` and ``E[TN] = sum (1 - p)`` over predicted negatives, the variances
   ``sum p (1 - p)`` of those sums, and per predicted class a histogram over ``bins`` equal
   bins of ``[0, 1]`` holding, per bin, the row count, ``sum p`` and ``sum p (1 - p)``.
3. :func:`estimate_from_aggregate` gives an :class:`Estimate` per metric. Intervals describe
   where the *realized* metric will fall once the labels arrive, treating labels as
   independent ``Bernoulli(p_i)`` given the window's scores (the Poisson-binomial model):

   * accuracy and precision are linear in the label sums, so their variance is exact
     (``(v_pos + v_neg) / n**2`` and ``v_pos / P**2``); recall, F1, false positive rate and
     specificity are ratios of independent sums and get a delta-method variance;
   * ROC AUC is the *expected* AUC: each row counts as positive with weight ``p`` and as
     negative with weight ``1 - p``, pairs are ranked by calibrated probability (rows in one
     bin tie, counted 1/2), self-pairs are removed, and the AUC is
     ``E[U] / E[N1 * N0]``. Its variance is the delta method over the per-bin positive counts
     (independent, mean ``sum p``, variance ``sum p (1 - p)``) plus the Mann-Whitney null
     variance of the order within each bin (rows in one bin are exchangeable).

   Every interval is ``value +- z * se`` clipped to ``[0, 1]``. It does not include the
   calibrator's own estimation error: a small baseline makes intervals too narrow.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from readiness.errors import ReadinessError

DEFAULT_BINS = 200
DEFAULT_LEVEL = 0.95
MIN_CALIBRATION_ROWS = 200
METRICS = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "specificity", "roc_auc")
INSUFFICIENT = "insufficient data: the window has no rows"
METHOD_EXACT = "CBPE; normal interval, exact Poisson-binomial variance"
METHOD_DELTA = "CBPE; normal interval, Poisson-binomial variance by the delta method"
METHOD_AUC = "CBPE expected AUC; normal interval, delta method over binned fractional labels"


class EstimationError(ReadinessError):
    """Scores, predictions or stored estimation state cannot be used for estimation."""


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class ScoreCalibrator:
    """A monotone map from a model score to ``P(label = positive | score)``.

    ``method`` is ``"isotonic"`` (piecewise linear through the thresholds ``x``/``y``, flat
    outside them, exactly what sklearn's ``IsotonicRegression(out_of_bounds="clip")``
    predicts) or ``"identity"`` (scores are used as probabilities; ``note`` says why).
    """

    method: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    n_baseline: int = 0
    n_positive: int = 0
    note: str = ""

    def transform(self, scores: Any) -> np.ndarray:
        """Calibrated probabilities of the positive class for scores in [0, 1]."""
        values = _probabilities(scores, "score")
        if self.method == "identity":
            return values
        return np.clip(np.interp(values, np.asarray(self.x), np.asarray(self.y)), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
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
                x=tuple(float(v) for v in data["x"]),
                y=tuple(float(v) for v in data["y"]),
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
    if cal.method == "isotonic":
        x, y = np.asarray(cal.x), np.asarray(cal.y)
        ok = len(x) == len(y) >= 1 and np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)
        if not ok or not np.all((y >= 0) & (y <= 1)):
            raise EstimationError(
                f"Stored isotonic calibrator is malformed ({len(x)} x and {len(y)} y thresholds; x must "
                "increase, y must not decrease and lie in [0, 1]). Refit the calibrator on the baseline."
            )


def fit_calibrator(scores: Any, labels: Any, positive_class: Any) -> ScoreCalibrator:
    """Fit ``P(label = positive_class | score)`` on the baseline's labelled rows."""
    values = _probabilities(scores, "baseline score")
    label_series = pd.Series(np.asarray(labels, dtype=object))
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
        note = f"{reason}; scores are used as probabilities without calibration, so estimates assume the model is calibrated"
        return ScoreCalibrator("identity", n_baseline=n, n_positive=n_pos, note=note)
    return _fit_isotonic(values, positive, n_pos)


def _fit_isotonic(values: np.ndarray, positive: np.ndarray, n_pos: int) -> ScoreCalibrator:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    model.fit(values, positive.astype(float))
    x, y = _floats(model.X_thresholds_), _floats(model.y_thresholds_)
    return ScoreCalibrator("isotonic", x, y, n_baseline=len(values), n_positive=n_pos)


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

    Index 0 of each histogram is the predicted-negative class, index 1 the predicted-positive
    class; bin ``k`` of ``bins`` holds calibrated probabilities in ``[k / bins, (k+1) / bins)``
    (1.0 in the last bin). ``hist_p`` and ``hist_var`` hold ``sum p`` and ``sum p (1 - p)``.
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

    @classmethod
    def empty(cls, bins: int = DEFAULT_BINS) -> EstimationAggregate:
        """The identity of merge for ``bins`` histogram bins."""
        zeros_i, zeros_f = (0,) * bins, (0.0,) * bins
        return cls(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (zeros_i, zeros_i), (zeros_f, zeros_f), (zeros_f, zeros_f))

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
        return {
            "n": self.n,
            "n_predicted_positive": self.n_predicted_positive,
            "expected_tp": self.expected_tp,
            "expected_fp": self.expected_fp,
            "expected_fn": self.expected_fn,
            "expected_tn": self.expected_tn,
            "var_predicted_positive": self.var_predicted_positive,
            "var_predicted_negative": self.var_predicted_negative,
            "hist_count": [list(h) for h in self.hist_count],
            "hist_p": [list(h) for h in self.hist_p],
            "hist_var": [list(h) for h in self.hist_var],
        }

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
                hist_count=_pair(data["hist_count"], int),
                hist_p=_pair(data["hist_p"], float),
                hist_var=_pair(data["hist_var"], float),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad_dict("estimation aggregate", exc) from exc
        _check_aggregate(agg)
        return agg


def _pair(value: Any, kind: type) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    first, second = value
    return tuple(kind(v) for v in first), tuple(kind(v) for v in second)


def _check_aggregate(agg: EstimationAggregate) -> None:
    lengths = {len(h) for h in (*agg.hist_count, *agg.hist_p, *agg.hist_var)}
    counts_ok = sum(map(sum, agg.hist_count)) == agg.n and sum(agg.hist_count[1]) == agg.n_predicted_positive
    if len(lengths) != 1 or not lengths.pop() or not counts_ok:
        raise EstimationError(
            "Stored estimation aggregate is inconsistent (histograms of different lengths, or counts that "
            f"do not add up to n={agg.n}). Recompute the window's aggregate from its rows."
        )


def estimation_aggregate(calibrated: Any, predicted_positive: Any, bins: int = DEFAULT_BINS) -> EstimationAggregate:
    """Aggregate a window's calibrated probabilities and predicted classes for estimation."""
    p = _probabilities(calibrated, "calibrated probability")
    yhat = _predicted(predicted_positive, len(p))
    if bins < 1:
        raise EstimationError(f"bins must be at least 1; got {bins}. Use the default of {DEFAULT_BINS}.")
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    var = p * (1.0 - p)
    count, psum, vsum = [], [], []
    for mask in (~yhat, yhat):
        count.append(tuple(int(c) for c in np.bincount(idx[mask], minlength=bins)))
        psum.append(_floats(np.bincount(idx[mask], weights=p[mask], minlength=bins)))
        vsum.append(_floats(np.bincount(idx[mask], weights=var[mask], minlength=bins)))
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
        hist_count=(count[0], count[1]),
        hist_p=(psum[0], psum[1]),
        hist_var=(vsum[0], vsum[1]),
    )


def merge(a: EstimationAggregate, b: EstimationAggregate) -> EstimationAggregate:
    """The aggregate of the union of two windows' rows."""
    if a.bins != b.bins:
        raise EstimationError(
            f"Cannot merge estimation aggregates with {a.bins} and {b.bins} bins; "
            "recompute them with the same number of bins."
        )
    return EstimationAggregate(
        n=a.n + b.n,
        n_predicted_positive=a.n_predicted_positive + b.n_predicted_positive,
        expected_tp=a.expected_tp + b.expected_tp,
        expected_fp=a.expected_fp + b.expected_fp,
        expected_fn=a.expected_fn + b.expected_fn,
        expected_tn=a.expected_tn + b.expected_tn,
        var_predicted_positive=a.var_predicted_positive + b.var_predicted_positive,
        var_predicted_negative=a.var_predicted_negative + b.var_predicted_negative,
        hist_count=_add_pairs(a.hist_count, b.hist_count),
        hist_p=_add_pairs(a.hist_p, b.hist_p),
        hist_var=_add_pairs(a.hist_var, b.hist_var),
    )


def merge_all(aggregates: Iterable[EstimationAggregate], bins: int = DEFAULT_BINS) -> EstimationAggregate:
    """Merge any number of aggregates; none gives the empty aggregate with ``bins`` bins."""
    result = None
    for agg in aggregates:
        result = agg if result is None else merge(result, agg)
    return EstimationAggregate.empty(bins) if result is None else result


def _add_pairs(a: tuple[tuple[Any, ...], ...], b: tuple[tuple[Any, ...], ...]) -> Any:
    return tuple(tuple(x + y for x, y in zip(ha, hb)) for ha, hb in zip(a, b))


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class Estimate:
    """A label-free estimate of one metric with an interval for its realized value.

    ``value``, ``lower`` and ``upper`` are None when the metric is undefined for the window
    (``note`` says why); ``n`` is the number of rows the estimate is based on.
    """

    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    n: int
    method: str
    note: str = ""


def estimate_window(
    calibrator: ScoreCalibrator,
    scores: Any,
    predictions_positive: Any = None,
    threshold: float = 0.5,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Estimate]:
    """Estimates for one window of raw scores (predicted positive: given, else score >= threshold)."""
    raw = _probabilities(scores, "score")
    predicted = raw >= threshold if predictions_positive is None else predictions_positive
    return estimate_from_aggregate(estimation_aggregate(calibrator.transform(raw), predicted), level)


def estimate_from_aggregate(agg: EstimationAggregate, level: float = DEFAULT_LEVEL) -> dict[str, Estimate]:
    """Estimates of every metric in ``METRICS`` from a (merged) aggregate."""
    if not 0.0 < level < 1.0:
        raise EstimationError(f"Interval level must be between 0 and 1; got {level}. Use e.g. 0.95.")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    if agg.n == 0:
        return {m: Estimate(m, None, None, None, 0, METHOD_EXACT, INSUFFICIENT) for m in METRICS}
    parts = [_accuracy(agg), _precision(agg), _recall(agg), _f1(agg), *_negatives(agg), _roc_auc(agg)]
    return {name: _estimate(name, value, se, agg.n, method, note, z) for name, value, se, method, note in parts}


_Part = tuple[str, float | None, float, str, str]


def _estimate(name: str, value: float | None, se: float, n: int, method: str, note: str, z: float) -> Estimate:
    if value is None:
        return Estimate(name, None, None, None, n, method, note)
    value = min(max(value, 0.0), 1.0)
    half = z * math.sqrt(max(se, 0.0))
    return Estimate(name, value, max(value - half, 0.0), min(value + half, 1.0), n, method, note)


def _accuracy(agg: EstimationAggregate) -> _Part:
    value = (agg.expected_tp + agg.expected_tn) / agg.n
    var = (agg.var_tp + agg.var_fn) / agg.n**2
    return "accuracy", value, var, METHOD_EXACT, ""


def _precision(agg: EstimationAggregate) -> _Part:
    p = agg.n_predicted_positive
    if p == 0:
        return "precision", None, 0.0, METHOD_EXACT, "undefined: no rows are predicted positive"
    return "precision", agg.expected_tp / p, agg.var_tp / p**2, METHOD_EXACT, ""


def _recall(agg: EstimationAggregate) -> _Part:
    value, var = _ratio(agg.expected_tp, agg.expected_fn, agg.var_tp, agg.var_fn)
    note = "" if value is not None else "undefined: no positives are expected (all probabilities are 0)"
    return "recall", value, var, METHOD_DELTA, note


def _negatives(agg: EstimationAggregate) -> list[_Part]:
    """False positive rate FP / (FP + TN) and specificity TN / (FP + TN), FP and TN independent."""
    fpr, var = _ratio(agg.expected_fp, agg.expected_tn, agg.var_tp, agg.var_fn)
    if fpr is None:
        note = "undefined: no negatives are expected (all probabilities are 1)"
        return [("false_positive_rate", None, 0.0, METHOD_DELTA, note), ("specificity", None, 0.0, METHOD_DELTA, note)]
    return [("false_positive_rate", fpr, var, METHOD_DELTA, ""), ("specificity", 1.0 - fpr, var, METHOD_DELTA, "")]


def _ratio(a: float, b: float, var_a: float, var_b: float) -> tuple[float | None, float]:
    """a / (a + b) for independent sums a and b, with its delta-method variance."""
    total = a + b
    if total <= 0.0:
        return None, 0.0
    return a / total, (b * b * var_a + a * a * var_b) / total**4


def _f1(agg: EstimationAggregate) -> _Part:
    """F1 = 2 TP / (TP + P + FN) with P the fixed count of predicted positives."""
    tp, fn, p = agg.expected_tp, agg.expected_fn, agg.n_predicted_positive
    denom = tp + p + fn
    if denom <= 0.0:
        return "f1", None, 0.0, METHOD_DELTA, "undefined: no rows are predicted positive and none expected positive"
    d_tp, d_fn = 2.0 * (p + fn) / denom**2, -2.0 * tp / denom**2
    return "f1", 2.0 * tp / denom, d_tp**2 * agg.var_tp + d_fn**2 * agg.var_fn, METHOD_DELTA, ""


def _roc_auc(agg: EstimationAggregate) -> _Part:
    """Expected AUC from the histograms, with a delta-method variance (see module docstring)."""
    count = np.add(*map(np.asarray, agg.hist_count)).astype(float)
    pos = np.add(*map(np.asarray, agg.hist_p))
    var = np.add(*map(np.asarray, agg.hist_var))
    neg = np.clip(count - pos, 0.0, None)
    total_var = float(var.sum())
    pairs = float(pos.sum() * neg.sum()) - total_var  # E[N1 * N0] without self-pairs
    if pairs <= 0.0:
        return "roc_auc", None, 0.0, METHOD_AUC, "undefined: the probabilities expect only one class"
    neg_below = np.cumsum(neg) - neg
    pos_above = pos.sum() - np.cumsum(pos)
    u = float((pos * (neg_below + 0.5 * neg)).sum()) - 0.5 * total_var
    auc = u / pairs
    n1, n0 = float(pos.sum()), float(neg.sum())
    gradient = ((neg_below + 0.5 * neg) - (pos_above + 0.5 * pos) - auc * (n0 - n1)) / pairs
    within_bin = float((pos * neg * (count + 1.0) / 12.0).sum()) / pairs**2
    return "roc_auc", auc, float((gradient**2 * var).sum()) + within_bin, METHOD_AUC, ""


# --------------------------------------------------------------------------- validation


def _probabilities(values: Any, what: str) -> np.ndarray:
    """A 1-d float array of values in [0, 1], or an EstimationError naming the first bad one."""
    try:
        array = np.asarray(pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="raise"), dtype=float)
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


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _bad_dict(what: str, exc: Exception) -> EstimationError:
    return EstimationError(
        f"Stored {what} cannot be read ({type(exc).__name__}: {exc}); it was not written by to_dict. "
        "Recompute it from the baseline or the window's rows."
    )
