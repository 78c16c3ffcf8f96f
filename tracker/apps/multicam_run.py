"""``python -m tracker run camA.mp4 camB.mp4 ...`` or ``run cameras.yaml``: several cameras, global ids.

One detector (shared), one embedder (shared), one :class:`~tracker.multicam.MultiCameraTracker` (one
tracker per camera plus the cross-camera identity manager). Frames are taken from the cameras in the
order of their timestamps on a common clock: camera ``c``'s frame ``i`` (1-based) is at
``start_s[c] + (i - 1) / fps[c]`` seconds (files are synchronised by their start offsets; the default
offset is 0, i.e. all files start together).

Outputs in ``OUT/``, per camera ``c`` (files named after the camera id):

* ``<c>.txt``: MOTChallenge results whose ids are the FINAL global ids (the same person has the same
  id in every camera's file);
* ``<c>.jsonl``: one JSON object per frame, final global ids;
* ``<c>.mp4``: the annotated video (written online: an id shown while provisional may still change
  once; provisional ids are drawn with a trailing ``?``), unless ``write_video=False``;
* ``<c>.tracks.npz``: the per-track appearance gallery for ``python -m tracker search``
  (:class:`~tracker.reid.gallery.Gallery`, track id = global id);

and ``global_ids.json`` (every ``(camera, local id, segment start) -> global id`` and each link
decision) and ``multicam_summary.json``.

The camera list YAML is read by :func:`tracker.multicam.setup.load_camera_setup` (its docstring shows
the format).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig, load_config
from ..io.atomic import write_text_atomic
from ..io.sources import DEFAULT_FPS, FrameSource, open_source
from ..multicam.multi_tracker import GlobalTracks, MultiCameraTracker
from ..multicam.setup import CameraSetup, CameraSpec, load_camera_setup, setup_from_sources
from ..pipeline import (
    STAGES,
    CameraOfMany,
    FramePipeline,
    FrameResult,
    Progress,
    Sink,
    StageClock,
    StreamInput,
    TimedEmbedder,
    VideoSink,
    check_output_file,
    model_name,
    output_folder,
    run_streams,
)
from ..pipeline.final_outputs import (
    GLOBAL_IDS_NAME,
    camera_output_paths,
    write_camera_outputs,
    write_global_ids,
)
from ..signals import GracefulStop, StopNow, stop_guard
from ..types import Detector, Embedder, Tracks

__all__ = [
    "CameraSetup",
    "CameraSpec",
    "MultiRunSummary",
    "load_camera_setup",
    "run_cameras",
    "setup_from_sources",
]

log = logging.getLogger("tracker")

SUMMARY_NAME = "multicam_summary.json"
"""The run's summary, written last in the output folder."""


@dataclass
class CameraStats:
    """Per-camera counts of a multi-camera run."""

    source: str
    frames: int = 0
    detections: int = 0
    fps: float = DEFAULT_FPS
    size: tuple[int, int] | None = None
    error: str | None = None
    global_ids: int = 0


