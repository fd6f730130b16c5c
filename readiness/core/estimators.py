"""Label-free estimates for every task, behind one interface.

* binary: confidence-based estimation from the calibrated score (:mod:`readiness.core.estimation`);
* multiclass: the same, one class against the rest, from the class probabilities
  (:mod:`readiness.core.multiclass_estimation`);
* regression: direct loss estimation from the features and the prediction
  (:mod:`readiness.core.loss_estimation`).

An *estimator* is fitted once per baseline and stored as JSON; a window's rows become a
mergeable *estimate aggregate*; any merged aggregate gives estimated metrics with intervals.

>>> estimated_metrics("multiclass")
('accuracy', 'macro_precision', 'macro_recall', 'macro_f1', 'roc_auc_ovr')
>>> estimated_metric("regression", "mae"), estimated_metric("binary", "log_loss")
('mae', 'roc_auc')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from readiness.core import estimation, loss_estimation, multiclass_estimation
from readiness.core.metrics import MetricValue
from readiness.errors import EstimationError

Estimator = estimation.ScoreCalibrator | multiclass_estimation.ClassCalibrators | loss_estimation.LossModel
EstimateAggregate = (
    estimation.EstimationAggregate
    | multiclass_estimation.MulticlassEstimationAggregate
    | loss_estimation.LossAggregate
)


@dataclass(frozen=True)
class _Kind:
    """One task's estimator and aggregate types and the functions that use them."""

    metrics: tuple[str, ...]
    headline: str
    estimator: Any  # the estimator class (from_dict)
    aggregate: Any  # the aggregate class (from_dict)
    merge_all: Callable[[list[Any]], Any]
    estimate: Callable[[Any], dict[str, MetricValue]]


_KINDS = {
    "binary": _Kind(
        estimation.METRICS,
        "roc_auc",
        estimation.ScoreCalibrator,
        estimation.EstimationAggregate,
        estimation.merge_all,
        estimation.estimate_from_aggregate,
    ),
    "multiclass": _Kind(
        multiclass_estimation.METRICS,
        "accuracy",
        multiclass_estimation.ClassCalibrators,
        multiclass_estimation.MulticlassEstimationAggregate,
        multiclass_estimation.merge_all,
        multiclass_estimation.estimate_from_aggregate,
    ),
    "regression": _Kind(
        loss_estimation.METRICS,
        "mae",
        loss_estimation.LossModel,
        loss_estimation.LossAggregate,
        loss_estimation.merge_all,
        loss_estimation.estimate_from_aggregate,
    ),
}


def estimated_metrics(task: str) -> tuple[str, ...]:
    """The metrics estimated without labels for a task."""
    kind = _KINDS.get(task)
    return kind.metrics if kind else ()


def estimated_metric(task: str, metric: str) -> str | None:
    """``metric`` if it is estimated for the task, else the task's headline estimate (None: unknown task)."""
    kind = _KINDS.get(task)
    if kind is None:
        return None
    return metric if metric in kind.metrics else kind.headline


def estimator_note(estimator: Estimator | None) -> str:
    """What limits an estimator (too few labelled baseline rows, one class...), "" when nothing does."""
    return estimator.note if estimator is not None else ""


def estimator_from_dict(data: Mapping[str, Any]) -> Estimator:
    """Read back a stored estimator (a binary calibrator's JSON has no ``kind``)."""
    result: Estimator = _kind_of(data, "estimator").estimator.from_dict(data)
    return result


def aggregate_from_dict(data: Mapping[str, Any]) -> EstimateAggregate:
    """Read back a stored estimate aggregate (a binary one's JSON has no ``kind``)."""
    result: EstimateAggregate = _kind_of(data, "estimate aggregate").aggregate.from_dict(data)
    return result


def _kind_of(data: Mapping[str, Any], what: str) -> _Kind:
    name = data.get("kind", "binary")
    kind = _KINDS.get(name)
    if kind is None:
        raise EstimationError(
            f"Stored {what} has unknown kind {name!r}; expected one of {', '.join(_KINDS)}. "
            "Refit it on the baseline (upload the baseline again)."
        )
    return kind


def _kind_of_aggregate(aggregate: EstimateAggregate) -> _Kind:
    return next(kind for kind in _KINDS.values() if isinstance(aggregate, kind.aggregate))


def merge_all(aggregates: Iterable[EstimateAggregate]) -> EstimateAggregate:
    """Merge one or more aggregates of one kind."""
    items = list(aggregates)
    if not items:
        raise EstimationError("There are no estimate aggregates to merge: the range holds no windows.")
    if len({type(a) for a in items}) > 1:
        raise EstimationError(
            f"Cannot merge estimate aggregates of different tasks ({sorted({type(a).__name__ for a in items})}); "
            "recompute them against one baseline."
        )
    result: EstimateAggregate = _kind_of_aggregate(items[0]).merge_all(items)
    return result


def estimate(aggregate: EstimateAggregate) -> dict[str, MetricValue]:
    """The estimated metrics of a (merged) aggregate, with 95% intervals for the realized values."""
    return _kind_of_aggregate(aggregate).estimate(aggregate)
