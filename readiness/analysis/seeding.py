"""Seeding the demo in the background: decided and started once per database, its progress readable anywhere.

The app asks :func:`demo_seeding` for its database's :class:`BackgroundSeed` on every script
run; the first run decides whether to seed (an empty database, the auto-demo setting on) and
starts it in a daemon thread, so the server answers at once. Every run then reads
:meth:`BackgroundSeed.progress` and shows it until the seed has finished. Nothing here knows
about Streamlit: progress arrives through ``seed_demo``'s callback and is read by polling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from readiness.errors import one_line
from readiness.storage.store import Store

if TYPE_CHECKING:
    from readiness.analysis.demo import SeedStep

Seeder = Callable[[Store, Callable[["SeedStep"], None]], Any]  # (store, progress) -> anything


@dataclass(frozen=True)
class SeedProgress:
    """Where a background seed stands: the step it is on (of how many), since when, and how it ended."""

    step: int = 0
    total: int = 0
    text: str = "Starting"
    elapsed: float = 0.0  # seconds since the start (to the end, once finished)
    finished: bool = False
    error: str = ""  # why it stopped, when it failed

    @property
    def fraction(self) -> float:
        """The share of steps started, from 0 to 1."""
        return min(self.step / self.total, 1.0) if self.total else 0.0

    @property
    def headline(self) -> str:
        """One line for people: "Seeding the demo: step 3 of 21 (fraud: ...)"."""
        if self.error:
            return f"Seeding the demo failed at step {self.step} of {self.total}: {self.error}"
        if self.finished:
            return f"Demo seeded in {self.elapsed:.0f} s"
        if not self.total:
            return "Seeding the demo: starting"
        return f"Seeding the demo: step {self.step} of {self.total} ({self.text})"


def _seed_demo(store: Store, progress: Callable[[SeedStep], None]) -> Any:
    """The real seed, looked up when it runs (so a test or a benchmark can replace ``demo.seed_demo``)."""
    from readiness.analysis import demo

    return demo.seed_demo(store, progress=progress)


class BackgroundSeed:
    """One seed of the demo into one database, decided once and run at most once, in a daemon thread."""

    def __init__(self, seeder: Seeder = _seed_demo, clock: Callable[[], float] = time.monotonic) -> None:
        self._seeder = seeder
        self._clock = clock
        self._lock = threading.Lock()
        self._decided = False
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._progress = SeedProgress()

    @property
    def started(self) -> bool:
        """Whether a seed was started (it may have finished since)."""
        return self._thread is not None

    def start_if(self, wanted: Callable[[], bool], store: Store) -> bool:
        """The first call asks ``wanted()`` and, if true, starts seeding ``store``; later calls do nothing.

        Concurrent callers wait for the first one's decision, so a database is never seeded twice
        by one process. Returns whether a seed has been started (by this call or an earlier one).
        """
        with self._lock:
            if not self._decided:
                self._decided = True
                if wanted():
                    self._start(store)
            return self.started

    def _start(self, store: Store) -> None:
        self._started_at = self._clock()
        self._thread = threading.Thread(target=self._run, args=(store,), name="demo-seed", daemon=True)
        self._thread.start()

    def _run(self, store: Store) -> None:
        try:
            self._seeder(store, self._hear)
        except Exception as exc:  # shown on the progress view instead of vanishing with the thread
            self._update(finished=True, error=one_line(exc))
        else:
            self._update(finished=True)

    def _hear(self, step: SeedStep) -> None:
        """The progress callback: the step that is starting."""
        self._update(step=step.number, total=step.total, text=step.text)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._progress = replace(self._progress, elapsed=self._clock() - self._started_at, **changes)

    def progress(self) -> SeedProgress | None:
        """The seed's progress (elapsed up to now while it runs), or None when no seed was started."""
        with self._lock:
            if not self.started:
                return None
            if self._progress.finished:
                return self._progress
            return replace(self._progress, elapsed=self._clock() - self._started_at)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a started seed to end (at most ``timeout`` seconds); True when it has finished."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        progress = self.progress()
        return progress is not None and progress.finished


_SEEDS: dict[str, BackgroundSeed] = {}
_SEEDS_LOCK = threading.Lock()


def demo_seeding(url: str) -> BackgroundSeed:
    """The background seed of the database at ``url`` in this process (one per URL, made on first use)."""
    with _SEEDS_LOCK:
        return _SEEDS.setdefault(url, BackgroundSeed())
