"""Our assignment solver against SciPy's, exact on every input kind."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

import tracker.association.lsap as lsap_module
from tracker.association.lsap import linear_sum_assignment, max_gain_assignment


@pytest.fixture(autouse=True)
def own_solver_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here runs our own solver: with SciPy installed, large matrices would otherwise go
    to SciPy's compiled copy (the comparison would then be SciPy against itself)."""
    monkeypatch.setattr(lsap_module, "_compiled_lsa", None)


def _matrices(seed: int, count: int, largest: int = 12) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for t in range(count):
        n, m = (int(x) for x in rng.integers(1, largest, 2))
        kind = t % 5
        if kind == 0:
            c = rng.random((n, m))
        elif kind == 1:  # small integers: many ties
            c = rng.integers(0, 3, (n, m)).astype(float)
        elif kind == 2:  # constant: every assignment ties
            c = np.full((n, m), 1.0)
        elif kind == 3:  # gated-style: many equal large entries
            c = rng.random((n, m))
            c[rng.random((n, m)) < 0.5] = 5.0
        else:  # near-diagonal tracking costs with +inf holes off the diagonal
            c = rng.random((n, m)) + 1.0
            k = min(n, m)
            c[np.arange(k), np.arange(k)] = rng.random(k) * 0.1
            c[rng.random((n, m)) < 0.2] = np.inf
            c[np.arange(k), np.arange(k)] = rng.random(k) * 0.1
        out.append(c)
    return out


@pytest.mark.parametrize("maximize", [False, True])
def test_same_assignment_as_scipy_ties_included(maximize: bool) -> None:
    checked = 0
    for c in _matrices(0, 2500):
        if maximize:
            c = np.where(np.isinf(c), -np.inf, c)
        ref = scipy_lsa(c, maximize=maximize)
        got = linear_sum_assignment(c, maximize=maximize)
        assert got[0].dtype == np.int64 and got[1].dtype == np.int64
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        checked += 1
    assert checked == 2500


def test_optimal_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, m = (int(x) for x in rng.integers(1, 6, 2))
        c = rng.random((n, m))
        r, k = linear_sum_assignment(c)
        assert len(r) == min(n, m) and len(set(k.tolist())) == len(k)
        if n <= m:
            best = min(sum(c[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
        else:
            best = min(sum(c[p[j], j] for j in range(m)) for p in itertools.permutations(range(n), m))
        assert c[r, k].sum() == pytest.approx(best)


def test_empty_and_bad_input() -> None:
    r, c = linear_sum_assignment(np.zeros((0, 4)))
    assert r.shape == (0,) and c.shape == (0,)
    with pytest.raises(ValueError, match="NaN"):
        linear_sum_assignment(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="-inf"):
        linear_sum_assignment(np.array([[0.0, -np.inf]]))
    with pytest.raises(ValueError, match="infeasible"):
        linear_sum_assignment(np.array([[np.inf, np.inf], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        linear_sum_assignment(np.zeros(3))


def test_list_version_same_as_array_version() -> None:
    for c in _matrices(7, 800):
        gain = np.where(np.isinf(c), 0.0, c)
        r, k = scipy_lsa(gain, maximize=True)
        assert max_gain_assignment(gain.tolist()) == list(zip(r.tolist(), k.tolist(), strict=True))


def test_two_by_two_shortcut_same_as_scipy() -> None:
    rng = np.random.default_rng(5)
    for t in range(4000):
        c = rng.integers(-2, 3, (2, 2)).astype(float) if t % 2 else rng.random((2, 2))
        if t % 7 == 0:
            c[rng.integers(0, 2), rng.integers(0, 2)] = -0.0
        ref = scipy_lsa(c)
        got = linear_sum_assignment(c)
        np.testing.assert_array_equal(got[1], ref[1])


def test_large_matrices_same_as_scipy() -> None:
    for c in _matrices(9, 60, largest=90):
        ref = scipy_lsa(c)
        got = linear_sum_assignment(c)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_compiled_path_used_for_large_matrices_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def spy(c: np.ndarray, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
        calls.append(c.shape)
        return scipy_lsa(c, maximize=maximize)

    monkeypatch.setattr(lsap_module, "_compiled_lsa", spy)
    c = np.random.default_rng(0).random((9, 8))
    assert np.array_equal(linear_sum_assignment(c)[1], scipy_lsa(c)[1]) and calls == [(8, 9)]
    assert linear_sum_assignment(np.ones((2, 3)))[1].tolist() == [0, 1] and len(calls) == 1
    gain = c.tolist()
    r, k = scipy_lsa(c, maximize=True)
    assert max_gain_assignment(gain) == list(zip(r.tolist(), k.tolist(), strict=True)) and len(calls) == 2
