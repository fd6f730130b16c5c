"""Delayed labels an upload stored for uploaded predictions, kept as Parquet blocks beside the ``labels`` rows.

A label file's labels for block predictions (:mod:`readiness.storage.log_blocks`) are stored
as one row of ``label_blocks`` per block of the file: request_id, label, received_at and
arrived_at as compressed Parquet, instead of a SQL row each. Labels of predictions a service
logged a row each stay rows of ``labels``, so SQL joins of the two tables stay whole. Which
label a request id has: a row of ``labels`` (a service writes them, and an upload deletes the
row of an id it labels again), else the newest block's.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, func, select

from readiness.core.lazy import lazy_module
from readiness.storage import schema as t
from readiness.storage.blocks import arrow_texts

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

LABEL_COLUMNS = ("request_id", "label", "received_at", "arrived_at")


def append_label_block(
    conn: Connection, model_id: int, frame: pd.DataFrame, ingestion_id: int | None, n_new: int
) -> None:
    """Store delayed labels (request_id, label, received_at, arrived_at; times naive UTC) as one block.

    ``n_new``: how many of the ids no earlier block labelled (what label coverage counts).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = {
        column: pa.array(
            frame[column].to_numpy(dtype="datetime64[us]")
            if column in frame
            else np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]"),
            type=pa.timestamp("us"),
            from_pandas=True,
        )
        for column in ("received_at", "arrived_at")
    }
    table = pa.table(
        [
            arrow_texts(frame["request_id"]),
            arrow_texts(frame["label"]),
            times["received_at"],
            times["arrived_at"],
        ],
        names=list(LABEL_COLUMNS),
    )
    sink = io.BytesIO()
    # request ids are distinct: a dictionary only pays off for the labels; nothing filters by statistics
    pq.write_table(table, sink, compression="zstd", use_dictionary=["label"], write_statistics=False)
    conn.execute(
        t.label_blocks.insert().values(
            model_id=model_id, ingestion_id=ingestion_id, n_rows=len(frame), n_new=n_new, data=sink.getvalue()
        )
    )


def has_label_blocks(conn: Connection, model_id: int) -> bool:
    """Whether an upload stored delayed labels of the model as blocks."""
    b = t.label_blocks.c
    return conn.execute(select(b.id).where(b.model_id == model_id).limit(1)).first() is not None


def count_labels(conn: Connection, model_id: int) -> int:
    """The labels the model's label blocks hold (an id a later block labelled again counts twice)."""
    b = t.label_blocks.c
    return int(
        conn.execute(select(func.coalesce(func.sum(b.n_rows), 0)).where(b.model_id == model_id)).scalar_one()
    )


def new_per_model(conn: Connection, model_ids: Iterable[int]) -> dict[int, int]:
    """Distinct request ids with a block label, per model (one grouped query)."""
    b = t.label_blocks.c
    query = (
        select(b.model_id, func.sum(b.n_new)).where(b.model_id.in_(sorted(model_ids))).group_by(b.model_id)
    )
    return {int(m): int(n) for m, n in conn.execute(query)}


def labelled_ids(conn: Connection, model_id: int) -> Any:
    """The request ids of every label block of the model, as one Arrow string array (an id may repeat)."""
    import pyarrow as pa

    parts = [_read(data, ["request_id"]).column("request_id") for data in _blocks(conn, model_id)]
    if not parts:
        return pa.array([], type=pa.string())
    return pa.chunked_array(parts).combine_chunks()


def block_labels(conn: Connection, model_id: int, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The model's block labels (of these ids, when given), the newest block's per id: request_id, label, received_at, arrived_at."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = None if ids is None else pa.array(list(dict.fromkeys(ids)), type=pa.string())
    parts = []
    for data in _blocks(conn, model_id):
        table = _read(data, list(LABEL_COLUMNS))
        if wanted is not None:
            table = table.filter(pc.is_in(table.column("request_id"), value_set=wanted))
        if table.num_rows:
            parts.append(table)
    if not parts:
        return pd.DataFrame(
            {
                "request_id": pd.Series(dtype=object),
                "label": pd.Series(dtype=object),
                "received_at": pd.Series(dtype="datetime64[us]"),
                "arrived_at": pd.Series(dtype="datetime64[us]"),
            }
        )
    table = pa.concat_tables(parts)
    frame = pd.DataFrame(
        {
            "request_id": table.column("request_id").to_numpy(zero_copy_only=False).astype(object),
            "label": table.column("label").to_numpy(zero_copy_only=False).astype(object),
            "received_at": table.column("received_at").to_numpy().astype("datetime64[us]"),
            "arrived_at": table.column("arrived_at").to_numpy().astype("datetime64[us]"),
        }
    )
    if len(parts) > 1:  # a later block's label of an id replaces an earlier one's
        frame = frame.drop_duplicates("request_id", keep="last").reset_index(drop=True)
    return frame


def _blocks(conn: Connection, model_id: int) -> list[bytes]:
    """The model's label blocks' bytes, oldest first."""
    b = t.label_blocks.c
    return list(conn.execute(select(b.data).where(b.model_id == model_id).order_by(b.id)).scalars())


def _read(data: bytes, columns: list[str]) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data), columns=columns)
