"""ReID embedders: provider selection, session helpers, preprocessing specs, real and tiny ONNX models."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import pytest

from tracker.assets import DEFAULT_EMBEDDER, IMAGENET_EMBEDDER, default_embedder
from tracker.onnx_utils import inspect_image_input, make_session, select_providers
from tracker.reid import (
    IMAGENET_SPEC,
    METADATA_KEY,
    Embedder,
    OnnxEmbedder,
    PreprocessSpec,
    crop_and_resize,
    sidecar_path,
)

OSNET = "osnet_x0_25_msmt17.onnx"
RETAIL = "person-reidentification-retail-0288.onnx"
RETAIL_SPEC = PreprocessSpec(channel_order="BGR", scale=1.0, mean=(0, 0, 0), std=(1, 1, 1))
SEQ = "MOT17-mini/train/MOT17-02-FRCNN"
CUDA, CPU, TRT = "CUDAExecutionProvider", "CPUExecutionProvider", "TensorrtExecutionProvider"


# ---------------------------------------------------------------- provider selection / sessions
def test_select_providers_default_prefers_cuda() -> None:
    assert select_providers(None, [CPU, CUDA]) == [CUDA, CPU]
    assert select_providers(None, [CPU]) == [CPU]
    assert select_providers(None, ["AzureExecutionProvider", CPU]) == [CPU]


def test_select_providers_requested() -> None:
    assert select_providers([CPU], [CUDA, CPU]) == [CPU]
    assert select_providers([CUDA, CPU, CUDA], [CUDA, CPU]) == [CUDA, CPU]
    with pytest.raises(ValueError, match=r"TensorrtExecutionProvider.*not available.*CPUExecutionProvider"):
        select_providers([TRT, CPU], [CUDA, CPU])
    with pytest.raises(ValueError, match="empty"):
        select_providers([], [CPU])
    with pytest.raises(ValueError, match="list of names"):
        select_providers(CPU, [CPU])
    with pytest.raises(ValueError, match="none of the default"):
        select_providers(None, ["AzureExecutionProvider"])


def test_make_session_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match=r"nope\.onnx"):
        make_session(missing)
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match=r"garbage\.onnx"):
        make_session(bad)
    with pytest.raises(ValueError, match="threads"):
        make_session(bad, threads=0)


# ---------------------------------------------------------------- PreprocessSpec
def test_spec_from_dict_and_yaml(tmp_path: Path) -> None:
    spec = PreprocessSpec.from_dict({"channel_order": "BGR", "scale": 1, "mean": [0, 0, 0], "std": [1, 1, 1]})
    assert spec == RETAIL_SPEC
    assert PreprocessSpec.from_dict({}) == IMAGENET_SPEC
    assert PreprocessSpec.from_dict({"input_size": [64, 32]}).input_size == (64, 32)
    assert PreprocessSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match=r"unknown key.*'means'"):
        PreprocessSpec.from_dict({"means": [0, 0, 0]})
    for bad in (
        {"channel_order": "RGBA"},
        {"scale": 0},
        {"mean": [0, 0]},
        {"std": [1, 0, 1]},
        {"input_size": [0, 3]},
        {"interpolation": "lanczos9"},
    ):
        with pytest.raises(ValueError):
            PreprocessSpec.from_dict(bad)
    path = tmp_path / "spec.yaml"
    path.write_text("channel_order: BGR\nscale: 1.0\nmean: [0, 0, 0]\nstd: [1, 1, 1]\n")
    assert PreprocessSpec.from_yaml(path) == RETAIL_SPEC
    path.write_text("channel_order: BGR\ncolour: red\n")
    with pytest.raises(ValueError, match=r"spec.yaml.*unknown key"):
        PreprocessSpec.from_yaml(path)
    with pytest.raises(FileNotFoundError):
        PreprocessSpec.from_yaml(tmp_path / "missing.yaml")


def test_crop_and_resize_clips_and_never_fails() -> None:
    img = np.zeros((40, 60, 3), np.uint8)
    img[:20, :30] = (255, 0, 0)  # top-left quadrant blue (BGR)
    boxes = np.array(
        [
            [-10, -10, 10, 10],  # partly outside, inside the blue quadrant
            [100, 100, 120, 130],  # entirely outside -> 1 px at the bottom-right corner
            [5, 5, 5, 5],  # degenerate
            [10, 10, 2, 2],  # inverted
        ],
        np.float32,
    )
    crops = crop_and_resize(img, boxes, (8, 4))
    assert crops.shape == (4, 8, 4, 3) and crops.dtype == np.uint8
    assert (crops[0] == (255, 0, 0)).all()
    assert (crops[1] == 0).all()
    assert crops[2].shape == (8, 4, 3)
    assert crop_and_resize(img, np.zeros((0, 4), np.float32), (8, 4)).shape == (0, 8, 4, 3)


# ---------------------------------------------------------------- tiny ONNX models
@pytest.fixture(scope="module")
def onnx_mod() -> ModuleType:
    return pytest.importorskip("onnx")


def _tiny_model(
    onnx: ModuleType,
    path: Path,
    input_shape: Sequence[int | str],
    *,
    op: str = "Flatten",
    output_shape: Sequence[int | str] | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """A one-node model: ``Flatten`` (x -> [N, C*H*W], an 'embedding' that exposes the preprocessed
    pixels) or ``Identity``."""
    from onnx import TensorProto, helper

    node = (
        helper.make_node("Flatten", ["x"], ["y"], axis=1)
        if op == "Flatten"
        else helper.make_node(op, ["x"], ["y"])
    )
    if output_shape is None:
        output_shape = [input_shape[0], "D"] if op == "Flatten" else list(input_shape)
    graph = helper.make_graph(
        [node],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(output_shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def _expected_flat(
    bgr: tuple[int, int, int], spec: PreprocessSpec, h: int, w: int, layout: str
) -> np.ndarray:
    """Normalised Flatten output for a crop of one constant colour."""
    px = np.array(bgr if spec.channel_order == "BGR" else bgr[::-1], np.float64)
    v = (px * spec.scale - np.array(spec.mean)) / np.array(spec.std)
    flat = np.repeat(v, h * w) if layout == "NCHW" else np.tile(v, h * w)
    return (flat / np.linalg.norm(flat)).astype(np.float32)


def _constant_image(bgr: tuple[int, int, int]) -> np.ndarray:
    img = np.zeros((50, 70, 3), np.uint8)
    img[:] = bgr
    return img


@pytest.mark.parametrize(
    ("shape", "what"),
    [
        ([1, 3, 256], "rank 4"),
        ([1, 5, 64, 64], "channel layout"),
        ([1, 3, 8, 3], "channel layout"),
    ],
)
def test_wrong_input_shape_raises(onnx_mod: ModuleType, tmp_path: Path, shape: list[int], what: str) -> None:
    path = _tiny_model(onnx_mod, tmp_path / "wrong.onnx", shape)
    seen = "[" + ", ".join(str(d) for d in shape) + "]"
    with pytest.raises(ValueError, match=what) as info:
        OnnxEmbedder(path, spec=IMAGENET_SPEC)
    assert "wrong.onnx" in str(info.value) and seen in str(info.value)


def test_wrong_output_and_dynamic_size(onnx_mod: ModuleType, tmp_path: Path) -> None:
    path = _tiny_model(onnx_mod, tmp_path / "ident.onnx", ["N", 3, 8, 4], op="Identity")
    with pytest.raises(ValueError, match=r"ident.onnx.*rank 2"):
        OnnxEmbedder(path, spec=IMAGENET_SPEC)
    path = _tiny_model(onnx_mod, tmp_path / "dyn.onnx", ["N", "H", "W", 3])
    with pytest.raises(ValueError, match=r"dyn.onnx.*input_size"):
        OnnxEmbedder(path, spec=IMAGENET_SPEC)
    spec = PreprocessSpec(input_size=(6, 2))
    emb = OnnxEmbedder(path, spec=spec)
    assert emb.layout == "NHWC" and emb.input_size == (6, 2) and emb.fixed_batch is None
    assert emb.dim == 6 * 2 * 3  # dynamic D found by a probe run
    fixed = _tiny_model(onnx_mod, tmp_path / "fixed.onnx", [1, 3, 8, 4])
    with pytest.raises(ValueError, match="differs"):
        OnnxEmbedder(fixed, spec=spec)


@pytest.mark.parametrize(("layout", "shape"), [("NCHW", ["N", 3, 4, 2]), ("NHWC", [2, 4, 2, 3])])
def test_metadata_spec_and_exact_preprocessing(
    onnx_mod: ModuleType, tmp_path: Path, layout: str, shape: list[Any]
) -> None:
    spec = PreprocessSpec(channel_order="RGB", scale=1 / 255, mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 0.125))
    path = _tiny_model(onnx_mod, tmp_path / "meta.onnx", shape, metadata={METADATA_KEY: spec.to_json()})
    emb = OnnxEmbedder(path, batch_size=2)
    assert emb.spec_source == "metadata" and emb.spec == spec
    assert emb.layout == layout and emb.input_size == (4, 2) and emb.dim == 24
    assert emb.fixed_batch == (2 if layout == "NHWC" else None)
    bgr = (10, 120, 250)
    out = emb.embed(_constant_image(bgr), np.array([[0, 0, 10, 10]] * 3, np.float32))  # 3 = pad a chunk
    assert out.shape == (3, 24) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.tile(_expected_flat(bgr, spec, 4, 2, layout), (3, 1)), atol=1e-5)


@pytest.mark.parametrize(("layout", "shape"), [("NCHW", ["N", 3, 4, 2]), ("NHWC", [2, 4, 2, 3])])
def test_embed_crops_equals_embed_of_whole_images(
    onnx_mod: ModuleType, tmp_path: Path, layout: str, shape: list[Any]
) -> None:
    """Ready-cut crops (the distillation teacher's input): the same embeddings as ``embed`` of boxes
    covering them, resized here when their size differs; bad arrays are refused."""
    path = _tiny_model(onnx_mod, tmp_path / "c.onnx", shape)
    emb = OnnxEmbedder(path, spec=IMAGENET_SPEC, batch_size=2)
    rng = np.random.default_rng(3)
    for h, w in ((4, 2), (9, 5)):
        crops = rng.integers(0, 256, (3, h, w, 3), dtype=np.uint8)
        got = emb.embed_crops(crops)
        want = np.concatenate([emb.embed(c, np.array([[0, 0, w, h]], np.float32)) for c in crops])
        assert got.shape == (3, 24) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert emb.embed_crops(np.zeros((0, 4, 2, 3), np.uint8)).shape == (0, 24)
    for bad in (
        np.zeros((2, 4, 2, 3), np.float32),
        np.zeros((4, 2, 3), np.uint8),
        np.zeros((1, 4, 2, 1), np.uint8),
    ):
        with pytest.raises(ValueError, match=r"crops: expected uint8\[N,h,w,3\]"):
            emb.embed_crops(bad)


def test_spec_precedence_and_default_warning(
    onnx_mod: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    meta_spec = PreprocessSpec(channel_order="BGR", scale=1.0, mean=(1, 2, 3), std=(4, 5, 6))
    side_spec = PreprocessSpec(channel_order="BGR", scale=2.0, mean=(0, 0, 0), std=(1, 1, 1))
    with_meta = _tiny_model(
        onnx_mod, tmp_path / "a.onnx", ["N", 3, 4, 2], metadata={METADATA_KEY: meta_spec.to_json()}
    )
    plain = _tiny_model(onnx_mod, tmp_path / "b.onnx", ["N", 3, 4, 2])
    for model in (with_meta, plain):
        sidecar_path(model).write_text("channel_order: BGR\nscale: 2.0\nmean: [0, 0, 0]\nstd: [1, 1, 1]\n")
    assert OnnxEmbedder(with_meta, spec=RETAIL_SPEC).spec_source == "argument"
    assert OnnxEmbedder(with_meta).spec == meta_spec
    emb = OnnxEmbedder(plain)
    assert (emb.spec_source, emb.spec) == ("sidecar", side_spec)
    sidecar_path(plain).unlink()
    with caplog.at_level(logging.WARNING, logger="tracker"):
        emb = OnnxEmbedder(plain)
    assert (emb.spec_source, emb.spec) == ("default", IMAGENET_SPEC)
    assert any("assuming" in r.getMessage() and "b.onnx" in r.getMessage() for r in caplog.records)
    broken = _tiny_model(onnx_mod, tmp_path / "c.onnx", ["N", 3, 4, 2], metadata={METADATA_KEY: "{not json"})
    with pytest.raises(ValueError, match=r"c.onnx.*invalid JSON"):
        OnnxEmbedder(broken)


def test_input_validation(onnx_mod: ModuleType, tmp_path: Path) -> None:
    emb = OnnxEmbedder(_tiny_model(onnx_mod, tmp_path / "v.onnx", ["N", 3, 4, 2]), spec=IMAGENET_SPEC)
    assert isinstance(emb, Embedder)
    img = _constant_image((1, 2, 3))
    box = np.array([[0, 0, 5, 5]], np.float32)
    for bad_img in (img.astype(np.float32), img[:, :, 0], img[:, :, :2], np.zeros((0, 5, 3), np.uint8)):
        with pytest.raises(ValueError, match="image"):
            emb.embed(bad_img, box)
    for bad_boxes in (np.zeros((2, 3), np.float32), np.array([[0, 0, np.nan, 5]], np.float32)):
        with pytest.raises(ValueError, match="boxes"):
            emb.embed(img, bad_boxes)
    empty = emb.embed(img, np.zeros((0, 4), np.float32))
    assert empty.shape == (0, 24) and empty.dtype == np.float32
    with pytest.raises(ValueError, match="batch_size"):
        OnnxEmbedder(emb.model_path, spec=IMAGENET_SPEC, batch_size=0)
    with pytest.raises(FileNotFoundError, match=r"missing\.onnx"):
        OnnxEmbedder(tmp_path / "missing.onnx")


# ---------------------------------------------------------------- real models (shared/)
@pytest.fixture(scope="module")
def osnet(models: Path) -> OnnxEmbedder:
    return OnnxEmbedder(models / OSNET, spec=IMAGENET_SPEC, batch_size=4)


@pytest.fixture(scope="module")
def retail(models: Path) -> OnnxEmbedder:
    return OnnxEmbedder(models / RETAIL, spec=RETAIL_SPEC)


@pytest.fixture(scope="module")
def embedded() -> OnnxEmbedder:
    return default_embedder(threads=1)


def test_embedded_default_is_our_reid_model_with_its_notice(embedded: OnnxEmbedder) -> None:
    assert embedded.model_path == DEFAULT_EMBEDDER and embedded.spec_source == "metadata"
    assert (embedded.layout, embedded.input_size, embedded.fixed_batch, embedded.dim) == (
        "NCHW",
        (256, 128),
        None,
        512,
    )
    meta = make_session(DEFAULT_EMBEDDER, threads=1).get_modelmeta().custom_metadata_map
    assert "non-commercial" in meta["license"] and "CUHK" in meta["license"]
    assert "MSMT17" in meta["license"]  # distilled from OSNet (MSMT17, research only)
    # provenance: the last training stage (with low-resolution blur, default since 2026-12-07) and the soup
    assert "light_dg_cuhk01_ft_lowres.yaml" in meta["source"]
    assert "light_dg_cuhk01_ft_lowres" in meta["tracker.reid.train"] and "tracker.soup" in meta
    assert IMAGENET_EMBEDDER.is_file()  # the alternative free of the CUHK restriction still ships


@pytest.fixture(scope="module")
def people(data_root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames 1 and 4 of MOT17-02 and xyxy boxes of the same 8 well-visible pedestrians in both."""
    seq = data_root / SEQ
    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",")
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 8] > 0.6) & (gt[:, 5] >= 80)]
    a, b = gt[gt[:, 0] == 1], gt[gt[:, 0] == 4]
    ids = sorted(set(a[:, 1]) & set(b[:, 1]))[:8]
    assert len(ids) >= 5

    def boxes(rows: np.ndarray) -> np.ndarray:
        xywh = np.array([rows[rows[:, 1] == i][0, 2:6] for i in ids])
        xywh[:, 2:] += xywh[:, :2]
        return xywh.astype(np.float32)

    fa = cv2.imread(str(seq / "img1" / "000001.jpg"))
    fb = cv2.imread(str(seq / "img1" / "000004.jpg"))
    assert fa is not None and fb is not None
    return fa, boxes(a), fb, boxes(b)


