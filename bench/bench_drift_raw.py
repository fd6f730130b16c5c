"""Benchmark: column drift between two raw frames (1M baseline rows vs 1M live rows).

Run from the repository root:

    .venv/bin/python bench/bench_drift_raw.py            # 1M vs 1M, 3 repeats
    .venv/bin/python bench/bench_drift_raw.py --rows 200000 --repeats 5

It times, on 10 numeric + 5 categorical columns (categorical values are Python strings in
object columns, as ingestion produces them):

* building the reference from the baseline frame (bin edges, categories, baseline profiles),
* profiling the live frame,
* column drift from the two profiles alone (what the dashboard does with stored profiles),
* everything from the raw frames (``drift_between_frames``: the three steps above),

and measures, in a fresh subprocess, the peak memory of ``drift_between_frames`` above the
frames themselves: the kernel's peak-RSS mark (VmHWM) is reset after the frames are built,
and tracemalloc's peak (numpy and pandas allocations) is reported beside it. numpy stays
single-threaded. The script exits with status 1 when a budget is exceeded.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TypeVar  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.core.drift import column_drift, drift_between_frames  # noqa: E402
from readiness.core.profiles import build_reference, profile_frame  # noqa: E402
from readiness.core.records import FeatureSpec  # noqa: E402

T = TypeVar("T")

BUDGET_RAW_S = 2.0
BUDGET_PROFILES_S = 0.2
BUDGET_MEMORY_MB = 500
SPECS = [FeatureSpec(f"n{i}", "numeric") for i in range(10)] + [
    FeatureSpec(f"c{i}", "categorical") for i in range(5)
]


def make_frame(n: int, seed: int, shifted: bool) -> pd.DataFrame:
    """A synthetic log: skewed, heavy-tailed, discrete and missing numeric values; 3 to 200 categories."""
    rng = np.random.default_rng(seed)
    s = 0.3 if shifted else 0.0
    x8 = rng.normal(0, 1, n)
    x8[rng.random(n) < 0.1] = np.nan
    frame = {
        "n0": rng.normal(s, 1, n),
        "n1": rng.lognormal(s, 0.7, n),
        "n2": rng.uniform(0, 1 + s, n),
        "n3": rng.normal(10, 2 + s, n),
        "n4": rng.standard_t(3, n),
        "n5": rng.exponential(3, n),
        "n6": rng.poisson(4, n).astype(float),
        "n7": (rng.random(n) < 0.2 + s / 3).astype(float),
        "n8": x8,
        "n9": rng.gamma(2, 2, n) * 1000 + 1.7e9,
    }
    for i, k in enumerate((3, 5, 20, 50, 200)):
        names = np.array([f"cat_{k}_{j}" for j in range(k)], dtype=object)
        weights = 1 / np.arange(1, k + 1) ** (0.8 + (s if i < 2 else 0))
        values = names[rng.choice(k, n, p=weights / weights.sum())]
        if i == 3:
            values[rng.random(n) < 0.05] = None
        frame[f"c{i}"] = pd.Series(values, dtype=object)
    return pd.DataFrame(frame)


def timed(fn: Callable[[], T], repeats: int) -> tuple[float, float, T]:
    """Median and best wall time of ``repeats`` calls, and the last result."""
    times = []
    for _ in range(max(repeats, 1)):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), float(min(times)), result


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def memory_child(rows: int) -> None:
    """In a fresh process: peak memory of drift_between_frames above the frames (prints JSON)."""
    reference, current = make_frame(rows, 1, False), make_frame(rows, 2, True)
    frames_mb = (reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()) / 2**20
    gc.collect()
    before_kb = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (Linux >= 4.0)
        hwm_reset = True
    except OSError:
        hwm_reset = False
    drift_between_frames(reference, current, SPECS)
    rss_peak_mb = (_status_kb("VmHWM") - before_kb) / 1024 if hwm_reset else None
    gc.collect()
    tracemalloc.start()
    drift_between_frames(reference, current, SPECS)
    traced_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"frames_mb": frames_mb, "rss_peak_mb": rss_peak_mb, "traced_peak_mb": traced_peak_mb}))


def measure_memory(rows: int) -> dict:
    """Run memory_child in a subprocess so earlier allocations do not hide the peak."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    """Time drift from raw frames and from profiles, measure memory, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each frame")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.rows)
        return 0

    baseline, live = make_frame(args.rows, 1, False), make_frame(args.rows, 2, True)
    ref_med, ref_best, reference = timed(lambda: build_reference(baseline, SPECS), args.repeats)
    prof_med, prof_best, current = timed(lambda: profile_frame(live, reference), args.repeats)
    drift_med, drift_best, report = timed(lambda: column_drift(reference, current), args.repeats)
    raw_med, raw_best, _ = timed(lambda: drift_between_frames(baseline, live, SPECS), args.repeats)
    memory = measure_memory(args.rows)

    rss = memory["rss_peak_mb"]
    peak_mb = rss if rss is not None else memory["traced_peak_mb"]
    rows = [
        ("build reference (edges, categories, baseline profiles)", ref_med, ref_best, ""),
        ("profile live frame", prof_med, prof_best, ""),
        ("column drift from profiles", drift_med, drift_best, f"<= {BUDGET_PROFILES_S} s"),
        ("all from raw frames (drift_between_frames)", raw_med, raw_best, f"<= {BUDGET_RAW_S} s"),
    ]
    print(
        f"bench_drift_raw: {args.rows:,} baseline rows vs {args.rows:,} live rows, "
        f"10 numeric + 5 categorical columns, {args.repeats} repeats, numpy single-threaded"
    )
    print(f"{'step':58s} {'median s':>9s} {'best s':>8s}  budget")
    for name, med, best, budget in rows:
        print(f"{name:58s} {med:9.3f} {best:8.3f}  {budget}")
    print(f"{'frames in memory (pandas deep size)':58s} {memory['frames_mb']:8.0f} MB")
    print(
        f"{'peak RSS above the frames (VmHWM reset)':58s} "
        f"{(f'{rss:8.0f} MB' if rss is not None else '     n/a')}  <= {BUDGET_MEMORY_MB} MB"
    )
    print(f"{'tracemalloc peak (numpy/pandas allocations)':58s} {memory['traced_peak_mb']:8.0f} MB")
    print(f"drifted columns: {', '.join(report.drifted_columns) or 'none'}")
    ok = raw_med <= BUDGET_RAW_S and drift_med <= BUDGET_PROFILES_S and peak_mb <= BUDGET_MEMORY_MB
    print("within budget" if ok else "OVER BUDGET")
    print("command: .venv/bin/python bench/bench_drift_raw.py")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
