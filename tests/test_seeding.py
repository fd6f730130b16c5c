"""The background seed behind the app's first start: decided once, run once, its progress readable meanwhile."""

from __future__ import annotations

import threading

import pytest

from readiness.analysis.demo import SeedStep
from readiness.analysis.seeding import BackgroundSeed, SeedProgress, demo_seeding
from readiness.storage.store import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Gate:
    """A seeder that says the steps it is given, one per ``advance``, and finishes after the last."""

    def __init__(self, steps: list[SeedStep], clock: Clock) -> None:
        self.steps = steps
        self.clock = clock
        self.go = threading.Semaphore(0)
        self.said = threading.Semaphore(0)
        self.stores: list[Store] = []

    def __call__(self, store: Store, progress) -> None:
        self.stores.append(store)
        for step in self.steps:
            self.go.acquire()
            self.clock.now += 2.0
            progress(step)
            self.said.release()

    def advance(self) -> None:
        """Let the seeder say its next step, and wait until it has."""
        self.go.release()
        assert self.said.acquire(timeout=30)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'seed.db'}")


def test_progress_follows_each_step_then_the_end(store):
    clock = Clock()
    steps = [
        SeedStep(0, 2, "Seeding the demo: 4 models"),
        SeedStep(1, 2, "fraud: storing"),
        SeedStep(2, 2, "Demo seeded"),
    ]
    gate = Gate(steps, clock)
    seed = BackgroundSeed(gate, clock)
    assert seed.progress() is None and not seed.started
    assert seed.start_if(lambda: True, store)
    assert seed.progress() == SeedProgress(0, 0, "Starting", 0.0)
    assert seed.progress().headline == "Seeding the demo: starting"

    gate.advance()
    gate.advance()
    clock.now += 1.0  # while it runs, elapsed counts up to now
    progress = seed.progress()
    assert (progress.step, progress.total, progress.text, progress.elapsed) == (1, 2, "fraud: storing", 5.0)
    assert progress.fraction == 0.5 and not progress.finished
    assert progress.headline == "Seeding the demo: step 1 of 2 (fraud: storing)"

    gate.advance()
    assert seed.wait(timeout=30)
    done = seed.progress()
    assert done.finished and not done.error and done.fraction == 1.0
    assert done.headline == "Demo seeded in 7 s"
    assert gate.stores == [store]


def test_a_failure_ends_the_seed_with_its_reason(store):
    def broken(_store: Store, progress) -> None:
        progress(SeedStep(3, 21, "fraud: storing 99,952 predictions"))
        raise OSError("disk full")

    seed = BackgroundSeed(broken)
    seed.start_if(lambda: True, store)
    assert seed.wait(timeout=30)
    progress = seed.progress()
    assert progress.finished and progress.error == "OSError: disk full" and progress.step == 3
    assert progress.headline == "Seeding the demo failed at step 3 of 21: OSError: disk full"


def test_concurrent_sessions_decide_once_and_seed_once(store):
    calls: list[Store] = []
    asked = threading.Event()
    decided = threading.Event()

    def wanted() -> bool:
        asked.set()
        assert decided.wait(timeout=30)  # the other session arrives while this one is still deciding
        return True

    seed = BackgroundSeed(lambda s, _progress: calls.append(s))
    first = threading.Thread(target=seed.start_if, args=(wanted, store))
    first.start()
    assert asked.wait(timeout=30)
    second_result: list[bool] = []
    second = threading.Thread(target=lambda: second_result.append(seed.start_if(lambda: True, store)))
    second.start()
    decided.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert seed.wait(timeout=30)
    assert calls == [store] and second_result == [True]
    assert seed.start_if(lambda: True, store) and calls == [store]  # a later session finds it seeded


def test_a_database_not_to_seed_is_asked_about_once(store):
    questions: list[int] = []

    def wanted() -> bool:
        questions.append(1)
        return False

    seed = BackgroundSeed(lambda _s, _p: pytest.fail("seeded a database it should not have"))
    assert not seed.start_if(wanted, store)
    assert not seed.start_if(wanted, store)
    assert questions == [1] and seed.progress() is None and seed.wait(timeout=1) is False


def test_one_background_seed_per_database_url():
    assert demo_seeding("sqlite:///one.db") is demo_seeding("sqlite:///one.db")
    assert demo_seeding("sqlite:///one.db") is not demo_seeding("sqlite:///two.db")
