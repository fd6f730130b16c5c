"""Turn uploaded Parquet bytes into a frame of strings, or say exactly why they cannot be used.

The same frame a CSV export of the file would give: one string per cell (numbers written
shortest-exact, booleans as True/False, times in ISO 8601), missing cells missing. Line numbers
in later messages count as in that CSV export (the header is line 1). Hostile files are refused
before they are unpacked: nested or binary columns, duplicate or blank names, control
characters, and files with more cells, or more unpacked bytes, than an upload under the limit
could hold.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from readiness.core.tablefile import (
    CONTROL_CHARS,
    TableChunk,
    TableFile,
    TableSource,
    check_header,
    check_size,
    content_hash,
    megabytes,
)
from readiness.errors import FileFormatError

UNPACKED_FACTOR = 8  # a Parquet file may unpack to this many times the upload limit, no more
# pandas writes its index as a column of this name; it is not data
PANDAS_INDEX = re.compile(r"__index_level_\d+__")
# C0 controls except tab, CR and LF; DEL and the C1 range (RE2 syntax, as pyarrow reads it)
# tablefile.CONTROL_CHARS in RE2 syntax, which pyarrow's compute functions read
ARROW_CONTROL_CHARS = r"[\x{00}-\x{08}\x{0b}\x{0c}\x{0e}-\x{1f}\x{7f}-\x{9f}]"
EXPORT_AGAIN = "Export it again (for example pandas DataFrame.to_parquet) or upload it as CSV."


def read_parquet_bytes(
    data: bytes, filename: str = "upload.parquet", max_bytes: int | None = None
) -> TableFile:
    """Parse Parquet bytes into a frame of strings; raise FileFormatError with the reason and fix."""
    return open_parquet(data, filename, max_bytes, block_bytes=None).head


def open_parquet(
    source: bytes | Path,
    filename: str = "upload.parquet",
    max_bytes: int | None = None,
    block_bytes: int | None = None,
) -> TableSource:
    """Check a Parquet file (bytes, or a file on disk) and read its first batch of rows as strings.

    ``block_bytes`` bounds the unpacked bytes read at a time (None: every row at once). Bytes
    are held to the upload limit (and so is what they unpack to); a file on disk is streamed.
    """
    n_bytes = len(source) if isinstance(source, bytes) else source.stat().st_size
    limit = check_size(source, filename, max_bytes) if isinstance(source, bytes) else None
    try:
        parquet = _open(source)
        metadata = parquet.metadata
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FileFormatError(
            f"{filename} is not a readable Parquet file: {_reason(exc)}. {EXPORT_AGAIN}"
        ) from None
    names = [name for name in schema.names if not PANDAS_INDEX.fullmatch(name)]
    if not names:
        raise FileFormatError(f"{filename} has no columns. {EXPORT_AGAIN}")
    check_header([name.strip() for name in names], filename)
    _check_types(schema, names, filename)
    if metadata.num_rows == 0:
        raise FileFormatError(
            f"{filename} has columns ({', '.join(names[:8])}) but no rows. Add at least one row."
        )
    unpacked = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if limit is not None:  # bytes in memory
        _check_bomb(metadata.num_rows, len(names), unpacked, limit, filename)
    rows = metadata.num_rows
    if block_bytes is not None:
        rows = max(1, min(rows, int(block_bytes * metadata.num_rows / max(unpacked, 1))))
    batches = _batches(source, names, rows, metadata.num_rows, filename)
    first = next(batches)
    head = TableFile(first.frame, "", "", _digest(source), n_bytes, format="parquet")
    return TableSource(
        filename, head, first.last, lambda: _batches(source, names, rows, metadata.num_rows, filename, skip=1)
    )


def _open(source: bytes | Path) -> pq.ParquetFile:
    return pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else str(source))


def _digest(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return content_hash(source)
    digest = hashlib.sha256()
    with source.open("rb") as stream:
        while block := stream.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _check_bomb(n_rows: int, n_columns: int, unpacked: int, limit: int, filename: str) -> None:
    """Refuse bytes that hold or unpack to far more than a file under the upload limit could."""
    if n_rows * n_columns > limit // 2:  # a CSV under the limit holds at most one cell per two bytes ("0,")
        raise FileFormatError(
            f"{filename} holds {n_rows:,} rows x {n_columns} columns, more cells than a CSV "
            f"under the {megabytes(limit)} MB upload limit could. Split it into smaller files, "
            "or raise READINESS_MAX_UPLOAD_MB."
        )
    if unpacked > UNPACKED_FACTOR * limit:
        raise FileFormatError(
            f"{filename} unpacks to {megabytes(unpacked)} MB, over {UNPACKED_FACTOR} times the "
            f"{megabytes(limit)} MB upload limit. Split it into smaller files, or raise READINESS_MAX_UPLOAD_MB."
        )


def _batches(
    source: bytes | Path, names: list[str], rows: int, total: int, filename: str, skip: int = 0
) -> Iterator[TableChunk]:
    """The file's rows as string frames of about ``rows`` rows, indexed by row number; the first ``skip`` blocks are passed over unconverted."""
    start = 0
    try:
        for k, table in enumerate(_blocks(source, names, rows)):
            if k >= skip:
                yield _chunk(table, names, start, total, filename)
            start += table.num_rows
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:
        raise FileFormatError(f"{filename} could not be read: {_reason(exc)}. {EXPORT_AGAIN}") from None


