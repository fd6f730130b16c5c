"""A model whose log stays in its data lake, profiled only by Spark, in a real browser: Overview, Drift, Performance, Checklist.

A local Spark session profiles a Parquet log of the last two weeks (with delayed labels) into
an empty store through the command's function; the app then serves that store. No row of the
log is in the database: every page reads the days the job wrote.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import baseline_csv, live_frame

from readiness import ModelSpec, ingest_csv
from readiness.storage.store import Store
from tests.browser import ARTIFACTS, SLOW_MS, chromium, new_page, open_app, require_chromium, running_app

pytestmark = pytest.mark.browser

ROWS = 2_016  # one every 10 minutes for two weeks


@pytest.fixture(scope="module")
def lake_app(spark, tmp_path_factory):
    """The app on a store whose only model was profiled by Spark from a Parquet lake."""
    from readiness.analysis.spark_job import spark_profile

    require_chromium()
    folder = tmp_path_factory.mktemp("lake")
    start = pd.Timestamp(datetime.now(UTC).date() - timedelta(days=14), tz="UTC")
    frame = live_frame(ROWS, seed=11, start=start)
    times = start + pd.to_timedelta(np.arange(ROWS) * 600, unit="s")
    frame["timestamp"] = times.strftime("%Y-%m-%dT%H:%M:%SZ")
    (folder / "log").mkdir()
    (folder / "labels").mkdir()
    for k, (lo, hi) in enumerate([(0, 1_000), (1_000, ROWS)]):
        pq.write_table(
            pa.Table.from_pandas(frame.iloc[lo:hi], preserve_index=False), folder / "log" / f"{k}.parquet"
        )
    rng = np.random.default_rng(4)
    labels = pd.DataFrame(
        {
            "request_id": frame["request_id"][::2],
            "label": rng.integers(0, 2, len(frame[::2])),
            "labelled_at": (times[::2] + pd.Timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    pq.write_table(pa.Table.from_pandas(labels, preserve_index=False), folder / "labels" / "0.parquet")
    url = f"sqlite:///{folder / 'lake.db'}"
    store = Store.open(url)
    ingest_csv(store, "lake", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    written = spark_profile(spark, store, "lake", str(folder / "log"), str(folder / "labels"))
    assert written.rows == ROWS
    assert store.count_rows("predictions") == store.count_rows("prediction_blocks") == 0
    store.engine.dispose()
    with running_app(url) as app:
        yield app


@pytest.fixture(scope="module")
def browser(lake_app):
    with chromium() as running:
        yield running


def no_errors(page) -> None:
    from playwright.sync_api import expect

    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stException")).to_have_count(0)
    expect(main.locator("[data-testid='stAlertContentError']")).to_have_count(0)


def test_the_overview_counts_the_lakes_predictions(browser, lake_app):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        open_app(page, lake_app)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name="lake", exact=True)).to_be_visible(timeout=SLOW_MS)
        expect(main.get_by_text(re.compile(r"^2,016 predictions from \d{4}-\d\d-\d\d to "))).to_be_visible(
            timeout=SLOW_MS
        )
        no_errors(page)
        page.screenshot(path=str(ARTIFACTS / "lake-overview.png"), full_page=True)


def test_the_drift_page_judges_the_lakes_days(browser, lake_app):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        open_app(page, f"{lake_app}/drift?model=lake")
        main = page.get_by_test_id("stMain")
        metric = main.get_by_test_id("stMetric").filter(has_text="Predictions in the range")
        expect(metric.get_by_test_id("stMetricValue")).to_have_text("2,016", timeout=SLOW_MS)
        expect(main.get_by_role("tab", name="Drifting now")).to_be_visible(timeout=SLOW_MS)
        verdict = main.get_by_text(re.compile(r"a classifier (cannot tell|tells) live rows"))
        expect(verdict).to_have_count(1, timeout=SLOW_MS)  # the multivariate check, on the days' samples
        no_errors(page)
        page.screenshot(path=str(ARTIFACTS / "lake-drift.png"), full_page=True)


def test_the_performance_page_judges_the_lakes_labels(browser, lake_app):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        open_app(page, f"{lake_app}/performance?model=lake")
        main = page.get_by_test_id("stMain")
        card = main.get_by_text(re.compile(r"^roc_auc (>=|≥) 0.70 per week"))
        expect(card).to_have_count(1, timeout=SLOW_MS)
        expect(main.get_by_text(re.compile(r"\d[\d,]* rows; week from"))).not_to_have_count(
            0, timeout=SLOW_MS
        )
        no_errors(page)
        page.screenshot(path=str(ARTIFACTS / "lake-performance.png"), full_page=True)


def test_the_checklist_judges_the_lake_on_a_phone(browser, lake_app):
    from playwright.sync_api import expect

    with new_page(browser, width=390, height=844) as page:
        open_app(page, f"{lake_app}/checklist?model=lake")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name=re.compile(r"^lake is "))).to_be_visible(timeout=SLOW_MS)
        schema = main.get_by_test_id("stExpander").filter(
            has_text="Live features match the baseline's columns"
        )
        expect(schema).to_have_count(1, timeout=SLOW_MS)
        expect(schema).to_contain_text("Pass", timeout=SLOW_MS)  # judged on the days' samples
        no_errors(page)
        page.screenshot(path=str(ARTIFACTS / "lake-checklist-phone.png"), full_page=True)
