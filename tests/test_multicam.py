"""Multi-camera identity linking: manager decisions on hand-built scenarios (synthetic embeddings, no
models), input validation, interleaving invariance, config loading, and the virtual-camera split of
PETS09-S2L1 (data test)."""

from __future__ import annotations

import functools
import importlib.util
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tracker import Detections
from tracker.multicam import (
    GlobalIdentityManager,
    MultiCamConfig,
    MultiCameraTracker,
    Transition,
    load_multicam_config,
    summarize_embeddings,
)

D = 8


@functools.cache
def harness() -> types.ModuleType:
    """``benchmarks/multicam_harness.py`` (a script, not part of the package) loaded as a module."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "multicam_harness.py"
    spec = importlib.util.spec_from_file_location("multicam_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["multicam_harness"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def unit(i: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A unit vector near basis vector ``i`` (``float32[D]``)."""
    v = np.zeros(D, np.float32)
    v[i] = 1.0
    if noise:
        v += np.random.default_rng(seed).normal(0, noise, D).astype(np.float32)
    return v / np.linalg.norm(v)


def feed(
    m: GlobalIdentityManager, cam: str, t: float, tracks: list[tuple[int, int]]
) -> tuple[list[int], list[bool]]:
    """One frame: ``tracks`` = (local id, appearance index)."""
    ids = [lid for lid, _ in tracks]
    boxes = [[10.0 * lid, 10, 10.0 * lid + 40, 110] for lid in ids]
    emb = [unit(k, 0.05, seed=int(t * 100) + lid) for lid, k in tracks] if tracks else None
    g, p = m.observe(cam, t, ids, np.array(boxes, np.float32).reshape(-1, 4), [0.9] * len(ids), emb)
    return g.tolist(), p.tolist()


def run_two_cams(
    m: GlobalIdentityManager,
    a_tracks: dict[int, tuple[int, float, float]],
    b_tracks: dict[int, tuple[int, float, float]],
    t_end: float,
    dt: float = 0.1,
) -> None:
    """Feed cameras a and b frame by frame (a first); tracks = local id -> (appearance, start, end)."""
    for k in range(round(t_end / dt) + 1):
        t = round(k * dt, 6)
        for cam, tracks in (("a", a_tracks), ("b", b_tracks)):
            feed(m, cam, t, [(lid, app) for lid, (app, s, e) in tracks.items() if s <= t <= e])


# -------------------------------------------------------------------------------- manager decisions
def test_clean_handoff_keeps_global_id() -> None:
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(time_window_s=5.0))
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (0, 3.0, 4.0)}, 5.0)
    assert m.global_id("b", 7) == m.global_id("a", 1) == 1
    (link,) = [d for d in m.decisions if d.linked_from is not None]
    assert link.linked_from == ("a", 1) and link.distance < 0.1


def test_provisional_then_final_and_never_reused() -> None:
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(time_window_s=5.0, min_tracklet_frames=3))
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {}, 2.0)
    g, prov = [], []
    for k in range(5):
        t = 2.1 + 0.1 * k
        feed(m, "a", t, [])
        gi, pi = feed(m, "b", t, [(3, 0)])
        g += gi
        prov += pi
    # provisional (new id 2) for the first frames, then the earlier identity 1 for good
    assert g[0] == 2 and prov[0] and g[-1] == 1 and not prov[-1]
    assert sorted(set(g)) == [1, 2]
    feed(m, "a", 3.0, [(4, 3)])
    assert m.global_id("a", 4) == 3  # id 2 is abandoned, never reused


@pytest.mark.parametrize(
    "b_start, window, min_travel",
    [(7.0, 5.0, 0.0), (1.3, 5.0, 0.5)],  # outside the window; before the min travel time
)
def test_no_handoff_outside_time_window(b_start: float, window: float, min_travel: float) -> None:
    cfg = MultiCamConfig(
        transitions=(Transition("a", "b", min_travel, window),), restrict_to_transitions=True
    )
    m = GlobalIdentityManager(["a", "b"], cfg)
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (0, b_start, b_start + 1.0)}, b_start + 1.5)
    assert m.global_id("b", 7) != m.global_id("a", 1)


def test_no_handoff_while_old_tracklet_still_active() -> None:
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig())
    run_two_cams(m, {1: (0, 0.0, 3.0)}, {7: (0, 1.0, 3.0)}, 3.5)
    assert m.global_id("b", 7) != m.global_id("a", 1)
    # ... unless the cameras overlap
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(overlapping_cameras=(("a", "b"),)))
    run_two_cams(m, {1: (0, 0.0, 3.0)}, {7: (0, 1.0, 3.0)}, 3.5)
    assert m.global_id("b", 7) == m.global_id("a", 1)


