"""Atomicity of :meth:`tracker.Tracker.update`: a call that raises leaves every piece of state unchanged.

State compared after every raised error: every :class:`~tracker.core.store.TrackStore` array (values,
dtype, shape), the id allocator, the frame count, the last frame index, the frame shape, the score
level, the scene coherence, the recent detections of the empty-scene level, the appearance gate's
distance samples and value, the last embeddings and the camera-motion compensator's previous frame.

The hypothesis fuzz mixes valid calls with invalid ones (bad boxes, embedding dimensions changing,
bad frame indexes, frame shapes and types, embedders returning NaN/inf/wrong shapes). It runs
``TRACKER_FUZZ_EXAMPLES`` examples (default 150, fast enough for every CI run); the acceptance run
uses ``TRACKER_FUZZ_EXAMPLES=2000``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tracker import Detections, Tracker, load_config
from tracker.config import TrackerConfig

FUZZ_EXAMPLES = int(os.environ.get("TRACKER_FUZZ_EXAMPLES", "150"))
FRAME_SHAPE = (48, 64, 3)


def snapshot(t: Tracker) -> dict[str, Any]:
    """Every piece of mutable state of ``t``, copied."""
    s = t._store
    state: dict[str, Any] = {f.name: np.array(getattr(s, f.name), copy=True) for f in dataclasses.fields(s)}
    state["_ids_next"] = t._ids._next
    state["_frame_count"] = t.frame_count
    state["_last_frame_index"] = t._last_frame_index
    state["_frame_shape"] = t._frame_shape
    state["_score_level"] = t._score_level
    state["_score_level_matched"] = t._score_level_matched
    state["_scene_coherence"] = (t._scene_coherence, t._scene_coherence_weight)
    state["_recent_dets_count"] = len(t._recent_dets)
    for i, dets in enumerate(t._recent_dets):
        state[f"_recent_dets_{i}_boxes"] = np.array(dets.boxes, copy=True)
        state[f"_recent_dets_{i}_scores"] = np.array(dets.scores, copy=True)
    state["_app_distances"] = np.array(t._app_distances, copy=True)
    state["_app_count_gate"] = (t._app_count, t._app_gate)
    le = t.last_embeddings
    state["_last_embeddings"] = None if le is None else np.array(le, copy=True)
    if t._cmc is not None:
        prev = t._cmc._prev
        state["_cmc_prev"] = None if prev is None else np.array(prev, copy=True)
        state["_cmc_full_shape"] = t._cmc._full_shape
    return state


def assert_same_state(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray), key
            assert x.dtype == y.dtype and x.shape == y.shape, key
            np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            assert x == y, key


class FakeEmbedder:
    """Embedder whose output the test controls: ``mode`` ``ok`` (``dim``-d unit-ish vectors), ``nan``,
    ``inf``, ``zeros``, ``huge``, ``short`` (one row too few) or ``flat`` (1-D)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.dim = 8

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        n = len(boxes)
        rng = np.random.default_rng(n)
        out = rng.standard_normal((n, self.dim)).astype(np.float32) + 2.0
        if self.mode == "nan":
            out[-1, 0] = np.nan
        elif self.mode == "inf":
            out[0, -1] = np.inf
        elif self.mode == "zeros":
            out[0] = 0.0
        elif self.mode == "huge":
            out[:] = 3e38
        elif self.mode == "short":
            out = out[:-1]
        elif self.mode == "flat":
            out = out.reshape(-1)
        return out


def _configs() -> list[TrackerConfig]:
    out = []
    for name in ("bytetrack", "botsort", "default", "deepsort"):
        cfg = load_config(name)
        cfg = cfg.replace(lifecycle=dataclasses.replace(cfg.lifecycle, max_lost_frames=3))
        out.append(cfg)
    return out


CONFIGS = _configs()


