"""Find a classification label that no common name announces, by what its values say.

A file's label is often named for its meaning (``repaid``, ``churned``, ``default``), which no
list of names can foresee. For a classifier, the label is the column whose values are the
prediction's classes and that agrees with the prediction well beyond chance: that is what a
useful model does. A binary feature such as ``has_guarantor`` holds the same two values but
agrees only by chance. The guess is proposed, never imposed: the user sees it and confirms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from readiness.core.mapping import ColumnMapping
from readiness.core.validate import canonical_classes

MAX_CLASSES = 50  # more distinct predictions than this is not a classifier's output
MIN_AGREEMENT = 0.5  # the label matches the prediction on at least half the rows...
MIN_LIFT = 0.1  # ...and on this much more of them than chance would give
SAMPLE_ROWS = 10_000  # enough to tell a label from a feature; a million-row file is not read whole


@dataclass(frozen=True)
class LabelGuess:
    """A column proposed as the label, with the evidence for it."""

    column: str
    agreement: float  # share of rows where it equals the prediction
    chance: float  # the share chance alone would give, from the two columns' class shares

    @property
    def reason(self) -> str:
        """Why it was proposed, in a sentence for the Data page."""
        return (
            f"{self.column!r} is proposed as the label from its values: it holds the prediction's classes and "
            f"equals the prediction on {self.agreement:.0%} of rows (chance would give {self.chance:.0%})."
        )


def guess_label(frame: pd.DataFrame, mapping: ColumnMapping) -> LabelGuess | None:
    """The unmapped column that looks like a classifier's label, or None when none clearly does.

    >>> frame = pd.DataFrame({"y_pred": [1, 0, 1, 0, 1, 0], "repaid": [1, 0, 1, 0, 0, 0], "flag": [0, 1, 1, 0, 0, 1]})
    >>> guess_label(frame, ColumnMapping(roles={"prediction": "y_pred"})).column
    'repaid'
    """
    prediction = mapping.column_for("prediction")
    if prediction is None or mapping.column_for("label") is not None or prediction not in frame:
        return None
    frame = frame.head(SAMPLE_ROWS)
    predicted = _classes(frame[prediction])
    known = set(predicted.dropna())
    if not 2 <= len(known) <= MAX_CLASSES:
        return None
    taken = {*mapping.roles.values(), *mapping.ignore, *mapping.numeric}
    best: LabelGuess | None = None
    for column in frame.columns:
        if column in taken or frame[column].nunique() > MAX_CLASSES:
            continue
        guess = _judge(column, _classes(frame[column]), predicted, known)
        if guess is not None and (
            best is None or guess.agreement - guess.chance > best.agreement - best.chance
        ):
            best = guess
    return best


def id_column(frame: pd.DataFrame, mapping: ColumnMapping) -> str | None:
    """The one unmapped column named like an id (``case_id``, ``loanId``) whose values are unique, or None.

    >>> id_column(pd.DataFrame({"case_id": ["a", "b"], "customer_id": ["x", "x"], "y": [1, 0]}), ColumnMapping())
    'case_id'
    """
    taken = set(mapping.roles.values())
    sample = frame.head(SAMPLE_ROWS)
    named = [c for c in frame.columns if c not in taken and _named_like_an_id(str(c))]
    unique = [c for c in named if sample[c].notna().all() and sample[c].is_unique]
    return unique[0] if len(unique) == 1 else None


def _named_like_an_id(name: str) -> bool:
    """``id``, ``case_id``, ``case id``, ``case-id`` or ``caseId``."""
    name = name.strip()
    return (
        re.search(r"(?:^|[_\s\-])id$", name, re.IGNORECASE) is not None
        or re.search(r"[a-z]Id$", name) is not None
    )


def _classes(values: pd.Series) -> pd.Series:
    """Values as canonical class text (1, 1.0 and "1" alike), missing kept missing.

    Text is mapped once per distinct value (:func:`canonical_classes`): value by value, the
    guess took a quarter of a second of every live upload.
    """
    return canonical_classes(values)


def _judge(column: str, values: pd.Series, predicted: pd.Series, known: set[str]) -> LabelGuess | None:
    """The evidence that one column is the label, or None when it is not a candidate."""
    both = values.notna() & predicted.notna()
    if both.sum() < 2:
        return None
    mine, theirs = values[both], predicted[both]
    if mine.nunique() < 2 or not set(mine.unique()) <= known:
        return None
    agreement = float((mine == theirs).mean())
    share_mine, share_theirs = mine.value_counts(normalize=True), theirs.value_counts(normalize=True)
    chance = float(sum(share_mine.get(c, 0.0) * share_theirs.get(c, 0.0) for c in known))
    if agreement < MIN_AGREEMENT or agreement - chance < MIN_LIFT:
        return None
    return LabelGuess(column, agreement, chance)
