"""TrackTrack's track-perspective association as stage options: the ``iterative`` solver (mutual-best
rounds, dense and on pairs) and the ``low_penalty`` cost term."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tracker.association import stages as stages_module
from tracker.association.assign import match, match_iterative, match_iterative_pairs
from tracker.association.costs import GATED
from tracker.association.stages import run_stages
from tracker.association.terms import (
    PAIR_REGISTRY,
    REGISTRY,
    AssociationFrame,
    build_cost,
    build_pair_cost,
)
from tracker.config import (
    COST_TERMS,
    AppearanceConfig,
    CostTermConfig,
    StageConfig,
    config_from_dict,
    load_config,
)
from tracker.geometry import box_areas


def _pairs(r: np.ndarray, c: np.ndarray) -> list[tuple[int, int]]:
    return list(zip(r.tolist(), c.tolist(), strict=True))


# -- the solver --------------------------------------------------------------------------------------
# Rounds on this matrix (max_cost 0.8):
#   1. row picks r0->c0 (0.1), r1->c0 (0.15), r2->c1 (0.25); column picks c0->r0, c1->r0 (0.2),
#      c2->r2 (0.4): only (0, 0) is mutual.
#   2. rows 1, 2 x columns 1, 2: r1->c1 (0.3), r2->c1 (0.25); c1->r2, c2->r2 (0.4): (2, 1).
#   3. row 1 x column 2: 0.5 <= 0.8: (1, 2).
# Total 0.85, where the optimum (0, 1) + (1, 0) + (2, 2) costs 0.75.
HAND = np.array([[0.1, 0.2, 0.9], [0.15, 0.3, 0.5], [0.9, 0.25, 0.4]])


def test_iterative_takes_mutual_best_pairs_round_by_round_where_optimal_takes_the_lowest_total() -> None:
    r, c = match_iterative(HAND, 0.8)
    assert _pairs(r, c) == [(0, 0), (2, 1), (1, 2)]
    assert r.dtype == c.dtype == np.int64
    ro, co = match(HAND, 0.8)
    assert sorted(_pairs(ro, co)) == [(0, 1), (1, 0), (2, 2)]
    assert HAND[r, c].sum() == pytest.approx(0.85)
    assert HAND[ro, co].sum() == pytest.approx(0.75)


def test_iterative_leaves_a_pair_unmatched_that_optimal_would_trade_for() -> None:
    """Row 1's only admissible column is taken by row 0's mutual pick: optimal gives row 0 its second
    choice to match both, iterative matches one pair and stops."""
    cost = np.array([[0.1, 0.2], [0.3, 0.9]])
    assert _pairs(*match_iterative(cost, 0.8)) == [(0, 0)]
    assert sorted(_pairs(*match(cost, 0.8))) == [(0, 1), (1, 0)]


def test_iterative_never_matches_above_max_cost_and_breaks_ties_by_lowest_index() -> None:
    assert _pairs(*match_iterative(np.full((2, 2), 0.5), 0.8)) == [(0, 0), (1, 1)]
    assert _pairs(*match_iterative(np.full((2, 3), 0.5), 0.4)) == []
    # (0, 0) is the only mutual pick of the first round; then (1, 1) at exactly max_cost is admissible
    assert _pairs(*match_iterative(np.array([[0.2, 0.2], [0.2, 0.6]]), 0.6)) == [(0, 0), (1, 1)]
    for shape in [(0, 3), (3, 0), (0, 0)]:
        r, c = match_iterative(np.zeros(shape), 0.8)
        assert len(r) == len(c) == 0 and r.dtype == np.int64
    with pytest.raises(ValueError, match="2-D"):
        match_iterative(np.zeros(3), 0.8)


def test_iterative_does_not_modify_its_input_and_one_round_matches_every_mutual_pair() -> None:
    cost = np.array([[0.1, 0.7, 0.7], [0.7, 0.2, 0.7], [0.7, 0.7, 0.3]])
    before = cost.copy()
    assert _pairs(*match_iterative(cost, 0.8)) == [(0, 0), (1, 1), (2, 2)]
    np.testing.assert_array_equal(cost, before)


def test_iterative_pairs_equal_the_dense_rounds_ties_and_order_included() -> None:
    """On random sparse costs with many ties (a 0.1 grid) the pair form gives the dense form's
    matches in the same order, whatever the order the pairs are listed in."""
    rng = np.random.default_rng(21)
    for _ in range(300):
        t, m = rng.integers(1, 12, 2)
        listed = rng.random((t, m)) < 0.4
        values = np.round(rng.integers(0, 10, (t, m)) * 0.1, 1)
        dense = np.where(listed, values, GATED)
        rows, cols = listed.nonzero()
        perm = rng.permutation(len(rows))
        rows, cols = rows[perm].astype(np.int64), cols[perm].astype(np.int64)
        r1, c1 = match_iterative(dense, 0.6)
        r2, c2 = match_iterative_pairs(rows, cols, dense[rows, cols], 0.6)
        assert _pairs(r1, c1) == _pairs(r2, c2)
    with pytest.raises(ValueError, match="one entry per pair"):
        match_iterative_pairs(np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(2), 0.8)


# -- the low_penalty term ----------------------------------------------------------------------------
def _frame(
    track_boxes: np.ndarray, det_boxes: np.ndarray, scores: np.ndarray, high: np.ndarray
) -> AssociationFrame:
    """Motion-only frame: ``track_boxes: float64[T,4]``, ``det_boxes: float64[N,4]`` xyxy,
    ``scores: float32[N]``, ``high: bool[N]`` (the ``high`` band; ``all`` holds every detection);
    every track tracked, every gate open."""
    n = len(track_boxes)
    return AssociationFrame(
        track_boxes=track_boxes,
        track_areas=box_areas(track_boxes),
        track_last_boxes=track_boxes,
        track_scores=np.ones(n, np.float32),
        track_velocities=np.zeros((n, 2)),
        track_gaps=np.ones(n, np.int32),
        track_features=np.zeros((n, 0), np.float32),
        track_has_feature=np.zeros(n, bool),
        pools={"tracked": np.ones(n, bool), "lost": np.zeros(n, bool), "tentative": np.zeros(n, bool)},
        det_boxes=det_boxes,
        det_areas=box_areas(det_boxes),
        det_scores=scores,
        det_features=None,
        bands={"high": high, "low": ~high, "all": np.ones(len(det_boxes), bool)},
        gating=lambda r, c: np.zeros((len(r), len(c))),
        gating_pairs=lambda r, c: np.zeros(len(r)),
        appearance=AppearanceConfig(),
        gating_chi2=9.4877,
    )


# Track 0 at [0, 0, 10, 10], track 1 at [100, 0, 110, 10]. Detection 0 is track 0's box (IoU 1),
# detection 1 the same box shifted right by 5 (IoU 50 / 150 = 1/3), detection 2 track 1's box.
TRACKS = np.array([[0, 0, 10, 10], [100, 0, 110, 10]], np.float64)
DETS = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 0, 110, 10]], np.float64)
HIGH = np.array([True, False, True])
SCORES = np.array([0.9, 0.4, 0.8], np.float32)


def test_low_penalty_adds_its_weight_to_detections_below_the_high_band() -> None:
    f = _frame(TRACKS, DETS, SCORES, HIGH)
    rows, cols = np.arange(2), np.arange(3)
    iou = np.array([[1.0, 1 / 3, 0.0], [0.0, 0.0, 1.0]])
    cost = build_cost((CostTermConfig("iou"), CostTermConfig("low_penalty", 0.3)), f, rows, cols, 0.8)
    np.testing.assert_allclose(cost, 1 - iou + np.array([0.0, 0.3, 0.0]))
    # by hand: (0, 1) costs 1 - 1/3 + 0.3 = 0.9667, above max_cost 0.8: only the high boxes match
    assert cost[0, 1] == pytest.approx(2 / 3 + 0.3)
    # alone (a first term) it has the cost's full shape: weight on low columns, 0 elsewhere
    alone = build_cost((CostTermConfig("low_penalty", 0.2),), f, rows, cols, 0.8)
    np.testing.assert_array_equal(alone, [[0.0, 0.2, 0.0], [0.0, 0.2, 0.0]])
    # a column subset reads the bands at its own columns
    sub = build_cost((CostTermConfig("low_penalty", 0.5),), f, rows[1:], np.array([1, 2]), 0.8)
    np.testing.assert_array_equal(sub, [[0.5, 0.0]])


def test_low_penalty_on_pairs_equals_the_dense_entries_and_keeps_gated_pairs_finite() -> None:
    f = _frame(TRACKS, DETS, SCORES, HIGH)
    rows, cols = np.arange(2), np.arange(3)
    terms = (CostTermConfig("iou_score"), CostTermConfig("low_penalty", 0.2), CostTermConfig("mahalanobis"))
    dense = build_cost(terms, f, rows, cols, 0.8)
    pr, pc = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2])
    np.testing.assert_array_equal(build_pair_cost(terms, f, pr, pc, 0.8), dense[pr, pc])
    np.testing.assert_allclose(dense[0, :2], [1 - 0.9, 1 - 0.4 / 3 + 0.2], rtol=1e-6)
    # every pair gated (Mahalanobis), then penalised: finite, above every threshold
    closed = dataclasses.replace(
        f, gating=lambda r, c: np.full((len(r), len(c)), 1e9), gating_pairs=lambda r, c: np.full(len(r), 1e9)
    )
    gated = build_cost((*terms[:1], terms[2], terms[1]), closed, rows, cols, 0.8)
    assert np.isfinite(gated).all() and (gated >= GATED).all()
    np.testing.assert_array_equal(gated, GATED + np.array([[0.0, 0.2, 0.0]] * 2))
    assert "low_penalty" in COST_TERMS and "low_penalty" in REGISTRY and "low_penalty" in PAIR_REGISTRY


def test_a_merged_stage_solves_high_and_low_detections_in_one_go() -> None:
    """TrackTrack's one stage over ``all``: the penalised low detection loses to the high one."""
    f = _frame(TRACKS, DETS, SCORES, HIGH)
    for solver in ("optimal", "iterative"):
        st = StageConfig(
            "first",
            ("tracked",),
            "all",
            (CostTermConfig("iou"), CostTermConfig("low_penalty", 0.3)),
            1.5,
            solver=solver,
        )
        res = run_stages([st], f)
        assert _pairs(res.tracks, res.detections) == [(0, 0), (1, 2)]
        assert res.det_unmatched.tolist() == [False, True, False]


