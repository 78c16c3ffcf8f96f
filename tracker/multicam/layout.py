"""Multi-camera datasets on disk: the layout, scoring, and the virtual-view export of one sequence.

Layout: a folder with ``cameras.yaml`` (the camera list of ``python -m tracker run``, see
:mod:`tracker.apps.multicam_run`) whose cameras are MOTChallenge sequences::

    DATASET/
      cameras.yaml          # cameras: [{id: left, source: left/img1, dets: left/det/det.txt}, ...]
      left/  seqinfo.ini  img1/  det/det.txt  gt/gt.txt
      right/ ...

Each camera's ``source`` is a sequence's image folder; its ground truth is ``<source>/../gt/gt.txt``,
with person ids that are the SAME across cameras (global identities). ``python -m tracker bench
DATASET`` tracks it with the public detections and scores it with :func:`score_multicam`.

:func:`export_virtual_views` writes such a dataset from one real sequence cut into views (PETS09-S2L1
into a left and a right view with a blind strip between them, as :mod:`tracker.multicam.virtual`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from ..eval.mot_metrics import box_iou, evaluate
from ..io.mot import GtFrame, MotGroundTruth, MotResults, ResultFrame, read_ground_truth, read_seqinfo

__all__ = [
    "CameraTruth",
    "MultiCamScores",
    "export_virtual_views",
    "load_camera_truth",
    "score_multicam",
]


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


def load_camera_truth(dataset: str | Path) -> list[CameraTruth]:
    """Ground truth of every camera of a layout (``DATASET/cameras.yaml``).

    Raises:
        FileNotFoundError: ``cameras.yaml`` or a camera's ``gt/gt.txt`` / ``seqinfo.ini`` is missing.
        ValueError: a malformed file (named in the message).
    """
    from ..apps.multicam_run import load_camera_setup

    setup = load_camera_setup(Path(dataset) / "cameras.yaml")
    out = []
    for c in setup.cameras:
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
    """

    idf1_cross: float
    mota_cross: float
    per_camera: dict[str, dict[str, float]]
    handoff_accuracy: float
    handoffs_correct: int
    handoffs_evaluable: int
    handoffs_total: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "idf1_cross": self.idf1_cross,
            "mota_cross": self.mota_cross,
            "per_camera": self.per_camera,
            "handoff_accuracy": self.handoff_accuracy,
            "handoffs_correct": self.handoffs_correct,
            "handoffs_evaluable": self.handoffs_evaluable,
            "handoffs_total": self.handoffs_total,
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
        return "\n".join(lines)


def _match(gt: GtFrame, res: ResultFrame) -> dict[int, int]:
    """gt id -> result id in one frame: Hungarian on IoU over considered rows, pairs with IoU >= 0.5."""
    g_ids, g_boxes = gt.ids[gt.consider], gt.boxes[gt.consider]
    if not len(g_ids) or not len(res.ids):
        return {}
    iou = box_iou(g_boxes, res.boxes)
    r, c = linear_sum_assignment(np.where(iou >= 0.5, 1.0 - iou, 10.0))
    return {int(g_ids[i]): int(res.ids[j]) for i, j in zip(r, c, strict=True) if iou[i, j] >= 0.5}


def score_multicam(truth: Sequence[CameraTruth], results: Mapping[str, MotResults]) -> MultiCamScores:
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
            matched[t.camera][f] = _match(g, rf) if rf is not None else {}
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
    )


def _shift(boxes: NDArray[np.float32], x0: float) -> NDArray[np.float32]:
    b = np.asarray(boxes, np.float32).copy()
    b[:, [0, 2]] -= x0
    return b