def _blocks(source: bytes | Path, names: list[str], rows: int) -> Iterator[pa.Table]:
    """Arrow tables of at least ``rows`` rows (the last may have fewer): batches stop at row groups, so they are gathered."""
    pending: list[pa.RecordBatch] = []
    gathered = 0
    for batch in _open(source).iter_batches(batch_size=rows, columns=names, use_pandas_metadata=False):
        pending.append(batch)
        gathered += batch.num_rows
        if gathered >= rows:
            yield pa.Table.from_batches(pending)
            pending, gathered = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _chunk(table: pa.Table, names: list[str], start: int, total: int, filename: str) -> TableChunk:
    end = start + table.num_rows
    return TableChunk(text_frame(table, names, start, filename), end / total, end >= total)


def text_frame(
    table: pa.Table, names: list[str], start: int = 0, filename: str = "upload.parquet"
) -> pd.DataFrame:
    """Arrow columns as the text a CSV export of them would hold, indexed by row number from ``start``.

    What validation reads, whether the rows come from an uploaded Parquet file or a Spark batch.
    """
    frame = pd.DataFrame(
        {name.strip(): _as_text(table.column(i), name, filename, start) for i, name in enumerate(names)}
    )
    frame.index = pd.RangeIndex(start, start + table.num_rows)
    return frame


def _reason(exc: BaseException) -> str:
    """The library's reason in one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200].rstrip(".")


def _check_types(schema: pa.Schema, names: list[str], filename: str) -> None:
    """Refuse columns that hold no single value per cell (lists, structs, maps) or raw bytes."""
    if any(CONTROL_CHARS.search(name) for name in names):
        raise FileFormatError(f"{filename} has a column name with control characters. Rename the columns.")
    unusable = [
        f"{name} ({schema.field(name).type})" for name in names if not _usable(schema.field(name).type)
    ]
    if unusable:
        raise FileFormatError(
            f"{filename} has column(s) that hold no single text, number, boolean or time per row: "
            f"{', '.join(unusable[:5])}. Flatten them into plain columns, or drop them, before uploading."
        )


def _usable(kind: pa.DataType) -> bool:
    """Whether a column of this type reads as one value per cell."""
    if pa.types.is_dictionary(kind):
        return _usable(kind.value_type)
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or pa.types.is_null(kind)
    )


def _as_text(column: pa.Array | pa.ChunkedArray, name: str, filename: str, start: int = 0) -> pd.Series:
    """One column as strings, missing values missing; ``start`` is its first row's number in the file."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_boolean(column.type):
        text = pc.if_else(column, "True", "False")  # as pandas writes booleans to CSV
    elif pa.types.is_null(column.type):
        text = pa.nulls(len(column), pa.string())
    else:
        text = column.cast(pa.string())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        found = pc.match_substring_regex(text, ARROW_CONTROL_CHARS)
        if pc.any(found).as_py():
            row = int(pc.index(found, True).as_py())
            raise FileFormatError(
                f"{filename} column {name!r} has a control character at line {start + row + 2} "
                "(counting the header as line 1). Remove it from the data and export again."
            )
    return text.to_pandas().astype("str")
