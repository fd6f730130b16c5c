"""Dataset-level drift by a domain classifier: known answers on seeded synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from readiness.core.multivariate import MultivariateDrift, classifier_drift, encode_features, hanley_mcneil_se
from readiness.core.records import FeatureSpec
from readiness.errors import ReadinessError, SchemaMismatchError

NUMERIC = ("amount", "age", "tenure", "balance")
CATEGORICAL = ("region", "plan")
FEATURES = tuple(FeatureSpec(n, "numeric") for n in NUMERIC) + tuple(
    FeatureSpec(c, "categorical") for c in CATEGORICAL
)


def frame(
    n: int, seed: int, amount_shift: float = 0.0, region_p: tuple[float, ...] | None = None
) -> pd.DataFrame:
    """Seeded rows with four numeric and two categorical features, optionally shifted."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 20, n) + amount_shift,
            "age": rng.integers(18, 90, n),
            "tenure": rng.exponential(3, n),
            "balance": rng.normal(0, 1, n),
            "region": rng.choice(["north", "south", "east", "west"], n, p=region_p),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_distribution_is_not_drift(seed):
    result = classifier_drift(frame(2000, 10 + seed), frame(2000, 20 + seed), FEATURES, seed=seed)
    assert abs(result.auc - 0.5) < 0.04
    assert not result.drifted
    assert result.n_reference == result.n_current == 2000
    assert "no drift" in result.note


def test_numeric_shift_is_drift_and_ranked_first():
    result = classifier_drift(frame(2000, 1), frame(2000, 2, amount_shift=15.0), FEATURES)
    assert result.drifted
    assert result.auc > 0.65
    assert result.auc_lower > 0.5
    assert result.top_features[0][0] == "amount"
    assert "drift:" in result.note


def test_categorical_shift_is_drift_and_ranked_first():
    current = frame(2000, 2, region_p=(0.55, 0.15, 0.15, 0.15))
    result = classifier_drift(frame(2000, 1), current, FEATURES)
    assert result.drifted
    assert result.top_features[0][0] == "region"


def test_top_features_are_sorted_positive_and_at_most_five():
    features = FEATURES + tuple(FeatureSpec(f"noise{i}", "numeric") for i in range(4))
    ref, cur = frame(1500, 1), frame(1500, 2, amount_shift=10.0)
    rng = np.random.default_rng(3)
    for i in range(4):
        ref[f"noise{i}"], cur[f"noise{i}"] = rng.normal(size=1500), rng.normal(size=1500)
    top = classifier_drift(ref, cur, features).top_features
    assert 1 <= len(top) <= 5
    values = [v for _, v in top]
    assert values == sorted(values, reverse=True) and all(v > 0 for v in values)


def test_deterministic_for_a_fixed_seed():
    ref, cur = frame(3000, 1), frame(2500, 2, amount_shift=5.0)
    first = classifier_drift(ref, cur, FEATURES, max_rows=2000, seed=7)
    assert classifier_drift(ref, cur, FEATURES, max_rows=2000, seed=7) == first
    assert isinstance(first, MultivariateDrift)


def test_samples_are_bounded_and_balanced():
    result = classifier_drift(frame(5000, 1), frame(800, 2), FEATURES, max_rows=600)
    assert result.n_reference == result.n_current == 600
    assert "sampled from 5000 reference and 800 current rows" in result.note
    assert result.method == "domain classifier (HistGradientBoosting, 5-fold CV ROC AUC)"


def test_unbalanced_sides_use_the_smaller_size():
    result = classifier_drift(frame(3000, 1), frame(400, 2), FEATURES)
    assert result.n_reference == result.n_current == 400
    assert not result.drifted


@pytest.mark.parametrize("n_ref, n_cur", [(30, 500), (500, 49), (0, 500), (500, 0)])
def test_too_few_rows_is_insufficient_data_not_an_error(n_ref, n_cur):
    result = classifier_drift(frame(n_ref, 1), frame(n_cur, 2), FEATURES)
    assert not result.drifted
    assert result.note.startswith("insufficient data")
    assert math.isnan(result.auc) and result.top_features == ()
    assert (result.n_reference, result.n_current) == (n_ref, n_cur)


def test_empty_frames_without_columns_are_insufficient_data():
    result = classifier_drift(pd.DataFrame(), pd.DataFrame(), FEATURES)
    assert not result.drifted and "insufficient data" in result.note


def test_small_samples_of_one_distribution_do_not_alarm():
    alarms = [classifier_drift(frame(60, s), frame(60, 100 + s), FEATURES, seed=s).drifted for s in range(6)]
    assert sum(alarms) <= 1


def test_missing_current_column_raises_schema_mismatch_naming_it():
    current = frame(500, 2).drop(columns=["tenure"])
    with pytest.raises(SchemaMismatchError, match="'tenure'") as info:
        classifier_drift(frame(500, 1), current, FEATURES)
    message = str(info.value)
    assert "current" in message and "'amount'" in message  # what was found
    assert isinstance(info.value, ReadinessError)


