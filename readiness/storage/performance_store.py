"""Stored performance aggregates: one record per model, baseline, UTC day and model version.

Labels arrive days late, so a refresh finds the days touched by new predictions (past one
watermark) and by new or corrected labels (past another) and recomputes just those days from
raw rows, which also makes corrected labels exact. Refreshes run when data arrives (ingest,
``log_predictions``) or from ``python -m readiness refresh``; reading never refreshes.
Uploads do their own part in the transaction that stores them: a live upload merges its rows'
records (:class:`InStep`), a label upload its labels' (:class:`LabelStep`), so the refresh after
them has nothing of theirs to read back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, select, update

from readiness.core import estimation, estimators, loss_estimation, multiclass_estimation
from readiness.core.day_records import merge_into, read_back, records_by_day, records_of, with_delayed_labels
from readiness.core.lazy import lazy_module
from readiness.core.performance import DayRecord, label_record, merge_records
from readiness.core.probabilities import probability_matrix
from readiness.core.profiles import typed_log_frame
from readiness.core.records import Baseline, Model, features_from_json, features_to_json, utcnow
from readiness.storage import log_blocks
from readiness.storage import schema as t
from readiness.storage.sql import (
    LABELLED_LOG,
    effective_label,
    parse_times,
    plausible_time,
    result_frame,
    stored_time,
    utc_day,
)
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

RUN_DAYS = 14  # consecutive days read in one query when a refresh recomputes them
RUN_ROWS = 250_000  # and at most this many rows (a busier day is read alone)


@dataclass(frozen=True)
class PerformanceRefresh:
    """What one refresh recomputed (``days``: those days; days new rows were merged into are not among them)."""

    model: str
    days_recomputed: int
    rebuilt: bool
    prediction_watermark: int = 0
    label_watermark: int = 0
    days: frozenset[datetime] = frozenset()


def baseline_outputs(store: Store, baseline: Baseline) -> pd.DataFrame:
    """The baseline's prediction, score, label and class probabilities columns (no features)."""
    blocked = store.baseline_blocks(baseline, (), ("prediction", "score", "label", "probabilities"))
    if blocked is not None:
        return blocked
    b = t.baseline_rows
    query = select(b.c.prediction, b.c.score, b.c.label, b.c.probabilities).where(
        b.c.baseline_id == baseline.id
    )
    with store.engine.connect() as conn:
        frame = result_frame(conn.execute(query), ["prediction", "score", "label", "probabilities"])
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame


# the state of a baseline that cannot give an estimator ("" would mean: never fitted)
NO_ESTIMATOR = json.dumps({"kind": "none"})


def fit_baseline_estimator(store: Store, model: Model, baseline: Baseline) -> estimators.Estimator | None:
    """The label-free estimator of the model's task fitted on the baseline's labelled rows (None if it cannot be).

    Binary: a score calibrator; multiclass: one calibrator per class, from the class
    probabilities; regression: an error model of the features and the prediction.
    """
    if model.task == "regression":
        return _loss_model(baseline, store.read_baseline(baseline))
    return _output_estimator(model, baseline, baseline_outputs(store, baseline))


def _loss_model(baseline: Baseline, rows: pd.DataFrame) -> loss_estimation.LossModel | None:
    """The regression error model fitted on the labelled rows with numeric labels and predictions."""
    labelled = rows[rows["label"].notna()].reset_index(drop=True)
    numeric = (
        pd.to_numeric(labelled["label"], errors="coerce").notna()
        & pd.to_numeric(labelled["prediction"], errors="coerce").notna()
    )
    if not numeric.any():
        return None
    features = typed_log_frame(labelled, baseline.features)
    return loss_estimation.fit_loss_model(
        features, labelled["prediction"].to_numpy(), labelled["label"].to_numpy(), baseline.features
    )


def _output_estimator(model: Model, baseline: Baseline, outputs: pd.DataFrame) -> estimators.Estimator | None:
    """A classifier's calibrators from its baseline outputs (numeric score, label, class probabilities)."""
    if model.task == "multiclass":
        probabilities = probability_matrix(outputs["probabilities"], baseline.classes)
        usable = ~pd.isna(probabilities).any(axis=1) & outputs["label"].notna().to_numpy()
        if not usable.any():
            return None
        return multiclass_estimation.fit_class_calibrators(
            probabilities[usable], outputs["label"].to_numpy()[usable], baseline.classes
        )
    labelled = outputs[outputs["score"].notna() & outputs["label"].notna()]
    if labelled.empty:
        return None
    return estimation.fit_calibrator(
        labelled["score"].to_numpy(), labelled["label"].to_numpy(), model.positive_class
    )


