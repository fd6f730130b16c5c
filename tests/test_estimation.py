"""Label-free performance estimation (CBPE): coverage on simulated windows, aggregates, edge cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from readiness.core.estimation import (
    INSUFFICIENT,
    METRICS,
    EstimationAggregate,
    EstimationError,
    ScoreCalibrator,
    aggregate_window,
    estimate_from_aggregate,
    estimate_window,
    estimation_aggregate,
    fit_calibrator,
    merge,
    merge_all,
)
from readiness.errors import ReadinessError

Link = Callable[[np.ndarray], np.ndarray]
BASELINE_ROWS = 5000
REPORTED = ("accuracy", "roc_auc", "precision", "recall", "f1", "specificity")


def _identity(s: np.ndarray) -> np.ndarray:
    return s


def _squared(s: np.ndarray) -> np.ndarray:
    return s**2


def _draw(rng: np.random.Generator, a: float, b: float, link: Link, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores ~ Beta(a, b) and labels ~ Bernoulli(link(score))."""
    scores = rng.beta(a, b, n)
    return scores, (rng.random(n) < link(scores)).astype(int)


def _realized(labels: np.ndarray, scores: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(labels, predicted),
        "roc_auc": roc_auc_score(labels, scores),
        "precision": precision_score(labels, predicted, zero_division=0),
        "recall": recall_score(labels, predicted),
        "f1": f1_score(labels, predicted),
        "specificity": recall_score(1 - labels, ~predicted),
    }


def _simulate(
    seed: int, base: tuple[float, float], live: tuple[float, float], link: Link, windows: int = 100
) -> tuple[dict[str, float], np.ndarray]:
    """Coverage per metric over ``windows`` live windows, and rows of (estimate, realized, half width)."""
    rng = np.random.default_rng(seed)
    calibrator = fit_calibrator(*_draw(rng, *base, link, BASELINE_ROWS), positive_class=1)
    assert calibrator.method == "isotonic"
    hits = dict.fromkeys(REPORTED, 0)
    rows = []
    for _ in range(windows):
        scores, labels = _draw(rng, *live, link, int(rng.integers(1000, 2001)))
        predicted = scores >= 0.5
        estimates = estimate_window(calibrator, scores, predicted)
        realized = _realized(labels, scores, predicted)
        for metric in REPORTED:
            e = estimates[metric]
            hits[metric] += e.lower <= realized[metric] <= e.upper
        acc = estimates["accuracy"]
        rows.append((acc.value, realized["accuracy"], (acc.upper - acc.lower) / 2))
    return {m: hits[m] / windows for m in REPORTED}, np.array(rows)


# --------------------------------------------------------------------------- coverage


def test_coverage_on_calibrated_scores():
    coverage, rows = _simulate(seed=11, base=(2, 3), live=(2, 3), link=_identity)
    print("calibrated coverage", coverage)
    assert coverage["accuracy"] >= 0.90
    assert coverage["roc_auc"] >= 0.90
    assert coverage["precision"] >= 0.85
    assert coverage["recall"] >= 0.85
    assert rows[:, 2].mean() < 0.045  # informative, not trivially wide


def test_coverage_after_calibrating_miscalibrated_scores():
    coverage, rows = _simulate(seed=12, base=(2, 1), live=(2, 1), link=_squared)
    print("miscalibrated (P = score**2) coverage", coverage)
    assert coverage["accuracy"] >= 0.90
    assert coverage["roc_auc"] >= 0.90
    assert abs(np.mean(rows[:, 0] - rows[:, 1])) < 0.01


def test_uncalibrated_raw_scores_would_miss():
    """Without the calibrator, scores with P = score**2 overstate accuracy: the calibrator matters."""
    rng = np.random.default_rng(13)
    scores, labels = _draw(rng, 2, 1, _squared, 20_000)
    raw = estimate_window(ScoreCalibrator("identity"), scores)["accuracy"]
    calibrated = estimate_window(fit_calibrator(*_draw(rng, 2, 1, _squared, 5000), 1), scores)["accuracy"]
    realized = accuracy_score(labels, scores >= 0.5)
    assert raw.lower > realized + 0.05
    assert calibrated.lower <= realized <= calibrated.upper


