"""Generated baselines and live windows with known covariate or concept shift, for every task.

Each task draws four numeric features and one categorical one, ``X ~ N(shift, 1)``, and labels
from a fixed relation ``P(y | X)``; the model's outputs are a fixed function of ``X``, so
covariate shift (``shift`` moves per window) leaves ``P(y | outputs)`` where the baseline
saw it. ``concept=True`` changes the relation itself after the baseline. Seeded: the same
arguments give the same rows. Used by the coverage tests and by ``bench/bench_estimation.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from readiness.core import estimation, loss_estimation, multiclass_estimation
from readiness.core.estimators import estimated_metrics
from readiness.core.records import FeatureSpec

TASKS = ("binary", "multiclass", "regression")
CLASSES = ("account", "billing", "shipping", "technical")  # sorted, as roc_auc_score wants them
CITIES = np.array(["north", "south", "east", "west"])
SPECS = (*(FeatureSpec(f"x{i}", "numeric") for i in range(4)), FeatureSpec("city", "categorical"))
BASELINE_ROWS = 5000


@dataclass(frozen=True)
class Rows:
    """One baseline or window: features and the model's outputs and labels."""

    features: pd.DataFrame
    prediction: np.ndarray
    label: np.ndarray
    score: np.ndarray | None = None  # binary
    probabilities: np.ndarray | None = None  # multiclass, rows x CLASSES


@dataclass(frozen=True)
class Comparison:
    """One window's estimate of one metric and the value its labels realize."""

    task: str
    metric: str
    window: int
    n: int
    estimate: float
    lower: float
    upper: float
    realized: float

    @property
    def covered(self) -> bool:
        """The interval holds the realized value."""
        return self.lower <= self.realized <= self.upper


