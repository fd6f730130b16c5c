"""Parquet uploads: read as a CSV export of the same table would be, hostile files refused by name."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import binary_frame, live_frame, to_csv_bytes

from readiness import ModelSpec, ingest_csv, preview_upload
from readiness.cli import main
from readiness.core.csvread import read_csv_bytes
from readiness.core.tablefile import is_parquet, read_table_bytes
from readiness.errors import FileFormatError


def parquet_bytes(frame: pd.DataFrame, **kwargs) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, **kwargs)
    return buffer.getvalue()


def table_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_parquet_cells_read_as_the_csv_export_of_the_same_frame():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", None],
            "amount": [0.1, np.nan, 3.0],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "flag": [True, False, None],
            "region": pd.Categorical(["north", "south", "north"]),
        }
    )
    from_parquet = read_table_bytes(parquet_bytes(frame), "f.parquet")
    from_csv = read_csv_bytes(to_csv_bytes(frame))
    assert from_parquet.format == "parquet" and from_parquet.described == "Parquet"
    pd.testing.assert_frame_equal(from_parquet.frame, from_csv.frame.replace({"3.0": "3"}))


def test_parquet_times_keep_their_offset_and_naive_times_stay_naive():
    moments = pd.to_datetime(["2019-01-01T05:00", "2019-07-01T00:30"])
    frame = pd.DataFrame({"aware": moments.tz_localize("Europe/Paris"), "naive": moments})
    cells = read_table_bytes(parquet_bytes(frame)).frame
    parsed = pd.to_datetime(cells["aware"], format="ISO8601", utc=True)
    assert parsed.tolist() == list(moments.tz_localize("Europe/Paris").tz_convert("UTC"))
    assert pd.to_datetime(cells["naive"], format="ISO8601").tolist() == list(moments)


def test_a_pandas_index_written_into_the_file_is_not_a_column():
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index([10, 20], name=None))
    assert read_table_bytes(parquet_bytes(frame)).frame.columns.tolist() == ["a"]


def test_parquet_is_recognised_by_content_not_name():
    data = parquet_bytes(pd.DataFrame({"a": [1]}))
    assert is_parquet(data)
    assert read_table_bytes(data, "export.csv").format == "parquet"


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"PAR1" + b"\x00garbage" * 10 + b"PAR1", "not a readable Parquet file"),
        (b"PAR1\x00\x00\x00", "not a whole Parquet file"),  # truncated: no magic at the end
    ],
)
def test_broken_parquet_is_refused_with_the_reason(data, found):
    with pytest.raises(FileFormatError, match=found):
        read_table_bytes(data, "broken.parquet")


def test_nested_and_binary_columns_are_refused_by_name():
    table = pa.table({"ok": [1, 2], "tags": [[1, 2], [3]], "blob": pa.array([b"\x00", b"x"], pa.binary())})
    with pytest.raises(FileFormatError, match=r"tags \(list<element: int64>\).*blob \(binary\)"):
        read_table_bytes(table_bytes(table), "n.parquet")


def test_duplicate_blank_and_control_names_are_refused():
    duplicate = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(FileFormatError, match="duplicate column names: 'a'"):
        read_table_bytes(table_bytes(duplicate), "d.parquet")
    blank = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", " "])
    with pytest.raises(FileFormatError, match=r"column\(s\) 2 have no name"):
        read_table_bytes(table_bytes(blank), "b.parquet")
    control = pa.Table.from_arrays([pa.array([1])], names=["a\x00b"])
    with pytest.raises(FileFormatError, match="control characters"):
        read_table_bytes(table_bytes(control), "c.parquet")


def test_control_characters_in_text_cells_are_refused_with_their_line():
    table = pa.table({"name": ["fine", "also fine", "nul\x00inside"]})
    with pytest.raises(FileFormatError, match=r"column 'name' has a control character at line 4"):
        read_table_bytes(table_bytes(table), "c.parquet")


def test_a_file_without_rows_is_refused():
    with pytest.raises(FileFormatError, match=r"columns \(a, b\) but no rows"):
        read_table_bytes(parquet_bytes(pd.DataFrame({"a": [], "b": []})), "e.parquet")


def test_size_and_unpacked_size_limits():
    data = parquet_bytes(pd.DataFrame({"a": np.zeros(50_000)}))  # zeros pack into almost nothing
    with pytest.raises(FileFormatError, match=r"over the .* MB limit"):
        read_table_bytes(data, "big.parquet", max_bytes=len(data) - 1)
    with pytest.raises(FileFormatError, match=r"holds 50,000 rows x 1 columns, more cells than a CSV"):
        read_table_bytes(data, "bomb.parquet", max_bytes=len(data) + 1)
    text = parquet_bytes(pd.DataFrame({"a": ["x" * 10_000, "y" * 10_000]}), compression="gzip")
    with pytest.raises(FileFormatError, match=r"unpacks to .* MB, over 8 times"):
        read_table_bytes(text, "long.parquet", max_bytes=max(len(text), 2_000))


def test_ingesting_parquet_stores_what_the_same_csv_stores(sqlite_store, tmp_path):
    baseline = binary_frame(200)
    live = live_frame(150)
    live["timestamp"] = pd.to_datetime(live["timestamp"], utc=True)  # a real time column, not text
    spec = ModelSpec("binary", "1")
    ingest_csv(sqlite_store, "from-csv", "baseline", to_csv_bytes(baseline), "b.csv", new_model=spec)
    ingest_csv(sqlite_store, "from-csv", "live", to_csv_bytes(live), "l.csv")
    ingest_csv(sqlite_store, "from-pq", "baseline", parquet_bytes(baseline), "b.parquet", new_model=spec)
    result = ingest_csv(sqlite_store, "from-pq", "live", parquet_bytes(live), "l.parquet")
    assert result.rows_added == 150
    stored = [
        sqlite_store.read_predictions(sqlite_store.get_model(name)).drop(columns="id", errors="ignore")
        for name in ("from-csv", "from-pq")
    ]
    pd.testing.assert_frame_equal(stored[0], stored[1])
    preview = preview_upload(parquet_bytes(live), "live", "l.parquet")
    assert preview.mapping.column_for("timestamp") == "timestamp"
    assert preview.table.described == "Parquet"


def test_the_cli_ingests_parquet(tmp_path, capsys):
    path = tmp_path / "base.parquet"
    path.write_bytes(parquet_bytes(binary_frame(100)))
    db = f"sqlite:///{tmp_path}/cli.db"
    assert main(["--database", db, "ingest", "--model", "shop", "--kind", "baseline", str(path)]) == 0
    assert (
        "Stored 100 baseline row(s) from base.parquet for model 'shop' (new model)" in capsys.readouterr().out
    )
