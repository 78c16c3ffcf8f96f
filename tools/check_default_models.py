"""Check the embedded default models in the project's own environment (onnxruntime, no torch/TensorFlow).

Run from the repository root with the project's virtual environment and shared/ beside the repo::

    python tools/check_default_models.py --data ../shared/data

Detector (``benchmarks/models/pedestrian_ssdlite_mobilenetv2.onnx``): runs on frames of ``videos/vtest.avi``
and on 50 evenly spaced frames of MOT15 PETS09-S2L1 (768x576), scoring recall/precision at IoU 0.5
against ``gt/gt.txt`` at several score thresholds, and times ONNX Runtime per frame.

Embedders (``tracker/assets/reid_mobilenetv2_cuhk.onnx``, the default, and
``tracker/assets/mobilenetv2_imagenet_embedder.onnx``): loads each through
``tracker.reid.OnnxEmbedder`` (which must take its preprocessing from the model metadata), embeds the
ground-truth pedestrians (class 1, consider 1) of the MOT17-mini sequences and compares the cosine
similarity of the same person in different frames with that of different people; times one crop at
batch 16. ``--reference`` adds the same numbers for another ReID model (e.g. shared/models' OSNet).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

# The package's own paths and IoU (this script runs in the project's environment).
from tracker.assets import DEFAULT_EMBEDDER as EMBEDDER
from tracker.assets import IMAGENET_EMBEDDER
from tracker.association.costs import iou_matrix

# the previous default detector, moved out of the package
DETECTOR = (
    Path(__file__).resolve().parents[1] / "benchmarks" / "models" / "pedestrian_ssdlite_mobilenetv2.onnx"
)


def greedy_tp(det: np.ndarray, gt: np.ndarray, thr: float = 0.5) -> int:
    """True positives of score-sorted detections against gt, greedy one-to-one at IoU >= thr."""
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


def detect(sess: ort.InferenceSession, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel xyxy boxes and scores of one BGR frame (all 100 padded rows; sorted by score)."""
    h, w = bgr.shape[:2]
    x = np.ascontiguousarray(bgr[:, :, ::-1])[None]
    boxes, scores, _classes, _num = sess.run(None, {"image_tensor": x})
    b = boxes[0]
    xyxy = np.stack([b[:, 1] * w, b[:, 0] * h, b[:, 3] * w, b[:, 2] * h], axis=1)
    return xyxy, scores[0]


def check_detector(data: Path, n_frames: int, threads: list[int]) -> dict:
    sess = _session(DETECTOR, threads[-1])
    io_sig = {
        "inputs": [(i.name, i.shape, i.type) for i in sess.get_inputs()],
        "outputs": [(o.name, o.shape, o.type) for o in sess.get_outputs()],
    }
    # Frames of the video itself.
    cap = cv2.VideoCapture(str(data / "videos" / "vtest.avi"))
    video = []
    for _ in range(10):
        ok, frame = cap.read()
        if not ok:
            break
        _b, s = detect(sess, frame)
        video.append(int((s >= 0.5).sum()))
    cap.release()

    seq = data / "MOT15" / "train" / "PETS09-S2L1"
    frames = sorted((seq / "img1").glob("*.jpg"))
    frames = [frames[i] for i in np.linspace(0, len(frames) - 1, n_frames).round().astype(int)]
    rows = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
    rows = rows[rows[:, 6] != 0]
    thresholds = (0.2, 0.3, 0.4, 0.5, 0.6)
    acc = {t: [0, 0, 0] for t in thresholds}  # tp, det, gt
    for path in frames:
        img = cv2.imread(str(path))
        boxes, scores = detect(sess, img)
        g = rows[rows[:, 0] == int(path.stem)]
        g = np.stack([g[:, 2], g[:, 3], g[:, 2] + g[:, 4], g[:, 3] + g[:, 5]], axis=1)
        for t in thresholds:
            d = boxes[scores >= t]
            acc[t][0] += greedy_tp(d, g)
            acc[t][1] += len(d)
            acc[t][2] += len(g)
    return {
        "io": io_sig,
        "vtest.avi_first10_detections@0.5": video,
        "pets_frames": len(frames),
        "pets_gt_boxes": acc[thresholds[0]][2],
        "recall_precision@IoU0.5": {
            f"score>={t}": {"recall": round(tp / max(ng, 1), 4), "precision": round(tp / max(nd, 1), 4)}
            for t, (tp, nd, ng) in acc.items()
        },
        "ms_per_frame_768x576": {
            f"threads={th}": _bench_detector(_session(DETECTOR, th), img) for th in threads
        },
    }


def _bench_detector(sess: ort.InferenceSession, img: np.ndarray) -> dict:
    return bench(lambda: detect(sess, img), calls=20)


