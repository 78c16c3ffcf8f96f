"""Scoring tracker results: CLEAR-MOT/identity metrics (motmetrics) and HOTA (trackeval), with the
MOTChallenge preprocessing."""

from tracker.eval._compat import import_motmetrics
from tracker.eval.hota import HotaScores, combine_hota, hota_sequence
from tracker.eval.mot_metrics import (
    DISTRACTOR_CLASSES,
    MATCH_IOU,
    OVERALL,
    PEDESTRIAN,
    PreparedFrame,
    ScoreTable,
    SequenceScores,
    accumulate,
    box_iou,
    evaluate,
    evaluate_sequence,
    preprocess_frame,
    preprocess_sequence,
)

__all__ = [
    "DISTRACTOR_CLASSES",
    "MATCH_IOU",
    "OVERALL",
    "PEDESTRIAN",
    "HotaScores",
    "PreparedFrame",
    "ScoreTable",
    "SequenceScores",
    "accumulate",
    "box_iou",
    "combine_hota",
    "evaluate",
    "evaluate_sequence",
    "hota_sequence",
    "import_motmetrics",
    "preprocess_frame",
    "preprocess_sequence",
]
