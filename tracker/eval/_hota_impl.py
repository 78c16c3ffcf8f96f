"""HOTA's arithmetic (Luiten et al., IJCV 2020), as trackeval 1.3.0's ``metrics.HOTA`` computes it.

Reimplemented so that scoring needs no trackeval (which declares ``opencv-python`` and would put a
second OpenCV beside our headless one, plus matplotlib and pycocotools). The result dictionaries have
trackeval's keys and per-alpha arrays; ``tests/test_eval.py`` checks them against trackeval itself
(installed with the ``dev`` extra as a test oracle) on real and random sequences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..association.lsap import linear_sum_assignment

__all__ = ["ALPHAS", "combine_sequences", "eval_sequence"]

ALPHAS: NDArray[np.float64] = np.arange(0.05, 0.99, 0.05)
"""The 19 localisation thresholds ``0.05, 0.10, ..., 0.95``."""

_EPS = float(np.finfo(float).eps)
_ARRAYS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")
_COUNTS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")


def _final_fields(res: dict[str, Any]) -> dict[str, Any]:
    tp, fn, fp = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"]
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["OWTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    res["HOTA(0)"] = res["HOTA"][0]
    res["LocA(0)"] = res["LocA"][0]
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    return res


def eval_sequence(data: Mapping[str, Any]) -> dict[str, Any]:
    """HOTA of one sequence from trackeval's data dictionary.

    Args:
        data: ``num_gt_ids``, ``num_tracker_ids``, ``num_gt_dets``, ``num_tracker_dets``; per frame
            ``gt_ids`` ``int64[G_t]`` and ``tracker_ids`` ``int64[T_t]`` (ids relabelled to ``0..K-1``)
            and ``similarity_scores`` ``float64[G_t,T_t]`` (IoU).

    Returns:
        ``{"HOTA": float64[19], "DetA": ..., "HOTA_TP": ..., "LocA": ..., "HOTA(0)": float, ...}``.
    """
    n = len(ALPHAS)
    res: dict[str, Any] = {k: np.zeros(n) for k in (*_ARRAYS, *_COUNTS)}
    if data["num_tracker_dets"] == 0 or data["num_gt_dets"] == 0:
        key = "HOTA_FN" if data["num_tracker_dets"] == 0 else "HOTA_FP"
        res[key] = (data["num_gt_dets"] if key == "HOTA_FN" else data["num_tracker_dets"]) * np.ones(n)
        res["LocA"] = np.ones(n)
        return _final_fields(res)

    gt_all: Sequence[NDArray[np.int64]] = data["gt_ids"]
    tr_all: Sequence[NDArray[np.int64]] = data["tracker_ids"]
    sims: Sequence[NDArray[np.float64]] = data["similarity_scores"]
    potential = np.zeros((data["num_gt_ids"], data["num_tracker_ids"]))
    gt_count = np.zeros((data["num_gt_ids"], 1))
    tr_count = np.zeros((1, data["num_tracker_ids"]))
    for g, t, sim in zip(gt_all, tr_all, sims, strict=True):
        denom = sim.sum(0)[None, :] + sim.sum(1)[:, None] - sim
        sim_iou = np.zeros_like(sim)
        mask = denom > 0 + _EPS
        sim_iou[mask] = sim[mask] / denom[mask]
        potential[g[:, None], t[None, :]] += sim_iou
        gt_count[g] += 1
        tr_count[0, t] += 1
    global_alignment = potential / (gt_count + tr_count - potential)
    matches = [np.zeros_like(potential) for _ in range(n)]

    for g, t, sim in zip(gt_all, tr_all, sims, strict=True):
        if len(g) == 0:
            res["HOTA_FP"] += len(t)
            continue
        if len(t) == 0:
            res["HOTA_FN"] += len(g)
            continue
        score = global_alignment[g[:, None], t[None, :]] * sim
        rows, cols = linear_sum_assignment(-score)
        for a, alpha in enumerate(ALPHAS):
            ok = sim[rows, cols] >= alpha - _EPS
            r, c = rows[ok], cols[ok]
            k = len(r)
            res["HOTA_TP"][a] += k
            res["HOTA_FN"][a] += len(g) - k
            res["HOTA_FP"][a] += len(t) - k
            if k > 0:
                res["LocA"][a] += sum(sim[r, c])
                matches[a][g[r], t[c]] += 1

    for a in range(n):
        m = matches[a]
        tp = np.maximum(1, res["HOTA_TP"][a])
        res["AssA"][a] = np.sum(m * (m / np.maximum(1, gt_count + tr_count - m))) / tp
        res["AssRe"][a] = np.sum(m * (m / np.maximum(1, gt_count))) / tp
        res["AssPr"][a] = np.sum(m * (m / np.maximum(1, tr_count))) / tp
    res["LocA"] = np.maximum(1e-10, res["LocA"]) / np.maximum(1e-10, res["HOTA_TP"])
    return _final_fields(res)


def combine_sequences(all_res: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """trackeval's ``COMBINED_SEQ``: counts summed, association scores weighted by true positives."""
    res: dict[str, Any] = {k: sum(r[k] for r in all_res.values()) for k in _COUNTS}
    tp = np.maximum(1.0, res["HOTA_TP"])
    for k in ("AssRe", "AssPr", "AssA"):
        res[k] = sum(r[k] * r["HOTA_TP"] for r in all_res.values()) / tp
    loca = sum(r["LocA"] * r["HOTA_TP"] for r in all_res.values())
    res["LocA"] = np.maximum(1e-10, loca) / np.maximum(1e-10, res["HOTA_TP"])
    return _final_fields(res)
