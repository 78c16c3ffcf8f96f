"""How much of a ReID model's accuracy survives a person cut by the edge of a camera's view?

A handoff between cameras is decided on a new tracklet's first crops, and the view's edge cuts those
boxes: the embedder sees part of the person, stretched to its input size. Here each query box of the
PETS09-S2L1 thirds protocol keeps a fraction of its width, alternately its right part (even queries)
and its left part (odd queries); the gallery is unchanged. Rank-1 / mAP per fraction.

Run from the repository root with the project's environment and ``../shared`` beside it::

    python benchmarks/reid_truncation.py tracker/assets/reid_mobilenetv2_cuhk.onnx ../shared/models/osnet_x0_25_msmt17.onnx

The ``1`` column is the protocol as ``python -m tracker reid eval`` runs it (the same figures). The
thirds protocol has 19 queries: one query is 5.3 points of rank-1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.reid.train.datasets import Sample  # noqa: E402
from tracker.reid.train.evaluate import (  # noqa: E402
    cosine_distance,
    evaluate_samples,
    extract_features,
    load_protocol,
)

SEQUENCE = REPO.parent / "shared" / "data" / "MOT15" / "train" / "PETS09-S2L1"


def truncated(samples: list[Sample], keep: float) -> list[Sample]:
    """``samples`` with each box (xyxy pixels) cut to ``keep`` of its width: the right part for even
    positions, the left part for odd ones (``keep`` 1: unchanged)."""
    out = []
    for i, s in enumerate(samples):
        if s.box is None:
            raise ValueError(f"{s.path}: a whole-image sample has no box to cut")
        x1, y1, x2, y2 = s.box
        w = (x2 - x1) * keep
        out.append(s._replace(box=(x1, y1, x1 + w, y2) if i % 2 else (x2 - w, y1, x2, y2)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="ReID ONNX models")
    ap.add_argument("--keep", default="1,0.7,0.5", help="fractions of the query width to keep, in (0, 1]")
    ap.add_argument("--data", type=Path, default=SEQUENCE, help="the sequence of the thirds protocol")
    args = ap.parse_args()
    try:
        keeps = [float(k) for k in args.keep.split(",")]
    except ValueError:
        print(f"error: --keep: expected numbers separated by commas, got {args.keep!r}", file=sys.stderr)
        return 2
    if not all(0.0 < k <= 1.0 for k in keeps):
        print(f"error: --keep: every fraction must be in (0, 1], got {args.keep!r}", file=sys.stderr)
        return 2
    missing = [str(m) for m in args.models if not m.is_file()]
    if missing:
        print(f"error: no such model file: {', '.join(missing)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    try:
        query, gallery = load_protocol("mot-thirds", args.data)
    except (OSError, ValueError) as e:  # the loaders name the file
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{'model':34s} " + " ".join(f"{'keep ' + format(k, 'g'):>14s}" for k in keeps))
    for model in args.models:
        fg = extract_features(model, gallery)
        cells = []
        for k in keeps:
            r = evaluate_samples(
                cosine_distance(extract_features(model, truncated(query, k)), fg), query, gallery
            )
            cells.append(f"{100 * r.rank(1):.1f} / {100 * r.mAP:.1f}")
        print(f"{model.name:34s} " + " ".join(f"{c:>14s}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