def test_run_stages_with_the_iterative_solver_gives_the_iterative_matches() -> None:
    """Six tracks and six jittered detections, every box overlapping several: the iterative stage of
    run_stages gives what match_iterative gives on the stage's own cost."""
    rng = np.random.default_rng(4)  # (a layout where the two solvers differ)
    tracks = rng.uniform(0, 40, (6, 2))
    dets = tracks[rng.permutation(6)] + rng.normal(0, 4, (6, 2))
    tb = np.concatenate([tracks, tracks + 20], axis=1)
    db = np.concatenate([dets, dets + 20], axis=1)
    f = _frame(tb, db, np.full(6, 0.9, np.float32), np.ones(6, bool))
    terms = (CostTermConfig("iou"),)
    cost = build_cost(terms, f, np.arange(6), np.arange(6), 0.9)
    res = run_stages([StageConfig("s", ("tracked",), "all", terms, 0.9, solver="iterative")], f)
    assert _pairs(res.tracks, res.detections) == _pairs(*match_iterative(cost, 0.9))
    assert sorted(_pairs(res.tracks, res.detections)) == [(0, 3), (1, 5), (2, 0), (3, 1), (4, 4), (5, 2)]
    optimal = run_stages([StageConfig("s", ("tracked",), "all", terms, 0.9)], f)
    assert sorted(_pairs(optimal.tracks, optimal.detections)) == [
        (0, 3),
        (1, 5),
        (2, 0),
        (3, 1),
        (4, 2),
        (5, 4),
    ]


