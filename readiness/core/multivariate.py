"""Dataset-level drift: can a classifier tell baseline rows from live rows?

A domain classifier (scikit-learn's HistGradientBoostingClassifier) is trained to separate a
bounded, balanced, seeded sample of reference rows from one of current rows. Its stratified
cross-validated ROC AUC is the drift statistic: about 0.5 when the two sets look alike, near
1 when they are easy to tell apart, including shifts no single column shows (changed
correlations). Permutation importance on one held-out fold names the columns that separate
the sets most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from readiness.core.records import FeatureSpec
from readiness.errors import SchemaMismatchError

if TYPE_CHECKING:  # scikit-learn is imported when a classifier is trained, not with this module
    from sklearn.ensemble import HistGradientBoostingClassifier

MIN_ROWS_PER_SIDE = 50
MAX_CATEGORIES = 50
TOP_FEATURES = 5
PERMUTATION_REPEATS = 2
MAX_ITER = 100
KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class MultivariateDrift:
    """Result of the domain-classifier drift check on one reference/current pair."""

    auc: float
    auc_std: float
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    top_features: tuple[tuple[str, float], ...]
    note: str
    method: str
    auc_lower: float = math.nan


def classifier_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[FeatureSpec],
    max_rows: int = 20_000,
    folds: int = 5,
    threshold: float = 0.55,
    seed: int = 0,
) -> MultivariateDrift:
    """Detect dataset-level drift with a domain classifier's cross-validated ROC AUC.

    Both sides are sampled without replacement (seeded) to the same size,
    ``min(len(reference), len(current), max_rows)`` rows, so the classes are balanced.
    ``auc`` is the mean ROC AUC over ``folds`` stratified folds and ``auc_std`` its standard
    deviation across folds. Drift requires both ``auc >= threshold`` and
    ``auc_lower > 0.5``, where ``auc_lower = auc - 2 * se`` and ``se`` is the larger of the
    Hanley-McNeil (1982) standard error of an AUC over all out-of-fold rows and the fold
    standard error ``auc_std / sqrt(folds)``; small samples therefore do not alarm on chance.
    ``top_features`` lists up to five columns with positive permutation importance (drop in
    ROC AUC when the column is shuffled, on the first fold's held-out rows), largest first.
    An empty frame, or fewer than 50 rows on a side, gives ``drifted=False`` with an
    "insufficient data" note; a feature column absent from a non-empty frame raises
    SchemaMismatchError.
    """
    _check_arguments(features, max_rows, folds, threshold)
    method = f"domain classifier (HistGradientBoosting, {folds}-fold CV ROC AUC)"
    if len(reference) == 0 or len(current) == 0:
        return _insufficient(reference, current, threshold, method)
    _check_columns(reference, current, features)
    n = min(len(reference), len(current), max_rows)
    if n < max(MIN_ROWS_PER_SIDE, folds):
        return _insufficient(reference, current, threshold, method)
    rng = np.random.default_rng(seed)
    ref = _sample(reference, n, rng)
    cur = _sample(current, n, rng)
    x, is_categorical = encode_features(ref, cur, features)
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    varying = varying_columns(x)
    aucs, importances = [0.5] * folds, np.zeros(x.shape[1])
    if varying.any():
        with threadpool_limits(1):
            aucs, importances[varying] = _cross_validate(
                x[:, varying], y, is_categorical[varying], folds, seed
            )
    auc, auc_std = float(np.mean(aucs)), float(np.std(aucs, ddof=1))
    lower = auc - 2 * max(hanley_mcneil_se(auc, n, n), auc_std / math.sqrt(folds))
    drifted = bool(auc >= threshold and lower > 0.5)
    names = [f.name for f in features]
    return MultivariateDrift(
        auc=auc,
        auc_std=auc_std,
        threshold=threshold,
        drifted=drifted,
        n_reference=n,
        n_current=n,
        top_features=_top_features(names, importances),
        note=_note(auc, lower, threshold, drifted, len(reference), len(current), n),
        method=method,
        auc_lower=lower,
    )


def hanley_mcneil_se(auc: float, n_positive: int, n_negative: int) -> float:
    """Standard error of a ROC AUC by Hanley and McNeil (1982).

    >>> round(hanley_mcneil_se(0.5, 50, 50), 4)
    0.058
    """
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc**2) + (n_negative - 1) * (q2 - auc**2)) / (
        n_positive * n_negative
    )
    return math.sqrt(max(variance, 0.0))


def encode_features(
    reference: pd.DataFrame, current: pd.DataFrame, features: Sequence[FeatureSpec]
) -> tuple[np.ndarray, np.ndarray]:
    """Stack reference over current as a float matrix (NaN kept) and flag categorical columns.

    Categorical columns become codes of their ``MAX_CATEGORIES`` most frequent values (over
    both sides), with one more code for every other value.

    >>> ref = pd.DataFrame({"a": [1.0, None], "c": ["x", "y"]})
    >>> cur = pd.DataFrame({"a": [3, 4], "c": ["y", None]})
    >>> x, cat = encode_features(ref, cur, [FeatureSpec("a", "numeric"), FeatureSpec("c", "categorical")])
    >>> x.tolist(), cat.tolist()
    ([[1.0, 1.0], [nan, 0.0], [3.0, 0.0], [4.0, nan]], [False, True])
    """
    columns = []
    for spec in features:
        both = pd.concat([reference[spec.name], current[spec.name]], ignore_index=True)
        if spec.kind == "categorical":
            columns.append(_category_codes(both))
        else:
            columns.append(_numeric(both))
    x = np.column_stack(columns) if columns else np.empty((len(reference) + len(current), 0))
    return x, np.array([f.kind == "categorical" for f in features], dtype=bool)


def varying_columns(x: np.ndarray) -> np.ndarray:
    """Flag columns holding at least two distinct values, counting missing as a value.

    Constant and all-missing columns cannot separate the two sets, so they are not fitted.

    >>> varying_columns(np.array([[1.0, 2.0, np.nan, 1.0], [1.0, 3.0, np.nan, np.nan]])).tolist()
    [False, True, False, True]
    """
    missing = np.isnan(x)
    low = np.where(missing, np.inf, x).min(axis=0)
    high = np.where(missing, -np.inf, x).max(axis=0)
    some_missing, all_missing = missing.any(axis=0), missing.all(axis=0)
    return ~all_missing & ((high > low) | some_missing)


def _check_arguments(features: Sequence[FeatureSpec], max_rows: int, folds: int, threshold: float) -> None:
    """Raise ValueError for settings no caller should pass (a programming error)."""
    if not features:
        raise ValueError("classifier_drift needs at least one feature.")
    names = [f.name for f in features]
    if len(set(names)) != len(names):
        raise ValueError(f"Feature names must be unique, got {names}.")
    bad = [f"{f.name!r}: {f.kind!r}" for f in features if f.kind not in KINDS]
    if bad:
        raise ValueError(f"Feature kinds must be one of {KINDS}, got {', '.join(bad)}.")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}.")
    if max_rows < MIN_ROWS_PER_SIDE:
        raise ValueError(f"max_rows must be at least {MIN_ROWS_PER_SIDE}, got {max_rows}.")
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (0.5, 1], got {threshold}.")


def _check_columns(reference: pd.DataFrame, current: pd.DataFrame, features: Sequence[FeatureSpec]) -> None:
    """Raise SchemaMismatchError naming features absent from either frame."""
    for side, frame in (("current", current), ("reference", reference)):
        missing = [f.name for f in features if f.name not in frame.columns]
        if missing:
            raise SchemaMismatchError(
                f"The {side} data lacks feature column(s) {', '.join(map(repr, missing))} "
                f"(found: {', '.join(map(repr, map(str, frame.columns[:20])))}"
                f"{', ...' if len(frame.columns) > 20 else ''}). "
                "Add or rename the columns, or choose a baseline whose features this data has."
            )


def _insufficient(
    reference: pd.DataFrame, current: pd.DataFrame, threshold: float, method: str
) -> MultivariateDrift:
    """The result when a side has too few rows to train and score a classifier."""
    note = (
        f"insufficient data: {len(reference)} reference and {len(current)} current rows; "
        f"the domain classifier needs at least {MIN_ROWS_PER_SIDE} on each side."
    )
    return MultivariateDrift(
        auc=math.nan,
        auc_std=math.nan,
        threshold=threshold,
        drifted=False,
        n_reference=len(reference),
        n_current=len(current),
        top_features=(),
        note=note,
        method=method,
    )


def _sample(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` rows drawn without replacement, in their original order."""
    if len(frame) == n:
        return frame.reset_index(drop=True)
    positions = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[positions].reset_index(drop=True)


def _numeric(values: pd.Series) -> np.ndarray:
    """Values as floats; text that is not a number and infinities become NaN."""
    numbers = np.array(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


def _category_codes(values: pd.Series) -> np.ndarray:
    """Codes 0..K-1 for the K most frequent values (ties by text), K for any other, NaN for missing."""
    present = values.notna().to_numpy()
    text = values[present].astype(str)
    counts = text.value_counts()
    order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
    lookup = {value: code for code, (value, _) in enumerate(order)}
    codes = np.full(len(values), np.nan)
    codes[present] = text.map(lambda v: lookup.get(v, len(lookup))).to_numpy(dtype=float)
    return codes


def _classifier(is_categorical: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    """A modest, deterministic gradient-boosting domain classifier."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=MAX_ITER,
        learning_rate=0.1,
        max_leaf_nodes=31,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        categorical_features=is_categorical if is_categorical.any() else None,
        random_state=seed,
    )


def _cross_validate(
    x: np.ndarray, y: np.ndarray, is_categorical: np.ndarray, folds: int, seed: int
) -> tuple[list[float], np.ndarray]:
    """Out-of-fold ROC AUC per fold, and permutation importances on the first fold."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    aucs: list[float] = []
    importances = np.zeros(x.shape[1])
    for i, (train, test) in enumerate(splitter.split(x, y)):
        model = _classifier(is_categorical, seed).fit(x[train], y[train])
        aucs.append(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])))
        if i == 0:
            importances = permutation_importance(
                model, x[test], y[test], scoring="roc_auc", n_repeats=PERMUTATION_REPEATS, random_state=seed
            ).importances_mean
    return aucs, importances


def _top_features(names: Sequence[str], importances: np.ndarray) -> tuple[tuple[str, float], ...]:
    """Up to five (column, importance) pairs with positive importance, largest first."""
    ranked = sorted(zip(names, importances, strict=False), key=lambda item: (-item[1], item[0]))
    rounded = [(name, round(float(value), 4)) for name, value in ranked]
    return tuple((name, value) for name, value in rounded if value > 0)[:TOP_FEATURES]


def _note(auc: float, lower: float, threshold: float, drifted: bool, n_ref: int, n_cur: int, n: int) -> str:
    """One sentence saying what the AUC means, and how much data it used."""
    sampled = f" (sampled from {n_ref} reference and {n_cur} current rows)" if n < max(n_ref, n_cur) else ""
    if drifted:
        verdict = f"drift: a classifier tells the two sets apart (AUC {auc:.3f} >= {threshold})"
    elif auc >= threshold:
        verdict = (
            f"no drift: AUC {auc:.3f} is above {threshold} but its lower bound {lower:.3f} is not above 0.5"
        )
    else:
        verdict = f"no drift: the two sets are hard to tell apart (AUC {auc:.3f} < {threshold})"
    return f"{verdict}; {n} rows per side{sampled}."
