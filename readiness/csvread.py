"""Turn uploaded bytes into a frame of strings, or say exactly why they are not a usable CSV.

Reads comma, semicolon and tab delimiters; UTF-8 (with or without BOM), UTF-16 with BOM,
Windows-1252 and latin-1; quoted fields. Every cell stays a string here: typing happens in
``validate`` so a bad value can be reported with its row.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

import pandas as pd

from readiness.config import max_upload_bytes
from readiness.errors import FileFormatError

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
MISSING_MARKERS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", "#N/A"]


@dataclass(frozen=True)
class CsvFile:
    """A parsed CSV: its cells as strings plus how it was read."""

    frame: pd.DataFrame
    delimiter: str
    encoding: str
    content_hash: str
    n_bytes: int

    @property
    def delimiter_name(self) -> str:
        """The delimiter in words: comma, semicolon or tab."""
        return DELIMITER_NAMES[self.delimiter]


def content_hash(data: bytes) -> str:
    """SHA-256 of the raw bytes: the identity of an upload.

    >>> content_hash(b"a,b\\n1,2\\n")[:12]
    '5ccb2e0d2b1b'
    """
    return hashlib.sha256(data).hexdigest()


def read_csv_bytes(data: bytes, filename: str = "upload.csv", max_bytes: int | None = None) -> CsvFile:
    """Parse CSV bytes into a frame of strings; raise FileFormatError with the reason and fix.

    >>> read_csv_bytes(b"a;b\\n1;x\\n").frame.to_dict("list")
    {'a': ['1'], 'b': ['x']}
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FileFormatError(
            f"{filename} is {len(data) / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit. "
            "Split it into smaller files, or raise READINESS_MAX_UPLOAD_MB."
        )
    if not data.strip():
        raise FileFormatError(f"{filename} is empty. Export the data again with a header row and rows.")
    text, encoding = decode_bytes(data, filename)
    delimiter = sniff_delimiter(text)
    header = _header(text, delimiter, filename)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=MISSING_MARKERS,
            skipinitialspace=True,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"{filename} could not be parsed as a {DELIMITER_NAMES[delimiter]}-separated file: {exc}. "
            "Check that every row has as many fields as the header and quotes are closed."
        ) from None
    if frame.empty:
        raise FileFormatError(
            f"{filename} has a header ({', '.join(header[:8])}) but no data rows. "
            "Add at least one row below the header."
        )
    frame.columns = header
    return CsvFile(frame, delimiter, encoding, content_hash(data), len(data))


def decode_bytes(data: bytes, filename: str = "upload.csv") -> tuple[str, str]:
    """Decode as UTF-8 (BOM or not), UTF-16 with BOM, Windows-1252 or latin-1; refuse binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileFormatError(
            f"{filename} is not text: it has a NUL byte at offset {nul}, as binary files "
            "(Excel, Parquet, zip) do. Save or export it as CSV (UTF-8) and upload that."
        )
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = next((i for i, ch in enumerate(text) if _is_control(ch)), None)
        if bad is None:
            return text, "utf-8" if encoding == "utf-8-sig" else encoding
        if encoding == "latin-1":
            raise FileFormatError(
                f"{filename} is not readable text: character {ord(text[bad]):#04x} at position {bad} "
                "is a control byte in UTF-8, Windows-1252 and latin-1 alike. "
                "Save or export it as CSV (UTF-8) and upload that."
            )
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return (code < 32 and ch not in "\t\r\n") or 0x7F <= code <= 0x9F


def sniff_delimiter(text: str) -> str:
    """Pick comma, semicolon or tab from the first lines of a CSV.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n")
    ';'
    """
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = next((line for line in text.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in DELIMITERS}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _header(text: str, delimiter: str, filename: str) -> list[str]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    header = next((row for row in reader if any(cell.strip() for cell in row)), [])
    names = [cell.strip() for cell in header]
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise FileFormatError(
            f"{filename}: header column(s) {', '.join(map(str, blank))} have no name. "
            "Give every column a name in the first row."
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FileFormatError(
            f"{filename} has duplicate column names: {', '.join(repr(d) for d in duplicates)}. "
            "Rename them so every column name is unique."
        )
    return names
