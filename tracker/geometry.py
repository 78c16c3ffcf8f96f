"""Boxes and their overlap, once for the whole package.

Box format everywhere: ``float[N,4]`` x1, y1, x2, y2 in pixels (xyxy). Every module that needs an IoU
(association costs, NMS, scoring) uses :func:`iou_matrix` from here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["SPARSE_IOU_MIN_PAIRS", "box_areas", "iou_matrix", "overlap_pairs", "paired_iou"]


SPARSE_IOU_MIN_PAIRS = 4096
"""``iou_matrix`` switches from the dense broadcast to the sweep over x-overlapping pairs at this many
``T*M`` pairs (about 64 x 64 boxes); below it the dense form is faster. Both give identical values."""


def iou_matrix(
    a: NDArray[np.floating],
    b: NDArray[np.floating],
    area_a: NDArray[np.float64] | None = None,
    area_b: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Intersection over union of every box in ``a`` with every box in ``b``.

    Large inputs (``T*M >= SPARSE_IOU_MIN_PAIRS``) compute only the pairs whose x-extents can overlap
    (boxes of ``b`` sorted by ``x1``, a window per box of ``a``; in packed scenes also split in
    horizontal bands, :func:`_window_pairs`), so the work grows with the pairs that can touch rather
    than with ``T*M`` (the result is still a dense zero-filled matrix, the same bit for
    bit).

    Args:
        a: ``float[T,4]`` xyxy pixels.
        b: ``float[M,4]`` xyxy pixels.
        area_a, area_b: optional ``float64[T]`` / ``float64[M]`` areas of ``a`` / ``b`` as
            :func:`box_areas` computes them (a caller that slices the same boxes many times computes
            them once).

    Returns ``float64[T,M]`` in ``[0, 1]``.
    """
    a64: NDArray[np.float64] = np.asarray(a, dtype=np.float64)
    b64: NDArray[np.float64] = np.asarray(b, dtype=np.float64)
    if len(a64) == 0 or len(b64) == 0:
        return np.zeros((len(a64), len(b64)))
    if len(a64) * len(b64) >= SPARSE_IOU_MIN_PAIRS:
        return _iou_matrix_sweep(a64, b64)
    aa = box_areas(a64) if area_a is None else area_a
    ab = box_areas(b64) if area_b is None else area_b
    return _pair_iou(a64[:, None, :], b64[None, :, :], aa[:, None], ab[None, :])


def box_areas(boxes: NDArray[np.float64]) -> NDArray[np.float64]:
    """``float64[K]`` areas ``(x2 - x1) * (y2 - y1)`` of ``float64[K,4]`` xyxy boxes (the areas every IoU
    here uses)."""
    out: NDArray[np.float64] = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return out


