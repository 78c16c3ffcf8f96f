"""Per-frame output writers: tracks as JSON Lines, annotated frames as a video file.

Both are context managers; leaving the ``with`` block (normally or through an exception) flushes and
closes the file, so a run that ends early still leaves a valid file with every frame written so far.
For MOTChallenge text results use :class:`tracker.io.mot.ResultsWriter`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from ..types import Tracks, positive_rate
from ._closing import Closing

__all__ = ["H264_SUFFIXES", "VIDEO_CODECS", "AnnotatedVideoWriter", "JsonlWriter", "tracks_to_records"]

log = logging.getLogger("tracker")

VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
"""FourCC OpenCV uses for each video file extension (lower case) when H.264 is not available."""


def tracks_to_records(tracks: Tracks, decimals: int = 2) -> list[dict[str, Any]]:
    """Tracks as JSON-ready dicts ``{"id", "box": [x1, y1, x2, y2], "score", "class_id"}``.

    Box coordinates (xyxy pixels) are rounded to ``decimals`` places, scores to 4.
    """
    boxes = np.asarray(tracks.boxes, np.float64).reshape(-1, 4).round(decimals)
    scores = np.asarray(tracks.scores, np.float64).round(4)
    return [
        {
            "id": int(tracks.ids[k]),
            "box": [float(v) for v in boxes[k]],
            "score": float(scores[k]),
            "class_id": int(tracks.class_ids[k]),
        }
        for k in range(len(tracks))
    ]


class JsonlWriter(Closing):
    """Writes one JSON object per frame and line:
    ``{"frame": 7, "tracks": [{"id": 3, "box": [x1, y1, x2, y2], "score": 0.91, "class_id": 0}]}``.

    Frames without tracks are written too (``"tracks": []``), so the file has one line per processed
    frame. Parent folders are created. Boxes are xyxy pixels with ``decimals`` places.
    """

    def __init__(self, path: str | Path, *, decimals: int = 2) -> None:
        self.path = Path(path)
        self.decimals = decimals
        self.frames_written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("w", encoding="utf-8", newline="\n")

    def write(self, frame_index: int, tracks: Tracks) -> None:
        """Append the tracks of 1-based ``frame_index``.

        Raises:
            ValueError: the writer is closed.
        """
        if self._fh is None:
            raise ValueError(f"{self.path}: writer is closed")
        record = {"frame": int(frame_index), "tracks": tracks_to_records(tracks, self.decimals)}
        self._fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.frames_written += 1

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Flush and close. Safe to call more than once."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


H264_SUFFIXES = (".mp4", ".m4v", ".mov")
"""Extensions written as H.264 (browser-playable) when PyAV is installed (``pip install
"tracker[video]"``); without it they fall back to OpenCV's MPEG-4 Part 2 (``mp4v``), with a warning."""

H264_CRF = 23
"""x264 constant rate factor of the annotated video (lower = better quality, larger file)."""

H264_PRESET = "veryfast"
"""x264 speed preset: ``veryfast`` encodes a 768x576 frame in a few ms on 2 cores (``medium``, x264's
default, took ~30 ms and was the slowest stage of ``run``) for a somewhat larger file."""


def _pyav() -> Any:
    """The ``av`` module if PyAV with an H.264 encoder is installed, else ``None``."""
    try:
        import av
    except ImportError:
        return None
    return av if "libx264" in av.codecs_available or "h264" in av.codecs_available else None


class _PyAvH264:
    """Writes BGR frames as H.264 (yuv420p, ``+faststart``) in MP4 with PyAV."""

    def __init__(self, av: Any, path: Path, fps: float, size: tuple[int, int]) -> None:
        from fractions import Fraction

        self._container = av.open(str(path), "w", options={"movflags": "+faststart"})
        codec = "libx264" if "libx264" in av.codecs_available else "h264"
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream(
            codec, rate=rate, options={"crf": str(H264_CRF), "preset": H264_PRESET}
        )
        # yuv420p needs even sizes: the last odd row/column is cropped
        self._stream.width, self._stream.height = size[0] - size[0] % 2, size[1] - size[1] % 2
        self._stream.pix_fmt = "yuv420p"
        self._av = av

    def write(self, frame: NDArray[np.uint8]) -> None:
        h, w = self._stream.height, self._stream.width
        vf = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:h, :w]), format="bgr24")
        for packet in self._stream.encode(vf):
            self._container.mux(packet)

    def release(self) -> None:
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()


