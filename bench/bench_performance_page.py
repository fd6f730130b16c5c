"""The Performance page's analysis for a model with 10M logged predictions over 90 days.

    .venv/bin/python bench/bench_drift_page.py          # builds the 10M log first (once)
    .venv/bin/python bench/bench_performance_page.py    # adds delayed labels (once), then times

Delayed labels for about 70% of the predictions are inserted with plain SQL into the
documented ``labels`` table, 1-10 days after each prediction, as a labelling service would;
the incremental refresh then recomputes the affected days (timed). The page's analysis
(``log_range`` + ``performance_overview``: every metric per week with intervals, each criterion
per window, the label-free estimate, dev vs production, versions) is timed cold, in fresh
processes, and warm, again in the same process. Budgets: 2 s cold, 0.3 s warm.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from page_timing import report, time_in_fresh_processes  # noqa: E402

from readiness import Store  # noqa: E402
from readiness.storage.performance_store import refresh_performance  # noqa: E402

MODEL = "bench"
LABELLED_SHARE = 0.7


def add_labels(db: Path, seed: int = 2) -> int:
    """Insert delayed labels for ~70% of predictions (label drawn from the score), chunk by chunk."""
    rng = np.random.default_rng(seed)
    added = 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        model_id = conn.execute("SELECT id FROM models WHERE name = ?", (MODEL,)).fetchone()[0]
        last = 0
        while True:
            rows = conn.execute(
                "SELECT id, request_id, score, timestamp FROM predictions WHERE model_id = ? AND id > ? "
                "ORDER BY id LIMIT 500000",
                (model_id, last),
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            frame = pd.DataFrame(rows, columns=["id", "request_id", "score", "timestamp"])
            frame = frame[rng.uniform(size=len(frame)) < LABELLED_SHARE]
            labels = (rng.uniform(size=len(frame)) < frame["score"].to_numpy()).astype(int).astype(str)
            received = pd.to_datetime(frame["timestamp"]) + pd.to_timedelta(
                rng.uniform(1, 10, len(frame)), unit="D"
            )
            conn.executemany(
                "INSERT INTO labels (model_id, request_id, label, received_at) VALUES (?, ?, ?, ?)",
                zip(
                    [model_id] * len(frame),
                    frame["request_id"],
                    labels,
                    received.dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    strict=True,
                ),
            )
            conn.commit()
            added += len(frame)
            print(f"\r  labelled {added:,} predictions", end="", flush=True)
    print()
    return added


def measure(db: Path) -> dict:
    """Time the page's analysis in this process: the first call (cold) then again (warm)."""
    from readiness.analysis.drift_overview import log_range
    from readiness.analysis.performance_overview import performance_overview

    store = Store.open(f"sqlite:///{db}")
    model = store.get_model(MODEL)
    timings = []
    for _ in range(4):
        started = time.perf_counter()
        span = log_range(store, model)
        overview = performance_overview(store, model, span.first_day, span.last_day, "week")
        timings.append(time.perf_counter() - started)
    return {
        "cold": timings[0],
        "warm": statistics.median(timings[1:]),
        "windows": len(overview.windows),
        "labelled": overview.total.n_labelled,
        "rows": overview.total.n_rows,
        "criteria": [
            (t.criterion.text, t.current.status.label if t.current else None) for t in overview.criteria
        ],
    }


def main() -> int:
    """Add labels if needed, refresh, and time the page's analysis."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "results" / "drift-10000000.db")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.db)))
        return 0
    if not args.db.exists():
        print(f"No log at {args.db}: run bench/bench_drift_page.py first (it builds the 10M log).")
        return 1
    store = Store.open(f"sqlite:///{args.db}")
    with store.engine.connect() as conn:
        has_labels = (conn.exec_driver_sql("SELECT COUNT(*) FROM labels").scalar() or 0) > 0
    if not has_labels:
        started = time.perf_counter()
        added = add_labels(args.db)
        print(f"  inserted {added:,} delayed labels with plain SQL in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    result = refresh_performance(
        store,
        store.get_model(MODEL),
        progress=lambda i, n: print(f"\r  recomputed day {i}/{n}", end="", flush=True),
    )
    if result.days_recomputed:
        print(f"\n  refresh: {result.days_recomputed} days in {time.perf_counter() - started:.0f} s")
    cold, warm, last = time_in_fresh_processes(__file__, args.db)
    print(
        f"\nPerformance page analysis: {last['rows']:,} predictions ({last['labelled']:,} labelled), "
        f"{last['windows']} weekly windows; criteria: {last['criteria']}"
    )
    return report(cold, warm)


if __name__ == "__main__":
    sys.exit(main())
