"""How long the command line takes to start, and to answer, for the commands people run most.

    .venv/bin/python bench/bench_cli_startup.py [--runs 5]

Seeds the demo into a temporary SQLite file (once), then times in fresh processes, median of
``--runs``:

- start-up: the interpreter plus ``import readiness.cli`` (what every command pays before its
  own work; heavy libraries are imported by the commands that use them);
- ``models``, ``gate --model fraud`` and ``checklist --model fraud show`` end to end (imports,
  reading the stored aggregates, the assessment, printing), three ways
  (readiness/analysis/kept.py): with nothing kept (the first command on a database, or
  ``READINESS_CACHE_DIR=off``); after new data (or in a new hour: the assessment is judged
  again, the baseline's development performance is kept); and on unchanged data (the
  assessment the previous command kept is read). Kept files go to a temporary folder, never
  to the user's cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def timed(argv: list[str], kept: Path) -> float:
    """Wall seconds of one fresh ``python`` process running ``argv`` (its exit code is not judged: gate exits 1).

    Assessments are kept in (and read from) ``kept``.
    """
    env = {**os.environ, "READINESS_CACHE_DIR": str(kept)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env=env,
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
            env={**os.environ, "READINESS_CACHE_DIR": "off"},
        )
        print(
            f"| command (demo database, median of {args.runs} fresh processes, seconds) "
            "| nothing kept | after new data | unchanged data |"
        )
        print("|---|---|---|---|")
        for index, (name, argv) in enumerate(COMMANDS.items()):
            filled = [a.replace("{db}", db) for a in argv]
            kept = Path(tmp) / f"kept-{index}"
            timed(filled, kept)  # warm the file cache, and keep what the command computes
            afresh = statistics.median(
                timed(filled, Path(tmp) / f"nothing-kept-{index}-{run}") for run in range(args.runs)
            )
            after_new_data = statistics.median(
                timed(filled, without_assessments(kept, Path(tmp) / f"new-data-{index}-{run}"))
                for run in range(args.runs)
            )
            again = statistics.median(timed(filled, kept) for _ in range(args.runs))
            print(f"| {name} | {afresh:.2f} | {after_new_data:.2f} | {again:.2f} |")


def without_assessments(kept: Path, target: Path) -> Path:
    """A copy of the kept folder without its assessments: what a command finds after new data arrived."""
    if kept.exists():
        shutil.copytree(kept, target)
    for path in target.glob("readiness-assessment-*"):
        path.unlink()
    return target


if __name__ == "__main__":
    main()
