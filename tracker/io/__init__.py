"""Reading and writing MOTChallenge files (sequence info, detections, ground truth, results)."""

from tracker.io.mot import (
    DetFrame,
    GtFrame,
    MotDetections,
    MotGroundTruth,
    MotResults,
    ResultFrame,
    ResultsWriter,
    ScoreNorm,
    SeqInfo,
    list_sequences,
    normalise_scores,
    read_detections,
    read_ground_truth,
    read_results,
    read_seqinfo,
    write_results,
)

__all__ = [
    "DetFrame",
    "GtFrame",
    "MotDetections",
    "MotGroundTruth",
    "MotResults",
    "ResultFrame",
    "ResultsWriter",
    "ScoreNorm",
    "SeqInfo",
    "list_sequences",
    "normalise_scores",
    "read_detections",
    "read_ground_truth",
    "read_results",
    "read_seqinfo",
    "write_results",
]