def test_transition_graph_restricts_pairs_and_zones() -> None:
    cfg = MultiCamConfig(transitions=(Transition("b", "a", 0.0, 10.0),), restrict_to_transitions=True)
    m = GlobalIdentityManager(["a", "b"], cfg)
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (0, 2.0, 3.0)}, 3.5)
    assert m.global_id("b", 7) != m.global_id("a", 1)  # a -> b not in the graph
    # exit zone that the old tracklet's last box (x centre 30) is not in
    zone = Transition("a", "b", 0.0, 10.0, from_zone=(100, 0, 200, 1000))
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(transitions=(zone,), restrict_to_transitions=True))
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (0, 2.0, 3.0)}, 3.5)
    assert m.global_id("b", 7) != m.global_id("a", 1)


def test_appearance_gate() -> None:
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(max_appearance_distance=0.3))
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (5, 2.0, 3.0)}, 3.5)
    assert m.global_id("b", 7) != m.global_id("a", 1)


def test_two_people_crossing_hungarian_not_greedy() -> None:
    """New x's best match is old q, but giving q to x leaves y without any; the joint optimum
    (x<-p, y<-q) is what Hungarian assignment finds."""
    p = unit(0)
    q = (unit(0) * 0.9 + unit(1) * 0.45).astype(np.float32)
    q /= np.linalg.norm(q)
    x = (unit(0) * 0.95 + unit(1) * 0.3).astype(np.float32)
    x /= np.linalg.norm(x)
    y = (unit(1) * 0.8 + unit(0) * 0.6).astype(np.float32)
    y /= np.linalg.norm(y)
    d = lambda u, v: 1 - float(u @ v)  # noqa: E731
    thr = 0.25
    assert d(x, q) < d(x, p) <= thr and d(y, q) <= thr and d(y, p) > thr  # greedy would fail
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(max_appearance_distance=thr))
    for k in range(40):
        t = round(0.1 * k, 6)
        a_ids = [1, 2] if t <= 1.0 else []
        b_ids = [5, 6] if t >= 2.0 else []
        m.observe(
            "a",
            t,
            a_ids,
            [[0, 0, 10, 20], [20, 0, 30, 20]][: len(a_ids)],
            [0.9] * len(a_ids),
            [p, q][: len(a_ids)],
        )
        m.observe(
            "b",
            t,
            b_ids,
            [[0, 0, 10, 20], [20, 0, 30, 20]][: len(b_ids)],
            [0.9] * len(b_ids),
            [x, y][: len(b_ids)],
        )
    assert m.global_id("b", 5) == m.global_id("a", 1)
    assert m.global_id("b", 6) == m.global_id("a", 2)


def test_stable_ids_over_many_frames() -> None:
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(time_window_s=5.0))
    seen: dict[tuple[str, int], list[int]] = {}
    for k in range(300):
        t = round(0.1 * k, 6)
        for cam, lids in (("a", [1, 2] if t < 10 else [3]), ("b", [8] if t > 11 else [])):
            tracks = [(lid, {1: 0, 2: 1, 3: 2, 8: 0}[lid]) for lid in lids]
            g, prov = feed(m, cam, t, tracks)
            for lid, gid, pv in zip(lids, g, prov, strict=True):
                if not pv:
                    seen.setdefault((cam, lid), []).append(gid)
    assert all(len(set(v)) == 1 for v in seen.values())  # final ids never change
    assert seen[("b", 8)][0] == seen[("a", 1)][0]


def test_split_gap_relinks_own_segment_or_other_camera() -> None:
    """A local id re-acquired after a gap is a new tracklet: the same person keeps the id, a person
    from the other camera who took over the lost id gets that person's identity."""
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(split_gap_s=1.0))
    run_two_cams(m, {1: (0, 0.0, 1.0)}, {7: (1, 0.0, 1.0)}, 1.0)
    for k in range(1, 15):  # a's id 1 comes back after 2 s with b's person (appearance 1)
        t = round(1.0 + 0.1 * k, 6)
        feed(m, "b", t, [])
        feed(m, "a", t, [(1, 1)] if t >= 3.0 - 1e-9 else [])
    for k in range(15, 30):
        t = round(1.0 + 0.1 * k, 6)
        feed(m, "b", t, [])
        feed(m, "a", t, [(1, 1)])
    assert m.global_id("a", 1) == m.global_id_at("b", 7, 0.5)
    assert m.global_id_at("a", 1, 0.5) != m.global_id("a", 1)


