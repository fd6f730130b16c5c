"""The one cache of analysis results: bounded, thread-safe, keyed on what the result depends on.

A key is the store's identity (never its URL: two stores with the same URL are different
databases, e.g. two in-memory SQLite stores or two PostgreSQL schemas), the model's
:class:`~readiness.storage.store.DataVersion` (it moves with every new row, label, refresh
and settings change) and the call's own arguments. Streamlit serves each browser session in
its own thread, so lookups take a lock, and concurrent requests for one key compute it once.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from readiness.analysis.kept import kept
from readiness.core.lazy import lazy_module
from readiness.core.records import Model
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

T = TypeVar("T")
MAX_ENTRIES = 256


class ResultCache:
    """A least-recently-used map of results, at most ``max_entries`` of them.

    >>> cache = ResultCache(max_entries=2)
    >>> cache.get_or_compute("a", lambda: 1), cache.get_or_compute("a", lambda: 2)
    (1, 1)
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result stored under ``key``, computing (once, whoever asks at the same time) and storing it if absent.

        An exception from ``compute`` is raised to every caller and nothing is stored.
        """
        found, value = self._lookup(key)
        if found:
            return value
        with self._lock:
            pending = self._computing.setdefault(key, threading.Lock())
        with pending:
            found, value = self._lookup(key)  # another thread may have finished it meanwhile
            if found:
                return value
            try:
                value = compute()
                self._store(key, value)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def _lookup(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, self._entries[key]
            self.misses += 1
            return False, None

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry (for tests and benchmarks that time cold runs)."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


RESULTS = ResultCache()


def cached(
    store: Store,
    model: Model,
    what: str,
    args: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    keep: bool = False,
    reads_labels: bool = True,
) -> T:
    """``compute()`` for this store, model, data version and arguments, from :data:`RESULTS` when known.

    ``what`` names the analysis (e.g. ``"drift_overview"``) so two analyses with equal
    arguments never collide. ``keep`` also keeps the result on disk for the next process
    (:mod:`readiness.analysis.kept`), under the same data version and arguments. A result that
    never reads a label (drift, the schema sample) says so with ``reads_labels=False``: it is
    keyed on :meth:`DataVersion.without_labels`, so a label upload leaves it where it was.
    """
    version = store.data_version(model)
    if not reads_labels:
        version = version.without_labels()
    key = (store.identity, model.id, version, what, args)
    if keep:
        return RESULTS.get_or_compute(key, lambda: kept(store, model, what, (version, args), compute))
    return RESULTS.get_or_compute(key, compute)


def cached_for_store(store: Store, what: str, args: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """Like :func:`cached`, for a result about every model: keyed on all models' data versions."""
    versions = tuple((m.id, store.data_version(m)) for m in store.list_models())
    return RESULTS.get_or_compute((store.identity, versions, what, args), compute)


FIGURES = ResultCache(max_entries=64)
_PLAIN = (str, int, float, bool, type(None))


def _input_key(value: Any) -> Hashable:
    """What identifies one input of a figure: plain values by value, a frame by its content, a result by identity."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, pd.DataFrame):
        digest = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
        return ("frame", tuple(map(str, value.columns)), hashlib.sha1(digest).hexdigest())
    return ("object", id(value))


def remembered(build: Callable[..., T]) -> Callable[..., T]:
    """Keep ``build``'s results for the inputs it was given: figures of a cached analysis result are built once.

    Analysis results come from :data:`RESULTS`, so the same result is the same object until
    its data version moves; the entry keeps its inputs alive, so an identity is never reused
    while its figure is remembered. Figures are never mutated after they are built.
    """

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        key = (
            build.__qualname__,
            tuple(_input_key(a) for a in args),
            tuple(sorted((k, _input_key(v)) for k, v in kwargs.items())),
        )
        return FIGURES.get_or_compute(key, lambda: (args, kwargs, build(*args, **kwargs)))[2]

    return wrapper
