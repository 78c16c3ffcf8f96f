"""Gated Hungarian assignment and cost matrices."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tracker.geometry as costs_module
from tracker.association.assign import assign
from tracker.association.costs import GATED, cosine_distance, fuse_min, fuse_weighted
from tracker.association.lsap import linear_sum_assignment
from tracker.association.terms import AssociationFrame
from tracker.geometry import iou_matrix


def _brute_force(cost: np.ndarray, limit: float) -> float:
    """Lowest total of (matched costs + limit/2 for every unmatched row and column)."""
    n, m = cost.shape
    best = 0.5 * limit * (n + m)
    for k in range(1, min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                c = cost[list(rows), list(cols)]
                if (c <= limit).all():
                    best = min(best, c.sum() + 0.5 * limit * (n + m - 2 * k))
    return best


def _total(cost: np.ndarray, limit: float, r: np.ndarray, c: np.ndarray) -> float:
    n, m = cost.shape
    return cost[r, c].sum() + 0.5 * limit * (n + m - 2 * len(r))


def test_simple_matching_and_threshold() -> None:
    cost = np.array([[0.1, 0.9], [0.8, 0.2], [GATED, GATED]])
    r, c, ur, uc = assign(cost, 0.5)
    assert sorted(zip(r.tolist(), c.tolist(), strict=False)) == [(0, 0), (1, 1)]
    assert ur.tolist() == [2] and uc.tolist() == []


def test_never_matches_above_limit_even_if_forced() -> None:
    cost = np.array([[0.6, 0.7], [0.9, 0.65]])
    r, _, ur, uc = assign(cost, 0.5)
    assert len(r) == 0 and ur.tolist() == [0, 1] and uc.tolist() == [0, 1]


def test_empty_inputs() -> None:
    r, _, _, uc = assign(np.zeros((0, 3)), 0.5)
    assert len(r) == 0 and uc.tolist() == [0, 1, 2]
    _, _, ur, _ = assign(np.zeros((2, 0)), 0.5)
    assert ur.tolist() == [0, 1]


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(0, 1.2)))
def test_optimal_against_brute_force(cost: np.ndarray) -> None:
    limit = 0.8
    r, c, ur, uc = assign(cost, limit)
    assert (cost[r, c] <= limit).all()
    assert len(set(r.tolist())) == len(r) and len(set(c.tolist())) == len(c)
    assert set(r.tolist()) | set(ur.tolist()) == set(range(cost.shape[0]))
    assert set(c.tolist()) | set(uc.tolist()) == set(range(cost.shape[1]))
    assert _total(cost, limit, r, c) <= _brute_force(cost, limit) + 1e-9


def test_iou_matrix_known_values() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    iou = iou_matrix(a, b)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0])
    np.testing.assert_allclose(iou[1], [0.04, 0.0, 0.0])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)


def test_cosine_and_fuse() -> None:
    f = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(cosine_distance(f, f), [[0, 1], [1, 0]], atol=1e-12)
    motion = np.array([[0.4, 0.9, 0.45]])
    app = np.array([[0.2, 0.1, 0.2]])
    iou_dist = np.array([[0.3, 0.9, 0.45]])
    fused = fuse_min(motion, app, iou_dist, appearance_gate=0.5, proximity_gate=0.5)
    # 1st: appearance helps (0.2/2 < 0.4); 2nd: too far apart, keeps motion cost; 3rd: the proximity
    # gate looks at plain 1 - IoU (0.45 <= 0.5), not at the motion cost
    np.testing.assert_allclose(fused, [[0.1, 0.9, 0.1]])
    far_in_looks = fuse_min(motion, np.array([[0.6, 0.6, 0.6]]), iou_dist, 0.5, 0.5)
    np.testing.assert_allclose(far_in_looks, motion)
    weighted = fuse_weighted(motion, app, iou_dist, 0.5, 0.5, 0.5)
    np.testing.assert_allclose(weighted, [[0.3, 0.9, 0.325]])
    assert np.isfinite(fused).all()


def _whole_matrix(cost: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray]:
    """Reference: the whole matrix in one solve (gain max_cost - cost, inadmissible pairs gain 0)."""
    ok = cost <= max_cost
    r, c = linear_sum_assignment(np.where(ok, max_cost - cost, 0.0), maximize=True)
    keep = ok[r, c]
    return r[keep], c[keep]


def test_split_into_components_is_optimal() -> None:
    """Matrices are split into connected components (single pairs taken directly, each other one
    solved on its own block); the total must equal the solver's optimum on the whole matrix."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        n, m = 70 + trial, 60 + 2 * trial
        cost = np.full((n, m), GATED)
        # a near-diagonal band of admissible pairs, some rows with 2-3 options, some with none
        for i in range(n):
            for j in rng.choice(m, size=rng.integers(0, 4), replace=False):
                cost[i, j] = rng.uniform(0.0, 1.0)
        r, c, ur, uc = assign(cost, 0.8)
        r0, c0 = _whole_matrix(cost, 0.8)
        assert (cost[r, c] <= 0.8).all()
        assert len(set(r.tolist())) == len(r) and len(set(c.tolist())) == len(c)
        assert _total(cost, 0.8, r, c) == pytest.approx(_total(cost, 0.8, r0, c0), abs=1e-9)
        assert sorted([*r.tolist(), *ur.tolist()]) == list(range(n))
        assert sorted([*c.tolist(), *uc.tolist()]) == list(range(m))