def test_estimate_tracks_covariate_shift():
    """Scores move from Beta(0.2, 0.2) to Beta(1, 1); realized accuracy drops from 0.9 to 0.75."""
    before, rows_before = _simulate(seed=14, base=(0.2, 0.2), live=(0.2, 0.2), link=_identity, windows=50)
    after, rows_after = _simulate(seed=15, base=(0.2, 0.2), live=(1, 1), link=_identity, windows=50)
    print("covariate shift coverage before", before, "after", after)
    assert rows_before[:, 1].mean() == pytest.approx(0.90, abs=0.01)
    assert rows_after[:, 1].mean() == pytest.approx(0.75, abs=0.01)
    assert rows_before[:, 0].mean() == pytest.approx(rows_before[:, 1].mean(), abs=0.01)
    assert rows_after[:, 0].mean() == pytest.approx(rows_after[:, 1].mean(), abs=0.01)
    assert before["accuracy"] >= 0.9 and after["accuracy"] >= 0.9
    assert (rows_after[:, 0] + rows_after[:, 2] < 0.85).all()  # the drop is visible in every window


# --------------------------------------------------------------------------- calibrator


def test_calibrator_learns_the_true_link():
    rng = np.random.default_rng(20)
    calibrator = fit_calibrator(*_draw(rng, 1, 1, _squared, 20_000), positive_class=1)
    grid = np.linspace(0.05, 0.95, 19)
    assert np.abs(calibrator.transform(grid) - grid**2).max() < 0.06
    assert (np.diff(calibrator.transform(np.linspace(0, 1, 501))) >= 0).all()
    assert calibrator.n_baseline == 20_000 and calibrator.note == ""
    assert (calibrator.standard_error(grid) > 0).all() and (calibrator.standard_error(grid) < 0.1).all()


def test_calibrator_round_trips_through_json():
    rng = np.random.default_rng(21)
    calibrator = fit_calibrator(*_draw(rng, 2, 2, _identity, 1000), positive_class=1)
    back = ScoreCalibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    assert back == calibrator
    scores = rng.random(100)
    np.testing.assert_array_equal(back.transform(scores), calibrator.transform(scores))


def test_small_baseline_gives_identity_with_note():
    calibrator = fit_calibrator([0.1, 0.7, 0.4], [0, 1, 1], positive_class=1)
    assert calibrator.method == "identity"
    assert "3 labelled rows" in calibrator.note and "200" in calibrator.note
    np.testing.assert_array_equal(calibrator.transform([0.2, 0.9]), [0.2, 0.9])
    assert ScoreCalibrator.from_dict(calibrator.to_dict()) == calibrator


def test_one_class_baseline_gives_identity_with_note():
    calibrator = fit_calibrator(np.linspace(0, 1, 300), ["no"] * 300, positive_class="yes")
    assert calibrator.method == "identity"
    assert "all negative" in calibrator.note and "both classes" in calibrator.note


def test_string_labels_and_missing_labels():
    rng = np.random.default_rng(22)
    scores, labels = _draw(rng, 1, 1, _identity, 600)
    text = np.where(labels == 1, "yes", "no").astype(object)
    text[:50] = None
    calibrator = fit_calibrator(scores, text, positive_class="yes")
    assert calibrator.method == "isotonic" and calibrator.n_baseline == 550


def test_non_binary_labels_are_rejected():
    with pytest.raises(EstimationError, match="not binary"):
        fit_calibrator([0.1, 0.5, 0.9], ["a", "b", "c"], positive_class="a")


