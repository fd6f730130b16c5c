"""``readiness.log_predictions``: a service appending rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from factories import baseline_csv, labels_csv, table_counts

from readiness import ModelSpec, ingest_csv, log_predictions
from readiness.analysis.refresh import refresh_model
from readiness.errors import DataValidationError, SchemaMismatchError, UnknownModelError
from readiness.storage.performance_store import day_records
from readiness.storage.profile_store import day_profiles
from readiness.storage.store import Store


def row(request_id="r-1", **changes):
    base = {
        "timestamp": "2026-11-01T10:00:00Z",
        "prediction": 0,
        "score": 0.03,
        "request_id": request_id,
        "amount": 12.5,
        "age": 40,
        "region": "north",
    }
    return {**base, **changes}


@pytest.fixture
def fraud(store) -> Store:
    """A store with the binary model 'fraud' and its baseline (amount, age, region)."""
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    return store


def refused(store, error, rows, model="fraud") -> str:
    """log_predictions must raise error and leave every table as it was; return the message."""
    return expect_nothing_written(store, error, lambda: log_predictions(store, model, rows))


def expect_nothing_written(store, error, call) -> str:
    before = table_counts(store)
    with pytest.raises(error) as info:
        call()
    assert table_counts(store) == before
    return str(info.value)


def test_logs_dict_rows_and_reads_them_back(fraud):
    rows = [
        row("r-1"),
        row("r-2", prediction=1, score=0.91, region="south", model_version="v2", latency_ms=12.5),
    ]
    assert log_predictions(fraud, "fraud", rows) == 2
    back = fraud.read_predictions(fraud.get_model("fraud"))
    assert back["request_id"].tolist() == ["r-1", "r-2"]
    assert back["prediction"].tolist() == ["0", "1"]
    assert back["score"].tolist() == [0.03, 0.91]
    assert back["region"].tolist() == ["north", "south"]
    assert back["model_version"].isna().tolist() == [True, False] and back["model_version"][1] == "v2"
    assert back["latency_ms"].tolist()[1] == 12.5
    assert str(back["timestamp"][0]) == "2026-11-01 10:00:00"


def test_logs_a_dataframe_with_python_and_numpy_types(fraud):
    frame = pd.DataFrame([row(f"r-{i}", amount=float(i) / 3) for i in range(5)])
    frame["timestamp"] = pd.date_range("2026-11-01", periods=5, freq="h", tz="Europe/Berlin")
    frame["age"] = frame["age"].astype(np.int32)
    frame["amount"] = frame["amount"].astype(np.float64)
    assert log_predictions(fraud, "fraud", frame) == 5
    back = fraud.read_predictions(fraud.get_model("fraud"))
    assert back["amount"].tolist() == frame["amount"].tolist()
    assert str(back["timestamp"][0]) == "2026-10-31 23:00:00"  # Berlin midnight in UTC


def test_datetime_objects_with_offsets_are_stored_in_utc(fraud):
    aware = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2026, 6, 1, 12, 0)
    log_predictions(fraud, "fraud", [row("a", timestamp=aware), row("b", timestamp=naive)])
    times = fraud.read_predictions(fraud.get_model("fraud")).set_index("request_id")["timestamp"]
    assert (str(times["a"]), str(times["b"])) == ("2026-06-01 10:00:00", "2026-06-01 12:00:00")


def test_missing_feature_values_and_missing_keys_become_missing(fraud):
    no_region = {k: v for k, v in row("c").items() if k != "region"}
    rows = [row("a", amount=None), row("b", amount=float("nan")), no_region]
    assert log_predictions(fraud, "fraud", rows) == 3
    back = fraud.read_predictions(fraud.get_model("fraud"))
    assert back["amount"].isna().tolist() == [True, True, False]
    assert back["region"].isna().tolist() == [False, False, True]


def test_rows_without_request_ids_are_allowed(fraud):
    rows = [{k: v for k, v in row().items() if k != "request_id"}] * 3
    assert log_predictions(fraud, "fraud", rows) == 3
    assert fraud.read_predictions(fraud.get_model("fraud"))["request_id"].isna().all()


def test_no_rows_logs_nothing(fraud):
    assert log_predictions(fraud, "fraud", []) == 0
    assert log_predictions(fraud, "fraud", pd.DataFrame()) == 0
    assert fraud.count_predictions() == 0


def test_store_may_be_given_as_a_url(tmp_path):
    url = f"sqlite:///{tmp_path}/svc.db"
    store = Store.open(url)
    ingest_csv(store, "fraud", "baseline", baseline_csv(), "b.csv", new_model=ModelSpec("binary", "1"))
    assert log_predictions(url, "fraud", [row()]) == 1
    assert store.count_predictions() == 1
    store.engine.dispose()


def test_logged_rows_and_delayed_labels_join(fraud):
    log_predictions(fraud, "fraud", [row(f"r-{i}") for i in range(4)])
    ingest_csv(fraud, "fraud", "labels", labels_csv(["r-0", "r-3"], seed=5), "lab.csv")
    stats = fraud.model_stats()[0]
    assert (stats.n_predictions, stats.n_labelled, stats.label_coverage) == (4, 2, 0.5)


def test_logged_rows_are_aggregated_at_once_unless_the_refresh_is_deferred(fraud):
    model = fraud.get_model("fraud")
    baseline = fraud.active_baseline(model.id)

    def aggregated() -> tuple[int, int]:
        return (
            sum(p.n_rows for _, p in day_profiles(fraud, baseline)),
            sum(r.n_rows for r in day_records(fraud, baseline)),
        )

    log_predictions(fraud, "fraud", [row("r-1")])
    assert aggregated() == (1, 1)
    log_predictions(fraud, "fraud", [row("r-2")], refresh=False)
    assert fraud.count_predictions() == 2
    assert aggregated() == (1, 1)  # stored, but only a refresh (e.g. a scheduled one) aggregates it
    refreshed = refresh_model(fraud, model)
    # the new row is read once: profiled, and its day record merged into the stored day's
    assert (refreshed.profiles.rows_profiled, len(refreshed.days_merged), refreshed.performance_days) == (
        1,
        1,
        1,
    )
    assert refreshed.performance.days_recomputed == 0
    assert aggregated() == (2, 2)


def test_hostile_strings_are_logged_as_data(fraud):
    texts = [
        "'; DROP TABLE predictions; --",
        'quote " and \\ backslash',
        "🚀 emoji",
        "Ünïcödé ‮rtl",
        "%(x)s ? :name",
    ]
    rows = [row(f"{t} {i}", region=t, model_version=t) for i, t in enumerate(texts)]
    assert log_predictions(fraud, "fraud", rows) == len(texts)
    back = fraud.read_predictions(fraud.get_model("fraud"))
    assert back["region"].tolist() == texts
    assert back["model_version"].tolist() == texts
    assert back["request_id"].tolist() == [f"{t} {i}" for i, t in enumerate(texts)]


# -- bad rows: typed error, clear message, nothing written ------------------------------------


def test_unknown_model(fraud):
    message = refused(fraud, UnknownModelError, [row()], model="frod")
    assert "No model named 'frod'. Known models: fraud." in message


def test_model_without_baseline(store):
    store.create_model("fraud", "binary", "1")
    message = refused(store, DataValidationError, [row()])
    assert "Model 'fraud' has no baseline yet" in message


@pytest.mark.parametrize("key", ["timestamp", "prediction"])
def test_rows_without_a_required_key(fraud, key):
    rows = [{k: v for k, v in row().items() if k != key}]
    message = refused(fraud, DataValidationError, rows)
    assert f"The logged rows have no {key!r}" in message
    assert "'request_id'" in message  # the keys that were found


def test_request_ids_already_logged(fraud):
    log_predictions(fraud, "fraud", [row("r-1"), row("r-2")])
    message = expect_nothing_written(
        fraud,
        DataValidationError,
        lambda: log_predictions(fraud, "fraud", [row("r-3"), row("r-2")]),
    )
    assert "1 request id(s) are already logged for model 'fraud' (first: 'r-2')" in message


def test_duplicate_request_ids_in_one_call(fraud):
    message = expect_nothing_written(
        fraud,
        DataValidationError,
        lambda: log_predictions(fraud, "fraud", [row("x"), row("y"), row("x")]),
    )
    assert "repeats 'x'" in message


def test_features_that_differ_from_the_baseline(fraud):
    rows = [{**{k: v for k, v in row().items() if k != "age"}, "device": "ios", "amount": "lots"}]
    message = refused(fraud, SchemaMismatchError, rows)
    assert "missing: 'age'" in message and "extra: 'device'" in message
    assert "type changed: 'amount'" in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"score": float("nan")}, "Score column 'score' is empty or NaN"),
        ({"score": float("inf")}, "Score column 'score' has an infinite value"),
        ({"score": 1.2}, "Score column 'score' has '1.2'"),
        ({"prediction": 7}, "Prediction column 'prediction' has class '7'"),
        ({"timestamp": "soon"}, "Timestamp column 'timestamp' has an unreadable time"),
        ({"latency_ms": -3}, "Latency column 'latency_ms' is negative"),
        ({"request_id": "x\x00y"}, "has a NUL character"),
        ({"request_id": "r" * 201}, "has a value of 201 characters"),
        ({"model_version": "v" * 101}, "Model version column 'model_version' has a value of 101 characters"),
    ],
    ids=[
        "nan-score",
        "inf-score",
        "score-above-1",
        "unknown-class",
        "bad-time",
        "negative-latency",
        "nul",
        "long-request-id",
        "long-model-version",
    ],
)
def test_bad_values(fraud, change, words):
    rows = [row("ok"), {**row("bad"), **change}]
    message = refused(fraud, DataValidationError, rows)
    assert words in message


def test_logging_applies_an_uploads_limits(fraud, monkeypatch):
    message = refused(fraud, DataValidationError, [row(region="x" * (20 * 1024 * 1024))])
    assert "Logged row 1 has a value of 20,971,520 characters in column 'region', over the 128 kB" in message
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "0.001")
    rows = [row(request_id=f"r-{i}", region="north" * 10) for i in range(40)]
    assert "over the 0.001 MB upload limit. Log them in smaller batches" in refused(
        fraud, DataValidationError, rows
    )


def test_a_database_that_refuses_the_write_is_a_store_error_and_stores_nothing(fraud, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from readiness.errors import StoreError

    def locked(*_args, **_kwargs):
        raise OperationalError("INSERT INTO predictions", {}, Exception("database is locked"))

    monkeypatch.setattr(Store, "append_predictions", locked)
    message = refused(fraud, StoreError, [row()])
    assert message.startswith(
        "The database did not take the 1 logged row(s) for model 'fraud': Exception: database is locked"
    )
    assert "Nothing was stored" in message
