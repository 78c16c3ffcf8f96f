"""Rebuild an OpenVINO IR detector (``.xml`` + ``.bin``) as an ONNX model for ONNX Runtime.

OpenVINO does not export ONNX, so the graph is rebuilt op by op with the ``onnx`` helper API from the
IR's layers and weights, read with the ``openvino`` package (a tools-only dependency):

* every sub-graph that does not depend on the image input (weights with their FP16->FP32 ``Convert``,
  ``ShapeOf`` of static shapes, ``PriorBox`` on those shapes, ...) is evaluated once by OpenVINO
  itself and stored as an initializer (FP32), so the prior boxes are the IR's own numbers;
* the remaining ops are mapped one to one onto ONNX ops (``Convolution``, ``GroupConvolution``,
  ``Add``/``Multiply``/``Subtract``, ``Relu``, ``Clamp``, ``Concat``, ``Reshape``, ``Transpose``,
  ``Softmax``, ``Sigmoid``, ``HSwish``, ...); an op type not listed raises an error naming it;
* ``--cut TYPE`` stops at the first op of that type and exports its inputs as the ONNX outputs
  (named by ``--output-names``): for ``pedestrian-detection-adas-0002`` the ``DetectionOutput``'s box
  deltas, softmaxed class scores and prior boxes, decoded and NMSed in numpy by
  :mod:`tracker.detect.families.ssd_priors`.

``--check FRAMES...`` runs the IR (OpenVINO) and the ONNX model (ONNX Runtime) on real frames and
prints the largest differences of every output.

    python tools/convert_openvino_ir.py \\
        ../shared/models/candidates/pedestrian-detection-adas-0002/pedestrian-detection-adas-0002.xml \\
        tracker/assets/pedestrian_detection_adas_0002.onnx --cut DetectionOutput \\
        --output-names mbox_loc mbox_conf mbox_priors --metadata tracker.family=ssd-priors \\
        --check ../shared/data/MOT15/train/PETS09-S2L1/img1/000001.jpg
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
"""ONNX opset of the rebuilt graph (HardSwish needs 14, Softmax-13 semantics)."""


def _key(output: Any) -> tuple[str, int]:
    return (output.get_node().get_friendly_name(), output.get_index())


class Converter:
    """Walks an OpenVINO model in topological order and emits ONNX nodes."""

    def __init__(self, model: Any, cut: str | None, output_names: Sequence[str] | None) -> None:
        self.model = model
        self.cut = cut
        self.output_names = list(output_names or [])
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.names: dict[tuple[str, int], str] = {}
        self.consts: dict[tuple[str, int], np.ndarray] = {}
        self.outputs: list[onnx.ValueInfoProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.counter = 0
        self.const_ops: set[str] = set()

    # ---------------------------------------------------------------- constants
    def _fold_constants(self) -> None:
        """Mark every output that does not depend on a Parameter as constant and get its value from
        OpenVINO (one inference with those outputs added)."""
        import openvino as ov

        const_ops: set[str] = set()
        for op in self.model.get_ordered_ops():
            t = op.get_type_name()
            name = op.get_friendly_name()
            if t == "Constant":
                const_ops.add(name)
            elif t == "ShapeOf" and op.input(0).get_partial_shape().is_static:
                const_ops.add(name)
            elif t not in ("Parameter", "Result") and all(
                i.get_source_output().get_node().get_friendly_name() in const_ops for i in op.inputs()
            ):
                const_ops.add(name)
        self.const_ops = const_ops
        # the constant outputs that non-constant ops (or results) consume
        wanted: dict[tuple[str, int], Any] = {}
        for op in self.model.get_ordered_ops():
            if op.get_friendly_name() in const_ops:
                continue
            for i in op.inputs():
                src = i.get_source_output()
                if src.get_node().get_friendly_name() in const_ops:
                    wanted[_key(src)] = src
        plain = {k: o for k, o in wanted.items() if o.get_node().get_type_name() == "Constant"}
        for k, o in plain.items():
            self.consts[k] = np.array(o.get_node().get_data())
        computed = {k: o for k, o in wanted.items() if k not in plain}
        if computed:
            clone = self.model.clone()
            by_key = {_key(o): o for op in clone.get_ordered_ops() for o in op.outputs()}
            extra = [by_key[k] for k in computed]
            clone.add_outputs(extra)
            compiled = ov.Core().compile_model(clone, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
            feeds = {
                p.get_friendly_name(): np.zeros(p.get_partial_shape().to_shape(), np.float32)
                for p in clone.get_parameters()
            }
            res = compiled(feeds)
            for k, o in zip(computed, compiled.outputs[-len(extra) :], strict=True):
                self.consts[k] = np.array(res[o])

    def _name_of(self, src: Any) -> str:
        k = _key(src)
        if k in self.names:
            return self.names[k]
        if k in self.consts:
            value = self.consts[k]
            if value.dtype == np.float16 or value.dtype == np.float64:
                value = value.astype(np.float32)
            name = f"c{len(self.inits)}_{k[0]}".replace("/", "_")
            self.inits.append(numpy_helper.from_array(value, name))
            self.names[k] = name
            return name
        raise KeyError(f"no tensor for {k}")

    def _const(self, src: Any) -> np.ndarray:
        k = _key(src)
        if k not in self.consts:
            raise ValueError(f"{k}: expected a constant input")
        return self.consts[k]

    def _new(self, op: Any, i: int = 0) -> str:
        name = f"{op.get_friendly_name()}:{i}"
        self.names[_key(op.output(i))] = name
        return name

    def _tmp(self, base: str) -> str:
        self.counter += 1
        return f"{base}__t{self.counter}"

    def _init(self, value: np.ndarray, base: str) -> str:
        name = self._tmp(base)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    # ---------------------------------------------------------------- ops
    def convert(self) -> onnx.ModelProto:
        self._fold_constants()
        for op in self.model.get_ordered_ops():
            t = op.get_type_name()
            name = op.get_friendly_name()
            if name in self.const_ops:
                continue
            if self.cut is not None and t == self.cut:
                self._export_cut(op)
                break
            if t == "Result":
                src = op.input(0).get_source_output()
                out = self._name_of(src)
                self.outputs.append(
                    helper.make_tensor_value_info(
                        out, TensorProto.FLOAT, list(src.get_partial_shape().to_shape())
                    )
                )
                continue
            if t == "Parameter":
                shape = list(op.get_partial_shape().to_shape())
                out = op.get_friendly_name()
                self.names[_key(op.output(0))] = out
                self.inputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, shape))
                continue
            handler = getattr(self, f"op_{t}", None)
            if handler is None:
                raise NotImplementedError(f"IR op {t} ({name}) has no ONNX mapping in this converter")
            handler(op)
        graph = helper.make_graph(self.nodes, "ir2onnx", self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    def _export_cut(self, op: Any) -> None:
        srcs = [i.get_source_output() for i in op.inputs()]
        names = self.output_names or [f"cut_{j}" for j in range(len(srcs))]
        if len(names) != len(srcs):
            raise ValueError(f"{op.get_type_name()} has {len(srcs)} inputs, {len(names)} output names given")
        for src, out in zip(srcs, names, strict=True):
            self.nodes.append(helper.make_node("Identity", [self._name_of(src)], [out]))
            shape = list(src.get_partial_shape().to_shape())
            self.outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, shape))

    def _ins(self, op: Any) -> list[str]:
        return [self._name_of(i.get_source_output()) for i in op.inputs()]

    def _simple(self, onnx_type: str, op: Any, **attrs: Any) -> None:
        self.nodes.append(helper.make_node(onnx_type, self._ins(op), [self._new(op)], **attrs))

    def _pads(self, a: dict[str, Any]) -> dict[str, Any]:
        if a.get("auto_pad", "explicit") not in ("explicit", "notset"):
            raise NotImplementedError(f"auto_pad {a['auto_pad']}")
        return {"pads": list(a["pads_begin"]) + list(a["pads_end"])}

    def op_Convolution(self, op: Any) -> None:
        a = op.get_attributes()
        x, w = self._ins(op)
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, w],
                [self._new(op)],
                strides=a["strides"],
                dilations=a["dilations"],
                **self._pads(a),
            )
        )

    def op_GroupConvolution(self, op: Any) -> None:
        a = op.get_attributes()
        x = self._name_of(op.input(0).get_source_output())
        w = self._const(op.input(1).get_source_output()).astype(np.float32)  # [G, O/G, I/G, kh, kw]
        g = w.shape[0]
        wname = self._init(w.reshape(g * w.shape[1], *w.shape[2:]), op.get_friendly_name() + "_w")
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, wname],
                [self._new(op)],
                group=g,
                strides=a["strides"],
                dilations=a["dilations"],
                **self._pads(a),
            )
        )

    def _binary(self, onnx_type: str, op: Any) -> None:
        if op.get_attributes().get("auto_broadcast", "numpy") != "numpy":
            raise NotImplementedError(f"{op.get_type_name()} broadcast {op.get_attributes()}")
        self._simple(onnx_type, op)

    def op_Add(self, op: Any) -> None:
        self._binary("Add", op)

    def op_Multiply(self, op: Any) -> None:
        self._binary("Mul", op)

    def op_Subtract(self, op: Any) -> None:
        self._binary("Sub", op)

    def op_Divide(self, op: Any) -> None:
        self._binary("Div", op)

    def op_Relu(self, op: Any) -> None:
        self._simple("Relu", op)

    def op_Sigmoid(self, op: Any) -> None:
        self._simple("Sigmoid", op)

    def op_HSwish(self, op: Any) -> None:
        self._simple("HardSwish", op)

    def op_Sqrt(self, op: Any) -> None:
        self._simple("Sqrt", op)

    def op_HardSigmoid(self, op: Any) -> None:
        alpha = float(self._const(op.input(1).get_source_output()).reshape(-1)[0])
        beta = float(self._const(op.input(2).get_source_output()).reshape(-1)[0])
        x = self._name_of(op.input(0).get_source_output())
        self.nodes.append(helper.make_node("HardSigmoid", [x], [self._new(op)], alpha=alpha, beta=beta))

    def op_Clamp(self, op: Any) -> None:
        a = op.get_attributes()
        lo = self._init(np.array(a["min"], np.float32), op.get_friendly_name() + "_min")
        hi = self._init(np.array(a["max"], np.float32), op.get_friendly_name() + "_max")
        x = self._name_of(op.input(0).get_source_output())
        self.nodes.append(helper.make_node("Clip", [x, lo, hi], [self._new(op)]))

    def op_Concat(self, op: Any) -> None:
        self._simple("Concat", op, axis=int(op.get_attributes()["axis"]))

    def op_Softmax(self, op: Any) -> None:
        self._simple("Softmax", op, axis=int(op.get_attributes()["axis"]))

    op_SoftMax = op_Softmax

    def op_Reshape(self, op: Any) -> None:
        shape = self._const(op.input(1).get_source_output()).astype(np.int64).reshape(-1)
        if not op.get_attributes().get("special_zero", False) and (shape == 0).any():
            raise NotImplementedError("Reshape to a zero-sized dimension")
        x = self._name_of(op.input(0).get_source_output())
        s = self._init(shape, op.get_friendly_name() + "_shape")
        self.nodes.append(helper.make_node("Reshape", [x, s], [self._new(op)]))

    def op_Transpose(self, op: Any) -> None:
        perm = self._const(op.input(1).get_source_output()).astype(np.int64).reshape(-1).tolist()
        x = self._name_of(op.input(0).get_source_output())
        self.nodes.append(helper.make_node("Transpose", [x], [self._new(op)], perm=perm))

    def _axes_op(self, onnx_type: str, op: Any, **attrs: Any) -> None:
        axes = self._const(op.input(1).get_source_output()).astype(np.int64).reshape(-1)
        x = self._name_of(op.input(0).get_source_output())
        ax = self._init(axes, op.get_friendly_name() + "_axes")
        self.nodes.append(helper.make_node(onnx_type, [x, ax], [self._new(op)], **attrs))

    def op_Unsqueeze(self, op: Any) -> None:
        self._axes_op("Unsqueeze", op)

    def op_Squeeze(self, op: Any) -> None:
        self._axes_op("Squeeze", op)

    def op_ReduceMean(self, op: Any) -> None:
        axes = self._const(op.input(1).get_source_output()).astype(np.int64).reshape(-1).tolist()
        x = self._name_of(op.input(0).get_source_output())
        keep = int(bool(op.get_attributes().get("keep_dims", False)))
        self.nodes.append(helper.make_node("ReduceMean", [x], [self._new(op)], axes=axes, keepdims=keep))

    def op_MatMul(self, op: Any) -> None:
        a = op.get_attributes()
        x, y = self._ins(op)
        if a.get("transpose_a") or a.get("transpose_b"):
            raise NotImplementedError("MatMul with transposes")
        self.nodes.append(helper.make_node("MatMul", [x, y], [self._new(op)]))

    def op_Interpolate(self, op: Any) -> None:
        a = op.get_attributes()
        if a.get("mode") != "nearest":
            raise NotImplementedError(f"Interpolate mode {a.get('mode')}")
        x = self._name_of(op.input(0).get_source_output())
        out_shape = np.array(op.output(0).get_partial_shape().to_shape(), np.int64)
        roi = self._init(np.zeros(0, np.float32), op.get_friendly_name() + "_roi")
        sc = self._init(np.zeros(0, np.float32), op.get_friendly_name() + "_scales")
        sz = self._init(out_shape, op.get_friendly_name() + "_sizes")
        ctm = a.get("coordinate_transformation_mode", "half_pixel")
        nm = a.get("nearest_mode", "round_prefer_floor")
        self.nodes.append(
            helper.make_node(
                "Resize",
                [x, roi, sc, sz],
                [self._new(op)],
                mode="nearest",
                coordinate_transformation_mode=ctm,
                nearest_mode=nm,
            )
        )

    def op_Split(self, op: Any) -> None:
        axis = int(self._const(op.input(1).get_source_output()).reshape(-1)[0])
        n = int(op.get_attributes()["num_splits"])
        x = self._name_of(op.input(0).get_source_output())
        outs = [self._new(op, i) for i in range(n)]
        size = op.input(0).get_partial_shape().to_shape()[axis] // n
        split = self._init(np.full(n, size, np.int64), op.get_friendly_name() + "_split")
        self.nodes.append(helper.make_node("Split", [x, split], outs, axis=axis))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check(xml: Path, onnx_path: Path, cut: str | None, frames: Sequence[Path]) -> None:
    """Largest |IR - ONNX| differences of every exported output on real frames (plain resize, BGR)."""
    import cv2
    import onnxruntime as ort
    import openvino as ov

    core = ov.Core()
    model = core.read_model(xml)
    if cut is not None:
        op = next(o for o in model.get_ordered_ops() if o.get_type_name() == cut)
        model.add_outputs([i.get_source_output() for i in op.inputs()])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape
    h, w = int(shape[2]), int(shape[3])
    n_out = len(sess.get_outputs())
    for path in frames:
        img = cv2.imread(str(path))
        blob = (
            cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
            .transpose(2, 0, 1)[None]
            .astype(np.float32)
        )
        ref = compiled(blob)
        ref_outs = [np.asarray(ref[o]) for o in compiled.outputs[-n_out:]]
        got = sess.run(None, {sess.get_inputs()[0].name: blob})
        diffs = [
            f"{o.name} max|d| {float(np.abs(r.reshape(-1) - g.reshape(-1)).max()):.3g}"
            for o, r, g in zip(sess.get_outputs(), ref_outs, got, strict=True)
        ]
        print(f"{path.name}: " + ", ".join(diffs))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("xml", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--cut", help="stop at the first op of this type; export its inputs")
    p.add_argument("--output-names", nargs="+")
    p.add_argument("--metadata", nargs="*", default=[], help="KEY=VALUE entries for metadata_props")
    p.add_argument("--check", nargs="*", type=Path, default=[], help="frames to compare IR vs ONNX on")
    args = p.parse_args(argv)
    import openvino as ov

    model = ov.Core().read_model(args.xml)
    onnx_model = Converter(model, args.cut, args.output_names).convert()
    meta = {
        "source": args.xml.name,
        "source_sha256": f"{args.xml.name} {sha256(args.xml)}; {args.xml.with_suffix('.bin').name} "
        f"{sha256(args.xml.with_suffix('.bin'))}",
        "converter": f"tools/convert_openvino_ir.py (openvino {ov.__version__}, onnx {onnx.__version__}, "
        f"opset {OPSET})",
    }
    for kv in args.metadata:
        k, _, v = kv.partition("=")
        meta[k] = v
    for k, v in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = k, v
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size} B, {len(onnx_model.graph.node)} nodes)")
    if args.check:
        check(args.xml, args.out, args.cut, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
