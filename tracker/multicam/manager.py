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
   (``scipy.optimize.linear_sum_assignment``) against the candidates: ended tracklets that are
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment

from .config import MultiCamConfig, load_multicam_config
from .tracklets import Tracklet, TrackletSummary

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


class GlobalIdentityManager:
    """Maps per-camera track ids to global ids (see the module docstring for the rules).

    Args:
        cameras: the camera ids (strings); frames of other cameras are rejected.
        config: a :class:`~tracker.multicam.MultiCamConfig`, a mapping, a YAML path or ``None``.

    Raises:
        ValueError: no cameras, repeated camera ids, or a bad config.
    """

    def __init__(self, cameras: Sequence[str], config: MultiCamConfig | str | dict | None = None) -> None:
        cams = [str(c) for c in cameras]
        if not cams:
            raise ValueError("cameras: at least one camera id is needed")
        if len(set(cams)) != len(cams):
            raise ValueError(f"cameras: repeated camera id in {cams}")
        self.cameras: tuple[str, ...] = tuple(cams)
        self.config = load_multicam_config(config)
        self.reset()

    # -- public API -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything; global ids start from 1 again."""
        self._next_gid = 1
        self._tracklets: dict[SegKey, Tracklet] = {}
        self._clock: dict[str, float] = {}
        self._pending: dict[SegKey, Tracklet] = {}
        self._decisions: list[LinkDecision] = []
        self._current: dict[Key, Tracklet] = {}
        self._history: dict[Key, list[Tracklet]] = {}

    def check_frame(self, camera: str, timestamp: float) -> None:
        """Raise ``ValueError`` for an unknown camera or a timestamp that does not increase per camera."""
        if camera not in self.cameras:
            raise ValueError(f"unknown camera id {camera!r}; known cameras: {list(self.cameras)}")
        if not isinstance(timestamp, (int, float, np.integer, np.floating)) or not math.isfinite(timestamp):
            raise ValueError(f"camera {camera!r}: timestamp must be a finite number, got {timestamp!r}")
        last = self._clock.get(camera)
        if last is not None and timestamp <= last:
            raise ValueError(
                f"camera {camera!r}: timestamp {timestamp} does not increase (previous frame was at {last})"
            )

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

        Returns:
            ``(global_ids int64[M], provisional bool[M])``: provisional ids may still change once (to
            an earlier identity) when the tracklet's identity is decided.

        Raises:
            ValueError: unknown camera, timestamp not increasing for this camera, or inconsistent
                shapes; the state is then unchanged.
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
        e: NDArray[np.float32] | None = None
        if embeddings is not None and m:
            e = np.asarray(embeddings, np.float32)
            if e.ndim != 2 or len(e) != m:
                raise ValueError(f"camera {camera!r}: embeddings shape {e.shape} for {m} tracks")
        # ---- validation done: state changes from here on ----
        t = float(timestamp)
        self._clock[camera] = t
        for i, lid in enumerate(ids.tolist()):
            key = (camera, lid)
            tr = self._current.get(key)
            gap = self.config.split_gap_s
            if tr is None or (gap is not None and t - tr.last_t > gap):
                seg = 0 if tr is None else tr.segment + 1
                tr = Tracklet(camera, lid, self._allocate(), segment=seg)
                self._tracklets[(camera, lid, seg)] = tr
                self._pending[(camera, lid, seg)] = tr
                self._current[key] = tr
                self._history.setdefault(key, []).append(tr)
            emb = None if e is None or not np.any(e[i]) else e[i]
            tr.add(t, b[i], float(s[i]), emb)
            self._check_split(tr)
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
        """The current global id of ``(camera, local_id)``, or ``None`` if that track was never seen."""
        tr = self._current.get((camera, int(local_id)))
        return None if tr is None else tr.global_id

    def global_id_at(self, camera: str, local_id: int, timestamp: float) -> int | None:
        """Global id of ``(camera, local_id)`` at ``timestamp`` (local tracks re-acquired after
        ``split_gap_s`` are separate tracklets that may carry different global ids)."""
        segs = self._history.get((camera, int(local_id)))
        if not segs:
            return None
        k = max(int(np.searchsorted([s.first_t for s in segs], timestamp, side="right")) - 1, 0)
        return segs[k].global_id

    def mapping(self) -> dict[Key, int]:
        """Every ``(camera, local id)`` ever seen -> its current global id (final once decided)."""
        return {k: tr.global_id for k, tr in self._current.items()}

    def is_decided(self, camera: str, local_id: int) -> bool:
        """Whether the global id of ``(camera, local_id)`` is final."""
        tr = self._current.get((camera, int(local_id)))
        return tr is not None and tr.decided

    @property
    def decisions(self) -> list[LinkDecision]:
        """Every decision taken so far, in order."""
        return list(self._decisions)

    @property
    def num_global_ids(self) -> int:
        """Global ids allocated so far (provisional ones included)."""
        return self._next_gid - 1

    def summary(self) -> dict[str, Any]:
        """What the run decided with, for ``multicam_summary.json``: the linking thresholds in use,
        and counts of global ids, decisions and links."""
        cfg = self.config
        return {
            "max_appearance_distance": cfg.max_appearance_distance,
            "split_appearance_distance": cfg.split_appearance_distance,
            "global_ids": self.num_global_ids,
            "decisions": len(self._decisions),
            "links": sum(d.linked_from is not None for d in self._decisions),
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

    def _check_split(self, tr: Tracklet) -> None:
        """Appearance split (see :attr:`~tracker.multicam.MultiCamConfig.split_appearance_distance`):
        called after each new observation of ``tr``; may start the local track's next segment."""
        cfg = self.config
        last = len(tr.times) - 1
        e = tr.embeddings[last]
        thr = cfg.split_appearance_distance
        k = cfg.split_confirm_frames
        if e is None:
            return  # no evidence either way; absorbed (as a no-op) when the streak resolves
        ref = tr.reference()
        if thr is None or ref is None or tr.ref_count < max(k, cfg.min_tracklet_frames):
            tr.absorb(last)
            return
        d = 1.0 - float(e.astype(np.float64) @ ref) / max(float(np.linalg.norm(e)), 1e-12)
        if d <= thr:
            tr.absorb(tr.streak_start if tr.streak else last)
            tr.streak = 0
            return
        if tr.streak == 0:
            tr.streak_start = last
        tr.streak += 1
        if tr.streak < k:
            return
        new = Tracklet(tr.camera, tr.local_id, self._allocate(), segment=tr.segment + 1)
        tr.split_tail(tr.streak_start, new)
        key = (tr.camera, tr.local_id, new.segment)
        self._tracklets[key] = new
        self._pending[key] = new
        self._current[(tr.camera, tr.local_id)] = new
        self._history.setdefault((tr.camera, tr.local_id), []).append(new)

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
        cfg = self.config
        n = cfg.min_tracklet_frames
        out = []
        for tr in self._tracklets.values():
            if not tr.decided or tr.claimed or tr.count_until(decision_time) < n:
                continue
            out.append(tr)
        return out

    def _active_after(self, global_id: int, t: float, until: float, camera: str, exclude: Tracklet) -> bool:
        """Whether ``global_id`` is observed in ``[t, until]`` by a tracklet other than ``exclude`` in a
        camera that does not overlap ``camera``."""
        for tr in self._tracklets.values():
            if tr is exclude or tr.global_id != global_id or self.config.overlaps(tr.camera, camera):
                continue
            k = tr.count_until(until)
            if k and tr.times[k - 1] >= t:
                return True
        return False

    def _gate(
        self, new: TrackletSummary, old: TrackletSummary, old_tr: Tracklet, decision_time: float
    ) -> bool:
        """True if ``old -> new`` is allowed by the camera graph and the temporal rules."""
        cfg = self.config
        if old.camera == new.camera and old.local_id == new.local_id:
            return True  # a re-acquired local track may always continue its own earlier segment
        edge = cfg.edge(old.camera, new.camera)
        if edge is None:
            return False
        if not (edge.in_zone(edge.from_zone, old.last_box) and edge.in_zone(edge.to_zone, new.first_box)):
            return False
        if not cfg.time_gating:
            return True
        travel = new.first_t - old.last_t
        lo, hi = edge.min_travel_s, edge.max_travel_s
        if cfg.overlaps(old.camera, new.camera):
            if not (-hi <= travel <= hi):
                return False
        else:
            if travel <= 0 or not (lo <= travel <= hi):
                return False
            if decision_time - old.last_t < cfg.lost_after_s:
                return False
            if self._active_after(old.global_id, new.first_t, decision_time, new.camera, old_tr):
                return False
        return True

    def _decide(self, batch: list[Tracklet], decision_time: float) -> None:
        cfg = self.config
        cands = self._candidates(decision_time)
        news = [tr.summary(decision_time) for tr in batch]
        olds = [tr.summary(decision_time) for tr in cands]
        thr = cfg.max_appearance_distance
        gated_base = thr + cfg.gated_cost_margin
        assigned: dict[int, tuple[int, float]] = {}
        if cands:
            cost = np.zeros((len(batch), len(cands)))
            for i, ns in enumerate(news):
                for j, os in enumerate(olds):
                    assert ns is not None and os is not None
                    if ns.embedding is None or os.embedding is None:
                        cost[i, j] = gated_base + 2.0
                        continue
                    d = float(np.clip(1.0 - float(ns.embedding @ os.embedding), 0.0, 2.0))
                    ok = (
                        ns.quality >= cfg.min_quality
                        and os.quality >= cfg.min_quality
                        and self._gate(ns, os, cands[j], decision_time)
                    )
                    cost[i, j] = d if ok else gated_base + d
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                if cost[r, c] <= thr:
                    assigned[r] = (c, float(cost[r, c]))
        for i, tr in enumerate(batch):
            linked: Key | None = None
            dist = math.nan
            if i in assigned:
                j, dist = assigned[i]
                old = cands[j]
                old.claimed = True
                tr.global_id = old.global_id
                tr.linked_from = linked = (old.camera, old.local_id)
                tr.distance = dist
            tr.decided = True
            del self._pending[(tr.camera, tr.local_id, tr.segment)]
            self._decisions.append(
                LinkDecision(tr.camera, tr.local_id, decision_time, tr.global_id, linked, dist)
            )

    def _prune(self) -> None:
        """Forget decided tracklets that ended more than ``max_window_s`` before every camera's clock."""
        if not self.config.time_gating:
            return
        safe = self._safe_time()
        if math.isinf(safe):
            return
        horizon = safe - self.config.max_window_s - self.config.max_decision_wait_s
        stale = [k for k, tr in self._tracklets.items() if tr.last_t < horizon]
        for k in stale:
            # tracklets too short ever to be decided keep their provisional id for good
            tr = self._tracklets.pop(k)
            tr.decided = True
            tr.release()
            self._pending.pop(k, None)