def test_missing_reference_column_raises_schema_mismatch():
    with pytest.raises(SchemaMismatchError, match=r"reference.*'plan'"):
        classifier_drift(frame(500, 1).drop(columns=["plan"]), frame(500, 2), FEATURES)


def test_nan_heavy_columns_work_and_missingness_shift_is_found():
    ref, cur = frame(2000, 1), frame(2000, 2)
    rng = np.random.default_rng(4)
    ref.loc[rng.random(2000) < 0.9, "balance"] = np.nan
    cur.loc[rng.random(2000) < 0.6, "balance"] = np.nan
    ref.loc[rng.random(2000) < 0.95, "region"] = None
    cur.loc[rng.random(2000) < 0.95, "region"] = None
    result = classifier_drift(ref, cur, FEATURES)
    assert result.drifted
    assert result.top_features[0][0] == "balance"


def test_same_missingness_is_not_drift():
    ref, cur = frame(2000, 1), frame(2000, 2)
    rng = np.random.default_rng(5)
    for side in (ref, cur):
        side.loc[rng.random(2000) < 0.8, "amount"] = np.nan
        side.loc[rng.random(2000) < 0.8, "plan"] = None
    assert not classifier_drift(ref, cur, FEATURES).drifted


def test_constant_and_all_missing_columns_are_not_drift():
    features = (FeatureSpec("k", "numeric"), FeatureSpec("c", "categorical"), FeatureSpec("gone", "numeric"))
    ref = pd.DataFrame({"k": [1.0] * 300, "c": ["a"] * 300, "gone": [np.nan] * 300})
    result = classifier_drift(ref, ref.copy(), features)
    assert result.auc == pytest.approx(0.5)
    assert not result.drifted and result.top_features == ()


def test_high_cardinality_categorical_no_drift_and_new_values_found():
    rng = np.random.default_rng(6)
    ids = [f"user{i}" for i in range(3000)]
    features = (FeatureSpec("user", "categorical"), FeatureSpec("x", "numeric"))
    ref = pd.DataFrame({"user": rng.choice(ids, 2000), "x": rng.normal(size=2000)})
    cur = pd.DataFrame({"user": rng.choice(ids, 2000), "x": rng.normal(size=2000)})
    assert not classifier_drift(ref, cur, features).drifted
    cur.loc[:999, "user"] = "new-user"
    result = classifier_drift(ref, cur, features)
    assert result.drifted and result.top_features[0][0] == "user"


def test_encode_caps_categories_and_coerces_numbers():
    ref = pd.DataFrame({"c": [f"v{i}" for i in range(80)], "n": ["1.5"] * 79 + ["oops"]})
    cur = pd.DataFrame({"c": ["v0"] * 80, "n": [np.inf] + [2] * 79})
    x, cat = encode_features(ref, cur, [FeatureSpec("c", "categorical"), FeatureSpec("n", "numeric")])
    assert cat.tolist() == [True, False]
    assert np.nanmax(x[:, 0]) == 50  # codes 0..49 for the top 50, 50 for every other value
    assert x[0, 0] == 0  # the most frequent value ("v0") gets code 0
    assert np.isnan(x[79, 1]) and np.isnan(x[80, 1]) and x[0, 1] == 1.5


def test_hanley_mcneil_se_shrinks_with_more_rows():
    assert hanley_mcneil_se(0.7, 1000, 1000) < hanley_mcneil_se(0.7, 100, 100)
    assert hanley_mcneil_se(1.0, 100, 100) == 0.0


@pytest.mark.parametrize("kwargs", [{"folds": 1}, {"threshold": 0.5}, {"max_rows": 10}])
def test_bad_settings_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        classifier_drift(frame(100, 1), frame(100, 2), FEATURES, **kwargs)


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="'amount': 'text'"):
        classifier_drift(frame(100, 1), frame(100, 2), [FeatureSpec("amount", "text")])


def test_twenty_thousand_rows_a_side_with_wide_categoricals_find_the_shifted_column():
    rng = np.random.default_rng(8)
    n = 20_000
    features = [FeatureSpec(f"x{i}", "numeric") for i in range(12)] + [
        FeatureSpec(f"c{i}", "categorical") for i in range(3)
    ]

    def side(shift: float) -> pd.DataFrame:
        data = {f"x{i}": rng.normal(size=n) for i in range(12)}
        data["x3"] = data["x3"] + shift
        data.update({f"c{i}": rng.choice([f"v{j}" for j in range(200)], n) for i in range(3)})
        return pd.DataFrame(data)

    result = classifier_drift(side(0.0), side(0.3), features)
    assert result.drifted and result.top_features[0][0] == "x3"
