"""Benchmark: how often the default drift verdicts are right, on streams with known answers.

Run from the repository root:

    .venv/bin/python bench/bench_drift_stats.py            # the table of docs/drift.md
    .venv/bin/python bench/bench_drift_stats.py --check    # exit 1 when a target is missed
    .venv/bin/python bench/bench_drift_stats.py --rule cutoff   # the same streams, fixed cut-offs

Every stream is generated here from a fixed seed, so the table is the same on every run.
A baseline of 50,000 rows with 20 mixed features (normal, skewed, heavy-tailed and uniform
numerics, integer counts, categoricals of 2 to 200 categories, some values missing) is compared
with windows of live rows drawn from the same generator, unchanged or with one known change:

* no drift: 50 windows of 5,000 rows and 50 of 200 rows; every (column, window) flag is false;
* a 0.1 sd mean shift, an sd x1.1 change and a 3-point shift of one category's share, each in
  10 windows of 5,000 rows: the changed column should be flagged;
* a 0.02 sd mean shift at 1,000,000 rows (baseline of 1,000,000 too): real, but too small to be news;
* a 15-column set with 6 known shifts at 10k, 100k and 1M rows: exactly those 6 flagged.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readiness.core.drift import DriftOptions, column_drift  # noqa: E402
from readiness.core.profiles import Reference, build_reference, profile_frame  # noqa: E402
from readiness.core.records import FeatureSpec  # noqa: E402

BASELINE_ROWS = 50_000
Change = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


# --------------------------------------------------------------------------- the 20-feature stream


def _names(k: int) -> np.ndarray:
    return np.array([f"v{j:03d}" for j in range(k)], dtype=object)


def _zipf(k: int, a: float = 1.0) -> np.ndarray:
    w = 1 / np.arange(1, k + 1) ** a
    return w / w.sum()


CATEGORICAL: dict[str, np.ndarray] = {
    "cat2": np.array([0.7, 0.3]),
    "cat3": np.array([0.5, 0.3, 0.2]),
    "cat5": np.array([0.3, 0.25, 0.2, 0.15, 0.1]),
    "cat10": _zipf(10),
    "cat30": _zipf(30),
    "cat50": _zipf(50, 0.8),
    "cat200": _zipf(200, 0.8),
}
CATEGORY_SHIFT = ("cat5", 0, 0.03)  # column, category index, change of its share


def stream(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """20 mixed features, about 5% missing in three of them."""
    frame = pd.DataFrame(
        {
            "normal_a": rng.normal(0, 1, n),
            "normal_b": rng.normal(50, 5, n),
            "normal_c": rng.normal(-3, 0.5, n),
            "lognormal": rng.lognormal(0, 0.8, n),
            "exponential": rng.exponential(2.0, n),
            "student_t3": rng.standard_t(3, n),
            "cauchy_like": rng.standard_t(1.5, n),
            "uniform": rng.uniform(0, 1, n),
            "uniform_wide": rng.uniform(-1e3, 1e3, n),
            "count_small": rng.poisson(3, n).astype(float),
            "count_large": rng.poisson(40, n).astype(float),
            "epoch_like": 1.7e9 + rng.gamma(2, 3600, n),
            "bimodal": np.where(rng.random(n) < 0.4, rng.normal(-2, 0.5, n), rng.normal(2, 0.8, n)),
        }
    )
    for name, p in CATEGORICAL.items():
        frame[name] = _names(len(p))[rng.choice(len(p), n, p=p)]
    for name in ("normal_c", "lognormal", "cat10"):
        frame.loc[rng.random(n) < 0.05, name] = np.nan if frame[name].dtype.kind == "f" else None
    return frame


SPECS = tuple(
    FeatureSpec(c, "categorical" if c.startswith("cat") else "numeric")
    for c in stream(1, np.random.default_rng(0))
)


def mean_shift(column: str, sds: float, sd: float) -> Change:
    """Move one column's values by ``sds`` standard deviations."""

    def change(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return frame.assign(**{column: frame[column] + sds * sd})

    return change


def scale(column: str, factor: float, mean: float) -> Change:
    """Stretch one column's values around its mean by ``factor``."""

    def change(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return frame.assign(**{column: mean + (frame[column] - mean) * factor})

    return change


def category_share(column: str, index: int, delta: float) -> Change:
    """Redraw one categorical column with one category's share raised by ``delta``."""

    def change(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        p = np.asarray(CATEGORICAL[column], dtype=np.float64)
        q = p * (1 - p[index] - delta) / (1 - p[index])
        q[index] = p[index] + delta
        return frame.assign(**{column: _names(len(q))[rng.choice(len(q), len(frame), p=q)]})

    return change


# --------------------------------------------------------------------------- the 15-column known-shift set

KNOWN = ("n0", "n1", "n2", "n3", "c0", "c1")
C0 = (np.array([0.4, 0.3, 0.15, 0.1, 0.05]), np.array([0.2, 0.3, 0.2, 0.15, 0.15]))
C1 = (_zipf(10), _zipf(10)[::-1])
KNOWN_SPECS = tuple(FeatureSpec(f"n{i}", "numeric") for i in range(10)) + tuple(
    FeatureSpec(f"c{i}", "categorical") for i in range(5)
)


def known_shift(n: int, rng: np.random.Generator, shifted: bool = False) -> pd.DataFrame:
    """10 numeric + 5 categorical columns; ``shifted`` moves n0-n2 by 0.5 sd, scales n3 by 1.5, changes c0, c1."""
    s = 0.5 if shifted else 0.0
    lognormal_sd = np.sqrt((np.e**0.25 - 1) * np.e**0.25)
    x8 = rng.normal(0, 1, n)
    x8[rng.random(n) < 0.1] = np.nan
    pick = 1 if shifted else 0
    return pd.DataFrame(
        {
            "n0": rng.normal(s, 1, n),
            "n1": rng.lognormal(0, 0.5, n) + s * lognormal_sd,
            "n2": rng.uniform(0, 1, n) + s / np.sqrt(12),
            "n3": rng.normal(10, 2 * (1.5 if shifted else 1.0), n),
            "n4": rng.normal(0, 1, n),
            "n5": rng.exponential(3, n),
            "n6": rng.poisson(4, n).astype(float),
            "n7": rng.standard_t(5, n),
            "n8": x8,
            "n9": rng.gamma(2, 2, n) * 1000 + 1e6,
            "c0": _names(5)[rng.choice(5, n, p=C0[pick])],
            "c1": _names(10)[rng.choice(10, n, p=C1[pick])],
            "c2": _names(2)[(rng.random(n) < 0.3).astype(int)],
            "c3": _names(200)[rng.choice(200, n, p=_zipf(200, 0.8))],
            "c4": _names(20)[rng.integers(0, 20, n)],
        }
    )


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, the result, the target, and whether it is met."""

    scenario: str
    result: str
    target: str
    met: bool


def _flags(reference: Reference, frame: pd.DataFrame, options: DriftOptions) -> set[str]:
    return set(column_drift(reference, profile_frame(frame, reference), options).drifted_columns)


def no_drift(rows: int, windows: int, options: DriftOptions, seed: int) -> tuple[int, int]:
    """Flagged (column, window) pairs out of all, on windows of an unchanged stream."""
    rng = np.random.default_rng(seed)
    reference = build_reference(stream(BASELINE_ROWS, rng), SPECS)
    flagged = sum(len(_flags(reference, stream(rows, rng), options)) for _ in range(windows))
    return flagged, windows * len(SPECS)


def detected(change: Change, column: str, rows: int, windows: int, options: DriftOptions, seed: int) -> int:
    """Windows (of ``windows``) in which the changed column is flagged."""
    rng = np.random.default_rng(seed)
    reference = build_reference(stream(BASELINE_ROWS, rng), SPECS)
    return sum(column in _flags(reference, change(stream(rows, rng), rng), options) for _ in range(windows))


def tiny_shift_at_scale(options: DriftOptions, seed: int, rows: int = 1_000_000) -> bool:
    """Whether a 0.02 sd mean shift is flagged with a million rows on both sides."""
    rng = np.random.default_rng(seed)
    specs = (FeatureSpec("normal_a", "numeric"),)
    reference = build_reference(pd.DataFrame({"normal_a": rng.normal(0, 1, rows)}), specs)
    live = pd.DataFrame({"normal_a": rng.normal(0.02, 1, rows)})
    return "normal_a" in _flags(reference, live, options)


def known_set(rows: int, options: DriftOptions, seed: int) -> tuple[str, ...]:
    """Columns flagged on the 15-column set with 6 known shifts."""
    rng = np.random.default_rng(seed)
    reference = build_reference(known_shift(rows, rng), KNOWN_SPECS)
    return tuple(sorted(_flags(reference, known_shift(rows, rng, shifted=True), options)))


def run(options: DriftOptions, quick: bool = False) -> list[Row]:
    """Every scenario of the table; ``quick`` checks the 15-column set at 10k rows only (tests/test_drift.py runs it at 1M)."""
    out: list[Row] = []
    for rows, limit in ((5_000, 0.01), (200, 0.02)):
        flagged, pairs = no_drift(rows, 50, options, seed=rows)
        share = flagged / pairs
        out.append(
            Row(
                f"no drift, 50 windows x 20 features, {rows:,} rows",
                f"{flagged} of {pairs} pairs ({share:.1%})",
                f"<= {limit:.0%}",
                share <= limit,
            )
        )
    changes = (
        ("0.1 sd mean shift", mean_shift("normal_a", 0.1, 1.0), "normal_a", 9),
        ("sd x1.1", scale("normal_b", 1.1, 50.0), "normal_b", 9),
        ("3-point shift of one category's share (30% -> 33%)", category_share(*CATEGORY_SHIFT), "cat5", 5),
    )
    for name, change, column, least in changes:
        hits = detected(change, column, 5_000, 10, options, seed=least + len(name))
        out.append(
            Row(f"{name}, 10 windows of 5,000 rows", f"{hits} of 10", f">= {least} of 10", hits >= least)
        )
    sizes = (10_000,) if quick else (10_000, 100_000, 1_000_000)
    flagged = tiny_shift_at_scale(options, seed=2)
    out.append(
        Row(
            "0.02 sd mean shift, 1,000,000 rows",
            "flagged" if flagged else "not flagged",
            "not flagged",
            not flagged,
        )
    )
    for rows in sizes:
        found = known_set(rows, options, seed=rows)
        out.append(
            Row(
                f"15 columns, 6 known shifts, {rows:,} rows",
                ", ".join(found) or "none",
                ", ".join(sorted(KNOWN)),
                found == tuple(sorted(KNOWN)),
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table; with --check, exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="the 15-column set at 10k rows only")
    parser.add_argument(
        "--rule", default="test", choices=("test", "cutoff"), help="the drift rule to measure"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = run(DriftOptions(rule=args.rule), quick=args.quick)
    print(f"| scenario (rule: {args.rule}) | result | target | met |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r.scenario} | {r.result} | {r.target} | {'yes' if r.met else 'NO'} |")
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0 if all(r.met for r in rows) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
