"""Uploaded prediction logs kept as Parquet blocks, beside the row-per-prediction table services insert into.

An upload stores each block of its rows as one row of ``prediction_blocks``: the rows as
Parquet (:mod:`readiness.storage.blocks`), how many, how many carry an inline label, the first
and last time and the rows per UTC day. Its day profiles and performance records are computed
while it is stored, so a refresh never reads blocks, except to rebuild every aggregate for a
new baseline or to recompute the days new labels touched. Every reader of raw rows takes both.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, func, select

from readiness.config import timestamp_range
from readiness.core.lazy import lazy_module
from readiness.core.records import FeatureSpec
from readiness.core.texthash import text_hashes
from readiness.storage import schema as t
from readiness.storage.blocks import decode_block, encode_block

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

LOG_COLUMNS = (
    "timestamp",
    "request_id",
    "model_version",
    "prediction",
    "score",
    "label",
    "latency_ms",
    "probabilities",
)


@dataclass(frozen=True)
class BlockInfo:
    """What a block's row in prediction_blocks says about it, without decoding it."""

    id: int
    n_rows: int
    first_time: datetime
    last_time: datetime
    days: dict[datetime, int]  # rows per UTC day


def append_block(
    conn: Connection,
    model_id: int,
    frame: pd.DataFrame,
    features: Sequence[FeatureSpec],
    ingestion_id: int | None,
    data: bytes | None = None,
) -> int:
    """Store canonical prediction rows (timestamps in UTC) as one block; return how many.

    ``data`` is the frame already encoded by :func:`encode_block` (say, on another thread).
    """
    times = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
    per_day = times.dt.normalize().value_counts().sort_index()
    days = {day.strftime("%Y-%m-%d"): int(n) for day, n in per_day.items()}
    taken = {f.name for f in features}
    labelled = int(frame["label"].notna().sum()) if "label" in frame and "label" not in taken else 0
    conn.execute(
        t.prediction_blocks.insert().values(
            model_id=model_id,
            ingestion_id=ingestion_id,
            n_rows=len(frame),
            n_labelled=labelled,
            first_time=times.min().to_pydatetime(),
            last_time=times.max().to_pydatetime(),
            days=json.dumps(days),
            data=encode_block(frame, features) if data is None else data,
        )
    )
    return len(frame)


