"""Embedding latency of ReID models through ONNX Runtime, side by side in one process.

Times ``OnnxEmbedder.embed`` (crop + resize + normalise + inference) on batches of crops cut from a
real frame, and the bare ``session.run`` on a ready tensor, per crop, for each model given. Runs are
interleaved (each round times every model once, in rotating order) so that a noisy machine hurts
them alike; the table reports medians over rounds and the ratio to the first model.

    python benchmarks/reid_latency.py                         # the embedded model + ../shared models
    python benchmarks/reid_latency.py --models a.onnx b.onnx --batch 16 --rounds 20 --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def default_models() -> list[Path]:
    from tracker.assets import DEFAULT_EMBEDDER

    out = [Path(DEFAULT_EMBEDDER)]
    for name in ("osnet_x0_25_msmt17.onnx", "person-reidentification-retail-0288.onnx"):
        if (SHARED / "models" / name).is_file():
            out.append(SHARED / "models" / name)
    return out


def frame_and_boxes(batch: int) -> tuple[np.ndarray, np.ndarray]:
    """A real PETS09 frame (or noise when the data is absent) and ``batch`` person-sized boxes."""
    import cv2

    img_path = SHARED / "data" / "MOT15" / "train" / "PETS09-S2L1" / "img1" / "000001.jpg"
    img = cv2.imread(str(img_path)) if img_path.is_file() else None
    if img is None:
        img = np.random.default_rng(0).integers(0, 256, (576, 768, 3), dtype=np.uint8)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, img.shape[1] - 60, batch)
    y = rng.uniform(0, img.shape[0] - 150, batch)
    w = rng.uniform(25, 60, batch)
    boxes = np.stack([x, y, x + w, y + 2.5 * w], axis=1).astype(np.float32)
    return np.asarray(img, np.uint8), boxes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", type=Path, help="ONNX ReID models (default: embedded + shared)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)

    from tracker.reid import OnnxEmbedder

    models = args.models or default_models()
    img, boxes = frame_and_boxes(args.batch)
    embedders = [OnnxEmbedder(m, threads=args.threads) for m in models]
    tensors = []
    for e in embedders:
        e.embed(img, boxes)  # warm-up
        h, w = e.input_size
        shape = (args.batch, 3, h, w) if e.layout == "NCHW" else (args.batch, h, w, 3)
        tensors.append(np.random.default_rng(0).normal(0, 1, shape).astype(np.float32))
    full: list[list[float]] = [[] for _ in models]
    bare: list[list[float]] = [[] for _ in models]
    for r in range(args.rounds):
        order = list(range(len(models)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for i in order:
            e = embedders[i]
            t0 = time.perf_counter()
            e.embed(img, boxes)
            t1 = time.perf_counter()
            if e.fixed_batch is None:
                e._session.run(None, {e._input.name: tensors[i]})  # bare inference (private on purpose)
                bare[i].append((time.perf_counter() - t1) * 1e3 / args.batch)
            full[i].append((t1 - t0) * 1e3 / args.batch)
    print(
        f"batch {args.batch}, {args.rounds} interleaved rounds, {args.threads} threads; ms per crop (median)"
    )
    print(f"{'model':<44} {'input':>9} {'dim':>5} {'embed':>7} {'session':>8} {'ratio':>6}")
    rows = []
    base = statistics.median(full[0])
    for m, e, f, b in zip(models, embedders, full, bare, strict=True):
        med = statistics.median(f)
        sess = statistics.median(b) if b else float("nan")
        h, w = e.input_size
        print(f"{m.name:<44} {f'{h}x{w}':>9} {e.dim:>5} {med:7.2f} {sess:8.2f} {med / base:6.2f}")
        rows.append(
            {
                "model": str(m),
                "input": [h, w],
                "dim": e.dim,
                "embed_ms_per_crop": med,
                "session_ms_per_crop": sess,
            }
        )
    if args.json:
        args.json.write_text(
            json.dumps({"batch": args.batch, "threads": args.threads, "rows": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
