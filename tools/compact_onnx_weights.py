"""Store an ONNX model's weights in fewer bytes; the model still computes in float32.

Each large float32 initializer ``W`` is replaced by a smaller stored tensor and one or two nodes that
rebuild ``W`` in float32 at the front of the graph:

* ``fp16-exact``: tensors whose every value is a float16 number are stored as float16 behind a
  ``Cast``. Lossless: the rebuilt tensor is bit for bit the original, so the model's outputs are too.
  (The default detector's weights came from an FP16 OpenVINO IR: most of them are such tensors.)
* ``fp16``: every large tensor is rounded to float16 (relative error <= 2**-11).
* ``int8``: tensors with two or more dimensions are quantised symmetrically per output channel
  (axis 0: ``q = round(W / s)``, ``s = max|W[c]| / 127``) and rebuilt as ``Cast(q) * s``; the others
  are rounded to float16 (``fp16``) when large. ``--int8-min-elements`` keeps quantisation to the
  largest tensors (the rest go to float16).

``--mode float32`` undoes it: every rebuilt weight becomes a float32 initializer again (the values the
compacted model computes with, not the original's), for tools that read weights from initializers
(``tools/onnx_to_checkpoint.py`` recovering the shipped embedder as a trainable checkpoint).

ONNX Runtime folds these constant sub-graphs when it creates the session, so inference runs the same
float32 kernels on the rebuilt weights and costs the same; only the file and the install shrink. The
model's metadata gains ``tracker.weights`` saying what was done.

Run from the repository root in the project's dev environment (it needs ``onnx``)::

    python tools/compact_onnx_weights.py IN.onnx OUT.onnx --mode int8 [--min-elements 1024] [--input-range 0 255]

It prints the sizes and, on random inputs shaped like the model's first input (dynamic dimensions
set to 2), the largest |original - compacted| of each output under ONNX Runtime. Accuracy checks on
real data are the model's own (``tools/check_default_models.py``, ``reid eval``, ``bench``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MODES = ("fp16-exact", "fp16", "int8")
EXPAND = "float32"


def _fp16_exact(a: np.ndarray) -> bool:
    with np.errstate(over="ignore"):
        return bool(np.array_equal(a.astype(np.float16).astype(np.float32), a))


def _fits_fp16(a: np.ndarray) -> bool:
    return bool(np.isfinite(a.astype(np.float16)).all())


def compact(
    model: onnx.ModelProto, mode: str, min_elements: int, int8_min_elements: int = 0
) -> dict[str, int]:
    """Rewrite ``model`` in place; returns how many tensors went to each storage."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    graph = model.graph
    counts = {"fp16": 0, "int8": 0, "kept": 0}
    front: list[onnx.NodeProto] = []
    keep: list[onnx.TensorProto] = []
    for init in graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32 or a.size < min_elements:
            keep.append(init)
            counts["kept"] += 1
            continue
        name = init.name
        if mode == "int8" and a.ndim >= 2 and a.size >= int8_min_elements:
            flat = a.reshape(a.shape[0], -1)
            amax = np.abs(flat).max(axis=1)
            scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.rint(flat / scale[:, None]), -127, 127).astype(np.int8).reshape(a.shape)
            s = scale.reshape((a.shape[0],) + (1,) * (a.ndim - 1))
            keep.append(numpy_helper.from_array(q, f"{name}__int8"))
            keep.append(numpy_helper.from_array(s, f"{name}__scale"))
            front.append(helper.make_node("Cast", [f"{name}__int8"], [f"{name}__f32"], to=TensorProto.FLOAT))
            front.append(helper.make_node("Mul", [f"{name}__f32", f"{name}__scale"], [name]))
            counts["int8"] += 1
            continue
        exact = _fp16_exact(a)
        if (mode == "fp16-exact" and not exact) or not _fits_fp16(a):
            keep.append(init)
            counts["kept"] += 1
            continue
        keep.append(numpy_helper.from_array(a.astype(np.float16), f"{name}__fp16"))
        front.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT))
        counts["fp16"] += 1
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(front + nodes)
    note = f"{mode}: {counts['int8']} tensors int8 per output channel, {counts['fp16']} float16"
    note += "; rebuilt in float32 at session creation (tools/compact_onnx_weights.py)"
    _drop_weights_note(model)
    model.metadata_props.add(key="tracker.weights", value=note)
    return counts


