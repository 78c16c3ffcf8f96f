"""Where a tracker's misses and false positives come from, per sequence (a diagnostic, not a score).

Reads ``bench``'s results next to the sequences' ground truth and detections and matches each frame's
results to the considered ground truth the way the multi-camera scores do
(:func:`tracker.eval.multicam.match_frame`: Hungarian on ``1 - IoU``, pairs at IoU >= 0.5). This
per-frame matching ignores identities, so its counts are close to, not equal to, motmetrics' FP / FN.

* **Ignored outputs**: boxes the scorer drops before counting, as matched to a distractor class
  (MOT17's 2, 7, 8, 12: :func:`tracker.eval.mot_metrics.preprocess_frame`); neither FP nor match.
* **Unmatched outputs** (about FP; the ignored ones left out), split into boxes on a person whose
  ground-truth row is marked not to be considered and is no distractor (column 7 = 0, IoU >= 0.5: an
  FP under the devkit's rules, which keep such rows out of the targets without excusing the boxes on
  them; MOT15's people marked 0), *near misses* (the box overlaps a considered
  person at IoU 0.3-0.5: right person, box off; with how many of those had a detection at IoU >= 0.5
  with that person, which the tracker did not output) and boxes of *ghost tracks* (tracks matched on
  at most 20 % of their boxes).
* **Missed people** (about FN), split into those with no detection at IoU >= 0.5 (the detector's
  miss: no tracker can output them from these detections) and those with one, with the quartiles of
  that detection's score (as a fraction of the sequence's median detection score, and as the file
  gives it), and how many of those detections an output box covers at IoU >= 0.5 (the box went to
  another person: one detection on two people, as when one hides the other).

Run from the repository root after ``bench``::

    python -m tracker bench MOT15 --root ../shared/data/MOT15 --seq PETS --out out/b_pets
    python benchmarks/error_breakdown.py ../shared/data/MOT15/train out/b_pets
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.eval.mot_metrics import box_iou, preprocess_frame  # noqa: E402
from tracker.eval.multicam import match_frame  # noqa: E402
from tracker.io.mot import (  # noqa: E402
    MotDetections,
    MotGroundTruth,
    MotResults,
    read_detections,
    read_ground_truth,
    read_results,
)

NEAR_MISS_IOU = 0.3
"""Lowest IoU with a person at which an unmatched output counts as a near miss of that person."""
GHOST_MATCHED_SHARE = 0.2
"""A track matched on at most this share of its boxes is a ghost."""


def breakdown(gt: MotGroundTruth, res: MotResults, dets: MotDetections) -> dict[str, float]:
    """The counts of one sequence (see the module docstring)."""
    per_track: dict[int, list[int]] = {}  # track id -> [matched boxes, unmatched boxes]
    near = near_with_det = not_considered = ignored = 0
    unmatched: list[int] = []  # the track id of each unmatched output
    missed = missed_no_det = missed_det_covered = 0
    det_scores: list[float] = []  # as a fraction of the sequence's median detection score
    raw_scores: list[float] = []  # as the file gives them
    all_scores = np.concatenate([d.scores for d in dets.frames.values()]) if dets.frames else np.ones(1)
    median = float(np.median(all_scores)) or 1.0
    frames = sorted(set(gt.frames) | set(res.frames))
    for f in frames:
        g, r, d = gt.frames.get(f), res.frames.get(f), dets.frames.get(f)
        m = match_frame(g, r) if g is not None and r is not None else {}
        matched_ids = set(m.values())
        dropped: set[int] = set()  # tracker ids the scorer drops on a distractor this frame
        if g is not None and r is not None:
            prep = preprocess_frame(f, g, r)
            dropped = set(r.ids.tolist()) - set(prep.tracker_ids.tolist())
            ignored += prep.num_ignored
        gb = g.boxes[g.consider] if g is not None else np.zeros((0, 4), np.float32)
        if r is not None:
            iou_rg = box_iou(r.boxes, gb) if len(gb) else np.zeros((len(r.ids), 0))
            for i, tid in enumerate(r.ids.tolist()):
                counts = per_track.setdefault(tid, [0, 0])
                if tid in matched_ids:
                    counts[0] += 1
                    continue
                if tid in dropped:
                    continue
                counts[1] += 1
                unmatched.append(tid)
                off = g.boxes[~g.consider] if g is not None else np.zeros((0, 4), np.float32)
                if len(off) and box_iou(r.boxes[i : i + 1], off).max() >= 0.5:
                    not_considered += 1
                elif iou_rg.shape[1] and iou_rg[i].max() >= NEAR_MISS_IOU:
                    near += 1
                    j = int(iou_rg[i].argmax())
                    if d is not None and len(d.boxes) and box_iou(d.boxes, gb[j : j + 1]).max() >= 0.5:
                        near_with_det += 1
        if g is None:
            continue
        for j, pid in enumerate(g.ids[g.consider].tolist()):
            if pid in m:
                continue
            missed += 1
            iou_d = box_iou(d.boxes, gb[j : j + 1])[:, 0] if d is not None and len(d.boxes) else np.zeros(0)
            if not len(iou_d) or iou_d.max() < 0.5:
                missed_no_det += 1
            else:
                k = int(iou_d.argmax())
                raw_scores.append(float(d.scores[k]))  # type: ignore[union-attr]
                det_scores.append(raw_scores[-1] / median)
                if r is not None and box_iou(r.boxes, d.boxes[k : k + 1]).max() >= 0.5:  # type: ignore[union-attr]
                    missed_det_covered += 1
    ghost_tracks = {t for t, (ok, bad) in per_track.items() if ok <= GHOST_MATCHED_SHARE * (ok + bad)}
    q = np.percentile(det_scores, [25, 50, 75]) if det_scores else np.full(3, np.nan)
    qr = np.percentile(raw_scores, [25, 50, 75]) if raw_scores else np.full(3, np.nan)
    return {
        "ignored": ignored,
        "unmatched": len(unmatched),
        "not_considered": not_considered,
        "near": near,
        "near_with_det": near_with_det,
        "ghost": sum(1 for t in unmatched if t in ghost_tracks),
        "missed": missed,
        "missed_no_det": missed_no_det,
        "missed_with_det": len(det_scores),
        "missed_det_covered": missed_det_covered,
        "q25": float(q[0]),
        "q50": float(q[1]),
        "q75": float(q[2]),
        "raw25": float(qr[0]),
        "raw50": float(qr[1]),
        "raw75": float(qr[2]),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sequences", type=Path, help="folder of the sequences (each with gt/ and det/)")
    p.add_argument("results", type=Path, help="bench's --out folder (<sequence>.txt)")
    args = p.parse_args(argv)
    rows = []
    for res_path in sorted(args.results.glob("*.txt")):
        seq = args.sequences / res_path.stem
        if not (seq / "gt" / "gt.txt").is_file() or not (seq / "det" / "det.txt").is_file():
            continue
        try:
            b = breakdown(
                read_ground_truth(seq / "gt" / "gt.txt"),
                read_results(res_path),
                read_detections(seq / "det" / "det.txt"),
            )
        except (OSError, ValueError) as e:  # the parsers name the file and line
            print(f"error: {e}", file=sys.stderr)
            return 2
        rows.append((res_path.stem, b))
    if not rows:
        print(
            f"error: no <sequence>.txt in {args.results} matches a sequence of {args.sequences}",
            file=sys.stderr,
        )
        return 2
    print(
        "| sequence | ignored outputs | unmatched outputs | on not-considered people "
        "| near misses (a detection was good) "
        "| in ghost tracks "
        "| missed people | no detection | a detection existed: score / median q25 q50 q75 | its score q25 q50 q75 "
        "| its detection under another person's output |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, b in rows:
        print(
            f"| {name} | {b['ignored']:.0f} | {b['unmatched']:.0f} | {b['not_considered']:.0f} | {b['near']:.0f} ({b['near_with_det']:.0f}) "
            f"| {b['ghost']:.0f} "
            f"| {b['missed']:.0f} | {b['missed_no_det']:.0f} | {b['missed_with_det']:.0f}: "
            f"{b['q25']:.2f} {b['q50']:.2f} {b['q75']:.2f} | {b['raw25']:.2f} {b['raw50']:.2f} {b['raw75']:.2f} "
            f"| {b['missed_det_covered']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
