"""Label-free estimates for multiclass (per-class CBPE) and regression (direct loss estimation), and their dispatch.

Coverage is checked on generated windows with covariate shift (``tests/shifted_windows.py``):
the 95% intervals must hold the value scikit-learn measures once the labels are in, in at
least 90% of windows, for every task; under concept shift they must not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from readiness.core import estimators, loss_estimation, multiclass_estimation
from readiness.core.estimation import EstimationAggregate, ScoreCalibrator
from readiness.core.records import FeatureSpec
from readiness.errors import EstimationError
from tests.shifted_windows import CLASSES, SPECS, TASKS, Task, compare, coverage

# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("task", TASKS)
def test_intervals_cover_the_realized_metric_under_covariate_shift(task):
    comparisons = compare(task, range(4), windows=10, rows=1000)
    covered = coverage(comparisons)
    print(task, covered)
    assert set(covered) == set(estimators.estimated_metrics(task))
    assert all(share >= 0.90 for share in covered.values()), covered


@pytest.mark.parametrize("task", TASKS)
def test_estimates_follow_the_shift(task):
    """The estimate moves with the realized value from window to window (not a constant guess)."""
    comparisons = [c for c in compare(task, range(2), windows=15, rows=2000, shift_sd=0.8)]
    headline = estimators.estimated_metric(task, "")
    pairs = np.array([(c.estimate, c.realized) for c in comparisons if c.metric == headline])
    assert np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1] > 0.8


@pytest.mark.parametrize(("task", "metric"), [("multiclass", "accuracy"), ("regression", "mae")])
def test_concept_shift_puts_the_realized_value_outside_the_interval(task, metric):
    comparisons = [
        c for c in compare(task, range(2), windows=5, rows=1000, concept=True) if c.metric == metric
    ]
    assert sum(c.covered for c in comparisons) == 0


# --------------------------------------------------------------------------- multiclass


def _multiclass_rows(seed: int = 0, n: int = 3000):
    return Task("multiclass", seed).rows(np.random.default_rng(seed), n, np.zeros(4))


def test_class_calibrators_fit_one_isotonic_map_per_class_and_round_trip():
    rows = _multiclass_rows()
    cal = multiclass_estimation.fit_class_calibrators(rows.probabilities, rows.label, CLASSES)
    assert cal.classes == CLASSES
    assert [c.method for c in cal.calibrators] == ["isotonic"] * 4
    assert cal.note == ""
    back = estimators.estimator_from_dict(json.loads(json.dumps(cal.to_dict())))
    assert back == cal


def test_a_class_without_enough_rows_is_used_as_logged_with_a_note():
    p = np.array([[0.6, 0.4]] * 300)
    labels = ["a"] * 300  # class b never occurs
    cal = multiclass_estimation.fit_class_calibrators(p, labels, ["a", "b"])
    assert [c.method for c in cal.calibrators] == ["identity", "identity"]
    assert cal.note == (
        "a: the label of every baseline row; b: never the label in the baseline "
        "(so those probabilities are used as logged, assumed calibrated)"
    )
    few = multiclass_estimation.fit_class_calibrators(
        np.array([[0.6, 0.4]] * 50), ["a", "b"] * 25, ["a", "b"]
    )
    assert few.note == (
        "a, b: 50 labelled baseline rows with class probabilities, fewer than the 200 needed to calibrate "
        "(so those probabilities are used as logged, assumed calibrated)"
    )


def test_accuracy_estimate_is_the_mean_calibrated_probability_of_the_predicted_class():
    cal = multiclass_estimation.ClassCalibrators(("a", "b", "c"), (ScoreCalibrator("identity"),) * 3)
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    agg = multiclass_estimation.aggregate_window(cal, p, ["a", "b", "c", "a"])
    est = multiclass_estimation.estimate_from_aggregate(agg)
    assert est["accuracy"].value == pytest.approx((0.7 + 0.6 + 0.6 + 0.5) / 4)
    assert est["accuracy"].lower < est["accuracy"].value < est["accuracy"].upper
    # class a: expected TP 1.2 over 2 predicted, expected FN 0.1 + 0.2: precision 0.6, recall 1.2 / 1.5
    per_class = multiclass_estimation.class_estimates(agg)
    assert per_class["a"]["precision"].value == pytest.approx(0.6)
    assert per_class["a"]["recall"].value == pytest.approx(1.2 / 1.5)
    macro = np.mean([per_class[c]["f1"].value for c in "abc"])
    assert est["macro_f1"].value == pytest.approx(macro)


def test_expected_accuracy_equals_the_mean_over_label_draws():
    """With calibrated probabilities, the estimate is the expectation of what labels will realize."""
    rng = np.random.default_rng(3)
    p = rng.dirichlet([1, 1, 1], 400)
    predicted = np.array(["a", "b", "c"])[p.argmax(axis=1)]
    cal = multiclass_estimation.ClassCalibrators(("a", "b", "c"), (ScoreCalibrator("identity"),) * 3)
    est = multiclass_estimation.estimate_from_aggregate(
        multiclass_estimation.aggregate_window(cal, p, predicted)
    )
    draws = [
        skm.accuracy_score(
            np.array(["a", "b", "c"])[(rng.random(400)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)],
            predicted,
        )
        for _ in range(2000)
    ]
    assert est["accuracy"].value == pytest.approx(np.mean(draws), abs=0.003)
    lo, hi = np.quantile(draws, [0.025, 0.975])
    assert est["accuracy"].lower == pytest.approx(lo, abs=0.02)
    assert est["accuracy"].upper == pytest.approx(hi, abs=0.02)


def test_a_class_never_predicted_counts_as_precision_zero():
    cal = multiclass_estimation.ClassCalibrators(("a", "b"), (ScoreCalibrator("identity"),) * 2)
    agg = multiclass_estimation.aggregate_window(cal, np.array([[0.8, 0.2], [0.6, 0.4]]), ["a", "a"])
    est = multiclass_estimation.estimate_from_aggregate(agg)
    assert est["macro_precision"].value == pytest.approx((0.7 + 0.0) / 2)


def test_rows_without_probabilities_are_left_out():
    cal = multiclass_estimation.ClassCalibrators(("a", "b"), (ScoreCalibrator("identity"),) * 2)
    agg = multiclass_estimation.aggregate_window(cal, np.array([[0.8, 0.2], [np.nan, np.nan]]), ["a", "b"])
    assert agg.n == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**16))
def test_multiclass_merge_of_a_split_equals_the_union(cut, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet([1, 1, 1], 61)
    predicted = np.array(["a", "b", "c"])[p.argmax(axis=1)]
    cal = multiclass_estimation.ClassCalibrators(("a", "b", "c"), (ScoreCalibrator("identity"),) * 3)
    whole = multiclass_estimation.aggregate_window(cal, p, predicted)
    parts = estimators.merge_all(
        [
            multiclass_estimation.aggregate_window(cal, p[:cut], predicted[:cut]),
            multiclass_estimation.aggregate_window(cal, p[cut:], predicted[cut:]),
        ]
    )
    a, b = estimators.estimate(whole), estimators.estimate(parts)
    for name in multiclass_estimation.METRICS:
        assert a[name].value == pytest.approx(b[name].value)


def test_multiclass_aggregate_round_trips_and_refuses_what_it_did_not_write():
    rows = _multiclass_rows(n=500)
    cal = multiclass_estimation.fit_class_calibrators(rows.probabilities, rows.label, CLASSES)
    agg = multiclass_estimation.aggregate_window(cal, rows.probabilities, rows.prediction)
    assert estimators.aggregate_from_dict(json.loads(json.dumps(agg.to_dict()))) == agg
    with pytest.raises(EstimationError, match="cannot be read"):
        estimators.aggregate_from_dict({"kind": "multiclass", "classes": ["a"]})
    with pytest.raises(EstimationError, match="different classes"):
        multiclass_estimation.merge(
            agg,
            multiclass_estimation.aggregate_window(
                multiclass_estimation.ClassCalibrators(("x", "y", "z", "w"), cal.calibrators),
                rows.probabilities,
                rows.prediction,
            ),
        )


def test_probabilities_outside_the_unit_interval_are_refused():
    cal = multiclass_estimation.ClassCalibrators(("a", "b"), (ScoreCalibrator("identity"),) * 2)
    with pytest.raises(EstimationError, match=r"found 1\.7"):
        multiclass_estimation.aggregate_window(cal, np.array([[1.7, 0.2]]), ["a"])
    with pytest.raises(EstimationError, match="one column per class"):
        multiclass_estimation.aggregate_window(cal, np.array([[0.7, 0.2, 0.1]]), ["a"])


# --------------------------------------------------------------------------- regression


def _regression_rows(seed: int = 0, n: int = 4000, shift: float = 0.0):
    return Task("regression", seed).rows(np.random.default_rng(seed), n, np.full(4, shift))


def test_loss_model_learns_where_errors_are_larger():
    rows = _regression_rows()
    model = loss_estimation.fit_loss_model(rows.features, rows.prediction, rows.label, SPECS)
    assert model.method == "glm" and model.note == ""
    calm = pd.DataFrame({"x0": [0.0], "x1": [0.0], "x2": [0.0], "x3": [0.0], "city": ["north"]})
    noisy = calm.assign(x2=[2.5], city=["west"])  # errors grow with |x2| and from north to west
    a_calm, _ = model.predict(calm, [0.0])
    a_noisy, s_noisy = model.predict(noisy, [0.0])
    assert a_noisy[0] > 2.5 * a_calm[0]
    assert s_noisy[0] > a_noisy[0] ** 2  # E[e^2] >= E[|e|]^2


def test_the_error_model_carries_the_baseline_tail_trend_a_bounded_way_past_it():
    """Errors grow with |x2|: past the baseline's 95% quantile the predicted error keeps growing, then levels off."""
    model = loss_estimation.fit_loss_model(*_fit_args(_regression_rows()))
    tails = next(i.tails for i in model.inputs if i.name == "x2")
    row = pd.DataFrame({"x0": [0.0] * 4, "x1": [0.0] * 4, "x3": [0.0] * 4, "city": ["north"] * 4})
    span = tails[1] - tails[0]
    x2 = [tails[1], tails[1] + 0.5 * span, tails[1] + loss_estimation.TAIL_CAP * span, tails[1] + 5 * span]
    a, _ = model.predict(row.assign(x2=x2), [0.0] * 4)
    assert a[0] < a[1] < a[2]
    assert a[3] == pytest.approx(a[2])  # capped: no runaway extrapolation


