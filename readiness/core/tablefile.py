"""An uploaded table (CSV or Parquet) read into a frame of strings, and the checks every format shares.

Every cell stays a string (missing cells are missing): typing happens in ``validate`` so a bad
value is reported with its line, whatever format the file came in.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from readiness.config import max_upload_bytes
from readiness.errors import FileFormatError

MEGABYTE = 1024 * 1024  # as READINESS_MAX_UPLOAD_MB counts them
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
PARQUET_MAGIC = b"PAR1"
# C0 controls except tab, CR and LF; DEL and the C1 range. Refused in every uploaded cell and name.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_COLUMNS = 5_000  # features, outputs and ids of one model; a wider file is a wrong delimiter or not a log


@dataclass(frozen=True)
class TableFile:
    """A parsed upload: its cells as strings plus how it was read."""

    frame: pd.DataFrame
    delimiter: str  # "" for Parquet
    encoding: str  # "" for Parquet
    content_hash: str
    n_bytes: int
    format: str = "csv"  # "csv" or "parquet"

    @property
    def delimiter_name(self) -> str:
        """The delimiter in words: comma, semicolon or tab ("" for Parquet)."""
        return DELIMITER_NAMES.get(self.delimiter, "")

    @property
    def described(self) -> str:
        """How the file was read, for people: "utf-8, comma-separated" or "Parquet"."""
        if self.format == "parquet":
            return "Parquet"
        return f"{self.encoding}, {self.delimiter_name}-separated"


@dataclass(frozen=True)
class TableChunk:
    """A block of an upload's rows as strings, indexed by their data-row number in the file (0 is line 2)."""

    frame: pd.DataFrame
    done: float  # share of the file read once this block is
    last: bool = False  # True when no rows follow (False may still turn out to be the end)


@dataclass(frozen=True)
class TableSource:
    """An upload read block by block: its first block (read and checked already) and a way to read all.

    ``head.content_hash`` and ``head.n_bytes`` are the whole file's. When ``complete`` the head
    holds every row. Memory holds one block at a time, whatever the file's size.
    """

    filename: str
    head: TableFile
    complete: bool
    _rest: Callable[[], Iterator[TableChunk]]  # the blocks after the head

    @classmethod
    def of(cls, table: TableFile, filename: str = "upload.csv") -> TableSource:
        """A table already read whole, as a source of one block."""
        return cls(filename, table, True, lambda: iter(()))

    def chunks(self) -> Iterator[TableChunk]:
        """Every block of rows, from the first; the head's block is not parsed again."""
        if self.complete:
            yield TableChunk(self.head.frame, 1.0, True)
            return
        yield TableChunk(self.head.frame, 0.0, False)
        yield from self._rest()

    def whole(self) -> TableFile:
        """Every row in one frame (memory grows with the file: for baselines, not logs)."""
        if self.complete:
            return self.head
        return replace(self.head, frame=pd.concat([chunk.frame for chunk in self.chunks()]))


def content_hash(data: bytes) -> str:
    """SHA-256 of the raw bytes: the identity of an upload.

    >>> content_hash(b"a,b\\n1,2\\n")[:12]
    '492d5ea49605'
    """
    return hashlib.sha256(data).hexdigest()


def is_parquet(data: bytes) -> bool:
    """Whether the bytes are framed as a Parquet file (``PAR1`` at both ends).

    >>> is_parquet(b"PAR1" + bytes(8) + b"PAR1"), is_parquet(b"a,b\\n1,2\\n")
    (True, False)
    """
    return len(data) >= 12 and data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC


def read_table_bytes(data: bytes, filename: str = "upload.csv", max_bytes: int | None = None) -> TableFile:
    """Read an upload as Parquet when it is one, else as CSV; raise FileFormatError with the reason and fix.

    >>> read_table_bytes(b"a;b\\n1;x\\n").frame.to_dict("list")
    {'a': ['1'], 'b': ['x']}
    """
    return open_table(data, filename, max_bytes, block_bytes=None).head


BLOCK_BYTES = 16 * MEGABYTE  # about 100,000 rows of a 15-feature log at a time


def open_table(
    source: bytes | Path,
    filename: str = "upload.csv",
    max_bytes: int | None = None,
    block_bytes: int | None = BLOCK_BYTES,
) -> TableSource:
    """Open an upload (bytes, or a file on disk) to read block by block; its first block is read and checked.

    Parquet when it is one, else CSV. Bytes are held to the upload limit; a file on disk is
    streamed, so its size is not limited. ``block_bytes=None`` reads the whole file as one block.

    >>> source = open_table(b"a,b\\n1,x\\n", "f.csv")
    >>> source.complete, source.head.frame.to_dict("list")
    (True, {'a': ['1'], 'b': ['x']})
    """
    if _is_parquet_source(source):
        from readiness.core.parquetread import open_parquet

        return open_parquet(source, filename, max_bytes, block_bytes)
    from readiness.core.csvread import open_csv

    return open_csv(source, filename, max_bytes, block_bytes)


def _is_parquet_source(source: bytes | Path) -> bool:
    if isinstance(source, bytes):
        return is_parquet(source)
    with source.open("rb") as stream:
        start = stream.read(4)
        if stream.seek(0, 2) < 12:
            return False
        stream.seek(-4, 2)
        return start == PARQUET_MAGIC and stream.read(4) == PARQUET_MAGIC


def check_size(data: bytes, filename: str, max_bytes: int | None = None) -> int:
    """Refuse a file over the upload limit (READINESS_MAX_UPLOAD_MB); return the limit in bytes."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FileFormatError(
            f"{filename} is {megabytes(len(data))} MB, over the {megabytes(limit)} MB limit. "
            "Split it into smaller files, or raise READINESS_MAX_UPLOAD_MB."
        )
    return limit


def check_header(names: list[str], filename: str) -> None:
    """Refuse blank or duplicate column names, naming them, and more columns than a log has."""
    if len(names) > MAX_COLUMNS:
        raise FileFormatError(
            f"{filename} has {len(names):,} columns, over the {MAX_COLUMNS:,} a prediction log can have. "
            "Keep the model's features and outputs, or check that the delimiter was read right."
        )
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise FileFormatError(
            f"{filename}: header column(s) {', '.join(map(str, blank))} have no name. "
            "Give every column a name in the first row."
        )
    duplicates = sorted(name for name, n in Counter(names).items() if n > 1)  # linear: headers can be wide
    if duplicates:
        raise FileFormatError(
            f"{filename} has duplicate column names: {', '.join(repr(d) for d in duplicates)}. "
            "Rename them so every column name is unique."
        )


def megabytes(n_bytes: int) -> str:
    """Bytes as megabytes for messages, with enough digits that a small limit is not '0.0'.

    >>> megabytes(3 * 1024 * 1024), megabytes(1000)
    ('3.0', '0.00095')
    """
    value = n_bytes / MEGABYTE
    return f"{value:.1f}" if value >= 0.1 else f"{value:.2g}"
