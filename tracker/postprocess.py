"""Offline post-processing of a finished sequence's results (both need frames after the one they
change, so neither can run inside the online :class:`~tracker.Tracker`).

:func:`interpolate_gaps` fills the frames a track missed between two of its boxes with boxes on the
straight line between them (the linear interpolation ByteTrack and OC-SORT apply to their
MOTChallenge results). ``bench --interpolate N`` applies it before scoring.

:func:`smooth_tracks` replaces each track's boxes by a Gaussian-weighted local linear fit over time
(in the spirit of StrongSORT's Gaussian-smoothed interpolation, without its Gaussian-process
solver): detector jitter averages out, and a moving box is not pulled back at the ends of its track
as a plain weighted mean would pull it. ``bench --smooth S`` applies it after the interpolation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .io.mot import MotResults
from .types import positive_rate

__all__ = ["interpolate_gaps", "max_gap_at", "smooth_tracks"]

_SMOOTH_BLOCK = 512
"""Rows of a track smoothed at once (bounds the ``[rows, frames]`` weight matrices)."""


def max_gap_at(frames_at_30fps: int, frame_rate: float) -> int:
    """A gap limit given in frames at 30 fps, in frames at ``frame_rate`` (at least 1 when positive):
    the same time span on every sequence."""
    if frames_at_30fps < 0:
        raise ValueError(f"interpolation gap must be >= 0 frames, got {frames_at_30fps}")
    frame_rate = positive_rate(frame_rate, "frame_rate")
    if frames_at_30fps == 0:
        return 0
    return max(1, round(frames_at_30fps * frame_rate / 30.0))


def _flatten(
    results: MotResults,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Every row of ``results``: frames ``int64[N]``, ids ``int64[N]``, boxes ``float64[N,4]`` xyxy,
    scores ``float64[N]``, sorted by id, then frame."""
    order_frames = sorted(results.frames)
    parts = [results.frames[t] for t in order_frames]
    frames = np.concatenate(
        [np.full(len(p.ids), t, np.int64) for t, p in zip(order_frames, parts, strict=True)]
    )
    ids = np.concatenate([p.ids for p in parts]).astype(np.int64)
    boxes = np.concatenate([p.boxes for p in parts]).astype(np.float64)
    scores = np.concatenate([p.scores for p in parts]).astype(np.float64)
    order = np.lexsort((frames, ids))
    return frames[order], ids[order], boxes[order], scores[order]


def _regroup(
    frames: NDArray[np.int64],
    ids: NDArray[np.int64],
    boxes: NDArray[np.float32],
    scores: NDArray[np.float32],
    path: Path | None,
) -> MotResults:
    """Rows in any order (``int64[N]``, ``int64[N]``, ``float32[N,4]`` xyxy, ``float32[N]``) back into
    read-only per-frame :class:`~tracker.io.mot.ResultFrame` s, ids sorted within a frame."""
    order = np.lexsort((ids, frames))  # by frame, then id
    return MotResults.from_rows(frames[order], ids[order], boxes[order], scores[order], path)


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
        ValueError: ``max_gap`` not an integer >= 0.
    """
    if isinstance(max_gap, bool) or not (isinstance(max_gap, (int, np.integer)) and max_gap >= 0):
        # (NaN compared false with everything and returned the results unchanged)
        raise ValueError(f"max_gap must be an integer >= 0 of frames, got {max_gap!r}")
    if max_gap <= 1 or not results.frames:
        return results
    frames, ids, boxes, scores = _flatten(results)
    gap = np.diff(frames)
    fill = ((ids[1:] == ids[:-1]) & (gap > 1) & (gap <= max_gap)).nonzero()[0]  # row i -> row i + 1
    if len(fill) == 0:
        return results
    missing = gap[fill] - 1  # frames to add in each gap
    src = np.repeat(fill, missing)
    # k = 1 .. missing within each gap
    k = np.arange(len(src)) - np.repeat(np.cumsum(missing) - missing, missing) + 1
    t = (k / gap[src])[:, None]
    new_boxes = (boxes[src] * (1.0 - t) + boxes[src + 1] * t).astype(np.float32)
    new_scores = (scores[src] * (1.0 - t[:, 0]) + scores[src + 1] * t[:, 0]).astype(np.float32)
    return _regroup(
        np.concatenate([frames, frames[src] + k]),
        np.concatenate([ids, ids[src]]),
        np.concatenate([boxes.astype(np.float32), new_boxes]),
        np.concatenate([scores.astype(np.float32), new_scores]),
        results.path,
    )


def smooth_tracks(results: MotResults, sigma: float) -> MotResults:
    """``results`` with every track's boxes replaced by a Gaussian-weighted local linear fit over time.

    For a track seen at frames ``t_j`` with boxes ``y_j`` (xyxy pixels), its box at ``t_i`` becomes
    ``a``, where the line ``a + b (t - t_i)`` minimises ``sum_j w_ij |y_j - a - b (t_j - t_i)|^2``
    with ``w_ij = exp(-(t_j - t_i)^2 / (2 sigma^2))`` (boxes more than 4 sigma away are left out): a
    weighted mean corrected for the track's own motion, so the ends of a moving track are not pulled
    inwards. Frames, ids and scores are unchanged; tracks of fewer than three boxes are left as they
    are. ``sigma`` 0 returns the results unchanged.

    Args:
        results: one sequence's results (``boxes float32[N,4]`` xyxy pixels).
        sigma: the Gaussian's width in frames (0 = off).

    Raises:
        ValueError: ``sigma`` negative or not finite.
    """
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma}")
    if sigma == 0 or not results.frames:
        return results
    frames, ids, boxes, scores = _flatten(results)
    out = boxes.copy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    reach = 4.0 * sigma
    for s, e in zip(starts, ends, strict=True):
        if e - s < 3:
            continue
        t = frames[s:e].astype(np.float64)
        y = boxes[s:e]
        for lo in range(0, e - s, _SMOOTH_BLOCK):
            ti = t[lo : lo + _SMOOTH_BLOCK]
            cols = ((t >= ti[0] - reach) & (t <= ti[-1] + reach)).nonzero()[0]  # (t is sorted)
            dt = t[cols][None, :] - ti[:, None]  # [rows, cols] frames
            w = np.exp(-0.5 * (dt / sigma) ** 2) * (np.abs(dt) <= reach)
            wdt = w * dt
            s0, s1, s2 = w.sum(axis=1), wdt.sum(axis=1), (wdt * dt).sum(axis=1)
            t0, t1 = w @ y[cols], wdt @ y[cols]  # [rows, 4]
            den = s0 * s2 - s1 * s1
            ok = den > 1e-9 * s0 * s0  # a line needs weight on two distinct frames
            fit = (s2[:, None] * t0 - s1[:, None] * t1) / np.where(ok, den, 1.0)[:, None]
            out[s + lo : s + lo + len(ti)] = np.where(ok[:, None], fit, y[lo : lo + len(ti)])
    return _regroup(frames, ids, out.astype(np.float32), scores.astype(np.float32), results.path)
