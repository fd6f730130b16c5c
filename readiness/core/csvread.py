"""Turn uploaded CSV bytes into frames of strings, or say exactly why they are not a usable CSV.

Reads comma, semicolon and tab delimiters; UTF-8 (with or without BOM), UTF-16 with BOM,
Windows-1252 and latin-1; quoted fields. Every cell stays a string here: typing happens in
``validate`` so a bad value can be reported with its row.

A file is read in blocks of whole records (``open_csv``), so memory stays bounded whatever its
size; ``read_csv_bytes`` reads it as one block. Both go through the same steps, so a file read
in many blocks gives exactly the rows it gives in one.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import pandas as pd

from readiness.core.csvfast import ArrowBlocks, header_line, is_plain
from readiness.core.tablefile import (
    CONTROL_CHARS,
    DELIMITER_NAMES,
    MEGABYTE,
    TableChunk,
    TableFile,
    TableSource,
    check_header,
    check_size,
)
from readiness.errors import FileFormatError

DELIMITERS = (",", ";", "\t")
MISSING_MARKERS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", "#N/A"]
SCAN_BYTES = 8 * MEGABYTE  # the hash and encoding pass reads this much at a time
SNIFF_CHARS = 64 * 1024  # the delimiter is told from the first lines, within this much text
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # tried in this order; latin-1 decodes any byte


def read_csv_bytes(data: bytes, filename: str = "upload.csv", max_bytes: int | None = None) -> TableFile:
    """Parse CSV bytes into a frame of strings; raise FileFormatError with the reason and fix.

    >>> read_csv_bytes(b"a;b\\n1;x\\n").frame.to_dict("list")
    {'a': ['1'], 'b': ['x']}
    """
    return open_csv(data, filename, max_bytes, block_chars=None).head


def open_csv(
    source: bytes | Path,
    filename: str = "upload.csv",
    max_bytes: int | None = None,
    block_chars: int | None = None,
) -> TableSource:
    """Check a CSV (bytes in memory, or a file) and read its first block of records.

    ``block_chars`` bounds the text parsed at a time (None: the whole file in one block). The
    returned source reads the rest block by block; bytes are checked against the upload limit,
    a file on disk is streamed whatever its size.

    >>> source = open_csv(b"a,b\\n1,x\\n2,y\\n", block_chars=4)
    >>> [chunk.frame.index.tolist() for chunk in source.chunks()]
    [[0], [1]]
    """
    opener = _opener(source)
    n_bytes = len(source) if isinstance(source, bytes) else source.stat().st_size
    if isinstance(source, bytes):
        check_size(source, filename, max_bytes)
    empty = FileFormatError(f"{filename} is empty. Export the data again with a header row and rows.")
    if n_bytes == 0:
        raise empty
    digest, encoding = _scan(opener, filename)
    with _text(opener, encoding) as text:
        delimiter = sniff_delimiter(text.read(SNIFF_CHARS))
    blocks = _Blocks(opener, encoding, delimiter, filename, block_chars, n_bytes)
    fast = _arrow_blocks(opener, encoding, delimiter, filename, block_chars, n_bytes)
    if fast is not None:
        fast_first = next(_rows_from(0, fast.blocks, blocks.every_block), None)
        if fast_first is not None:
            stop = fast_first.frame.index[-1] + 1
            head = TableFile(fast_first.frame, delimiter, encoding, digest, n_bytes)
            return TableSource(
                filename, head, fast_first.last, lambda: _rows_from(stop, fast.blocks, blocks.every_block)
            )
    header, first = blocks.header_and_first()
    if first is None:
        raise FileFormatError(
            f"{filename} has a header ({', '.join(header[:8])}) but no data rows. "
            "Add at least one row below the header."
        )
    head = TableFile(first.frame, delimiter, encoding, digest, n_bytes)
    return TableSource(filename, head, first.last, blocks.after_first)


def _arrow_blocks(
    opener: Callable[[], BinaryIO],
    encoding: str,
    delimiter: str,
    filename: str,
    block_chars: int | None,
    n_bytes: int,
) -> ArrowBlocks | None:
    """Arrow's reader of a plain UTF-8 file whose first line is its header (None: read it the careful way)."""
    if encoding != "utf-8" or not is_plain(opener, delimiter):
        return None
    header = header_line(opener, delimiter)
    if header is None:
        return None
    check_header(header, filename)
    return ArrowBlocks(opener, delimiter, header, MISSING_MARKERS, block_chars, n_bytes)


