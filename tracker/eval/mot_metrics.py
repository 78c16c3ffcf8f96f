"""CLEAR-MOT and identity metrics (py-motmetrics) and HOTA (trackeval), with MOTChallenge preprocessing.

Preprocessing, per frame, as the MOTChallenge devkit does it (matlab ``preprocessResult.m``,
motmetrics' ``preprocess.preprocessResult`` used by ``utils.CLEAR_MOT_M``, trackeval's
``MotChallenge2DBox.get_preprocessed_seq_data``):

1. the tracker boxes are matched one-to-one to ALL ground-truth rows of the frame (every class, the
   consider flag ignored) by the Hungarian algorithm maximising IoU among pairs with IoU >= 0.5;
   tracker boxes matched to a distractor class (2 person on vehicle, 7 static person, 8 distractor,
   12 reflection) are dropped: they are neither true nor false positives;
2. the evaluation targets are the ground-truth rows with class 1 (pedestrian) and consider flag 1;
   all other rows (consider 0, other classes) are removed.

MOT15 ground truth has no classes; :func:`tracker.io.read_ground_truth` gives every row class 1, so
step 1 drops nothing and the targets are the rows with consider flag 1, as trackeval does for MOT15.

Matching for the metrics then uses IoU >= 0.5 (motmetrics ``iou_matrix(..., max_iou=0.5)``: distance
``1 - IoU``, pairs with distance > 0.5 cannot match).

All rates are fractions (MOTA 0.495 means 49.5 %), counts are integers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracker.eval._compat import import_motmetrics
from tracker.eval.hota import HotaScores, combine_hota, hota_sequence
from tracker.geometry import iou_matrix
from tracker.io.mot import GtFrame, MotGroundTruth, MotResults, ResultFrame

from ..association.lsap import linear_sum_assignment

__all__ = [
    "DISTRACTOR_CLASSES",
    "MATCH_IOU",
    "OVERALL",
    "PEDESTRIAN",
    "PreparedFrame",
    "ScoreTable",
    "SequenceScores",
    "accumulate",
    "box_iou",
    "evaluate",
    "evaluate_sequence",
    "preprocess_frame",
    "preprocess_sequence",
]

PEDESTRIAN = 1
"""MOT16/17 ground-truth class of the evaluated targets."""
DISTRACTOR_CLASSES = frozenset({2, 7, 8, 12})
"""Person on vehicle, static person, distractor, reflection: a tracker box on one is not an FP."""
MATCH_IOU = 0.5
"""IoU a tracker box needs with a ground-truth box to match it."""
OVERALL = "OVERALL"
"""Name of the combined row of a :class:`ScoreTable`."""

_EPS = float(np.finfo(np.float64).eps)


def box_iou(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Pairwise IoU, computed by the package's one IoU, :func:`tracker.geometry.iou_matrix`.

    Args:
        a: ``float[N,4]`` xyxy pixels.
        b: ``float[M,4]`` xyxy pixels.

    Returns:
        ``float64[N,M]``; 0 where boxes do not overlap or a box has no area (results files may hold
        boxes with ``w <= 0`` or ``h <= 0``: they overlap nothing).
    """
    a64 = np.asarray(a, np.float64).reshape(-1, 4)
    b64 = np.asarray(b, np.float64).reshape(-1, 4)
    return iou_matrix(a64, b64)


class PreparedFrame(NamedTuple):
    """One frame after preprocessing, ready for the metrics.

    Attributes:
        frame: 1-based frame number.
        gt_ids: ``int64[G]`` ids of the targets (pedestrian, consider 1).
        tracker_ids: ``int64[T]`` ids of the tracker boxes kept.
        iou: ``float64[G,T]`` IoU between targets and kept tracker boxes.
        num_ignored: tracker boxes dropped because they matched a distractor.
    """

    frame: int
    gt_ids: NDArray[np.int64]
    tracker_ids: NDArray[np.int64]
    iou: NDArray[np.float64]
    num_ignored: int


