"""The readiness checklist (Checklist page, Overview, gate) for a model with 10M logged predictions.

    .venv/bin/python bench/bench_drift_page.py          # builds the 10M log (once)
    .venv/bin/python bench/bench_performance_page.py    # adds ~7M delayed labels (once)
    .venv/bin/python bench/bench_checklist.py           # times the checklist on that log

``assess_model`` judges all 29 items from stored day profiles and day records plus a bounded
sample of raw rows for the schema check, so its cost should not grow with the log. It is
timed cold (fresh process: stored aggregates decoded, baseline read) and warm (same process,
a new hour, so nothing is memoized but the decoded aggregates); then the score history is
backfilled for 90 days (one assessment per day) and the CLI gate is timed end to end as a CI
job would run it. Budgets: 2 s cold, 0.3 s warm, as for the other pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from page_timing import report, time_in_fresh_processes  # noqa: E402

from readiness import Store  # noqa: E402

MODEL = "bench"


def measure(db: Path, model: str = MODEL) -> dict:
    """Assess in this process: the first call (cold), then as of later hours (warm: new keys, aggregates decoded)."""
    from readiness.analysis.assessment import assess_model

    store = Store.open(f"sqlite:///{db}")
    first = _as_of(store)
    resolved = store.get_model(model)
    timings = []
    for hour in range(4):  # later hours are new cache keys: warm means the stored aggregates are decoded
        started = time.perf_counter()
        assessment = assess_model(store, resolved, first + timedelta(hours=hour))
        timings.append(time.perf_counter() - started)
    failing = [r.item.key for r in assessment.results if r.item.kind == "automatic" and r.status != "pass"]
    return {
        "cold": timings[0],
        "warm": statistics.median(timings[1:]),
        "score": assessment.score.score_0_100,
        "status": assessment.score.status.label,
        "failing": failing,
    }


def _as_of(store: Store):
    last = max(
        newest for m in store.list_models() if (newest := store.prediction_bounds(m.id)[1]) is not None
    )
    return last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=9)


def backfill(db: Path, days: int, model: str = MODEL) -> float:
    """Seconds to record the score for each of ``days`` past days."""
    from readiness.analysis.assessment import backfill_history

    store = Store.open(f"sqlite:///{db}")
    today = _as_of(store).date() + timedelta(days=1)
    started = time.perf_counter()
    backfill_history(store, store.get_model(model), days, 1, today)
    return time.perf_counter() - started


def gate_seconds(db: Path, model: str = MODEL) -> tuple[float, int, str]:
    """The CLI gate end to end (interpreter start, imports, assessment), as a CI step runs it."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "readiness",
            "--database",
            f"sqlite:///{db}",
            "gate",
            "--model",
            model,
            "--min-score",
            "70",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done.returncode, (done.stdout + done.stderr).strip()


def main() -> int:
    """Time the checklist on the 10M log built by the other page benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "results" / "drift-10000000.db")
    parser.add_argument("--days", type=int, default=90, help="days of score history to backfill")
    parser.add_argument("--model", default=MODEL, help="model to assess (default: the benchmark's)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.db, args.model)))
        return 0
    if not args.db.exists():
        print(
            f"No log at {args.db}: run bench/bench_drift_page.py and bench/bench_performance_page.py first."
        )
        return 1
    cold, warm, last = time_in_fresh_processes(__file__, args.db, extra=("--model", args.model))
    print(
        f"Checklist: score {last['score']}, {last['status']}; automatic items not passing: {last['failing']}"
    )
    seconds = backfill(args.db, args.days, args.model)
    print(
        f"Backfilled {args.days} days of score history in {seconds:.1f} s ({seconds / args.days:.3f} s a day)"
    )
    took, code, line = gate_seconds(args.db, args.model)
    print(f"CLI gate end to end: {took:.2f} s, exit {code}: {line}")
    return report(cold, warm)


if __name__ == "__main__":
    sys.exit(main())
