"""Offline gap interpolation: which frames are filled, with which boxes, and what is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.io.mot import MotResults, ResultFrame, read_results, write_results
from tracker.postprocess import interpolate_gaps, max_gap_at, smooth_tracks


def results(rows: list[tuple[int, int, float, float, float]]) -> MotResults:
    """``(frame, id, x1, y1, score)`` rows, boxes 10 px wide and 20 px tall."""
    frames: dict[int, list[tuple[int, float, float, float]]] = {}
    for f, i, x, y, s in rows:
        frames.setdefault(f, []).append((i, x, y, s))
    out = {}
    for f, rs in frames.items():
        ids = np.array([r[0] for r in rs], np.int64)
        boxes = np.array([[r[1], r[2], r[1] + 10, r[2] + 20] for r in rs], np.float32)
        out[f] = ResultFrame(ids, boxes, np.array([r[3] for r in rs], np.float32))
    return MotResults(out)


def test_a_gap_is_filled_on_the_straight_line_and_the_seen_boxes_are_kept_bit_for_bit() -> None:
    r = results([(1, 7, 0.0, 0.0, 0.9), (2, 7, 4.0, 2.0, 0.9), (6, 7, 20.0, 10.0, 0.5)])
    out = interpolate_gaps(r, max_gap=4)
    assert sorted(out.frames) == [1, 2, 3, 4, 5, 6]
    for f, x in zip((3, 4, 5), (8.0, 12.0, 16.0), strict=True):  # 4 -> 20 px over frames 2 -> 6
        assert out[f].ids.tolist() == [7]
        np.testing.assert_allclose(out[f].boxes[0], [x, x / 2, x + 10, x / 2 + 20], rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[4].scores, [0.7], atol=1e-6)  # half way from 0.9 to 0.5
    for f in (1, 2, 6):
        np.testing.assert_array_equal(out[f].boxes, r[f].boxes)
        np.testing.assert_array_equal(out[f].scores, r[f].scores)


def test_only_gaps_up_to_the_limit_inside_one_track_are_filled() -> None:
    r = results(
        [
            (1, 1, 0.0, 0.0, 0.9),
            (4, 1, 30.0, 0.0, 0.9),  # gap 3: filled with max_gap 3
            (9, 1, 80.0, 0.0, 0.9),  # gap 5: too long
            (2, 2, 100.0, 0.0, 0.9),  # track 2 alone in frames 2 and 3: nothing between tracks
            (3, 3, 200.0, 0.0, 0.9),
        ]
    )
    out = interpolate_gaps(r, max_gap=3)
    seen = {(f, int(i)) for f, fr in out.frames.items() for i in fr.ids}
    assert seen == {(1, 1), (2, 1), (3, 1), (4, 1), (9, 1), (2, 2), (3, 3)}
    assert out[2].ids.tolist() == [1, 2], "rows sorted by id within a frame"
    assert interpolate_gaps(r, max_gap=0) is r and interpolate_gaps(r, max_gap=1) is r
    assert interpolate_gaps(MotResults({}), max_gap=5).frames == {}


def test_results_round_trip_through_the_writer(tmp_path: object) -> None:
    r = results([(1, 1, 0.0, 0.0, 0.9), (3, 1, 10.0, 0.0, 0.9), (2, 2, 50.0, 5.0, 0.4)])
    path = write_results(tmp_path / "seq.txt", interpolate_gaps(r, 2))  # type: ignore[operator]
    back = read_results(path)
    assert back[2].ids.tolist() == [1, 2]
    np.testing.assert_allclose(back[2].boxes[0], [5.0, 0.0, 15.0, 20.0], atol=0.01)


def test_gap_limits_scale_with_the_frame_rate_and_bad_values_are_refused() -> None:
    assert max_gap_at(20, 30.0) == 20
    assert max_gap_at(20, 7.0) == 5  # PETS09-S2L1: the same 0.67 s
    assert max_gap_at(20, 14.0) == 9
    assert max_gap_at(1, 7.0) == 1 and max_gap_at(0, 25.0) == 0
    with pytest.raises(ValueError, match="gap"):
        max_gap_at(-1, 30.0)
    with pytest.raises(ValueError, match="frame_rate"):
        max_gap_at(10, 0.0)
    for bad in (-2, float("nan"), 2.5, True):  # NaN returned the results unchanged, without a word
        with pytest.raises(ValueError, match="max_gap must be an integer >= 0"):
            interpolate_gaps(results([(1, 1, 0.0, 0.0, 0.9)]), bad)  # type: ignore[arg-type]
    assert interpolate_gaps(results([(1, 1, 0.0, 0.0, 0.9)]), np.int64(3)).frames  # numpy ints are fine


def track_rows(
    track_id: int, frames: range, x: np.ndarray, y: float = 0.0
) -> list[tuple[int, int, float, float, float]]:
    return [(f, track_id, float(xi), y, 0.8) for f, xi in zip(frames, x, strict=True)]


def test_smoothing_keeps_a_straight_walk_including_its_ends_and_leaves_other_fields_alone() -> None:
    """A local linear fit reproduces constant-velocity motion exactly: no box moves, not even at the
    track's ends (where a plain weighted mean would pull them inwards by several pixels)."""
    frames = range(10, 40)
    r = results(track_rows(1, frames, 3.0 * np.arange(30)))
    out = smooth_tracks(r, sigma=4.0)
    assert sorted(out.frames) == sorted(r.frames)
    for f in frames:
        np.testing.assert_allclose(out[f].boxes, r[f].boxes, atol=1e-3)
        np.testing.assert_array_equal(out[f].scores, r[f].scores)
        assert out[f].ids.tolist() == [1]


def test_smoothing_averages_detector_jitter_within_each_track_only() -> None:
    rng = np.random.default_rng(0)
    frames = range(1, 101)
    noisy = 50.0 + rng.normal(0.0, 2.0, 100)  # a person standing still, boxes jittering by 2 px
    rows = track_rows(1, frames, noisy) + track_rows(2, frames, np.full(100, 400.0), y=100.0)
    out = smooth_tracks(results(rows), sigma=4.0)
    x1 = np.array([out[f].boxes[0, 0] for f in frames])
    assert np.std(x1 - 50.0) < 0.5 * np.std(noisy - 50.0)
    far = np.array([out[f].boxes[1] for f in frames])
    np.testing.assert_allclose(far, np.tile([400.0, 100.0, 410.0, 120.0], (100, 1)), atol=1e-3)


def test_smoothing_off_short_tracks_and_bad_widths() -> None:
    r = results([(1, 1, 0.0, 0.0, 0.9), (2, 1, 9.0, 0.0, 0.9), (5, 2, 3.0, 0.0, 0.9)])
    assert smooth_tracks(r, 0.0) is r
    out = smooth_tracks(r, 3.0)
    for f in (1, 2, 5):
        np.testing.assert_array_equal(out[f].boxes, r[f].boxes)  # two boxes and one: left as they are
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="sigma"):
            smooth_tracks(r, bad)
