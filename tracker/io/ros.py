"""ROS 2 message conversions: ``sensor_msgs`` images in, ``vision_msgs/Detection2DArray`` tracks out.

Everything here is duck-typed on message *attributes*, so the same functions serve messages that
``rosbags`` deserialises from a bag (:mod:`tracker.io.rosbag`) and live ``rclpy`` messages (see
``examples/ros2_tracker_node.py``). Neither ``rosbags`` nor ``rclpy`` is imported by this module.

* :func:`image_message_to_bgr`: ``sensor_msgs/msg/Image`` (encodings :data:`IMAGE_ENCODINGS`) or
  ``sensor_msgs/msg/CompressedImage`` (JPEG, PNG) -> ``uint8[H,W,3]`` BGR;
* :func:`tracks_to_detection2d_array`: :class:`~tracker.types.Tracks` -> ``vision_msgs/msg/Detection2DArray``,
  built with the message classes a lookup function returns (``typestore.types.__getitem__`` for
  ``rosbags``, ``rosidl_runtime_py.utilities.get_message`` for ``rclpy``);
* :func:`detection2d_array_to_arrays`: the inverse, for reading tracks back.

How tracks are written (one ``Detection2D`` per track, in the order of :class:`~tracker.types.Tracks`):
``id`` is the track id as a decimal string; ``bbox.center.position.x/y`` and ``bbox.size_x/size_y``
are the box centre and size in pixels, ``bbox.center.theta`` is 0; ``results[0].hypothesis.class_id``
is the class id as a string (or its name from ``class_names``) and ``.score`` the track's score; the
pose is left at the identity with zero covariance. Every header carries the frame's stamp and
``frame_id``.

The ``vision_msgs`` definitions (:data:`VISION_MSGS_DEFINITIONS`) are the field lines of
ros-perception/vision_msgs 4.1.1 (ROS 2 Humble and later), Apache License 2.0; comments are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

from ..types import Tracks

__all__ = [
    "COMPRESSED_FORMATS",
    "COMPRESSED_IMAGE_TYPE",
    "DETECTION2D_ARRAY_TYPE",
    "IMAGE_ENCODINGS",
    "IMAGE_TYPE",
    "VISION_MSGS_DEFINITIONS",
    "Detection2DArrays",
    "compressed_image_to_bgr",
    "detection2d_array_to_arrays",
    "fps_from_stamps",
    "image_message_to_bgr",
    "image_to_bgr",
    "ns_to_stamp",
    "stamp_to_ns",
    "tracks_to_detection2d_array",
]

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage"
DETECTION2D_ARRAY_TYPE = "vision_msgs/msg/Detection2DArray"

_NS_PER_S = 1_000_000_000

VISION_MSGS_DEFINITIONS: Mapping[str, str] = {
    # ros-perception/vision_msgs 4.1.1, vision_msgs/msg/*.msg (Apache-2.0): field lines only.
    "vision_msgs/msg/Point2D": "float64 x\nfloat64 y\n",
    "vision_msgs/msg/Pose2D": "vision_msgs/Point2D position\nfloat64 theta\n",
    "vision_msgs/msg/BoundingBox2D": "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
    "vision_msgs/msg/ObjectHypothesis": "string class_id\nfloat64 score\n",
    "vision_msgs/msg/ObjectHypothesisWithPose": (
        "ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n"
    ),
    "vision_msgs/msg/Detection2D": (
        "std_msgs/Header header\nObjectHypothesisWithPose[] results\nBoundingBox2D bbox\nstring id\n"
    ),
    "vision_msgs/msg/Detection2DArray": "std_msgs/Header header\nDetection2D[] detections\n",
}
"""``.msg`` text of the ``vision_msgs`` types a ``Detection2DArray`` needs, keyed by full type name,
in dependency order."""

# encoding -> (channels, bytes per channel, OpenCV conversion to BGR or None)
_ENCODINGS: Mapping[str, tuple[int, int, int | None]] = {
    "bgr8": (3, 1, None),
    "8UC3": (3, 1, None),
    "rgb8": (3, 1, cv2.COLOR_RGB2BGR),
    "bgra8": (4, 1, cv2.COLOR_BGRA2BGR),
    "8UC4": (4, 1, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, 1, cv2.COLOR_RGBA2BGR),
    "mono8": (1, 1, cv2.COLOR_GRAY2BGR),
    "8UC1": (1, 1, cv2.COLOR_GRAY2BGR),
    "mono16": (1, 2, cv2.COLOR_GRAY2BGR),
    "16UC1": (1, 2, cv2.COLOR_GRAY2BGR),
    "yuv422": (2, 1, cv2.COLOR_YUV2BGR_UYVY),
    "uyvy": (2, 1, cv2.COLOR_YUV2BGR_UYVY),
    "yuv422_yuy2": (2, 1, cv2.COLOR_YUV2BGR_YUY2),
    "yuyv": (2, 1, cv2.COLOR_YUV2BGR_YUY2),
}

IMAGE_ENCODINGS: tuple[str, ...] = tuple(_ENCODINGS)
"""``sensor_msgs/Image`` encodings :func:`image_to_bgr` reads. 16-bit grey keeps its high byte;
``yuv422`` is UYVY and ``yuv422_yuy2`` is YUYV (as in ``sensor_msgs/image_encodings.hpp``)."""

COMPRESSED_FORMATS: tuple[str, ...] = ("jpeg", "jpg", "png")
"""Words accepted in ``CompressedImage.format`` (``"jpeg"``, ``"png"``, or image_transport's
``"bgr8; jpeg compressed bgr8"``). An empty format is decoded by content."""


def stamp_to_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time`` (``sec``, ``nanosec``) -> integer nanoseconds."""
    return int(stamp.sec) * _NS_PER_S + int(stamp.nanosec)