def test_appearance_split_hands_the_swapped_part_to_the_right_identity() -> None:
    """Camera b's tracker passes local id 7 from person 0 (leaving b at 2.0 s) to person 1 (entering b
    from camera a), without a gap. The manager cuts tracklet 7 where its appearance changes: person 1's
    part takes person 1's identity from camera a, person 0's part keeps person 0's."""
    cfg = MultiCamConfig(split_appearance_distance=0.35, split_confirm_frames=3)
    m = GlobalIdentityManager(["a", "b"], cfg)
    emitted: list[tuple[float, int, bool]] = []
    for k in range(60):
        t = round(0.1 * k, 6)
        feed(m, "a", t, [(1, 1)] if t <= 1.0 else [])
        g, p = feed(m, "b", t, [(7, 0 if t < 2.0 else 1)])
        emitted.append((t, g[0], p[0]))
    person0 = m.global_id_at("b", 7, 1.0)
    person1 = m.global_id_at("a", 1, 0.5)
    assert person0 != person1
    assert m.global_id_at("b", 7, 1.9) == person0
    assert m.global_id_at("b", 7, 2.0) == person1  # the cut is at the first deviating frame
    assert m.global_id("b", 7) == person1
    # once final (not provisional), the emitted id of each part never changes
    final_after = [(t, g) for t, g, p in emitted if not p and t >= 2.0]
    assert final_after and {g for _, g in final_after} == {person1}
    # one odd frame (occlusion) does not cut: 3 deviating frames in a row are needed
    m = GlobalIdentityManager(["a", "b"], cfg)
    for k in range(40):
        t = round(0.1 * k, 6)
        feed(m, "a", t, [])
        feed(m, "b", t, [(7, 2 if k in (10, 11, 20) else 0)])
    assert len({m.global_id_at("b", 7, 0.1 * k) for k in range(40)}) == 1
    # switched off
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(split_appearance_distance=None))
    for k in range(40):
        t = round(0.1 * k, 6)
        feed(m, "a", t, [])
        feed(m, "b", t, [(7, 0 if k < 20 else 1)])
    assert m.global_id_at("b", 7, 0.5) == m.global_id_at("b", 7, 3.5)


# -------------------------------------------------------------------------------- validation
def test_unknown_camera_and_backwards_time_leave_state_unchanged() -> None:
    mct = MultiCameraTracker(["left", "right"], frame_rate=10)
    det = Detections([[10, 10, 50, 120]], [0.9], embeddings=[[1.0, 0.0]])
    mct.update("left", 1.0, det)
    before = (mct.mapping(), mct.trackers["left"].frame_count, mct.manager.num_global_ids)
    with pytest.raises(ValueError, match=r"unknown camera id 'middle'.*\['left', 'right'\]"):
        mct.update("middle", 2.0, det)
    with pytest.raises(ValueError, match=r"camera 'left': timestamp 0.5 .*previous frame was at 1.0"):
        mct.update("left", 0.5, det)
    with pytest.raises(ValueError, match="camera 'left'"):
        mct.update("left", 1.0, det)
    with pytest.raises(ValueError, match="finite"):
        mct.update("left", float("nan"), det)
    assert before == (mct.mapping(), mct.trackers["left"].frame_count, mct.manager.num_global_ids)
    mct.update("right", 0.5, det)  # cameras have their own clocks
    mct.update("left", 1.1, det)


def test_manager_rejects_bad_shapes() -> None:
    m = GlobalIdentityManager(["a"])
    with pytest.raises(ValueError, match="differ in length"):
        m.observe("a", 0.0, [1, 2], [[0, 0, 1, 1]], [0.9, 0.9])
    with pytest.raises(ValueError, match="repeated local id"):
        m.observe("a", 0.0, [1, 1], [[0, 0, 1, 1]] * 2, [0.9, 0.9])
    assert m.num_global_ids == 0
    with pytest.raises(ValueError, match="repeated camera"):
        GlobalIdentityManager(["a", "a"])


# -------------------------------------------------------------------------------- interleaving
def _scenario_frames() -> list[tuple[str, float, list[tuple[int, int]]]]:
    """Three people moving a -> b -> a with overlapping schedules, 10 fps per camera."""
    frames = []
    sched = {"a": {1: (0, 0.0, 2.0), 2: (1, 0.5, 2.5), 3: (0, 6.0, 7.0), 4: (2, 0.0, 7.5)},
             "b": {5: (0, 3.5, 4.5), 6: (1, 3.7, 5.0), 9: (3, 1.0, 2.0)}}  # fmt: skip
    for k in range(80):
        t = round(0.1 * k, 6)
        for cam in ("a", "b"):
            frames.append((cam, t, [(lid, app) for lid, (app, s, e) in sched[cam].items() if s <= t <= e]))
    return frames


