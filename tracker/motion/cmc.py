"""Camera motion compensation (CMC): a global affine between consecutive frames, applied to tracks.

:class:`CameraMotionCompensator` estimates, for each new frame, the 2x3 affine that maps pixel
coordinates of the previous frame to the current one (sparse optical flow, as BoT-SORT's GMC
``sparseOptFlow``): downscale, grayscale, ``cv2.goodFeaturesToTrack`` on the previous frame, pyramidal
Lucas-Kanade to the current one, ``cv2.estimateAffinePartial2D`` with RANSAC (rotation, uniform scale,
translation), then expressed at full resolution.

:func:`apply_affine` moves Kalman states ``(cx, cy, w, h, vcx, vcy, vw, vh)`` and their covariances by
that affine (BoT-SORT's ``multi_gmc``), vectorised over tracks.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from tracker.config import CmcConfig

__all__ = ["CameraMotionCompensator", "apply_affine", "identity_affine"]

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=np.floating[Any])

FEATURE_QUALITY = 0.01
"""``goodFeaturesToTrack`` quality level (fraction of the strongest corner response), as BoT-SORT."""
FEATURE_MIN_DISTANCE = 1.0
"""Minimum distance between features in downscaled pixels, as BoT-SORT."""
FEATURE_BLOCK_SIZE = 3
"""Corner detector window, downscaled pixels."""
LK_WIN_SIZE = (21, 21)
"""Lucas-Kanade search window (downscaled pixels)."""
LK_MAX_LEVEL = 3
"""Lucas-Kanade pyramid levels above the base image."""
MIN_MATCHES = 8
"""Fewer tracked feature points than this (or RANSAC inliers) and the frame gets the identity."""
RANSAC_REPROJ_THRESHOLD = 3.0
"""RANSAC inlier threshold in downscaled pixels."""


def identity_affine() -> NDArray[np.float32]:
    """The identity as ``float32[2,3]``."""
    return np.eye(2, 3, dtype=np.float32)


def _gray(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(
            f"frame: expected a uint8 array [H,W,3] (BGR) or [H,W] (gray), got "
            f"{getattr(frame, 'dtype', type(frame).__name__)}{list(getattr(frame, 'shape', []))}"
        )
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 3:
        gray = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), np.uint8)
    elif frame.ndim == 2:
        gray = frame.copy()  # kept as the previous frame: never alias the caller's buffer
    else:
        raise ValueError(f"frame: expected [H,W,3] (BGR) or [H,W] (gray), got shape {list(frame.shape)}")
    if gray.shape[0] < 1 or gray.shape[1] < 1:
        raise ValueError(f"frame: empty image of shape {list(frame.shape)}")
    return gray


class CameraMotionCompensator:
    """Estimates the camera motion between consecutive frames of one stream.

    One instance per tracker: it keeps the previous (downscaled, gray) frame. ``config.enabled`` is
    the tracker's business; an instance always estimates when asked.

    Args:
        config: ``method`` (only ``"sparse_flow"``), ``downscale`` (integer factor ``>= 1``) and
            ``max_corners`` (``>= 1``); default :class:`~tracker.config.CmcConfig`.

    Raises:
        ValueError: invalid configuration.
    """

    def __init__(self, config: CmcConfig | None = None) -> None:
        cfg = CmcConfig() if config is None else config
        if cfg.method != "sparse_flow":
            raise ValueError(f"cmc.method: expected 'sparse_flow', got {cfg.method!r}")
        if isinstance(cfg.downscale, bool) or not isinstance(cfg.downscale, int) or cfg.downscale < 1:
            raise ValueError(f"cmc.downscale: expected an integer >= 1, got {cfg.downscale!r}")
        if isinstance(cfg.max_corners, bool) or not isinstance(cfg.max_corners, int) or cfg.max_corners < 1:
            raise ValueError(f"cmc.max_corners: expected an integer >= 1, got {cfg.max_corners!r}")
        self.config = cfg
        self._prev: NDArray[np.uint8] | None = None
        self._full_shape: tuple[int, int] | None = None

    def reset(self) -> None:
        """Forget the previous frame (start of a new stream); the next frame gets the identity."""
        self._prev = None
        self._full_shape = None

    def _downscale(self, gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
        ds = self.config.downscale
        if ds == 1:
            return gray
        h, w = gray.shape
        size = (max(1, w // ds), max(1, h // ds))
        return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)

    def estimate(self, frame: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Camera motion from the previous frame to ``frame``; ``frame`` becomes the previous frame.

        Args:
            frame: ``uint8[H,W,3]`` BGR or ``uint8[H,W]`` gray; the same ``H, W`` for the whole stream.

        Returns:
            ``float32[2,3]`` affine ``A`` with ``p_current = A[:, :2] @ p_previous + A[:, 2]`` in
            full-resolution pixel coordinates. The identity for the first frame (after construction or
            :meth:`reset`) and whenever estimation fails (featureless image, too few tracked points,
            RANSAC failure); failures are logged at debug level.

        Raises:
            ValueError: ``frame`` is not a uint8 image, or its size differs from the previous frame's
                (call :meth:`reset` when a new stream starts).
        """
        gray = _gray(frame)
        full_shape = (int(gray.shape[0]), int(gray.shape[1]))
        if self._full_shape is not None and full_shape != self._full_shape:
            raise ValueError(
                f"frame: size changed from {self._full_shape[1]}x{self._full_shape[0]} to "
                f"{full_shape[1]}x{full_shape[0]} (w x h); call reset() for a new stream"
            )
        small = self._downscale(gray)
        prev, self._prev, self._full_shape = self._prev, small, full_shape
        if prev is None:
            return identity_affine()
        try:
            small_affine = self._estimate_small(prev, small)
        except cv2.error as exc:  # e.g. a frame too small for the pyramid: treat as a failure
            logger.debug("CMC: OpenCV error, using identity: %s", exc)
            small_affine = None
        if small_affine is None:
            return identity_affine()
        return self._to_full_resolution(small_affine, full_shape, small.shape)

    def _estimate_small(self, prev: NDArray[np.uint8], cur: NDArray[np.uint8]) -> NDArray[np.float64] | None:
        pts = cv2.goodFeaturesToTrack(
            prev,
            maxCorners=self.config.max_corners,
            qualityLevel=FEATURE_QUALITY,
            minDistance=FEATURE_MIN_DISTANCE,
            blockSize=FEATURE_BLOCK_SIZE,
        )
        if pts is None or len(pts) < MIN_MATCHES:
            logger.debug(
                "CMC: %d features in the previous frame, using identity", 0 if pts is None else len(pts)
            )
            return None
        nxt, status, _err = cv2.calcOpticalFlowPyrLK(
            prev, cur, pts, pts.copy(), winSize=LK_WIN_SIZE, maxLevel=LK_MAX_LEVEL
        )
        if nxt is None or status is None:
            logger.debug("CMC: optical flow failed, using identity")
            return None
        ok = status.reshape(-1).astype(bool)
        src = pts.reshape(-1, 2)[ok]
        dst = nxt.reshape(-1, 2)[ok]
        finite = np.isfinite(dst).all(axis=1)
        src, dst = src[finite], dst[finite]
        if len(src) < MIN_MATCHES:
            logger.debug("CMC: %d points tracked, using identity", len(src))
            return None
        affine, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_REPROJ_THRESHOLD
        )
        if affine is None or inliers is None or not np.isfinite(affine).all():
            logger.debug("CMC: RANSAC found no affine, using identity")
            return None
        n_in = int(np.count_nonzero(inliers))
        if n_in < MIN_MATCHES:
            logger.debug("CMC: %d RANSAC inliers, using identity", n_in)
            return None
        return np.asarray(affine, np.float64)

    @staticmethod
    def _to_full_resolution(
        affine: NDArray[np.float64], full_shape: tuple[int, int], small_shape: tuple[int, ...]
    ) -> NDArray[np.float32]:
        """Express a ``float[2,3]`` affine of downscaled pixels in full-resolution pixels.

        Area downscaling by ``s`` maps pixel centres as ``x_full = s * x_small + (s - 1) / 2``.
        """
        sx = full_shape[1] / small_shape[1]
        sy = full_shape[0] / small_shape[0]
        up = np.array([[sx, 0.0, (sx - 1) / 2], [0.0, sy, (sy - 1) / 2], [0.0, 0.0, 1.0]])
        a3 = np.vstack([affine, [0.0, 0.0, 1.0]])
        full = up @ a3 @ np.linalg.inv(up)
        return full[:2].astype(np.float32)