# -- configuration -----------------------------------------------------------------------------------
def test_solver_defaults_to_optimal_and_a_bad_name_is_an_error() -> None:
    assert StageConfig().solver == "optimal"
    assert all(s.solver == "optimal" for s in load_config("default").association.stages)
    assert StageConfig(solver="iterative").solver == "iterative"
    with pytest.raises(ValueError, match=r"StageConfig\.solver: 'greedy' is not one of"):
        StageConfig(solver="greedy")
    with pytest.raises(ValueError, match=r"solver: 'hungarian' is not one of \['optimal', 'iterative'\]"):
        config_from_dict({"association": {"stages": [{"cost": ["iou"], "solver": "hungarian"}]}})
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict({"association": {"stages": [{"cost": ["iou"], "solvers": "iterative"}]}})
    with pytest.raises(ValueError, match="outside the allowed range"):
        config_from_dict(
            {"association": {"stages": [{"cost": ["iou", {"name": "low_penalty", "weight": -1}]}]}}
        )
    cfg = config_from_dict(
        {
            "association": {
                "stages": [
                    {
                        "detections": "all",
                        "cost": ["iou_score", {"name": "low_penalty", "weight": 0.2}],
                        "solver": "iterative",
                    }
                ]
            }
        }
    )
    (st,) = cfg.association.stages
    assert st.solver == "iterative" and st.cost[1] == CostTermConfig("low_penalty", 0.2)


