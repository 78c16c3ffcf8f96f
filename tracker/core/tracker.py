"""The online multi-object tracker: detections in, tracks out, one frame at a time."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..association.assign import assign
from ..association.costs import GATED, cosine_distance, fuse_min, fuse_weighted, iou_matrix
from ..config import TrackerConfig, load_config
from ..motion.kalman import KalmanFilter, cxcywh_to_xyxy, xyxy_to_cxcywh
from ..types import Detections, Embedder, Tracks, TrackState
from .ids import IdAllocator
from .store import TrackStore

__all__ = ["Tracker"]

log = logging.getLogger("tracker")

_EMPTY = np.zeros(0, np.int64)
_MIN_BOX_SIZE = 1.0
"""Smallest predicted box width/height in pixels."""
_TENTATIVE = np.int8(TrackState.TENTATIVE)
_CONFIRMED = np.int8(TrackState.CONFIRMED)
_LOST = np.int8(TrackState.LOST)


def _median_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Column-wise median of ``float64[K,D]`` (K >= 1); a sort, cheaper than ``np.median`` here."""
    x = np.sort(x, axis=0)
    k = len(x)
    return x[k // 2] if k % 2 else 0.5 * (x[k // 2 - 1] + x[k // 2])


class Tracker:
    """Tracking by detection with a batched Kalman filter, optional ReID and camera motion compensation.

    Each instance owns all of its state (tracks, id allocator, camera-motion history); two instances
    never share anything, and :meth:`reset` starts afresh.

    Args:
        config: a :class:`~tracker.config.TrackerConfig`, a preset name (``"default"``,
            ``"bytetrack"``, ``"deepsort"``, ``"botsort"``) or a path to a YAML file.
        frame_rate: frames per second of the input; the lost-track lifetime scales with it.
        embedder: optional appearance model (any object with ``embed(image, boxes)``, see
            :class:`tracker.reid.Embedder`), used when the config enables appearance and detections
            arrive without embeddings and with a frame.

    Example:
        >>> import numpy as np
        >>> from tracker import Tracker, Detections
        >>> t = Tracker("bytetrack")
        >>> out = t.update(Detections(np.array([[10, 20, 50, 120]], np.float32), np.array([0.9])))
        >>> out.ids.tolist()
        [1]
    """

    def __init__(
        self,
        config: TrackerConfig | str | Path = "default",
        *,
        frame_rate: float = 30.0,
        embedder: Embedder | None = None,
    ) -> None:
        self.config = config if isinstance(config, TrackerConfig) else load_config(config)
        if not np.isfinite(frame_rate) or frame_rate <= 0:
            raise ValueError(f"frame_rate must be a positive number, got {frame_rate}")
        self.frame_rate = float(frame_rate)
        self.embedder = embedder
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        life = self.config.lifecycle
        self.max_lost = round(life.max_lost_frames * self.frame_rate / life.reference_fps)
        """Frames a lost track is kept at this frame rate (``max_lost_frames`` scaled)."""
        self.kf = KalmanFilter(self.config.motion, frame_rate=self.frame_rate)
        self._ids = IdAllocator()
        self._cmc = None
        if self.config.cmc.enabled:
            from ..motion.cmc import CameraMotionCompensator

            self._cmc = CameraMotionCompensator(self.config.cmc)
        self.reset()

    # -- public API -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every track and start ids from 1 again."""
        self._store = TrackStore.empty()
        self._ids.reset()
        self._frame_count = 0
        self._last_frame_index: int | None = None
        self._frame_shape: tuple[int, ...] | None = None
        self._last_embeddings: NDArray[np.float32] | None = None
        if self._cmc is not None:
            self._cmc.reset()

    @property
    def last_embeddings(self) -> NDArray[np.float32] | None:
        """Appearance vectors ``float32[N,D]`` the last :meth:`update` used for its ``N`` detections
        (given with them or computed by the embedder; rows of zeros for detections below
        ``association.high_score``, which are not embedded), or ``None`` without appearance."""
        return self._last_embeddings

    @property
    def frame_count(self) -> int:
        """Frames processed since construction or the last :meth:`reset`."""
        return self._frame_count

    def update(
        self,
        detections: Detections,
        frame: NDArray[np.uint8] | None = None,
        frame_index: int | None = None,
    ) -> Tracks:
        """Advance one frame.

        Args:
            detections: this frame's :class:`~tracker.types.Detections` (boxes ``float32[N,4]`` xyxy
                pixels, scores in ``[0, 1]``, optional embeddings ``float32[N,D]``). May be empty.
            frame: the image ``uint8[H,W,3]`` BGR, or ``None``. Needed for camera motion compensation
                and for an embedder; without it the tracker runs on motion alone.
            frame_index: optional frame number; if given it must increase from call to call.

        Returns:
            :class:`~tracker.types.Tracks`: confirmed tracks matched in this frame, boxes ``float32[M,4]``
            xyxy pixels (Kalman estimate), with ``det_index`` pointing into ``detections``.

        Raises:
            ValueError: bad input (wrong frame shape or type, frame index not increasing, embedding
                dimension different from earlier frames). The tracker's state is then unchanged.
        """
        if not isinstance(detections, Detections):
            raise TypeError(f"detections must be a tracker.Detections, got {type(detections).__name__}")
        if frame_index is not None:
            if self._last_frame_index is not None and frame_index <= self._last_frame_index:
                raise ValueError(
                    f"frame_index went backwards or repeated: {frame_index} after {self._last_frame_index}"
                )
        if frame is not None:
            self._check_frame(frame)
        embeddings = self._embeddings(detections, frame)
        affine = self._cmc.estimate(frame) if (self._cmc is not None and frame is not None) else None
        # ---- validation done: from here on the state changes ----
        if frame_index is not None:
            self._last_frame_index = int(frame_index)
        if frame is not None:
            self._frame_shape = frame.shape
        self._last_embeddings = embeddings
        self._step(detections, embeddings, affine)
        return self._output()

    def all_tracks(self) -> Tracks:
        """Every live track (tentative, confirmed and lost), with boxes from the current Kalman state."""
        return self._tracks(np.arange(len(self._store)))

    # -- validation helpers -----------------------------------------------------------------------
    def _check_frame(self, frame: NDArray[np.uint8]) -> None:
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise ValueError("frame must be a uint8 numpy array (H, W, 3) BGR")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(f"frame must have shape (H, W, 3), got {frame.shape}")
        if self._frame_shape is not None and frame.shape != self._frame_shape:
            raise ValueError(f"frame shape changed from {self._frame_shape} to {frame.shape}")

    def _embeddings(self, dets: Detections, frame: NDArray[np.uint8] | None) -> NDArray[np.float32] | None:
        """Appearance vectors ``float32[N,D]`` for this frame, or None when appearance is off/unavailable."""
        if not self.config.appearance.enabled:
            return None
        emb = dets.embeddings
        if emb is None and self.embedder is not None and frame is not None:
            emb = np.zeros((len(dets), 0), np.float32)
            # appearance is used for high-score detections only (stages 1 and 3, new tracks)
            usable = np.nonzero(dets.scores >= self.config.association.high_score)[0]
            if len(usable):
                out = np.asarray(self.embedder.embed(frame, dets.boxes[usable]), np.float32)
                if out.ndim != 2 or len(out) != len(usable):
                    raise ValueError(f"embedder returned shape {out.shape} for {len(usable)} boxes")
                emb = np.zeros((len(dets), out.shape[1]), np.float32)
                emb[usable] = out
        if emb is None:
            return None
        dim = self._store.feature_dim
        if len(emb) and emb.shape[1] and dim and self._store.has_feature.any() and emb.shape[1] != dim:
            raise ValueError(f"embeddings: dimension {emb.shape[1]} does not match earlier frames' {dim}")
        return emb

    # -- one frame --------------------------------------------------------------------------------
    def _step(
        self,
        dets: Detections,
        emb: NDArray[np.float32] | None,
        affine: NDArray[np.float32] | None,
    ) -> None:
        cfg = self.config
        a = cfg.association
        s = self._store
        self._frame_count += 1
        s.age += 1
        s.lost += 1
        s.det_index[:] = -1

        if len(s):
            if cfg.motion.lost_velocity_decay != 1.0:
                s.means[s.states == _LOST, 4:6] *= cfg.motion.lost_velocity_decay
            # (lost tracks have no size velocity: it is zeroed when they are lost, as in BoT-SORT)
            s.means, s.covs = self.kf.predict(s.means, s.covs)
            # a shrinking box must not turn inside out while it is not observed
            np.maximum(s.means[:, 2:4], _MIN_BOX_SIZE, out=s.means[:, 2:4])
            if affine is not None:
                from ..motion.cmc import apply_affine

                s.means, s.covs = apply_affine(s.means, s.covs, affine)

        boxes = dets.boxes
        scores = dets.scores
        high = np.nonzero(scores >= a.high_score)[0]
        low = np.nonzero((scores >= a.low_score) & (scores < a.high_score))[0]
        # one IoU matrix of every predicted track box with every detection, sliced by each stage
        iou = iou_matrix(cxcywh_to_xyxy(s.means[:, :4]), boxes)

        # Stage 1: confirmed and lost tracks vs. high-score detections (motion + appearance).
        pool = np.nonzero(s.states != _TENTATIVE)[0]
        cost = self._first_stage_cost(pool, high, iou, boxes, scores, emb)
        r, c, ur, uc = assign(cost, a.match_cost)
        match_t = [pool[r]]
        match_d = [high[c]]
        high_left = high[uc]

        # Stage 2: still-unmatched tracked (not lost) tracks vs. low-score detections (IoU only).
        rest = pool[ur]
        rest = rest[s.states[rest] == _CONFIRMED]
        newly_lost = rest
        rest_matched = _EMPTY
        if len(rest) and len(low):
            r2, c2, ur2, _ = assign(1.0 - iou[rest[:, None], low], a.second_match_cost)
            rest_matched = rest[r2]
            match_t.append(rest_matched)
            match_d.append(low[c2])
            newly_lost = rest[ur2]

        # Recovery (OC-SORT's observation-centric recovery): tracks still unmatched vs. leftover
        # high-score detections, by IoU with the track's last observed box rather than its prediction.
        if a.recovery_cost > 0 and len(high_left) and len(ur):
            free = np.zeros(len(s), bool)
            free[pool[ur]] = True
            free[rest_matched] = False
            unmatched = np.nonzero(free)[0]
            cost_r = 1.0 - iou_matrix(s.last_boxes[unmatched], boxes[high_left])
            rr, cr, _, ucr = assign(cost_r, a.recovery_cost)
            if len(rr):
                match_t.append(unmatched[rr])
                match_d.append(high_left[cr])
                free[:] = False
                free[newly_lost] = True
                free[unmatched[rr]] = False
                newly_lost = np.nonzero(free)[0]
                high_left = high_left[ucr]

        # Stage 3: tentative tracks vs. the high-score detections left over.
        tent = np.nonzero(s.states == _TENTATIVE)[0]
        dead_tentative = tent
        new_dets = high_left
        if len(tent) and len(high_left):
            cost3, iou3 = self._motion_cost(iou[tent[:, None], high_left], scores[high_left])
            if emb is not None:
                cost3 = self._fuse(cost3, self._appearance_cost(tent, emb[high_left]), iou3)
            r3, c3, ur3, uc3 = assign(cost3, a.unconfirmed_match_cost)
            match_t.append(tent[r3])
            match_d.append(high_left[c3])
            dead_tentative = tent[ur3]
            new_dets = high_left[uc3]
        new_dets = new_dets[scores[new_dets] >= a.new_track_score]

        mt = np.concatenate(match_t)
        md = np.concatenate(match_d)
        m = cfg.motion
        follow = m.shift_lost_with_scene and affine is None and len(mt) >= m.min_shift_matches
        before = s.means[mt] if follow else None  # fancy indexing: a copy of the predicted states
        self._apply_matches(mt, md, dets, emb)
        s.states[newly_lost] = _LOST
        s.means[newly_lost, 6:8] = 0.0  # no size velocity while unobserved (BoT-SORT)
        if before is not None and (s.states == _LOST).any():
            self._follow_scene(mt, md, boxes, before)

        dead = (s.states == _LOST) & (s.lost > self.max_lost)
        dead[dead_tentative] = True
        dead |= self._duplicates(dead)
        if dead.any():
            s.keep(~dead)
        self._start_tracks(new_dets, dets, emb)

    def _follow_scene(
        self,
        tracks: NDArray[np.int64],
        det_idx: NDArray[np.int64],
        boxes: NDArray[np.float32],
        predicted: NDArray[np.float64],
    ) -> None:
        """Move lost tracks with the scene, for frames without image-based camera motion compensation.

        What the matched tracks' velocities did not foresee this frame (the median of detection centre
        minus predicted centre, ``float64[2]`` px) is mostly camera motion; lost tracks, which no
        detection corrects, are moved by it, and their velocities get the median velocity correction
        the matched tracks received.

        Args:
            tracks: ``int64[K]`` matched tracks; det_idx: ``int64[K]`` their detections;
            boxes: ``float32[N,4]`` xyxy this frame's boxes; predicted: ``float64[K,8]`` the matched
            tracks' states before their update.
        """
        s = self._store
        centres = 0.5 * (boxes[det_idx, :2] + boxes[det_idx, 2:])
        shift = _median_rows(centres - predicted[:, :2])
        dv = _median_rows(s.means[tracks, 4:6] - predicted[:, 4:6])
        lost = s.states == _LOST
        s.means[lost, :2] += shift
        s.means[lost, 4:6] += dv

    def _motion_cost(
        self, iou: NDArray[np.float64], det_scores: NDArray[np.float32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """From ``iou: float64[T,M]`` and the detections' ``scores: float32[M]``: the motion cost
        ``1 - IoU`` (times the score if ``fuse_score``) and the plain ``1 - IoU``, both ``float64[T,M]``."""
        dist = 1.0 - iou
        if self.config.association.fuse_score:
            return 1.0 - iou * det_scores[None, :], dist
        return dist, dist

    def _appearance_cost(
        self, tracks: NDArray[np.int64], det_emb: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        """Cosine distance ``float64[T,M]``; tracks with no appearance yet get the neutral 1.0."""
        s = self._store
        if s.feature_dim != det_emb.shape[1]:
            return np.ones((len(tracks), len(det_emb)))
        d = cosine_distance(s.features[tracks], det_emb)
        d[~s.has_feature[tracks]] = 1.0
        return d

    def _fuse(
        self, motion: NDArray[np.float64], app: NDArray[np.float64], iou_dist: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        p = self.config.appearance
        if p.fuse == "min":
            return fuse_min(motion, app, iou_dist, p.appearance_gate, p.proximity_gate)
        return fuse_weighted(motion, app, iou_dist, p.weight, p.appearance_gate, p.proximity_gate)

    def _first_stage_cost(
        self,
        pool: NDArray[np.int64],
        high: NDArray[np.int64],
        iou: NDArray[np.float64],
        boxes: NDArray[np.float32],
        scores: NDArray[np.float32],
        emb: NDArray[np.float32] | None,
    ) -> NDArray[np.float64]:
        """Stage-1 cost ``float64[len(pool), len(high)]``: motion, fused with appearance when there are
        embeddings, lost tracks gated by Mahalanobis distance and re-identifiable by appearance."""
        cfg = self.config
        s = self._store
        cost, iou_dist = self._motion_cost(iou[pool[:, None], high], scores[high])
        if len(pool) == 0 or len(high) == 0:
            return cost
        if emb is not None:
            app = self._appearance_cost(pool, emb[high])
            cost = self._fuse(cost, app, iou_dist)
        if not cfg.association.use_mahalanobis_gate:
            return cost
        lost_mask = s.states[pool] == _LOST
        if emb is None:
            # without appearance a lost track can only match where its motion cost is admissible;
            # gating the other rows would change nothing, so skip them (the usual case: all of them)
            lost_mask &= cost.min(axis=1) <= cfg.association.match_cost
        lost_rows = np.nonzero(lost_mask)[0]
        if len(lost_rows) == 0:
            return cost
        lost = pool[lost_rows]
        maha = self.kf.gating_distance(s.means[lost], s.covs[lost], xyxy_to_cxcywh(boxes[high]))
        gate_ok = maha <= cfg.motion.gating_chi2
        lost_cost = np.where(gate_ok, cost[lost_rows], GATED)
        if emb is not None:
            # Re-identify lost tracks by appearance anywhere inside the motion gate.
            app_lost = app[lost_rows]
            reid_ok = gate_ok & (app_lost <= cfg.appearance.reid_lost_cost)
            lost_cost = np.where(reid_ok, np.minimum(lost_cost, app_lost), lost_cost)
        cost[lost_rows] = lost_cost
        return cost

    def _apply_matches(
        self,
        tracks: NDArray[np.int64],
        det_idx: NDArray[np.int64],
        dets: Detections,
        emb: NDArray[np.float32] | None,
    ) -> None:
        if len(tracks) == 0:
            return
        s = self._store
        life = self.config.lifecycle
        z = xyxy_to_cxcywh(dets.boxes[det_idx])
        s.means[tracks], s.covs[tracks] = self.kf.update(s.means[tracks], s.covs[tracks], z)
        if self.config.motion.reset_velocity_after_gap:
            # A track found again after a gap: its predicted velocity drifted while unobserved. Use the
            # average velocity over the gap instead (a one-step form of OC-SORT's re-update).
            gap = s.lost[tracks]
            back = gap > 1
            if back.any():
                last = xyxy_to_cxcywh(s.last_boxes[tracks[back]])
                s.means[tracks[back], 4:8] = (z[back] - last) / gap[back][:, None]
        s.hits[tracks] += 1
        s.lost[tracks] = 0
        s.scores[tracks] = dets.scores[det_idx]
        s.class_ids[tracks] = dets.class_ids[det_idx]
        s.last_boxes[tracks] = dets.boxes[det_idx]
        s.det_index[tracks] = det_idx
        st = s.states[tracks]
        promote = (st == _LOST) | ((st == _TENTATIVE) & (s.hits[tracks] >= life.min_hits))
        s.states[tracks[promote]] = _CONFIRMED
        if emb is not None and emb.shape[1]:
            self._update_features(tracks, det_idx, dets, emb)

    def _update_features(
        self,
        tracks: NDArray[np.int64],
        det_idx: NDArray[np.int64],
        dets: Detections,
        emb: NDArray[np.float32],
    ) -> None:
        s = self._store
        p = self.config.appearance
        if s.feature_dim != emb.shape[1]:
            if s.has_feature.any():
                raise ValueError(
                    f"embeddings: dimension {emb.shape[1]} does not match the tracks' {s.feature_dim}"
                )
            s.features = np.zeros((len(s), emb.shape[1]), np.float32)
        ok = (dets.scores[det_idx] >= p.min_update_score) & (np.abs(emb[det_idx]).sum(axis=1) > 0)
        tracks, det_idx = tracks[ok], det_idx[ok]
        new = emb[det_idx]
        old = s.features[tracks]
        mixed = np.where(s.has_feature[tracks][:, None], p.ema_alpha * old + (1.0 - p.ema_alpha) * new, new)
        norms = np.linalg.norm(mixed, axis=1, keepdims=True)
        s.features[tracks] = mixed / np.maximum(norms, 1e-12)
        s.has_feature[tracks] = True

    def _start_tracks(
        self, det_idx: NDArray[np.int64], dets: Detections, emb: NDArray[np.float32] | None
    ) -> None:
        n = len(det_idx)
        if n == 0:
            return
        s = self._store
        means, covs = self.kf.initiate(xyxy_to_cxcywh(dets.boxes[det_idx]))
        first_frame = self._frame_count == 1
        confirm = first_frame or self.config.lifecycle.min_hits <= 1
        if emb is not None and emb.shape[1]:
            feats = emb[det_idx].astype(np.float32)
            has = (np.abs(feats).sum(axis=1) > 0) & (
                dets.scores[det_idx] >= self.config.appearance.min_update_score
            )
        else:
            feats = np.zeros((n, s.feature_dim), np.float32)
            has = np.zeros(n, bool)
        new = TrackStore(
            ids=self._ids.take(n),
            means=means,
            covs=covs,
            states=np.full(n, _CONFIRMED if confirm else _TENTATIVE, np.int8),
            hits=np.ones(n, np.int32),
            lost=np.zeros(n, np.int32),
            age=np.zeros(n, np.int32),
            scores=dets.scores[det_idx].astype(np.float32),
            class_ids=dets.class_ids[det_idx].astype(np.int64),
            last_boxes=dets.boxes[det_idx].astype(np.float64),
            features=feats,
            has_feature=has,
            det_index=det_idx.astype(np.int64),
        )
        s.append(new)

    def _duplicates(self, dead: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """ByteTrack's ``remove_duplicate_stracks``: a lost track that overlaps a track matched this
        frame almost completely (IoU above ``duplicate_iou``, current boxes) is the same person twice;
        the younger of the two is dropped. ``dead``: ``bool[T]`` tracks already being removed.
        Returns ``bool[T]``: tracks to drop."""
        s = self._store
        drop = np.zeros(len(s), bool)
        lost = np.nonzero((s.states == _LOST) & ~dead)[0]
        if len(lost) == 0:
            return drop
        tracked = np.nonzero((s.states == _CONFIRMED) & (s.lost == 0))[0]
        if len(tracked) == 0:
            return drop
        iou = iou_matrix(cxcywh_to_xyxy(s.means[tracked, :4]), cxcywh_to_xyxy(s.means[lost, :4]))
        ti, li = np.nonzero(iou > self.config.association.duplicate_iou)
        if len(ti) == 0:
            return drop
        older_tracked = s.age[tracked[ti]] >= s.age[lost[li]]
        drop[lost[li][older_tracked]] = True
        drop[tracked[ti][~older_tracked]] = True
        return drop

    # -- output -----------------------------------------------------------------------------------
    def _output(self) -> Tracks:
        s = self._store
        life = self.config.lifecycle
        matched = s.lost == 0
        show = matched & ((s.states == _CONFIRMED) | (life.output_tentative & (s.states == _TENTATIVE)))
        if self.config.association.min_box_area > 0:
            show &= s.means[:, 2] * s.means[:, 3] >= self.config.association.min_box_area
        return self._tracks(np.nonzero(show)[0])

    def _tracks(self, rows: NDArray[np.int64]) -> Tracks:
        s = self._store
        return Tracks(  # fancy indexing copies: the caller owns these arrays
            ids=s.ids[rows],
            boxes=cxcywh_to_xyxy(s.means[rows, :4]).astype(np.float32),
            scores=s.scores[rows],
            class_ids=s.class_ids[rows],
            states=s.states[rows],
            det_index=s.det_index[rows],
        )
