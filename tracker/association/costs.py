"""Cost matrices between T tracks (rows) and M detections (columns).

Every function returns a finite ``float64[T,M]`` matrix; gated pairs are given a finite cost above any
match threshold (:data:`GATED`), never ``inf`` or ``NaN``, so the assignment solver stays well posed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..geometry import iou_matrix

__all__ = ["GATED", "cosine_distance", "fuse_min", "fuse_weighted", "iou_matrix"]

GATED = 1e4
"""Cost given to pairs that must not match. Finite and far above every threshold (all costs are <= 2)."""


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
