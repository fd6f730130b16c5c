"""Per-day performance aggregates: built at ingestion, updated when late labels arrive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import recall_score

from readiness import ingest_csv, log_predictions
from readiness.core import metrics as m
from readiness.core.performance import merge_records
from readiness.storage.performance_store import day_records, refresh_performance
from tests.factories import baseline_csv, labels_csv, live_csv


def setup(store, n=600, task="binary"):
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv")
    ingest_csv(store, "m", "live", live_csv(n, task=task, start=pd.Timestamp("2026-11-01T12:00:00")), "l.csv")
    return store.get_model("m")


def records_of(store, model):
    """The stored day records of the model's active baseline."""
    return day_records(store, store.active_baseline(model.id))


def test_live_ingestion_records_operations_per_day_and_version(store):
    model = setup(store, n=900)  # one row a minute from noon: 720 rows on Nov 1, 180 on Nov 2
    records = records_of(store, model)
    assert [(r.day.day, r.n_rows) for r in records] == [(1, 720), (2, 180)]
    assert all(r.n_labelled == 0 for r in records)
    total = merge_records(records, model, store.active_baseline(model.id), records[0].day)
    assert m.volume(total.operations).value == 900


def test_late_labels_update_exactly_the_labelled_days(store):
    model = setup(store)
    raw = store.read_predictions(model)
    ids = raw["request_id"].tolist()[:300]
    ingest_csv(store, "m", "labels", labels_csv(ids), "labels.csv")
    records = records_of(store, model)
    assert sum(r.n_labelled for r in records) == 300
    joined = store.read_predictions(model).dropna(subset=["label"])
    total = merge_records(records, model, store.active_baseline(model.id), records[0].day)
    expected = recall_score(joined["label"].astype(str), joined["prediction"].astype(str), pos_label="1")
    assert m.recall_score(total.quality).value == expected
    assert refresh_performance(store, model).days_recomputed == 0


def test_corrected_labels_replace_the_old_ones_in_the_aggregates(store):
    model = setup(store)
    ids = store.read_predictions(model)["request_id"].tolist()[:100]
    ingest_csv(store, "m", "labels", labels_csv(ids, seed=1), "first.csv")
    ingest_csv(
        store,
        "m",
        "labels",
        pd.DataFrame({"request_id": ids, "label": ["1"] * 100}).to_csv(index=False).encode(),
        "all-positive.csv",
    )
    records = records_of(store, model)
    total = merge_records(records, model, store.active_baseline(model.id), records[0].day)
    assert total.n_labelled == 100
    assert total.quality.tn + total.quality.fp == 0  # every label is now positive


def test_rows_a_service_inserts_are_picked_up_by_the_next_refresh(store):
    model = setup(store, n=50)
    log_predictions(
        store,
        "m",
        [
            {
                "timestamp": "2026-11-05T08:00:00Z",
                "request_id": "svc-1",
                "prediction": 1,
                "score": 0.9,
                "amount": 10.0,
                "age": 30,
                "region": "north",
                "latency_ms": 12.0,
            }
        ],
        refresh=False,
    )
    assert [r.day.day for r in records_of(store, model)][-1] == 1  # not aggregated until a refresh
    result = refresh_performance(store, model)
    assert result.days_recomputed == 1
    assert [r.day.day for r in records_of(store, model)][-1] == 5


def test_regression_and_label_delay(store):
    model = setup(store, n=200, task="regression")
    ids = store.read_predictions(model)["request_id"].tolist()
    ingest_csv(store, "m", "labels", labels_csv(ids, task="regression"), "labels.csv")
    records = records_of(store, model)
    total = merge_records(records, model, store.active_baseline(model.id), records[0].day)
    assert total.n_labelled == 200
    assert m.mean_absolute_error(total.quality).value > 0
    assert m.latency_quantile(total.delay, 0.5).value > 0  # labels arrived after the predictions (hours)


def test_a_binary_model_with_scores_gets_the_label_free_estimate(store):
    model = setup(store)
    records = records_of(store, model)
    assert all(r.estimate is not None and r.estimate.n > 0 for r in records)


@pytest.mark.parametrize(
    "predictions",
    [
        pd.Series(["1", "0", None, "1"], dtype=object),
        pd.Series(["1", "0", None, "1"], dtype="str"),
        pd.Series([1, 0, 1]),
        pd.Series([1.0, 0.0, np.nan]),  # "1.0" is not the class "1", as before
        pd.Series([1, "0", None, True], dtype=object),
        pd.Series([], dtype=object),
    ],
)
def test_predicted_positive_flags_are_the_text_comparison(predictions):
    """The estimate's predicted-positive flags equal comparing each prediction's text with the class."""
    from readiness.core.performance import _is_class

    expected = (predictions.astype(str) == "1").to_numpy() & predictions.notna().to_numpy()
    assert _is_class(predictions, "1").tolist() == expected.tolist()