def _pair_iou(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    area_a: NDArray[np.float64] | None = None,
    area_b: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """IoU of broadcastable box arrays ``float64[...,4]`` xyxy (the one formula every path uses;
    :func:`overlap_pairs` spells the same operations out per coordinate, equal bit for bit);
    ``area_a`` / ``area_b``: their areas, shaped like ``a[..., 0]`` / ``b[..., 0]``, when already known
    (the same values :func:`box_areas` gives)."""
    # in place after the first op of each line: the same arithmetic, fewer temporaries (1.8x faster
    # at 300 x 300 boxes, level at a dozen)
    iw = np.minimum(a[..., 2], b[..., 2])
    iw -= np.maximum(a[..., 0], b[..., 0])
    ih = np.minimum(a[..., 3], b[..., 3])
    ih -= np.maximum(a[..., 1], b[..., 1])
    np.maximum(iw, 0.0, out=iw)
    np.maximum(ih, 0.0, out=ih)
    iw *= ih  # the intersections
    if area_a is None:
        area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    if area_b is None:
        area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b
    if union.shape == iw.shape:
        union -= iw
    else:  # (areas that broadcast to less than the pairs' shape)
        union = union - iw
    np.maximum(union, 1e-9, out=union)
    iw /= union
    result: NDArray[np.float64] = iw
    return result


def _iou_matrix_sweep(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`iou_matrix` computed only on the candidate pairs of :func:`_window_pairs`. Same
    arithmetic as the dense form on those pairs, exact zeros elsewhere."""
    out = np.zeros((len(a), len(b)))
    rows, cols = _window_pairs(a, b)
    if len(rows):
        out[rows, cols] = _pair_iou(a[rows], b[cols])
    return out


BAND_MIN_CANDIDATES_PER_BOX = 64
"""When the x sweep of :func:`_window_pairs` finds more candidates than this per box of ``a`` (a packed
scene: about 1,000 people in a 1080p frame), the boxes of ``b`` are also split in horizontal bands and
each box of ``a`` searches only the bands it can reach: at 2,000 people 4.9 instead of 8.1 ms per
:func:`overlap_pairs`, and 40 us slower than the plain sweep at 200."""

_BAND_HEIGHT = 0.5
"""Band height as a fraction of the tallest box of ``b`` (0.25 / 0.5 / 1.0: 6.0 / 5.0 / 5.5 ms at
2,000 people)."""


def _window_pairs(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Candidate pairs ``(rows of a, rows of b)``, ``int64[P]`` each, sorted by row of ``a``, that
    include every pair of boxes that overlap (more may follow; each pair once).

    ``b[j]`` can overlap ``a[i]`` only if ``a[i].x1 - max_width(b) <= b[j].x1 < a[i].x2``: a contiguous
    window of ``b`` sorted by ``x1``. In packed scenes (more than :data:`BAND_MIN_CANDIDATES_PER_BOX`
    candidates per box) the same window is searched in each horizontal band of ``b`` (by ``y1``) that
    can reach ``a[i]``: ``a[i].y1 - max_height(b) < b[j].y1 < a[i].y2``.

    Args:
        a: ``float64[T,4]`` xyxy pixels, ``T >= 1``.
        b: ``float64[M,4]`` xyxy pixels, ``M >= 1``.
    """
    bx1 = b[:, 0]
    max_w = float(np.max(b[:, 2] - bx1))
    order = np.argsort(bx1, kind="stable")
    sorted_x1 = bx1[order]
    lo = np.searchsorted(sorted_x1, a[:, 0] - max_w, side="left")
    hi = np.searchsorted(sorted_x1, a[:, 2], side="left")
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total > BAND_MIN_CANDIDATES_PER_BOX * len(a):
        banded = _band_pairs(a, b, max_w)
        if banded is not None:
            return banded
    return np.repeat(np.arange(len(a)), counts), order[_ranges(lo, counts, total)]


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64], total: int) -> NDArray[np.int64]:
    """The ranges ``starts[k] .. starts[k] + counts[k] - 1`` one after the other, ``int64[total]``
    (``total`` = ``counts.sum()``, ``counts >= 0``), without a Python loop."""
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)


_BAND_KEY_LIMIT = 2.0**44
"""Largest band key :func:`_band_pairs` uses: float64 keys up to 2**44 are spaced at most 2**-8 px
apart, well inside its one-pixel margin. Boxes spread further (coordinates of 10**13 px and more)
keep the plain sweep."""


