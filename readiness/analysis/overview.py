"""The portfolio at a glance: every model's readiness, volume, time range, label coverage and freshness."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from readiness.analysis.assessment import Assessment, assess_model
from readiness.analysis.cache import cached_for_store
from readiness.core.checklist import status_words
from readiness.core.checks import column_since
from readiness.core.records import Model, utcnow
from readiness.core.status import CriteriaState, Freshness, ReadinessStatus
from readiness.storage.store import Store

LOG = logging.getLogger(__name__)

STALE_AFTER_HOURS = 24.0


@dataclass(frozen=True)
class ModelOverview:
    """One model's row on the Overview page."""

    model: Model
    n_predictions: int
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    label_coverage: float | None
    baseline_rows: int
    freshness_hours: float | None
    readiness: Assessment | None = None
    error: str = ""  # why the model could not be assessed; the portfolio goes on without it

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.name

    @property
    def task(self) -> str:
        """The model's task: binary, multiclass or regression."""
        return self.model.task

    @property
    def owner(self) -> str:
        """Who owns the model ("" when not set)."""
        return self.model.owner

    @property
    def description(self) -> str:
        """What the model does ("" when not set)."""
        return self.model.description

    @property
    def drift_text(self) -> str:
        """Drift in words, as on the Drift page: what drifts in the latest complete window and since when."""
        readiness = self.readiness
        now = readiness.drift if readiness is not None else None
        if readiness is None or now is None or now.start is None:
            return "n/a"
        drifting = [now[name] for name in now.drifting]
        features = [c for c in drifting if c.column in readiness.drifted_features]
        outputs = [c for c in drifting if c.column in readiness.drifted_outputs]
        named = ", ".join(column_since(c, now) for c in features)
        text = f"{len(features)} feature(s) drifting: {named}" if features else "no feature drifting"
        if outputs:
            text += "; " + " and ".join(column_since(c, now) for c in outputs) + " drifting"
        return f"{text} ({now.period})"

    @property
    def criteria_text(self) -> str:
        """Success criteria in words: "met", "failing: ...", "insufficient data" or "no criteria"."""
        if self.readiness is None:
            return "n/a"
        evidence = self.readiness.result("criteria_met").evidence
        period = f" ({evidence.window})" if evidence is not None and evidence.window else ""
        if self.readiness.criteria_status == CriteriaState.FAILING:
            return "failing: " + "; ".join(self.readiness.criteria_failing) + period
        return self.readiness.criteria_status.label + period

    @property
    def holding_back(self) -> str:
        """The one or two items holding the model back, in words ("" when none)."""
        if self.readiness is None:
            return ""
        return "; ".join(f"{b.item.title} ({status_words(b)})" for b in self.readiness.score.blockers)

    @property
    def freshness(self) -> Freshness:
        """No predictions yet, fresh, or stale (no prediction in a day)."""
        if self.freshness_hours is None:
            return Freshness.NO_PREDICTIONS
        if self.readiness is not None and self.readiness.config.historical:
            return Freshness.HISTORICAL
        return Freshness.STALE if self.freshness_hours > STALE_AFTER_HOURS else Freshness.FRESH

    @property
    def summary(self) -> str:
        """One line for people: volume, time range, label coverage and freshness."""
        if self.n_predictions == 0:
            base = f"baseline of {self.baseline_rows:,} rows" if self.baseline_rows else "no baseline yet"
            return f"No predictions logged yet; {base}."
        coverage = f"{self.label_coverage:.0%}" if self.label_coverage is not None else "n/a"
        span = (
            f"{self.n_predictions:,} predictions from {self.first_timestamp:%Y-%m-%d} to "
            f"{self.last_timestamp:%Y-%m-%d}; labels for {coverage}; "
        )
        if self.freshness == Freshness.HISTORICAL and self.last_timestamp is not None:
            last = self.last_timestamp
            return span + f"historical log, ends {last.day} {last:%b %Y} (judged as of its end)."
        return span + f"last prediction {self.freshness_hours:.1f} h ago ({self.freshness.label})."


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
    def status_counts(self) -> dict[ReadinessStatus, int]:
        """How many models are Ready, At risk and Not ready."""
        counts = dict.fromkeys(sorted(ReadinessStatus, key=lambda s: -s.rank), 0)
        for m in self.models:
            if m.readiness is not None:
                counts[m.readiness.score.status] += 1
        return counts

    def worst_first(self) -> tuple[ModelOverview, ...]:
        """Not ready, then At risk, then Ready; the lowest score first within a status; unassessed first."""

        def rank(model: ModelOverview) -> tuple[int, float, str]:
            if model.readiness is None:
                return (-1, -1.0, model.name)
            score = model.readiness.score
            return (
                score.status.rank,
                score.score_0_100 if score.score_0_100 is not None else -1.0,
                model.name,
            )

        return tuple(sorted(self.models, key=rank))


def portfolio_overview(
    store: Store, now: datetime | None = None, readiness: bool = True, label_coverage: bool = True
) -> Portfolio:
    """Summarize every model in the store for the Overview page, with its readiness assessment (nothing is written).

    ``readiness=False`` skips the checklist (volume, range, coverage and freshness only);
    ``label_coverage=False`` skips counting labelled predictions, a join over the whole log
    (each model's ``label_coverage`` is then None), for views that do not show it.

    >>> portfolio_overview(Store.open("sqlite:///:memory:")).models
    ()
    """
    as_of = now or utcnow()
    rows = []
    stats_of = cached_for_store(
        store, "model_stats", (label_coverage,), lambda: tuple(store.model_stats(labels=label_coverage))
    )
    for stats in stats_of:
        last = stats.last_timestamp
        hours = (as_of - last).total_seconds() / 3600 if last is not None else None
        rows.append(
            ModelOverview(
                model=stats.model,
                n_predictions=stats.n_predictions,
                first_timestamp=stats.first_timestamp,
                last_timestamp=last,
                label_coverage=stats.label_coverage,
                baseline_rows=stats.baseline_rows,
                freshness_hours=max(hours, 0.0) if hours is not None else None,
                **(_assessed(store, stats.model, now) if readiness else {}),
            )
        )
    return Portfolio(tuple(rows), as_of)


def _assessed(store: Store, model: Model, now: datetime | None) -> dict[str, Any]:
    """The model's assessment, or the reason it failed: one model's bad data never hides the others."""
    try:
        return {"readiness": assess_model(store, model, now)}
    except Exception as exc:
        LOG.exception("Assessing model %r failed", model.name)
        return {"error": f"Could not assess {model.name!r}: {type(exc).__name__}: {exc}"}
