"""The :class:`FrameSource` base: frames from somewhere, decoded to ``uint8[H,W,3]`` BGR, read once.

Concrete sources (video files, cameras, streams, image folders in :mod:`tracker.io.sources`; ROS 2
bags in :mod:`tracker.io.rosbag`) build on it; :func:`tracker.io.sources.open_source` picks one.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

from ._closing import Closing

__all__ = ["DEFAULT_FPS", "FrameSource"]

log = logging.getLogger("tracker")

DEFAULT_FPS = 30.0
"""Frame rate assumed when a source does not know its own (image folders, some streams)."""


def _safe_name(text: str, fallback: str) -> str:
    """A file-name-safe stem from ``text`` (letters, digits, ``_ . -``)."""
    name = re.sub(r"[^\w.-]+", "_", text).strip("._")
    return name or fallback


class FrameSource(Closing, ABC):
    """Frames from somewhere, decoded to ``uint8[H,W,3]`` BGR.

    Iterate once to get ``(frame_index, frame)`` pairs, ``frame_index`` 1-based and consecutive. Use it
    as a context manager (or call :meth:`close`) to release the file or device.

    Attributes:
        name: a file-name-safe stem for output files (video stem, folder name, ``webcam0``, ...).
        spec: the specification it was opened from, for messages.
        fps: frames per second from the source's metadata, or ``None`` if unknown (use
            :data:`DEFAULT_FPS`).
        frame_count: number of frames for files, folders and globs; ``None`` for live sources.
        size: ``(width, height)`` of the frames, known once the first frame is decoded (at open).
        error: ``None``, or what ended the iteration early (frame number, path, reason).
        frames_read: frames yielded so far.
    """

    def __init__(self, name: str, spec: str, fps: float | None, frame_count: int | None) -> None:
        self.name = name
        self.spec = spec
        self.fps = fps
        self.frame_count = frame_count
        self.size: tuple[int, int] | None = None
        self.error: str | None = None
        self.frames_read = 0
        self._first: NDArray[np.uint8] | None = None
        self._iterated = False
        self._closed = False

    @property
    def is_live(self) -> bool:
        """True for sources without a known length (webcams, network streams)."""
        return self.frame_count is None

    # -- subclass interface -------------------------------------------------------------------------
    @abstractmethod
    def _read(self, index: int) -> NDArray[np.uint8] | None:
        """Decode frame ``index`` (1-based, called in order), or return ``None`` at the end. A subclass
        that stops because of a failure sets :attr:`error` before returning ``None``."""

    @abstractmethod
    def _release(self) -> None:
        """Release files or devices (called once by :meth:`close`)."""

    # -- shared machinery ---------------------------------------------------------------------------
    def _open_first(self) -> None:
        """Decode frame 1 now, so that an undecodable source fails at open and :attr:`size` is known."""
        frame = self._read(1)
        if frame is None:
            self.close()
            raise ValueError(
                f"{self.spec}: cannot decode the first frame" + (f" ({self.error})" if self.error else "")
            )
        frame = self._as_bgr(frame)
        self.size = (int(frame.shape[1]), int(frame.shape[0]))
        self._first = frame

    @staticmethod
    def _as_bgr(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Grey ``uint8[H,W]`` / ``[H,W,1]`` and BGRA ``uint8[H,W,4]`` -> ``uint8[H,W,3]`` BGR."""
        if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
            return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), np.uint8)
        if frame.ndim == 3 and frame.shape[2] == 4:
            return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR), np.uint8)
        return frame

    def _describe(self, index: int) -> str:
        """Where frame ``index`` comes from, for error messages."""
        return self.spec

    def __iter__(self) -> Iterator[tuple[int, NDArray[np.uint8]]]:
        if self._iterated:
            raise RuntimeError(f"{self.spec}: a FrameSource can be iterated only once; open it again")
        if self._closed:
            raise RuntimeError(f"{self.spec}: source is closed")
        self._iterated = True
        return self._frames()

    def _frames(self) -> Iterator[tuple[int, NDArray[np.uint8]]]:
        index = 0
        while not self._closed:
            index += 1
            if index == 1:
                frame, self._first = self._first, None
            else:
                frame = self._read(index)
            if frame is None:
                return
            frame = self._as_bgr(frame)
            size = (int(frame.shape[1]), int(frame.shape[0]))
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                self._fail(index, f"unexpected frame {frame.dtype}{list(frame.shape)}, expected uint8[H,W,3]")
                return
            if size != self.size:
                assert self.size is not None
                self._fail(
                    index,
                    f"frame is {size[0]}x{size[1]}, earlier frames are {self.size[0]}x{self.size[1]}",
                )
                return
            self.frames_read = index
            yield index, frame

    def _fail(self, index: int, reason: str) -> None:
        self.error = f"frame {index} ({self._describe(index)}): {reason}; stopped after frame {index - 1}"
        log.warning("%s", self.error)

    def close(self) -> None:
        """Release the underlying file or device. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._first = None
            self._release()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(spec={self.spec!r}, name={self.name!r}, fps={self.fps}, "
            f"frame_count={self.frame_count}, size={self.size})"
        )
