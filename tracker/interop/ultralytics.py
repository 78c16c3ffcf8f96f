"""Ultralytics ``Results`` -> :class:`~tracker.types.Detections`, duck-typed.

``ultralytics`` is AGPL-3.0, so this module never imports it: it reads the attributes a ``Results``
object has (``result.boxes.xyxy``, ``.conf``, ``.cls``), which may be torch tensors on any device or
numpy arrays. Use it with a model you run yourself::

    from ultralytics import YOLO            # your install, your licence
    from tracker import Detections, Tracker

    model, tracker = YOLO("yolo11n.pt"), Tracker("botsort", frame_rate=30)
    result = model(frame, classes=[0], verbose=False)[0]
    tracks = tracker.update(Detections.from_ultralytics(result), frame=frame)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..types import Detections
from ._arrays import to_numpy, whole_numbers

__all__ = ["detections_from_ultralytics"]


def detections_from_ultralytics(result: Any) -> Detections:
    """The boxes of one Ultralytics ``Results`` as :class:`~tracker.types.Detections`.

    Args:
        result: an object with ``boxes`` holding ``xyxy``: ``float[N,4]`` xyxy pixels of the original
            image, ``conf``: ``float[N]`` in ``[0, 1]`` and ``cls``: ``float[N]`` whole-number class
            ids; torch tensors (any device, any float precision) or numpy arrays. A one-element list
            (what ``model(frame)`` returns for one image) is accepted too. Track ids the model's own
            tracker may have set (``boxes.id``) are ignored.

    Returns:
        :class:`~tracker.types.Detections` (boxes ``float32[N,4]`` xyxy pixels, scores, class ids),
        validated like any other.

    Raises:
        TypeError: not a ``Results``-like object, or a list of several results (convert one per frame).
        ValueError: a result without axis-aligned boxes (classification, pose-only or oriented-box
            ``obb`` models), or invalid boxes, scores or class ids (the message names the field).
    """
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
        if len(result) != 1:
            raise TypeError(
                f"expected one Ultralytics Results, got a sequence of {len(result)}: convert one frame at a time"
            )
        result = result[0]
    if not hasattr(result, "boxes"):
        raise TypeError(f"expected an Ultralytics Results (with .boxes), got {type(result).__name__}")
    boxes = result.boxes
    if boxes is None:
        kind = "oriented boxes (.obb)" if getattr(result, "obb", None) is not None else "no boxes"
        raise ValueError(f"Ultralytics result has {kind}: only axis-aligned detection boxes are supported")
    for attr in ("xyxy", "conf", "cls"):
        if not hasattr(boxes, attr):
            raise TypeError(f"result.boxes has no .{attr}: not an Ultralytics Boxes object")
    xyxy = to_numpy(boxes.xyxy, "boxes.xyxy").astype(np.float32)
    if xyxy.size == 0:
        xyxy = np.zeros((0, 4), np.float32)
    scores = to_numpy(boxes.conf, "boxes.conf").astype(np.float32).reshape(-1)
    class_ids = whole_numbers(to_numpy(boxes.cls, "boxes.cls"), "boxes.cls")
    return Detections(xyxy, scores, class_ids)