def baseline_estimator(store: Store, model: Model, baseline: Baseline) -> estimators.Estimator | None:
    """The label-free estimator the last refresh fitted on this baseline (None: none yet, or none possible)."""
    with store.engine.connect() as conn:
        state = conn.execute(
            select(t.perf_state.c.calibrator).where(
                t.perf_state.c.model_id == model.id, t.perf_state.c.baseline_id == baseline.id
            )
        ).first()
    return stored_estimator(state.calibrator) if state is not None else None


def serving_estimator(store: Store, model: Model) -> estimators.Estimator | None:
    """The label-free estimator of the model's refresh state (fitted on its active baseline by the first refresh)."""
    with store.engine.connect() as conn:
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
    return None if state is None else stored_estimator(state.calibrator)


def stored_estimator(text: str) -> estimators.Estimator | None:
    """The estimator a refresh state holds (None: none could be fitted)."""
    if not text:
        return None
    data = json.loads(text)
    return None if data.get("kind") == "none" else estimators.estimator_from_dict(data)


@dataclass(frozen=True)
class RefreshStart:
    """The refresh state serving the active baseline, as a refresh found or made it.

    ``rebuilt``: an older baseline's aggregates were dropped; ``fresh``: the state is new, so
    every day is recomputed.
    """

    state: Any
    rebuilt: bool
    fresh: bool

    @property
    def estimator(self) -> estimators.Estimator | None:
        """The label-free estimator the state holds."""
        return stored_estimator(self.state.calibrator)


def start_refresh(store: Store, model: Model, baseline: Baseline) -> RefreshStart:
    """The refresh state serving ``baseline`` (set up, its estimator fitted, when there is none)."""
    return RefreshStart(*_state(store, model, baseline))


def refresh_performance(
    store: Store,
    model: Model,
    progress: Callable[[int, int], None] | None = None,
    bounds: tuple[int | None, int | None] | None = None,
    start: RefreshStart | None = None,
) -> PerformanceRefresh:
    """Recompute the days touched by new predictions or labels since the last refresh (up to Store.committed_bounds).

    ``start``: the state :func:`start_refresh` gave, when rows were merged from it meanwhile
    (:func:`rows_feed`); its watermarks are read again.
    """
    baseline = store.active_baseline(model.id)
    if baseline is None:
        return PerformanceRefresh(model.name, 0, False)
    if start is None:
        start = start_refresh(store, model, baseline)
    with store.engine.connect() as conn:
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).one()
    days, prediction_mark, label_mark = _touched_days(store, model.id, state, bounds, start.fresh)
    estimator = stored_estimator(state.calibrator)
    done = 0
    ordered = sorted(days)
    known = _labels_for_blocks(store, model.id) if ordered else None
    for run in _runs(ordered, counts=_day_counts(store, model.id, ordered)):  # reads of bounded size
        _recompute_days(store, model, baseline, estimator, run, known, upto_id=prediction_mark)
        done += len(run)
        if progress is not None:
            progress(done, len(days))
    state_c = t.perf_state.c
    with store.begin() as conn:  # forward only: another process's refresh may have merged further meanwhile
        for column, mark in (
            (state_c.prediction_watermark, prediction_mark),
            (state_c.label_watermark, label_mark),
        ):
            conn.execute(
                update(t.perf_state)
                .where(state_c.model_id == model.id, column < mark)
                .values({column.name: mark, "updated_at": utcnow()})
            )
    return PerformanceRefresh(
        model.name, len(days), start.rebuilt, prediction_mark, label_mark, frozenset(days)
    )


def rows_feed(
    model: Model, baseline: Baseline, start: RefreshStart, merged: set[datetime]
) -> Callable[[Connection, pd.DataFrame, int, int], None]:
    """What merges the day records of a service's new rows, as a profile refresh reads them, into the stored days.

    The records of the new rows alone are merged into each day's stored ones (counts and sums
    add), so the work is the new rows', not their days'; the prediction watermark moves in the
    same transaction. Days that new labels touch are still recomputed whole by the refresh.
    The days merged into are added to ``merged``.
    """
    estimator = start.estimator

    def merge(conn: Connection, rows: pd.DataFrame, old: int, new: int) -> None:
        if not _move_prediction_watermark(conn, model.id, old, new):
            return  # another refresh took these rows: it recomputes their days whole
        records = records_by_day(model, baseline, estimator, rows, _features_for(estimator, rows, baseline))
        _merge_stored(conn, model, baseline, records)
        merged.update(day for day, _ in records)

    return merge


def _state(store: Store, model: Model, baseline: Baseline) -> tuple[Any, bool, bool]:
    """The refresh state serving the baseline, whether an older baseline's was dropped, and whether it is new.

    A new state recomputes every day, the uploaded blocks' days included; from then on uploads
    merge their own blocks' records.
    """
    with store.engine.connect() as conn:
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
    if _serves(state, model, baseline):
        return state, False, False
    replaced = state is not None  # an older baseline's aggregates are being dropped
    estimator = fit_baseline_estimator(store, model, baseline)
    with store.begin() as conn:
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
        if _serves(state, model, baseline):  # a concurrent refresh set it up while this one fitted
            return state, False, False
        _restart_state(conn, model, baseline, estimator)
        state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).one()
    return state, replaced, True


