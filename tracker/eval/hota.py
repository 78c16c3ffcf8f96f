"""HOTA (Luiten et al., IJCV 2020) as trackeval 1.3.0 computes it (:mod:`tracker.eval._hota_impl`, the
same arithmetic without trackeval's dependencies, checked against it in the tests).

Scores come from the data dictionary that trackeval's ``MotChallenge2DBox.get_preprocessed_seq_data``
would build (ids relabelled to ``0..K-1``), so that no
trackeval dataset, config or file layout is needed. The MOTChallenge preprocessing (which tracker boxes
and which ground-truth rows take part) is done by the caller, see
:func:`tracker.eval.mot_metrics.preprocess_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tracker.eval._hota_impl import combine_sequences, eval_sequence

__all__ = ["HotaScores", "combine_hota", "hota_sequence"]


@dataclass(frozen=True)
class HotaScores:
    """HOTA and its sub-metrics as fractions in ``[0, 1]``, each the mean over trackeval's 19
    localisation thresholds ``alpha = 0.05, 0.10, ..., 0.95`` (what trackeval reports as ``HOTA``,
    ``DetA``, ... in its summary).

    Attributes:
        hota: ``sqrt(DetA * AssA)`` averaged over alpha.
        deta: detection accuracy ``TP / (TP + FN + FP)``.
        assa: association accuracy.
        detre, detpr: detection recall and precision.
        assre, asspr: association recall and precision.
        loca: localisation accuracy (mean IoU of matches).
        raw: trackeval's result dictionary (per-alpha arrays ``HOTA``, ``HOTA_TP``, ...), needed by
            :func:`combine_hota`.
    """

    hota: float
    deta: float
    assa: float
    detre: float
    detpr: float
    assre: float
    asspr: float
    loca: float
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_trackeval(cls, res: Mapping[str, Any]) -> HotaScores:
        """Summarise a trackeval HOTA result dictionary (per-alpha arrays)."""

        def mean(key: str) -> float:
            return float(np.mean(res[key]))

        return cls(
            hota=mean("HOTA"),
            deta=mean("DetA"),
            assa=mean("AssA"),
            detre=mean("DetRe"),
            detpr=mean("DetPr"),
            assre=mean("AssRe"),
            asspr=mean("AssPr"),
            loca=mean("LocA"),
            raw=res,
        )


def _relabel(ids_per_frame: Sequence[NDArray[np.int64]]) -> tuple[list[NDArray[np.int64]], int]:
    """Map the ids of all frames onto ``0..K-1`` (sorted order); returns the new ids and K."""
    arrays = [np.asarray(ids, np.int64).reshape(-1) for ids in ids_per_frame]
    uniq = np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.int64)
    return [np.searchsorted(uniq, a).astype(np.int64) for a in arrays], len(uniq)


def hota_sequence(
    gt_ids: Sequence[NDArray[np.int64]],
    tracker_ids: Sequence[NDArray[np.int64]],
    similarity: Sequence[NDArray[np.float64]],
) -> HotaScores:
    """HOTA of one sequence from per-frame matching data (after preprocessing).

    Args:
        gt_ids: per frame, ``int64[G_t]`` ids of the ground-truth targets (unique within a frame).
        tracker_ids: per frame, ``int64[T_t]`` ids of the tracker boxes (unique within a frame).
        similarity: per frame, ``float64[G_t,T_t]`` IoU between the targets and the tracker boxes.

    All three sequences have one entry per frame (frames without targets or boxes included or not: it
    makes no difference). Ids may be any integers; they are relabelled to ``0..K-1`` as trackeval does.
    """
    if not len(gt_ids) == len(tracker_ids) == len(similarity):
        raise ValueError(
            f"per-frame inputs differ in length: {len(gt_ids)} gt, {len(tracker_ids)} tracker, "
            f"{len(similarity)} similarity"
        )
    gt, num_gt_ids = _relabel(gt_ids)
    trk, num_trk_ids = _relabel(tracker_ids)
    sims = [
        np.asarray(s, np.float64).reshape(len(g), len(t)) for s, g, t in zip(similarity, gt, trk, strict=True)
    ]
    for t, (g, k) in enumerate(zip(gt, trk, strict=True)):
        if len(np.unique(g)) != len(g) or len(np.unique(k)) != len(k):
            raise ValueError(f"frame index {t}: ids must be unique within a frame")
    data = {
        "num_timesteps": len(gt),
        "num_gt_ids": num_gt_ids,
        "num_tracker_ids": num_trk_ids,
        "num_gt_dets": sum(len(g) for g in gt),
        "num_tracker_dets": sum(len(k) for k in trk),
        "gt_ids": gt,
        "tracker_ids": trk,
        "similarity_scores": sims,
    }
    return HotaScores.from_trackeval(eval_sequence(data))


def combine_hota(per_sequence: Iterable[HotaScores]) -> HotaScores:
    """Combine sequences as trackeval's ``COMBINED_SEQ`` (``HOTA().combine_sequences``): detection
    counts are summed and association scores weighted by true positives."""
    raw = {str(i): s.raw for i, s in enumerate(per_sequence)}
    if not raw:
        raise ValueError("no sequences to combine")
    return HotaScores.from_trackeval(combine_sequences(raw))
