"""Person detectors side by side, and ONNX Runtime session settings A/B, in one process each.

Two sub-commands (run from the repository root, one at a time: the machine has 2 cores):

``compare``: candidate detectors on the same frames. Recall and precision at IoU 0.5 (one-to-one greedy
matching, highest score first) at several score thresholds on PETS09-S2L1 (every 16th frame, its
``gt.txt``) and on MOT17-mini (all frames with images; gt class 1 with ``consider`` 1 counts, boxes
matched to ignore classes 2/7/8/12 are not false positives), and ms/frame (medians over interleaved
rounds, every detector timed on the same frames in rotating order). ``--draw DIR`` writes frames of the
bundled sample clip with every detector's boxes for looking at by eye.

    python benchmarks/detectors.py compare --out benchmarks/results/detectors.json
    python benchmarks/detectors.py compare --only ssdlite,adas-ov --draw out/det-draw

``sessions``: the embedded detector and embedder on 250 frames of ``vtest.avi`` with ONNX Runtime's
spin-waiting on/off and 1/2/default intra-op threads; blocks of frames rotate through the variants so
a busy machine hurts them alike. Reports detector and embedder ms/frame (medians over blocks).

    python benchmarks/detectors.py sessions --frames 250 --out benchmarks/results/detectors_sessions.json

Candidates need ``../shared/models/candidates`` (OpenVINO IR; the ``*-ov`` variants need the
``openvino`` package, a dev/benchmark dependency only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
CANDIDATES = SHARED / "models" / "candidates"
PETS = DATA / "MOT15" / "train" / "PETS09-S2L1"
MOT17_MINI = DATA / "MOT17-mini" / "train"
VTEST = DATA / "videos" / "vtest.avi"

IOU_MATCH = 0.5
"""A detection is a true positive when it overlaps an unmatched ground-truth box by at least this."""
SCORE_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)
"""Score thresholds at which recall/precision are reported."""
MOT17_IGNORE_CLASSES = (2, 7, 8, 12)
"""MOT17 gt classes that are ignore regions: a detection on one is neither TP nor FP."""
EMBED_SCORE = 0.5
"""``sessions``: detections at or above this score are embedded (as the tracker's first stage does)."""

Frame = NDArray[np.uint8]
DetectFn = Callable[[Frame], tuple[NDArray[np.float32], NDArray[np.float32]]]
"""frame ``uint8[H,W,3]`` BGR -> (boxes ``float32[N,4]`` xyxy frame pixels, scores ``float32[N]``)."""


# ------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Sample:
    """One evaluation frame: the image and its ground truth.

    Attributes:
        name: ``sequence:frame``.
        frame: ``uint8[H,W,3]`` BGR.
        gt: ``float32[G,4]`` xyxy pixels of the people that count.
        ignore: ``float32[I,4]`` xyxy pixels of ignore regions.
    """

    name: str
    frame: Frame
    gt: NDArray[np.float32]
    ignore: NDArray[np.float32]


def _read_gt(path: Path) -> NDArray[np.float64]:
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    return rows


def _xywh_to_xyxy(rows: NDArray[np.float64]) -> NDArray[np.float32]:
    b = rows[:, 2:6].astype(np.float32).copy()
    b[:, 2:] += b[:, :2]
    return b


def pets_samples(step: int = 16) -> list[Sample]:
    """PETS09-S2L1 frames 1, 1+step, ... with all their gt boxes (MOT15 gt has no classes)."""
    gt = _read_gt(PETS / "gt" / "gt.txt")
    frames = sorted((PETS / "img1").glob("*.jpg"))
    out = []
    for path in frames[::step]:
        f = int(path.stem)
        img = cv2.imread(str(path))
        assert img is not None, path
        rows = gt[gt[:, 0] == f]
        out.append(Sample(f"PETS09-S2L1:{f}", img, _xywh_to_xyxy(rows), np.zeros((0, 4), np.float32)))
    return out


def mot17_mini_samples() -> list[Sample]:
    """Every MOT17-mini frame with an image: class 1 consider 1 counts, ignore classes are ignored."""
    out = []
    for seq in sorted(MOT17_MINI.glob("MOT17-*")):
        gt = _read_gt(seq / "gt" / "gt.txt")
        for path in sorted((seq / "img1").glob("*.jpg")):
            f = int(path.stem)
            img = cv2.imread(str(path))
            assert img is not None, path
            rows = gt[gt[:, 0] == f]
            counts = rows[(rows[:, 6] == 1) & (rows[:, 7] == 1)]
            ign = rows[np.isin(rows[:, 7], MOT17_IGNORE_CLASSES)]
            out.append(Sample(f"{seq.name}:{f}", img, _xywh_to_xyxy(counts), _xywh_to_xyxy(ign)))
    return out


def video_frames(path: Path, count: int, step: int = 1) -> list[Frame]:
    """The first ``count`` frames (every ``step``-th) of a video."""
    cap = cv2.VideoCapture(str(path))
    frames: list[Frame] = []
    i = 0
    while len(frames) < count:
        ok, fr = cap.read()
        if not ok:
            break
        if i % step == 0:
            frames.append(np.ascontiguousarray(fr))
        i += 1
    cap.release()
    return frames


# ------------------------------------------------------------------------------------------------ scoring


def match_counts(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], sample: Sample, threshold: float
) -> tuple[int, int, int]:
    """(true positives, false positives, ground-truth count) at a score threshold: greedy one-to-one
    matching at IoU >= :data:`IOU_MATCH`, highest score first; unmatched detections on ignore regions
    (IoU >= 0.5 with one) are not counted."""
    from tracker.geometry import iou_matrix

    keep = scores >= threshold
    b, s = boxes[keep], scores[keep]
    order = np.argsort(-s, kind="stable")
    b = b[order]
    iou = iou_matrix(b, sample.gt)
    used = np.zeros(len(sample.gt), bool)
    tp = fp = 0
    ign = iou_matrix(b, sample.ignore).max(axis=1, initial=0.0) if len(sample.ignore) else np.zeros(len(b))
    for i in range(len(b)):
        row = np.where(used, -1.0, iou[i]) if len(sample.gt) else np.zeros(0)
        j = int(np.argmax(row)) if len(row) else -1
        if j >= 0 and row[j] >= IOU_MATCH:
            used[j] = True
            tp += 1
        elif ign[i] < IOU_MATCH:
            fp += 1
    return tp, fp, len(sample.gt)


