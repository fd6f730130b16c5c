"""A log's per-day aggregates as mergeable parts: what one Spark partition computes from its rows.

The parts of any split of a log merge into the parts of the whole: day profiles and day records
add (:func:`readiness.core.profiles.merge`, :func:`readiness.core.performance.merge_records`),
day totals add, and each day's sample is a bottom-k sample (the rows with the smallest hashes of
their request id or content), so the union of two samples cut to k is the sample of the union.
The rows go through the same validation and the same profiling and aggregation functions as an
upload, so a day computed here equals the day an upload of the same rows stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.config import TimestampRange
from readiness.core import estimators
from readiness.core.day_profiles import profile_days, profile_input, utc_days
from readiness.core.day_records import DayKey, merge_into, read_back, records_of, with_delayed_labels
from readiness.core.lazy import lazy_module
from readiness.core.mapping import ColumnMapping
from readiness.core.performance import DayRecord
from readiness.core.profiles import FrameProfile, Reference, merge
from readiness.core.records import Baseline, Model, features_to_json
from readiness.core.validate import DEFAULT_RANGE, validate_labels, validate_live

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

SAMPLE_PER_DAY = 500  # rows of each day kept for the checks that need raw rows (schema, multivariate)
SampleRow = tuple[int, str, str]  # hash, naive UTC time (ISO, to the microsecond), feature JSON


@dataclass(frozen=True)
class PartsPlan:
    """What every partition needs to compute its parts: the model, its baseline's bins and estimator, the mapping."""

    model: Model
    baseline: Baseline
    reference: Reference
    estimator: estimators.Estimator | None
    mapping: ColumnMapping  # the log's columns to roles
    labels_mapping: ColumnMapping | None = None  # the joined labels' columns (request_id, label, label_time)
    received_at: datetime | None = None  # when labels without a stated time count as arrived (naive UTC)
    source: str = "log"  # names the data in messages
    allowed: TimestampRange = DEFAULT_RANGE
    sample_per_day: int = SAMPLE_PER_DAY
    since: datetime | None = (
        None  # rows of earlier UTC days are left out (a run that redoes days from then on)
    )


@dataclass(frozen=True)
class DayTotal:
    """Rows of one UTC day: how many, how many labelled, the first and last time."""

    n_rows: int
    n_labelled: int
    first: datetime
    last: datetime

    def __add__(self, other: DayTotal) -> DayTotal:
        return DayTotal(
            self.n_rows + other.n_rows,
            self.n_labelled + other.n_labelled,
            min(self.first, other.first),
            max(self.last, other.last),
        )


@dataclass(frozen=True)
class DayParts:
    """Per-day profiles, records (per day and version), totals and samples of some rows of a log."""

    profiles: Mapping[datetime, FrameProfile] = field(default_factory=dict)
    records: Mapping[DayKey, DayRecord] = field(default_factory=dict)
    totals: Mapping[datetime, DayTotal] = field(default_factory=dict)
    samples: Mapping[datetime, tuple[SampleRow, ...]] = field(default_factory=dict)

    @property
    def days(self) -> tuple[datetime, ...]:
        """The days these parts cover, in order."""
        return tuple(sorted(self.totals))

    @property
    def n_rows(self) -> int:
        """Rows these parts cover."""
        return sum(t.n_rows for t in self.totals.values())


