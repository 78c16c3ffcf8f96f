"""One :class:`~tracker.Tracker` per camera plus a :class:`GlobalIdentityManager`.

Frames of several cameras may arrive in any interleaving; per camera, timestamps must increase.

**One embedding policy.** The camera's :class:`~tracker.Tracker` embeds, exactly as a single-camera
run does: detections that come with embeddings keep them; otherwise, when a frame is given, the
tracker's embedder embeds the detections with ``score >= association.high_score`` (the others get
rows of zeros = "no appearance"), and nothing is embedded when the tracker config has
``appearance.enabled: false``. The identity manager then links on :attr:`Tracker.last_embeddings
<tracker.Tracker.last_embeddings>`: the embedding of the detection that updated each output track
(``Tracks.det_index``) feeds the tracklet summaries. So a track updated by a low-score detection adds
no appearance to its tracklet in that frame, as it adds none to its own track feature.

**Atomic updates.** :meth:`MultiCameraTracker.update` validates everything that can fail (camera id,
timestamp, detections, the embedding dimension and finiteness, also of what the embedder returns)
before any of the camera's tracker, the clocks or the manager change; a raised error leaves all of
them as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig, load_config
from ..core.tracker import Tracker
from ..types import Detections, Embedder, Tracks, positive_rate
from .config import MultiCamConfig
from .manager import GlobalIdentityManager

__all__ = ["GlobalTracks", "MultiCameraTracker"]

log = logging.getLogger("tracker")


@dataclass(frozen=True, eq=False)
class GlobalTracks(Tracks):
    """Tracks of one camera frame with global ids (a :class:`~tracker.types.Tracks`, so it can go
    wherever one goes, e.g. :class:`tracker.io.ResultsWriter`).

    Attributes:
        ids: ``int64[M]`` GLOBAL ids (shared across cameras).
        local_ids: ``int64[M]`` the camera tracker's own ids.
        provisional: ``bool[M]`` True while a track's global id is not yet final (undecided, or its
            appearance is deviating and the tracklet may be cut); it may change once.
        embeddings: ``float32[M,D]`` the appearance vector of each track's detection this frame, or
            ``None`` without an embedder/embeddings.
        camera_id: the camera.
        timestamp: seconds.
    """

    local_ids: NDArray[np.int64]
    provisional: NDArray[np.bool_]
    embeddings: NDArray[np.float32] | None
    camera_id: str
    timestamp: float


class _CheckedEmbedder:
    """The run's embedder as one camera's tracker sees it: what it returns is checked against the
    manager (same dimension as every earlier embedding, finite) inside the tracker's validation, before
    any state changes."""

    def __init__(self, embedder: Embedder, manager: GlobalIdentityManager, camera: str) -> None:
        self._embedder = embedder
        self._manager = manager
        self._camera = camera

    @property
    def dim(self) -> int:
        """Embedding dimension ``D`` of the wrapped embedder."""
        return int(self._embedder.dim)

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """``float32[N,D]`` for ``boxes`` ``float32[N,4]`` xyxy pixels of ``image`` ``uint8[H,W,3]`` BGR."""
        out = np.asarray(self._embedder.embed(image, boxes), np.float32)
        if out.ndim != 2 or len(out) != len(boxes):
            raise ValueError(
                f"camera {self._camera!r}: embedder returned shape {out.shape} for {len(boxes)} boxes"
            )
        self._manager.check_embeddings(self._camera, out)
        return out


class MultiCameraTracker:
    """Track people in several cameras and give each one global id across them.

    Args:
        cameras: camera ids.
        config: cross-camera linking (:class:`~tracker.multicam.MultiCamConfig`, mapping, YAML path, None).
        tracker_config: per-camera tracker config (preset name, path or :class:`~tracker.config.TrackerConfig`).
        frame_rate: frames per second, one value for every camera or a mapping with one for each camera
            (no other key); a rate that is not a positive number, or a camera without one, is a
            ``ValueError``.
        embedder: appearance model with ``embed(image, boxes) -> float32[N,D]``, given to every camera's
            tracker (see the module docstring for the policy). Without embeddings nothing is linked
            across cameras.

    Example:
        >>> mct = MultiCameraTracker(["left", "right"])
        >>> out = mct.update("left", 0.0, Detections([[10, 10, 50, 120]], [0.9], embeddings=[[1.0, 0.0]]))
        >>> out.ids.tolist(), out.provisional.tolist()
        ([1], [True])
    """

    def __init__(
        self,
        cameras: Sequence[str],
        config: MultiCamConfig | str | Path | dict | None = None,
        *,
        tracker_config: TrackerConfig | str | Path = "default",
        frame_rate: float | Mapping[str, float] = 30.0,
        embedder: Embedder | object | None = None,
    ) -> None:
        self.manager = GlobalIdentityManager(cameras, None if config is None else _as_cfg(config))
        self.cameras = self.manager.cameras
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        self.embedder = embedder
        if isinstance(frame_rate, Mapping):
            missing = [c for c in self.cameras if c not in frame_rate]
            extra = sorted(str(c) for c in frame_rate if c not in self.cameras)
            if missing or extra:
                raise ValueError(
                    f"frame_rate: one rate per camera expected; missing {missing}, unknown {extra}"
                )
            rates = {c: positive_rate(frame_rate[c], f"frame_rate of camera {c!r}") for c in self.cameras}
        else:
            rate = positive_rate(frame_rate, "frame_rate")
            rates = dict.fromkeys(self.cameras, rate)
        cfg = tracker_config if isinstance(tracker_config, TrackerConfig) else load_config(tracker_config)
        if embedder is not None and not cfg.appearance.enabled:
            log.warning(
                "tracker config %r has appearance.enabled: false: nothing is embedded, so tracks are not "
                "linked across cameras",
                cfg.name,
            )
        self.trackers: dict[str, Tracker] = {
            c: Tracker(
                cfg,
                frame_rate=rates[c],
                embedder=None
                if embedder is None
                else _CheckedEmbedder(cast(Embedder, embedder), self.manager, c),
            )
            for c in self.cameras
        }

    def update(
        self,
        camera_id: str,
        timestamp: float,
        detections: Detections,
        frame: NDArray[np.uint8] | None = None,
    ) -> GlobalTracks:
        """Advance camera ``camera_id`` by one frame.

        Args:
            camera_id: one of :attr:`cameras`.
            timestamp: seconds; must increase per camera (cameras may interleave in any order).
            detections: boxes ``float32[N,4]`` xyxy, scores in ``[0,1]``, optional embeddings ``[N,D]``.
            frame: ``uint8[H,W,3]`` BGR or ``None`` (needed for the embedder and camera motion compensation).

        Returns:
            :class:`GlobalTracks` of the camera's confirmed tracks matched in this frame.

        Raises:
            ValueError: unknown camera id (the message lists the known ones), timestamp not increasing
                for this camera (names both values), embeddings (given or computed) of another dimension
                than earlier frames of any camera or not finite, or bad detections/frame. The camera's
                tracker, the clocks and the identity manager are then unchanged.
            TypeError: ``detections`` is not a :class:`~tracker.types.Detections` (nothing changes).
        """
        self.manager.check_frame(camera_id, timestamp)
        if not isinstance(detections, Detections):
            raise TypeError(f"detections must be a tracker.Detections, got {type(detections).__name__}")
        if detections.embeddings is not None:
            self.manager.check_embeddings(camera_id, detections.embeddings)
        tracker = self.trackers[camera_id]
        # the tracker validates (and embeds, through _CheckedEmbedder) before it changes state
        tracks = tracker.update(detections, frame)
        used = tracker.last_embeddings
        if used is not None and used.ndim == 2 and used.shape[1] > 0:
            # every embedding the run saw fixes the dimension, also those of tracks not reported yet
            self.manager.fix_embedding_dim(camera_id, int(used.shape[1]))
        track_emb: NDArray[np.float32] | None = None
        if used is not None and used.ndim == 2 and used.shape[1] > 0 and len(used) == len(detections):
            track_emb = np.zeros((len(tracks), used.shape[1]), np.float32)
            ok = tracks.det_index >= 0
            track_emb[ok] = used[tracks.det_index[ok]]
        gids, prov = self.manager.observe(
            camera_id, timestamp, tracks.ids, tracks.boxes, tracks.scores, track_emb
        )
        return GlobalTracks(
            ids=gids,
            boxes=tracks.boxes,
            scores=tracks.scores,
            class_ids=tracks.class_ids,
            states=tracks.states,
            det_index=tracks.det_index,
            local_ids=tracks.ids,
            provisional=prov,
            embeddings=track_emb,
            camera_id=camera_id,
            timestamp=float(timestamp),
        )

    def flush(self) -> None:
        """Decide every pending identity now (call at the end of the streams)."""
        self.manager.flush()

    def global_id(self, camera_id: str, local_id: int) -> int | None:
        """Current global id of a camera's local track (final once decided)."""
        return self.manager.global_id(camera_id, local_id)

    def mapping(self) -> dict[tuple[str, int], int]:
        """``(camera, local id) -> global id`` for every track seen."""
        return self.manager.mapping()

    def summary(self) -> dict[str, object]:
        """The identity manager's :meth:`~GlobalIdentityManager.summary` (learned linking thresholds,
        counts) for ``multicam_summary.json``, with each camera tracker's appearance gate (calibrated
        to the embedder with ``appearance.gate_scale``, see :attr:`Tracker.appearance_gate`)."""
        out = self.manager.summary()
        out["tracker_appearance_gate"] = {
            cam: round(t.appearance_gate, 4) for cam, t in self.trackers.items()
        }
        return out


def _as_cfg(config: MultiCamConfig | str | Path | dict) -> MultiCamConfig | str | dict:
    return str(config) if isinstance(config, Path) else config