def _band_pairs(
    a: NDArray[np.float64], b: NDArray[np.float64], max_w: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
    """:func:`_window_pairs` in horizontal bands: ``b`` sorted by (band of ``y1``, ``x1``) as one key
    ``band * span + (x1 - min x1)``, and one x window per (box of ``a``, band it can reach). The
    windows are one pixel wider on each side than the exact bounds (the key's rounding cannot drop a
    pair; the extra pairs do not overlap and are filtered by the callers). ``None`` when the keys
    would pass :data:`_BAND_KEY_LIMIT`."""
    bx1, by1 = b[:, 0], b[:, 1]
    max_h = float(np.max(b[:, 3] - by1))
    x0, y0 = float(bx1.min()), float(by1.min())
    height = max(max_h * _BAND_HEIGHT, 1.0)
    band = ((by1 - y0) // height).astype(np.int64)
    last_band = int(band.max())
    span = 2.0 * (float(bx1.max()) - x0) + 4.0  # offsets in a band: [0, span / 2 - 2]
    if (last_band + 1) * span > _BAND_KEY_LIMIT:
        return None
    key = band * span + (bx1 - x0)
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.maximum(((a[:, 1] - max_h - y0) // height).astype(np.int64), 0)
    reach = np.maximum(np.minimum(((a[:, 3] - y0) // height).astype(np.int64), last_band) - first + 1, 0)
    queries = int(reach.sum())
    qa = np.repeat(np.arange(len(a)), reach)
    qband = _ranges(first, reach, queries)
    base = qband * span
    # offsets clipped to (-span / 4, 3 span / 4): a window never leaves its band's keys
    lo = np.searchsorted(key, base + np.clip(a[qa, 0] - max_w - x0 - 1.0, -0.25 * span, 0.75 * span))
    hi = np.searchsorted(key, base + np.clip(a[qa, 2] - x0 + 1.0, -0.25 * span, 0.75 * span))
    counts = np.maximum(hi - lo, 0)
    return np.repeat(qa, counts), order[_ranges(lo, counts, int(counts.sum()))]


def overlap_pairs(
    a: NDArray[np.floating], b: NDArray[np.floating]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The pairs of boxes of ``a`` and ``b`` that overlap (IoU > 0), and their IoU, without a dense matrix.

    Same candidate windows as :func:`iou_matrix` (:func:`_window_pairs`) and the same arithmetic:
    ``iou`` equals ``iou_matrix(a, b)[i, j]`` bit for bit.

    Args:
        a: ``float[T,4]`` xyxy pixels.
        b: ``float[M,4]`` xyxy pixels.

    Returns ``(i, j, iou)``: ``int64[P]`` rows of ``a``, ``int64[P]`` rows of ``b`` (sorted by ``i``)
    and ``float64[P]`` their IoU in ``(0, 1]``.
    """
    a64: NDArray[np.float64] = np.asarray(a, dtype=np.float64)
    b64: NDArray[np.float64] = np.asarray(b, dtype=np.float64)
    if len(a64) == 0 or len(b64) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    rows, cols = _window_pairs(a64, b64)
    if len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    # _pair_iou's arithmetic in the same order, one coordinate at a time on contiguous copies,
    # dropping each candidate as soon as it cannot overlap (most window candidates do not overlap in
    # y): at 2,000 people an update's three sweeps take 5.5 ms instead of 6.6 with whole boxes
    # gathered for every candidate (benchmarks/results/speed_stop39.md)
    ax1, ay1, ax2, ay2 = np.ascontiguousarray(a64.T)
    bx1, by1, bx2, by2 = np.ascontiguousarray(b64.T)
    ih = np.minimum(ay2[rows], by2[cols])
    ih -= np.maximum(ay1[rows], by1[cols])
    touch = ih > 0.0
    rows, cols, ih = rows[touch], cols[touch], ih[touch]
    iw = np.minimum(ax2[rows], bx2[cols])
    iw -= np.maximum(ax1[rows], bx1[cols])
    cross = iw > 0.0
    rows, cols, iou = rows[cross], cols[cross], iw[cross]
    iou *= ih[cross]  # the intersections
    union = box_areas(a64)[rows]
    union += box_areas(b64)[cols]
    union -= iou
    np.maximum(union, 1e-9, out=union)
    iou /= union
    keep = iou > 0  # (an intersection too small to survive the division)
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64), iou[keep]


def paired_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """IoU of ``a[k]`` with ``b[k]`` for each row: ``float[P,4]`` xyxy each -> ``float64[P]`` (the same
    arithmetic as :func:`iou_matrix`)."""
    return _pair_iou(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
