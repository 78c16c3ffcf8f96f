"""Global identities across cameras: :class:`GlobalIdentityManager`.

Every per-camera track ("tracklet", keyed by ``(camera, local id)``) carries a global id.

Life of a tracklet's identity:

1. **Provisional.** When a camera first reports a local track, the tracklet gets a fresh global id from
   the manager's allocator (1, 2, 3, ..., never reused). Outputs carry it, flagged ``provisional``.
2. **Decision.** Matching needs appearance, so the tracklet first collects
   :attr:`~tracker.multicam.MultiCamConfig.min_tracklet_frames` observations. Let ``T`` be the
   timestamp of that observation (the decision time). The decision is taken once every camera has
   reported a frame at or after ``T`` (or the furthest-ahead camera is ``max_decision_wait_s`` past
   ``T``, or :meth:`GlobalIdentityManager.flush` is called), using only observations up to ``T``. All
   tracklets with the same decision time are decided together by one Hungarian assignment
   (``association.lsap.linear_sum_assignment``) against the candidates: ended tracklets that are
   decided, not yet continued by another tracklet, long and good enough. Cost = cosine distance of
   the tracklet summaries; a pair is gated (finite cost ``max_appearance_distance + margin +
   distance``, never inf/NaN) when

   * the camera pair may not hand off (transition graph, same camera disabled by default), or the
     old tracklet's last box / the new one's first box lies outside the edge's exit / entry zone,
   * the travel time ``new.first_t - old.last_t`` (old's last observation up to ``T``) is outside the
     pair's ``[min_travel_s, max_travel_s]`` window,
   * the old tracklet was reported less than ``lost_after_s`` before ``T``, or its global id is active
     (observed at or after ``new.first_t``) in a camera that does not overlap the new one,
   * either summary has no embedding.

   An assigned pair with cost ``<= max_appearance_distance`` links: the new tracklet takes the old
   global id (its provisional id is abandoned, never reused) and the old tracklet is "claimed".
   Otherwise the provisional id becomes final.
3. **Final.** After the decision the mapping ``(camera, local id) -> global id`` never changes.

Because decisions use only data up to ``T`` and wait until every camera has passed ``T``, the final
mapping does not depend on how frames of different cameras are interleaved (within the wait limit).
Provisional ids are allocated in arrival order, so the NUMBERS can differ between interleavings; the
partition of tracklets into identities does not.

**Tracklet splits.** A local track becomes a new tracklet (its identity decided afresh as above) when
it is reported again after more than ``split_gap_s`` unseen, or when its per-frame embeddings stay
farther than ``split_appearance_distance`` from the tracklet's running appearance for
``split_confirm_frames`` observations in a row (cut at the first of them): per-camera trackers pass
ids between people who cross, or from one leaving the view to one entering at the same place. While
such a streak lasts, the emitted id is flagged provisional again.

Tracklets that never reach ``min_tracklet_frames`` keep their provisional id and are never candidates.
Ended tracklets are forgotten once every camera's clock is ``max_window_s`` past their last
observation (never with ``time_gating: false``).

A claimed tracklet that is reported again later keeps its global id (ids never flip), so in that rare
case one global id is active in two places.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..association.lsap import linear_sum_assignment
from .calibration import CalibrationRule, CalibrationSettings, CalibrationState
from .config import MultiCamConfig, load_multicam_config
from .linking import (
    MISSING_EMBEDDING_DISTANCE,
    appearance_distance,
    intervals_overlap,
    link_costs,
    transition_allowed,
)
from .tracklets import Tracklet, TrackletSummary, vector_norm

__all__ = ["GlobalIdentityManager", "LinkDecision"]

Key = tuple[str, int]
SegKey = tuple[str, int, int]


@dataclass(frozen=True)
class LinkDecision:
    """One decided tracklet.

    Attributes:
        camera: camera of the new tracklet.
        local_id: its local track id.
        decision_time: ``T`` (seconds), timestamp of its ``min_tracklet_frames``-th observation.
        global_id: its final global id.
        linked_from: ``(camera, local_id)`` of the tracklet it continues, or ``None`` (new identity).
        distance: cosine distance of the link (``nan`` when not linked).
    """

    camera: str
    local_id: int
    decision_time: float
    global_id: int
    linked_from: Key | None
    distance: float


def check_camera_names(cfg: MultiCamConfig, cameras: Sequence[str]) -> None:
    """Raise ``ValueError`` when a transition or an overlapping pair of ``cfg`` names a camera that is
    not in ``cameras`` (a misspelt name silently ruled every handoff out under
    ``restrict_to_transitions``), or a transition between cameras that do not overlap has a negative
    ``min_travel_s`` (nobody arrives before leaving)."""
    known = set(cameras)
    for i, t in enumerate(cfg.transitions):
        for end in ("from_camera", "to_camera"):
            name = getattr(t, end)
            if name not in known:
                raise ValueError(
                    f"linking.transitions[{i}].{end}: unknown camera {name!r}; the cameras are {list(cameras)}"
                )
        if t.min_travel_s < 0 and not cfg.overlaps(t.from_camera, t.to_camera):
            raise ValueError(
                f"linking.transitions[{i}].min_travel_s: must be >= 0 between cameras that do not "
                f"overlap ({t.from_camera!r} -> {t.to_camera!r}), got {t.min_travel_s}"
            )
    for i, pair in enumerate(cfg.overlapping_cameras):
        unknown = [c for c in pair if c not in known]
        if unknown:
            raise ValueError(
                f"linking.overlapping_cameras[{i}]: unknown camera {unknown[0]!r}; the cameras are {list(cameras)}"
            )


class GlobalIdentityManager:
    """Maps per-camera track ids to global ids (see the module docstring for the rules).

    Args:
        cameras: the camera ids (strings); frames of other cameras are rejected.
        config: a :class:`~tracker.multicam.MultiCamConfig`, a mapping, a YAML path or ``None``.

    Raises:
        ValueError: no cameras, repeated camera ids, or a bad config.
    """

    def __init__(self, cameras: Sequence[str], config: MultiCamConfig | str | dict | None = None) -> None:
        if isinstance(cameras, (str, bytes)):  # a string is a sequence too: "left" gave l, e, f, t
            raise ValueError(f"cameras: a list of camera ids, got the string {cameras!r}")
        cams = [str(c) for c in cameras]
        if not cams:
            raise ValueError("cameras: at least one camera id is needed")
        if len(set(cams)) != len(cams):
            raise ValueError(f"cameras: repeated camera id in {cams}")
        self.cameras: tuple[str, ...] = tuple(cams)
        self.config = load_multicam_config(config)
        check_camera_names(self.config, cams)
        self.reset()

    # -- public API -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything; global ids start from 1 again."""
        cfg = self.config
        self._next_gid = 1
        self._dim: int | None = None
        self._tracklets: dict[SegKey, Tracklet] = {}
        self._clock: dict[str, float] = {}
        self._pending: dict[SegKey, Tracklet] = {}
        self._decisions: deque[LinkDecision] = deque()
        self._num_decisions = 0
        self._num_links = 0
        self._num_conflict_splits = 0
        self._current: dict[Key, Tracklet] = {}
        self._history: dict[Key, list[Tracklet]] = {}
        self._by_gid: dict[int, list[Tracklet]] = {}
        self._released: deque[Tracklet] = deque()
        self._stale_scan_at = -math.inf
        """Safe time of the last scan for stale tracklets (:meth:`_prune`)."""
        self._stale_scan_due = False
        """A tracklet was cut short since then (its last observation moved back in time)."""
        self.calibration = CalibrationState(
            CalibrationSettings(
                enabled=cfg.calibrate,
                min_samples=cfg.calibration_min_samples,
                window=cfg.calibration_window,
                link_rule=CalibrationRule(
                    cfg.calibration_upper_quantile,
                    cfg.calibration_lower_quantile,
                    cfg.calibration_link_position,
                ),
                split_rule=CalibrationRule(
                    cfg.calibration_upper_quantile,
                    cfg.calibration_lower_quantile,
                    cfg.calibration_split_position,
                ),
                bounds=(cfg.calibration_min_distance, cfg.calibration_max_distance),
                link_fixed=cfg.max_appearance_distance,
                split_fixed=cfg.split_appearance_distance,
            )
        )

    def check_frame(self, camera: str, timestamp: float) -> None:
        """Raise ``ValueError`` for an unknown camera or a timestamp that does not increase per camera."""
        if camera not in self.cameras:
            raise ValueError(f"unknown camera id {camera!r}; known cameras: {list(self.cameras)}")
        if (
            isinstance(timestamp, bool)
            or not isinstance(timestamp, (int, float, np.integer, np.floating))
            or not math.isfinite(timestamp)
        ):
            raise ValueError(f"camera {camera!r}: timestamp must be a finite number, got {timestamp!r}")
        last = self._clock.get(camera)
        if last is not None and timestamp <= last:
            raise ValueError(
                f"camera {camera!r}: timestamp {timestamp} does not increase (previous frame was at {last})"
            )

    def check_embeddings(self, camera: str, embeddings: NDArray[np.floating]) -> None:
        """Raise ``ValueError`` unless ``embeddings`` (``float[M,D]``) are finite and ``D`` matches the
        dimension every earlier embedding of every camera had (``D == 0`` means "no embeddings")."""
        e = np.asarray(embeddings)
        if e.ndim != 2:
            raise ValueError(f"camera {camera!r}: embeddings must be 2-D [M, D], got shape {e.shape}")
        if e.shape[1] == 0 or len(e) == 0:
            return
        if self._dim is not None and e.shape[1] != self._dim:
            raise ValueError(
                f"camera {camera!r}: embeddings have dimension {e.shape[1]}, but earlier frames had "
                f"{self._dim} (every camera must use the same appearance model)"
            )
        if not np.isfinite(e).all():
            raise ValueError(f"camera {camera!r}: embeddings contain NaN or inf")

    def fix_embedding_dim(self, camera: str, dim: int) -> None:
        """Fix the run's embedding dimension to ``dim`` (> 0) if it is not fixed yet, e.g. from a frame
        whose embedded detections made no reported track; ``ValueError`` if it differs (no change)."""
        if self._dim is not None and dim != self._dim:
            raise ValueError(f"camera {camera!r}: embedding dimension {dim}, earlier frames had {self._dim}")
        if dim > 0:
            self._dim = int(dim)

    @property
    def embedding_dim(self) -> int | None:
        """The embedding dimension of the run (fixed by the first embeddings seen), or ``None``."""
        return self._dim

    def observe(
        self,
        camera: str,
        timestamp: float,
        local_ids: ArrayLike,
        boxes: ArrayLike,
        scores: ArrayLike,
        embeddings: ArrayLike | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Record one frame of one camera and return the global ids of its tracks.

        Args:
            camera: camera id (one of :attr:`cameras`).
            timestamp: seconds; must increase from frame to frame of the same camera.
            local_ids: ``int64[M]`` the camera tracker's ids of the tracks reported in this frame.
            boxes: ``float32[M,4]`` xyxy pixels.
            scores: ``float32[M]`` detection scores in ``[0, 1]``.
            embeddings: ``float32[M,D]`` appearance vectors, or ``None``; rows of zeros mean "none".
                ``D`` must be the same for every camera and frame.

        Returns:
            ``(global_ids int64[M], provisional bool[M])``: provisional ids may still change once (to
            an earlier identity) when the tracklet's identity is decided.

        Raises:
            ValueError: unknown camera, timestamp not increasing for this camera, inconsistent shapes,
                embeddings of another dimension than earlier ones, or non-finite values; the state is
                then unchanged.
        """
        self.check_frame(camera, timestamp)
        ids = np.asarray(local_ids, np.int64).reshape(-1)
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        s = np.asarray(scores, np.float32).reshape(-1)
        m = len(ids)
        if len(b) != m or len(s) != m:
            raise ValueError(
                f"camera {camera!r}: {m} ids, {len(b)} boxes and {len(s)} scores differ in length"
            )
        if len(np.unique(ids)) != m:
            raise ValueError(f"camera {camera!r}: repeated local id in {ids.tolist()}")
        if not (np.isfinite(b).all() and np.isfinite(s).all()):
            raise ValueError(f"camera {camera!r}: boxes or scores contain NaN or inf")
        e: NDArray[np.float32] | None = None
        if embeddings is not None and m:
            e = np.asarray(embeddings, np.float32)
            if e.ndim != 2 or len(e) != m:
                raise ValueError(f"camera {camera!r}: embeddings shape {e.shape} for {m} tracks")
            self.check_embeddings(camera, e)
            if e.shape[1] == 0:
                e = None
        # ---- validation done: state changes from here on ----
        t = float(timestamp)
        self._clock[camera] = t
        if e is not None and self._dim is None:
            self._dim = int(e.shape[1])
        frame_tracklets: list[Tracklet] = []
        has_emb: list[bool] = [] if e is None else np.any(e, axis=1).tolist()
        for i, lid in enumerate(ids.tolist()):
            key = (camera, lid)
            tr = self._current.get(key)
            gap = self.config.split_gap_s
            if (
                tr is None
                or tr.released
                or (gap is not None and t - tr.last_t > gap)
                or self._would_conflict(tr, t)
            ):
                if tr is not None and not tr.released and self._would_conflict(tr, t):
                    self._num_conflict_splits += 1
                tr = self._start_segment(camera, lid, 0 if tr is None else tr.segment + 1)
            emb = None if e is None or not has_emb[i] else e[i]
            tr.add(t, b[i], float(s[i]), emb)
            self._check_split(tr)
            tr = self._current[key]
            self._sample_link_positive(tr)
            frame_tracklets.append(tr)
        self._sample_split_negatives(frame_tracklets)
        self._decide_ready(force=False)
        self._prune()
        out = np.array([self._current[(camera, lid)].global_id for lid in ids.tolist()], np.int64)
        # a tracklet in a deviating-appearance streak may still be cut: its id is provisional again
        prov = np.array(
            [not (tr := self._current[(camera, lid)]).decided or tr.streak > 0 for lid in ids.tolist()],
            bool,
        )
        return out, prov

    def flush(self) -> None:
        """Decide every tracklet that has reached ``min_tracklet_frames`` now (end of the streams)."""
        self._decide_ready(force=True)

    def global_id(self, camera: str, local_id: int) -> int | None:
        """The current global id of ``(camera, local_id)``, or ``None`` if that track was never seen
        (or was forgotten, see :attr:`~tracker.multicam.MultiCamConfig.history_s`)."""
        tr = self._current.get((camera, int(local_id)))
        return None if tr is None else tr.global_id

    def global_id_at(self, camera: str, local_id: int, timestamp: float) -> int | None:
        """Global id of ``(camera, local_id)`` at ``timestamp`` (local tracks re-acquired after
        ``split_gap_s`` are separate tracklets that may carry different global ids); ``None`` if the
        track was never seen or was forgotten (:attr:`~tracker.multicam.MultiCamConfig.history_s`)."""
        segs = self._history.get((camera, int(local_id)))
        if not segs:
            return None
        k = max(int(np.searchsorted([s.first_t for s in segs], timestamp, side="right")) - 1, 0)
        return segs[k].global_id

    def final_ids(self, camera: str, local_ids: NDArray[np.int64], timestamp: float) -> NDArray[np.int64]:
        """:meth:`global_id_at` of every ``int64[M]`` local id at ``timestamp`` as ``int64[M]``, ``-1``
        where there is none (the final ids of a frame, once the run is flushed)."""
        ids = [self.global_id_at(camera, int(lid), timestamp) for lid in np.asarray(local_ids).tolist()]
        return np.array([g if g is not None else -1 for g in ids], np.int64)

    def mapping(self) -> dict[Key, int]:
        """Every ``(camera, local id)`` seen (and not forgotten) -> its current global id."""
        return {k: tr.global_id for k, tr in self._current.items()}

    def is_decided(self, camera: str, local_id: int) -> bool:
        """Whether the global id of ``(camera, local_id)`` is final."""
        tr = self._current.get((camera, int(local_id)))
        return tr is not None and tr.decided

    @property
    def decisions(self) -> list[LinkDecision]:
        """The decisions taken so far, in order (those older than ``history_s`` are forgotten)."""
        return list(self._decisions)

    @property
    def num_global_ids(self) -> int:
        """Global ids allocated so far (provisional ones included)."""
        return self._next_gid - 1

    def summary(self) -> dict[str, Any]:
        """What the run decided with, for ``multicam_summary.json``: the linking thresholds in use
        (calibrated or fixed) with the statistics behind them, and counts of global ids, decisions,
        links and of tracklets cut because one id would have been in two places at once."""
        return {
            "calibration": self.calibration.as_dict(),
            "global_ids": self.num_global_ids,
            "decisions": self._num_decisions,
            "links": self._num_links,
            "conflict_splits": self._num_conflict_splits,
            "held": {
                "tracklets": len(self._tracklets),
                "released": len(self._released),
                "tracks": len(self._current),
                "decisions": len(self._decisions),
            },
        }

    def summaries(self) -> list[TrackletSummary]:
        """Summaries of the tracklets still held (ended ones are dropped after the time window)."""
        out = [tr.summary() for tr in self._tracklets.values()]
        return [s for s in out if s is not None]

    # -- internals --------------------------------------------------------------------------------
    def _allocate(self) -> int:
        gid = self._next_gid
        self._next_gid += 1
        return gid

    def _start_segment(self, camera: str, local_id: int, segment: int) -> Tracklet:
        """A new (pending, provisional) tracklet for the local track, made its current one."""
        tr = Tracklet(camera, local_id, self._allocate(), segment=segment)
        key = (camera, local_id, segment)
        self._tracklets[key] = tr
        self._pending[key] = tr
        self._current[(camera, local_id)] = tr
        self._history.setdefault((camera, local_id), []).append(tr)
        self._by_gid.setdefault(tr.global_id, []).append(tr)
        return tr

    def _set_global_id(self, tr: Tracklet, gid: int) -> None:
        holders = self._by_gid.get(tr.global_id, [])
        if tr in holders:
            holders.remove(tr)
            if not holders:
                del self._by_gid[tr.global_id]
        tr.global_id = gid
        self._by_gid.setdefault(gid, []).append(tr)

    def _conflicts(self, gid: int, tr: Tracklet, first: float, last: float) -> bool:
        """Whether another tracklet carrying ``gid`` (a different local track, in a camera whose view
        does not overlap ``tr``'s) was observed during ``[first, last]``: then ``tr`` may not carry it."""
        for other in self._by_gid.get(gid, ()):
            if other is tr or other.released or (other.camera, other.local_id) == (tr.camera, tr.local_id):
                continue
            if self.config.overlaps(other.camera, tr.camera):
                continue
            if intervals_overlap(first, last, other.first_t, other.last_t):
                return True
        return False

    def _would_conflict(self, tr: Tracklet, t: float) -> bool:
        """Whether reporting decided ``tr`` at ``t`` would put its global id in two places at once."""
        return tr.decided and bool(tr.times) and self._conflicts(tr.global_id, tr, tr.first_t, t)

    def _check_split(self, tr: Tracklet) -> None:
        """Appearance split (see :attr:`~tracker.multicam.MultiCamConfig.split_appearance_distance`):
        called after each new observation of ``tr``; may start the local track's next segment."""
        cfg = self.config
        last = len(tr.times) - 1
        e = tr.embeddings[last]
        k = cfg.split_confirm_frames
        if e is None:
            return  # no evidence either way; absorbed (as a no-op) when the streak resolves
        ref = tr.reference()
        # cosine distance of this observation to the running appearance (one product, used twice)
        d = math.nan if ref is None else 1.0 - float(e.astype(np.float64) @ ref) / max(vector_norm(e), 1e-12)
        if ref is not None and tr.ref_count >= cfg.min_tracklet_frames and tr.streak == 0:
            self.calibration.add_split(tr.camera, tr.last_t, d, same_track=True)
        thr = self.calibration.split_threshold(tr.camera)
        if thr is None or ref is None or tr.ref_count < max(k, cfg.min_tracklet_frames):
            tr.absorb(last)
            return
        if d <= thr:
            tr.absorb(tr.streak_start if tr.streak else last)
            tr.streak = 0
            return
        if tr.streak == 0:
            tr.streak_start = last
        tr.streak += 1
        if tr.streak < k:
            return
        new = self._start_segment(tr.camera, tr.local_id, tr.segment + 1)
        tr.split_tail(tr.streak_start, new)
        self._stale_scan_due = True

    # -- calibration samples ----------------------------------------------------------------------
    def _sample_link_positive(self, tr: Tracklet) -> None:
        """Same-track distance (first vs latest ``n`` observations) at ``2n, 4n, 8n, ...`` observations."""
        n = self.config.min_tracklet_frames
        k = len(tr.times)
        if k < 2 * n or k % n or (k // n) & (k // n - 1):
            return
        d = tr.end_distance(n)
        if d is not None:
            self.calibration.link_positive.add(tr.last_t, d)

    def _sample_split_negatives(self, frame: list[Tracklet]) -> None:
        """Per-frame embedding of each track against the running appearance of the next track of the
        same frame (two tracks in one frame of one camera are two people)."""
        if len(frame) < 2:
            return
        for a, b in zip(frame, frame[1:] + frame[:1], strict=True):
            e = a.embeddings[-1] if a.embeddings else None
            ref = b.reference()
            if e is None or ref is None or b.ref_count < self.config.min_tracklet_frames:
                continue
            d = 1.0 - float(e.astype(np.float64) @ ref) / max(vector_norm(e), 1e-12)
            self.calibration.add_split(a.camera, a.last_t, d, same_track=False)

    def _sample_link_negatives(
        self,
        tr: Tracklet,
        summary: TrackletSummary,
        decision_time: float,
        summaries: dict[SegKey, TrackletSummary | None],
    ) -> None:
        """Summary distances of a new tracklet to the tracklets of its camera in view at the same time.
        ``summaries`` memoises the others' summaries as of ``decision_time`` within one decision."""
        if summary.embedding is None:
            return
        for key, other in self._tracklets.items():
            if other is tr or other.camera != tr.camera or other.local_id == tr.local_id:
                continue
            k = other.count_until(decision_time)
            if k == 0 or other.times[k - 1] < summary.first_t:
                continue
            if key not in summaries:
                summaries[key] = other.summary(decision_time)
            os = summaries[key]
            d = None if os is None else appearance_distance(summary.embedding, os.embedding)
            if d is not None:
                self.calibration.link_negative.add(decision_time, d)

    # -- decisions --------------------------------------------------------------------------------
    def _safe_time(self) -> float:
        """Time up to which every camera has reported (``-inf`` while a camera has sent nothing)."""
        if len(self._clock) < len(self.cameras):
            return -math.inf
        return min(self._clock.values())

    def _decide_ready(self, force: bool) -> None:
        cfg = self.config
        n = cfg.min_tracklet_frames
        ready: dict[float, list[Tracklet]] = {}
        safe = self._safe_time()
        latest = max(self._clock.values(), default=-math.inf)
        for tr in self._pending.values():
            td = tr.time_of(n)
            if math.isinf(td):
                continue
            if force or td <= safe or latest - td >= cfg.max_decision_wait_s:
                ready.setdefault(td, []).append(tr)
        for td in sorted(ready):
            batch = sorted(ready[td], key=lambda x: (self.cameras.index(x.camera), x.local_id))
            self._decide(batch, td)

    def _candidates(self, decision_time: float) -> list[Tracklet]:
        n = self.config.min_tracklet_frames
        return [
            tr
            for tr in self._tracklets.values()
            if tr.decided and not tr.claimed and tr.count_until(decision_time) >= n
        ]

    def _allowed(
        self,
        new: Tracklet,
        ns: TrackletSummary,
        old: Tracklet,
        os: TrackletSummary,
        t: float,
        conflicts: dict[int, bool],
    ) -> bool:
        """Whether ``old -> new`` may link at time ``t``. ``conflicts`` memoises :meth:`_conflicts`
        of ``new`` by global id within one decision (no id changes during the pair loop)."""
        cfg = self.config
        if ns.quality < cfg.min_quality or os.quality < cfg.min_quality:
            return False
        if not transition_allowed(cfg, ns, os, t):
            return False
        # one id in one place: no tracklet with old's id (old included) in a non-overlapping camera
        # may have been observed while the new one was (every observation recorded so far counts)
        gid = old.global_id
        if gid not in conflicts:
            conflicts[gid] = self._conflicts(gid, new, new.first_t, new.last_t)
        return not conflicts[gid]

    def _decide(self, batch: list[Tracklet], decision_time: float) -> None:
        cfg = self.config
        cands = self._candidates(decision_time)
        news = [tr.summary(decision_time) for tr in batch]
        summaries: dict[SegKey, TrackletSummary | None] = {}
        for tr, ns in zip(batch, news, strict=True):
            if ns is not None:
                self._sample_link_negatives(tr, ns, decision_time, summaries)
        thr = self.calibration.link_threshold_at(decision_time)
        assigned: dict[int, tuple[int, float]] = {}
        if cands:
            olds = [tr.summary(decision_time) for tr in cands]
            dist = np.full((len(batch), len(cands)), MISSING_EMBEDDING_DISTANCE)
            allowed = np.zeros((len(batch), len(cands)), bool)
            for i, ns in enumerate(news):
                conflicts: dict[int, bool] = {}
                for j, os in enumerate(olds):
                    assert ns is not None and os is not None
                    d = appearance_distance(ns.embedding, os.embedding)
                    if d is None:
                        continue
                    dist[i, j] = d
                    allowed[i, j] = self._allowed(batch[i], ns, cands[j], os, decision_time, conflicts)
            cost = link_costs(dist, allowed, thr, cfg.gated_cost_margin)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                if allowed[r, c] and cost[r, c] <= thr:
                    assigned[r] = (c, float(cost[r, c]))
        for i, tr in enumerate(batch):
            linked: Key | None = None
            d_link = math.nan
            if i in assigned:
                j, d_link = assigned[i]
                old = cands[j]
                old.claimed = True
                self._set_global_id(tr, old.global_id)
                tr.linked_from = linked = (old.camera, old.local_id)
                tr.distance = d_link
                self._num_links += 1
            tr.decided = True
            del self._pending[(tr.camera, tr.local_id, tr.segment)]
            self._decisions.append(
                LinkDecision(tr.camera, tr.local_id, decision_time, tr.global_id, linked, d_link)
            )
            self._num_decisions += 1

    # -- memory -----------------------------------------------------------------------------------
    def _prune(self) -> None:
        """Release tracklets that can no longer be candidates; forget released ones (and decisions)
        older than ``history_s`` (see :attr:`~tracker.multicam.MultiCamConfig.history_s`)."""
        cfg = self.config
        safe = self._safe_time()
        if math.isinf(safe):
            return
        # A tracklet turns stale only when the safe time moves on or it is cut short (new ones start at
        # or after the safe time): scan only then.
        if cfg.time_gating and (safe != self._stale_scan_at or self._stale_scan_due):
            self._stale_scan_at = safe
            self._stale_scan_due = False
            horizon = safe - cfg.max_window_s - cfg.max_decision_wait_s
            stale = [k for k, tr in self._tracklets.items() if tr.last_t < horizon]
            for k in stale:
                # tracklets too short ever to be decided keep their provisional id for good
                tr = self._tracklets.pop(k)
                tr.decided = True
                self._pending.pop(k, None)
                holders = self._by_gid.get(tr.global_id, [])
                if tr in holders:
                    holders.remove(tr)
                    if not holders:
                        del self._by_gid[tr.global_id]
                tr.release()
                self._released.append(tr)
        if cfg.history_s is None:
            return
        forget = safe - cfg.history_s
        while self._released and self._released[0].last_t < forget:
            tr = self._released.popleft()
            key = (tr.camera, tr.local_id)
            segs = self._history.get(key)
            if segs is not None and tr in segs:
                segs.remove(tr)
                if not segs:
                    del self._history[key]
            if self._current.get(key) is tr:
                del self._current[key]
        while self._decisions and self._decisions[0].decision_time < forget:
            self._decisions.popleft()