def _rows_from(
    skip: int, fast: Callable[[], Iterator[TableChunk]], careful: Callable[[], Iterator[TableChunk]]
) -> Iterator[TableChunk]:
    """The blocks of data rows from row ``skip`` on: Arrow's, then the careful path's from where Arrow gave up.

    Both number rows alike (blank lines skipped), so the careful path resumes at the first row
    Arrow did not hand over, and a malformed line gets the careful path's message naming it.
    """
    import pyarrow as pa

    handed = skip
    try:
        for chunk in fast():
            kept = chunk.frame.loc[chunk.frame.index >= handed]
            if len(kept):
                handed = int(kept.index[-1]) + 1
                yield TableChunk(kept, chunk.done, chunk.last)
        return
    except pa.ArrowInvalid:
        pass
    for chunk in careful():
        kept = chunk.frame.loc[chunk.frame.index >= handed]
        if len(kept):
            yield TableChunk(kept, chunk.done, chunk.last)


def _opener(source: bytes | Path) -> Callable[[], BinaryIO]:
    """A way to open the source from its start, as many times as needed."""
    if isinstance(source, bytes):
        return lambda: io.BytesIO(source)  # shares the bytes; nothing is copied
    return lambda: source.open("rb")


def _text(opener: Callable[[], BinaryIO], encoding: str) -> io.TextIOWrapper:
    """The source as text; a UTF-8 byte-order mark is dropped."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    return io.TextIOWrapper(opener(), encoding=codec, newline="")


def _scan(opener: Callable[[], BinaryIO], filename: str) -> tuple[str, str]:
    """The SHA-256 of the bytes and the encoding to read them with; refuse binary and control bytes."""
    with opener() as stream:
        start = stream.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        digest, problem = _decodes(opener, "utf-16", filename, nul_is_binary=False)
        if problem is None:
            return digest, "utf-16"
    for encoding in ENCODINGS:
        digest, problem = _decodes(opener, encoding, filename, nul_is_binary=True)
        if problem is None:
            return digest, "utf-8" if encoding == "utf-8-sig" else encoding
        if isinstance(problem, FileFormatError):
            raise problem
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _decodes(
    opener: Callable[[], BinaryIO], encoding: str, filename: str, nul_is_binary: bool
) -> tuple[str, Exception | None]:
    """Hash the bytes while decoding them: (digest, None) when they are clean text in this encoding.

    The problem returned is a UnicodeDecodeError (try the next encoding), a ValueError for a
    control character (try the next, unless this is the last) or the FileFormatError to raise.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = chars = 0
    with opener() as stream:
        while True:
            block = stream.read(SCAN_BYTES)
            final = len(block) < SCAN_BYTES
            digest.update(block)
            nul = block.find(b"\x00") if nul_is_binary else -1
            if nul >= 0:
                return "", FileFormatError(
                    f"{filename} is not text: it has a NUL byte at offset {offset + nul}, as binary files "
                    "(Excel, zip) do, and it is not a whole Parquet file either. "
                    "Save or export it as CSV (UTF-8) or Parquet and upload that."
                )
            clean = _ascii_without_controls(block)
            if clean and offset > 0 and encoding != "utf-16" and not decoder.getstate()[0]:
                # clean ASCII after a whole character reads the same in UTF-8, cp1252 and latin-1: not decoded
                offset, chars = offset + len(block), chars + len(block)
                if final:
                    return digest.hexdigest(), None
                continue
            try:
                text = decoder.decode(block, final=final)
                if final and offset == 0 and encoding == "utf-8-sig" and len(block) < 3:
                    block.decode("utf-8")  # Python's utf-8-sig decoder takes a lone b"\xef" for a BOM's start
            except UnicodeDecodeError as exc:
                return "", exc
            match = None if clean else CONTROL_CHARS.search(text)
            if match is not None:
                bad = chars + match.start()
                if encoding != ENCODINGS[-1]:
                    return "", ValueError(bad)
                return "", FileFormatError(
                    f"{filename} is not readable text: character {ord(text[match.start()]):#04x} at position "
                    f"{bad} is a control byte in UTF-8, Windows-1252 and latin-1 alike. "
                    "Save or export it as CSV (UTF-8) and upload that."
                )
            offset += len(block)
            chars += len(text)
            if final:
                return digest.hexdigest(), None


_NOT_A_HEADER = (
    " If the first line is not the column names (some exports open with a title or with row and column"
    " counts), delete it so that the names come first."
)
_NOT_CONTROL = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def _ascii_without_controls(block: bytes) -> bool:
    """A quick pass for the usual block: ASCII with no control byte (then the decoded text has no control character)."""
    return block.isascii() and not block.translate(None, _NOT_CONTROL)


def decode_bytes(data: bytes, filename: str = "upload.csv") -> tuple[str, str]:
    """Decode as UTF-8 (BOM or not), UTF-16 with BOM, Windows-1252 or latin-1; refuse binary.

    >>> decode_bytes("Köln".encode("cp1252"))
    ('Köln', 'cp1252')
    """
    opener = _opener(data)
    _digest, encoding = _scan(opener, filename)
    with _text(opener, encoding) as text:
        return text.read(), encoding


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


class _Block(NamedTuple):
    text: str  # whole records
    start: int  # the data-row number of its first record
    n_rows: int
    done: float  # share of the file read once it is
    last: bool


