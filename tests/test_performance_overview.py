"""The Performance page's analysis on the seeded demo and on small stores with known answers."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import DEMO_TODAY

from readiness import Store, ingest_csv
from readiness.analysis.contract import performance_json
from readiness.analysis.demo import demo_window
from readiness.analysis.performance_overview import performance_overview
from readiness.core.status import CriterionStatus
from readiness.errors import NoDataError
from tests.factories import baseline_csv

PASS, FAIL, INSUFFICIENT = CriterionStatus.PASS, CriterionStatus.FAIL, CriterionStatus.INSUFFICIENT


@pytest.fixture(scope="module")
def demo(demo_path: Path) -> Store:
    """The shared demo (scale 0.4, as of DEMO_TODAY), read only."""
    store = Store.open(f"sqlite:///{demo_path}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def now() -> datetime:
    return demo_window(DEMO_TODAY).now


def overview_of(store: Store, name: str, **kwargs):
    return performance_overview(store, store.get_model(name), **kwargs)


def track(overview, metric):
    return next(t for t in overview.criteria if t.criterion.metric == metric)


def test_fraud_fails_its_recall_criterion_from_week_six(demo, now):
    overview = overview_of(demo, "fraud", window="week", now=now)
    recall = track(overview, "recall")
    statuses = [result.status for _, result in recall.windows]
    first_failure = statuses.index(FAIL)
    week_six = demo_window(DEMO_TODAY).start + timedelta(weeks=5)
    assert recall.windows[first_failure][0] <= week_six < recall.windows[first_failure][0] + timedelta(days=7)
    assert all(s == PASS for s in statuses[:first_failure])
    judged_after = [s for s in statuses[first_failure:] if s != INSUFFICIENT]
    assert judged_after and all(s == FAIL for s in judged_after)
    assert recall.current.status == FAIL
    assert track(overview, "false_positive_rate").failed_windows == ()


def test_credit_never_fails_and_demand_passes(demo, now):
    credit = overview_of(demo, "credit", window="week", now=now)
    for t in credit.criteria:
        assert t.failed_windows == (), t.criterion.text
        assert sum(r.status == PASS for _, r in t.windows) >= 8
        assert t.latest_judged is not None and t.latest_judged[1].status == PASS
    demand = overview_of(demo, "demand", window="week", now=now)
    assert {t.current.status for t in demand.criteria} == {PASS}


def test_windows_carry_intervals_coverage_and_the_estimate(demo, now):
    overview = overview_of(demo, "fraud", window="week", now=now)
    series = overview.metric_series("recall")
    usable = series[series["value"].notna()]
    assert ((usable["lower"] <= usable["value"]) & (usable["value"] <= usable["upper"])).all()
    assert series["estimate"].notna().all()  # the label-free estimate needs no labels
    assert not series.iloc[-1]["complete"] and series.iloc[0]["complete"]
    coverage = overview.coverage_table()
    assert coverage["coverage"].iloc[0] > 0.7 and coverage["coverage"].iloc[-1] < coverage["coverage"].iloc[0]
    assert coverage["delay_hours"].iloc[0] > 24  # chargebacks arrive days later


def test_development_vs_production_shows_the_recall_gap(demo, now):
    gaps = {gap.metric: gap for gap in overview_of(demo, "fraud", now=now).development_vs_production()}
    assert gaps["recall"].difference < -0.1
    assert gaps["recall"].development > 0.8


def test_versions_are_compared(demo, now):
    overview = overview_of(demo, "credit", start=date(2026, 10, 24), now=now)
    assert set(overview.versions) == {"2.3.0", "2.4.0-rc1"}
    assert list(overview.versions) == ["2.3.0", "2.4.0-rc1"]


def test_day_and_month_windows_and_a_range(demo, now):
    daily = overview_of(demo, "demand", start=date(2026, 11, 1), end=date(2026, 11, 7), window="day", now=now)
    assert len(daily.windows) == 7
    monthly = overview_of(demo, "demand", window="month", now=now)
    assert [w.start.month for w in monthly.windows] == [8, 9, 10, 11]


def test_summary_is_plain_json(demo, now):
    result = json.loads(json.dumps(performance_json(overview_of(demo, "fraud", now=now)), allow_nan=False))
    recall = next(c for c in result["criteria"] if c["criterion"]["metric"] == "recall")
    assert recall["status"] == "fail" and recall["value"]["value"] < 0.75
    assert result["windows"][0]["estimated"]["recall"]["value"] is not None


def test_errors_for_missing_baseline_data_and_bad_windows(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    ingest_csv(store, "fresh", "baseline", baseline_csv(100), "b.csv")
    fresh = store.get_model("fresh")
    with pytest.raises(NoDataError, match="no predictions"):
        performance_overview(store, fresh)
    with pytest.raises(NoDataError, match="day, week or month"):
        performance_overview(store, fresh, window="hour")


def test_partly_labelled_windows_are_drawn_as_provisional_not_as_a_plunge(demo, now):
    from readiness.analysis.charts import metric_trend_figure

    overview = overview_of(demo, "credit", now=now)
    series = overview.metric_series("roc_auc")
    share = series["labelled"] / series["predictions"]
    assert series["provisional"].any() and not series["provisional"].all()
    assert (share[series["provisional"] & series["complete"]] < share[~series["provisional"]].median()).all()
    figure = metric_trend_figure(overview, "roc_auc", 0.7, ">=")
    by_name = {trace.name: trace for trace in figure.data}
    measured, early = by_name["Measured (labels)"], by_name["Provisional (labels still arriving)"]
    firm = series[series["value"].notna() & ~series["provisional"]]
    assert list(measured.x) == list(firm["start"])  # the line joins firm windows only
    assert early.marker.symbol == "circle-open" and len(early.x) >= 1
    assert "labelled so far" in early.hovertemplate
