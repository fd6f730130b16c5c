"""A service's rows are read once by a refresh: profiled, and their day records merged into the stored days.

Whatever the new rows meet (days an upload's blocks already hold, new days, two model versions,
inline labels, delayed labels stored before their predictions, labels arriving later, a row of
implausible time), the stored profiles and day records after each refresh equal a rebuild of
every day from the stored rows (floats to 1e-12), and the work is the new rows': no day is
recomputed unless new labels touched it.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from factories import START, baseline_csv, live_frame, same, to_csv_bytes
from sqlalchemy import select

from readiness import ModelSpec, ingest_csv, log_predictions
from readiness.analysis.refresh import refresh_model
from readiness.storage import schema as t
from readiness.storage.performance_store import refresh_performance
from readiness.storage.profile_store import refresh_profiles
from readiness.storage.store import Store

TRUTH = {"binary": "1", "multiclass": "dog", "regression": "101.5"}


def stored(store: Store, table) -> list[dict]:
    """A table's rows without their ids, in a stable order."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    keyed = [{k: v for k, v in row.items() if k != "id"} for row in rows]
    return sorted(keyed, key=lambda r: (r["window_start"], r.get("model_version", "")))


def rebuilt(store: Store) -> tuple[list[dict], list[dict]]:
    """Profiles and day records recomputed from scratch from the stored rows and labels."""
    with store.begin() as conn:
        for table in (t.perf_windows, t.perf_state, t.profiles, t.profile_state):
            conn.execute(table.delete())
    model = store.get_model("m")
    refresh_profiles(store, model)
    refresh_performance(store, model)
    return stored(store, t.profiles), stored(store, t.perf_windows)


def same_as_rebuilt(store: Store, when: str) -> None:
    """The stored profiles and day records equal those recomputed from scratch (the store is left rebuilt)."""
    profiles, records = stored(store, t.profiles), stored(store, t.perf_windows)
    again_profiles, again_records = rebuilt(store)
    same(again_profiles, profiles, f"profiles {when}")
    same(again_records, records, f"records {when}")


def binary_model(store: Store):
    """A binary model with a 300-row baseline."""
    ingest_csv(store, "m", "baseline", baseline_csv(300), "b.csv", new_model=ModelSpec("binary", "1"))
    return store.get_model("m")


def service_rows(task: str, n: int, seed: int, start: pd.Timestamp, prefix: str) -> pd.DataFrame:
    """A service's batch: two versions, some inline labels, latency."""
    rows = live_frame(n, seed=seed, task=task, id_prefix=prefix, start=start, with_label=True)
    rows.loc[::2, "label"] = None
    rows["model_version"] = np.where(np.arange(n) % 3 == 0, "v2", "v1")
    rows["latency_ms"] = np.arange(n) % 50 + 1.5
    return rows


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_services_rows_merged_as_read_equal_a_rebuild(store, task, monkeypatch):
    monkeypatch.setattr("readiness.storage.store.utcnow", lambda: datetime(2026, 3, 9, 12))
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=ModelSpec(task, "1"))
    uploaded = live_frame(2_000, seed=3, task=task, id_prefix="u")
    ingest_csv(store, "m", "live", to_csv_bytes(uploaded), "live.csv")  # blocks over 2026-03-01 and 02
    model = store.get_model("m")
    with store.begin() as conn:  # a label the service stored before logging its prediction
        conn.execute(
            t.labels.insert().values(
                model_id=model.id, request_id="s-5", label=TRUTH[task], received_at=datetime(2026, 3, 3)
            )
        )
    first = service_rows(task, 3_000, seed=4, start=START + pd.Timedelta(hours=30), prefix="s")
    for batch in range(0, len(first), 700):  # into a day the blocks hold, then new days
        log_predictions(store, "m", first.iloc[batch : batch + 700], refresh=False)
    with store.begin() as conn:  # a row of implausible time: left out by both aggregates
        conn.execute(
            t.predictions.insert().values(
                model_id=model.id,
                timestamp=datetime(1960, 1, 1),
                request_id="old-1",
                prediction="1",
                features="{}",
            )
        )

    refreshed = refresh_model(store, model)
    assert refreshed.profiles.rows_profiled == 3_000
    # the new rows were merged; only the day of s-5, whose label is new too, was recomputed whole
    assert refreshed.performance.days == {datetime(2026, 3, 2)}
    assert sorted(refreshed.days_merged) == [datetime(2026, 3, 2), datetime(2026, 3, 3), datetime(2026, 3, 4)]
    assert refreshed.performance_days == 3
    profiles, records = stored(store, t.profiles), stored(store, t.perf_windows)
    assert sum(r["n_rows"] for r in records) == sum(p["n_rows"] for p in profiles) == 5_000
    same_as_rebuilt(store, "after the first refresh")

    second = service_rows(task, 1_500, seed=5, start=START + pd.Timedelta(days=3, hours=12), prefix="t")
    log_predictions(store, "m", second, refresh=False)
    with (
        store.begin() as conn
    ):  # labels arrive for rows of the first batch (one of them replaces an inline label)
        conn.execute(
            t.labels.insert(),
            [
                {
                    "model_id": model.id,
                    "request_id": f"s-{i}",
                    "label": TRUTH[task],
                    "received_at": datetime(2026, 3, 5),
                }
                for i in (1, 2, 2_999)
            ],
        )
    refreshed = refresh_model(store, model)
    assert refreshed.profiles.rows_profiled == 1_500
    assert sorted(refreshed.performance.days) == [
        datetime(2026, 3, 2),
        datetime(2026, 3, 4),
    ]  # the labels' days
    assert datetime(2026, 3, 5) in refreshed.days_merged
    assert sum(r["n_rows"] for r in stored(store, t.perf_windows)) == 6_500
    same_as_rebuilt(store, "after the second refresh")