def day_parts(plan: PartsPlan, frame: pd.DataFrame, labels: pd.DataFrame | None = None) -> DayParts:
    """The parts of a block of log rows as read from a file (text cells), validated as an upload validates them.

    ``labels``: the block's delayed labels as read (text cells, the labels mapping's columns),
    one row per labelled request id of the block; validated as a label upload validates them.

    Raises DataValidationError naming the bad column and value, as an upload does.
    """
    valid = validate_live(
        frame, plan.mapping, plan.model.task, plan.baseline, plan.source, plan.allowed
    ).frame
    days = utc_days(valid["timestamp"])
    if plan.since is not None:
        kept = days >= np.datetime64(plan.since, "us")
        valid, days = valid[kept], days[kept]
    if valid.empty:
        return DayParts()
    typed = profile_input(valid, plan.reference, plan.baseline.feature_names)
    profiles = {
        pd.Timestamp(day).to_pydatetime(): profile
        for day, profile in profile_days(typed, plan.reference, days).items()
    }
    rows = read_back(valid, plan.baseline.feature_names)
    if labels is not None and not labels.empty and "request_id" in valid:
        rows = with_delayed_labels(rows, valid["request_id"], _valid_labels(plan, labels))
    records = records_of(plan.model, plan.baseline, plan.estimator, valid, rows)
    return DayParts(profiles, records, _totals(rows, days), _samples(plan, valid, days))


def _valid_labels(plan: PartsPlan, labels: pd.DataFrame) -> pd.DataFrame:
    """Joined delayed labels validated as a label upload's, indexed by request id, with their arrival times."""
    if plan.labels_mapping is None:
        raise ValueError("labels were given without a labels mapping in the plan")
    known = plan.baseline.classes if plan.model.task != "regression" else None
    valid = validate_labels(labels, plan.labels_mapping, plan.model.task, known, plan.allowed)
    received = plan.received_at or datetime(1970, 1, 1)
    valid["received_at"] = pd.Series(received, index=valid.index).astype("datetime64[us]")
    if "arrived_at" not in valid:
        valid["arrived_at"] = pd.Series(pd.NaT, index=valid.index, dtype="datetime64[us]")
    return valid.drop_duplicates("request_id", keep="last").set_index("request_id")


def _totals(rows: pd.DataFrame, days: np.ndarray) -> dict[datetime, DayTotal]:
    """Rows, labelled rows and first and last time per day."""
    grouped = (
        pd.DataFrame(
            {"day": days, "time": rows["timestamp"].to_numpy(), "labelled": rows["label"].notna().to_numpy()}
        )
        .groupby("day", sort=True)
        .agg(n=("time", "size"), labelled=("labelled", "sum"), first=("time", "min"), last=("time", "max"))
    )
    return {
        pd.Timestamp(day).to_pydatetime(): DayTotal(
            int(g.n),
            int(g.labelled),
            pd.Timestamp(g.first).to_pydatetime(),
            pd.Timestamp(g.last).to_pydatetime(),
        )
        for day, g in grouped.iterrows()
    }


def _samples(plan: PartsPlan, valid: pd.DataFrame, days: np.ndarray) -> dict[datetime, tuple[SampleRow, ...]]:
    """Each day's bottom-k sample: the rows with the smallest hashes of their request id (or, without one, their values).

    Only the kept rows are encoded as JSON: hashing is the per-row cost.
    """
    names = list(plan.baseline.feature_names)
    ids = valid.get("request_id")
    has_id = np.zeros(len(valid), dtype=bool) if ids is None else ids.notna().to_numpy()
    keys = np.zeros(len(valid), dtype=np.uint64)
    if has_id.any():
        keys[has_id] = pd.util.hash_pandas_object(ids[has_id], index=False).to_numpy()
    if not has_id.all():  # a row without an id: its values (rows alike in their features differ in time)
        keys[~has_id] = pd.util.hash_pandas_object(
            valid.loc[~has_id, [*names, "timestamp"]], index=False
        ).to_numpy()
    order = np.lexsort((keys, days))
    day_sorted = days[order]
    first = np.searchsorted(day_sorted, day_sorted, side="left")
    kept = order[np.arange(len(order)) - first < plan.sample_per_day]  # the k smallest hashes of each day
    rows = valid.iloc[kept]
    texts = features_to_json(rows[names])
    times = (
        pd.to_datetime(rows["timestamp"], utc=True).dt.tz_localize(None).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    )
    out: dict[datetime, list[SampleRow]] = {}
    for day, key, time, text in zip(days[kept], keys[kept].tolist(), times.tolist(), texts, strict=True):
        out.setdefault(pd.Timestamp(day).to_pydatetime(), []).append((int(key), time, text))
    return {day: tuple(rows) for day, rows in out.items()}


