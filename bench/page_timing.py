"""Cold and warm timing of a page's analysis, shared by the page benchmarks."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

BUDGET_COLD = 2.0
BUDGET_WARM = 0.3


def time_in_fresh_processes(
    script: str, db: Path, runs: int = 3, extra: tuple[str, ...] = ()
) -> tuple[float, float, dict]:
    """Run ``script --measure --db DB [extra]`` in fresh processes; median cold, median warm, last result."""
    results = []
    for _ in range(runs):  # each in a fresh process, so "cold" has no warm caches of ours
        out = subprocess.run(
            [sys.executable, script, "--measure", "--db", str(db), *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cold = statistics.median(r["cold"] for r in results)
    warm = statistics.median(r["warm"] for r in results)
    return cold, warm, results[-1]


def report(cold: float, warm: float) -> int:
    """Print the budget table; return the exit status (1 when a budget is exceeded)."""
    print(
        f"| measure | seconds | budget |\n|---|---|---|\n| cold (fresh process) | {cold:.2f} | {BUDGET_COLD} |"
        f"\n| warm (same process) | {warm:.2f} | {BUDGET_WARM} |"
    )
    return 0 if cold <= BUDGET_COLD and warm <= BUDGET_WARM else 1