def _session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def bench(fn, calls: int, rounds: int = 5, per: int = 1) -> dict:
    """Median milliseconds per call (divided by ``per``) in each of ``rounds`` rounds after a warm-up.

    This machine's timings vary from round to round (shared host), hence the spread.
    """
    for _ in range(3):
        fn()
    medians = []
    for _ in range(rounds):
        t = []
        for _ in range(calls):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
        medians.append(1000 * float(np.median(t)) / per)
    return {
        "median": round(float(np.median(medians)), 2),
        "min": round(min(medians), 2),
        "max": round(max(medians), 2),
    }


def mot17_mini_people(data: Path) -> list[tuple[str, int, int, np.ndarray, Path]]:
    """(sequence, frame, id, xyxy, image path) of every class-1, consider-1 gt box of MOT17-mini."""
    out = []
    for seq in sorted((data / "MOT17-mini" / "train").iterdir()):
        gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
        gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
        for img in sorted((seq / "img1").glob("*.jpg")):
            f = int(img.stem)
            for r in gt[gt[:, 0] == f]:
                out.append(
                    (
                        seq.name,
                        f,
                        int(r[1]),
                        np.array([r[2], r[3], r[2] + r[4], r[3] + r[5]], np.float32),
                        img,
                    )
                )
    return out


def _bench_embedder(emb: Any, img: np.ndarray, boxes: np.ndarray) -> dict:
    return bench(lambda: emb.embed(img, boxes), calls=8, per=16)


def check_embedder(path: Path, data: Path, threads: list[int]) -> dict:
    from tracker.reid import OnnxEmbedder

    warnings: list[str] = []

    class _Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    handler = _Catch()
    logging.getLogger("tracker").addHandler(handler)
    emb = OnnxEmbedder(path, batch_size=16, threads=threads[-1])
    logging.getLogger("tracker").removeHandler(handler)

    people = mot17_mini_people(data)
    feats = np.zeros((len(people), emb.dim), np.float32)
    by_image: dict[Path, list[int]] = {}
    for i, p in enumerate(people):
        by_image.setdefault(p[4], []).append(i)
    for img_path, idx in by_image.items():
        img = cv2.imread(str(img_path))
        feats[idx] = emb.embed(img, np.stack([people[i][3] for i in idx]))
    seqs = np.array([p[0] for p in people])
    frames = np.array([p[1] for p in people])
    ids = np.array([p[2] for p in people])
    sim = feats @ feats.T
    same_seq = seqs[:, None] == seqs[None, :]
    same_id = same_seq & (ids[:, None] == ids[None, :])
    other_frame = frames[:, None] != frames[None, :]
    pos = same_id & other_frame
    neg = same_seq & ~same_id
    # rank-1: for each box, is the most similar box in another frame of its sequence the same person?
    hits, queries = 0, 0
    for i in range(len(people)):
        cand = same_seq[i] & other_frame[i]
        if not (cand & same_id[i]).any():
            continue
        queries += 1
        j = int(np.argmax(np.where(cand, sim[i], -np.inf)))
        hits += bool(same_id[i, j])
    # latency: 16 crops per call, batch 16
    img = cv2.imread(str(people[0][4]))
    boxes = np.stack([p[3] for p in people if p[4] == people[0][4]][:16])
    while len(boxes) < 16:
        boxes = np.concatenate([boxes, boxes])[:16]
    speed = {
        f"threads={th}": _bench_embedder(OnnxEmbedder(path, batch_size=16, threads=th), img, boxes)
        for th in threads
    }
    return {
        "model": path.name,
        "repr": repr(emb),
        "spec_source": emb.spec_source,
        "spec": emb.spec.to_json(),
        "warnings_on_load": warnings,
        "boxes": len(people),
        "same_person_other_frame_pairs": int(pos.sum() // 2),
        "different_person_pairs": int(neg.sum() // 2),
        "cosine_same_mean": round(float(sim[pos].mean()), 4),
        "cosine_different_mean": round(float(sim[neg].mean()), 4),
        "cosine_same_p10": round(float(np.percentile(sim[pos], 10)), 4),
        "cosine_different_p90": round(float(np.percentile(sim[neg], 90)), 4),
        "rank1_other_frame": round(hits / max(queries, 1), 4),
        "ms_per_crop_at_batch16(OnnxEmbedder.embed, 16 boxes)": speed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--threads", default="1,2", help="comma-separated intra-op thread counts to time")
    ap.add_argument(
        "--reference", type=Path, action="append", default=[], help="another ReID .onnx to compare"
    )
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(",")]
    report = {
        "onnxruntime": ort.__version__,
        "detector": check_detector(args.data, args.frames, args.threads),
        "embedder": check_embedder(EMBEDDER, args.data, args.threads),
        "imagenet_embedder": check_embedder(IMAGENET_EMBEDDER, args.data, args.threads),
    }
    for ref in args.reference:
        report[f"reference:{ref.name}"] = check_embedder(ref, args.data, args.threads)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
