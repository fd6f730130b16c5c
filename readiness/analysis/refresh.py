"""Bringing a model's stored aggregates up to date with its log: when data arrives, or on command.

Ingestion and ``log_predictions`` refresh the model they wrote to; rows a service inserted
with plain SQL are picked up by ``python -m readiness refresh`` (a scheduler runs it). Reading
never refreshes, so looking at the dashboard never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from readiness.config import timestamp_range
from readiness.core.records import Model
from readiness.storage.external_store import is_external
from readiness.storage.performance_store import (
    PerformanceRefresh,
    refresh_performance,
    rows_feed,
    start_refresh,
)
from readiness.storage.profile_store import AlsoFed, RefreshResult, refresh_profiles
from readiness.storage.store import Store


@dataclass(frozen=True)
class Refreshed:
    """What one refresh of one model did: rows profiled for drift, days whose performance was merged or recomputed."""

    model: str
    profiles: RefreshResult | None
    performance: PerformanceRefresh | None
    implausible: int = 0  # stored predictions left out because their time is implausible
    error: str = ""  # why this model could not be refreshed (the others still were)
    external: bool = False  # its days come from a job over its data lake: nothing here to refresh
    days_merged: frozenset[datetime] = frozenset()  # days a service's new rows were merged into

    @property
    def performance_days(self) -> int:
        """Days whose performance records changed: new rows merged in, or recomputed for new labels."""
        return len(self.days_merged | (self.performance.days if self.performance else frozenset()))

    @property
    def message(self) -> str:
        """One line for people."""
        if self.error or self.profiles is None or self.performance is None:
            return f"{self.model}: not refreshed: {self.error}"
        if self.external:
            return (
                f"{self.model}: its log is profiled where it lives, by python -m readiness spark-profile; "
                "nothing to refresh here."
            )
        text = (
            f"{self.model}: profiled {self.profiles.rows_profiled:,} new prediction(s) "
            f"({self.profiles.days_touched} day(s)); updated performance for "
            f"{self.performance_days} day(s)."
        )
        if self.implausible:
            allowed = timestamp_range()
            text += (
                f" {self.implausible:,} stored prediction(s) have a time before {allowed.earliest:%Y-%m-%d} or more "
                f"than {allowed.ahead / pd.Timedelta(hours=1):g} hours ahead of now and are left out of every "
                "analysis: correct or delete them in the database."
            )
        return text


def refresh_model(store: Store, model: Model, progress: Callable[[int], None] | None = None) -> Refreshed:
    """Profile the model's new predictions and bring the performance of the days new rows or labels touched up to date.

    A service's new rows are read once: each chunk is profiled and its day records merged in
    one transaction; then the days new labels touched are recomputed.
    """
    with store.refreshing(model.id):  # one refresh of a model at a time: two would collide on the same days
        bounds = store.committed_bounds(model.id)  # once: on PostgreSQL it waits out the running writes
        with store.engine.connect() as conn:
            external = is_external(conn, model.id)
        baseline = store.active_baseline(model.id)
        start = None if baseline is None else start_refresh(store, model, baseline)
        merged: set[datetime] = set()
        also = (
            None
            if baseline is None or start is None or start.fresh  # a new state recomputes every day anyway
            else AlsoFed(int(start.state.prediction_watermark), rows_feed(model, baseline, start, merged))
        )
        return Refreshed(
            model.name,
            refresh_profiles(store, model, progress=progress, upto=bounds[0], also=also),
            refresh_performance(store, model, bounds=bounds, start=start),
            store.count_implausible(model.id),
            external=external,
            days_merged=frozenset(merged),
        )


def refresh_all(store: Store) -> tuple[Refreshed, ...]:
    """Refresh every model, by name; one model that fails is reported and the others are still refreshed."""
    done = []
    for model in store.list_models():
        try:
            done.append(refresh_model(store, model))
        except Exception as exc:  # a scheduled job goes on with the other models, and says why
            done.append(Refreshed(model.name, None, None, error=f"{type(exc).__name__}: {exc}"))
    return tuple(done)
