"""Label-free estimates against realized metrics, per window, for every task.

For each task (binary CBPE, multiclass per-class CBPE, regression direct loss estimation)
the script fits the estimator on a generated labelled baseline, then draws live windows
whose feature means move (covariate shift: the relation between inputs and labels stays)
and compares each window's estimate and 95% interval with what scikit-learn measures on its
labels. It prints the headline metric per window of the first baseline, then the interval
coverage of every metric over all baselines; ``--concept`` changes the relation after the
baseline instead, where the intervals should miss.

    python bench/bench_estimation.py                  # 5 baselines x 20 windows of 1,000 rows
    python bench/bench_estimation.py --rows 5000 --shift 0.8
    python bench/bench_estimation.py --concept
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.core.estimators import estimated_metric  # noqa: E402
from tests.shifted_windows import TASKS, compare, coverage  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Print estimate vs realized per window and the coverage table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baselines", type=int, default=5)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000, help="rows per live window")
    parser.add_argument("--shift", type=float, default=0.5, help="sd of each window's feature-mean shift")
    parser.add_argument("--concept", action="store_true", help="change the label relation after the baseline")
    args = parser.parse_args(argv)
    kind = "concept shift" if args.concept else f"covariate shift (feature means ~ N(0, {args.shift}))"
    print(f"{args.baselines} baselines x {args.windows} windows of {args.rows:,} rows, {kind}\n")
    summary = []
    for task in TASKS:
        started = time.perf_counter()
        comparisons = compare(task, range(args.baselines), args.windows, args.rows, args.shift, args.concept)
        seconds = time.perf_counter() - started
        headline = estimated_metric(task, "")
        print(f"## {task}: {headline} per window (first baseline)")
        print(f"{'window':>6}  {'estimate':>9}  {'95% interval':>19}  {'realized':>9}  covered")
        for c in [c for c in comparisons if c.metric == headline][: args.windows]:
            interval = f"[{c.lower:.4f}, {c.upper:.4f}]"
            print(
                f"{c.window:>6}  {c.estimate:>9.4f}  {interval:>19}  {c.realized:>9.4f}  {'yes' if c.covered else 'NO'}"
            )
        print()
        for metric, share in coverage(comparisons).items():
            summary.append((task, metric, share, seconds))
    print("## interval coverage (share of windows whose 95% interval holds the realized value)")
    print(f"{'task':<11} {'metric':<20} {'coverage':>8}")
    for task, metric, share, _ in summary:
        print(f"{task:<11} {metric:<20} {share:>8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
