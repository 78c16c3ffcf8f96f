"""Roboflow ``supervision`` (MIT licence) <-> :class:`~tracker.types.Detections` / :class:`~tracker.types.Tracks`.

``supervision`` is imported only by :func:`tracks_to_supervision` (reading an ``sv.Detections`` needs
only its attributes), so ``import tracker`` stays light. Install it with ``pip install supervision``.

Round trip::

    import supervision as sv
    from tracker import Detections, Tracker

    tracker = Tracker("botsort", frame_rate=30)
    tracks = tracker.update(Detections.from_supervision(sv_detections), frame=frame)
    annotated = sv.BoxAnnotator().annotate(frame.copy(), tracks.to_supervision())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..types import Detections, Tracks
from ._arrays import to_numpy, whole_numbers

if TYPE_CHECKING:
    import supervision as sv

__all__ = ["detections_from_supervision", "tracks_to_supervision"]

_INSTALL_HINT = "supervision is not installed: pip install supervision"


def detections_from_supervision(detections: Any) -> Detections:
    """An ``sv.Detections`` (or anything with its ``xyxy``, ``confidence``, ``class_id`` attributes) as
    :class:`~tracker.types.Detections`.

    Args:
        detections: ``xyxy``: ``float[N,4]`` xyxy pixels; ``confidence``: ``float[N]`` in ``[0, 1]`` or
            ``None`` (then every score is 1.0); ``class_id``: ``int[N]`` or ``None`` (then 0).
            ``tracker_id``, ``mask`` and ``data`` are ignored.

    Returns:
        :class:`~tracker.types.Detections` with boxes ``float32[N,4]`` xyxy pixels, validated like any
        other (degenerate or non-finite boxes, scores outside ``[0, 1]`` raise).

    Raises:
        TypeError: ``detections`` has no ``xyxy`` attribute.
        ValueError: invalid boxes, scores or class ids (the message names the field), or class ids that
            are not whole numbers.
    """
    if not hasattr(detections, "xyxy"):
        raise TypeError(f"expected a supervision.Detections (with .xyxy), got {type(detections).__name__}")
    boxes = to_numpy(detections.xyxy, "xyxy")
    if boxes.size == 0:
        boxes = np.zeros((0, 4), np.float32)
    confidence = getattr(detections, "confidence", None)
    class_id = getattr(detections, "class_id", None)
    scores = None if confidence is None else to_numpy(confidence, "confidence").reshape(-1)
    class_ids = None if class_id is None else whole_numbers(to_numpy(class_id, "class_id"), "class_id")
    return Detections(boxes, scores, class_ids)


def tracks_to_supervision(tracks: Tracks) -> sv.Detections:
    """:class:`~tracker.types.Tracks` as an ``sv.Detections`` for supervision's annotators and tools.

    Returns:
        ``sv.Detections`` with ``xyxy``: ``float32[M,4]`` xyxy pixels, ``confidence``: ``float32[M]``,
        ``class_id``: ``int64[M]`` and ``tracker_id``: ``int64[M]`` (the track ids).

    Raises:
        ImportError: supervision is not installed.
    """
    try:
        import supervision as sv
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return sv.Detections(
        xyxy=np.array(tracks.boxes, np.float32).reshape(-1, 4),
        confidence=np.array(tracks.scores, np.float32),
        class_id=np.array(tracks.class_ids, np.int64),
        tracker_id=np.array(tracks.ids, np.int64),
    )
