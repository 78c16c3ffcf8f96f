"""Graceful stops for long commands: SIGINT, SIGTERM and SIGHUP, handled once for the whole package.

Every long command (``run``, multi-camera ``run``, ``bench``, ``reid train``) runs its loop inside
:class:`GracefulStop`::

    with GracefulStop() as stop:
        for item in work:
            if stop.requested:
                break          # finish cleanly: close sinks, write the summary with "stopped"
            ...
    return stop.exit_status(default=0)

* The first signal only sets :attr:`GracefulStop.requested` (and :attr:`signal_name`): the loop
  finishes the item in hand, then stops; every output is flushed and closed as on a normal end.
* A second signal raises :class:`StopNow` at once (wherever the loop is); ``finally`` blocks and
  context managers still close their files, so outputs stay valid, but the item in hand is dropped.
* :meth:`GracefulStop.exit_status` is ``128 + signal number`` after a stop (130 for SIGINT, 143 for
  SIGTERM, 129 for SIGHUP), the shell convention.

Handlers can only be installed from the main thread; elsewhere (a worker thread, an actor) the
context manager does nothing and :attr:`requested` stays ``False`` unless :meth:`request` is called.
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import AbstractContextManager, nullcontext
from types import FrameType, TracebackType
from typing import Any

__all__ = ["HANDLED_SIGNALS", "GracefulStop", "StopNow", "exit_status_for", "stop_guard"]

log = logging.getLogger(__name__)

HANDLED_SIGNALS: tuple[str, ...] = ("SIGINT", "SIGTERM", "SIGHUP")
"""Signals a long command turns into a graceful stop (those this platform has)."""


def exit_status_for(signum: int) -> int:
    """The conventional exit status of a process ended by signal ``signum``: ``128 + signum``."""
    return 128 + int(signum)


class StopNow(BaseException):
    """Raised by the second signal: leave at once (``finally`` blocks still run). A control-flow
    exception like :class:`KeyboardInterrupt`, not an error."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class GracefulStop:
    """Turns SIGINT/SIGTERM/SIGHUP into a stop request for the duration of a ``with`` block.

    Attributes:
        requested: a stop was asked for (first signal, or :meth:`request`).
        signum: the signal number of the first signal, or ``None``.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def signal_name(self) -> str | None:
        """``"SIGTERM"`` etc. for the first signal received, ``None`` if none came."""
        return None if self.signum is None else signal.Signals(self.signum).name

    def request(self, signum: int = signal.SIGTERM) -> None:
        """Ask for a stop as if ``signum`` had arrived (for threads, tests and embedding programs)."""
        if not self.requested:
            self.requested = True
            self.signum = int(signum)

    def exit_status(self, default: int = 0) -> int:
        """``128 + signum`` after a signal, else ``default``."""
        return default if self.signum is None else exit_status_for(self.signum)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            log.warning("%s again: stopping now", signal.Signals(signum).name)
            raise StopNow(signum)
        self.request(signum)
        log.warning(
            "%s: finishing the current frame (or batch), then writing every output (signal again to stop now)",
            signal.Signals(signum).name,
        )

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for name in HANDLED_SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()


def stop_guard(stop: GracefulStop | None) -> AbstractContextManager[GracefulStop]:
    """The ``with`` target of a long command: a fresh :class:`GracefulStop` (handlers installed for
    the block) when ``stop`` is ``None``, else the caller's own, used as it is (its handlers are the
    caller's business)."""
    return GracefulStop() if stop is None else nullcontext(stop)