def ns_to_stamp(ns: int) -> tuple[int, int]:
    """Integer nanoseconds ``>= 0`` -> ``(sec, nanosec)`` for a ``builtin_interfaces/Time``.

    Raises:
        ValueError: ``ns`` is negative or past the 32-bit ``sec`` field.
    """
    ns = int(ns)
    sec, nanosec = divmod(ns, _NS_PER_S)
    if ns < 0 or sec >= 2**31:
        raise ValueError(f"stamp: {ns} ns does not fit builtin_interfaces/Time (0 <= sec < 2**31)")
    return sec, nanosec


def _buffer(data: Any) -> NDArray[np.uint8]:
    """A message's ``uint8[]`` field (numpy array from rosbags, ``array('B')``/bytes from rclpy) as a
    flat ``uint8`` array, without copying where possible."""
    if isinstance(data, np.ndarray):
        flat = np.ascontiguousarray(data).reshape(-1)  # contiguous: image_to_bgr strides over it
        return flat.view(np.uint8) if flat.dtype.itemsize == 1 else flat.astype(np.uint8)
    try:
        return np.frombuffer(memoryview(data).cast("B"), np.uint8)
    except TypeError:  # a list of ints
        return np.asarray(data, np.uint8).reshape(-1)


def image_to_bgr(msg: Any) -> NDArray[np.uint8]:
    """A ``sensor_msgs/msg/Image`` as ``uint8[H,W,3]`` BGR (a new array).

    Args:
        msg: has ``height``, ``width``, ``encoding`` (one of :data:`IMAGE_ENCODINGS`), ``is_bigendian``,
            ``step`` (bytes per row, padding allowed) and ``data``.

    Raises:
        ValueError: unsupported encoding (the message lists the supported ones), a zero size, or
            ``data``/``step`` too short for ``height`` x ``width``.
    """
    encoding = str(msg.encoding)
    if encoding not in _ENCODINGS:
        raise ValueError(
            f"unsupported sensor_msgs/Image encoding {encoding!r} (supported: {', '.join(IMAGE_ENCODINGS)})"
        )
    channels, depth, conversion = _ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ValueError(f"sensor_msgs/Image: empty image ({width}x{height})")
    row = width * channels * depth
    if channels == 2 and width % 2:
        raise ValueError(f"sensor_msgs/Image: {encoding} needs an even width, got {width}")
    if step < row:
        raise ValueError(f"sensor_msgs/Image: step {step} < {row} bytes for {width} px of {encoding}")
    data = _buffer(msg.data)
    if data.size < step * (height - 1) + row:
        raise ValueError(
            f"sensor_msgs/Image: {data.size} data bytes, {encoding} {width}x{height} with step {step} "
            f"needs {step * (height - 1) + row}"
        )
    rows = np.lib.stride_tricks.as_strided(data, (height, row), (step, 1), writeable=False)
    if depth == 2:
        dtype = np.dtype(">u2" if int(msg.is_bigendian) else "<u2")
        pixels = np.ascontiguousarray(rows).view(dtype).reshape(height, width)
        image = (pixels >> 8).astype(np.uint8)  # keep the high byte: 16-bit grey -> 8-bit grey
    else:
        image = np.ascontiguousarray(rows).reshape(height, width, channels)
    if conversion is None:
        return np.array(image, np.uint8)
    return np.asarray(cv2.cvtColor(image, conversion), np.uint8)


