"""Turn uploaded CSV bytes into a frame of strings, or say exactly why they are not a usable CSV.

Reads comma, semicolon and tab delimiters; UTF-8 (with or without BOM), UTF-16 with BOM,
Windows-1252 and latin-1; quoted fields. Every cell stays a string here: typing happens in
``validate`` so a bad value can be reported with its row.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from readiness.core.tablefile import (
    CONTROL_CHARS,
    DELIMITER_NAMES,
    TableFile,
    check_header,
    check_size,
    content_hash,
)
from readiness.errors import FileFormatError

DELIMITERS = (",", ";", "\t")
MISSING_MARKERS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", "#N/A"]


def read_csv_bytes(data: bytes, filename: str = "upload.csv", max_bytes: int | None = None) -> TableFile:
    """Parse CSV bytes into a frame of strings; raise FileFormatError with the reason and fix.

    >>> read_csv_bytes(b"a;b\\n1;x\\n").frame.to_dict("list")
    {'a': ['1'], 'b': ['x']}
    """
    check_size(data, filename, max_bytes)
    empty = FileFormatError(f"{filename} is empty. Export the data again with a header row and rows.")
    if not data.strip():
        raise empty
    text, encoding = decode_bytes(data, filename)
    if not text.strip():  # a byte-order mark and whitespace only
        raise empty
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
    except pd.errors.EmptyDataError:  # e.g. nothing but byte-order marks
        raise empty from None
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"{filename} could not be parsed as a {DELIMITER_NAMES[delimiter]}-separated file: "
            f"{str(exc).strip()}. "
            "Check that every row has as many fields as the header and quotes are closed."
        ) from None
    if frame.empty:
        raise FileFormatError(
            f"{filename} has a header ({', '.join(header[:8])}) but no data rows. "
            "Add at least one row below the header."
        )
    if frame.shape[1] != len(header):  # pandas and the csv module split the header differently
        raise FileFormatError(
            f"{filename} has an unclear header line: it reads as {len(header)} or {frame.shape[1]} columns. "
            "Remove blank or odd characters before the header and save it as CSV (UTF-8) again."
        )
    frame.columns = header
    return TableFile(frame, delimiter, encoding, content_hash(data), len(data))


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
            "(Excel, zip) do, and it is not a whole Parquet file either. "
            "Save or export it as CSV (UTF-8) or Parquet and upload that."
        )
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        match = CONTROL_CHARS.search(text)
        if match is None:
            return text, "utf-8" if encoding == "utf-8-sig" else encoding
        bad = match.start()
        if encoding == "latin-1":
            raise FileFormatError(
                f"{filename} is not readable text: character {ord(text[bad]):#04x} at position {bad} "
                "is a control byte in UTF-8, Windows-1252 and latin-1 alike. "
                "Save or export it as CSV (UTF-8) and upload that."
            )
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """Pick comma, semicolon or tab from the first lines of a CSV.

    The delimiter that splits the first lines (quotes honoured) into one number of fields,
    more than one, wins; comma on a tie.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n")
    ';'
    >>> sniff_delimiter('"x""; y",b\\n1,2\\n')
    ','
    """
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    best, best_key = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [
                row
                for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                if not _blank(row, delimiter)
            ]
        except csv.Error:
            continue
        if len(lines) > 50 and len(rows) > 2:
            rows = rows[:-1]  # the sample may cut the last record short
        if not rows:
            continue
        width = len(rows[0])
        share = sum(len(row) == width for row in rows) / len(rows)
        key = (width > 1, share, width)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _blank(row: list[str], delimiter: str) -> bool:
    """A line of nothing but spaces and tabs, which pandas skips too."""
    return not row or ((len(row) == 1 or delimiter == "\t") and not "".join(row).strip(" \t"))


def _header(text: str, delimiter: str, filename: str) -> list[str]:
    """The header's column names; raise FileFormatError for bad names or a row of another width."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows = (row for row in reader if not _blank(row, delimiter))
    try:
        names = [cell.strip() for cell in next(rows, [])]
        if not names:
            raise FileFormatError(f"{filename} is empty. Export the data again with a header row and rows.")
        check_header(names, filename)
        for row in rows:  # pandas pads short rows and may take a longer first row as an index
            if len(row) != len(names):
                raise FileFormatError(
                    f"{filename} line {reader.line_num} has {len(row)} field(s) but the header has "
                    f"{len(names)}. Check that every row has as many fields as the header, that fields "
                    f"containing a {DELIMITER_NAMES[delimiter]} are quoted, and that quotes are closed."
                )
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileFormatError(
                f"{filename} line {reader.line_num} has a field over {csv.field_size_limit() // 1024} kB. "
                "A single value that long is no feature or label: remove it, or check for a quote that opens "
                "a field and never closes."
            ) from None
        raise FileFormatError(
            f"{filename} could not be parsed as a {DELIMITER_NAMES[delimiter]}-separated file at line "
            f"{reader.line_num}: {exc}. Check that quotes are closed."
        ) from None
    return names
