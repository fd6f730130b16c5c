"""Find a binary classifier's score that no common name announces, by what its values say.

A score column is often named for its class (``prob_benign``, ``p_default``, ``churn_risk``),
which no list of names can foresee, and a score left unmapped becomes a feature: the model's
ROC AUC, log loss and label-free estimate then have nothing to work on. For a binary
classifier the score is the column whose values are probabilities (every one between 0 and 1,
more than two of them) and that a single threshold splits exactly as the prediction splits
the rows into the positive class and the other. The guess is proposed, never imposed: the
user sees it and confirms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness.core.mapping import ColumnMapping
from readiness.core.validate import canonical_class, canonical_classes, parsed_numbers

SAMPLE_ROWS = 10_000  # as the label guess: enough to tell, without reading a large file whole
MIN_AGREEMENT = 0.98  # a threshold on the column reproduces the prediction on this share of rows
MIN_ROWS = 20  # fewer scored rows than this prove nothing


@dataclass(frozen=True)
class ScoreGuess:
    """A column proposed as the score (the positive class's probability), with the evidence for it."""

    column: str
    positive: str  # the class it is the probability of
    threshold: float  # the cut that reproduces the prediction best
    agreement: float  # share of rows where (value >= threshold) == (prediction is the positive class)

    @property
    def reason(self) -> str:
        """Why it was proposed, in a sentence for the Data page."""
        return (
            f"{self.column!r} is proposed as the score (the probability of class {self.positive!r}) from its "
            f"values: they lie between 0 and 1, and at {self.threshold:.3g} they split the rows as the prediction "
            f"does on {self.agreement:.0%} of them."
        )


def guess_score(frame: pd.DataFrame, mapping: ColumnMapping, positive: str | None) -> ScoreGuess | None:
    """The unmapped column that looks like a binary classifier's score for ``positive``, or None.

    >>> frame = pd.DataFrame({"y_pred": [1, 0, 1, 0] * 6, "p_fraud": [0.9, 0.1, 0.7, 0.3] * 6})
    >>> guess_score(frame, ColumnMapping(roles={"prediction": "y_pred"}), "1").column
    'p_fraud'
    """
    prediction = mapping.column_for("prediction")
    if (
        positive is None
        or prediction is None
        or prediction not in frame
        or mapping.column_for("score") is not None
        or mapping.class_probabilities
    ):
        return None
    positive = canonical_class(positive)
    if positive is None:
        return None
    frame = frame.head(SAMPLE_ROWS)
    predicted = canonical_classes(frame[prediction])
    classes = set(predicted.dropna())
    if len(classes) != 2 or positive not in classes:
        return None
    is_positive = (predicted == positive).to_numpy(dtype=bool)
    has_prediction = predicted.notna().to_numpy()
    taken = {*mapping.roles.values(), *mapping.ignore, *mapping.categorical}
    guesses = [
        found
        for column in frame.columns
        if column not in taken
        and (found := _judge(str(column), frame[column], is_positive, has_prediction, positive))
    ]
    if len(guesses) != 1:
        return None  # none, or two that fit equally: ask rather than pick
    return guesses[0]


def _judge(
    column: str, values: pd.Series, is_positive: np.ndarray, predicted: np.ndarray, positive: str
) -> ScoreGuess | None:
    """The evidence that one column is the score, or None when it is not."""
    numbers = parsed_numbers(values).to_numpy(dtype=np.float64, na_value=np.nan)  # as validation reads them
    present = values.notna().to_numpy()
    if (np.isnan(numbers) & present).any():
        return None  # text among the values: not a probability
    usable = ~np.isnan(numbers) & predicted
    x, y = numbers[usable], is_positive[usable]
    if x.size < MIN_ROWS or x.min() < 0 or x.max() > 1 or np.unique(x).size <= 2:
        return None  # too few, outside [0, 1], or a 0/1 flag (a label or a feature)
    threshold, agreement = _best_cut(x, y)
    if agreement < MIN_AGREEMENT:
        return None
    return ScoreGuess(column, positive, threshold, agreement)


def _best_cut(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The threshold t maximising the share of rows with (x >= t) == y, and that share."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])  # each distinct value's first row
    negatives_below = np.r_[0, np.cumsum(~ys)][starts]  # rows under the cut predicted negative...
    positives_from = ys.sum() - np.r_[0, np.cumsum(ys)][starts]  # ...and at or above it, positive
    right = negatives_below + positives_from
    best = int(np.argmax(right))
    return float(xs[starts[best]]), float(right[best] / xs.size)
