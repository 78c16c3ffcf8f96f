"""``python -m tracker run``: track a video, image folder, webcam or stream and write the results.

Per frame: decode (the source) -> ``detector.detect(frame, i)`` -> ``tracker.update(dets, frame=frame,
frame_index=i)`` (which embeds the boxes when the config enables appearance and an embedder is given)
-> write. Outputs in ``OUT/``, named after the source (:attr:`FrameSource.name`):

* ``<name>.txt``: MOTChallenge results ``frame,id,x,y,w,h,score,-1,-1,-1`` (:class:`ResultsWriter`);
* ``<name>.jsonl``: one JSON object per frame (:class:`~tracker.io.writers.JsonlWriter`);
* ``<name>.mp4``: the annotated video (boxes, ids, trails), unless ``write_video=False``;
* ``<name>_summary.json``: :meth:`RunSummary.as_dict`;
* ``<name>.tracks.npz``: the per-track appearance gallery for ``python -m tracker search``
  (:class:`~tracker.reid.gallery.Gallery`), when an embedder was used.

Every output is written as frames complete (the text files are flushed at least every second), so
memory stays flat on an endless source. A source that fails mid-stream (a corrupt frame) ends the run
cleanly: :attr:`RunSummary.error` says which frame failed. SIGINT, SIGTERM and SIGHUP finish the
current frame, close every output (the video is finalised and playable) and write the summary with
``stopped = "signal"``; a second signal stops at once, still closing every file. Any other exception
closes the outputs and writes the summary (``stopped = "error"``) before it propagates.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig, load_config
from ..core.tracker import Tracker
from ..io.atomic import write_text_atomic
from ..io.sources import DEFAULT_FPS, FrameSource, open_source
from ..io.threads import Prefetch
from ..pipeline import (
    STAGES,
    FramePipeline,
    GallerySink,
    JsonlSink,
    MotTxtSink,
    Progress,
    RosTracksSink,
    SingleCamera,
    Sink,
    StageClock,
    StreamInput,
    TimedEmbedder,
    UserStop,
    VideoSink,
    WindowSink,
    check_output_file,
    model_name,
    output_folder,
    run_streams,
)
from ..signals import GracefulStop, StopNow, stop_guard
from ..types import Detector, Embedder

__all__ = ["STAGES", "RunSummary", "display_available", "run_video"]

log = logging.getLogger("tracker")


@dataclass
class RunSummary:
    """What a :func:`run_video` run did.

    Attributes:
        source: the source specification.
        name: stem of the output files.
        frames: frames processed (decoded, detected, tracked and written).
        detections: detections over all frames.
        unique_tracks: distinct track ids reported.
        frame_rate: frames/s given to the tracker and the video writer (the source's, or 30).
        source_fps: the source's own frame rate, ``None`` if it has none.
        size: ``(width, height)`` of the frames.
        config: tracker preset name.
        stage_seconds: seconds spent per stage (:data:`STAGES`).
        total_seconds: wall time of the frame loop and the final writes (no setup, no model loading).
        stopped: ``"end"`` (source exhausted), ``"max_frames"``, ``"user"`` (``q`` in the window),
            ``"signal"`` (SIGINT/SIGTERM/SIGHUP, see :attr:`signal`) or ``"error"`` (the source failed
            mid-stream, or an exception ended the run).
        signal: the signal that stopped the run (``"SIGTERM"``), or ``None``.
        error: the source's error (frame number and path) or the exception, or ``None``.
        outputs: ``{"mot": ..., "jsonl": ..., "video": ..., "summary": ...}`` paths written.
    """

    source: str
    name: str
    frames: int = 0
    detections: int = 0
    unique_tracks: int = 0
    frame_rate: float = DEFAULT_FPS
    source_fps: float | None = None
    size: tuple[int, int] | None = None
    config: str = "default"
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    total_seconds: float = 0.0
    stopped: str = "end"
    signal: str | None = None
    error: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> float | None:
        """End-to-end frames per second (``None`` before any time was measured)."""
        return self.frames / self.total_seconds if self.total_seconds > 0 else None

    @property
    def stage_fps(self) -> dict[str, float | None]:
        """Frames per second each stage alone would allow (``None`` for a stage that took no time)."""
        return {k: (self.frames / s if s > 0 else None) for k, s in self.stage_seconds.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "frames": self.frames,
            "detections": self.detections,
            "unique_tracks": self.unique_tracks,
            "frame_rate": self.frame_rate,
            "source_fps": self.source_fps,
            "size": list(self.size) if self.size else None,
            "config": self.config,
            "stopped": self.stopped,
            "signal": self.signal,
            "error": self.error,
            "total_seconds": round(self.total_seconds, 4),
            "fps": None if self.fps is None else round(self.fps, 2),
            "stages": {
                k: {"seconds": round(s, 4), "fps": None if f is None else round(f, 2)}
                for (k, s), f in zip(self.stage_seconds.items(), self.stage_fps.values(), strict=True)
            },
            "outputs": dict(self.outputs),
        }

    def format(self) -> str:
        """A readable text block: counts, per-stage time and frames/s, outputs, error."""
        size = f"{self.size[0]}x{self.size[1]}" if self.size else "?"
        fps_src = f"{self.source_fps:g}" if self.source_fps else f"unknown, using {self.frame_rate:g}"
        lines = [
            f"source   {self.source}  ({size}, {fps_src} fps)",
            f"config   {self.config}",
            f"frames   {self.frames}  detections {self.detections}  tracks {self.unique_tracks}  "
            f"stopped: {self.stopped}" + (f" ({self.signal})" if self.signal else ""),
            f"{'stage':<8} {'seconds':>9} {'ms/frame':>9} {'frames/s':>9}",
        ]
        stage_fps = self.stage_fps
        for k, s in self.stage_seconds.items():
            ms = 1000 * s / self.frames if self.frames else 0.0
            f = stage_fps[k]
            lines.append(f"{k:<8} {s:9.3f} {ms:9.2f} {'-' if f is None else f'{f:.1f}':>9}")
        total_ms = 1000 * self.total_seconds / self.frames if self.frames else 0.0
        fps = "-" if self.fps is None else f"{self.fps:.1f}"
        lines.append(f"{'total':<8} {self.total_seconds:9.3f} {total_ms:9.2f} {fps:>9}")
        for key, path in self.outputs.items():
            lines.append(f"{key:<8} {path}")
        if self.error:
            lines.append(f"error    {self.error}")
        return "\n".join(lines)


def _has_highgui() -> bool:
    """Whether this OpenCV build has a GUI backend (headless wheels report ``GUI: NONE``)."""
    if not callable(getattr(cv2, "imshow", None)):
        return False
    try:
        info = cv2.getBuildInformation()
    except cv2.error:
        return True
    for line in info.splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip().upper() not in ("NONE", "NO", "")
    return True


_PROBE = "import cv2, numpy; cv2.imshow('probe', numpy.zeros((8, 8, 3), numpy.uint8)); cv2.waitKey(1)"


def display_available(probe: bool = True) -> tuple[bool, str]:
    """``(True, "")`` if frames can be shown with ``cv2.imshow``, else ``(False, reason)``.

    On Linux a display needs ``DISPLAY`` or ``WAYLAND_DISPLAY``; everywhere OpenCV needs a GUI backend.
    With ``probe`` (Linux only) a child process opens a window first: OpenCV's Qt backend aborts the
    whole process, uncatchably, when the display named in ``DISPLAY`` cannot be reached.
    """
    linux = sys.platform.startswith("linux")
    if linux and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    if not _has_highgui():
        return False, "this OpenCV build has no GUI support (headless)"
    if probe and linux:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PROBE], capture_output=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"cannot open a window ({exc})"
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            return False, f"cannot open a window ({err[0] if err else f'exit status {done.returncode}'})"
    return True, ""


class _Window:
    """A cv2.imshow window; disables itself (with a warning) if showing fails."""

    def __init__(self, title: str) -> None:
        self.title = title
        ok, why = display_available()
        self.enabled = ok
        if not ok:
            log.warning("--show: %s; continuing without a window", why)

    def show(self, image: NDArray[np.uint8]) -> bool:
        """Show ``image``; True if the user asked to quit (``q`` or Esc)."""
        if not self.enabled:
            return False
        try:
            cv2.imshow(self.title, image)
            key = cv2.waitKey(1) & 0xFF
        except cv2.error as exc:
            log.warning("--show: cannot display frames (%s); continuing without a window", exc)
            self.enabled = False
            return False
        return key in (ord("q"), ord("Q"), 27)

    def close(self) -> None:
        if self.enabled:
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass


def _write_summary(path: Path, summary: RunSummary) -> None:
    write_text_atomic(path, json.dumps(summary.as_dict(), indent=2) + "\n")  # never half a summary


def run_video(
    source: str | int | os.PathLike[str] | FrameSource,
    detector: Detector,
    tracker_config: str | Path | TrackerConfig = "default",
    embedder: Embedder | None = None,
    out_dir: str | Path = "out/run",
    write_video: bool = True,
    show: bool = False,
    progress: bool = True,
    max_frames: int | None = None,
    *,
    extra_sinks: Sequence[Sink] = (),
    stop: GracefulStop | None = None,
    topic: str | None = None,
    ros_out: bool = False,
    overlap: bool = False,
    fps: float | None = None,
) -> RunSummary:
    """Detect and track every frame of ``source`` and write the results as frames complete.

    Args:
        source: anything :func:`~tracker.io.sources.open_source` accepts (video path, image folder or
            glob, webcam index, URL), or an open :class:`FrameSource` (not closed here).
        detector: a :class:`~tracker.types.Detector` (``detect(frame uint8[H,W,3] BGR, frame_index)``
            -> :class:`~tracker.types.Detections`).
        tracker_config: preset name, YAML path or :class:`~tracker.config.TrackerConfig`.
        embedder: optional appearance model (``embed(image, boxes)``), used when the config enables
            appearance and the detections carry no embeddings.
        out_dir: output folder (created).
        write_video: write the annotated ``<name>.mp4``.
        show: show annotated frames in a window when a display is available (``q`` or Esc quits);
            otherwise log a warning and go on without.
        progress: progress on stderr (a bar with ETA on a terminal, else a log line every few seconds).
        max_frames: stop after this many frames.
        extra_sinks: more sinks that receive every frame (closed at the end, like the others).
        stop: the :class:`~tracker.signals.GracefulStop` to obey; by default one is installed for the
            run (SIGINT/SIGTERM/SIGHUP finish the frame, then stop).
        topic: image topic when ``source`` is a ROS 2 bag (default: its only image topic).
        ros_out: also write ``<name>_tracks.mcap``: ROS 2 ``vision_msgs/Detection2DArray`` messages
            (needs the ``ros`` extra).
        overlap: decode the next frames and encode the annotated video in two background threads
            while the models run (:mod:`tracker.io.threads`; the ``decode`` and ``write`` stages
            then book only the time the loop waited for them). Off by default: measured on 2 cores
            (vtest.avi) it is 8-11 % faster when the models leave a core free (``threads=1``) and
            2-6 % slower when they use both (the default), where it takes time from ONNX Runtime.
        fps: the frame rate to assume instead of the source's own (a source that does not know it, or
            reports a wrong one); not with an already open ``source``.

    Returns:
        A :class:`RunSummary` (also written to ``<name>_summary.json``); after a signal its
        ``stopped`` is ``"signal"``.

    Raises:
        FileNotFoundError, ValueError: the source cannot be opened (see :func:`open_source`), an output
            path is not usable, or the video writer cannot be opened.
        TypeError: ``detector`` has no ``detect`` method or returns something other than
            :class:`~tracker.types.Detections`.
    """
    if not callable(getattr(detector, "detect", None)):
        raise TypeError(
            f"detector must have a detect(frame, frame_index) method, got {type(detector).__name__}"
        )
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    cfg = tracker_config if isinstance(tracker_config, TrackerConfig) else load_config(tracker_config)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: --out exists and is not a folder")
    args = (detector, cfg, embedder, out, write_video, show, progress, max_frames, list(extra_sinks))
    if isinstance(source, FrameSource):
        if fps is not None:
            raise ValueError("fps: give it to open_source() for an already open source")
        return _run(source, *args, stop=stop, ros_out=ros_out, overlap=overlap)
    with open_source(source, topic=topic, fps=fps) as src:
        return _run(src, *args, stop=stop, ros_out=ros_out, overlap=overlap)


def _run(
    src: FrameSource,
    detector: Detector,
    cfg: TrackerConfig,
    embedder: Embedder | None,
    out: Path,
    write_video: bool,
    show: bool,
    progress: bool,
    max_frames: int | None,
    extra_sinks: list[Sink],
    *,
    stop: GracefulStop | None,
    ros_out: bool = False,
    overlap: bool = False,
) -> RunSummary:
    frame_rate = src.fps if src.fps is not None else DEFAULT_FPS
    if src.fps is None:
        log.info("%s: frame rate unknown, using %g frames/s", src.spec, DEFAULT_FPS)
    timed = TimedEmbedder(embedder) if embedder is not None else None
    if embedder is not None and not cfg.appearance.enabled:
        log.warning("config %s has appearance disabled: the embedder is not used", cfg.name)
    tracker = Tracker(cfg, frame_rate=frame_rate, embedder=timed)
    output_folder(out)
    paths = {
        "mot": out / f"{src.name}.txt",
        "jsonl": out / f"{src.name}.jsonl",
        "video": out / f"{src.name}.mp4",
        "summary": out / f"{src.name}_summary.json",
    }
    if not write_video:
        del paths["video"]
    if ros_out:
        paths["ros"] = out / f"{src.name}_tracks.mcap"
    summary = RunSummary(
        source=src.spec,
        name=src.name,
        frame_rate=frame_rate,
        source_fps=src.fps,
        size=src.size,
        config=cfg.name,
        outputs={k: str(p) for k, p in paths.items()},
    )
    # every output checked before any is opened: a folder in the way of the video left empty results
    # files behind, and the summary (and the bag, renamed into place) are written after the last frame
    for path in [*paths.values(), out / f"{src.name}.tracks.npz"]:
        check_output_file(path)
    user_stop = UserStop()
    sinks: list[Sink] = []
    try:
        sinks.append(MotTxtSink(paths["mot"]))
        sinks.append(JsonlSink(paths["jsonl"]))
        if write_video:
            sinks.append(VideoSink(paths["video"], frame_rate, src.size, background=overlap))
        gallery = GallerySink(
            out / f"{src.name}.tracks.npz", src.name, source=src.spec, model=model_name(embedder)
        )
        sinks.append(gallery)
        if ros_out:
            sinks.append(RosTracksSink(paths["ros"], src, frame_rate))
        if show:
            sinks.append(WindowSink(src.name, _Window(f"tracker: {src.name}"), user_stop))
        sinks.extend(extra_sinks)
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    clock = StageClock()
    pipeline = FramePipeline(src.name, detector, SingleCamera(tracker), sinks, clock=clock, embedder=timed)
    total = src.frame_count if max_frames is None else min(max_frames, src.frame_count or max_frames)
    bar = Progress(total, src.name, enabled=progress)
    start = clock.now()
    frames: Iterator[tuple[int, NDArray[np.uint8] | None]] = iter(src)
    ahead = Prefetch(frames, depth=2) if overlap else None
    with stop_guard(stop) as guard:
        try:
            end = run_streams(
                [StreamInput(pipeline, ahead if ahead is not None else frames, frame_rate)],
                stop=guard,
                max_frames=max_frames,
                progress=bar,
                user_stop=user_stop,
            )
            summary.stopped, summary.signal = end.stopped, end.signal
        except StopNow as now:
            summary.stopped, summary.signal = "signal", now.args[0]
        except BaseException as exc:
            summary.stopped, summary.error = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            bar.close()
            try:
                if ahead is not None:
                    ahead.close()  # joins the decode thread before the source is closed
                pipeline.close()
            finally:
                _finish(summary, src, pipeline, gallery, clock, start, paths["summary"])
    return summary


def _finish(
    summary: RunSummary,
    src: FrameSource,
    pipeline: FramePipeline,
    gallery: GallerySink,
    clock: StageClock,
    start: float,
    summary_path: Path,
) -> None:
    summary.frames = pipeline.frames
    summary.detections = pipeline.detections
    summary.unique_tracks = len(pipeline.track_ids)
    summary.stage_seconds = dict(clock.seconds)
    summary.total_seconds = clock.now() - start
    if gallery.saved is not None:
        summary.outputs["gallery"] = str(gallery.saved)
    if src.error is not None and summary.stopped in ("end", "max_frames"):
        summary.error = src.error
        summary.stopped = "error"
    _write_summary(summary_path, summary)
    if summary.error and summary.error != src.error:  # (the source logged its own failure already)
        log.warning("%s: %s", src.spec, summary.error)