def apply_affine(
    means: NDArray[_F], covs: NDArray[_F], affine: NDArray[np.floating[Any]]
) -> tuple[NDArray[_F], NDArray[_F]]:
    """Move Kalman states by a camera-motion affine (BoT-SORT ``GMC.multi_gmc``).

    With ``R = affine[:, :2]`` and ``t = affine[:, 2]``, ``R8 = kron(I4, R)`` rotates each pair
    ``(cx, cy)``, ``(w, h)``, ``(vcx, vcy)``, ``(vw, vh)``; then ``mean' = R8 @ mean``,
    ``mean'[:2] += t`` and ``cov' = R8 @ cov @ R8.T``.

    Computed in float64; the results keep the input's float dtype (float32 or float64).

    Args:
        means: ``float[T,8]`` states ``(cx, cy, w, h, vcx, vcy, vw, vh)`` in previous-frame pixels.
        covs: ``float[T,8,8]`` state covariances (symmetric).
        affine: ``float[2,3]`` previous -> current frame pixel mapping
            (:meth:`CameraMotionCompensator.estimate`).

    Returns:
        New ``(means [T,8], covs [T,8,8])`` with the dtype of ``means``; the inputs are not modified.

    Raises:
        ValueError: wrong shapes or a non-finite affine.
    """
    m = np.asarray(means)
    c = np.asarray(covs)
    dtype = m.dtype if m.dtype.kind == "f" else np.dtype(np.float32)
    a = np.asarray(affine, np.float64)
    if a.shape != (2, 3) or not np.isfinite(a).all():
        raise ValueError(f"affine: expected a finite [2,3] matrix, got shape {a.shape}")
    if m.ndim != 2 or m.shape[1] != 8:
        raise ValueError(f"means: expected [T,8], got shape {m.shape}")
    if c.shape != (len(m), 8, 8):
        raise ValueError(f"covs: expected [{len(m)},8,8] to match means, got shape {c.shape}")
    r8 = np.kron(np.eye(4), a[:, :2])
    new_means = m.astype(np.float64) @ r8.T
    new_means[:, :2] += a[:, 2]
    new_covs = r8 @ c.astype(np.float64) @ r8.T
    new_covs = 0.5 * (new_covs + new_covs.transpose(0, 2, 1))  # exact symmetry despite rounding
    return new_means.astype(dtype), new_covs.astype(dtype)
