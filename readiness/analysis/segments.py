"""Quality metrics per value of one categorical feature, from labelled raw rows.

Segments are chosen at view time, so they cannot be pre-aggregated for every feature; they
are computed from at most ``max_rows`` of the newest labelled predictions in the range.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from readiness.analysis.cache import cached
from readiness.core import metrics as m
from readiness.core.performance import quality_aggregate
from readiness.core.records import Model
from readiness.core.windows import date_range
from readiness.errors import SegmentError
from readiness.storage.samples import newest_labelled_rows
from readiness.storage.store import Store

MAX_ROWS = 200_000
TOP_VALUES = 10
OTHER = "(other values)"
MISSING = "(missing)"


@dataclass(frozen=True)
class Segment:
    """One value of the feature with its labelled rows and metrics."""

    value: str
    n_labelled: int
    metrics: Mapping[str, m.MetricValue]


@dataclass(frozen=True)
class SegmentPerformance:
    """Quality metrics per segment; ``capped`` when only the newest rows were used."""

    feature: str
    segments: tuple[Segment, ...]
    rows_used: int
    capped: bool


def segment_features(store: Store, model: Model) -> tuple[str, ...]:
    """The model's categorical baseline features, the ones segments can be made of."""
    baseline = store.active_baseline(model.id)
    return tuple(f.name for f in baseline.features if f.kind == "categorical") if baseline else ()


def segment_performance(
    store: Store,
    model: Model,
    feature: str,
    start: date | None = None,
    end: date | None = None,
    max_rows: int = MAX_ROWS,
) -> SegmentPerformance:
    """Quality metrics per value of a categorical feature (top values, the rest pooled)."""
    args = (feature, start, end, max_rows)
    return cached(store, model, "segment_performance", args, lambda: _segments(store, model, *args))


def _segments(
    store: Store, model: Model, feature: str, start: date | None, end: date | None, max_rows: int
) -> SegmentPerformance:
    baseline = store.active_baseline(model.id)
    choices = segment_features(store, model)
    if baseline is None or feature not in choices:
        raise SegmentError(
            f"{feature!r} is not a categorical feature of model {model.name!r}; "
            f"choose one of: {', '.join(choices) or 'none (the model has no categorical features)'}."
        )
    lo, hi = date_range(start, end)
    frame = newest_labelled_rows(store, model.id, lo, hi, max_rows)
    values = frame["features"].map(lambda text: json.loads(text).get(feature))
    values = values.map(lambda v: MISSING if v is None else str(v))
    top = values.value_counts().index[:TOP_VALUES]
    groups = values.where(values.isin(top), OTHER)
    names = [n for n in m.metrics_for_task(model.task) if m.LatencyAggregate not in m.METRICS[n].aggregates]
    segments = []
    for value, part in frame.groupby(groups, sort=False):
        aggregate = quality_aggregate(model, baseline, part)
        segments.append(Segment(str(value), len(part), {n: m.compute_metric(n, aggregate) for n in names}))
    segments.sort(key=lambda s: (s.value == OTHER, -s.n_labelled))
    return SegmentPerformance(feature, tuple(segments), len(frame), len(frame) >= max_rows)
