"""Frame-rate-scaled motion noise, lost tracks following the scene, and recovery on the last box."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tracker import Detections, Tracker, load_config
from tracker.config import CostTermConfig, MotionConfig, StageConfig, TrackerConfig, config_from_dict
from tracker.motion.kalman import KalmanFilter


def _box(cx: float, cy: float, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def _cfg(**motion: object) -> TrackerConfig:
    cfg = load_config("default")
    cfg = dataclasses.replace(cfg, cmc=dataclasses.replace(cfg.cmc, enabled=False))
    return dataclasses.replace(cfg, motion=dataclasses.replace(cfg.motion, **motion))


def test_velocity_noise_scales_with_frame_rate() -> None:
    means = np.array([[100.0, 100.0, 40.0, 100.0, 0, 0, 0, 0]])
    cfg = MotionConfig(std_weight_velocity=0.003, reference_fps=30.0)
    q30 = KalmanFilter(cfg, frame_rate=30).process_noise(means)[0]
    q7 = KalmanFilter(cfg, frame_rate=7.5).process_noise(means)[0]
    np.testing.assert_allclose(q7[:4, :4], q30[:4, :4])  # position noise does not depend on fps
    np.testing.assert_allclose(np.diag(q7)[4:], np.diag(q30)[4:] * 16.0)  # std x4 -> variance x16
    np.testing.assert_allclose(np.diag(q30)[4], (0.003 * 40.0) ** 2)


def _panning_scene(tracker: Tracker) -> tuple[int, int | None]:
    """Four people standing still; from frame 11 the camera pans by +12 px/frame. Person D is hidden
    on frames 11-16 and seen again on 17. Returns D's id before and after the gap."""
    xs = [100.0, 300.0, 500.0, 700.0]
    d_id = -1
    for f in range(1, 18):
        pan = 12.0 * max(0, f - 10)
        visible = [0, 1, 2] if 11 <= f <= 16 else [0, 1, 2, 3]
        boxes = np.array([_box(xs[i] + pan, 300.0) for i in visible], np.float32)
        out = tracker.update(Detections(boxes, np.full(len(boxes), 0.9, np.float32)))
        if f == 10:
            d_id = int(out.ids[out.det_index == 3][0])
        if f == 17:
            after = out.ids[out.det_index == 3]
            return d_id, int(after[0]) if len(after) else None
    raise AssertionError("unreachable")


def test_lost_track_follows_the_scene_when_the_camera_pans() -> None:
    before, after = _panning_scene(Tracker(_cfg(shift_lost_with_scene=True)))
    assert after == before
    # without it the lost track stays where the camera left it and the person gets a new id
    before, after = _panning_scene(Tracker(_cfg(shift_lost_with_scene=False)))
    assert after != before


def test_scene_shift_needs_enough_matches() -> None:
    t = Tracker(_cfg(shift_lost_with_scene=True, min_shift_matches=4))
    before, after = _panning_scene(t)  # only 3 people are matched while D is lost
    assert after != before


def test_the_coherence_gate_still_follows_a_panning_camera() -> None:
    """Under a pan every box moves the same way (coherence far above the gate): D keeps its id."""
    before, after = _panning_scene(Tracker(_cfg(shift_lost_with_scene=True, shift_min_coherence=1.25)))
    assert after == before


