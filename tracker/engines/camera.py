"""One camera's work, self-contained so it can run in its own process: :class:`CameraWorker`.

The worker opens its source, builds its own detector (or reads its public detections) and embedder
from a :class:`ModelSpec` (models cannot travel between processes; their paths can), runs the camera's
own :class:`~tracker.core.tracker.Tracker` in a :class:`~tracker.pipeline.FramePipeline` and, per frame,
sends a :class:`~tracker.engines.identity.TrackletEvent` to an identity service. Tracking is exactly the
local engine's (:class:`~tracker.multicam.MultiCameraTracker.update` without the manager): embeddings
are computed once per detection and handed to the tracker inside the detections; the embedding of the
detection that updated each track goes into the event.

Its per-camera sinks stream as frames complete, with the camera's LOCAL track ids (the global ids are
decided by the service, later): ``<cam>.local.txt`` (MOTChallenge), ``<cam>.local.jsonl`` and, when
asked, ``<cam>.mp4`` (local ids drawn as ``L<id>``). They survive the worker dying.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig
from ..core.tracker import Tracker
from ..io.sources import DEFAULT_FPS, open_source
from ..multicam.setup import CameraSpec
from ..pipeline import (
    STAGES,
    FramePipeline,
    JsonlSink,
    MotTxtSink,
    Sink,
    StageClock,
    StreamInput,
    TimedEmbedder,
    VideoSink,
    run_streams,
)
from ..signals import GracefulStop
from ..types import Detections, Detector, Embedder, Tracks
from .identity import TrackletEvent

__all__ = ["CameraReport", "CameraWorker", "EventSender", "ModelSpec", "peak_rss_mb"]

log = logging.getLogger("tracker")


@dataclass(frozen=True)
class ModelSpec:
    """How a worker builds its models (paths, not sessions: ONNX Runtime sessions do not pickle).

    Attributes:
        detector: ONNX detector path, ``None`` = the embedded one (built only for cameras without
            ``dets``).
        family: detector family for ``detector`` (``"auto"``).
        det_score: detector score threshold, ``None`` = the family's.
        reid: ONNX ReID model path, ``None`` = the embedded one.
        use_reid: ``False``: no embedder (nothing is linked across cameras).
        threads: ONNX Runtime intra-op threads per model (``None`` = its default, one per core).
    """

    detector: str | None = None
    family: str = "auto"
    det_score: float | None = None
    reid: str | None = None
    use_reid: bool = True
    threads: int | None = 1

    def build_detector(self) -> Detector:
        """The detector (``detect(frame uint8[H,W,3] BGR, frame_index) -> Detections``)."""
        if self.detector is None:
            from ..assets import default_detector

            return default_detector(threads=self.threads)
        from ..detect import OnnxDetector

        return OnnxDetector(
            self.detector, family=self.family, score_threshold=self.det_score, threads=self.threads
        )

    def build_embedder(self) -> Embedder | None:
        """The embedder (``embed(image uint8[H,W,3], boxes float32[N,4] xyxy) -> float32[N,D]``) or None."""
        if not self.use_reid:
            return None
        if self.reid is None:
            from ..assets import default_embedder

            return default_embedder(threads=self.threads)
        from ..reid import OnnxEmbedder

        return OnnxEmbedder(self.reid, threads=self.threads)

    def model_name(self) -> str:
        """The embedder's file name as the local engine records it in galleries (``""`` without one)."""
        if not self.use_reid:
            return ""
        if self.reid is None:
            from ..assets import DEFAULT_EMBEDDER

            return DEFAULT_EMBEDDER.name
        return Path(self.reid).name


class EventSender(Protocol):
    """Where a worker's events go (an :class:`~tracker.engines.identity.IdentityService` or a remote
    handle's adapter)."""

    def push(self, events: list[TrackletEvent]) -> object:
        """Take events of one camera, in time order."""
        ...

    def finish(self, camera: str) -> object:
        """The camera sent its last event."""
        ...


@dataclass
class CameraReport:
    """What a worker did (returned by :meth:`CameraWorker.run`).

    Attributes:
        camera: id; source: as given; fps, size: the source's.
        frames, detections: processed; error: the source's mid-stream failure or the worker's, or None.
        stopped: ``"end"`` or ``"max_frames"``.
        stage_seconds: per stage (:data:`~tracker.pipeline.STAGES`); seconds: wall time of the loop.
        peak_rss_mb: the worker process's peak resident memory.
        started_s, ended_s: ``time.time()`` at the start and end of the frame loop.
        cpu_seconds: CPU time (user + system) of the worker's process over the loop.
        outputs: per-camera files it wrote.
    """

    camera: str
    source: str
    fps: float = DEFAULT_FPS
    size: tuple[int, int] | None = None
    frames: int = 0
    detections: int = 0
    error: str | None = None
    stopped: str = "end"
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    started_s: float = 0.0
    ended_s: float = 0.0
    cpu_seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)


def _cpu_seconds() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return float(use.ru_utime + use.ru_stime)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    rss = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


