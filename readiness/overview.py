"""The portfolio at a glance: every model's volume, time range, label coverage and freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from readiness.store import Store, utcnow

STALE_AFTER_HOURS = 24.0


@dataclass(frozen=True)
class ModelOverview:
    """One model's row on the Overview page."""

    name: str
    task: str
    owner: str
    description: str
    n_predictions: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    label_coverage: float | None
    baseline_rows: int
    freshness_hours: float | None

    @property
    def freshness(self) -> str:
        """In words: "no predictions yet", "fresh" or "stale" (no prediction in a day)."""
        if self.freshness_hours is None:
            return "no predictions yet"
        return "stale" if self.freshness_hours > STALE_AFTER_HOURS else "fresh"

    @property
    def summary(self) -> str:
        """One line for people: volume, time range, label coverage and freshness."""
        if self.n_predictions == 0:
            return f"No predictions logged yet; baseline of {self.baseline_rows:,} rows."
        coverage = f"{self.label_coverage:.0%}" if self.label_coverage is not None else "n/a"
        return (
            f"{self.n_predictions:,} predictions from {self.first_timestamp:%Y-%m-%d} to "
            f"{self.last_timestamp:%Y-%m-%d}; labels for {coverage}; "
            f"last prediction {self.freshness_hours:.1f} h ago ({self.freshness})."
        )


@dataclass(frozen=True)
class Portfolio:
    """All models, with totals for the headline."""

    models: tuple[ModelOverview, ...]
    as_of: datetime

    @property
    def total_predictions(self) -> int:
        """Predictions logged across all models."""
        return sum(m.n_predictions for m in self.models)

    def as_frame(self) -> pd.DataFrame:
        """One row per model, with columns named for people."""
        return pd.DataFrame(
            {
                "Model": [m.name for m in self.models],
                "Task": [m.task for m in self.models],
                "Owner": [m.owner for m in self.models],
                "Predictions": [m.n_predictions for m in self.models],
                "First prediction": [m.first_timestamp for m in self.models],
                "Last prediction": [m.last_timestamp for m in self.models],
                "Label coverage": [m.label_coverage for m in self.models],
                "Hours since last prediction": [m.freshness_hours for m in self.models],
                "Freshness": [m.freshness for m in self.models],
                "Baseline rows": [m.baseline_rows for m in self.models],
            }
        )


def portfolio_overview(store: Store, now: datetime | None = None) -> Portfolio:
    """Summarize every model in the store for the Overview page.

    >>> portfolio_overview(Store.open("sqlite:///:memory:")).models
    ()
    """
    as_of = now or utcnow()
    rows = []
    for stats in store.model_stats():
        last = stats.last_timestamp
        hours = (as_of - last).total_seconds() / 3600 if last is not None else None
        rows.append(
            ModelOverview(
                name=stats.model.name,
                task=stats.model.task,
                owner=stats.model.owner,
                description=stats.model.description,
                n_predictions=stats.n_predictions,
                first_timestamp=stats.first_timestamp,
                last_timestamp=last,
                label_coverage=stats.label_coverage,
                baseline_rows=stats.baseline_rows,
                freshness_hours=max(hours, 0.0) if hours is not None else None,
            )
        )
    return Portfolio(tuple(rows), as_of)
