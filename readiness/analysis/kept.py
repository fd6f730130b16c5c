"""Assessments kept on disk between processes, so a command on unchanged data does not judge it again.

The result cache (:mod:`readiness.analysis.cache`) lives as long as its process, and a
``python -m readiness`` command lives for one command: ``gate`` judged the model again on
every run (about 0.3 s, and reading the baseline needed pandas) and ``models`` judged every
model. So two results are also kept in one file per database, model and result under
``$READINESS_CACHE_DIR`` (default ``$XDG_CACHE_HOME/readiness``, else
``~/.cache/readiness``; ``off`` keeps nothing):

- the assessment as of now (:func:`readiness.analysis.assessment.assess_model`), under the
  model's DataVersion (every new prediction, label, refresh and settings change moves it) and
  the hour it is judged as of (so an attestation expires on time);
- the development performance of the active baseline, under the baseline's id (a baseline's
  rows never change: new ones make a new baseline).

A file holds the latest result and the key it was computed under, which adds the database
file (its resolved path), the model's id and creation time (a database created again at the
same path has new models), the plausible-time settings and the code: every file of the
package (path, size, modification time), Python, and the files of NumPy, SciPy and pandas.

Any difference computes the result again and replaces the file, so what is read is what would
be computed; files not replaced for a week (a database since deleted) are removed. Only SQLite files are kept: a PostgreSQL URL does not say which schema a
connection uses. The files are pickles, so they are read only from a directory this user owns
and nobody else may write to; a file that cannot be read is computed again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from readiness.config import AHEAD_HOURS_ENV, EARLIEST_ENV, cache_dir
from readiness.core.records import Model
from readiness.storage.store import Store

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent.parent
LIBRARIES = ("numpy", "scipy", "pandas")
PREFIX = "readiness-"
STALE_SECONDS = 7 * 24 * 3600  # a kept file not replaced for this long is removed when another is written


def kept(store: Store, model: Model, what: str, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or the result ``what`` kept on disk under the same key by an earlier process.

    ``key`` holds everything the result depends on in the database (for an assessment, the
    model's data version and the hour); the database, the model and the code are added here.
    The result is written for the next process (best effort: a cache that cannot be written
    never fails the command).
    """
    path = _file(store, model, what)
    if path is None:
        return compute()
    full = (str(_database(store)), model.id, model.created_at, key, _settings(), _code())
    found = _read(path, full)
    if found is not None:
        return found[0]
    value = compute()
    _write(path, full, value)
    return value


def _database(store: Store) -> Path | None:
    """The SQLite file the store reads, resolved (None: in memory, or not SQLite)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def _file(store: Store, model: Model, what: str) -> Path | None:
    """Where the model's kept result lives (None when nothing is kept for this store)."""
    folder, database = cache_dir(), _database(store)
    if folder is None or database is None:
        return None
    name = hashlib.sha256(f"{database}\n{model.id}".encode()).hexdigest()[:32]
    return folder / f"{PREFIX}{what}-{name}.pickle"


def _settings() -> tuple[str, str]:
    return os.environ.get(EARLIEST_ENV, "").strip(), os.environ.get(AHEAD_HOURS_ENV, "").strip()


@functools.cache
def _code() -> str:
    """A fingerprint of the code that computes results: the package's files, Python and the numeric libraries."""
    digest = hashlib.sha256(sys.version.encode())
    files = sorted(PACKAGE.rglob("*.py"))
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)  # a top-level package: found, not imported
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    for path in files:
        info = path.stat()
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _private(folder: Path) -> bool:
    """The folder is this user's and nobody else may write to it (its pickles are safe to load)."""
    user = getattr(os, "getuid", None)  # None on Windows: nothing is kept there
    try:
        info = folder.stat()
    except OSError:
        return False
    return user is not None and info.st_uid == user() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path, key: tuple[Any, ...]) -> tuple[Any] | None:
    """The kept value, as a 1-tuple, when the file holds one for ``key``; None otherwise."""
    if not _private(path.parent):
        return None
    try:
        with path.open("rb") as handle:
            stored_key, value = pickle.load(handle)
    except Exception:  # missing, truncated, or written by code that no longer exists: compute again
        return None
    return (value,) if stored_key == key else None


def _write(path: Path, key: tuple[Any, ...], value: Any) -> None:
    """Replace the file with ``value`` under ``key`` in one rename (readers see the old or the new file)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            return
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump((key, value), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        _prune(path.parent)
    except Exception:  # a full disk or a read-only home: the command still answers
        return


def _prune(folder: Path) -> None:
    """Remove kept files nobody replaced for a week (their database was deleted or is no longer used)."""
    oldest = time.time() - STALE_SECONDS
    for path in folder.glob(f"{PREFIX}*.pickle"):
        with contextlib.suppress(OSError):  # another process removed or replaced it meanwhile
            if path.stat().st_mtime < oldest:
                path.unlink()