@pytest.mark.parametrize(
    "bad", [[0.2, 1.5], [-0.1, 0.5], [0.3, float("nan")], [0.3, "high"], [0.2, float("inf")]]
)
def test_scores_outside_unit_interval_are_rejected(bad):
    with pytest.raises(ReadinessError, match=r"\[0, 1\]"):
        estimate_window(ScoreCalibrator("identity"), bad)
    with pytest.raises(ReadinessError):
        fit_calibrator(bad * 150, [0, 1] * 150, positive_class=1)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(EstimationError, match="3 scores but 2 labels"):
        fit_calibrator([0.1, 0.2, 0.3], [0, 1], positive_class=1)
    with pytest.raises(EstimationError, match="predicted classes"):
        estimate_window(ScoreCalibrator("identity"), [0.1, 0.2], [True])
    with pytest.raises(EstimationError, match="True/False or 1/0"):
        estimate_window(ScoreCalibrator("identity"), [0.1, 0.2], [0, 2])


@pytest.mark.parametrize(
    "data",
    [{}, {"method": "spline", "x": [], "y": [], "sd": [], "n_baseline": 0, "n_positive": 0}],
)
def test_malformed_calibrator_dict_is_rejected(data):
    with pytest.raises(EstimationError, match=r"[Rr]efit|[Rr]ecompute"):
        ScoreCalibrator.from_dict(data)


def test_non_monotone_calibrator_dict_is_rejected():
    data = {"method": "isotonic", "x": [0.0, 1.0], "y": [0.9, 0.1], "sd": [0.0, 0.0]}
    data |= {"n_baseline": 9, "n_positive": 1}
    with pytest.raises(EstimationError, match="malformed"):
        ScoreCalibrator.from_dict(data)


# --------------------------------------------------------------------------- aggregate


def test_aggregate_holds_expected_confusion_cells():
    agg = estimation_aggregate([0.9, 0.6, 0.3, 0.0], [True, True, False, False], bins=10)
    assert (agg.n, agg.n_predicted_positive, agg.n_predicted_negative) == (4, 2, 2)
    assert agg.expected_tp == pytest.approx(1.5) and agg.expected_fp == pytest.approx(0.5)
    assert agg.expected_fn == pytest.approx(0.3) and agg.expected_tn == pytest.approx(1.7)
    assert agg.var_tp == pytest.approx(0.09 + 0.24) and agg.var_fn == pytest.approx(0.21)
    assert agg.hist_count == ((1, 0, 0, 1, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 1, 0, 0, 1))
    assert sum(agg.hist_sd[0]) == sum(agg.hist_sd[1]) == 0.0


def test_probability_one_lands_in_last_bin():
    agg = estimation_aggregate([1.0, 0.0], [True, False], bins=4)
    assert agg.hist_count == ((1, 0, 0, 0), (0, 0, 0, 1))


def test_aggregate_round_trips_through_json():
    rng = np.random.default_rng(30)
    calibrator = fit_calibrator(*_draw(rng, 2, 2, _identity, 1000), positive_class=1)
    agg = aggregate_window(calibrator, rng.random(500))
    back = EstimationAggregate.from_dict(json.loads(json.dumps(agg.to_dict())))
    assert back == agg
    empty = EstimationAggregate.empty(7)
    assert EstimationAggregate.from_dict(empty.to_dict()) == empty


def test_inconsistent_aggregate_dict_is_rejected():
    data = estimation_aggregate([0.2, 0.8], [False, True]).to_dict()
    data["n"] = 5
    with pytest.raises(EstimationError, match="inconsistent"):
        EstimationAggregate.from_dict(data)
    with pytest.raises(EstimationError, match="cannot be read"):
        EstimationAggregate.from_dict({"n": 1})


def test_merging_different_bins_is_rejected():
    with pytest.raises(EstimationError, match="same number of bins"):
        merge(EstimationAggregate.empty(10), EstimationAggregate.empty(20))


