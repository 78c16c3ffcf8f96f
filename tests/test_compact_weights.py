"""tools/compact_onnx_weights.py: compaction keeps the model's function; ``float32`` mode undoes it."""

from __future__ import annotations

import numpy as np
import pytest
from scripts import compact_weights

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(rng: np.random.Generator) -> onnx.ModelProto:
    """y = (x @ W1 + b) @ W2: W1 float32[64,48] (int8-sized), b float32[48], W2 float32[48,8]."""
    w1 = rng.normal(size=(64, 48)).astype(np.float32)
    b = rng.normal(size=48).astype(np.float32)
    w2 = rng.normal(size=(48, 8)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h"]),
            helper.make_node("Add", ["h", "b"], ["hb"]),
            helper.make_node("MatMul", ["hb", "w2"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])],
        [
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(b, "b"),
            numpy_helper.from_array(w2, "w2"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_float32_mode_rebuilds_the_compacted_weights() -> None:
    """int8 on W1, float16 on W2, b kept (too small); expanding gives float32 initializers named as
    the originals, no rebuild nodes, and bit for bit the compacted model's outputs."""
    tool = compact_weights()
    rng = np.random.default_rng(0)
    original = _model(rng)
    x = rng.normal(size=(5, 64)).astype(np.float32)
    compacted = onnx.ModelProto()
    compacted.CopyFrom(original)
    counts = tool.compact(compacted, "int8", min_elements=100, int8_min_elements=1000)
    assert counts == {"fp16": 1, "int8": 1, "kept": 1}
    kinds = {i.name: i.data_type for i in compacted.graph.initializer}
    assert kinds["w1__int8"] == TensorProto.INT8 and kinds["w2__fp16"] == TensorProto.FLOAT16
    y_compact = _run(compacted, x)
    assert np.abs(y_compact - _run(original, x)).max() < 0.05 * np.abs(y_compact).max()

    assert tool.expand(compacted) == 2
    onnx.checker.check_model(compacted)
    inits = {i.name: i for i in compacted.graph.initializer}
    assert sorted(inits) == ["b", "w1", "w2"]
    assert all(i.data_type == TensorProto.FLOAT for i in inits.values())
    assert [n.op_type for n in compacted.graph.node] == ["MatMul", "Add", "MatMul"]
    assert not any(p.key == "tracker.weights" for p in compacted.metadata_props)
    np.testing.assert_array_equal(_run(compacted, x), y_compact)
    w1 = numpy_helper.to_array(inits["w1"])
    assert np.abs(w1 - numpy_helper.to_array(original.graph.initializer[0])).max() < 0.05


def test_expand_leaves_an_uncompacted_model_alone() -> None:
    tool = compact_weights()
    model = _model(np.random.default_rng(1))
    before = model.SerializeToString()
    assert tool.expand(model) == 0
    assert model.SerializeToString() == before
