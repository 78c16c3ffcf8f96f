"""Progress of a long run: a tqdm bar on a terminal, a log line every few seconds elsewhere."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

__all__ = ["PROGRESS_LOG_SECONDS", "Progress"]

log = logging.getLogger("tracker")

PROGRESS_LOG_SECONDS = 5.0
"""Without a terminal (a log file, CI, a service), progress is one log line at most this often."""


class Progress:
    """Counts processed frames and shows it: a tqdm bar (with ETA when ``total`` is known) when ``stream``
    is a terminal, otherwise an INFO log line every :data:`PROGRESS_LOG_SECONDS`; nothing when
    ``enabled`` is false."""

    def __init__(
        self, total: int | None, desc: str, *, enabled: bool = True, stream: IO[str] | None = None
    ) -> None:
        self.total, self.desc, self.count = total, desc, 0
        stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._enabled = enabled
        self._start = self._last_log = time.monotonic()
        if enabled and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="frame", file=stream, leave=False)

    def update(self, n: int = 1, **postfix: object) -> None:
        """``n`` more frames done; ``postfix`` (e.g. ``tracks=12``) is shown beside the bar."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
            if postfix and self.count % 10 == 0:
                self._bar.set_postfix(postfix, refresh=False)
            return
        now = time.monotonic()
        if self._enabled and now - self._last_log >= PROGRESS_LOG_SECONDS:
            self._last_log = now
            rate = self.count / max(now - self._start, 1e-9)
            if self.total:
                eta = (self.total - self.count) / rate if rate > 0 else float("nan")
                log.info(
                    "%s: %d/%d frames (%.0f%%), %.1f frames/s, ETA %.0f s",
                    self.desc,
                    self.count,
                    self.total,
                    100 * self.count / self.total,
                    rate,
                    eta,
                )
            else:
                log.info("%s: %d frames, %.1f frames/s", self.desc, self.count, rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
