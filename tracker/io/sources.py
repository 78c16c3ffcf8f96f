"""Frame sources: video files, image folders and globs, webcams and network streams, one interface.

:func:`open_source` turns a specification into a :class:`FrameSource`, an iterable of
``(frame_index, frame)`` pairs with 1-based ``frame_index`` and ``frame`` a ``uint8[H,W,3]`` BGR array
(as OpenCV decodes it). Accepted specifications (see :func:`parse_source_spec`):

* an ``int`` or a string of digits (``0``, ``"1"``): a webcam index, opened with ``cv2.VideoCapture``;
* a URL (``rtsp://``, ``rtsps://``, ``rtmp://``, ``http://``, ``https://``, ``udp://``, ``tcp://``):
  a network stream, opened with ``cv2.VideoCapture``;
* a folder: every ``.jpg/.jpeg/.png/.bmp`` in it (not recursive), in natural name order
  (``img2.png`` before ``img10.png``);
* a glob such as ``"frames/*.jpg"``: the matching image files, in natural name order;
* a single image file: a one-frame source;
* a ROS 2 bag: a folder with ``metadata.yaml``, or a ``.mcap`` / ``.db3`` file; one image topic of it
  (``open_source(bag, topic="/camera/image_raw")``) is read by :class:`tracker.io.rosbag.RosbagSource`
  (needs the ``rosbags`` package: ``pip install "tracker[ros]"``);
* any other existing file (or a device such as ``/dev/video0``): a video, opened with
  ``cv2.VideoCapture``.

Errors when opening: a missing path raises :class:`FileNotFoundError`; a file OpenCV cannot open or
whose first frame does not decode, an empty folder or a glob with no image raise :class:`ValueError`.
The first frame is decoded when the source is opened, so :attr:`FrameSource.size` is known as soon as
:func:`open_source` returns.

Errors while reading: a frame that fails in the middle of a stream (a video read fails before the
frame count the file reports, an image in a folder does not decode or has a different size from the
first) *ends* the iteration cleanly; :attr:`FrameSource.error` then says what happened (frame number
and path), so the caller can keep what it computed so far and report the problem. The end of a live
stream (webcam, URL) is not an error.

Frame rate: :attr:`FrameSource.fps` is the video's metadata, or ``frameRate`` of a MOTChallenge
``seqinfo.ini`` next to an image folder (``SEQ/img1`` with ``SEQ/seqinfo.ini``); otherwise ``None``
and callers use :data:`DEFAULT_FPS`.
"""

from __future__ import annotations

import glob
import logging
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import urlparse

import cv2
import numpy as np
from numpy.typing import NDArray

from ..types import positive_rate
from .frame_source import DEFAULT_FPS, FrameSource, _safe_name

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_EXTENSIONS",
    "FrameSource",
    "ImageSource",
    "SourceKind",
    "SourceSpec",
    "VideoSource",
    "open_source",
    "parse_source_spec",
]

log = logging.getLogger("tracker")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
"""File name endings (case-insensitive) read from image folders and globs."""

_URL = re.compile(r"^(rtsps?|rtmp|https?|udp|tcp)://", re.IGNORECASE)
_GLOB_CHARS = re.compile(r"[*?\[]")
_MAX_PLAUSIBLE_FPS = 1000.0
_BAG_SUFFIXES = (".mcap", ".db3")  # single-file ROS 2 bags (tracker.io.rosbag.BAG_FILE_SUFFIXES)

SourceKind = Literal["webcam", "url", "video", "folder", "glob", "image", "rosbag"]


class SourceSpec(NamedTuple):
    """A parsed source specification.

    Attributes:
        kind: ``"webcam"`` (``target`` is the ``int`` index), ``"url"`` (the URL string), ``"video"``
            (a file or device path), ``"folder"`` (a folder path), ``"glob"`` (the pattern) or
            ``"image"`` (one image file) or ``"rosbag"`` (a ROS 2 bag folder or ``.mcap``/``.db3`` file).
        target: what is opened.
    """

    kind: SourceKind
    target: int | str


