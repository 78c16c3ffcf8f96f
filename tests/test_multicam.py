"""Multi-camera identity linking: manager decisions on hand-built scenarios (synthetic embeddings, no
models), input validation, interleaving invariance, config loading, and the virtual-camera split of
PETS09-S2L1 (data test)."""

from __future__ import annotations

import json
import math
import random
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scripts import harness

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


@pytest.mark.parametrize("allow", [False, True])
def test_same_camera_relink_also_with_a_restricted_graph(allow: bool) -> None:
    """``allow_same_camera`` re-links a track that camera a lost and restarted under a new local id,
    also when ``restrict_to_transitions`` limits the camera graph to its listed pairs (the graph names
    camera pairs; a camera's own re-identification used to be refused there, silently)."""
    cfg = MultiCamConfig(
        transitions=(Transition("a", "b", 0.0, 10.0),),
        restrict_to_transitions=True,
        allow_same_camera=allow,
    )
    assert (cfg.edge("a", "a") is not None) == allow and cfg.edge("b", "a") is None
    m = GlobalIdentityManager(["a", "b"], cfg)
    run_two_cams(m, {1: (0, 0.0, 1.0), 2: (0, 2.0, 3.0)}, {}, 3.5)
    assert (m.global_id("a", 2) == m.global_id("a", 1)) == allow


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


# -------------------------------------------------------------------------------- safety
def _walk(
    m: GlobalIdentityManager,
    appearances: np.ndarray,
    *,
    cams: tuple[str, ...] = ("a", "b"),
    visible: float = 3.0,
    travel: float = 1.0,
    arrival: float = 1.0,
    noise: float = 0.02,
    view_change: float = 0.0,
    fps: float = 10.0,
    seed: int = 0,
) -> dict[tuple[str, int], int]:
    """People walk through ``cams`` in order (``visible`` s in each, ``travel`` s between), one new
    person every ``arrival`` s with appearance ``appearances[i]`` (``float[P,D]``) plus, per camera, a fixed random change of
    norm ~``view_change`` (another viewpoint), plus per-frame noise. Returns
    ``(camera, local id) -> person``."""
    rng = np.random.default_rng(seed)
    n, d = appearances.shape
    span = visible + travel
    views = view_change * rng.normal(size=(len(cams), n, d)) / np.sqrt(d)
    person_of: dict[tuple[str, int], int] = {}
    local = {(c, i): 100 * ci + i + 1 for ci, c in enumerate(cams) for i in range(n)}
    end = (n - 1) * arrival + len(cams) * span
    for k in range(round(end * fps) + 1):
        t = k / fps
        for ci, cam in enumerate(cams):
            ids, boxes, embs = [], [], []
            for i in range(n):
                dt = t - i * arrival - ci * span
                if 0 <= dt < visible:
                    x = 10 + 300 * dt / visible
                    ids.append(local[(cam, i)])
                    boxes.append([x, 20.0 * i, x + 40, 20.0 * i + 100])
                    e = appearances[i] + views[ci, i] + rng.normal(0, noise, d)
                    embs.append(e / np.linalg.norm(e))
                    person_of[(cam, local[(cam, i)])] = i
            m.observe(
                cam,
                t,
                ids,
                np.array(boxes, np.float32).reshape(-1, 4),
                [0.9] * len(ids),
                np.array(embs, np.float32).reshape(len(ids), d) if ids else None,
            )
    m.flush()
    return person_of


def _concurrent_conflicts(m: GlobalIdentityManager, log: list[tuple[str, float, list[int]]]) -> int:
    """(time, global id) pairs reported by two different cameras at the same time (final ids)."""
    seen: dict[tuple[float, int], set[str]] = {}
    for cam, t, ids in log:
        for lid in ids:
            gid = m.global_id_at(cam, lid, t)
            seen.setdefault((t, int(gid)), set()).add(cam)  # type: ignore[arg-type]
    return sum(len(c) > 1 for c in seen.values())


