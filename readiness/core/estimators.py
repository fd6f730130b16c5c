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

from collections.abc import Iterable, Mapping
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
_METRICS = {
    "binary": estimation.METRICS,
    "multiclass": multiclass_estimation.METRICS,
    "regression": loss_estimation.METRICS,
}
_FALLBACK = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "mae"}


def estimated_metrics(task: str) -> tuple[str, ...]:
    """The metrics estimated without labels for a task."""
    return _METRICS.get(task, ())


def estimated_metric(task: str, metric: str) -> str | None:
    """``metric`` if it is estimated for the task, else the task's headline estimate (None: unknown task)."""
    if task not in _METRICS:
        return None
    return metric if metric in _METRICS[task] else _FALLBACK[task]


def estimator_from_dict(data: Mapping[str, Any]) -> Estimator:
    """Read back a stored estimator (a binary calibrator's JSON has no ``kind``)."""
    kind = data.get("kind", "binary")
    if kind == "multiclass":
        return multiclass_estimation.ClassCalibrators.from_dict(data)
    if kind == "regression":
        return loss_estimation.LossModel.from_dict(data)
    if kind == "binary":
        return estimation.ScoreCalibrator.from_dict(data)
    raise EstimationError(f"Stored estimator has unknown kind {kind!r}. Refit it on the baseline.")


def aggregate_from_dict(data: Mapping[str, Any]) -> EstimateAggregate:
    """Read back a stored estimate aggregate (a binary one's JSON has no ``kind``)."""
    kind = data.get("kind", "binary")
    if kind == "multiclass":
        return multiclass_estimation.MulticlassEstimationAggregate.from_dict(data)
    if kind == "regression":
        return loss_estimation.LossAggregate.from_dict(data)
    if kind == "binary":
        return estimation.EstimationAggregate.from_dict(data)
    raise EstimationError(f"Stored estimate aggregate has unknown kind {kind!r}. Recompute it from the rows.")


def merge_all(aggregates: Iterable[EstimateAggregate]) -> EstimateAggregate:
    """Merge one or more aggregates of one kind."""
    items = list(aggregates)
    if not items:
        raise EstimationError("There are no estimate aggregates to merge: the range holds no windows.")
    first = items[0]
    if not all(type(a) is type(first) for a in items):
        raise EstimationError(
            f"Cannot merge estimate aggregates of different tasks ({sorted({type(a).__name__ for a in items})}); "
            "recompute them against one baseline."
        )
    if isinstance(first, estimation.EstimationAggregate):
        return estimation.merge_all(items)  # type: ignore[arg-type]
    if isinstance(first, multiclass_estimation.MulticlassEstimationAggregate):
        return multiclass_estimation.merge_all(items)  # type: ignore[arg-type]
    return loss_estimation.merge_all(items)  # type: ignore[arg-type]


def estimate(aggregate: EstimateAggregate) -> dict[str, MetricValue]:
    """The estimated metrics of a (merged) aggregate, with 95% intervals for the realized values."""
    if isinstance(aggregate, estimation.EstimationAggregate):
        return estimation.estimate_from_aggregate(aggregate)
    if isinstance(aggregate, multiclass_estimation.MulticlassEstimationAggregate):
        return multiclass_estimation.estimate_from_aggregate(aggregate)
    return loss_estimation.estimate_from_aggregate(aggregate)