def _serves(state: Any, model: Model, baseline: Baseline) -> bool:
    """The stored state is this baseline's and has its estimator (else the aggregates are rebuilt)."""
    return state is not None and state.baseline_id == baseline.id and not _predates_estimates(model, state)


def _predates_estimates(model: Model, state: Any) -> bool:
    """A multiclass or regression state from before their estimates (its days are recomputed once)."""
    return model.task != "binary" and not state.calibrator


def _estimator_text(model: Model, estimator: estimators.Estimator | None) -> str:
    if estimator is not None:
        return json.dumps(estimator.to_dict())
    return "" if model.task == "binary" else NO_ESTIMATOR


def _touched_days(
    store: Store,
    model_id: int,
    state: Any,
    bounds: tuple[int | None, int | None] | None = None,
    fresh: bool = False,
) -> tuple[set[datetime], int, int]:
    """UTC days with predictions past the watermark or labels past the label watermark (``fresh``: every block day too).

    New labels of uploaded block rows are found by their request ids in the blocks.
    """
    p, lab = t.predictions, t.labels
    rows_upto, labels_upto = bounds or store.committed_bounds(model_id)  # later rows are the next refresh's
    day = utc_day(p.c.timestamp)
    rows_query = (
        select(day, func.max(p.c.id))
        .where(p.c.model_id == model_id, p.c.id > state.prediction_watermark, plausible_time(p.c.timestamp))
        .group_by(day)
    )
    labels_query = (
        select(day, func.max(lab.c.id))
        .select_from(LABELLED_LOG)
        .where(lab.c.model_id == model_id, lab.c.id > state.label_watermark, plausible_time(p.c.timestamp))
        .group_by(day)
    )
    if rows_upto is not None and labels_upto is not None:
        rows_query = rows_query.where(p.c.id <= rows_upto)
        labels_query = labels_query.where(lab.c.id <= labels_upto)
    with store.engine.connect() as conn:  # one row per day, however many rows arrived
        new_rows = conn.execute(rows_query).all()
        new_labels = conn.execute(labels_query).all()
        blocks = log_blocks.block_infos(conn, model_id)
        block_days: set[datetime] = set()
        label_mark = max((i for _, i in new_labels), default=state.label_watermark)
        if fresh:
            block_days = {day for info in blocks for day in info.days}
        elif blocks:
            ids, newest = _new_label_ids(conn, model_id, state.label_watermark, labels_upto)
            block_days = log_blocks.days_of_ids(conn, model_id, ids)
            label_mark = max(label_mark, newest if block_days else label_mark)
    days = (
        {_from_day(d) for d, _ in new_rows}
        | {_from_day(d) for d, _ in new_labels if d is not None}
        | block_days
    )
    prediction_mark = max((i for _, i in new_rows), default=state.prediction_watermark)
    return days, prediction_mark, label_mark


def _new_label_ids(
    conn: Connection, model_id: int, watermark: int, upto: int | None
) -> tuple[list[str], int]:
    """Request ids of the model's labels past the watermark (up to ``upto``), and the newest label id among them."""
    lab = t.labels.c
    query = select(lab.request_id, lab.id).where(lab.model_id == model_id, lab.id > watermark)
    if upto is not None:
        query = query.where(lab.id <= upto)
    rows = conn.execute(query).all()
    return [r for r, _ in rows], max((i for _, i in rows), default=watermark)