@pytest.mark.data
def test_real_models_load(osnet: OnnxEmbedder, retail: OnnxEmbedder) -> None:
    assert (osnet.layout, osnet.input_size, osnet.fixed_batch, osnet.dim) == ("NCHW", (256, 128), None, 512)
    assert (retail.layout, retail.input_size, retail.fixed_batch, retail.dim) == ("NHWC", (256, 128), 1, 256)
    assert osnet.providers == [CPU] or CUDA in osnet.providers
    info = inspect_image_input(make_session(osnet.model_path, threads=1), osnet.model_path)
    assert info.shape == (None, 3, 256, 128)


@pytest.mark.data
@pytest.mark.parametrize("name", ["osnet", "retail", "embedded"])
def test_same_person_more_similar(
    name: str, request: pytest.FixtureRequest, people: tuple[np.ndarray, ...]
) -> None:
    emb: OnnxEmbedder = request.getfixturevalue(name)
    fa, ba, fb, bb = people
    ea, eb = emb.embed(fa, ba), emb.embed(fb, bb)
    assert ea.shape == (len(ba), emb.dim) and ea.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ea, axis=1), 1.0, atol=1e-5)
    sim = ea @ eb.T
    n = len(sim)
    same, diff = float(np.diag(sim).mean()), float(sim[~np.eye(n, dtype=bool)].mean())
    assert same > diff + 0.15, (same, diff)
    assert (sim.argmax(axis=1) == np.arange(n)).mean() >= 0.75


