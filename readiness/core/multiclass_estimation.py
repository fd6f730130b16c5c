"""Label-free performance estimates for multiclass classifiers (confidence-based, one class at a time).

A multiclass model that logs one probability per class is estimated like a binary one
(:mod:`readiness.core.estimation`), class by class against the rest:

1. :func:`fit_class_calibrators` fits, on the baseline's labelled rows, one isotonic
   calibrator per class ``k`` mapping the logged ``p_k`` to ``P(label = k | p_k)`` (identity,
   with a note, for a class with too few labelled rows or no positives).
2. :func:`aggregate_window` keeps, per class, the binary CBPE aggregate of the calibrated
   ``q_k`` with "predicted positive" meaning "predicted as ``k``": the expected one-vs-rest
   confusion cells, their label variances and the calibrator's standard errors per bin.
   The aggregates merge like any other (:func:`merge`).
3. :func:`estimate_from_aggregate` gives ``accuracy``, ``macro_precision``, ``macro_recall``,
   ``macro_f1`` and ``roc_auc_ovr`` with 95% intervals for the *realized* metric:

   * accuracy is linear in the per-class true-positive counts: ``E[acc] = sum_k E[TP_k] / n``;
     its label variance is ``sum_k Var(TP_k) / n^2`` (each row is right with probability
     ``q`` of its predicted class, independently) and its calibrator term adds each class
     bin's standard error, as for binary accuracy;
   * macro averages average the classes' binary estimates (precision, recall, F1, expected
     ROC AUC) over the classes that occur (a class never predicted has precision 0, as with
     labels); their half-widths combine the classes' half-widths as if independent
     (``sqrt(sum h_k^2) / K``, as the measured ``roc_auc_ovr`` does). The classes' realized
     metrics are in fact weakly correlated (a row's label is one class's hit and another's
     miss); on generated four-class windows of 200 to 5,000 rows with covariate shift, the
     95% intervals covered the realized value in 94-99% of windows (``bench/bench_estimation.py``).
     Support-weighted F1 is not estimated: its weights are themselves unknown without labels.

What the interval covers and what it cannot: the labels' sampling noise given the
probabilities and the calibrators' own error; not concept shift (the relation between a
probability and its class moving after the baseline), which only labels reveal and which the
checklist's "estimate agrees" item catches once they arrive.

>>> import numpy as np
>>> cal = fit_class_calibrators(np.array([[0.7, 0.3]]), ["a"], ["a", "b"])  # too few rows: identity
>>> agg = aggregate_window(cal, np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"])
>>> round(estimate_from_aggregate(agg)["accuracy"].value, 2)
0.85
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.core import estimation as binary
from readiness.core.lazy import lazy_module
from readiness.core.metrics import MetricValue
from readiness.errors import EstimationError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

METRICS = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "roc_auc_ovr")
METHOD_ACCURACY = (
    "expected accuracy from per-class calibrated probabilities (CBPE, one class against the rest); normal "
    "interval from the label variance plus the calibrators' standard errors"
)
METHOD_AVERAGE = (
    "mean of the classes' one-vs-rest CBPE estimates; interval: the mean of their intervals (valid whatever "
    "the classes' correlation)"
)
_PER_CLASS = {
    "macro_precision": "precision",
    "macro_recall": "recall",
    "macro_f1": "f1",
    "roc_auc_ovr": "roc_auc",
}


@dataclass(frozen=True)
class ClassCalibrators:
    """One :class:`~readiness.core.estimation.ScoreCalibrator` per class, in ``classes`` order."""

    classes: tuple[str, ...]
    calibrators: tuple[binary.ScoreCalibrator, ...]
    kind: str = field(default="multiclass", init=False)

    @property
    def note(self) -> str:
        """Why some classes are not calibrated (their probabilities are used as logged), if any; classes with one reason share it."""
        reasons: dict[str, list[str]] = {}
        for cls, cal in zip(self.classes, self.calibrators, strict=True):
            if cal.note:
                reasons.setdefault(cal.note, []).append(cls)
        if not reasons:
            return ""
        parts = [f"{_listed(classes)}: {reason}" for reason, classes in reasons.items()]
        return "; ".join(parts) + " (so those probabilities are used as logged, assumed calibrated)"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": self.kind,
            "classes": list(self.classes),
            "calibrators": [c.to_dict() for c in self.calibrators],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassCalibrators:
        """Read back what ``to_dict`` wrote."""
        try:
            classes = tuple(str(c) for c in data["classes"])
            calibrators = tuple(binary.ScoreCalibrator.from_dict(c) for c in data["calibrators"])
        except (KeyError, TypeError) as exc:
            raise EstimationError(
                f"Stored class calibrators cannot be read ({type(exc).__name__}: {exc}). "
                "Refit them on the baseline."
            ) from exc
        if len(classes) != len(calibrators) or not classes:
            raise EstimationError(
                f"Stored class calibrators name {len(classes)} classes but hold {len(calibrators)} calibrators. "
                "Refit them on the baseline."
            )
        return cls(classes, calibrators)


def fit_class_calibrators(probabilities: Any, labels: Any, classes: Sequence[Any]) -> ClassCalibrators:
    """Fit ``P(label = k | p_k)`` for every class on the baseline rows with probabilities and a label."""
    names = tuple(str(c) for c in classes)
    p = _matrix(probabilities, len(names))
    truth = pd.Series(np.asarray(labels, dtype=object).ravel())
    if len(truth) != len(p):
        raise EstimationError(
            f"Baseline has {len(p)} rows of class probabilities but {len(truth)} labels; "
            "pass one label per row (missing labels as None)."
        )
    usable = ~np.isnan(p).any(axis=1) & truth.notna().to_numpy()
    as_text = truth[usable].astype(str).to_numpy()
    calibrators = tuple(
        _worded(binary.fit_calibrator(p[usable, k], (as_text == name).astype(int), positive_class=1))
        for k, name in enumerate(names)
    )
    return ClassCalibrators(names, calibrators)


def _worded(cal: binary.ScoreCalibrator) -> binary.ScoreCalibrator:
    """A class's calibrator with its note in the words of classes, not of a binary positive class."""
    if cal.method != "identity":
        return cal
    if cal.n_baseline < binary.MIN_CALIBRATION_ROWS:
        why = (
            f"{cal.n_baseline} labelled baseline rows with class probabilities, fewer than the "
            f"{binary.MIN_CALIBRATION_ROWS} needed to calibrate"
        )
    elif cal.n_positive == 0:
        why = "never the label in the baseline"
    else:
        why = "the label of every baseline row"
    return replace(cal, note=why)


