"""A small, healthy binary model built in code, for checklist and gate tests.

Scores are calibrated probabilities of the label, features do not drift, every row carries
a version and a latency, labels arrive inline, and the model has its own criteria: every
automatic item passes, so a test can break exactly one thing and see exactly one failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import insert

from readiness import Store, ingest_csv
from readiness.analysis.settings import add_criterion, parse_criterion
from readiness.storage import schema as t
from tests.factories import to_csv_bytes

START = datetime(2026, 10, 1)
DAYS = 42
ROWS_PER_DAY = 150
NOW = START + timedelta(days=DAYS, hours=9)  # the morning after the last logged day
BASELINE_ROWS = 3000


def model_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Features, a calibrated score, the prediction at 0.5 and a label drawn from the score."""
    amount = rng.lognormal(3.5, 0.8, n).round(2)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    logit = -1.0 + 0.9 * (np.log(amount) - 3.5) / 0.8 + np.where(region == "west", 1.0, 0.0)
    score = (1 / (1 + np.exp(-logit))).round(4)
    return pd.DataFrame(
        {
            "amount": amount,
            "region": region,
            "prediction": (score >= 0.5).astype(int),
            "score": score,
            "label": (rng.random(n) < score).astype(int),
        }
    )


def live_frame(rng: np.random.Generator, days: int = DAYS, start: datetime = START) -> pd.DataFrame:
    """``days`` days of ``ROWS_PER_DAY`` rows with timestamps, ids, version and latency."""
    parts = []
    for day in range(days):
        part = model_frame(ROWS_PER_DAY, rng)
        times = pd.Timestamp(start + timedelta(days=day)) + pd.to_timedelta(
            np.sort(rng.integers(0, 86_400, ROWS_PER_DAY)), unit="s"
        )
        part.insert(0, "timestamp", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
        part.insert(1, "request_id", [f"d{day}-{i}" for i in range(ROWS_PER_DAY)])
        part["model_version"] = "1.0.0"
        part["latency_ms"] = rng.lognormal(np.log(40), 0.3, ROWS_PER_DAY).round(1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def healthy_store(url: str | Store, name: str = "shop", seed: int = 5) -> Store:
    """A store (opened at ``url``, or the one given) with one healthy binary model and its own criteria."""
    rng = np.random.default_rng(seed)
    store = url if isinstance(url, Store) else Store.open(url)
    ingest_csv(store, name, "baseline", to_csv_bytes(model_frame(BASELINE_ROWS, rng)), "baseline.csv")
    ingest_csv(store, name, "live", to_csv_bytes(live_frame(rng)), "live.csv")
    for text in ("roc_auc >= 0.6 per week min 100", "latency_p95 <= 200 per week"):
        add_criterion(store, store.get_model(name), parse_criterion(text), actor="test")
    return store


def insert_raw(store: Store, name: str, rows: list[dict]) -> None:
    """Append rows the way a service would with plain SQL (no validation), e.g. a broken schema."""
    model = store.get_model(name)
    with store.begin() as conn:
        conn.execute(insert(t.predictions), [{"model_id": model.id, **row} for row in rows])
