"""One :class:`~tracker.Tracker` per camera plus a :class:`GlobalIdentityManager`.

Frames of several cameras may arrive in any interleaving; per camera, timestamps must increase.
Embeddings are computed here (once per detection, with the given embedder) and handed to the camera's
tracker inside the :class:`~tracker.types.Detections` (so it does not embed again); the embedding of
the detection that updated each output track (``Tracks.det_index``) feeds the tracklet summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig
from ..core.tracker import Tracker
from ..types import Detections, Tracks
from .config import MultiCamConfig
from .manager import GlobalIdentityManager

__all__ = ["GlobalTracks", "MultiCameraTracker"]


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


class MultiCameraTracker:
    """Track people in several cameras and give each one global id across them.

    Args:
        cameras: camera ids.
        config: cross-camera linking (:class:`~tracker.multicam.MultiCamConfig`, mapping, YAML path, None).
        tracker_config: per-camera tracker config (preset name, path or :class:`~tracker.config.TrackerConfig`).
        frame_rate: frames per second, one value or per camera.
        embedder: appearance model with ``embed(image, boxes) -> float32[N,D]``; used on detections that
            come without embeddings when a frame is given. Without embeddings nothing is linked across
            cameras.

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
        embedder: object | None = None,
    ) -> None:
        self.manager = GlobalIdentityManager(cameras, None if config is None else _as_cfg(config))
        self.cameras = self.manager.cameras
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        self.embedder = embedder
        rates = {
            c: float(frame_rate[c] if isinstance(frame_rate, Mapping) else frame_rate) for c in self.cameras
        }
        self.trackers: dict[str, Tracker] = {
            c: Tracker(tracker_config, frame_rate=rates[c]) for c in self.cameras
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
                for this camera (names both values), or bad detections/frame; nothing changes then.
        """
        self.manager.check_frame(camera_id, timestamp)
        if not isinstance(detections, Detections):
            raise TypeError(f"detections must be a tracker.Detections, got {type(detections).__name__}")
        dets = detections
        if dets.embeddings is None and self.embedder is not None and frame is not None and len(dets):
            emb = np.asarray(self.embedder.embed(frame, dets.boxes), np.float32)  # type: ignore[attr-defined]
            dets = dets.with_embeddings(emb)
        tracks = self.trackers[camera_id].update(dets, frame)
        track_emb: NDArray[np.float32] | None = None
        if dets.embeddings is not None and dets.embeddings.shape[1] > 0:
            track_emb = np.zeros((len(tracks), dets.embeddings.shape[1]), np.float32)
            ok = tracks.det_index >= 0
            track_emb[ok] = dets.embeddings[tracks.det_index[ok]]
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


def _as_cfg(config: MultiCamConfig | str | Path | dict) -> MultiCamConfig | str | dict:
    return str(config) if isinstance(config, Path) else config
