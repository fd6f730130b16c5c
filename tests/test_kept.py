"""Assessments kept on disk: the next process reads what it would compute, and new data computes it again."""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta

import pandas as pd
import pytest

import readiness.analysis.assessment as assessment
import readiness.analysis.kept as kept
from readiness.analysis.assessment import assess_model
from readiness.analysis.cache import RESULTS
from readiness.analysis.ingest import ingest_csv
from readiness.analysis.settings import add_criterion, parse_criterion
from readiness.storage.store import Store
from tests.factories import to_csv_bytes
from tests.readiness_fixtures import DAYS, NOW, insert_raw


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A private folder for kept results, as the CLI would use."""
    path = tmp_path / "kept"
    monkeypatch.setenv("READINESS_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The assessments below are as of now (what is kept), and now is NOW unless a test moves it."""
    monkeypatch.setattr(assessment, "utcnow", lambda: NOW)


@pytest.fixture
def judged(monkeypatch):
    """How many assessments were really computed (not read from memory or disk)."""
    calls: list[str] = []
    real = assessment._assess

    def counting(store, model, as_of, **kwargs):
        calls.append(model.name)
        return real(store, model, as_of, **kwargs)

    monkeypatch.setattr(assessment, "_assess", counting)
    return calls


def fresh_process() -> None:
    """What a new ``python -m readiness`` starts with: nothing in memory."""
    RESULTS.clear()


def test_the_next_process_reads_the_kept_assessment(healthy, folder, judged):
    model = healthy.get_model("shop")
    first = assess_model(healthy, model)
    fresh_process()
    again = assess_model(healthy, model)
    assert judged == ["shop"]
    assert (again.results, again.score, again.drift, again.headline) == (
        first.results,
        first.score,
        first.drift,
        first.headline,
    )
    # one file per database, model and result, replaced in place
    assert sorted(p.name.split("-")[1] for p in folder.iterdir()) == [
        "assessment",
        "development",
        "label_free_facts",
    ]
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def test_new_rows_settings_and_another_hour_judge_again(healthy, folder, judged, monkeypatch):
    model = healthy.get_model("shop")
    assess_model(healthy, model)
    fresh_process()
    add_criterion(healthy, model, parse_criterion("accuracy >= 0.5"), actor="test")  # a settings change
    assess_model(healthy, model)
    fresh_process()
    insert_raw(healthy, "shop", [{"timestamp": NOW, "features": "{}", "prediction": "1"}])  # a service's row
    assess_model(healthy, model)
    fresh_process()
    monkeypatch.setattr(assessment, "utcnow", lambda: NOW + timedelta(hours=1))
    assess_model(healthy, model)  # another hour: attestations expire in real time
    assert judged == ["shop"] * 4
    assert len(list(folder.glob("readiness-assessment-*"))) == 1


def test_a_label_upload_judges_again_without_computing_drift_or_the_schema_sample_again(
    healthy, folder, judged, monkeypatch
):
    """Drift and the schema sample never read a label: the next process after a label upload reads them from disk."""
    computed: list[str] = []
    for name in ("_drift_now", "_schema_sample"):
        real = getattr(assessment, name)
        monkeypatch.setattr(
            assessment, name, lambda *a, _real=real, _name=name, **k: computed.append(_name) or _real(*a, **k)
        )
    model = healthy.get_model("shop")
    first = assess_model(healthy, model)
    fresh_process()
    relabelled = pd.DataFrame({"request_id": [f"d{DAYS - 1}-{i}" for i in range(100)], "label": 0})
    ingest_csv(healthy, "shop", "labels", to_csv_bytes(relabelled), "labels.csv")  # judges the model again
    fresh_process()
    after = assess_model(healthy, model)
    assert judged == ["shop", "shop"]
    assert computed == ["_drift_now", "_schema_sample"]  # once, before the labels
    assert after.drift == first.drift
    assert after.results != first.results  # the labels did change what the checklist sees
    monkeypatch.setenv("READINESS_CACHE_DIR", "off")
    fresh_process()
    cold = assess_model(healthy, model)
    assert (cold.results, cold.score, cold.drift) == (after.results, after.score, after.drift)
    assert len(computed) == 4  # nothing kept: computed again
    fresh_process()
    monkeypatch.setenv("READINESS_CACHE_DIR", str(folder))
    insert_raw(healthy, "shop", [{"timestamp": NOW, "features": "{}", "prediction": "1"}])  # a new prediction
    assess_model(healthy, model)
    assert len(computed) == 6


