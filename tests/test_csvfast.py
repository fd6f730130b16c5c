"""Arrow's fast path through plain CSVs reads exactly what the careful path reads, or hands over to it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core import csvfast, csvread
from readiness.core.csvread import open_csv
from readiness.errors import FileFormatError


def read_all(data: bytes, block_chars: int | None) -> pd.DataFrame | str:
    """Every row the source gives, in one frame (or the error's message)."""
    try:
        source = open_csv(data, "f.csv", block_chars=block_chars)
        return pd.concat([chunk.frame for chunk in source.chunks()])
    except FileFormatError as exc:
        return f"error: {exc}"


def both_ways(data: bytes, block_chars: int | None, monkeypatch) -> tuple[object, object]:
    fast = read_all(data, block_chars)
    with monkeypatch.context() as m:
        m.setattr(csvread, "_arrow_blocks", lambda *args: None)
        careful = read_all(data, block_chars)
    return fast, careful


def assert_same(fast, careful) -> None:
    if isinstance(careful, str) or isinstance(fast, str):
        assert fast == careful
    else:
        pd.testing.assert_frame_equal(fast, careful)


def test_a_plain_log_goes_through_arrow(monkeypatch):
    calls = []
    original = csvfast.ArrowBlocks.blocks

    def counted(self):
        calls.append(1)
        yield from original(self)

    monkeypatch.setattr(csvfast.ArrowBlocks, "blocks", counted)
    data = b"a,b,c\n1,x,\n2,NA,z\n\n3,y,w\n"
    frame = read_all(data, None)
    assert calls
    assert frame.fillna("-").to_dict("list") == {
        "a": ["1", "2", "3"],
        "b": ["x", "-", "y"],
        "c": ["-", "z", "w"],
    }
    assert frame.index.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,x\n2,y\n",
        b"a,b\r\n1,x\r\n2,y\r\n",
        b"a;b\n1;x\n2;NULL\n",
        b"a\tb\n1\tx\n2\t\n",
        b"a,b\n1,x\n2\n",  # a short row: the careful path names its line
        b"a,b\n1,x\n2,y,z\n",  # a long row
        b"a,b\n1,x\n \n2,y\n",  # a line of spaces
        b"a,b\n1, x\n",  # a space opening a field
        b'a,b\n1,"x,y"\n',  # a quoted delimiter
        b"a,b\n1,x\r2,y\n",  # a bare CR
        b"\xef\xbb\xbfa,b\n1,x\n",  # a byte-order mark
        b"\na,b\n1,x\n",  # a blank line before the header
        b"a,a\n1,2\n",  # duplicate names
        b"a, b \n1,2\n",  # names are stripped
        b"a,b\n",  # no rows
        "a,b\nZürich ✓,NaN\n".encode(),
        b"a,b\n1,x\n\n\n2,y\n",
        b"a,b\r\n1,x\r\n\r\n2,y",  # a blank CRLF line, no newline at the end
        b"a,b,c\n,,\n1,,\n",  # rows of empty fields
        b"a b,c\n1 2,x y\n",  # spaces inside fields only: plain
        b"a,b\n1,x\n\tz,y\n",  # a tab opening a line
    ],
)
@pytest.mark.parametrize("block_chars", [None, 4, 1 << 20])
def test_fast_and_careful_read_the_same(data, block_chars, monkeypatch):
    assert_same(*both_ways(data, block_chars, monkeypatch))


cells = st.one_of(
    st.sampled_from(["", "NA", "null", "None", "x", "1.5", "-3", " a", "b ", "é", "a b", "#N/A"]),
    st.text(alphabet="abc ;\t\"'.-19é", max_size=5),
)


@settings(max_examples=150)
@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    ragged=st.booleans(),
    block_chars=st.sampled_from([None, 3, 30]),
)
def test_any_small_file_reads_the_same_both_ways(rows, delimiter, newline, ragged, block_chars):
    lines = [delimiter.join(["a", "b", "c"])] + [delimiter.join(row) for row in rows]
    if ragged:
        lines[-1] = lines[-1].split(delimiter)[0]
    data = (newline.join(lines) + newline).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(*both_ways(data, block_chars, monkeypatch))


def test_a_bad_row_after_arrow_handed_over_blocks_is_named_by_its_line():
    good = "".join(f"{i},x{i}\n" for i in range(5_000))
    data = ("a,b\n" + good + "5000\n").encode()
    source = open_csv(data, "f.csv", block_chars=1_000)
    with pytest.raises(FileFormatError, match="line 5002 has 1 field"):
        for _chunk in source.chunks():
            pass
