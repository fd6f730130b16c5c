"""A file read, validated and stored block by block stores exactly what the same file read whole stores.

Two SQLite stores get the same baseline, live log and labels: one reads each file as one block,
the other in blocks of a few kilobytes (blocks that split days, a quoted field that spans
lines, day-first dates settled by a line near the end). Stored rows, day profiles,
performance windows and the drift and performance results must be the same; a bad row in the
last block stores nothing and is named by its line in the file.

"The same" is exact for every row, count and text. A day's profile adds up its blocks' sums of
values and squares, so those sums may differ in the last bits from one sum over the day (float
addition is not associative); floats are compared to 1e-12, relative.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from factories import START, baseline_csv, labels_csv, live_frame, same, table_counts, to_csv_bytes
from sqlalchemy import func, select

from readiness import ModelSpec, ingest_csv
from readiness.analysis.contract import drift_json, performance_json
from readiness.analysis.drift_overview import drift_overview
from readiness.analysis.performance_overview import performance_overview
from readiness.core.tablefile import open_table
from readiness.errors import DataValidationError
from readiness.storage import schema as t
from readiness.storage.performance_store import refresh_performance
from readiness.storage.profile_store import refresh_profiles
from readiness.storage.store import Store

BLOCK = 8 * 1024  # a few hundred rows a block: the 5,000-row log below spans 3.5 days in ~40 blocks
ROWS = 5_000
AS_OF = datetime(2026, 3, 10)
LEFT_OUT = {"created_at", "updated_at", "at"}  # times of the upload itself
RECEIVED = datetime(2026, 3, 8, 12)  # labels arrive then in both stores, so their delays are the same


def live_log(rows: int = ROWS) -> pd.DataFrame:
    """A live log one minute apart with a quoted categorical value that spans two lines."""
    frame = live_frame(rows, seed=7)
    frame["region"] = frame["region"].astype(object)
    frame.loc[1234, "region"] = "far\nnorth"
    return frame


def stores(tmp_path) -> tuple[Store, Store]:
    whole, blocks = (
        Store.open(f"sqlite:///{tmp_path}/whole.db"),
        Store.open(f"sqlite:///{tmp_path}/blocks.db"),
    )
    for store in (whole, blocks):
        ingest_csv(store, "fraud", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    return whole, blocks


def in_blocks(data: bytes, filename: str):
    source = open_table(data, filename, block_bytes=BLOCK)
    assert not source.complete
    return source


def rows_of(store: Store, table) -> list[dict]:
    with store.engine.connect() as conn:
        found = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
    return [{k: v for k, v in row.items() if k not in LEFT_OUT} for row in found]


def results(store: Store) -> tuple[dict, dict]:
    model = store.get_model("fraud")
    drift = drift_json(drift_overview(store, model, window="day", as_of=AS_OF))
    performance = performance_json(performance_overview(store, model, window="day", now=AS_OF))
    return drift, performance


def test_a_log_in_blocks_stores_what_the_log_read_whole_stores(tmp_path, monkeypatch):
    monkeypatch.setattr("readiness.storage.store.utcnow", lambda: RECEIVED)
    whole, blocks = stores(tmp_path)
    live = to_csv_bytes(live_log())
    labels = labels_csv([f"r-{i}" for i in range(0, ROWS, 3)])
    for store, read in ((whole, lambda d, f: d), (blocks, in_blocks)):
        stored = ingest_csv(store, "fraud", "live", read(live, "live.csv"), "live.csv")
        assert stored.rows_added == ROWS
        labelled = ingest_csv(store, "fraud", "labels", read(labels, "labels.csv"), "labels.csv")
        assert labelled.rows_added == len(range(0, ROWS, 3))

    for table in (t.labels, t.ingestions, t.drift_references, t.profile_state):
        assert rows_of(blocks, table) == rows_of(whole, table), table.name
    # the labels merge into the days the upload's blocks merged into: sums may differ in the last bits
    same(rows_of(blocks, t.perf_windows), rows_of(whole, t.perf_windows), "perf_windows")
    model_id = whole.get_model("fraud").id
    pd.testing.assert_frame_equal(blocks.all_delayed_labels(model_id), whole.all_delayed_labels(model_id))
    log = whole.read_predictions(whole.get_model("fraud"))
    assert len(log) == ROWS
    pd.testing.assert_frame_equal(blocks.read_predictions(blocks.get_model("fraud")), log)
    days = rows_of(blocks, t.profiles)
    assert len(days) == 4  # 5,000 minutes from midnight: four days, each split by blocks
    same(days, rows_of(whole, t.profiles), "profiles")
    same(results(blocks), results(whole), "results")
    assert (log["region"] == "far\nnorth").sum() == 1


def test_a_bad_row_in_the_last_block_stores_nothing_and_is_named(tmp_path):
    _whole, store = stores(tmp_path)
    frame = live_log()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[ROWS - 2, "amount"] = "twelve"  # row ROWS - 2 is line ROWS: the header is line 1
    source = in_blocks(to_csv_bytes(frame), "live.csv")
    before = table_counts(store)
    with pytest.raises(
        DataValidationError, match=rf"Feature 'amount' must be numeric, but line {ROWS} has 'twelve'"
    ):
        ingest_csv(store, "fraud", "live", source, "live.csv")
    assert table_counts(store) == before
    with store.engine.connect() as conn:
        assert conn.execute(select(t.audit_log).where(t.audit_log.c.action == "ingest.live")).first() is None


def test_a_request_id_repeated_in_a_later_block_is_named_and_nothing_is_stored(tmp_path):
    _whole, store = stores(tmp_path)
    frame = live_log()
    frame.loc[ROWS - 1, "request_id"] = "r-3"
    before = table_counts(store)
    with pytest.raises(
        DataValidationError, match=rf"Request id 'r-3' at line {ROWS + 1} repeats an earlier line"
    ):
        ingest_csv(store, "fraud", "live", in_blocks(to_csv_bytes(frame), "live.csv"), "live.csv")
    assert table_counts(store) == before


def test_day_first_dates_are_settled_by_the_whole_file_not_the_first_block(tmp_path):
    whole, blocks = stores(tmp_path)
    frame = live_frame(3_000, seed=3)
    times = START + pd.to_timedelta(np.arange(3_000) * 864, unit="s")  # 14.4 minutes apart: 30 days
    frame["timestamp"] = times.strftime("%d/%m/%Y %H:%M")  # 01/03 .. 12/03 read both ways; 13/03 settles it
    data = to_csv_bytes(frame)
    ingest_csv(whole, "fraud", "live", data, "dates.csv")
    ingest_csv(blocks, "fraud", "live", in_blocks(data, "dates.csv"), "dates.csv")
    pd.testing.assert_frame_equal(log_of(blocks), log_of(whole))
    stored = store_times(blocks)
    assert stored[0] == datetime(2026, 3, 1) and stored[-1] == datetime(2026, 3, 30, 23, 45)


def store_times(store: Store) -> list[datetime]:
    return [ts.to_pydatetime() for ts in log_of(store)["timestamp"]]


def insert_directly(store: Store, model_id: int) -> None:
    """One prediction inserted with plain SQL, as a service logs it, not refreshed."""
    with store.begin() as conn:
        conn.execute(
            t.predictions.insert().values(
                model_id=model_id,
                timestamp=datetime(2026, 3, 1, 5),
                request_id="direct-1",
                prediction="1",
                score=0.9,
                features='{"amount": 10.0, "age": 40, "region": "north"}',
            )
        )


def log_of(store: Store) -> pd.DataFrame:
    """Every stored prediction of the model, features expanded and labels joined, oldest first."""
    return store.read_predictions(store.get_model("fraud"))


def test_a_file_on_disk_streams_in_blocks_and_stores_what_its_bytes_store(tmp_path):
    whole, blocks = stores(tmp_path)
    data = to_csv_bytes(live_log(2_000))
    path = tmp_path / "live.csv"
    path.write_bytes(data)
    source = open_table(path, "live.csv", block_bytes=BLOCK)
    assert source.head.content_hash == open_table(data, "live.csv").head.content_hash
    ingest_csv(whole, "fraud", "live", data, "live.csv")
    ingest_csv(blocks, "fraud", "live", source, "live.csv")
    pd.testing.assert_frame_equal(log_of(blocks), log_of(whole))


def test_parquet_in_batches_stores_what_it_stores_whole(tmp_path):
    whole, blocks = stores(tmp_path)
    path = tmp_path / "live.parquet"
    live_log(3_000).to_parquet(path, row_group_size=700)
    data = path.read_bytes()
    source = open_table(path, "live.parquet", block_bytes=20_000)
    assert not source.complete
    ingest_csv(whole, "fraud", "live", data, "live.parquet")
    ingest_csv(blocks, "fraud", "live", source, "live.parquet")
    pd.testing.assert_frame_equal(log_of(blocks), log_of(whole))
    same(rows_of(blocks, t.profiles), rows_of(whole, t.profiles), "profiles")


def test_rows_profiled_as_they_are_stored_equal_a_refresh_from_the_stored_rows(tmp_path):
    whole, _blocks = stores(tmp_path)
    ingest_csv(whole, "fraud", "live", in_blocks(to_csv_bytes(live_log()), "live.csv"), "live.csv")
    in_step = rows_of(whole, t.profiles)
    with whole.begin() as conn:  # forget the profiles: the next refresh reads every stored row back
        conn.execute(t.profiles.delete())
        conn.execute(t.profile_state.delete())
    refreshed = refresh_profiles(whole, whole.get_model("fraud"))
    assert refreshed.rows_profiled == ROWS
    same(
        [{k: v for k, v in row.items() if k != "id"} for row in rows_of(whole, t.profiles)],
        [{k: v for k, v in row.items() if k != "id"} for row in in_step],
        "profiles",
    )


def test_rows_a_service_left_unprofiled_are_profiled_before_an_upload_and_counted_once(tmp_path):
    _whole, store = stores(tmp_path)
    model = store.get_model("fraud")
    ingest_csv(store, "fraud", "live", to_csv_bytes(live_frame(50, seed=2, id_prefix="s")), "first.csv")
    insert_directly(store, model.id)  # a service logs a row with plain SQL and does not refresh
    ingest_csv(store, "fraud", "live", in_blocks(to_csv_bytes(live_log(2_000)), "live.csv"), "live.csv")
    with store.engine.connect() as conn:
        profiled = conn.execute(select(func.sum(t.profiles.c.n_rows))).scalar_one()
    assert profiled == 50 + 1 + 2_000


def test_a_label_repeated_in_a_later_block_is_named_and_nothing_is_stored(tmp_path):
    _whole, store = stores(tmp_path)
    ingest_csv(store, "fraud", "live", to_csv_bytes(live_log(2_000)), "live.csv")
    ids = [f"r-{i}" for i in range(2_000)] + ["r-7"]  # the last line repeats the eighth
    before = table_counts(store)
    with pytest.raises(
        DataValidationError, match=r"repeats 'r-7' at line 2002 \(1 repeat\(s\) of earlier lines\)"
    ):
        ingest_csv(store, "fraud", "labels", in_blocks(labels_csv(ids), "labels.csv"), "labels.csv")
    assert table_counts(store) == before


def test_the_check_before_confirm_settles_dates_from_the_whole_file(tmp_path, monkeypatch):
    from readiness.analysis.ingest import check_upload, preview_upload

    monkeypatch.setattr("readiness.core.tablefile.BLOCK_BYTES", BLOCK)
    _whole, store = stores(tmp_path)
    frame = live_frame(3_000, seed=3)
    times = START + pd.to_timedelta(np.arange(3_000) * 864, unit="s")
    frame["timestamp"] = times.strftime("%d/%m/%Y %H:%M")  # the first block reads both ways
    preview = preview_upload(to_csv_bytes(frame), "live", "dates.csv")
    assert not preview.complete
    check_upload(store, "fraud", preview, preview.mapping)  # no "reads two ways" from the first block alone
    with pytest.raises(DataValidationError, match="no date in the file settles which"):
        check_upload(
            store, "fraud", preview_upload(to_csv_bytes(frame.head(500)), "live", "d.csv"), preview.mapping
        )


def perf_rows(store: Store) -> list[dict]:
    """Stored day records, without their ids, in day and version order."""
    rows = sorted(rows_of(store, t.perf_windows), key=lambda r: (r["window_start"], r["model_version"]))
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_day_records_computed_as_rows_are_stored_equal_a_rebuild_from_the_stored_rows(
    tmp_path, task, monkeypatch
):
    """Two uploads into the same days (the second split in blocks, with versions and inline labels), then a rebuild."""
    from readiness.storage import performance_store

    recomputed = []
    original = performance_store._recompute_days
    monkeypatch.setattr(
        performance_store, "_recompute_days", lambda *a, **k: recomputed.append(a[4]) or original(*a, **k)
    )
    store = Store.open(f"sqlite:///{tmp_path}/perf.db")
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=ModelSpec(task, "1"))
    first = live_frame(1_500, seed=3, task=task, id_prefix="a", with_label=True)
    first.loc[::3, "label"] = None
    second = live_frame(3_000, seed=4, task=task, id_prefix="b", start=START + pd.Timedelta(hours=20))
    second["model_version"] = np.where(np.arange(3_000) % 4 == 0, "v2", "v1")
    second["latency_ms"] = np.arange(3_000) % 250
    ingest_csv(store, "m", "live", to_csv_bytes(first), "first.csv")
    model = store.get_model("m")
    early = second["request_id"][::97].tolist()  # a service labelled these before their predictions arrived
    truth = {"binary": "1", "multiclass": "dog", "regression": "101.5"}[task]
    with store.begin() as conn:
        conn.execute(
            t.labels.insert(),
            [
                {"model_id": model.id, "request_id": r, "label": truth, "received_at": datetime(2026, 3, 9)}
                for r in [*early, first["request_id"][0]]  # the last one labels a stored prediction
            ],
        )
    refresh_performance(store, model)  # the early ones match no prediction yet: the refresh passes them
    assert recomputed == [[datetime(2026, 3, 1)]]  # the labelled prediction's day
    recomputed.clear()
    ingest_csv(store, "m", "live", in_blocks(to_csv_bytes(second), "second.csv"), "second.csv")
    in_step = perf_rows(store)
    assert not recomputed  # the uploads' records were computed as their rows were stored, not read back
    assert sum(r["n_rows"] for r in in_step) == 4_500
    labelled = 1_000 + 1 + len(early)  # two thirds of the first file, its first row, and the early ones
    assert sum(r["n_labelled"] for r in in_step) == labelled
    assert len({r["model_version"] for r in in_step}) == 3  # none (the first file), v1 and v2
    with store.begin() as conn:  # forget the records: the next refresh recomputes every day from the rows
        conn.execute(t.perf_windows.delete())
        conn.execute(t.perf_state.update().values(prediction_watermark=0, label_watermark=0))
    refresh_performance(store, store.get_model("m"))
    same(perf_rows(store), in_step, "perf_windows")


def test_a_services_unrefreshed_rows_and_an_uploads_blocks_are_each_counted_once(tmp_path, monkeypatch):
    """A row past the watermark: the upload merges its own blocks' records, the refresh after it the row's."""
    from readiness.storage import performance_store

    _whole, store = stores(tmp_path)
    model = store.get_model("fraud")
    insert_directly(store, model.id)
    computed = []
    original = performance_store.records_in_step
    monkeypatch.setattr(performance_store, "records_in_step", lambda *a: computed.append(1) or original(*a))
    ingest_csv(store, "fraud", "live", in_blocks(to_csv_bytes(live_log(2_000)), "live.csv"), "live.csv")
    assert len(computed) > 1  # every block
    assert sum(r["n_rows"] for r in perf_rows(store)) == 2_001
