"""Where a frame's results go: one small :class:`Sink` protocol and the sinks every command uses.

A sink receives one :class:`FrameResult` per processed frame (:meth:`Sink.write`) and is closed once
(:meth:`Sink.close`), also when the run ends early (a signal, an error): closing flushes and finishes
its file, so every output is valid whatever ended the run. Sinks write as frames complete:

* :class:`MotTxtSink`: MOTChallenge rows ``frame,id,x,y,w,h,score,-1,-1,-1`` (flushed at least every
  ``flush_s`` seconds);
* :class:`JsonlSink`: one JSON object per frame (same flushing);
* :class:`VideoSink`: the annotated video (boxes, ids, trails);
* :class:`GallerySink`: the per-track appearance gallery for ``search`` (constant memory per track),
  saved at close;
* :class:`WindowSink`: shows annotated frames in a window (``q``/Esc asks the run to stop);
* :class:`CollectSink`: keeps :class:`~tracker.io.mot.ResultFrame` rows in memory (for scoring).

Multi-camera runs wrap each camera's sinks; their ids are the provisional global ids.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ..io.mot import MotResults, ResultsWriter
from ..io.mot_stream import format_result_rows
from ..io.threads import BackgroundWriter
from ..io.writers import AnnotatedVideoWriter, tracks_to_records
from ..reid.gallery import Gallery, GalleryBuilder, concatenate_galleries
from ..types import Detections, Tracks
from ..viz.draw import TrailBuffer, draw_tracks

__all__ = [
    "FLUSH_SECONDS",
    "GALLERY_RETIRE_FRAMES",
    "CollectSink",
    "FrameResult",
    "GallerySink",
    "JsonlSink",
    "MotTxtSink",
    "RosTracksSink",
    "Sink",
    "VideoSink",
    "WindowSink",
    "check_output_file",
    "model_name",
    "output_folder",
]

log = logging.getLogger("tracker")

FLUSH_SECONDS = 1.0
"""Streaming text sinks flush to disk at least this often (seconds), and at close."""


@dataclass(frozen=True)
class FrameResult:
    """One frame's way through the pipeline, as sinks see it.

    Attributes:
        stream: the stream (camera) name.
        frame_index: 1-based frame number in its stream.
        timestamp: seconds on the run's clock (``(frame_index - 1) / fps`` plus the stream's start).
        frame: the decoded image ``uint8[H,W,3]`` BGR, or ``None`` (runs from detections alone).
        detections: what the detector returned (boxes ``float32[N,4]`` xyxy pixels).
        tracks: the tracker's output for this frame (ids, boxes ``float32[M,4]`` xyxy pixels, ...).
        embeddings: ``float32[N,D]`` appearance vectors of the detections (rows of zeros for detections
            that were not embedded), or ``None`` without appearance.
        labels: text drawn for each track (``M`` strings), or ``None`` for ``str(id)``.
    """

    stream: str
    frame_index: int
    timestamp: float
    frame: NDArray[np.uint8] | None
    detections: Detections
    tracks: Tracks
    embeddings: NDArray[np.float32] | None = None
    labels: list[str] | None = None


@runtime_checkable
class Sink(Protocol):
    """Receives every processed frame, then is closed once (also after a signal or an error)."""

    def write(self, result: FrameResult) -> None:
        """Take one frame's result."""
        ...

    def close(self) -> None:
        """Flush and finish; safe to call more than once."""
        ...


def check_output_file(path: Path) -> None:
    """Raise ``ValueError`` naming ``path`` if it exists and is not a regular file (a folder, say), so a
    run fails before its first frame rather than after its last."""
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: exists and is not a file (remove it or choose another --out)")


