"""The portfolio at a glance: every model's readiness, volume, time range, label coverage and freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from readiness.assessment import Assessment, assess_model
from readiness.checklist import SECTIONS, status_words
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
    readiness: Assessment | None = None

    @property
    def drift_text(self) -> str:
        """Drift in words: which columns drift in the newest week, "no drift", or "n/a"."""
        if self.readiness is None or self.readiness.recent is None:
            return "n/a"
        drifted, outputs = self.readiness.drifted_features, self.readiness.drifted_outputs
        text = f"{len(drifted)} feature(s) drifting: {', '.join(drifted)}" if drifted else "no feature drift"
        return text + (f"; {' and '.join(outputs)} drifting" if outputs else "")

    @property
    def criteria_text(self) -> str:
        """Success criteria in words: "met", "failing: ...", "insufficient data" or "no criteria"."""
        if self.readiness is None:
            return "n/a"
        if self.readiness.criteria_status == "failing":
            return "failing: " + "; ".join(self.readiness.criteria_failing)
        return self.readiness.criteria_status

    @property
    def holding_back(self) -> str:
        """The one or two items holding the model back, in words ("" when none)."""
        if self.readiness is None:
            return ""
        return "; ".join(f"{b.item.title} ({status_words(b)})" for b in self.readiness.score.blockers)

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
            base = f"baseline of {self.baseline_rows:,} rows" if self.baseline_rows else "no baseline yet"
            return f"No predictions logged yet; {base}."
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

    @property
    def status_counts(self) -> dict[str, int]:
        """How many models are Ready, At risk and Not ready."""
        counts = {"Ready": 0, "At risk": 0, "Not ready": 0}
        for m in self.models:
            if m.readiness is not None:
                counts[m.readiness.score.status] += 1
        return counts

    def as_frame(self) -> pd.DataFrame:
        """One row per model, with columns named for people (readiness columns when assessed)."""
        readiness = {}
        if any(m.readiness is not None for m in self.models):
            readiness = {
                "Status": [m.readiness.score.status if m.readiness else None for m in self.models],
                "Score": [m.readiness.score.score_0_100 if m.readiness else None for m in self.models],
                **{f"{section.capitalize()} section": [m.readiness.section_percent(section) if m.readiness else None
                                                       for m in self.models] for section in SECTIONS},
                "Holding it back": [m.holding_back for m in self.models],
                "Drift": [m.drift_text for m in self.models],
                "Criteria": [m.criteria_text for m in self.models],
            }
        return pd.DataFrame(
            {
                "Model": [m.name for m in self.models],
                **readiness,
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


def portfolio_overview(store: Store, now: datetime | None = None, readiness: bool = True) -> Portfolio:
    """Summarize every model in the store for the Overview page, with its readiness assessment.

    ``readiness=False`` skips the checklist (volume, range, coverage and freshness only).

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
                readiness=assess_model(store, stats.model.name, now) if readiness else None,
            )
        )
    return Portfolio(tuple(rows), as_of)
