"""A model's readiness assessment end to end: the store, attestations, configuration, history.

The healthy fixture passes every automatic item, so each test breaks one thing and checks
that exactly that item (and the score arithmetic behind it) moves. The seeded demo lands its
three models in three statuses for the reasons its README states.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from readiness import Store
from readiness.analysis.assessment import assess_model, assess_portfolio, backfill_history, score_history
from readiness.storage.attestations import attest, current_attestations, withdraw
from readiness.core.checklist import DEFAULT_ITEMS, ChecklistError
from readiness.core.checklist_config import (
    ChecklistConfig,
    Margins,
    load_config,
    mark_applicable,
    mark_not_applicable,
    set_bands,
    set_critical,
    set_margins,
)
from readiness.core.records import utcnow
from tests.readiness_fixtures import DAYS, NOW, START, healthy_store, insert_raw

URL = "https://wiki.example.com/shop"
ATTESTED = [item.key for item in DEFAULT_ITEMS if item.kind == "attested"]


@pytest.fixture
def shop(tmp_path) -> Store:
    return healthy_store(f"sqlite:///{tmp_path}/shop.db")


def automatic_failures(assessment) -> list[str]:
    return [r.item.key for r in assessment.results if r.item.kind == "automatic" and r.status != "pass"]


def attest_all(store: Store, name: str = "shop", today: date = NOW.date()) -> None:
    for key in ATTESTED:
        attest(store, name, key, "Ana", f"{URL}/{key}", today=today - timedelta(days=10))


def test_a_healthy_model_passes_every_automatic_item(shop):
    a = assess_model(shop, "shop", NOW, record=False)
    assert automatic_failures(a) == []
    # nothing attested: data 5/7, model 5/8, operations 4/6, monitoring 5/8 -> 62.5 (At risk)
    assert [round(a.section_percent(s), 2) for s in ("data", "model", "operations", "monitoring")] == [
        71.43, 62.5, 66.67, 62.5]
    assert (a.score.score_0_100, a.score.status) == (62.5, "At risk")
    assert a.criteria_status == "met" and a.drifted_features == ()
    assert a.recent.text == "2026-11-05 to 2026-11-11"
    every = {r.item.key for r in a.results}
    assert every == {item.key for item in DEFAULT_ITEMS}
    assert all(r.evidence is not None for r in a.results if r.status != "unknown" or r.item.kind == "automatic")


def test_every_attestation_makes_a_healthy_model_ready(shop):
    attest_all(shop)
    a = assess_model(shop, "shop", NOW, record=False)
    # data 6/7, model 6.5/8, operations 5/6, monitoring 6.5/8: the weakest is 81.25
    assert (a.score.score_0_100, a.score.status, a.score.blockers) == (81.25, "Ready", ())


def test_attesting_changes_the_score_at_once_and_withdrawing_undoes_it(shop):
    before = assess_model(shop, "shop", NOW, record=False)
    attest(shop, "shop", "model_card", "Ana", f"{URL}/card", today=NOW.date())
    after = assess_model(shop, "shop", NOW, record=False)  # the memo sees the new audit entry
    assert after.result("model_card").status == "attested"
    assert after.section_percent("model") == pytest.approx(before.section_percent("model") + 100 * 0.5 / 8)
    assert withdraw(shop, "shop", "model_card", actor="ana") == 1
    assert assess_model(shop, "shop", NOW, record=False).result("model_card").status == "unknown"
    with pytest.raises(ChecklistError, match="no attestation to withdraw"):
        withdraw(shop, "shop", "model_card")


def test_an_attestation_expires_after_its_validity(shop):
    attest(shop, "shop", "model_card", "Ana", f"{URL}/card", days=30, today=date(2026, 10, 1))
    assert assess_model(shop, "shop", datetime(2026, 10, 31, 9), record=False).result("model_card").status == \
        "attested"
    expired = assess_model(shop, "shop", datetime(2026, 11, 1, 9), record=False).result("model_card")
    assert expired.status == "expired" and expired.reason == "Attestation expired on 2026-10-31."


def test_attestations_made_later_do_not_count_for_an_earlier_day(shop):
    attest(shop, "shop", "model_card", "Ana", f"{URL}/card", today=date(2026, 11, 5))
    assert set(current_attestations(shop, shop.get_model("shop").id, date(2026, 11, 4))) == set()
    assert assess_model(shop, "shop", datetime(2026, 11, 4, 9), record=False).result("model_card").status == \
        "unknown"


def test_bad_attestations_write_nothing(shop):
    model_id = shop.get_model("shop").id
    audit_before = len(shop.audit_entries("shop"))
    for kwargs, fragment in (
        ({"item_key": "model_card", "evidence_url": "javascript:alert(1)"}, "not a web address"),
        ({"item_key": "criteria_met", "evidence_url": URL}, "cannot be attested"),
        ({"item_key": "nope", "evidence_url": URL}, "no checklist item 'nope'"),
    ):
        with pytest.raises(ChecklistError, match=fragment):
            attest(shop, "shop", owner="Ana", **kwargs)
    assert current_attestations(shop, model_id) == {}
    assert len(shop.audit_entries("shop")) == audit_before


def test_a_broken_schema_from_direct_inserts_is_a_critical_failure(shop):
    rows = [{"timestamp": datetime(2026, 11, 11, 12, i), "prediction": "1", "score": 0.7,
             "features": json.dumps({"amount": "twelve", "channel": "web"})} for i in range(40)]
    insert_raw(shop, "shop", rows)
    a = assess_model(shop, "shop", NOW, record=False)
    schema = a.result("schema_matches_baseline")
    assert schema.status == "fail"
    assert "features the baseline lacks: channel" in schema.reason
    assert a.score.status == "Not ready" and a.score.critical_failures[0].item.key == "schema_matches_baseline"


def test_invalid_outputs_are_a_critical_failure(shop):
    rows = [{"timestamp": datetime(2026, 11, 11, 12, i % 60), "prediction": "1", "score": 1.7,
             "features": json.dumps({"amount": 30.0, "region": "north"})} for i in range(60)]
    insert_raw(shop, "shop", rows)  # 60 of ~6,360 rows with a score outside [0, 1]: 0.9% > 0.1%
    a = assess_model(shop, "shop", NOW, record=False)
    assert a.result("outputs_valid").status == "fail"
    assert "60 without a prediction or with a score outside 0-1" in a.result("outputs_valid").reason
    assert a.score.status == "Not ready"


def test_stale_logs_fail_freshness_and_drift_is_judged_on_the_newest_logged_week(shop):
    later = NOW + timedelta(days=5)
    a = assess_model(shop, "shop", later, record=False)
    assert automatic_failures(a) == ["log_fresh"]
    assert a.recent.text == "2026-11-05 to 2026-11-11"  # the newest week that has logs
    assert "No prediction logged for 5.4 days." == a.result("log_fresh").reason


def test_not_applicable_items_leave_the_denominator_and_carry_the_reason(shop):
    mark_not_applicable(shop, "shop", "fairness_review", "  No people are scored by this model.  ", actor="ana")
    a = assess_model(shop, "shop", NOW, record=False)
    result = a.result("fairness_review")
    assert (result.status, result.reason) == ("not_applicable", "No people are scored by this model.")
    model = next(s for s in a.score.sections if s.section == "model")
    assert (model.points, model.applicable) == (5.0, 7)
    mark_applicable(shop, "shop", "fairness_review")
    assert assess_model(shop, "shop", NOW, record=False).result("fairness_review").status == "unknown"
    with pytest.raises(ChecklistError, match="is not marked not applicable"):
        mark_applicable(shop, "shop", "fairness_review")
    with pytest.raises(ChecklistError, match="without a reason"):
        mark_not_applicable(shop, "shop", "fairness_review", "   ")
    actions = list(shop.audit_entries("shop")["action"])
    assert actions.count("checklist.configure") == 2


def test_margins_bands_and_criticality_are_configurable_per_model(shop):
    set_margins(shop, "shop", latency_slo_ms=30.0, actor="ana")
    a = assess_model(shop, "shop", NOW, record=False)
    assert a.result("latency_within_slo").status == "fail"
    assert "objective 30 ms, checklist setting" in a.result("latency_within_slo").evidence.figure
    set_critical(shop, "shop", "latency_within_slo", True)
    assert assess_model(shop, "shop", NOW, record=False).score.status == "Not ready"
    set_critical(shop, "shop", "latency_within_slo", False)
    assert assess_model(shop, "shop", NOW, record=False).score.score_0_100 == 50.0  # operations 3 / 6
    set_bands(shop, "shop", ready=50, at_risk=40)
    assert assess_model(shop, "shop", NOW, record=False).score.status == "Ready"
    config = load_config(shop, shop.get_model("shop").id)
    assert config.margins.latency_slo_ms == 30.0 and config.bands.ready == 50
    with pytest.raises(ChecklistError, match="Unknown checklist margin"):
        set_margins(shop, "shop", max_eec=0.1)
    with pytest.raises(ChecklistError, match="is a share"):
        set_margins(shop, "shop", max_ece=5)
    with pytest.raises(ChecklistError, match="above 0"):
        Margins(recent_days=0)


def test_config_round_trips_through_json():
    config = ChecklistConfig(Margins(max_ece=0.02), not_applicable={"fairness_review": "no people"},
                             critical={"calibrated": True})
    assert ChecklistConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ChecklistError, match="no checklist item 'nope'"):
        ChecklistConfig(not_applicable={"nope": "x"})


def test_the_score_is_recorded_once_per_day(shop):
    assess_model(shop, "shop", NOW)
    attest(shop, "shop", "model_card", "Ana", f"{URL}/card", today=NOW.date())
    assess_model(shop, "shop", NOW + timedelta(hours=2))  # same day: replaces
    assess_model(shop, "shop", NOW + timedelta(days=1))
    history = score_history(shop, "shop")
    assert list(history["day"]) == [datetime(2026, 11, 12), datetime(2026, 11, 13)]
    assert list(history.columns) == ["day", "score", "status", "data", "model", "operations", "monitoring"]
    assert history.loc[0, "model"] == pytest.approx(100 * 5.5 / 8)


def test_backfill_records_past_days_from_the_logs(shop):
    recorded = backfill_history(shop, "shop", days=14, step=7, today=NOW.date())
    history = score_history(shop, "shop")
    assert recorded == 2 and list(history["day"]) == [datetime(2026, 11, 4), datetime(2026, 11, 11)]
    # as of the first logged day nothing was logged yet: from the second day to yesterday
    assert backfill_history(shop, "shop", days=DAYS + 30, step=1, today=NOW.date()) == DAYS - 1
    with pytest.raises(ChecklistError, match="at least 1 day"):
        backfill_history(shop, "shop", days=0)


def test_a_model_without_baseline_or_predictions_is_not_ready_and_says_why(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/empty.db")
    store.create_model("fresh", task="binary", positive_class="1", owner="Ana")
    a = assess_model(store, "fresh", NOW, record=False)
    assert a.score.status == "Not ready"
    assert a.result("no_feature_drift").reason == "No predictions to check yet."
    assert a.result("criteria_defined").status == "fail"  # task defaults only
    assert a.result("criteria_met").reason.startswith("Not enough labels yet to judge: roc_auc >= 0.70")
    assert a.result("performance_measured").status == "unknown"
    assert a.last_prediction is None and a.freshness_hours is None
    assert assess_portfolio(store, NOW, record=False)[0].model.name == "fresh"


def test_assessment_runs_on_postgresql_too(pg_store):
    """The same fixture on a real PostgreSQL schema gives the same verdicts."""
    healthy_store(pg_store)
    attest(pg_store, "shop", "model_card", "Ana", f"{URL}/card", today=NOW.date())
    a = assess_model(pg_store, "shop", NOW)
    assert automatic_failures(a) == []
    assert a.result("model_card").status == "attested"
    assert len(score_history(pg_store, "shop")) == 1


# --------------------------------------------------------------------------- the demo


DEMO_TODAY = date(2026, 11, 15)
DEMO_NOW = datetime(2026, 11, 15, 9)


@pytest.fixture(scope="module")
def demo(demo_path) -> Store:
    return Store.open(f"sqlite:///{demo_path}")


def test_demo_fraud_is_not_ready_because_its_recall_criterion_fails(demo):
    a = assess_model(demo, "fraud", DEMO_NOW, record=False)
    assert a.score.status == "Not ready"
    assert [r.item.key for r in a.score.critical_failures] == ["criteria_met"]
    assert "recall >= 0.75" in a.result("criteria_met").reason
    assert a.drifted_features[0] == "device_trust"
    assert {"no_feature_drift", "score_distribution_stable", "production_matches_development"} <= set(
        automatic_failures(a))


def test_demo_credit_is_ready_with_every_check_passing_and_every_attestation_valid(demo):
    a = assess_model(demo, "credit", DEMO_NOW, record=False)
    assert (a.score.status, a.score_text) == ("Ready", "81")
    assert automatic_failures(a) == []
    assert all(r.status == "attested" for r in a.results if r.item.kind == "attested")


def test_demo_demand_is_at_risk_for_missing_operations_attestations(demo):
    a = assess_model(demo, "demand", DEMO_NOW, record=False)
    assert (a.score.status, a.score_text) == ("At risk", "67")
    assert [b.item.key for b in a.score.blockers] == ["rollback_drill", "on_call_runbook"]
    assert a.result("privacy_review").status == "expired"
    assert a.result("human_oversight").status == "not_applicable"
    assert automatic_failures(a) == ["estimate_agrees"]  # not applicable: regression


def test_demo_history_is_backfilled_weekly(demo):
    history = score_history(demo, "fraud")
    assert len(history) == 13 and history["day"].iloc[-1] == datetime(2026, 11, 14)
    # before the drift (from log day 35) fraud scores higher than after it, when its recall fails
    drift_day = datetime.combine(DEMO_TODAY, datetime.min.time()) - timedelta(days=90 - 35)
    before = history[history["day"] <= drift_day]
    assert before["score"].max() > history["score"].iloc[-1]
    assert set(before["status"]) != {"Not ready"} and history["status"].iloc[-1] == "Not ready"


def test_assessments_are_memoized_per_data_version(shop):
    first = assess_model(shop, "shop", NOW, record=False)
    assert assess_model(shop, "shop", NOW, record=False) is first
    insert_raw(shop, "shop", [{"timestamp": datetime(2026, 11, 11, 23, 59), "prediction": "0", "score": 0.1,
                               "features": json.dumps({"amount": 20.0, "region": "east"})}])
    assert assess_model(shop, "shop", NOW, record=False) is not first
    assert utcnow() > START  # sanity: the fixture is in the past
