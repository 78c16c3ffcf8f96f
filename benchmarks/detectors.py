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
from typing import Any

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


# ------------------------------------------------------------------------------------------------ candidates

TILE_GRID = (2, 2)
"""``ssdlite-tiles``: rows x columns of tiles (plus the whole frame)."""
TILE_OVERLAP = 0.25
"""``ssdlite-tiles``: tiles overlap by this fraction of their size."""
TILE_MERGE_IOU = 0.5
"""``ssdlite-tiles``: NMS IoU merging tile and whole-frame boxes."""
PICODET_NMS_IOU = 0.6
"""PP-PicoDet: PaddleDetection's ``MultiClassNMS`` ``nms_threshold`` for PicoDet."""
OV_THREADS = 2
"""OpenVINO CPU inference threads (same as the ONNX Runtime sessions here)."""

ADAS_IR = CANDIDATES / "pedestrian-detection-adas-0002" / "pedestrian-detection-adas-0002.xml"
PICODET_IR = {
    320: CANDIDATES / "picodet_s_320_lcnet_pedestrian" / "picodet_s_320_lcnet_pedestrian.xml",
    192: CANDIDATES / "picodet_s_192_lcnet_pedestrian" / "picodet_s_192_lcnet_pedestrian.xml",
}
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _ov_compiled(xml: Path) -> Any:
    import openvino as ov

    core = ov.Core()
    return core.compile_model(
        core.read_model(xml), "CPU", {"INFERENCE_NUM_THREADS": OV_THREADS, "PERFORMANCE_HINT": "LATENCY"}
    )