def compressed_image_to_bgr(msg: Any) -> NDArray[np.uint8]:
    """A ``sensor_msgs/msg/CompressedImage`` (JPEG or PNG) as ``uint8[H,W,3]`` BGR.

    Args:
        msg: has ``format`` (see :data:`COMPRESSED_FORMATS`) and ``data`` (the encoded bytes).

    Raises:
        ValueError: an unsupported format (``compressedDepth``, video codecs, ...) or bytes that do not
            decode.
    """
    fmt = str(msg.format)
    words = fmt.lower().replace(";", " ").split()
    if "compresseddepth" in words or (words and not set(words) & set(COMPRESSED_FORMATS)):
        raise ValueError(
            f"unsupported sensor_msgs/CompressedImage format {fmt!r} (supported: {', '.join(COMPRESSED_FORMATS)})"
        )
    data = _buffer(msg.data)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"sensor_msgs/CompressedImage: {data.size} bytes of {fmt!r} do not decode")
    return np.asarray(image, np.uint8)


def image_message_to_bgr(msg: Any) -> NDArray[np.uint8]:
    """``sensor_msgs/msg/Image`` or ``sensor_msgs/msg/CompressedImage`` (told apart by their fields:
    ``encoding`` or ``format``) as ``uint8[H,W,3]`` BGR. See :func:`image_to_bgr` and
    :func:`compressed_image_to_bgr` for the errors."""
    if hasattr(msg, "encoding"):
        return image_to_bgr(msg)
    if hasattr(msg, "format"):
        return compressed_image_to_bgr(msg)
    raise ValueError(f"{type(msg).__name__} is neither a sensor_msgs/Image nor a sensor_msgs/CompressedImage")


def _class_label(class_id: int, class_names: Mapping[int, str] | Sequence[str] | None) -> str:
    if class_names is None:
        return str(class_id)
    if isinstance(class_names, Mapping):
        return str(class_names.get(class_id, class_id))
    return class_names[class_id] if 0 <= class_id < len(class_names) else str(class_id)


