"""Camera motion compensation: affine estimation on synthetic and real frames, and applying it to states."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.config import CmcConfig
from tracker.motion.cmc import CameraMotionCompensator, apply_affine

H, W = 240, 320


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A smooth random texture (seeded), BGR ``uint8[H,W,3]``."""
    rng = np.random.default_rng(7)
    noise = cv2.GaussianBlur(rng.normal(size=(H, W)).astype(np.float32), (0, 0), 2.5)
    gray = cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _warp(img: np.ndarray, affine: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(
        img, affine, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def _estimate(prev: np.ndarray, cur: np.ndarray, downscale: int = 2) -> np.ndarray:
    cmc = CameraMotionCompensator(CmcConfig(enabled=True, downscale=downscale))
    first = cmc.estimate(prev)
    np.testing.assert_array_equal(first, np.eye(2, 3, dtype=np.float32))
    return cmc.estimate(cur)


@pytest.mark.parametrize("downscale", [1, 2])
@pytest.mark.parametrize(("dx", "dy"), [(5.0, -3.0), (-2.5, 4.25)])
def test_recovers_translation(texture: np.ndarray, downscale: int, dx: float, dy: float) -> None:
    truth = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    est = _estimate(texture, _warp(texture, truth), downscale)
    assert est.shape == (2, 3) and est.dtype == np.float32
    np.testing.assert_allclose(est[:, 2], truth[:, 2], atol=0.5)
    np.testing.assert_allclose(est[:, :2], np.eye(2), atol=0.01)


def test_recovers_rotation(texture: np.ndarray) -> None:
    truth = cv2.getRotationMatrix2D((W / 2, H / 2), 2.0, 1.0)  # 2 degrees about the centre
    est = _estimate(texture, _warp(texture, truth))
    angle = np.degrees(np.arctan2(est[1, 0], est[0, 0]))
    assert angle == pytest.approx(-2.0, abs=0.15)  # OpenCV's positive angle is counter-clockwise
    assert np.hypot(est[0, 0], est[1, 0]) == pytest.approx(1.0, abs=0.01)
    pts = np.array([[10, 10], [W - 10, H - 10], [W / 2, 20]], np.float64)
    moved_true = pts @ truth[:, :2].T + truth[:, 2]
    moved_est = pts @ est[:, :2].T + est[:, 2]
    np.testing.assert_allclose(moved_est, moved_true, atol=0.5)


def test_identical_and_blank_frames(texture: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    np.testing.assert_allclose(_estimate(texture, texture.copy()), np.eye(2, 3), atol=0.05)
    blank = np.full((H, W, 3), 128, np.uint8)
    with caplog.at_level(logging.DEBUG, logger="tracker"):
        np.testing.assert_array_equal(_estimate(blank, blank), np.eye(2, 3))
        np.testing.assert_array_equal(_estimate(blank, texture), np.eye(2, 3))
    assert any("identity" in r.getMessage() for r in caplog.records)
    tiny = np.zeros((3, 2, 3), np.uint8)
    np.testing.assert_array_equal(_estimate(tiny, tiny, downscale=4), np.eye(2, 3))


def test_gray_frames_reset_and_errors(texture: np.ndarray) -> None:
    gray = cv2.cvtColor(texture, cv2.COLOR_BGR2GRAY)
    truth = np.array([[1, 0, 3.0], [0, 1, 2.0]], np.float32)
    cmc = CameraMotionCompensator(CmcConfig(downscale=2))
    cmc.estimate(gray)
    np.testing.assert_allclose(cmc.estimate(_warp(gray, truth))[:, 2], truth[:, 2], atol=0.5)
    with pytest.raises(ValueError, match="size changed"):
        cmc.estimate(np.zeros((H // 2, W, 3), np.uint8))
    cmc.reset()
    np.testing.assert_array_equal(cmc.estimate(np.zeros((H // 2, W, 3), np.uint8)), np.eye(2, 3))
    for bad in (texture.astype(np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 4), np.uint8)):
        with pytest.raises(ValueError, match="frame"):
            cmc.estimate(bad)
    # out-of-range settings are rejected when the config is built (range checks on every field)
    for bad_field in ({"downscale": 0}, {"max_corners": 0}, {"method": "orb"}):
        with pytest.raises(ValueError, match=f"CmcConfig.{next(iter(bad_field))}"):
            CmcConfig(**bad_field)  # type: ignore[arg-type]


def _states(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = rng.uniform(1, 100, (n, 8)).astype(np.float32)
    a = rng.normal(size=(n, 8, 8))
    covs = (a @ a.transpose(0, 2, 1) + 8 * np.eye(8)).astype(np.float32)
    return means, covs


def test_apply_affine_identity_and_translation() -> None:
    means, covs = _states(5)
    m, c = apply_affine(means, covs, np.eye(2, 3, dtype=np.float32))
    np.testing.assert_allclose(m, means, rtol=1e-6)
    np.testing.assert_allclose(c, covs, rtol=1e-6)
    shift = np.array([[1, 0, 4.0], [0, 1, -2.5]], np.float32)
    m, c = apply_affine(means, covs, shift)
    np.testing.assert_allclose(m[:, :2], means[:, :2] + [4.0, -2.5], rtol=1e-6)
    np.testing.assert_allclose(m[:, 2:], means[:, 2:], rtol=1e-6)
    np.testing.assert_allclose(c, covs, rtol=1e-6)
    assert m.dtype == np.float32 and c.dtype == np.float32
    m64, c64 = apply_affine(means.astype(np.float64), covs.astype(np.float64), shift)
    assert m64.dtype == np.float64 and c64.dtype == np.float64  # the tracker's float64 state is kept
    np.testing.assert_allclose(m64, m, rtol=1e-6)
    empty_m, empty_c = apply_affine(np.zeros((0, 8), np.float32), np.zeros((0, 8, 8), np.float32), shift)
    assert empty_m.shape == (0, 8) and empty_c.shape == (0, 8, 8)


def test_apply_affine_rotation_matches_reference() -> None:
    means, covs = _states(4, seed=1)
    affine = cv2.getRotationMatrix2D((50, 40), 5.0, 1.02).astype(np.float32)
    m, c = apply_affine(means, covs, affine)
    r8 = np.kron(np.eye(4), affine[:, :2].astype(np.float64))
    for i in range(len(means)):  # per-track reference, as BoT-SORT's GMC.multi_gmc
        ref_m = r8 @ means[i]
        ref_m[:2] += affine[:, 2]
        np.testing.assert_allclose(m[i], ref_m, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(c[i], r8 @ covs[i] @ r8.T, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(c, c.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="affine"):
        apply_affine(means, covs, np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="covs"):
        apply_affine(means, covs[:2], affine)


@pytest.mark.data
def test_real_moving_camera(data_root: Path) -> None:
    img1 = data_root / "MOT17-mini/train/MOT17-13-FRCNN/img1"
    prev, cur = (cv2.imread(str(img1 / f"00000{i}.jpg")) for i in (1, 2))
    assert prev is not None and cur is not None
    est = _estimate(prev, cur, downscale=2)
    assert np.isfinite(est).all()
    assert np.hypot(est[0, 0], est[1, 0]) == pytest.approx(1.0, abs=0.05)
    # the estimated motion explains the change better than no motion (ignore warp borders)
    h, w = prev.shape[:2]
    inner = (slice(100, h - 100), slice(100, w - 100))
    warped = cv2.warpAffine(prev, est, (w, h)).astype(np.float32)
    err_est = np.abs(warped - cur)[inner].mean()
    err_none = np.abs(prev.astype(np.float32) - cur)[inner].mean()
    assert err_est < 0.7 * err_none