def preprocess_frame(frame: int, gt: GtFrame, res: ResultFrame) -> PreparedFrame:
    """Apply the MOTChallenge preprocessing (module docstring) to one frame.

    Args:
        frame: 1-based frame number (recorded only).
        gt: all ground-truth rows of the frame (``boxes float32[G,4]`` xyxy, ``classes``, ``consider``).
        res: the tracker's output for the frame (``ids int64[T]``, ``boxes float32[T,4]`` xyxy).
    """
    iou_all = box_iou(gt.boxes, res.boxes)
    keep_trk = np.ones(len(res.ids), bool)
    if iou_all.size:
        scores = np.where(iou_all >= MATCH_IOU - _EPS, iou_all, 0.0)
        rows, cols = linear_sum_assignment(scores, maximize=True)
        matched = scores[rows, cols] > _EPS
        rows, cols = rows[matched], cols[matched]
        on_distractor = np.isin(gt.classes[rows], list(DISTRACTOR_CLASSES))
        keep_trk[cols[on_distractor]] = False
    targets = gt.consider & (gt.classes == PEDESTRIAN)
    return PreparedFrame(
        frame=frame,
        gt_ids=np.asarray(gt.ids[targets], np.int64),
        tracker_ids=np.asarray(res.ids[keep_trk], np.int64),
        iou=iou_all[targets][:, keep_trk],
        num_ignored=int((~keep_trk).sum()),
    )


def preprocess_sequence(
    gt: MotGroundTruth, results: MotResults, num_frames: int | None = None
) -> list[PreparedFrame]:
    """:func:`preprocess_frame` for every frame that has ground truth or results, and for every frame
    ``1..num_frames`` if given (``seqLength`` of ``seqinfo.ini``; it makes ``num_frames`` in the
    scores count frames where nothing is annotated and nothing reported). Frames ascending."""
    frames = set(gt.frames) | set(results.frames)
    if num_frames is not None:
        frames |= set(range(1, num_frames + 1))
    return [preprocess_frame(t, gt[t], results[t]) for t in sorted(frames)]


def accumulate(frames: Sequence[PreparedFrame]) -> Any:
    """A ``motmetrics.MOTAccumulator`` fed with the prepared frames (distance ``1 - IoU``, pairs with
    distance > 0.5 marked do-not-pair, as ``motmetrics.distances.iou_matrix(..., max_iou=0.5)``)."""
    mm = import_motmetrics()
    acc = mm.MOTAccumulator(auto_id=False)
    for f in frames:
        dist = 1.0 - f.iou
        dist[dist > 1.0 - MATCH_IOU] = np.nan
        acc.update(f.gt_ids, f.tracker_ids, dist, frameid=f.frame)
    return acc


def evaluate_sequence(gt: MotGroundTruth, results: MotResults, num_frames: int | None = None) -> Any:
    """``motmetrics.MOTAccumulator`` of one sequence after MOTChallenge preprocessing."""
    return accumulate(preprocess_sequence(gt, results, num_frames))


_MM_METRICS = {
    # SequenceScores field -> motmetrics metric name
    "num_frames": "num_frames",
    "mota": "mota",
    "motp": "motp",
    "idf1": "idf1",
    "idp": "idp",
    "idr": "idr",
    "precision": "precision",
    "recall": "recall",
    "num_switches": "num_switches",
    "num_fragmentations": "num_fragmentations",
    "mostly_tracked": "mostly_tracked",
    "partially_tracked": "partially_tracked",
    "mostly_lost": "mostly_lost",
    "num_unique_objects": "num_unique_objects",
    "num_false_positives": "num_false_positives",
    "num_misses": "num_misses",
    "num_objects": "num_objects",
    "num_predictions": "num_predictions",
}


@dataclass(frozen=True)
class SequenceScores:
    """Scores of one sequence (or of all combined). Rates are fractions in ``[0, 1]`` (MOTA can be
    negative); ``nan`` where undefined (e.g. precision without tracker boxes), MOTA ``-inf`` with tracker
    boxes but no targets (motmetrics' convention).

    Attributes:
        name: sequence name, or ``"OVERALL"``.
        num_frames: frames evaluated.
        mota: ``1 - (FN + FP + IDSW) / num_objects``.
        motp: mean IoU of the matched pairs (MOTChallenge's MOTP / 100; motmetrics reports
            ``1 - motp``).
        idf1, idp, idr: identity F1, precision, recall.
        precision, recall: detection precision ``TP / (TP + FP)`` and recall ``TP / num_objects``.
        num_switches: identity switches (IDSW).
        num_fragmentations: track fragmentations (Frag).
        mostly_tracked, partially_tracked, mostly_lost: targets tracked >= 80 %, 20-80 %, < 20 %.
        num_unique_objects: distinct targets (GT).
        num_false_positives: FP (tracker boxes dropped on distractors excluded).
        num_misses: FN.
        num_objects: target boxes, summed over frames.
        num_predictions: tracker boxes evaluated (after dropping those on distractors).
        num_ignored: tracker boxes dropped because they matched a distractor.
        hota, deta, assa: HOTA, DetA, AssA (trackeval, mean over alpha thresholds).
    """

    name: str
    num_frames: int
    mota: float
    motp: float
    idf1: float
    idp: float
    idr: float
    precision: float
    recall: float
    num_switches: int
    num_fragmentations: int
    mostly_tracked: int
    partially_tracked: int
    mostly_lost: int
    num_unique_objects: int
    num_false_positives: int
    num_misses: int
    num_objects: int
    num_predictions: int
    num_ignored: int
    hota: float
    deta: float
    assa: float

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_INT_FIELDS = frozenset(f.name for f in fields(SequenceScores) if f.type in ("int", int))