@pytest.mark.data
def test_batched_equals_single(
    osnet: OnnxEmbedder, retail: OnnxEmbedder, people: tuple[np.ndarray, ...]
) -> None:
    fa, ba = people[0], people[1]
    batched = osnet.embed(fa, ba)  # batch_size 4: chunks 4 + 4
    single = np.concatenate([osnet.embed(fa, ba[i : i + 1]) for i in range(len(ba))])
    np.testing.assert_allclose(batched, single, atol=1e-4)
    out = retail.embed(fa, ba[:5])  # fixed batch 1: five runs
    assert out.shape == (5, 256)
    np.testing.assert_allclose(out[2:3], retail.embed(fa, ba[2:3]), atol=1e-5)


@pytest.mark.data
def test_empty_and_outside_boxes(
    osnet: OnnxEmbedder, retail: OnnxEmbedder, people: tuple[np.ndarray, ...]
) -> None:
    fa = people[0]
    h, w = fa.shape[:2]
    boxes = np.array(
        [
            [-50, -80, 60, 200],
            [w - 40, h - 100, w + 50, h + 100],
            [w + 10, h + 10, w + 90, h + 200],
            [3, 3, 3, 3],
        ],
        np.float32,
    )
    for emb in (osnet, retail):
        assert emb.embed(fa, np.zeros((0, 4), np.float32)).shape == (0, emb.dim)
        out = emb.embed(fa, boxes)
        assert out.shape == (4, emb.dim) and np.isfinite(out).all()
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


