"""The registry of cost terms a stage composes into its cost, and the frame data they read.

A stage's cost is built by applying its terms in order to a running ``float64[t,m]`` matrix over the
stage's tracks (rows) and detections (columns). Two kinds of term:

* **base terms** (``iou``, ``iou_score``, ``last_iou``, ``buffered_iou``, ``height``, ``shape``,
  ``confidence``, ``direction``, ``low_penalty``): a distance in ``[0, 1]``. The first term of a stage
  starts the cost (``weight * distance``, the distance itself at weight 1); later ones add
  ``weight * distance``.
* **modifiers** (``appearance``, ``mahalanobis``, ``mahalanobis_lost``): rewrite the running cost
  (fusion with appearance, gates). They need a base term before them.

Gated pairs hold :data:`~tracker.association.costs.GATED`, finite and above every threshold.

Terms (``weight`` and ``param`` come from the stage's :class:`~tracker.config.CostTermConfig`):

``iou``
    ``1 - IoU`` of the predicted track box and the detection box.
``iou_score``
    ``1 - IoU * score`` (ByteTrack's ``fuse_score``: confident detections are cheaper).
``last_iou``
    ``1 - IoU`` with the track's last observed box instead of its prediction (OC-SORT's
    observation-centric recovery).
``buffered_iou``
    ``1 - IoU`` of both boxes enlarged by ``param`` times their width/height on every side (C-BIoU);
    a track that drifted off a fast person still overlaps.
``height``
    ``1 - `` the overlap of the two boxes' vertical extents over their union (Hybrid-SORT's height
    cue): people at different depths differ in height and foot position.
``shape``
    ``1 - exp(-(|w_t - w_d| / max(w_t, w_d) + |h_t - h_d| / max(h_t, h_d)))`` (BoostTrack's shape
    similarity).
``confidence``
    ``|s_t - s_d|``: the track's last detection score against the detection's (Hybrid-SORT's
    confidence cue, occluded people score lower).
``direction``
    OC-SORT's observation-centric momentum: ``score * c * (1 - cos a) / 2``, where ``a`` is the
    angle between the track's velocity and the way from its last observed box centre to the
    detection's centre, and ``score`` the detection's score. ``c`` in ``[0, 1]`` says how far either
    direction can be trusted: ``min(1, |d| / (param * h)) * min(1, |v| * gap / (param * h))``, with
    ``|d|`` that displacement, ``|v| * gap`` the track's own motion over the frames since it was last
    seen, and ``h`` its last box height, so that a standing person's jitter says nothing (``param``:
    the displacement, in box heights, at which a direction counts fully; 0 counts every one fully).
    A detection the track is heading for costs nothing more; one behind it up to ``weight * score``.
``low_penalty``
    TrackTrack's penalty on low-score detections, for a stage over the ``all`` band: distance 1 for a
    detection outside this frame's ``high`` band (:attr:`AssociationFrame.bands`), 0 for one in it, so
    a low-score detection costs ``weight`` more (TrackTrack's one-stage association instead of
    ByteTrack's high/low cascade). Gated pairs stay finite (``GATED + weight``, still above every
    threshold). A modifier after it may undo it: ``appearance`` with ``fuse: min`` takes the minimum
    with the appearance cost, and ``mahalanobis_lost``'s re-identification the cosine distance.
``appearance``
    Fuses the running cost with the cosine distance of the track's appearance feature and the
    detection's embedding, as :class:`~tracker.config.AppearanceConfig` says (``min`` or ``weighted``,
    with its gates; the proximity gate reads plain ``1 - IoU``). Without embeddings this frame it does
    nothing; tracks without a feature yet get the neutral distance 1.
``mahalanobis``
    Gates every pair whose squared Mahalanobis distance exceeds ``gating_chi2``.
``mahalanobis_lost``
    The same gate on lost tracks only, where a lost track may also be re-identified by appearance
    alone inside the gate (cosine distance ``<= reid_lost_cost``, when ``appearance`` ran before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import COST_TERMS, AppearanceConfig, CostTermConfig
from ..geometry import SPARSE_IOU_MIN_PAIRS, iou_matrix, overlap_pairs, paired_iou
from .costs import GATED, cosine_distance, fuse_min, fuse_weighted

__all__ = [
    "PAIR_REGISTRY",
    "REGISTRY",
    "AssociationFrame",
    "CostState",
    "PairCostState",
    "build_cost",
    "build_pair_cost",
    "sparse_candidates",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

GatingFn = Callable[[I64, I64], F64]
"""``(track_rows int64[t], det_cols int64[m]) -> float64[t,m]`` squared Mahalanobis distances (dense),
or, for the pairwise form, ``(track_rows int64[P], det_cols int64[P]) -> float64[P]`` (one per pair)."""


@dataclass
class AssociationFrame:
    """Everything the stages of one frame read (all arrays indexed by track row / detection column).

    Attributes:
        track_boxes: ``float64[T,4]`` xyxy pixels, predicted track boxes.
        track_areas: ``float64[T]`` their areas (:func:`tracker.geometry.box_areas`).
        track_last_boxes: ``float64[T,4]`` xyxy pixels, each track's last observed box.
        track_scores: ``float32[T]`` score of each track's last detection, as the cost terms read it
            (relative to the detector's level with ``association.relative_score_level``).
        track_velocities: ``float64[T,2]`` each track's centre velocity, pixels per frame (Kalman).
        track_gaps: ``int32[T]`` frames since each track's last observed box (1: the frame before).
        track_features: ``float32[T,D]`` L2-normalised appearance states (``D`` may be 0).
        track_has_feature: ``bool[T]`` whether the feature row is real.
        pools: ``bool[T]`` masks by pool name (``tracked``, ``lost``, ``tentative``).
        det_boxes: ``float64[N,4]`` xyxy pixels.
        det_areas: ``float64[N]`` their areas.
        det_scores: ``float32[N]`` in ``[0, 1]``, as the cost terms read them (relative to the
            detector's level with ``association.relative_score_level``; ``bands`` hold the raw
            scores' bands).
        det_features: ``float32[N,D]`` embeddings, or ``None`` without appearance this frame.
        bands: ``bool[N]`` masks by band name (``high``, ``low``, ``all``).
        gating: squared Mahalanobis distance of track rows to detection columns (dense).
        gating_pairs: the same for listed ``(track, detection)`` pairs.
        appearance: how appearance fuses with motion.
        gating_chi2: Mahalanobis gate.
        appearance_gate: this frame's appearance gate (cosine distance) when the tracker calibrates
            it (``AppearanceConfig.gate_scale``); ``None``: ``appearance.appearance_gate``.
    """

    track_boxes: F64
    track_areas: F64
    track_last_boxes: F64
    track_scores: NDArray[np.float32]
    track_velocities: F64
    track_gaps: NDArray[np.int32]
    track_features: NDArray[np.float32]
    track_has_feature: NDArray[np.bool_]
    pools: dict[str, NDArray[np.bool_]]
    det_boxes: F64
    det_areas: F64
    det_scores: NDArray[np.float32]
    det_features: NDArray[np.float32] | None
    bands: dict[str, NDArray[np.bool_]]
    gating: GatingFn
    gating_pairs: GatingFn
    appearance: AppearanceConfig
    gating_chi2: float
    appearance_gate: float | None = None
    _iou_all: F64 | None = field(default=None, init=False, repr=False)

    def predicted_iou(self, rows: I64, cols: I64) -> F64:
        """``float64[t,m]``: IoU of the predicted boxes of tracks ``rows: int64[t]`` with detections
        ``cols: int64[m]``.

        In a frame of fewer than :data:`~tracker.geometry.SPARSE_IOU_MIN_PAIRS` track x detection
        pairs, the IoU of every track with every detection is computed once, on first use, and each
        stage takes its block from it: the stages share one IoU instead of computing their own (the
        same values bit for bit: the formula is elementwise). Larger frames compute each block."""
        t, n = len(self.track_boxes), len(self.det_boxes)
        if t * n >= SPARSE_IOU_MIN_PAIRS:
            return iou_matrix(
                self.track_boxes[rows], self.det_boxes[cols], self.track_areas[rows], self.det_areas[cols]
            )
        if self._iou_all is None:
            self._iou_all = iou_matrix(self.track_boxes, self.det_boxes, self.track_areas, self.det_areas)
        out: F64 = self._iou_all.take(rows, axis=0).take(cols, axis=1)  # (copies: callers own them)
        return out

    def pool_mask(self, names: Sequence[str]) -> NDArray[np.bool_]:
        """``bool[T]``: tracks in any of the pools ``names`` (read only: it may be a pool's own mask)."""
        mask = self.pools[names[0]]
        for name in names[1:]:
            mask = mask | self.pools[name]
        return mask


@dataclass
class _RunningCost:
    """The running cost of one stage and what its terms computed on the way, over track rows ``rows``
    and detection columns ``cols`` (frame indices). Two shapes share every term's formula:
    :class:`CostState` (a ``[t,m]`` matrix: ``rows`` ``int64[t]``, ``cols`` ``int64[m]``) and
    :class:`PairCostState` (a list of pairs: ``rows``, ``cols`` ``int64[P]``, cost ``float64[P]``).
    A term reads per-track values through :meth:`track` and per-detection values through :meth:`det`,
    which broadcast against each other to the cost's shape."""

    frame: AssociationFrame
    rows: I64
    cols: I64
    max_cost: float
    cost: F64 | None = None
    iou: F64 | None = None
    app: F64 | None = None

    def add(self, distance: F64, weight: float) -> None:
        """Start the cost with, or add to it, ``weight * distance``."""
        term = distance if weight == 1.0 else weight * distance
        self.cost = term if self.cost is None else self.cost + term

    def require_cost(self, term: str) -> F64:
        """The cost so far (``ValueError`` if no base term ran before ``term``)."""
        if self.cost is None:
            raise ValueError(f"cost term {term!r} needs a base term (e.g. 'iou') before it")
        return self.cost

    # shape-specific: how a per-track / per-detection array meets the other side
    def track(self, values: NDArray[Any]) -> NDArray[Any]:
        """``values[rows]`` shaped to broadcast against :meth:`det` (rows of a matrix, or pairs)."""
        raise NotImplementedError

    def det(self, values: NDArray[Any]) -> NDArray[Any]:
        """``values[cols]`` shaped to broadcast against :meth:`track`."""
        raise NotImplementedError

    def box_iou(self, tracks: NDArray[np.floating], dets: NDArray[np.floating]) -> F64:
        """IoU of ``float[t,4]`` / ``float[m,4]`` xyxy boxes already taken at ``rows`` / ``cols``."""
        raise NotImplementedError

    def _predicted_box_iou(self) -> F64:
        """IoU of the predicted track boxes with the detections (uncached)."""
        f = self.frame
        return self.box_iou(f.track_boxes[self.rows], f.det_boxes[self.cols])

    def cosine(self, tracks: NDArray[np.float32], dets: NDArray[np.float32]) -> F64:
        """Cosine distance of L2-normalised features already taken at ``rows`` / ``cols``."""
        raise NotImplementedError

    def gating(self) -> F64:
        """Squared Mahalanobis distance of the stage's tracks to its detections."""
        raise NotImplementedError

    def predicted_iou(self) -> F64:
        """IoU of the predicted track boxes with the detections (cached)."""
        if self.iou is None:
            self.iou = self._predicted_box_iou()
        return self.iou


class CostState(_RunningCost):
    """The running cost of one stage as a matrix.

    Attributes:
        frame: the frame's data; rows: ``int64[t]`` track rows; cols: ``int64[m]`` detection columns.
        max_cost: the stage's threshold.
        cost: ``float64[t,m]`` running cost, ``None`` before the first base term.
        iou: ``float64[t,m]`` IoU of predicted boxes, once computed.
        app: ``float64[t,m]`` cosine distances, once the ``appearance`` term ran with embeddings.
    """

    def track(self, values: NDArray[Any]) -> NDArray[Any]:
        v = values[self.rows]
        return v[:, None] if v.ndim == 1 else v[:, None, :]

    def det(self, values: NDArray[Any]) -> NDArray[Any]:
        v = values[self.cols]
        return v[None, :] if v.ndim == 1 else v[None, :, :]

    def box_iou(self, tracks: NDArray[np.floating], dets: NDArray[np.floating]) -> F64:
        return iou_matrix(tracks, dets)

    def _predicted_box_iou(self) -> F64:
        return self.frame.predicted_iou(self.rows, self.cols)

    def cosine(self, tracks: NDArray[np.float32], dets: NDArray[np.float32]) -> F64:
        return cosine_distance(tracks, dets)

    def gating(self) -> F64:
        return self.frame.gating(self.rows, self.cols)


class PairCostState(_RunningCost):
    """The running cost of one stage over candidate pairs: ``rows``/``cols`` ``int64[P]`` (track row and
    detection column of each pair, frame indices), ``cost`` ``float64[P]``, ``iou`` ``float64[P]`` of
    the predicted boxes once known, ``app`` ``float64[P]`` cosine distances once computed."""

    def track(self, values: NDArray[Any]) -> NDArray[Any]:
        return values[self.rows]

    def det(self, values: NDArray[Any]) -> NDArray[Any]:
        return values[self.cols]

    def box_iou(self, tracks: NDArray[np.floating], dets: NDArray[np.floating]) -> F64:
        return paired_iou(tracks, dets)

    def cosine(self, tracks: NDArray[np.float32], dets: NDArray[np.float32]) -> F64:
        t = np.asarray(tracks, np.float64)
        d = np.asarray(dets, np.float64)
        out: F64 = np.clip(1.0 - np.einsum("pd,pd->p", t, d), 0.0, 2.0)
        return out

    def gating(self) -> F64:
        return self.frame.gating_pairs(self.rows, self.cols)


TermFn = Callable[[_RunningCost, CostTermConfig], None]
"""A cost term: reads the frame through the state and adds to (or rewrites) its running cost. One
function serves both shapes (:class:`CostState`, :class:`PairCostState`)."""


def _iou(state: _RunningCost, term: CostTermConfig) -> None:
    state.add(1.0 - state.predicted_iou(), term.weight)


def _iou_score(state: _RunningCost, term: CostTermConfig) -> None:
    state.add(1.0 - state.predicted_iou() * state.det(state.frame.det_scores), term.weight)


def _last_iou(state: _RunningCost, term: CostTermConfig) -> None:
    f = state.frame
    state.add(1.0 - state.box_iou(f.track_last_boxes[state.rows], f.det_boxes[state.cols]), term.weight)


def _buffer(boxes: NDArray[np.floating], scale: float) -> F64:
    """``float[K,4]`` xyxy boxes enlarged by ``scale`` times their width/height on each side."""
    b = np.asarray(boxes, np.float64)
    wh = (b[:, 2:] - b[:, :2]) * scale
    return np.concatenate([b[:, :2] - wh, b[:, 2:] + wh], axis=1)


def _buffered_iou(state: _RunningCost, term: CostTermConfig) -> None:
    f = state.frame
    a = _buffer(f.track_boxes[state.rows], term.param)
    b = _buffer(f.det_boxes[state.cols], term.param)
    state.add(1.0 - state.box_iou(a, b), term.weight)


def _height(state: _RunningCost, term: CostTermConfig) -> None:
    t = state.track(state.frame.track_boxes)
    d = state.det(np.asarray(state.frame.det_boxes, np.float64))
    top = np.maximum(t[..., 1], d[..., 1])
    bottom = np.minimum(t[..., 3], d[..., 3])
    union = np.maximum(t[..., 3], d[..., 3]) - np.minimum(t[..., 1], d[..., 1])
    state.add(1.0 - np.maximum(bottom - top, 0.0) / np.maximum(union, 1e-9), term.weight)


def _shape(state: _RunningCost, term: CostTermConfig) -> None:
    t = state.track(state.frame.track_boxes)
    d = state.det(np.asarray(state.frame.det_boxes, np.float64))
    tw, th = t[..., 2] - t[..., 0], t[..., 3] - t[..., 1]
    dw, dh = d[..., 2] - d[..., 0], d[..., 3] - d[..., 1]
    diff = np.abs(tw - dw) / np.maximum(tw, dw) + np.abs(th - dh) / np.maximum(th, dh)
    state.add(1.0 - np.exp(-diff), term.weight)


def _confidence(state: _RunningCost, term: CostTermConfig) -> None:
    ts = state.track(state.frame.track_scores.astype(np.float64))
    ds = state.det(state.frame.det_scores.astype(np.float64))
    state.add(np.abs(ts - ds), term.weight)


def _direction(state: _RunningCost, term: CostTermConfig) -> None:
    f = state.frame
    last = f.track_last_boxes
    lc = 0.5 * (last[:, :2] + last[:, 2:])  # float64[T,2] last observed centres
    dc = 0.5 * (f.det_boxes[:, :2] + f.det_boxes[:, 2:])  # float64[N,2]
    d = state.det(dc) - state.track(lc)  # [t,m,2] (or [P,2]): last observation -> detection
    v = state.track(f.track_velocities)
    dot = (d * v).sum(axis=-1)
    nd = np.sqrt((d * d).sum(axis=-1))
    nv = np.sqrt((v * v).sum(axis=-1))
    cos = dot / np.maximum(nd * nv, 1e-9)
    if term.param > 0:
        scale = term.param * state.track(np.maximum(last[:, 3] - last[:, 1], 1.0))
        moved = nv * state.track(f.track_gaps.astype(np.float64))
        trust = np.minimum(nd / scale, 1.0) * np.minimum(moved / scale, 1.0)
    else:
        trust = (nd > 0) & (nv > 0)
    state.add(state.det(f.det_scores.astype(np.float64)) * trust * 0.5 * (1.0 - cos), term.weight)


def _low_penalty(state: _RunningCost, term: CostTermConfig) -> None:
    """``weight`` added for detections below the frame's ``high`` band (``float64[t,m]``, or
    ``float64[P]`` on pairs: the full shape, so that it may also start a cost)."""
    f = state.frame
    low = (~f.bands["high"]).astype(np.float64)  # float64[N]: 1 below the high band
    state.add(state.track(np.zeros(len(f.track_boxes))) + state.det(low), term.weight)


def _appearance(state: _RunningCost, term: CostTermConfig) -> None:
    f = state.frame
    cost = state.require_cost(term.name)
    if f.det_features is None:
        return
    if f.track_features.shape[1] != f.det_features.shape[1]:
        shape = np.broadcast_shapes(state.track(f.track_has_feature).shape, state.det(f.det_scores).shape)
        app = np.ones(shape)
    else:
        app = state.cosine(f.track_features.take(state.rows, 0), f.det_features.take(state.cols, 0))
        app[~f.track_has_feature[state.rows]] = 1.0
    state.app = app
    iou_dist = 1.0 - state.predicted_iou()
    p = f.appearance
    gate = p.appearance_gate if f.appearance_gate is None else f.appearance_gate
    if p.fuse == "min":
        state.cost = fuse_min(cost, app, iou_dist, gate, p.proximity_gate)
    else:
        state.cost = fuse_weighted(cost, app, iou_dist, p.weight, gate, p.proximity_gate)


def _mahalanobis(state: _RunningCost, term: CostTermConfig) -> None:
    cost = state.require_cost(term.name)
    state.cost = np.where(state.gating() <= state.frame.gating_chi2, cost, GATED)


def _mahalanobis_lost(state: _RunningCost, term: CostTermConfig) -> None:
    """Dense form (see :func:`_p_mahalanobis_lost` for pairs)."""
    assert isinstance(state, CostState)
    f = state.frame
    cost = state.require_cost(term.name)
    lost_rows = f.pools["lost"][state.rows].nonzero()[0]
    if len(lost_rows) == 0:
        return
    if state.app is None:
        # without appearance a lost track can only match where its cost is admissible already, and
        # gating any other pair would change nothing: gate just those pairs (usually a handful)
        pr, pc = (cost.take(lost_rows, 0) <= state.max_cost).nonzero()
        if len(pr) == 0:
            return
        rows = lost_rows[pr]
        gated = f.gating_pairs(state.rows[rows], state.cols[pc]) > f.gating_chi2
        if np.count_nonzero(gated):
            cost[rows[gated], pc[gated]] = GATED
        return
    # with appearance every pair of a lost track is gated: re-identification may admit any of them
    maha = f.gating(state.rows[lost_rows], state.cols)
    gate_ok = maha <= f.gating_chi2
    lost_cost = np.where(gate_ok, cost.take(lost_rows, 0), GATED)
    app_lost = state.app.take(lost_rows, 0)
    reid_ok = gate_ok & (app_lost <= f.appearance.reid_lost_cost)
    cost[lost_rows] = np.where(reid_ok, np.minimum(lost_cost, app_lost), lost_cost)


REGISTRY: dict[str, TermFn] = {
    "iou": _iou,
    "iou_score": _iou_score,
    "last_iou": _last_iou,
    "buffered_iou": _buffered_iou,
    "height": _height,
    "shape": _shape,
    "confidence": _confidence,
    "direction": _direction,
    "low_penalty": _low_penalty,
    "appearance": _appearance,
    "mahalanobis": _mahalanobis,
    "mahalanobis_lost": _mahalanobis_lost,
}
"""Cost terms by name; the names are :data:`tracker.config.COST_TERMS`."""

assert set(REGISTRY) == set(COST_TERMS), "tracker.config.COST_TERMS and the registry must agree"


def build_cost(
    terms: Sequence[CostTermConfig], frame: AssociationFrame, rows: I64, cols: I64, max_cost: float
) -> F64:
    """The cost ``float64[len(rows), len(cols)]`` of a stage: its ``terms`` applied in order.

    Args:
        terms: the stage's cost terms; the first must be a base term.
        frame: this frame's data; rows: ``int64[t]`` track rows; cols: ``int64[m]`` detection columns.
        max_cost: the stage's threshold (some modifiers skip rows that cannot match anyway).
    """
    state = CostState(frame, rows, cols, max_cost)
    for term in terms:
        REGISTRY[term.name](state, term)
    return state.require_cost(terms[0].name if terms else "(none)")


# -- the same terms on a sparse list of candidate pairs (large stages) --------------------------------
_OVERLAP_TERMS = ("iou", "iou_score", "last_iou", "buffered_iou")
"""Base terms whose distance is exactly 1 for boxes that do not overlap."""


def _p_mahalanobis_lost(state: _RunningCost, term: CostTermConfig) -> None:
    # only used without appearance (see sparse_candidates): gate the admissible pairs of lost tracks
    f = state.frame
    cost = state.require_cost(term.name)
    sel = (f.pools["lost"][state.rows] & (cost <= state.max_cost)).nonzero()[0]
    if len(sel) == 0:
        return
    maha = f.gating_pairs(state.rows[sel], state.cols[sel])
    cost[sel[maha > f.gating_chi2]] = GATED


PAIR_REGISTRY: dict[str, TermFn] = {**REGISTRY, "mahalanobis_lost": _p_mahalanobis_lost}
"""The terms of :data:`REGISTRY`, evaluated on a list of pairs (same formulas)."""

assert set(PAIR_REGISTRY) == set(COST_TERMS)


def sparse_candidates(
    terms: Sequence[CostTermConfig], frame: AssociationFrame, rows: I64, cols: I64, max_cost: float
) -> tuple[I64, I64, F64 | None] | None:
    """The pairs of a stage that can be admissible, when they can be found without a dense matrix.

    That holds when the first term is an overlap term (``iou``, ``iou_score``, ``last_iou``,
    ``buffered_iou``: distance 1 for boxes that do not overlap) weighted so that a distance of 1 is
    above ``max_cost``, and no later term can lower a non-overlapping pair under it (appearance only
    helps within ``proximity_gate < 1``; ``mahalanobis_lost`` re-identifies by appearance anywhere, so
    it must not meet embeddings). Additive terms and gates only raise costs.

    Returns ``(track_rows int64[P], det_cols int64[P], predicted_iou float64[P] or None)`` in frame
    indices, or ``None`` when the stage must be built densely.
    """
    if not terms or terms[0].name not in _OVERLAP_TERMS or not terms[0].weight > max_cost:
        return None
    names = {t.name for t in terms}
    if frame.det_features is not None:
        if "mahalanobis_lost" in names:
            return None
        if "appearance" in names and not frame.appearance.proximity_gate < 1.0:
            return None
    first = terms[0]
    if first.name == "last_iou":
        a: NDArray[np.floating] = frame.track_last_boxes[rows]
        b: NDArray[np.floating] = frame.det_boxes[cols]
    elif first.name == "buffered_iou":
        a, b = _buffer(frame.track_boxes[rows], first.param), _buffer(frame.det_boxes[cols], first.param)
    else:
        a, b = frame.track_boxes[rows], frame.det_boxes[cols]
    i, j, iou = overlap_pairs(a, b)
    predicted = iou if first.name in ("iou", "iou_score") else None
    return rows[i], cols[j], predicted


def build_pair_cost(
    terms: Sequence[CostTermConfig],
    frame: AssociationFrame,
    rows: I64,
    cols: I64,
    max_cost: float,
    predicted_iou: F64 | None = None,
) -> F64:
    """:func:`build_cost` over candidate pairs ``rows``/``cols`` (``int64[P]`` frame indices):
    ``float64[P]``."""
    state = PairCostState(frame, rows, cols, max_cost, iou=predicted_iou)
    for term in terms:
        PAIR_REGISTRY[term.name](state, term)
    return state.require_cost(terms[0].name if terms else "(none)")
