"""ROS 2 bags with the pure-Python ``rosbags`` package (Apache-2.0; ``pip install "tracker[ros]"``): a
frame source for image topics and a writer of tracks as ``vision_msgs/msg/Detection2DArray``.

* :class:`RosbagSource`: a :class:`~tracker.io.sources.FrameSource` over one ``sensor_msgs/msg/Image``
  or ``sensor_msgs/msg/CompressedImage`` topic of a bag: a ROS 2 bag folder (``metadata.yaml`` with
  ``.mcap`` or ``.db3`` storage) or a single ``.mcap`` / ``.db3`` file. It yields ``(frame_index,
  uint8[H,W,3] BGR)`` with 1-based ``frame_index`` in bag order and records each frame's stamp
  (:attr:`RosbagSource.timestamps_ns`).
* :class:`RosbagTracksWriter`: one ``Detection2DArray`` per frame (layout in :mod:`tracker.io.ros`)
  into a single ``.mcap`` file or a ROS 2 bag folder.

``rosbags`` is imported when one of these is created, not when this module is imported.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..types import Tracks, positive_rate
from ._closing import Closing
from .frame_source import DEFAULT_FPS, FrameSource, _safe_name
from .ros import (
    COMPRESSED_IMAGE_TYPE,
    DETECTION2D_ARRAY_TYPE,
    IMAGE_TYPE,
    VISION_MSGS_DEFINITIONS,
    fps_from_stamps,
    image_message_to_bgr,
    stamp_to_ns,
    tracks_to_detection2d_array,
)

if TYPE_CHECKING:
    from rosbags.typesys.store import Typestore

__all__ = [
    "BAG_FILE_SUFFIXES",
    "FPS_PROBE_FRAMES",
    "IMAGE_TYPES",
    "RosbagSource",
    "RosbagTracksWriter",
    "is_rosbag",
    "ros_typestore",
]

log = logging.getLogger("tracker")

BAG_FILE_SUFFIXES = (".mcap", ".db3")
"""Single-file bag storages :class:`RosbagSource` opens (a bag folder is recognised by its
``metadata.yaml``)."""

IMAGE_TYPES = (IMAGE_TYPE, COMPRESSED_IMAGE_TYPE)
"""Message types :class:`RosbagSource` decodes."""

FPS_PROBE_FRAMES = 30
"""Messages whose header stamps estimate :attr:`RosbagSource.fps` at open (median interval)."""

MAX_PLAUSIBLE_FPS = 1000.0
"""A stamp-based frame rate above this is treated as unknown (bursty or copied stamps)."""

BAG_VERSION: Literal[8] = 8
"""rosbag2 metadata version written: 8 (Humble's rosbag2 reads it; rosbags writes 8 or 9)."""

_INSTALL_HINT = 'ROS 2 bags need the "rosbags" package: pip install "tracker[ros]" (or pip install rosbags)'


def _require_rosbags() -> None:
    try:
        import rosbags  # noqa: F401
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc


def is_rosbag(path: str | os.PathLike[str]) -> bool:
    """True for a ROS 2 bag: a folder with ``metadata.yaml``, or a ``.mcap`` / ``.db3`` file."""
    p = Path(path)
    if p.is_dir():
        return (p / "metadata.yaml").is_file()
    return p.is_file() and p.suffix.lower() in BAG_FILE_SUFFIXES


def ros_typestore() -> Typestore:
    """A ``rosbags`` type store with the ROS 2 Humble messages plus ``vision_msgs``
    (:data:`~tracker.io.ros.VISION_MSGS_DEFINITIONS`); a new one on every call.

    Raises:
        ImportError: ``rosbags`` is not installed (the message says how to install it).
    """
    _require_rosbags()
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types: dict[str, Any] = {}
    for name, text in VISION_MSGS_DEFINITIONS.items():
        types.update(get_types_from_msg(text, name))
    store.register(types)
    return store


class RosbagSource(FrameSource):
    """Frames of one image topic of a ROS 2 bag (see the module docstring).

    Args:
        path: a bag folder (``metadata.yaml``) or a ``.mcap`` / ``.db3`` file.
        topic: the image topic, e.g. ``"/camera/image_raw"``. ``None`` picks the bag's only
            ``Image``/``CompressedImage`` topic and fails if there are none or several.
        name: file-name-safe stem for outputs (default: the bag's name).

    Attributes:
        topic: the topic read; msgtype: its message type.
        timestamps_ns: stamp of each frame read so far (``timestamps_ns[k - 1]`` for frame ``k``):
            the message's ``header.stamp``, or the bag's receive time when the header stamp is zero.
        frame_id: ``header.frame_id`` of the last frame read (the camera's TF frame; known at open),
            e.g. for :class:`RosbagTracksWriter`.
        fps: estimated from the header stamps of the first :data:`FPS_PROBE_FRAMES` messages (median
            interval), ``None`` if they do not tell.
        frame_count: the topic's message count from the bag's metadata (``None`` if it does not say).

    A message that does not decode (unsupported encoding, corrupt JPEG) ends the iteration with
    :attr:`error` set; at the first frame it is a :class:`ValueError` from the constructor.

    Raises:
        ImportError: ``rosbags`` is not installed.
        FileNotFoundError: ``path`` does not exist.
        ValueError: not a readable bag, the topic is not in it (the message lists the topics with their
            types), the topic's type is not an image type, or the first frame does not decode.
    """

    def __init__(
        self, path: str | os.PathLike[str], topic: str | None = None, *, name: str | None = None
    ) -> None:
        _require_rosbags()
        from rosbags.highlevel import AnyReader, AnyReaderError

        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file or folder")
        if not is_rosbag(self.path):
            raise ValueError(
                f"{self.path}: not a ROS 2 bag (a folder with metadata.yaml, or a {'/'.join(BAG_FILE_SUFFIXES)} file)"
            )
        try:
            self._reader = AnyReader([self.path], default_typestore=ros_typestore())
            self._reader.open()
        except (AnyReaderError, OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{self.path}: cannot read the bag ({exc})") from None
        try:
            self.topic, self.msgtype, connections = self._pick_topic(topic)
        except ValueError:
            self._reader.close()
            raise
        self._connections = connections
        count = sum(int(c.msgcount) for c in connections)
        self.timestamps_ns: list[int] = []
        self.frame_id: str | None = None
        self._messages: Any = None
        stem = self.path.stem if self.path.is_file() else self.path.resolve().name
        super().__init__(
            name=name or _safe_name(stem, "rosbag"),
            spec=f"{self.path} {self.topic}",
            fps=self._probe_fps(),
            frame_count=count or None,
        )
        self._messages = self._reader.messages(connections=self._connections)
        self._open_first()

    @property
    def is_live(self) -> bool:
        """Always False: a bag is a recording, even when its metadata has no message count."""
        return False

    def stamp_ns(self, frame_index: int) -> int:
        """Stamp (ns) of a frame already read (1-based ``frame_index``).

        Raises:
            IndexError: the frame has not been read yet.
        """
        if not 1 <= frame_index <= len(self.timestamps_ns):
            raise IndexError(f"{self.spec}: frame {frame_index} not read (have 1..{len(self.timestamps_ns)})")
        return self.timestamps_ns[frame_index - 1]

    def _pick_topic(self, topic: str | None) -> tuple[str, str, list[Any]]:
        by_topic: dict[str, list[Any]] = {}
        for conn in self._reader.connections:
            by_topic.setdefault(conn.topic, []).append(conn)
        listing = ", ".join(
            f"{t} ({'/'.join(sorted({c.msgtype for c in cs}))})" for t, cs in sorted(by_topic.items())
        )
        if topic is None:
            images = [t for t, cs in by_topic.items() if all(c.msgtype in IMAGE_TYPES for c in cs)]
            if len(images) != 1:
                what = "no image topic" if not images else f"{len(images)} image topics"
                raise ValueError(
                    f"{self.path}: {what}; choose one with --topic (topic=... in Python) (topics: {listing or 'none'})"
                )
            topic = images[0]
            log.info("%s: reading the only image topic %s", self.path, topic)
        if topic not in by_topic:
            raise ValueError(f"{self.path}: no topic {topic!r} in the bag (topics: {listing or 'none'})")
        types = {c.msgtype for c in by_topic[topic]}
        if len(types) != 1 or not types <= set(IMAGE_TYPES):
            raise ValueError(
                f"{self.path}: topic {topic} has type {'/'.join(sorted(types))}, expected {' or '.join(IMAGE_TYPES)}"
            )
        return topic, types.pop(), by_topic[topic]

    def _decode(self, rawdata: bytes, msgtype: str) -> Any:
        return self._reader.deserialize(rawdata, msgtype)

    def _stamp(self, msg: Any, log_time_ns: int) -> int:
        stamp = stamp_to_ns(msg.header.stamp)
        return stamp if stamp > 0 else int(log_time_ns)

    def _probe_fps(self) -> float | None:
        stamps: list[int] = []
        messages = self._reader.messages(connections=self._connections)
        try:
            for conn, log_time, raw in messages:
                stamps.append(self._stamp(self._decode(raw, conn.msgtype), log_time))
                if len(stamps) >= FPS_PROBE_FRAMES:
                    break
        except Exception as exc:  # a bad message is reported when it is read as a frame
            log.debug("%s: fps probe stopped: %s", self.path, exc)
        finally:
            messages.close()
        return fps_from_stamps(stamps, MAX_PLAUSIBLE_FPS)

    def _read(self, index: int) -> NDArray[np.uint8] | None:
        try:
            conn, log_time, raw = next(self._messages)
        except StopIteration:
            return None
        try:
            msg = self._decode(raw, conn.msgtype)
            frame = image_message_to_bgr(msg)
        except (
            Exception
        ) as exc:  # any failure to decode (rosbags, OpenCV, ours) ends the stream with a reason
            reason = f"message at {log_time} ns: {exc}"
            if index == 1:
                self.error = reason
            else:
                self._fail(index, reason)
            return None
        self.timestamps_ns.append(self._stamp(msg, log_time))
        self.frame_id = str(msg.header.frame_id)
        return frame

    def _release(self) -> None:
        messages, self._messages = self._messages, None
        if messages is not None:
            messages.close()
        self._reader.close()


class RosbagTracksWriter(Closing):
    """Writes each frame's tracks as one ``vision_msgs/msg/Detection2DArray`` message.

    Args:
        path: ``*.mcap``: a single MCAP file (ROS 2 bag storage, replaced if it exists; written to a
            temporary folder beside it and moved into place by :meth:`close`); any other path: a new
            ROS 2 bag folder (``metadata.yaml`` + storage file), which must not exist yet.
        topic: the topic written (default ``/tracker/tracks``).
        frame_id: ``header.frame_id`` of every message (the camera's TF frame).
        fps: frame rate that turns frame indices into stamps when :meth:`write` gets no ``stamp_ns``:
            ``start_ns + (frame_index - 1) / fps`` seconds.
        start_ns: stamp of frame 1 in that case.
        class_names: optional names for ``hypothesis.class_id`` (see
            :func:`~tracker.io.ros.tracks_to_detection2d_array`).
        storage: ``"mcap"`` (default) or ``"sqlite3"`` (a ``.db3`` bag folder; not with a ``.mcap`` path).

    The message's log time in the bag is its header stamp. Leaving the ``with`` block (normally or
    through an exception) finishes the file with every frame written so far.

    Raises:
        ImportError: ``rosbags`` is not installed.
        ValueError: bad ``fps``, ``start_ns``, ``topic`` or ``storage``, or the bag folder exists.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        topic: str = "/tracker/tracks",
        frame_id: str = "camera",
        fps: float = DEFAULT_FPS,
        start_ns: int = 0,
        class_names: Mapping[int, str] | Sequence[str] | None = None,
        storage: Literal["mcap", "sqlite3"] = "mcap",
    ) -> None:
        _require_rosbags()
        from rosbags.rosbag2 import StoragePlugin, Writer, WriterError

        self.path = Path(path)
        fps_value = positive_rate(fps, f"{self.path}: fps")
        if int(start_ns) < 0:
            raise ValueError(f"{self.path}: start_ns must be >= 0, got {start_ns}")
        if not topic.startswith("/") or len(topic) < 2:
            raise ValueError(
                f"{self.path}: topic must be an absolute ROS name like /tracker/tracks, got {topic!r}"
            )
        if storage not in ("mcap", "sqlite3"):
            raise ValueError(f"{self.path}: storage must be 'mcap' or 'sqlite3', got {storage!r}")
        self.single_file = self.path.suffix.lower() == ".mcap"
        if self.single_file and storage != "mcap":
            raise ValueError(f"{self.path}: a .mcap path needs storage='mcap'")
        if not self.single_file and self.path.exists():
            raise ValueError(f"{self.path}: exists already; a ROS 2 bag folder is never overwritten")
        self.topic = topic
        self.frame_id = frame_id
        self.fps = fps_value
        self.start_ns = int(start_ns)
        self.class_names = class_names
        self.frames_written = 0
        self._last_index: int | None = None
        self._typestore = ros_typestore()
        self._tmp: Path | None = None
        if self.single_file:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.stem}.", dir=self.path.parent))
            bag_dir = self._tmp / "bag"
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            bag_dir = self.path
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        try:
            self._writer: Any = Writer(bag_dir, version=BAG_VERSION, storage_plugin=plugin)
            self._writer.open()
            self._conn = self._writer.add_connection(topic, DETECTION2D_ARRAY_TYPE, typestore=self._typestore)
        except (WriterError, OSError) as exc:
            self._cleanup_tmp()
            raise ValueError(f"{self.path}: cannot create the bag ({exc})") from None
        self._bag_dir = bag_dir

    def write(self, frame_index: int, tracks: Tracks, stamp_ns: int | None = None) -> None:
        """Write the tracks of 1-based ``frame_index`` (increasing from call to call).

        Args:
            frame_index: the frame's index in its source.
            tracks: boxes ``float32[M,4]`` xyxy pixels, ids, scores, class ids (may be empty: an empty
                ``Detection2DArray`` is written, so there is one message per processed frame).
            stamp_ns: the frame's time in ns (e.g. :meth:`RosbagSource.stamp_ns`); by default derived
                from ``frame_index``, ``fps`` and ``start_ns``.

        Raises:
            ValueError: the writer is closed, ``frame_index`` < 1 or not increasing, a negative stamp,
                or non-finite boxes or scores. Nothing is written then.
        """
        if self._writer is None:
            raise ValueError(f"{self.path}: writer is closed")
        if frame_index < 1 or (self._last_index is not None and frame_index <= self._last_index):
            raise ValueError(
                f"{self.path}: frame_index {frame_index} after {self._last_index} (must increase, >= 1)"
            )
        if stamp_ns is None:
            stamp_ns = self.start_ns + round((frame_index - 1) * 1e9 / self.fps)
        msg = tracks_to_detection2d_array(
            tracks,
            stamp_ns=int(stamp_ns),
            frame_id=self.frame_id,
            message_class=self._typestore.types.__getitem__,
            class_names=self.class_names,
        )
        data = self._typestore.serialize_cdr(msg, DETECTION2D_ARRAY_TYPE)
        self._writer.write(self._conn, int(stamp_ns), data)
        self._last_index = int(frame_index)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the bag (index, metadata) and, for a ``.mcap`` path, move the file into place. Safe to
        call more than once."""
        writer, self._writer = getattr(self, "_writer", None), None
        if writer is None:
            return
        try:
            writer.close()
            if self._tmp is not None:
                produced = self._bag_dir / f"{self._bag_dir.name}.mcap"
                os.replace(produced, self.path)
        finally:
            self._cleanup_tmp()

    def _cleanup_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