def test_loss_estimate_of_a_baseline_like_window_is_its_mae_and_rmse():
    model = loss_estimation.fit_loss_model(*_fit_args(_regression_rows(seed=1)))
    window = _regression_rows(seed=2, n=20_000)
    est = loss_estimation.estimate_from_aggregate(
        loss_estimation.aggregate_window(model, window.features, window.prediction)
    )
    errors = window.label - window.prediction
    assert est["mae"].value == pytest.approx(np.abs(errors).mean(), rel=0.03)
    assert est["rmse"].value == pytest.approx(np.sqrt((errors**2).mean()), rel=0.03)
    assert est["mae"].lower <= np.abs(errors).mean() <= est["mae"].upper


def _fit_args(rows):
    return rows.features, rows.prediction, rows.label, SPECS


def test_loss_model_round_trips_through_json_and_predicts_the_same():
    rows = _regression_rows(n=1000)
    model = loss_estimation.fit_loss_model(*_fit_args(rows))
    back = estimators.estimator_from_dict(json.loads(json.dumps(model.to_dict())))
    assert back == model
    assert np.allclose(
        back.predict(rows.features, rows.prediction)[0], model.predict(rows.features, rows.prediction)[0]
    )


def test_unseen_categories_missing_values_and_missing_columns_fall_in_their_own_bins():
    model = loss_estimation.fit_loss_model(*_fit_args(_regression_rows(n=1000)))
    odd = pd.DataFrame({"x0": [np.nan], "x1": [1e9], "x2": [-1e9], "city": ["atlantis"]})  # no x3 at all
    a, s = model.predict(odd, [0.0])
    assert np.isfinite(a).all() and np.isfinite(s).all() and (a > 0).all()