@pytest.mark.data
def test_sidecar_spec_with_real_model(
    models: Path, tmp_path: Path, retail: OnnxEmbedder, people: tuple[np.ndarray, ...]
) -> None:
    copy = tmp_path / RETAIL
    shutil.copyfile(models / RETAIL, copy)
    sidecar_path(copy).write_text("channel_order: BGR\nscale: 1.0\nmean: [0, 0, 0]\nstd: [1, 1, 1]\n")
    emb = OnnxEmbedder(copy)
    assert emb.spec_source == "sidecar" and emb.spec == RETAIL_SPEC
    fa, ba = people[0], people[1][:2]
    np.testing.assert_allclose(emb.embed(fa, ba), retail.embed(fa, ba), atol=1e-6)


@pytest.mark.parametrize("order", ["RGB", "BGR"])
def test_normalize_writes_either_layout_with_the_spec_arithmetic(order: str) -> None:
    rng = np.random.default_rng(3)
    crops = rng.integers(0, 256, (3, 8, 5, 3), dtype=np.uint8)
    spec = PreprocessSpec(channel_order=order, scale=1 / 255, mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3))
    chans = crops[..., ::-1] if order == "RGB" else crops
    expected = (chans / 255.0 - np.array(spec.mean)) / np.array(spec.std)  # float64 by hand
    nhwc = spec.normalize(crops)
    nchw = spec.normalize(crops, "NCHW")
    assert nhwc.dtype == nchw.dtype == np.float32 and nhwc.flags.c_contiguous and nchw.flags.c_contiguous
    np.testing.assert_allclose(nhwc, expected, atol=1e-5)
    np.testing.assert_allclose(nchw, expected.transpose(0, 3, 1, 2), atol=1e-5)
    with pytest.raises(ValueError, match="layout"):
        spec.normalize(crops, "CHW")