def _from_day(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d")


def day_rows(
    store: Store,
    model_id: int,
    start: datetime,
    end: datetime,
    with_features: bool = False,
    conn: Connection | None = None,
    known: pd.DataFrame | None = None,
    upto_id: int | None = None,
) -> pd.DataFrame:
    """Raw outputs of the model's predictions in [start, end), with their effective labels (and feature JSON).

    ``upto_id``: a service's rows up to this id only (the prediction watermark the records
    are to hold; later rows are merged into them by the refresh that reads them).
    """
    p, lab = t.predictions, t.labels
    query = (
        select(
            stored_time(p.c.timestamp),
            p.c.model_version,
            p.c.prediction,
            p.c.score,
            p.c.probabilities,
            p.c.latency_ms,
            effective_label().label("label"),
            stored_time(lab.c.received_at),
            stored_time(lab.c.arrived_at),
            *([p.c.features] if with_features else []),
        )
        .select_from(LABELLED_LOG)
        .where(p.c.model_id == model_id, p.c.timestamp >= start, p.c.timestamp < end)
    )
    if upto_id is not None:
        query = query.where(p.c.id <= upto_id)
    with store._conn(conn) as c:
        frame = result_frame(c.execute(query), list(query.selected_columns.keys()), as_objects=("features",))
        blocked = _block_day_rows(store, c, model_id, start, end, with_features, known)
    frame["model_version"] = frame["model_version"].fillna("").astype(str)
    for column in ("timestamp", "received_at", "arrived_at"):
        frame[column] = parse_times(frame[column])
    if blocked is None or blocked.empty:
        return frame
    if frame.empty:
        return blocked[list(frame.columns)].reset_index(drop=True)
    return pd.concat([frame, blocked[list(frame.columns)]], ignore_index=True)


def _block_day_rows(
    store: Store,
    conn: Connection,
    model_id: int,
    start: datetime,
    end: datetime,
    with_features: bool,
    known: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """The block rows in [start, end) as day_rows gives rows (feature JSON when asked), None without blocks."""
    if not log_blocks.block_infos(conn, model_id, start, end):
        return None
    baseline = store.active_baseline(model_id, conn)
    features = baseline.features if (baseline is not None and with_features) else ()
    rows = store.block_log(conn, model_id, start, end, features, label_times=True, known=known)
    rows["model_version"] = rows["model_version"].fillna("").astype(str)
    if with_features:
        rows["features"] = features_to_json(rows[[f.name for f in features]])
    return rows


def _runs(
    days: list[datetime],
    longest: int = RUN_DAYS,
    counts: Mapping[datetime, int] | None = None,
    most_rows: int = RUN_ROWS,
) -> list[list[datetime]]:
    """Sorted days cut into runs of consecutive days (one bounded read per run).

    A run has at most ``longest`` days and, with ``counts`` (rows per day), at most
    ``most_rows`` rows, unless one day alone has more.

    >>> d = [datetime(2026, 1, i) for i in (1, 2, 3, 7)]
    >>> [[x.day for x in run] for run in _runs(d, longest=2)]
    [[1, 2], [3], [7]]
    >>> [[x.day for x in run] for run in _runs(d, counts=dict(zip(d, [60, 50, 10, 5])), most_rows=100)]
    [[1], [2, 3], [7]]
    """
    rows_of = counts or {}
    runs: list[list[datetime]] = []
    rows = 0
    for day in days:
        n = rows_of.get(day, 0)
        if (
            runs
            and len(runs[-1]) < longest
            and day - runs[-1][-1] == timedelta(days=1)
            and rows + n <= most_rows
        ):
            runs[-1].append(day)
            rows += n
        else:
            runs.append([day])
            rows = n
    return runs


def _day_counts(store: Store, model_id: int, days: list[datetime]) -> dict[datetime, int]:
    """Rows per UTC day of the model's log over the span of these days (one grouped query)."""
    with store.engine.connect() as conn:
        return _day_counts_in(conn, model_id, days)


def _day_counts_in(conn: Connection, model_id: int, days: list[datetime]) -> dict[datetime, int]:
    """As :func:`_day_counts`, on the caller's connection."""
    if not days:
        return {}
    p = t.predictions
    day = utc_day(p.c.timestamp)
    query = (
        select(day, func.count())
        .where(
            p.c.model_id == model_id,
            p.c.timestamp >= min(days),
            p.c.timestamp < max(days) + timedelta(days=1),
        )
        .group_by(day)
    )
    counts = Counter({_from_day(d): int(n) for d, n in conn.execute(query).all()})
    counts.update(log_blocks.rows_per_day(conn, model_id, min(days), max(days) + timedelta(days=1)))
    return dict(counts)


def _labels_for_blocks(store: Store, model_id: int) -> pd.DataFrame | None:
    """The model's delayed labels read once for a refresh's runs, when it has blocks to join them to."""
    with store.engine.connect() as conn:
        if not log_blocks.block_infos(conn, model_id):
            return None
    return store.all_delayed_labels(model_id)


def _recompute_days(
    store: Store,
    model: Model,
    baseline: Baseline,
    estimator: estimators.Estimator | None,
    run: list[datetime],
    known: pd.DataFrame | None = None,
    upto_id: int | None = None,
) -> None:
    """Recompute a run of consecutive days from their raw rows, read at once, written in one transaction."""
    with store.begin() as conn:  # read in the write transaction: an upload merging into these days waits
        _recompute_in(store, conn, model, baseline, estimator, run, known, upto_id)


def _recompute_in(
    store: Store,
    conn: Connection,
    model: Model,
    baseline: Baseline,
    estimator: estimators.Estimator | None,
    run: list[datetime],
    known: pd.DataFrame | None = None,
    upto_id: int | None = None,
) -> None:
    """Recompute a run of consecutive days from their raw rows, in the caller's transaction.

    ``upto_id``: the prediction watermark the records will stand at. A service's rows past it
    stay out: the refresh that reads them merges them in (counting them here too would count
    them twice).
    """
    needs_features = isinstance(estimator, loss_estimation.LossModel)
    frame = day_rows(
        store, model.id, run[0], run[-1] + timedelta(days=1), needs_features, conn, known, upto_id
    )
    held = (
        {}
        if frame.empty
        else records_by_day(model, baseline, estimator, frame, _features_for(estimator, frame, baseline))
    )
    for day in run:
        _replace_day(conn, model, baseline, day, [r for (d, _), r in sorted(held.items()) if d == day])


def _features_for(
    estimator: estimators.Estimator | None, frame: pd.DataFrame, baseline: Baseline
) -> pd.DataFrame | None:
    """The rows' typed features when the estimator needs them (regression's loss model), else None."""
    return _typed_features(frame, baseline) if isinstance(estimator, loss_estimation.LossModel) else None


def _typed_features(frame: pd.DataFrame, baseline: Baseline) -> pd.DataFrame:
    """The baseline's features of each row, typed, from the stored JSON."""
    kinds = {f.name: f.kind for f in baseline.features}
    parsed = features_from_json(frame["features"].tolist(), baseline.feature_names, kinds)
    parsed.index = frame.index
    return typed_log_frame(parsed, baseline.features)


def _replace_day(
    conn: Connection, model: Model, baseline: Baseline, day: datetime, records: list[DayRecord]
) -> None:
    w = t.perf_windows
    conn.execute(delete(w).where(w.c.baseline_id == baseline.id, w.c.window_start == day))
    if records:
        conn.execute(w.insert(), [row_of_record(model, baseline, r) for r in records])


def row_of_record(model: Model, baseline: Baseline, record: DayRecord) -> dict[str, Any]:
    """A day record as a row of perf_windows."""
    return {
        "model_id": model.id,
        "baseline_id": baseline.id,
        "window_start": record.day,
        "model_version": record.version,
        "n_rows": record.n_rows,
        "n_labelled": record.n_labelled,
        "data": record.to_json(),
    }


def day_records(
    store: Store, baseline: Baseline, start: datetime | None = None, end: datetime | None = None
) -> list[DayRecord]:
    """Stored day records of a baseline in [start, end), oldest first."""
    w = t.perf_windows
    query = (
        select(w)
        .where(w.c.baseline_id == baseline.id, plausible_time(w.c.window_start))
        .order_by(w.c.window_start, w.c.model_version)
    )
    if start is not None:
        query = query.where(w.c.window_start >= start)
    if end is not None:
        query = query.where(w.c.window_start < end)
    with store.engine.connect() as conn:
        return [
            DayRecord.from_json(row.window_start, row.model_version, row.n_rows, row.n_labelled, row.data)
            for row in conn.execute(query)
        ]


class InStep:
    """Day records of an upload's rows computed as they are stored, merged in the transaction that stores them.

    Only where that equals the refresh that would otherwise read the rows back: SQLite (the
    transaction holds the write lock, so no other rows get ids among the upload's), a state that
    serves the active baseline (its estimator fitted), and nothing left for a refresh (no rows
    or labels past the watermarks). A day's record is then the merge of the stored one and the
    upload's; a new prediction's delayed label, which a service may have inserted before the
    prediction arrived, is joined as the refresh joins it. Otherwise ``start_in_step`` gives
    None and the refresh after storing does it.
    """

    def __init__(self, model: Model, baseline: Baseline, estimator: estimators.Estimator | None, mark: int):
        self.model, self.baseline, self.estimator, self.watermark = model, baseline, estimator, mark
        self.records: dict[tuple[datetime, str], DayRecord] = {}
        self.labelled = False  # the model has delayed labels: a new prediction may have one already
        self.blocks = False  # rows stored as blocks: no watermark moves


def start_in_step(
    store: Store, conn: Connection, model: Model, baseline: Baseline, blocks: bool = False
) -> InStep | None:
    """Whether an upload's day records can be computed as its rows are stored (see InStep), and with what.

    Rows stored as blocks (``blocks``) always are, on any database, once the state serves the
    baseline: refreshes read blocks only to recompute days, inside their write transaction, and
    the upload holds the model's refresh lock; no watermark moves.
    """
    state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
    if state is None or not _serves(state, model, baseline):
        return None  # the first refresh on this baseline fits its estimator and rebuilds every day
    lab = t.labels.c
    if blocks:
        step = InStep(model, baseline, stored_estimator(state.calibrator), int(state.prediction_watermark))
        step.blocks = True
        step.labelled = (
            conn.execute(select(lab.id).where(lab.model_id == model.id).limit(1)).first() is not None
        )
        return step
    if store.dialect != "sqlite":
        return None
    p = t.predictions.c
    rows = select(func.count()).where(p.model_id == model.id, p.id > state.prediction_watermark)
    labels = select(func.count()).where(lab.model_id == model.id, lab.id > state.label_watermark)
    if conn.execute(rows).scalar_one() or conn.execute(labels).scalar_one():
        return None
    step = InStep(model, baseline, stored_estimator(state.calibrator), int(state.prediction_watermark))
    step.labelled = conn.execute(select(lab.id).where(lab.model_id == model.id).limit(1)).first() is not None
    return step


def _restart_state(
    conn: Connection, model: Model, baseline: Baseline, estimator: estimators.Estimator | None
) -> None:
    """Drop the model's day records and refresh state; start them afresh for this baseline and estimator."""
    conn.execute(delete(t.perf_windows).where(t.perf_windows.c.model_id == model.id))
    conn.execute(delete(t.perf_state).where(t.perf_state.c.model_id == model.id))
    conn.execute(
        t.perf_state.insert().values(
            model_id=model.id,
            baseline_id=baseline.id,
            prediction_watermark=0,
            label_watermark=0,
            calibrator=_estimator_text(model, estimator),
            updated_at=utcnow(),
        )
    )


def start_new_baseline_in_step(
    conn: Connection, model: Model, baseline: Baseline, rows: pd.DataFrame
) -> InStep:
    """Day records of the blocks stored with a new baseline, in its transaction, when they are the model's only rows.

    ``rows``: the baseline's canonical rows, as stored. Starts the refresh state as the first
    refresh would (older aggregates dropped, the estimator fitted on the baseline), without
    reading the baseline back. Labels the transaction stores before the blocks are joined to
    their rows; :func:`finish_new_baseline_in_step` then moves both watermarks past them.
    """
    estimator = frame_estimator(model, baseline, rows)
    _restart_state(conn, model, baseline, estimator)
    step = InStep(model, baseline, estimator, 0)
    step.blocks = True
    step.labelled = True  # records_in_step looks the rows' delayed labels up
    return step


def frame_estimator(model: Model, baseline: Baseline, rows: pd.DataFrame) -> estimators.Estimator | None:
    """The estimator :func:`fit_baseline_estimator` fits, from the baseline's canonical rows at hand."""
    if model.task == "regression":
        return _loss_model(baseline, rows)
    outputs = pd.DataFrame(
        {
            name: rows[name] if name in rows else pd.Series(None, index=rows.index, dtype=object)
            for name in ("prediction", "score", "label", "probabilities")
        }
    )
    outputs["score"] = pd.to_numeric(outputs["score"], errors="coerce")
    return _output_estimator(model, baseline, outputs)


def labelled_records_in_step(step: InStep, frame: pd.DataFrame, labels: pd.DataFrame) -> None:
    """As :func:`records_in_step`, with the rows' delayed labels given instead of looked up.

    ``labels``: the delayed labels this transaction stored for the rows, indexed by request id
    (label, received_at, and arrived_at when stated; naive UTC times), as the refresh would join them.
    """
    rows = with_delayed_labels(read_back(frame, step.baseline.feature_names), frame["request_id"], labels)
    _add_day_records(step, frame, rows)


def _add_day_records(step: InStep, frame: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Merge the day records of ``rows`` (read-back form of ``frame``) into the step's, per day and version."""
    merge_into(
        step.records,
        records_of(step.model, step.baseline, step.estimator, frame, rows),
        step.model,
        step.baseline,
    )


def finish_new_baseline_in_step(conn: Connection, step: InStep) -> None:
    """Store the step's day records and move the label watermark past the model's labels, all joined in step.

    The baseline is new, so no day has a stored record to merge with: the records go in with one insert.
    """
    records = [row_of_record(step.model, step.baseline, record) for _, record in sorted(step.records.items())]
    if records:
        conn.execute(t.perf_windows.insert(), records)
    newest = conn.execute(
        select(func.max(t.labels.c.id)).where(t.labels.c.model_id == step.model.id)
    ).scalar_one()
    conn.execute(
        update(t.perf_state)
        .where(t.perf_state.c.model_id == step.model.id)
        .values(label_watermark=int(newest or 0), updated_at=utcnow())
    )


def records_in_step(store: Store, conn: Connection, step: InStep, frame: pd.DataFrame) -> None:
    """Add the day records of canonical rows this transaction is storing to the step's (merged per day and version)."""
    rows = read_back(frame, step.baseline.feature_names)
    if step.labelled and "request_id" in frame and "request_id" not in step.baseline.feature_names:
        _with_delayed_labels(store, conn, step.model.id, rows, frame["request_id"])
    _add_day_records(step, frame, rows)


def finish_in_step(conn: Connection, step: InStep) -> None:
    """Merge the step's records into the stored days and move the prediction watermark past the stored rows."""
    _merge_stored(conn, step.model, step.baseline, step.records)
    if step.blocks:
        return
    newest = conn.execute(
        select(func.max(t.predictions.c.id)).where(t.predictions.c.model_id == step.model.id)
    ).scalar_one()
    if not _move_prediction_watermark(conn, step.model.id, step.watermark, int(newest or step.watermark)):
        raise RuntimeError("the performance watermark moved while this transaction held the write lock")


def _merge_stored(
    conn: Connection, model: Model, baseline: Baseline, records: Mapping[tuple[datetime, str], DayRecord]
) -> None:
    """Merge day records into the stored ones of the same day and version (a record alone where none is stored)."""
    w = t.perf_windows
    for (day, version), record in sorted(records.items()):
        stored = conn.execute(
            select(w).where(
                w.c.baseline_id == baseline.id, w.c.window_start == day, w.c.model_version == version
            )
        ).first()
        if stored is not None:
            old = DayRecord.from_json(
                stored.window_start, stored.model_version, stored.n_rows, stored.n_labelled, stored.data
            )
            record = merge_records([old, record], model, baseline, day, version)
            conn.execute(delete(w).where(w.c.id == stored.id))
        conn.execute(w.insert().values(**row_of_record(model, baseline, record)))


def _move_prediction_watermark(conn: Connection, model_id: int, old: int, new: int) -> bool:
    """Move the prediction watermark from old to new; False when it no longer stood at old."""
    state = t.perf_state.c
    moved = conn.execute(
        update(t.perf_state)
        .where(state.model_id == model_id, state.prediction_watermark == old)
        .values(prediction_watermark=new, updated_at=utcnow())
    )
    return moved.rowcount == 1


def _with_delayed_labels(
    store: Store, conn: Connection, model_id: int, rows: pd.DataFrame, ids: pd.Series
) -> None:
    """Apply the delayed labels a service stored before these predictions arrived (as the refresh's join would)."""
    found = store.delayed_labels(
        conn, model_id, ids.dropna().tolist(), blocks=False
    )  # a block labels stored rows only
    if found.empty:
        return
    by_id = found.set_index("request_id")
    matched = ids.map(by_id["label"]).notna()
    for column in ("label", "received_at", "arrived_at"):
        values = ids[matched].map(by_id[column])
        if column == "label":
            rows.loc[matched, column] = values
        else:
            rows.loc[matched, column] = parse_times(values).to_numpy()


LABELS_IN_STEP = 1_000_000  # labels a label upload holds before merging them into the day records


class LabelStep:
    """Day records brought up to date by a label upload's labels of block rows, in the transaction that stores them.

    A label for a row that had none adds to its day's record: the labelled-quality aggregate and
    the label delays of the newly labelled rows are merged in (counts and sums add; volume,
    latency and the label-free estimate do not depend on labels). A label that replaces one (an
    earlier delayed label, or the row's inline label) cannot be merged: its day is recomputed
    from the raw rows, with every label, in the same transaction. Only on a state that serves
    the active baseline (else ``start_label_step`` gives None and the refresh rebuilds every day).
    """

    def __init__(
        self, model: Model, baseline: Baseline, estimator: estimators.Estimator | None, watermark: int = 0
    ):
        self.model, self.baseline, self.estimator = model, baseline, estimator
        self.watermark = watermark  # the prediction watermark: a service's rows past it are the refresh's
        self.positions: list[np.ndarray] = []
        self.labels: list[pd.DataFrame] = []  # label, received_at, arrived_at, relabelled

    @property
    def held(self) -> int:
        """Labels held until :func:`finish_label_step` merges them."""
        return sum(len(p) for p in self.positions)


def start_label_step(conn: Connection, model: Model, baseline: Baseline) -> LabelStep | None:
    """Whether a label upload's labels of block rows can be merged into the day records as they are stored."""
    state = conn.execute(select(t.perf_state).where(t.perf_state.c.model_id == model.id)).first()
    if state is None or not _serves(state, model, baseline):
        return None
    return LabelStep(model, baseline, stored_estimator(state.calibrator), int(state.prediction_watermark))


def labels_in_step(
    step: LabelStep, positions: np.ndarray, frame: pd.DataFrame, relabelled: np.ndarray
) -> None:
    """Hold labels of block rows (their positions among the block rows) until the upload's end."""
    held = pd.DataFrame(
        {
            "label": frame["label"].to_numpy(dtype=object),
            "received_at": frame["received_at"].to_numpy(dtype="datetime64[us]"),
            "arrived_at": frame["arrived_at"].to_numpy(dtype="datetime64[us]")
            if "arrived_at" in frame
            else np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]"),
            "relabelled": relabelled,
        }
    )
    step.positions.append(positions)
    step.labels.append(held)


LABELLED_ROW_COLUMNS = [
    "timestamp",
    "model_version",
    "prediction",
    "score",
    "label",
]  # and a multiclass model's probabilities


def finish_label_step(store: Store, conn: Connection, step: LabelStep, index: log_blocks.BlockIds) -> int:
    """Merge the held labels into the stored day records, or recompute their days; return the days recomputed.

    The step is emptied: a large file's labels are merged every ``LABELS_IN_STEP`` (memory stays bounded).
    """
    if not step.positions:
        return 0
    positions = np.concatenate(step.positions)
    labels = pd.concat(step.labels, ignore_index=True)
    step.positions, step.labels = [], []
    order = np.argsort(
        positions, kind="stable"
    )  # block by block, rows in order: the same whatever the file's blocks
    positions, labels = positions[order], labels.iloc[order].reset_index(drop=True)
    blocks, rows = index.locate(positions)
    added: dict[tuple[datetime, str], DayRecord] = {}
    recompute: set[datetime] = set()
    columns = [*LABELLED_ROW_COLUMNS, *(["probabilities"] if step.model.task == "multiclass" else [])]
    parts = [
        part for part in np.split(np.arange(len(blocks)), np.flatnonzero(np.diff(blocks)) + 1) if len(part)
    ]
    wanted = ((int(index.block_ids[blocks[part[0]]]), rows[part]) for part in parts)
    for part, taken in zip(parts, log_blocks.taken_rows(conn, wanted, columns), strict=True):
        held = labels.iloc[part].reset_index(drop=True)
        frame = log_blocks.in_range(pd.concat([taken, held.add_prefix("new_")], axis=1), None, None)
        day = frame["timestamp"].dt.floor("D")
        replacing = frame["label"].notna().to_numpy() | frame["new_relabelled"].to_numpy(dtype=bool)
        recompute.update(pd.Timestamp(d).to_pydatetime() for d in day[replacing].unique())
        _add_labelled(step, added, frame[~replacing])
    _merge_labelled(conn, step, added, recompute)
    if recompute:
        known = store.all_delayed_labels(step.model.id, conn)
        days = sorted(recompute)
        for run in _runs(days, counts=_day_counts_in(conn, step.model.id, days)):
            _recompute_in(store, conn, step.model, step.baseline, step.estimator, run, known, step.watermark)
    return len(recompute)


def _add_labelled(step: LabelStep, added: dict[tuple[datetime, str], DayRecord], frame: pd.DataFrame) -> None:
    """Add the records of newly labelled rows (:func:`label_record`) to those of their days and versions."""
    if frame.empty:
        return
    rows = pd.DataFrame(
        {
            "timestamp": frame["timestamp"],
            "prediction": frame["prediction"],
            "score": frame["score"],
            **({"probabilities": frame["probabilities"]} if "probabilities" in frame else {}),
            "label": frame["new_label"],
            "received_at": frame["new_received_at"],
            "arrived_at": frame["new_arrived_at"],
        }
    )
    versions = frame["model_version"].fillna("").astype(str)
    for (day, version), part in rows.groupby([rows["timestamp"].dt.floor("D"), versions], sort=True):
        key = (pd.Timestamp(day).to_pydatetime(), str(version))
        record = label_record(step.model, step.baseline, key[0], key[1], part)
        held = added.get(key)
        added[key] = (
            record if held is None else merge_records([held, record], step.model, step.baseline, *key)
        )


def _merge_labelled(
    conn: Connection, step: LabelStep, added: dict[tuple[datetime, str], DayRecord], recompute: set[datetime]
) -> None:
    """Merge the newly labelled rows' records into the stored ones; a day without a stored record is recomputed."""
    w = t.perf_windows
    days = sorted({day for day, _ in added} - recompute)
    stored = {}
    for start in range(0, len(days), 500):  # bounded IN lists
        query = select(w).where(
            w.c.baseline_id == step.baseline.id, w.c.window_start.in_(days[start : start + 500])
        )
        stored.update({(row.window_start, row.model_version): row for row in conn.execute(query)})
    changes = []
    for (day, version), record in sorted(added.items()):
        if day in recompute:
            continue
        row = stored.get((day, version))
        if row is None:  # a day a refresh has yet to compute: computed whole, here
            recompute.add(day)
            continue
        old = DayRecord.from_json(row.window_start, row.model_version, row.n_rows, row.n_labelled, row.data)
        new = merge_records([old, record], step.model, step.baseline, day, version)
        changes.append({"row_id": row.id, "n_labelled": new.n_labelled, "data": new.to_json()})
    if changes:
        conn.execute(
            update(w)
            .where(w.c.id == bindparam("row_id"))
            .values(n_labelled=bindparam("n_labelled"), data=bindparam("data")),
            changes,
        )
