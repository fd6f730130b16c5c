"""Profiling a log that stays where it lives: the plan every partition of a job follows, and storing what it found.

A job (``readiness.analysis.spark_job``) reads the log in its data lake, splits it into
partitions, computes each partition's :class:`~readiness.core.day_parts.DayParts` with the plan
made here, merges them and stores them with
:func:`readiness.storage.external_store.write_external_days`. The same plan and the same pure
functions profile rows on one machine (:func:`profile_frames`), which is how tests compare the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from readiness.analysis.refresh import refresh_model
from readiness.config import timestamp_range
from readiness.core.day_parts import DayParts, PartsPlan, day_parts, merge_parts
from readiness.core.mapping import ColumnMapping, check_mapping, parse_mapping_pairs, propose_mapping
from readiness.core.records import utcnow
from readiness.errors import ExternalLogError
from readiness.storage.external_store import external_baseline, refuse_stored_log
from readiness.storage.performance_store import serving_estimator
from readiness.storage.profile_store import load_reference
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd

MERGE_EVERY = 20  # blocks a partition profiles before merging their parts (bounds its memory)


def external_plan(
    store: Store,
    model_name: str,
    columns: Sequence[str],
    pairs: Sequence[str] = (),
    label_columns: Sequence[str] | None = None,
    label_pairs: Sequence[str] = (),
    source: str = "log",
    received_at: datetime | None = None,
) -> PartsPlan:
    """The plan for profiling a model's log outside the database: its baseline's bins and estimator, the column mappings.

    The model needs an active baseline and no log stored in the database. Its refresh state is
    set up for the baseline first, so a refresh never drops the days the job writes.
    """
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise ExternalLogError(
            f"Model {model.name!r} has no baseline: the job profiles the log against the baseline's bins. "
            "Upload one first (python -m readiness ingest --kind baseline), or pass --baseline FILE."
        )
    with store.engine.connect() as conn:
        refuse_stored_log(conn, model)
    refresh_model(store, model)  # no rows here: sets the state up for the baseline and fits its estimator
    mapping = _mapping(columns, pairs, "live", source)
    labels_mapping = (
        None if label_columns is None else _mapping(label_columns, label_pairs, "labels", "labels")
    )
    return PartsPlan(
        model,
        baseline,
        load_reference(store, model, baseline),
        serving_estimator(store, model),
        mapping,
        labels_mapping,
        received_at or utcnow(),
        source,
        timestamp_range(),
    )


def _mapping(columns: Sequence[str], pairs: Sequence[str], kind: str, source: str) -> ColumnMapping:
    """The proposed mapping of these columns, with the user's ``column=role`` pairs, checked."""
    mapping = parse_mapping_pairs(pairs, propose_mapping(list(columns), kind))
    check_mapping(mapping, list(columns), kind, source)
    return mapping


def effective_since(store: Store, plan: PartsPlan, since: datetime | None) -> datetime | None:
    """``since``, unless the stored external days were profiled against another baseline: then every day is redone."""
    with store.engine.connect() as conn:
        profiled_against = external_baseline(conn, plan.model.id)
    return since if profiled_against in (None, plan.baseline.id) else None


def profile_frames(plan: PartsPlan, blocks: Iterable[tuple[pd.DataFrame, pd.DataFrame | None]]) -> DayParts:
    """The merged parts of blocks of log rows (text cells) with their joined labels: a partition's work, on one machine."""
    held = DayParts()
    pending: list[DayParts] = []
    for frame, labels in blocks:
        pending.append(day_parts(plan, frame, labels))
        if len(pending) >= MERGE_EVERY:
            held, pending = merge_parts(plan, [held, *pending]), []
    return merge_parts(plan, [held, *pending])
