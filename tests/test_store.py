"""The store on SQLite and PostgreSQL: exact round trips, transactions, WAL, models."""

from __future__ import annotations

import itertools
import json
import math
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from factories import baseline_csv, binary_frame, live_csv, live_frame, table_counts, to_csv_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

import readiness.analysis.ingest as ingest_module
import readiness.storage.store as store_module
from readiness import ModelSpec, ingest_csv, log_predictions
from readiness.core.csvread import MISSING_MARKERS
from readiness.core.mapping import ColumnMapping
from readiness.core.records import FeatureSpec
from readiness.errors import ModelConfigError, StoreError, UnknownModelError
from readiness.storage import schema as t
from readiness.storage.store import Store

NUMERIC = ['x"; DROP TABLE predictions; --', "amount €"]
CATEGORICAL = ["city 'ü'", "plan"]
FEATURES = [FeatureSpec(c, "numeric") for c in NUMERIC] + [FeatureSpec(c, "categorical") for c in CATEGORICAL]
MODEL_NUMBERS = itertools.count()
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fresh_name(prefix: str) -> str:
    return f"{prefix}-{next(MODEL_NUMBERS)}-{uuid.uuid4().hex[:8]}"


def add_model_with_baseline(store: Store, name: str) -> None:
    """A binary model whose baseline has the NUMERIC and CATEGORICAL features."""
    model = store.create_model(name, "binary", "1")
    frame = pd.DataFrame(
        {**{c: [1.0, 2.0] for c in NUMERIC}, **{c: ["a", "b"] for c in CATEGORICAL}, "prediction": ["0", "1"]}
    )
    with store.begin() as conn:
        store.add_baseline(conn, model, frame, FEATURES, ["0", "1"], "baseline", None)


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def assert_same_values(sent: list, back: list, column: str) -> None:
    assert len(sent) == len(back), column
    for i, (x, y) in enumerate(zip(sent, back, strict=True)):
        if is_missing(x):
            assert is_missing(y), (column, i, x, y)
        else:
            assert x == y and type(y) is type(x), (column, i, x, y)


# Finite floats of every size and sign, including subnormals and the extremes.
finite = st.floats(allow_nan=False, allow_infinity=False)
# Text a service might log: any unicode (quotes, emoji, RTL...), no surrogates or NUL, no outer spaces.
words = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=15)
logged_text = words.filter(lambda s: s == s.strip())
# Text in a CSV cell: no control characters (refused as binary) except newline and tab, and not a
# missing-value marker such as "NA".
csv_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t"), min_size=1, max_size=15
).filter(lambda s: s == s.strip() and s not in MISSING_MARKERS)
zones = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])


@st.composite
def logged_frames(draw, cell_text=logged_text):
    n = draw(st.integers(1, 12))
    column = lambda values: draw(st.lists(values, min_size=n, max_size=n))  # noqa: E731
    frame = {c: column(st.one_of(finite, st.none())) for c in NUMERIC}
    frame.update({c: column(st.one_of(cell_text, st.none())) for c in CATEGORICAL})
    # times the log accepts: from 1990 to now (later ones are refused, tests/test_timestamps.py)
    frame["timestamp"] = column(st.datetimes(datetime(1990, 1, 2), datetime(2025, 12, 31), timezones=zones))
    frame["score"] = column(st.floats(0, 1))
    frame["prediction"] = [int(s >= 0.5) for s in frame["score"]]
    frame["request_id"] = draw(st.lists(cell_text, min_size=n, max_size=n, unique=True))
    frame["model_version"] = column(st.one_of(cell_text, st.none()))
    frame["latency_ms"] = column(st.one_of(st.floats(0, 1e9), st.none()))
    return pd.DataFrame(frame)


