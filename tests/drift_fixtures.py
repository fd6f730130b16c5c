"""A small store whose live log drifts in one known column from a known day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from readiness import Store, ingest_csv
from tests.factories import to_csv_bytes

START = pd.Timestamp("2026-10-01")
SHIFT_DAY = 10  # amount shifts by 1.5 std from this day on
DAYS = 20
ROWS_PER_DAY = 300


def frame(n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    """Features amount (shiftable), age, region and binary outputs."""
    score = rng.uniform(0, 1, n).round(4)
    return pd.DataFrame(
        {
            "amount": (rng.normal(50, 10, n) + shift * 10).round(3),
            "age": rng.integers(18, 80, n),
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "prediction": (score >= 0.5).astype(int),
            "score": score,
        }
    )


def drifting_store(url: str, name: str = "shop") -> Store:
    """Baseline of 2000 rows, then 20 days x 300 live rows; amount shifts from day 10."""
    rng = np.random.default_rng(3)
    store = Store.open(url)
    baseline = frame(2000, rng)
    baseline["label"] = rng.integers(0, 2, 2000)
    ingest_csv(store, name, "baseline", to_csv_bytes(baseline), "baseline.csv")
    days = []
    for day in range(DAYS):
        part = frame(ROWS_PER_DAY, rng, shift=1.5 if day >= SHIFT_DAY else 0.0)
        times = START + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(ROWS_PER_DAY) * 250, unit="s")
        part.insert(0, "timestamp", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
        part.insert(1, "request_id", [f"d{day}-{i}" for i in range(ROWS_PER_DAY)])
        days.append(part)
    ingest_csv(store, name, "live", to_csv_bytes(pd.concat(days)), "live.csv")
    return store


def class_frame(
    n: int, rng: np.random.Generator, classes: tuple[str, ...], moved: tuple[str, str] | None
) -> pd.DataFrame:
    """A feature, one ``y_pred_proba_<class>`` column per class (adding up to 1) and the top class as ``y_pred``.

    ``moved`` = (to, away): half of class ``away``'s probability moves to class ``to``; no other class changes.
    """
    proba = rng.dirichlet(np.full(len(classes), 2.0), n)
    if moved is not None:
        to, away = classes.index(moved[0]), classes.index(moved[1])
        proba[:, to] += proba[:, away] / 2
        proba[:, away] /= 2
    proba = proba.round(4)
    proba[:, -1] = (1 - proba[:, :-1].sum(axis=1)).round(4)
    frame = pd.DataFrame({"amount": rng.normal(50, 10, n).round(3)})
    for i, cls in enumerate(classes):
        frame[f"y_pred_proba_{cls}"] = proba[:, i]
    frame["y_pred"] = np.asarray(classes)[proba.argmax(axis=1)]
    return frame


def class_probability_store(
    url: str, classes: tuple[str, ...], moved: tuple[str, str] | None = None, name: str = "router"
) -> Store:
    """A multiclass model logging each class's probability: baseline of 2000 rows, then 20 days x 300 live rows.

    From day 10, ``moved`` = (to, away) moves half of one class's probability to another: those
    two class probabilities drift, the others stay as they were.
    """
    rng = np.random.default_rng(5)
    store = Store.open(url)
    baseline = class_frame(2000, rng, classes, None)
    baseline["y_true"] = baseline["y_pred"]
    ingest_csv(store, name, "baseline", to_csv_bytes(baseline), "baseline.csv")
    days = []
    for day in range(DAYS):
        part = class_frame(ROWS_PER_DAY, rng, classes, moved if day >= SHIFT_DAY else None)
        times = START + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(ROWS_PER_DAY) * 250, unit="s")
        part.insert(0, "ts", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
        part.insert(1, "request_id", [f"d{day}-{i}" for i in range(ROWS_PER_DAY)])
        days.append(part)
    ingest_csv(store, name, "live", to_csv_bytes(pd.concat(days)), "live.csv")
    return store
