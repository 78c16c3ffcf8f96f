"""supervision and Ultralytics interop: real ``supervision`` package, a fake Ultralytics ``Results``
built from torch tensors (ultralytics itself is AGPL and never imported)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tracker import Detections, Tracker, Tracks


@pytest.fixture(scope="module")
def sv() -> Any:
    """The real supervision package; its tests skip without it (the Ultralytics ones still run)."""
    return pytest.importorskip("supervision", reason="supervision not installed (pip install supervision)")


BOXES = np.array([[10, 20, 50, 120], [200.5, 30, 260, 150.25], [0, 0, 5, 9]], np.float32)
SCORES = np.array([0.9, 0.55, 0.31], np.float32)
CLASSES = np.array([0, 2, 0], np.int64)


def test_import_tracker_stays_light() -> None:
    """The interop hooks on the core types must not import supervision (or torch) at import time."""
    code = (
        "import sys, tracker, tracker.interop; "
        "bad = [m for m in ('supervision', 'torch', 'ultralytics', 'rosbags') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_from_supervision_copies_fields(sv: Any) -> None:
    svd = sv.Detections(xyxy=BOXES.astype(np.float64), confidence=SCORES, class_id=CLASSES)
    svd.tracker_id = np.array([7, 8, 9])
    dets = Detections.from_supervision(svd)
    assert isinstance(dets, Detections)
    np.testing.assert_array_equal(dets.boxes, BOXES)
    assert dets.boxes.dtype == np.float32
    np.testing.assert_array_equal(dets.scores, SCORES)
    np.testing.assert_array_equal(dets.class_ids, CLASSES)
    assert dets.class_ids.dtype == np.int64
    assert dets.embeddings is None


def test_from_supervision_missing_confidence_and_class(sv: Any) -> None:
    dets = Detections.from_supervision(sv.Detections(xyxy=BOXES))
    np.testing.assert_array_equal(dets.scores, np.ones(3, np.float32))
    np.testing.assert_array_equal(dets.class_ids, np.zeros(3, np.int64))


def test_from_supervision_empty(sv: Any) -> None:
    dets = Detections.from_supervision(sv.Detections.empty())
    assert len(dets) == 0 and dets.boxes.shape == (0, 4)


@pytest.mark.parametrize(
    ("boxes", "confidence", "class_id", "match"),
    [
        ([[10, 10, 5, 20]], None, None, "row 0 has x2<=x1"),
        ([[0, 0, np.nan, 3]], None, None, "non-finite"),
        ([[0, 0, 4, 4]], [1.5], None, "scores: row 0"),
        ([[0, 0, 4, 4]], [0.5], [0.5], "class_id: row 0 is 0.5"),
    ],
)
def test_from_supervision_validates(boxes: Any, confidence: Any, class_id: Any, match: str) -> None:
    fake = SimpleNamespace(
        xyxy=np.asarray(boxes, np.float64),
        confidence=None if confidence is None else np.asarray(confidence),
        class_id=None if class_id is None else np.asarray(class_id),
    )
    with pytest.raises(ValueError, match=match):
        Detections.from_supervision(fake)


def test_from_supervision_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match=r"supervision\.Detections"):
        Detections.from_supervision(BOXES)


def _tracks() -> Tracks:
    return Tracks(
        ids=np.array([3, 11], np.int64),
        boxes=BOXES[:2].copy(),
        scores=SCORES[:2].copy(),
        class_ids=CLASSES[:2].copy(),
        states=np.array([1, 1], np.int8),
        det_index=np.array([0, 1], np.int64),
    )


def test_to_supervision_sets_tracker_id(sv: Any) -> None:
    svd = _tracks().to_supervision()
    assert isinstance(svd, sv.Detections)
    assert len(svd) == 2
    np.testing.assert_array_equal(svd.tracker_id, [3, 11])
    np.testing.assert_array_equal(svd.xyxy, BOXES[:2])
    np.testing.assert_array_equal(svd.confidence, SCORES[:2])
    np.testing.assert_array_equal(svd.class_id, CLASSES[:2])
    empty = Tracks.empty().to_supervision()
    assert len(empty) == 0 and empty.tracker_id is not None and len(empty.tracker_id) == 0


def test_supervision_round_trip_through_tracker_and_annotators(sv: Any) -> None:
    """sv.Detections -> Tracker -> sv.Detections with stable ids, then supervision draws them."""
    tracker = Tracker("bytetrack", frame_rate=30)
    frame = np.zeros((240, 320, 3), np.uint8)
    ids_per_frame = []
    for k in range(6):
        shift = np.array([2.0 * k, 0, 2.0 * k, 0], np.float32)
        svd = sv.Detections(xyxy=BOXES[:2] + shift, confidence=np.array([0.9, 0.8]), class_id=CLASSES[:2])
        out = tracker.update(Detections.from_supervision(svd), frame=frame).to_supervision()
        ids_per_frame.append(tuple(sorted(out.tracker_id.tolist())))
    assert len(ids_per_frame[-1]) == 2
    assert ids_per_frame[-1] == ids_per_frame[-2] == ids_per_frame[-3]
    drawn = sv.BoxAnnotator().annotate(frame.copy(), out)
    assert drawn.shape == frame.shape and drawn.any()


# ------------------------------------------------------------------------------------------------
# Ultralytics, duck-typed


def _fake_result(xyxy: Any, conf: Any, cls: Any) -> SimpleNamespace:
    """What ``ultralytics.engine.results.Results`` exposes for a detection model."""
    return SimpleNamespace(boxes=SimpleNamespace(xyxy=xyxy, conf=conf, cls=cls, id=None), obb=None)


def test_from_ultralytics_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    result = _fake_result(
        torch.tensor(BOXES, dtype=torch.float32, requires_grad=True),  # needs detach()
        torch.tensor(SCORES).half(),
        torch.tensor(CLASSES, dtype=torch.float32),
    )
    dets = Detections.from_ultralytics(result)
    np.testing.assert_array_equal(dets.boxes, BOXES)
    np.testing.assert_allclose(dets.scores, SCORES, atol=1e-3)  # half precision
    np.testing.assert_array_equal(dets.class_ids, CLASSES)
    assert dets.class_ids.dtype == np.int64


def test_from_ultralytics_numpy_and_list_of_one() -> None:
    result = _fake_result(BOXES.astype(np.float64), SCORES, CLASSES.astype(np.float32))
    dets = Detections.from_ultralytics([result])
    np.testing.assert_array_equal(dets.boxes, BOXES)
    np.testing.assert_array_equal(dets.class_ids, CLASSES)


def test_from_ultralytics_empty() -> None:
    torch = pytest.importorskip("torch")
    dets = Detections.from_ultralytics(_fake_result(torch.zeros((0, 4)), torch.zeros(0), torch.zeros(0)))
    assert len(dets) == 0 and dets.boxes.shape == (0, 4)


def test_from_ultralytics_errors() -> None:
    ok = _fake_result(BOXES, SCORES, CLASSES.astype(np.float32))
    with pytest.raises(TypeError, match="sequence of 2"):
        Detections.from_ultralytics([ok, ok])
    with pytest.raises(TypeError, match="Ultralytics Results"):
        Detections.from_ultralytics(BOXES)
    with pytest.raises(ValueError, match="oriented boxes"):
        Detections.from_ultralytics(SimpleNamespace(boxes=None, obb=object()))
    with pytest.raises(ValueError, match=r"boxes\.cls: row 1 is 2\.5"):
        Detections.from_ultralytics(_fake_result(BOXES, SCORES, np.array([0.0, 2.5, 1.0])))
    with pytest.raises(ValueError, match="scores: 2 scores for 3 boxes"):
        Detections.from_ultralytics(_fake_result(BOXES, SCORES[:2], CLASSES.astype(np.float32)))


def test_without_supervision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading needs only the attributes; writing an sv.Detections says how to install supervision."""
    monkeypatch.setitem(sys.modules, "supervision", None)  # import supervision -> ImportError
    dets = Detections.from_supervision(SimpleNamespace(xyxy=BOXES, confidence=None, class_id=CLASSES))
    np.testing.assert_array_equal(dets.class_ids, CLASSES)
    with pytest.raises(ImportError, match="pip install supervision"):
        _tracks().to_supervision()
