"""Automatic checklist items: known answers from hand-built inputs, and their evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from readiness.core import checks as c
from readiness.core import metrics as m
from readiness.core.checklist import ITEMS_BY_KEY
from readiness.core.criteria import Criterion, CriterionResult, evaluate_criterion
from readiness.core.drift import ColumnDrift, DriftOptions, DriftReport, explain
from readiness.core.drift_now import DriftNow, WindowDrift, drift_now
from readiness.core.performance import CriterionTrack
from readiness.core.quality import ColumnQuality
from readiness.core.status import CriterionStatus

PERIOD = c.Period(datetime(2026, 11, 24), datetime(2026, 12, 1))
AS_OF = datetime(2026, 12, 1, 9)
RECALL = Criterion(1, "recall", ">=", 0.75, "week", 50)
LATENCY = Criterion(2, "latency_p95", "<=", 200.0, "week", 0)


def item(key: str):
    return ITEMS_BY_KEY[key]


def quality(
    column: str,
    missing: float = 0.0,
    base_missing: float = 0.0,
    out: float | None = 0.0,
    unseen: float | None = None,
    n: int = 1000,
) -> ColumnQuality:
    return ColumnQuality(None, column, n, missing, base_missing, out, unseen, ())


def drift(
    column: str,
    drifted: bool,
    statistic: float = 0.05,
    method: str = "wasserstein",
    threshold_on: str = "statistic",
    p: float | None = None,
) -> ColumnDrift:
    column = ColumnDrift(
        column,
        "numeric",
        method,
        statistic,
        p,
        p,
        0.1 if threshold_on == "statistic" else 0.05,
        threshold_on,
        drifted,
        0.01,
        None,
        5000,
        7000,
        0.0,
        0.0,
    )
    return replace(column, explanation=explain(column))


WEEK = datetime(2026, 11, 2)


def weekly(*reports: DriftReport) -> DriftNow:
    """The drift state now of weekly windows from 2 Nov 2026, one report each, all complete."""
    timeline = [WindowDrift(WEEK + timedelta(weeks=i), 7000, r) for i, r in enumerate(reports)]
    return drift_now(timeline, "week", None)


def report(*columns: ColumnDrift) -> DriftReport:
    n = sum(col.drifted for col in columns)
    return DriftReport(tuple(columns), n, len(columns), n / len(columns), False, DriftOptions())


def track(
    criterion: Criterion,
    values: list[float | None],
    n: int = 500,
    complete: int | None = None,
    first: datetime = datetime(2026, 10, 5),
) -> CriterionTrack:
    """Weekly windows with the given metric values (None: no labels), the first ``complete`` complete."""
    windows = []
    for i, value in enumerate(values):
        start = first + timedelta(weeks=i)
        mv = m.MetricValue(
            criterion.metric,
            value,
            None if value is None else value - 0.03,
            None if value is None else value + 0.03,
            n if value is not None else 0,
            "Wilson",
        )
        windows.append((start, evaluate_criterion(criterion, mv, n if value is not None else 0)))
    complete = len(values) if complete is None else complete
    current = windows[complete - 1] if complete else (None, None)
    return CriterionTrack(criterion, tuple(windows), current[1], current[0])


# --------------------------------------------------------------------------- data


def test_schema_passes_when_every_feature_arrives_with_its_type():
    sample = c.SchemaSample(
        300, {"amount": 300, "country": 300}, {"amount": 290, "country": 300}, {"amount": 0}, {}
    )
    result = c.check_schema(
        item("schema_matches_baseline"), sample, {"amount": "numeric", "country": "categorical"}, PERIOD
    )
    assert result.status == "pass"
    assert result.evidence.figure == "300 sampled rows, 2 baseline features"
    assert (result.evidence.window, result.evidence.page) == ("2026-11-24 to 2026-11-30", "Drift")


def test_schema_names_absent_retyped_and_extra_features():
    sample = c.SchemaSample(
        300, {"amount": 300}, {"amount": 300, "country": 0}, {"amount": 120}, {"new_flag": 300, "debug": 12}
    )
    result = c.check_schema(
        item("schema_matches_baseline"), sample, {"amount": "numeric", "country": "categorical"}, PERIOD
    )
    assert result.status == "fail"
    assert "missing from every row: country" in result.reason
    assert "text where the baseline has numbers: amount" in result.reason
    assert "features the baseline lacks: new_flag, debug" in result.reason  # most frequent first


def test_schema_without_rows_is_unknown_never_a_pass():
    result = c.check_schema(item("schema_matches_baseline"), None, {"a": "numeric"}, None)
    assert (result.status, result.reason) == ("unknown", "No predictions to check yet.")


def test_missing_within_the_baseline_margin():
    rows = [quality("a", missing=0.08, base_missing=0.05), quality("b", missing=0.0)]
    assert c.check_missing(item("missing_within_baseline"), rows, ["a", "b"], 0.05, PERIOD).status == "pass"
    rows = [quality("a", missing=0.11, base_missing=0.05), quality("b", missing=0.5)]
    result = c.check_missing(item("missing_within_baseline"), rows, ["a", "b"], 0.05, PERIOD)
    assert result.status == "fail"
    assert (
        result.reason
        == "Missing more often than in the baseline: b 50% (baseline 0.0%), a 11% (baseline 5.0%)."
    )


def test_missing_ignores_prediction_and_score_columns():
    rows = [quality("a"), quality("score", missing=0.9)]
    assert c.check_missing(item("missing_within_baseline"), rows, ["a"], 0.05, PERIOD).status == "pass"


def test_domain_flags_out_of_range_and_unseen_shares_over_their_limits():
    rows = [quality("amount", out=0.005), quality("country", out=None, unseen=0.004)]
    assert (
        c.check_domain(item("values_within_domain"), rows, ["amount", "country"], 0.01, 0.01, PERIOD).status
        == "pass"
    )
    rows = [quality("amount", out=0.02), quality("country", out=None, unseen=0.3)]
    result = c.check_domain(item("values_within_domain"), rows, ["amount", "country"], 0.01, 0.01, PERIOD)
    assert result.status == "fail"
    assert (
        "amount: 2.0% outside the baseline range" in result.reason and "country: 30% unseen" in result.reason
    )


def test_feature_drift_names_what_drifts_now_and_since_when():
    calm = report(drift("device_trust", False, 0.02), drift("amount", False, 0.03), drift("score", False))
    moved = report(
        drift("device_trust", True, 0.83), drift("amount", False, 0.03), drift("score", True, 0.12)
    )
    now = weekly(calm, moved, moved, moved)
    result = c.check_feature_drift(item("no_feature_drift"), now, ["device_trust", "amount"])
    assert result.status == "fail"
    assert result.reason == (  # score is not a feature
        "1 of 2 features drifting in the week of 23 Nov 2026: device_trust since 9 Nov 2026 (3 weeks)."
    )
    assert result.evidence.figure == (
        "device_trust: Drifted: normed Wasserstein distance 0.83 is at or past its cut-off 0.1."
    )
    assert result.evidence.window == "2026-11-23 to 2026-11-29"
    recovered = weekly(calm, moved, calm)
    assert c.check_feature_drift(item("no_feature_drift"), recovered, ["device_trust"]).status == "pass"
    assert recovered["device_trust"].recovered_on == datetime(2026, 11, 16)


def test_p_value_drift_evidence_shows_the_adjusted_p_value():
    now = weekly(report(drift("country", True, 30.0, "chisquare", "p_value", p=0.0004)))
    result = c.check_feature_drift(item("no_feature_drift"), now, ["country"])
    assert result.evidence.figure == (
        "country: Drifted: chance alone produces a change this large about 1 in 2,500 times with 7,000 rows "
        "against the baseline's 5,000."
    )


def test_label_coverage_against_its_minimum():
    ok = c.check_label_coverage(item("label_coverage"), 1000, 100, 0.10, PERIOD)
    low = c.check_label_coverage(item("label_coverage"), 1000, 99, 0.10, PERIOD)
    assert (ok.status, low.status) == ("pass", "fail")
    assert low.evidence.figure == "99 of 1,000 predictions labelled (9.9%; needs 10%)"
    assert c.check_label_coverage(item("label_coverage"), 0, 0, 0.10, None).status == "unknown"


# --------------------------------------------------------------------------- model


def test_criteria_pass_in_the_newest_judged_windows():
    tracks = [track(RECALL, [0.6, 0.8, 0.9, None]), track(LATENCY, [150.0, 160.0, 170.0, 180.0])]
    result = c.check_criteria(item("criteria_met"), tracks, n_windows=2)
    # recall: newest judged windows are 0.8 and 0.9 (the last has no labels); the old 0.6 is out of view
    assert result.status == "pass"
    assert result.evidence.page == "Performance"


def test_criteria_fail_names_the_failing_criterion_and_window():
    tracks = [track(RECALL, [0.8, 0.9, 0.5]), track(LATENCY, [150.0, 160.0, 170.0])]
    result = c.check_criteria(item("criteria_met"), tracks, n_windows=2)
    assert result.status == "fail"
    assert result.reason.startswith("1 of 2 criteria fail: recall >= 0.75 per week")
    assert "(0.500 in the week from 2026-10-19)" in result.reason
    assert result.evidence.window == "week from 2026-10-19"


def test_criteria_never_judged_are_unknown_and_failure_beats_unknown():
    unjudged = track(RECALL, [None, None])
    assert c.check_criteria(item("criteria_met"), [unjudged], 2).status == "unknown"
    failing = track(LATENCY, [250.0])
    assert c.check_criteria(item("criteria_met"), [unjudged, failing], 2).status == "fail"
    assert c.check_criteria(item("criteria_met"), [], 2).status == "unknown"


def test_incomplete_windows_do_not_count():
    # the last window (0.1) is still running: only complete windows are judged
    result = c.check_criteria(item("criteria_met"), [track(RECALL, [0.8, 0.9, 0.1], complete=2)], 2)
    assert result.status == "pass"


def test_trivial_baseline_binary_uses_the_roc_auc_lower_bound():
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.3
    good = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, 2000), 0, 1)
    agg = m.BinaryAggregate.from_arrays(y.astype(int), (good > 0.5).astype(int), good, positive_class=1)
    result = c.check_trivial_baseline(item("beats_trivial_baseline"), "binary", agg, PERIOD)
    assert result.status == "pass"
    assert m.roc_auc_score(agg).value == pytest.approx(roc_auc_score(y, good), abs=2e-3)
    noise = rng.random(2000)
    agg = m.BinaryAggregate.from_arrays(y.astype(int), (noise > 0.5).astype(int), noise, positive_class=1)
    assert c.check_trivial_baseline(item("beats_trivial_baseline"), "binary", agg, PERIOD).status == "fail"


def test_trivial_baseline_without_scores_uses_balanced_accuracy():
    agg = m.BinaryAggregate.from_arrays([1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1], positive_class=1)
    result = c.check_trivial_baseline(item("beats_trivial_baseline"), "binary", agg, PERIOD)
    # recall 1/2, specificity 3/4: balanced accuracy 0.625 > 0.5
    assert result.status == "pass" and "balanced_accuracy 0.625" in result.evidence.figure


def test_trivial_baseline_multiclass_against_the_majority_share():
    labels = ["a"] * 80 + ["b"] * 10 + ["c"] * 10
    always_a = m.MulticlassAggregate.from_arrays(labels, ["a"] * 100, ["a", "b", "c"])
    result = c.check_trivial_baseline(item("beats_trivial_baseline"), "multiclass", always_a, PERIOD)
    assert result.status == "fail" and "accuracy 0.800" in result.reason
    perfect = m.MulticlassAggregate.from_arrays(labels * 5, labels * 5, ["a", "b", "c"])
    assert (
        c.check_trivial_baseline(item("beats_trivial_baseline"), "multiclass", perfect, PERIOD).status
        == "pass"
    )


def test_trivial_baseline_regression_against_the_mean():
    rng = np.random.default_rng(1)
    y = rng.normal(50, 10, 500)
    good = m.RegressionAggregate.from_arrays(y, y + rng.normal(0, 3, 500))
    mean_only = m.RegressionAggregate.from_arrays(y, np.full(500, y.mean() + 1))
    assert (
        c.check_trivial_baseline(item("beats_trivial_baseline"), "regression", good, PERIOD).status == "pass"
    )
    assert (
        c.check_trivial_baseline(item("beats_trivial_baseline"), "regression", mean_only, PERIOD).status
        == "fail"
    )


def test_calibration_binary_by_expected_calibration_error():
    rng = np.random.default_rng(2)
    p = rng.random(20_000)
    y = rng.random(20_000) < p
    calibrated = m.BinaryAggregate.from_arrays(y.astype(int), (p > 0.5).astype(int), p, positive_class=1)
    result = c.check_calibration(item("calibrated"), "binary", calibrated, 0.05, 0.05, PERIOD)
    assert result.status == "pass"
    skewed = m.BinaryAggregate.from_arrays(y.astype(int), (p > 0.5).astype(int), p**3, positive_class=1)
    assert c.check_calibration(item("calibrated"), "binary", skewed, 0.05, 0.05, PERIOD).status == "fail"


def test_calibration_regression_by_mean_error_and_not_applicable_cases():
    y = np.arange(1.0, 201.0)
    unbiased = m.RegressionAggregate.from_arrays(y, y + np.tile([-1.0, 1.0], 100))
    biased = m.RegressionAggregate.from_arrays(y, y * 1.2)
    assert (
        c.check_calibration(item("calibrated"), "regression", unbiased, 0.05, 0.05, PERIOD).status == "pass"
    )
    result = c.check_calibration(item("calibrated"), "regression", biased, 0.05, 0.05, PERIOD)
    assert result.status == "fail" and result.reason == "Predictions overestimate on average."
    assert "mean error +20.1" in result.evidence.figure
    counts_only = m.MulticlassAggregate.from_arrays(["a", "b", "c"], ["a", "b", "b"], ["a", "b", "c"])
    multiclass = c.check_calibration(item("calibrated"), "multiclass", counts_only, 0.05, 0.05, PERIOD)
    assert multiclass.status == "not_applicable" and "no class probabilities" in multiclass.reason
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1, 1], 4000)
    y = np.array([rng.choice(3, p=row) for row in p])  # labels drawn from the probabilities: calibrated
    names = np.array(["a", "b", "c"])
    calibrated_mc = m.MulticlassAggregate.from_arrays(names[y], names[p.argmax(1)], ["a", "b", "c"], p)
    result = c.check_calibration(item("calibrated"), "multiclass", calibrated_mc, 0.05, 0.05, PERIOD)
    assert result.status == "pass" and "mean per-class calibration error" in result.evidence.figure
    overconfident = m.MulticlassAggregate.from_arrays(
        names[y], names[p.argmax(1)], ["a", "b", "c"], np.eye(3)[p.argmax(1)] * 0.97 + 0.01
    )
    assert (
        c.check_calibration(item("calibrated"), "multiclass", overconfident, 0.05, 0.05, PERIOD).status
        == "fail"
    )
    unscored = m.BinaryAggregate.from_arrays([1, 0], [1, 0], positive_class=1)
    assert (
        c.check_calibration(item("calibrated"), "binary", unscored, 0.05, 0.05, PERIOD).status
        == "not_applicable"
    )


def test_score_stability_reads_the_score_column_verdict():
    now = weekly(report(drift("score", True, 0.124), drift("amount", False)))
    result = c.check_score_stability(item("score_distribution_stable"), now, ("score", "prediction"))
    assert result.status == "fail"
    assert (
        result.evidence.figure
        == "score: Drifted: normed Wasserstein distance 0.124 is at or past its cut-off 0.1."
    )
    assert result.reason == (
        "The score distribution drifts from the baseline's in the week of 2 Nov 2026: score since 2 Nov 2026 (1 week)."
    )
    assert (
        c.check_score_stability(item("score_distribution_stable"), now, ("prediction",)).status == "unknown"
    )
    both = weekly(report(drift("score", True, 0.124), drift("prediction", True, 0.2)))
    reason = c.check_score_stability(item("score_distribution_stable"), both, ("score", "prediction")).reason
    assert reason.startswith("The score and prediction distributions drift from the baseline's")


@pytest.mark.parametrize(
    ("value", "lower", "upper", "direction", "reference", "worse"),
    [
        (0.50, 0.45, 0.55, "higher", 0.90, True),  # clearly below 0.9 - 10%
        (0.78, 0.70, 0.86, "higher", 0.90, False),  # interval reaches 0.81: not clearly worse
        (0.80, None, None, "higher", 0.90, True),  # no interval: the value decides (0.80 < 0.81)
        (20.0, 18.5, 21.5, "lower", 16.0, True),  # MAE: 18.5 > 16 + 10%
        (17.0, 16.0, 18.0, "lower", 16.0, False),
    ],
)
def test_worse_beyond_margin(value, lower, upper, direction, reference, worse):
    v = m.MetricValue("x", value, lower, upper, 100, "test")
    assert c.worse_beyond_margin(v, reference, 0.10, direction) is worse


def test_dev_gap_compares_production_with_development():
    dev = m.MetricValue("recall", 0.899, 0.87, 0.92, 400, "Wilson")
    prod = m.MetricValue("recall", 0.471, 0.433, 0.509, 700, "Wilson")
    result = c.check_dev_gap(item("production_matches_development"), "recall", dev, prod, 0.10, PERIOD)
    assert result.status == "fail"
    assert result.evidence.figure == (
        "recall 0.471 [0.433, 0.509] in production vs 0.899 in development (allowed 10% worse)"
    )
    same = m.MetricValue("recall", 0.88, 0.85, 0.91, 700, "Wilson")
    assert (
        c.check_dev_gap(item("production_matches_development"), "recall", dev, same, 0.10, PERIOD).status
        == "pass"
    )
    no_dev = m.MetricValue("recall", None, None, None, 0, "Wilson")
    assert (
        c.check_dev_gap(item("production_matches_development"), "recall", no_dev, same, 0.1, PERIOD).status
        == "unknown"
    )


# --------------------------------------------------------------------------- operations


def test_outputs_valid_counts_invalid_rows_and_unknown_classes():
    ops = m.LatencyAggregate.from_arrays(np.full(10_000, 20.0), invalid=np.arange(10_000) < 5)
    assert c.check_outputs(item("outputs_valid"), ops, 0, 0.001, PERIOD).status == "pass"  # 0.05%
    result = c.check_outputs(item("outputs_valid"), ops, 20, 0.001, PERIOD)  # 0.25%
    assert result.status == "fail"
    assert "5 without a prediction or with a score outside 0-1" in result.reason
    assert "20 predicting a class the baseline does not have" in result.reason
    assert c.check_outputs(item("outputs_valid"), None, 0, 0.001, None).status == "unknown"


def test_latency_p95_against_the_objective():
    fast = m.LatencyAggregate.from_arrays(np.linspace(10, 100, 1000))
    result = c.check_latency(item("latency_within_slo"), fast, 200.0, "latency_p95 criterion", PERIOD)
    assert result.status == "pass"
    assert np.percentile(np.linspace(10, 100, 1000), 95) == pytest.approx(95.5, abs=0.01)
    assert (
        result.evidence.figure.startswith("p95 9")
        and "objective 200 ms, latency_p95 criterion" in result.evidence.figure
    )
    assert c.check_latency(item("latency_within_slo"), fast, 50.0, "default", PERIOD).status == "fail"
    untimed = m.LatencyAggregate.from_arrays([float("nan")] * 10)
    assert c.check_latency(item("latency_within_slo"), untimed, 50.0, "default", PERIOD).status == "unknown"


def test_latency_objective_prefers_setting_then_criterion_then_default():
    assert c.latency_objective([LATENCY], 300.0) == (300.0, "checklist setting")
    assert c.latency_objective([RECALL, LATENCY], None) == (200.0, "latency_p95 criterion")
    assert c.latency_objective([RECALL], None) == (500.0, "default")


def test_volume_gaps_are_days_under_a_share_of_the_median():
    days = [(date(2026, 11, d), 1000) for d in range(1, 11)]
    assert c.check_volume(item("log_volume_continuous"), days, 0.1, PERIOD).status == "pass"
    days[3] = (date(2026, 11, 4), 99)
    days[6] = (date(2026, 11, 7), 0)
    result = c.check_volume(item("log_volume_continuous"), days, 0.1, PERIOD)
    assert result.status == "fail"
    assert result.reason == "2 day(s) with (almost) no predictions: 2026-11-04, 2026-11-07."
    assert "median 1,000 predictions a day" in result.evidence.figure


def test_versions_recorded_on_every_row():
    assert c.check_versions(item("model_version_recorded"), 100, 0, PERIOD).status == "pass"
    result = c.check_versions(item("model_version_recorded"), 100, 3, PERIOD)
    assert result.status == "fail" and result.evidence.figure == "97 of 100 predictions carry a model version"


# --------------------------------------------------------------------------- monitoring


def test_freshness_in_hours():
    fresh = c.check_freshness(item("log_fresh"), AS_OF - timedelta(hours=30), AS_OF, 36)
    stale = c.check_freshness(item("log_fresh"), AS_OF - timedelta(hours=60), AS_OF, 36)
    assert (fresh.status, stale.status) == ("pass", "fail")
    assert stale.reason == "No prediction logged for 2.5 days."
    assert c.check_freshness(item("log_fresh"), None, AS_OF, 36).status == "unknown"


def test_criteria_defined_needs_stored_criteria():
    default = Criterion(None, "roc_auc", ">=", 0.7, "week", 100, is_default=True)
    assert c.check_criteria_defined(item("criteria_defined"), [default]).status == "fail"
    assert c.check_criteria_defined(item("criteria_defined"), [RECALL]).status == "pass"


def test_performance_measured_needs_a_recent_judged_window():
    recent = track(RECALL, [0.8, 0.8], first=datetime(2026, 11, 9))
    old = track(RECALL, [0.8, None, None, None, None, None, None, None], first=datetime(2026, 10, 5))
    assert (
        c.check_performance_measured(
            item("performance_measured"), [recent, track(LATENCY, [1.0])], AS_OF, 35
        ).status
        == "pass"
    )
    result = c.check_performance_measured(item("performance_measured"), [old], AS_OF, 35)
    assert result.status == "fail" and "recall >= 0.75" in result.reason
    no_data = c.check_performance_measured(
        item("performance_measured"), [CriterionTrack(RECALL, (), None, None)], AS_OF, 35
    )
    assert no_data.status == "unknown"
    only_latency = c.check_performance_measured(
        item("performance_measured"), [track(LATENCY, [1.0])], AS_OF, 35
    )
    assert only_latency.status == "fail" and "No success criterion needs labels" in only_latency.reason


def test_regression_of_the_newest_judged_window():
    steady = track(RECALL, [0.85, 0.86, 0.84, 0.85, 0.86])
    fallen = track(RECALL, [0.85, 0.86, 0.84, 0.85, 0.70])
    assert c.check_regression(item("no_quality_regression"), steady, 0.05, 4).status == "pass"
    result = c.check_regression(item("no_quality_regression"), fallen, 0.05, 4)
    assert result.status == "fail"
    assert result.evidence.figure.startswith(
        "recall 0.700 [0.670, 0.730] vs 0.850 on average over the 4 earlier"
    )
    assert (
        c.check_regression(item("no_quality_regression"), track(RECALL, [0.8]), 0.05, 4).status == "unknown"
    )
    assert c.check_regression(item("no_quality_regression"), None, 0.05, 4).status == "unknown"


def _estimate(value: float, half: float) -> m.MetricValue:
    return m.MetricValue("recall", value, value - half, value + half, 500, "CBPE")


def test_estimate_must_overlap_the_measured_interval():
    measured = CriterionResult(RECALL, CriterionStatus.FAIL, 0.47, 0.43, 0.51, 600, "")
    windows = [(datetime(2026, 11, 2), measured, _estimate(0.50, 0.05))]
    assert c.check_estimate(item("estimate_agrees"), "", windows).status == "pass"
    windows.append((datetime(2026, 11, 9), measured, _estimate(0.80, 0.05)))
    result = c.check_estimate(item("estimate_agrees"), "", windows)
    assert result.status == "fail"
    assert result.evidence.figure == "recall measured 0.470 [0.430, 0.510], estimated 0.800 [0.750, 0.850]"
    assert result.evidence.window == "week from 2026-11-09"


def test_estimate_not_applicable_when_the_logs_cannot_give_one():
    why = "The model logs no scores, so performance cannot be estimated without labels."
    result = c.check_estimate(item("estimate_agrees"), why, [])
    assert (result.status, result.reason) == ("not_applicable", why)
    assert c.check_estimate(item("estimate_agrees"), "", []).status == "unknown"


def test_primary_criterion_is_the_first_that_needs_labels():
    assert c.primary_criterion([LATENCY, RECALL]) == RECALL
    assert c.primary_criterion([LATENCY]) is None


def test_period_text():
    assert PERIOD.text == "2026-11-24 to 2026-11-30" and PERIOD.days == 7
    assert c.Period(datetime(2026, 11, 24), datetime(2026, 11, 25)).text == "2026-11-24"


def test_unjudged_criteria_say_why_labels_latency_or_time():
    tracks = [track(RECALL, [None, None]), track(LATENCY, [None, None])]
    result = c.check_criteria(item("criteria_met"), tracks, n_windows=2)
    assert result.status == "unknown"
    assert result.reason == (
        "Not enough labels yet to judge: recall >= 0.75 per week, with at least 50 labels. "
        "No latency is logged to judge: latency_p95 <= 200 ms per week (log latency_ms with each prediction)."
    )
