"""Multi-camera scores: cross-camera MOTA/IDF1, handoff accuracy and concurrent-id conflicts.

Inputs are per-camera ground truth whose person ids are the SAME across cameras (global identities)
and per-camera results whose ids are global ids. :func:`score_multicam` is what
``python -m tracker bench DATASET`` (a multi-camera dataset, see :mod:`tracker.multicam.setup`) and the
PETS09 virtual-camera harness (``benchmarks/multicam_harness.py``) report; :func:`match_frame` is the
one per-frame gt matching they share.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..association.lsap import linear_sum_assignment
from ..io.mot import GtFrame, MotGroundTruth, MotResults, ResultFrame, read_ground_truth, read_seqinfo
from .mot_metrics import box_iou, evaluate

__all__ = [
    "HANDOFF_MATCH_IOU",
    "CameraLike",
    "CameraTruth",
    "MultiCamScores",
    "concurrent_conflicts",
    "match_frame",
    "score_multicam",
    "truth_for_cameras",
]

HANDOFF_MATCH_IOU = 0.5
"""Smallest IoU of a gt box and a result box that counts as the tracker covering that person."""
_UNMATCHABLE = 10.0
"""Assignment cost of a pair below :data:`HANDOFF_MATCH_IOU` (larger than any real cost, ``1 - IoU``)."""


@dataclass(frozen=True)
class CameraTruth:
    """Ground truth of one camera of a layout: ``gt`` plus its clock (``start_s``, ``fps``)."""

    camera: str
    gt: MotGroundTruth
    start_s: float
    fps: float

    def time(self, frame: int) -> float:
        """Timestamp (seconds, common clock) of a 1-based frame number."""
        return self.start_s + (frame - 1) / self.fps


class CameraLike(Protocol):
    """What :func:`truth_for_cameras` reads of a camera (e.g. :class:`tracker.multicam.setup.CameraSpec`)."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def fps(self) -> float | None: ...


def truth_for_cameras(cameras: Iterable[CameraLike]) -> list[CameraTruth]:
    """Ground truth of cameras whose ``source`` is a MOTChallenge image folder (truth in
    ``<source>/../gt/gt.txt``, frame rate from ``seqinfo.ini`` unless the camera sets ``fps``).

    Raises:
        FileNotFoundError: a camera's ``gt/gt.txt`` or ``seqinfo.ini`` is missing.
        ValueError: a malformed file (named in the message).
    """
    out = []
    for c in cameras:
        seq = Path(c.source).parent
        gt_path = seq / "gt" / "gt.txt"
        if not gt_path.is_file():
            raise FileNotFoundError(f"camera {c.id}: ground truth not found: {gt_path}")
        fps = c.fps if c.fps is not None else read_seqinfo(seq).frame_rate
        out.append(CameraTruth(c.id, read_ground_truth(gt_path), c.start_s, fps))
    return out


