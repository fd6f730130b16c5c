"""Writing: uploads, labels, refreshes of directly inserted rows, storage size and the demo's first start.

Run from the repository root (each stage runs in a fresh process through the CLI, as a user
would; wall time and peak memory come from /usr/bin/time):

    .venv/bin/python bench/bench_upload.py                      # 1M-row live log on SQLite
    .venv/bin/python bench/bench_upload.py --rows 200000        # quicker
    .venv/bin/python bench/bench_upload.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bench_upload.py --rows 10000000 --live-only   # bounded memory: a 1.5 GB file

The files are generated deterministically: a live log of ``--rows`` predictions (timestamp,
request_id, 10 numeric and 5 categorical features, score, prediction, model_version,
latency_ms), a 100,000-row baseline with labels, and delayed labels for 70% of the live rows.
On PostgreSQL the tables are created in a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout, not installed

BASELINE_ROWS = 100_000
DIRECT_ROWS = 200_000  # rows a service logs without refreshing, then `refresh` picks up (--direct-rows)


def features(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """10 numeric and 5 categorical features."""
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows).round(4) for i in range(10)})
    for i in range(5):
        frame[f"c{i}"] = rng.choice(["alpha", "beta", "gamma", "delta", "epsilon"], rows)
    return frame


def live_log(
    rows: int, seed: int = 0, start: str = "2026-01-01", prefix: str = "r", step: int = 10
) -> pd.DataFrame:
    """The benchmark's live log: one prediction every ``step`` seconds from ``start``."""
    rng = np.random.default_rng(seed)
    frame = features(rows, rng)
    times = pd.Timestamp(start) + pd.to_timedelta(np.arange(rows) * step, unit="s")
    frame.insert(0, "timestamp", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
    frame.insert(1, "request_id", [f"{prefix}{i}" for i in range(rows)])
    frame["score"] = rng.random(rows).round(4)
    frame["prediction"] = (frame["score"] > 0.5).astype(int)
    frame["model_version"] = np.where(np.arange(rows) < rows // 2, "v1", "v2")
    frame["latency_ms"] = rng.gamma(2.0, 20.0, rows).round(1)
    return frame


def write_live(path: Path, rows: int, block: int = 1_000_000) -> pd.DataFrame:
    """Write the live log in blocks of a million rows; return the first block.

    The first block is ``live_log(rows)`` itself (10 s apart); later ones are 1 s apart, so ten
    million rows end in August 2026, not years ahead of now.
    """
    first = None
    for k, start in enumerate(range(0, rows, block)):
        n = min(block, rows - start)
        moment = pd.Timestamp("2026-01-01") + pd.Timedelta(
            seconds=10 * block * min(k, 1) + (k - 1) * block * (k > 0)
        )
        frame = live_log(
            n, seed=k, start=str(moment), prefix="r" if k == 0 else f"r{k}_", step=10 if k == 0 else 1
        )
        frame.to_csv(path, index=False, mode="w" if k == 0 else "a", header=k == 0)
        first = frame if first is None else first
    assert first is not None
    return first


def baseline(rows: int = BASELINE_ROWS, seed: int = 1) -> pd.DataFrame:
    """The baseline: features, score, prediction and label."""
    rng = np.random.default_rng(seed)
    frame = features(rows, rng)
    frame["score"] = rng.random(rows).round(4)
    frame["prediction"] = (frame["score"] > 0.5).astype(int)
    frame["label"] = (rng.random(rows) < frame["score"]).astype(int)
    return frame


def labels(live: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """Delayed labels for 70% of the live rows."""
    rng = np.random.default_rng(seed)
    chosen = live.sample(frac=0.7, random_state=seed)
    return pd.DataFrame(
        {"request_id": chosen["request_id"], "label": (rng.random(len(chosen)) < chosen["score"]).astype(int)}
    )


def timed_cli(database: str, *args: str) -> tuple[float, float]:
    """Run ``python -m readiness`` in a fresh process; return (wall seconds, peak resident MB)."""
    seconds, megabytes, _ = timed_cli_output(database, *args)
    return seconds, megabytes


def timed_cli_output(database: str, *args: str) -> tuple[float, float, str]:
    """As :func:`timed_cli`, with what the command printed."""
    command = [
        "/usr/bin/time",
        "-f",
        "%e %M",
        sys.executable,
        "-m",
        "readiness",
        "--database",
        database,
        *args,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    seconds, kilobytes = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024, done.stdout


REFRESH = """
import sys, time
import pandas, pyarrow  # imported before the clock starts, as in a running app
from readiness import Store
from readiness.analysis.refresh import refresh_model
store = Store.open(sys.argv[1])
started = time.perf_counter()
print(refresh_model(store, store.get_model("bench")).message)
print(f"Took {time.perf_counter() - started:.2f} s")
"""


def timed_refresh(database: str) -> tuple[float, float, str]:
    """``refresh --model bench`` in a fresh process, as the CLI runs it, timed around the refresh too."""
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-c", REFRESH, database]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"refresh failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    seconds, kilobytes = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024, done.stdout


def took(output: str) -> float | None:
    """The seconds of the CLI's own "Took N s" line (the work itself, without the process's start-up)."""
    for line in output.splitlines():
        if line.startswith("Took "):
            return float(line.split()[1])
    return None


def insert_directly(database: str, rows: int) -> None:
    """A service logging batches of 10,000 with ``log_predictions(..., refresh=False)``: the rows wait for `refresh`.

    Past 200,000 rows the predictions are 1 s apart (10 s before), so a million stay within 2026.
    """
    from readiness import Store, log_predictions

    store = Store.open(database)
    frame = live_log(rows, seed=9, start="2026-06-01", prefix="d", step=10 if rows <= DIRECT_ROWS else 1)
    for start in range(0, rows, 10_000):
        log_predictions(store, "bench", frame.iloc[start : start + 10_000], refresh=False)
    store.engine.dispose()


def database_bytes(database: str) -> int:
    """The database's size on disk (SQLite file and its WAL, or the PostgreSQL schema's tables)."""
    from sqlalchemy import create_engine, text

    if database.startswith("sqlite"):
        path = Path(database.split("///", 1)[1])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    engine = create_engine(database)
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'r'"
                )
            ).scalar_one()
        )


def main() -> None:
    """Generate the files, run every stage, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--live-only", action="store_true", help="baseline and live upload only (for a file of many millions)"
    )
    parser.add_argument(
        "--direct-rows", type=int, default=DIRECT_ROWS, help="rows a service logs without refreshing"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = {
            "baseline": folder / "baseline.csv",
            "live": folder / "live.csv",
            "labels": folder / "labels.csv",
        }
        baseline().to_csv(paths["baseline"], index=False)
        live = write_live(paths["live"], args.rows)
        labels(live).to_csv(paths["labels"], index=False)  # labels for the first million rows at most
        del live
        database, schema = f"sqlite:///{folder / 'bench.db'}", None
        if args.database:
            from sqlalchemy import create_engine, text

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with create_engine(args.database).begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in args.database else "?"
            database = f"{args.database}{separator}options=-csearch_path%3D{schema}"
        try:
            rows = run_stages(database, paths, args.rows, args.live_only, args.direct_rows)
        finally:
            if schema is not None:
                with create_engine(args.database).begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        print(f"{args.rows:,}-row live log on {'PostgreSQL' if schema else 'SQLite'}")
        print("| what | seconds | rows/s | peak MB | the work itself: s (rows/s) |")
        print("|---|---|---|---|---|")
        for name, seconds, n, megabytes, work in rows:
            rate = f"{n / seconds:,.0f}" if n else "-"
            shown = f"{megabytes:,.0f}" if megabytes else "-"
            itself = f"{work:.1f} ({n / work:,.0f})" if work and n else "-"
            print(f"| {name} | {seconds:.1f} | {rate} | {shown} | {itself} |")
        print(
            "seconds: the CLI's process, start-up included; the work itself: the upload's own "
            "'Took' line (read to stored and refreshed, as on the Data page, whose process is running)."
        )


def run_stages(
    database: str, paths: dict[str, Path], rows: int, live_only: bool = False, direct_rows: int = DIRECT_ROWS
) -> list[tuple[str, float, int, float, float | None]]:
    """Every stage in order; one (name, seconds, rows, peak MB, the work's own seconds) each, then the storage ratio."""
    out = []
    seconds, mb, printed = timed_cli_output(
        database,
        "ingest",
        "--model",
        "bench",
        "--kind",
        "baseline",
        str(paths["baseline"]),
        "--task",
        "binary",
        "--positive-class",
        "1",
    )
    out.append(
        (
            f"baseline, {BASELINE_ROWS:,} rows ({paths['baseline'].stat().st_size / 1e6:.0f} MB CSV)",
            seconds,
            BASELINE_ROWS,
            mb,
            took(printed),
        )
    )
    seconds, mb, printed = timed_cli_output(
        database, "ingest", "--model", "bench", "--kind", "live", str(paths["live"])
    )
    out.append(
        (
            f"live log, {rows:,} rows ({paths['live'].stat().st_size / 1e6:.0f} MB CSV), stored and refreshed",
            seconds,
            rows,
            mb,
            took(printed),
        )
    )
    if live_only:
        return out
    n_labels = sum(1 for _ in paths["labels"].open()) - 1  # 70% of the first million rows
    seconds, mb, printed = timed_cli_output(
        database, "ingest", "--model", "bench", "--kind", "labels", str(paths["labels"])
    )
    out.append((f"labels, {n_labels:,} rows, stored and refreshed", seconds, n_labels, mb, took(printed)))
    csv_bytes = sum(p.stat().st_size for p in paths.values())
    size = database_bytes(database)
    out.append(
        (
            f"database size {size / 1e6:,.0f} MB = {size / csv_bytes:.2f}x the three CSVs' {csv_bytes / 1e6:,.0f} MB",
            0.0,
            0,
            0.0,
            None,
        )
    )
    insert_directly(database, direct_rows)
    seconds, mb, printed = timed_refresh(database)
    out.append(
        (
            f"refresh of {direct_rows:,} rows a service logged without refreshing",
            seconds,
            direct_rows,
            mb,
            took(printed),
        )
    )
    with tempfile.TemporaryDirectory() as demo_folder:
        start = time.perf_counter()
        timed_cli(f"sqlite:///{Path(demo_folder) / 'demo.db'}", "demo")
        out.append(
            ("demo seeded into an empty SQLite file (first start)", time.perf_counter() - start, 0, 0.0, None)
        )
    return out


if __name__ == "__main__":
    main()