def recall_precision(
    dets: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]], samples: Sequence[Sample]
) -> dict[str, dict[str, float]]:
    """``{threshold: {recall, precision, tp, fp, gt}}`` over all samples."""
    out: dict[str, dict[str, float]] = {}
    for thr in SCORE_THRESHOLDS:
        tp = fp = n = 0
        for (b, s), smp in zip(dets, samples, strict=True):
            a, c, g = match_counts(b, s, smp, thr)
            tp, fp, n = tp + a, fp + c, n + g
        out[f"{thr:.2f}"] = {
            "recall": tp / max(n, 1),
            "precision": tp / max(tp + fp, 1),
            "tp": tp,
            "fp": fp,
            "gt": n,
        }
    return out


# ------------------------------------------------------------------------------------------------ sessions


def _sessions(args: argparse.Namespace) -> int:
    from tracker.assets import default_detector, default_embedder
    from tracker.onnx_utils import make_session

    frames = video_frames(VTEST, args.frames)
    variants: list[tuple[str, bool, int | None]] = [
        ("spin, threads default", True, None),
        ("no spin, threads default", False, None),
        ("no spin, 1 thread", False, 1),
        ("no spin, 2 threads", False, 2),
    ]
    runners = []
    for label, spin, threads in variants:
        det = default_detector(threads=threads)
        emb = default_embedder(threads=threads)
        # same model files, sessions re-made with the variant's spinning (A/B only)
        det._session = make_session(det.model_path, None, threads, allow_spinning=spin)
        emb._session = make_session(emb.model_path, None, threads, allow_spinning=spin)
        runners.append((label, det, emb))
    det_ms: dict[str, list[float]] = {v[0]: [] for v in variants}
    emb_ms: dict[str, list[float]] = {v[0]: [] for v in variants}
    n_boxes: dict[str, int] = {v[0]: 0 for v in variants}
    block = args.block
    for r, start in enumerate(range(0, len(frames), block)):
        chunk = frames[start : start + block]
        k = r % len(runners)
        for label, det, emb in runners[k:] + runners[:k]:
            td = te = 0.0
            for fr in chunk:
                t0 = time.perf_counter()
                d = det.detect(fr)
                t1 = time.perf_counter()
                boxes = d.boxes[d.scores >= EMBED_SCORE]
                if len(boxes):
                    emb.embed(fr, boxes)
                t2 = time.perf_counter()
                td, te = td + t1 - t0, te + t2 - t1
                n_boxes[label] += len(boxes)
            det_ms[label].append(1e3 * td / len(chunk))
            emb_ms[label].append(1e3 * te / len(chunk))
    result = {
        label: {
            "detector_ms_per_frame": statistics.median(det_ms[label]),
            "embedder_ms_per_frame": statistics.median(emb_ms[label]),
            "detector_ms_blocks": det_ms[label],
            "embedder_ms_blocks": emb_ms[label],
            "boxes_embedded": n_boxes[label],
        }
        for label, _, _ in variants
    }
    meta = {
        "frames": len(frames),
        "block": block,
        "detector": str(runners[0][1].model_path.name),
        "embedder": str(runners[0][2].model_path.name),
    }
    print(f"{len(frames)} frames of {VTEST.name}, blocks of {block} rotating through the variants")
    print(f"{'variant':28s} {'detector ms':>12s} {'embedder ms':>12s}")
    for label, row in result.items():
        print(f"{label:28s} {row['detector_ms_per_frame']:12.1f} {row['embedder_ms_per_frame']:12.1f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"meta": meta, "variants": result}, indent=1) + "\n")
    return 0


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sessions", help="ONNX Runtime spinning/threads A/B on vtest.avi")
    s.add_argument("--frames", type=int, default=250)
    s.add_argument("--block", type=int, default=25, help="frames per block before the next variant")
    s.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "sessions":
        return _sessions(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
