"""Reading uploaded bytes: delimiters, encodings, quoting, and every way a file can be unusable."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from readiness.core.csvread import decode_bytes, read_csv_bytes, sniff_delimiter
from readiness.core.tablefile import content_hash
from readiness.errors import FileFormatError

# -- good input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "delimiter", "name"),
    [
        (b"a,b,c\n1,2,3\n4,5,6\n", ",", "comma"),
        (b"a;b;c\n1;2;3\n4;5;6\n", ";", "semicolon"),
        (b"a\tb\tc\n1\t2\t3\n4\t5\t6\n", "\t", "tab"),
    ],
)
def test_reads_each_delimiter(data, delimiter, name):
    csv = read_csv_bytes(data, "f.csv")
    assert csv.delimiter == delimiter
    assert csv.delimiter_name == name
    assert csv.frame.to_dict("list") == {"a": ["1", "4"], "b": ["2", "5"], "c": ["3", "6"]}


def test_semicolon_file_with_decimal_commas_keeps_the_commas_in_cells():
    csv = read_csv_bytes(b"amount;region\n1,5;north\n2,25;south\n")
    assert csv.delimiter == ";"
    assert csv.frame["amount"].tolist() == ["1,5", "2,25"]


def test_cells_stay_strings():
    frame = read_csv_bytes(b"id,amount\n007,1.50\n", "f.csv").frame
    assert frame.loc[0, "id"] == "007"
    assert frame.loc[0, "amount"] == "1.50"


def test_utf8_with_bom_reads_the_first_column_name_cleanly():
    csv = read_csv_bytes("\ufeffcity,n\nKöln,1\n".encode("utf-8"))
    assert list(csv.frame.columns) == ["city", "n"]
    assert csv.frame["city"].tolist() == ["Köln"]
    assert csv.encoding == "utf-8"


def test_latin1_bytes_are_decoded():
    csv = read_csv_bytes("city,n\nMünchen,1\nZürich,2\n".encode("latin-1"))
    assert csv.frame["city"].tolist() == ["München", "Zürich"]
    assert csv.encoding in ("cp1252", "latin-1")


def test_cp1252_bytes_are_decoded():
    csv = read_csv_bytes("name,price\n“Quote” – München,5 €\n".encode("cp1252"))
    assert csv.frame.loc[0, "name"] == "“Quote” – München"
    assert csv.frame.loc[0, "price"] == "5 €"
    assert csv.encoding == "cp1252"


def test_utf16_with_bom_is_decoded():
    csv = read_csv_bytes("a,b\nü,2\n".encode("utf-16"))
    assert csv.encoding == "utf-16"
    assert csv.frame.to_dict("list") == {"a": ["ü"], "b": ["2"]}


def test_quoted_fields_may_hold_the_delimiter_quotes_and_newlines():
    data = b'id,note,n\n1,"a, b","x"\n2,"line one\nline two",y\n3,"say ""hi""",z\n'
    frame = read_csv_bytes(data).frame
    assert frame["note"].tolist() == ["a, b", "line one\nline two", 'say "hi"']
    assert frame["n"].tolist() == ["x", "y", "z"]


def test_quoted_header_with_semicolons_is_still_comma_separated():
    data = b'"x""; DROP TABLE predictions; --",b\n1,2\n'
    csv = read_csv_bytes(data)
    assert csv.delimiter == ","
    assert list(csv.frame.columns) == ['x"; DROP TABLE predictions; --', "b"]
    assert sniff_delimiter(data.decode()) == ","


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_windows_and_old_mac_line_endings(newline):
    data = newline.join([b"a,b", b"1,2", b"3,4", b""])
    assert read_csv_bytes(data).frame.to_dict("list") == {"a": ["1", "3"], "b": ["2", "4"]}


def test_blank_lines_and_header_spaces_are_tolerated():
    frame = read_csv_bytes(b"\n\n a , b \n1,2\n\n3,4\n").frame
    assert list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == ["1", "3"]


def test_missing_markers_become_missing():
    frame = read_csv_bytes(b"a,b\n1,NA\nnull,\n").frame
    assert frame["a"].isna().tolist() == [False, True]
    assert frame["b"].isna().all()


def test_content_hash_identifies_the_bytes():
    data = b"a,b\n1,2\n"
    assert read_csv_bytes(data).content_hash == content_hash(data)
    assert content_hash(data) != content_hash(data + b"3,4\n")
    assert read_csv_bytes(data).n_bytes == len(data)