def tracks_to_detection2d_array(
    tracks: Tracks,
    *,
    stamp_ns: int,
    frame_id: str,
    message_class: Callable[[str], Any],
    class_names: Mapping[int, str] | Sequence[str] | None = None,
) -> Any:
    """One frame's tracks as a ``vision_msgs/msg/Detection2DArray`` (layout in the module docstring).

    Args:
        tracks: boxes ``float32[M,4]`` xyxy pixels, ids, scores, class ids.
        stamp_ns: the frame's time in nanoseconds (``>= 0``), written to every header.
        frame_id: the camera's TF frame (``header.frame_id``).
        message_class: full type name (``"vision_msgs/msg/Detection2D"``) -> message class whose
            constructor takes the fields as keywords: ``rosbags``' ``typestore.types.__getitem__`` or
            rclpy's ``rosidl_runtime_py.utilities.get_message``.
        class_names: optional names for ``hypothesis.class_id`` (``["person"]`` or ``{0: "person"}``);
            ids without a name, and every id when ``None``, are written as decimal strings.

    Raises:
        ValueError: a negative or too large ``stamp_ns``, or non-finite boxes or scores.
    """
    sec, nanosec = ns_to_stamp(stamp_ns)
    boxes = np.asarray(tracks.boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(tracks.scores, np.float64).reshape(-1)
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError("tracks: non-finite boxes or scores")
    time_cls = message_class("builtin_interfaces/msg/Time")
    header_cls = message_class("std_msgs/msg/Header")
    point_cls = message_class("geometry_msgs/msg/Point")
    quat_cls = message_class("geometry_msgs/msg/Quaternion")
    pose_cls = message_class("geometry_msgs/msg/Pose")
    pose_cov_cls = message_class("geometry_msgs/msg/PoseWithCovariance")
    hyp_cls = message_class("vision_msgs/msg/ObjectHypothesis")
    hyp_pose_cls = message_class("vision_msgs/msg/ObjectHypothesisWithPose")
    point2d_cls = message_class("vision_msgs/msg/Point2D")
    pose2d_cls = message_class("vision_msgs/msg/Pose2D")
    bbox_cls = message_class("vision_msgs/msg/BoundingBox2D")
    det_cls = message_class("vision_msgs/msg/Detection2D")
    array_cls = message_class(DETECTION2D_ARRAY_TYPE)

    def header() -> Any:
        return header_cls(stamp=time_cls(sec=sec, nanosec=nanosec), frame_id=str(frame_id))

    centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    sizes = boxes[:, 2:] - boxes[:, :2]
    detections = []
    for k in range(len(boxes)):
        pose = pose_cov_cls(
            pose=pose_cls(
                position=point_cls(x=0.0, y=0.0, z=0.0),
                orientation=quat_cls(x=0.0, y=0.0, z=0.0, w=1.0),
            ),
            covariance=np.zeros(36, np.float64),
        )
        hypothesis = hyp_cls(
            class_id=_class_label(int(tracks.class_ids[k]), class_names), score=float(scores[k])
        )
        bbox = bbox_cls(
            center=pose2d_cls(
                position=point2d_cls(x=float(centres[k, 0]), y=float(centres[k, 1])), theta=0.0
            ),
            size_x=float(sizes[k, 0]),
            size_y=float(sizes[k, 1]),
        )
        detections.append(
            det_cls(
                header=header(),
                results=[hyp_pose_cls(hypothesis=hypothesis, pose=pose)],
                bbox=bbox,
                id=str(int(tracks.ids[k])),
            )
        )
    return array_cls(header=header(), detections=detections)


class Detection2DArrays(NamedTuple):
    """The content of one ``Detection2DArray`` as arrays.

    Attributes:
        stamp_ns: header stamp in nanoseconds.
        frame_id: header frame id.
        ids: ``Detection2D.id`` of each detection (track ids as strings; may be empty strings).
        boxes: ``float32[N,4]`` xyxy pixels, from ``bbox`` centre and size (``theta`` ignored).
        class_ids: ``results[0].hypothesis.class_id`` of each detection (``""`` without results).
        scores: ``float32[N]`` ``results[0].hypothesis.score`` (0 without results).
    """

    stamp_ns: int
    frame_id: str
    ids: tuple[str, ...]
    boxes: NDArray[np.float32]
    class_ids: tuple[str, ...]
    scores: NDArray[np.float32]


def detection2d_array_to_arrays(msg: Any) -> Detection2DArrays:
    """A ``vision_msgs/msg/Detection2DArray`` (vision_msgs 4.x layout) as :class:`Detection2DArrays`."""
    dets = list(msg.detections)
    boxes = np.zeros((len(dets), 4), np.float32)
    scores = np.zeros(len(dets), np.float32)
    class_ids: list[str] = []
    for k, det in enumerate(dets):
        cx, cy = float(det.bbox.center.position.x), float(det.bbox.center.position.y)
        w, h = float(det.bbox.size_x), float(det.bbox.size_y)
        boxes[k] = (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)
        results = list(det.results)
        if results:
            scores[k] = float(results[0].hypothesis.score)
            class_ids.append(str(results[0].hypothesis.class_id))
        else:
            class_ids.append("")
    return Detection2DArrays(
        stamp_ns=stamp_to_ns(msg.header.stamp),
        frame_id=str(msg.header.frame_id),
        ids=tuple(str(d.id) for d in dets),
        boxes=boxes,
        class_ids=tuple(class_ids),
        scores=scores,
    )


def fps_from_stamps(stamps_ns: Sequence[int], max_fps: float) -> float | None:
    """Frame rate from consecutive stamps: ``1 / median(positive differences)``, or ``None`` with fewer
    than two distinct stamps or a rate above ``max_fps``."""
    diffs = np.diff(np.asarray(stamps_ns, np.int64))
    diffs = diffs[diffs > 0]
    if not len(diffs):
        return None
    fps = _NS_PER_S / float(np.median(diffs))
    return fps if math.isfinite(fps) and 0 < fps <= max_fps else None