class AnnotatedVideoWriter(Closing):
    """Writes ``uint8[H,W,3]`` BGR frames to a video file.

    ``.mp4``/``.m4v``/``.mov`` are H.264 (yuv420p, playable in browsers) when PyAV is installed
    (``pip install "tracker[video]"``); otherwise, or when ``fourcc`` is given, ``cv2.VideoWriter``
    writes them with the codec of the extension (:data:`VIDEO_CODECS`: ``mp4v`` for ``.mp4``,
    ``MJPG`` for ``.avi``) and a warning says the file will not play in browsers. With ``size=(width, height)`` the file is opened at once;
    without it, at the first frame (whose size then fixes the video's). Every frame must have that size.

    Raises:
        ValueError: unknown extension, bad ``fps``, or the writer cannot be opened (the message names
            the path).
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        size: tuple[int, int] | None = None,
        *,
        fourcc: str | None = None,
    ) -> None:
        self.path = Path(path)
        fps = positive_rate(fps, f"{self.path}: fps")
        explicit = fourcc
        if fourcc is None:
            suffix = self.path.suffix.lower()
            if suffix not in VIDEO_CODECS:
                raise ValueError(
                    f"{self.path}: unsupported video extension {suffix!r} (use one of {', '.join(VIDEO_CODECS)})"
                )
            fourcc = VIDEO_CODECS[suffix]
        if len(fourcc) != 4:
            raise ValueError(f"{self.path}: fourcc must have 4 characters, got {fourcc!r}")
        self.fps = float(fps)
        self._av = _pyav() if (explicit is None and self.path.suffix.lower() in H264_SUFFIXES) else None
        if explicit is None and self._av is None and self.path.suffix.lower() in H264_SUFFIXES:
            log.warning(
                "%s: PyAV is not installed, writing MPEG-4 Part 2 (mp4v), which browsers do not play; "
                'pip install "tracker[video]" for H.264',
                self.path,
            )
        self.fourcc = fourcc
        self.size: tuple[int, int] | None = None
        self.frames_written = 0
        self._writer: Any = None
        self._closed = False
        self.codec = "h264" if self._av is not None else self.fourcc
        """What the file holds: ``"h264"`` or the OpenCV FourCC."""
        if size is not None:
            self._open(size)

    def _open(self, size: tuple[int, int]) -> None:
        w, h = int(size[0]), int(size[1])
        if w <= 0 or h <= 0:
            raise ValueError(f"{self.path}: invalid frame size {w}x{h}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.size = (w, h)
        if self._av is not None:
            try:
                self._writer = _PyAvH264(self._av, self.path, self.fps, (w, h))
            except Exception as exc:
                raise ValueError(f"{self.path}: cannot open H.264 writer ({exc})") from None
            return
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*self.fourcc), self.fps, (w, h))
        if not writer.isOpened():
            writer.release()
            raise ValueError(
                f"{self.path}: cannot open video writer (codec {self.fourcc}, {w}x{h} @ {self.fps:g} fps)"
            )
        self._writer = writer

    def write(self, frame: NDArray[np.uint8]) -> None:
        """Append ``frame``, ``uint8[H,W,3]`` BGR of the video's size.

        Raises:
            ValueError: wrong dtype/shape or size, or the writer is closed.
        """
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if (
            not isinstance(frame, np.ndarray)
            or frame.dtype != np.uint8
            or frame.ndim != 3
            or frame.shape[2] != 3
        ):
            shape = getattr(frame, "shape", None)
            raise ValueError(f"{self.path}: frames must be uint8[H,W,3] BGR, got {shape}")
        size = (int(frame.shape[1]), int(frame.shape[0]))
        if self._writer is None:
            self._open(size)
        if size != self.size:
            vw, vh = self.size or (0, 0)
            raise ValueError(f"{self.path}: frame is {size[0]}x{size[1]}, the video is {vw}x{vh}")
        self._writer.write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file. Safe to call more than once."""
        self._closed = True
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            log.info("wrote %d frames to %s", self.frames_written, self.path)