@dataclass
class MultiCamScores:
    """Scores of a multi-camera run (rates are fractions).

    Attributes:
        idf1_cross: IDF1 over all cameras together (a global id must stay with its person across
            cameras to count).
        mota_cross: MOTA over all cameras together.
        per_camera: camera -> ``{"mota", "idf1", "idsw"}``.
        handoff_accuracy: share of evaluable true transitions that keep the global id (see
            :func:`score_multicam`); ``nan`` if none is evaluable.
        handoffs_correct, handoffs_evaluable, handoffs_total: the counts behind it.
        concurrent_conflicts: result rows whose global id is also reported at the same time by a
            camera whose view does not overlap (:func:`concurrent_conflicts`); must be 0.
    """

    idf1_cross: float
    mota_cross: float
    per_camera: dict[str, dict[str, float]]
    handoff_accuracy: float
    handoffs_correct: int
    handoffs_evaluable: int
    handoffs_total: int
    concurrent_conflicts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "idf1_cross": self.idf1_cross,
            "mota_cross": self.mota_cross,
            "per_camera": self.per_camera,
            "handoff_accuracy": self.handoff_accuracy,
            "handoffs_correct": self.handoffs_correct,
            "handoffs_evaluable": self.handoffs_evaluable,
            "handoffs_total": self.handoffs_total,
            "concurrent_conflicts": self.concurrent_conflicts,
        }

    def format(self) -> str:
        lines = [f"{'camera':<16} {'MOTA':>6} {'IDF1':>6} {'IDSW':>5}"]
        for cam, s in self.per_camera.items():
            lines.append(f"{cam:<16} {100 * s['mota']:6.1f} {100 * s['idf1']:6.1f} {int(s['idsw']):5d}")
        acc = "-" if math.isnan(self.handoff_accuracy) else f"{100 * self.handoff_accuracy:.1f}%"
        lines.append(
            f"{'all cameras':<16} {100 * self.mota_cross:6.1f} {100 * self.idf1_cross:6.1f}        "
            f"handoff accuracy {acc} ({self.handoffs_correct}/{self.handoffs_evaluable} evaluable, "
            f"{self.handoffs_total} true transitions)"
        )
        lines.append(
            f"concurrent global-id conflicts between non-overlapping cameras: {self.concurrent_conflicts}"
        )
        return "\n".join(lines)


def match_frame(gt: GtFrame, res: ResultFrame) -> dict[int, int]:
    """Ground-truth person id -> result id in one frame: Hungarian assignment on ``1 - IoU`` over the
    considered gt rows, keeping pairs with IoU >= :data:`HANDOFF_MATCH_IOU`. The one gt matching of the
    multi-camera scores (handoffs, person-search identities)."""
    g_ids, g_boxes = gt.ids[gt.consider], gt.boxes[gt.consider]
    if not len(g_ids) or not len(res.ids):
        return {}
    iou = box_iou(g_boxes, res.boxes)
    r, c = linear_sum_assignment(np.where(iou >= HANDOFF_MATCH_IOU, 1.0 - iou, _UNMATCHABLE))
    return {
        int(g_ids[i]): int(res.ids[j]) for i, j in zip(r, c, strict=True) if iou[i, j] >= HANDOFF_MATCH_IOU
    }


def concurrent_conflicts(
    truth: Sequence[CameraTruth],
    results: Mapping[str, MotResults],
    overlapping: Iterable[tuple[str, str]] = (),
) -> int:
    """Result rows ``(camera, frame, id)`` whose id is also reported, at the same time, by another
    camera whose view does not overlap (one person cannot be in two places at once).

    "The same time": timestamps (each camera's clock from ``truth``) closer than half the shorter
    frame period of the two cameras.

    Args:
        truth: cameras and their clocks.
        results: camera -> results with global ids.
        overlapping: unordered camera pairs whose views overlap (their shared ids are allowed).
    """
    pairs = {frozenset(p) for p in overlapping}
    times: dict[str, dict[int, list[float]]] = {}
    for t in truth:
        per: dict[int, list[float]] = {}
        for f, r in results.get(t.camera, MotResults({})).frames.items():
            for gid in r.ids.tolist():
                per.setdefault(int(gid), []).append(t.time(f))
        times[t.camera] = per
    fps = {t.camera: t.fps for t in truth}
    conflicts = 0
    for a, b in itertools.permutations(times, 2):
        if frozenset((a, b)) in pairs:
            continue
        tol = 0.5 / max(fps[a], fps[b])
        for gid, ta in times[a].items():
            tb = np.sort(np.asarray(times[b].get(gid, ()), np.float64))
            if not len(tb):
                continue
            q = np.asarray(ta, np.float64)
            idx = np.searchsorted(tb, q)
            lo, hi = np.clip(idx - 1, 0, len(tb) - 1), np.clip(idx, 0, len(tb) - 1)
            near = np.minimum(np.abs(tb[lo] - q), np.abs(tb[hi] - q))
            conflicts += int((near < tol).sum())
    return conflicts


