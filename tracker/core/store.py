"""Structure-of-arrays storage of all live tracks of one tracker.

Keeping every track's state in a few arrays (rather than one Python object per track) is what lets the
Kalman filter, the cost matrices and the life cycle run as a handful of vectorised operations per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

__all__ = ["TrackStore"]


@dataclass
class TrackStore:
    """Live tracks (tentative, confirmed and lost). Row ``i`` of every array is the same track.

    Attributes:
        ids: ``int64[T]`` track ids.
        means: ``float64[T,8]`` Kalman states ``cx, cy, w, h, vcx, vcy, vw, vh``.
        covs: ``float64[T,8,8]`` Kalman covariances.
        states: ``int8[T]`` :class:`~tracker.types.TrackState`.
        hits: ``int32[T]`` number of detections matched so far.
        lost: ``int32[T]`` frames since the last matched detection (0 = matched this frame).
        weak: ``int32[T]`` frames since the last matched detection that scored at least the
            new-track score (0 = such a match this frame; counted only while
            ``lifecycle.max_weak_frames`` is on, else it stays 0).
        age: ``int32[T]`` frames since the track started.
        scores: ``float32[T]`` score of the last matched detection.
        class_ids: ``int64[T]`` class ids.
        last_boxes: ``float64[T,4]`` xyxy box of the last matched detection.
        last_covs: ``float64[T,8,8]`` Kalman covariance right after that detection's update (kept
            only with ``motion.reupdate_after_gap``; ``[T,0,0]`` otherwise).
        features: ``float32[T,D]`` EMA appearance state (L2-normalised), or ``[T,0]`` without ReID.
        has_feature: ``bool[T]`` whether ``features`` holds a real vector yet.
        det_index: ``int64[T]`` index of this frame's detection that updated the track, or -1.
    """

    ids: NDArray[np.int64]
    means: NDArray[np.float64]
    covs: NDArray[np.float64]
    states: NDArray[np.int8]
    hits: NDArray[np.int32]
    lost: NDArray[np.int32]
    weak: NDArray[np.int32]
    age: NDArray[np.int32]
    scores: NDArray[np.float32]
    class_ids: NDArray[np.int64]
    last_boxes: NDArray[np.float64]
    last_covs: NDArray[np.float64]
    features: NDArray[np.float32]
    has_feature: NDArray[np.bool_]
    det_index: NDArray[np.int64]

    @classmethod
    def empty(cls, feature_dim: int = 0, keep_covs: bool = False) -> TrackStore:
        return cls(
            ids=np.zeros(0, np.int64),
            means=np.zeros((0, 8)),
            covs=np.zeros((0, 8, 8)),
            states=np.zeros(0, np.int8),
            hits=np.zeros(0, np.int32),
            lost=np.zeros(0, np.int32),
            weak=np.zeros(0, np.int32),
            age=np.zeros(0, np.int32),
            scores=np.zeros(0, np.float32),
            class_ids=np.zeros(0, np.int64),
            last_boxes=np.zeros((0, 4)),
            last_covs=np.zeros((0, 8, 8) if keep_covs else (0, 0, 0)),
            features=np.zeros((0, feature_dim), np.float32),
            has_feature=np.zeros(0, bool),
            det_index=np.zeros(0, np.int64),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    def reset_features(self, dim: int) -> None:
        """Start over with zero ``float32[T,dim]`` features (no track holds a real one)."""
        self.features = np.zeros((len(self), dim), np.float32)
        self.has_feature[:] = False

    def keep(self, mask: NDArray[np.bool_]) -> None:
        """Drop every track where ``mask: bool[T]`` is False."""
        if mask.all():
            return
        # the kept rows once, then integer gathers: cheaper than boolean indexing of every field
        # (``take`` for the stacks, a third of fancy indexing's cost there); the same rows
        rows = mask.nonzero()[0]
        for name in _FIELDS:
            a = getattr(self, name)
            setattr(self, name, a[rows] if a.ndim == 1 else a.take(rows, 0))

    def append(self, other: TrackStore) -> None:
        """Add the tracks of ``other`` (same feature dimension, or this store empty of features)."""
        if other.feature_dim != self.feature_dim:
            if self.feature_dim == 0 and not self.has_feature.any():
                self.features = np.zeros((len(self), other.feature_dim), np.float32)
            elif other.feature_dim == 0 and not other.has_feature.any():
                other.features = np.zeros((len(other), self.feature_dim), np.float32)
            else:
                raise ValueError(
                    f"embeddings: dimension {other.feature_dim} does not match the tracks' {self.feature_dim}"
                )
        for name in _FIELDS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))


_FIELDS = tuple(f.name for f in fields(TrackStore))
"""Every array field of :class:`TrackStore`, in declaration order."""