def _drop_weights_note(model: onnx.ModelProto) -> None:
    """Remove the ``tracker.weights`` metadata entry (what a compaction wrote), if any."""
    props = [p for p in model.metadata_props if p.key != "tracker.weights"]
    del model.metadata_props[:]
    model.metadata_props.extend(props)


def expand(model: onnx.ModelProto) -> int:
    """Undo :func:`compact` in place: each weight rebuilt at the front of the graph (``Cast`` of a stored
    tensor, optionally times a stored scale) becomes the float32 initializer it computes; returns how
    many were expanded. Nodes that read anything but initializers are left as they are."""
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    values: dict[str, np.ndarray] = {}
    drop: set[int] = set()
    for k, node in enumerate(graph.node):
        ins = [values.get(n, inits.get(n)) for n in node.input]
        if any(v is None for v in ins):
            continue
        if node.op_type == "Cast" and len(ins) == 1:
            values[node.output[0]] = np.asarray(ins[0]).astype(np.float32)
        elif node.op_type == "Mul" and len(ins) == 2 and node.input[0] in values:
            values[node.output[0]] = (ins[0] * ins[1]).astype(np.float32)
        else:
            continue
        drop.add(k)
    used = {n for k, node in enumerate(graph.node) if k not in drop for n in node.input}
    used |= {o.name for o in graph.output}
    built = {n: v for n, v in values.items() if n in used}
    sources = {n for k in drop for n in graph.node[k].input}
    keep = [i for i in graph.initializer if i.name not in sources or i.name in used]
    keep += [numpy_helper.from_array(v, n) for n, v in built.items()]
    nodes = [node for k, node in enumerate(graph.node) if k not in drop]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    del graph.node[:]
    graph.node.extend(nodes)
    _drop_weights_note(model)
    return len(built)


def _random_feed(sess: ort.InferenceSession, seed: int, lo: float, hi: float) -> dict[str, np.ndarray]:
    """Uniform random ``float32`` inputs in ``[lo, hi)`` shaped like the model's (dynamic dims = 2)."""
    rng = np.random.default_rng(seed)
    feed = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 2 for d in i.shape]
        feed[i.name] = rng.uniform(lo, hi, size=shape).astype(np.float32)
    return feed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--mode", choices=(*MODES, EXPAND), required=True, help=f"{EXPAND}: undo a compaction")
    ap.add_argument("--min-elements", type=int, default=1024, help="smaller tensors are kept as they are")
    ap.add_argument(
        "--int8-min-elements",
        type=int,
        default=0,
        help="int8 mode: only tensors this large are quantised, the others go to float16",
    )
    ap.add_argument(
        "--input-range",
        type=float,
        nargs=2,
        default=(0.0, 1.0),
        metavar=("LO", "HI"),
        help="range of the random check inputs (the detector takes 0 255: BGR pixels)",
    )
    args = ap.parse_args()
    model = onnx.load(str(args.input))
    if args.mode == EXPAND:
        counts = {"float32": expand(model)}
        if not counts["float32"]:
            raise SystemExit(f"{args.input}: no compacted weights to expand (not written by this tool?)")
    else:
        counts = compact(model, args.mode, args.min_elements, args.int8_min_elements)
    onnx.checker.check_model(model)
    onnx.save(model, str(args.output))
    a = ort.InferenceSession(str(args.input), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(args.output), providers=["CPUExecutionProvider"])
    feed = _random_feed(a, 0, *args.input_range)
    for o, x, y in zip(a.get_outputs(), a.run(None, feed), b.run(None, feed), strict=True):
        print(f"output {o.name}: max |diff| {np.abs(x - y).max():.3g} (max |value| {np.abs(x).max():.3g})")
    print(
        f"{args.input} {args.input.stat().st_size:,} B -> {args.output} {args.output.stat().st_size:,} B; {counts}"
    )


if __name__ == "__main__":
    main()
