"""Detectors: decoders, letterbox, NMS, synthetic YOLOv8 (+JDE) and TF-SSD models, real YOLOX-nano and
NanoDet-m on MOTChallenge frames, and public det.txt files."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.association.lsap import linear_sum_assignment
from tracker.detect import (
    FAMILIES,
    Detector,
    MotFileDetector,
    OnnxDetector,
    box_iou,
    decode_nanodet,
    decode_ssd,
    decode_yolov8,
    decode_yolox,
    gfl_integral,
    letterbox,
    nms,
    plain_resize,
)
from tracker.detect.decoders import grid_points, num_grid_points
from tracker.detect.onnx_detector import infer_family
from tracker.detect.preprocess import make_blob
from tracker.io.mot import read_ground_truth
from tracker.onnx_utils import TensorInfo

logger = logging.getLogger(__name__)

SSD_ASSET = (
    Path(__file__).resolve().parents[1] / "benchmarks" / "models" / "pedestrian_ssdlite_mobilenetv2.onnx"
)
YOLOX = "yolox_nano_416x416.onnx"
NANODET = "nanodet_m_416.onnx"
MOT17_09 = "MOT17-mini/train/MOT17-09-FRCNN"
MOT17_02 = "MOT17-mini/train/MOT17-02-FRCNN"
PETS = "MOT15/train/PETS09-S2L1"


# ================================================================ decoders on hand-made arrays
def test_grid_points_order() -> None:
    grid, stride = grid_points((16, 24), (8, 16))
    assert len(grid) == num_grid_points((16, 24), (8, 16)) == 2 * 3 + 1 * 2
    # stride 8 first, row-major (x fastest), then stride 16
    np.testing.assert_array_equal(grid[:4], [[0, 0], [1, 0], [2, 0], [0, 1]])
    np.testing.assert_array_equal(stride, [8] * 6 + [16] * 2)
    np.testing.assert_array_equal(grid[6:], [[0, 0], [1, 0]])


def test_decode_yolox_one_anchor() -> None:
    size = (64, 64)  # grids 8x8 (s8), 4x4 (s16), 2x2 (s32) = 84 points
    out = np.zeros((1, 84, 5 + 3), np.float32)
    i = 64 + 1 * 4 + 2  # stride 16, cell x=2, y=1
    out[0, i] = [0.5, 0.25, np.log(2.0), np.log(3.0), 0.8, 0.1, 0.5, 0.2]
    d = decode_yolox(out, size)
    assert d.boxes.shape == (84, 4) and d.scores.shape == (84,)
    # centre ((2 + 0.5) * 16, (1 + 0.25) * 16) = (40, 20); size (2 * 16, 3 * 16) = (32, 48)
    np.testing.assert_allclose(d.boxes[i], [24, -4, 56, 44], atol=1e-4)
    assert d.scores[i] == pytest.approx(0.8 * 0.5)
    assert d.class_ids[i] == 1
    assert d.scores[np.arange(84) != i].max() == 0.0
    with pytest.raises(ValueError, match=r"expected \[84, 5\+C\]"):
        decode_yolox(out[:, :80], size)


def test_gfl_integral() -> None:
    big = 30.0
    dist = np.full((1, 4, 8), -big, np.float32)
    dist[0, 0, 3] = big  # left: all mass on bin 3
    dist[0, 1, [2, 4]] = big  # top: half on 2, half on 4 -> 3
    dist[0, 2, :] = 0.0  # right: uniform over 0..7 -> 3.5
    dist[0, 3, 0] = big  # bottom: bin 0
    np.testing.assert_allclose(gfl_integral(dist.reshape(1, 32)), [[3, 3, 3.5, 0]], atol=1e-4)
    with pytest.raises(ValueError, match="reg_max 7"):
        gfl_integral(np.zeros((1, 28), np.float32))


def test_decode_nanodet_one_anchor() -> None:
    size, strides, c = (32, 32), (8, 16, 32), 2  # 16 + 4 + 1 points
    counts = [16, 4, 1]
    cls = [np.zeros((1, n, c), np.float32) for n in counts]
    reg = [np.full((1, n, 32), -30.0, np.float32) for n in counts]
    for r in reg:
        r[0, :, 0::8] = 30.0  # every side at bin 0 by default
    i = 2 * 4 + 1  # stride 8, cell x=1, y=2 -> centre (12, 20)
    cls[0][0, i] = [0.2, 0.7]
    side = np.full((4, 8), -30.0, np.float32)
    side[0, 3] = side[1, 3] = side[3, 0] = 30.0
    side[2, :] = 0.0  # 3.5 bins
    reg[0][0, i] = side.ravel()
    d = decode_nanodet(cls, reg, size, strides)
    # distances x 8: left 24, top 24, right 28, bottom 0
    np.testing.assert_allclose(d.boxes[i], [12 - 24, 20 - 24, 12 + 28, 20 + 0], atol=1e-3)
    assert d.scores[i] == pytest.approx(0.7) and d.class_ids[i] == 1
    # the same maps as logits are sigmoided (detected from the value range)
    logits = [np.where(m > 0, np.log(m / (1 - m + 1e-12) + 1e-12), -9.0).astype(np.float32) for m in cls]
    logits[0][0, i] = [np.log(0.2 / 0.8), np.log(0.7 / 0.3)]
    d2 = decode_nanodet(logits, reg, size, strides)
    assert d2.scores[i] == pytest.approx(0.7, abs=1e-5)
    with pytest.raises(ValueError, match="stride 8"):
        decode_nanodet([cls[0][:, :15], *cls[1:]], reg, size, strides)


def test_decode_yolov8_and_ssd() -> None:
    out = np.zeros((1, 4 + 2 + 3, 5), np.float32)
    out[0, :, 1] = [100, 50, 20, 40, 0.1, 0.9, 3, 4, 0]
    d = decode_yolov8(out, embedding_dim=3)
    np.testing.assert_allclose(d.boxes[1], [90, 30, 110, 70])
    assert d.scores[1] == pytest.approx(0.9) and d.class_ids[1] == 1
    assert d.embeddings is not None
    np.testing.assert_allclose(d.embeddings[1], [3, 4, 0])
    with pytest.raises(ValueError, match="channels"):
        decode_yolov8(out, embedding_dim=5)

    boxes = np.array([[[0.25, 0.1, 0.75, 0.4], [0, 0, 1, 1]]], np.float32)
    s = decode_ssd(boxes, [[0.9, 0.8]], [[1.0, 3.0]], [1.0], (480, 640))
    assert len(s.boxes) == 1  # num_detections = 1
    np.testing.assert_allclose(s.boxes[0], [64, 120, 256, 360])
    assert s.class_ids.tolist() == [0]  # 1-based person -> 0


# ================================================================ letterbox / resize
@pytest.mark.parametrize("center", [False, True])
def test_letterbox_round_trip(center: bool) -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[:, :, 2] = 200
    img, tf = letterbox(frame, (416, 416), 114, center=center)
    assert img.shape == (416, 416, 3)
    new_h = int(1080 * 416 / 1920) if not center else round(1080 * 416 / 1920)
    top = 0 if not center else round((416 - new_h) / 2 - 0.1)
    assert tf.pad_x == 0 and tf.pad_y == top
    assert (img[top : top + new_h, :, 2] == 200).all()
    assert (img[:top] == 114).all() and (img[top + new_h :] == 114).all()
    boxes = np.array([[0, 0, 1920, 1080], [100.5, 200.25, 300, 900]], np.float32)
    back = tf.to_frame(tf.to_input(boxes))
    np.testing.assert_allclose(back, boxes, atol=1e-2)
    # the frame's corners land on the image's corners in the input
    np.testing.assert_allclose(tf.to_input(boxes[:1]), [[0, top, 416, top + new_h]], atol=1e-3)


def test_plain_resize_transform() -> None:
    frame = np.zeros((576, 768, 3), np.uint8)
    img, tf = plain_resize(frame, (416, 416))
    assert img.shape == (416, 416, 3)
    np.testing.assert_allclose(tf.to_input([[0, 0, 768, 576]]), [[0, 0, 416, 416]], atol=1e-3)
    np.testing.assert_allclose(tf.to_frame([[208, 208, 416, 416]]), [[384, 288, 768, 576]], atol=1e-3)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_make_blob(layout: Literal["NCHW", "NHWC"]) -> None:
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    mean, std = (103.53, 116.28, 123.675), (57.375, 57.12, 58.395)
    blob = make_blob(img, layout, np.dtype(np.float32), rgb=False, mean=mean, std=std)
    ref = (img.astype(np.float64) - mean) / std
    ref = ref.transpose(2, 0, 1)[None] if layout == "NCHW" else ref[None]
    assert blob.dtype == np.float32 and blob.flags.c_contiguous
    np.testing.assert_allclose(blob, ref, atol=1e-5)
    blob = make_blob(img, layout, np.dtype(np.float32), rgb=True, scale=1 / 255)
    ref = img[:, :, ::-1] / 255.0
    np.testing.assert_allclose(
        blob, ref.transpose(2, 0, 1)[None] if layout == "NCHW" else ref[None], atol=1e-6
    )
    raw = make_blob(img, layout, np.dtype(np.uint8), rgb=True, scale=1 / 255)
    assert raw.dtype == np.uint8 and int(raw.max()) == int(img.max())  # integer inputs: raw pixels


# ================================================================ NMS
def test_nms_same_and_different_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    scores = np.array([0.6, 0.9, 0.8, 0.3], np.float32)
    # class-agnostic: the 0.9 box suppresses both overlapping ones
    assert nms(boxes, scores, 0.5).tolist() == [1, 3]
    # class-aware: box 2 is another class and survives
    assert nms(boxes, scores, 0.5, class_ids=[0, 0, 1, 0]).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.5, class_ids=[0, 0, 1, 0], max_detections=2).tolist() == [1, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 50),
            st.floats(0, 50),
            st.floats(1, 30),
            st.floats(1, 30),
            st.floats(0, 1),
            st.integers(0, 2),
        ),
        max_size=25,
    ),
    st.floats(0.1, 0.9),
)
def test_nms_properties(rows: list[tuple[float, ...]], thr: float) -> None:
    a = np.array(rows, np.float64).reshape(-1, 6)
    boxes = np.concatenate([a[:, :2], a[:, :2] + a[:, 2:4]], axis=1).astype(np.float32)
    scores, cls = a[:, 4].astype(np.float32), a[:, 5].astype(np.int64)
    keep = nms(boxes, scores, thr, cls)
    assert len(set(keep.tolist())) == len(keep)
    assert (np.diff(scores[keep]) <= 0).all()
    iou = box_iou(boxes[keep], boxes[keep])
    same = cls[keep][:, None] == cls[keep][None, :]
    np.fill_diagonal(same, False)
    assert (iou[same] <= thr + 1e-5).all()
    # every dropped box overlaps a kept box of its class with a score at least its own
    dropped = np.setdiff1d(np.arange(len(boxes)), keep)
    for j in dropped:
        k = keep[(cls[keep] == cls[j]) & (scores[keep] >= scores[j])]
        assert (box_iou(boxes[j : j + 1], boxes[k]) > thr - 1e-5).any()


# ================================================================ synthetic ONNX models
def _onnx() -> ModuleType:
    return pytest.importorskip("onnx")


def _const(name: str, arr: np.ndarray) -> Any:
    from onnx import helper, numpy_helper

    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr, name + "_value"))


def _save(graph: Any, path: Path) -> Path:
    onnx = _onnx()
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _channel0_max(inp: str, uint8_nhwc: bool) -> list[Any]:
    """Nodes computing the scalar ``r = max(channel 0 of inp)``: a float NCHW input as is, a uint8 NHWC
    input divided by 255."""
    from onnx import TensorProto, helper

    nodes = [_const("ch0", np.array(0, np.int64))]
    src = inp
    if uint8_nhwc:
        nodes.append(helper.make_node("Cast", [inp], ["inp_f"], to=TensorProto.FLOAT))
        src = "inp_f"
    axis = 3 if uint8_nhwc else 1
    nodes.append(helper.make_node("Gather", [src, "ch0"], ["plane"], axis=axis))
    nodes.append(helper.make_node("ReduceMax", ["plane"], ["r_raw"], keepdims=0))
    if uint8_nhwc:
        nodes.append(_const("c255", np.array(255.0, np.float32)))
        nodes.append(helper.make_node("Div", ["r_raw", "c255"], ["r"]))
    else:
        nodes.append(helper.make_node("Identity", ["r_raw"], ["r"]))
    return nodes


# YOLOv8 synthetic model: frame 640x480 -> letterbox centred into 320x320: r = 0.5, image 320x240 at
# top = 40. Frame boxes (xyxy) and their encodings (cx, cy, w, h in input pixels):
V8_SIZE, V8_C, V8_D = (320, 320), 3, 4
V8_ROWS = [
    # anchor, frame box,                 class, score, embedding
    (10, (100, 100, 300, 400), 0, 0.9, (1, 2, 2, 0)),  # A: person
    (11, (102, 100, 302, 400), 0, 0.6, (1, 0, 0, 0)),  # B: duplicate of A, lower -> NMS
    (12, (100, 104, 300, 404), 2, 0.7, (0, 1, 0, 0)),  # C: other class on A: kept only with classes=None
    (13, (20, 300, 60, 380), 0, 0.05, (0, 0, 1, 0)),  # D: below the score threshold
    (14, (500, -40, 660, 160), 0, 0.8, (0, 0, 0, 5)),  # E: crosses the frame edge -> clipped
]


def _v8_output() -> np.ndarray:
    n = num_grid_points(V8_SIZE)
    out = np.zeros((1, 4 + V8_C + V8_D, n), np.float32)
    for anchor, (x1, y1, x2, y2), c, s, e in V8_ROWS:
        ix1, iy1, ix2, iy2 = x1 * 0.5, y1 * 0.5 + 40, x2 * 0.5, y2 * 0.5 + 40
        out[0, :4, anchor] = [(ix1 + ix2) / 2, (iy1 + iy2) / 2, ix2 - ix1, iy2 - iy1]
        out[0, 4 + c, anchor] = s
        out[0, 4 + V8_C :, anchor] = e
    return out


@pytest.fixture(scope="module")
def yolov8_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``images [1,3,320,320]`` -> ``output0 [1,4+3+4,2100]``: the constants of :func:`_v8_output`
    with the class rows multiplied by ``max(input channel 0)``, which is 1 for a pure red RGB frame
    scaled by 1/255 and 114/255 (the letterbox padding) for a pure blue one."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    out = _v8_output()
    nodes = [
        *_channel0_max("images", uint8_nhwc=False),
        _const("box", out[:, :4]),
        _const("cls", out[:, 4 : 4 + V8_C]),
        _const("emb", out[:, 4 + V8_C :]),
        helper.make_node("Mul", ["cls", "r"], ["cls_r"]),
        helper.make_node("Concat", ["box", "cls_r", "emb"], ["output0"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "yolov8_synthetic",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *V8_SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out.shape))],
    )
    assert onnx is not None
    return _save(graph, tmp_path_factory.mktemp("v8") / "yolov8_jde.onnx")


def _red(h: int, w: int) -> np.ndarray:
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:, :, 2] = 255  # BGR: pure red
    return frame


def test_yolov8_synthetic_decode_and_mapping(yolov8_model: Path) -> None:
    det = OnnxDetector(yolov8_model, "auto", embedding_dim=V8_D)
    assert det.family == "yolov8" and isinstance(det, Detector)
    d = det.detect(_red(480, 640), 1)
    # A and E (persons above 0.1); B suppressed by A; C is a car; D below the threshold
    np.testing.assert_allclose(d.boxes, [[100, 100, 300, 400], [500, 0, 640, 160]], atol=1e-3)
    np.testing.assert_allclose(d.scores, [0.9, 0.8], atol=1e-6)
    assert d.class_ids.tolist() == [0, 0]
    assert d.embeddings is not None
    np.testing.assert_allclose(d.embeddings, [[1 / 3, 2 / 3, 2 / 3, 0], [0, 0, 0, 1]], atol=1e-6)

    every = OnnxDetector(yolov8_model, "yolo11", embedding_dim=V8_D, classes=None, score_threshold=0.01)
    d = every.detect(_red(480, 640), 1)
    assert d.class_ids.tolist() == [0, 0, 2, 0]  # C survives class-aware NMS; D now above threshold
    np.testing.assert_allclose(d.scores, [0.9, 0.8, 0.7, 0.05], atol=1e-6)
    # blue frame: channel 0 of the RGB input is only the 114/255 padding -> scores scaled by it
    d = every.detect(np.full((480, 640, 3), (255, 0, 0), np.uint8), 1)
    np.testing.assert_allclose(d.scores[:2], np.array([0.9, 0.8]) * 114 / 255, atol=1e-5)


def test_yolov8_without_embedding_dim_and_nms_off(yolov8_model: Path) -> None:
    # Without embedding_dim the embedding channels read as 4 more "classes" whose values exceed 1: a
    # clear error rather than silently wrong detections.
    det = OnnxDetector(yolov8_model, "yolov8", classes=None, nms_iou=1.0)
    with pytest.raises(ValueError, match=r"yolov8_jde\.onnx.*not \[0, 1\].*embedding_dim"):
        det.detect(_red(480, 640), 1)
    # nms_iou=1.0: the duplicate B survives
    det = OnnxDetector(yolov8_model, "yolov8", embedding_dim=V8_D, nms_iou=1.0)
    assert det.detect(_red(480, 640), 1).scores.tolist() == pytest.approx([0.9, 0.8, 0.6])


def _ssd_model(path: Path, input_hw: Sequence[int | str]) -> Path:
    """TF-OD-API-like model: ``image_tensor uint8 [1,H,W,3]`` -> outputs in TF's signature order
    ``detection_boxes:0 [1,5,4]``, ``detection_classes:0``, ``detection_scores:0`` (x max(R)/255),
    ``num_detections:0 [1]`` = 3, plus an unrelated ``raw_detection_boxes:0``."""
    from onnx import TensorProto, helper

    boxes = np.array(
        [[[0.25, 0.1, 0.75, 0.4], [0.0, 0.5, 0.5, 1.0], [0.1, 0.1, 0.2, 0.2], [0, 0, 1, 1], [0, 0, 1, 1]]],
        np.float32,
    )
    classes = np.array([[1, 3, 1, 1, 1]], np.float32)
    scores = np.array([[0.9, 0.8, 0.05, 0.99, 0.99]], np.float32)  # rows 3-4 beyond num_detections
    nodes = [
        *_channel0_max("image_tensor", uint8_nhwc=True),
        _const("detection_boxes:0", boxes),
        _const("detection_classes:0", classes),
        _const("scores_c", scores),
        helper.make_node("Mul", ["scores_c", "r"], ["detection_scores:0"]),
        _const("num_detections:0", np.array([3.0], np.float32)),
        _const("raw_detection_boxes:0", np.zeros((1, 10, 4), np.float32)),
    ]
    outs = [
        helper.make_tensor_value_info("detection_boxes:0", TensorProto.FLOAT, [1, 5, 4]),
        helper.make_tensor_value_info("detection_classes:0", TensorProto.FLOAT, [1, 5]),
        helper.make_tensor_value_info("detection_scores:0", TensorProto.FLOAT, [1, 5]),
        helper.make_tensor_value_info("num_detections:0", TensorProto.FLOAT, [1]),
        helper.make_tensor_value_info("raw_detection_boxes:0", TensorProto.FLOAT, [1, 10, 4]),
    ]
    graph = helper.make_graph(
        nodes,
        "ssd_synthetic",
        [helper.make_tensor_value_info("image_tensor", TensorProto.UINT8, [1, *input_hw, 3])],
        outs,
    )
    return _save(graph, path)


@pytest.mark.parametrize("input_hw", [("height", "width"), (300, 300)], ids=["dynamic", "fixed"])
def test_ssd_synthetic(tmp_path: Path, input_hw: Sequence[int | str]) -> None:
    _onnx()
    model = _ssd_model(tmp_path / "ssd.onnx", input_hw)
    det = OnnxDetector(model)  # auto
    assert det.family == "ssd"
    assert det.input_size == (None if input_hw[0] == "height" else (300, 300))
    frame = _red(480, 640)
    d = det.detect(frame, 1)
    # normalised (ymin, xmin, ymax, xmax) -> frame pixels whatever the model's input size
    np.testing.assert_allclose(d.boxes, [[64, 120, 256, 360]], atol=1e-3)
    np.testing.assert_allclose(d.scores, [0.9], atol=1e-6)
    assert d.class_ids.tolist() == [0]  # TF person id 1 -> 0
    d = OnnxDetector(model, "ssd", classes=None, score_threshold=0.01).detect(frame, 1)
    assert d.class_ids.tolist() == [0, 2, 0]  # num_detections = 3: the 0.99 rows are padding
    np.testing.assert_allclose(d.boxes[1], [320, 0, 640, 240], atol=1e-3)
    # the model sees RGB: a pure blue frame has no red, scores 0 -> nothing kept
    assert len(det.detect(np.full((480, 640, 3), (255, 0, 0), np.uint8), 1)) == 0


def test_infer_family_shapes() -> None:
    def t(name: str, *shape: int | None) -> TensorInfo:
        return TensorInfo(name, tuple(shape), "tensor(float)")

    assert infer_family([t("output", 1, 3549, 85)], (416, 416)) == "yolox"
    assert infer_family([t("output0", 1, 84, 3549)], (416, 416)) == "yolov8"
    levels = [(3549 - 845, 8), (676, 16), (169, 32)]
    outs = [t(f"cls_pred_stride_{s}", 1, n, 80) for n, s in levels]
    outs += [t(f"dis_pred_stride_{s}", 1, n, 32) for n, s in levels]
    assert infer_family(outs, (416, 416)) == "nanodet"
    ssd = [t("a/detection_boxes:0", 1, 100, 4), t("detection_scores", 1, 100)]
    ssd += [t("detection_classes", 1, 100), t("num_detections", 1)]
    assert infer_family(ssd, None) == "ssd"
    # TF2 saved-model signature after tf2onnx: extra outputs, dynamic dims, one with unknown rank
    tf2 = [t(n, None, None) for n in ("detection_anchor_indices", "detection_classes", "detection_scores")]
    tf2 += [t("detection_boxes", None, None, 4), t("detection_multiclass_scores", None, None, 91)]
    tf2 += [
        t("num_detections"),
        t("raw_detection_boxes", None, None, 4),
        t("raw_detection_scores", None, None, 91),
    ]
    assert infer_family(tf2, None) == "ssd"
    # anonymous outputs: boxes by shape, classes by integer type
    anon = [t("a", 1, 10, 4), t("b", 1, 10), TensorInfo("c", (1, 10), "tensor(int64)"), t("d", 1)]
    assert infer_family(anon, None) == "ssd"
    assert infer_family([t("a", 1, 10, 4), t("b", 1, 10), t("c", 1, 10), t("d", 1)], None) is None
    assert infer_family([t("output", 1, 1000, 85)], (416, 416)) is None
    assert infer_family([t("x", 1, 7)], (416, 416)) is None
    # Caffe/OpenVINO SSD cut before DetectionOutput: deltas, softmaxed scores, constant priors
    pri = [t("mbox_loc", 1, 4 * 12128), t("mbox_conf", 1, 2 * 12128), t("mbox_priors", 1, 2, 4 * 12128)]
    assert infer_family(pri, (384, 672)) == "ssd-priors"
    assert infer_family(pri[::-1], None) == "ssd-priors"
    assert infer_family([*pri[:2], t("p", 1, 3, 4 * 12128)], (384, 672)) is None


def test_bad_inputs_synthetic(tmp_path: Path, yolov8_model: Path) -> None:
    _onnx()
    from onnx import TensorProto, helper

    odd = _save(
        helper.make_graph(
            [helper.make_node("Flatten", ["x"], ["y"], axis=1)],
            "odd",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3 * 64 * 64])],
        ),
        tmp_path / "odd_model.onnx",
    )
    with pytest.raises(ValueError, match=r"odd_model\.onnx.*cannot infer.*yolox.*nanodet.*yolov8.*ssd"):
        OnnxDetector(odd)
    with pytest.raises(ValueError, match=r"odd_model\.onnx.*yolox family.*\[1, 12288\]"):
        OnnxDetector(odd, "yolox")
    with pytest.raises(ValueError, match="unknown detector family 'detr'"):
        OnnxDetector(odd, "detr")
    with pytest.raises(ValueError, match=r"yolov8_jde\.onnx.*ssd family"):
        OnnxDetector(yolov8_model, "ssd")
    with pytest.raises(ValueError, match="embedding_dim"):
        OnnxDetector(yolov8_model, "yolov8", embedding_dim=0)
    with pytest.raises(FileNotFoundError):
        OnnxDetector(tmp_path / "missing.onnx", "yolox")
    det = OnnxDetector(yolov8_model, "yolov8")
    for frame in (
        np.zeros((48, 64, 3), np.float32),
        np.zeros((48, 64), np.uint8),
        np.zeros((48, 64, 4), np.uint8),
        [[0, 0, 0]],
    ):
        with pytest.raises(ValueError, match=r"uint8\[H,W,3\]"):
            det.detect(frame, 1)  # type: ignore[arg-type]
    assert set(FAMILIES) == {"yolox", "nanodet", "yolov8", "ssd", "ssd-priors"}


# ================================================================ real models (shared/models)
@pytest.fixture(scope="module")
def yolox(models: Path) -> OnnxDetector:
    return OnnxDetector(models / YOLOX, "yolox", threads=2)


@pytest.fixture(scope="module")
def nanodet(models: Path) -> OnnxDetector:
    return OnnxDetector(models / NANODET, "nanodet", threads=2)


@pytest.fixture(scope="module")
def ssd() -> OnnxDetector:
    """The embedded default pedestrian SSDLite (TF OD API via tf2onnx), when it is in the checkout."""
    if not SSD_ASSET.is_file():
        pytest.skip(f"embedded SSD model not found at {SSD_ASSET}")
    det = OnnxDetector(SSD_ASSET, threads=2)  # auto
    assert det.family == "ssd" and det.input_size is None  # dynamic H/W: frames fed as they are
    return det


def _frames(data_root: Path) -> list[tuple[str, int, int]]:
    """(sequence, frame, min target height): MOT17-09/02 frames 1-4 (1920x1080; people under 100 px
    are ~20 px at 416 input, beyond these nano models), and every 100th PETS09 frame (768x576)."""
    mot = [(seq, f, 100) for seq in (MOT17_09, MOT17_02) for f in (1, 2, 3, 4)]
    return mot + [(PETS, f, 0) for f in range(1, 796, 100)]


def _score(
    det: OnnxDetector, data_root: Path, frames: list[tuple[str, int, int]]
) -> tuple[float, float, float]:
    """(recall at the detector's threshold, precision of detections scoring >= 0.5, mean IoU of the
    matches) over ``frames``, matching at IoU 0.5 (Hungarian).

    Targets: ``consider`` rows of class 1 (pedestrian), visibility >= 0.5, height >= the frame's
    minimum. A detection is a false positive unless matched to a target or overlapping (IoU >= 0.5) any
    person-like ground-truth row (classes 1, 2, 7, 8, 12: occluded, small, static, distractor...).
    """
    tp = n_tgt = tp_hi = fp_hi = 0
    ious: list[float] = []
    gts: dict[str, Any] = {}
    for seq, f, min_h in frames:
        if seq not in gts:
            gts[seq] = read_ground_truth(data_root / seq / "gt" / "gt.txt")
        g = gts[seq][f]
        frame = cv2.imread(str(data_root / seq / "img1" / f"{f:06d}.jpg"))
        assert frame is not None
        d = det.detect(frame, f)
        height = g.boxes[:, 3] - g.boxes[:, 1]
        target = g.consider & (g.classes == 1) & (g.visibility >= 0.5) & (height >= min_h)
        person = np.isin(g.classes, [1, 2, 7, 8, 12])
        n_tgt += int(target.sum())
        for hi in (False, True):
            keep = d.scores >= 0.5 if hi else np.ones(len(d), bool)
            boxes = d.boxes[keep]
            iou = box_iou(g.boxes[target], boxes)
            r, c = linear_sum_assignment(-iou) if iou.size else (np.zeros(0, int), np.zeros(0, int))
            ok = iou[r, c] >= 0.5
            if hi:
                matched = np.zeros(len(boxes), bool)
                matched[c[ok]] = True
                near_person = box_iou(boxes, g.boxes[person]).max(axis=1, initial=0.0) >= 0.5
                tp_hi += int(ok.sum())
                fp_hi += int((~matched & ~near_person).sum())
            else:
                tp += int(ok.sum())
                ious.extend(iou[r, c][ok].tolist())
    return tp / n_tgt, tp_hi / max(tp_hi + fp_hi, 1), float(np.mean(ious)) if ious else 0.0


# Measured on these frames (default options: score >= 0.1, NMS IoU 0.6), recall / precision@0.5:
#   YOLOX-nano  MOT17-09+02 (52 targets >= 100 px): 0.67 / 0.85;  PETS09 (41 targets): 0.98 / 0.83
#   NanoDet-m   MOT17-09+02:                        0.65 / 0.65;  PETS09:             1.00 / 0.98
#   SSDLite (previous default, NMS in the graph):   0.44 / 0.67;  PETS09:             0.80 / 0.83
#   adas-0002 (embedded default, ssd-priors):       0.81 / 0.90;  PETS09:             0.98 / 0.97
# Floors = measured minus a margin for ONNX Runtime / OpenCV resize differences across machines. They
# are meaningful: a broken decode (wrong grid order, stride, exp, or no mapping back to the frame)
# gives recall ~0, and even the subtle half-cell error of NanoDet (anchor at the cell corner instead
# of its centre) drops recall to 0.44 on MOT17 and 0.66 on PETS09, below the floors.
FLOORS = {
    # model: (MOT17 recall, PETS09 recall, precision of score >= 0.5 detections)
    "yolox": (0.55, 0.9, 0.6),
    "nanodet": (0.55, 0.9, 0.5),
    "ssd": (0.3, 0.65, 0.5),
    "adas": (0.7, 0.9, 0.8),
}


@pytest.fixture(scope="module")
def adas() -> OnnxDetector:
    from tracker.assets import default_detector

    return default_detector(threads=2)


@pytest.mark.data
@pytest.mark.parametrize("name", ["yolox", "nanodet", "ssd", "adas"])
def test_real_model_recall(name: str, request: pytest.FixtureRequest, data_root: Path) -> None:
    det: OnnxDetector = request.getfixturevalue(name)
    frames = _frames(data_root)
    mot_recall, mot_prec, mot_iou = _score(det, data_root, [f for f in frames if f[0] != PETS])
    pets_recall, pets_prec, pets_iou = _score(det, data_root, [f for f in frames if f[0] == PETS])
    logger.info(
        "%s: MOT17 recall %.3f precision@0.5 %.3f IoU %.3f; PETS09 recall %.3f precision@0.5 %.3f IoU %.3f",
        name,
        mot_recall,
        mot_prec,
        mot_iou,
        pets_recall,
        pets_prec,
        pets_iou,
    )
    min_mot, min_pets, min_prec = FLOORS[name]
    assert mot_recall >= min_mot
    assert pets_recall >= min_pets
    assert min(mot_prec, pets_prec) >= min_prec
    assert min(mot_iou, pets_iou) >= 0.6  # matched boxes fit well (measured 0.66-0.76)


@pytest.mark.data
def test_real_models_auto_family_and_output(models: Path, yolox: OnnxDetector, data_root: Path) -> None:
    assert OnnxDetector(models / YOLOX).family == "yolox"
    assert OnnxDetector(models / NANODET).family == "nanodet"
    frame = cv2.imread(str(data_root / PETS / "img1" / "000001.jpg"))
    d = yolox.detect(frame, 1)
    assert len(d) >= 3 and d.embeddings is None
    assert (d.class_ids == 0).all() and (np.diff(d.scores) <= 0).all() and (d.scores >= 0.1).all()
    assert (d.boxes[:, :2] >= 0).all() and (d.boxes[:, 2] <= 768).all() and (d.boxes[:, 3] <= 576).all()


@pytest.mark.data
def test_real_models_wrong_family(models: Path) -> None:
    with pytest.raises(ValueError, match=r"yolox_nano_416x416\.onnx.*nanodet family.*\[1, 3549, 85\]"):
        OnnxDetector(models / YOLOX, "nanodet")
    with pytest.raises(ValueError, match=r"yolox_nano_416x416\.onnx.*yolov8 family.*\[1, 3549, 85\]"):
        OnnxDetector(models / YOLOX, "yolov8")
    with pytest.raises(ValueError, match=r"nanodet_m_416\.onnx.*yolox family.*cls_pred_stride_8"):
        OnnxDetector(models / NANODET, "yolox")
    with pytest.raises(ValueError, match=r"nanodet_m_416\.onnx.*ssd family"):
        OnnxDetector(models / NANODET, "ssd")


@pytest.mark.data
def test_real_models_timing(yolox: OnnxDetector, nanodet: OnnxDetector, data_root: Path) -> None:
    """Not asserted: ms/frame on a 768x576 frame, logged (``pytest -o log_cli=true --log-cli-level=INFO``)."""
    frame = cv2.imread(str(data_root / PETS / "img1" / "000001.jpg"))
    for name, det in (("yolox", yolox), ("nanodet", nanodet)):
        det.detect(frame, 1)
        t0 = time.perf_counter()
        for _ in range(5):
            det.detect(frame, 1)
        logger.info("%s: %.1f ms/frame on 768x576", name, (time.perf_counter() - t0) / 5 * 1000)


# ================================================================ public det.txt
@pytest.mark.data
def test_mot_file_detector(data_root: Path) -> None:
    det = MotFileDetector(data_root / PETS / "det" / "det.txt")
    assert isinstance(det, Detector)
    d = det.detect(None, 1)
    assert len(d) == 3
    np.testing.assert_allclose(d.boxes[0], [500, 158, 500 + 30.979, 158 + 70.299], atol=1e-3)
    lo, hi = det.score_range
    assert hi > 1.0  # ACF scores: raw, not in [0, 1] ...
    assert ((d.scores >= 0) & (d.scores <= 1)).all()  # ... normalised over the whole file
    assert d.scores[0] == pytest.approx((93.673 - lo) / (hi - lo), abs=1e-5)
    assert (d.class_ids == 0).all()
    assert len(det.detect(None, 10_000)) == 0
    assert len(MotFileDetector(data_root / PETS / "det" / "det.txt", min_score=0.99).detect(None, 1)) == 0
    with pytest.raises(ValueError, match="1-based"):
        det.detect(None, 0)


# ================================================================ ONNX Runtime sessions
def test_sessions_do_not_spin_and_take_thread_counts() -> None:
    from tracker.onnx_utils import make_session

    for threads in (1, 2):
        opts = make_session(SSD_ASSET, threads=threads).get_session_options()
        assert opts.intra_op_num_threads == threads
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert opts.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    opts = make_session(SSD_ASSET, allow_spinning=True).get_session_options()
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    det = OnnxDetector(SSD_ASSET, family="ssd", threads=1)
    assert (
        det._session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
    )


# ================================================================ family registry
def _toy_family_package(root: Path, name: str, module: str, spec_name: str, aliases: tuple[str, ...]) -> str:
    """A package ``name`` with one family module, as a contributor would add to tracker/detect/families."""
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / module).write_text(
        f"""