def _assert_same(a: EstimationAggregate, b: EstimationAggregate) -> None:
    assert (a.n, a.n_predicted_positive, a.hist_count) == (b.n, b.n_predicted_positive, b.hist_count)
    for name in ("expected_tp", "expected_fp", "expected_fn", "expected_tn", "var_tp", "var_fn"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), abs=1e-9)
    for name in ("hist_p", "hist_var", "hist_sd"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-9)


_rows = st.integers(0, 60).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=st.floats(0, 1)),
        hnp.arrays(np.bool_, n),
        hnp.arrays(np.float64, n, elements=st.floats(0, 0.5)),
        st.integers(0, n),
    )
)


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_merge_of_a_split_equals_the_union(rows):
    p, predicted, sd, cut = rows
    whole = estimation_aggregate(p, predicted, sd, bins=20)
    left = estimation_aggregate(p[:cut], predicted[:cut], sd[:cut], bins=20)
    right = estimation_aggregate(p[cut:], predicted[cut:], sd[cut:], bins=20)
    _assert_same(merge(left, right), whole)
    _assert_same(merge(right, left), whole)
    _assert_same(merge(EstimationAggregate.empty(20), whole), whole)


@settings(max_examples=30, deadline=None)
@given(_rows, st.integers(1, 4))
def test_merge_all_of_chunks_equals_the_union(rows, chunks):
    p, predicted, sd, _ = rows
    split = [np.array_split(x, chunks) for x in (p, predicted, sd)]
    parts = [estimation_aggregate(a, b, c, bins=20) for a, b, c in zip(*split, strict=False)]
    _assert_same(merge_all(parts), estimation_aggregate(p, predicted, sd, bins=20))


def test_estimates_of_merged_windows_equal_estimates_of_the_union():
    rng = np.random.default_rng(31)
    calibrator = fit_calibrator(*_draw(rng, 2, 2, _identity, 2000), positive_class=1)
    scores = rng.beta(2, 2, 3000)
    parts = [aggregate_window(calibrator, chunk) for chunk in np.array_split(scores, 5)]
    merged = estimate_from_aggregate(merge_all(parts))
    whole = estimate_window(calibrator, scores)
    for metric in METRICS:
        assert merged[metric].value == pytest.approx(whole[metric].value)
        assert merged[metric].upper == pytest.approx(whole[metric].upper)


# --------------------------------------------------------------------------- estimates


def test_estimates_match_hand_computation():
    est = estimate_from_aggregate(estimation_aggregate([0.9, 0.6, 0.3, 0.0], [True, True, False, False]))
    assert set(est) == set(METRICS)
    assert est["accuracy"].value == pytest.approx((1.5 + 1.7) / 4)
    assert est["precision"].value == pytest.approx(0.75)
    assert est["recall"].value == pytest.approx(1.5 / 1.8)
    assert est["false_positive_rate"].value == pytest.approx(0.5 / 2.2)
    assert est["specificity"].value == pytest.approx(1.7 / 2.2)
    assert est["f1"].value == pytest.approx(3.0 / (1.5 + 2 + 0.3))
    half_width = est["accuracy"].value - est["accuracy"].lower
    assert half_width == pytest.approx(1.959964 * np.sqrt(0.54) / 4, rel=1e-5)  # no calibrator term
    for e in est.values():
        assert e.n == 4 and e.lower <= e.value <= e.upper and e.method


def test_expected_auc_equals_mean_auc_over_label_draws():
    """The expected AUC is the mean realized AUC when labels are drawn from the probabilities."""
    rng = np.random.default_rng(32)
    p = rng.beta(2, 2, 400)
    est = estimate_from_aggregate(estimation_aggregate(p, p >= 0.5, bins=200))["roc_auc"]
    draws = [roc_auc_score(rng.random(400) < p, p) for _ in range(400)]
    assert est.value == pytest.approx(np.mean(draws), abs=0.003)
    assert (est.upper - est.lower) / 2 == pytest.approx(1.96 * np.std(draws), rel=0.15)