def _partition(m: GlobalIdentityManager) -> set[frozenset[tuple[str, int]]]:
    groups: dict[int, set[tuple[str, int]]] = {}
    for key, gid in m.mapping().items():
        groups.setdefault(gid, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def test_interleaving_does_not_change_identities() -> None:
    cfg = MultiCamConfig(time_window_s=5.0, max_decision_wait_s=100.0)
    ref = GlobalIdentityManager(["a", "b"], cfg)
    frames = _scenario_frames()
    for cam, t, tracks in frames:
        feed(ref, cam, t, tracks)
    ref.flush()
    expected = _partition(ref)
    assert frozenset({("a", 1), ("b", 5), ("a", 3)}) in expected
    assert frozenset({("a", 2), ("b", 6)}) in expected
    rng = random.Random(0)
    for trial in range(5):
        # a random merge of the two cameras' streams (each stays in time order)
        queues = {c: [f for f in frames if f[0] == c] for c in ("a", "b")}
        order: list[tuple[str, float, list[tuple[int, int]]]] = []
        lag_first = trial == 0  # one extreme: all of a, then all of b
        while queues["a"] or queues["b"]:
            c = ("a" if queues["a"] else "b") if lag_first else rng.choice([c for c in queues if queues[c]])
            order.append(queues[c].pop(0))
        m = GlobalIdentityManager(["a", "b"], cfg)
        for cam, t, tracks in order:
            feed(m, cam, t, tracks)
        m.flush()
        assert _partition(m) == expected, trial


# -------------------------------------------------------------------------------- config, summaries
def test_config_yaml(tmp_path: Path) -> None:
    p = tmp_path / "mc.yaml"
    p.write_text(
        "time_window_s: 8\nmax_appearance_distance: 0.25\ntransitions:\n"
        "  - {from_camera: a, to_camera: b, min_travel_s: 1, max_travel_s: 4, from_zone: [0, 0, 10, 10]}\n"
        "overlapping_cameras: [[a, c]]\n"
    )
    cfg = load_multicam_config(p)
    assert cfg.time_window_s == 8.0 and cfg.transitions[0].max_travel_s == 4.0
    assert cfg.transitions[0].from_zone == (0.0, 0.0, 10.0, 10.0) and cfg.overlaps("c", "a")
    p.write_text("time_windw_s: 8\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_multicam_config(p)
    p.write_text("transitions:\n  - {from_camera: a, to_camera: b, speed: 3}\n")
    with pytest.raises(ValueError, match=r"transitions\[0\].*unknown key"):
        load_multicam_config(p)
    with pytest.raises(ValueError, match="min_tracklet_frames"):
        load_multicam_config({"min_tracklet_frames": 0})


def test_summary_weights_by_score_and_size() -> None:
    e = np.stack([unit(0), unit(1)])
    s = summarize_embeddings(e, np.array([3.0, 1.0]))
    assert s @ unit(0) > s @ unit(1) and abs(np.linalg.norm(s) - 1) < 1e-5


def test_multi_camera_tracker_end_to_end_handoff() -> None:
    mct = MultiCameraTracker(["a", "b"], MultiCamConfig(time_window_s=5.0), frame_rate=10)
    e = [[1.0, 0.0, 0.0]]
    for k in range(40):
        t = 0.1 * k
        box = [[100 + 3 * k, 50, 140 + 3 * k, 150]]
        da = Detections(box, [0.9], embeddings=e) if t < 1.0 else Detections.empty(3)
        db = Detections(box, [0.9], embeddings=e) if t > 2.0 else Detections.empty(3)
        out_a = mct.update("a", t, da)
        out_b = mct.update("b", t, db)
        if len(out_b) and not out_b.provisional[0]:
            assert out_b.ids[0] == mct.global_id("a", 1)
    assert mct.global_id("b", 1) == mct.global_id("a", 1)
    assert out_a.camera_id == "a"


# -------------------------------------------------------------------------------- data
@pytest.mark.data
def test_virtual_split_of_pets(data_root: Path) -> None:
    h = harness()
    build_virtual_sequence, true_transitions = h.build_virtual_sequence, h.true_transitions

    seq = data_root / "MOT15" / "train" / "PETS09-S2L1"
    vs = build_virtual_sequence(seq)
    left, right = vs.gt["left"], vs.gt["right"]
    ids_l = {int(i) for f in left.frames.values() for i in f.ids}
    ids_r = {int(i) for f in right.frames.values() for i in f.ids}
    assert len(ids_l & ids_r) >= 10  # the same people (same ids) appear in both views
    for t in set(left.frames) & set(right.frames):  # nobody is in both views in the same frame
        assert not set(left[t].ids.tolist()) & set(right[t].ids.tolist())
    for name, v in (("left", vs.views[0]), ("right", vs.views[1])):
        for boxes, scores in list(vs.dets[name].values())[:200]:
            assert ((boxes[:, 0] >= v.x0) & (boxes[:, 2] <= v.x1)).all() and (
                (scores >= 0) & (scores <= 1)
            ).all()
    trs = true_transitions(vs)
    assert len(trs) > 10
    assert all(t.to_start > t.from_end and t.from_view != t.to_view for t in trs)
