"""The portfolio summary behind the Overview page."""

from __future__ import annotations

from datetime import datetime

from readiness import Store, ingest_csv, log_predictions
from readiness.analysis.overview import portfolio_overview
from readiness.core.status import Freshness

BASELINE = b"x,y_pred,y_pred_proba,y_true\n1,1,0.9,1\n2,0,0.2,0\n"


def test_empty_store_has_no_models():
    assert portfolio_overview(Store.open("sqlite:///:memory:")).models == ()


def test_volume_range_coverage_and_freshness_are_computed_from_the_log():
    store = Store.open("sqlite:///:memory:")
    ingest_csv(store, "m", "baseline", BASELINE, "b.csv")
    log_predictions(
        store,
        "m",
        [
            {"timestamp": "2026-11-01T00:00:00Z", "request_id": "a", "prediction": 1, "score": 0.9, "x": 1.0},
            {
                "timestamp": "2026-11-02T00:00:00Z",
                "request_id": "b",
                "prediction": 0,
                "score": 0.1,
                "x": 2.0,
                "label": 0,
            },
            {"timestamp": "2026-11-03T12:00:00Z", "request_id": "c", "prediction": 0, "score": 0.2, "x": 3.0},
        ],
    )
    ingest_csv(store, "m", "labels", b"request_id,label\na,1\n", "l.csv")
    ingest_csv(store, "empty", "baseline", BASELINE, "b2.csv")

    portfolio = portfolio_overview(store, now=datetime(2026, 11, 5, 0, 0))

    empty, model = portfolio.models  # sorted by name
    assert (model.n_predictions, model.baseline_rows) == (3, 2)
    assert model.first_timestamp == datetime(2026, 11, 1) and model.last_timestamp == datetime(
        2026, 11, 3, 12
    )
    assert model.label_coverage == 2 / 3  # one inline label, one delayed
    assert model.freshness_hours == 36.0 and model.freshness == Freshness.STALE
    assert "3 predictions from 2026-11-01 to 2026-11-03; labels for 67%" in model.summary
    assert "last prediction 36.0 h ago (stale)." in model.summary
    assert empty.n_predictions == 0 and empty.freshness == Freshness.NO_PREDICTIONS
    assert empty.freshness.label == "no predictions yet"
    assert empty.label_coverage is None
    assert portfolio.total_predictions == 3
    assert [m.name for m in portfolio.models] == ["empty", "m"]
    assert [m.label_coverage for m in portfolio.models] == [None, 2 / 3]
    assert (model.model.name, model.task) == ("m", "binary")

    without = portfolio_overview(store, now=datetime(2026, 11, 5, 0, 0), label_coverage=False)
    assert [m.label_coverage for m in without.models] == [None, None]  # the labels were not joined
    for counted, skipped in zip(portfolio.models, without.models, strict=True):
        assert (skipped.n_predictions, skipped.first_timestamp, skipped.last_timestamp) == (
            counted.n_predictions,
            counted.first_timestamp,
            counted.last_timestamp,
        )
        assert (skipped.baseline_rows, skipped.freshness, skipped.readiness) == (
            counted.baseline_rows,
            counted.freshness,
            counted.readiness,
        )