@pytest.mark.parametrize("time_gating", [True, False])
def test_concurrent_lookalikes_never_share_a_global_id(time_gating: bool) -> None:
    """Two people who look the same are in view in a and b at the same time: never one global id,
    even with appearance-only linking, and even when a's track is reported again after its identity
    was handed to b (a per-camera tracker that kept the id over a short gap)."""
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(time_gating=time_gating, calibrate=False))
    log: list[tuple[str, float, list[int]]] = []

    def frame(cam: str, t: float, ids: list[int]) -> None:
        emb = [unit(0, 0.01, seed=int(t * 100) + lid) for lid in ids] if ids else None
        boxes = np.array([[10.0 * lid, 10, 10.0 * lid + 40, 110] for lid in ids], np.float32).reshape(-1, 4)
        m.observe(cam, t, ids, boxes, [0.9] * len(ids), emb)
        log.append((cam, t, ids))

    for k in range(60):
        t = round(0.1 * k, 3)
        # a: track 1 during [0, 1.0], unseen (0.1, 1.6), again [1.6, 3.0] (gap < split_gap_s)
        frame("a", t, [1] if t <= 1.0 or t >= 1.6 else [])
        # b: a look-alike, track 7 during [1.2, 5.9]; the identical twin track 8 during [0, 5.9]
        frame("b", t, ([7] if t >= 1.2 else []) + [8])
    m.flush()
    assert _concurrent_conflicts(m, log) == 0
    # b's twin (in view with a's track 1 from the start) never took a's identity
    assert m.global_id_at("b", 8, 1.0) != m.global_id_at("a", 1, 0.5)


def test_appearance_only_walkers_have_no_concurrent_conflicts() -> None:
    """Many similar people walking a -> b with time gating off: ids never in two places at once."""
    base = np.zeros((1, 16))
    base[0, 0] = 1.0
    apps = base + 0.15 * np.random.default_rng(3).normal(size=(12, 16))
    apps /= np.linalg.norm(apps, axis=1, keepdims=True)
    m = GlobalIdentityManager(["a", "b"], MultiCamConfig(time_gating=False))
    log: list[tuple[str, float, list[int]]] = []
    orig = m.observe

    def observe(cam, t, ids, *rest):  # type: ignore[no-untyped-def]
        log.append((cam, t, list(ids)))
        return orig(cam, t, ids, *rest)

    m.observe = observe  # type: ignore[method-assign]
    _walk(m, apps, visible=3.0, travel=-1.0, arrival=0.7)  # travel < 0: each person is in a and b at once
    assert _concurrent_conflicts(m, log) == 0