def test_a_refresh_with_aggregates_at_different_marks_reads_each_apart(store):
    """Profiles dropped alone (their watermark back at zero): both are still right, each read on its own."""
    model = binary_model(store)
    log_predictions(store, "m", service_rows("binary", 500, seed=1, start=START, prefix="a"))
    with store.begin() as conn:
        conn.execute(t.profiles.delete())
        conn.execute(t.profile_state.delete())
    log_predictions(store, "m", service_rows("binary", 400, seed=2, start=START, prefix="b"), refresh=False)
    refreshed = refresh_model(store, model)
    assert refreshed.days_merged == frozenset()  # not fed from the profiles' read: recomputed instead
    assert refreshed.performance.days_recomputed == 1
    profiles, records = stored(store, t.profiles), stored(store, t.perf_windows)
    assert sum(r["n_rows"] for r in records) == sum(p["n_rows"] for p in profiles) == 900
    same_as_rebuilt(store, "after profiles were dropped")


def test_a_day_that_two_chunks_share_is_counted_once(store):
    model = binary_model(store)
    rows = service_rows("binary", 2_000, seed=1, start=START + pd.Timedelta(hours=20), prefix="a")  # 3 days
    log_predictions(store, "m", rows, refresh=False)
    refreshed = refresh_profiles(store, model, chunk_rows=300)  # seven chunks of 5 hours: 9 chunk-days
    assert (refreshed.rows_profiled, refreshed.days_touched) == (2_000, 3)


def test_a_day_recomputed_for_labels_leaves_a_services_unread_rows_to_the_refresh(store):
    """A label upload recomputes a day that also holds rows a service logged but no refresh read yet:
    the recompute leaves them out, and the refresh that reads them counts them once."""
    binary_model(store)
    uploaded = live_frame(600, seed=2, id_prefix="u", with_label=True)  # blocks over 2026-03-01
    ingest_csv(store, "m", "live", to_csv_bytes(uploaded), "live.csv")
    log_predictions(store, "m", service_rows("binary", 300, seed=3, start=START, prefix="s"), refresh=False)
    relabel = pd.DataFrame({"request_id": ["u-0", "u-1"], "label": ["1", "1"]})  # replaces inline labels
    ingest_csv(store, "m", "labels", to_csv_bytes(relabel), "labels.csv")  # its day is recomputed in step
    assert sum(r["n_rows"] for r in stored(store, t.perf_windows)) == 900
    same_as_rebuilt(store, "after the label upload and its refresh")


def test_rows_committed_after_a_refresh_began_are_counted_once(store, monkeypatch):
    """Rows past a refresh's bounds (committed while it ran) stay out of the days it recomputes."""
    model = binary_model(store)
    log_predictions(store, "m", service_rows("binary", 100, seed=1, start=START, prefix="a"))
    with store.begin() as conn:  # profiles dropped: the two aggregates stand apart, so days are recomputed
        conn.execute(t.profiles.delete())
        conn.execute(t.profile_state.delete())
    later = service_rows("binary", 400, seed=2, start=START + pd.Timedelta(hours=2), prefix="b")
    log_predictions(store, "m", later, refresh=False)  # the same day
    with store.engine.connect() as conn:
        ids = sorted(conn.execute(select(t.predictions.c.id)).scalars())
    real = store.committed_bounds
    monkeypatch.setattr(store, "committed_bounds", lambda model_id: (ids[299], real(model_id)[1] or 0))
    first = refresh_model(store, model)  # as if the last 200 rows committed after it took its bounds
    assert (first.profiles.rows_profiled, first.performance.days_recomputed) == (300, 1)
    assert sum(r["n_rows"] for r in stored(store, t.perf_windows)) == 300
    monkeypatch.setattr(store, "committed_bounds", real)
    second = refresh_model(store, model)  # the two stand together again: the rest is read once and merged
    assert (second.profiles.rows_profiled, len(second.days_merged)) == (200, 1)
    assert sum(r["n_rows"] for r in stored(store, t.perf_windows)) == 500
    same_as_rebuilt(store, "after the second refresh")
