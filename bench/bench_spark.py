"""Spark: day profiles and performance aggregates of a Parquet log computed by ``spark-profile`` on a local Spark.

Run from the repository root, with requirements-spark.txt installed and Java 17:

    .venv/bin/python bench/bench_spark.py                   # 10M rows on local[2]
    .venv/bin/python bench/bench_spark.py --rows 2000000    # quicker

Generates a Parquet log (the upload bench's columns: timestamp, request_id, 10 numeric and 5
categorical features, score, prediction, model_version, latency_ms; files of 1M rows, one
prediction a second) and delayed labels (with stated times) for 70% of its first million rows,
then profiles it into a fresh SQLite store through the same function the command runs. Prints
the wall time, rows per second per core, the share of the executors' time spent in the
package's own code (validation, profiling, aggregation), measured by running that code alone
on one file, and the projection for a day of 1B rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_upload import baseline, labels, live_log  # noqa: E402

FILE_ROWS = 1_000_000


def write_lake(folder: Path, rows: int) -> tuple[Path, Path]:
    """The log as Parquet files of a million rows (one second apart) and labels for 70% of the first file's rows."""
    log, labelled = folder / "log", folder / "labels"
    log.mkdir()
    labelled.mkdir()
    for k, start in enumerate(range(0, rows, FILE_ROWS)):
        moment = pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=start)  # files follow one another
        frame = live_log(min(FILE_ROWS, rows - start), seed=k, start=str(moment), prefix=f"r{k}_", step=1)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), log / f"part-{k:04d}.parquet")
        if k == 0:
            chosen = labels(frame)
            made = pd.to_datetime(
                frame.set_index("request_id").loc[chosen["request_id"], "timestamp"], utc=True
            )
            chosen["labelled_at"] = (
                (made + pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
            )
            pq.write_table(pa.Table.from_pandas(chosen, preserve_index=False), labelled / "part-0.parquet")
    return log, labelled


def timed_partitions(folder: Path) -> None:
    """Make every partition write the seconds it spent in the package's code (local mode: one file system).

    The time Spark takes to hand each Arrow batch over is left out.
    """
    import readiness.analysis.spark_job as job

    plain = job.partition_parts

    def timed(plan: Any, columns: Any) -> Any:
        run = plain(plan, columns)

        def measured(batches: Any) -> Any:
            import time as clock
            import uuid

            waited = 0.0

            def handed() -> Any:
                nonlocal waited
                source = iter(batches)
                while True:
                    start = clock.perf_counter()
                    try:
                        batch = next(source)
                    except StopIteration:
                        return
                    finally:
                        waited += clock.perf_counter() - start
                    yield batch

            start = clock.perf_counter()
            out = list(run(handed()))
            (folder / f"{uuid.uuid4().hex}.s").write_text(str(clock.perf_counter() - start - waited))
            yield from out

        return measured

    job.partition_parts = timed


def package_seconds(plan: Any, log: Path) -> tuple[float, int]:
    """The package's own work on one file, alone in this process on one core: (seconds, rows)."""
    from readiness.analysis.external import profile_frames
    from readiness.core.parquetread import text_frame

    first = sorted(log.glob("*.parquet"))[0]
    parquet = pq.ParquetFile(first)
    start = time.perf_counter()
    batches = parquet.iter_batches(batch_size=100_000)
    blocks = ((text_frame(pa.Table.from_batches([b]), b.schema.names), None) for b in batches)
    profile_frames(plan, blocks)
    return time.perf_counter() - start, parquet.metadata.num_rows


def main() -> None:
    """Generate the lake, profile it on local Spark, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    cores = (
        int(args.master.removeprefix("local[").removesuffix("]")) if args.master.startswith("local[") else 1
    )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from readiness import ModelSpec, ingest_csv
    from readiness.analysis.external import external_plan
    from readiness.analysis.spark_job import spark_profile, spark_session
    from readiness.storage.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        log, labelled = write_lake(folder, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        store = Store.open(f"sqlite:///{folder / 'spark.db'}")
        base = folder / "baseline.csv"
        baseline().to_csv(base, index=False)
        ingest_csv(
            store, "bench", "baseline", base.read_bytes(), "baseline.csv", new_model=ModelSpec("binary", "1")
        )
        timings = folder / "timings"
        timings.mkdir()
        timed_partitions(timings)
        started = time.perf_counter()
        with spark_session(args.master) as spark:
            spark.sparkContext.setLogLevel("ERROR")
            session_seconds = time.perf_counter() - started
            started = time.perf_counter()
            written = spark_profile(spark, store, "bench", str(log), str(labelled))
            job_seconds = time.perf_counter() - started
        plan = external_plan(
            store, "bench", pq.ParquetFile(sorted(log.glob("*.parquet"))[0]).schema_arrow.names
        )
        alone, alone_rows = package_seconds(plan, log)
        in_package = sum(float(p.read_text()) for p in timings.glob("*.s"))
    per_core = written.rows / job_seconds / cores
    package_share = in_package / (job_seconds * cores)
    print(f"{written.rows:,}-row Parquet log, {written.days_written} days, Spark {args.master}")
    print("| what | value |")
    print("|---|---|")
    print(f"| Spark session start | {session_seconds:.1f} s |")
    print(f"| job (read, validate, profile, aggregate, merge, store) | {job_seconds:.1f} s |")
    print(f"| rows per second | {written.rows / job_seconds:,.0f} |")
    print(f"| rows per second per core | {per_core:,.0f} |")
    print(f"| package's code, summed over partitions | {in_package:.1f} s |")
    print(
        f"| share of the executors' time ({cores} cores x job) in the package's code | {package_share:.0%} |"
    )
    print(f"| package's code alone on one file, no Spark | {alone_rows / alone:,.0f} rows/s on one core |")
    for executors in (1, 10, 50):
        minutes = 1e9 / (per_core * executors * 4) / 60
        print(
            f"| 1B rows a day on {executors} executor(s) x 4 cores (at this per-core rate) | {minutes:,.0f} min |"
        )


if __name__ == "__main__":
    main()