def test_small_baseline_gives_the_constant_model_with_a_note():
    model = loss_estimation.fit_loss_model(pd.DataFrame(index=range(50)), np.zeros(50), np.arange(50.0), ())
    assert model.method == "constant"
    assert "fewer than the 200 needed" in model.note
    est = loss_estimation.estimate_from_aggregate(
        loss_estimation.aggregate_window(model, pd.DataFrame(index=range(3)), [1.0, 2.0, 3.0])
    )
    assert est["mae"].value == pytest.approx(24.5)


def test_a_baseline_without_numeric_labels_is_refused():
    with pytest.raises(EstimationError, match="no rows with both a numeric prediction and a numeric label"):
        loss_estimation.fit_loss_model(pd.DataFrame(index=range(3)), [1, 2, 3], ["a", None, "b"], ())


def test_rows_without_a_numeric_prediction_are_left_out():
    model = loss_estimation.fit_loss_model(pd.DataFrame(index=range(3)), [1.0, 2.0, 3.0], [1.5, 2.0, 2.0], ())
    agg = loss_estimation.aggregate_window(model, pd.DataFrame(index=range(3)), [1.0, "n/a", None])
    assert agg.n == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 199))
def test_loss_merge_of_a_split_equals_the_union(cut):
    rows = _regression_rows(n=200)
    model = loss_estimation.LossModel.from_dict(_SMALL_MODEL)
    whole = loss_estimation.aggregate_window(model, rows.features, rows.prediction)
    parts = estimators.merge_all(
        [
            loss_estimation.aggregate_window(model, rows.features[:cut], rows.prediction[:cut]),
            loss_estimation.aggregate_window(model, rows.features[cut:], rows.prediction[cut:]),
        ]
    )
    for name in loss_estimation.METRICS:
        assert estimators.estimate(parts)[name].value == pytest.approx(estimators.estimate(whole)[name].value)