class _EventTracking:
    """Tracking step: the camera's own tracker, then one event per frame to the identity service."""

    def __init__(
        self, camera: str, tracker: Tracker, embedder: Embedder | None, send: Callable[[TrackletEvent], None]
    ) -> None:
        self.camera, self.tracker, self.embedder, self.send = camera, tracker, embedder, send
        self._last: NDArray[np.float32] | None = None

    def update(
        self, dets: Detections, frame: NDArray[np.uint8] | None, frame_index: int, timestamp: float
    ) -> Tracks:
        # one embedding policy with the local engine: the camera's Tracker embeds (its embedder)
        tracks = self.tracker.update(dets, frame)
        used = self.tracker.last_embeddings
        track_emb: NDArray[np.float32] | None = None
        if used is not None and used.ndim == 2 and used.shape[1] > 0 and len(used) == len(dets):
            track_emb = np.zeros((len(tracks), used.shape[1]), np.float32)
            ok = tracks.det_index >= 0
            track_emb[ok] = used[tracks.det_index[ok]]
        self._last = track_emb
        self.send(
            TrackletEvent(
                self.camera, frame_index, float(timestamp), tracks, track_emb, len(dets), time.time()
            )
        )
        return tracks

    @property
    def last_embeddings(self) -> NDArray[np.float32] | None:
        return None  # galleries are built from final global ids at the end

    def labels(self, tracks: Tracks) -> list[str] | None:
        return [f"L{i}" for i in tracks.ids.tolist()]


class CameraWorker:
    """One camera: source -> detect -> embed -> track -> streaming sinks, events to a service.

    Args:
        spec: the camera (source, start time, fps override, optional public detections).
        models: how to build the detector and embedder.
        tracker_config: the per-camera tracker settings.
        out_dir: folder for the per-camera streaming files (must exist).
        service: receives the camera's events (``push``) and its end (``finish``).
        write_video: also write ``<cam>.mp4`` (local ids).
        batch_frames: events sent per ``push`` (1: every frame at once; more: fewer calls, a later
            watermark).
    """

    def __init__(
        self,
        spec: CameraSpec,
        models: ModelSpec,
        tracker_config: TrackerConfig,
        out_dir: str | Path,
        service: EventSender,
        *,
        write_video: bool = False,
        batch_frames: int = 1,
    ) -> None:
        if batch_frames < 1:
            raise ValueError(f"batch_frames must be >= 1, got {batch_frames}")
        self.spec, self.models, self.config = spec, models, tracker_config
        self.out = Path(out_dir)
        self.service = service
        self.write_video = write_video
        self.batch_frames = batch_frames
        self._batch: list[TrackletEvent] = []
        self.frames_done = 0
        self.stop = GracefulStop()
        """Request a stop (another thread, a signal handler): the frame in hand is finished first."""

    def _send(self, event: TrackletEvent) -> None:
        self._batch.append(event)
        self.frames_done = event.frame_index
        if len(self._batch) >= self.batch_frames:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self.service.push(batch)

    def run(self, max_frames: int | None = None) -> CameraReport:
        """Process the camera to its end (or ``max_frames``); always tells the service it finished.

        Raises:
            FileNotFoundError, ValueError: the source, ``dets`` file or a model cannot be opened.
        """
        spec = self.spec
        report = CameraReport(spec.id, spec.source)
        clock = StageClock()
        pipeline: FramePipeline | None = None
        try:
            with open_source(spec.source, fps=spec.fps) as src:
                fps = src.fps if src.fps is not None else DEFAULT_FPS
                report.fps, report.size = fps, src.size
                det: Detector
                if spec.dets is not None:
                    from ..detect import MotFileDetector

                    det = MotFileDetector(spec.dets)
                else:
                    det = self.models.build_detector()
                inner = self.models.build_embedder()
                timed = TimedEmbedder(inner) if inner is not None else None
                tracker = Tracker(self.config, frame_rate=fps, embedder=timed)
                sinks: list[Sink] = [
                    MotTxtSink(self.out / f"{spec.id}.local.txt"),
                    JsonlSink(self.out / f"{spec.id}.local.jsonl"),
                ]
                report.outputs[f"{spec.id}.local.txt"] = str(self.out / f"{spec.id}.local.txt")
                report.outputs[f"{spec.id}.local.jsonl"] = str(self.out / f"{spec.id}.local.jsonl")
                if self.write_video:
                    sinks.append(VideoSink(self.out / f"{spec.id}.mp4", fps, src.size))
                    report.outputs[f"{spec.id}.mp4"] = str(self.out / f"{spec.id}.mp4")
                step = _EventTracking(spec.id, tracker, timed, self._send)
                pipeline = FramePipeline(spec.id, det, step, sinks, clock=clock, embedder=timed)
                stream = StreamInput(pipeline, iter(src), fps, spec.start_s)
                report.started_s, cpu0 = time.time(), _cpu_seconds()
                end = run_streams([stream], stop=self.stop, max_frames=max_frames)
                report.ended_s, report.cpu_seconds = time.time(), _cpu_seconds() - cpu0
                report.stopped, report.seconds = end.stopped, end.seconds
                if src.error is not None:
                    report.error = src.error
        finally:
            try:
                if pipeline is not None:
                    pipeline.close()
                    report.frames, report.detections = pipeline.frames, pipeline.detections
                self._flush_batch()
            finally:
                self.service.finish(spec.id)
            report.stage_seconds = dict(clock.seconds)
            report.peak_rss_mb = round(peak_rss_mb(), 1)
        return report

    def progress(self) -> dict[str, Any]:
        """Frames done so far and the peak memory (for monitoring a running worker)."""
        return {"camera": self.spec.id, "frames": self.frames_done, "peak_rss_mb": round(peak_rss_mb(), 1)}
