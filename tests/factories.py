"""Small, seeded CSV builders for tests: baseline, live and labels files as bytes.

Every builder takes a seed so a test gets the same bytes on every run, and returns the
bytes a user would upload (UTF-8, comma-separated unless ``sep`` says otherwise).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

STORE_TABLES = (
    "models",
    "predictions",
    "prediction_blocks",
    "label_blocks",
    "baselines",
    "baseline_blocks",
    "baseline_rows",
    "labels",
    "ingestions",
)
START = pd.Timestamp("2026-03-01T00:00:00Z")
REGIONS = ("north", "south", "east", "west")


def to_csv_bytes(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
    """A frame as CSV bytes without the index."""
    return frame.to_csv(index=False, sep=sep, lineterminator="\n").encode(encoding)


def binary_frame(n: int = 200, seed: int = 0, task: str = "binary") -> pd.DataFrame:
    """Features (amount, age numeric; region categorical) with prediction, score and label.

    ``task`` picks the kind of target: "binary" (0/1 plus score), "multiclass" (cat/dog/bird)
    or "regression" (a float target, no score).
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "age": rng.integers(18, 90, n),
            "region": rng.choice(REGIONS, n),
        }
    )
    if task == "binary":
        score = np.round(rng.uniform(0, 1, n), 4)
        frame["prediction"] = (score >= 0.5).astype(int)
        frame["score"] = score
        frame["label"] = rng.integers(0, 2, n)
    elif task == "multiclass":
        classes = np.array(["cat", "dog", "bird"])
        frame["prediction"] = rng.choice(classes, n)
        frame["label"] = rng.choice(classes, n)
    elif task == "regression":
        frame["prediction"] = np.round(rng.normal(100, 20, n), 3)
        frame["label"] = np.round(frame["prediction"] + rng.normal(0, 5, n), 3)
    else:
        raise ValueError(task)
    return frame


def baseline_csv(n: int = 200, seed: int = 0, task: str = "binary", sep: str = ",") -> bytes:
    """A baseline (reference) CSV for the given task."""
    return to_csv_bytes(binary_frame(n, seed, task), sep=sep)


def live_frame(
    n: int = 100,
    seed: int = 1,
    task: str = "binary",
    start: pd.Timestamp = START,
    id_prefix: str = "r",
    with_label: bool = False,
) -> pd.DataFrame:
    """A live log: the baseline's columns plus timestamp and request_id (label optional)."""
    frame = binary_frame(n, seed, task)
    if not with_label:
        frame = frame.drop(columns="label")
    times = start + pd.to_timedelta(np.arange(n) * 60, unit="s")
    frame.insert(0, "timestamp", times.strftime("%Y-%m-%dT%H:%M:%SZ"))
    frame.insert(1, "request_id", [f"{id_prefix}-{i}" for i in range(n)])
    return frame


def live_csv(n: int = 100, seed: int = 1, task: str = "binary", sep: str = ",", **kwargs) -> bytes:
    """A live prediction log CSV (timestamps one minute apart, request ids ``r-0``...)."""
    return to_csv_bytes(live_frame(n, seed, task, **kwargs), sep=sep)


def labels_csv(request_ids: Sequence[str], seed: int = 2, task: str = "binary") -> bytes:
    """A delayed-labels CSV ``request_id,label`` for the given ids."""
    rng = np.random.default_rng(seed)
    n = len(request_ids)
    if task == "binary":
        values = rng.integers(0, 2, n)
    elif task == "multiclass":
        values = rng.choice(["cat", "dog", "bird"], n)
    else:
        values = np.round(rng.normal(100, 20, n), 3)
    return to_csv_bytes(pd.DataFrame({"request_id": list(request_ids), "label": values}))


def table_counts(store) -> dict[str, int]:
    """Row counts of the tables an ingestion writes, to prove a failure wrote nothing."""
    return {name: store.count_rows(name) for name in STORE_TABLES}


def same(a, b, path="") -> None:
    """Equal, except floats that may differ in the last bits (1e-12 relative); JSON text is compared parsed."""
    if isinstance(a, str) and isinstance(b, str) and path.endswith(".data"):  # stored JSON aggregates
        a, b = json.loads(a), json.loads(b)
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and not (math.isnan(a) and math.isnan(b)):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"
