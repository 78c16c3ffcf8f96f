"""Greedy non-maximum suppression in numpy (no OpenCV or torchvision needed).

:func:`nms` keeps the highest-scoring box, drops every remaining box whose IoU with it exceeds the
threshold, and repeats. With ``class_ids`` it is class-aware: boxes of different classes never suppress
each other (done, as in torchvision's ``batched_nms``, by shifting each class's boxes to a disjoint
region before one pass). Overlaps are :func:`tracker.geometry.iou_matrix`, the package's one IoU.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..geometry import iou_matrix

__all__ = ["box_iou", "nms"]


def box_iou(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Pairwise IoU of ``a: float[N,4]`` and ``b: float[M,4]`` xyxy boxes -> ``float32[N,M]``.

    Kept for the public ``tracker.detect.box_iou`` name; it is :func:`tracker.geometry.iou_matrix`
    (the package's one IoU) in float32. Zero-area boxes have IoU 0 with everything.
    """
    return iou_matrix(
        np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    ).astype(np.float32)


def nms(
    boxes: ArrayLike,
    scores: ArrayLike,
    iou_threshold: float,
    class_ids: ArrayLike | None = None,
    max_detections: int | None = None,
) -> NDArray[np.int64]:
    """Greedy NMS.

    Args:
        boxes: ``float[N,4]`` xyxy.
        scores: ``float[N]``.
        iou_threshold: a box is suppressed when its IoU with a kept box is strictly greater than this.
        class_ids: ``int[N]``; when given, suppression happens only within a class.
        max_detections: stop after keeping this many boxes (``None`` = no limit).

    Returns:
        ``int64[K]`` indices of the kept boxes, highest score first (ties keep input order).
    """
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    s = np.asarray(scores, np.float32).reshape(-1)
    if len(s) != len(b):
        raise ValueError(f"nms: {len(s)} scores for {len(b)} boxes")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"nms: iou_threshold must be in [0, 1], got {iou_threshold}")
    if max_detections is not None and max_detections < 0:
        raise ValueError(f"nms: max_detections must be >= 0, got {max_detections}")
    limit = len(b) if max_detections is None else min(len(b), max_detections)
    if limit == 0:
        return np.zeros(0, np.int64)
    if class_ids is not None:
        c = np.asarray(class_ids, np.int64).reshape(-1)
        if len(c) != len(b):
            raise ValueError(f"nms: {len(c)} class ids for {len(b)} boxes")
        span = float(b.max() - b.min()) + 1.0
        # Move each class to its own region so boxes of different classes cannot overlap; float64 keeps
        # the shifted coordinates exact enough for many classes.
        _, dense = np.unique(c, return_inverse=True)
        b64 = b.astype(np.float64) + (dense.reshape(-1) * span)[:, None]
    else:
        b64 = b.astype(np.float64)
    # Boxes with negative width or height count as empty (zero area), as before the shared IoU.
    b64[:, 2] = np.maximum(b64[:, 2], b64[:, 0])
    b64[:, 3] = np.maximum(b64[:, 3], b64[:, 1])
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iou = iou_matrix(b64[i : i + 1], b64[rest])[0]
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, np.int64)