# -- sparse and dense stages agree -------------------------------------------------------------------
def test_sparse_iterative_stages_give_the_same_tracks_as_dense_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crowded scene (300 walkers) through TrackTrack-like stages (one iterative stage over every
    detection with a low-score penalty, an iterative tentative stage): the sparse stage path (pairs)
    and the dense one agree frame by frame, and the sparse one did run on pairs."""
    from tracker import Detections, Tracker

    rng = np.random.default_rng(5)
    n = 300
    pos = rng.uniform([0, 0], [1900, 1000], (n, 2))
    vel = rng.normal(0, 2, (n, 2))
    size = rng.uniform(20, 60, n)
    frames = []
    for _ in range(25):
        pos += vel
        seen = rng.random(n) > 0.1
        c = pos[seen] + rng.normal(0, 1.0, (int(seen.sum()), 2))
        w = size[seen]
        boxes = np.stack([c[:, 0] - w / 2, c[:, 1] - w, c[:, 0] + w / 2, c[:, 1] + w], axis=1)
        frames.append(Detections(boxes.astype(np.float32), rng.uniform(0.05, 1.0, len(boxes))))
    cfg = load_config("bytetrack")
    merged = StageConfig(
        "first",
        ("tracked", "lost"),
        "all",
        (CostTermConfig("iou_score"), CostTermConfig("low_penalty", 0.2), CostTermConfig("mahalanobis_lost")),
        0.8,
        solver="iterative",
    )
    tent = dataclasses.replace(cfg.association.stages[-1], solver="iterative")
    cfg = cfg.replace(association=dataclasses.replace(cfg.association, stages=(merged, tent)))

    calls = []
    real = stages_module.match_iterative_pairs

    def spy(*args: object, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stages_module, "match_iterative_pairs", spy)

    def run() -> list[tuple[list[int], list[int]]]:
        t = Tracker(cfg)
        return [(o.ids.tolist(), o.det_index.tolist()) for o in (t.update(d) for d in frames)]

    sparse = run()
    assert len(calls) >= 20
    monkeypatch.setattr(stages_module, "SPARSE_STAGE_MIN_PAIRS", 10**12)
    n_calls = len(calls)
    dense = run()
    assert len(calls) == n_calls
    assert sparse == dense
    assert sum(len(ids) for ids, _ in sparse) > 1000
