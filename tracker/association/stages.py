"""Association as declared stages, and the small runner that runs them in order.

A stage (:class:`~tracker.config.StageConfig`, data from a preset's YAML) names a track pool, a
detection band, a cost (a composition of the cost terms of :mod:`tracker.association.terms`) and the
largest cost that may still match. :func:`run_stages` runs the stages in order over one frame: each
stage sees the tracks and detections that earlier stages left unmatched, builds its cost on just those
rows and columns, and solves a gated assignment (:func:`tracker.association.assign.match`; a stage
with ``solver: iterative`` uses TrackTrack's mutual-best rounds instead,
:func:`tracker.association.assign.match_iterative`). It hands back every match (in stage order) and
what was left over; the life cycle (apply matches, mark lost, remove, start tracks) is the caller's.

This module knows nothing of the tracker: everything a cost needs comes in an
:class:`~tracker.association.terms.AssociationFrame`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..config import StageConfig
from .assign import match, match_iterative, match_iterative_pairs, match_pairs
from .terms import AssociationFrame, build_cost, build_pair_cost, sparse_candidates

__all__ = ["StageResult", "run_stages"]

log = logging.getLogger("tracker")

_EMPTY = np.zeros(0, np.int64)
_EMPTY.setflags(write=False)

SPARSE_STAGE_MIN_PAIRS = 16384
"""A stage with at least this many ``tracks x detections`` pairs (about 128 x 128) builds its cost only
on the pairs that can match (boxes that overlap, see
:func:`~tracker.association.terms.sparse_candidates`) and solves per connected component, so its work
grows with the pairs that touch rather than with ``T * M``. Smaller stages use the dense matrix."""


@dataclass(frozen=True)
class StageResult:
    """What the stages of one frame decided.

    Attributes:
        tracks: ``int64[K]`` matched track rows, stage by stage (each stage's in solver order).
        detections: ``int64[K]`` the detection matched to each of them.
        stage_counts: matches made by each stage, in stage order (``sum == K``).
        track_unmatched: ``bool[T]`` tracks no stage matched.
        det_unmatched: ``bool[N]`` detections no stage matched.
    """

    tracks: NDArray[np.int64]
    detections: NDArray[np.int64]
    stage_counts: tuple[int, ...]
    track_unmatched: NDArray[np.bool_]
    det_unmatched: NDArray[np.bool_]

    @property
    def stage(self) -> NDArray[np.int64]:
        """``int64[K]``: index of the stage that made each match (built on request)."""
        return np.repeat(np.arange(len(self.stage_counts), dtype=np.int64), self.stage_counts)


def run_stages(stages: Sequence[StageConfig], frame: AssociationFrame) -> StageResult:
    """Run ``stages`` in order over one frame.

    Args:
        stages: the stages, in order.
        frame: tracks, detections, pools and bands of this frame (see
            :class:`~tracker.association.terms.AssociationFrame`).

    Returns:
        :class:`StageResult`; a track or detection is matched at most once.
    """
    n_tracks = len(frame.track_boxes)
    n_dets = len(frame.det_boxes)
    track_free = _all_true(n_tracks)
    det_free = _all_true(n_dets)
    out_t: list[NDArray[np.int64]] = []
    out_d: list[NDArray[np.int64]] = []
    counts = [0] * len(stages)
    if n_tracks and n_dets:
        for k, stage in enumerate(stages):
            pool = frame.pool_mask(stage.tracks)
            rows = (pool & track_free if out_t else pool).nonzero()[0]  # (all free before a match)
            if len(rows) == 0:
                continue
            band = frame.bands[stage.detections]
            cols = (band & det_free if out_t else band).nonzero()[0]
            if len(cols) == 0:
                continue
            matched_rows, matched_cols = _solve_stage(stage, frame, rows, cols)
            if len(matched_rows) == 0:
                continue
            track_free[matched_rows] = False
            det_free[matched_cols] = False
            out_t.append(matched_rows)
            out_d.append(matched_cols)
            counts[k] = len(matched_rows)
    if not out_t:
        return StageResult(_EMPTY, _EMPTY, tuple(counts), track_free, det_free)
    if len(out_t) == 1:
        return StageResult(out_t[0], out_d[0], tuple(counts), track_free, det_free)
    return StageResult(np.concatenate(out_t), np.concatenate(out_d), tuple(counts), track_free, det_free)


def _all_true(n: int) -> NDArray[np.bool_]:
    """``bool[n]`` all True (``np.ones`` goes through Python; this is two C calls)."""
    out = np.empty(n, bool)
    out.fill(True)
    return out


def _positions(index: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """``int64[n]`` whose entry ``index[k]`` is ``k`` (others unset): the inverse of ``index: int64[K]``
    (distinct values in ``[0, n)``), so ``_positions(index, n)[x]`` is where each of ``x`` sits in
    ``index``. A gather instead of ``np.searchsorted``, which took 0.6 ms per stage on 10,000 pairs
    in unsorted order (2,000-object scenes)."""
    out = np.empty(n, np.int64)
    out[index] = np.arange(len(index))
    return out


def _solve_stage(
    stage: StageConfig, frame: AssociationFrame, rows: NDArray[np.int64], cols: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Matched ``(track rows, detection columns)``, ``int64[K]`` each, of one stage over ``rows`` x
    ``cols`` (frame indices), by the stage's solver (:attr:`~tracker.config.StageConfig.solver`):
    :func:`~tracker.association.assign.match` / :func:`~tracker.association.assign.match_iterative` on
    the dense ``float64[t,m]`` cost, or their pair forms on the candidate pairs of a large stage (the
    same matches: pairs left out are inadmissible in the dense cost)."""
    iterative = stage.solver == "iterative"
    if len(rows) * len(cols) >= SPARSE_STAGE_MIN_PAIRS:
        cand = sparse_candidates(stage.cost, frame, rows, cols, stage.max_cost)
        if cand is not None:
            pr, pc, iou = cand
            if len(pr) == 0:
                return _EMPTY, _EMPTY
            cost = build_pair_cost(stage.cost, frame, pr, pc, stage.max_cost, iou)
            # local indices for the solver: position of each pair's row/col in rows/cols
            solve_pairs = match_iterative_pairs if iterative else match_pairs
            r, c = solve_pairs(
                _positions(rows, len(frame.track_boxes))[pr],
                _positions(cols, len(frame.det_boxes))[pc],
                cost,
                stage.max_cost,
            )
            return rows[r], cols[c]
    cost = build_cost(stage.cost, frame, rows, cols, stage.max_cost)
    r, c = (match_iterative if iterative else match)(cost, stage.max_cost)
    return rows[r], cols[c]