def _snapshot(obj: object, depth: int = 0) -> object:
    """A comparable picture of an object's whole state (arrays by value, objects by their fields)."""
    if depth > 12:
        return "..."
    if isinstance(obj, np.ndarray):
        return ("nd", obj.dtype.str, obj.shape, obj.tobytes())
    if isinstance(obj, float) and math.isnan(obj):
        return "nan"
    if isinstance(obj, (str, int, float, bool, type(None), bytes, np.generic)):
        return obj
    if isinstance(obj, dict):
        return ("dict", [(_snapshot(k, depth + 1), _snapshot(v, depth + 1)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple, deque, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else list(obj)
        return (type(obj).__name__, [_snapshot(v, depth + 1) for v in items])
    fields = getattr(obj, "__dict__", None)
    if fields is None:
        return repr(obj)
    skip = {"embedder", "_embedder", "_manager", "_session"}
    return (type(obj).__name__, {k: _snapshot(v, depth + 1) for k, v in fields.items() if k not in skip})


def _mct_state(mct: MultiCameraTracker) -> object:
    return (_snapshot(mct.trackers), _snapshot(mct.manager))


def test_embedding_dimension_mismatch_is_a_clear_error_before_any_change() -> None:
    mct = MultiCameraTracker(["a", "b"], frame_rate=10)
    box = [[10, 10, 50, 120]]
    mct.update("a", 0.0, Detections(box, [0.9], embeddings=[[1.0] + [0.0] * 7]))
    mct.update("b", 0.0, Detections.empty())  # b has no tracks yet, so its tracker alone would not notice
    before = _mct_state(mct)
    with pytest.raises(ValueError, match=r"camera 'b'.*dimension 16.*earlier frames had 8"):
        mct.update("b", 0.1, Detections(box, [0.9], embeddings=[[1.0] + [0.0] * 15]))
    assert _mct_state(mct) == before
    # the camera still works afterwards, at the same timestamp
    out = mct.update("b", 0.1, Detections(box, [0.9], embeddings=[[1.0] + [0.0] * 7]))
    assert mct.manager.embedding_dim == 8 and len(out.ids) == len(out.local_ids)


class _SwitchingEmbedder:
    """Returns 8-d vectors, or ``dim``-d ones once ``dim`` is changed."""

    def __init__(self) -> None:
        self.dim = 8

    def embed(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        out = np.zeros((len(boxes), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


def test_embedder_output_of_another_dimension_leaves_everything_unchanged() -> None:
    emb = _SwitchingEmbedder()
    mct = MultiCameraTracker(["a", "b"], frame_rate=10, embedder=emb)
    frame = np.zeros((200, 200, 3), np.uint8)
    for k in range(3):
        mct.update("a", 0.1 * k, Detections([[10, 10, 50, 120]], [0.9]), frame)
    before = _mct_state(mct)
    emb.dim = 12
    with pytest.raises(ValueError, match="dimension 12"):
        mct.update("b", 0.0, Detections([[10, 10, 50, 120]], [0.9]), frame)
    assert _mct_state(mct) == before
    emb.dim = 8
    mct.update("b", 0.0, Detections([[10, 10, 50, 120]], [0.9]), frame)


def test_multi_camera_tracker_embeds_like_the_tracker() -> None:
    """One policy: only detections with score >= association.high_score are embedded."""
    emb = _SwitchingEmbedder()
    calls: list[int] = []
    orig = emb.embed
    emb.embed = lambda image, boxes: (calls.append(len(boxes)), orig(image, boxes))[1]  # type: ignore[method-assign]
    mct = MultiCameraTracker(["a"], frame_rate=10, embedder=emb)
    high = mct.trackers["a"].config.association.high_score
    frame = np.zeros((300, 300, 3), np.uint8)
    mct.update("a", 0.0, Detections([[10, 10, 50, 120], [100, 10, 140, 120]], [0.9, high / 2]), frame)
    assert calls == [1]
    used = mct.trackers["a"].last_embeddings
    assert used is not None and np.any(used[0]) and not np.any(used[1])


_CALL = st.sampled_from(
    ["valid", "valid", "valid", "empty", "dim16", "backwards", "nan_time", "unknown", "type"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_CALL, st.sampled_from(["a", "b"]), st.integers(0, 3)), min_size=1, max_size=12))
def test_fuzz_update_is_atomic_on_every_error(calls: list[tuple[str, str, int]]) -> None:
    """Random mixes of valid and invalid calls: after every raised error the trackers (all fields, id
    allocator, frame count), the clocks and the manager are exactly as before."""
    mct = MultiCameraTracker(["a", "b"], MultiCamConfig(min_tracklet_frames=2), frame_rate=10)
    clock = {"a": 0.0, "b": 0.0}
    for kind, cam, n in calls:
        t = clock[cam] + 0.1
        boxes = [[10 + 60 * i, 10, 50 + 60 * i, 120] for i in range(n)]
        d = 16 if kind == "dim16" else 8
        emb = [unit(i % D) if d == D else np.eye(d, dtype=np.float32)[i % d] for i in range(n)]
        dets = Detections(boxes, [0.9] * n, embeddings=emb if n else None) if n else Detections.empty()
        args: tuple[object, ...] = (cam, t, dets)
        if kind == "backwards":
            args = (cam, clock[cam] - 0.05, dets)
        elif kind == "nan_time":
            args = (cam, float("nan"), dets)
        elif kind == "unknown":
            args = ("zzz", t, dets)
        elif kind == "type":
            args = (cam, t, boxes)
        elif kind == "empty":
            args = (cam, t, Detections.empty())
        before = _mct_state(mct)
        must_fail = kind in ("nan_time", "unknown", "type") or (
            kind == "dim16" and n > 0 and mct.manager.embedding_dim == 8
        )
        try:
            mct.update(*args)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            assert _mct_state(mct) == before, (kind, cam, n)
            continue
        assert not must_fail, (kind, cam, n)
        clock[cam] = float(args[1])  # type: ignore[arg-type]


def test_memory_is_bounded_by_history_s() -> None:
    """Released tracklets and decisions older than history_s are forgotten; recent ones are kept."""
    apps = np.random.default_rng(1).normal(size=(60, 16))
    apps /= np.linalg.norm(apps, axis=1, keepdims=True)
    m = GlobalIdentityManager(
        ["a", "b"], MultiCamConfig(time_window_s=2.0, max_decision_wait_s=1.0, history_s=10.0)
    )
    person_of = _walk(m, apps, visible=2.0, travel=0.5, arrival=1.0, fps=5.0)
    held = m.summary()["held"]
    assert m.summary()["decisions"] > 100  # every tracklet was decided ...
    assert held["decisions"] < 40 and held["tracks"] < 40  # ... but only the last ~10 s are held
    first = min(person_of)  # an early track: forgotten
    assert m.global_id_at(*first, 0.0) is None and m.global_id(*first) is None
    last = max(person_of, key=lambda k: k[1])
    assert m.global_id(*last) is not None


def _linking_accuracy(m: GlobalIdentityManager, person_of: dict[tuple[str, int], int]) -> float:
    """Share of people whose a- and b-tracks carry one global id, and no two people share one."""
    gid = {k: m.global_id(*k) for k in person_of}
    people = sorted(set(person_of.values()))
    ok = 0
    for p in people:
        ga = [g for k, g in gid.items() if k[0] == "a" and person_of[k] == p]
        gb = [g for k, g in gid.items() if k[0] == "b" and person_of[k] == p]
        others = {g for k, g in gid.items() if person_of[k] != p}
        ok += int(ga == gb and ga[0] not in others)
    return ok / len(people)


@pytest.mark.parametrize(("spread", "view_change"), [(0.25, 0.0), (3.0, 0.7)])
def test_calibration_adapts_the_thresholds_to_the_distance_scale(spread: float, view_change: float) -> None:
    """Two 'models': one squeezes every distance far below the fixed 0.3 (different people at ~0.03),
    one spreads them (different people at ~1, one person at ~0.35 between cameras). The fixed 0.3
    fails each of them; the calibrated thresholds link both."""
    rng = np.random.default_rng(7)
    common = np.zeros(32)
    common[0] = 1.0
    apps = common + spread * rng.normal(size=(16, 32)) / np.sqrt(32)
    apps /= np.linalg.norm(apps, axis=1, keepdims=True)
    scores = {}
    for calibrate in (False, True):
        m = GlobalIdentityManager(
            ["a", "b"], MultiCamConfig(calibrate=calibrate, split_appearance_distance=None)
        )
        person_of = _walk(
            m, apps, visible=3.0, travel=1.0, arrival=0.5, noise=0.01, view_change=view_change, seed=2
        )
        scores[calibrate] = (_linking_accuracy(m, person_of), m.summary()["calibration"])
    accuracy, calib = scores[True]
    assert accuracy >= 0.9
    assert calib["link_calibrated"] and calib["link_source"] == "tracklets"
    med = calib["median_distance"]
    assert med["link_same_track"] < calib["max_appearance_distance"] < med["link_concurrent_tracks"]
    assert scores[False][0] < accuracy  # the fixed 0.3 does worse on this scale


def test_summary_exposes_the_learned_thresholds() -> None:
    apps = np.random.default_rng(4).normal(size=(10, 16))
    apps /= np.linalg.norm(apps, axis=1, keepdims=True)
    mct = MultiCameraTracker(["a", "b"], frame_rate=10)
    _walk(mct.manager, apps, arrival=0.5)
    s = mct.summary()
    assert set(s) >= {"calibration", "global_ids", "decisions", "links", "conflict_splits", "held"}
    c = s["calibration"]
    assert isinstance(c["max_appearance_distance"], float) and set(c["split_appearance_distance"]) == {
        "a",
        "b",
    }
    # each camera tracker's appearance gate (nothing learnt here: the walk bypasses the trackers)
    assert s["tracker_appearance_gate"] == {
        cam: t.config.appearance.appearance_gate for cam, t in mct.trackers.items()
    }
    json.dumps(s)  # goes into multicam_summary.json as it is


def test_calibration_config_is_range_checked() -> None:
    for bad in (
        {"calibration_min_samples": 0},
        {"calibration_window": 5, "calibration_min_samples": 10},
        {"calibration_link_position": 1.5},
        {"calibration_min_distance": 0.5, "calibration_max_distance": 0.2},
        {"history_s": -1},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            load_multicam_config(bad)


def test_harness_parses_any_cut() -> None:
    h = harness()
    views = h.parse_views("a=0:240,b=284:484,c=528:768", 768)
    assert [(v.name, v.x0, v.x1) for v in views] == [("a", 0, 240), ("b", 284, 484), ("c", 528, 768)]
    assert h.parse_views(h.format_views(views)) == views
    for bad in ("a=0:100", "a=0:100,a=200:300", "a=0:300,b=200:400", "a=10:5,b=20:30", "a=0:x,b=1:2"):
        with pytest.raises(ValueError, match="--views"):
            h.parse_views(bad, 768)
    with pytest.raises(ValueError, match="within"):
        h.parse_views("a=0:400,b=500:900", 768)
    cfg = h.harness_config(views)
    assert {(t.from_camera, t.to_camera) for t in cfg.transitions} == {
        ("a", "b"),
        ("b", "a"),
        ("b", "c"),
        ("c", "b"),
    }
    assert {t.min_travel_s for t in cfg.transitions} == {0.5}  # across a blind strip
    # views that touch: nobody takes 0.5 s to cross no strip (an adjacent cut handed off 18.8 %)
    touching = h.harness_config(h.parse_views("a=0:384,b=384:768", 768))
    assert {t.min_travel_s for t in touching.transitions} == {0.0}


def test_multicam_imports_point_downwards() -> None:
    """multicam never imports apps; eval/multicam, reid/gallery and multicam/linking never import the
    multicam tracker (or anything above it)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "tracker"

    def imports(path: Path) -> set[str]:
        pkg = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = pkg.rsplit(".", node.level - 1)[0] if node.level else ""
                out.add(f"{base}.{node.module}" if node.level and node.module else node.module or base)
            elif isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
        return out

    for path in (root / "multicam").glob("*.py"):
        assert not any(m.startswith("tracker.apps") for m in imports(path)), path
    for rel in ("eval/multicam.py", "reid/gallery.py", "multicam/linking.py", "multicam/calibration.py"):
        bad = {
            m
            for m in imports(root / rel)
            if m.startswith(("tracker.apps", "tracker.multicam.manager", "tracker.multicam.multi_tracker"))
        }
        assert not bad, (rel, bad)
    assert not any(m.startswith("tracker.multicam") for m in imports(root / "eval" / "multicam.py"))
    assert not any(m.startswith("tracker.multicam") for m in imports(root / "reid" / "gallery.py"))


@pytest.mark.parametrize(
    ("frame_rate", "message"),
    [
        ({"a": 30.0}, r"one rate per camera expected; missing \['b'\], unknown \[\]"),
        ({"a": 30.0, "b": 25.0, "c": 10.0}, r"missing \[\], unknown \['c'\]"),
        ({"a": 30.0, "b": -1.0}, "frame_rate of camera 'b' must be a positive number, got -1.0"),
        ("30", "frame_rate must be a positive number, got str '30'"),
        (0, "frame_rate must be a positive number, got 0"),
    ],
)
def test_frame_rates_are_checked_per_camera(frame_rate: object, message: str) -> None:
    """A mapping must give each camera one positive rate and name no other camera (a missing camera
    was a bare KeyError; text was read as a number)."""
    with pytest.raises(ValueError, match=message):
        MultiCameraTracker(["a", "b"], frame_rate=frame_rate)  # type: ignore[arg-type]
    mct = MultiCameraTracker(["a", "b"], frame_rate={"a": 30, "b": 12.5})
    assert mct.trackers["a"].frame_rate == 30.0
    assert mct.trackers["b"].frame_rate == 12.5


@pytest.mark.parametrize(
    ("cameras", "config", "message"),
    [
        ("left", None, "a list of camera ids, got the string 'left'"),
        (
            ["a", "b"],
            {"transitions": [{"from_camera": "a", "to_camera": "B"}], "restrict_to_transitions": True},
            r"transitions\[0\]\.to_camera: unknown camera 'B'; the cameras are \['a', 'b'\]",
        ),
        (["a", "b"], {"overlapping_cameras": [["a", "q"]]}, r"overlapping_cameras\[0\]: unknown camera 'q'"),
        (
            ["a", "b"],
            {"transitions": [{"from_camera": "a", "to_camera": "b", "min_travel_s": -5, "max_travel_s": -1}]},
            r"min_travel_s: must be >= 0 between cameras that do not overlap",
        ),
        (
            ["a", "b"],
            {"transitions": [{"from_camera": "a", "to_camera": "b"}, {"from_camera": "a", "to_camera": "b"}]},
            r"transitions\[1\]: a second transition 'a' -> 'b'",
        ),
    ],
)
def test_linking_that_names_no_camera_is_refused(cameras: object, config: object, message: str) -> None:
    """A misspelt camera in a transition ruled every handoff out (0 % on an exported cut, rc 0); a
    string of cameras became one camera per letter; a repeated transition was ignored silently."""
    with pytest.raises(ValueError, match=message):
        MultiCameraTracker(cameras, config)  # type: ignore[arg-type]


def test_overlapping_cameras_may_have_a_negative_travel_time() -> None:
    cfg = {
        "overlapping_cameras": [["a", "b"]],
        "transitions": [{"from_camera": "a", "to_camera": "b", "min_travel_s": -1, "max_travel_s": 2}],
    }
    assert MultiCameraTracker(["a", "b"], cfg).cameras == ("a", "b")
