"""MOTChallenge result rows as text, one frame at a time (for files written while a run goes on)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["format_result_rows"]


def format_result_rows(frame: int, ids: ArrayLike, boxes: ArrayLike, scores: ArrayLike) -> list[str]:
    """The 10-column MOTChallenge lines ``frame,id,x,y,w,h,score,-1,-1,-1`` of one frame, sorted by id.

    Args:
        frame: 1-based frame number.
        ids: ``int[M]`` track ids, unique within the frame.
        boxes: ``float[M,4]`` xyxy pixels (written as x, y, w, h with 2 decimals).
        scores: ``float[M]`` (4 decimals).

    Raises:
        ValueError: ``frame < 1`` or a repeated id.
    """
    if frame < 1:
        raise ValueError(f"frame numbers are 1-based, got {frame}")
    ids64 = np.asarray(ids, np.int64).reshape(-1)
    if len(np.unique(ids64)) != len(ids64):
        raise ValueError(f"frame {frame}: repeated track id in {ids64.tolist()}")
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    s = np.asarray(scores, np.float64).reshape(-1)
    lines = []
    for i in np.argsort(ids64, kind="stable"):
        x1, y1, x2, y2 = b[i]
        lines.append(
            f"{frame},{ids64[i]},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{s[i]:.4f},-1,-1,-1\n"
        )
    return lines
