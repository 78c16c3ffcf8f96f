"""The appearance gate that calibrates itself to the embedder (``appearance.gate_scale``).

Embedders spread cosine distances differently: one model's different people sit at 0.5, another's
at 0.2. With ``gate_scale`` the tracker measures the distances between people it sees at the same
time (two tracks matched in one frame are two people) and gates appearance at that multiple of their
median. These tests walk the measurement on scenes whose distances are known exactly, and a track
that a look-alike would take over under a fixed gate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.typing import NDArray

from tracker import Detections, Tracker, load_config
from tracker.config import TrackerConfig, config_from_dict

W, H = 50.0, 100.0


def box(cx: float, cy: float = 200.0) -> list[float]:
    return [cx - W / 2, cy - H / 2, cx + W / 2, cy + H / 2]


def config(gate_scale: float, min_samples: int = 30, window: int = 2000) -> TrackerConfig:
    """The default preset, CMC off (no frames here), with the calibrated gate set as given."""
    cfg = load_config("default")
    return cfg.replace(
        cmc=dataclasses.replace(cfg.cmc, enabled=False),
        appearance=dataclasses.replace(
            cfg.appearance, gate_scale=gate_scale, gate_min_samples=min_samples, gate_window=window
        ),
    )


def unit_vectors_at_distance(n: int, distance: float, dim: int = 16) -> NDArray[np.float32]:
    """``float32[n,dim]`` unit vectors whose every pair is at cosine distance ``distance``: a shared
    direction plus orthogonal private ones, ``cos = 1 / (1 + s^2)``."""
    s = np.sqrt(distance / (1.0 - distance))
    out = np.zeros((n, dim))
    out[:, 0] = 1.0
    out[np.arange(n), 1 + np.arange(n)] = s
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def three_people() -> NDArray[np.float32]:
    """Unit vectors a, b, c with cosine distances ab 0.2, ac 0.4, bc 0.6 (median of the six ordered
    pairs: 0.4)."""
    a = [1.0, 0.0, 0.0]
    b = [0.8, 0.6, 0.0]
    cy = (0.4 - 0.8 * 0.6) / 0.6
    c = [0.6, cy, float(np.sqrt(1.0 - 0.36 - cy * cy))]
    return np.array([a, b, c], np.float32)


def frame(xs: list[float], emb: NDArray[np.float32]) -> Detections:
    return Detections(
        np.array([box(x) for x in xs], np.float32), np.full(len(xs), 0.9, np.float32), embeddings=emb
    )


def test_the_gate_is_the_scale_times_the_median_distance_between_people_seen_together() -> None:
    emb = three_people()
    t = Tracker(config(gate_scale=0.7, min_samples=30))
    fixed = t.config.appearance.appearance_gate
    gates = []
    for _ in range(12):
        t.update(frame([100.0, 400.0, 700.0], emb))
        gates.append(t.appearance_gate)
    # frame 1 starts the tracks (no pairs yet); from frame 2 on, three confirmed tracks matched
    # together give 6 ordered pairs a frame: 30 samples after frame 6
    assert gates[:5] == [fixed] * 5
    assert gates[5] == pytest.approx(0.7 * 0.4, abs=1e-6)
    assert gates[-1] == pytest.approx(0.7 * 0.4, abs=1e-6)


def test_the_median_is_over_the_last_window_of_distances() -> None:
    """A scene whose people become look-alikes: the gate follows within one window."""
    t = Tracker(config(gate_scale=1.0, min_samples=6, window=60))
    far, near = unit_vectors_at_distance(3, 0.5), unit_vectors_at_distance(3, 0.1)
    for _ in range(11):  # 10 frames of 6 pairs: the window full of 0.5
        t.update(frame([100.0, 400.0, 700.0], far))
    assert t.appearance_gate == pytest.approx(0.5, abs=1e-6)
    # the tracks' appearance states move from `far` to `near` over a few frames (EMA), then
    # every distance is 0.1: once the window holds only those, the gate is 0.1
    for _ in range(100):
        t.update(frame([100.0, 400.0, 700.0], near))
    assert t.appearance_gate == pytest.approx(0.1, abs=1e-3)


def test_a_look_alike_does_not_take_over_a_track_under_the_calibrated_gate() -> None:
    """An embedder that puts everyone within 0.15 of each other. Under the fixed 0.6 gate a stranger
    who appears 37 px beside a person the moment that person vanishes takes over their track: the
    motion cost alone (1 - IoU 0.15 x 0.9 = 0.87) is above the stage threshold 0.8, but fused with
    the appearance distance 0.15 it falls to 0.51. Calibrated (0.7 x the 0.15 median), appearance
    does not vouch for a pair that close to the median, and the stranger gets a new id."""
    people = unit_vectors_at_distance(4, 0.15)  # rows 0-2 walk all along, row 3 is the stranger
    ids = {}
    for scale in (0.0, 0.7):
        t = Tracker(config(gate_scale=scale, min_samples=30))
        for _ in range(10):
            out = t.update(frame([100.0, 400.0, 700.0], people[:3]))
        first = int(out.ids[out.det_index == 0][0])
        out = t.update(frame([137.0, 400.0, 700.0], people[[3, 1, 2]]))
        ids[scale] = (first, int(out.ids[out.det_index == 0][0]) if (out.det_index == 0).any() else None)
    first, stranger = ids[0.0]
    assert stranger == first  # fixed gate: the track jumped to the stranger
    first, stranger = ids[0.7]
    assert stranger != first  # calibrated: it did not (the stranger is new, or not shown yet)


def test_without_the_scale_the_gate_is_fixed_and_nothing_is_sampled() -> None:
    emb = three_people()
    t = Tracker(config(gate_scale=0.0))
    for _ in range(10):
        t.update(frame([100.0, 400.0, 700.0], emb))
    assert t.appearance_gate == t.config.appearance.appearance_gate
    assert t._app_count == 0


def test_reset_forgets_the_calibration() -> None:
    emb = three_people()
    t = Tracker(config(gate_scale=0.7, min_samples=6))
    for _ in range(5):
        t.update(frame([100.0, 400.0, 700.0], emb))
    assert t.appearance_gate != t.config.appearance.appearance_gate
    t.reset()
    assert t.appearance_gate == t.config.appearance.appearance_gate
    assert t._app_count == 0 and not t._app_distances.any()


def test_tentative_tracks_and_unembedded_detections_are_not_sampled() -> None:
    """A tentative track may be a second box on a tracked person, and a detection below the embedding
    score carries zeros: neither is evidence about two different people."""
    emb = three_people()
    t = Tracker(config(gate_scale=0.7, min_samples=6))
    four = np.vstack([emb, emb[:1]])
    t.update(frame([100.0, 400.0, 700.0], emb))  # first frame: confirmed at once
    t.update(frame([100.0, 400.0, 700.0, 1000.0], four))  # 6 pairs; a 4th track starts, tentative
    t.update(frame([100.0, 400.0, 700.0, 1000.0], four))  # the 4th matched while tentative: 6 more
    assert t._app_count == 12

    # through an embedder, detections below association.high_score are not embedded (zero rows)
    class ByPosition:
        def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
            return emb[np.rint((boxes[:, 0] + W / 2 - 100.0) / 300.0).astype(int)]

    t = Tracker(config(gate_scale=0.7, min_samples=6), embedder=ByPosition())
    image = np.zeros((400, 1200, 3), np.uint8)
    xs = np.array([box(x) for x in (100.0, 400.0, 700.0)], np.float32)
    t.update(Detections(xs, np.full(3, 0.9, np.float32)), image)
    t.update(Detections(xs, np.array([0.9, 0.9, 0.3], np.float32)), image)  # c matched, not embedded
    assert t._app_count == 2  # a and b only: one ordered pair each way


@pytest.mark.parametrize(
    ("appearance", "message"),
    [
        ({"gate_scale": -0.1}, "gate_scale"),
        ({"gate_scale": 11.0}, "gate_scale"),
        ({"gate_min_samples": 0}, "gate_min_samples"),
        ({"gate_window": 0}, "gate_window"),
        ({"gate_scale": 0.7, "gate_min_samples": 300, "gate_window": 200}, "gate_min_samples <= gate_window"),
    ],
)
def test_bad_gate_settings_are_refused(appearance: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_dict({"appearance": appearance})
