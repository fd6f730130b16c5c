"""Metrics from mergeable aggregates: known answers, bounds, intervals, merging, dict round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import calibration as skcal
from sklearn import metrics as sk

from readiness.core import metrics as rm
from readiness.core.metrics import (
    METRICS,
    BinaryAggregate,
    LatencyAggregate,
    MetricsError,
    MulticlassAggregate,
    RegressionAggregate,
    compute_metric,
    merge,
    merge_all,
)
from readiness.errors import ReadinessError

SETTINGS = settings(max_examples=30, deadline=None)
BINARY = [n for n, s in METRICS.items() if BinaryAggregate in s.aggregates]
MULTICLASS = [n for n, s in METRICS.items() if MulticlassAggregate in s.aggregates]
REGRESSION = [n for n, s in METRICS.items() if RegressionAggregate in s.aggregates]
OPERATIONS = [n for n, s in METRICS.items() if LatencyAggregate in s.aggregates]


def _binary_data(n: int, seed: int = 0, centres: bool = False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    scores = rng.beta(2 + 3 * y, 5 - 2 * y)
    if centres:
        scores = (np.floor(scores * rm.SCORE_BINS) + 0.5) / rm.SCORE_BINS
    pred = (scores >= 0.5).astype(int)
    return y, pred, scores


def _binary(y, pred, scores=None) -> BinaryAggregate:
    return BinaryAggregate.from_arrays(y, pred, scores, positive_class=1)


def _regression_data(n: int, seed: int = 0, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    y = offset + rng.normal(10, 3, n)
    return y, y + rng.normal(0.5, 2, n)


def _multiclass_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["cat", "dog", "bird"], n, p=[0.5, 0.3, 0.2])
    flip = rng.random(n) < 0.3
    pred = np.where(flip, rng.choice(["cat", "dog", "bird"], n), y)
    return y, pred


def _all_metrics(agg) -> dict[str, rm.MetricValue]:
    return {
        name: compute_metric(name, agg) for name, spec in METRICS.items() if isinstance(agg, spec.aggregates)
    }


def _assert_same_aggregate(a, b) -> None:
    da, db = a.to_dict(), b.to_dict()
    assert da.keys() == db.keys()
    for key in da:
        left, right = np.asarray(da[key], dtype=object), np.asarray(db[key], dtype=object)
        if key == "kind" or key == "classes":
            assert da[key] == db[key]
        elif all(isinstance(v, int) for v in left.ravel()) and all(isinstance(v, int) for v in right.ravel()):
            assert da[key] == db[key], key  # counts are exact
        else:
            left, right = np.asarray(da[key], float), np.asarray(db[key], float)
            assert np.allclose(left, right, rtol=1e-9, atol=1e-9), key


def _assert_same_metric(a: rm.MetricValue, b: rm.MetricValue) -> None:
    assert (a.name, a.n, a.value is None) == (b.name, b.n, b.value is None)
    for x, y in ((a.value, b.value), (a.lower, b.lower), (a.upper, b.upper)):
        assert (x is None) == (y is None)
        if x is not None:
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (a, b)


# --------------------------------------------------------------------------- known answers: binary


def test_confusion_metrics_equal_sklearn_exactly():
    y, pred, scores = _binary_data(3000)
    agg = _binary(y, pred, scores)
    assert rm.accuracy_score(agg).value == sk.accuracy_score(y, pred)
    assert rm.precision_score(agg).value == sk.precision_score(y, pred)
    assert rm.recall_score(agg).value == sk.recall_score(y, pred)
    assert rm.f1_score(agg).value == pytest.approx(sk.f1_score(y, pred), rel=1e-15)
    assert rm.specificity_score(agg).value == sk.recall_score(y, pred, pos_label=0)
    tn, fp, fn, tp = sk.confusion_matrix(y, pred).ravel()
    assert rm.false_positive_rate(agg).value == fp / (fp + tn)
    assert (agg.tp, agg.fp, agg.tn, agg.fn) == (tp, fp, tn, fn)


def test_which_rows_each_proportion_rests_on():
    agg = _binary(*_binary_data(500))
    assert rm.accuracy_score(agg).n == agg.n
    assert rm.precision_score(agg).n == agg.tp + agg.fp
    assert rm.recall_score(agg).n == agg.tp + agg.fn
    assert rm.specificity_score(agg).n == rm.false_positive_rate(agg).n == agg.tn + agg.fp
    assert rm.f1_score(agg).n == agg.tp + agg.fp + agg.fn
    assert rm.roc_auc_score(agg).n == agg.n_scored


def test_classes_are_compared_as_canonical_text_and_missing_rows_skipped():
    labels = ["fraud", "ok", "fraud", None, "ok"]
    preds = ["fraud", "fraud", "ok", "ok", None]
    agg = BinaryAggregate.from_arrays(labels, preds, positive_class="fraud")
    assert (agg.tp, agg.fp, agg.tn, agg.fn) == (1, 1, 0, 1)
    mixed = BinaryAggregate.from_arrays([1, "1", 1.0, 0], ["1", 1.0, 0, "0"], positive_class="1")
    assert (mixed.tp, mixed.fp, mixed.tn, mixed.fn) == (2, 0, 1, 1)


CLASS_VALUES = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, 1.5, -0.0]),
    st.sampled_from(["1", " 1 ", "1.0", "0", "", "yes", "True", "fraud"]),
)


@given(st.lists(st.tuples(CLASS_VALUES, CLASS_VALUES), max_size=40), CLASS_VALUES)
def test_confusion_counts_equal_comparing_canonical_classes_row_by_row(rows, positive):
    """Each distinct value is judged once: the counts are those of canonical text compared per row."""
    labels = np.array([r[0] for r in rows], dtype=object)
    predictions = np.array([r[1] for r in rows], dtype=object)
    agg = BinaryAggregate.from_arrays(labels, predictions, positive_class=positive)
    wanted = rm.canonical_class(positive)
    pairs = [
        (rm.canonical_class(a) == wanted, rm.canonical_class(b) == wanted)
        for a, b in rows
        if rm.canonical_class(a) is not None and rm.canonical_class(b) is not None
    ]
    assert (agg.tp, agg.fp, agg.tn, agg.fn) == (
        sum(y and p for y, p in pairs),
        sum(not y and p for y, p in pairs),
        sum(not y and not p for y, p in pairs),
        sum(y and not p for y, p in pairs),
    )


def test_roc_auc_and_average_precision_within_documented_bound():
    y, pred, scores = _binary_data(5000, seed=1)
    agg = _binary(y, pred, scores)
    auc, ap = rm.roc_auc_score(agg), rm.average_precision_score(agg)
    auc_bound, ap_bound = rm.roc_auc_error_bound(agg), rm.average_precision_error_bound(agg)
    assert 0 < auc_bound < 0.001 and 0 < ap_bound < 0.002
    assert abs(auc.value - sk.roc_auc_score(y, scores)) <= auc_bound
    assert abs(ap.value - sk.average_precision_score(y, scores)) <= ap_bound


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 39)), min_size=2, max_size=80))
def test_binned_auc_and_ap_within_bound_for_any_scores(rows):
    y = np.array([r[0] for r in rows])
    scores = np.array([0.4 + r[1] / 10_000 for r in rows])  # 40 distinct values in 4 score bins
    agg = _binary(y, y, scores)
    if 0 < y.sum() < len(y):
        exact = sk.roc_auc_score(y, scores)
        assert abs(rm.roc_auc_score(agg).value - exact) <= rm.roc_auc_error_bound(agg) + 1e-12
    if y.sum() > 0:
        exact = sk.average_precision_score(y, scores)
        bound = rm.average_precision_error_bound(agg)
        assert abs(rm.average_precision_score(agg).value - exact) <= bound + 1e-12


def test_roc_auc_and_average_precision_exact_on_bin_centres():
    y, pred, scores = _binary_data(5000, seed=2, centres=True)
    agg = _binary(y, pred, scores)
    assert rm.roc_auc_score(agg).value == pytest.approx(sk.roc_auc_score(y, scores), rel=1e-12)
    exact_ap = sk.average_precision_score(y, scores)
    assert rm.average_precision_score(agg).value == pytest.approx(exact_ap, rel=1e-12)


def test_delong_interval_matches_direct_delong_on_raw_scores():
    y, pred, scores = _binary_data(400, seed=3, centres=True)
    pos, neg = scores[y == 1], scores[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    auc = psi.mean()
    variance = np.var(psi.mean(axis=1), ddof=1) / len(pos) + np.var(psi.mean(axis=0), ddof=1) / len(neg)
    value = rm.roc_auc_score(_binary(y, pred, scores))
    assert value.value == pytest.approx(auc, rel=1e-12)
    assert value.upper - value.value == pytest.approx(rm.Z95 * math.sqrt(variance), rel=1e-9)
    assert "DeLong" in value.method


def test_roc_auc_falls_back_to_hanley_mcneil_with_one_positive():
    value = rm.roc_auc_score(_binary([1, 0, 0, 0], [1, 0, 0, 0], [0.9, 0.2, 0.3, 0.95]))
    assert value.value == pytest.approx(2 / 3) and "Hanley-McNeil" in value.method
    assert value.lower <= value.value <= value.upper


def test_log_loss_and_brier_equal_sklearn():
    y, pred, scores = _binary_data(3000, seed=4)
    agg = _binary(y, pred, scores)
    assert rm.log_loss(agg).value == pytest.approx(sk.log_loss(y, scores), rel=1e-12)
    assert rm.brier_score_loss(agg).value == pytest.approx(sk.brier_score_loss(y, scores), rel=1e-12)


def test_standard_errors_of_losses_use_per_row_sums_of_squares():
    y, pred, scores = _binary_data(1000, seed=5)
    p = np.clip(scores, 1e-15, 1 - 1e-15)
    loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    value = rm.log_loss(_binary(y, pred, scores))
    se = loss.std(ddof=1) / math.sqrt(len(loss))
    assert value.upper - value.value == pytest.approx(rm.Z95 * se, rel=1e-6)


def test_calibration_curve_equals_sklearn():
    y, pred, scores = _binary_data(2000, seed=6)
    curve = rm.calibration_curve(_binary(y, pred, scores))
    prob_true, prob_pred = skcal.calibration_curve(y, scores, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(curve.positive_rate, prob_true, rtol=1e-12)
    np.testing.assert_allclose(curve.mean_score, prob_pred, rtol=1e-12)


def test_expected_calibration_error_hand_computed():
    # bin (0.1, 0.2]: scores 0.15, 0.15, 0.15, 0.15, one positive -> |0.15 - 0.25| = 0.10, weight 4/10
    # bin (0.8, 0.9]: scores 0.85 x 6, three positives        -> |0.85 - 0.50| = 0.35, weight 6/10
    scores = [0.15] * 4 + [0.85] * 6
    labels = [1, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    value = rm.expected_calibration_error(_binary(labels, [1] * 10, scores))
    assert value.value == pytest.approx(0.4 * 0.10 + 0.6 * 0.35)
    assert value.lower <= value.value <= value.upper and value.n == 10


def test_rows_without_scores_leave_score_metrics_unavailable():
    agg = _binary([1, 0, 1], [1, 0, 0])
    assert rm.recall_score(agg).value == 0.5
    for name in ("roc_auc", "pr_auc", "log_loss", "brier", "ece"):
        value = compute_metric(name, agg)
        assert value.value is None and value.note.startswith("insufficient data"), name


def test_invalid_scores_are_left_out_of_score_metrics_only():
    agg = _binary([1, 0, 1, 0], [1, 0, 1, 1], [0.9, 1.7, float("nan"), 0.2])
    assert agg.n == 4 and agg.n_scored == 2
    assert "scores on 2 of 4" in rm.roc_auc_score(agg).note


# --------------------------------------------------------------------------- known answers: others


def test_multiclass_metrics_equal_sklearn_exactly():
    y, pred = _multiclass_data(3000)
    agg = MulticlassAggregate.from_arrays(y, pred, ["cat", "dog", "bird", "fish"])  # fish never occurs
    assert rm.accuracy_score(agg).value == sk.accuracy_score(y, pred)
    assert rm.macro_f1_score(agg).value == pytest.approx(sk.f1_score(y, pred, average="macro"), rel=1e-14)
    weighted = sk.f1_score(y, pred, average="weighted")
    assert rm.weighted_f1_score(agg).value == pytest.approx(weighted, rel=1e-14)
    expected = sk.confusion_matrix(y, pred, labels=["cat", "dog", "bird"])
    np.testing.assert_array_equal(agg.array()[:3, :3], expected)
    assert agg.array()[3].sum() == agg.array()[:, 3].sum() == 0


def test_multiclass_rows_outside_the_class_list_are_counted_apart():
    agg = MulticlassAggregate.from_arrays(["a", "b", "z", None], ["a", "z", "a", "a"], ["a", "b"])
    assert agg.n == 1 and agg.unknown == 2
    assert "2 rows with classes outside the list" in rm.macro_f1_score(agg).note


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_regression_metrics_equal_sklearn(offset):
    y, pred = _regression_data(3000, offset=offset)
    parts = [RegressionAggregate.from_arrays(y[i : i + 700], pred[i : i + 700]) for i in range(0, 3000, 700)]
    agg = merge_all(parts)
    assert rm.mean_absolute_error(agg).value == pytest.approx(sk.mean_absolute_error(y, pred), rel=1e-12)
    rmse = sk.root_mean_squared_error(y, pred)
    assert rm.root_mean_squared_error(agg).value == pytest.approx(rmse, rel=1e-12)
    assert rm.mean_absolute_percentage_error(agg).value == pytest.approx(
        sk.mean_absolute_percentage_error(y, pred), rel=1e-12
    )
    assert rm.r2_score(agg).value == pytest.approx(sk.r2_score(y, pred), rel=1e-9)


def test_mape_leaves_out_zero_labels_and_says_so():
    agg = RegressionAggregate.from_arrays([0.0, 2.0, 4.0], [1.0, 1.0, 5.0])
    value = rm.mean_absolute_percentage_error(agg)
    assert value.value == pytest.approx((0.5 + 0.25) / 2) and value.n == 2
    assert "1 rows with label 0 left out" in value.note


def test_latency_quantiles_within_bin_bound_of_numpy():
    rng = np.random.default_rng(7)
    latency = rng.lognormal(mean=4, sigma=1.2, size=20_000)  # ~55 ms median, long tail
    parts = [LatencyAggregate.from_arrays(chunk) for chunk in np.array_split(latency, 7)]
    agg = merge_all(parts)
    for q in (0.5, 0.95, 0.99, 0.0, 1.0):
        value = rm.latency_quantile(agg, q)
        exact = np.percentile(latency, 100 * q)
        assert abs(value.value - exact) <= rm.LATENCY_RELATIVE_ERROR * exact * (1 + 1e-12), q
        assert value.lower <= exact <= value.upper and value.n == 20_000
    assert rm.latency_quantile(agg, 0.0).value == latency.min()
    assert compute_metric("latency_p95", agg).name == "latency_p95"


def test_latency_quantile_interpolates_across_distant_bins():
    agg = LatencyAggregate.from_arrays([1.0, 1000.0])
    exact = np.percentile([1.0, 1000.0], 50)
    assert abs(rm.latency_quantile(agg, 0.5).value - exact) <= rm.LATENCY_RELATIVE_ERROR * exact


def test_latency_below_and_above_the_bin_range():
    agg = LatencyAggregate.from_arrays([0.0, 0.02, 0.04, 250_000.0])
    assert abs(rm.latency_quantile(agg, 0.5).value - 0.03) < 0.05
    assert rm.latency_quantile(agg, 1.0).value == 250_000.0


def test_volume_and_invalid_rate():
    flags = rm.invalid_output_flags([1, None, 0, 1, 0], [0.2, 0.5, 1.5, float("nan"), -0.1])
    assert flags.tolist() == [False, True, True, False, True]
    agg = LatencyAggregate.from_arrays([5.0, np.nan, 7.0, 9.0, 1.0], invalid=flags)
    assert rm.volume(agg).value == 5 and agg.n_timed == 4
    rate = rm.invalid_output_rate(agg)
    assert rate.value == 0.6 and (rate.lower, rate.upper) == pytest.approx(rm.wilson_interval(3, 5))


def test_wilson_interval_known_values():
    assert rm.wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert rm.wilson_interval(10, 10) == pytest.approx((0.72247, 1.0), abs=1e-5)
    assert rm.wilson_interval(50, 100) == pytest.approx((0.40383, 0.59617), abs=1e-5)


# --------------------------------------------------------------------------- properties


@st.composite
def binary_rows(draw, min_size: int = 1):
    n = draw(st.integers(min_size, 60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    pred = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    scores = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    return np.array(y), np.array(pred), np.array(scores)


@st.composite
def regression_rows(draw, min_size: int = 1):
    n = draw(st.integers(min_size, 60))
    values = st.integers(-100_000, 100_000).map(lambda i: i / 100)
    y = draw(st.lists(values, min_size=n, max_size=n))
    pred = draw(st.lists(values, min_size=n, max_size=n))
    return np.array(y), np.array(pred)


@st.composite
def class_rows(draw, min_size: int = 1):
    n = draw(st.integers(min_size, 60))
    y = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    pred = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    return np.array(y, dtype=object), np.array(pred, dtype=object)


latencies = st.lists(st.floats(0, 2e5, allow_nan=False), min_size=1, max_size=60).map(np.array)


def _build(kind: str, data):
    if kind == "binary":
        return _binary(*data)
    if kind == "regression":
        return RegressionAggregate.from_arrays(*data)
    if kind == "multiclass":
        return MulticlassAggregate.from_arrays(*data, ["a", "b", "c"])
    return LatencyAggregate.from_arrays(data, invalid=np.isnan(data) | (data > 1e5))


def _split(data, cuts: list[int]):
    arrays = data if isinstance(data, tuple) else (data,)
    n = len(arrays[0])
    points = sorted({min(c, n) for c in cuts})
    pieces = [tuple(a[i:j] for a in arrays) for i, j in zip([0, *points], [*points, n], strict=False)]
    return [p if isinstance(data, tuple) else p[0] for p in pieces]


ANY_KIND = st.one_of(
    st.tuples(st.just("binary"), binary_rows()),
    st.tuples(st.just("regression"), regression_rows()),
    st.tuples(st.just("multiclass"), class_rows()),
    st.tuples(st.just("latency"), latencies),
)


@SETTINGS
@given(ANY_KIND, st.lists(st.integers(0, 60), max_size=4), st.randoms(use_true_random=False))
def test_merging_any_split_equals_the_aggregate_of_the_union(kind_data, cuts, random):
    kind, data = kind_data
    whole = _build(kind, data)
    parts = [_build(kind, piece) for piece in _split(data, cuts)]
    random.shuffle(parts)
    merged = merge_all(parts)
    _assert_same_aggregate(merged, whole)
    _assert_same_aggregate(
        merge(
            whole, type(whole).empty() if kind != "multiclass" else MulticlassAggregate.empty(["a", "b", "c"])
        ),
        whole,
    )
    for name, value in _all_metrics(whole).items():
        _assert_same_metric(compute_metric(name, merged), value)


@SETTINGS
@given(ANY_KIND)
def test_intervals_contain_the_estimate(kind_data):
    kind, data = kind_data
    for value in _all_metrics(_build(kind, data)).values():
        if value.value is None:
            assert value.note.startswith("insufficient data") and value.lower is None
            continue
        assert math.isfinite(value.value)
        if value.lower is not None:
            assert value.lower <= value.value <= value.upper, value


@SETTINGS
@given(binary_rows(), regression_rows(), class_rows())
def test_a_perfect_model_scores_one_and_errs_zero(binary, regression, classes):
    y = binary[0]
    scored = _binary(y, y, y.astype(float))
    exact = RegressionAggregate.from_arrays(regression[0], regression[0])
    right = MulticlassAggregate.from_arrays(classes[0], classes[0], ["a", "b", "c"])
    perfect = {
        **_all_metrics(scored),
        **_all_metrics(exact),
        **{f"multiclass_{k}": v for k, v in _all_metrics(right).items()},
    }
    for name, value in perfect.items():
        if value.value is None:
            continue  # e.g. recall without positives, r2 with constant labels
        spec = METRICS[value.name]
        if spec.direction == "higher" and value.name != "volume":
            assert value.value == 1.0, name
        elif value.name in ("log_loss",):
            assert value.value == pytest.approx(0.0, abs=1e-14)
        elif spec.direction == "lower":
            assert value.value == 0.0, name


def _widths(agg) -> dict[str, float]:
    """Interval widths, with widths at the rounding level of sum-of-squares variances as 0."""
    return {
        name: 0.0 if v.upper - v.lower <= 1e-7 * max(1.0, abs(v.value)) else v.upper - v.lower
        for name, v in _all_metrics(agg).items()
        if v.lower is not None
    }


@SETTINGS
@given(ANY_KIND.filter(lambda kd: len(kd[1][0] if isinstance(kd[1], tuple) else kd[1]) >= 2))
def test_intervals_narrow_as_rows_grow_tenfold(kind_data):
    kind, data = kind_data
    tenfold = tuple(np.tile(a, 10) for a in data) if isinstance(data, tuple) else np.tile(data, 10)
    small, large = _widths(_build(kind, data)), _widths(_build(kind, tenfold))
    for name, width in small.items():
        if name.startswith("latency"):
            assert large[name] <= width * (1 + 1e-9) + 1e-9, name  # bins cap how narrow it gets
        else:
            assert large[name] < width or large[name] == width == 0.0, name


def test_ten_times_the_rows_narrow_every_binary_interval_on_real_data():
    y, pred, scores = _binary_data(300, seed=8)
    small = _widths(_binary(y, pred, scores))
    large = _widths(_binary(np.tile(y, 10), np.tile(pred, 10), np.tile(scores, 10)))
    assert set(small) == set(BINARY)
    for name in small:
        assert large[name] < 0.6 * small[name], name


# --------------------------------------------------------------------------- insufficient data


@pytest.mark.parametrize(
    "agg",
    [
        BinaryAggregate.empty(),
        MulticlassAggregate.empty(["a", "b"]),
        RegressionAggregate.empty(),
        LatencyAggregate.empty(),
    ],
    ids=["binary", "multiclass", "regression", "latency"],
)
def test_empty_aggregates_give_insufficient_data_never_zero(agg):
    for name, value in _all_metrics(agg).items():
        if name == "volume":
            assert value.value == 0
            continue
        assert value.value is None and value.note.startswith("insufficient data"), name
        assert value.lower is None and value.upper is None


def test_zero_denominators_give_insufficient_data():
    no_positives = _binary([0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3])
    for name in ("precision", "recall", "f1", "roc_auc", "pr_auc"):
        assert compute_metric(name, no_positives).value is None, name
    assert rm.specificity_score(no_positives).value == 1.0
    constant = RegressionAggregate.from_arrays([2.0, 2.0], [1.0, 3.0])
    assert rm.r2_score(constant).value is None and rm.mean_absolute_error(constant).value == 1.0
    assert rm.mean_absolute_percentage_error(RegressionAggregate.from_arrays([0.0], [1.0])).value is None
    assert rm.latency_quantile(LatencyAggregate.from_arrays([np.nan, np.nan]), 0.5).value is None


def test_a_single_row_has_a_value_but_no_interval():
    value = rm.mean_absolute_error(RegressionAggregate.from_arrays([1.0], [3.0]))
    assert value.value == 2.0 and value.lower is None and "one row" in value.note


# --------------------------------------------------------------------------- dicts, registry, errors


def test_dict_round_trip_through_json():
    y, pred, scores = _binary_data(200)
    aggregates = [
        _binary(y, pred, scores),
        BinaryAggregate.empty(),
        MulticlassAggregate.from_arrays(*_multiclass_data(100), ["cat", "dog", "bird"]),
        RegressionAggregate.from_arrays(*_regression_data(100)),
        RegressionAggregate.empty(),
        LatencyAggregate.from_arrays([1.0, 20.0, np.nan]),
        LatencyAggregate.empty(),
    ]
    for agg in aggregates:
        data = json.loads(json.dumps(agg.to_dict(), allow_nan=False))
        assert rm.aggregate_from_dict(data) == agg
        assert type(agg).from_dict(data) == agg
    assert json.loads(json.dumps(rm.recall_score(aggregates[0]).to_dict()))["name"] == "recall"


NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(-1e300, 1e300, allow_nan=False), st.booleans(), st.just("7")
)


@SETTINGS
@given(st.lists(NUMBERS, max_size=30))
def test_decoding_lists_in_c_converts_as_int_and_float_do(values):
    """int_tuple and float_tuple (numpy's fast path for lists read from JSON) equal converting value by value."""
    expected_ints = tuple(int(v) for v in values)
    assert rm.int_tuple(values) == expected_ints
    assert [type(v) for v in rm.int_tuple(values)] == [int] * len(values)
    assert rm.float_tuple(values) == tuple(float(v) for v in values)
    assert [type(v) for v in rm.float_tuple(values)] == [float] * len(values)


def test_malformed_dicts_raise_a_readiness_error():
    data = BinaryAggregate.empty().to_dict()
    with pytest.raises(ReadinessError, match="malformed"):
        rm.aggregate_from_dict({**data, "tp": "many"})
    with pytest.raises(MetricsError, match="score bins"):
        rm.aggregate_from_dict({**data, "positive_hist": [0] * 10})
    with pytest.raises(MetricsError, match="Unknown aggregate kind"):
        rm.aggregate_from_dict({"kind": "nope"})


def test_registry_names_directions_and_aggregates():
    assert set(METRICS) == {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
        "specificity",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "ece",
        "macro_f1",
        "weighted_f1",
        "macro_precision",
        "macro_recall",
        "roc_auc_ovr",
        "macro_ece",
        "mae",
        "rmse",
        "mape",
        "r2",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "volume",
        "invalid_rate",
    }
    lower = {n for n, s in METRICS.items() if s.direction == "lower"}
    assert lower == {
        "false_positive_rate",
        "log_loss",
        "brier",
        "ece",
        "macro_ece",
        "mae",
        "rmse",
        "mape",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "invalid_rate",
    }
    assert METRICS["recall"].passes(0.8, 0.8) and not METRICS["latency_p95"].passes(201, 200)
    assert rm.metrics_for_task("multiclass") == (
        "accuracy",
        "macro_f1",
        "weighted_f1",
        "macro_precision",
        "macro_recall",
        "roc_auc_ovr",
        "macro_ece",
        *OPERATIONS,
    )
    for name, spec in METRICS.items():
        kind = spec.aggregates[0]
        empty = kind.empty(["a"]) if kind is MulticlassAggregate else kind.empty()
        assert compute_metric(name, empty).name == name


def test_registry_errors_say_what_to_do():
    with pytest.raises(MetricsError, match=r"Unknown metric 'recal'.*recall"):
        compute_metric("recal", BinaryAggregate.empty())
    with pytest.raises(MetricsError, match="needs a LatencyAggregate"):
        compute_metric("latency_p95", BinaryAggregate.empty())
    with pytest.raises(MetricsError, match="between 0 and 1"):
        rm.latency_quantile(LatencyAggregate.empty(), 95)


def test_bad_inputs_raise_readiness_errors():
    with pytest.raises(MetricsError, match=r"different kinds|one kind"):
        merge(BinaryAggregate.empty(), LatencyAggregate.empty())
    with pytest.raises(MetricsError, match="no windows"):
        merge_all([])
    assert merge_all([], start=LatencyAggregate.empty()) == LatencyAggregate.empty()
    with pytest.raises(MetricsError, match="different class lists"):
        merge(MulticlassAggregate.empty(["a"]), MulticlassAggregate.empty(["b"]))
    with pytest.raises(MetricsError, match="lengths differ"):
        BinaryAggregate.from_arrays([1, 0], [1], positive_class=1)
    with pytest.raises(MetricsError, match="negative"):
        LatencyAggregate.from_arrays([1.0, -2.0])
    with pytest.raises(MetricsError, match="must be numbers"):
        RegressionAggregate.from_arrays(["1.5", "abc"], [1.0, 2.0])
    with pytest.raises(MetricsError, match="distinct"):
        MulticlassAggregate.empty(["a", "a"])


def test_r2_without_labels_says_so_not_that_labels_do_not_vary():
    from readiness.core.metrics import RegressionAggregate, r2_score

    assert r2_score(RegressionAggregate.from_arrays([], [])).note.endswith("no labelled rows")
    assert r2_score(RegressionAggregate.from_arrays([1.0], [2.0])).note.endswith("one labelled row")
    assert r2_score(RegressionAggregate.from_arrays([3.0, 3.0], [1.0, 2.0])).note.endswith(
        "labels do not vary"
    )