def score_multicam(
    truth: Sequence[CameraTruth],
    results: Mapping[str, MotResults],
    overlapping: Iterable[tuple[str, str]] = (),
) -> MultiCamScores:
    """Score per-camera results that carry global ids.

    * Cross-camera MOTA / IDF1: motmetrics over all cameras at once, camera ``i``'s frames renumbered
      ``frame + i * offset`` (offset a power of ten above every frame number) in both ground truth and
      results, so one identity matching spans the cameras.
    * Handoff accuracy: a true transition is a person's consecutive ground-truth appearances (in time
      order on the common clock, considered rows) switching from camera A to camera B. It is evaluable
      when the person is matched (IoU >= 0.5) in both segments, and correct when the result id at the
      last matched frame in A equals the result id at the first matched frame in B.

    Args:
        truth: ground truth per camera (:func:`load_camera_truth`).
        results: camera -> results (global ids); a camera without results counts as empty.
        overlapping: camera pairs whose views overlap (for :func:`concurrent_conflicts`).
    """
    empty = MotResults({})
    max_frame = max((max(t.gt.frames, default=0) for t in truth), default=0)
    for r in results.values():
        max_frame = max(max_frame, max(r.frames, default=0))
    offset = 10 ** max(1, math.ceil(math.log10(max_frame + 1)))
    gt_frames: dict[int, GtFrame] = {}
    res_frames: dict[int, ResultFrame] = {}
    for i, t in enumerate(truth):
        gt_frames.update({f + i * offset: g for f, g in t.gt.frames.items()})
        res_frames.update({f + i * offset: r for f, r in results.get(t.camera, empty).frames.items()})
    cross = evaluate(
        {
            "cross": (
                MotGroundTruth(gt_frames, truth[0].gt.has_classes if truth else False),
                MotResults(res_frames),
            )
        }
    ).sequences["cross"]
    per = evaluate({t.camera: (t.gt, results.get(t.camera, empty)) for t in truth})
    per_camera = {
        t.camera: {
            "mota": per.sequences[t.camera].mota,
            "idf1": per.sequences[t.camera].idf1,
            "idsw": float(per.sequences[t.camera].num_switches),
        }
        for t in truth
    }
    # person timelines over cameras, in time order
    timeline: dict[int, list[tuple[float, int, str]]] = {}
    matched: dict[str, dict[int, dict[int, int]]] = {}
    for t in truth:
        res = results.get(t.camera, empty)
        matched[t.camera] = {}
        for f, g in t.gt.frames.items():
            for pid in g.ids[g.consider].tolist():
                timeline.setdefault(pid, []).append((t.time(f), f, t.camera))
            rf = res.frames.get(f)
            matched[t.camera][f] = match_frame(g, rf) if rf is not None else {}
    total = evaluable = correct = 0
    for pid, rows in timeline.items():
        rows.sort()
        segs = [list(group) for _, group in itertools.groupby(rows, key=lambda x: x[2])]
        for a, b in itertools.pairwise(segs):
            total += 1
            cam_a, cam_b = a[0][2], b[0][2]
            ga = next((matched[cam_a][f][pid] for _, f, _ in reversed(a) if pid in matched[cam_a][f]), None)
            gb = next((matched[cam_b][f][pid] for _, f, _ in b if pid in matched[cam_b][f]), None)
            if ga is None or gb is None:
                continue
            evaluable += 1
            correct += int(ga == gb)
    return MultiCamScores(
        idf1_cross=cross.idf1,
        mota_cross=cross.mota,
        per_camera=per_camera,
        handoff_accuracy=correct / evaluable if evaluable else math.nan,
        handoffs_correct=correct,
        handoffs_evaluable=evaluable,
        handoffs_total=total,
        concurrent_conflicts=concurrent_conflicts(truth, results, overlapping),
    )