def output_folder(out_dir: str | Path) -> Path:
    """``out_dir`` as a folder ready for outputs (created with its parents).

    Raises:
        ValueError: ``out_dir`` exists and is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: --out exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


class _TextSink:
    """A text file written line by line, flushed at least every :data:`FLUSH_SECONDS`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        check_output_file(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("w", encoding="utf-8", newline="\n")
        self._flushed = time.monotonic()
        self.frames_written = 0

    def _write_lines(self, text: str) -> None:
        if self._fh is None:
            raise ValueError(f"{self.path}: sink is closed")
        self._fh.write(text)
        self.frames_written += 1
        now = time.monotonic()
        if now - self._flushed >= FLUSH_SECONDS:
            self._fh.flush()
            self._flushed = now

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class MotTxtSink(_TextSink):
    """MOTChallenge results, 10 columns, rows of a frame sorted by id, written as frames complete."""

    def write(self, result: FrameResult) -> None:
        t = result.tracks
        self._write_lines("".join(format_result_rows(result.frame_index, t.ids, t.boxes, t.scores)))


class JsonlSink(_TextSink):
    """One line per frame: ``{"frame": 7, "tracks": [{"id", "box": [x1,y1,x2,y2], "score", "class_id"}]}``
    (frames without tracks too), boxes xyxy pixels with ``decimals`` places."""

    def __init__(self, path: str | Path, *, decimals: int = 2) -> None:
        super().__init__(path)
        self.decimals = decimals

    def write(self, result: FrameResult) -> None:
        record = {"frame": int(result.frame_index), "tracks": tracks_to_records(result.tracks, self.decimals)}
        self._write_lines(json.dumps(record, separators=(",", ":")) + "\n")


class RosTracksSink:
    """Tracks as ROS 2 ``vision_msgs/Detection2DArray`` messages, one per frame, into an MCAP file or a
    bag folder (:class:`~tracker.io.rosbag.RosbagTracksWriter`; needs ``pip install "tracker[ros]"``).
    Stamps are the source's (a bag's header stamps) when it has them, else ``(frame - 1) / fps``."""

    def __init__(self, path: str | Path, source: object, fps: float) -> None:
        from ..io.rosbag import RosbagTracksWriter

        self.path = Path(path)
        self._stamp = getattr(source, "stamp_ns", None)
        frame_id = getattr(source, "frame_id", None) or "camera"
        self._writer = RosbagTracksWriter(self.path, fps=fps, frame_id=frame_id)

    def write(self, result: FrameResult) -> None:
        stamp = self._stamp(result.frame_index) if callable(self._stamp) else None
        self._writer.write(result.frame_index, result.tracks, stamp_ns=stamp)

    def close(self) -> None:
        self._writer.close()


class CollectSink:
    """Keeps each frame's tracks in memory (:meth:`results`), for scoring a finite sequence."""

    def __init__(self) -> None:
        self._writer = ResultsWriter()

    def write(self, result: FrameResult) -> None:
        self._writer.add(result.frame_index, result.tracks)

    def results(self) -> MotResults:
        return self._writer.results()

    def close(self) -> None:
        pass


class _Annotator:
    """Draws boxes, labels and trails; one :class:`TrailBuffer` per sink."""

    def __init__(self) -> None:
        self.trails = TrailBuffer()

    def draw(self, result: FrameResult) -> NDArray[np.uint8] | None:
        if result.frame is None:
            return None
        self.trails.update(result.frame_index, result.tracks)
        return draw_tracks(
            result.frame, result.tracks, self.trails, frame_index=result.frame_index, labels=result.labels
        )


class VideoSink:
    """The annotated video (H.264 MP4 with PyAV when installed, else OpenCV's MPEG-4 Part 2; see
    :class:`~tracker.io.writers.AnnotatedVideoWriter`)."""

    def __init__(
        self, path: str | Path, fps: float, size: tuple[int, int] | None, *, background: bool = False
    ) -> None:
        """``background=True``: frames are annotated here and encoded in a background thread
        (:class:`~tracker.io.threads.BackgroundWriter`, two frames queued at most); an encoder error
        is then raised by the next ``write`` or by ``close``."""
        self.path = Path(path)
        check_output_file(self.path)
        self._writer = AnnotatedVideoWriter(self.path, fps, size)
        self._annotator = _Annotator()
        self._background: BackgroundWriter[NDArray[np.uint8]] | None = (
            BackgroundWriter(self._writer.write, depth=2) if background else None
        )

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    @property
    def codec(self) -> str:
        return self._writer.codec

    def write(self, result: FrameResult) -> None:
        image = self._annotator.draw(result)
        if image is None:
            return
        if self._background is not None:
            self._background.put(image)
        else:
            self._writer.write(image)

    def close(self) -> None:
        try:
            if self._background is not None:
                self._background.close()
        finally:
            self._writer.close()


class WindowSink:
    """Shows annotated frames with ``cv2.imshow``; ``q`` or Esc calls ``on_quit`` (stop the run)."""

    def __init__(self, title: str, window: object, on_quit: Callable[[], None]) -> None:
        self.title = title
        self._window = window
        self._on_quit = on_quit
        self._annotator = _Annotator()

    def write(self, result: FrameResult) -> None:
        image = self._annotator.draw(result)
        if image is not None and self._window.show(image):  # type: ignore[attr-defined]
            self._on_quit()

    def close(self) -> None:
        self._window.close()  # type: ignore[attr-defined]


def model_name(embedder: object | None) -> str:
    """A name for the embedder's model (its file name when it has one), stored with galleries."""
    if embedder is None:
        return ""
    path = getattr(embedder, "model_path", None)
    return Path(str(path)).name if path else type(embedder).__name__


GALLERY_RETIRE_FRAMES = 900
"""The gallery sink moves tracks not seen for this many frames out of memory, into a part file beside
the output (merged into ``<name>.tracks.npz`` at close): memory holds only recent tracks."""


class GallerySink:
    """Builds the per-track appearance gallery online and saves it to ``path`` (``.tracks.npz``) at
    close, when any track was embedded. Memory is bounded: per track a running mean and at most
    :data:`~tracker.reid.gallery.MAX_TRAJECTORY_POINTS` boxes, and tracks not seen for
    :data:`GALLERY_RETIRE_FRAMES` frames go to part files next to ``path`` until the close merges
    them."""

    def __init__(self, path: str | Path, camera: str, *, source: str = "", model: str = "") -> None:
        self.path = Path(path)
        check_output_file(self.path)
        self.camera, self.source, self.model = camera, source, model
        self._builder = GalleryBuilder()
        self._parts: list[Path] = []
        self.saved: Path | None = None
        self._closed = False

    def write(self, result: FrameResult) -> None:
        emb = result.embeddings
        if emb is not None and emb.shape[1]:
            t = result.tracks
            for i, d in enumerate(t.det_index.tolist()):
                if d >= 0 and np.any(emb[d]):
                    self._builder.add(
                        result.frame_index, int(t.ids[i]), t.boxes[i], float(t.scores[i]), emb[d]
                    )
        if result.frame_index % GALLERY_RETIRE_FRAMES == 0:
            self._retire(result.frame_index - GALLERY_RETIRE_FRAMES)

    def _retire(self, before_frame: int) -> None:
        g = self._builder.retire(before_frame, self.camera, source=self.source, model=self.model)
        if g is not None:
            part = self.path.with_name(f".{self.path.name}.part{len(self._parts)}.npz")
            self._parts.append(g.save(part))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        parts = [Gallery.load(p) for p in self._parts]
        if len(self._builder):
            parts.append(self._builder.build(self.camera, source=self.source, model=self.model))
        if parts:
            self.saved = concatenate_galleries(parts).save(self.path)
        for p in self._parts:
            p.unlink(missing_ok=True)