def _dense_iou(a: np.ndarray, b: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    with monkeypatch.context() as m:
        m.setattr(costs_module, "SPARSE_IOU_MIN_PAIRS", 10**12)
        return iou_matrix(a, b)


@pytest.mark.parametrize(
    ("t", "m", "max_w"), [(100, 100, 60), (500, 480, 200), (1, 5000, 40), (300, 20, 2000)]
)
def test_sparse_iou_sweep_equals_dense_bit_for_bit(
    t: int, m: int, max_w: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(t + m)

    def boxes(n: int) -> np.ndarray:
        x, y = rng.uniform(-50, 1920, n), rng.uniform(-50, 1080, n)
        w, h = rng.uniform(1, max_w, n), rng.uniform(1, 300, n)
        return np.stack([x, y, x + w, y + h], axis=1)

    a, b = boxes(t), boxes(m)
    b[: min(t, m) // 2] = a[: min(t, m) // 2]  # identical boxes (IoU 1) and ties in x1
    b[-1, 2] = b[-1, 0] + 1e-9  # a degenerate sliver
    assert t * m >= costs_module.SPARSE_IOU_MIN_PAIRS  # the sweep path is the one under test
    sparse = iou_matrix(a, b)
    dense = _dense_iou(a, b, monkeypatch)
    assert sparse.shape == (t, m) and np.array_equal(sparse, dense)
    assert (sparse > 0).sum() > 0


def test_sparse_iou_with_no_overlap_is_all_zero() -> None:
    a = np.array([[i * 10.0, 0, i * 10.0 + 5, 5] for i in range(80)])
    b = a + np.array([0, 100, 0, 100])  # same x, disjoint y: windows non-empty, IoU all zero
    out = iou_matrix(a, b)
    assert out.shape == (80, 80) and not out.any()
    far = a + np.array([5000, 0, 5000, 0])  # disjoint x: empty windows
    assert not iou_matrix(a, far).any()


# -- sparse path (large stages) ---------------------------------------------------------------------
def test_assign_pairs_matches_dense_assign_on_random_sparse_costs() -> None:
    from tracker.association.assign import assign_pairs

    rng = np.random.default_rng(3)
    for _ in range(30):
        t, m = rng.integers(1, 40, 2)
        dense = np.where(rng.random((t, m)) < 0.15, rng.random((t, m)), GATED)
        rows, cols = np.nonzero(dense < GATED)
        r1, c1, ur1, uc1 = assign(dense, 0.7)
        r2, c2, ur2, uc2 = assign_pairs(rows, cols, dense[rows, cols], 0.7, int(t), int(m))
        assert sorted(zip(r1.tolist(), c1.tolist(), strict=True)) == sorted(
            zip(r2.tolist(), c2.tolist(), strict=True)
        )
        np.testing.assert_array_equal(ur1, ur2)
        np.testing.assert_array_equal(uc1, uc2)


def test_overlap_pairs_are_the_nonzero_entries_of_iou_matrix() -> None:
    from tracker.geometry import iou_matrix, overlap_pairs

    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 500, (300, 2))
    wh = rng.uniform(5, 60, (300, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    a, b = boxes[:120], boxes[120:]
    dense = iou_matrix(a, b)
    i, j, iou = overlap_pairs(a, b)
    ri, rj = np.nonzero(dense)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(
        zip(ri.tolist(), rj.tolist(), strict=True)
    )
    np.testing.assert_array_equal(iou, dense[i, j])


@pytest.mark.parametrize("seed", range(4))
def test_packed_scenes_use_bands_and_find_the_same_pairs(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a packed scene (more than BAND_MIN_CANDIDATES_PER_BOX x-window candidates per box) the
    sweep also splits ``b`` in horizontal bands: the same overlapping pairs and IoU bit for bit as the
    dense broadcast, boxes outside every band, flat boxes and shared edges included."""
    import tracker.geometry as geometry

    rng = np.random.default_rng(seed)
    n = 500
    xy = rng.uniform(-50, 400, (2 * n, 2))
    wh = rng.uniform(5, 60, (2 * n, 2))
    wh[rng.random(2 * n) < 0.05, 1] = 0.0  # flat boxes
    boxes = np.concatenate([xy, xy + wh], axis=1)
    if seed % 2:
        boxes = np.round(boxes / 5) * 5  # shared edges
    a, b = boxes[:n].copy(), boxes[n:]
    a[:10] += [0, 900, 0, 900]  # below every band of b
    a[10:20] -= [0, 900, 0, 900]  # above
    bands = _count_calls(monkeypatch, geometry, "_band_pairs")
    dense = geometry._pair_iou(a[:, None, :], b[None, :, :])
    i, j, iou = geometry.overlap_pairs(a, b)
    assert bands  # the banded path ran
    ri, rj = np.nonzero(dense)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(
        zip(ri.tolist(), rj.tolist(), strict=True)
    )
    assert np.all(np.diff(i) >= 0)
    np.testing.assert_array_equal(iou, dense[i, j])
    np.testing.assert_array_equal(geometry.iou_matrix(a, b), dense)
    assert len(bands) == 2


@pytest.mark.parametrize("far", [1e8, 1e14])
def test_packed_boxes_far_from_the_others_keep_every_pair(far: float) -> None:
    """A packed cluster far below one lone box: the band keys grow with the distance; past the float
    precision the bands step aside for the plain sweep (at 1e14 px they dropped 12 of 39,251 pairs)."""
    import tracker.geometry as geometry

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2000, 300)
    y = far + rng.uniform(0, 50, 300)
    boxes = np.stack([x, y, x + 1500, y + 10 + rng.uniform(0, 5, 300)], axis=1)
    boxes[0] = [0, 0, 10, 10]
    a, b = boxes, boxes + 0.5
    dense = geometry._pair_iou(a[:, None, :], b[None, :, :])
    i, j, iou = geometry.overlap_pairs(a, b)
    ri, rj = np.nonzero(dense)
    assert len(ri) > 30_000
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == sorted(
        zip(ri.tolist(), rj.tolist(), strict=True)
    )
    np.testing.assert_array_equal(iou, dense[i, j])
    assert (geometry._band_pairs(a, b, 1500.0) is None) == (far > 1e13)


@pytest.mark.parametrize("preset", ["bytetrack", "default", "deepsort", "default+oc-sort"])
def test_sparse_stages_give_the_same_tracks_as_dense_ones(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crowded scene (300 walkers, 20 of them with a twin a pixel away, so lost twins are removed as
    duplicates of tracked ones): the sparse stage and duplicate paths and the dense ones agree frame
    by frame."""
    import dataclasses

    import tracker.core.tracker as tracker_module
    from tracker import Detections, Tracker, load_config
    from tracker.association import stages

    rng = np.random.default_rng(5)
    n = 300
    pos = rng.uniform([0, 0], [1900, 1000], (n, 2))
    vel = rng.normal(0, 2, (n, 2))
    size = rng.uniform(20, 60, n)
    pos[:20], vel[:20], size[:20] = pos[20:40] + 1.0, vel[20:40], size[20:40]  # twins
    frames = []
    for _ in range(25):
        pos += vel
        seen = rng.random(n) > 0.1
        c = pos[seen] + rng.normal(0, 1.0, (int(seen.sum()), 2))
        w = size[seen]
        boxes = np.stack([c[:, 0] - w / 2, c[:, 1] - w, c[:, 0] + w / 2, c[:, 1] + w], axis=1)
        frames.append(Detections(boxes.astype(np.float32), rng.uniform(0.05, 1.0, len(boxes))))
    cfg = load_config(preset.split("+")[0])
    cfg = cfg.replace(cmc=dataclasses.replace(cfg.cmc, enabled=False))
    if preset.endswith("+oc-sort"):  # OC-SORT's direction term in every stage, and its re-update
        from tracker.config import CostTermConfig

        direction = CostTermConfig("direction", 0.4, 0.3)
        st = tuple(
            dataclasses.replace(s, cost=(s.cost[0], direction, *s.cost[1:])) for s in cfg.association.stages
        )
        cfg = cfg.replace(
            association=dataclasses.replace(cfg.association, stages=st),
            motion=dataclasses.replace(cfg.motion, reupdate_after_gap=True),
        )

    def run() -> list[tuple[list[int], list[int]]]:
        t = Tracker(cfg)
        return [(o.ids.tolist(), o.det_index.tolist()) for o in (t.update(d) for d in frames)]

    duplicates: list[int] = []
    real_overlap_pairs = tracker_module.overlap_pairs

    def spy(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = real_overlap_pairs(a, b)
        duplicates.append(int(np.count_nonzero(out[2] > cfg.association.duplicate_iou)))
        return out

    monkeypatch.setattr(tracker_module, "overlap_pairs", spy)
    sparse = run()
    monkeypatch.setattr(stages, "SPARSE_STAGE_MIN_PAIRS", 10**12)
    monkeypatch.setattr(tracker_module, "SPARSE_IOU_MIN_PAIRS", 10**12)
    calls = len(duplicates)
    dense = run()
    assert sparse == dense
    assert sum(len(ids) for ids, _ in sparse) > 1000
    assert calls > 10 and len(duplicates) == calls  # the sparse duplicate check ran, the dense one after
    if preset == "bytetrack":  # (the default's track-aware initialisation keeps twins from starting)
        assert sum(duplicates) > 0  # and found duplicates


def test_components_solved_like_the_whole_block_ties_included() -> None:
    """Every component, including the one-row / one-column shortcut, gives exactly what the solver
    gives on the component's own block (ties broken the same way)."""
    from tracker.association.assign import _solve_components
    from tracker.association.lsap import max_gain_assignment

    rng = np.random.default_rng(11)
    for _ in range(600):
        n, m = (int(x) for x in rng.integers(1, 5, 2))
        full = rng.integers(0, 3, (n, m)) * 0.25 if rng.random() < 0.5 else rng.random((n, m))
        keep = rng.random((n, m)) < 0.7
        keep[0, :] = True  # one component through row 0 and every column
        keep[:, 0] = True
        r, c = np.nonzero(keep)
        got = _solve_components(r.tolist(), c.tolist(), full[r, c].tolist(), 1.0)
        gain = np.where(keep, 1.0 - full, 0.0)
        want = [(i, j) for i, j in max_gain_assignment(gain.tolist()) if keep[i, j]]
        assert list(zip(*got, strict=True)) == want


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_list_and_array_component_paths_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Crowded scenes (many overlapping pairs) take the numpy component path: same matches, same
    order as the list path."""
    import tracker.association.assign as assign_module

    rng = np.random.default_rng(seed)
    n, m = 300, 320
    pairs = {
        (int(i), int(j)) for i in range(n) for j in rng.choice(m, size=rng.integers(0, 5), replace=False)
    }
    r = np.array([p[0] for p in sorted(pairs)], np.int64)
    c = np.array([p[1] for p in sorted(pairs)], np.int64)
    cost = rng.choice([0.1, 0.3, 0.5, 0.9], size=len(r)) if seed == 2 else rng.uniform(0, 1, len(r))
    monkeypatch.setattr(assign_module, "_LIST_MAX_PAIRS", 10**9)
    by_lists = assign_module.assign_pairs(r, c, cost, 0.8, n, m)
    monkeypatch.setattr(assign_module, "_LIST_MAX_PAIRS", 0)
    sizes = []
    for small in (0, assign_module._SMALL_BLOCK_PAIRS):  # every block by numpy; small ones by lists
        monkeypatch.setattr(assign_module, "_SMALL_BLOCK_PAIRS", small)
        by_arrays = assign_module.assign_pairs(r, c, cost, 0.8, n, m)
        for a, b in zip(by_lists, by_arrays, strict=True):
            np.testing.assert_array_equal(a, b)
        sizes.append(len(by_arrays[0]))
    assert sizes[0] > 0


@pytest.mark.parametrize("seed", range(6))
def test_small_scene_list_matcher_equals_the_array_path(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to ``_PYTHON_MAX_PAIRS`` pairs, matching runs on Python lists from the first step: the same
    matches in the same order as the numpy path, ties, repeated pairs and inadmissible pairs included."""
    import tracker.association.assign as assign_module

    rng = np.random.default_rng(seed)
    limit = assign_module._PYTHON_MAX_PAIRS
    for _ in range(200):
        p = int(rng.integers(0, limit + 1))
        r = rng.integers(0, 8, p).astype(np.int64)
        c = rng.integers(0, 8, p).astype(np.int64)
        cost = rng.choice([0.1, 0.3, 0.5, 0.9], size=p) if seed % 2 else rng.uniform(0, 1, p)
        by_lists = assign_module.match_pairs(r, c, cost, 0.8)
        monkeypatch.setattr(assign_module, "_PYTHON_MAX_PAIRS", -1)
        by_arrays = assign_module.match_pairs(r, c, cost, 0.8)
        monkeypatch.setattr(assign_module, "_PYTHON_MAX_PAIRS", limit)
        for a, b in zip(by_lists, by_arrays, strict=True):
            assert a.dtype == b.dtype == np.int64
            np.testing.assert_array_equal(a, b)


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Replace ``module.name`` by a wrapper that calls it and appends 1 to the returned list."""
    real = getattr(module, name)
    calls: list[int] = []

    def spy(*args: object) -> object:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize("seed", range(4))
def test_sparse_solver_for_giant_components_equals_the_dense_one(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Giant components (packed scenes) go to SciPy's sparse solver: with continuous costs (one
    optimum) it picks the same pairs as the dense block solver; repeated pairs count by their last
    value, as in the dense block."""
    import tracker.association.assign as assign_module

    rng = np.random.default_rng(seed)
    n, m = 120, 110
    r = rng.integers(0, n, 900).astype(np.int64)
    c = np.clip(r + rng.integers(-6, 7, 900), 0, m - 1).astype(np.int64)  # one big chained component
    cost = rng.uniform(0, 1, 900)
    monkeypatch.setattr(assign_module, "_SPARSE_BLOCK_MIN_ENTRIES", 10**12)
    dense = assign_module.match_pairs(r, c, cost, 0.8)
    monkeypatch.setattr(assign_module, "_SPARSE_BLOCK_MIN_ENTRIES", 1)
    calls = _count_calls(monkeypatch, assign_module, "sparse_gated_matching")
    sparse = assign_module.match_pairs(r, c, cost, 0.8)
    assert calls  # the sparse path ran
    assert len(dense[0]) > 50
    assert sorted(zip(*dense, strict=True)) == sorted(zip(*sparse, strict=True))


def test_sparse_solver_optimum_and_unmatched_cost() -> None:
    """A pair is taken only when cheaper than leaving both ends unmatched (``max_cost / 2`` each), and
    the matching is the cheapest one: checked against brute force on small random problems."""
    from tracker.association.lsap import sparse_gated_matching

    rng = np.random.default_rng(7)
    for _ in range(60):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        pairs = [(i, j) for i in range(n) for j in range(m) if rng.random() < 0.6]
        if not pairs:
            continue
        r = np.array([p[0] for p in pairs], np.int64)
        c = np.array([p[1] for p in pairs], np.int64)
        cost = rng.uniform(0, 0.8, len(pairs))
        got = sparse_gated_matching(r, c, cost, 0.8, n, m)
        assert got is not None
        total = float(cost[[pairs.index(p) for p in zip(*got, strict=True)]].sum()) + 0.4 * (
            n + m - 2 * len(got[0])
        )
        best = math.inf
        for k in range(len(pairs) + 1):
            for sub in itertools.combinations(range(len(pairs)), k):
                rows = {pairs[s][0] for s in sub}
                cols = {pairs[s][1] for s in sub}
                if len(rows) == len(cols) == k:
                    best = min(best, float(cost[list(sub)].sum()) + 0.4 * (n + m - 2 * k))
        assert total == pytest.approx(best, abs=1e-12)


def test_giant_components_without_scipy_fall_back_to_the_dense_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core install has no SciPy: the sparse solver then says so (``None``) and the component is
    solved densely, with the same matches."""
    import tracker.association.assign as assign_module
    import tracker.association.lsap as lsap_module

    rng = np.random.default_rng(3)
    r = rng.integers(0, 80, 600).astype(np.int64)
    c = np.clip(r + rng.integers(-5, 6, 600), 0, 79).astype(np.int64)
    cost = rng.uniform(0, 1, 600)
    want = assign_module.match_pairs(r, c, cost, 0.8)
    monkeypatch.setattr(assign_module, "_SPARSE_BLOCK_MIN_ENTRIES", 1)
    monkeypatch.setattr(lsap_module, "_compiled_sparse_matching", None)
    assert lsap_module.sparse_gated_matching(r[:3], c[:3], cost[:3], 0.8, 80, 80) is None
    got = assign_module.match_pairs(r, c, cost, 0.8)
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "tied"])
def test_sparse_solver_orders_pairs_as_lexsort(ties: bool) -> None:
    """The sparse solver's pair order (by row, then cost, then listing position) is exactly
    ``np.lexsort``'s, by its fast path for distinct costs and by ``np.lexsort`` itself for equal ones."""
    from tracker.association.lsap import _by_row_then_cost

    rng = np.random.default_rng(11)
    for _ in range(50):
        p = int(rng.integers(0, 400))
        rows = np.sort(rng.integers(0, 60, p)) if rng.random() < 0.5 else rng.integers(0, 60, p)
        cost = -rng.random(p)
        if ties:
            cost = np.round(cost * 4) / 4
        np.testing.assert_array_equal(_by_row_then_cost(rows, cost), np.lexsort((cost, rows)))


@pytest.mark.parametrize("budget", [0, 4, 1000])
@pytest.mark.parametrize("seed", range(3))
def test_pure_python_sparse_solver_reaches_the_dense_optimum(
    seed: int, budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sparse_max_gain_matching`` (the core install's solver for large components): a valid
    matching of listed pairs only, with the dense solver's total gain, ties included, whatever the
    budget of its first phase (0: every displaced row is left to the shortest-path searches; 1000:
    the first phase runs to the end). Both phases run on these problems."""
    import tracker.association.lsap as lsap_module
    from tracker.association.lsap import max_gain_assignment, sparse_max_gain_matching

    monkeypatch.setattr(lsap_module, "SPARSE_DISPLACEMENTS_PER_ROW", budget)
    searches = _count_calls(monkeypatch, lsap_module, "_finish_row")
    sparse_searches = 0
    rng = np.random.default_rng(seed)
    for trial in range(300):
        n, m = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        listed = rng.random((n, m)) < rng.uniform(0.1, 1.0)
        if not listed.any():
            continue
        gain = rng.random((n, m)) if trial % 2 else np.round(rng.random((n, m)) * 3) / 3  # ties
        gain = np.where(listed, gain, 0.0)
        r, c = listed.nonzero()
        if trial % 3 == 0:  # pairs in any order
            shuffle = rng.permutation(len(r))
            r, c = r[shuffle], c[shuffle]
        before = len(searches)
        got = sparse_max_gain_matching(r.tolist(), c.tolist(), gain[r, c].tolist(), n, m)
        sparse_searches += len(searches) - before  # (the dense solver below counts too)
        assert all(listed[i, j] for i, j in got)
        assert len({i for i, _ in got}) == len({j for _, j in got}) == len(got)
        assert [i for i, _ in got] == sorted(i for i, _ in got)
        want = sum(gain[i, j] for i, j in max_gain_assignment(gain.tolist()))
        assert sum(gain[i, j] for i, j in got) == pytest.approx(want, abs=1e-12)
    assert sparse_searches  # phase 2 ran (rows displaced on ties, or over the budget)


def test_pure_python_sparse_solver_refuses_bad_input() -> None:
    from tracker.association.lsap import sparse_max_gain_matching

    with pytest.raises(ValueError, match="one entry per pair, got 2, 1, 2"):
        sparse_max_gain_matching([0, 1], [0], [0.5, 0.5], 2, 2)
    with pytest.raises(ValueError, match=r"outside the 2 x 2 matrix \(rows 0..2"):
        sparse_max_gain_matching([0, 2], [0, 1], [0.5, 0.5], 2, 2)
    with pytest.raises(ValueError, match="pair 1 has nan"):
        sparse_max_gain_matching([0, 1], [0, 1], [0.5, math.nan], 2, 2)
    with pytest.raises(ValueError, match=r"pair 0 has -0\.1"):
        sparse_max_gain_matching([0], [0], [-0.1], 1, 1)
    assert sparse_max_gain_matching([], [], [], 3, 3) == []
    with pytest.raises(ValueError, match="rows must be integers, got float64"):
        sparse_max_gain_matching([0.5, 1.0], [0, 1], [0.5, 0.5], 2, 2)


def test_giant_components_without_scipy_use_the_pure_python_sparse_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without SciPy a large component goes to the pure-Python sparse solver (the dense one on lists
    took most of a second per update at 2,000 people): with continuous costs (one optimum) it makes
    the same matches as SciPy's solvers."""
    import tracker.association.assign as assign_module
    import tracker.association.lsap as lsap_module

    rng = np.random.default_rng(5)
    r = rng.integers(0, 150, 1200).astype(np.int64)
    c = np.clip(r + rng.integers(-6, 7, 1200), 0, 139).astype(np.int64)  # one big chained component
    cost = rng.uniform(0, 1, 1200)
    want = assign_module.match_pairs(r, c, cost, 0.8)
    monkeypatch.setattr(lsap_module, "_compiled_lsa", None)
    monkeypatch.setattr(lsap_module, "_compiled_sparse_matching", None)
    calls = _count_calls(monkeypatch, assign_module, "sparse_max_gain_matching")
    got = assign_module.match_pairs(r, c, cost, 0.8)
    assert calls  # the pure-Python sparse path ran
    assert len(want[0]) > 80
    assert sorted(zip(*want, strict=True)) == sorted(zip(*got, strict=True))


def test_match_pairs_refuses_lists_of_different_lengths() -> None:
    from tracker.association.assign import match_pairs

    with pytest.raises(ValueError, match="one entry per pair, got 2, 1, 2"):
        match_pairs(np.array([0, 1]), np.array([0]), np.array([0.1, 0.2]), 0.8)


@pytest.mark.parametrize("compiled", [True, False], ids=["scipy", "python"])
@pytest.mark.parametrize("seed", range(4))
def test_dense_match_equals_the_pair_list_path(
    seed: int, compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``match`` on a dense cost (its shortcuts: no pair, one pair, every pair alone in its row and
    column; then the whole matrix in SciPy's compiled solver, or component by component in Python
    without SciPy) gives the same matches as listing every admissible pair, rows ascending."""
    import tracker.association.lsap as lsap_module
    from tracker.association.assign import match, match_pairs

    if compiled:
        pytest.importorskip("scipy")
    else:
        monkeypatch.setattr(lsap_module, "_compiled_lsa", None)
    rng = np.random.default_rng(seed)
    conflicts = 0
    for _ in range(300):
        t, m = int(rng.integers(0, 9)), int(rng.integers(0, 9))
        cost = rng.uniform(0, 1, (t, m))
        cost[rng.uniform(0, 1, (t, m)) < rng.uniform(0.3, 0.95)] = GATED  # from crowded to sparse
        rows, cols = (cost <= 0.8).nonzero()
        conflicts += len(set(rows.tolist())) < len(rows) or len(set(cols.tolist())) < len(cols)
        exp_r, exp_c = match_pairs(rows, cols, cost[rows, cols], 0.8)
        order = np.argsort(exp_r, kind="stable")
        got_r, got_c = match(cost, 0.8)
        assert got_r.dtype == got_c.dtype == np.int64
        np.testing.assert_array_equal(got_r, exp_r[order])
        np.testing.assert_array_equal(got_c, exp_c[order])
    assert conflicts > 100  # (the solver paths ran, not only the shortcuts)


def test_dense_gated_matching_is_refused_without_scipy_or_above_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compiled whole-matrix path answers only small matrices, and only with SciPy."""
    import tracker.association.lsap as lsap_module

    pytest.importorskip("scipy")
    cost = np.array([[0.1, 0.2], [0.15, GATED]])
    adm = cost <= 0.8
    r, c = lsap_module.dense_gated_matching(cost, adm, 0.8)
    assert r.tolist() == [0, 1] and c.tolist() == [1, 0]  # 0.2 + 0.15 beats 0.1 alone
    big = np.full((65, 64), GATED)
    assert lsap_module.dense_gated_matching(big, big <= 0.8, 0.8) is None
    monkeypatch.setattr(lsap_module, "_compiled_lsa", None)
    assert lsap_module.dense_gated_matching(cost, adm, 0.8) is None


def _motion_frame(
    track_boxes: np.ndarray,
    det_boxes: np.ndarray,
    det_scores: np.ndarray,
    velocities: np.ndarray | None = None,
    gaps: np.ndarray | None = None,
) -> AssociationFrame:
    """An ``AssociationFrame`` of ``track_boxes: float64[T,4]`` (predicted and last observed alike)
    and ``det_boxes: float64[N,4]`` xyxy with ``det_scores: float32[N]``, motion only (no features, no
    pools or bands, every gate open); ``velocities: float64[T,2]`` (default 0), ``gaps: int32[T]``
    (default 1)."""
    from tracker.config import AppearanceConfig
    from tracker.geometry import box_areas

    n = len(track_boxes)
    return AssociationFrame(
        track_boxes=track_boxes,
        track_areas=box_areas(track_boxes),
        track_last_boxes=track_boxes,
        track_scores=np.ones(n, np.float32),
        track_velocities=np.zeros((n, 2)) if velocities is None else velocities,
        track_gaps=np.ones(n, np.int32) if gaps is None else gaps,
        track_features=np.zeros((n, 0), np.float32),
        track_has_feature=np.zeros(n, bool),
        pools={},
        det_boxes=det_boxes,
        det_areas=box_areas(det_boxes),
        det_scores=det_scores,
        det_features=None,
        bands={},
        gating=lambda r, c: np.zeros((len(r), len(c))),
        gating_pairs=lambda r, c: np.zeros(len(r)),
        appearance=AppearanceConfig(),
        gating_chi2=9.4877,
    )


@pytest.mark.parametrize("n_tracks", [6, 70])
def test_frame_iou_blocks_equal_the_blocks_own_iou_bit_for_bit(n_tracks: int) -> None:
    """Stages take their IoU from one matrix of every track x detection computed once a frame (small
    frames) or compute their block (frames of SPARSE_IOU_MIN_PAIRS pairs and more): either way each
    block holds exactly ``iou_matrix`` of its rows' and columns' boxes, and callers may write to it."""
    rng = np.random.default_rng(n_tracks)

    def boxes(n: int) -> np.ndarray:
        xy = rng.uniform(0, 300, (n, 2))
        return np.concatenate([xy, xy + rng.uniform(10, 80, (n, 2))], axis=1)

    tb, db = boxes(n_tracks), boxes(64)
    assert (n_tracks * 64 >= costs_module.SPARSE_IOU_MIN_PAIRS) == (n_tracks == 70)
    frame = _motion_frame(tb, db, np.ones(64, np.float32))
    for rows, cols in [(np.array([0, 2, 5]), np.arange(0, 64, 3)), (np.array([1, 4]), np.array([7, 8, 60]))]:
        block = frame.predicted_iou(rows, cols)
        assert np.array_equal(block, iou_matrix(tb[rows], db[cols]))
        block[:] = -1.0  # a copy: the next block is unaffected
    assert np.array_equal(
        frame.predicted_iou(np.array([0, 2]), np.array([0, 3])), iou_matrix(tb[[0, 2]], db[[0, 3]])
    )
    assert frame.predicted_iou(np.zeros(0, np.int64), np.array([1])).shape == (0, 1)


def test_direction_term_costs_detections_behind_a_moving_track() -> None:
    """OC-SORT's direction consistency: a track walking right (5 px/frame) whose last box is centred at
    (100, 100): a detection ahead of it costs nothing, one behind it ``score``, one to the side half
    that, each scaled by how far either direction can be trusted (``param`` = 0.1 box heights = 10 px:
    the detections are 30 px away, the track moved 5 px in one frame, 15 px over three)."""
    from tracker.association.terms import build_cost
    from tracker.config import CostTermConfig

    last = np.array([[80.0, 50.0, 120.0, 150.0]])  # centre (100, 100), height 100
    dets = np.array([[110.0, 50.0, 150.0, 150.0], [50.0, 50.0, 90.0, 150.0], [80.0, 80.0, 120.0, 180.0]])

    def cost(gap: int, param: float, vel: tuple[float, float] = (5.0, 0.0)) -> np.ndarray:
        frame = _motion_frame(
            last, dets, np.full(3, 0.8, np.float32), np.array([vel]), np.array([gap], np.int32)
        )
        terms = (CostTermConfig("direction", 1.0, param),)
        return build_cost(terms, frame, np.array([0]), np.arange(3), 0.8)[0]

    np.testing.assert_allclose(cost(3, 0.1), [0.0, 0.8, 0.4], atol=1e-12)  # ahead, behind, side
    np.testing.assert_allclose(cost(1, 0.1), [0.0, 0.4, 0.2], atol=1e-12)  # 5 of 10 px: half trusted
    np.testing.assert_allclose(cost(1, 0.0), [0.0, 0.8, 0.4], atol=1e-12)  # param 0: fully trusted
    np.testing.assert_allclose(cost(3, 0.1, (0.0, 0.0)), [0.0, 0.0, 0.0])  # standing still: no cue
