"""Decode and encode beside the detector: one background thread each, bounded, in order.

OpenCV and PyAV release the GIL while they decode and encode, so on a machine with a spare moment
of a core the next frame is decoded, and the last annotated frame encoded, while ONNX Runtime runs.

* :class:`Prefetch` pulls a frame iterator up to ``depth`` items ahead of the caller, hands them
  over in order and re-raises in the caller whatever the iterator raised.
* :class:`BackgroundWriter` calls a ``write(item)`` function in a thread, at most ``depth`` items
  behind the caller; an error in it is raised by the next :meth:`~BackgroundWriter.put` or by
  :meth:`~BackgroundWriter.close`, which first writes everything queued.

Memory stays bounded (``depth`` frames each). ``close()`` joins the thread, so a run that stops early,
on a signal or an error, leaves no thread behind, and the source or file can then be closed safely.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ._closing import Closing

__all__ = ["BackgroundWriter", "Prefetch"]

T = TypeVar("T")

_ITEM, _END, _ERROR = 0, 1, 2


class Prefetch(Closing, Generic[T]):
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the caller.

    Args:
        items: the iterator to pull (e.g. ``iter(frame_source)``); only the background thread
            advances it, until :meth:`close` returns.
        depth: items decoded ahead at most (>= 1).
        name: the thread's name suffix (``tracker-<name>``), for debuggers and logs.

    Raises:
        ValueError: ``depth < 1`` (nothing is started).
    """

    def __init__(self, items: Iterator[T], depth: int = 2, *, name: str = "decode") -> None:
        if depth < 1:
            raise ValueError(f"prefetch depth must be >= 1, got {depth}")
        self._items = items
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._pull, name=f"tracker-{name}", daemon=True)
        self._thread.start()

    def _put(self, kind: int, value: object) -> bool:
        """Queue one entry unless :meth:`close` was called; ``False`` when it was."""
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _pull(self) -> None:
        try:
            for item in self._items:
                if not self._put(_ITEM, item):
                    return
            self._put(_END, None)
        except BaseException as exc:  # handed to the caller, raised there
            self._put(_ERROR, exc)

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._finished = True
        if kind == _ERROR:
            assert isinstance(value, BaseException)
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop pulling, drop what was decoded ahead and join the thread (safe to call twice)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)
        self._finished = True


class BackgroundWriter(Closing, Generic[T]):
    """Call ``write(item)`` for every :meth:`put` item, in order, in a background thread.

    After ``write`` fails, nothing more is written: the error is raised by the next :meth:`put` (or
    by :meth:`close` if no put came), and later puts are refused.

    Args:
        write: called in the thread, once per item, in the order they were put.
        depth: items waiting at most; :meth:`put` blocks while the queue is full.
        name: the thread's name suffix (``tracker-<name>``).

    Raises:
        ValueError: ``depth < 1`` (nothing is started).
    """

    def __init__(self, write: Callable[[T], None], depth: int = 2, *, name: str = "encode") -> None:
        if depth < 1:
            raise ValueError(f"background writer depth must be >= 1, got {depth}")
        self._write = write
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._reported = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"tracker-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            kind, item = self._queue.get()
            if kind == _END:
                return
            if self._error is not None:
                continue  # after a failure, drain without writing
            try:
                self._write(item)  # type: ignore[arg-type]
            except BaseException as exc:
                self._error = exc

    def _raise_once(self) -> None:
        """Raise the thread's error the first time it is seen."""
        if self._error is not None and not self._reported:
            self._reported = True
            raise self._error

    def put(self, item: T) -> None:
        """Queue ``item`` (blocks while ``depth`` items wait).

        Raises:
            ValueError: the writer is closed, or an earlier ``write`` failed and was reported.
            Exception: what an earlier ``write`` raised in the thread (the first put after it).
        """
        if self._closed:
            raise ValueError("background writer is closed")
        self._raise_once()
        if self._error is not None:
            raise ValueError(f"background writer stopped after an earlier error: {self._error}")
        self._queue.put((_ITEM, item))

    def close(self) -> None:
        """Write everything queued, join the thread, then raise an error not yet reported (safe to call
        twice)."""
        if not self._closed:
            self._closed = True
            self._queue.put((_END, None))
            self._thread.join()
        self._raise_once()