def _listed(classes: list[str]) -> str:
    """Class names for a sentence: at most five, then how many more.

    >>> _listed(["a", "b", "c", "d", "e", "f", "g"])
    'a, b, c, d, e and 2 more'
    """
    if len(classes) <= 5:
        return ", ".join(classes)
    return f"{', '.join(classes[:5])} and {len(classes) - 5} more"


@dataclass(frozen=True)
class MulticlassEstimationAggregate:
    """Per class (in ``classes`` order), the binary CBPE aggregate of that class against the rest."""

    classes: tuple[str, ...]
    per_class: tuple[binary.EstimationAggregate, ...]
    kind: str = field(default="multiclass", init=False)

    @property
    def n(self) -> int:
        """Rows aggregated."""
        return self.per_class[0].n if self.per_class else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": self.kind,
            "classes": list(self.classes),
            "per_class": [a.to_dict() for a in self.per_class],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MulticlassEstimationAggregate:
        """Read back what ``to_dict`` wrote."""
        try:
            classes = tuple(str(c) for c in data["classes"])
            per_class = tuple(binary.EstimationAggregate.from_dict(a) for a in data["per_class"])
        except (KeyError, TypeError) as exc:
            raise EstimationError(
                f"Stored multiclass estimation aggregate cannot be read ({type(exc).__name__}: {exc}). "
                "Recompute the window's aggregate from its rows."
            ) from exc
        if len(classes) != len(per_class) or len({a.n for a in per_class}) > 1:
            raise EstimationError(
                "Stored multiclass estimation aggregate is inconsistent (one aggregate per class, all over the "
                "same rows, expected). Recompute the window's aggregate from its rows."
            )
        return cls(classes, per_class)


def aggregate_window(
    calibrators: ClassCalibrators, probabilities: Any, predictions: Any, bins: int = binary.DEFAULT_BINS
) -> MulticlassEstimationAggregate:
    """Aggregate a window's class probabilities (rows x classes) and predicted classes; rows without probabilities are left out."""
    p = _matrix(probabilities, len(calibrators.classes))
    predicted = np.asarray(pd.Series(np.asarray(predictions, dtype=object).ravel()).astype(str))
    if len(predicted) != len(p):
        raise EstimationError(
            f"Got {len(p)} rows of class probabilities but {len(predicted)} predictions; pass one predicted "
            "class per row."
        )
    known = ~np.isnan(p).any(axis=1)
    p, predicted = p[known], predicted[known]
    per_class = tuple(
        binary.estimation_aggregate(
            cal.transform(p[:, k]), predicted == name, cal.standard_error(p[:, k]), bins
        )
        for k, (name, cal) in enumerate(zip(calibrators.classes, calibrators.calibrators, strict=True))
    )
    return MulticlassEstimationAggregate(calibrators.classes, per_class)


def merge(
    a: MulticlassEstimationAggregate, b: MulticlassEstimationAggregate
) -> MulticlassEstimationAggregate:
    """The aggregate of the union of two windows' rows."""
    if a.classes != b.classes:
        raise EstimationError(
            f"Cannot merge multiclass estimation aggregates over different classes ({list(a.classes)} and "
            f"{list(b.classes)}); recompute them against the same baseline."
        )
    return MulticlassEstimationAggregate(
        a.classes, tuple(binary.merge(x, y) for x, y in zip(a.per_class, b.per_class, strict=True))
    )


