"""Turn uploaded Parquet bytes into a frame of strings, or say exactly why they cannot be used.

The same frame a CSV export of the file would give: one string per cell (numbers written
shortest-exact, booleans as True/False, times in ISO 8601), missing cells missing. Line numbers
in later messages count as in that CSV export (the header is line 1). Hostile files are refused
before they are unpacked: nested or binary columns, duplicate or blank names, control
characters, and files with more cells, or more unpacked bytes, than an upload under the limit
could hold.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from readiness.core.tablefile import (
    CONTROL_CHARS,
    TableFile,
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
    limit = check_size(data, filename, max_bytes)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
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
    cells = metadata.num_rows * len(names)
    if cells > limit // 2:  # a CSV under the limit holds at most one cell per two bytes ("0,")
        raise FileFormatError(
            f"{filename} holds {metadata.num_rows:,} rows x {len(names)} columns, more cells than a CSV "
            f"under the {megabytes(limit)} MB upload limit could. Split it into smaller files, "
            "or raise READINESS_MAX_UPLOAD_MB."
        )
    unpacked = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if unpacked > UNPACKED_FACTOR * limit:
        raise FileFormatError(
            f"{filename} unpacks to {megabytes(unpacked)} MB, over {UNPACKED_FACTOR} times the "
            f"{megabytes(limit)} MB upload limit. Split it into smaller files, or raise READINESS_MAX_UPLOAD_MB."
        )
    try:
        table = parquet.read(columns=names, use_pandas_metadata=False)
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:
        raise FileFormatError(f"{filename} could not be read: {_reason(exc)}. {EXPORT_AGAIN}") from None
    frame = pd.DataFrame({name.strip(): _as_text(table.column(name), name, filename) for name in names})
    return TableFile(frame, "", "", content_hash(data), len(data), format="parquet")


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


def _as_text(column: pa.ChunkedArray, name: str, filename: str) -> pd.Series:
    """One column as strings, missing values missing."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_boolean(column.type):
        text = pc.if_else(column, "True", "False")  # as pandas writes booleans to CSV
    elif pa.types.is_null(column.type):
        text = pa.chunked_array([pa.nulls(len(column), pa.string())])
    else:
        text = column.cast(pa.string())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        found = pc.match_substring_regex(text, ARROW_CONTROL_CHARS)
        if pc.any(found).as_py():
            row = int(pc.index(found, True).as_py())
            raise FileFormatError(
                f"{filename} column {name!r} has a control character at line {row + 2} "
                "(counting the header as line 1). Remove it from the data and export again."
            )
    return text.to_pandas().astype("str")
