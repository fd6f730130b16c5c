"""The Performance page's analysis on the seeded demo and on small stores with known answers."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from readiness import Store, ingest_csv
from readiness.analysis.demo import demo_window, seed_demo
from readiness.analysis.performance_overview import NoPerformanceData, performance_overview, performance_summary
from tests.factories import baseline_csv

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Store:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('perf') / 'demo.db'}")
    seed_demo(store, today=TODAY)
    return store


@pytest.fixture(scope="module")
def now() -> datetime:
    return demo_window(TODAY).now


def track(overview, metric):
    return next(t for t in overview.criteria if t.criterion.metric == metric)


def test_fraud_fails_its_recall_criterion_from_week_six(demo, now):
    overview = performance_overview(demo, "fraud", window="week", now=now)
    recall = track(overview, "recall")
    statuses = [result.status for _, result in recall.windows]
    first_failure = statuses.index("fail")
    week_six = demo_window(TODAY).start + timedelta(weeks=5)
    assert recall.windows[first_failure][0] <= week_six < recall.windows[first_failure][0] + timedelta(days=7)
    assert all(s == "pass" for s in statuses[:first_failure])
    judged_after = [s for s in statuses[first_failure:] if s != "insufficient data"]
    assert judged_after and all(s == "fail" for s in judged_after)
    assert recall.current.status == "fail"
    assert track(overview, "false_positive_rate").failed_windows == ()


def test_credit_never_fails_and_demand_passes(demo, now):
    credit = performance_overview(demo, "credit", window="week", now=now)
    for t in credit.criteria:
        assert t.failed_windows == (), t.criterion.text
        assert sum(r.status == "pass" for _, r in t.windows) >= 8
        assert t.latest_judged is not None and t.latest_judged[1].status == "pass"
    demand = performance_overview(demo, "demand", window="week", now=now)
    assert {t.current.status for t in demand.criteria} == {"pass"}


def test_windows_carry_intervals_coverage_and_the_estimate(demo, now):
    overview = performance_overview(demo, "fraud", window="week", now=now)
    series = overview.metric_series("recall")
    usable = series[series["value"].notna()]
    assert ((usable["lower"] <= usable["value"]) & (usable["value"] <= usable["upper"])).all()
    assert series["estimate"].notna().all()  # the label-free estimate needs no labels
    assert not series.iloc[-1]["complete"] and series.iloc[0]["complete"]
    coverage = overview.coverage_table()
    assert coverage["coverage"].iloc[0] > 0.7 and coverage["coverage"].iloc[-1] < coverage["coverage"].iloc[0]
    assert coverage["delay_hours"].iloc[0] > 24  # chargebacks arrive days later


def test_development_vs_production_shows_the_recall_gap(demo, now):
    table = performance_overview(demo, "fraud", now=now).development_vs_production().set_index("Metric")
    assert table.loc["recall", "Difference"] < -0.1
    assert table.loc["recall", "Baseline"] > 0.8


def test_versions_are_compared(demo, now):
    overview = performance_overview(demo, "credit", start=date(2026, 10, 24), now=now)
    assert set(overview.versions) == {"2.3.0", "2.4.0-rc1"}
    assert list(overview.versions_table()["Version"]) == ["2.3.0", "2.4.0-rc1"]


def test_day_and_month_windows_and_a_range(demo, now):
    daily = performance_overview(demo, "demand", start=date(2026, 11, 1), end=date(2026, 11, 7), window="day", now=now)
    assert len(daily.windows) == 7
    monthly = performance_overview(demo, "demand", window="month", now=now)
    assert [w.start.month for w in monthly.windows] == [8, 9, 10, 11]


def test_summary_is_plain_json(demo, now):
    result = json.loads(json.dumps(performance_summary(performance_overview(demo, "fraud", now=now)), default=str))
    recall = next(c for c in result["criteria"] if c["metric"] == "recall")
    assert recall["status"] == "fail" and recall["value"]["value"] < 0.75
    assert result["windows"][0]["estimated"]["recall"]["value"] is not None


def test_errors_for_missing_baseline_data_and_bad_windows(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    ingest_csv(store, "fresh", "baseline", baseline_csv(100), "b.csv")
    with pytest.raises(NoPerformanceData, match="no predictions"):
        performance_overview(store, "fresh")
    with pytest.raises(NoPerformanceData, match="day, week or month"):
        performance_overview(store, "fresh", window="hour")