from tracker.detect.decoders import Decoded
from tracker.detect.families.base import FamilyDefaults, FamilySpec, LayoutMismatch
import numpy as np


def _matches(outputs, input_size):
    return len(outputs) == 1 and outputs[0].rank == 2 and outputs[0].shape[-1] == 6


def _build(ctx):
    if not _matches(ctx.outputs, ctx.input_size):
        raise LayoutMismatch("expected one [N, 6] output: x1, y1, x2, y2, score, class")

    def dec(arrays, hw):
        a = np.asarray(arrays[0], np.float32)
        return Decoded(a[:, :4], a[:, 4], a[:, 5].astype(np.int64))

    return [ctx.outputs[0].name], dec


SPEC = FamilySpec(
    name={spec_name!r},
    order=5,
    summary="toy rows of x1, y1, x2, y2, score, class",
    defaults=FamilyDefaults("plain", True, 1.0, None, None, 114, 0.25, 0.5),
    matches=_matches,
    build_decoder=_build,
    aliases={aliases!r},
)
"""
    )
    return name


def test_registry_reads_one_module_per_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.detect.families import SPECS, family_help, get_family, load_specs
    from tracker.detect.families.base import DecoderContext

    # the shipped registry: every family listed in the help, aliases resolve, unknown names are errors
    assert FAMILIES[:4] == ("yolox", "nanodet", "yolov8", "ssd")
    text = family_help()
    for name in FAMILIES:
        assert name in text
    assert "auto" in text and "ultralytics" in text
    assert get_family("YOLO11").name == "yolov8" and get_family("openvino-ssd").name == "ssd-priors"
    with pytest.raises(ValueError, match=r"unknown detector family 'detr'.*ssd-priors.*auto"):
        get_family("detr")

    # adding a family = adding one module that defines SPEC
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = _toy_family_package(tmp_path, "toyfams", "rows.py", "toy-rows", ("rows6",))
    specs = {s.name: s for s in (*load_specs(pkg), *SPECS.values())}
    assert get_family("ROWS6", specs).name == "toy-rows"
    rows = [TensorInfo("dets", (None, 6), "tensor(float)")]
    assert infer_family(rows, None) is None  # not a shipped family
    assert infer_family(rows, None, specs) == "toy-rows"
    assert "toy-rows (alias rows6): toy rows" in family_help(specs)
    names, dec = specs["toy-rows"].build_decoder(DecoderContext(rows, None, None))
    out = dec([np.array([[1, 2, 3, 4, 0.9, 0]], np.float32)], (10, 10))
    assert names == ["dets"] and out.boxes.tolist() == [[1, 2, 3, 4]] and out.class_ids.tolist() == [0]


def test_registry_rejects_taken_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.detect.families import load_specs

    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = _toy_family_package(tmp_path, "dupfams", "a.py", "dup-a", ("same",))
    (tmp_path / pkg / "b.py").write_text((tmp_path / pkg / "a.py").read_text().replace("'dup-a'", "'dup-b'"))
    with pytest.raises(ValueError, match=r"'same'.*already taken"):
        load_specs(pkg)


def test_decode_ssd_priors_center_size() -> None:
    from tracker.detect import decode_ssd_priors

    priors = np.array([[0.1, 0.2, 0.3, 0.6], [0.5, 0.5, 0.7, 0.9]], np.float32)
    var = np.tile(np.array([0.1, 0.1, 0.2, 0.2], np.float32), (2, 1))
    pri = np.stack([priors.reshape(-1), var.reshape(-1)])[None]
    conf = np.array([[0.2, 0.8], [0.9, 0.1]], np.float32).reshape(1, -1)
    # zero deltas: the prior itself, in input pixels
    out = decode_ssd_priors(np.zeros((1, 8), np.float32), conf, pri, (100, 200))
    np.testing.assert_allclose(out.boxes, [[20, 20, 60, 60], [100, 50, 140, 90]], atol=1e-4)
    np.testing.assert_allclose(out.scores, [0.8, 0.1])
    assert out.class_ids.tolist() == [0, 0]  # background dropped, person = 0
    # dx = 1 moves the centre by var * width; dw = ln 2 / var doubles the width
    loc = np.array([[1.0, 0, np.log(2) / 0.2, 0], [0, 0, 0, 0]], np.float32).reshape(1, -1)
    out = decode_ssd_priors(loc, conf, pri, (100, 200))
    cx = (0.2 + 0.1 * 0.2) * 200
    np.testing.assert_allclose(out.boxes[0], [cx - 0.4 * 200 / 2, 20, cx + 0.4 * 200 / 2, 60], atol=1e-3)
    with pytest.raises(ValueError, match="priors"):
        decode_ssd_priors(loc, conf, pri[:, :1], (100, 200))
    with pytest.raises(ValueError, match="deltas"):
        decode_ssd_priors(loc[:, :4], conf, pri, (100, 200))


# ================================================================ embedded default vs its OpenVINO IR
ADAS_IR = "candidates/pedestrian-detection-adas-0002/pedestrian-detection-adas-0002.xml"


@pytest.mark.data
def test_default_detector_matches_openvino_ir(models: Path, data_root: Path, adas: OnnxDetector) -> None:
    """Box for box: the rebuilt ONNX (ONNX Runtime + numpy priors decoding + our NMS) against the IR's
    own DetectionOutput run by OpenVINO, on real frames. Measured on 89 frames (PETS09 every 16th +
    MOT17-mini): 791 of 791 boxes, max |box diff| 2.4e-4 px, max |score diff| 1.7e-6. Tolerance: 0.01 px
    and 1e-4 in score (float32 summation order differs between the runtimes)."""
    ov = pytest.importorskip("openvino", reason="openvino not installed (a tools/benchmark dependency)")
    from tracker.geometry import iou_matrix

    core = ov.Core()
    compiled = core.compile_model(
        core.read_model(models / ADAS_IR), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    frames = [(PETS, f) for f in (1, 201, 401, 601)] + [(MOT17_09, 1), (MOT17_02, 1)]
    total = 0
    for seq, f in frames:
        frame = cv2.imread(str(data_root / seq / "img1" / f"{f:06d}.jpg"))
        assert frame is not None
        h, w = frame.shape[:2]
        blob = cv2.resize(frame, (672, 384), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)[None]
        rows = np.asarray(compiled(blob.astype(np.float32))[compiled.outputs[0]]).reshape(-1, 7)
        rows = rows[(rows[:, 0] >= 0) & (rows[:, 2] >= adas.score_threshold)]
        ref = np.clip(rows[:, 3:7] * [w, h, w, h], 0, [w, h, w, h])
        d = adas.detect(frame, f)
        assert len(d) == len(rows), (seq, f)
        if len(d):
            j = iou_matrix(ref, d.boxes).argmax(axis=1)
            assert sorted(j.tolist()) == list(range(len(d)))  # one to one
            np.testing.assert_allclose(d.boxes[j], ref, atol=0.01)
            np.testing.assert_allclose(d.scores[j], rows[:, 2], atol=1e-4)
        total += len(d)
    assert total >= 30  # people were found: the comparison is not vacuous
