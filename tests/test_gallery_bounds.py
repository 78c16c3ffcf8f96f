"""The gallery stays bounded: a long track keeps at most MAX_TRAJECTORY_POINTS boxes (its first and
latest among them), retired tracks leave memory, and the parts put together equal one gallery."""

from __future__ import annotations

import numpy as np

from tracker.reid.gallery import MAX_TRAJECTORY_POINTS, GalleryBuilder, concatenate_galleries


def _box(f: int) -> np.ndarray:
    return np.array([f, 0, f + 10, 30], np.float32)


def test_long_track_trajectory_is_thinned_but_keeps_its_ends() -> None:
    b = GalleryBuilder()
    e = np.array([1.0, 0.0], np.float32)
    for f in range(1, 10_001):
        b.add(f, 7, _box(f), 0.9, e)
    g = b.build("cam")
    frames, boxes = g.trajectory(7)
    assert len(frames) <= MAX_TRAJECTORY_POINTS + 1
    assert frames[0] == 1 and frames[-1] == 10_000 and np.all(np.diff(frames) > 0)
    np.testing.assert_array_equal(boxes[-1], _box(10_000))
    assert g.first_frame[0] == 1 and g.last_frame[0] == 10_000


def test_retire_forgets_ended_tracks_and_parts_concatenate() -> None:
    rng = np.random.default_rng(0)
    whole, online = GalleryBuilder(), GalleryBuilder()
    parts = []
    for f in range(1, 301):
        for tid in (f // 50 + 1, 100):  # tracks 1..7 each live 50 frames; track 100 lives throughout
            e = rng.normal(size=8).astype(np.float32)
            whole.add(f, tid, _box(f), 0.8, e)
            online.add(f, tid, _box(f), 0.8, e)
        if f % 60 == 0:
            g = online.retire(f - 20, "cam")
            if g is not None:
                parts.append(g)
    assert len(online) < len(whole)  # ended tracks left memory
    merged = concatenate_galleries([*parts, online.build("cam")])
    ref = whole.build("cam")
    order = np.argsort(merged.track_ids)
    np.testing.assert_array_equal(merged.track_ids[order], ref.track_ids)
    np.testing.assert_allclose(merged.embeddings[order], ref.embeddings, atol=1e-6)
    for tid in ref.track_ids.tolist():
        np.testing.assert_array_equal(merged.trajectory(tid)[0], ref.trajectory(tid)[0])
