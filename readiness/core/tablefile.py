"""An uploaded table (CSV or Parquet) read into a frame of strings, and the checks every format shares.

Every cell stays a string (missing cells are missing): typing happens in ``validate`` so a bad
value is reported with its line, whatever format the file came in.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

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
    if is_parquet(data):
        from readiness.core.parquetread import read_parquet_bytes

        return read_parquet_bytes(data, filename, max_bytes)
    from readiness.core.csvread import read_csv_bytes

    return read_csv_bytes(data, filename, max_bytes)


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
