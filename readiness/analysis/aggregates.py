"""A model's stored aggregates, decoded once per data version (profiles: once per version without labels)."""

from __future__ import annotations

from datetime import datetime

from readiness.analysis.cache import cached
from readiness.core.performance import DayRecord
from readiness.core.profiles import FrameProfile, Reference
from readiness.core.records import Baseline, Model
from readiness.storage.performance_store import day_records
from readiness.storage.profile_store import day_profiles, load_reference
from readiness.storage.store import Store


def stored_reference(store: Store, model: Model, baseline: Baseline) -> Reference:
    """The baseline's reference bins (they never read a label)."""
    return cached(
        store,
        model,
        "stored_reference",
        (baseline.id,),
        lambda: load_reference(store, model, baseline),
        reads_labels=False,
    )


def stored_profiles(
    store: Store, model: Model, baseline: Baseline
) -> tuple[tuple[datetime, FrameProfile], ...]:
    """Every stored day profile of the baseline, by day (they never read a label: a label upload keeps them)."""
    return cached(
        store,
        model,
        "stored_profiles",
        (baseline.id,),
        lambda: tuple(day_profiles(store, baseline)),
        reads_labels=False,
    )


def stored_records(store: Store, model: Model, baseline: Baseline) -> tuple[DayRecord, ...]:
    """Every stored day record of the baseline; decoding them is much of an assessment's cost, so it is paid once."""
    return cached(store, model, "stored_records", (baseline.id,), lambda: tuple(day_records(store, baseline)))