def test_decode_prefers_utf8():
    assert decode_bytes("é".encode()) == ("é", "utf-8")


# -- bad input ------------------------------------------------------------------------------


def test_empty_file():
    with pytest.raises(FileFormatError, match=r"empty.csv is empty\. Export the data again"):
        read_csv_bytes(b"", "empty.csv")


def test_whitespace_only_file():
    with pytest.raises(FileFormatError, match="is empty"):
        read_csv_bytes(b"  \n\t\r\n   ", "blank.csv")


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", " \n".encode("utf-16")],
    ids=["utf8-bom", "utf8-bom-space", "utf16-space"],
)
def test_byte_order_mark_and_whitespace_only_is_empty(data):
    with pytest.raises(FileFormatError, match="is empty"):
        read_csv_bytes(data, "bom.csv")


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a,b,c", b"a,b,c\n\n\n"])
def test_header_only(data):
    with pytest.raises(FileFormatError, match=r"has a header \(a, b, c\) but no data rows"):
        read_csv_bytes(data, "h.csv")


def test_binary_with_nul_bytes():
    data = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256))
    with pytest.raises(FileFormatError, match=r"x.xlsx is not text: it has a NUL byte at offset 5") as info:
        read_csv_bytes(data, "x.xlsx")
    assert "export it as CSV" in str(info.value)


def test_control_character_bytes():
    with pytest.raises(FileFormatError, match=r"not readable text: character 0x01 at position 4") as info:
        read_csv_bytes(b"a,b\n\x01\x02,\x03\x04\n", "c.csv")
    assert "control byte" in str(info.value)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"a,b\n1,x\x7f\n", "character 0x7f at position 7"),  # DEL in an ASCII file
        (
            "a,b\nZürich,x\x0b\n".encode(),
            "character 0x0b at position 13",
        ),  # non-ASCII: the regex path (counted as latin-1 reads it)
    ],
)
def test_control_characters_are_found_in_ascii_and_utf8_files(data, where):
    with pytest.raises(FileFormatError, match=where):
        read_csv_bytes(data, "c.csv")


def test_a_first_line_that_is_not_the_header_is_named_as_the_likely_cause():
    data = b"3,2,yes,no\n1.0,2.0,0.5,1.5,yes\n2.0,1.0,0.1,0.2,no\n"  # counts and class names, as some exports open
    with pytest.raises(FileFormatError, match=r"line 2 has 5 field\(s\) but the header has 4") as info:
        read_csv_bytes(data, "counts.csv")
    assert "If the first line is not the column names" in str(info.value)
    with pytest.raises(FileFormatError) as later:  # a short row further down: no such hint
        read_csv_bytes(b"a,b\n1,2\n3\n", "short.csv")
    assert "first line" not in str(later.value)


def test_duplicate_column_names():
    with pytest.raises(FileFormatError, match=r"duplicate column names: 'amount'\. Rename them"):
        read_csv_bytes(b"amount,region,amount\n1,x,2\n", "d.csv")


def test_duplicate_column_names_after_trimming_spaces():
    with pytest.raises(FileFormatError, match="duplicate column names: 'a'"):
        read_csv_bytes(b"a, a \n1,2\n")


@pytest.mark.parametrize(
    ("data", "columns"),
    [
        (b"a,,c\n1,2,3\n", "2"),
        (b"a,b,\n1,2,3\n", "3"),
        (b",,\n1,2,3\n", "1, 2, 3"),
        (b'a," ",c\n1,2,3\n', "2"),
    ],
)
def test_blank_column_name(data, columns):
    words = rf"header column\(s\) {columns} have no name\. Give every column"
    with pytest.raises(FileFormatError, match=words):
        read_csv_bytes(data, "n.csv")


