"""The day records of canonical log rows, with no database: what an upload merges in step and a Spark partition emits.

Canonical rows are what validation gives (``validate_live``): aware UTC times, typed features,
the reserved roles. :func:`read_back` puts them in the form a refresh reads stored rows in,
:func:`with_delayed_labels` joins labels that arrived later, and :func:`records_of` computes one
record per UTC day and model version. Records of the same day and version merge exactly
(:func:`readiness.core.performance.merge_records`), so any split of the rows gives the same totals.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from readiness.core import estimators, loss_estimation
from readiness.core.lazy import lazy_module
from readiness.core.performance import DayRecord, day_record, merge_records
from readiness.core.profiles import typed_log_frame
from readiness.core.records import Baseline, Model

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

DayKey = tuple[datetime, str]  # UTC day, model version ("" when rows carry none)


def read_back(frame: pd.DataFrame, feature_names: tuple[str, ...]) -> pd.DataFrame:
    """Canonical rows as a refresh reads them back: naive UTC times, version text, no delayed labels.

    A reserved column's name may also be a feature's (a feature called ``score`` in a log with
    no score mapped): the stored output is then missing, as the refresh reads it.
    """
    missing = pd.Series([None] * len(frame), index=frame.index, dtype=object)

    def stored(name: str) -> pd.Series:
        return frame[name] if name in frame and name not in feature_names else missing

    rows = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None),
            "model_version": stored("model_version").fillna("").astype(str),
            **{
                name: stored(name) for name in ("prediction", "score", "probabilities", "latency_ms", "label")
            },
        },
        index=frame.index,
    )
    rows["received_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    rows["arrived_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    return rows


def with_delayed_labels(rows: pd.DataFrame, ids: pd.Series, labels: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (from :func:`read_back`) with the delayed labels of their request ids joined, as a refresh joins them.

    ``labels``: indexed by request id, with ``label``, ``received_at`` and optionally
    ``arrived_at`` (naive UTC). A delayed label replaces the row's own.
    """
    at = labels.index.get_indexer(ids)
    matched = at >= 0
    out = rows.copy()
    label = out["label"].to_numpy(dtype=object, copy=True)
    label[matched] = labels["label"].to_numpy(dtype=object)[at[matched]]
    out["label"] = label
    for column in ("received_at", "arrived_at"):
        if column in labels:
            times = out[column].to_numpy(dtype="datetime64[us]", copy=True)
            times[matched] = labels[column].to_numpy(dtype="datetime64[us]")[at[matched]]
            out[column] = times
    return out


def records_of(
    model: Model,
    baseline: Baseline,
    estimator: estimators.Estimator | None,
    frame: pd.DataFrame,
    rows: pd.DataFrame,
) -> dict[DayKey, DayRecord]:
    """One record per UTC day and model version of ``rows`` (the read-back form of the canonical ``frame``)."""
    features = None
    if isinstance(estimator, loss_estimation.LossModel):
        features = typed_log_frame(frame[list(baseline.feature_names)], baseline.features)
        features.index = rows.index
    return records_by_day(model, baseline, estimator, rows, features)


def records_by_day(
    model: Model,
    baseline: Baseline,
    estimator: estimators.Estimator | None,
    rows: pd.DataFrame,
    features: pd.DataFrame | None = None,
) -> dict[DayKey, DayRecord]:
    """One record per UTC day and model version of raw ``rows`` (``features``: typed, for regression estimates)."""
    out: dict[DayKey, DayRecord] = {}
    for (day, version), part in rows.groupby([rows["timestamp"].dt.floor("D"), "model_version"], sort=True):
        key = (pd.Timestamp(day).to_pydatetime(), str(version))
        out[key] = day_record(model, baseline, estimator, key[0], key[1], part, features)
    return out


def merge_into(
    held: dict[DayKey, DayRecord], new: dict[DayKey, DayRecord], model: Model, baseline: Baseline
) -> None:
    """Merge ``new`` records into ``held``, day and version by day and version."""
    for key, record in new.items():
        old = held.get(key)
        held[key] = record if old is None else merge_records([old, record], model, baseline, key[0], key[1])
