"""Reading ahead keeps the order, raises a reader's error where it happened, reads at most a block ahead, and stops."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.prefetch import prefetched


@given(st.lists(st.integers(), max_size=50), st.integers(1, 4))
def test_items_come_in_their_order(items, ahead):
    assert list(prefetched(iter(items), ahead)) == items


def test_an_error_while_reading_comes_after_the_items_before_it():
    def blocks():
        yield "first"
        yield "second"
        raise ValueError("line 9 has 3 fields")

    got = []
    with pytest.raises(ValueError, match="line 9"):
        for item in prefetched(blocks()):
            got.append(item)
    assert got == ["first", "second"]


def test_the_reader_stays_at_most_a_block_ahead_of_the_caller():
    read: list[int] = []
    consumed: list[int] = []
    ahead_seen: list[int] = []
    lock = threading.Lock()

    def blocks():
        for i in range(20):
            with lock:
                ahead_seen.append(i - len(consumed))
                read.append(i)
            yield i

    for item in prefetched(blocks(), ahead=1):
        with lock:
            consumed.append(item)
    assert consumed == list(range(20))
    assert max(ahead_seen) <= 2  # one waiting in the queue, one in the reader's hands


def test_a_caller_that_stops_early_stops_the_reader_and_closes_the_source():
    closed = threading.Event()
    reads: list[int] = []

    def blocks():
        try:
            for i in range(1_000):
                reads.append(i)
                yield i
        finally:
            closed.set()

    with pytest.raises(RuntimeError, match="bad row"):
        for item in prefetched(blocks()):
            if item == 3:
                raise RuntimeError("bad row in block 3")
    assert closed.is_set()
    assert len(reads) <= 6  # stopped a block or two past the caller, not at the end of the file
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())
