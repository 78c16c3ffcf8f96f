"""How much of a ReID model's accuracy survives people seen small?

Surveillance and robot cameras see most people small: PETS09-S2L1's ground-truth boxes are 68-100 px
tall (10th-90th percentile), CUHK01's images 160 px. Each crop is shrunk (area averaging, aspect kept)
to at most ``H`` px tall before the embedder scales it up to its input size, which simulates the
same person seen farther away. Rank-1 / mAP on CUHK01 test (in the training domain of our model) and
on the PETS09-S2L1 thirds protocol (crops mostly smaller than the heights tried, so only ``native``
and heights above its crops' median change much there).

Run from the repository root with the project's environment and ``../shared`` beside it::

    python benchmarks/reid_resolution.py tracker/assets/reid_mobilenetv2_cuhk.onnx ../shared/models/osnet_x0_25_msmt17.onnx

``native`` crops exactly as ``python -m tracker reid eval`` does (the same figures); the other
columns crop the box with the same rounding, shrink it, and embed the whole crop. Rows are printed as
they are measured; SIGINT, SIGTERM or SIGHUP stop it after the row in hand (exit 128 + the signal).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.reid import OnnxEmbedder  # noqa: E402
from tracker.reid.train.datasets import Sample  # noqa: E402
from tracker.reid.train.evaluate import cosine_distance, evaluate_samples, load_protocol  # noqa: E402
from tracker.signals import GracefulStop  # noqa: E402

DATA = REPO.parent / "shared" / "data"
PROTOCOLS = {"cuhk01-test": DATA / "reid", "mot-thirds": DATA / "MOT15" / "train" / "PETS09-S2L1"}


def _features(emb: OnnxEmbedder, samples: list[Sample], max_height: int | None) -> NDArray[np.float32]:
    """Embeddings ``float32[N,D]`` of ``samples``, each crop shrunk to at most ``max_height`` px tall
    (``None``: as ``reid eval`` embeds them)."""
    out = []
    for s in samples:
        img = cv2.imread(s.path, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"{s.path}: cannot read image")
        h, w = img.shape[:2]
        box = s.box if s.box is not None else (0.0, 0.0, float(w), float(h))
        if max_height is None:
            out.append(emb.embed(img, np.asarray([box], np.float32))[0])
            continue
        xa, ya = int(np.clip(np.floor(box[0]), 0, w - 1)), int(np.clip(np.floor(box[1]), 0, h - 1))
        xb = max(int(np.clip(np.ceil(box[2]), 0, w)), xa + 1)
        yb = max(int(np.clip(np.ceil(box[3]), 0, h)), ya + 1)
        crop = img[ya:yb, xa:xb]
        ch, cw = crop.shape[:2]
        if ch > max_height:
            f = max_height / ch
            crop = cv2.resize(crop, (max(1, round(cw * f)), max_height), interpolation=cv2.INTER_AREA)
        whole = np.asarray([[0, 0, crop.shape[1], crop.shape[0]]], np.float32)
        out.append(emb.embed(np.ascontiguousarray(crop), whole)[0])
    return np.stack(out).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="ReID ONNX models")
    ap.add_argument("--heights", default="100,75,50", help="largest crop heights (px) to try")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        heights = [int(h) for h in args.heights.split(",") if h]
    except ValueError:
        print(f"error: --heights: expected comma-separated integers, got {args.heights!r}", file=sys.stderr)
        return 2
    if not heights or min(heights) < 8:
        print("error: --heights: give at least one height of 8 px or more", file=sys.stderr)
        return 2
    for m in args.models:
        if not Path(m).is_file():
            print(f"error: {m}: model not found", file=sys.stderr)
            return 2
    cols: list[int | None] = [None, *heights]
    print(
        f"{'model':34s} {'protocol':12s} "
        + " ".join(f"{('native' if c is None else f'<= {c} px'):>13s}" for c in cols)
    )
    with GracefulStop() as stop:  # SIGINT/SIGTERM/SIGHUP: stop after the row in hand
        for m in args.models:
            emb = OnnxEmbedder(m)
            for name, root in PROTOCOLS.items():
                if stop.requested:
                    break
                query, gallery = load_protocol(name, root)
                cells = []
                for c in cols:
                    dist = cosine_distance(_features(emb, query, c), _features(emb, gallery, c))
                    res = evaluate_samples(dist, query, gallery).summary()
                    cells.append(f"{100 * res['rank1']:5.1f} / {100 * res['mAP']:5.1f}")
                print(f"{Path(m).name:34s} {name:12s} " + " ".join(f"{x:>13s}" for x in cells), flush=True)
        if stop.requested:
            print(f"stopped by {stop.signal_name}: the rows above are complete", file=sys.stderr)
        return stop.exit_status()


if __name__ == "__main__":
    raise SystemExit(main())
