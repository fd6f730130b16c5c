"""Bounded reads of raw rows, for the few analyses that cannot work from aggregates.

The multivariate check and the schema check look at a uniform random sample, hourly
windows and segments at the raw rows of a short range or the newest labelled rows; every
read here is bounded, so a page over millions of predictions never loads the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Table, func, select

from readiness.core.lazy import lazy_module
from readiness.core.records import Baseline, features_to_json
from readiness.errors import NoDataError, SegmentError
from readiness.storage import external_store, log_blocks
from readiness.storage import schema as t
from readiness.storage.sql import LABELLED_LOG, chunks, effective_label, result_frame
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def sample_predictions(
    store: Store, model_id: int, lo: datetime, hi: datetime, n: int, seed: int = 0
) -> list[str]:
    """Feature JSON of about ``n`` rows drawn uniformly by id from the model's rows in [lo, hi), without a full scan.

    Ids grow with insertion time, so the ids of the first and last rows in the range bound
    it; random ids in between are fetched by primary key and filtered to the model and range.
    """
    p = t.predictions
    in_range = (p.c.model_id == model_id) & (p.c.timestamp >= lo) & (p.c.timestamp < hi)
    with store.engine.connect() as conn:
        if external_store.is_external(conn, model_id):  # its rows stay in the data lake: their days' samples
            return external_store.external_sample(conn, model_id, lo, hi, n, seed)
        blocked = _block_sample(store, conn, model_id, lo, hi, n, seed)
        first = conn.execute(select(p.c.id).where(in_range).order_by(p.c.timestamp, p.c.id).limit(1)).scalar()
        last = conn.execute(
            select(p.c.id).where(in_range).order_by(p.c.timestamp.desc(), p.c.id.desc()).limit(1)
        ).scalar()
        if first is None:
            return blocked[1]
        lo_id, hi_id = min(first, last), max(first, last)
        ids = _random_ids(lo_id, hi_id, 2 * n, seed)  # 2n: other models' rows may interleave
        rows = _fetch_by_id(conn, p, ids, lambda row: row[1] == model_id and lo <= row[2] < hi)
    if not blocked[0]:
        return _at_most(rows, n, seed)
    return _mixed(rows, hi_id - lo_id + 1, blocked, n, seed)


def _block_sample(
    store: Store, conn: Connection, model_id: int, lo: datetime, hi: datetime, n: int, seed: int
) -> tuple[int, list[str]]:
    """How many block rows the range holds, and the feature JSON of at most ``n`` of them drawn uniformly.

    Positions are drawn among the range's rows in upload order, whatever the blocks' sizes (a
    file stored in other blocks gives the same sample), and blocks are decoded one at a time:
    first their times, to count the rows in range, then the features of those with rows drawn.
    """
    infos = log_blocks.block_infos(conn, model_id, lo, hi)
    masks = [
        _in(log_blocks.read_block(conn, info.id, (), ("timestamp",))["timestamp"], lo, hi) for info in infos
    ]
    counts = [int(mask.sum()) for mask in masks]
    total = sum(counts)
    if not total:
        return 0, []
    baseline = store.active_baseline(model_id, conn)
    features = baseline.features if baseline is not None else ()
    names = [f.name for f in features]
    positions = _random_ids(0, total - 1, n, seed)
    picked: list[str] = []
    offset = 0
    for info, mask, count in zip(infos, masks, counts, strict=True):
        mine = positions[(positions >= offset) & (positions < offset + count)] - offset
        offset += count
        if len(mine):  # only the drawn rows are decoded
            rows = log_blocks.read_block(conn, info.id, features, (), np.flatnonzero(mask)[mine])
            picked.extend(features_to_json(rows[names]))
    return total, picked


def _in(times: pd.Series, lo: datetime, hi: datetime) -> np.ndarray:
    """Which of a block's rows fall in [lo, hi) and have a plausible time."""
    frame = pd.DataFrame({"timestamp": times, "row": np.arange(len(times))})
    keep = np.zeros(len(times), dtype=bool)
    keep[log_blocks.in_range(frame, lo, hi)["row"].to_numpy()] = True
    return keep


def _mixed(rows: list[str], n_rows: int, blocked: tuple[int, list[str]], n: int, seed: int) -> list[str]:
    """At most n rows from both sources, each's share in proportion to the rows it holds in the range."""
    n_blocks, from_blocks = blocked
    share = round(n * n_blocks / (n_blocks + n_rows))
    return _at_most(rows, n - share, seed) + _at_most(from_blocks, share, seed)


