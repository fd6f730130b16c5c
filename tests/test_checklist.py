"""The readiness checklist: hand-computed scores, bands, attestations, blockers, the catalogue.

Scoring tests use synthetic sections (``_items``) so they state their own arithmetic and do
not move when the default catalogue changes; the catalogue has tests of its own below.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.checklist import (
    DEFAULT_ITEMS,
    DEFAULT_VALIDITY_DAYS,
    ITEMS_BY_KEY,
    SECTIONS,
    Attestation,
    Bands,
    ChecklistItem,
    Evidence,
    ItemResult,
    attestation_valid,
    attested_result,
    check_evidence_url,
    new_attestation,
    points,
    score_checklist,
)
from readiness.core.status import ItemStatus, ReadinessStatus
from readiness.errors import ChecklistError, ReadinessError

TODAY = date(2024, 6, 1)
URL = "https://wiki.example.com/evidence"


def _items(section: str, n: int = 8, critical: tuple[int, ...] = ()) -> list[ChecklistItem]:
    """A synthetic section of ``n`` items; the indexes in ``critical`` are critical."""
    return [
        ChecklistItem(
            f"{section}_{i}",
            section,
            f"{section} item {i}",
            "automatic",
            i in critical,
            f"fix {section} item {i}",
        )
        for i in range(n)
    ]


def _results(section: str, statuses: list[str], critical: tuple[int, ...] = ()) -> list[ItemResult]:
    return [
        ItemResult(item, status, reason="does not apply" if status == "not_applicable" else "")
        for item, status in zip(_items(section, len(statuses), critical), statuses, strict=True)
    ]


def _keys(results) -> list[str]:
    return [r.item.key for r in results]


def test_weakest_section_decides_and_every_section_is_shown():
    results = (
        _results("data", ["pass"] * 7)  # 7 / 7
        + _results("model", ["pass"] * 4 + ["attested", "attested", "fail"])  # 5 / 7
        + _results("operations", ["pass"] * 6 + ["attested"])  # 6.5 / 7
        # 3 / 6: two passes, two attested, one unknown, one expired, one N/A
        + _results(
            "monitoring", ["pass", "pass", "unknown", "attested", "attested", "expired", "not_applicable"]
        )
    )
    score = score_checklist(results)
    assert score.score_0_100 == 50.0
    assert score.status == ReadinessStatus.AT_RISK
    assert [(s.section, s.points, s.applicable) for s in score.sections] == [
        ("data", 7.0, 7),
        ("model", 5.0, 7),
        ("operations", 6.5, 7),
        ("monitoring", 3.0, 6),
    ]
    assert [s.score for s in score.sections] == pytest.approx([1.0, 5 / 7, 6.5 / 7, 0.5])
    assert score.critical_failures == ()
    # A failure (what the logs show is wrong) leads; then what is unknown, weakest section first.
    assert _keys(score.blockers) == ["model_6", "monitoring_2"]
    assert [b.status for b in score.blockers] == [ItemStatus.FAIL, ItemStatus.UNKNOWN]


def test_all_pass_is_ready_at_100():
    score = score_checklist([ItemResult(item, "pass") for item in DEFAULT_ITEMS])
    assert score.score_0_100 == 100.0
    assert score.status == ReadinessStatus.READY
    assert score.blockers == ()


def test_not_applicable_leaves_the_denominator():
    results = _results("data", ["pass", "pass", "fail", "not_applicable", "not_applicable"])
    score = score_checklist(results)
    data = score.sections[0]
    assert (data.points, data.applicable, data.score) == (2.0, 3, 2 / 3)
    assert score.score_0_100 == pytest.approx(200 / 3)
    assert points(results[3]) is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_not_applicable_without_reason_raises(reason):
    with pytest.raises(ChecklistError, match="not applicable without a reason"):
        ItemResult(ITEMS_BY_KEY["label_coverage"], "not_applicable", reason=reason)


def test_unknown_status_raises():
    with pytest.raises(ChecklistError, match="unknown status 'ok'"):
        ItemResult(ITEMS_BY_KEY["label_coverage"], "ok")


def test_points_per_status():
    item = ITEMS_BY_KEY["calibrated"]
    assert [points(ItemResult(item, s)) for s in ("pass", "attested", "fail", "unknown", "expired")] == [
        1.0,
        0.5,
        0.0,
        0.0,
        0.0,
    ]


def test_attestation_valid_through_expiry_inclusive():
    att = Attestation("model_card", "Ana", date(2024, 1, 1), date(2024, 3, 1), URL)
    assert attestation_valid(att, date(2024, 1, 1)) is True
    assert attestation_valid(att, date(2024, 3, 1)) is True
    assert attestation_valid(att, date(2024, 3, 2)) is False


def test_new_attestation_defaults_to_180_days():
    att = new_attestation("model_card", " Ana ", URL, date(2024, 1, 1))
    assert DEFAULT_VALIDITY_DAYS == 180
    assert att == Attestation("model_card", "Ana", date(2024, 1, 1), date(2024, 6, 29), URL)
    assert new_attestation("model_card", "Ana", URL, date(2024, 1, 1), days=30).expires_at == date(
        2024, 1, 31
    )


def test_expired_attestation_scores_zero_and_valid_scores_half():
    item = ITEMS_BY_KEY["model_card"]
    att = new_attestation("model_card", "Ana", URL, date(2024, 1, 1), days=10)
    valid = attested_result(item, att, today=date(2024, 1, 11))
    expired = attested_result(item, att, today=date(2024, 1, 12))
    assert (valid.status, points(valid)) == ("attested", 0.5)
    assert (expired.status, points(expired)) == ("expired", 0.0)
    assert valid.evidence == Evidence(
        "attested by Ana on 2024-01-01", "valid through 2024-01-11", "Checklist", URL
    )
    assert "expired on 2024-01-11" in expired.reason
    missing = attested_result(item, None, today=TODAY)
    assert (missing.status, points(missing)) == ("unknown", 0.0)

    # In a section of 6 passes + the model card: 6.5 / 7 while valid, 6 / 7 once expired.
    others = [ItemResult(i, "pass") for i in _items("model", 6)]
    assert score_checklist([*others, valid]).sections[1].points == 6.5
    assert score_checklist([*others, expired]).score_0_100 == pytest.approx(600 / 7)


def test_attestation_for_another_item_raises():
    att = new_attestation("model_card", "Ana", URL, TODAY)
    with pytest.raises(ChecklistError, match="not for 'fairness_review'"):
        attested_result(ITEMS_BY_KEY["fairness_review"], att, TODAY)


def test_attestation_errors_say_what_and_how():
    with pytest.raises(ChecklistError, match=r"no checklist item 'modle_card'.*model_card"):
        new_attestation("modle_card", "Ana", URL, TODAY)
    with pytest.raises(ChecklistError, match="cannot be attested"):
        new_attestation("criteria_met", "Ana", URL, TODAY)
    with pytest.raises(ChecklistError, match="no owner"):
        new_attestation("model_card", "  ", URL, TODAY)
    with pytest.raises(ChecklistError, match=r"expires before.*2024-06-01.*2024-05-31.*on or after"):
        Attestation("model_card", "Ana", date(2024, 6, 1), date(2024, 5, 31), URL)
    with pytest.raises(ChecklistError, match="invalid validity"):
        new_attestation("model_card", "Ana", URL, TODAY, days=-1)
    with pytest.raises(ChecklistError, match="at most 200"):
        new_attestation("model_card", "A" * 201, URL, TODAY)
    assert issubclass(ChecklistError, ReadinessError)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "wiki/card",
        "javascript:alert(1)",
        "ftp://files/card",
        "https://",
        "https://wiki/a b",
        "https://wiki/\x00card",
        "https://wiki/" + "x" * 2000,
        None,
    ],
)
def test_evidence_link_must_be_a_web_address(url):
    with pytest.raises(ChecklistError, match="not a web address: enter the http:// or https:// link"):
        check_evidence_url("model_card", url)


def test_same_day_expiry_is_allowed():
    att = Attestation("model_card", "Ana", TODAY, TODAY, URL)
    assert attestation_valid(att, TODAY) is True


def test_critical_failure_is_not_ready_even_at_high_score():
    # operations: 6 of 7 pass, the failing one is critical; data: 6 of 7 pass, one unknown.
    results = _results("operations", ["fail"] + ["pass"] * 6, critical=(0,)) + _results(
        "data", ["pass"] * 6 + ["unknown"]
    )
    score = score_checklist(results)
    assert score.score_0_100 == pytest.approx(600 / 7)  # 85.7: "Ready" by number
    assert score.status == ReadinessStatus.NOT_READY
    assert _keys(score.critical_failures) == ["operations_0"]
    assert _keys(score.blockers) == ["operations_0", "data_6"]
    assert score.blockers[0].item.how_to_pass == "fix operations item 0"


def test_critical_failure_blocks_even_when_it_is_the_only_item():
    score = score_checklist(_results("data", ["fail"], critical=(0,)) + _results("model", ["pass"]))
    assert score.score_0_100 == 0.0
    assert score.status == ReadinessStatus.NOT_READY
    # An unknown critical item is not a failure: no critical failures, status by the number.
    score = score_checklist(_results("model", ["unknown", "pass"], critical=(0,)))
    assert (score.score_0_100, score.status, score.critical_failures) == (50.0, ReadinessStatus.AT_RISK, ())


def test_critical_failure_comes_before_weaker_sections_blockers():
    results = (
        _results("data", ["fail"] + ["pass"] * 6, critical=(0,))  # 6/7, a critical failure
        + _results("monitoring", ["fail", "fail", "pass", "pass"])  # 2/4, the weakest
    )
    score = score_checklist(results)
    assert score.score_0_100 == 50.0
    assert _keys(score.blockers) == ["data_0", "monitoring_0"]


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (Bands(), ReadinessStatus.AT_RISK),  # 62.5 < 75
        (Bands(ready=60, at_risk=50), ReadinessStatus.READY),  # 62.5 >= 60
        (Bands(ready=90, at_risk=70), ReadinessStatus.NOT_READY),  # 62.5 < 70
    ],
)
def test_bands_are_configurable(bands, expected):
    score = score_checklist(_results("model", ["pass"] * 5 + ["fail"] * 3), bands)
    assert score.score_0_100 == 62.5
    assert score.status == expected
    assert score.bands == bands


def test_band_edges_are_inclusive():
    assert score_checklist(_results("data", ["pass"] * 3 + ["fail"])).status == ReadinessStatus.READY  # 75.0
    assert score_checklist(_results("data", ["pass", "fail"])).status == ReadinessStatus.AT_RISK  # 50.0
    assert (
        score_checklist(_results("data", ["pass", "fail", "fail"])).status == ReadinessStatus.NOT_READY
    )  # 33.3


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"ready": 50, "at_risk": 80}, "out of order"),
        ({"ready": 120}, "out of order"),
        ({"ready": "high"}, "not a number"),
    ],
)
def test_bad_bands_raise(kwargs, fragment):
    with pytest.raises(ChecklistError, match=fragment):
        Bands(**kwargs)


def test_all_not_applicable_section_is_ignored():
    results = _results("data", ["pass"] * 7) + _results("monitoring", ["not_applicable"] * 3)
    score = score_checklist(results)
    monitoring = score.sections[3]
    assert (monitoring.points, monitoring.applicable, monitoring.score) == (0.0, 0, None)
    assert score.score_0_100 == 100.0
    assert score.status == ReadinessStatus.READY


def test_empty_checklist_is_not_ready_without_a_score():
    score = score_checklist([])
    assert score.score_0_100 is None
    assert score.status == ReadinessStatus.NOT_READY
    assert [s.section for s in score.sections] == list(SECTIONS)
    assert all(s.score is None and s.applicable == 0 for s in score.sections)
    assert score.blockers == ()


def test_duplicate_results_raise():
    item = ITEMS_BY_KEY["calibrated"]
    with pytest.raises(ChecklistError, match="more than one result"):
        score_checklist([ItemResult(item, "pass"), ItemResult(item, "fail")])


STATUS = st.sampled_from(["pass", "attested", "fail", "unknown", "expired", "not_applicable"])


@given(st.lists(STATUS, min_size=len(DEFAULT_ITEMS), max_size=len(DEFAULT_ITEMS)))
def test_score_is_the_weakest_section_and_within_bounds(statuses):
    results = [
        ItemResult(item, s, reason="n/a" if s == "not_applicable" else "")
        for item, s in zip(DEFAULT_ITEMS, statuses, strict=True)
    ]
    score = score_checklist(results)
    percents = [100 * s.points / s.applicable for s in score.sections if s.applicable]
    assert score.score_0_100 == (min(percents) if percents else None)
    if score.score_0_100 is not None:
        assert 0 <= score.score_0_100 <= 100
    failed_critical = any(r.item.critical and r.status == "fail" for r in results)
    assert (score.status == ReadinessStatus.NOT_READY) >= failed_critical
    assert len(score.blockers) <= 2
    assert all(b.status.holds_back for b in score.blockers)
    assert all(b.status in ("fail", "unknown", "expired") for b in score.blockers)


@given(st.lists(STATUS, min_size=len(DEFAULT_ITEMS), max_size=len(DEFAULT_ITEMS)), st.integers(0, 28))
def test_improving_one_item_never_lowers_the_score(statuses, index):
    worse = [
        ItemResult(item, s, reason="n/a" if s == "not_applicable" else "")
        for item, s in zip(DEFAULT_ITEMS, statuses, strict=True)
    ]
    if worse[index].status not in ("fail", "unknown", "expired"):
        return
    better = list(worse)
    better[index] = ItemResult(worse[index].item, "pass")
    before, after = score_checklist(worse).score_0_100, score_checklist(better).score_0_100
    assert after is not None and after >= (before or 0.0)


def test_default_items_catalogue():
    keys = [item.key for item in DEFAULT_ITEMS]
    assert len(keys) == len(set(keys)) == len(ITEMS_BY_KEY)
    counts = Counter(item.section for item in DEFAULT_ITEMS)
    assert set(counts) == set(SECTIONS)
    assert all(6 <= n <= 8 for n in counts.values()), counts
    for section in SECTIONS:
        kinds = Counter(item.kind for item in DEFAULT_ITEMS if item.section == section)
        assert set(kinds) == {"automatic", "attested"}, section
        # at least as many automatic as attested items: a fully attested model reaches Ready (75)
        assert kinds["automatic"] >= kinds["attested"], section
        best = (kinds["automatic"] + kinds["attested"] / 2) / (kinds["automatic"] + kinds["attested"])
        assert 100 * best >= Bands().ready, section
    assert all(item.title.strip() and item.how_to_pass.strip() for item in DEFAULT_ITEMS)
    assert {item.key for item in DEFAULT_ITEMS if item.critical} == {
        "schema_matches_baseline",
        "criteria_met",
        "outputs_valid",
    }


def test_bad_item_section_or_kind_raises():
    with pytest.raises(ChecklistError, match="unknown section 'ops'"):
        ChecklistItem("x", "ops", "X", "automatic")
    with pytest.raises(ChecklistError, match="unknown kind 'manual'"):
        ChecklistItem("x", "data", "X", "manual")


def test_drift_leads_fix_first_ahead_of_logging_gaps_in_a_weaker_section():
    failing = {"no_feature_drift", "values_within_domain", "model_version_recorded", "latency_within_slo"}
    unknown = {"latency_within_slo"}
    results = [
        ItemResult(
            item,
            "unknown" if item.key in unknown else "fail" if item.key in failing else "pass",
            reason="",
        )
        for item in DEFAULT_ITEMS
    ]
    score = score_checklist(results)
    operations = next(s for s in score.sections if s.section == "operations")
    data = next(s for s in score.sections if s.section == "data")
    assert operations.score < data.score  # the logging gaps' section is the weakest...
    assert _keys(score.blockers) == ["no_feature_drift", "values_within_domain"]  # ...yet drift leads
