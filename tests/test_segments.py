"""Quality metrics per value of a categorical feature, checked against scikit-learn."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import recall_score

from readiness import ingest_csv
from readiness.analysis.segments import OTHER, SegmentError, segment_features, segment_performance
from tests.factories import baseline_csv, labels_csv, live_csv


@pytest.fixture
def labelled(sqlite_store):
    ingest_csv(sqlite_store, "m", "baseline", baseline_csv(300), "b.csv")
    ingest_csv(sqlite_store, "m", "live", live_csv(400, start=pd.Timestamp("2026-11-01")), "l.csv")
    ids = sqlite_store.read_predictions(sqlite_store.get_model("m"))["request_id"].tolist()[:300]
    ingest_csv(sqlite_store, "m", "labels", labels_csv(ids), "labels.csv")
    return sqlite_store


def test_recall_per_region_matches_sklearn(labelled):
    model = labelled.get_model("m")
    result = segment_performance(labelled, model, "region")
    raw = labelled.read_predictions(model).dropna(subset=["label"])
    assert result.rows_used == 300 and not result.capped
    assert sum(s.n_labelled for s in result.segments) == 300
    for segment in result.segments:
        part = raw[raw["region"] == segment.value]
        expected = recall_score(part["label"].astype(str), part["prediction"].astype(str), pos_label="1")
        assert segment.metrics["recall"].value == pytest.approx(expected)
    assert all(
        next(iter(s.metrics)) == "accuracy" for s in result.segments
    )  # quality metrics in registry order


def test_the_row_cap_is_reported(labelled):
    result = segment_performance(labelled, labelled.get_model("m"), "region", max_rows=50)
    assert result.rows_used == 50 and result.capped


def test_only_categorical_features_can_segment(labelled):
    model = labelled.get_model("m")
    assert segment_features(labelled, model) == ("region",)
    with pytest.raises(SegmentError, match=r"'amount' is not a categorical feature .* choose one of: region"):
        segment_performance(labelled, model, "amount")


def test_rare_values_are_pooled(labelled):
    result = segment_performance(labelled, labelled.get_model("m"), "region")
    assert OTHER not in [s.value for s in result.segments]  # few regions: no pooling needed
