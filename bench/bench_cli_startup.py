"""How long the command line takes to start, and to answer, for the commands people run most.

    .venv/bin/python bench/bench_cli_startup.py [--runs 5]

Seeds the demo into a temporary SQLite file (once), then times in fresh processes, median of
``--runs``:

- start-up: the interpreter plus ``import readiness.cli`` (what every command pays before its
  own work; heavy libraries are imported by the commands that use them);
- ``models``, ``gate --model fraud`` and ``checklist --model fraud show`` end to end (imports,
  reading the stored aggregates, the assessment, printing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "start-up (python + import readiness.cli)": ["-c", "import readiness.cli"],
    "models": ["-m", "readiness", "--database", "{db}", "models"],
    "gate --model fraud": ["-m", "readiness", "--database", "{db}", "gate", "--model", "fraud"],
    "checklist --model fraud show": [
        "-m",
        "readiness",
        "--database",
        "{db}",
        "checklist",
        "--model",
        "fraud",
        "show",
    ],
}


def timed(argv: list[str]) -> float:
    """Wall seconds of one fresh ``python`` process running ``argv`` (its exit code is not judged: gate exits 1)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def main() -> None:
    """Seed the demo, time every command, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'demo.db'}"
        subprocess.run(
            [sys.executable, "-m", "readiness", "--database", db, "demo"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"| command (demo database, median of {args.runs} fresh processes) | seconds |")
        print("|---|---|")
        for name, argv in COMMANDS.items():
            filled = [a.replace("{db}", db) for a in argv]
            timed(filled)  # warm the file cache
            seconds = statistics.median(timed(filled) for _ in range(args.runs))
            print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
