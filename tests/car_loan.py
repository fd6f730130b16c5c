"""A car-loan-shaped set of files, as a data scientist would bring them (built in code, seeded).

A baseline with ``id``, ``timestamp``, seven features, ``y_pred_proba``, ``y_pred`` and the
label ``repaid``; a live log of ten months that ended more than a year ago, with the loan
amounts shifting from the middle; and a labels file ``id, repaid``. No column is named as the
log contract names it, so every role has to be proposed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2019-01-01")
DAYS, SHIFT_DAY, PER_DAY = 300, 150, 60  # 1 Jan to 27 Oct 2019; drift from 31 May 2019
BASELINE_START = pd.Timestamp("2018-01-01")


def car_loans(n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    """Seven features, a repaid label and a score that tracks it; ``shift`` scales the loan amounts."""
    income = rng.lognormal(10.5, 0.4, n)
    repaid = (rng.random(n) < 0.7).astype(int)
    score = np.clip(0.35 + 0.4 * repaid + rng.normal(0, 0.08, n), 0, 1).round(4)  # about 3% false positives
    return pd.DataFrame(
        {
            "income": income.round(2),
            "loan_amount": (rng.lognormal(9, 0.5, n) * (1 + shift)).round(2),
            "age": rng.integers(21, 70, n),
            "term_months": rng.choice([12, 24, 36, 48, 60], n),
            "employment_years": rng.integers(0, 30, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "purpose": rng.choice(["car", "home", "education"], n, p=[0.6, 0.3, 0.1]),
            "y_pred_proba": score,
            "y_pred": (score >= 0.5).astype(int),
            "repaid": repaid,
        }
    )


def car_loan_files(
    seed: int = 2019, baseline_rows: int = 3000, per_day: int = PER_DAY
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The baseline (with timestamps), the live log (without labels) and the labels file."""
    rng = np.random.default_rng(seed)
    baseline = car_loans(baseline_rows, rng)
    stamps = BASELINE_START + pd.to_timedelta(np.sort(rng.uniform(0, 365 * 24, baseline_rows)), unit="h")
    baseline.insert(0, "timestamp", stamps.strftime("%Y-%m-%d %H:%M:%S"))
    baseline.insert(0, "id", [f"b{i}" for i in range(baseline_rows)])
    days = []
    for day in range(DAYS):
        part = car_loans(per_day, rng, shift=0.8 if day >= SHIFT_DAY else 0.0)
        times = START + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(per_day) * 600, unit="s")
        part.insert(0, "timestamp", times.strftime("%Y-%m-%d %H:%M:%S"))
        part.insert(0, "id", [f"d{day}-{i}" for i in range(per_day)])
        days.append(part)
    live = pd.concat(days, ignore_index=True)
    return baseline, live.drop(columns="repaid"), live[["id", "repaid"]]
