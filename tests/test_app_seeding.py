"""The first start through AppTest: the app answers at once, shows the demo's progress, then the pages.

The real seed is replaced by one that says two steps, waits until the test releases it, stores
one small model and says it is done; so the progress view is seen while the seed is held, and
the Overview once it has finished, without timing anything.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

import readiness.analysis.demo as demo
from readiness import ingest_csv
from readiness.analysis.demo import SeedStep
from readiness.analysis.seeding import demo_seeding
from readiness.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
BASELINE = b"amount,country,y_pred,y_pred_proba,y_true\n1.5,DE,1,0.9,1\n2.5,FR,0,0.1,0\n3.0,DE,0,0.2,1\n"
LIVE = b"ts,request_id,amount,country,y_pred,y_pred_proba\n2026-11-01T10:00:00Z,r1,1.5,DE,1,0.8\n"


@pytest.fixture(autouse=True)
def navigation_only(monkeypatch):
    """Make AppTest treat app.py as the st.navigation app it is (see tests/test_pages.py)."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def empty_db(tmp_path, monkeypatch) -> str:
    """An empty SQLite database for the app, with the demo auto-seed on (the default)."""
    url = f"sqlite:///{tmp_path / 'first-start.db'}"
    monkeypatch.setenv("READINESS_DATABASE_URL", url)
    monkeypatch.delenv("READINESS_AUTO_DEMO", raising=False)
    return url


class HeldSeed:
    """Stands in for ``seed_demo``: says two of three steps, waits for ``release``, stores "fraud", says done."""

    def __init__(self) -> None:
        self.waiting = threading.Event()  # set once the two steps were said
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, store: Store, progress=None, **_kwargs) -> None:
        self.calls += 1
        progress(SeedStep(0, 3, "Seeding the demo: 4 models, 90 days of logs"))
        progress(SeedStep(1, 3, "fraud: generating the baseline and 90 days of predictions"))
        self.waiting.set()
        if not self.release.wait(timeout=60):
            raise TimeoutError("the test never released the seed")
        ingest_csv(store, "fraud", "baseline", BASELINE, "base.csv")
        ingest_csv(store, "fraud", "live", LIVE, "live.csv")
        progress(SeedStep(3, 3, "Demo seeded"))


@pytest.fixture
def held(monkeypatch) -> HeldSeed:
    seed = HeldSeed()
    monkeypatch.setattr(demo, "seed_demo", seed)
    yield seed
    seed.release.set()  # a failing test never leaves the seed thread waiting


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()


def test_the_first_start_shows_the_seeding_progress_then_the_overview(empty_db, held):
    at = app()  # the first run starts the seed and answers at once
    assert not at.exception and at.get("progress")
    assert held.waiting.wait(timeout=60)
    at.run()
    assert at.title[0].value == "Model readiness"
    (bar,) = at.get("progress")
    assert bar.proto.text == (
        "Seeding the demo: step 1 of 3 (fraud: generating the baseline and 90 days of predictions)"
    )
    assert bar.value == 33
    assert not at.sidebar.selectbox  # no page, no model picker, while the demo is half written

    second = app()  # another browser session meanwhile: the same seed, not a second one
    assert second.get("progress")[0].proto.text == bar.proto.text

    held.release.set()
    assert demo_seeding(empty_db).wait(timeout=60)
    at.run()
    assert not at.exception and not at.get("progress")
    assert list(at.dataframe[0].value["Model"]) == ["fraud"]  # the Overview, with what the seed stored
    assert at.sidebar.selectbox[0].value == "fraud"
    assert held.calls == 1


def test_a_failed_seed_says_why_and_opens_the_pages(empty_db, monkeypatch):
    def broken(store, progress=None, **_kwargs):
        progress(SeedStep(0, 3, "Seeding the demo: 4 models, 90 days of logs"))
        raise OSError("disk full")

    monkeypatch.setattr(demo, "seed_demo", broken)
    at = app()
    assert demo_seeding(empty_db).wait(timeout=60)
    at.run()
    assert not at.get("progress")
    assert "Seeding the demo failed at step 0 of 3: OSError: disk full" in at.error[0].value
    assert "No models yet" in at.info[0].value


def test_no_seed_when_the_auto_demo_is_off(empty_db, held, monkeypatch):
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    at = app()
    assert not at.exception and not at.get("progress")
    assert held.calls == 0 and demo_seeding(empty_db).progress() is None
