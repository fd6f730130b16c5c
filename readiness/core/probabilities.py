"""A multiclass model's class probabilities as outputs: the stored JSON as numbers, and what drift watches.

Each prediction of a multiclass model may carry one probability per class (stored as JSON
text, ``{"card": 0.7, "cash": 0.2, "refund": 0.1}``). Drift treats them as model outputs,
never features: the confidence (the top class's probability) and each class's probability,
under the names :data:`CONFIDENCE` and ``proba:<class>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from readiness.core.lazy import lazy_module
from readiness.core.mapping import proba_class, proba_role
from readiness.core.records import FeatureSpec

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

CONFIDENCE = "confidence"


def probability_matrix(texts: pd.Series, classes: Sequence[str]) -> np.ndarray:
    """Stored class probabilities (JSON text per row, NULL when unknown) as rows x classes; NaN where unknown.

    >>> probability_matrix(pd.Series(['{"a": 0.2, "b": 0.8}', None]), ["a", "b"]).tolist()
    [[0.2, 0.8], [nan, nan]]
    """
    out = np.full((len(texts), len(classes)), np.nan)
    position = {str(c): i for i, c in enumerate(classes)}
    for row, text in enumerate(texts.tolist()):
        if not isinstance(text, str):
            continue
        try:
            given = json.loads(text)
        except ValueError:
            continue  # a service's malformed text: counted as no probabilities
        if isinstance(given, dict):
            for cls, value in given.items():
                i = position.get(str(cls))
                if i is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[row, i] = float(value)
    return out


def output_specs(classes: Sequence[str]) -> tuple[FeatureSpec, ...]:
    """The output columns drift watches for a multiclass model's probabilities: confidence, then one per class."""
    return (
        FeatureSpec(CONFIDENCE, "numeric"),
        *(FeatureSpec(proba_role(str(c)), "numeric") for c in classes),
    )


def is_probability_output(name: str) -> bool:
    """Whether a drift column is one of the probability outputs (confidence or ``proba:<class>``)."""
    return name == CONFIDENCE or proba_class(name) is not None


def probability_outputs(texts: pd.Series, classes: Sequence[str]) -> pd.DataFrame:
    """Confidence and each class's probability per row, from the stored JSON (NaN where a row has none).

    >>> probability_outputs(pd.Series(['{"a": 0.2, "b": 0.8}']), ["a", "b"]).to_dict("records")
    [{'confidence': 0.8, 'proba:a': 0.2, 'proba:b': 0.8}]
    """
    matrix = probability_matrix(texts, classes)
    complete = ~np.isnan(matrix).any(axis=1)
    confidence = np.full(len(matrix), np.nan)
    if complete.any():
        confidence[complete] = matrix[complete].max(axis=1)
    columns = {CONFIDENCE: confidence} | {proba_role(str(c)): matrix[:, i] for i, c in enumerate(classes)}
    return pd.DataFrame(columns, index=texts.index)