def test_a_database_created_again_at_the_same_path_is_judged_again(healthy, healthy_path, folder, judged):
    path = healthy.engine.url.database
    assess_model(healthy, healthy.get_model("shop"))
    healthy.engine.dispose()
    os.remove(path)
    shutil.copyfile(healthy_path, path)  # the same rows and ids: only the models' creation times could tell
    with Store.open(f"sqlite:///{path}").engine.begin() as conn:
        conn.exec_driver_sql("UPDATE models SET created_at = '2026-01-02 03:04:05.000000'")
    fresh_process()
    again = Store.open(f"sqlite:///{path}")
    assess_model(again, again.get_model("shop"))
    again.engine.dispose()
    assert judged == ["shop", "shop"]


def test_other_code_a_broken_file_or_an_open_folder_is_never_read(healthy, folder, judged, monkeypatch):
    model = healthy.get_model("shop")
    assess_model(healthy, model)
    fresh_process()
    monkeypatch.setattr(kept, "_code", lambda: "other code")
    assess_model(healthy, model)
    fresh_process()
    (kept_file,) = folder.glob("readiness-assessment-*")
    kept_file.write_bytes(b"not a pickle")
    assess_model(healthy, model)
    fresh_process()
    folder.chmod(0o777)  # anyone could have written it
    assess_model(healthy, model)
    assert judged == ["shop"] * 4


def test_nothing_is_kept_when_off_or_in_memory(healthy, tmp_path, monkeypatch, judged):
    monkeypatch.setenv("READINESS_CACHE_DIR", "off")
    assess_model(healthy, healthy.get_model("shop"))
    fresh_process()
    assess_model(healthy, healthy.get_model("shop"))
    monkeypatch.setenv("READINESS_CACHE_DIR", str(tmp_path / "kept"))
    memory = Store.open("sqlite:///:memory:")
    memory.create_model("m", task="binary", positive_class="1")
    assess_model(memory, memory.get_model("m"))
    assert judged == ["shop", "shop", "m"]
    assert not (tmp_path / "kept").exists()


def test_files_nobody_replaced_for_a_week_are_removed(healthy, folder):
    folder.mkdir(mode=0o700)
    old, recent = folder / "readiness-assessment-old.pickle", folder / "readiness-assessment-recent.pickle"
    for path in (old, recent):
        path.write_bytes(b"")
    week_ago = time.time() - kept.STALE_SECONDS - 60
    os.utime(old, (week_ago, week_ago))
    assess_model(healthy, healthy.get_model("shop"))
    assert not old.exists() and recent.exists()
    assert (
        len(list(folder.glob("readiness-assessment-*.pickle"))) == 2
    )  # the recent one and the one just kept


def test_past_days_of_a_backfill_are_not_kept(healthy, folder, judged):
    assess_model(healthy, healthy.get_model("shop"), NOW - timedelta(days=1))
    assert list(folder.glob("readiness-assessment-*")) == []


def test_after_new_data_the_baseline_is_not_read_again(healthy, folder, judged, monkeypatch):
    """A baseline's rows never change, so its development performance is kept under its id, not the data version."""
    import readiness.analysis.performance_overview as overview

    read: list[int] = []
    real = overview.baseline_outputs
    monkeypatch.setattr(
        overview,
        "baseline_outputs",
        lambda store, baseline: read.append(baseline.id) or real(store, baseline),
    )
    model = healthy.get_model("shop")
    first = assess_model(healthy, model)
    fresh_process()
    add_criterion(healthy, model, parse_criterion("accuracy >= 0.5"), actor="test")
    second = assess_model(healthy, model)
    assert judged == ["shop", "shop"] and len(read) == 1
    key = "production_matches_development"
    assert second.result(key) == first.result(key)
