"""The online multi-object tracker: detections in, tracks out, one frame at a time."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import TypeGuard

import numpy as np
from numpy.typing import NDArray

from ..association.costs import cosine_distance
from ..association.stages import run_stages
from ..association.terms import AssociationFrame
from ..config import TrackerConfig, load_config
from ..geometry import SPARSE_IOU_MIN_PAIRS, box_areas, iou_matrix, overlap_pairs
from ..motion.kalman import KalmanFilter, cxcywh_to_xyxy, mahalanobis, mahalanobis_pairs, xyxy_to_cxcywh
from ..types import Detections, Embedder, Tracks, TrackState, positive_rate
from .ids import IdAllocator
from .store import TrackStore

__all__ = ["Tracker"]

log = logging.getLogger("tracker")

_MIN_BOX_SIZE = 1.0
"""Smallest predicted box width/height in pixels."""
_UNIT_TOLERANCE = 1e-5
"""Embedder rows whose L2 norm is within this of 1 are taken as they are (already normalised)."""
_MIN_INDEX = -(2**63)
_MAX_INDEX = 2**63 - 1
"""``frame_index`` must fit in int64."""
_MIN_SPREAD_PX = 0.01
"""Floor, in pixels, of the spread (MAD) of the matched tracks' position innovations when their
coherence is measured (``motion.shift_min_coherence``): a few tracks that happen to agree to the
hundredth of a pixel say no more than that."""
_TENTATIVE = np.int8(TrackState.TENTATIVE)
_CONFIRMED = np.int8(TrackState.CONFIRMED)
_LOST = np.int8(TrackState.LOST)


def _median_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Column-wise median of ``float64[K,D]`` (K >= 1); a sort, cheaper than ``np.median`` here."""
    x = np.sort(x, axis=0)
    k = len(x)
    return x[k // 2] if k % 2 else 0.5 * (x[k // 2 - 1] + x[k // 2])


def _has_features(emb: NDArray[np.float32] | None) -> TypeGuard[NDArray[np.float32]]:
    """Whether this frame's embeddings ``float32[N,D]`` carry appearance: ``D > 0`` (``None``: no
    appearance; an embedder with no detection to embed this frame gives ``float32[N,0]``)."""
    return emb is not None and emb.shape[1] > 0


def _median_float32(x: NDArray[np.float32]) -> float:
    """``np.median`` of a non-empty ``float32[K]``, bit for bit (the middle value, or the float32 mean
    of the two middle ones), on a sorted Python list: ``np.median`` costs ~30 times more at K ~ 20."""
    v = sorted(x.tolist())
    k = len(v)
    if k % 2:
        return v[k // 2]
    return float(np.float32(0.5) * (np.float32(v[k // 2 - 1]) + np.float32(v[k // 2])))


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
        self.frame_rate = positive_rate(frame_rate, "frame_rate")
        self.embedder = embedder
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        life = self.config.lifecycle
        self.max_lost = round(life.max_lost_frames * self.frame_rate / life.reference_fps)
        """Frames a lost track is kept at this frame rate (``max_lost_frames`` scaled)."""
        self._coherence_rate = 1.0 - float(
            np.exp(-1.0 / (self.config.motion.shift_coherence_time_s * self.frame_rate))
        )
        """Per-frame weight of the running scene coherence (``motion.shift_coherence_time_s``)."""
        a = self.config.association
        self._static_lag = max(1, round(a.score_adapt_static_s * self.frame_rate))
        """Frames between the two frames that ``association.score_adapt_static_iou`` compares."""
        weak = life.max_weak_frames * self.frame_rate / life.reference_fps
        self.max_weak = max(1, round(weak)) if weak > 0 else 0
        """Frames a track is kept without a strong detection at this frame rate (0 = no limit)."""
        self._learn_when_empty = a.score_adapt_when_empty and not self.max_weak
        """Whether an emptied scene teaches the score level (``association.score_adapt_when_empty``,
        which ``lifecycle.max_weak_frames`` turns off)."""
        self._reset_min_gap = max(
            2, int(np.ceil(self.config.motion.reset_velocity_min_gap_s * self.frame_rate - 1e-9))
        )
        """Frames since the last match (``TrackStore.lost`` at the match; 2 = one missed frame) from
        which a match resets the velocity (``motion.reset_velocity_min_gap_s``)."""
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
        self._store = TrackStore.empty(keep_covs=self.config.motion.reupdate_after_gap)
        self._ids.reset()
        self._frame_count = 0
        self._last_frame_index: int | None = None
        self._frame_shape: tuple[int, ...] | None = None
        self._last_embeddings: NDArray[np.float32] | None = None
        self._score_level = 1.0
        """Running level of matched detections' scores (``association.score_adapt_rate``)."""
        self._score_level_matched = False
        """Whether any detection has been matched yet (ends ``score_adapt_cold_start``)."""
        self._recent_dets: deque[Detections] = deque(maxlen=self._static_lag)
        """The last frames' detections, oldest first (kept with ``association.score_adapt_when_empty``,
        to tell detections that moved from static ones; :class:`Detections` are read-only, so holding
        them costs no copy, and their boxes at or above ``low_score`` are selected only when read)."""
        self._s_inv: NDArray[np.float64] | None = None
        """This frame's innovation inverses of every track, once computed (:meth:`_innovation_inverse`)."""
        self._scene_coherence = 0.0
        self._scene_coherence_weight = 0.0
        """Exponentially weighted sum of how much the matched tracks' position innovations agree
        (``motion.shift_min_coherence``), and the sum of its weights: their ratio is the running mean,
        which the first measurement alone sets (no prior value to wash out)."""
        self._app_distances = np.zeros(
            self.config.appearance.gate_window if self.config.appearance.gate_scale > 0 else 0, np.float32
        )
        """Ring of the last cosine distances between different people (``appearance.gate_scale``)."""
        self._app_count = 0
        """Different-people distances seen so far (the ring holds the last ``gate_window`` of them)."""
        self._app_gate: float | None = None
        """The calibrated appearance gate, once ``appearance.gate_min_samples`` distances are seen."""
        if self._cmc is not None:
            self._cmc.reset()

    @property
    def appearance_gate(self) -> float:
        """The appearance gate (cosine distance) the next frame uses: calibrated to the embedder with
        ``appearance.gate_scale`` once enough distances are seen, else ``appearance.appearance_gate``."""
        return self.config.appearance.appearance_gate if self._app_gate is None else self._app_gate

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
        # ---- validate everything first: nothing below raises after the state starts changing ----
        index = self._check_frame_index(frame_index)
        if frame is not None:
            self._check_frame(frame)
        embeddings = self._embeddings(detections, frame)
        affine = self._cmc.estimate(frame) if (self._cmc is not None and frame is not None) else None
        # ---- validation done: from here on the state changes ----
        if index is not None:
            self._last_frame_index = index
        if frame is not None:
            self._frame_shape = frame.shape
        self._last_embeddings = embeddings
        if embeddings is not None and len(embeddings) and embeddings.shape[1] != self._store.feature_dim:
            if embeddings.shape[1]:  # no track holds a feature yet (checked): switch dimension
                self._store.reset_features(embeddings.shape[1])
        self._step(detections, embeddings, affine)
        return self._output()

    def all_tracks(self) -> Tracks:
        """Every live track (tentative, confirmed and lost), with boxes from the current Kalman state."""
        return self._tracks(np.arange(len(self._store)))

    # -- validation helpers -----------------------------------------------------------------------
    def _check_frame_index(self, frame_index: object) -> int | None:
        """``frame_index`` as an ``int`` (any integer type, or an integral float), or ``None``."""
        if frame_index is None:
            return None
        if isinstance(frame_index, (bool, np.bool_)):
            raise ValueError(f"frame_index must be an integer, got {frame_index!r}")
        if isinstance(frame_index, (int, np.integer)):
            index = int(frame_index)
        elif (
            isinstance(frame_index, (float, np.floating))
            and np.isfinite(frame_index)
            and float(frame_index).is_integer()
        ):
            index = int(frame_index)
        else:
            raise ValueError(f"frame_index must be an integer, got {frame_index!r}")
        if not _MIN_INDEX <= index <= _MAX_INDEX:
            raise ValueError(f"frame_index must fit in int64, got {frame_index!r}")
        if self._last_frame_index is not None and index <= self._last_frame_index:
            raise ValueError(
                f"frame_index went backwards or repeated: {index} after {self._last_frame_index}"
            )
        return index

    def _check_frame(self, frame: NDArray[np.uint8]) -> None:
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise ValueError("frame must be a uint8 numpy array (H, W, 3) BGR")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(f"frame must have shape (H, W, 3), got {frame.shape}")
        if self._frame_shape is not None and frame.shape != self._frame_shape:
            raise ValueError(f"frame shape changed from {self._frame_shape} to {frame.shape}")

    def _embeddings(self, dets: Detections, frame: NDArray[np.uint8] | None) -> NDArray[np.float32] | None:
        """Appearance vectors ``float32[N,D]`` for this frame, or None when appearance is off/unavailable.

        Raises ``ValueError`` (state untouched) when the embedder's output is unusable or the dimension
        differs from the features the live tracks hold."""
        if not self.config.appearance.enabled:
            return None
        emb = dets.embeddings
        if emb is None and self.embedder is not None and frame is not None:
            emb = np.zeros((len(dets), 0), np.float32)
            # appearance is used for high-score detections only (the ``high`` band, new tracks)
            usable = (dets.scores >= self._thresholds()[0]).nonzero()[0]
            if len(usable):
                out = self._embed(frame, dets.boxes[usable])
                emb = np.zeros((len(dets), out.shape[1]), np.float32)
                emb[usable] = out
        if emb is None:
            return None
        s = self._store
        if len(emb) and emb.shape[1] and emb.shape[1] != s.feature_dim and s.has_feature.any():
            raise ValueError(
                f"embeddings: dimension {emb.shape[1]} does not match the live tracks' features ({s.feature_dim})"
            )
        return emb

    def _embed(self, frame: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """The embedder's vectors for ``boxes: float32[K,4]`` xyxy, checked and L2-normalised:
        ``float32[K,D]``. Rows that are already unit length are kept bit for bit."""
        assert self.embedder is not None
        name = type(self.embedder).__name__
        try:
            out64 = np.asarray(self.embedder.embed(frame, boxes), np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"embedder {name}: output is not a numeric array ({exc})") from None
        if out64.ndim != 2 or len(out64) != len(boxes) or out64.shape[1] == 0:
            raise ValueError(
                f"embedder {name} returned shape {out64.shape} for {len(boxes)} boxes (expected [N,D])"
            )
        if not np.isfinite(out64).all():
            raise ValueError(f"embedder {name} returned non-finite values (NaN or inf)")
        norms = np.linalg.norm(out64, axis=1)
        if not (np.isfinite(norms) & (norms > 0)).all():
            i = int(np.argmax(~(np.isfinite(norms) & (norms > 0))))
            raise ValueError(f"embedder {name}: row {i} cannot be L2-normalised (norm {norms[i]})")
        out = out64.astype(np.float32)
        off = np.abs(norms - 1.0) > _UNIT_TOLERANCE
        if off.any():
            out[off] = (out64[off] / norms[off, None]).astype(np.float32)
        return out

    # -- one frame: the life-cycle steps --------------------------------------------------------------
    def _step(
        self,
        dets: Detections,
        emb: NDArray[np.float32] | None,
        affine: NDArray[np.float32] | None,
    ) -> None:
        s = self._store
        self._frame_count += 1
        s.age += 1
        s.lost += 1
        if self.max_weak:
            s.weak += 1
        s.det_index[:] = -1
        self._predict(affine)
        self._s_inv = None  # this frame's innovation inverses, computed on first use
        pools = {
            "tracked": s.states == _CONFIRMED,
            "lost": s.states == _LOST,
            "tentative": s.states == _TENTATIVE,
        }
        det_boxes = dets.boxes.astype(np.float64)  # once per frame, not in every cost term
        z = xyxy_to_cxcywh(det_boxes)  # the detections as measurements
        high, new_score = self._thresholds()  # this frame's (the level moves after the matches)
        frame = self._association_frame(dets, det_boxes, z, emb, pools, high)
        result = run_stages(self.config.association.stages, frame)
        unmatched = result.track_unmatched
        returned = self._returned(result.tracks, emb)
        self._apply_matches_and_follow(
            result.tracks, result.detections, dets, z, emb, affine, pools["tracked"] & unmatched
        )
        self._s_inv = None  # (the states changed)
        strong = max(high, new_score)  # this frame's new-track score
        matched_scores = dets.scores[result.detections]
        if self.max_weak:
            s.weak[result.tracks[matched_scores >= strong]] = 0
        self._remove(pools["tentative"] & unmatched, returned)
        new = (result.det_unmatched & (dets.scores >= strong)).nonzero()[0]
        self._adapt_scores(matched_scores, dets.scores, dets.boxes)
        self._remember_dets(dets)
        self._start_tracks(self._track_aware_init(new, frame, result.detections), dets, z, emb)

    def _track_aware_init(
        self, new: NDArray[np.int64], frame: AssociationFrame, matched: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """The candidates ``new: int64[K]`` (detection rows) that may start tracks: those whose IoU with
        every matched detection (``matched: int64[M]`` detection rows; boxes and areas from this
        frame's ``frame``) is at most ``association.new_track_max_iou``."""
        limit = self.config.association.new_track_max_iou
        if limit >= 1.0 or len(new) == 0 or len(matched) == 0:
            return new
        b, a = frame.det_boxes, frame.det_areas
        overlap = iou_matrix(b.take(new, 0), b.take(matched, 0), a[new], a[matched]).max(axis=1)
        return new[overlap <= limit]

    def _thresholds(self) -> tuple[float, float]:
        """This frame's start of the ``high`` band and new-track score (adaptive when configured)."""
        a = self.config.association
        if a.score_adapt_rate <= 0:
            return a.high_score, a.new_track_score
        level = self._score_level
        return min(a.high_score, a.adaptive_high_ratio * level), min(
            a.new_track_score, a.adaptive_new_ratio * level
        )

    def _relative_score_scale(self) -> float:
        """What the cost terms divide scores by this frame (``association.relative_score_level``):
        ``min(1, level / relative_score_level)``, 1 when the option is off (the config refuses it
        without ``score_adapt_rate``; without that the level would stay at 1 anyway)."""
        a = self.config.association
        if a.relative_score_level <= 0:
            return 1.0
        return min(1.0, max(self._score_level, 1e-6) / a.relative_score_level)

    def _adapt_scores(
        self, matched_scores: NDArray[np.float32], scores: NDArray[np.float32], boxes: NDArray[np.float32]
    ) -> None:
        """Move the score level towards the median of ``matched_scores: float32[K]`` (this frame's matched
        detections' scores), on frames with at least ``association.score_adapt_min_matches`` of them;
        with ``association.score_adapt_cold_start``, on the frames before the first match (and with
        ``score_adapt_when_empty`` on those without a confirmed or lost track, from the detections
        that moved), towards the largest of ``scores: float32[N]`` (all this frame's detections,
        ``boxes: float32[N,4]`` xyxy) at or above ``low_score``."""
        a = self.config.association
        if a.score_adapt_rate <= 0:
            return
        if len(matched_scores):
            self._score_level_matched = True
        if len(matched_scores) >= a.score_adapt_min_matches:
            target = _median_float32(matched_scores)
        elif not (a.score_adapt_cold_start and len(scores)):
            return
        elif not self._score_level_matched:
            target = float(scores.max())
            if target < a.low_score:
                return
        elif self._empty_scene():
            moved = self._moved(boxes, scores)
            if not len(moved):
                return
            target = float(moved.max())
        else:
            return
        rate = 1.0 - (1.0 - a.score_adapt_rate) ** (self.config.lifecycle.reference_fps / self.frame_rate)
        self._score_level += rate * (target - self._score_level)

    def _moved(self, boxes: NDArray[np.float32], scores: NDArray[np.float32]) -> NDArray[np.float32]:
        """Scores ``float32[K]`` of this frame's detections (``boxes: float32[N,4]`` xyxy, ``scores:
        float32[N]``) at or above ``low_score`` that overlap no detection of
        ``association.score_adapt_static_s`` before at ``score_adapt_static_iou`` or more (none
        before that many frames have been seen)."""
        a = self.config.association
        usable = scores >= a.low_score
        if len(self._recent_dets) < self._static_lag or not np.count_nonzero(usable):
            return np.zeros(0, np.float32)
        old = self._recent_dets[0]
        before = old.boxes[old.scores >= a.low_score]
        s = scores[usable]
        if len(before) == 0:
            return s
        return s[iou_matrix(boxes[usable], before).max(axis=1) < a.score_adapt_static_iou]

    def _remember_dets(self, dets: Detections) -> None:
        """Keep this frame's detections for :meth:`_moved` (with ``association.score_adapt_when_empty``
        only)."""
        if self._learn_when_empty:
            self._recent_dets.append(dets)

    def _empty_scene(self) -> bool:
        """Whether the score level learns as before the first match on this frame: with
        ``association.score_adapt_when_empty`` (and ``lifecycle.max_weak_frames`` off), when no
        confirmed or lost track is held."""
        return self._learn_when_empty and not np.count_nonzero(self._store.states != _TENTATIVE)

    def _predict(self, affine: NDArray[np.float32] | None) -> None:
        """Kalman prediction of every track (lost tracks' velocity decayed), then the camera motion."""
        s = self._store
        if len(s) == 0:
            return
        m = self.config.motion
        if m.lost_velocity_decay != 1.0:
            s.means[s.states == _LOST, 4:6] *= m.lost_velocity_decay
        # (lost tracks have no size velocity: it is zeroed when they are lost, as in BoT-SORT)
        self.kf.predict_inplace(s.means, s.covs)
        # a shrinking box must not turn inside out while it is not observed
        size = s.means[:, 2:4]
        if np.count_nonzero(size < _MIN_BOX_SIZE):
            np.maximum(size, _MIN_BOX_SIZE, out=size)
        if affine is not None:
            from ..motion.cmc import apply_affine

            s.means, s.covs = apply_affine(s.means, s.covs, affine)

    def _innovation_inverse(self) -> NDArray[np.float64]:
        """``float64[T,4,4]``: every track's innovation inverse ``S^-1`` this frame (after the
        prediction), computed once on first use; the Mahalanobis gates and the Kalman update of the
        matched tracks both read it."""
        if self._s_inv is None:
            s = self._store
            self._s_inv = self.kf.innovation_inverse(s.means, s.covs)
        return self._s_inv

    def _association_frame(
        self,
        dets: Detections,
        det_boxes: NDArray[np.float64],
        z: NDArray[np.float64],
        emb: NDArray[np.float32] | None,
        pools: dict[str, NDArray[np.bool_]],
        high: float,
    ) -> AssociationFrame:
        """This frame's tracks and detections as the association stages read them (``det_boxes``:
        ``float64[N,4]`` xyxy, the detections' boxes; ``z``: ``float64[N,4]`` the same as cx, cy, w,
        h; ``pools``: ``bool[T]`` track masks by pool; ``high``: where this frame's ``high`` band
        starts)."""
        s = self._store
        a = self.config.association
        scores = dets.scores
        track_boxes = cxcywh_to_xyxy(s.means[:, :4])
        track_areas = box_areas(track_boxes)
        det_areas = box_areas(det_boxes)
        high_band = scores >= high
        usable = scores >= a.low_score
        means = s.means

        def gating(rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.float64]:
            # (S^-1 is this frame's, so the covariances themselves are not needed: no [k,8,8] copy)
            # (``take``: the same rows as fancy indexing, at a third of its cost on 2-D/3-D stacks)
            return mahalanobis(means.take(rows, 0), z.take(cols, 0), self._innovation_inverse().take(rows, 0))

        def gating_pairs(rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.float64]:
            # the same cached S^-1 rows (a pair's row is its track's): not recomputed per pair
            return mahalanobis_pairs(
                means.take(rows, 0), z.take(cols, 0), self._innovation_inverse().take(rows, 0)
            )

        det_scores, track_scores = scores, s.scores
        # (frames with appearance keep raw scores: the fused cost's balance was measured on them)
        scale = 1.0 if _has_features(emb) else self._relative_score_scale()
        if scale < 1.0:  # (the bands above read the raw scores)
            det_scores = np.minimum(scores / np.float32(scale), np.float32(1.0))
            track_scores = np.minimum(s.scores / np.float32(scale), np.float32(1.0))
        return AssociationFrame(
            track_boxes=track_boxes,
            track_areas=track_areas,
            track_last_boxes=s.last_boxes,
            track_scores=track_scores,
            track_velocities=means[:, 4:6],
            track_gaps=s.lost,
            track_features=s.features,
            track_has_feature=s.has_feature,
            pools=pools,
            det_boxes=det_boxes,
            det_areas=det_areas,
            det_scores=det_scores,
            det_features=emb,
            bands={"high": high_band, "low": usable & ~high_band, "all": usable},
            gating=gating,
            gating_pairs=gating_pairs,
            appearance=self.config.appearance,
            gating_chi2=self.config.motion.gating_chi2,
            appearance_gate=self._app_gate,
        )

    def _apply_matches_and_follow(
        self,
        mt: NDArray[np.int64],
        md: NDArray[np.int64],
        dets: Detections,
        z: NDArray[np.float64],
        emb: NDArray[np.float32] | None,
        affine: NDArray[np.float32] | None,
        newly_lost: NDArray[np.bool_],
    ) -> None:
        """Update matched tracks, mark the unmatched tracked ones ``newly_lost: bool[T]`` lost, and move
        lost tracks with the scene where image-based CMC is off (``z``: ``float64[N,4]`` cx, cy, w, h
        of every detection)."""
        s = self._store
        m = self.config.motion
        follow = m.shift_lost_with_scene and affine is None and len(mt) >= m.min_shift_matches
        before = s.means.take(mt, 0) if follow else None  # a copy of the predicted states
        self._apply_matches(mt, md, dets, z.take(md, 0), emb)
        self._mark_lost(newly_lost)
        if before is not None:
            lost = s.states == _LOST
            # (with the coherence gate every such frame is measured, lost tracks or not)
            if m.shift_min_coherence > 0 or np.count_nonzero(lost):
                self._follow_scene(mt, md, dets.boxes, before, lost)

    def _mark_lost(self, newly_lost: NDArray[np.bool_]) -> None:
        """Tracked tracks left unmatched, ``bool[T]``, become lost."""
        s = self._store
        if np.count_nonzero(newly_lost):
            s.states[newly_lost] = _LOST
            s.means[newly_lost, 6:8] = 0.0  # no size velocity while unobserved (BoT-SORT)

    def _returned(
        self, matched: NDArray[np.int64], emb: NDArray[np.float32] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int32]] | None:
        """The tracks among ``matched: int64[K]`` (this frame's matches, before they are applied) that
        come back after missed frames, and their gaps (frames since their last match): ``int64[R]``,
        ``int32[R]``, for ``association.reclaim_iou``; ``None`` when that is off, the frame has no
        appearance or no track comes back."""
        if self.config.association.reclaim_iou <= 0 or not _has_features(emb):
            return None
        gaps = self._store.lost[matched]
        back = gaps >= 2
        return (matched[back], gaps[back]) if np.count_nonzero(back) else None

    def _remove(
        self,
        dead_tentative: NDArray[np.bool_],
        returned: tuple[NDArray[np.int64], NDArray[np.int32]] | None = None,
    ) -> None:
        """Drop tentative tracks left unmatched (``dead_tentative: bool[T]``), lost tracks past their
        lifetime, tracks without a strong detection for too long (``lifecycle.max_weak_frames``),
        and duplicates, the younger twins of the tracks ``returned`` included (rows and gaps, see
        :meth:`_returned` and :meth:`_duplicates`)."""
        s = self._store
        lost = s.states == _LOST
        dead = lost & (s.lost > self.max_lost)
        dead |= dead_tentative
        if self.max_weak:
            dead |= s.weak > self.max_weak
        dup = self._duplicates(lost & ~dead, returned)
        if dup is not None:
            dead[dup] = True
        if np.count_nonzero(dead):
            s.keep(~dead)

    def _follow_scene(
        self,
        tracks: NDArray[np.int64],
        det_idx: NDArray[np.int64],
        boxes: NDArray[np.float32],
        predicted: NDArray[np.float64],
        lost: NDArray[np.bool_],
    ) -> None:
        """Move lost tracks (``lost: bool[T]``) with the scene, for frames without image-based camera motion compensation.

        What the matched tracks' velocities did not foresee this frame (the median of detection centre
        minus predicted centre, ``float64[2]`` px) is mostly camera motion; lost tracks, which no
        detection corrects, are moved by it, and their velocities get the median velocity correction
        the matched tracks received. With ``motion.shift_min_coherence`` this frame's coherence of
        the position corrections (``|median| / MAD``, the larger of x and y) first feeds the running
        mean, and lost tracks move only while that mean is at least the setting: under a static
        camera the median correction is the filter's lag behind walkers, not a motion of the scene.

        Args:
            tracks: ``int64[K]`` matched tracks; det_idx: ``int64[K]`` their detections;
            boxes: ``float32[N,4]`` xyxy this frame's boxes; predicted: ``float64[K,8]`` the matched
            tracks' states before their update.
        """
        s = self._store
        m = self.config.motion
        b = boxes.take(det_idx, 0)
        centres = 0.5 * (b[:, :2] + b[:, 2:])
        # the position and velocity corrections, float64[K,4], and their medians (one sort): float64[4]
        corrections = np.concatenate(
            [centres - predicted[:, :2], s.means.take(tracks, 0)[:, 4:6] - predicted[:, 4:6]], axis=1
        )
        med = _median_rows(corrections)
        mx, my, mvx, mvy = med.tolist()  # (Python floats: the same IEEE arithmetic, no numpy calls)
        if m.shift_min_coherence > 0:
            sx, sy = _median_rows(np.abs(corrections[:, :2] - med[:2])).tolist()  # MAD of x, y
            coherence = max(abs(mx) / max(sx, _MIN_SPREAD_PX), abs(my) / max(sy, _MIN_SPREAD_PX))
            rate = self._coherence_rate
            self._scene_coherence += rate * (coherence - self._scene_coherence)
            self._scene_coherence_weight += rate * (1.0 - self._scene_coherence_weight)
            mean = self._scene_coherence / self._scene_coherence_weight
            if mean < m.shift_min_coherence or not np.count_nonzero(lost):
                return
        # one update of the whole state rows: (cx, cy) and (vcx, vcy); other rows get + 0 (unchanged,
        # cheaper than a mask)
        s.means += np.multiply.outer(lost, np.array([mx, my, 0.0, 0.0, mvx, mvy, 0.0, 0.0]))

    def _apply_matches(
        self,
        tracks: NDArray[np.int64],
        det_idx: NDArray[np.int64],
        dets: Detections,
        z: NDArray[np.float64],
        emb: NDArray[np.float32] | None,
    ) -> None:
        """Correct ``tracks: int64[K]`` with detections ``det_idx: int64[K]`` (``z: float64[K,4]``
        their cx, cy, w, h)."""
        if len(tracks) == 0:
            return
        if _has_features(emb) and self.config.appearance.gate_scale > 0:
            self._sample_appearance(tracks, det_idx, emb)  # (before states and features move)
        s = self._store
        life = self.config.lifecycle
        # the gates' innovation inverses when they were computed (not with score-scaled noise)
        s_inv = (
            self._s_inv.take(tracks, 0)
            if self._s_inv is not None and self.kf.config.score_noise <= 0
            else None
        )
        s.means[tracks], s.covs[tracks] = self.kf.update(
            s.means.take(tracks, 0), s.covs.take(tracks, 0), z, dets.scores[det_idx], s_inv
        )
        if self.config.motion.reupdate_after_gap:
            self._reupdate(tracks, z, dets.scores[det_idx])
            s.last_covs[tracks] = s.covs.take(tracks, 0)
        elif self.config.motion.reset_velocity_after_gap:
            # A track found again after a gap: its predicted velocity drifted while unobserved. Use the
            # average velocity over the gap instead (a one-step form of OC-SORT's re-update).
            gap = s.lost[tracks]
            back = gap >= self._reset_min_gap
            if np.count_nonzero(back):  # (cheaper than .any() on these small arrays)
                last = xyxy_to_cxcywh(s.last_boxes[tracks[back]])
                s.means[tracks[back], 4:8] = (z[back] - last) / gap[back][:, None]
        hits = s.hits[tracks] + 1
        s.hits[tracks] = hits
        s.lost[tracks] = 0
        s.scores[tracks] = dets.scores[det_idx]
        s.class_ids[tracks] = dets.class_ids[det_idx]
        s.last_boxes[tracks] = dets.boxes.take(det_idx, 0)
        s.det_index[tracks] = det_idx
        # lost tracks found again, and tentative ones with enough hits, are confirmed
        st = s.states[tracks]
        st[(st == _LOST) | (hits >= life.min_hits)] = _CONFIRMED  # (st is a copy: fancy indexing)
        s.states[tracks] = st
        if _has_features(emb):
            self._update_features(tracks, det_idx, dets, emb)

    def _reupdate(
        self, tracks: NDArray[np.int64], z: NDArray[np.float64], scores: NDArray[np.float32]
    ) -> None:
        """Observation-centric re-update of the matched ``tracks: int64[K]`` that come back after a
        gap (``z: float64[K,4]`` cx, cy, w, h of their new detections, ``scores: float32[K]``): each
        such track restarts from its last observed box (velocity: the mean over the gap, covariance:
        the one it had right after that box's update, ``TrackStore.last_covs``) and takes one
        predict and one update per frame of the gap, on boxes interpolated linearly to the new one
        (``motion.reupdate_after_gap``)."""
        s = self._store
        gap = s.lost[tracks]
        back = (gap > 1).nonzero()[0]
        if len(back) == 0:
            return
        rows = tracks[back]
        k = gap[back].astype(np.float64)
        last = xyxy_to_cxcywh(s.last_boxes[rows])
        step = (z[back] - last) / k[:, None]  # float64[B,4] per frame along the gap
        means = np.concatenate([last, step], axis=1)
        covs = s.last_covs.take(rows, 0)
        sc = scores[back]
        for i in range(1, int(k.max()) + 1):
            on = (k >= i).nonzero()[0]
            m, c = means[on], covs[on]
            self.kf.predict_inplace(m, c)
            means[on], covs[on] = self.kf.update(m, c, last[on] + i * step[on], sc[on])
        s.means[rows] = means
        s.covs[rows] = covs

    def _sample_appearance(
        self, tracks: NDArray[np.int64], det_idx: NDArray[np.int64], emb: NDArray[np.float32]
    ) -> None:
        """Record cosine distances between different people for ``appearance.gate_scale``: the
        embedding of the detection matched to each confirmed track (``tracks: int64[K]`` matched to
        ``det_idx: int64[K]``, ``emb: float32[N,D]`` L2-normalised) against the appearance states of
        the *other* confirmed tracks matched this frame, then the gate from their running median."""
        s = self._store
        sel = (s.states[tracks] != _TENTATIVE) & s.has_feature[tracks]
        e = emb.take(det_idx[sel], 0)
        real = np.any(e, axis=1)  # (detections below high_score carry no embedding: zeros)
        rows = tracks[sel][real]
        k = len(rows)
        if k < 2:
            return
        # float64[K*(K-1)]: off the diagonal of the K x K distances (the same formula as the cost)
        d = cosine_distance(e[real], s.features.take(rows, 0))[~np.eye(k, dtype=bool)]
        buf = self._app_distances
        w = len(buf)
        if len(d) > w:
            d = d[-w:]
        at = self._app_count % w
        head = min(len(d), w - at)
        buf[at : at + head] = d[:head]
        buf[: len(d) - head] = d[head:]
        self._app_count += len(d)
        p = self.config.appearance
        if self._app_count >= p.gate_min_samples:
            self._app_gate = p.gate_scale * float(np.median(buf[: min(self._app_count, w)]))

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
        ok = (dets.scores[det_idx] >= p.min_update_score) & (np.abs(emb.take(det_idx, 0)).sum(axis=1) > 0)
        tracks, det_idx = tracks[ok], det_idx[ok]
        new = emb.take(det_idx, 0)
        old = s.features.take(tracks, 0)
        mixed = np.where(s.has_feature[tracks][:, None], p.ema_alpha * old + (1.0 - p.ema_alpha) * new, new)
        norms = np.linalg.norm(mixed, axis=1, keepdims=True)
        s.features[tracks] = mixed / np.maximum(norms, 1e-12)
        s.has_feature[tracks] = True

    def _start_tracks(
        self,
        det_idx: NDArray[np.int64],
        dets: Detections,
        z: NDArray[np.float64],
        emb: NDArray[np.float32] | None,
    ) -> None:
        """New tracks from detections ``det_idx: int64[K]`` (``z: float64[N,4]`` cx, cy, w, h of every
        detection)."""
        n = len(det_idx)
        if n == 0:
            return
        s = self._store
        means, covs = self.kf.initiate(z.take(det_idx, 0))
        first_frame = self._frame_count == 1
        confirm = first_frame or self.config.lifecycle.min_hits <= 1
        if _has_features(emb):
            feats = emb.take(det_idx, 0).astype(np.float32)
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
            weak=np.zeros(n, np.int32),  # (every new track starts from a strong detection)
            age=np.zeros(n, np.int32),
            scores=dets.scores[det_idx].astype(np.float32),
            class_ids=dets.class_ids[det_idx].astype(np.int64),
            last_boxes=dets.boxes.take(det_idx, 0).astype(np.float64),
            last_covs=covs.copy() if self.config.motion.reupdate_after_gap else np.zeros((n, 0, 0)),
            features=feats,
            has_feature=has,
            det_index=det_idx.astype(np.int64),
        )
        s.append(new)

    def _duplicates(
        self,
        lost: NDArray[np.bool_],
        returned: tuple[NDArray[np.int64], NDArray[np.int32]] | None = None,
    ) -> NDArray[np.int64] | None:
        """One person followed by two tracks, a lost one and one matched this frame (current boxes):

        * ByteTrack's ``remove_duplicate_stracks``: they overlap almost completely (IoU above
          ``duplicate_iou``); the younger of the two is dropped;
        * ``association.reclaim_iou`` (``returned``: the matched tracks that came back after missed
          frames and their gaps, ``int64[R]`` and ``int32[R]``, from :meth:`_returned`): the matched
          track came back, and the lost one was matched on the frame before, started while the other
          was unseen (after its last match, so it is no neighbour the returned track walked beside)
          and overlaps it above ``reclaim_iou``; the lost one is dropped.

        ``lost``: ``bool[T]`` the lost tracks not already being removed. Returns the ``int64[K]`` rows to
        drop, or ``None``."""
        s = self._store
        lost_rows = lost.nonzero()[0]
        if len(lost_rows) == 0:
            return None
        tracked = ((s.states == _CONFIRMED) & (s.lost == 0)).nonzero()[0]
        if len(tracked) == 0:
            return None
        boxes = cxcywh_to_xyxy(s.means[:, :4])
        a, b = boxes.take(tracked, 0), boxes.take(lost_rows, 0)
        a_cfg = self.config.association
        threshold = a_cfg.duplicate_iou
        if returned is not None:  # both rules: every pair above the lower threshold, with its IoU
            threshold = min(threshold, a_cfg.reclaim_iou)
        iou: NDArray[np.float64] | None
        if len(a) * len(b) >= SPARSE_IOU_MIN_PAIRS:  # packed scenes: the overlapping pairs only
            ti, li, iou = overlap_pairs(a, b)
            above = iou > threshold
            ti, li, iou = ti[above], li[above], iou[above]
        else:
            m = iou_matrix(a, b)
            ti, li = (m > threshold).nonzero()
            iou = m[ti, li] if returned is not None else None
        if len(ti) == 0:
            return None
        t_rows, l_rows = tracked[ti], lost_rows[li]
        older_tracked = s.age[t_rows] >= s.age[l_rows]
        if returned is None:  # (every pair is above duplicate_iou)
            return np.concatenate([l_rows[older_tracked], t_rows[~older_tracked]])
        assert iou is not None
        dup = iou > a_cfg.duplicate_iou
        gap = np.zeros(len(s), np.int32)
        gap[returned[0]] = returned[1]
        twin = (iou > a_cfg.reclaim_iou) & (s.lost[l_rows] == 1) & (s.age[l_rows] < gap[t_rows])
        return np.concatenate([l_rows[dup & older_tracked], t_rows[dup & ~older_tracked], l_rows[twin]])

    # -- output -----------------------------------------------------------------------------------
    def _output(self) -> Tracks:
        s = self._store
        life = self.config.lifecycle
        shown = s.states == _CONFIRMED
        if life.output_tentative:
            shown |= s.states == _TENTATIVE
        show = (s.lost == 0) & shown
        if self.config.association.min_box_area > 0:
            show &= s.means[:, 2] * s.means[:, 3] >= self.config.association.min_box_area
        return self._tracks(show.nonzero()[0])

    def _tracks(self, rows: NDArray[np.int64]) -> Tracks:
        s = self._store
        return Tracks(  # fancy indexing copies: the caller owns these arrays
            ids=s.ids[rows],
            boxes=cxcywh_to_xyxy(s.means.take(rows, 0)[:, :4]).astype(np.float32),
            scores=s.scores[rows],
            class_ids=s.class_ids[rows],
            states=s.states[rows],
            det_index=s.det_index[rows],
        )
