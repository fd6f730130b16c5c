"""Label-free estimates of every task, fitted on the stored baseline and kept in the day records."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import update

from readiness import ingest_csv
from readiness.analysis.performance_overview import performance_overview
from readiness.core.estimators import estimated_metrics
from readiness.core.loss_estimation import LossAggregate, LossModel
from readiness.core.multiclass_estimation import ClassCalibrators, MulticlassEstimationAggregate
from readiness.storage import schema as t
from readiness.storage.performance_store import day_records, refresh_performance, stored_estimator
from tests.factories import START, baseline_csv, live_csv, to_csv_bytes
from tests.test_class_probabilities import CLASSES, router_frame


def _state(store, model):
    with store.engine.connect() as conn:
        return conn.execute(t.perf_state.select().where(t.perf_state.c.model_id == model.id)).one()


def _router(store, with_probabilities: bool = True):
    """A multiclass router whose labels follow its probabilities (a calibrated model), live rows labelled."""
    rng = np.random.default_rng(4)
    baseline = router_frame(600, seed=1)
    columns = [f"y_pred_proba_{c}" for c in CLASSES]
    baseline["y_true"] = [rng.choice(CLASSES, p=row / row.sum()) for row in baseline[columns].to_numpy()]
    live = router_frame(500, seed=2, live=True)
    if not with_probabilities:
        baseline, live = baseline.drop(columns=columns), live.drop(columns=columns)
    ingest_csv(store, "router", "baseline", to_csv_bytes(baseline), "b.csv")
    ingest_csv(store, "router", "live", to_csv_bytes(live), "l.csv")
    return store.get_model("router"), live


def test_a_multiclass_model_with_probabilities_is_estimated_per_class(store):
    model, live = _router(store)
    estimator = stored_estimator(_state(store, model).calibrator)
    assert isinstance(estimator, ClassCalibrators) and estimator.classes == tuple(sorted(CLASSES))
    records = day_records(store, store.active_baseline(model.id))
    assert all(isinstance(r.estimate, MulticlassEstimationAggregate) for r in records)
    assert sum(r.estimate.n for r in records) == 500
    overview = performance_overview(
        store, model, window="month", now=pd.Timestamp("2026-12-01").to_pydatetime()
    )
    estimates = overview.windows[0].estimates
    assert set(estimates) == set(estimated_metrics("multiclass"))
    expected = np.mean(
        live[[f"y_pred_proba_{c}" for c in CLASSES]].max(axis=1)
    )  # calibrated: mean confidence
    assert estimates["accuracy"].value == np.float64(estimates["accuracy"].value)
    assert abs(estimates["accuracy"].value - expected) < 0.08
    assert estimates["accuracy"].lower < estimates["accuracy"].value < estimates["accuracy"].upper


def test_a_multiclass_model_without_probabilities_has_no_estimate_and_is_not_rebuilt_again(sqlite_store):
    model, _ = _router(sqlite_store, with_probabilities=False)
    assert stored_estimator(_state(sqlite_store, model).calibrator) is None
    assert all(r.estimate is None for r in day_records(sqlite_store, sqlite_store.active_baseline(model.id)))
    again = refresh_performance(sqlite_store, model)
    assert (again.days_recomputed, again.rebuilt) == (0, False)


def test_a_regression_model_gets_direct_loss_estimates_beside_its_measured_error(store):
    ingest_csv(store, "m", "baseline", baseline_csv(600, task="regression"), "b.csv")
    ingest_csv(store, "m", "live", live_csv(400, task="regression", start=START), "l.csv")
    model = store.get_model("m")
    logged = store.read_predictions(model)  # labels as the baseline's: the prediction give or take N(0, 5)
    noise = np.random.default_rng(9).normal(0, 5, len(logged))
    labels = pd.DataFrame(
        {"request_id": logged["request_id"], "label": logged["prediction"].astype(float) + noise}
    )
    ingest_csv(store, "m", "labels", to_csv_bytes(labels), "y.csv")
    assert isinstance(stored_estimator(_state(store, model).calibrator), LossModel)
    records = day_records(store, store.active_baseline(model.id))
    assert all(isinstance(r.estimate, LossAggregate) for r in records)
    assert sum(r.estimate.n for r in records) == 400
    overview = performance_overview(
        store, model, window="month", now=pd.Timestamp("2026-12-01").to_pydatetime()
    )
    window = overview.windows[0]
    measured, estimated = window.metrics["mae"], window.estimates["mae"]
    assert estimated.value is not None and measured.value is not None
    assert estimated.lower <= measured.value <= estimated.upper  # same generator: the estimate holds
    series = overview.metric_series("rmse")
    assert series["estimate"].notna().all()


def test_a_database_from_before_these_estimates_is_rebuilt_once(sqlite_store):
    """A regression model refreshed by an older version has no estimator: the next refresh fits one and recomputes."""
    ingest_csv(sqlite_store, "m", "baseline", baseline_csv(400, task="regression"), "b.csv")
    ingest_csv(sqlite_store, "m", "live", live_csv(300, task="regression", start=START), "l.csv")
    model = sqlite_store.get_model("m")
    with sqlite_store.begin() as conn:  # what an older version left behind
        conn.execute(update(t.perf_state).where(t.perf_state.c.model_id == model.id).values(calibrator=""))
        conn.execute(
            update(t.perf_windows)
            .where(t.perf_windows.c.model_id == model.id)
            .values(data=_without_estimate(conn))
        )
    first = refresh_performance(sqlite_store, model)
    assert first.rebuilt and first.days_recomputed >= 1
    assert all(
        r.estimate is not None for r in day_records(sqlite_store, sqlite_store.active_baseline(model.id))
    )
    assert refresh_performance(sqlite_store, model).days_recomputed == 0


def _without_estimate(conn) -> str:
    import json

    data = json.loads(conn.execute(t.perf_windows.select().limit(1)).one().data)
    return json.dumps(data | {"estimate": None})
