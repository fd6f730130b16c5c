"""Side by side with Evidently's DataDriftPreset on the same frames.

    .venv/bin/python bench/bench_evidently.py                 # 1M vs 1M rows, 15 columns
    .venv/bin/python bench/bench_evidently.py --rows 100000

Evidently runs in its own environment (bench/requirements-peers.txt, default .venv-peers),
never in the app's. Prints both times, the ratio, peak memory, and whether both flag the
same columns. Without the peer environment it says how to create it and exits 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_drift_raw import SPECS, make_frame  # noqa: E402

from readiness.core.drift import drift_between_frames  # noqa: E402

MISSING = "__missing__"


def save(path: Path, reference, current) -> None:
    """Both frames as plain arrays (no pickles: the peer venv has another pandas)."""
    arrays = {}
    for side, frame in (("reference", reference), ("current", current)):
        for spec in SPECS:
            values = frame[spec.name]
            arrays[f"{side}__{spec.name}"] = (
                values.to_numpy(dtype=float)
                if spec.kind == "numeric"
                else values.fillna(MISSING).to_numpy(dtype=str)
            )
    np.savez(path, **arrays)


def main() -> int:
    """Run both tools on the same 1M vs 1M frames and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peer-python", type=Path, default=ROOT / ".venv-peers" / "bin" / "python")
    args = parser.parse_args()
    if not args.peer_python.exists():
        print(
            f"Evidently is not installed at {args.peer_python}. Create its own environment with:\n"
            "  python3.11 -m venv .venv-peers && .venv-peers/bin/pip install -r bench/requirements-peers.txt"
        )
        return 0
    reference = make_frame(args.rows, seed=1, shifted=False)
    current = make_frame(args.rows, seed=2, shifted=True)
    started = time.perf_counter()
    ours = drift_between_frames(reference, current, SPECS)
    ours_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "frames.npz"
        save(path, reference, current)
        out = subprocess.run(
            [str(args.peer_python), str(ROOT / "bench" / "evidently_runner.py"), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    mine = sorted(ours.drifted_columns)
    print(f"{args.rows:,} vs {args.rows:,} rows, {len(SPECS)} columns (bench_drift_raw.make_frame)")
    print("| tool | seconds | peak MB above frames | drifted columns |\n|---|---|---|---|")
    print(f"| readiness | {ours_seconds:.2f} | see bench_drift_raw.py | {', '.join(mine)} |")
    print(
        f"| Evidently 0.7 DataDriftPreset | {theirs['seconds']:.1f} | {theirs['peak_mb']:.0f} | "
        f"{', '.join(theirs['drifted'])} |"
    )
    print(
        f"\nreadiness is {theirs['seconds'] / ours_seconds:.0f}x faster; "
        f"same columns flagged: {'yes' if mine == theirs['drifted'] else 'no'}"
    )
    if mine != theirs["drifted"]:
        print(
            f"  only readiness: {sorted(set(mine) - set(theirs['drifted']))}; "
            f"only Evidently: {sorted(set(theirs['drifted']) - set(mine))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