def sample_baseline(store: Store, baseline: Baseline, n: int, seed: int = 0) -> list[str]:
    """Feature JSON of at most ``n`` baseline rows drawn uniformly (the same rows whether stored as blocks or rows)."""
    blocked = store.baseline_blocks(baseline, baseline.features, ())
    if blocked is not None:
        picked = _random_ids(0, len(blocked) - 1, n, seed) if len(blocked) else np.arange(0)
        return features_to_json(blocked.iloc[picked])
    b = t.baseline_rows
    baseline_id = baseline.id
    with store.engine.connect() as conn:
        lo_id, hi_id = conn.execute(
            select(func.min(b.c.id), func.max(b.c.id)).where(b.c.baseline_id == baseline_id)
        ).one()
        if lo_id is None:
            return []
        rows = _fetch_by_id(conn, b, _random_ids(lo_id, hi_id, n, seed), lambda row: row[1] == baseline_id)
    return _at_most(rows, n, seed)


def _fetch_by_id(conn: Connection, table: Table, ids: np.ndarray, keep: Callable[[Any], bool]) -> list[str]:
    """Feature JSON of the rows with these ids for which ``keep(row)`` holds.

    The query filters on the primary key alone: with the model and time conditions in SQL,
    SQLite prefers the (model, time) index and walks the whole range (3 s at 10M rows).
    """
    rows: list[str] = []
    key = "baseline_id" if "baseline_id" in table.c else "model_id"
    extra = [table.c[key]] + ([table.c.timestamp] if "timestamp" in table.c else [])
    for chunk in chunks(int(i) for i in ids):
        result = conn.execute(select(table.c.features, *extra).where(table.c.id.in_(chunk)))
        rows.extend(row[0] for row in result if keep(row))
    return rows


def _at_most(rows: list[str], n: int, seed: int) -> list[str]:
    """A uniform random subset of n rows (rows arrive in id order, so never just the first n)."""
    if len(rows) <= n:
        return rows
    keep = np.sort(np.random.default_rng(seed + 1).choice(len(rows), size=n, replace=False))
    return [rows[i] for i in keep]


def _random_ids(lo_id: int, hi_id: int, n: int, seed: int) -> np.ndarray:
    span = hi_id - lo_id + 1
    if span <= n:
        return np.arange(lo_id, hi_id + 1)
    picked = np.random.default_rng(seed).choice(span, size=n, replace=False)  # Floyd's method: O(n) memory
    return np.sort(picked) + lo_id


def newest_rows(store: Store, model_id: int, lo: datetime, hi: datetime, n: int) -> list[str]:
    """Feature JSON of the model's ``n`` most recently inserted rows, those that fall in [lo, hi).

    A schema break arrives with new rows, and rows a service inserts late fall outside the id
    range the uniform sample draws from, so the newest inserts are always looked at.
    """
    p = t.predictions
    query = (
        select(p.c.timestamp, p.c.features).where(p.c.model_id == model_id).order_by(p.c.id.desc()).limit(n)
    )
    with store.engine.connect() as conn:
        if external_store.is_external(conn, model_id):
            return external_store.newest_external_rows(conn, model_id, lo, hi, n)
        rows = conn.execute(query).all()
        newest = _newest_block_rows(store, conn, model_id, lo, hi, n)
    return [features for ts, features in rows if lo <= ts < hi] + newest


def _newest_block_rows(
    store: Store, conn: Connection, model_id: int, lo: datetime, hi: datetime, n: int
) -> list[str]:
    """Feature JSON of the last ``n`` rows of the newest uploaded block, those in [lo, hi)."""
    infos = log_blocks.block_infos(conn, model_id)
    if not infos or infos[-1].last_time < lo or infos[-1].first_time >= hi:
        return []  # no row of the newest block is in range (a past day's assessment): nothing to decode
    baseline = store.active_baseline(model_id, conn)
    features = baseline.features if baseline is not None else ()
    last = infos[-1].n_rows
    rows = log_blocks.read_block(
        conn, infos[-1].id, features, ("timestamp",), np.arange(max(0, last - n), last)
    )
    rows = rows[(rows["timestamp"] >= pd.Timestamp(lo)) & (rows["timestamp"] < pd.Timestamp(hi))]
    return features_to_json(rows[[f.name for f in features]])