_COLUMNS = (
    # header, field, is a rate
    ("MOTA", "mota", True),
    ("IDF1", "idf1", True),
    ("HOTA", "hota", True),
    ("DetA", "deta", True),
    ("AssA", "assa", True),
    ("IDP", "idp", True),
    ("IDR", "idr", True),
    ("Rcll", "recall", True),
    ("Prcn", "precision", True),
    ("MOTP", "motp", True),
    ("GT", "num_unique_objects", False),
    ("MT", "mostly_tracked", False),
    ("ML", "mostly_lost", False),
    ("FP", "num_false_positives", False),
    ("FN", "num_misses", False),
    ("IDSW", "num_switches", False),
    ("Frag", "num_fragmentations", False),
    ("Frames", "num_frames", False),
)


@dataclass(frozen=True)
class ScoreTable:
    """Per-sequence scores and their combination.

    Attributes:
        sequences: name -> scores, in evaluation order.
        overall: all sequences combined (motmetrics ``generate_overall``: counts summed, rates
            recomputed from the sums; HOTA combined as trackeval's ``COMBINED_SEQ``).
    """

    sequences: Mapping[str, SequenceScores]
    overall: SequenceScores

    def rows(self) -> list[SequenceScores]:
        """The sequences, then the overall row."""
        return [*self.sequences.values(), self.overall]

    def format(self) -> str:
        """A fixed-width text table; rates in percent with one decimal."""
        width = max(len(r.name) for r in self.rows())
        header = " ".join([f"{'':<{width}}", *(f"{h:>6}" for h, _, _ in _COLUMNS)])
        lines = [header]
        for r in self.rows():
            cells = []
            for _, key, is_rate in _COLUMNS:
                v = getattr(r, key)
                cells.append(f"{100 * v:6.1f}" if is_rate else f"{v:6d}")
            lines.append(" ".join([f"{r.name:<{width}}", *cells]))
        return "\n".join(lines)


def _scores_from_row(name: str, row: Mapping[str, Any], num_ignored: int, hota: HotaScores) -> SequenceScores:
    values: dict[str, Any] = {}
    for key, mm_key in _MM_METRICS.items():
        v = float(row[mm_key])
        values[key] = int(v) if key in _INT_FIELDS else v
    values["motp"] = 1.0 - values["motp"] if math.isfinite(values["motp"]) else math.nan
    return SequenceScores(
        name=name, num_ignored=num_ignored, hota=hota.hota, deta=hota.deta, assa=hota.assa, **values
    )


def evaluate(
    pairs: Mapping[str, tuple[MotGroundTruth, MotResults]],
    num_frames: Mapping[str, int] | None = None,
) -> ScoreTable:
    """Score tracker results against ground truth, sequence by sequence and combined.

    Args:
        pairs: sequence name -> (ground truth, tracker results).
        num_frames: optional sequence name -> ``seqLength``, see :func:`preprocess_sequence`.

    Returns:
        A :class:`ScoreTable` with one row per sequence and an ``"OVERALL"`` row.
    """
    if not pairs:
        raise ValueError("no sequences to evaluate")
    if OVERALL in pairs:
        raise ValueError(f"{OVERALL!r} is reserved for the combined row")
    mm = import_motmetrics()
    names = list(pairs)
    accs = []
    hotas: list[HotaScores] = []
    ignored: list[int] = []
    for name in names:
        gt, results = pairs[name]
        frames = preprocess_sequence(gt, results, None if num_frames is None else num_frames.get(name))
        accs.append(accumulate(frames))
        hotas.append(
            hota_sequence(
                [f.gt_ids for f in frames], [f.tracker_ids for f in frames], [f.iou for f in frames]
            )
        )
        ignored.append(sum(f.num_ignored for f in frames))
    summary = mm.metrics.create().compute_many(
        accs, metrics=list(_MM_METRICS.values()), names=names, generate_overall=True
    )
    sequences = {
        name: _scores_from_row(name, summary.loc[name], ignored[i], hotas[i]) for i, name in enumerate(names)
    }
    overall = _scores_from_row(OVERALL, summary.loc["OVERALL"], sum(ignored), combine_hota(hotas))
    return ScoreTable(sequences, overall)