@dataclass
class MultiRunSummary:
    """What :func:`run_cameras` did.

    Attributes:
        cameras: camera id -> :class:`CameraStats`.
        global_ids: distinct final global ids over all cameras.
        links: cross-camera (and re-acquisition) links decided by the identity manager.
        stage_seconds: seconds per stage (:data:`~tracker.pipeline.STAGES`).
        stopped: ``"end"``, ``"max_frames"`` or ``"signal"`` (:attr:`signal` names it).
        total_seconds: wall time of the frame loop and the final writes.
        outputs: file paths written.
    """

    cameras: dict[str, CameraStats] = field(default_factory=dict)
    global_ids: int = 0
    links: int = 0
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    total_seconds: float = 0.0
    stopped: str = "end"
    signal: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    linking: dict[str, Any] = field(default_factory=dict)
    """The identity manager's summary: learned (calibrated) linking thresholds and their statistics."""

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.cameras.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "cameras": {
                k: {
                    "source": c.source,
                    "frames": c.frames,
                    "detections": c.detections,
                    "fps": c.fps,
                    "size": list(c.size) if c.size else None,
                    "global_ids": c.global_ids,
                    "error": c.error,
                }
                for k, c in self.cameras.items()
            },
            "global_ids": self.global_ids,
            "links": self.links,
            "frames": self.frames,
            "stopped": self.stopped,
            "signal": self.signal,
            "total_seconds": round(self.total_seconds, 4),
            "frames_per_second": round(self.frames / self.total_seconds, 2)
            if self.total_seconds > 0
            else None,
            "stages": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "linking": self.linking,
            "outputs": dict(self.outputs),
        }

    def format(self) -> str:
        lines = [f"{'camera':<16} {'frames':>7} {'dets':>7} {'ids':>5}  source"]
        for k, c in self.cameras.items():
            lines.append(f"{k:<16} {c.frames:>7} {c.detections:>7} {c.global_ids:>5}  {c.source}")
            if c.error:
                lines.append(f"{'':<16} error: {c.error}")
        fps = self.frames / self.total_seconds if self.total_seconds > 0 else 0.0
        lines.append(
            f"global ids {self.global_ids}  links {self.links}  frames {self.frames} in "
            f"{self.total_seconds:.1f} s ({fps:.1f} frames/s over all cameras)  stopped: {self.stopped}"
        )
        lines.append("stages   " + "  ".join(f"{k} {v:.2f} s" for k, v in self.stage_seconds.items()))
        for key, p in self.outputs.items():
            lines.append(f"{key:<8} {p}")
        return "\n".join(lines)