def export_virtual_views(
    seq_dir: str | Path,
    out_dir: str | Path,
    views: Sequence[Any] | None = None,
    zone_width: float = 100.0,
) -> Path:
    """Write a multi-camera layout from one sequence cut into vertical views.

    Per view: ``img1/`` (the frames cropped to the view, JPEG), ``det/det.txt`` (public detections
    whose centre is in the view, clipped, scores normalised to [0,1] as
    :func:`~tracker.multicam.virtual.build_virtual_sequence` does), ``gt/gt.txt`` (likewise, ids kept:
    the same person has the same id in every view) and ``seqinfo.ini``, all in VIEW coordinates. The
    ``cameras.yaml`` links neighbouring views both ways (travel 0.5-8 s, exit/entry zones
    ``zone_width`` px wide along the blind strip), as the harness's ``full`` mode.

    Returns:
        The path of ``cameras.yaml``.
    """
    import cv2
    import yaml

    from .virtual import DEFAULT_VIEWS, build_virtual_sequence

    views = tuple(DEFAULT_VIEWS if views is None else views)
    vs = build_virtual_sequence(seq_dir, views)
    info = read_seqinfo(seq_dir)
    out = Path(out_dir)
    cameras = []
    for v in views:
        root = out / v.name
        (root / "img1").mkdir(parents=True, exist_ok=True)
        (root / "det").mkdir(exist_ok=True)
        (root / "gt").mkdir(exist_ok=True)
        x0, x1 = round(v.x0), round(v.x1)
        for t in vs.frames:
            img = cv2.imread(str(vs.image_paths[t]), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot read {vs.image_paths[t]}")
            cv2.imwrite(str(root / "img1" / f"{t:06d}.jpg"), img[:, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        det_lines, gt_lines = [], []
        for t in vs.frames:
            boxes, scores = vs.dets[v.name][t]
            for b, s in zip(_shift(boxes, v.x0), scores, strict=True):
                det_lines.append(
                    f"{t},-1,{b[0]:.2f},{b[1]:.2f},{b[2] - b[0]:.2f},{b[3] - b[1]:.2f},{float(s):.5f},-1,-1,-1"
                )
            g = vs.gt[v.name].frames.get(t)
            if g is not None:
                for pid, b, c in zip(g.ids.tolist(), _shift(g.boxes, v.x0), g.consider.tolist(), strict=True):
                    gt_lines.append(
                        f"{t},{pid},{b[0]:.2f},{b[1]:.2f},{b[2] - b[0]:.2f},{b[3] - b[1]:.2f},{int(c)},-1,-1,-1"
                    )
        (root / "det" / "det.txt").write_text("\n".join(det_lines) + "\n", encoding="utf-8")
        (root / "gt" / "gt.txt").write_text("\n".join(gt_lines) + "\n", encoding="utf-8")
        (root / "seqinfo.ini").write_text(
            "[Sequence]\n"
            f"name={info.name}-{v.name}\nimDir=img1\nframeRate={info.frame_rate:g}\n"
            f"seqLength={len(vs.frames)}\nimWidth={x1 - x0}\nimHeight={info.im_height}\nimExt=.jpg\n",
            encoding="utf-8",
        )
        cameras.append({"id": v.name, "source": f"{v.name}/img1", "dets": f"{v.name}/det/det.txt"})
    transitions = []
    for a, b in itertools.pairwise(views):  # a is left of b; zones in each view's own coordinates
        wa = a.x1 - a.x0
        za = [wa - zone_width, -1e9, wa, 1e9]
        zb = [0.0, -1e9, zone_width, 1e9]
        transitions.append(
            {
                "from_camera": a.name,
                "to_camera": b.name,
                "min_travel_s": 0.5,
                "max_travel_s": 8.0,
                "from_zone": list(za),
                "to_zone": list(zb),
            }
        )
        transitions.append(
            {
                "from_camera": b.name,
                "to_camera": a.name,
                "min_travel_s": 0.5,
                "max_travel_s": 8.0,
                "from_zone": list(zb),
                "to_zone": list(za),
            }
        )
    doc = {
        "cameras": cameras,
        "linking": {
            "time_window_s": 10.0,
            "max_appearance_distance": 0.3,
            "min_tracklet_frames": 3,
            "restrict_to_transitions": True,
            "transitions": transitions,
        },
    }
    path = out / "cameras.yaml"
    path.write_text(
        f"# {Path(seq_dir).name} cut into views {[v.name for v in views]} "
        "(tracker.multicam.layout.export_virtual_views)\n" + yaml.safe_dump(doc, sort_keys=False),
        encoding="utf-8",
    )
    return path
