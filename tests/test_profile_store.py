"""Stored per-day profiles: built at ingestion, refreshed past a watermark, rebuilt on a new baseline."""

from __future__ import annotations

import json

import pandas as pd

from readiness import ingest_csv, log_predictions
from readiness.core.profiles import merge_all, profile_frame, raw_log_frame
from readiness.storage import schema as t
from readiness.storage.profile_store import (
    _advance,
    day_profiles,
    load_reference,
    refresh_profiles,
)
from tests.factories import baseline_csv, live_csv, live_frame


def stored_union(store, name):
    """Merged stored profiles and the profile of all raw rows computed in one go."""
    model = store.get_model(name)
    baseline = store.active_baseline(model.id)
    reference = load_reference(store, model, baseline)
    merged = merge_all(p for _, p in day_profiles(store, baseline))
    raw = store.read_predictions(model)
    frame = raw_log_frame(
        pd.DataFrame(
            {
                "prediction": raw["prediction"],
                "score": raw["score"],
                "features": [
                    json.dumps({c: raw.at[i, c] for c in baseline.feature_names}) for i in raw.index
                ],
            }
        ),
        reference,
    )
    return merged, profile_frame(frame, reference)


def test_live_ingestion_profiles_every_row_per_utc_day(store):
    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv")
    ingest_csv(store, "m", "live", live_csv(3000, start=pd.Timestamp("2026-11-01T20:00:00")), "l.csv")
    model = store.get_model("m")
    days = day_profiles(store, store.active_baseline(model.id))
    # 3000 one-minute rows from 20:00 on Nov 1 end at 22:00 on Nov 3: 4 h, 24 h and 22 h of rows
    assert [d.day for d, _ in days] == [1, 2, 3]
    assert [p.n_rows for _, p in days] == [240, 1440, 1320]
    merged, direct = stored_union(store, "m")
    assert merged.n_rows == direct.n_rows == 3000
    for name in direct.columns:
        assert merged[name].counts == direct[name].counts, name


def test_rows_inserted_directly_are_picked_up_past_the_watermark(store):
    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv")
    ingest_csv(store, "m", "live", live_csv(100), "l.csv")
    model = store.get_model("m")
    with store.begin() as conn:
        conn.execute(
            t.predictions.insert(),
            [
                {
                    "model_id": model.id,
                    "timestamp": pd.Timestamp("2026-11-01T05:00:00").to_pydatetime(),
                    "request_id": f"svc-{i}",
                    "prediction": "1",
                    "score": 0.9,
                    "features": json.dumps({"amount": 10.0 + i, "age": 40, "region": "north"}),
                }
                for i in range(5)
            ],
        )
    baseline = store.active_baseline(model.id)
    # reading never writes: until a refresh, the directly inserted rows are not in the stored profiles
    assert sum(p.n_rows for _, p in day_profiles(store, baseline)) == 100
    first = refresh_profiles(store, model)
    assert (first.rows_profiled, first.rebuilt) == (5, False)
    assert refresh_profiles(store, model).rows_profiled == 0
    merged, direct = stored_union(store, "m")
    assert merged.n_rows == direct.n_rows == 105
    assert merged["amount"].counts == direct["amount"].counts


def test_small_chunks_give_the_same_profiles_as_one_pass(store):
    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv")
    model = store.get_model("m")
    log_predictions(store, "m", live_frame(500, start=pd.Timestamp("2026-11-01T22:00:00")))  # a row each
    baseline = store.active_baseline(model.id)
    once = {d: p.to_dict() for d, p in day_profiles(store, baseline)}
    with store.begin() as conn:  # forget everything and refresh 37 rows at a time
        conn.execute(t.profiles.delete())
        conn.execute(t.profile_state.update().values(watermark=0))
    result = refresh_profiles(store, model, chunk_rows=37)
    assert result.rows_profiled == 500
    chunked = {d: p for d, p in day_profiles(store, baseline)}
    assert chunked.keys() == once.keys()
    for day, profile in chunked.items():
        assert profile.n_rows == once[day]["n_rows"]
        assert profile["amount"].counts == tuple(once[day]["columns"]["amount"]["counts"])


def test_a_new_baseline_rebuilds_profiles_from_raw_rows(store):
    ingest_csv(store, "m", "baseline", baseline_csv(300, seed=0), "b.csv")
    ingest_csv(store, "m", "live", live_csv(200), "l.csv")
    old_baseline = store.active_baseline(store.get_model("m").id)
    result = ingest_csv(store, "m", "baseline", baseline_csv(400, seed=5), "b2.csv")
    assert result.rows_added == 400
    model = store.get_model("m")
    new_baseline = store.active_baseline(model.id)
    assert new_baseline.id != old_baseline.id
    with store.engine.connect() as conn:
        baselines = {
            r[0] for r in conn.execute(t.profiles.select().with_only_columns(t.profiles.c.baseline_id))
        }
    assert baselines == {new_baseline.id}
    assert sum(p.n_rows for _, p in day_profiles(store, new_baseline)) == 200
    assert day_profiles(store, old_baseline) == []


def test_a_moved_watermark_stops_a_second_refresher(store):
    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv")
    log_predictions(store, "m", live_frame(50))  # a row each: the refresh moves the watermark past them
    model = store.get_model("m")
    baseline = store.active_baseline(model.id)
    with store.begin() as conn:
        assert _advance(conn, model.id, baseline.id, old=0, new=10) is False  # watermark is 50 now
        assert _advance(conn, model.id, baseline.id, old=50, new=60) is True


def test_regression_models_profile_the_prediction_as_a_number(store):
    ingest_csv(store, "r", "baseline", baseline_csv(300, task="regression"), "b.csv")
    ingest_csv(store, "r", "live", live_csv(100, task="regression"), "l.csv")
    model = store.get_model("r")
    baseline = store.active_baseline(model.id)
    reference = load_reference(store, model, baseline)
    assert reference["prediction"].kind == "numeric"
    assert "score" not in reference.names
    merged = merge_all(p for _, p in day_profiles(store, baseline))
    assert merged["prediction"].n == 100


def test_the_reference_stored_with_a_baseline_equals_one_built_from_its_stored_rows(store):
    from readiness.core.profiles import baseline_reference

    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv")
    model = store.get_model("m")
    baseline = store.active_baseline(model.id)
    stored = load_reference(store, model, baseline)
    rebuilt = baseline_reference(model, baseline, store.read_baseline(baseline))
    assert stored.to_dict() == rebuilt.to_dict()