class _Blocks:
    """The records of a CSV in blocks of whole records, each parsed by pandas into strings.

    Python's csv module walks the records once (checking every row has the header's number of
    fields, naming the physical line of the first that does not) and cuts the text after the
    record that fills a block; pandas then parses each block's text.
    """

    def __init__(
        self,
        opener: Callable[[], BinaryIO],
        encoding: str,
        delimiter: str,
        filename: str,
        block_chars: int | None,
        n_bytes: int,
    ) -> None:
        self.opener, self.encoding, self.delimiter = opener, encoding, delimiter
        self.filename, self.block_chars, self.total = filename, block_chars, max(n_bytes, 1)

    def header_and_first(self) -> tuple[list[str], TableChunk | None]:
        """The header's names and the first block (None when the file has no data rows)."""
        records = self._records()
        header = next(records)
        assert isinstance(header, list)
        first = next(records, None)
        records.close()
        return header, None if first is None else self._parse(header, first)

    def every_block(self) -> Iterator[TableChunk]:
        """Every block, parsed, from the first."""
        records = self._records()
        header = next(records)
        assert isinstance(header, list)
        for block in records:
            yield self._parse(header, block)

    def after_first(self) -> Iterator[TableChunk]:
        """Every block after the first, parsed (the first is walked over, not parsed)."""
        records = self._records()
        header = next(records)
        assert isinstance(header, list)
        next(records, None)
        for block in records:
            yield self._parse(header, block)

    def _parse(self, header: list[str], block: list[str] | _Block) -> TableChunk:
        assert isinstance(block, _Block)
        text, start, n_rows, done, last = block
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=self.delimiter,
                header=None,
                names=header,
                index_col=False,
                dtype=str,
                keep_default_na=False,
                na_values=MISSING_MARKERS,
                skipinitialspace=True,
                skip_blank_lines=True,
            )
        except pd.errors.ParserError as exc:
            raise self._unparsable(str(exc).strip()) from None
        if len(frame) != n_rows:  # pandas and the csv module split the records differently
            raise self._unparsable(f"{len(frame):,} or {n_rows:,} rows read from the same lines")
        frame.index = pd.RangeIndex(start, start + n_rows)
        return TableChunk(frame, done, last)

    def _unparsable(self, reason: str) -> FileFormatError:
        return FileFormatError(
            f"{self.filename} could not be parsed as a {DELIMITER_NAMES[self.delimiter]}-separated file: "
            f"{reason}. Check that every row has as many fields as the header and quotes are closed."
        )

    def _records(self) -> Generator[list[str] | _Block, None, None]:
        """Yield the header's names, then (text, first row, rows, share of the file read, last) per block."""
        pending: list[str] = []
        size = 0

        def lines(stream: io.TextIOWrapper) -> Iterator[str]:
            nonlocal size
            for line in stream:
                pending.append(line)
                size += len(line)
                yield line

        with _text(self.opener, self.encoding) as stream:
            reader = csv.reader(lines(stream), delimiter=self.delimiter, skipinitialspace=True)
            try:
                header = self._header(reader)
                yield header
                pending.clear()
                size = read = rows = start = 0
                for row in reader:
                    if _blank(row, self.delimiter):
                        continue
                    if len(row) != len(header):
                        raise FileFormatError(
                            f"{self.filename} line {reader.line_num} has {len(row)} field(s) but the header has "
                            f"{len(header)}. Check that every row has as many fields as the header, that fields "
                            f"containing a {DELIMITER_NAMES[self.delimiter]} are quoted, and that quotes are closed."
                            + (_NOT_A_HEADER if rows == 0 and len(row) > len(header) else "")
                        )
                    rows += 1
                    if self.block_chars is not None and size >= self.block_chars:
                        read += size
                        yield _Block("".join(pending), start, rows, min(read / self.total, 1.0), False)
                        pending.clear()
                        start, rows, size = start + rows, 0, 0
                if rows:
                    yield _Block("".join(pending), start, rows, 1.0, True)
            except csv.Error as exc:
                raise self._csv_error(exc, reader.line_num) from None

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        names = next((row for row in reader if not _blank(row, self.delimiter)), [])
        names = [cell.strip() for cell in names]
        if not names:
            raise FileFormatError(
                f"{self.filename} is empty. Export the data again with a header row and rows."
            )
        check_header(names, self.filename)
        return names

    def _csv_error(self, exc: csv.Error, line: int) -> FileFormatError:
        if "field larger than field limit" in str(exc):
            return FileFormatError(
                f"{self.filename} line {line} has a field over {csv.field_size_limit() // 1024} kB. "
                "A single value that long is no feature or label: remove it, or check for a quote that opens "
                "a field and never closes."
            )
        return FileFormatError(
            f"{self.filename} could not be parsed as a {DELIMITER_NAMES[self.delimiter]}-separated file at line "
            f"{line}: {exc}. Check that quotes are closed."
        )