def ssdlite() -> DetectFn:
    from tracker.detect import OnnxDetector

    det = OnnxDetector(
        REPO / "benchmarks" / "models" / "pedestrian_ssdlite_mobilenetv2.onnx",
        family="ssd",
        score_threshold=0.1,
        threads=2,
    )

    def run(frame: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        d = det.detect(frame)
        return d.boxes, d.scores

    return run


def ssdlite_tiles() -> DetectFn:
    """SSDLite on the whole frame and on overlapping tiles, merged by NMS."""
    from tracker.detect import nms

    whole = ssdlite()

    def run(frame: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        h, w = frame.shape[:2]
        rows, cols = TILE_GRID
        th = int(np.ceil(h / (rows - (rows - 1) * TILE_OVERLAP)))
        tw = int(np.ceil(w / (cols - (cols - 1) * TILE_OVERLAP)))
        boxes, scores = [], []
        b, s = whole(frame)
        boxes.append(b)
        scores.append(s)
        for r in range(rows):
            for c in range(cols):
                y0 = min(round(r * th * (1 - TILE_OVERLAP)), h - th)
                x0 = min(round(c * tw * (1 - TILE_OVERLAP)), w - tw)
                b, s = whole(np.ascontiguousarray(frame[y0 : y0 + th, x0 : x0 + tw]))
                boxes.append(b + np.array([x0, y0, x0, y0], np.float32))
                scores.append(s)
        bb, ss = np.concatenate(boxes), np.concatenate(scores)
        keep = nms(bb, ss, TILE_MERGE_IOU)
        return bb[keep], ss[keep]

    return run


def adas_ov() -> DetectFn:
    """pedestrian-detection-adas-0002 IR in OpenVINO: plain resize to 672x384, BGR 0..255 (mean/scale
    are in the graph), DetectionOutput rows ``[image, label, score, x1, y1, x2, y2]`` normalised."""
    model = _ov_compiled(ADAS_IR)
    out = model.outputs[0]

    def run(frame: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        h, w = frame.shape[:2]
        x = cv2.resize(frame, (672, 384), interpolation=cv2.INTER_LINEAR)
        blob = x.transpose(2, 0, 1)[None].astype(np.float32)
        rows = np.asarray(model(blob)[out]).reshape(-1, 7)
        rows = rows[(rows[:, 0] >= 0) & (rows[:, 1] == 1)]
        boxes = (rows[:, 3:7] * np.array([w, h, w, h], np.float32)).astype(np.float32)
        return boxes, rows[:, 2].astype(np.float32)

    return run


def picodet_ov(size: int) -> DetectFn:
    """PP-PicoDet-S LCNet pedestrian IR in OpenVINO with PaddleDetection's PicoDet preprocessing: RGB,
    resize to size x size (``interp: 2`` = bicubic, ``keep_ratio: false``), /255, ImageNet mean/std,
    CHW; outputs boxes in input pixels and scores, NMS here."""
    from tracker.detect import nms

    model = _ov_compiled(PICODET_IR[size])
    out_boxes, out_scores = model.outputs[0], model.outputs[1]

    def run(frame: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        h, w = frame.shape[:2]
        x = cv2.resize(frame, (size, size), interpolation=cv2.INTER_CUBIC)[:, :, ::-1].astype(np.float32)
        x = (x / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        res = model(x.transpose(2, 0, 1)[None])
        boxes = np.asarray(res[out_boxes]).reshape(-1, 4)
        scores = np.asarray(res[out_scores]).reshape(-1)
        keep = scores >= 0.05
        boxes, scores = boxes[keep], scores[keep]
        boxes = boxes * np.array([w / size, h / size, w / size, h / size], np.float32)
        boxes = np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)
        k = nms(boxes, scores, PICODET_NMS_IOU, max_detections=100)
        return boxes[k], scores[k].astype(np.float32)

    return run


def default_onnx() -> DetectFn:
    """``tracker.assets.default_detector()`` (adas-0002 rebuilt as ONNX), at score >= 0.1."""
    from tracker.assets import default_detector

    det = default_detector(threads=2)
    det.score_threshold = 0.1

    def run(frame: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        d = det.detect(frame)
        return d.boxes, d.scores

    return run


CANDIDATE_FACTORIES: dict[str, Callable[[], DetectFn]] = {
    "ssdlite": ssdlite,
    "ssdlite-tiles": ssdlite_tiles,
    "adas-ov": adas_ov,
    "picodet320-ov": lambda: picodet_ov(320),
    "picodet192-ov": lambda: picodet_ov(192),
    "adas-onnx": default_onnx,
}
"""Name -> factory of the detectors ``compare`` can run."""

SAMPLE_DRAW_FRAMES = (60, 200, 330, 470)
"""Frames of the bundled sample clip drawn by ``compare --draw``."""
DRAW_SCORE = 0.5
"""``--draw``: boxes at or above this score are drawn."""


def _compare(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.only.split(",")] if args.only else list(CANDIDATE_FACTORIES)
    unknown = [n for n in names if n not in CANDIDATE_FACTORIES]
    if unknown:
        raise SystemExit(f"unknown detectors {unknown}; known: {list(CANDIDATE_FACTORIES)}")
    dets = {n: CANDIDATE_FACTORIES[n]() for n in names}
    sets = {"PETS09-S2L1 every 16th": pets_samples(16), "MOT17-mini": mot17_mini_samples()}
    results: dict[str, Any] = {"meta": {"detectors": names, "iou": IOU_MATCH}, "sets": {}}
    for set_name, samples in sets.items():
        found: dict[str, list[tuple[NDArray[np.float32], NDArray[np.float32]]]] = {n: [] for n in names}
        ms: dict[str, list[float]] = {n: [] for n in names}
        for _ in range(args.warmup):
            for n in names:
                dets[n](samples[0].frame)
        for i, smp in enumerate(samples):
            k = i % len(names)
            for n in names[k:] + names[:k]:
                t0 = time.perf_counter()
                b, s = dets[n](smp.frame)
                ms[n].append(1e3 * (time.perf_counter() - t0))
                found[n].append((b, s))
        h, w = samples[0].frame.shape[:2]
        results["sets"][set_name] = {
            n: {
                "frames": len(samples),
                "frame_size": [w, h],
                "ms_per_frame_median": statistics.median(ms[n]),
                "at_score": recall_precision(found[n], samples),
            }
            for n in names
        }
        print(f"\n{set_name}: {len(samples)} frames ({w}x{h}), recall / precision at IoU {IOU_MATCH}")
        print(
            f"{'detector':16s} {'ms':>7s} " + " ".join(f"{'>=' + f'{t:.1f}':>13s}" for t in SCORE_THRESHOLDS)
        )
        for n in names:
            row = results["sets"][set_name][n]
            cells = " ".join(
                f"{row['at_score'][f'{t:.2f}']['recall']:.3f}/{row['at_score'][f'{t:.2f}']['precision']:.3f}"
                for t in SCORE_THRESHOLDS
            )
            print(f"{n:16s} {row['ms_per_frame_median']:7.1f} {cells}")
    if args.draw:
        _draw(dets, args.draw)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


def _draw(dets: dict[str, DetectFn], folder: Path) -> None:
    """Frames of the bundled sample clip with each detector's boxes (score >= DRAW_SCORE), as PNG."""
    from tracker.assets import SAMPLE_VIDEO

    folder.mkdir(parents=True, exist_ok=True)
    frames = video_frames(SAMPLE_VIDEO, max(SAMPLE_DRAW_FRAMES) + 1)
    for f in SAMPLE_DRAW_FRAMES:
        tiles = []
        for n, det in dets.items():
            img = frames[f].copy()
            b, s = det(frames[f])
            for box, sc in zip(b[s >= DRAW_SCORE], s[s >= DRAW_SCORE], strict=True):
                x1, y1, x2, y2 = (round(float(v)) for v in box)
                cv2.rectangle(img, (x1, y1), (x2, y2), (0, 255, 0), 2)
                cv2.putText(
                    img, f"{sc:.2f}", (x1, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 0), 1
                )
            cv2.putText(img, n, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
            tiles.append(cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2)))
        while len(tiles) % 2:
            tiles.append(np.zeros_like(tiles[0]))
        grid = np.vstack([np.hstack(tiles[i : i + 2]) for i in range(0, len(tiles), 2)])
        cv2.imwrite(str(folder / f"sample_{f:04d}.png"), grid)


def _dets(args: argparse.Namespace) -> int:
    """Every frame of a video through one candidate, written as MOTChallenge det.txt rows
    ``frame,-1,x,y,w,h,score,-1,-1,-1`` (1-based frames, score >= ``--min-score``), for
    ``python -m tracker run VIDEO --dets FILE`` and ``score``."""
    det = CANDIDATE_FACTORIES[args.detector]()
    cap = cv2.VideoCapture(str(args.video))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    t = 0.0
    with args.out.open("w", encoding="utf-8") as fh:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            n += 1
            t0 = time.perf_counter()
            boxes, scores = det(np.ascontiguousarray(frame))
            t += time.perf_counter() - t0
            for (x1, y1, x2, y2), sc in zip(boxes, scores, strict=True):
                if sc >= args.min_score:
                    fh.write(f"{n},-1,{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{sc:.4f},-1,-1,-1\n")
    cap.release()
    print(f"{args.detector}: {n} frames, {1e3 * t / max(n, 1):.1f} ms/frame, wrote {args.out}")
    return 0


AGREE_SCORE = 0.1
"""``agreement``: detections at or above this score are compared (the default detector's threshold)."""
AGREE_IOU = 0.9
"""``agreement``: an ONNX box counts as the IR's box when their IoU is at least this."""


def _agreement(args: argparse.Namespace) -> int:
    """Box for box: the embedded ONNX default (ONNX Runtime, numpy decoding and NMS) against the
    OpenVINO IR's own ``DetectionOutput`` on the same frames, at score >= AGREE_SCORE."""
    from tracker.assets import default_detector
    from tracker.geometry import iou_matrix

    ir = adas_ov()
    det = default_detector(threads=2)
    det.score_threshold = AGREE_SCORE
    samples = [*pets_samples(16), *mot17_mini_samples()]
    n_ir = n_onnx = matched = 0
    worst_px = worst_score = 0.0
    frames_equal = 0
    for smp in samples:
        h, w = smp.frame.shape[:2]
        b_ir, s_ir = ir(smp.frame)
        keep = s_ir >= AGREE_SCORE
        b_ir = np.clip(b_ir[keep], 0, [w, h, w, h]).astype(np.float32)
        s_ir = s_ir[keep]
        d = det.detect(smp.frame)
        n_ir += len(b_ir)
        n_onnx += len(d)
        frames_equal += int(len(b_ir) == len(d))
        if len(b_ir) and len(d):
            iou = iou_matrix(b_ir, d.boxes)
            j = iou.argmax(axis=1)
            ok = iou[np.arange(len(b_ir)), j] >= AGREE_IOU
            matched += int(ok.sum())
            if ok.any():
                worst_px = max(worst_px, float(np.abs(b_ir[ok] - d.boxes[j[ok]]).max()))
                worst_score = max(worst_score, float(np.abs(s_ir[ok] - d.scores[j[ok]]).max()))
    res = {
        "frames": len(samples),
        "frames_with_equal_count": frames_equal,
        "ir_boxes": n_ir,
        "onnx_boxes": n_onnx,
        "ir_boxes_matched_iou_0.9": matched,
        "max_abs_box_diff_px": worst_px,
        "max_abs_score_diff": worst_score,
        "score_threshold": AGREE_SCORE,
    }
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sessions", help="ONNX Runtime spinning/threads A/B on vtest.avi")
    s.add_argument("--frames", type=int, default=250)
    s.add_argument("--block", type=int, default=25, help="frames per block before the next variant")
    s.add_argument("--out", type=Path)
    c = sub.add_parser("compare", help="candidate detectors: recall/precision and ms/frame")
    c.add_argument("--only", help=f"comma-separated subset of {list(CANDIDATE_FACTORIES)}")
    c.add_argument("--warmup", type=int, default=2, help="untimed runs per detector first")
    c.add_argument("--draw", type=Path, help="write sample-clip frames with boxes here (PNG)")
    c.add_argument("--out", type=Path)
    d = sub.add_parser("dets", help="one candidate over a whole video -> MOT det.txt")
    d.add_argument("detector", choices=list(CANDIDATE_FACTORIES))
    d.add_argument("--video", type=Path, default=VTEST)
    d.add_argument("--min-score", type=float, default=0.1)
    d.add_argument("--out", type=Path, required=True)
    g = sub.add_parser("agreement", help="embedded ONNX default vs the OpenVINO IR, box for box")
    g.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "agreement":
        return _agreement(args)
    if args.cmd == "dets":
        return _dets(args)
    if args.cmd == "compare":
        return _compare(args)
    if args.cmd == "sessions":
        return _sessions(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
