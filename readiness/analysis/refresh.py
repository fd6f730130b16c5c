"""Bringing a model's stored aggregates up to date with its log: when data arrives, or on command.

Ingestion and ``log_predictions`` refresh the model they wrote to; rows a service inserted
with plain SQL are picked up by ``python -m readiness refresh`` (a scheduler runs it). Reading
never refreshes, so looking at the dashboard never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from readiness.core.records import Model
from readiness.storage.performance_store import PerformanceRefresh, refresh_performance
from readiness.storage.profile_store import RefreshResult, refresh_profiles
from readiness.storage.store import Store


@dataclass(frozen=True)
class Refreshed:
    """What one refresh of one model did: rows profiled for drift, days recomputed for performance."""

    model: str
    profiles: RefreshResult
    performance: PerformanceRefresh

    @property
    def message(self) -> str:
        """One line for people."""
        return (
            f"{self.model}: profiled {self.profiles.rows_profiled:,} new prediction(s) "
            f"({self.profiles.days_touched} day(s)); recomputed performance for "
            f"{self.performance.days_recomputed} day(s)."
        )


def refresh_model(store: Store, model: Model, progress: Callable[[int], None] | None = None) -> Refreshed:
    """Profile the model's new predictions and recompute the performance of the days new rows or labels touched."""
    return Refreshed(
        model.name, refresh_profiles(store, model, progress=progress), refresh_performance(store, model)
    )


def refresh_all(store: Store) -> tuple[Refreshed, ...]:
    """Refresh every model, by name."""
    return tuple(refresh_model(store, model) for model in store.list_models())
