"""Greedy non-maximum suppression in numpy (no OpenCV or torchvision needed).

:func:`nms` keeps the highest-scoring box, drops every remaining box whose IoU with it exceeds the
threshold, and repeats. With ``class_ids`` it is class-aware: boxes of different classes never suppress
each other (done, as in torchvision's ``batched_nms``, by shifting each class's boxes to a disjoint
region before one pass).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["box_iou", "nms"]


def box_iou(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Pairwise IoU of ``a: float[N,4]`` and ``b: float[M,4]`` xyxy boxes -> ``float32[N,M]``.

    Degenerate boxes (zero area) have IoU 0 with everything.
    """
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


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
    x1, y1, x2, y2 = b64[:, 0], b64[:, 1], b64[:, 2], b64[:, 3]
    area = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        union = area[i] + area[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, np.int64)
