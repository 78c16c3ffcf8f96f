"""Cost matrices between T tracks (rows) and M detections (columns).

Every function returns a finite ``float64[T,M]`` matrix; gated pairs are given a finite cost above any
match threshold (:data:`GATED`), never ``inf`` or ``NaN``, so the assignment solver stays well posed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GATED", "cosine_distance", "fuse_min", "fuse_weighted", "iou_matrix"]

GATED = 1e4
"""Cost given to pairs that must not match. Finite and far above every threshold (all costs are <= 2)."""


SPARSE_IOU_MIN_PAIRS = 4096
"""``iou_matrix`` switches from the dense broadcast to the sweep over x-overlapping pairs at this many
``T*M`` pairs (about 64 x 64 boxes); below it the dense form is faster. Both give identical values."""


def iou_matrix(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Intersection over union of every box in ``a`` with every box in ``b``.

    Large inputs (``T*M >= SPARSE_IOU_MIN_PAIRS``) compute only the pairs whose x-extents can overlap
    (boxes of ``b`` sorted by ``x1``, a window per box of ``a``), so the work grows with the pairs that
    can touch rather than with ``T*M`` (the result is still a dense zero-filled matrix, the same bit for
    bit).

    Args:
        a: ``float[T,4]`` xyxy pixels.
        b: ``float[M,4]`` xyxy pixels.

    Returns ``float64[T,M]`` in ``[0, 1]``.
    """
    a64: NDArray[np.float64] = np.asarray(a, dtype=np.float64)
    b64: NDArray[np.float64] = np.asarray(b, dtype=np.float64)
    if len(a64) == 0 or len(b64) == 0:
        return np.zeros((len(a64), len(b64)))
    if len(a64) * len(b64) >= SPARSE_IOU_MIN_PAIRS:
        return _iou_matrix_sweep(a64, b64)
    return _pair_iou(a64[:, None, :], b64[None, :, :])


def _pair_iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU of broadcastable box arrays ``float64[...,4]`` xyxy (the one formula both paths use)."""
    iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    result: NDArray[np.float64] = inter / np.maximum(area_a + area_b - inter, 1e-9)
    return result


def _iou_matrix_sweep(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`iou_matrix` computed only on pairs whose x-extents may overlap: ``b[j]`` can overlap
    ``a[i]`` only if ``a[i].x1 - max_width(b) <= b[j].x1 < a[i].x2``, a contiguous window of ``b``
    sorted by ``x1``. Same arithmetic as the dense form on those pairs, exact zeros elsewhere."""
    order = np.argsort(b[:, 0], kind="stable")
    bx1 = b[order, 0]
    max_w = float(np.max(b[:, 2] - b[:, 0]))
    lo = np.searchsorted(bx1, a[:, 0] - max_w, side="left")
    hi = np.searchsorted(bx1, a[:, 2], side="left")
    counts = np.maximum(hi - lo, 0)
    out = np.zeros((len(a), len(b)))
    total = int(counts.sum())
    if total == 0:
        return out
    rows = np.repeat(np.arange(len(a)), counts)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    cols = order[starts + np.arange(total)]
    out[rows, cols] = _pair_iou(a[rows], b[cols])
    return out


def cosine_distance(
    track_feats: NDArray[np.floating], det_feats: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Cosine distance ``1 - <t, d>`` between L2-normalised vectors, clipped to ``[0, 2]``.

    Args:
        track_feats: ``float[T,D]`` L2-normalised track appearance states.
        det_feats: ``float[M,D]`` L2-normalised detection embeddings.

    Returns ``float64[T,M]``.
    """
    if len(track_feats) == 0 or len(det_feats) == 0:
        return np.zeros((len(track_feats), len(det_feats)))
    sim = np.asarray(track_feats, dtype=np.float64) @ np.asarray(det_feats, dtype=np.float64).T
    return np.clip(1.0 - sim, 0.0, 2.0)


def fuse_min(
    motion: NDArray[np.float64],
    appearance: NDArray[np.float64],
    iou_distance: NDArray[np.float64],
    appearance_gate: float,
    proximity_gate: float,
) -> NDArray[np.float64]:
    """BoT-SORT fusion: ``min(motion, appearance / 2)`` where appearance may help.

    Appearance only lowers the cost of pairs that are both close in appearance
    (``appearance <= appearance_gate``) and near in space (``iou_distance <= proximity_gate``).

    Args:
        motion: ``float64[T,M]`` motion cost (e.g. ``1 - IoU * score``).
        appearance: ``float64[T,M]`` cosine distance.
        iou_distance: ``float64[T,M]`` plain ``1 - IoU``, for the proximity gate.

    Returns ``float64[T,M]``.
    """
    app = np.where((appearance > appearance_gate) | (iou_distance > proximity_gate), 1.0, 0.5 * appearance)
    return np.minimum(motion, app)


def fuse_weighted(
    motion: NDArray[np.float64],
    appearance: NDArray[np.float64],
    iou_distance: NDArray[np.float64],
    weight: float,
    appearance_gate: float,
    proximity_gate: float,
) -> NDArray[np.float64]:
    """DeepSORT-style fusion: ``(1 - weight) * motion + weight * appearance`` for pairs that pass both
    gates (``appearance <= appearance_gate`` and ``iou_distance <= proximity_gate``); other pairs keep
    the plain motion cost. Arguments as :func:`fuse_min`; returns ``float64[T,M]``."""
    fused = (1.0 - weight) * motion + weight * appearance
    ok = (appearance <= appearance_gate) & (iou_distance <= proximity_gate)
    return np.where(ok, fused, motion)
