"""The batched Kalman filter against filterpy, step by step, and its numerical health."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter as FilterpyKF

from tracker.config import MotionConfig
from tracker.motion.kalman import KalmanFilter, cxcywh_to_xyxy, mahalanobis, mahalanobis_pairs, xyxy_to_cxcywh


def _filterpy_like(kf: KalmanFilter, z0: np.ndarray) -> FilterpyKF:
    ref = FilterpyKF(dim_x=8, dim_z=4)
    ref.F = kf.motion_mat.copy()
    ref.H = kf.update_mat.copy()
    mean, cov = kf.initiate(z0[None])
    ref.x = mean[0].reshape(8, 1).copy()
    ref.P = cov[0].copy()
    return ref


def test_matches_filterpy_step_by_step() -> None:
    rng = np.random.default_rng(0)
    kf = KalmanFilter(MotionConfig())
    n = 6
    starts = np.column_stack(
        [rng.uniform(100, 800, n), rng.uniform(100, 500, n), rng.uniform(20, 80, n), rng.uniform(60, 200, n)]
    )
    velocity = rng.normal(0, 3, (n, 4)) * [1, 1, 0.1, 0.1]
    means, covs = kf.initiate(starts)
    refs = [_filterpy_like(kf, starts[i]) for i in range(n)]
    for step in range(1, 40):
        # filterpy with the same size-dependent noise, computed from its own state before predicting
        for ref in refs:
            ref.Q = kf.process_noise(ref.x.reshape(1, 8))[0]
            ref.predict()
        means, covs = kf.predict(means, covs)
        for i, ref in enumerate(refs):
            np.testing.assert_allclose(means[i], ref.x[:, 0], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(covs[i], ref.P, rtol=1e-9, atol=1e-9)
        # some tracks are observed this step, others are not (gaps)
        observed = np.flatnonzero(rng.random(n) < 0.7)
        z = starts + velocity * step + rng.normal(0, 2, (n, 4))
        for i in observed:
            refs[i].R = kf.measurement_noise(refs[i].x.reshape(1, 8))[0]
            refs[i].update(z[i].reshape(4, 1))
        if len(observed):
            means[observed], covs[observed] = kf.update(means[observed], covs[observed], z[observed])
        for i, ref in enumerate(refs):
            np.testing.assert_allclose(means[i], ref.x[:, 0], rtol=1e-7, atol=1e-6)
            np.testing.assert_allclose(covs[i], ref.P, rtol=1e-7, atol=1e-6)


def test_batched_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(1)
    kf = KalmanFilter()
    z = np.column_stack(
        [rng.uniform(0, 500, 10), rng.uniform(0, 500, 10), rng.uniform(10, 50, 10), rng.uniform(30, 150, 10)]
    )
    m, c = kf.initiate(z)
    m, c = kf.predict(m, c)
    zz = z + rng.normal(0, 1, z.shape)
    mb, cb = kf.update(m, c, zz)
    for i in range(10):
        mi, ci = kf.update(m[i : i + 1], c[i : i + 1], zz[i : i + 1])
        np.testing.assert_allclose(mb[i], mi[0], rtol=1e-12)
        np.testing.assert_allclose(cb[i], ci[0], rtol=1e-12)


def test_predict_inplace_equals_predict_bit_for_bit_on_any_memory_layout() -> None:
    """The tracker predicts its own arrays in place; that must be exactly :meth:`predict`, whether the
    covariance stack is C-contiguous (the strided-diagonal path) or not (the fancy-index path)."""
    rng = np.random.default_rng(4)
    kf = KalmanFilter()
    z = np.column_stack(
        [rng.uniform(0, 500, 7), rng.uniform(0, 500, 7), rng.uniform(10, 50, 7), rng.uniform(30, 150, 7)]
    )
    m, c = kf.initiate(z)
    m, c = kf.update(*kf.predict(m, c), z + rng.normal(0, 2, z.shape))
    want_m, want_c = kf.predict(m, c)
    assert not np.array_equal(want_m, m)  # predict leaves its inputs alone
    for layout in ("C", "F"):
        mi, ci = m.copy(order=layout), c.copy(order=layout)
        assert ci.flags.c_contiguous == (layout == "C")
        kf.predict_inplace(mi, ci)
        np.testing.assert_array_equal(mi, want_m)
        np.testing.assert_array_equal(ci, want_c)


def test_covariance_stays_symmetric_positive_definite_through_long_gaps() -> None:
    kf = KalmanFilter()
    m, c = kf.initiate(np.array([[300.0, 200.0, 40.0, 120.0], [50.0, 60.0, 5.0, 12.0]]))
    m[:, 4:6] = [3.0, -1.0]
    for step in range(600):
        m, c = kf.predict(m, c)
        if step % 150 == 0:  # a rare observation after each long gap
            m, c = kf.update(m, c, m[:, :4] + 1.0)
        np.testing.assert_allclose(c, np.swapaxes(c, 1, 2), rtol=0, atol=1e-9 * np.abs(c).max())
        assert (np.linalg.eigvalsh(c) > 0).all(), f"covariance not positive definite at step {step}"
        assert np.isfinite(m).all()


def test_uncertainty_grows_while_unobserved_and_shrinks_on_update() -> None:
    kf = KalmanFilter()
    m, c = kf.initiate(np.array([[100.0, 100.0, 30.0, 90.0]]))
    traces = []
    for _ in range(5):
        m, c = kf.predict(m, c)
        traces.append(np.trace(c[0]))
    assert all(b > a for a, b in itertools.pairwise(traces))
    _, c2 = kf.update(m, c, m[:, :4])
    assert np.trace(c2[0]) < traces[-1]


def test_gating_distance_matches_explicit_formula_and_chi2() -> None:
    kf = KalmanFilter()
    m, c = kf.initiate(np.array([[100.0, 100.0, 30.0, 90.0], [400.0, 300.0, 50.0, 150.0]]))
    m, c = kf.predict(m, c)
    z = np.array([[101.0, 99.0, 30.0, 91.0], [400.0, 300.0, 50.0, 150.0], [700.0, 20.0, 10.0, 30.0]])
    d = kf.gating_distance(m, c, z)
    assert d.shape == (2, 3)
    for t in range(2):
        proj, s = kf.project(m[t : t + 1], c[t : t + 1])
        for j in range(3):
            diff = z[j] - proj[0]
            assert d[t, j] == pytest.approx(diff @ np.linalg.inv(s[0]) @ diff)
    chi2 = MotionConfig().gating_chi2
    assert d[0, 0] < chi2 and d[1, 1] < chi2  # close measurements pass
    assert d[0, 2] > chi2 and d[1, 2] > chi2  # a far one is gated


def test_mahalanobis_from_a_known_inverse_equals_gating_distance_bit_for_bit() -> None:
    """The tracker's gates read ``S^-1`` computed once a frame and take rows of it; the distances
    must be the very values ``gating_distance`` computes from the covariances."""
    kf = KalmanFilter()
    rng = np.random.default_rng(3)
    z0 = np.column_stack(
        [rng.uniform(0, 900, 7), rng.uniform(0, 500, 7), rng.uniform(20, 60, 7), rng.uniform(60, 180, 7)]
    )
    m, c = kf.predict(*kf.initiate(z0))
    z = z0[[4, 0, 6]] + rng.normal(0, 3, (3, 4))
    s_inv = kf.innovation_inverse(m, c)
    rows = np.array([5, 1, 2])
    got = mahalanobis(m.take(rows, 0), z, s_inv.take(rows, 0))
    assert got.shape == (3, 3)
    assert np.array_equal(got, kf.gating_distance(m[rows], c[rows], z))
    assert np.array_equal(got, kf.gating_distance(m[rows], c[rows], z, s_inv[rows]))
    # pairs (the sparse stages' gate): row k of the cached inverse for pair k, the same values
    pr, pz = np.array([5, 5, 1]), z0[[4, 0, 6]] + 1.0
    pairs = mahalanobis_pairs(m.take(pr, 0), pz, s_inv.take(pr, 0))
    assert np.array_equal(pairs, kf.gating_distance_pairs(m[pr], c[pr], pz))
    assert np.allclose(pairs, [mahalanobis(m[[r]], pz[[k]], s_inv[[r]])[0, 0] for k, r in enumerate(pr)])
    with pytest.raises(
        ValueError, match=r"mahalanobis: means must be float64\[T,8\].*got \(3, 8\), \(3, 4\) and \(2, 4, 4\)"
    ):
        mahalanobis(m[rows], z, s_inv[:2])
    with pytest.raises(ValueError, match=r"mahalanobis_pairs: .*measurements float64\[T,4\]"):
        mahalanobis_pairs(m[pr], pz[:2], s_inv[pr])
    with pytest.raises(ValueError, match=r"mahalanobis: .*got \(3, 4\)"):
        mahalanobis(m[rows, :4], z, s_inv[rows])


def test_box_conversions_round_trip() -> None:
    b = np.array([[10.0, 20.0, 50.0, 120.0]])
    np.testing.assert_allclose(xyxy_to_cxcywh(b), [[30.0, 70.0, 40.0, 100.0]])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(b)), b)


def test_position_and_size_stay_decoupled_under_camera_motion() -> None:
    """The filter inverts innovation covariances as two 2x2 blocks; that needs (cx, cy) and (w, h)
    never to mix, through predict, update and the CMC affine (rotation + scale + shift)."""
    from tracker.motion.cmc import apply_affine

    kf = KalmanFilter()
    rng = np.random.default_rng(5)
    m, c = kf.initiate(
        np.column_stack([rng.uniform(0, 500, 5), rng.uniform(0, 500, 5), [30.0] * 5, [90.0] * 5])
    )
    theta = 0.03
    affine = np.array(
        [[1.01 * np.cos(theta), -np.sin(theta), 4.0], [np.sin(theta), 0.99 * np.cos(theta), -2.0]]
    )
    pos = [0, 1, 4, 5]
    size = [2, 3, 6, 7]
    for step in range(30):
        m, c = kf.predict(m, c)
        m, c = apply_affine(m, c, affine.astype(np.float32))
        if step % 3:
            m, c = kf.update(m, c, m[:, :4] + rng.normal(0, 1, (5, 4)))
        assert np.abs(c[:, pos][:, :, size]).max() < 1e-9 * np.abs(c).max()
    z = m[:, :4] + rng.normal(0, 3, (5, 4))
    d = kf.gating_distance(m, c, z)
    for t in range(5):
        proj, s = kf.project(m[t : t + 1], c[t : t + 1])
        diff = z - proj[0]
        np.testing.assert_allclose(d[t], np.einsum("mi,ij,mj->m", diff, np.linalg.inv(s[0]), diff), rtol=1e-9)


def test_predict_inplace_refuses_mismatched_stacks_before_changing_them() -> None:
    kf = KalmanFilter()
    m, c = kf.initiate(np.array([[10.0, 20.0, 5.0, 9.0], [30.0, 40.0, 6.0, 12.0], [1.0, 2.0, 3.0, 4.0]]))
    m[:, 4:] = 1.0
    m0, c0 = m.copy(), c.copy()
    with pytest.raises(ValueError, match=r"means must be float64\[T,8\].*\(3, 8\) and \(2, 8, 8\)"):
        kf.predict_inplace(m, c[:2])
    np.testing.assert_array_equal(m, m0)
    np.testing.assert_array_equal(c, c0)


def test_a_given_innovation_inverse_gives_the_same_update_and_gate_bit_for_bit() -> None:
    """The tracker computes every track's ``S^-1`` once a frame and hands rows of it to the gate and
    the update: the same numbers as each computing its own, and refused where scores scale the noise."""
    rng = np.random.default_rng(3)
    kf = KalmanFilter()
    z0 = np.concatenate([rng.uniform(0, 900, (6, 2)), rng.uniform(20, 120, (6, 2))], axis=1)
    m, c = kf.initiate(z0)
    for _ in range(4):
        kf.predict_inplace(m, c)
        m, c = kf.update(m, c, z0 + rng.normal(0, 2, z0.shape))
    kf.predict_inplace(m, c)
    s_inv = kf.innovation_inverse(m, c)
    rows = np.array([4, 1, 5])
    z = z0[rows] + 1.5
    own = kf.update(m[rows], c[rows], z)
    given = kf.update(m[rows], c[rows], z, None, s_inv[rows])
    for a, b in zip(own, given, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        kf.gating_distance(m[rows], c[rows], z0), kf.gating_distance(m[rows], c[rows], z0, s_inv[rows])
    )
    with pytest.raises(ValueError, match=r"innovation_inverse must be float64\[3,4,4\]"):
        kf.update(m[rows], c[rows], z, None, s_inv)  # every track's, not the three updated
    with pytest.raises(ValueError, match=r"gating_distance: innovation_inverse"):
        kf.gating_distance(m[rows], c[rows], z0, s_inv[:2])
    nsa = KalmanFilter(MotionConfig(score_noise=0.5))
    with pytest.raises(ValueError, match="score-scaled"):
        nsa.update(m[rows], c[rows], z, np.full(3, 0.9), s_inv[rows])