def test_no_rows_is_insufficient_data():
    est = estimate_window(ScoreCalibrator("identity"), [], [])
    assert set(est) == set(METRICS)
    for e in est.values():
        assert (e.value, e.lower, e.upper, e.n, e.note) == (None, None, None, 0, INSUFFICIENT)
    assert (
        estimate_from_aggregate(merge_all([], start=EstimationAggregate.empty()))["accuracy"].note
        == INSUFFICIENT
    )
    with pytest.raises(EstimationError, match="no estimation aggregates to merge"):
        merge_all([])


def test_all_predicted_negative():
    est = estimate_window(ScoreCalibrator("identity"), [0.1, 0.2, 0.4], [False, False, False])
    assert est["precision"].value is None and "predicted positive" in est["precision"].note
    assert (est["recall"].value, est["recall"].lower, est["recall"].upper) == (0.0, 0.0, 0.0)
    assert est["f1"].value == 0.0
    assert est["accuracy"].value == pytest.approx(2.3 / 3)
    assert est["false_positive_rate"].value == 0.0 and est["specificity"].value == 1.0
    assert est["roc_auc"].value is not None


def test_all_predicted_positive():
    est = estimate_window(ScoreCalibrator("identity"), [0.6, 0.8, 0.9], [1, 1, 1])
    assert est["precision"].value == pytest.approx(2.3 / 3)
    assert est["recall"].value == 1.0
    assert est["false_positive_rate"].value == 1.0 and est["specificity"].value == 0.0


def test_certain_probabilities_leave_undefined_metrics_with_notes():
    est = estimate_window(ScoreCalibrator("identity"), [0.0, 0.0, 0.0])
    assert est["accuracy"].value == 1.0 and est["accuracy"].lower == est["accuracy"].upper == 1.0
    assert est["recall"].value is None and "no positives are expected" in est["recall"].note
    assert est["roc_auc"].value is None and "one class" in est["roc_auc"].note


def test_threshold_decides_predictions_when_none_are_given():
    identity = ScoreCalibrator("identity")
    scores = [0.2, 0.45, 0.7]
    assert estimate_window(identity, scores, threshold=0.4) == estimate_window(identity, scores, [0, 1, 1])


def test_invalid_level_is_rejected():
    with pytest.raises(EstimationError, match="level"):
        estimate_from_aggregate(EstimationAggregate.empty(), level=1.5)


def test_results_are_frozen():
    est = estimate_window(ScoreCalibrator("identity"), [0.3, 0.8])["accuracy"]
    with pytest.raises(FrozenInstanceError):
        est.value = 1.0  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=1, max_size=300),
)
def test_isotonic_steps_predict_as_scikit_learn_does(pairs):
    from sklearn.isotonic import IsotonicRegression

    from readiness.core.estimation import isotonic_steps

    x = np.array([p[0] / 40 for p in pairs])
    y = np.array([float(p[1]) for p in pairs])
    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(x, y)
    steps_x, steps_y = isotonic_steps(x, y)
    np.testing.assert_allclose(steps_x, model.X_thresholds_)
    np.testing.assert_allclose(steps_y, model.y_thresholds_, atol=1e-12)
    grid = np.linspace(-0.2, 1.2, 141)
    np.testing.assert_allclose(np.interp(grid, steps_x, steps_y), model.predict(grid), atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-0.5, 1.5, allow_nan=False), st.floats(0.1, 50.0, allow_nan=False)),
        min_size=1,
        max_size=200,
    )
)
def test_our_pool_adjacent_violators_fit_equals_scipys(pairs):
    from scipy.optimize import isotonic_regression

    from readiness.core.estimation import _increasing

    means = np.array([m for m, _ in pairs])
    weights = np.array([w for _, w in pairs])
    expected = np.clip(isotonic_regression(means, weights=weights, increasing=True).x, 0.0, 1.0)
    np.testing.assert_allclose(_increasing(means, weights), expected, rtol=1e-12, atol=1e-12)
