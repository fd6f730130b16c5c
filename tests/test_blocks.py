"""Rows kept as Parquet blocks: what goes in comes out, and baselines stored a row each still read."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from readiness import Store
from readiness.analysis.ingest import ModelSpec, ingest_csv
from readiness.core.records import FeatureSpec, features_to_json
from readiness.storage import schema as t
from readiness.storage.blocks import blocks_of, decode_block, encode_block
from readiness.storage.performance_store import baseline_outputs
from readiness.storage.samples import sample_baseline
from tests.factories import baseline_csv, live_frame

FEATURES = (
    FeatureSpec("amount", "numeric"),
    FeatureSpec("score", "categorical"),
)  # a feature named like a role


def test_a_block_gives_back_features_typed_and_reserved_columns_by_name():
    frame = pd.DataFrame(
        {
            "amount": [1.5, np.nan, -3.0],
            "score": ["a", None, "ü ✓"],  # the feature, not the model's score
            "prediction": ["1", "0", "1"],
            "label": [None, "0", "1"],
        }
    )
    back = decode_block(
        encode_block(frame, FEATURES), FEATURES, ("prediction", "label", "score_", "probabilities")
    )
    assert back["amount"].tolist()[0::2] == [1.5, -3.0] and np.isnan(back["amount"][1])
    assert back["score"][0::2].tolist() == ["a", "ü ✓"] and pd.isna(back["score"][1])
    assert back["prediction"].tolist() == ["1", "0", "1"] and back["label"][1:].tolist() == ["0", "1"]
    assert (
        pd.isna(back["label"][0]) and pd.isna(back["probabilities"]).all()
    )  # asked for, not stored: all missing


def test_a_block_without_a_feature_reads_it_as_missing():
    back = decode_block(encode_block(pd.DataFrame({"amount": [1.0]}), FEATURES[:1]), FEATURES)
    assert pd.isna(back["score"]).all() and back.columns.tolist() == ["amount", "score"]


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
            st.one_of(st.none(), st.text(max_size=8)),
            st.one_of(st.none(), st.floats(0, 1)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_any_frame_round_trips_exactly(rows):
    frame = pd.DataFrame(rows, columns=["amount", "score", "probability"])
    frame["amount"] = frame["amount"].astype(float)
    frame["prediction"] = ["x"] * len(frame)
    back = decode_block(encode_block(frame, FEATURES), FEATURES, ("prediction",))
    assert back["amount"].equals(frame["amount"])
    assert back["score"].where(back["score"].notna(), None).tolist() == frame["score"].tolist()
    assert back["prediction"].tolist() == frame["prediction"].tolist()


@given(st.lists(st.integers(0, 29), min_size=1, max_size=12))
def test_decoding_some_rows_equals_decoding_the_block_and_taking_them(picked):
    frame = pd.DataFrame(
        {
            "amount": np.where(np.arange(30) % 7 == 0, np.nan, np.arange(30) * 1.5),
            "score": [None if i % 5 == 0 else f"c{i % 3}" for i in range(30)],
            "timestamp": pd.date_range("2026-01-01", periods=30, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    data = encode_block(frame, FEATURES)
    columns = ("timestamp", "prediction", "label")  # the block holds no prediction nor label
    rows = np.array(picked, dtype=np.int64)
    some = decode_block(data, FEATURES, columns, rows)
    whole = decode_block(data, FEATURES, columns).iloc[rows].reset_index(drop=True)

    # a text column's dtype (and so its missing value) follows pandas' inference from its values
    def plain(frame):
        return frame.astype(object).where(frame.notna(), None).to_dict("list")

    assert plain(some) == plain(whole)
    assert some["amount"].dtype == np.float64 and some["timestamp"].dtype == "datetime64[us]"


def test_blocks_of_cuts_in_order_and_keeps_every_row():
    frame = pd.DataFrame({"a": range(10)})
    parts = blocks_of(frame, rows=4)
    assert [len(p) for p in parts] == [4, 4, 2] and pd.concat(parts)["a"].tolist() == list(range(10))


def test_a_baseline_is_stored_as_blocks_and_reads_back_as_uploaded(store):
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    baseline = store.active_baseline(store.get_model("fraud").id)
    assert store.count_rows("baseline_blocks") == 1 and store.count_rows("baseline_rows") == 0
    frame = store.read_baseline(baseline)
    assert frame.columns.tolist() == [*baseline.feature_names, "prediction", "score", "label"]
    assert len(frame) == baseline.n_rows


def test_a_baseline_stored_a_row_each_by_an_older_version_reads_and_samples_as_before(store):
    """Databases from before blocks keep their baselines in baseline_rows; every reader takes them."""
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    baseline = store.active_baseline(store.get_model("fraud").id)
    as_blocks = store.read_baseline(baseline)
    outputs = baseline_outputs(store, baseline)
    sampled = sample_baseline(store, baseline, 50, seed=3)
    with store.begin() as conn:  # the same baseline as an older version stored it
        conn.execute(t.baseline_blocks.delete())
        conn.execute(
            t.baseline_rows.insert(),
            [
                {
                    "baseline_id": baseline.id,
                    "prediction": row.prediction,
                    "score": row.score,
                    "label": row.label,
                    "features": text,
                }
                for row, text in zip(
                    as_blocks.itertuples(),
                    features_to_json(as_blocks[list(baseline.feature_names)]),
                    strict=True,
                )
            ],
        )
    as_rows = store.read_baseline(baseline)
    pd.testing.assert_frame_equal(as_rows, as_blocks, check_dtype=False)
    pd.testing.assert_frame_equal(baseline_outputs(store, baseline), outputs, check_dtype=False)
    assert [json.loads(x) for x in sample_baseline(store, baseline, 50, seed=3)] == [
        json.loads(x) for x in sampled
    ]


def test_a_large_baseline_is_cut_into_blocks_and_reads_back_as_one(store, tmp_path, monkeypatch):
    whole = Store.open(f"sqlite:///{tmp_path / 'whole.db'}")
    ingest_csv(whole, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    import readiness.storage.store as store_module

    monkeypatch.setattr(store_module, "blocks_of", lambda frame: blocks_of(frame, rows=7))
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    baseline = store.active_baseline(store.get_model("fraud").id)
    with store.engine.connect() as conn:
        blocks, rows = conn.execute(
            select(func.count(), func.sum(t.baseline_blocks.c.n_rows)).where(
                t.baseline_blocks.c.baseline_id == baseline.id
            )
        ).one()
    assert blocks == -(-baseline.n_rows // 7) and rows == baseline.n_rows
    one = whole.read_baseline(whole.active_baseline(whole.get_model("fraud").id))
    pd.testing.assert_frame_equal(store.read_baseline(baseline), one)


def test_known_ids_finds_exactly_the_stored_request_ids_even_when_hashes_collide(store, monkeypatch):
    from readiness.storage import log_blocks

    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    model = store.get_model("fraud")
    features = store.active_baseline(model.id).features
    frame = live_frame(6, id_prefix="r")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    with store.begin() as conn:
        log_blocks.append_block(conn, model.id, frame.iloc[:3], features, None)
        known = log_blocks.KnownIds(conn, model.id)
        assert known.known(conn, ["r-0", "r-2", "r-3", "x"]) == {"r-0", "r-2"}
        log_blocks.append_block(conn, model.id, frame.iloc[3:], features, None)
        known.add(["r-3", "r-4", "r-5"])
        assert known.known(conn, ["r-3", "r-9"]) == {"r-3"}
        monkeypatch.setattr(log_blocks, "text_hashes", lambda ids: np.zeros(len(ids), dtype=np.uint64))
        colliding = log_blocks.KnownIds(conn, model.id)  # every id hashes alike: only the exact check decides
        assert colliding.known(conn, ["r-1", "nope", "r-5"]) == {"r-1", "r-5"}


def test_known_ids_keep_few_runs_and_find_every_id_as_blocks_are_added(store, monkeypatch):
    from readiness.storage import log_blocks

    monkeypatch.setattr(log_blocks.KnownIds, "RUN_LIMIT", 1_000)
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    model = store.get_model("fraud")
    with store.engine.connect() as conn:
        known = log_blocks.KnownIds(conn, model.id)
        for block in range(40):
            known.add([f"b{block}-{i}" for i in range(100)])
        assert len(known) == 4_000
        assert all(len(run) <= 1_000 for run in known.runs) and len(known.runs) <= 4 + 4
        assert all(bool(np.all(run[:-1] <= run[1:])) for run in known.runs)  # each run sorted
        hashed = log_blocks.text_hashes([f"b{block}-{i}" for block in range(40) for i in range(100)])
        every = np.concatenate(known.runs)
        assert set(every.tolist()) == set(hashed.tolist())


def test_a_models_blocks_are_read_in_upload_order_without_sorting_their_data(tmp_path):
    """A label upload reads every block's request ids in order; SQLite must walk an index, not sort the blobs.

    A database created before the index existed gets it when opened.
    """
    store = Store.open(f"sqlite:///{tmp_path / 'old.db'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_prediction_blocks_model_id")
    store.engine.dispose()
    store = Store.open(f"sqlite:///{tmp_path / 'old.db'}")
    b = t.prediction_blocks.c
    query = select(b.id, b.data).where(b.model_id == 1).order_by(b.id)
    compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "ix_prediction_blocks_model_id" in plan and "TEMP B-TREE" not in plan


def test_rows_taken_with_a_helper_thread_equal_rows_taken_block_by_block(tmp_path):
    from readiness.storage import log_blocks

    store = Store.open(f"sqlite:///{tmp_path / 'take.db'}")
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    model = store.get_model("fraud")
    features = store.active_baseline(model.id).features
    frame = live_frame(90, id_prefix="r")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    columns = ["timestamp", "model_version", "prediction", "score", "label"]
    with store.begin() as conn:
        ids = [
            log_blocks.append_block(conn, model.id, frame.iloc[i : i + 30], features, None)
            for i in (0, 30, 60)
        ]
        ids = [info.id for info in log_blocks.block_infos(conn, model.id)]
        wanted = [(ids[0], np.array([2, 0, 29])), (ids[2], np.arange(30)), (ids[1], np.array([5]))]
        one_by_one = [log_blocks.take_rows(conn, block, rows, columns) for block, rows in wanted]
        for got, want in zip(log_blocks.taken_rows(conn, iter(wanted), columns), one_by_one, strict=True):
            pd.testing.assert_frame_equal(got, want)
        stopped = log_blocks.taken_rows(conn, iter(wanted), columns)
        assert len(next(stopped)) == 3
        stopped.close()  # a caller that stops early (an error of its own) leaves no helper running
        assert conn.execute(select(func.count()).select_from(t.prediction_blocks)).scalar_one() == 3


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30, unique=True),
    st.lists(st.text(max_size=3), max_size=40, unique=True),
)
def test_block_ids_find_each_distinct_id_at_its_block_row(stored, asked):
    """Whichever side the hash table is built over (the fewer texts), each id gets its row or -1."""
    import pyarrow as pa

    from readiness.storage import log_blocks

    index = log_blocks.BlockIds.__new__(log_blocks.BlockIds)
    index.ids = pa.array(stored, type=pa.string())  # block rows' ids; a row without one is null
    where = {value: row for row, value in enumerate(stored) if value is not None}
    found = index.positions(pa.array(asked, type=pa.string()))
    assert found.tolist() == [where.get(value, -1) for value in asked]