def as_utc_naive(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def assert_round_trip(sent: pd.DataFrame, back: pd.DataFrame) -> None:
    back = back.set_index("request_id").loc[sent["request_id"]].reset_index()
    for column in [*NUMERIC, *CATEGORICAL, "score", "request_id", "model_version", "latency_ms"]:
        assert_same_values(sent[column].tolist(), back[column].tolist(), column)
    assert [str(p) for p in sent["prediction"]] == back["prediction"].tolist()
    expected_times = [as_utc_naive(pd.Timestamp(v).to_pydatetime()) for v in sent["timestamp"]]
    assert [pd.Timestamp(v).to_pydatetime() for v in back["timestamp"]] == expected_times


@PROPERTY
@given(frame=logged_frames())
def test_log_predictions_round_trip_exactly(store, frame):
    name = fresh_name("log")
    add_model_with_baseline(store, name)
    # the refresh after logging is covered by the CSV round trip below; this one is about storage
    assert log_predictions(store, name, frame, refresh=False) == len(frame)
    back = store.read_predictions(store.get_model(name))
    assert len(back) == len(frame)
    assert_round_trip(frame, back)


@PROPERTY
@given(frame=logged_frames(cell_text=csv_text), sep=st.sampled_from([",", ";", "\t"]))
def test_csv_ingestion_round_trips_exactly(store, frame, sep):
    name = fresh_name("csv")
    base = pd.DataFrame(
        {**{c: [1.0, 2.0] for c in NUMERIC}, **{c: ["a", "b"] for c in CATEGORICAL}, "prediction": [0, 1]}
    )
    mapping = ColumnMapping(
        roles={"prediction": "prediction"}, categorical=tuple(CATEGORICAL), numeric=tuple(NUMERIC)
    )
    ingest_csv(
        store,
        name,
        "baseline",
        to_csv_bytes(base),
        "b.csv",
        mapping=mapping,
        new_model=ModelSpec("binary", "1"),
    )
    upload = frame.copy()
    upload["timestamp"] = [pd.Timestamp(v).isoformat() for v in frame["timestamp"]]
    result = ingest_csv(store, name, "live", to_csv_bytes(upload, sep=sep), "live.csv")
    assert result.rows_added == len(frame)
    assert_round_trip(frame, store.read_predictions(store.get_model(name)))


def test_baseline_round_trips(store):
    frame = binary_frame(50)
    ingest_csv(store, "fraud", "baseline", to_csv_bytes(frame), "b.csv", new_model=ModelSpec("binary", "1"))
    back = store.read_baseline(store.active_baseline(store.get_model("fraud").id))
    assert list(back.columns) == ["amount", "age", "region", "prediction", "score", "label"]
    assert back["amount"].tolist() == frame["amount"].tolist()
    assert back["age"].tolist() == frame["age"].astype(float).tolist()
    assert back["region"].tolist() == frame["region"].tolist()
    assert back["score"].tolist() == frame["score"].tolist()
    assert back["label"].tolist() == frame["label"].astype(str).tolist()


# -- transactions ---------------------------------------------------------------------------


def test_failure_after_partial_insert_of_predictions_leaves_nothing(store, monkeypatch):
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    before = table_counts(store)
    original = ingest_module.append_block

    def half_then_fail(conn, model_id, frame, features, ingestion_id, data=None):
        # half the rows, encoded again (not the whole block's ``data``)
        original(conn, model_id, frame.iloc[: len(frame) // 2], features, ingestion_id)
        assert conn.execute(select(func.sum(t.prediction_blocks.c.n_rows))).scalar_one() == 50
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_module, "append_block", half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_csv(store, "fraud", "live", live_csv(100), "l.csv")
    assert table_counts(store) == before
    assert store.count_rows("audit_log") == 2  # model.create and ingest.baseline only


def test_failure_while_storing_a_first_baseline_does_not_create_the_model(store, monkeypatch):
    original = store.add_baseline

    def store_then_fail(conn, *args, **kwargs):
        original(conn, *args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(store, "add_baseline", store_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    assert table_counts(store) == dict.fromkeys(table_counts(store), 0)
    assert store.count_rows("baseline_blocks") == 0 and store.count_rows("audit_log") == 0
    assert store.find_model("fraud") is None


def test_unique_violation_in_a_later_chunk_rolls_back_earlier_chunks(store, monkeypatch):
    """A concurrent writer stored r-95 after a service's check: the database refuses and nothing stays."""
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    log_predictions(store, "fraud", live_frame(1, id_prefix="r").assign(request_id="r-95"))
    before = table_counts(store)
    monkeypatch.setattr(store_module, "INSERT_CHUNK_ROWS", 10)
    monkeypatch.setattr(store, "existing_request_ids", lambda *args, **kwargs: set())
    with pytest.raises(StoreError, match=r"UNIQUE|unique|duplicate") as info:  # the database's refusal, named
        log_predictions(store, "fraud", live_frame(100, id_prefix="r"))
    assert isinstance(info.value.__cause__.__cause__, IntegrityError)  # log_predictions names the batch
    assert table_counts(store) == before


# -- SQLite: WAL and concurrent readers -----------------------------------------------------


def test_sqlite_store_uses_wal(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_reader_is_not_blocked_by_an_open_write_transaction(store):
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    other = _second_store(store)
    outcome: dict[str, object] = {}
    with store.begin() as conn:
        model = store.get_model("fraud")
        store.append_predictions(conn, model, _canonical(live_frame(5)), ("amount", "age", "region"), None)

        def read():
            try:
                outcome["rows"] = len(other.read_predictions(model))
                outcome["models"] = [m.name for m in other.list_models()]
            except Exception as exc:
                outcome["error"] = exc

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the reader was blocked by the writer"
    other.engine.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome == {"rows": 0, "models": ["fraud"]}  # uncommitted rows are invisible
    assert len(store.read_predictions(model)) == 5  # and visible after the commit


def _second_store(store: Store) -> Store:
    """Another engine (another connection pool) on the same database and schema."""
    url = store.engine.url.render_as_string(hide_password=False)
    if store.dialect == "sqlite":
        return Store.open(url)
    with store.engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar()
    return Store(create_engine(url, connect_args={"options": f"-csearch_path={schema}"}))


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    out["prediction"] = out["prediction"].astype(str)
    return out


def test_sqlite_file_store_is_created_in_a_new_directory(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/deep/er/r.db")
    assert (tmp_path / "deep" / "er" / "r.db").exists()
    assert store.is_empty()
    store.engine.dispose()


# -- models and reading ---------------------------------------------------------------------


def test_create_and_find_models(store):
    assert store.is_empty()
    model = store.create_model("fraud", "binary", positive_class=1, owner="risk", description="card fraud")
    assert (model.name, model.task, model.positive_class, model.owner) == ("fraud", "binary", "1", "risk")
    store.create_model("prices", "regression", positive_class="ignored")
    assert [m.name for m in store.list_models()] == ["fraud", "prices"]
    assert store.get_model("prices").positive_class is None
    assert store.find_model("nope") is None
    assert not store.is_empty()


def test_unknown_model_lists_the_known_ones(store):
    store.create_model("fraud", "binary", "1")
    store.create_model("churn", "multiclass")
    with pytest.raises(UnknownModelError, match=r"No model named 'Fraud'\. Known models: churn, fraud\."):
        store.get_model("Fraud")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "fraud", "task": "binary", "positive_class": "1"}, "A model named 'fraud' already exists"),
        ({"name": "new", "task": "binary"}, "Binary model 'new' needs a positive class"),
        ({"name": "new", "task": "ranking"}, "Unknown task 'ranking' for model 'new'"),
        (
            {"name": "new", "task": "regression", "owner": "o" * 201},
            "Owner of model 'new' is 201 characters long",
        ),
        ({"name": "a/b", "task": "regression"}, "Model name 'a/b' is not allowed"),
    ],
)
def test_bad_model_definitions(store, kwargs, words):
    store.create_model("fraud", "binary", "1")
    before = table_counts(store)
    with pytest.raises(ModelConfigError, match=words):
        store.create_model(**kwargs)
    assert table_counts(store) == before


def test_long_file_names_and_actors_fit_their_columns(store):
    name = "exports/" + "d" * 700 + "/baseline.csv"
    ingest_csv(
        store,
        "fraud",
        "baseline",
        baseline_csv(20),
        name,
        new_model=ModelSpec("binary", "1"),
        actor="a" * 300,
    )
    with store.engine.connect() as conn:
        stored = conn.execute(select(t.ingestions.c.filename, t.ingestions.c.actor)).one()
    assert len(stored.filename) == 500 and stored.filename.endswith("/baseline.csv")
    assert len(stored.actor) == 200


def test_read_predictions_window_and_limit(store):
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    ingest_csv(store, "fraud", "live", live_csv(60), "l.csv")  # one a minute from 2026-03-01 00:00
    start, end = datetime(2026, 3, 1, 0, 10), datetime(2026, 3, 1, 0, 20)
    model = store.get_model("fraud")
    window = store.read_predictions(model, start=start, end=end)
    assert window["request_id"].tolist() == [f"r-{i}" for i in range(10, 20)]
    assert len(store.read_predictions(model, limit=7)) == 7
    assert list(window.columns[-3:]) == ["amount", "age", "region"]


def test_read_predictions_of_a_model_without_any(store):
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    back = store.read_predictions(store.get_model("fraud"))
    assert back.empty
    assert {"timestamp", "prediction", "label", "amount", "region"} <= set(back.columns)


def test_read_baseline_of_a_model_without_one(store):
    model = store.create_model("fraud", "binary", "1")
    # read_baseline takes a Baseline now: a model without one has none to read
    assert store.active_baseline(model.id) is None
    assert store.read_predictions(model).empty  # and its log reads back empty, without feature names


def test_count_rows_per_model(store):
    ingest_csv(store, "a", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    ingest_csv(store, "b", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    ingest_csv(store, "a", "live", live_csv(7), "l.csv")
    ingest_csv(store, "b", "live", live_csv(3), "l.csv")
    assert store.count_predictions() == 10
    assert store.count_predictions(store.get_model("a").id) == 7


def test_opening_a_database_from_before_label_arrival_times_adds_the_column(tmp_path):
    from sqlalchemy import inspect, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store.open(url)
    with old.engine.begin() as conn:
        conn.execute(text("ALTER TABLE labels DROP COLUMN arrived_at"))  # as created before the column
        conn.execute(
            text(
                "INSERT INTO models (name, task, owner, description, created_at) VALUES ('m', 'binary', '', '', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO labels (model_id, request_id, label, received_at) VALUES (1, 'r1', '1', '2026-01-02')"
            )
        )
    old.engine.dispose()
    store = Store.open(url)
    assert "arrived_at" in {c["name"] for c in inspect(store.engine).get_columns("labels")}
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT request_id, arrived_at FROM labels")).all() == [("r1", None)]
    store.engine.dispose()


def test_concurrent_writers_on_sqlite_wait_their_turn_instead_of_failing_locked(tmp_path):
    """Services logging batches from several threads while a refresh and a reader run: no 'database is locked'."""
    from concurrent.futures import ThreadPoolExecutor

    from readiness import log_predictions
    from readiness.analysis.refresh import refresh_model

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    store = Store.open(url)
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    batches = [
        live_frame(40, seed=i, id_prefix=f"t{i}").drop(columns="request_id").to_dict("records")
        for i in range(24)
    ]

    def write(batch) -> int:
        return log_predictions(Store.open(url), "fraud", batch, refresh=False)

    def read_and_refresh(_: int) -> int:
        reader = Store.open(url)
        refresh_model(reader, reader.get_model("fraud"))  # reads, then writes the aggregates
        return len(reader.read_predictions(reader.get_model("fraud")))

    with ThreadPoolExecutor(max_workers=6) as pool:  # writes, refreshes and reads interleaved
        writes = [pool.submit(write, batch) for batch in batches[:12]]
        reads = [pool.submit(read_and_refresh, i) for i in range(6)]
        writes += [pool.submit(write, batch) for batch in batches[12:]]
        written = [f.result() for f in writes]
        read = [f.result() for f in reads]
    assert sum(written) == 24 * 40
    assert all(0 <= n <= 24 * 40 for n in read)
    assert store.count_predictions() == 24 * 40


def test_a_postgresql_refresh_never_skips_rows_committed_late_with_lower_ids(pg_store):
    """A slow write holds ids 1-30 while a quick one commits 31-50: the refresh waits, and sees all 50."""
    from readiness.analysis.refresh import refresh_model
    from readiness.storage.performance_store import day_records
    from readiness.storage.profile_store import day_profiles

    store = pg_store
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    model = store.get_model("fraud")
    holding, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with store.begin() as conn:
            store.append_predictions(
                conn, model, _canonical(live_frame(30, id_prefix="slow")), ("amount", "age", "region"), None
            )
            holding.set()
            release.wait(timeout=120)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert holding.wait(timeout=60)
    log_predictions(
        store, "fraud", live_frame(20, id_prefix="quick"), refresh=False
    )  # higher ids, committed first
    refresher = threading.Thread(target=refresh_model, args=(store, model))
    refresher.start()
    refresher.join(timeout=1)
    release.set()  # the slow write commits while the refresh waits for it
    writer.join(timeout=60)
    refresher.join(timeout=120)
    assert not writer.is_alive() and not refresher.is_alive()
    refresh_model(store, model)
    baseline = store.active_baseline(model.id)
    assert sum(profile.n_rows for _, profile in day_profiles(store, baseline)) == 50
    assert sum(record.n_rows for record in day_records(store, baseline)) == 50


def test_a_sqlite_write_waits_out_a_writer_that_holds_the_lock_past_the_busy_timeout(tmp_path, monkeypatch):
    """A long ingest holds the write lock longer than SQLite's busy timeout: a service's batch retries and lands.

    Before, the batch failed with "database is locked" once the busy timeout ran out.
    """
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    url = f"sqlite:///{tmp_path / 'long.db'}"
    store = Store.open(url)
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    blocker = sqlite3.connect(tmp_path / "long.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the long ingest
    retried, released = threading.Event(), threading.Event()
    monkeypatch.setattr(store_module, "_pause", lambda seconds: (retried.set(), released.wait(timeout=60)))
    outcome: list[object] = []

    def service() -> None:
        try:
            outcome.append(log_predictions(Store.open(url), "fraud", live_frame(25), refresh=False))
        except Exception as exc:  # recorded, so the assertion below names it
            outcome.append(exc)

    writer = threading.Thread(target=service)
    writer.start()
    try:
        assert retried.wait(timeout=60)  # the batch ran out of busy timeout at least once
    finally:
        blocker.execute("COMMIT")
        blocker.close()
        released.set()
    writer.join(timeout=60)
    assert not writer.is_alive() and outcome == [25], outcome
    assert store.count_predictions() == 25


def test_a_sqlite_database_busy_past_every_retry_is_one_line_that_says_so(tmp_path, monkeypatch):
    """Another process holds the write lock throughout: the write fails with a StoreError saying the database is busy."""
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(store_module, "BUSY_BACKOFF_SECONDS", (0.01, 0.02))
    url = f"sqlite:///{tmp_path / 'held.db'}"
    store = Store.open(url)
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    blocker = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match=r"busy: another write held it through 3 attempts") as caught:
            log_predictions(Store.open(url), "fraud", live_frame(5), refresh=False)
        assert "\n" not in str(caught.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.count_predictions() == 0


def test_aggregates_cover_exactly_the_stored_rows_after_a_service_an_ingest_and_readers_run_at_once(store):
    """A service logs batches while a file is ingested and pages refresh and read: afterwards profiles and
    performance aggregates count exactly the rows stored, on SQLite and on PostgreSQL."""
    from concurrent.futures import ThreadPoolExecutor

    from readiness.analysis.refresh import refresh_model
    from readiness.storage.performance_store import day_records
    from readiness.storage.profile_store import day_profiles

    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    model = store.get_model("fraud")

    def service(i: int) -> int:
        return log_predictions(store, "fraud", live_frame(30, seed=i, id_prefix=f"s{i}"), refresh=i % 2 == 0)

    def upload() -> int:
        return ingest_csv(store, "fraud", "live", live_csv(3000, id_prefix="file"), "live.csv").rows_added

    def page(_: int) -> int:
        refresh_model(store, model)
        return len(store.read_predictions(model))

    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = [pool.submit(service, i) for i in range(10)]
        futures.insert(3, pool.submit(upload))
        futures += [pool.submit(page, i) for i in range(4)]
        results = [f.result(timeout=300) for f in futures]
    assert sum(results[:11]) == 10 * 30 + 3000
    refresh_model(store, model)
    stored = store.count_predictions()
    baseline = store.active_baseline(model.id)
    assert stored == 3300
    assert sum(profile.n_rows for _, profile in day_profiles(store, baseline)) == stored
    assert sum(record.n_rows for record in day_records(store, baseline)) == stored


def _records_as_to_dict_gave(frame: pd.DataFrame, columns) -> list[dict]:
    """The row records as the store built them before (pandas' to_dict), to compare the column-wise build with."""
    present = [c for c in columns if c in frame.columns]
    records = frame[present].astype(object).where(frame[present].notna(), None).to_dict("records")
    for record in records:
        if record.get("timestamp") is not None:
            record["timestamp"] = record["timestamp"].to_pydatetime().replace(tzinfo=None)
        for column in columns:
            record.setdefault(column, None)
    return records


MIXED = st.one_of(
    st.none(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=5), st.booleans()
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(MIXED, st.floats(allow_infinity=False), st.integers(0, 5)), min_size=0, max_size=30)
)
def test_rows_are_built_column_wise_exactly_as_pandas_records_were(cells):
    """features_to_json and the reserved-column records equal what to_dict("records") gave, value for value."""
    from readiness.core.records import features_to_json
    from readiness.storage.store import _reserved_columns

    frame = pd.DataFrame(cells, columns=["mixed", "amount", "count"])
    frame["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(range(len(frame)), unit="s")
    frame["prediction"] = frame["count"].astype(str)
    if len(frame):
        frame.loc[frame.index[0], "timestamp"] = pd.NaT
    old = [
        json.dumps(r, allow_nan=False)
        for r in frame[["amount", "count"]]
        .astype(object)
        .where(frame[["amount", "count"]].notna(), None)
        .to_dict("records")
    ]
    assert features_to_json(frame[["amount", "count"]]) == old
    reserved = ("timestamp", "request_id", "prediction", "score")
    columns = _reserved_columns(frame, reserved)
    records = [dict(zip(reserved, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    assert records == _records_as_to_dict_gave(frame, reserved)
    try:
        expected = [
            json.dumps(r, allow_nan=False)
            for r in frame[["mixed"]].astype(object).where(frame[["mixed"]].notna(), None).to_dict("records")
        ]
    except ValueError:  # infinities: both refuse
        with pytest.raises(ValueError):
            features_to_json(frame[["mixed"]])
    else:
        assert features_to_json(frame[["mixed"]]) == expected


def test_the_sqlite_bulk_insert_stores_exactly_what_sqlalchemy_stored(tmp_path, monkeypatch):
    """Predictions and labels through the driver's executemany equal, byte for byte, SQLAlchemy's insert."""
    frame = live_frame(300, seed=4, with_label=True)
    frame.loc[::7, "score"] = None
    frame.loc[::11, "label"] = None
    frame.loc[::5, "region"] = "Zürich ✓"
    labels = pd.DataFrame({"request_id": frame["request_id"][:50], "label": ["1", "0"] * 25})
    labels["arrived_at"] = pd.to_datetime(["2026-03-02T00:00:00Z", None] * 25, utc=True)

    def stored(name: str) -> dict[str, list]:
        store = Store.open(f"sqlite:///{tmp_path / name}")
        ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
        model = store.get_model("fraud")
        with store.begin() as conn:
            canonical = _canonical(frame)
            canonical.loc[3, "timestamp"] += pd.Timedelta(microseconds=123456)  # sub-second times kept alike
            store.append_predictions(conn, model, canonical, ("amount", "age", "region"), None)
            store.insert_labels(conn, model.id, labels.assign(received_at=pd.Timestamp("2026-03-03")), None)
        with store.engine.connect() as conn:
            return {
                table: conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id").all()
                for table in ("predictions", "labels")
            }

    bulk = stored("bulk.db")
    monkeypatch.setattr(
        store_module, "_python_defaults_missing", lambda table, row: True
    )  # SQLAlchemy's insert
    assert stored("sqlalchemy.db") == bulk
    assert len(bulk["predictions"]) == 300 and len(bulk["labels"]) == 50


@pytest.mark.parametrize(
    "texts",
    [
        ['{"amount": 1.5, "region": "north"}', '{"amount": 2, "region": null}', "", "{}"],
        ['{"amount": "12", "region": "north"}'],  # text where a number was expected
        ['{"amount": 1.0, "region": 7}'],  # a number where text was expected
        ['{"amount": NaN, "region": "x"}'],  # not standard JSON; Python reads it
        ['{"amount": 1.0,\n "region": "x"}', '{"amount": 3.0}'],  # pretty-printed by a service
        ['{"amount": 1.0,\r\n "region": "x"}', '{"amount": 3.0}'],  # ... on Windows
        ['{"amount": 1.0, "region": "x"}', '{"amount": 3.0,\r "region": "y"}'],
        ['{"amount": 1e308, "region": "caf\\u00e9", "extra": [1, 2]}'],
    ],
)
def test_typed_feature_parsing_gives_what_parsing_then_typing_gave(texts):
    """Arrow's typed JSON parse, or its fallback, equals json.loads followed by the profiles' typing."""
    from readiness.core.profiles import typed_log_frame
    from readiness.core.records import FeatureSpec, features_from_json

    specs = (FeatureSpec("amount", "numeric"), FeatureSpec("region", "categorical"))
    kinds = {s.name: s.kind for s in specs}
    fast = typed_log_frame(features_from_json(texts, kinds=kinds), specs)
    slow = typed_log_frame(features_from_json(texts), specs)
    pd.testing.assert_frame_equal(fast, slow)


class _Rows:
    """A query result as result_frame reads one: rows from ``all()``."""

    def __init__(self, rows):
        self.rows = rows

    def all(self):
        return self.rows


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(MIXED, MIXED, st.one_of(st.none(), st.floats(allow_nan=False))), max_size=20))
def test_query_rows_become_the_frame_pandas_builds_row_wise(rows):
    """result_frame builds column by column the frame pandas builds from the row tuples: same dtypes, same values."""
    from readiness.storage.sql import result_frame

    expected = pd.DataFrame(rows, columns=["a", "b", "c"])
    pd.testing.assert_frame_equal(result_frame(_Rows(rows), ["a", "b", "c"]), expected)
    untyped = result_frame(_Rows(rows), ["a", "b", "c"], as_objects=("b",))
    assert rows == [] or (untyped["b"].dtype == object and untyped["b"].tolist() == [r[1] for r in rows])
    pd.testing.assert_frame_equal(untyped[["a", "c"]], expected[["a", "c"]])
