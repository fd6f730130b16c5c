"""Quality metrics per value of one categorical feature, from labelled raw rows.

Segments are chosen at view time, so they cannot be pre-aggregated for every feature; they
are computed from at most ``max_rows`` of the newest labelled predictions in the range.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select

from readiness import metrics as m
from readiness import schema as t
from readiness.errors import ReadinessError
from readiness.performance_store import quality_aggregate
from readiness.store import Store

MAX_ROWS = 200_000
TOP_VALUES = 10
OTHER = "(other values)"
MISSING = "(missing)"


class SegmentError(ReadinessError):
    """The chosen feature cannot be used for segments."""


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

    def as_frame(self) -> pd.DataFrame:
        """One row per segment with each metric's value."""
        return pd.DataFrame([{"Segment": s.value, "Labelled": s.n_labelled,
                              **{name: v.value for name, v in s.metrics.items()}} for s in self.segments])


def segment_features(store: Store, model_name: str) -> tuple[str, ...]:
    """The model's categorical baseline features, the ones segments can be made of."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    return tuple(f.name for f in baseline.features if f.kind == "categorical") if baseline else ()


def segment_performance(store: Store, model_name: str, feature: str, start: date | None = None,
                        end: date | None = None, max_rows: int = MAX_ROWS) -> SegmentPerformance:
    """Quality metrics per value of a categorical feature (top values, the rest pooled)."""
    model = store.get_model(model_name)
    baseline = store.active_baseline(model.id)
    choices = segment_features(store, model_name)
    if feature not in choices:
        raise SegmentError(f"{feature!r} is not a categorical feature of model {model.name!r}; "
                           f"choose one of: {', '.join(choices) or 'none (the model has no categorical features)'}.")
    frame = _labelled_rows(store, model.id, start, end, max_rows)
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


def _labelled_rows(store: Store, model_id: int, start: date | None, end: date | None, limit: int) -> pd.DataFrame:
    p, lab = t.predictions, t.labels
    label = func.coalesce(lab.c.label, p.c.label)
    query = (
        select(p.c.prediction, p.c.score, label.label("label"), p.c.features)
        .select_from(p.outerjoin(lab, (lab.c.model_id == p.c.model_id) & (lab.c.request_id == p.c.request_id)))
        .where(p.c.model_id == model_id, label.is_not(None))
        .order_by(p.c.timestamp.desc())
        .limit(limit)
    )
    if start is not None:
        query = query.where(p.c.timestamp >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        query = query.where(p.c.timestamp < datetime.combine(end, datetime.min.time()) + timedelta(days=1))
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=["prediction", "score", "label", "features"])
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame
