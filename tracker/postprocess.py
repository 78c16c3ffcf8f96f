"""Offline post-processing of a finished sequence's results (it needs frames after the gap, so it
cannot run inside the online :class:`~tracker.Tracker`).

:func:`interpolate_gaps` fills the frames a track missed between two of its boxes with boxes on the
straight line between them (the linear interpolation ByteTrack and OC-SORT apply to their
MOTChallenge results). ``bench --interpolate N`` applies it before scoring.
"""

from __future__ import annotations

import numpy as np

from .io.mot import MotResults, ResultFrame

__all__ = ["interpolate_gaps", "max_gap_at"]


def max_gap_at(frames_at_30fps: int, frame_rate: float) -> int:
    """A gap limit given in frames at 30 fps, in frames at ``frame_rate`` (at least 1 when positive):
    the same time span on every sequence."""
    if frames_at_30fps < 0:
        raise ValueError(f"interpolation gap must be >= 0 frames, got {frames_at_30fps}")
    if not np.isfinite(frame_rate) or frame_rate <= 0:
        raise ValueError(f"frame_rate must be a positive number, got {frame_rate}")
    if frames_at_30fps == 0:
        return 0
    return max(1, round(frames_at_30fps * frame_rate / 30.0))


def interpolate_gaps(results: MotResults, max_gap: int) -> MotResults:
    """``results`` with every gap of at most ``max_gap`` frames inside a track filled.

    A track seen at frames ``a`` and ``b`` (``1 < b - a <= max_gap``) and in none between gets a box
    at each frame ``a < t < b``: ``box_a + (t - a) / (b - a) * (box_b - box_a)`` (xyxy pixels), with
    the score interpolated the same way. Gaps before a track's first or after its last box are not
    filled (nothing is extrapolated), nor are longer gaps. ``max_gap`` 0 or 1 returns the results
    unchanged.

    Args:
        results: one sequence's results (frames with ``ids int64[N]``, ``boxes float32[N,4]`` xyxy
            pixels, ``scores float32[N]``).
        max_gap: the longest gap filled, in frames (the difference ``b - a``).

    Raises:
        ValueError: ``max_gap`` < 0.
    """
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    if max_gap <= 1 or not results.frames:
        return results
    order_frames = sorted(results.frames)
    parts = [results.frames[t] for t in order_frames]
    frames = np.concatenate(
        [np.full(len(p.ids), t, np.int64) for t, p in zip(order_frames, parts, strict=True)]
    )
    ids = np.concatenate([p.ids for p in parts]).astype(np.int64)
    boxes = np.concatenate([p.boxes for p in parts]).astype(np.float64)
    scores = np.concatenate([p.scores for p in parts]).astype(np.float64)
    order = np.lexsort((frames, ids))  # by id, then frame
    frames, ids, boxes, scores = frames[order], ids[order], boxes[order], scores[order]
    gap = np.diff(frames)
    fill = ((ids[1:] == ids[:-1]) & (gap > 1) & (gap <= max_gap)).nonzero()[0]  # row i -> row i + 1
    if len(fill) == 0:
        return results
    missing = gap[fill] - 1  # frames to add in each gap
    src = np.repeat(fill, missing)
    # k = 1 .. missing within each gap
    k = np.arange(len(src)) - np.repeat(np.cumsum(missing) - missing, missing) + 1
    t = (k / gap[src])[:, None]
    new_frames = frames[src] + k
    new_boxes = (boxes[src] * (1.0 - t) + boxes[src + 1] * t).astype(np.float32)
    new_scores = (scores[src] * (1.0 - t[:, 0]) + scores[src + 1] * t[:, 0]).astype(np.float32)
    all_frames = np.concatenate([frames, new_frames])
    all_ids = np.concatenate([ids, ids[src]])
    all_boxes = np.concatenate([boxes.astype(np.float32), new_boxes])
    all_scores = np.concatenate([scores.astype(np.float32), new_scores])
    order = np.lexsort((all_ids, all_frames))  # by frame, then id
    all_frames, all_ids = all_frames[order], all_ids[order]
    all_boxes, all_scores = all_boxes[order], all_scores[order]
    starts = np.flatnonzero(np.r_[True, all_frames[1:] != all_frames[:-1]])
    ends = np.r_[starts[1:], len(all_frames)]
    out: dict[int, ResultFrame] = {}
    for s, e in zip(starts, ends, strict=True):
        frame = ResultFrame(all_ids[s:e], all_boxes[s:e], all_scores[s:e])
        for a in frame:
            a.flags.writeable = False
        out[int(all_frames[s])] = frame
    return MotResults(out, results.path)
