"""Delayed labels of uploaded predictions are stored as label blocks and merged into the day records as they are stored.

Whatever the labels meet (rows with no label, inline labels, a service's label rows, earlier
label blocks, a service's unrefreshed prediction rows, ids no prediction has), the stored day
records after the upload equal a rebuild of every day from the stored rows and labels (floats
to 1e-12: merged sums may differ in the last bits), and every reader sees the label that counts.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from factories import START, baseline_csv, labels_csv, live_frame, same, to_csv_bytes
from sqlalchemy import select

from readiness import ModelSpec, ingest_csv
from readiness.core.tablefile import open_table
from readiness.errors import DataValidationError
from readiness.storage import schema as t
from readiness.storage.performance_store import refresh_performance
from readiness.storage.store import Store

TRUTH = {"binary": ("1", "0"), "multiclass": ("dog", "cat"), "regression": ("101.5", "87.25")}


def perf_rows(store: Store) -> list[dict]:
    """Stored day records, without their ids, in day and version order."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.perf_windows)).mappings().all()
    ordered = sorted(rows, key=lambda r: (r["window_start"], r["model_version"]))
    return [{k: v for k, v in row.items() if k != "id"} for row in ordered]


def rebuilt(store: Store) -> list[dict]:
    """The day records a refresh computes from scratch from the stored rows and labels (the store is left so)."""
    with store.begin() as conn:  # no state: the refresh fits the estimator again and recomputes every day
        conn.execute(t.perf_windows.delete())
        conn.execute(t.perf_state.delete())
    assert refresh_performance(store, store.get_model("m")).rebuilt is False
    return perf_rows(store)


def labels_file(ids: list[str], values: list[str]) -> bytes:
    return to_csv_bytes(pd.DataFrame({"request_id": ids, "label": values}))


def in_blocks(data: bytes, filename: str):
    source = open_table(data, filename, block_bytes=2 * 1024)
    assert not source.complete
    return source


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_labels_merged_as_stored_equal_a_rebuild_from_the_stored_rows(store, task, monkeypatch):
    """Labels across every day: new, replacing inline ones, a service's, an earlier file's; then a rebuild."""
    monkeypatch.setattr("readiness.storage.store.utcnow", lambda: datetime(2026, 3, 9, 12))
    ingest_csv(store, "m", "baseline", baseline_csv(400, task=task), "b.csv", new_model=ModelSpec(task, "1"))
    first = live_frame(1_500, seed=3, task=task, id_prefix="a", with_label=True)
    first.loc[::3, "label"] = None
    second = live_frame(3_000, seed=4, task=task, id_prefix="b", start=START + pd.Timedelta(hours=20))
    second["model_version"] = np.where(np.arange(3_000) % 4 == 0, "v2", "v1")
    ingest_csv(store, "m", "live", to_csv_bytes(first), "first.csv")
    ingest_csv(store, "m", "live", to_csv_bytes(second), "second.csv")
    model = store.get_model("m")
    new, old = TRUTH[task]
    with store.begin() as conn:  # a service labelled one uploaded row and logged one row of its own
        conn.execute(
            t.labels.insert().values(
                model_id=model.id, request_id="b-6", label=old, received_at=datetime(2026, 3, 4)
            )
        )
        conn.execute(
            t.predictions.insert().values(
                model_id=model.id,
                timestamp=datetime(2026, 3, 2, 5),
                request_id="direct-1",
                prediction=old,
                score=0.9 if task == "binary" else None,
                features='{"amount": 10.0, "age": 40, "region": "north"}',
            )
        )
    ids = [*first["request_id"][::2], *second["request_id"][::3], "direct-1", "nobody-1"]
    labelled = ingest_csv(store, "m", "labels", in_blocks(labels_csv(ids, task=task), "l.csv"), "l.csv")
    assert (labelled.rows_added, labelled.labels_unmatched, labelled.labels_updated) == (len(ids) - 1, 1, 1)
    after_first = perf_rows(store)
    assert sum(r["n_rows"] for r in after_first) == 4_501
    same(rebuilt(store), after_first, "after the first file")

    again = [*second["request_id"][:40], *first["request_id"][0:30:3]]  # some labelled by the first file
    relabelled = ingest_csv(store, "m", "labels", labels_file(again, [new] * len(again)), "l2.csv")
    assert relabelled.labels_updated == 14 + 5  # b-0, b-3 .. b-39; a-0, a-6 .. a-24
    after_second = perf_rows(store)
    same(rebuilt(store), after_second, "after the second file")
    log = store.read_predictions(store.get_model("m")).set_index("request_id")["label"]
    assert set(log[again]) == {new}
    assert log["b-6"] == new and log["b-1"] == new  # the service's label was replaced; b-1 had none
    assert store.count_rows("labels", model.id) == 1  # direct-1's: a service's row is labelled by a row


def test_a_service_label_after_an_uploaded_one_counts(store):
    """A row a service inserts into labels for an id a label block has is the newer label, and the refresh sees it."""
    ingest_csv(store, "m", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    ingest_csv(store, "m", "live", to_csv_bytes(live_frame(300, seed=3)), "live.csv")
    ingest_csv(store, "m", "labels", labels_file(["r-1", "r-2"], ["0", "0"]), "l.csv")
    model = store.get_model("m")
    with store.begin() as conn:
        conn.execute(
            t.labels.insert().values(
                model_id=model.id, request_id="r-1", label="1", received_at=datetime(2026, 3, 5)
            )
        )
    refresh_performance(store, model)
    stored = perf_rows(store)
    assert store.read_predictions(model).set_index("request_id")["label"][["r-1", "r-2"]].tolist() == [
        "1",
        "0",
    ]
    assert len(store.all_delayed_labels(model.id)) == 2
    same(rebuilt(store), stored, "perf_windows")


def test_a_label_repeated_in_a_later_block_of_the_file_stores_nothing(store):
    ingest_csv(store, "m", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    ingest_csv(store, "m", "live", to_csv_bytes(live_frame(2_000, seed=3)), "live.csv")
    ids = [f"r-{i}" for i in range(1_000)] + ["r-3"]
    before = perf_rows(store)
    with pytest.raises(DataValidationError, match="repeats 'r-3' at line 1002"):
        ingest_csv(store, "m", "labels", in_blocks(labels_csv(ids), "l.csv"), "l.csv")
    assert store.count_rows("label_blocks") == 0 and perf_rows(store) == before


def test_a_large_label_file_merged_a_part_at_a_time_equals_a_rebuild(store, monkeypatch):
    """Held labels are merged every LABELS_IN_STEP (memory stays bounded), relabelled ones among them."""
    monkeypatch.setattr("readiness.storage.performance_store.LABELS_IN_STEP", 150)
    ingest_csv(store, "m", "baseline", baseline_csv(400), "b.csv", new_model=ModelSpec("binary", "1"))
    live = live_frame(3_000, seed=5, with_label=True)
    live.loc[::2, "label"] = None
    ingest_csv(store, "m", "live", to_csv_bytes(live), "live.csv")
    ingest_csv(store, "m", "labels", labels_csv([f"r-{i}" for i in range(0, 3_000, 5)], seed=1), "l1.csv")
    ids = [f"r-{i}" for i in range(0, 3_000, 2)]  # a fifth labelled by l1.csv, none inline
    labelled = ingest_csv(store, "m", "labels", in_blocks(labels_csv(ids, seed=3), "l2.csv"), "l2.csv")
    assert (labelled.rows_added, labelled.labels_updated) == (1_500, 300)
    after = perf_rows(store)
    same(rebuilt(store), after, "perf_windows")