def merge_payloads(plan: PartsPlan, kind: str, day: str, version: str, a: str, b: str) -> str:
    """Two payloads of the same kind, day and version (from :func:`part_rows`) merged into one (a Spark reduce step)."""
    merged = merge_parts(plan, [_part_of_row(kind, day, version, a), _part_of_row(kind, day, version, b)])
    return next(text for k, _, _, text in part_rows(merged) if k == kind)


def merge_parts(plan: PartsPlan, parts: Iterable[DayParts]) -> DayParts:
    """The parts of the union of the rows the given parts cover."""
    profiles: dict[datetime, FrameProfile] = {}
    records: dict[DayKey, DayRecord] = {}
    totals: dict[datetime, DayTotal] = {}
    samples: dict[datetime, list[SampleRow]] = {}
    for part in parts:
        for day, profile in part.profiles.items():
            held = profiles.get(day)
            profiles[day] = profile if held is None else merge(held, profile)
        merge_into(records, dict(part.records), plan.model, plan.baseline)
        for day, total in part.totals.items():
            held_total = totals.get(day)
            totals[day] = total if held_total is None else held_total + total
        for day, rows in part.samples.items():
            samples.setdefault(day, []).extend(rows)
    return DayParts(
        profiles,
        records,
        totals,
        {day: tuple(sorted(rows)[: plan.sample_per_day]) for day, rows in samples.items()},
    )


PART_KINDS = ("profile", "record", "total", "sample")


def part_rows(parts: DayParts) -> Iterator[tuple[str, str, str, str]]:
    """The parts as rows of text (kind, day, version, JSON), for a Spark job to collect; :func:`parts_from_rows` reads them."""
    for day, profile in parts.profiles.items():
        yield "profile", day.isoformat(), "", json.dumps(profile.to_dict())
    for (day, version), record in parts.records.items():
        payload = {"n_rows": record.n_rows, "n_labelled": record.n_labelled, "data": record.to_json()}
        yield "record", day.isoformat(), version, json.dumps(payload)
    for day, total in parts.totals.items():
        payload = {
            "n_rows": total.n_rows,
            "n_labelled": total.n_labelled,
            "first": total.first.isoformat(),
            "last": total.last.isoformat(),
        }
        yield "total", day.isoformat(), "", json.dumps(payload)
    for day, rows in parts.samples.items():
        yield "sample", day.isoformat(), "", json.dumps([[str(h), time, text] for h, time, text in rows])


def parts_from_rows(plan: PartsPlan, rows: Iterable[tuple[str, str, str, str]]) -> DayParts:
    """Parts read back from :func:`part_rows`' rows (of any number of partitions), merged."""
    return merge_parts(plan, (_part_of_row(kind, day, version, text) for kind, day, version, text in rows))


def _part_of_row(kind: str, day_text: str, version: str, text: str) -> DayParts:
    day = datetime.fromisoformat(day_text)
    data: Any = json.loads(text)
    if kind == "profile":
        return DayParts(profiles={day: FrameProfile.from_dict(data)})
    if kind == "record":
        record = DayRecord.from_json(day, version, int(data["n_rows"]), int(data["n_labelled"]), data["data"])
        return DayParts(records={(day, version): record})
    if kind == "total":
        first, last = (datetime.fromisoformat(data[k]) for k in ("first", "last"))
        return DayParts(totals={day: DayTotal(int(data["n_rows"]), int(data["n_labelled"]), first, last)})
    if kind == "sample":
        return DayParts(samples={day: tuple((int(h), str(time), str(text)) for h, time, text in data)})
    raise ValueError(f"unknown part kind {kind!r}: expected one of {', '.join(PART_KINDS)}")
