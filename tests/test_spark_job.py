"""A real local Spark session profiles a Parquet log into the same days an upload of the same rows stores.

The log is written as Parquet in several files, so Spark reads it in several partitions whose
rows split days; delayed labels (with stated arrival times) arrive as a second Parquet dataset
joined by request id. Needs PySpark and Java (requirements-spark.txt): the ``spark`` fixture
(conftest) skips with the reason when either is missing, and fails in CI (CI=true).
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import baseline_csv, same
from sqlalchemy import select
from test_external_days import ROWS, labels_frame, log_table, results, rows_of, uploaded

from readiness import ModelSpec, ingest_csv
from readiness.storage import schema as t
from readiness.storage.store import Store


def lake(tmp_path, task: str = "binary") -> tuple[str, str]:
    """The log as four Parquet files cut mid-day, and the labels as one."""
    log, labels = tmp_path / "log", tmp_path / "labels"
    log.mkdir()
    labels.mkdir()
    table = log_table(task)
    for k, (lo, hi) in enumerate([(0, 700), (700, 1_450), (1_450, 2_900), (2_900, ROWS)]):
        pq.write_table(table.slice(lo, hi - lo), log / f"part-{k}.parquet")
    pq.write_table(pa.Table.from_pandas(labels_frame(task), preserve_index=False), labels / "part-0.parquet")
    return str(log), str(labels)


def spark_store(tmp_path, task: str = "binary") -> Store:
    store = Store.open(f"sqlite:///{tmp_path}/spark.db")
    spec = ModelSpec(task, "1" if task == "binary" else None)
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=spec)
    return store


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_spark_profiles_equal_an_upload_of_the_same_rows(tmp_path, spark, task):
    from readiness.analysis.spark_job import spark_profile

    log, labels = lake(tmp_path, task)
    store = spark_store(tmp_path, task)
    written = spark_profile(spark, store, "m", log, labels)
    assert (written.days_written, written.rows) == (3, ROWS)
    whole = uploaded(tmp_path, task)
    by_day = lambda r: r["window_start"]  # noqa: E731
    same(rows_of(store, t.profiles, by_day), rows_of(whole, t.profiles, by_day), "profiles")
    by_version = lambda r: (r["window_start"], r["model_version"])  # noqa: E731
    same(
        rows_of(store, t.perf_windows, by_version), rows_of(whole, t.perf_windows, by_version), "perf_windows"
    )
    same(results(store), results(whole), "results")


def test_running_again_is_idempotent_and_since_redoes_only_later_days(tmp_path, spark):
    from readiness.analysis.spark_job import spark_profile

    log, labels = lake(tmp_path)
    store = spark_store(tmp_path)
    spark_profile(spark, store, "m", log, labels)
    first = rows_of(store, t.profiles, lambda r: r["window_start"])
    again = spark_profile(spark, store, "m", log, labels, since=datetime(2026, 3, 2))
    assert (again.days_written, again.days_removed, again.rows) == (2, 0, ROWS - 1_440)
    same(rows_of(store, t.profiles, lambda r: r["window_start"]), first, "profiles")
    with store.engine.connect() as conn:
        actions = conn.execute(
            select(t.audit_log.c.action).where(t.audit_log.c.action == "spark.profile")
        ).all()
    assert len(actions) == 2


def test_the_command_ingests_the_baseline_profiles_the_lake_and_says_how_fast(tmp_path, spark, capsys):
    from readiness.cli import main

    log, labels = lake(tmp_path)
    baseline = tmp_path / "baseline.csv"
    baseline.write_bytes(baseline_csv(400))
    url = f"sqlite:///{tmp_path}/cli.db"
    args = [
        "--database",
        url,
        "spark-profile",
        "--model",
        "m",
        "--baseline",
        str(baseline),
        "--task",
        "binary",
    ]
    code = main([*args, "--positive-class", "1", log, "--labels", labels])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "m: profiled 3,000 prediction(s) into 3 day(s)" in out and "rows/s" in out
    assert Store.open(url).count_rows("external_days") == 3


def test_a_since_that_is_not_a_day_is_refused_by_name(tmp_path, spark, capsys):
    from readiness.cli import main

    log, _ = lake(tmp_path)
    store = spark_store(tmp_path)
    code = main(
        ["--database", str(store.engine.url), "spark-profile", "--model", "m", log, "--since", "yesterday"]
    )
    assert code != 0
    assert "--since 'yesterday' is not a day" in capsys.readouterr().err
