"""The Drift page's analysis: range, windows, heatmap matrix, quality, multivariate, JSON summary."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_store, sealed

from readiness import Store, log_predictions
from readiness.analysis.contract import drift_json
from readiness.analysis.drift_overview import drift_overview, log_range
from readiness.core.drift import DriftOptions
from readiness.errors import NoDataError
from readiness.storage.samples import sample_predictions
from tests.drift_fixtures import DAYS, ROWS_PER_DAY, SHIFT_DAY, START, drifting_store


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The drifting store, built once for this module; tests read it, or copy it to write."""
    path = tmp_path_factory.mktemp("drift") / "d.db"
    sealed(drifting_store(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="module")
def store(template):
    store = Store.open(f"sqlite:///{template}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def shop(store):
    return store.get_model("shop")


@pytest.fixture(scope="module")
def overview(store, shop):
    return drift_overview(store, shop, window="day")


def test_log_range_covers_the_live_days_and_suggests_a_window(store, shop):
    span = log_range(store, shop)
    assert (span.first_day, span.last_day) == (date(2026, 10, 1), date(2026, 10, 20))
    assert span.n_rows == DAYS * ROWS_PER_DAY
    assert span.suggested_window == "week"  # 300 rows a day are too few for daily windows


def test_the_shifted_column_is_flagged_and_the_others_are_not(overview):
    assert overview.report.drifted_columns == ("amount",)
    assert overview.n_current == DAYS * ROWS_PER_DAY
    columns = overview.columns()
    assert columns[0].column == "amount" and columns[0].drifting_now and columns[0].drifted_in_range
    assert {c.column for c in columns} == {"amount", "age", "region", "prediction", "score"}
    assert not any(c.drifting_now for c in columns[1:])


def test_the_page_says_what_drifts_now_and_since_when(overview):
    now = overview.now
    assert now.window == "day" and now.start == datetime(2026, 10, 20) and now.complete  # the log's last day
    assert now.drifting == ("amount",)
    amount = overview.columns()[0]
    assert amount.since == datetime(2026, 10, 1 + SHIFT_DAY) and amount.recovered_on is None
    assert amount.run == f"since {1 + SHIFT_DAY} Oct 2026 ({DAYS - SHIFT_DAY} days)"
    assert amount.explanation.startswith("Drifted: values moved by 1.")
    assert [w.drifted for w in amount.series] == [False] * SHIFT_DAY + [True] * (DAYS - SHIFT_DAY)
    assert "1 of 5 columns drift on their own in 20 Oct 2026" in overview.dataset_text()


def test_heatmap_matrix_shows_when_the_drift_started(overview):
    matrix = overview.severity_matrix()
    assert matrix.shape == (5, DAYS)
    first_past = next(i for i, value in enumerate(matrix.loc["amount"]) if value >= 1)
    assert first_past == SHIFT_DAY
    drifted_days = [w.start.day for w in overview.windows if "amount" in w.report.drifted_columns]
    assert drifted_days == list(range(SHIFT_DAY + 1, DAYS + 1))


def test_week_windows_merge_days_and_keep_every_row(store, shop):
    weekly = drift_overview(store, shop, window="week", multivariate=False)
    assert [w.start for w in weekly.windows] == [
        datetime(2026, 9, 28),
        datetime(2026, 10, 5),
        datetime(2026, 10, 12),
        datetime(2026, 10, 19),
    ]
    assert sum(w.n_rows for w in weekly.windows) == DAYS * ROWS_PER_DAY


def test_a_range_before_the_shift_shows_no_drift(store, shop):
    calm = drift_overview(store, shop, start=date(2026, 10, 1), end=date(2026, 10, 10), multivariate=False)
    assert calm.report.drifted_columns == ()
    assert calm.n_current == SHIFT_DAY * ROWS_PER_DAY
    assert calm.multivariate is None


def test_hour_windows_come_from_raw_rows_for_short_ranges(store, shop):
    hourly = drift_overview(
        store, shop, start=date(2026, 10, 15), end=date(2026, 10, 15), window="hour", multivariate=False
    )
    assert len(hourly.windows) == 21  # 300 rows 250 s apart span 20.8 hours
    assert hourly.n_current == ROWS_PER_DAY
    with pytest.raises(NoDataError, match="at most 3 days"):
        drift_overview(store, shop, window="hour", multivariate=False)


def test_ranges_without_predictions_and_reversed_ranges_are_refused(store, shop):
    with pytest.raises(NoDataError, match="no predictions between 2027-01-01 and 2027-01-31"):
        drift_overview(store, shop, start=date(2027, 1, 1), end=date(2027, 1, 31))
    with pytest.raises(NoDataError, match="swap the dates"):
        drift_overview(store, shop, start=date(2026, 10, 5), end=date(2026, 10, 1))


def test_multivariate_check_finds_the_shifted_column(overview):
    mv = overview.multivariate
    assert mv is not None and mv.drifted
    assert mv.top_features[0][0] == "amount"


def test_sample_is_bounded_and_inside_the_range(store, shop):
    lo, hi = datetime(2026, 10, 3), datetime(2026, 10, 5)
    sample = sample_predictions(store, shop.id, lo, hi, n=200)
    assert 150 <= len(sample) <= 200
    everything = sample_predictions(store, shop.id, lo, hi, n=10_000)
    assert len(everything) == 2 * ROWS_PER_DAY


def test_quality_flags_missing_values_and_unseen_categories(template, tmp_path):
    store = copy_store(template, tmp_path)  # this test logs rows: keep the module's store as built
    rows = [
        {
            "timestamp": f"2026-10-21T{h:02d}:00:00Z",
            "request_id": f"q{h}",
            "prediction": 1,
            "score": 0.7,
            "amount": None if h % 2 else 50.0,
            "age": 30,
            "region": "mars",
        }
        for h in range(24)
    ]
    log_predictions(store, "shop", rows)  # logged by a service: log_predictions refreshes the profiles
    result = drift_overview(
        store, store.get_model("shop"), start=date(2026, 10, 21), end=date(2026, 10, 21), multivariate=False
    )
    problems = result.quality.problems
    assert {q.column for q in problems} == {"amount", "region"}
    region = next(q for q in problems if q.column == "region")
    assert "100% unseen categories ('mars')" in "; ".join(region.flags)
    assert "missing 50% (baseline 0%)" in "; ".join(next(q for q in problems if q.column == "amount").flags)
    assert result.n_current == 24  # the 24 logged rows were profiled by the refresh


def test_options_reach_the_report(store, shop):
    result = drift_overview(
        store, shop, options=DriftOptions(methods={"age": "ks"}, correction="bonferroni"), multivariate=False
    )
    assert result.report["age"].method == "ks"
    assert result.report.options.correction == "bonferroni"


def test_summary_is_plain_json(overview):
    result = json.loads(json.dumps(drift_json(overview), allow_nan=False))
    assert result["summary"]["drifting"] == ["amount"] and result["summary"]["range"]["drifted"] == ["amount"]
    assert result["summary"]["multivariate"]["drifted"] is True
    assert result["summary"]["now"]["start"] == "2026-10-20T00:00:00Z"
    amount = result["columns"][0]
    assert (amount["column"], amount["drifting_now"], amount["since"]) == ("amount", True, "2026-10-11")
    assert amount["method"] == "ks_chisquare" and amount["p_value"] < 0.05 and amount["effect"] > 1
    assert len(amount["series"]) == DAYS and amount["series"][-1]["drifted"] is True


def test_model_without_baseline_or_live_rows(tmp_path):
    from readiness import ingest_csv
    from tests.factories import baseline_csv

    store = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    ingest_csv(store, "fresh", "baseline", baseline_csv(100), "b.csv")
    fresh = store.get_model("fresh")
    assert log_range(store, fresh).first_day is None
    with pytest.raises(NoDataError, match="no predictions"):
        drift_overview(store, fresh)
    assert isinstance(START, pd.Timestamp)


def test_calibrated_thresholds_come_from_the_baseline_and_still_find_the_shift(store, shop):
    from readiness.analysis.drift_overview import test_choices

    calibrated = drift_overview(store, shop, window="day", multivariate=False, calibrated=True)
    default = drift_overview(store, shop, window="day", multivariate=False)
    assert "amount" in calibrated.report.drifted_columns
    assert calibrated.report["amount"].threshold_on == "statistic"
    assert calibrated.report["amount"].threshold != default.report["amount"].threshold
    calm_windows = [w for w in calibrated.windows if w.start.day <= SHIFT_DAY]
    assert all("amount" not in w.report.drifted_columns for w in calm_windows)
    choices = test_choices(store, shop)
    assert [c.name for c in choices] == ["amount", "age", "region", "prediction", "score"]
    assert {c.name: c.kind for c in choices}["region"] == "categorical"
    assert {c.name: c.kind for c in choices}["amount"] == "numeric"


def test_a_repeated_call_without_new_data_is_served_from_memory(template, tmp_path):
    store = copy_store(template, tmp_path)  # this test logs rows: keep the module's store as built
    shop = store.get_model("shop")
    first = drift_overview(store, shop, window="week", multivariate=False)
    assert drift_overview(store, shop, window="week", multivariate=False) is first
    log_predictions(
        store,
        "shop",
        [
            {
                "timestamp": "2026-10-20T23:00:00Z",
                "request_id": "late-1",
                "prediction": 1,
                "score": 0.9,
                "amount": 50.0,
                "age": 40,
                "region": "north",
            }
        ],
    )
    fresh = drift_overview(store, shop, window="week", multivariate=False)
    assert fresh is not first and fresh.n_current == first.n_current + 1