def parse_source_spec(spec: str | int | os.PathLike[str]) -> SourceSpec:
    """Classify a source specification (see the module docstring). Opens nothing.

    Webcam indices and URLs are recognised from the text alone; a string of digits is always a webcam
    index (write ``./0`` for a file named ``0``). Paths are then checked on disk: an existing path wins
    over a glob reading of the same text.

    Raises:
        TypeError: ``spec`` is not a string, path or int (``bool`` is refused).
        ValueError: an empty string or a negative webcam index.
        FileNotFoundError: a path that does not exist and is not a glob.
    """
    if isinstance(spec, bool) or not isinstance(spec, (str, int, os.PathLike)):
        raise TypeError(f"source must be a path, URL or webcam index, got {type(spec).__name__}")
    if isinstance(spec, int):
        if spec < 0:
            raise ValueError(f"webcam index must be >= 0, got {spec}")
        return SourceSpec("webcam", spec)
    text = os.fspath(spec)
    if not text.strip():
        raise ValueError("source is an empty string")
    if text.isascii() and text.isdigit():
        return SourceSpec("webcam", int(text))
    if _URL.match(text):
        return SourceSpec("url", text)
    path = Path(text).expanduser()
    if path.is_dir():
        return SourceSpec("rosbag" if (path / "metadata.yaml").is_file() else "folder", str(path))
    if path.is_file() and path.suffix.lower() in _BAG_SUFFIXES:
        return SourceSpec("rosbag", str(path))
    if path.is_file():
        kind: SourceKind = "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"
        return SourceSpec(kind, str(path))
    if path.exists():  # a character device such as /dev/video0
        return SourceSpec("video", str(path))
    if _GLOB_CHARS.search(text):
        return SourceSpec("glob", str(path))
    raise FileNotFoundError(f"{path}: no such file or folder")


def _natural_key(path: Path) -> list[int | str]:
    """Sort key: digit runs compare as numbers, so ``img2.png`` comes before ``img10.png``."""
    parts = re.split(r"(\d+)", path.name)
    return [int(p) if p.isdigit() else p.lower() for p in parts]


class VideoSource(FrameSource):
    """A video file, webcam or network stream read with ``cv2.VideoCapture``.

    For files, :attr:`frame_count` is the count the container reports; a read that fails before it
    ends the iteration with :attr:`error` set. Live sources (webcams, URLs) have ``frame_count=None``
    and their end is not an error.
    """

    def __init__(self, target: int | str, *, live: bool, name: str | None = None) -> None:
        spec = f"webcam {target}" if isinstance(target, int) else str(target)
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            self._cap.release()
            what = "cannot open" if live else "cannot decode"
            raise ValueError(f"{spec}: {what} (OpenCV VideoCapture failed to open it)")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = float(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0)
        super().__init__(
            name=name or _video_name(target),
            spec=spec,
            fps=fps if math.isfinite(fps) and 0 < fps < _MAX_PLAUSIBLE_FPS else None,
            frame_count=None if live or not (math.isfinite(count) and count >= 1) else int(count),
        )
        self._open_first()

    def _read(self, index: int) -> NDArray[np.uint8] | None:
        try:
            ok, frame = self._cap.read()
        except cv2.error as exc:
            ok, frame = False, None
            log.debug("%s: read raised %s", self.spec, exc)
        if ok and frame is not None:
            return np.asarray(frame, np.uint8)
        if self.frame_count is not None and index <= self.frame_count and index > 1:
            self._fail(index, f"cannot decode (the file reports {self.frame_count} frames)")
        elif self.frame_count is None and index > 1:
            log.info("%s: stream ended after frame %d", self.spec, index - 1)
        return None

    def _release(self) -> None:
        self._cap.release()


def _video_name(target: int | str) -> str:
    if isinstance(target, int):
        return f"webcam{target}"
    if _URL.match(target):
        url = urlparse(target)
        stem = Path(url.path).stem if url.path.strip("/") else ""
        return _safe_name(stem or url.hostname or "stream", "stream")
    return _safe_name(Path(target).stem, "video")