class Task:
    """The relation of one task, drawn once per seed (weights stay fixed across windows)."""

    def __init__(self, task: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.task = task
        self.w = rng.normal(0, 1, (4, len(CLASSES)))
        self.b = rng.normal(0, 0.5, len(CLASSES))

    def rows(self, rng: np.random.Generator, n: int, shift: np.ndarray, concept: bool = False) -> Rows:
        """``n`` rows with the features' means moved by ``shift`` (and the relation changed if ``concept``)."""
        x = rng.normal(0, 1, (n, 4)) + shift
        city = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
        features = pd.DataFrame({f"x{i}": x[:, i] for i in range(4)})
        features["city"] = CITIES[city]
        features.loc[rng.random(n) < 0.05, "x3"] = np.nan  # some missing values, as logs have
        if self.task == "binary":
            return self._binary(rng, x, features, concept)
        if self.task == "multiclass":
            return self._multiclass(rng, x, features, concept)
        return self._regression(rng, x, city, features, concept)

    def _binary(self, rng: np.random.Generator, x: np.ndarray, features: pd.DataFrame, concept: bool) -> Rows:
        logit = x @ self.w[:, 0] + self.b[0]
        score = 1 / (1 + np.exp(-1.6 * logit))  # overconfident: calibration on the baseline corrects it
        truth = 1 / (1 + np.exp(-(logit + (1.5 if concept else 0.0))))
        label = (rng.random(len(x)) < truth).astype(int)
        return Rows(features, (score >= 0.5).astype(int), label, score=score)

    def _multiclass(
        self, rng: np.random.Generator, x: np.ndarray, features: pd.DataFrame, concept: bool
    ) -> Rows:
        logits = x @ self.w + self.b
        model = _softmax(1.3 * logits)  # overconfident
        truth = _softmax(logits[:, [1, 0, 2, 3]] if concept else logits)  # concept: two classes swap
        draws = (rng.random(len(x))[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
        label = np.array(CLASSES)[np.minimum(draws, len(CLASSES) - 1)]
        return Rows(features, np.array(CLASSES)[model.argmax(axis=1)], label, probabilities=model)

    def _regression(
        self, rng: np.random.Generator, x: np.ndarray, city: np.ndarray, features: pd.DataFrame, concept: bool
    ) -> Rows:
        truth = 3 * x[:, 0] + 2 * np.sin(x[:, 1]) + city
        spread = 0.5 + np.abs(x[:, 2]) + 0.5 * city  # errors depend on the inputs
        label = truth + rng.normal(0, 1, len(x)) * spread * (2.0 if concept else 1.0)
        prediction = 3 * x[:, 0] + 1.5 * x[:, 1] + city  # an imperfect model
        return Rows(features, prediction, label)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit(task: str, rows: Rows) -> object:
    """The task's estimator fitted on baseline rows."""
    if task == "binary":
        return estimation.fit_calibrator(rows.score, rows.label, positive_class=1)
    if task == "multiclass":
        return multiclass_estimation.fit_class_calibrators(rows.probabilities, rows.label, CLASSES)
    return loss_estimation.fit_loss_model(rows.features, rows.prediction, rows.label, SPECS)


def estimate(task: str, estimator: object, rows: Rows) -> dict[str, object]:
    """The task's estimates of a window."""
    if task == "binary":
        assert isinstance(estimator, estimation.ScoreCalibrator)
        return dict(estimation.estimate_window(estimator, rows.score, rows.prediction == 1))
    if task == "multiclass":
        assert isinstance(estimator, multiclass_estimation.ClassCalibrators)
        agg = multiclass_estimation.aggregate_window(estimator, rows.probabilities, rows.prediction)
        return dict(multiclass_estimation.estimate_from_aggregate(agg))
    assert isinstance(estimator, loss_estimation.LossModel)
    loss = loss_estimation.aggregate_window(estimator, rows.features, rows.prediction)
    return dict(loss_estimation.estimate_from_aggregate(loss))


def realized(task: str, rows: Rows) -> dict[str, float]:
    """What scikit-learn measures once the window's labels are in."""
    y, yhat = rows.label, rows.prediction
    if task == "binary":
        return {
            "accuracy": skm.accuracy_score(y, yhat),
            "precision": skm.precision_score(y, yhat, zero_division=0),
            "recall": skm.recall_score(y, yhat, zero_division=0),
            "f1": skm.f1_score(y, yhat, zero_division=0),
            "false_positive_rate": 1 - skm.recall_score(1 - y, 1 - yhat, zero_division=0),
            "specificity": skm.recall_score(1 - y, 1 - yhat, zero_division=0),
            "roc_auc": skm.roc_auc_score(y, rows.score),
        }
    if task == "multiclass":
        labels = list(CLASSES)
        return {
            "accuracy": skm.accuracy_score(y, yhat),
            "macro_precision": skm.precision_score(y, yhat, labels=labels, average="macro", zero_division=0),
            "macro_recall": skm.recall_score(y, yhat, labels=labels, average="macro", zero_division=0),
            "macro_f1": skm.f1_score(y, yhat, labels=labels, average="macro", zero_division=0),
            "roc_auc_ovr": skm.roc_auc_score(y, rows.probabilities, multi_class="ovr", labels=labels),
        }
    return {
        "mae": skm.mean_absolute_error(y, yhat),
        "rmse": float(np.sqrt(skm.mean_squared_error(y, yhat))),
    }


def compare(
    task: str,
    seeds: range,
    windows: int,
    rows: int,
    shift_sd: float = 0.5,
    concept: bool = False,
) -> list[Comparison]:
    """Estimate vs realized for every metric of ``windows`` shifted windows per baseline (one baseline per seed)."""
    out = []
    for seed in seeds:
        relation = Task(task, seed)
        rng = np.random.default_rng(seed + 1000)
        estimator = fit(task, relation.rows(rng, BASELINE_ROWS, np.zeros(4)))
        for i in range(windows):
            window = relation.rows(rng, rows, rng.normal(0, shift_sd, 4), concept)
            estimates, truth = estimate(task, estimator, window), realized(task, window)
            for metric in estimated_metrics(task):
                e = estimates[metric]
                out.append(
                    Comparison(task, metric, i, rows, e.value, e.lower, e.upper, float(truth[metric]))  # type: ignore[attr-defined]
                )
    return out


def coverage(comparisons: list[Comparison]) -> dict[str, float]:
    """Share of windows whose interval holds the realized value, per metric."""
    frame = pd.DataFrame([(c.metric, c.covered) for c in comparisons], columns=["metric", "covered"])
    return frame.groupby("metric", sort=False)["covered"].mean().to_dict()