def _box(draw: st.DrawFn) -> list[float]:
    x = draw(st.floats(0, 60))
    y = draw(st.floats(0, 40))
    w = draw(st.floats(2, 30))
    h = draw(st.floats(2, 30))
    return [x, y, x + w, y + h]


@st.composite
def _call(draw: st.DrawFn) -> dict[str, Any]:
    """One update() call: mostly valid, often with one invalid part."""
    n = draw(st.integers(0, 4))
    boxes = [_box(draw) for _ in range(n)]
    scores = [draw(st.sampled_from([0.05, 0.3, 0.5, 0.7, 0.95])) for _ in range(n)]
    call: dict[str, Any] = {"boxes": boxes, "scores": scores}
    call["emb_dim"] = draw(st.sampled_from([None, None, 4, 8, 16]))
    call["bad_boxes"] = draw(st.sampled_from([False] * 8 + ["nan", "inverted", "ragged"]))
    call["frame"] = draw(st.sampled_from(["none", "ok", "ok", "ok", "other_shape", "float", "gray"]))
    call["frame_index"] = draw(
        st.sampled_from(["next", "next", "next", "none", "same", "back", "frac", "nan", "str", "bool", "np"])
    )
    call["embedder"] = draw(st.sampled_from(["ok"] * 6 + ["nan", "inf", "zeros", "huge", "short", "flat"]))
    call["embedder_dim"] = draw(st.sampled_from([8, 8, 8, 16]))
    return call


def _frame_index(kind: str, last: int | None) -> Any:
    nxt = 1 if last is None else last + 1
    return {
        "next": nxt,
        "none": None,
        "same": last if last is not None else 1,
        "back": (last - 1) if last is not None else 0,
        "frac": nxt + 0.5,
        "nan": math.nan,
        "str": str(nxt),
        "bool": True,
        "np": np.int64(nxt),
    }[kind]


def _frame(kind: str) -> Any:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, FRAME_SHAPE, dtype=np.uint8)
    return {
        "none": None,
        "ok": img,
        "other_shape": img[:40],
        "float": img.astype(np.float32),
        "gray": img[:, :, 0],
    }[kind]


def _detections(call: dict[str, Any]) -> Detections:
    boxes = [list(b) for b in call["boxes"]]
    scores = list(call["scores"])
    if call["bad_boxes"] == "nan" and boxes:
        boxes[0][0] = math.nan
    elif call["bad_boxes"] == "inverted" and boxes:
        boxes[0][2] = boxes[0][0] - 1
    elif call["bad_boxes"] == "ragged" and boxes:
        boxes[0] = boxes[0][:3]
    emb = None
    if call["emb_dim"] is not None:
        emb = np.random.default_rng(len(boxes)).standard_normal((len(boxes), call["emb_dim"])) + 2.0
    if not boxes:
        return Detections.empty(call["emb_dim"])
    return Detections(boxes, scores, embeddings=emb)  # type: ignore[arg-type]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(CONFIGS) - 1),
    st.booleans(),
    st.booleans(),
    st.lists(_call(), min_size=1, max_size=14),
)
def test_fuzz_update_is_atomic(
    cfg_i: int, cmc: bool, with_embedder: bool, calls: list[dict[str, Any]]
) -> None:
    cfg = CONFIGS[cfg_i]
    cfg = cfg.replace(cmc=dataclasses.replace(cfg.cmc, enabled=cmc))
    embedder = FakeEmbedder() if with_embedder else None
    t = Tracker(cfg, embedder=embedder)
    for call in calls:
        if embedder is not None:
            embedder.mode = call["embedder"]
            embedder.dim = call["embedder_dim"]
        before = snapshot(t)
        try:
            d = _detections(call)
            t.update(
                d,
                frame=_frame(call["frame"]),
                frame_index=_frame_index(call["frame_index"], t._last_frame_index),
            )
        except (ValueError, TypeError):
            assert_same_state(before, snapshot(t))