class ImageSource(FrameSource):
    """A list of image files, decoded one by one with OpenCV (``IMREAD_COLOR``: 8-bit BGR).

    Every image must have the size of the first; a different size or an image that does not decode
    ends the iteration with :attr:`error` set.
    """

    def __init__(self, paths: Sequence[Path], *, name: str, spec: str, fps: float | None = None) -> None:
        if not paths:
            raise ValueError(f"{spec}: no images ({', '.join(IMAGE_EXTENSIONS)})")
        self.paths = list(paths)
        super().__init__(name=name, spec=spec, fps=fps, frame_count=len(self.paths))
        self._open_first()

    def _release(self) -> None:
        """Nothing to release: each image is read and closed in :meth:`_read`."""

    def _describe(self, index: int) -> str:
        return str(self.paths[index - 1]) if 1 <= index <= len(self.paths) else self.spec

    def _read(self, index: int) -> NDArray[np.uint8] | None:
        if index > len(self.paths):
            return None
        path = self.paths[index - 1]
        try:
            data = np.fromfile(path, np.uint8)  # handles non-ASCII paths on every platform
            image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        except (OSError, cv2.error) as exc:
            log.debug("%s: %s", path, exc)
            image = None
        if image is None:
            if index == 1:
                self.error = f"cannot decode image {path}"
            else:
                self._fail(index, "cannot decode image")
            return None
        return np.asarray(image, np.uint8)


def _list_images(paths: Sequence[Path]) -> list[Path]:
    images = [p for p in paths if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(images, key=_natural_key)


def _seqinfo_fps(folder: Path) -> tuple[float | None, str | None]:
    """Frame rate and name from ``folder/../seqinfo.ini`` if ``folder`` is its image folder."""
    ini = folder.parent / "seqinfo.ini"
    if not ini.is_file():
        return None, None
    from .mot import read_seqinfo

    try:
        info = read_seqinfo(folder.parent)
    except ValueError as exc:
        log.debug("ignoring %s: %s", ini, exc)
        return None, None
    if Path(info.im_dir).name != folder.name:
        return None, None
    return info.frame_rate, info.name


def open_source(
    spec: str | int | os.PathLike[str], *, fps: float | None = None, topic: str | None = None
) -> FrameSource:
    """Open a frame source (see the module docstring for the accepted specifications).

    Args:
        spec: video path, image folder, image glob, image file, webcam index (``int`` or digits) or
            stream URL.
        fps: overrides the source's own frame rate (useful for image folders).
        topic: the image topic of a ROS 2 bag (``None``: the bag's only image topic); only for bags.

    Returns:
        An open :class:`FrameSource` whose first frame has been decoded (:attr:`~FrameSource.size` set).

    Raises:
        FileNotFoundError: the path does not exist (the message names it).
        ValueError: OpenCV cannot open the file or decode its first frame ("cannot decode ..."), a
            folder or glob with no images, an invalid ``fps``, a ``topic`` for a source that is not a
            bag, or a bag topic that is missing or holds no images (see
            :class:`~tracker.io.rosbag.RosbagSource`).
        ImportError: a ROS 2 bag without the ``rosbags`` package installed.
    """
    if fps is not None:
        fps = positive_rate(fps, "fps")
    kind, target = parse_source_spec(spec)
    if topic is not None and kind != "rosbag":
        raise ValueError(f"{target}: topic={topic!r} applies only to ROS 2 bags, this source is a {kind}")
    source: FrameSource
    if kind == "rosbag":
        from .rosbag import RosbagSource

        source = RosbagSource(str(target), topic)
    elif kind == "webcam" or kind == "url":
        source = VideoSource(target, live=True)
    elif kind == "video":
        source = VideoSource(str(target), live=False)
    elif kind == "image":
        path = Path(str(target))
        source = ImageSource([path], name=_safe_name(path.stem, "image"), spec=str(path))
    elif kind == "folder":
        folder = Path(str(target))
        meta_fps, seq_name = _seqinfo_fps(folder.resolve())
        name = seq_name or _safe_name(folder.resolve().name, "images")
        images = _list_images(list(folder.iterdir()))
        if not images:
            raise ValueError(f"{folder}: folder holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        source = ImageSource(images, name=name, spec=str(folder), fps=meta_fps)
    else:
        pattern = str(target)
        images = _list_images([Path(p) for p in glob.glob(pattern, recursive=True)])
        if not images:
            raise ValueError(f"{pattern}: no image file matches ({', '.join(IMAGE_EXTENSIONS)})")
        parent = Path(pattern).parent
        name = _safe_name(
            parent.resolve().name if str(parent) not in ("", ".") else Path.cwd().name, "images"
        )
        source = ImageSource(images, name=name, spec=pattern)
    if fps is not None:
        source.fps = float(fps)
    log.info("opened %r", source)
    return source