def _walkers_scene(
    tracker: Tracker, frames: int = 40, hide_from: int = 30
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A static camera: eight people walking their own ways (-3 to +4 px/frame in x, some in y) with
    seeded detector jitter of 2 px; person 0 is hidden from ``hide_from`` on. Returns every frame's
    ``all_tracks()`` (ids, boxes)."""
    rng = np.random.default_rng(7)
    start = rng.uniform(100.0, 900.0, (8, 2))
    vel = np.array([[-3, 0], [4, 0], [2, 1], [-1, -2], [3, -1], [0, 2], [-2, 1], [1, 0]], np.float64)
    seen = []
    for f in range(1, frames + 1):
        centres = start + f * vel + rng.normal(0.0, 2.0, (8, 2))
        rows = range(1, 8) if f >= hide_from else range(8)
        boxes = np.array([_box(*centres[i]) for i in rows], np.float32)
        tracker.update(Detections(boxes, np.full(len(boxes), 0.9, np.float32)))
        tr = tracker.all_tracks()
        seen.append((tr.ids, tr.boxes))
    return seen


def test_lost_tracks_keep_still_under_a_static_camera_with_the_coherence_gate() -> None:
    """Walkers in a static scene disagree (|median| / MAD well below 1), so with the gate the hidden
    person's lost track moves exactly as without any scene shift; without the gate it is pushed by the
    median innovation every frame."""
    plain = _walkers_scene(Tracker(_cfg(shift_lost_with_scene=False)))
    gated = _walkers_scene(Tracker(_cfg(shift_lost_with_scene=True, shift_min_coherence=1.25)))
    always = _walkers_scene(Tracker(_cfg(shift_lost_with_scene=True, shift_min_coherence=0.0)))
    for (ids_p, boxes_p), (ids_g, boxes_g) in zip(plain, gated, strict=True):
        np.testing.assert_array_equal(ids_g, ids_p)
        np.testing.assert_array_equal(boxes_g, boxes_p)
    # the ungated shift does move the lost track (the scene above does exercise it)
    ids_a, boxes_a = always[-1]
    ids_p, boxes_p = plain[-1]
    np.testing.assert_array_equal(ids_a, ids_p)
    assert np.abs(boxes_a - boxes_p).max() > 0.5


def test_reset_forgets_the_learnt_scene_coherence() -> None:
    """The gate reads a running mean, which a pan drives far above the gate (it would take seconds to
    decay); after ``reset()`` the tracker behaves as a fresh one on the static walkers."""
    cfg = _cfg(shift_lost_with_scene=True, shift_min_coherence=1.25)
    t = Tracker(cfg)
    _panning_scene(t)
    t.reset()
    fresh = _walkers_scene(Tracker(cfg))
    again = _walkers_scene(t)
    for (ids_f, boxes_f), (ids_a, boxes_a) in zip(fresh, again, strict=True):
        np.testing.assert_array_equal(ids_a, ids_f)
        np.testing.assert_array_equal(boxes_a, boxes_f)


def test_coherence_settings_are_range_checked() -> None:
    with pytest.raises(ValueError, match="shift_min_coherence"):
        config_from_dict({"motion": {"shift_min_coherence": -1.0}}, where="test")
    with pytest.raises(ValueError, match="shift_coherence_time_s"):
        config_from_dict({"motion": {"shift_coherence_time_s": 0.0}}, where="test")
    with pytest.raises(ValueError, match="score_adapt_static_iou"):
        config_from_dict({"association": {"score_adapt_static_iou": 0.0}}, where="test")
    with pytest.raises(ValueError, match="score_adapt_static_s"):
        config_from_dict({"association": {"score_adapt_static_s": -1.0}}, where="test")
    with pytest.raises(ValueError, match="score_adapt_when_empty"):
        config_from_dict({"association": {"score_adapt_when_empty": "yes"}}, where="test")


def _with_recovery(stages: tuple[StageConfig, ...], max_cost: float) -> tuple[StageConfig, ...]:
    """``stages`` with a recovery stage (last observed box, ``max_cost``) before the tentative one."""
    if max_cost <= 0:
        return stages
    recovery = StageConfig("recovery", ("tracked", "lost"), "high", (CostTermConfig("last_iou"),), max_cost)
    return (*stages[:-1], recovery, stages[-1])


def test_recovery_matches_a_lost_track_on_its_last_observed_box() -> None:
    """A person walks right, stops behind an occluder; the Kalman prediction runs on past the spot, the
    last observed box does not. Recovery brings the same id back."""

    def run(recovery: float) -> tuple[int, int]:
        cfg = load_config("bytetrack")
        cfg = dataclasses.replace(
            cfg,
            association=dataclasses.replace(
                cfg.association, stages=_with_recovery(cfg.association.stages, recovery)
            ),
            motion=dataclasses.replace(cfg.motion, reset_velocity_after_gap=False),
        )
        t = Tracker(cfg)
        first = -1
        for f in range(1, 31):
            if f <= 20:
                boxes = [_box(100.0 + 6.0 * f, 200.0)]
            elif f < 30:
                boxes = []
            else:
                boxes = [_box(100.0 + 6.0 * 20, 200.0)]  # reappears where it was last seen
            out = t.update(Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9)))
            if f == 20:
                first = int(out.ids[0])
        now = t.all_tracks()
        return first, int(now.ids[now.det_index == 0][0])

    first, last = run(recovery=0.5)
    assert last == first
    first, last = run(recovery=0.0)  # the prediction ran 54 px past: no IoU, a new (tentative) id
    assert last != first


def test_adaptive_thresholds_follow_the_detector_score_level() -> None:
    """A detector that scores people at 0.45: fixed 0.6 / 0.7 thresholds never start a track; with
    ``score_adapt_rate`` the level falls towards 0.45 (from the matches of the low band) and tracks
    start; a detector scoring 0.9 keeps the configured thresholds."""
    from tracker.config import config_from_dict

    def run(score: float, rate: float) -> tuple[int, float]:
        cfg = config_from_dict(
            {"association": {"score_adapt_rate": rate, "high_score": 0.6, "new_track_score": 0.7}}
        )
        t = Tracker(cfg)
        n_out = 0
        t.update(Detections(np.array([_box(100.0, 200.0)], np.float32), [0.95]))  # one confident start
        for f in range(1, 60):
            boxes = [_box(100.0 + 2 * f, 200.0), _box(400.0, 200.0 + f)]
            n_out += len(t.update(Detections(np.array(boxes, np.float32), [score, score])))
        return n_out, t._thresholds()[0]

    fixed_out, fixed_high = run(0.45, 0.0)
    adapt_out, adapt_high = run(0.45, 0.05)
    assert fixed_high == 0.6 and adapt_high < 0.45
    assert adapt_out > fixed_out  # the second person is tracked once the thresholds came down
    _, confident_high = run(0.9, 0.05)
    assert confident_high == 0.6


def _gap_walk(tracker: Tracker) -> tuple[np.ndarray, np.ndarray]:
    """A person walks right at 6 px/frame for 20 frames, is hidden 9 frames, and comes back 70 px right
    of and 30 px above the last box (slower and up-right behind the occluder). Returns the track's state ``float64[8]`` right after the frame it came back,
    and its predicted centre ``float64[2]`` for the frame after that."""
    for f in range(1, 21):
        tracker.update(Detections(np.array([_box(100.0 + 6.0 * f, 300.0)], np.float32), [0.9]))
    for _ in range(9):
        tracker.update(Detections(np.zeros((0, 4), np.float32), np.zeros(0)))
    tracker.update(Detections(np.array([_box(220.0 + 70.0, 300.0 - 30.0)], np.float32), [0.9]))
    state = tracker._store.means[0].copy()
    predicted = tracker.kf.predict(tracker._store.means[:1], tracker._store.covs[:1])[0][0, :2]
    return state, predicted


def test_reupdate_after_gap_rebuilds_the_state_along_the_virtual_path() -> None:
    """OC-SORT's re-update: the track that comes back after 10 frames (9 hidden) is rebuilt along the
    straight line from its last box (220, 300) to the new one (290, 270): it sits on the new box, has
    the velocity of that walk (7, -3 px/frame), and its next prediction continues it (297, 267)."""
    state, predicted = _gap_walk(Tracker(_cfg(reupdate_after_gap=True)))
    np.testing.assert_allclose(state[:2], [290.0, 270.0], atol=0.3)
    np.testing.assert_allclose(state[4:6], [7.0, -3.0], atol=0.3)
    np.testing.assert_allclose(predicted, [297.0, 267.0], atol=0.5)
    # the plain Kalman update stops short of the new box (its prediction weighs in) and keeps most of
    # the drifted velocity (6 px/frame right, none up)
    plain, plain_pred = _gap_walk(Tracker(_cfg(reupdate_after_gap=False, reset_velocity_after_gap=False)))
    assert np.linalg.norm(plain[:2] - [290.0, 270.0]) > 1.0
    assert abs(plain[5] - -3.0) > 1.0
    assert np.linalg.norm(plain_pred - [297.0, 267.0]) > 2.0
    # the one-step velocity reset (the default's, here after any gap) gets the velocity but not the
    # position
    reset, _ = _gap_walk(
        Tracker(_cfg(reupdate_after_gap=False, reset_velocity_after_gap=True, reset_velocity_min_gap_s=0.0))
    )
    np.testing.assert_allclose(reset[4:6], [7.0, -3.0], atol=0.3)
    assert np.linalg.norm(reset[:2] - [290.0, 270.0]) > 1.0


@pytest.mark.parametrize(
    ("frame_rate", "resets"),
    [(30.0, False), (25.0, False), (20.0, True), (7.0, True)],
)
def test_the_velocity_reset_waits_for_a_gap_of_reset_velocity_min_gap_s(
    frame_rate: float, resets: bool
) -> None:
    """The default (``motion.reset_velocity_min_gap_s`` 0.5) resets the velocity only after a gap of 0.5 s or more:
    the walk's gap is 10 frames from the last box to the new one: 0.33 s at 30 fps, 0.4 s at 25 fps,
    exactly 0.5 s at 20 fps, 1.4 s at 7 fps. A track that does not reset has the state of the plain
    Kalman update, bit for bit."""
    cfg = _cfg(reupdate_after_gap=False)
    assert cfg.motion.reset_velocity_after_gap and cfg.motion.reset_velocity_min_gap_s == 0.5
    state, _ = _gap_walk(Tracker(cfg, frame_rate=frame_rate))
    plain, _ = _gap_walk(
        Tracker(_cfg(reupdate_after_gap=False, reset_velocity_after_gap=False), frame_rate=frame_rate)
    )
    if resets:
        np.testing.assert_allclose(state[4:6], [7.0, -3.0], atol=0.3)
    else:
        np.testing.assert_array_equal(state, plain)


def test_reupdate_leaves_tracks_seen_on_the_frame_before_alone() -> None:
    """Without a gap the re-update does nothing: the same states as the plain Kalman update."""
    a, b = Tracker(_cfg(reupdate_after_gap=True)), Tracker(_cfg(reupdate_after_gap=False))
    for f in range(1, 15):
        dets = Detections(np.array([_box(100.0 + 5.0 * f, 300.0 + f)], np.float32), [0.9])
        a.update(dets)
        b.update(dets)
    np.testing.assert_array_equal(a._store.means, b._store.means)
    np.testing.assert_array_equal(a._store.covs, b._store.covs)


def _jump_walk(relative_score_level: float, score: float) -> list[np.ndarray]:
    """A person (100 x 200 px box) walks right at 2 px/frame for 100 frames, detected at ``score``
    every frame, then their box lands 42 px right of where the walk would put it (IoU about 0.41 with
    the prediction), and the walk goes on from there. Returns the ids reported on each frame."""
    cfg = _cfg()  # the default preset (adaptive thresholds on), no CMC
    t = Tracker(
        dataclasses.replace(
            cfg, association=dataclasses.replace(cfg.association, relative_score_level=relative_score_level)
        )
    )
    ids = []
    for f in range(130):
        cx = 200.0 + 2.0 * f + (42.0 if f >= 100 else 0.0)
        out = t.update(Detections(np.array([_box(cx, 300.0, 100.0, 200.0)], np.float32), [score]))
        ids.append(out.ids.copy())
    return ids


def test_relative_scores_keep_a_low_scoring_detector_s_track_through_a_jump() -> None:
    """A detector that scores the person 0.45: the thresholds have come down to its level, but
    ``iou_score`` read the raw score, so a box at IoU 0.41 with the prediction costs
    ``1 - 0.41 * 0.45 = 0.82`` (over the first stage's 0.8) and the person gets a second identity.
    Read relative to the learnt level (``relative_score_level`` 0.6: scores divided by 0.45 / 0.6),
    it costs 0.76 and the identity holds."""
    raw = _jump_walk(0.0, 0.45)
    relative = _jump_walk(0.6, 0.45)
    # (the track starts once the level has come down to the detector's, about frame 35)
    first = raw[60]
    assert len(first) == 1 and all(np.array_equal(ids, first) for ids in raw[60:100])
    assert all(np.array_equal(ids, first) for ids in relative[60:])  # one identity throughout
    assert any(len(ids) and ids[0] != first[0] for ids in raw[100:])  # the raw cost lost them


def _seen_scores(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """The detection scores the cost terms read (``AssociationFrame.det_scores``), frame by frame,
    collected from every ``run_stages`` call from now on."""
    import tracker.core.tracker as core

    seen: list[np.ndarray] = []
    real = core.run_stages

    def spy(stages, frame):  # type: ignore[no-untyped-def]
        seen.append(frame.det_scores.copy())
        return real(stages, frame)

    monkeypatch.setattr(core, "run_stages", spy)
    return seen


def test_relative_scores_change_nothing_for_a_detector_at_or_above_the_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A detector that scores people 0.9 (its level stays above 0.6): results identical with and
    without ``relative_score_level``, the jump included, and the cost terms read the raw 0.9."""
    seen = _seen_scores(monkeypatch)
    assert all(np.array_equal(a, b) for a, b in zip(_jump_walk(0.0, 0.9), _jump_walk(0.6, 0.9), strict=True))
    assert len(seen) == 2 * 130 and all(np.array_equal(x, [np.float32(0.9)]) for x in seen)


def test_relative_score_level_is_checked() -> None:
    with pytest.raises(ValueError, match="relative_score_level"):
        config_from_dict({"association": {"relative_score_level": 1.5}})
    with pytest.raises(ValueError, match="relative_score_level"):
        config_from_dict({"association": {"relative_score_level": -0.1}})
    with pytest.raises(ValueError, match="relative_score_level needs score_adapt_rate"):
        config_from_dict({"association": {"relative_score_level": 0.6, "score_adapt_rate": 0.0}})


def test_relative_scores_apply_to_frames_without_appearance_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost terms see scores divided by ``level / relative_score_level`` on motion-only frames,
    and the raw scores on frames with appearance embeddings (the fused cost was balanced on those)."""
    seen = _seen_scores(monkeypatch)
    cfg = _cfg()
    cfg = dataclasses.replace(cfg, association=dataclasses.replace(cfg.association, relative_score_level=0.6))
    for with_embeddings in (False, True):
        seen.clear()
        t = Tracker(cfg)
        for f in range(80):
            box = np.array([_box(200.0 + 2.0 * f, 300.0, 100.0, 200.0)], np.float32)
            emb = np.array([[1.0, 0.0]], np.float32) if with_embeddings else None
            level = t._score_level  # (the level the frame's association reads: it moves after)
            t.update(Detections(box, [0.45], embeddings=emb))
        assert level < 0.5  # learnt from the 0.45 detections
        if with_embeddings:
            assert seen[-1][0] == np.float32(0.45)
        else:
            assert seen[-1][0] == pytest.approx(0.45 / (level / 0.6), rel=1e-5)
