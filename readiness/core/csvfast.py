"""The fast way through a plain CSV: Arrow's multi-threaded reader, for files it reads exactly as pandas does.

A machine-written log (UTF-8 without a byte-order mark, no quote characters, no spaces or
tabs opening a field, every CR part of a CRLF) is parsed by Arrow into the same frame of
strings that the careful path (Python's csv module walking the records, then pandas) gives,
about four times faster. Anything else, and any block Arrow refuses, goes the careful way,
which also names the line of a malformed record.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import pandas as pd

from readiness.core.tablefile import MEGABYTE, TableChunk

PLAIN_SCAN_BYTES = 8 * MEGABYTE
ARROW_BLOCK_BYTES = 16 * MEGABYTE  # rows handed over at a time (about 100,000 of a typical log)
# Arrow's parse unit. Its reader reads up to 32 of these ahead of the parser, in buffers no
# memory pool counts: 16 MB units held up to 512 MB of a large file in memory.
ARROW_READ_BYTES = 4 * MEGABYTE


def is_plain(opener: Callable[[], BinaryIO], delimiter: str) -> bool:
    """Whether the bytes are a CSV that Arrow reads exactly as the careful path does (see the module's doc).

    >>> import io
    >>> is_plain(lambda: io.BytesIO(b"a,b\\n1,x\\n"), ","), is_plain(lambda: io.BytesIO(b'a,b\\n1, "x"\\n'), ",")
    (True, False)
    """
    sep = delimiter.encode()
    carry = b""  # the previous block's last byte: two-byte patterns may straddle blocks
    with opener() as stream:
        if stream.read(3) == b"\xef\xbb\xbf":
            return False
        stream.seek(0)
        while block := stream.read(PLAIN_SCAN_BYTES):
            text = carry + block
            if b'"' in text or _opens_a_field_with(text, sep, b" ") or _opens_a_field_with(text, sep, b"\t"):
                return False
            if b"\r" in text and text[:-1].count(b"\r") != text.count(
                b"\r\n"
            ):  # a lone CR ends a line for pandas
                return False
            carry = text[-1:]
    return carry != b"\r"


def _opens_a_field_with(text: bytes, sep: bytes, space: bytes) -> bool:
    """Whether a space (or tab) follows a separator or a newline; one quick pass when there is none at all."""
    return space in text and (sep + space in text or b"\n" + space in text)


def header_line(opener: Callable[[], BinaryIO], delimiter: str) -> list[str] | None:
    """The first line's names, when it is the header (not blank) of a plain file."""
    with opener() as stream:
        first = stream.readline().decode("utf-8")
    row = next(csv.reader([first], delimiter=delimiter), [])
    return [cell.strip() for cell in row] if first.strip(" \t\r\n") else None


class ArrowBlocks:
    """A plain CSV's data rows in blocks, parsed by Arrow into strings; indexes are data-row numbers."""

    def __init__(
        self,
        opener: Callable[[], BinaryIO],
        delimiter: str,
        header: list[str],
        missing: list[str],
        block_bytes: int | None,
        n_bytes: int,
    ) -> None:
        self.opener, self.delimiter, self.header, self.missing = opener, delimiter, header, missing
        self.block_bytes, self.total = block_bytes or ARROW_BLOCK_BYTES, max(n_bytes, 1)
        self.whole = block_bytes is None

    def blocks(self) -> Iterator[TableChunk]:
        """Every block of rows; raises pyarrow.ArrowInvalid where Arrow reads the file otherwise than pandas."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        read = pa_csv.ReadOptions(
            column_names=self.header, skip_rows=1, block_size=min(self.block_bytes, ARROW_READ_BYTES)
        )
        parse = pa_csv.ParseOptions(delimiter=self.delimiter, quote_char=False, ignore_empty_lines=True)
        convert = pa_csv.ConvertOptions(
            column_types=dict.fromkeys(self.header, pa.string()),
            null_values=self.missing,
            strings_can_be_null=True,
        )
        start = 0
        with self.opener() as stream:
            reader = pa_csv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            held: list[pa.RecordBatch] = []  # a block's batches, one batch ahead to know which is the last
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                _check_fields(batch)
                if held and not self.whole and sum(b.nbytes for b in held) >= self.block_bytes:
                    yield self._chunk(held, start, _share(stream, self.total), False)
                    start += sum(b.num_rows for b in held)
                    held = []
                held.append(batch)
            if held:
                yield self._chunk(held, start, 1.0, True)

    @staticmethod
    def _chunk(batches: list[Any], start: int, done: float, last: bool) -> TableChunk:
        import pyarrow as pa

        frame = pa.Table.from_batches(batches).to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        return TableChunk(frame, done, last)


def _check_fields(batch: object) -> None:
    """Refuse (as Arrow refuses a malformed row) a field longer than Python's csv module reads."""
    import pyarrow as pa
    import pyarrow.compute as pc

    limit = csv.field_size_limit()
    for column in batch.columns:  # type: ignore[attr-defined]
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest > limit:
            raise pa.ArrowInvalid("a field over the csv module's limit")


def _share(stream: BinaryIO, total: int) -> float:
    """How much of the file Arrow has read so far (it reads ahead of the rows it has handed over)."""
    try:
        return min(stream.tell() / total, 1.0)
    except (OSError, ValueError):
        return 0.0