def raw_rows(store: Store, model_id: int, lo: datetime, hi: datetime) -> pd.DataFrame:
    """The model's raw rows in [lo, hi): id, timestamp, prediction, score, feature and probability JSON (short ranges only)."""
    p = t.predictions
    query = select(p.c.id, p.c.timestamp, p.c.prediction, p.c.score, p.c.features, p.c.probabilities).where(
        p.c.model_id == model_id, p.c.timestamp >= lo, p.c.timestamp < hi
    )
    columns = ["id", "timestamp", "prediction", "score", "features", "probabilities"]
    with store.engine.connect() as conn:
        if external_store.is_external(conn, model_id):
            raise NoDataError(
                "Hourly windows are profiled from raw rows, and this model's log stays in its data lake (a Spark "
                "job profiles it by day). Pick day, week or month windows."
            )
        frame = result_frame(conn.execute(query), columns)
        if not log_blocks.block_infos(conn, model_id, lo, hi):
            return frame
        baseline = store.active_baseline(model_id, conn)
        features = baseline.features if baseline is not None else ()
        blocked = log_blocks.block_rows(
            conn, model_id, lo, hi, features, ["prediction", "score", "probabilities"]
        )
    blocked["features"] = features_to_json(blocked[[f.name for f in features]])
    blocked["id"] = -1 - np.arange(len(blocked))  # rows of blocks have no row id
    blocked = blocked[columns]
    if frame.empty:
        return blocked
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return pd.concat([frame, blocked], ignore_index=True)


def newest_labelled_rows(
    store: Store, model_id: int, lo: datetime | None, hi: datetime | None, limit: int
) -> pd.DataFrame:
    """At most ``limit`` of the newest labelled predictions in [lo, hi): prediction, score, label, feature JSON."""
    with store.engine.connect() as conn:
        if external_store.is_external(conn, model_id):
            raise SegmentError(
                "Segments are computed from labelled raw rows, and this model's log stays in its data lake (a "
                "Spark job profiles it by day). Compare segments in the lake, or log a sample of rows under "
                "another model name."
            )
    p = t.predictions
    label = effective_label()
    query = (
        select(p.c.prediction, p.c.score, label.label("label"), p.c.timestamp, p.c.features)
        .select_from(LABELLED_LOG)
        .where(p.c.model_id == model_id, label.is_not(None))
        .order_by(p.c.timestamp.desc())
        .limit(limit)
    )
    if lo is not None:
        query = query.where(p.c.timestamp >= lo)
    if hi is not None:
        query = query.where(p.c.timestamp < hi)
    with store.engine.connect() as conn:
        frame = result_frame(conn.execute(query), ["prediction", "score", "label", "timestamp", "features"])
        blocked = _labelled_block_rows(store, conn, model_id, lo, hi, limit)
    if blocked is not None and not blocked.empty:
        frame = pd.concat([frame, blocked[list(frame.columns)]], ignore_index=True) if len(frame) else blocked
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        frame = frame.sort_values("timestamp", ascending=False, kind="stable").head(limit)
    frame = frame.drop(columns="timestamp").reset_index(drop=True)
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    return frame


def _labelled_block_rows(
    store: Store, conn: Connection, model_id: int, lo: datetime | None, hi: datetime | None, limit: int
) -> pd.DataFrame | None:
    """The newest labelled block rows in [lo, hi), newest blocks first until ``limit`` are found (None: no blocks)."""
    infos = sorted(log_blocks.block_infos(conn, model_id, lo, hi), key=lambda i: i.last_time, reverse=True)
    if not infos:
        return None
    baseline = store.active_baseline(model_id, conn)
    features = baseline.features if baseline is not None else ()
    found: list[pd.DataFrame] = []
    n = 0
    for info in infos:
        if n >= limit and found and info.last_time < min(part["timestamp"].min() for part in found):
            break  # every row of this block is older than the newest ``limit`` already found
        rows = log_blocks.in_range(log_blocks.read_block(conn, info.id, features), lo, hi)
        rows = store.with_delayed_labels(conn, model_id, rows, features)
        rows = rows[rows["label"].notna()]
        found.append(rows)
        n += len(rows)
    rows = pd.concat(found, ignore_index=True)
    rows["features"] = features_to_json(rows[[f.name for f in features]])
    return rows
