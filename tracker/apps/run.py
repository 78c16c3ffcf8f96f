"""``python -m tracker run``: track a video, image folder, webcam or stream and write the results.

Per frame: decode (the source) -> ``detector.detect(frame, i)`` -> ``tracker.update(dets, frame=frame,
frame_index=i)`` (which embeds the boxes when the config enables appearance and an embedder is given)
-> write. Outputs in ``OUT/``, named after the source (:attr:`FrameSource.name`):

* ``<name>.txt``: MOTChallenge results ``frame,id,x,y,w,h,score,-1,-1,-1`` (:class:`ResultsWriter`);
* ``<name>.jsonl``: one JSON object per frame (:class:`~tracker.io.writers.JsonlWriter`);
* ``<name>.mp4``: the annotated video (boxes, ids, trails), unless ``write_video=False``;
* ``<name>_summary.json``: :meth:`RunSummary.as_dict`;
* ``<name>.tracks.npz``: the per-track appearance gallery for ``python -m tracker search``
  (:class:`~tracker.multicam.search.Gallery`), when an embedder was used.

A source that fails mid-stream (a corrupt frame) ends the run cleanly: everything tracked so far is
written, and :attr:`RunSummary.error` says which frame failed. Ctrl-C does the same (``stopped =
"interrupted"``); any other exception still writes the partial results and the other files before it
propagates.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from ..config import TrackerConfig, load_config
from ..core.tracker import Tracker
from ..io.mot import ResultsWriter
from ..io.sources import DEFAULT_FPS, FrameSource, open_source
from ..io.writers import AnnotatedVideoWriter, JsonlWriter
from ..reid.gallery import GalleryBuilder
from ..types import Detections, Detector
from ..viz.draw import TrailBuffer, draw_tracks

__all__ = ["STAGES", "RunSummary", "display_available", "run_video"]

log = logging.getLogger("tracker")

STAGES = ("decode", "detect", "embed", "track", "write")
"""Timed stages. ``track`` excludes the time spent in the embedder (``embed``); ``write`` includes the
MOT/JSONL records, drawing, video encoding and display."""


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
            ``"interrupted"`` (Ctrl-C) or ``"error"`` (the source failed mid-stream).
        error: the source's error (frame number and path), or ``None``.
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
            f"stopped: {self.stopped}",
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


class _TimedEmbedder:
    """Wraps an embedder and adds the time spent in ``embed`` to :attr:`seconds`."""

    def __init__(self, inner: object) -> None:
        if not callable(getattr(inner, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        self.inner = inner
        self.seconds = 0.0

    @property
    def dim(self) -> int:
        return int(getattr(self.inner, "dim"))  # noqa: B009 (not every embedder declares it)

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        start = time.perf_counter()
        try:
            return self.inner.embed(image, boxes)  # type: ignore[attr-defined]
        finally:
            self.seconds += time.perf_counter() - start


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
    path.write_text(json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8")


def run_video(
    source: str | int | os.PathLike[str] | FrameSource,
    detector: Detector,
    tracker_config: str | Path | TrackerConfig = "default",
    embedder: object | None = None,
    out_dir: str | Path = "out/run",
    write_video: bool = True,
    show: bool = False,
    progress: bool = True,
    max_frames: int | None = None,
) -> RunSummary:
    """Detect and track every frame of ``source`` and write the results.

    Args:
        source: anything :func:`~tracker.io.sources.open_source` accepts (video path, image folder or
            glob, webcam index, URL), or an open :class:`FrameSource` (not closed here).
        detector: a :class:`~tracker.detect.Detector` (``detect(frame uint8[H,W,3] BGR, frame_index)``
            -> :class:`~tracker.types.Detections`).
        tracker_config: preset name, YAML path or :class:`~tracker.config.TrackerConfig`.
        embedder: optional appearance model (``embed(image, boxes)``), used when the config enables
            appearance and the detections carry no embeddings.
        out_dir: output folder (created).
        write_video: write the annotated ``<name>.mp4``.
        show: show annotated frames in a window when a display is available (``q`` or Esc quits);
            otherwise log a warning and go on without.
        progress: tqdm progress bar on stderr (with ETA when the frame count is known).
        max_frames: stop after this many frames.

    Returns:
        A :class:`RunSummary` (also written to ``<name>_summary.json``).

    Raises:
        FileNotFoundError, ValueError: the source cannot be opened (see :func:`open_source`), or the
            video writer cannot be opened.
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
    if isinstance(source, FrameSource):
        return _run(source, detector, cfg, embedder, Path(out_dir), write_video, show, progress, max_frames)
    with open_source(source) as src:
        return _run(src, detector, cfg, embedder, Path(out_dir), write_video, show, progress, max_frames)


