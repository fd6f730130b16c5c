"""Days profiled outside the database (a Spark partition's work, here on one machine) equal an upload of the same rows.

Two stores get the same baseline. One has the live log uploaded as Parquet and its delayed
labels (with stated arrival times) uploaded after; the other has the same Parquet rows cut into
blocks that split days, each block profiled with its joined labels by the pure day-parts
functions, the parts merged in another order, and stored as external days. Profiles, day
records and the drift and performance results must be the same (sums to 1e-12, relative).
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import replace
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import baseline_csv, live_frame, same, to_csv_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from readiness import ModelSpec, ingest_csv
from readiness.analysis.contract import drift_json, performance_json
from readiness.analysis.drift_overview import drift_overview
from readiness.analysis.external import external_plan, profile_frames
from readiness.analysis.performance_overview import performance_overview
from readiness.core.day_parts import merge_parts, part_rows, parts_from_rows
from readiness.core.parquetread import text_frame
from readiness.errors import DataValidationError, ExternalLogError
from readiness.storage import schema as t
from readiness.storage.external_store import write_external_days
from readiness.storage.store import Store

ROWS = 3_000  # one a minute from midnight: three days and a part
AS_OF = datetime(2026, 3, 10)


def log_table(task: str = "binary") -> pa.Table:
    frame = live_frame(ROWS, seed=5, task=task)
    return pa.Table.from_pandas(frame, preserve_index=False)


def labels_frame(task: str = "binary") -> pd.DataFrame:
    """Labels for every third row, each stated to arrive two hours after its prediction."""
    ids = range(0, ROWS, 3)
    rng = np.random.default_rng(3)
    values = {
        "binary": rng.integers(0, 2, len(ids)),
        "regression": np.round(rng.normal(100, 20, len(ids)), 3),
    }
    times = pd.Timestamp("2026-03-01T02:00:00Z") + pd.to_timedelta(np.array(ids) * 60, unit="s")
    return pd.DataFrame(
        {
            "request_id": [f"r-{i}" for i in ids],
            "label": values[task],
            "labelled_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def uploaded(tmp_path, task: str) -> Store:
    store = Store.open(f"sqlite:///{tmp_path}/uploaded.db")
    spec = ModelSpec(task, "1" if task == "binary" else None)
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=spec)
    ingest_csv(store, "m", "live", parquet_bytes(log_table(task)), "live.parquet")
    ingest_csv(store, "m", "labels", to_csv_bytes(labels_frame(task)), "labels.csv")
    return store


def external(tmp_path, task: str, cuts=(0, 700, 1_450, 2_900, ROWS)) -> Store:
    """The same rows profiled in blocks cut at ``cuts`` (days split), merged in reverse order, stored."""
    store = Store.open(f"sqlite:///{tmp_path}/external.db")
    spec = ModelSpec(task, "1" if task == "binary" else None)
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=spec)
    table, labels = log_table(task), labels_frame(task).astype(str)
    plan = external_plan(store, "m", table.column_names, label_columns=list(labels.columns))
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        frame = text_frame(table.slice(lo, hi - lo), table.column_names)
        parts.append(profile_frames(plan, [(frame, labels[labels["request_id"].isin(frame["request_id"])])]))
    merged = merge_parts(plan, reversed(parts))
    write_external_days(
        store, plan.model, plan.baseline, parts_from_rows(plan, part_rows(merged))
    )  # as a job's text
    return store


def rows_of(store: Store, table, key) -> list[dict]:
    with store.engine.connect() as conn:
        found = conn.execute(select(table)).mappings().all()
    rows = [{k: v for k, v in row.items() if k not in {"id", "created_at", "updated_at"}} for row in found]
    return sorted(rows, key=key)


def results(store: Store) -> tuple[dict, dict]:
    model = store.get_model("m")
    drift = drift_json(drift_overview(store, model, window="day", as_of=AS_OF))
    performance = performance_json(performance_overview(store, model, window="day", now=AS_OF))
    return drift, performance


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_days_profiled_in_parts_equal_an_upload_of_the_same_rows(tmp_path, task):
    whole, parts = uploaded(tmp_path, task), external(tmp_path, task)
    by_day = lambda r: r["window_start"]  # noqa: E731
    profiles = rows_of(parts, t.profiles, by_day)
    assert [p["window_start"].day for p in profiles] == [1, 2, 3]
    same(profiles, rows_of(whole, t.profiles, by_day), "profiles")
    by_version = lambda r: (r["window_start"], r["model_version"])  # noqa: E731
    same(
        rows_of(parts, t.perf_windows, by_version), rows_of(whole, t.perf_windows, by_version), "perf_windows"
    )
    same(results(parts), results(whole), "results")


def test_external_days_keep_totals_and_a_bounded_sample(tmp_path):
    store = external(tmp_path, "binary")
    days = rows_of(store, t.external_days, lambda r: r["day"])
    assert [d["n_rows"] for d in days] == [1_440, 1_440, 120]
    assert [d["n_labelled"] for d in days] == [480, 480, 40]
    assert days[0]["first_time"] == datetime(2026, 3, 1) and days[2]["last_time"] == datetime(
        2026, 3, 3, 1, 59
    )
    samples = [json.loads(d["sample"]) for d in days]
    assert [len(s) for s in samples] == [500, 500, 120]
    assert set(json.loads(samples[0][0])) == {"amount", "age", "region"}


def test_the_sample_is_the_same_whatever_the_split(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = external(tmp_path / "a", "binary", cuts=(0, ROWS))
    other = external(tmp_path / "b", "binary")
    samples = [[d["sample"] for d in rows_of(s, t.external_days, lambda r: r["day"])] for s in (one, other)]
    assert samples[0] == samples[1]


def test_running_again_from_a_day_replaces_those_days_only(tmp_path):
    store = external(tmp_path, "binary")
    model = store.get_model("m")
    table = log_table()
    plan = external_plan(store, "m", table.column_names)
    since = datetime(2026, 3, 2)
    frame = text_frame(table.slice(1_000, 1_440), table.column_names)  # rows of day 1 left out by since
    parts = profile_frames(replace(plan, since=since), [(frame, None)])
    written = write_external_days(store, plan.model, plan.baseline, parts, since)
    assert (written.days_written, written.days_removed, written.rows) == (1, 1, 1_000)
    days = rows_of(store, t.external_days, lambda r: r["day"])
    assert [(d["day"].day, d["n_rows"]) for d in days] == [(1, 1_440), (2, 1_000)]
    profiles = rows_of(store, t.profiles, lambda r: r["window_start"])
    assert [(p["window_start"].day, p["n_rows"]) for p in profiles] == [(1, 1_440), (2, 1_000)]
    assert model.id == store.get_model("m").id


def test_a_model_with_stored_rows_is_refused_and_nothing_is_written(tmp_path):
    store = uploaded(tmp_path, "binary")
    with pytest.raises(ExternalLogError, match="already has predictions stored"):
        external_plan(store, "m", log_table().column_names)


def test_an_upload_to_a_model_profiled_outside_is_refused(tmp_path):
    store = external(tmp_path, "binary")
    before = store.count_rows("prediction_blocks")
    with pytest.raises(ExternalLogError, match="profiled by a Spark job"):
        ingest_csv(store, "m", "live", parquet_bytes(log_table()), "live.parquet")
    assert store.count_rows("prediction_blocks") == before == 0


def test_a_bad_value_in_a_block_is_named_as_an_upload_names_it(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/x.db")
    ingest_csv(store, "m", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    table = log_table()
    plan = external_plan(store, "m", table.column_names)
    frame = text_frame(table.slice(0, 100), table.column_names)
    frame.loc[42, "amount"] = "lots"
    with pytest.raises(DataValidationError, match="amount"):
        profile_frames(plan, [(frame, None)])


def test_the_overview_numbers_and_the_checklist_of_external_days_equal_those_of_the_upload(tmp_path):
    from readiness.analysis.assessment import assess_model

    whole, parts = uploaded(tmp_path, "binary"), external(tmp_path, "binary")
    for store in (whole, parts):
        (stats,) = store.model_stats()
        assert (stats.n_predictions, stats.n_labelled) == (ROWS, 1_000)
        assert (stats.first_timestamp, stats.last_timestamp) == (
            datetime(2026, 3, 1),
            datetime(2026, 3, 3, 1, 59),
        )
        assert store.prediction_bounds(stats.model.id, before=datetime(2026, 3, 2, 12)) == (
            datetime(2026, 3, 1),
            datetime(2026, 3, 2, 11, 59) if store is whole else datetime(2026, 3, 2),  # a cut day: its start
        )
    judged = [assess_model(s, s.get_model("m"), now=AS_OF) for s in (whole, parts)]
    statuses = [{r.item.key: r.status for r in a.results} for a in judged]
    assert statuses[1] == statuses[0]
    assert judged[1].score.score_0_100 == judged[0].score.score_0_100


def test_hourly_windows_and_segments_say_they_need_the_raw_rows_the_lake_keeps(tmp_path):
    from readiness.analysis.segments import segment_performance
    from readiness.errors import NoDataError, SegmentError

    store = external(tmp_path, "binary")
    model = store.get_model("m")
    with pytest.raises(NoDataError, match="stays in its data lake"):
        drift_overview(store, model, window="hour", as_of=datetime(2026, 3, 2, 12))
    with pytest.raises(SegmentError, match="stays in its data lake"):
        segment_performance(store, model, "region")


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('plan')}/plan.db")
    ingest_csv(store, "m", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    return replace(external_plan(store, "m", log_table().column_names), sample_per_day=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.integers(1, 599), max_size=6, unique=True),
    no_id=st.sets(st.integers(0, 599), max_size=30),
)
def test_any_split_of_the_rows_merges_into_the_parts_of_the_whole(small_plan, cuts, no_id):
    frame = text_frame(log_table().slice(1_200, 600), log_table().column_names)  # across a midnight
    frame.loc[frame.index[sorted(no_id)], "request_id"] = (
        None  # rows without an id are sampled by their values
    )
    whole = profile_frames(small_plan, [(frame, None)])
    edges = [0, *sorted(cuts), len(frame)]
    pieces = [profile_frames(small_plan, [(frame.iloc[lo:hi], None)]) for lo, hi in itertools.pairwise(edges)]
    merged = merge_parts(small_plan, reversed(pieces))
    assert merged.totals == whole.totals
    assert merged.samples == whole.samples
    assert {d: p.n_rows for d, p in merged.profiles.items()} == {
        d: p.n_rows for d, p in whole.profiles.items()
    }
    assert {k: r.n_rows for k, r in merged.records.items()} == {k: r.n_rows for k, r in whole.records.items()}
    same(
        [json.loads(row[3]) for row in sorted(part_rows(merged))],
        [json.loads(row[3]) for row in sorted(part_rows(whole))],
    )


def test_a_refresh_of_a_lake_model_says_its_days_come_from_the_job(tmp_path, capsys):
    from readiness.cli import main

    store = external(tmp_path, "binary")
    before = rows_of(store, t.profiles, lambda r: r["window_start"])
    assert main(["--database", str(store.engine.url), "refresh", "--model", "m"]) == 0
    assert "profiled where it lives, by python -m readiness spark-profile" in capsys.readouterr().out
    assert rows_of(store, t.profiles, lambda r: r["window_start"]) == before  # the job's days stay