def test_ragged_row_with_too_many_fields():
    with pytest.raises(FileFormatError, match=r"r.csv line 3 has 4 field\(s\) but the header has 3") as info:
        read_csv_bytes(b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", "r.csv")
    assert "as many fields as the header" in str(info.value)


def test_ragged_row_with_too_few_fields():
    with pytest.raises(FileFormatError, match=r"line 4 has 2 field\(s\) but the header has 3"):
        read_csv_bytes(b"a,b,c\n1,2,3\n4,5,6\n7,8\n", "r.csv")


def test_every_row_one_field_longer_than_the_header_is_not_read_as_an_index():
    with pytest.raises(FileFormatError, match=r"line 2 has 3 field\(s\) but the header has 2"):
        read_csv_bytes(b"a,b\n1,2,3\n4,5,6\n", "r.csv")


def test_ragged_line_number_counts_physical_lines():
    data = b'a,b\n"multi\nline",1\n\n2,3,4\n'
    with pytest.raises(FileFormatError, match=r"line 5 has 3 field\(s\)"):
        read_csv_bytes(data, "r.csv")


def test_unclosed_quote():
    with pytest.raises(FileFormatError, match="quotes are closed"):
        read_csv_bytes(b'a,b\n"1,2\n3,4\n', "q.csv")


def test_file_over_the_size_limit(monkeypatch):
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "0.001")  # 1,048 bytes
    data = b"a,b\n" + b"1,2\n" * 1000
    with pytest.raises(FileFormatError, match=r"big.csv is 0.0038 MB, over the 0.001 MB limit") as info:
        read_csv_bytes(data, "big.csv")
    assert "READINESS_MAX_UPLOAD_MB" in str(info.value)


def test_explicit_size_limit_allows_a_file_of_exactly_the_limit():
    data = b"a,b\n1,2\n"
    assert len(read_csv_bytes(data, max_bytes=len(data)).frame) == 1
    with pytest.raises(FileFormatError, match="over the"):
        read_csv_bytes(data, max_bytes=len(data) - 1)


def test_default_limit_is_reported_in_the_configured_megabytes(monkeypatch):
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "1")
    with pytest.raises(FileFormatError, match=r"is 2\.0 MB, over the 1\.0 MB limit"):
        read_csv_bytes(b"a\n" + b"1\n" * (1024 * 1024), "f.csv")


# -- any bytes: a frame or a FileFormatError, never anything else ----------------------------

CSV_ALPHABET = st.sampled_from([*list('ab1 ,;\t"\n\r'), "\x00", "\x01", "é", "€", "\ufeff"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=80),
        st.lists(CSV_ALPHABET, max_size=60).map(lambda chars: "".join(chars).encode("utf-8")),
    )
)
def test_any_bytes_give_a_frame_or_a_file_format_error(data):
    try:
        csv = read_csv_bytes(data, "fuzz.csv")
    except FileFormatError as exc:
        assert "fuzz.csv" in str(exc)
        return
    assert isinstance(csv.frame, pd.DataFrame)
    assert len(csv.frame) > 0
    assert all(name and name == name.strip() for name in csv.frame.columns)
    assert len(set(csv.frame.columns)) == csv.frame.shape[1]


def test_odd_whitespace_before_the_header_is_refused_not_misread():
    with pytest.raises(FileFormatError, match=r"header column\(s\) 1 have no name"):
        read_csv_bytes("\u00a0\na,b\n1,2\n".encode(), "odd.csv")


@pytest.mark.parametrize("data", [b"\xef", b"\xef\xbb"])
def test_the_start_of_a_byte_order_mark_alone_is_refused_as_a_file_not_a_crash(data):
    """Python's utf-8-sig decoder swallows a lone BOM prefix at the end; the file is then not UTF-8 at all."""
    with pytest.raises(FileFormatError, match=r"fuzz\.csv"):
        read_csv_bytes(data, "fuzz.csv")


TEXT_PIECES = st.lists(
    st.sampled_from(["a,b\n", "1,2\n", "ü", "€", "“", "\x81", "\x01", "\xff", "zz", ",", "\n", "é"]),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(TEXT_PIECES, st.sampled_from(["utf-8", "cp1252", "latin-1"]), st.integers(1, 9))
@example(["a,b\n", "é", "zz"], "cp1252", 1)  # a UTF-8 lead byte at a block's end, clean ASCII after it
def test_the_scan_decides_alike_whatever_the_size_of_the_blocks_it_reads(pieces, encoding, block):
    """Clean ASCII blocks are not decoded: the encoding, the hash and any refusal equal a scan in one block."""
    import readiness.core.csvread as csvread

    data = "".join(pieces).encode(encoding, errors="replace")

    def outcome(size: int) -> tuple[str, str]:
        saved = csvread.SCAN_BYTES
        csvread.SCAN_BYTES = size
        try:
            text, found = decode_bytes(data, "f.csv")
            return found, text
        except FileFormatError as exc:
            return "refused", str(exc)
        finally:
            csvread.SCAN_BYTES = saved

    assert outcome(block) == outcome(len(data) + 1)