def _run(
    src: FrameSource,
    detector: Detector,
    cfg: TrackerConfig,
    embedder: object | None,
    out: Path,
    write_video: bool,
    show: bool,
    progress: bool,
    max_frames: int | None,
) -> RunSummary:
    frame_rate = src.fps if src.fps is not None else DEFAULT_FPS
    if src.fps is None:
        log.info("%s: frame rate unknown, using %g frames/s", src.spec, DEFAULT_FPS)
    timed = _TimedEmbedder(embedder) if embedder is not None else None
    if embedder is not None and not cfg.appearance.enabled:
        log.warning("config %s has appearance disabled: the embedder is not used", cfg.name)
    tracker = Tracker(cfg, frame_rate=frame_rate, embedder=timed)

    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "mot": out / f"{src.name}.txt",
        "jsonl": out / f"{src.name}.jsonl",
        "video": out / f"{src.name}.mp4",
        "summary": out / f"{src.name}_summary.json",
    }
    if not write_video:
        del paths["video"]
    summary = RunSummary(
        source=src.spec,
        name=src.name,
        frame_rate=frame_rate,
        source_fps=src.fps,
        size=src.size,
        config=cfg.name,
        outputs={k: str(p) for k, p in paths.items()},
    )
    stages = summary.stage_seconds
    results = ResultsWriter()
    gallery = GalleryBuilder()
    seen_ids: set[int] = set()
    total = src.frame_count if max_frames is None else min(max_frames, src.frame_count or max_frames)
    clock = time.perf_counter
    start = clock()
    try:
        with ExitStack() as stack:
            jsonl = stack.enter_context(JsonlWriter(paths["jsonl"]))
            video = (
                stack.enter_context(AnnotatedVideoWriter(paths["video"], frame_rate, src.size))
                if write_video
                else None
            )
            window = _Window(f"tracker: {src.name}") if show else None
            if window is not None:
                stack.callback(window.close)
            trails = TrailBuffer() if (video is not None or window is not None) else None
            bar = stack.enter_context(
                tqdm(
                    total=total,
                    desc=src.name,
                    unit="frame",
                    file=sys.stderr,
                    disable=not progress,
                    leave=False,
                )
            )
            frames = iter(src)
            start = clock()
            try:
                while max_frames is None or summary.frames < max_frames:
                    t0 = clock()
                    item = next(frames, None)
                    t1 = clock()
                    stages["decode"] += t1 - t0
                    if item is None:
                        break
                    index, frame = item

                    dets = detector.detect(frame, index)
                    t2 = clock()
                    stages["detect"] += t2 - t1
                    if not isinstance(dets, Detections):
                        raise TypeError(
                            f"{type(detector).__name__}.detect returned {type(dets).__name__} for frame "
                            f"{index}, expected tracker.Detections"
                        )

                    embed_before = timed.seconds if timed is not None else 0.0
                    tracks = tracker.update(dets, frame=frame, frame_index=index)
                    t3 = clock()
                    embed_dt = (timed.seconds - embed_before) if timed is not None else 0.0
                    stages["embed"] += embed_dt
                    stages["track"] += (t3 - t2) - embed_dt

                    results.add(index, tracks)
                    jsonl.write(index, tracks)
                    emb = tracker.last_embeddings
                    if timed is not None and emb is not None and emb.shape[1]:
                        for i, d in enumerate(tracks.det_index.tolist()):
                            if d >= 0 and np.any(emb[d]):
                                gallery.add(
                                    index,
                                    int(tracks.ids[i]),
                                    tracks.boxes[i],
                                    float(tracks.scores[i]),
                                    emb[d],
                                )
                    quit_requested = False
                    if trails is not None:
                        trails.update(index, tracks)
                        annotated = draw_tracks(frame, tracks, trails, frame_index=index)
                        if video is not None:
                            video.write(annotated)
                        if window is not None:
                            quit_requested = window.show(annotated)
                    stages["write"] += clock() - t3

                    summary.frames += 1
                    summary.detections += len(dets)
                    seen_ids.update(tracks.ids.tolist())
                    bar.update(1)
                    if summary.frames % 10 == 0:
                        bar.set_postfix(tracks=len(tracks), refresh=False)
                    if quit_requested:
                        summary.stopped = "user"
                        log.info("stopped by the user at frame %d", index)
                        break
                else:
                    summary.stopped = "max_frames"
            except KeyboardInterrupt:
                summary.stopped = "interrupted"
                log.warning("interrupted after %d frames; writing the results so far", summary.frames)
    except BaseException:
        # keep what was tracked so far; the writers above were closed by the ExitStack
        try:
            results.save(paths["mot"])
        except Exception:  # pragma: no cover - only reached while another exception propagates
            log.exception("could not save partial results to %s", paths["mot"])
        raise
    t_write = clock()
    results.save(paths["mot"])
    if len(gallery):
        from .multicam_run import model_name

        g = gallery.build(src.name, source=src.spec, model=model_name(embedder))
        summary.outputs["gallery"] = str(g.save(out / f"{src.name}.tracks.npz"))
    stages["write"] += clock() - t_write
    summary.total_seconds = clock() - start
    if src.error is not None:
        summary.error = src.error
        summary.stopped = "error"
    summary.unique_tracks = len(seen_ids)
    _write_summary(paths["summary"], summary)
    if summary.error:
        log.warning("%s: %s", src.spec, summary.error)
    return summary