def _emb(dim: int, n: int = 1, seed: int = 0) -> NDArray[np.float64]:
    return np.random.default_rng(seed).standard_normal((n, dim)) + 2.0


BOX = [[10.0, 20.0, 50.0, 120.0]]


@pytest.mark.parametrize("name", ["botsort", "default", "deepsort"])
def test_dimension_change_after_frames_without_embeddings_is_atomic(name: str) -> None:
    """Regression (issue 12 item 3): frame 1 with 8-d embeddings, frames 2-6 without, frame 7 with 16-d
    must raise and leave frame count, id allocator, frame index and every store array unchanged."""
    cfg = load_config(name)
    cfg = cfg.replace(cmc=dataclasses.replace(cfg.cmc, enabled=False))
    for shift in (0.0, 300.0):  # same person throughout / a new person each frame (old ones die)
        t = Tracker(cfg.replace(lifecycle=dataclasses.replace(cfg.lifecycle, max_lost_frames=1)))
        t.update(Detections(BOX, [0.9], embeddings=_emb(8)), frame_index=1)
        for f in range(2, 7):
            b = np.asarray(BOX, np.float32) + np.float32(shift * f)
            t.update(Detections(b, [0.9]), frame_index=f)
        before = snapshot(t)
        b = np.asarray(BOX, np.float32) + np.float32(shift * 7)
        try:
            t.update(Detections(b, [0.9], embeddings=_emb(16)), frame_index=7)
        except ValueError as exc:
            assert "dimension" in str(exc)
            assert_same_state(before, snapshot(t))
            assert before["has_feature"].any()
            # a retry of the same frame index with valid input is accepted
            t.update(Detections(b, [0.9]), frame_index=7)
        else:  # accepted only if no track holds an 8-d feature: then it is a clean switch to 16-d
            assert shift > 0 and not before["has_feature"].any()
            assert t._store.feature_dim == 16 and t._store.has_feature.any()


@pytest.mark.parametrize("bad", [5.5, math.nan, "5", True, False, 1e300, None])
def test_bad_frame_index_names_the_field(bad: Any) -> None:
    t = Tracker("bytetrack")
    t.update(Detections(BOX, [0.9]), frame_index=4)
    before = snapshot(t)
    if bad is None:  # None is valid: no index this frame
        t.update(Detections(BOX, [0.9]), frame_index=bad)
        return
    with pytest.raises(ValueError, match="frame_index"):
        t.update(Detections(BOX, [0.9]), frame_index=bad)
    assert_same_state(before, snapshot(t))


def test_integral_frame_indexes_of_any_integer_type_are_accepted() -> None:
    t = Tracker("bytetrack")
    for f in (np.int32(1), np.int64(2), 3.0, 4):
        t.update(Detections(BOX, [0.9]), frame_index=f)  # type: ignore[arg-type]
    assert t._last_frame_index == 4 and isinstance(t._last_frame_index, int)


@pytest.mark.parametrize("mode", ["nan", "inf", "zeros", "huge", "short", "flat"])
def test_bad_embedder_output_names_the_embedder(mode: str) -> None:
    emb = FakeEmbedder()
    cfg = load_config("botsort")
    t = Tracker(cfg.replace(cmc=dataclasses.replace(cfg.cmc, enabled=False)), embedder=emb)
    frame = _frame("ok")
    t.update(Detections(BOX, [0.9]), frame=frame)
    before = snapshot(t)
    emb.mode = mode
    if mode == "huge":  # finite and normalisable in float64: accepted, unit vectors
        t.update(Detections(BOX, [0.9]), frame=frame)
        le = t.last_embeddings
        assert le is not None and np.allclose(np.linalg.norm(le, axis=1), 1.0)
        return
    with pytest.raises(ValueError, match="embedder"):
        t.update(Detections(BOX, [0.9]), frame=frame)
    assert_same_state(before, snapshot(t))
