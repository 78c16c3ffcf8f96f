"""Camera motion compensation: accuracy and cost of each downscale factor, side by side.

The estimator (:class:`tracker.motion.cmc.CameraMotionCompensator`, sparse flow) shrinks frames by
``downscale`` before looking for corners and tracking them. Smaller is cheaper and may be less exact.
This benchmark runs every factor on the same consecutive frame pairs and reports, per factor:

* **cost**: median milliseconds per ``estimate()`` call (gray conversion, resize, corners, LK, RANSAC);
* **error vs full resolution** (moving cameras): the mean and 95th-percentile distance, in full-frame
  pixels, between where the factor's affine and the full-resolution (``downscale 1``) affine send the
  points of a 16 x 9 grid over the frame. MOT17-mini frame pairs of the moving-camera sequences
  (05, 10, 11, 13; 640x480 and 1920x1080);
* **false motion** (static cameras): the same distance between the factor's affine and the identity,
  on MOT17-mini static sequences (02, 04, 09) and on PETS09-S2L1 (768x576, first 150 pairs).

The reference is itself an estimate (full-resolution sparse flow), not ground truth, so "error" is
disagreement with the most detailed estimate; the static sets give a true zero. Run from the
repository root (needs ``../shared``)::

    python benchmarks/cmc_scale.py                  # ~1 min on 2 cores
    python benchmarks/cmc_scale.py --factors 1 2 4 8 --out benchmarks/results/cmc_scale.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.config import CmcConfig  # noqa: E402
from tracker.motion.cmc import CameraMotionCompensator  # noqa: E402

SHARED = Path(os.environ.get("TRACKER_SHARED", ROOT.parent / "shared"))
MINI = SHARED / "data" / "MOT17-mini" / "train"
PETS = SHARED / "data" / "MOT15" / "train" / "PETS09-S2L1" / "img1"
MOVING = ("MOT17-05-FRCNN", "MOT17-10-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN")
STATIC = ("MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-09-FRCNN")


def frames(folder: Path, limit: int) -> list[NDArray[np.uint8]]:
    paths = sorted(folder.glob("*.jpg"))[:limit]
    if not paths:
        raise SystemExit(f"error: no frames in {folder}")
    return [np.asarray(cv2.imread(str(p)), np.uint8) for p in paths]


def grid(h: int, w: int) -> NDArray[np.float64]:
    xs, ys = np.meshgrid(np.linspace(0, w - 1, 16), np.linspace(0, h - 1, 9))
    return np.stack([xs.ravel(), ys.ravel()], 1)


def warp(a: NDArray[np.float32], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return pts @ a[:, :2].T.astype(np.float64) + a[:, 2].astype(np.float64)


def run(factor: int, seq: list[NDArray[np.uint8]]) -> tuple[list[NDArray[np.float32]], list[float]]:
    """Affines of each consecutive pair (after the first frame) and ms per estimate() call."""
    cmc = CameraMotionCompensator(CmcConfig(enabled=True, downscale=factor))
    affines, ms = [], []
    cmc.estimate(seq[0])
    for f in seq[1:]:
        t = time.perf_counter()
        a = cmc.estimate(f)
        ms.append(1e3 * (time.perf_counter() - t))
        affines.append(a)
    return affines, ms


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--factors", type=int, nargs="+", default=[1, 2, 4, 6, 8])
    p.add_argument("--pets-frames", type=int, default=151)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cmc_scale.md")
    args = p.parse_args()
    cv2.setNumThreads(1)
    sets = {
        "moving": {s: frames(MINI / s / "img1", 100) for s in MOVING},
        "static": {
            **{s: frames(MINI / s / "img1", 100) for s in STATIC},
            "PETS09-S2L1": frames(PETS, args.pets_frames),
        },
    }
    results: dict[int, dict[str, dict[str, list[float]]]] = {}
    reference: dict[str, list[NDArray[np.float32]]] = {}
    for factor in sorted(set([1, *args.factors])):
        results[factor] = {}
        for kind, seqs in sets.items():
            errs, cost_by_size = [], {}
            for name, seq in seqs.items():
                affines, ms = run(factor, seq)
                h, w = seq[0].shape[:2]
                cost_by_size.setdefault(f"{w}x{h}", []).extend(ms)
                if factor == 1:
                    reference[name] = affines
                pts = grid(h, w)
                for a, ref in zip(affines, reference[name], strict=True):
                    target = pts if kind == "static" else warp(ref, pts)
                    errs.extend(np.linalg.norm(warp(a, pts) - target, axis=1).tolist())
            results[factor][kind] = {"err": errs, **{f"ms {k}": v for k, v in cost_by_size.items()}}
    sizes = sorted({k for r in results.values() for d in r.values() for k in d if k.startswith("ms ")})
    head = ["downscale", "moving: px vs full res (mean / p95)", "static: px vs identity (mean / p95)"]
    head += [f"{s} median" for s in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for factor in sorted(results):
        r = results[factor]
        row = [str(factor)]
        for kind in ("moving", "static"):
            e = np.asarray(r[kind]["err"])
            row.append(f"{e.mean():.2f} / {np.percentile(e, 95):.2f}")
        for s in sizes:
            ms = [v for d in r.values() for v in d.get(s, [])]
            row.append(f"{np.median(ms):.2f}" if ms else "-")
        lines.append("| " + " | ".join(row) + " |")
    pairs = {k: sum(len(s) - 1 for s in v.values()) for k, v in sets.items()}
    table = "\n".join(lines)
    print(table)
    text = (
        "# Camera motion compensation: downscale factor, accuracy and cost\n\n"
        f"`python benchmarks/cmc_scale.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{pairs['moving']} moving-camera pairs, {pairs['static']} static-camera pairs; OpenCV 1 thread; "
        "cost = milliseconds per `estimate()` call, by frame size).\n\n" + table + "\n"
    )
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
