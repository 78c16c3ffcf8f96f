"""One batched constant-velocity Kalman filter for every tracker in the package.

State per track (``float64[8]``): ``cx, cy, w, h, vcx, vcy, vw, vh`` — box centre, width and height in
pixels and their velocities in pixels/frame. Measurements are ``float[4]`` ``cx, cy, w, h``.
All methods work on stacks of tracks at once: means ``float64[T,8]``, covariances ``float64[T,8,8]``.
Noise standard deviations scale with the box width/height (BoT-SORT's formulation), so the filter
behaves the same for near and far people.

The filter holds no track state itself; it is a pure function of its arrays and its
:class:`~tracker.config.MotionConfig`, so one instance can serve many trackers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..config import MotionConfig

__all__ = ["KalmanFilter", "cxcywh_to_xyxy", "mahalanobis", "mahalanobis_pairs", "xyxy_to_cxcywh"]

F64 = NDArray[np.float64]


def xyxy_to_cxcywh(boxes: NDArray[np.floating]) -> F64:
    """``float[N,4]`` xyxy pixels -> ``float64[N,4]`` centre x, centre y, width, height."""
    b = np.asarray(boxes, dtype=np.float64)
    wh = b[:, 2:] - b[:, :2]
    return np.concatenate([b[:, :2] + 0.5 * wh, wh], axis=1)


def cxcywh_to_xyxy(boxes: NDArray[np.floating]) -> F64:
    """``float[N,4]`` centre x, centre y, width, height -> ``float64[N,4]`` xyxy pixels.

    One product with :data:`_CXCYWH_TO_XYXY`: each output is ``c +- 0.5 * s`` plus exact zeros, the
    same bits as the elementwise form, in one numpy call instead of four."""
    out: F64 = np.asarray(boxes, dtype=np.float64) @ _CXCYWH_TO_XYXY
    return out


_CXCYWH_TO_XYXY = np.array(
    [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [-0.5, 0.0, 0.5, 0.0], [0.0, -0.5, 0.0, 0.5]]
)
_CXCYWH_TO_XYXY.setflags(write=False)


class KalmanFilter:
    """Batched constant-velocity Kalman filter with Mahalanobis gating.

    Matrices: transition ``F = [[I4, I4], [0, I4]]`` (one frame step), observation ``H = [I4, 0]``.
    """

    ndim = 4

    def __init__(self, config: MotionConfig | None = None, frame_rate: float | None = None) -> None:
        """``frame_rate``: frames per second of the input; velocity process noise is scaled by
        ``config.reference_fps / frame_rate`` (unscaled when None)."""
        self.config = config or MotionConfig()
        scale = 1.0 if frame_rate is None else self.config.reference_fps / frame_rate
        self._std_vel = self.config.std_weight_velocity * scale
        # per state entry: std = weight * (w or h) -> Q diagonal = (means[:, _WH8] * _q_std) ** 2
        self._q_std = np.array([self.config.std_weight_position] * 4 + [self._std_vel] * 4)
        self.motion_mat = np.eye(8)
        self.motion_mat[:4, 4:] = np.eye(4)
        self.update_mat = np.eye(4, 8)

    # -- noise models -----------------------------------------------------------------------------
    def _wh(self, means: F64) -> F64:
        """``float64[T,4]``: ``w, h, w, h`` per track, the scale of every noise term."""
        wh = means[:, 2:4]
        return np.concatenate([wh, wh], axis=1)

    def process_noise(self, means: F64) -> F64:
        """Process noise ``Q``, ``float64[T,8,8]`` diagonal, from means ``float64[T,8]``."""
        wh = self._wh(means)
        std = np.concatenate([self.config.std_weight_position * wh, self._std_vel * wh], axis=1)
        return _diag(std**2)

    def measurement_noise(self, means: F64) -> F64:
        """Measurement noise ``R``, ``float64[T,4,4]`` diagonal, from means ``float64[T,8]``."""
        return _diag((self.config.std_weight_position * self._wh(means)) ** 2)

    # -- filter steps -----------------------------------------------------------------------------
    def initiate(self, measurements: NDArray[np.floating]) -> tuple[F64, F64]:
        """New tracks from measurements ``float[N,4]`` cx, cy, w, h.

        Returns means ``float64[N,8]`` (zero velocity) and covariances ``float64[N,8,8]``.
        """
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, 4)
        means = np.concatenate([z, np.zeros_like(z)], axis=1)
        wh = self._wh(means)
        std = np.concatenate(
            [2.0 * self.config.std_weight_position * wh, 10.0 * self._std_vel * wh],
            axis=1,
        )
        return means, _diag(std**2)

    def predict(self, means: F64, covs: F64) -> tuple[F64, F64]:
        """One frame step for all tracks. ``means: float64[T,8]``, ``covs: float64[T,8,8]``.

        Returns new arrays (inputs are not modified); :meth:`predict_inplace` is the same step on the
        arrays themselves.
        """
        new_means, new_covs = means.copy(), covs.copy()
        self.predict_inplace(new_means, new_covs)
        return new_means, new_covs

    def predict_inplace(self, means: F64, covs: F64) -> None:
        """:meth:`predict` written into ``means: float64[T,8]`` and ``covs: float64[T,8,8]`` (the same
        values bit for bit, without copying the stacks: what a tracker does with its own state)."""
        if means.ndim != 2 or means.shape[1:] != (8,) or covs.shape != (len(means), 8, 8):
            raise ValueError(
                f"predict: means must be float64[T,8] and covs float64[T,8,8], got {means.shape} and {covs.shape}"
            )
        q = (means[:, _WH8] * self._q_std) ** 2  # process noise from the sizes before the step
        means[:, :4] += means[:, 4:]
        # F P F^T with F = [[I, I], [0, I]], done blockwise (cheaper than two batched matmuls).
        covs[:, :4, :] += covs[:, 4:, :]
        covs[:, :, :4] += covs[:, :, 4:]
        if covs.flags.c_contiguous:  # the diagonals as a strided view: cheaper than fancy indexing
            covs.reshape(len(covs), 64)[:, ::9] += q
        else:
            covs[:, _I8, _I8] += q

    def project(self, means: F64, covs: F64, noise_scale: F64 | None = None) -> tuple[F64, F64]:
        """Measurement-space means ``float64[T,4]`` and innovation covariances ``float64[T,4,4]``.
        ``noise_scale``: optional ``float64[T]`` factor on each measurement noise ``R``."""
        s = covs[:, :4, :4].copy()
        r = (means[:, _WH4] * self.config.std_weight_position) ** 2
        if noise_scale is not None:
            r = r * noise_scale[:, None]
        s[:, _I4, _I4] += r
        return means[:, :4].copy(), s

    def update(
        self,
        means: F64,
        covs: F64,
        measurements: NDArray[np.floating],
        scores: NDArray[np.floating] | None = None,
        innovation_inverse: F64 | None = None,
    ) -> tuple[F64, F64]:
        """Correct tracks with one measurement each.

        Args:
            means: ``float64[K,8]`` predicted states of the matched tracks.
            covs: ``float64[K,8,8]`` their covariances.
            measurements: ``float[K,4]`` cx, cy, w, h of the matched detections (row i updates track i).
            scores: optional ``float[K]`` detection scores in ``[0, 1]``; with
                ``MotionConfig.score_noise > 0`` the measurement noise becomes
                ``R * (1 - score_noise * score)`` (confident detections are trusted more, as NSA Kalman).
            innovation_inverse: optional ``float64[K,4,4]``, what :meth:`innovation_inverse` returns for
                these ``means`` and ``covs`` (a caller that already has it for its tracks saves the
                work); not with scores that scale the noise (``ValueError``).

        Returns updated ``(means, covs)``; covariances are symmetrised.
        """
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, 4)
        scale = None
        if scores is not None and self.config.score_noise > 0:
            scale = 1.0 - self.config.score_noise * np.asarray(scores, np.float64)
            if innovation_inverse is not None:
                raise ValueError("update: innovation_inverse cannot be given with score-scaled noise")
        _check_inverse(innovation_inverse, len(means), "update")
        hp = covs[:, :4, :]  # H P, [K,4,8]; P H^T is its transpose (P symmetric)
        # K = P H^T S^-1  <=>  K^T = S^-1 H P  (S symmetric positive definite)
        s_inv = (
            self.innovation_inverse(means, covs, scale) if innovation_inverse is None else innovation_inverse
        )
        gain_t = s_inv @ hp  # [K,4,8]
        innovation = z - means[:, :4]
        new_means = means + (innovation[:, None, :] @ gain_t)[:, 0, :]
        # P - K S K^T = P - K H P
        new_covs = covs - gain_t.transpose(0, 2, 1) @ hp
        # symmetrised in place (numpy buffers the overlapping transpose): 0.5 * (P + P^T) bit for bit
        new_covs += new_covs.transpose(0, 2, 1)
        new_covs *= 0.5
        return new_means, new_covs

    def innovation_inverse(self, means: F64, covs: F64, noise_scale: F64 | None = None) -> F64:
        """``S^-1``, ``float64[T,4,4]``, of the innovation covariances ``S = H P H^T + R`` that
        :meth:`project` returns, read straight from the six entries of ``P`` it needs (the same values
        bit for bit, without building ``S``). ``means: float64[T,8]``, ``covs: float64[T,8,8]``;
        ``noise_scale``: optional ``float64[T]`` factor on each ``R``. Row ``i`` depends on track ``i``
        only, so rows taken from the result equal the result for those rows."""
        r = (means[:, 2:4] * self.config.std_weight_position) ** 2  # R diagonal: (w, h, w, h) terms
        if noise_scale is not None:
            r = r * noise_scale[:, None]
        rw, rh = r[:, 0], r[:, 1]
        return _inv_blocks(
            covs[:, 0, 0] + rw,
            covs[:, 0, 1],
            covs[:, 1, 1] + rh,
            covs[:, 2, 2] + rw,
            covs[:, 2, 3],
            covs[:, 3, 3] + rh,
        )

    def gating_distance(
        self,
        means: F64,
        covs: F64,
        measurements: NDArray[np.floating],
        innovation_inverse: F64 | None = None,
    ) -> NDArray[np.float64]:
        """Squared Mahalanobis distance of every measurement to every track.

        Args:
            means: ``float64[T,8]``; covs: ``float64[T,8,8]``.
            measurements: ``float[M,4]`` cx, cy, w, h.
            innovation_inverse: optional ``float64[T,4,4]``, what :meth:`innovation_inverse` returns
                for these tracks (computed here when not given).

        Returns ``float64[T,M]``; compare with ``MotionConfig.gating_chi2`` (chi-square, 4 dof).
        """
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, 4)
        _check_inverse(innovation_inverse, len(means), "gating_distance")
        if len(means) == 0 or len(z) == 0:
            return np.zeros((len(means), len(z)))
        s_inv = self.innovation_inverse(means, covs) if innovation_inverse is None else innovation_inverse
        return mahalanobis(means, z, s_inv)

    def gating_distance_pairs(
        self, means: F64, covs: F64, measurements: NDArray[np.floating]
    ) -> NDArray[np.float64]:
        """Squared Mahalanobis distance of measurement ``k`` to track ``k``, for each row.

        Args:
            means: ``float64[P,8]``; covs: ``float64[P,8,8]``; measurements: ``float[P,4]`` cx, cy, w, h.

        Returns ``float64[P]``.
        """
        z = np.asarray(measurements, dtype=np.float64).reshape(-1, 4)
        if len(z) == 0:
            return np.zeros(0)
        return mahalanobis_pairs(means, z, self.innovation_inverse(means, covs))


def mahalanobis(means: F64, measurements: F64, innovation_inverse: F64) -> F64:
    """Squared Mahalanobis distance ``float64[T,M]`` of measurements ``float64[M,4]`` (cx, cy, w, h)
    to tracks with states ``means: float64[T,8]`` and innovation inverses
    ``innovation_inverse: float64[T,4,4]`` (what :meth:`KalmanFilter.innovation_inverse` returns):
    :meth:`KalmanFilter.gating_distance` once ``S^-1`` is known, for a caller that holds it already
    (no covariances needed). ``ValueError`` on shapes that do not fit."""
    _check_mahalanobis_shapes(means, measurements, innovation_inverse, "mahalanobis", pairs=False)
    d = measurements[None, :, :] - means[:, None, :4]  # [T,M,4]
    out: F64 = ((d @ innovation_inverse) * d).sum(axis=2)
    return out


def mahalanobis_pairs(means: F64, measurements: F64, innovation_inverse: F64) -> F64:
    """Squared Mahalanobis distance ``float64[P]`` of measurement ``k`` (``float64[P,4]`` cx, cy, w, h)
    to track ``k`` (``means: float64[P,8]``, ``innovation_inverse: float64[P,4,4]``), for each row:
    :meth:`KalmanFilter.gating_distance_pairs` once ``S^-1`` is known. ``ValueError`` on shapes that
    do not fit."""
    _check_mahalanobis_shapes(means, measurements, innovation_inverse, "mahalanobis_pairs", pairs=True)
    d = measurements - means[:, :4]
    out: F64 = np.einsum("pi,pij,pj->p", d, innovation_inverse, d)
    return out


def _check_mahalanobis_shapes(means: F64, z: F64, s_inv: F64, where: str, pairs: bool) -> None:
    """``ValueError`` naming the shapes unless ``means`` is ``[T,8]``, ``s_inv`` ``[T,4,4]`` and ``z``
    ``[M,4]`` (``[T,4]`` with ``pairs``). Attribute reads only: this runs on every gate."""
    t = means.shape[0] if means.ndim == 2 else -1
    if (
        means.shape[1:] != (8,)
        or s_inv.shape != (t, 4, 4)
        or z.ndim != 2
        or z.shape[1] != 4
        or (pairs and z.shape[0] != t)
    ):
        rows = "T" if pairs else "M"
        raise ValueError(
            f"{where}: means must be float64[T,8], measurements float64[{rows},4] and innovation_inverse "
            f"float64[T,4,4]; got {means.shape}, {z.shape} and {s_inv.shape}"
        )


def _check_inverse(innovation_inverse: F64 | None, n: int, where: str) -> None:
    """``ValueError`` unless ``innovation_inverse`` is ``None`` or ``float64[n,4,4]``."""
    if innovation_inverse is None:
        return
    shape = (
        innovation_inverse.shape
        if isinstance(innovation_inverse, np.ndarray)
        else np.shape(innovation_inverse)
    )
    if shape != (n, 4, 4):
        raise ValueError(
            f"{where}: innovation_inverse must be float64[{n},4,4] (one per track), got shape {shape}"
        )


def _inv_blocks(p: F64, q: F64, r: F64, u: F64, v: F64, w: F64) -> F64:
    """Inverse of innovation covariances ``float64[T,4,4]`` over ``(cx, cy, w, h)``, given by their
    blocks ``[[p, q], [q, r]]`` over ``(cx, cy)`` and ``[[u, v], [v, w]]`` over ``(w, h)`` (``float64[T]``
    each).

    They are block diagonal: position ``(cx, cy)`` and size ``(w, h)`` never mix, because the
    transition, the noise (diagonal), the observation and the camera-motion affine (which acts on the
    ``(cx, cy)`` and ``(w, h)`` pairs separately, see :func:`tracker.motion.cmc.apply_affine`) all keep
    the two groups apart. So two closed-form 2x2 inverses replace a batched LAPACK call, which costs
    more in overhead than in arithmetic at these sizes (entry by entry: fancy indexing to fill both
    blocks at once measured slower).
    """
    det1 = p * r - q * q
    det2 = u * w - v * v
    out = np.zeros((len(p), 4, 4))
    out[:, 0, 0] = r / det1
    out[:, 1, 1] = p / det1
    out[:, 0, 1] = out[:, 1, 0] = -q / det1
    out[:, 2, 2] = w / det2
    out[:, 3, 3] = u / det2
    out[:, 2, 3] = out[:, 3, 2] = -v / det2
    return out


_I4 = np.arange(4)
_I8 = np.arange(8)
_WH4 = np.array([2, 3, 2, 3])
"""State columns (w, h, w, h) that scale the noise of (cx, cy, w, h)."""
_WH8 = np.array([2, 3, 2, 3, 2, 3, 2, 3])
"""The same for all 8 state entries (positions, then velocities)."""


def _diag(values: F64) -> F64:
    """``float64[T,K]`` -> stack of diagonal matrices ``float64[T,K,K]``."""
    t, k = values.shape
    out = np.zeros((t, k, k))
    idx = np.arange(k)
    out[:, idx, idx] = values
    return out
