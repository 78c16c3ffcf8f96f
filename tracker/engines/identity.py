"""The identity service: one :class:`~tracker.multicam.GlobalIdentityManager` fed in a fixed order.

Cameras send one :class:`TrackletEvent` per frame (its confirmed tracks with local ids, boxes, scores
and appearance), in their own frame order, from wherever they run. The service keeps the events in a
heap and hands them to the manager's ``observe`` in ``(timestamp, camera order)`` order once that
order can no longer change: behind a **watermark**, the minimum over the cameras still running of the
latest timestamp each has sent (a camera sends its frames in increasing time order, so nothing older
than the watermark can still come). A camera that finished or was lost no longer holds the watermark
back. That is exactly the order in which the local engine (:func:`~tracker.apps.multicam_run.run_cameras`,
one loop merging the streams by timestamp, ties to the camera listed first) calls ``observe``, so the
global ids, provisional numbers included, are the local engine's whatever the arrival order.

The service keeps every frame's tracks (as the local engine does) so the final-id outputs can be
written at the end from what it received, even for a camera whose worker died.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..multicam.config import MultiCamConfig
from ..multicam.manager import GlobalIdentityManager, LinkDecision
from ..types import Tracks

__all__ = ["FinalFrame", "IdentityService", "ServiceStats", "TrackletEvent", "latency_summary"]

log = logging.getLogger("tracker")


@dataclass(frozen=True, eq=False)
class TrackletEvent:
    """One camera frame's tracks, as a camera worker sends them to the identity service.

    Attributes:
        camera: camera id.
        frame_index: 1-based frame number in the camera's stream.
        timestamp: seconds on the common clock (``start_s + (frame_index - 1) / fps``).
        tracks: the camera tracker's output; ``tracks.ids`` are LOCAL ids (``int64[M]``), ``boxes``
            ``float32[M,4]`` xyxy pixels, ``scores`` ``float32[M]``.
        embeddings: ``float32[M,D]`` appearance of each track's detection this frame (zero rows for
            tracks not updated by a detection), or ``None`` without an embedder.
        detections: the frame's detections (for the counts of a camera whose worker died).
        sent_s: ``time.time()`` when the camera sent it (for the latency figures).
    """

    camera: str
    frame_index: int
    timestamp: float
    tracks: Tracks
    embeddings: NDArray[np.float32] | None
    detections: int = 0
    sent_s: float = 0.0


@dataclass(frozen=True, eq=False)
class FinalFrame:
    """One received frame of one camera with its FINAL global ids (after :meth:`IdentityService.flush`).

    Attributes:
        frame_index: 1-based frame number; timestamp: seconds.
        tracks: ``ids`` are the final global ids (``-1`` where the manager has none), the other fields
            as received.
        embeddings: ``float32[M,D]`` or ``None``, as received.
    """

    frame_index: int
    timestamp: float
    tracks: Tracks
    embeddings: NDArray[np.float32] | None


@dataclass
class ServiceStats:
    """What the identity service did.

    Attributes:
        events: frame events observed; tracklet_observations: tracks over them.
        late_events: events dropped because they came after the watermark had passed them (only a
            lost camera's last in-flight frames can).
        observe_seconds: time spent in the manager's ``observe``.
        latency_s: per observed event, ``time.time()`` when its global ids were out minus its
            ``sent_s`` (transport + waiting behind the watermark + observe).
        frames: camera -> frames observed; detections: camera -> detections over them.
        finished / lost: cameras that ended / were given up.
    """

    events: int = 0
    tracklet_observations: int = 0
    late_events: int = 0
    observe_seconds: float = 0.0
    latency_s: list[float] = field(default_factory=list)
    frames: dict[str, int] = field(default_factory=dict)
    detections: dict[str, int] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "tracklet_observations": self.tracklet_observations,
            "late_events": self.late_events,
            "observe_seconds": round(self.observe_seconds, 4),
            "latency_ms": latency_summary(self.latency_s),
            "frames": dict(self.frames),
            "detections": dict(self.detections),
            "finished": list(self.finished),
            "lost": list(self.lost),
        }


def latency_summary(latency_s: Sequence[float]) -> dict[str, float | int | None]:
    """``{"count", "median", "p95", "max"}`` of latencies given in seconds, in milliseconds."""
    if not latency_s:
        return {"count": 0, "median": None, "p95": None, "max": None}
    a = np.asarray(latency_s, np.float64) * 1000.0
    return {
        "count": int(a.size),
        "median": round(float(np.median(a)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "max": round(float(a.max()), 3),
    }


class IdentityService:
    """A :class:`~tracker.multicam.GlobalIdentityManager` fed behind a timestamp watermark.

    Args:
        cameras: camera ids, in the order that breaks timestamp ties (the camera list's order).
        config: cross-camera linking settings.
        keep_records: keep every observed frame for :meth:`final_frames` (the final-id outputs);
            ``False`` for throughput measurements.

    Raises:
        ValueError: no cameras, repeated ids or a bad config (from the manager).
    """

    def __init__(
        self, cameras: Sequence[str], config: MultiCamConfig | None = None, *, keep_records: bool = True
    ) -> None:
        self.manager = GlobalIdentityManager(cameras, config)
        self.cameras = self.manager.cameras
        self._order = {c: i for i, c in enumerate(self.cameras)}
        self._running = set(self.cameras)
        self._latest: dict[str, float] = {}
        self._heap: list[tuple[float, int, int, TrackletEvent]] = []
        self._seq = 0
        self._done_until = -math.inf
        self._keep = keep_records
        self._records: dict[str, list[TrackletEvent]] = {c: [] for c in self.cameras}
        self.stats = ServiceStats(
            frames=dict.fromkeys(self.cameras, 0), detections=dict.fromkeys(self.cameras, 0)
        )

    # -- events in ---------------------------------------------------------------------------------
    def push(self, events: Sequence[TrackletEvent]) -> int:
        """Take events (any cameras, each camera's in increasing time), observe every event the
        watermark has passed; returns how many events were observed by this call.

        Raises:
            ValueError: an unknown camera, or a camera's timestamp not after its previous one (nothing
                of this call is taken then).
        """
        latest = dict(self._latest)
        for ev in events:
            if ev.camera not in self._order:
                raise ValueError(f"event of unknown camera {ev.camera!r}; cameras are {list(self.cameras)}")
            prev = latest.get(ev.camera)
            if prev is not None and not ev.timestamp > prev:
                raise ValueError(
                    f"camera {ev.camera!r}: event at {ev.timestamp} s is not after its previous one at {prev} s"
                )
            latest[ev.camera] = ev.timestamp
        for ev in events:
            if ev.camera not in self._running and ev.timestamp <= self._done_until:
                self.stats.late_events += 1
                log.warning("identity service: dropped a late event of %s at %.3f s", ev.camera, ev.timestamp)
                continue
            heapq.heappush(self._heap, (ev.timestamp, self._order[ev.camera], self._seq, ev))
            self._seq += 1
        self._latest = latest
        return self._drain()

    def finish(self, camera: str) -> int:
        """``camera`` sent its last event: it no longer holds the watermark back."""
        self._check_camera(camera)
        if camera in self._running:
            self._running.discard(camera)
            self.stats.finished.append(camera)
        return self._drain()

    def lose(self, camera: str) -> int:
        """``camera``'s worker died: keep what it sent, stop waiting for it."""
        self._check_camera(camera)
        if camera in self._running:
            self._running.discard(camera)
            self.stats.lost.append(camera)
            log.warning("identity service: camera %s lost after %d frames", camera, self.stats.frames[camera])
        return self._drain()

    def watermark(self) -> float:
        """Events at or before this time are observed (``inf`` once no camera runs, ``-inf`` while a
        running camera has sent nothing)."""
        if not self._running:
            return math.inf
        return min((self._latest.get(c, -math.inf) for c in self._running), default=math.inf)

    def _drain(self) -> int:
        mark = self.watermark()
        n = 0
        while self._heap and self._heap[0][0] <= mark:
            ev = heapq.heappop(self._heap)[3]
            self._observe(ev)
            self._done_until = max(self._done_until, ev.timestamp)
            n += 1
        return n

    def _observe(self, ev: TrackletEvent) -> None:
        t0 = time.perf_counter()
        tr = ev.tracks
        self.manager.observe(ev.camera, ev.timestamp, tr.ids, tr.boxes, tr.scores, ev.embeddings)
        self.stats.observe_seconds += time.perf_counter() - t0
        if ev.sent_s > 0:
            self.stats.latency_s.append(time.time() - ev.sent_s)
        self.stats.events += 1
        self.stats.tracklet_observations += len(tr)
        self.stats.frames[ev.camera] += 1
        self.stats.detections[ev.camera] += ev.detections
        if self._keep:
            self._records[ev.camera].append(ev)

    def _check_camera(self, camera: str) -> None:
        if camera not in self._order:
            raise ValueError(f"unknown camera {camera!r}; cameras are {list(self.cameras)}")

    # -- ids out -----------------------------------------------------------------------------------
    def pending(self) -> int:
        """Events received and not yet observed."""
        return len(self._heap)

    def received(self) -> dict[str, int]:
        """Camera -> frames observed so far."""
        return dict(self.stats.frames)

    def flush(self) -> None:
        """End of the run: observe what is left (in order) and decide every pending identity."""
        self._running.clear()
        self._drain()
        self.manager.flush()

    def global_id_at(self, camera: str, local_id: int, timestamp: float) -> int | None:
        """The manager's global id of ``camera``'s ``local_id`` at ``timestamp``."""
        return self.manager.global_id_at(camera, local_id, timestamp)

    def final_frames(self, camera: str) -> list[FinalFrame]:
        """Every observed frame of ``camera`` with final global ids (call after :meth:`flush`)."""
        self._check_camera(camera)
        out = []
        for ev in self._records[camera]:
            tr = ev.tracks
            final = tr.with_ids(self.manager.final_ids(camera, tr.ids, ev.timestamp))
            out.append(FinalFrame(ev.frame_index, ev.timestamp, final, ev.embeddings))
        return out

    def decisions(self) -> list[LinkDecision]:
        """The manager's link decisions."""
        return list(self.manager.decisions)

    def report(self) -> dict[str, Any]:
        """:class:`ServiceStats` as a dict, plus the watermark and the pending events."""
        out = self.stats.as_dict()
        out["pending"] = len(self._heap)
        return out
