"""One frame's way through the package: detect -> embed -> track -> sinks, timed per stage.

:class:`FramePipeline` is the only place that calls a detector, a tracker and the sinks for a frame;
every command (``run``, multi-camera ``run``, ``bench``, ``search``) builds one per stream and lets
:mod:`tracker.pipeline.runner` feed it frames. The tracking step is an adapter: :class:`SingleCamera`
(a :class:`~tracker.core.tracker.Tracker`) or :class:`CameraOfMany` (one camera of a
:class:`~tracker.multicam.MultiCameraTracker`, global ids).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from ..core.tracker import Tracker
from ..multicam.multi_tracker import GlobalTracks, MultiCameraTracker
from ..types import Detections, Detector, Tracks
from .sinks import FrameResult, Sink
from .timing import StageClock, TimedEmbedder

__all__ = ["CameraOfMany", "FramePipeline", "SingleCamera", "TrackingStep"]

log = logging.getLogger("tracker")


class TrackingStep(Protocol):
    """The tracking stage of a stream: detections in, tracks out."""

    def update(
        self, dets: Detections, frame: NDArray[np.uint8] | None, frame_index: int, timestamp: float
    ) -> Tracks:
        """Track one frame (``frame`` ``uint8[H,W,3]`` BGR or ``None``)."""
        ...

    @property
    def last_embeddings(self) -> NDArray[np.float32] | None:
        """``float32[N,D]`` embeddings of the last update's detections, or ``None``."""
        ...

    def labels(self, tracks: Tracks) -> list[str] | None:
        """Per-track label text for drawing, or ``None`` for plain ids."""
        ...


class SingleCamera:
    """A :class:`~tracker.core.tracker.Tracker` as a pipeline's tracking step."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def update(
        self, dets: Detections, frame: NDArray[np.uint8] | None, frame_index: int, timestamp: float
    ) -> Tracks:
        return self.tracker.update(dets, frame=frame, frame_index=frame_index)

    @property
    def last_embeddings(self) -> NDArray[np.float32] | None:
        return self.tracker.last_embeddings

    def labels(self, tracks: Tracks) -> list[str] | None:
        return None


class CameraOfMany:
    """One camera of a :class:`~tracker.multicam.MultiCameraTracker`: tracks carry global ids, drawn
    with a trailing ``?`` while provisional."""

    def __init__(self, mct: MultiCameraTracker, camera: str) -> None:
        self.mct, self.camera = mct, camera
        self._last: GlobalTracks | None = None

    def update(
        self, dets: Detections, frame: NDArray[np.uint8] | None, frame_index: int, timestamp: float
    ) -> Tracks:
        self._last = self.mct.update(self.camera, timestamp, dets, frame)
        return self._last

    @property
    def last_embeddings(self) -> NDArray[np.float32] | None:
        return None  # multi-camera galleries are built from final global ids at the end

    def labels(self, tracks: Tracks) -> list[str] | None:
        if not isinstance(tracks, GlobalTracks):
            return None
        return [f"{g}?" if p else str(g) for g, p in zip(tracks.ids, tracks.provisional, strict=True)]


class FramePipeline:
    """Detect, track (embedding inside the tracker) and write one stream's frames.

    Args:
        name: stream (camera) name.
        detector: ``detect(frame uint8[H,W,3] BGR | None, frame_index) -> Detections``.
        tracking: the tracking step (:class:`SingleCamera` or :class:`CameraOfMany`).
        sinks: receive every frame's :class:`~tracker.pipeline.sinks.FrameResult`; closed by
            :meth:`close`.
        clock: stage timers (shared by the streams of one run).
        embedder: the :class:`~tracker.pipeline.timing.TimedEmbedder` the tracker calls, so its time is
            booked as ``embed`` rather than ``track``.

    Attributes:
        frames: frames processed; detections: detections over them; track_ids: distinct ids output.
    """

    def __init__(
        self,
        name: str,
        detector: Detector,
        tracking: TrackingStep,
        sinks: Sequence[Sink] = (),
        *,
        clock: StageClock | None = None,
        embedder: TimedEmbedder | None = None,
    ) -> None:
        if not callable(getattr(detector, "detect", None)):
            raise TypeError(
                f"detector must have a detect(frame, frame_index) method, got {type(detector).__name__}"
            )
        self.name = name
        self.detector = detector
        self.tracking = tracking
        self.sinks = list(sinks)
        self.clock = clock if clock is not None else StageClock()
        self.embedder = embedder
        self.frames = 0
        self.detections = 0
        self.track_ids: set[int] = set()
        self._closed = False

    def process(self, frame_index: int, frame: NDArray[np.uint8] | None, timestamp: float) -> FrameResult:
        """One frame: detect, track, write to every sink; returns what the sinks got.

        Raises:
            TypeError: the detector returned something other than :class:`~tracker.types.Detections`.
            ValueError: bad input to the tracker (it is then unchanged) or a sink failed.
        """
        clock = self.clock
        t0 = clock.now()
        dets = self.detector.detect(frame, frame_index)  # type: ignore[arg-type]
        t1 = clock.now()
        clock.add("detect", t1 - t0)
        if not isinstance(dets, Detections):
            raise TypeError(
                f"{type(self.detector).__name__}.detect returned {type(dets).__name__} for frame "
                f"{frame_index}, expected tracker.Detections"
            )
        embed_before = self.embedder.seconds if self.embedder is not None else 0.0
        tracks = self.tracking.update(dets, frame, frame_index, timestamp)
        t2 = clock.now()
        embed_dt = (self.embedder.seconds - embed_before) if self.embedder is not None else 0.0
        clock.add("embed", embed_dt)
        clock.add("track", (t2 - t1) - embed_dt)
        result = FrameResult(
            stream=self.name,
            frame_index=frame_index,
            timestamp=timestamp,
            frame=frame,
            detections=dets,
            tracks=tracks,
            embeddings=self.tracking.last_embeddings,
            labels=self.tracking.labels(tracks),
        )
        for sink in self.sinks:
            sink.write(result)
        clock.add("write", clock.now() - t2)
        self.frames += 1
        self.detections += len(dets)
        self.track_ids.update(tracks.ids.tolist())
        return result

    def close(self) -> None:
        """Close every sink (each one, even when another fails; the first failure is raised after)."""
        if self._closed:
            return
        self._closed = True
        t0 = self.clock.now()
        first: BaseException | None = None
        for sink in self.sinks:
            try:
                sink.close()
            except BaseException as exc:  # close the others first; StopNow included
                path = getattr(sink, "path", None)
                if isinstance(exc, OSError) and exc.filename is None and path is not None:
                    # name the file: an encoder's "[Errno 1] Operation not permitted" said nothing of it
                    exc = OSError(exc.errno, exc.strerror or str(exc), str(path))
                log.error("%s: closing %s failed: %s", self.name, type(sink).__name__, exc)
                first = first or exc
        self.clock.add("write", self.clock.now() - t0)
        if first is not None:
            raise first