class _Records:
    """Keeps each frame's global tracks of one camera, for the final-id outputs written at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, GlobalTracks]] = []

    def write(self, result: FrameResult) -> None:
        assert isinstance(result.tracks, GlobalTracks)
        self.rows.append((result.frame_index, result.timestamp, result.tracks))

    def close(self) -> None:
        pass


@dataclass
class _Cam:
    spec: CameraSpec
    src: FrameSource
    fps: float
    pipeline: FramePipeline
    records: _Records


def run_cameras(
    setup: CameraSetup | Sequence[str] | str | Path,
    detector: Detector | None,
    tracker_config: str | Path | TrackerConfig = "default",
    embedder: Embedder | None = None,
    out_dir: str | Path = "out/run",
    write_video: bool = True,
    progress: bool = True,
    max_frames: int | None = None,
    *,
    stop: GracefulStop | None = None,
) -> MultiRunSummary:
    """Track several cameras with global identities and write per-camera outputs.

    Args:
        setup: a :class:`CameraSetup`, a camera list YAML path, or a list of sources.
        detector: shared detector (``detect(frame uint8[H,W,3] BGR, frame_index) -> Detections``);
            may be ``None`` only if every camera has ``dets``.
        tracker_config: per-camera tracker preset name, YAML path or config.
        embedder: appearance model (``embed(image, boxes)``); without one nothing is linked across
            cameras (a warning says so).
        out_dir: output folder (created).
        write_video: write ``<camera>.mp4`` annotated videos.
        progress: progress over all cameras' frames (a bar on a terminal, else log lines).
        max_frames: stop each camera after this many frames.
        stop: the :class:`~tracker.signals.GracefulStop` to obey (default: one installed for the run).
            After a signal every output is still written, with the frames processed so far.

    Returns:
        :class:`MultiRunSummary` (also written to ``multicam_summary.json``).

    Raises:
        FileNotFoundError, ValueError: a source or a ``dets`` file cannot be opened, or a bad setup.
    """
    if isinstance(setup, (str, Path)):
        setup = load_camera_setup(setup)
    elif not isinstance(setup, CameraSetup):
        setup = setup_from_sources(list(setup))
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    cfg = tracker_config if isinstance(tracker_config, TrackerConfig) else load_config(tracker_config)
    if embedder is None:
        log.warning("no embedder: tracks are not linked across cameras (each keeps its own global id)")
    out = output_folder(out_dir)
    # every file is written at the end: a folder in the way must stop the run before its first frame
    ends = [out / GLOBAL_IDS_NAME, out / SUMMARY_NAME]
    for spec in setup.cameras:
        ends += camera_output_paths(out, spec.id)
        if write_video:
            ends.append(out / f"{spec.id}.mp4")
    for path in ends:
        check_output_file(path)
    summary = MultiRunSummary()
    clock = StageClock()
    timed = TimedEmbedder(embedder) if embedder is not None else None
    with ExitStack() as stack:
        opened: list[tuple[CameraSpec, FrameSource, float, Detector]] = []
        for spec in setup.cameras:
            src = stack.enter_context(open_source(spec.source, fps=spec.fps))
            fps = src.fps if src.fps is not None else DEFAULT_FPS
            det: Detector
            if spec.dets is not None:
                from ..detect import MotFileDetector

                det = MotFileDetector(spec.dets)
            elif detector is None:
                raise ValueError(f"camera {spec.id!r}: no detector and no 'dets' file")
            else:
                det = detector
            opened.append((spec, src, fps, det))
            summary.cameras[spec.id] = CameraStats(spec.source, fps=fps, size=src.size)
        mct = MultiCameraTracker(
            [spec.id for spec, *_ in opened],
            # the final-id files are written at the end from every frame kept here, so the manager
            # must remember every decision of the run (history_s bounds memory for live services)
            replace(setup.linking, history_s=None),
            tracker_config=cfg,
            frame_rate={spec.id: fps for spec, _, fps, _ in opened},
            embedder=timed,
        )
        cams: list[_Cam] = []
        for spec, src, fps, det in opened:
            records = _Records()
            sinks: list[Sink] = [records]
            if write_video:
                video = VideoSink(out / f"{spec.id}.mp4", fps, src.size)
                stack.callback(video.close)
                sinks.append(video)
            pipeline = FramePipeline(
                spec.id, det, CameraOfMany(mct, spec.id), sinks, clock=clock, embedder=timed
            )
            cams.append(_Cam(spec, src, fps, pipeline, records))
        counts = [c.src.frame_count for c in cams]
        total = None
        if all(n is not None for n in counts):
            total = sum(min(n, max_frames) if max_frames else n for n in counts if n is not None)
        bar = Progress(total, "cameras", enabled=progress)
        streams = [StreamInput(c.pipeline, iter(c.src), c.fps, c.spec.start_s) for c in cams]
        start = clock.now()
        with stop_guard(stop) as guard:
            try:
                end = run_streams(streams, stop=guard, max_frames=max_frames, progress=bar)
                summary.stopped, summary.signal = end.stopped, end.signal
            except StopNow as now:
                summary.stopped, summary.signal = "signal", now.args[0]
            finally:
                bar.close()
                for c in cams:
                    c.pipeline.close()
                    stats = summary.cameras[c.spec.id]
                    stats.frames, stats.detections = c.pipeline.frames, c.pipeline.detections
                    if c.src.error is not None:
                        stats.error = c.src.error
                t_w = clock.now()
                mct.flush()
                summary.outputs.update(_write_outputs(out, cams, mct, model_name(embedder)))
                clock.add("write", clock.now() - t_w)
                summary.stage_seconds = dict(clock.seconds)
                summary.total_seconds = clock.now() - start
    all_ids: set[int] = set()
    for c in cams:
        ids = {
            int(g) for _, ts, tr in c.records.rows for g in mct.manager.final_ids(c.spec.id, tr.local_ids, ts)
        }
        summary.cameras[c.spec.id].global_ids = len(ids)
        all_ids |= ids
    summary.global_ids = len(all_ids)
    summary.links = sum(d.linked_from is not None for d in mct.manager.decisions)
    summary.linking = mct.summary()
    path = out / SUMMARY_NAME
    summary.outputs["summary"] = str(path)
    write_text_atomic(path, json.dumps(summary.as_dict(), indent=2) + "\n")
    return summary


@dataclass(frozen=True)
class _Final:
    frame_index: int
    tracks: Tracks
    embeddings: NDArray[np.float32] | None


def _write_outputs(out: Path, cams: list[_Cam], mct: MultiCameraTracker, model: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for c in cams:
        cid = c.spec.id
        frames = (
            _Final(index, tr.with_ids(mct.manager.final_ids(cid, tr.local_ids, ts)), tr.embeddings)
            for index, ts, tr in c.records.rows
        )
        outputs.update(write_camera_outputs(out, cid, c.spec.source, frames, model))
        if any(isinstance(k, VideoSink) for k in c.pipeline.sinks):
            outputs[f"{cid}.mp4"] = str(out / f"{cid}.mp4")
    outputs["global_ids"] = write_global_ids(out, mct.manager.decisions)
    return outputs
