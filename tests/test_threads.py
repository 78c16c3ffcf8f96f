"""Decode-ahead and background encoding (tracker/io/threads.py): order, errors, bounded, no thread left."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tracker.io.threads import BackgroundWriter, Prefetch


def _threads(prefix: str = "tracker-") -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_prefetch_hands_every_item_over_in_order_then_stops() -> None:
    with Prefetch(iter(range(100)), depth=3) as ahead:
        assert list(ahead) == list(range(100))
        with pytest.raises(StopIteration):
            next(ahead)
    assert not _threads()


def test_prefetch_stays_at_most_depth_items_ahead() -> None:
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for i in range(50):
            pulled.append(i)
            yield i

    ahead = Prefetch(items(), depth=2)
    try:
        assert next(ahead) == 0
        deadline = time.monotonic() + 10.0
        while len(pulled) < 3 and time.monotonic() < deadline:  # item 0 handed over, 2 queued
            time.sleep(0.01)
        assert len(pulled) >= 3
        time.sleep(0.2)  # room for it to run further if it would
        # at most one more pulled and waiting for room in the queue
        assert len(pulled) <= 4
    finally:
        ahead.close()
    n = len(pulled)
    time.sleep(0.1)
    assert len(pulled) == n  # closed: nothing more is pulled
    assert not _threads()


def test_prefetch_raises_the_iterators_error_in_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("decoder broke at frame 3")

    with Prefetch(items()) as ahead:
        assert next(ahead) == 1 and next(ahead) == 2
        with pytest.raises(OSError, match="frame 3"):
            next(ahead)
        with pytest.raises(StopIteration):
            next(ahead)


def test_prefetch_close_early_joins_the_thread_and_stops_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    gen = items()
    ahead = Prefetch(gen, depth=4)
    assert next(ahead) == 0
    ahead.close()
    ahead.close()  # twice is fine
    assert not _threads()
    gen.close()  # the caller may close the source now: nobody else is advancing it
    assert closed.is_set()
    with pytest.raises(StopIteration):
        next(ahead)


def test_prefetch_depth_is_checked() -> None:
    with pytest.raises(ValueError, match="depth"):
        Prefetch(iter([1]), depth=0)
    assert not _threads()


def test_background_writer_writes_everything_in_order_by_close() -> None:
    written: list[int] = []

    def slow_write(i: int) -> None:
        time.sleep(0.001)
        written.append(i)

    w = BackgroundWriter(slow_write, depth=2)
    for i in range(40):
        w.put(i)
    w.close()
    assert written == list(range(40))
    assert not _threads()
    with pytest.raises(ValueError, match="closed"):
        w.put(41)


def test_background_writer_raises_a_write_error_at_the_next_put_once() -> None:
    written: list[int] = []
    failed = threading.Event()

    def write(i: int) -> None:
        if i == 3:
            failed.set()
            raise ValueError("disk full at item 3")
        written.append(i)

    w = BackgroundWriter(write, depth=1)
    for i in range(4):
        w.put(i)
    assert failed.wait(10.0)
    deadline = time.monotonic() + 10.0
    with pytest.raises(ValueError, match="item 3"):
        while time.monotonic() < deadline:  # until the thread has stored the error it just raised
            w.put(4)  # queued behind item 3: drained, never written
            time.sleep(0.01)
    with pytest.raises(ValueError, match="stopped after an earlier error: disk full"):
        w.put(5)  # refused: a gap in what is written would go unnoticed
    w.close()  # the error was raised once already
    assert written == [0, 1, 2]  # nothing after the failure is written
    assert not _threads()


def test_background_writer_error_at_the_last_item_is_raised_by_close() -> None:
    def write(i: int) -> None:
        if i == 2:
            raise OSError("encoder failed")

    w = BackgroundWriter(write)
    for i in range(3):
        w.put(i)
    with pytest.raises(OSError, match="encoder failed"):
        w.close()
    w.close()
    assert not _threads()