def merge_all(aggregates: Iterable[MulticlassEstimationAggregate]) -> MulticlassEstimationAggregate:
    """Merge one or more aggregates."""
    items = list(aggregates)
    if not items:
        raise EstimationError(
            "There are no multiclass estimation aggregates to merge: the range holds no windows."
        )
    result = items[0]
    for agg in items[1:]:
        result = merge(result, agg)
    return result


def estimate_from_aggregate(
    agg: MulticlassEstimationAggregate, level: float = binary.DEFAULT_LEVEL
) -> dict[str, MetricValue]:
    """Estimates of every metric in ``METRICS`` from a (merged) aggregate."""
    if agg.n == 0:
        return {
            name: MetricValue(name, None, None, None, 0, _method(name), binary.INSUFFICIENT)
            for name in METRICS
        }
    per_class = [binary.estimate_from_aggregate(a, level) for a in agg.per_class]
    result = {"accuracy": _accuracy(agg, level)}
    for name, metric in _PER_CLASS.items():
        result[name] = _average(name, agg, [e[metric] for e in per_class])
    return result


def class_estimates(
    agg: MulticlassEstimationAggregate, level: float = binary.DEFAULT_LEVEL
) -> dict[str, dict[str, MetricValue]]:
    """Per class, its one-vs-rest estimates (precision, recall, F1, ROC AUC, ...)."""
    return {
        name: binary.estimate_from_aggregate(a, level)
        for name, a in zip(agg.classes, agg.per_class, strict=True)
    }


def _method(name: str) -> str:
    return METHOD_ACCURACY if name == "accuracy" else METHOD_AVERAGE


def _accuracy(agg: MulticlassEstimationAggregate, level: float) -> MetricValue:
    n = agg.n
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    value = sum(a.expected_tp for a in agg.per_class) / n
    label_sd = math.sqrt(sum(a.var_tp for a in agg.per_class)) / n
    calibration_sd = math.sqrt(sum(float(np.square(a.hist_sd[1]).sum()) for a in agg.per_class)) / n
    half = z * (label_sd + calibration_sd)
    value = min(max(value, 0.0), 1.0)
    return MetricValue("accuracy", value, max(value - half, 0.0), min(value + half, 1.0), n, METHOD_ACCURACY)


def _occurs(a: binary.EstimationAggregate) -> bool:
    """A class counts in a macro average when it is predicted or expected as a label at least once."""
    return a.n_predicted_positive > 0 or a.expected_tp + a.expected_fn >= 0.5


def _average(name: str, agg: MulticlassEstimationAggregate, values: list[MetricValue]) -> MetricValue:
    """The macro average of the classes' estimates; half-widths combined as if the classes were independent."""
    rows = []
    for a, v in zip(agg.per_class, values, strict=True):
        if not _occurs(a):
            continue
        if v.value is None:
            if name != "macro_precision":
                continue  # undefined recall, F1 or AUC: the class is left out, as with labels
            v = MetricValue(v.name, 0.0, 0.0, 0.0, v.n, v.method)  # never predicted: precision 0
        rows.append((v.value, v.lower, v.upper))
    if not rows:
        return MetricValue(name, None, None, None, agg.n, METHOD_AVERAGE, "undefined: no class occurs")
    table = np.array([[r[0], r[0] if r[1] is None else r[1], r[0] if r[2] is None else r[2]] for r in rows])
    w = np.full(len(rows), 1.0 / len(rows))
    value = float(w @ table[:, 0])
    lower = value - math.sqrt(float(((w * (table[:, 0] - table[:, 1])) ** 2).sum()))
    upper = value + math.sqrt(float(((w * (table[:, 2] - table[:, 0])) ** 2).sum()))
    return MetricValue(name, value, max(lower, 0.0), min(upper, 1.0), agg.n, METHOD_AVERAGE)


def _matrix(probabilities: Any, k: int) -> np.ndarray:
    """Class probabilities as a float matrix with ``k`` columns in [0, 1] (NaN rows allowed)."""
    try:
        p = np.asarray(probabilities, dtype=float)
    except (TypeError, ValueError) as exc:
        raise EstimationError(
            f"Class probabilities must be numbers in [0, 1]; found a non-numeric value ({exc}). "
            "Log one probability per class."
        ) from exc
    if p.ndim != 2 or p.shape[1] != k:
        raise EstimationError(
            f"Class probabilities must be one row per prediction and one column per class ({k} classes); "
            f"got shape {p.shape}."
        )
    finite = p[~np.isnan(p)]
    if finite.size and (np.any(~np.isfinite(finite)) or finite.min() < 0.0 or finite.max() > 1.0):
        bad = float(finite[~np.isfinite(finite) | (finite < 0.0) | (finite > 1.0)][0])
        raise EstimationError(
            f"Class probabilities must lie in [0, 1]; found {bad!r}. Log probabilities, not logits or percentages."
        )
    return p
