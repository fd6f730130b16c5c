"""A model's stored aggregates, decoded once per data version for every analysis that needs them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from readiness.analysis.cache import cached
from readiness.core.performance import DayRecord
from readiness.core.profiles import FrameProfile, Reference
from readiness.core.records import Baseline, Model
from readiness.storage.performance_store import day_records
from readiness.storage.profile_store import day_profiles, load_reference
from readiness.storage.store import Store


@dataclass(frozen=True)
class StoredAggregates:
    """A baseline's reference and every stored day profile and day record."""

    reference: Reference
    profiles: tuple[tuple[datetime, FrameProfile], ...]
    records: tuple[DayRecord, ...]


def stored_aggregates(store: Store, model: Model, baseline: Baseline) -> StoredAggregates:
    """Every stored aggregate of the baseline; decoding them is most of an assessment's cost, so it is paid once."""
    return cached(
        store,
        model,
        "stored_aggregates",
        (baseline.id,),
        lambda: StoredAggregates(
            load_reference(store, model, baseline),
            tuple(day_profiles(store, baseline)),
            tuple(day_records(store, baseline)),
        ),
    )