def block_infos(
    conn: Connection, model_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[BlockInfo]:
    """The model's blocks with rows in [start, end), oldest first."""
    b = t.prediction_blocks.c
    query = (
        select(b.id, b.n_rows, b.first_time, b.last_time, b.days).where(b.model_id == model_id).order_by(b.id)
    )
    if start is not None:
        query = query.where(b.last_time >= start)
    if end is not None:
        query = query.where(b.first_time < end)
    return [
        BlockInfo(
            row.id,
            row.n_rows,
            row.first_time,
            row.last_time,
            {datetime.fromisoformat(d): n for d, n in json.loads(row.days).items()},
        )
        for row in conn.execute(query)
    ]


def read_block(
    conn: Connection,
    block_id: int,
    features: Sequence[FeatureSpec] = (),
    columns: Sequence[str] = LOG_COLUMNS,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """One block's rows (``rows``: only these positions): these features, then these reserved columns (times naive UTC)."""
    data = conn.execute(
        select(t.prediction_blocks.c.data).where(t.prediction_blocks.c.id == block_id)
    ).scalar_one()
    return decode_block(data, features, columns, rows)


def take_rows(conn: Connection, block_id: int, rows: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """These rows (positions in the block) of one block's reserved columns, taken before they become a frame.

    A label upload reads most rows of a block but few of its columns; taking them in Arrow costs
    a third of decoding the block whole. Columns the block does not hold come back all missing.
    """
    return _take(_block_data(conn, block_id), rows, columns)


def taken_rows(
    conn: Connection, wanted: Iterable[tuple[int, np.ndarray]], columns: Sequence[str]
) -> Iterator[pd.DataFrame]:
    """:func:`take_rows` of each (block id, rows) in turn, the next block decoded on a helper thread meanwhile.

    Parquet decoding releases the GIL, so on two cores the next block is decoded while the
    caller works on this one. The blocks are read from the database here, on the caller's
    thread (the helper never touches the connection); at most one decoded block waits.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="take-rows") as helper:
        waiting: Future[pd.DataFrame] | None = None
        for block_id, rows in wanted:
            following = helper.submit(_take, _block_data(conn, block_id), rows, columns)
            if waiting is not None:
                yield waiting.result()
            waiting = following
        if waiting is not None:
            yield waiting.result()


def _block_data(conn: Connection, block_id: int) -> bytes:
    return conn.execute(
        select(t.prediction_blocks.c.data).where(t.prediction_blocks.c.id == block_id)
    ).scalar_one()


def _take(data: bytes, rows: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(io.BytesIO(data))
    present = [c for c in columns if c in source.schema_arrow.names]
    taken = source.read(columns=present).take(pa.array(rows, type=pa.int64())).to_pandas()
    empty = decode_empty((), columns)
    out = {}
    for column in columns:
        if column not in taken:
            out[column] = pd.Series(None, index=taken.index, dtype=empty[column].dtype)
        elif column == "timestamp":
            out[column] = taken[column].astype("datetime64[us]")
        else:
            out[column] = taken[column]
    return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


def block_rows(
    conn: Connection,
    model_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    features: Sequence[FeatureSpec] = (),
    columns: Sequence[str] = LOG_COLUMNS,
) -> pd.DataFrame:
    """The model's block rows with a plausible time in [start, end), oldest block first (bounded ranges only)."""
    wanted = list(dict.fromkeys(["timestamp", *columns]))
    parts = [
        in_range(read_block(conn, info.id, features, wanted), start, end)
        for info in block_infos(conn, model_id, start, end)
    ]
    parts = [part for part in parts if len(part)]
    if not parts:
        return decode_empty(features, wanted)
    return pd.concat(parts, ignore_index=True)


def each_block(
    conn: Connection,
    model_id: int,
    features: Sequence[FeatureSpec] = (),
    columns: Sequence[str] = LOG_COLUMNS,
) -> Iterator[pd.DataFrame]:
    """Every block's rows with a plausible time, one block at a time (memory bounded by a block)."""
    wanted = list(dict.fromkeys(["timestamp", *columns]))
    for info in block_infos(conn, model_id):
        yield in_range(read_block(conn, info.id, features, wanted), None, None)


def decode_empty(features: Sequence[FeatureSpec], columns: Sequence[str]) -> pd.DataFrame:
    """No rows, with the columns a block read would give."""
    frame = pd.DataFrame(
        {spec.name: pd.Series(dtype=float if spec.kind == "numeric" else object) for spec in features}
    )
    for column in columns:
        kind = (
            "datetime64[us]"
            if column == "timestamp"
            else float
            if column in ("score", "latency_ms")
            else object
        )
        frame[column] = pd.Series(dtype=kind)
    return frame


def in_range(frame: pd.DataFrame, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """The rows in [start, end) whose time is plausible (as every SQL read of the log filters them)."""
    allowed = timestamp_range()
    lo = allowed.earliest.tz_convert("UTC").tz_localize(None)
    hi = allowed.latest().tz_convert("UTC").tz_localize(None)
    times = frame["timestamp"]
    keep = (times >= lo) & (times <= hi)
    if start is not None:
        keep &= times >= pd.Timestamp(start)
    if end is not None:
        keep &= times < pd.Timestamp(end)
    return frame if keep.all() else frame[keep.to_numpy()].reset_index(drop=True)


def ids_in_blocks(
    conn: Connection, model_id: int, ids: Iterable[str], ingestion_id: int | None = None
) -> set[str]:
    """Which of these request ids a block of the model holds (only the ingestion's blocks, when given)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    given = pa.array(list(dict.fromkeys(ids)), type=pa.string())
    if not len(given):
        return set()
    b = t.prediction_blocks.c
    query = select(b.data).where(b.model_id == model_id).order_by(b.id)
    if ingestion_id is not None:
        query = query.where(b.ingestion_id == ingestion_id)
    found: set[str] = set()
    for data in conn.execute(query).scalars():
        stored = _request_ids(data)
        if stored is not None:
            found.update(stored.filter(pc.is_in(stored, value_set=given)).to_pylist())
    return found


def _request_ids(data: bytes) -> Any:
    """A block's request id column as an Arrow array (None when it has none)."""
    import io

    import pyarrow.parquet as pq

    source = pq.ParquetFile(io.BytesIO(data))
    if "request_id" not in source.schema_arrow.names:
        return None
    return source.read(columns=["request_id"]).column("request_id").combine_chunks()


def days_of_ids(conn: Connection, model_id: int, ids: Iterable[str]) -> set[datetime]:
    """The UTC days of the block rows (plausible times) with these request ids."""
    import pyarrow as pa
    import pyarrow.compute as pc

    given = pa.array(list(dict.fromkeys(ids)), type=pa.string())
    days: set[datetime] = set()
    if not len(given):
        return days
    for info in block_infos(conn, model_id):
        rows = read_block(conn, info.id, (), ["timestamp", "request_id"])
        rows = in_range(rows, None, None)
        hit = pc.is_in(pa.array(rows["request_id"], type=pa.string(), from_pandas=True), value_set=given)
        times = rows["timestamp"][np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)]
        days.update(pd.Timestamp(d).to_pydatetime() for d in times.dt.floor("D").unique())
    return days


def rows_per_day(conn: Connection, model_id: int, start: datetime, end: datetime) -> Counter[datetime]:
    """Block rows per UTC day in [start, end), from what each block says of itself."""
    counts: Counter[datetime] = Counter()
    for info in block_infos(conn, model_id, start, end):
        counts.update({day: n for day, n in info.days.items() if start <= day < end})
    return counts


@dataclass(frozen=True)
class BlockTotals:
    """The model's block rows: how many, how many with an inline label, the first and last time."""

    n_rows: int
    n_labelled: int
    first: datetime | None
    last: datetime | None


def block_totals(conn: Connection) -> dict[int, BlockTotals]:
    """Per model with blocks, their totals (one grouped query)."""
    b = t.prediction_blocks.c
    query = select(
        b.model_id, func.sum(b.n_rows), func.sum(b.n_labelled), func.min(b.first_time), func.max(b.last_time)
    ).group_by(b.model_id)
    return {row[0]: BlockTotals(int(row[1]), int(row[2]), row[3], row[4]) for row in conn.execute(query)}


def first_time(conn: Connection, model_id: int) -> datetime | None:
    """The oldest plausible block row time of the model."""
    oldest = None
    for info in sorted(block_infos(conn, model_id), key=lambda i: i.first_time):
        if oldest is not None and info.first_time >= oldest:
            break
        times = in_range(read_block(conn, info.id, (), ["timestamp"]), None, None)["timestamp"]
        if len(times):
            candidate = times.min().to_pydatetime()
            oldest = candidate if oldest is None else min(oldest, candidate)
    return oldest


def last_time_before(conn: Connection, model_id: int, before: datetime | None) -> datetime | None:
    """The newest plausible block row time (before ``before`` when given)."""
    newest = None
    for info in sorted(block_infos(conn, model_id, None, before), key=lambda i: i.last_time, reverse=True):
        if newest is not None and info.last_time <= newest:
            break
        times = in_range(read_block(conn, info.id, (), ["timestamp"]), None, before)["timestamp"]
        if len(times):
            candidate = times.max().to_pydatetime()
            newest = candidate if newest is None else max(newest, candidate)
    return newest


class KnownIds:
    """The request ids of a model's blocks as sorted 64-bit hashes: what an upload checks each block against.

    Built once per upload (one read of every block's request ids) and grown with each block it
    stores, so a file of many blocks is not checked by decoding every earlier block again. A hash
    only says an id may be known; :meth:`known` confirms the candidates against the blocks.

    The hashes are kept as a few sorted runs rather than one array sorted again per block: a
    new run merges with the one before it while that one is at most twice its size and the
    merged run stays under RUN_LIMIT hashes, so there are O(log n) small runs plus n/RUN_LIMIT
    full ones, and growing never copies more than two runs' worth (8 bytes an id in all,
    instead of three copies of every id at the end of a 10M-row file).
    """

    RUN_LIMIT = 4_000_000  # hashes per run at most (32 MB)

    def __init__(self, conn: Connection, model_id: int) -> None:
        b = t.prediction_blocks.c
        self.model_id = model_id
        self.runs: list[np.ndarray] = []
        for data in conn.execute(select(b.data).where(b.model_id == model_id)).scalars():
            stored = _request_ids(data)
            if stored is not None:
                self.add_hashes(text_hashes(stored.drop_null()))

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs)

    def known(self, conn: Connection, ids: Sequence[str], hashed: np.ndarray | None = None) -> set[str]:
        """Which of these ids a block holds (exact); ``hashed``: their :func:`text_hashes`, when at hand."""
        if not len(ids) or not self.runs:
            return set()
        hashed = text_hashes(ids) if hashed is None else hashed
        order = np.argsort(hashed)
        keys = hashed[order]  # sorted keys walk each run forward: four times faster than in the file's order
        found = np.zeros(len(keys), dtype=bool)
        for run in self.runs:
            at = np.searchsorted(run, keys).clip(max=len(run) - 1)
            found |= run[at] == keys
        if not found.any():  # the usual block of new ids: no candidate to confirm
            return set()
        hit = np.empty(len(keys), dtype=bool)
        hit[order] = found
        candidates = [i for i, h in zip(ids, hit, strict=True) if h]
        return ids_in_blocks(conn, self.model_id, candidates) if candidates else set()

    def add(self, ids: Sequence[str]) -> None:
        """Count these ids in (a block holding them was just stored)."""
        self.add_hashes(text_hashes(ids))

    def add_hashes(self, hashes: np.ndarray) -> None:
        """Count ids in by their :func:`text_hashes` (a block holding them was just stored)."""
        if not len(hashes):
            return
        self.runs.append(np.sort(hashes))
        while len(self.runs) > 1:
            before, last = self.runs[-2], self.runs[-1]
            if len(before) > 2 * len(last) or len(before) + len(last) > self.RUN_LIMIT:
                break
            merged = np.concatenate([before, last])
            merged.sort(kind="stable")  # two sorted runs: one linear merge
            self.runs[-2:] = [merged]


class BlockIds:
    """Every block row's request id, in block order, read once (the request_id column only): where a label's row is.

    A label upload looks each of its blocks' ids up here instead of decoding every prediction
    block again per block of labels.
    """

    def __init__(self, conn: Connection, model_id: int) -> None:
        import pyarrow as pa

        b = t.prediction_blocks.c
        parts, ids, sizes = [], [], []
        for block_id, data in conn.execute(select(b.id, b.data).where(b.model_id == model_id).order_by(b.id)):
            stored = _request_ids(data)
            if stored is None:
                stored = pa.nulls(pq_rows(data), type=pa.string())
            parts.append(stored.cast(pa.string()))
            ids.append(block_id)
            sizes.append(len(stored))
        self.ids = pa.chunked_array(parts, type=pa.string()).combine_chunks()
        self.block_ids = np.asarray(ids, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])

    def positions(self, ids: Any) -> np.ndarray:
        """Each id's position among the block rows (-1: no block row has it); ``ids``: distinct Arrow strings.

        Arrow's hash table is built over the fewer texts (building it is the dearer half): for a
        block of labels, usually the labels, and the block rows are looked up in it.
        """
        import pyarrow.compute as pc

        at = np.full(len(ids), -1, dtype=np.int64)
        if not len(self.ids) or not len(ids):
            return at
        if len(ids) > len(self.ids):
            found = pc.index_in(ids, value_set=self.ids)
            return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        which = pc.index_in(self.ids, value_set=ids)  # each block row's id among ``ids``
        which = np.asarray(which.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        rows = np.flatnonzero(which >= 0)
        at[which[rows]] = rows
        return at

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The block (index into ``block_ids``) and row within it of each position (all found)."""
        block = np.searchsorted(self.starts, positions, side="right") - 1
        return block, positions - self.starts[block]


def pq_rows(data: bytes) -> int:
    """How many rows a block holds."""
    import io

    import pyarrow.parquet as pq

    return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