# ---------------------------------------------------------------- broken model outputs (issue 12)
def _graph_model(
    onnx: ModuleType, path: Path, ops: Sequence[tuple[str, float | None]], dim: int | str
) -> Path:
    """``x [N,3,4,2] -> op_1 -> ... -> Flatten -> y [N,dim]``; an op with a number is ``Mul`` by it."""
    from onnx import TensorProto, helper

    nodes, inits, cur = [], [], "x"
    for i, (op, value) in enumerate(ops):
        out = f"t{i}"
        if op == "Mul":
            inits.append(helper.make_tensor(f"c{i}", TensorProto.FLOAT, [], [float(value or 0.0)]))
            nodes.append(helper.make_node("Mul", [cur, f"c{i}"], [out]))
        else:
            nodes.append(helper.make_node(op, [cur], [out]))
        cur = out
    nodes.append(helper.make_node("Flatten", [cur], ["y"], axis=1))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", dim])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_model_outputting_nan_is_a_value_error_naming_the_file(onnx_mod: ModuleType, tmp_path: Path) -> None:
    # log(x) of ImageNet-normalised pixels: NaN already on the blank probe crop -> refused at load
    at_load = _graph_model(onnx_mod, tmp_path / "nan_at_load.onnx", [("Log", None)], "D")
    with pytest.raises(
        ValueError, match=rf"^{at_load}: the model outputs non-finite values \(NaN or inf\) for a blank crop"
    ):
        OnnxEmbedder(at_load, spec=IMAGENET_SPEC)
    # log(-x): finite for black crops (x < 0), NaN for bright ones -> refused when embedding, naming box 1
    later = _graph_model(onnx_mod, tmp_path / "nan_later.onnx", [("Neg", None), ("Log", None)], "D")
    emb = OnnxEmbedder(later, spec=IMAGENET_SPEC)
    img = _constant_image((0, 0, 0))
    img[:, 35:] = 255
    assert np.isfinite(emb.embed(img, np.array([[0, 0, 30, 50]], np.float32))).all()
    with pytest.raises(
        ValueError,
        match=rf"^{later}: the model output non-finite values \(NaN or inf\) for box 1 \[40.0, 0.0, 70.0, 50.0\] \(1 of 2 boxes\)",
    ):
        emb.embed(img, np.array([[0, 0, 30, 50], [40, 0, 70, 50]], np.float32))