_SMALL_MODEL = loss_estimation.fit_loss_model(*_fit_args(_regression_rows(seed=5, n=600))).to_dict()


def test_stored_loss_state_that_was_not_written_by_to_dict_is_refused():
    with pytest.raises(EstimationError, match="cannot be read"):
        estimators.estimator_from_dict({"kind": "regression", "method": "glm"})
    broken = dict(_SMALL_MODEL, coef_abs=[1.0])
    with pytest.raises(EstimationError, match="malformed"):
        estimators.estimator_from_dict(broken)
    with pytest.raises(EstimationError, match="negative or non-finite"):
        estimators.aggregate_from_dict(
            {
                "kind": "regression",
                "n": 1,
                "sum_abs": -1,
                "sum_sq": 0,
                "sum_abs2": 0,
                "sum_sq2": 0,
                "c_abs": 1,
                "c_sq": 2,
                "relative_abs": 0,
                "relative_sq": 0,
            }
        )


# --------------------------------------------------------------------------- dispatch


def test_dispatch_reads_the_binary_forms_written_before_kinds_existed():
    assert isinstance(
        estimators.aggregate_from_dict(EstimationAggregate.empty(4).to_dict()), EstimationAggregate
    )
    assert isinstance(estimators.estimator_from_dict(ScoreCalibrator("identity").to_dict()), ScoreCalibrator)
    with pytest.raises(EstimationError, match="unknown kind 'ranking'"):
        estimators.estimator_from_dict({"kind": "ranking"})


def test_aggregates_of_different_tasks_do_not_merge():
    model = loss_estimation.LossModel.from_dict(_SMALL_MODEL)
    with pytest.raises(EstimationError, match="different tasks"):
        estimators.merge_all([EstimationAggregate.empty(4), loss_estimation.LossAggregate.empty(model)])


def test_every_task_names_its_estimated_metrics_and_headline():
    assert estimators.estimated_metric("binary", "recall") == "recall"
    assert estimators.estimated_metric("multiclass", "weighted_f1") == "accuracy"
    assert estimators.estimated_metric("regression", "mape") == "mae"
    assert estimators.estimated_metric("ranking", "ndcg") is None


def test_feature_specs_of_the_fixture_are_what_the_loss_model_sees():
    assert [s.name for s in SPECS] == ["x0", "x1", "x2", "x3", "city"]
    assert SPECS[-1] == FeatureSpec("city", "categorical")
