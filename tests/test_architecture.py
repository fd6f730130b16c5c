"""The layers hold: imports point down, one cache keyed on the store's identity, looking never writes.

docs/architecture.md states the rules these tests check.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from readiness import ingest_csv
from readiness.analysis.cache import RESULTS, ResultCache
from readiness.analysis.drift_overview import drift_overview
from readiness.storage.store import Store
from tests.factories import to_csv_bytes

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "readiness"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offending(folder: Path, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """Files under ``folder`` that import a forbidden module (or something inside it)."""
    bad: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        hits = sorted(m for m in imports_of(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if hits:
            bad[str(path.relative_to(ROOT))] = hits
    return bad


def test_the_core_imports_neither_sqlalchemy_nor_streamlit_nor_the_layers_above():
    assert (
        offending(
            PACKAGE / "core",
            ("sqlalchemy", "streamlit", "readiness.storage", "readiness.analysis", "readiness.cli"),
        )
        == {}
    )


def test_storage_is_the_only_code_that_speaks_sql():
    assert offending(PACKAGE / "storage", ("streamlit", "readiness.analysis", "readiness.cli")) == {}
    for folder in ("core", "analysis"):
        assert offending(PACKAGE / folder, ("sqlalchemy",)) == {}, f"readiness/{folder} must not build SQL"
    assert offending(ROOT / "pages", ("sqlalchemy", "readiness.storage", "readiness.core")) == {}


def test_nothing_under_readiness_imports_streamlit():
    assert offending(PACKAGE, ("streamlit",)) == {}


def test_pages_import_only_the_analyses_the_errors_and_the_shell():
    allowed = ("readiness.analysis", "readiness.errors")
    for path in sorted((ROOT / "pages").glob("*.py")):
        ours = {m for m in imports_of(path) if m == "readiness" or m.startswith("readiness.")}
        bad = sorted(m for m in ours if not any(m == a or m.startswith(a + ".") for a in allowed))
        assert bad == [], f"{path.name} imports {bad}; pages call readiness.analysis only"


def test_every_error_class_lives_in_errors_py_under_one_base():
    from readiness import errors

    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                assert not node.name.endswith("Error"), f"{path.relative_to(ROOT)} defines {node.name}"
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert all(issubclass(c, errors.ReadinessError) for c in classes)


def test_the_repository_never_cites_a_file_it_does_not_hold():
    cited = []
    for path in [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("bench/*.md"),
        *ROOT.glob("*.py"),
        *PACKAGE.rglob("*.py"),
        *ROOT.glob("pages/*.py"),
        *ROOT.glob("bench/*.py"),
    ]:
        if "DESIGN" + ".md" in path.read_text():
            cited.append(str(path.relative_to(ROOT)))
    assert cited == []


# --------------------------------------------------------------------------- one cache


def _drifting_or_not(url: str, drift: bool) -> Store:
    """A store whose live 'amount' shifts by 3 sd (drift=True) or not; same row ids either way."""
    rng = np.random.default_rng(1)
    store = Store.open(url)
    baseline = pd.DataFrame(
        {"amount": rng.normal(50, 10, 2000).round(3), "prediction": rng.integers(0, 2, 2000)}
    )
    baseline["label"] = baseline["prediction"]
    ingest_csv(store, "m", "baseline", to_csv_bytes(baseline), "b.csv")
    n = 1500
    live = pd.DataFrame(
        {
            "timestamp": (
                pd.Timestamp("2026-10-01") + pd.to_timedelta(np.arange(n) * 120, unit="s")
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": (rng.normal(50, 10, n) + (30 if drift else 0)).round(3),
            "prediction": rng.integers(0, 2, n),
        }
    )
    ingest_csv(store, "m", "live", to_csv_bytes(live), "l.csv")
    return store


def test_two_stores_with_the_same_url_never_share_results():
    """Two in-memory SQLite stores have one URL and equal row ids; each must report its own drift."""
    quiet = _drifting_or_not("sqlite:///:memory:", drift=False)
    drifting = _drifting_or_not("sqlite:///:memory:", drift=True)
    assert str(quiet.engine.url) == str(drifting.engine.url)
    assert quiet.data_version(quiet.get_model("m")) == drifting.data_version(drifting.get_model("m"))
    first = drift_overview(quiet, quiet.get_model("m"), multivariate=False)
    second = drift_overview(drifting, drifting.get_model("m"), multivariate=False)
    assert "amount" not in first.report.drifted_columns
    assert "amount" in second.report.drifted_columns


def test_results_follow_the_data_version(healthy):
    model = healthy.get_model("shop")
    before = drift_overview(healthy, model, multivariate=False)
    assert drift_overview(healthy, model, multivariate=False) is before  # a lookup
    from readiness.analysis.settings import add_criterion, parse_criterion

    add_criterion(
        healthy, model, parse_criterion("accuracy >= 0.5"), actor="test"
    )  # settings move the version
    assert drift_overview(healthy, model, multivariate=False) is not before


def test_the_cache_is_bounded_and_computes_a_key_once_under_concurrency():
    cache = ResultCache(max_entries=3)
    for i in range(10):
        cache.get_or_compute(i, lambda i=i: i * i)
    assert len(cache) == 3 and cache.get_or_compute(9, lambda: -1) == 81
    calls = []
    gate = threading.Event()

    def slow() -> str:
        calls.append(1)
        gate.wait(5)
        return "done"

    threads = [threading.Thread(target=lambda: cache.get_or_compute("k", slow)) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert calls == [1] and cache.get_or_compute("k", lambda: "again") == "done"


def test_an_error_is_raised_to_the_caller_and_not_cached():
    cache = ResultCache()

    def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", fails)
    assert cache.get_or_compute("k", lambda: "fine") == "fine"


# --------------------------------------------------------------------------- looking never writes


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PAGES = (
    "pages/checklist.py",
    "pages/alerts.py",
    "pages/drift.py",
    "pages/performance.py",
    "pages/data.py",
    "pages/settings.py",
    "pages/report.py",
)


def test_rendering_every_page_leaves_the_database_byte_identical(live_demo_path, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "demo.db"
    shutil.copyfile(live_demo_path, path)
    before = _digest(path)
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    RESULTS.clear()  # a cold cache: every analysis really runs against the database
    for model in ("fraud", "credit", "demand", "ticket-router"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.query_params["model"] = model
        at.run()
        assert not at.exception and at.title[0].value == "Model readiness"
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, f"{page} for {model}: {at.exception[0].value}"
        assert at.markdown[0].value.startswith(f"**{model}**")  # the Report page, for this model
    assert _digest(path) == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_an_assessment_writes_nothing_and_recording_is_explicit(healthy):
    from readiness.analysis.assessment import assess_model, record_score, score_history

    model = healthy.get_model("shop")
    recorded = len(score_history(healthy, model))
    now = datetime(2026, 11, 12, 9) + timedelta(days=1)
    assessment = assess_model(healthy, model, now)
    assert len(score_history(healthy, model)) == recorded
    record_score(healthy, assessment)
    history = score_history(healthy, model)
    assert len(history) == recorded + 1 and datetime(2026, 11, 13) in set(history["day"])
