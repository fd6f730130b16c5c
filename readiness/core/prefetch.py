"""Reading ahead: the next block of an upload is parsed on a helper thread while the caller works on this one.

Arrow's CSV and Parquet readers release the GIL, so on two cores the parse of block k+1 runs
beside the validation and profiling of block k. At most ``ahead`` blocks wait, plus the one the
helper holds, so memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1  # how often a waiting helper looks whether the caller stopped


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """The same items in the same order, each next one read on a helper thread meanwhile.

    An error the reading raises is raised here, where that item would have come, after the
    items before it. When the caller stops early (an error of its own, a ``break``), the
    helper stops after the item it is reading and the source is closed.

    >>> list(prefetched(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    waiting: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put((kind, value), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not hand_over("item", item):
                    return
            hand_over("done", None)
        except BaseException as exc:  # raised in the caller, in order
            hand_over("error", exc)

    helper = threading.Thread(target=read, name="read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            kind, value = waiting.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        helper.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()
