"""Benchmark: reading an upload and proposing its mapping, CSV against Parquet, on the same log.

Run from the repository root:

    .venv/bin/python bench/bench_upload_read.py              # 1M rows, 3 repeats
    .venv/bin/python bench/bench_upload_read.py --rows 200000

The log is generated deterministically: timestamp, request_id, 10 numeric and 5 categorical
features, score and prediction. For each format it times ``read_table_bytes`` (bytes to a frame
of strings) and ``preview_upload`` (the same read plus the proposed roles, including the label
and id guesses from values), best of the repeats, and prints one table.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, not installed

from readiness.analysis.ingest import preview_upload
from readiness.core.tablefile import read_table_bytes


def live_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """The benchmark's log: one prediction every 20 s from 1 Jan 2026."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows).round(4) for i in range(10)})
    for i in range(5):
        frame[f"c{i}"] = rng.choice(["a", "b", "c", "d"], rows)
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(rows) * 20, unit="s")
    frame.insert(0, "timestamp", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
    frame.insert(1, "request_id", [f"r{i}" for i in range(rows)])
    frame["score"] = rng.random(rows).round(4)
    frame["prediction"] = (frame["score"] > 0.5).astype(int)
    return frame


def best_of(repeats: int, call: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Print the table: format, size, read seconds and rows/s, preview seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame = live_log(args.rows)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    files = {"csv": frame.to_csv(index=False).encode(), "parquet": buffer.getvalue()}
    print(f"{args.rows:,} rows, {frame.shape[1]} columns; best of {args.repeats}")
    print(f"{'format':<8} {'MB':>6} {'read s':>7} {'rows/s':>10} {'preview s':>10}")
    for name, data in files.items():
        read = best_of(args.repeats, partial(read_table_bytes, data, f"log.{name}"))
        preview = best_of(args.repeats, partial(preview_upload, data, "live", f"log.{name}"))
        print(f"{name:<8} {len(data) / 1e6:>6.0f} {read:>7.2f} {args.rows / read:>10,.0f} {preview:>10.2f}")


if __name__ == "__main__":
    main()
