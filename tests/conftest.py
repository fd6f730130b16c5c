"""Shared fixtures: stores on SQLite and (when configured) PostgreSQL.

PostgreSQL tests need ``READINESS_TEST_POSTGRES_URL``, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test gets its own schema,
dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs on a busy 2-core box: a property is judged by its examples, never by how fast one ran
# (a 200 ms deadline and the "generation is slow" check failed healthy tests under load).
settings.register_profile("loaded", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("loaded")

TESTS_DIR = Path(__file__).resolve().parent
for path in (TESTS_DIR.parent, TESTS_DIR):  # the readiness package and tests/factories.py
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sqlalchemy import create_engine, text  # noqa: E402

from readiness.storage import schema  # noqa: E402
from readiness.storage.store import Store  # noqa: E402

POSTGRES_URL_ENV = "READINESS_TEST_POSTGRES_URL"
# Tests judge what the code computes now: no assessment kept on disk by an earlier run or test
# (tests of keeping set their own folder). Subprocesses the tests start inherit it.
os.environ["READINESS_CACHE_DIR"] = "off"


@pytest.fixture
def sqlite_store(tmp_path) -> Store:
    """A fresh store in a SQLite file under the test's tmp_path."""
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL for store tests; skips when the environment does not provide one."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} not set: PostgreSQL store tests skipped")
    return url


@pytest.fixture
def pg_store(pg_url) -> Store:
    """A store in a fresh PostgreSQL schema, dropped (CASCADE) after the test."""
    schema_name = f"t_{uuid.uuid4().hex}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    engine = create_engine(pg_url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        schema.metadata.create_all(engine)
        yield Store(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
        admin.dispose()


DEMO_TODAY = date(2026, 11, 15)
DEMO_SCALE = 0.4


def sealed(store: Store) -> None:
    """Fold a SQLite store's write-ahead log into its file and close it, so the file can be copied."""
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.engine.dispose()


def copy_store(template: Path, tmp_path: Path, name: str = "copy.db") -> Store:
    """A private, writable copy of a sealed SQLite template, opened."""
    target = tmp_path / name
    shutil.copyfile(template, target)
    return Store.open(f"sqlite:///{target}")


SEED_SCRIPT = """
import pickle, sys
from datetime import date
from pathlib import Path
from readiness.analysis.demo import seed_demo
from readiness.storage.store import Store

path, today, scale = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), float(sys.argv[3])
store = Store.open(f"sqlite:///{path}")
summary = seed_demo(store, today=today, scale=scale)
with store.engine.connect() as conn:
    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
store.engine.dispose()
path.with_suffix(".summary.pickle").write_bytes(pickle.dumps(summary))
"""


class DemoSeeds:
    """The session's two demos, seeded side by side in subprocesses the first time either is asked for.

    The suite itself runs on one core; seeding both demos at once on the machine's second core
    halves the time the first demo test waits. Each demo is a sealed SQLite file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, tuple[Path, subprocess.Popen]] = {}

    def start(self) -> None:
        """Start both seeds (once)."""
        if self.running:
            return
        for name, today in (("fixed", DEMO_TODAY), ("live", datetime.now(UTC).date())):
            path = self.folder / f"{name}-demo.db"
            log = (self.folder / f"{name}-seed.log").open("wb")
            command = [sys.executable, "-c", SEED_SCRIPT, str(path), today.isoformat(), str(DEMO_SCALE)]
            env = {**os.environ, "PYTHONPATH": str(TESTS_DIR.parent)}
            self.running[name] = (
                path,
                subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env),
            )

    def path(self, name: str) -> Path:
        """The sealed demo file, once its seed has finished (a failed seed fails the test with its log)."""
        self.start()
        path, process = self.running[name]
        code = process.wait(timeout=900)
        if code != 0:
            log = (self.folder / f"{name}-seed.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"Seeding the {name} demo failed with exit code {code}:\n{log}")
        return path


@pytest.fixture(scope="session")
def demo_seeds(tmp_path_factory) -> DemoSeeds:
    """Both session demos, seeded in parallel on first use."""
    return DemoSeeds(tmp_path_factory.mktemp("demos"))


@pytest.fixture(scope="session")
def demo_summary(demo_path):
    """What seeding the fixed-date demo (:func:`demo_path`) reported (a DemoSummary)."""
    return pickle.loads(demo_path.with_suffix(".summary.pickle").read_bytes())


@pytest.fixture(scope="session")
def demo_path(demo_seeds) -> Path:
    """The seeded demo at 0.4 scale as of 2026-11-15, built once per run; tests read it, never write it.

    About 20 s to seed (beside the live demo), so every test that reads a fixed-date demo shares this file;
    a test that writes takes :func:`demo_store` (a copy) instead.
    """
    return demo_seeds.path("fixed")


@pytest.fixture
def demo_store(demo_path, tmp_path) -> Store:
    """A private copy of the fixed-date demo that the test may write to."""
    store = copy_store(demo_path, tmp_path, "demo.db")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def live_demo_path(demo_seeds) -> Path:
    """The seeded demo at 0.4 scale as of today (UTC), built once per run, for what judges by the real clock.

    Pages and browser tests run the app, which assesses as of now; the demo's statuses hold
    on every weekday, so they do not depend on which day the suite runs.
    """
    return demo_seeds.path("live")


@pytest.fixture(scope="session")
def healthy_path(tmp_path_factory) -> Path:
    """One healthy binary model (tests/readiness_fixtures.py), built once per run."""
    from tests.readiness_fixtures import healthy_store

    path = tmp_path_factory.mktemp("healthy") / "shop.db"
    sealed(healthy_store(f"sqlite:///{path}"))
    return path


@pytest.fixture
def healthy(healthy_path, tmp_path) -> Store:
    """A private copy of the healthy model's store (model "shop"), which the test may change."""
    store = copy_store(healthy_path, tmp_path, "shop.db")
    yield store
    store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request) -> Store:
    """The same test on a SQLite store and on a PostgreSQL store."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("pg_store")


def spark_missing() -> str | None:
    """Why the Spark tests cannot run here (None: they can): PySpark and Java (requirements-spark.txt)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (pip install -r requirements-spark.txt)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (apt-get install -y openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the test run; skips (fails in CI) without PySpark or Java."""
    reason = spark_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Spark tests must run in CI: {reason}.")
        pytest.skip(f"Spark test skipped: {reason}.")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this interpreter, with the package
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("readiness-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
