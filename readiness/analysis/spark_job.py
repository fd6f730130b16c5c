"""Profiling a log where it lives, with Apache Spark: each partition computes day parts, Spark merges them, the store keeps them.

Every partition runs the package's own validation, profiling and aggregation on Arrow batches
of its rows (``mapInArrow``), so the numbers are those an upload of the same rows gives. The
parts of a day are merged by key across partitions (``reduceByKey``), so the driver receives
one profile, one record per version, one total and one sample per day, however many rows.

PySpark is optional (requirements-spark.txt): this module imports it only when a job runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from readiness.analysis.external import effective_since, external_plan, profile_frames
from readiness.core.day_parts import PartsPlan, merge_payloads, part_rows, parts_from_rows
from readiness.core.mapping import ColumnMapping
from readiness.core.parquetread import text_frame
from readiness.errors import ExternalLogError
from readiness.storage.external_store import ExternalWrite, write_external_days
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

LABEL_PREFIX = "__readiness_label__"  # the joined labels' columns, apart from the log's
BATCH_ROWS = 100_000  # rows per Arrow batch a partition profiles at once
PARTS_SCHEMA = "kind string, day string, version string, payload string"


def spark_profile(
    spark: SparkSession,
    store: Store,
    model_name: str,
    log: DataFrame | str,
    labels: DataFrame | str | None = None,
    since: datetime | None = None,
    pairs: Sequence[str] = (),
    label_pairs: Sequence[str] = (),
    actor: str = "spark-profile",
) -> ExternalWrite:
    """Profile a model's log (a Spark DataFrame or a Parquet path) into its day profiles and records, stored here.

    ``labels``: delayed labels (request id, label, optionally when each became known) joined to
    the log by request id. ``since``: only UTC days from then on are redone (the earlier ones stay).

    >>> spark_profile(spark, store, "fraud", "s3a://lake/predictions/")  # doctest: +SKIP
    """
    frame = spark.read.parquet(log) if isinstance(log, str) else log
    label_frame = spark.read.parquet(labels) if isinstance(labels, str) else labels
    source = log if isinstance(log, str) else "the log"
    plan = external_plan(
        store,
        model_name,
        frame.columns,
        pairs,
        None if label_frame is None else label_frame.columns,
        label_pairs,
        source,
    )
    since = effective_since(store, plan, since)
    plan = replace(plan, since=since)
    frame = _from(frame, plan, since)
    if label_frame is not None:
        frame = _with_labels(frame, label_frame, plan)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
    rows = _merged_rows(frame, plan)
    return write_external_days(store, plan.model, plan.baseline, parts_from_rows(plan, rows), since, actor)


@contextmanager
def spark_session(master: str | None = None) -> Iterator[SparkSession]:
    """The running Spark session (spark-submit's), or a new one on ``master``; a session started here is stopped after.

    A local master runs its Python workers on this interpreter, which has the package.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    if master is None or master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("readiness spark-profile").config(
        "spark.sql.session.timeZone", "UTC"
    )
    if master is not None:
        builder = builder.master(master)
    session = builder.getOrCreate()
    try:
        yield session
    finally:
        session.stop()


def _from(frame: DataFrame, plan: PartsPlan, since: datetime | None) -> DataFrame:
    """The log from ``since`` on, filtered in Spark when its times are typed (partitions pruned); the plan filters the rest."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType, TimestampType

    column = plan.mapping.column_for("timestamp")
    if since is None or column is None:
        return frame
    kind = frame.schema[column].dataType
    if isinstance(kind, TimestampType | TimestampNTZType):
        return frame.where(F.col(column) >= F.lit(since))
    return frame


def _with_labels(frame: DataFrame, labels: DataFrame, plan: PartsPlan) -> DataFrame:
    """The log with its delayed labels joined by request id: one label per id, the latest stated one."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    mapping = plan.labels_mapping
    log_id = plan.mapping.column_for("request_id")
    if mapping is None or log_id is None:
        raise ExternalLogError(
            f"{plan.source} has no request id column, so delayed labels cannot be joined to its rows. Map one "
            "with --map COLUMN=request_id, or leave the labels out."
        )
    prefixed = labels.select(*[F.col(f"`{c}`").alias(LABEL_PREFIX + c) for c in _label_columns(mapping)])
    label_id = LABEL_PREFIX + str(mapping.column_for("request_id"))
    time = mapping.column_for("label_time")
    order = F.col(f"`{LABEL_PREFIX}{time}`").desc_nulls_last() if time else F.lit(1)
    latest = (
        prefixed.withColumn("__n", F.row_number().over(Window.partitionBy(f"`{label_id}`").orderBy(order)))
        .where(F.col("__n") == 1)
        .drop("__n")
    )
    return frame.join(latest, F.col(f"`{log_id}`") == F.col(f"`{label_id}`"), "left")


def _label_columns(mapping: ColumnMapping) -> list[str]:
    """The labels file's columns the mapping uses (request id, label, label time)."""
    return [c for role in ("request_id", "label", "label_time") if (c := mapping.column_for(role))]


def _merged_rows(frame: DataFrame, plan: PartsPlan) -> list[tuple[str, str, str, str]]:
    """Each partition's parts as rows, merged by kind, day and version across partitions; collected."""
    parts = frame.mapInArrow(partition_parts(plan, frame.columns), PARTS_SCHEMA)

    def merge(a: tuple[str, str, str, str], b: tuple[str, str, str, str]) -> tuple[str, str, str, str]:
        return (a[0], a[1], a[2], merge_payloads(plan, a[0], a[1], a[2], a[3], b[3]))

    merged = (
        parts.rdd.map(lambda r: ((r.kind, r.day, r.version), (r.kind, r.day, r.version, r.payload)))
        .reduceByKey(merge)
        .values()
        .collect()
    )
    return list(merged)


def partition_parts(
    plan: PartsPlan, columns: Sequence[str]
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function each partition runs: its Arrow batches in, its merged day parts out as rows of text."""
    log_columns = [c for c in columns if not c.startswith(LABEL_PREFIX)]
    label_columns = [c for c in columns if c.startswith(LABEL_PREFIX)]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        parts = profile_frames(
            plan, (_blocks(pa.Table.from_batches([b]), log_columns, label_columns) for b in batches)
        )
        rows = list(part_rows(parts))
        yield pa.RecordBatch.from_pydict(
            {name: [row[i] for row in rows] for i, name in enumerate(("kind", "day", "version", "payload"))},
            schema=pa.schema([(name, pa.string()) for name in ("kind", "day", "version", "payload")]),
        )

    return run


def _blocks(table: pa.Table, log_columns: list[str], label_columns: list[str]) -> tuple[Any, Any]:
    """A batch as the log's text frame and the text frame of its joined labels (None without labels)."""
    frame = text_frame(table.select(log_columns), log_columns)
    if not label_columns:
        return frame, None
    labels = text_frame(table.select(label_columns), label_columns)
    labels.columns = [c.removeprefix(LABEL_PREFIX) for c in label_columns]
    return frame, labels.dropna(how="all")
