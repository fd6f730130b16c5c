"""A finished log is judged as of its own end: no staleness failure, drift and criteria lead instead."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from readiness import Store, ingest_csv
from readiness.analysis.assessment import assess_model
from readiness.analysis.overview import portfolio_overview
from readiness.analysis.performance_overview import performance_overview
from readiness.analysis.settings import checklist_config, set_historical
from readiness.core.mapping import parse_mapping_pairs, propose_mapping
from readiness.core.records import utcnow
from readiness.core.status import CriterionStatus, Freshness, ItemStatus
from tests.car_loan import car_loan_files
from tests.factories import to_csv_bytes


@pytest.fixture(scope="module")
def files():
    return car_loan_files()


@pytest.fixture(scope="module")
def archive(files, tmp_path_factory):
    baseline, live, labels = files
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('archive') / 'loans.db'}")
    mapping = parse_mapping_pairs(["repaid=label"], propose_mapping(list(baseline.columns), "baseline"))
    ingest_csv(store, "car-loan", "baseline", to_csv_bytes(baseline), "baseline.csv", mapping)
    result = ingest_csv(store, "car-loan", "live", to_csv_bytes(live), "live.csv", historical=True)
    ingest_csv(store, "car-loan", "labels", to_csv_bytes(labels), "labels.csv")
    yield store, result
    store.engine.dispose()


def test_the_upload_records_a_historical_log_and_says_so(archive):
    store, result = archive
    assert result.historical and "The log ends 27 Oct 2019, so the model is judged as a historical log" in (
        result.message
    )
    assert checklist_config(store, store.get_model("car-loan")).historical


def test_a_historical_log_is_judged_as_of_its_end(archive):
    store, _ = archive
    model = store.get_model("car-loan")
    now = utcnow()
    a = assess_model(store, model, now)
    fresh = a.result("log_fresh")
    assert fresh.status == ItemStatus.NOT_APPLICABLE and "it ends 27 Oct 2019" in fresh.reason
    assert not any("No prediction logged for" in r.reason for r in a.results)
    drift = a.result("no_feature_drift")
    assert drift.status == ItemStatus.FAIL and "loan_amount since" in drift.reason and "2019" in drift.reason
    assert a.drifted_features == ("loan_amount",)
    blockers = [b.item.key for b in a.score.blockers]
    assert "log_fresh" not in blockers
    performance = performance_overview(
        store, model, now=now
    )  # the Performance page, judged at the log's end too
    on_page = {
        t.criterion.text
        for t in performance.criteria
        if any(
            r.status == CriterionStatus.FAIL
            for _, r in t.judged_windows[-a.config.margins.criteria_windows :]
        )
    }
    assert set(a.criteria_failing) == on_page
    assert performance.criteria and all(
        t.judged_windows for t in performance.criteria if not t.criterion.is_operations
    )
    card = next(m for m in portfolio_overview(store, now).models if m.name == "car-loan")
    assert card.freshness == Freshness.HISTORICAL and "historical log, ends 27 Oct 2019" in card.summary


def test_switching_back_to_a_live_service_judges_as_of_now(archive, tmp_path):
    store, _ = archive
    model = store.get_model("car-loan")
    set_historical(store, model, False, actor="test")
    try:
        live = assess_model(store, model, utcnow())
        assert live.result("log_fresh").status == ItemStatus.FAIL
    finally:
        set_historical(store, model, True, actor="test")


def test_a_historical_logs_label_delay_is_unknown_not_the_gap_to_today(archive):
    from readiness.analysis.charts import coverage_figure

    store, _ = archive
    overview = performance_overview(store, store.get_model("car-loan"), now=utcnow())
    assert not overview.label_delay_known
    figure = coverage_figure(overview)
    assert [trace.name for trace in figure.data] == ["Label coverage"]
    assert "label delay unknown for a historical log" in figure.layout.title.text


def loans_without_labels(files, path, historical: bool) -> Store:
    """A store holding the car-loan baseline and live log, judged as a historical log or a live service."""
    baseline, live, _ = files
    store = Store.open(f"sqlite:///{path}")
    mapping = parse_mapping_pairs(["repaid=label"], propose_mapping(list(baseline.columns), "baseline"))
    ingest_csv(store, "car-loan", "baseline", to_csv_bytes(baseline), "baseline.csv", mapping)
    ingest_csv(store, "car-loan", "live", to_csv_bytes(live), "live.csv", historical=historical)
    return store


def test_stated_label_arrival_times_give_a_historical_log_its_real_label_delay(files, tmp_path):
    _, live, labels = files
    store = loans_without_labels(files, tmp_path / "arrivals.db", historical=True)
    stated = labels.assign(
        resolved_at=(pd.to_datetime(live["timestamp"]) + pd.Timedelta(days=30)).dt.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    )
    stated.loc[stated.index[:100], "resolved_at"] = None  # an arrival not stated counts from nowhere
    label_mapping = propose_mapping(list(stated.columns), "labels")
    assert label_mapping.roles == {"request_id": "id", "label": "repaid", "label_time": "resolved_at"}
    ingest_csv(store, "car-loan", "labels", to_csv_bytes(stated), "labels.csv", label_mapping)
    overview = performance_overview(store, store.get_model("car-loan"), now=utcnow())
    assert overview.label_delay_known
    delays = {w.label_delay_hours for w in overview.windows if w.n_labelled}
    assert delays and all(abs(d - 30 * 24) < 0.05 * 30 * 24 for d in delays)  # the sketch's bin width
    store.engine.dispose()


def test_a_live_service_without_stated_arrivals_counts_label_delay_from_the_upload(files, tmp_path):
    labels = files[2]
    store = loans_without_labels(files, tmp_path / "service.db", historical=False)
    ingest_csv(store, "car-loan", "labels", to_csv_bytes(labels), "labels.csv")
    overview = performance_overview(store, store.get_model("car-loan"), now=utcnow())
    assert overview.label_delay_known
    assert min(w.label_delay_hours for w in overview.windows if w.n_labelled) > 365 * 24
    store.engine.dispose()


def test_the_cli_and_the_report_say_a_historical_log_is_judged_as_of_its_end(archive, capsys):
    from readiness.analysis.report import model_report_html
    from readiness.cli import main

    store, _ = archive
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["--database", url, "checklist", "--model", "car-loan", "show"]) in (0, 1)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("as of its log's end, 27 Oct 2019 (a historical log)")
    html = model_report_html(store, store.get_model("car-loan"))
    assert re.search(r"assessed as of its log(&#x27;|&#39;|')s end, 27 Oct 2019", html)
