"""The frame loop, once: feed one or several streams' frames to their pipelines in timestamp order.

:func:`run_streams` is the loop every command uses. Streams are merged on a common clock: stream
``k``'s frame ``i`` is at ``start_s[k] + (i - 1) / fps[k]`` seconds; ties go to the stream listed first.
The loop ends when every stream is exhausted, when each stream reached ``max_frames``, when the user
asks (a window's ``q``), or on SIGINT/SIGTERM/SIGHUP (:class:`~tracker.signals.GracefulStop`: the
frame in hand is finished first; a second signal raises :class:`~tracker.signals.StopNow` at once).
Closing the pipelines (and so their sinks) is the caller's job, in a ``finally``.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..signals import GracefulStop
from .frame import FramePipeline
from .progress import Progress

__all__ = ["RunEnd", "StreamInput", "UserStop", "run_streams"]

log = logging.getLogger("tracker")


@dataclass
class StreamInput:
    """One stream to run: its pipeline, its frames ``(1-based index, uint8[H,W,3] BGR or None)``, its
    frame rate and its start on the common clock (seconds)."""

    pipeline: FramePipeline
    frames: Iterator[tuple[int, NDArray[np.uint8] | None]]
    fps: float
    start_s: float = 0.0

    def timestamp(self, frame_index: int) -> float:
        """Seconds on the common clock of 1-based ``frame_index``."""
        return self.start_s + (frame_index - 1) / self.fps


class UserStop:
    """Set by a sink (a window's ``q``) to end the run after the current frame."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> None:
        self.requested = True


@dataclass
class RunEnd:
    """How a loop ended.

    Attributes:
        stopped: ``"end"`` (every stream exhausted), ``"max_frames"``, ``"user"`` or ``"signal"``.
        signal: the signal's name (``"SIGTERM"``) when ``stopped == "signal"``.
        seconds: wall time of the loop.
    """

    stopped: str
    signal: str | None
    seconds: float


def run_streams(
    streams: Sequence[StreamInput],
    *,
    stop: GracefulStop,
    max_frames: int | None = None,
    progress: Progress | None = None,
    user_stop: UserStop | None = None,
) -> RunEnd:
    """Run every stream's frames through its pipeline, in timestamp order.

    Args:
        streams: the streams (their pipelines share one :class:`~tracker.pipeline.timing.StageClock`
            or not; decode time is booked on each stream's own clock).
        stop: the run's :class:`~tracker.signals.GracefulStop` (checked before every frame).
        max_frames: frames per stream at most (``None``: all).
        progress: counts processed frames.
        user_stop: checked after every frame.

    Returns:
        :class:`RunEnd`.

    Raises:
        StopNow: a second signal arrived (the frame in hand is dropped).
        Exception: whatever a pipeline raised (a detector or sink failure); the caller closes the
            pipelines and keeps what was written.
    """
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    heap: list[tuple[float, int, int, NDArray[np.uint8] | None]] = []
    pulled = [0] * len(streams)
    clock_start = streams[0].pipeline.clock.now() if streams else 0.0
    capped = False

    def pull(k: int) -> None:
        nonlocal capped
        s = streams[k]
        if max_frames is not None and pulled[k] >= max_frames:
            capped = True
            return
        t0 = s.pipeline.clock.now()
        item = next(s.frames, None)
        s.pipeline.clock.add("decode", s.pipeline.clock.now() - t0)
        if item is not None:
            pulled[k] += 1
            index, frame = item
            heapq.heappush(heap, (s.timestamp(index), k, index, frame))

    for k in range(len(streams)):
        pull(k)
    stopped = "end"
    while heap:
        if stop.requested:
            stopped = "signal"
            break
        ts, k, index, frame = heapq.heappop(heap)
        result = streams[k].pipeline.process(index, frame, ts)
        if progress is not None:
            progress.update(1, tracks=len(result.tracks))
        if user_stop is not None and user_stop.requested:
            stopped = "user"
            log.info("stopped by the user at frame %d of %s", index, streams[k].pipeline.name)
            break
        pull(k)
    else:
        if stop.requested:
            stopped = "signal"
        elif capped:
            stopped = "max_frames"
    end = streams[0].pipeline.clock.now() if streams else 0.0
    return RunEnd(stopped, stop.signal_name if stopped == "signal" else None, end - clock_start)
