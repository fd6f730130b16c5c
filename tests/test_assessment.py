"""A model's readiness assessment end to end: the store, attestations, configuration, history.

The healthy fixture passes every automatic item, so each test breaks one thing and checks
that exactly that item (and the score arithmetic behind it) moves. The seeded demo lands its
three models in three statuses for the reasons its README states. Assessing never writes:
the day's score is recorded only by :func:`record_score` (and ingestion, the gate, ``record``).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from readiness import Store
from readiness.analysis.assessment import (
    assess_model,
    assess_portfolio,
    backfill_history,
    record_score,
    score_history,
)
from readiness.analysis.cache import RESULTS
from readiness.analysis.refresh import refresh_model
from readiness.analysis.settings import (
    attest,
    checklist_config,
    mark_applicable,
    mark_not_applicable,
    set_bands,
    set_critical,
    set_margins,
    withdraw,
)
from readiness.core.checklist import DEFAULT_ITEMS
from readiness.core.checklist_config import ChecklistConfig, Margins
from readiness.core.records import utcnow
from readiness.core.status import CriteriaState, ItemStatus, ReadinessStatus
from readiness.errors import ChecklistError
from readiness.storage.settings import current_attestations
from tests.readiness_fixtures import DAYS, NOW, START, healthy_store, insert_raw

URL = "https://wiki.example.com/shop"
ATTESTED = [item.key for item in DEFAULT_ITEMS if item.kind == "attested"]


@pytest.fixture
def shop(healthy) -> Store:
    """A private copy of the healthy store (model "shop")."""
    return healthy


def model_of(store: Store, name: str = "shop"):
    return store.get_model(name)


def automatic_failures(assessment) -> list[str]:
    return [
        r.item.key for r in assessment.results if r.item.kind == "automatic" and r.status != ItemStatus.PASS
    ]


def attest_all(store: Store, name: str = "shop", today: date | None = None) -> None:
    today = today or NOW.date()
    model = store.get_model(name)
    for key in ATTESTED:
        attest(store, model, key, "Ana", f"{URL}/{key}", today=today - timedelta(days=10))


def test_a_healthy_model_passes_every_automatic_item(shop):
    a = assess_model(shop, model_of(shop), NOW)
    assert automatic_failures(a) == []
    # nothing attested: data 5/7, model 5/8, operations 4/6, monitoring 5/8 -> 62.5 (At risk)
    assert [round(a.section_percent(s), 2) for s in ("data", "model", "operations", "monitoring")] == [
        71.43,
        62.5,
        66.67,
        62.5,
    ]
    assert (a.score.score_0_100, a.score.status) == (62.5, ReadinessStatus.AT_RISK)
    assert a.score.status.label == "At risk"
    assert a.criteria_status == CriteriaState.MET and a.drifted_features == ()
    assert a.recent.text == "2026-11-05 to 2026-11-11"
    every = {r.item.key for r in a.results}
    assert every == {item.key for item in DEFAULT_ITEMS}
    assert all(
        r.evidence is not None
        for r in a.results
        if r.status != ItemStatus.UNKNOWN or r.item.kind == "automatic"
    )


def test_every_attestation_makes_a_healthy_model_ready(shop):
    attest_all(shop)
    a = assess_model(shop, model_of(shop), NOW)
    # data 6/7, model 6.5/8, operations 5/6, monitoring 6.5/8: the weakest is 81.25
    assert (a.score.score_0_100, a.score.status, a.score.blockers) == (81.25, ReadinessStatus.READY, ())


def test_attesting_changes_the_score_at_once_and_withdrawing_undoes_it(shop):
    model = model_of(shop)
    before = assess_model(shop, model, NOW)
    attest(shop, model, "model_card", "Ana", f"{URL}/card", today=NOW.date())
    after = assess_model(shop, model, NOW)  # the cache key holds the settings version (the new audit entry)
    assert after.result("model_card").status == ItemStatus.ATTESTED
    assert after.section_percent("model") == pytest.approx(before.section_percent("model") + 100 * 0.5 / 8)
    assert withdraw(shop, model, "model_card", actor="ana") == 1
    assert assess_model(shop, model, NOW).result("model_card").status == ItemStatus.UNKNOWN
    with pytest.raises(ChecklistError, match="no attestation to withdraw"):
        withdraw(shop, model, "model_card")


def test_an_attestation_expires_after_its_validity(shop):
    model = model_of(shop)
    attest(shop, model, "model_card", "Ana", f"{URL}/card", days=30, today=date(2026, 10, 1))
    assert (
        assess_model(shop, model, datetime(2026, 10, 31, 9)).result("model_card").status
        == ItemStatus.ATTESTED
    )
    expired = assess_model(shop, model, datetime(2026, 11, 1, 9)).result("model_card")
    assert expired.status == ItemStatus.EXPIRED and expired.reason == "Attestation expired on 2026-10-31."


def test_attestations_made_later_do_not_count_for_an_earlier_day(shop):
    model = model_of(shop)
    attest(shop, model, "model_card", "Ana", f"{URL}/card", today=date(2026, 11, 5))
    assert set(current_attestations(shop, model.id, date(2026, 11, 4))) == set()
    assert (
        assess_model(shop, model, datetime(2026, 11, 4, 9)).result("model_card").status == ItemStatus.UNKNOWN
    )


def test_bad_attestations_write_nothing(shop):
    model = model_of(shop)
    audit_before = len(shop.audit_entries(model))
    for kwargs, fragment in (
        ({"item_key": "model_card", "evidence_url": "javascript:alert(1)"}, "not a web address"),
        ({"item_key": "criteria_met", "evidence_url": URL}, "cannot be attested"),
        ({"item_key": "nope", "evidence_url": URL}, "no checklist item 'nope'"),
    ):
        with pytest.raises(ChecklistError, match=fragment):
            attest(shop, model, owner="Ana", **kwargs)
    assert current_attestations(shop, model.id) == {}
    assert len(shop.audit_entries(model)) == audit_before


def test_a_broken_schema_from_direct_inserts_is_a_critical_failure(shop):
    model = model_of(shop)
    rows = [
        {
            "timestamp": datetime(2026, 11, 11, 12, i),
            "prediction": "1",
            "score": 0.7,
            "features": json.dumps({"amount": "twelve", "channel": "web"}),
        }
        for i in range(40)
    ]
    insert_raw(shop, "shop", rows)  # no refresh needed: the schema check samples raw rows
    a = assess_model(shop, model, NOW)
    schema = a.result("schema_matches_baseline")
    assert schema.status == ItemStatus.FAIL
    assert "features the baseline lacks: channel" in schema.reason
    assert a.score.status == ReadinessStatus.NOT_READY
    assert a.score.critical_failures[0].item.key == "schema_matches_baseline"


def test_invalid_outputs_are_a_critical_failure(shop):
    model = model_of(shop)
    rows = [
        {
            "timestamp": datetime(2026, 11, 11, 12, i % 60),
            "prediction": "1",
            "score": 1.7,
            "features": json.dumps({"amount": 30.0, "region": "north"}),
        }
        for i in range(60)
    ]
    insert_raw(shop, "shop", rows)  # 60 of ~6,360 rows with a score outside [0, 1]: 0.9% > 0.1%
    # reading never refreshes: the stored aggregates do not hold the inserted rows yet
    assert assess_model(shop, model, NOW).result("outputs_valid").status == ItemStatus.PASS
    refresh_model(shop, model)
    a = assess_model(shop, model, NOW)
    assert a.result("outputs_valid").status == ItemStatus.FAIL
    assert "60 without a prediction or with a score outside 0-1" in a.result("outputs_valid").reason
    assert a.score.status == ReadinessStatus.NOT_READY


def test_stale_logs_fail_freshness_and_drift_is_judged_on_the_newest_logged_week(shop):
    later = NOW + timedelta(days=5)
    a = assess_model(shop, model_of(shop), later)
    assert automatic_failures(a) == ["log_fresh"]
    assert a.recent.text == "2026-11-05 to 2026-11-11"  # the newest week that has logs
    assert a.result("log_fresh").reason == "No prediction logged for 5.4 days."


def test_not_applicable_items_leave_the_denominator_and_carry_the_reason(shop):
    model = model_of(shop)
    mark_not_applicable(
        shop, model, "fairness_review", "  No people are scored by this model.  ", actor="ana"
    )
    a = assess_model(shop, model, NOW)
    result = a.result("fairness_review")
    assert (result.status, result.reason) == (
        ItemStatus.NOT_APPLICABLE,
        "No people are scored by this model.",
    )
    section = next(s for s in a.score.sections if s.section == "model")
    assert (section.points, section.applicable) == (5.0, 7)
    mark_applicable(shop, model, "fairness_review")
    assert assess_model(shop, model, NOW).result("fairness_review").status == ItemStatus.UNKNOWN
    with pytest.raises(ChecklistError, match="is not marked not applicable"):
        mark_applicable(shop, model, "fairness_review")
    with pytest.raises(ChecklistError, match="without a reason"):
        mark_not_applicable(shop, model, "fairness_review", "   ")
    actions = list(shop.audit_entries(model)["action"])
    assert actions.count("checklist.configure") == 2


def test_margins_bands_and_criticality_are_configurable_per_model(shop):
    model = model_of(shop)
    set_margins(shop, model, latency_slo_ms=30.0, actor="ana")
    a = assess_model(shop, model, NOW)
    assert a.result("latency_within_slo").status == ItemStatus.FAIL
    assert "objective 30 ms, checklist setting" in a.result("latency_within_slo").evidence.figure
    set_critical(shop, model, "latency_within_slo", True)
    assert assess_model(shop, model, NOW).score.status == ReadinessStatus.NOT_READY
    set_critical(shop, model, "latency_within_slo", False)
    assert assess_model(shop, model, NOW).score.score_0_100 == 50.0  # operations 3 / 6
    set_bands(shop, model, ready=50, at_risk=40)
    assert assess_model(shop, model, NOW).score.status == ReadinessStatus.READY
    config = checklist_config(shop, model)
    assert config.margins.latency_slo_ms == 30.0 and config.bands.ready == 50
    with pytest.raises(ChecklistError, match="Unknown checklist margin"):
        set_margins(shop, model, max_eec=0.1)
    with pytest.raises(ChecklistError, match="is a share"):
        set_margins(shop, model, max_ece=5)
    with pytest.raises(ChecklistError, match="above 0"):
        Margins(recent_days=0)


def test_config_round_trips_through_json():
    config = ChecklistConfig(
        Margins(max_ece=0.02), not_applicable={"fairness_review": "no people"}, critical={"calibrated": True}
    )
    assert ChecklistConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ChecklistError, match="no checklist item 'nope'"):
        ChecklistConfig(not_applicable={"nope": "x"})


def recorded_since(store: Store, before) -> list:
    """The history rows recorded after ``before`` was read (ingestion already recorded its own day)."""
    history = score_history(store, model_of(store))
    return history[~history["day"].isin(before["day"])].reset_index(drop=True)


def test_assessing_never_records_a_score(shop):
    model = model_of(shop)
    before = score_history(shop, model)
    assess_model(shop, model, NOW)
    assess_model(shop, model, NOW + timedelta(days=1))
    assess_portfolio(shop, NOW + timedelta(days=2))
    assert score_history(shop, model).equals(before)


def test_the_score_is_recorded_once_per_day(shop):
    model = model_of(shop)
    before = score_history(shop, model)
    record_score(shop, assess_model(shop, model, NOW))
    attest(shop, model, "model_card", "Ana", f"{URL}/card", today=NOW.date())
    record_score(shop, assess_model(shop, model, NOW + timedelta(hours=2)))  # same day: replaces
    record_score(shop, assess_model(shop, model, NOW + timedelta(days=1)))
    history = recorded_since(shop, before)
    assert list(history["day"]) == [datetime(2026, 11, 12), datetime(2026, 11, 13)]
    assert list(history.columns) == ["day", "score", "status", "data", "model", "operations", "monitoring"]
    assert history.loc[0, "model"] == pytest.approx(100 * 5.5 / 8)
    assert history.loc[0, "status"] == ReadinessStatus.AT_RISK  # stored as its machine word
    assert history.loc[0, "status"] == "at_risk"


def test_backfill_records_past_days_from_the_logs(shop):
    model = model_of(shop)
    before = score_history(shop, model)
    recorded = backfill_history(shop, model, days=14, step=7, today=NOW.date())
    history = recorded_since(shop, before)
    assert recorded == 2 and list(history["day"]) == [datetime(2026, 11, 4), datetime(2026, 11, 11)]
    # as of the first logged day nothing was logged yet: from the second day to yesterday
    assert backfill_history(shop, model, days=DAYS + 30, step=1, today=NOW.date()) == DAYS - 1
    with pytest.raises(ChecklistError, match="at least 1 day"):
        backfill_history(shop, model, days=0)


def test_a_model_without_baseline_or_predictions_is_not_ready_and_says_why(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/empty.db")
    model = store.create_model("fresh", task="binary", positive_class="1", owner="Ana")
    a = assess_model(store, model, NOW)
    assert a.score.status == ReadinessStatus.NOT_READY
    assert a.result("no_feature_drift").reason == "No predictions to check yet."
    assert a.result("criteria_defined").status == ItemStatus.FAIL  # task defaults only
    assert a.result("criteria_met").reason.startswith("Not enough labels yet to judge: roc_auc >= 0.70")
    assert a.result("performance_measured").status == ItemStatus.UNKNOWN
    assert a.last_prediction is None and a.freshness_hours is None
    assert assess_portfolio(store, NOW)[0].model.name == "fresh"
    assert score_history(store, model).empty  # nothing recorded by looking
    store.engine.dispose()


def test_assessment_runs_on_postgresql_too(pg_store):
    """The same fixture on a real PostgreSQL schema gives the same verdicts."""
    healthy_store(pg_store)
    model = model_of(pg_store)
    attest(pg_store, model, "model_card", "Ana", f"{URL}/card", today=NOW.date())
    before = score_history(pg_store, model)
    a = assess_model(pg_store, model, NOW)
    assert automatic_failures(a) == []
    assert a.result("model_card").status == ItemStatus.ATTESTED
    assert score_history(pg_store, model).equals(before)  # assessing writes nothing
    record_score(pg_store, a)
    history = recorded_since(pg_store, before)
    assert list(history["day"]) == [datetime(2026, 11, 12)] and history.loc[0, "score"] == a.score.score_0_100


# --------------------------------------------------------------------------- the demo


DEMO_TODAY = date(2026, 11, 15)
DEMO_NOW = datetime(2026, 11, 15, 9)


@pytest.fixture(scope="module")
def demo(demo_path) -> Store:
    store = Store.open(f"sqlite:///{demo_path}")
    yield store
    store.engine.dispose()


def test_demo_fraud_is_not_ready_because_its_recall_criterion_fails(demo):
    a = assess_model(demo, model_of(demo, "fraud"), DEMO_NOW)
    assert a.score.status == ReadinessStatus.NOT_READY
    assert [r.item.key for r in a.score.critical_failures] == ["criteria_met"]
    assert "recall >= 0.75" in a.result("criteria_met").reason
    assert a.drifted_features[0] == "device_trust"
    assert {"no_feature_drift", "score_distribution_stable", "production_matches_development"} <= set(
        automatic_failures(a)
    )


def test_demo_credit_is_ready_with_every_check_passing_and_every_attestation_valid(demo):
    a = assess_model(demo, model_of(demo, "credit"), DEMO_NOW)
    assert (a.score.status, a.score_text) == (ReadinessStatus.READY, "81")
    assert automatic_failures(a) == []
    assert all(r.status == ItemStatus.ATTESTED for r in a.results if r.item.kind == "attested")


def test_demo_demand_is_at_risk_for_missing_operations_attestations(demo):
    a = assess_model(demo, model_of(demo, "demand"), DEMO_NOW)
    assert (a.score.status, a.score_text) == (ReadinessStatus.AT_RISK, "67")
    assert [b.item.key for b in a.score.blockers] == ["rollback_drill", "on_call_runbook"]
    assert a.result("privacy_review").status == ItemStatus.EXPIRED
    assert a.result("human_oversight").status == ItemStatus.NOT_APPLICABLE
    assert automatic_failures(a) == []
    agrees = a.result("estimate_agrees")  # the label-free error estimate (direct loss estimation) holds
    assert agrees.evidence is not None and agrees.evidence.figure.startswith("mae measured 15.5")


def test_demo_history_is_backfilled_weekly(demo):
    history = score_history(demo, model_of(demo, "fraud"))
    assert len(history) == 13 and history["day"].iloc[-1] == datetime(2026, 11, 14)
    # before the drift (from log day 35) fraud scores higher than after it, when its recall fails
    drift_day = datetime.combine(DEMO_TODAY, datetime.min.time()) - timedelta(days=90 - 35)
    before = history[history["day"] <= drift_day]
    assert before["score"].max() > history["score"].iloc[-1]
    assert set(before["status"]) != {ReadinessStatus.NOT_READY.value}
    assert history["status"].iloc[-1] == ReadinessStatus.NOT_READY


def test_assessments_are_cached_per_data_version(shop):
    model = model_of(shop)
    first = assess_model(shop, model, NOW)
    assert assess_model(shop, model, NOW) is first
    version = shop.data_version(model)
    insert_raw(
        shop,
        "shop",
        [
            {
                "timestamp": datetime(2026, 11, 11, 23, 59),
                "prediction": "0",
                "score": 0.1,
                "features": json.dumps({"amount": 20.0, "region": "east"}),
            }
        ],
    )
    assert shop.data_version(model) != version  # a row a service inserted moves the version
    second = assess_model(shop, model, NOW)
    assert second is not first
    refreshed = shop.data_version(model)
    refresh_model(shop, model)
    assert shop.data_version(model) != refreshed  # so does a refresh of the aggregates
    third = assess_model(shop, model, NOW)
    assert third is not second and assess_model(shop, model, NOW) is third
    # the one cache: cleared, the same question is answered afresh, with the same verdict
    RESULTS.clear()
    again = assess_model(shop, model, NOW)
    assert again is not third and again.score == third.score
    # another Store on the same file is another identity: it never shares cached results
    other = Store.open(str(shop.engine.url))
    try:
        assert assess_model(other, model_of(other), NOW) is not again
    finally:
        other.engine.dispose()
    assert utcnow() > START  # sanity: the fixture is in the past


def test_assessing_successive_days_reuses_closed_windows_and_judges_as_a_cold_start(shop):
    """A backfill judges the same windows again and again: each window's drift and merged records are computed
    once per data version, and every assessment equals one made with nothing cached."""
    import readiness.analysis.assessment as assessment

    model = model_of(shop)
    computed: list[datetime] = []
    real = assessment.window_drift

    def counting(reference, start, profile, options=None):
        computed.append(start)
        return real(reference, start, profile)

    days = [datetime.combine(NOW.date() - timedelta(days=back), datetime.min.time()) for back in (3, 2, 1)]
    RESULTS.clear()
    try:
        assessment.window_drift = counting
        warm = [assess_model(shop, model, day) for day in days]
    finally:
        assessment.window_drift = real
    starts = warm[-1].drift.starts
    assert len(starts) > 1
    closed = [start for start in computed if start != max(computed)]  # the newest window grows day by day
    assert len(closed) == len(set(closed)) == len(starts) - 1  # every closed window once
    for day, seen in zip(days, warm, strict=True):
        RESULTS.clear()
        cold = assess_model(shop, model, day)
        assert (cold.drift, cold.results, cold.score) == (seen.drift, seen.results, seen.score)
