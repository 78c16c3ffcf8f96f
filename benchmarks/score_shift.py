"""How presets hold up when the detector scores the same people differently (tuning sets only).

A detector run on frames it was not trained on, or another detector, finds the same people with other
scores: lower (``x0.85``, ``x0.7``), spread further apart (``pow1.5``, ``pow2``: strong boxes stay
strong, weak ones get weaker) or squeezed together (``pow0.7``). This script rewrites the detections
of the tuning sets with such a transform of their scores (boxes unchanged; scores first normalised
into [0, 1] the way ``bench`` reads them), runs ``bench`` on the copies (motion only) and prints one
row per preset and transform. ``id`` is the untransformed baseline, read through the same copy.

Tuning sets, as in ``benchmarks/association_sweep.py``: ``yolox-train``
(MOT17-YOLOX-train-half), ``mot17`` (MOT17 public FRCNN), ``pets`` (PETS09-S2L1). Nothing here
reads the held-out sets.

Run from the repository root::

    python benchmarks/score_shift.py --presets default,bytetrack
    python benchmarks/score_shift.py --presets default,my.yaml --transforms id,x0.7 --sets pets

Cells: MOTA / IDF1 / HOTA (IDSW). Copies go to ``out/score_shift/``. SIGINT / SIGTERM stop the run
under way; the rows finished stay printed and the exit status is 128 + the signal number.
Results and the decision they fed: ``benchmarks/results/relative_scores.md``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.apps.bench import run_benchmark  # noqa: E402
from tracker.config import load_config  # noqa: E402
from tracker.io.atomic import write_text_atomic  # noqa: E402
from tracker.io.mot import read_detections  # noqa: E402
from tracker.signals import GracefulStop  # noqa: E402

DATA = REPO.parent / "shared" / "data"
OUT = REPO / "out" / "score_shift"

SETS: dict[str, tuple[str, Path, list[str]]] = {
    "yolox-train": ("MOT17", DATA / "MOT17-YOLOX-train-half" / "train", []),
    "mot17": ("MOT17", DATA / "MOT17" / "train", []),
    "pets": ("MOT15", DATA / "MOT15" / "train", ["PETS09-S2L1"]),
}
"""Tuning sets: dataset kind, the folder of its sequences, and the sequences used (all if empty)."""

TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "id": lambda s: s,
    "x0.85": lambda s: 0.85 * s,
    "x0.7": lambda s: 0.7 * s,
    "pow1.5": lambda s: s**1.5,
    "pow2": lambda s: s**2,
    "pow0.7": lambda s: s**0.7,
}
"""Score transforms, applied to scores already in [0, 1] (they map [0, 1] into itself)."""


def _sequences(seq_root: Path, only: list[str]) -> list[Path]:
    seqs = sorted(p for p in seq_root.iterdir() if (p / "det" / "det.txt").is_file())
    return [p for p in seqs if p.name in only] if only else seqs


def write_copy(set_name: str, transform: str) -> Path:
    """A copy of set ``set_name`` with transformed scores (``det/det.txt`` rewritten; ``gt/`` and
    ``seqinfo.ini`` linked); returns the dataset root (the folder holding ``train/``)."""
    _, seq_root, only = SETS[set_name]
    root = OUT / set_name / transform
    fn = TRANSFORMS[transform]
    for seq in _sequences(seq_root, only):
        dst = root / "train" / seq.name
        (dst / "det").mkdir(parents=True, exist_ok=True)
        for name in ("gt", "seqinfo.ini"):
            link = dst / name
            if not link.exists():
                link.symlink_to(seq / name)
        dets = read_detections(seq / "det" / "det.txt")
        rows = []
        for frame in range(1, dets.last_frame + 1):
            d = dets.detections(frame, "auto")  # scores in [0, 1] as bench reads them
            if len(d) == 0:
                continue
            s = np.clip(fn(d.scores.astype(np.float64)), 0.0, 1.0)
            b = d.boxes.astype(np.float64)
            for (x1, y1, x2, y2), score in zip(b, s, strict=True):
                rows.append(f"{frame},-1,{x1:.3f},{y1:.3f},{x2 - x1:.3f},{y2 - y1:.3f},{score:.6f},-1,-1,-1")
        write_text_atomic(dst / "det" / "det.txt", "\n".join(rows) + "\n")
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--presets", default="default,bytetrack", help="preset names or YAML paths, comma separated"
    )
    ap.add_argument(
        "--sets", default=",".join(SETS), help=f"tuning sets, comma separated ({', '.join(SETS)})"
    )
    ap.add_argument(
        "--transforms", default=",".join(TRANSFORMS), help=f"score transforms ({', '.join(TRANSFORMS)})"
    )
    args = ap.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]
    sets = [s for s in args.sets.split(",") if s]
    transforms = [t for t in args.transforms.split(",") if t]
    bad = [s for s in sets if s not in SETS] + [t for t in transforms if t not in TRANSFORMS]
    if bad:
        ap.error(f"unknown set(s) or transform(s): {bad}")
    try:  # (a bad preset fails before any work)
        configs = {p: load_config(p) for p in presets}
    except (OSError, ValueError) as e:
        ap.error(f"--presets: {e}")
    logging.basicConfig(level=logging.ERROR)
    width = max(len(p) for p in presets)
    print(f"{'transform':9s}  {'preset':{width}s}  " + "  ".join(f"{s:28s}" for s in sets), flush=True)
    with GracefulStop() as stop:
        for t in transforms:
            roots = {s: write_copy(s, t) for s in sets}
            for p in presets:
                if stop.requested:  # (a signal while the copies were written)
                    break
                cells = []
                t0 = time.time()
                for s in sets:
                    kind, _, only = SETS[s]
                    report = run_benchmark(
                        kind,
                        root=roots[s],
                        config=configs[p],
                        out_dir=OUT / "runs" / t / Path(p).stem / s,
                        sequences=only or None,
                        use_images=False,
                        progress=False,
                    )
                    if report.stopped == "signal":
                        stop.request(getattr(signal, report.signal or "SIGTERM"))
                        break
                    assert report.scores is not None
                    o = report.scores.overall
                    cells.append(
                        f"{100 * o.mota:.1f} / {100 * o.idf1:.1f} / {100 * o.hota:.1f} ({o.num_switches})"
                    )
                if stop.requested:
                    break
                print(
                    f"{t:9s}  {p:{width}s}  "
                    + "  ".join(f"{c:28s}" for c in cells)
                    + f"  ({time.time() - t0:.0f}s)",
                    flush=True,
                )
            if stop.requested:
                break
    if stop.requested:
        print(f"stopped by {stop.signal_name}: rows above are complete", flush=True)
    return stop.exit_status(0)


if __name__ == "__main__":
    raise SystemExit(main())