def test_model_output_type_checked_at_load(onnx_mod: ModuleType, tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["x"], ["f"], axis=1),
            helper.make_node("Cast", ["f"], ["y"], to=TensorProto.INT64),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 2])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, ["N", 24])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "ints.onnx"
    onnx_mod.save(model, str(path))
    with pytest.raises(
        ValueError, match=rf"^{path}: output 'y' has element type tensor\(int64\); expected a float"
    ):
        OnnxEmbedder(path, spec=IMAGENET_SPEC)


def test_huge_model_outputs_normalise_to_the_same_direction(onnx_mod: ModuleType, tmp_path: Path) -> None:
    """Issue 12: outputs around 1e30 overflowed the float32 norm and came back as zero vectors."""
    plain = OnnxEmbedder(
        _graph_model(onnx_mod, tmp_path / "plain.onnx", [("Identity", None)], "D"), spec=IMAGENET_SPEC
    )
    huge = OnnxEmbedder(
        _graph_model(onnx_mod, tmp_path / "huge.onnx", [("Mul", 1e30)], "D"), spec=IMAGENET_SPEC
    )
    img = _constant_image((10, 120, 250))
    boxes = np.array([[0, 0, 10, 10], [5, 5, 60, 40]], np.float32)
    a, b = plain.embed(img, boxes), huge.embed(img, boxes)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def test_l2_normalize_rows() -> None:
    from tracker.reid import l2_normalize

    out = l2_normalize(np.array([[3e38, 3e38], [1e300, -1e300], [0, 0], [3, 4]]))
    s = np.sqrt(0.5)
    np.testing.assert_allclose(out, [[s, s], [s, -s], [0, 0], [0.6, 0.8]], rtol=1e-6)
    assert out.dtype == np.float32 and l2_normalize(np.zeros((0, 5))).shape == (0, 5)
    with pytest.raises(ValueError, match=r"^embeddings: row 1 has non-finite values \(NaN or inf\)"):
        l2_normalize(np.array([[1.0, 0.0], [np.inf, 1.0]]))
    with pytest.raises(ValueError, match="expected float"):
        l2_normalize(np.ones(3))


def test_a_detector_is_refused_as_a_reid_model() -> None:
    """The bundled person detector loaded as an embedder: its first output (``mbox_loc``, 48,512 box
    offsets per image) was taken as the embedding, and `run --reid` tracked with it. Now refused,
    naming the output and its size."""
    from tracker.assets import DEFAULT_DETECTOR
    from tracker.reid.embedder import MAX_EMBEDDING_DIM

    with pytest.raises(ValueError, match=r"'mbox_loc' has 48512 values per crop.*is this a ReID model"):
        OnnxEmbedder(DEFAULT_DETECTOR, spec=PreprocessSpec())
    assert OnnxEmbedder(DEFAULT_EMBEDDER).dim <= MAX_EMBEDDING_DIM
