"""ReID evaluation: CMC and mAP with the standard query/gallery protocol, k-reciprocal re-ranking,
feature extraction from a checkpoint or an ONNX model, and named protocols.

Protocol (Market-1501 / torchreid): for each query, gallery entries of the same person seen by the
same camera are removed; a query with no remaining true match is skipped. CMC rank-k = fraction of
queries whose first true match is within the top k; AP = mean of the precision at each true match.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracker.reid.train.datasets import ReidSplits, Sample, load_cuhk01, load_cuhk03, load_dataset, read_image

__all__ = [
    "PROTOCOLS",
    "RankResult",
    "cosine_distance",
    "evaluate_model",
    "evaluate_rank",
    "evaluate_samples",
    "extract_features",
    "load_protocol",
    "re_ranking",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankResult:
    """CMC curve (``cmc[k-1]`` = rank-k) and mAP, over ``num_queries`` valid queries."""

    cmc: NDArray[np.float64]
    mAP: float
    num_queries: int

    def rank(self, k: int) -> float:
        """Rank-``k`` accuracy (1-based ``k``)."""
        return float(self.cmc[k - 1])

    def summary(self) -> dict[str, float]:
        """``{"rank1", "rank5", "rank10", "mAP", "num_queries"}`` (ranks beyond the curve omitted)."""
        out = {f"rank{k}": self.rank(k) for k in (1, 5, 10) if k <= len(self.cmc)}
        out["mAP"] = self.mAP
        out["num_queries"] = self.num_queries
        return out


def evaluate_rank(
    distmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    max_rank: int = 10,
) -> RankResult:
    """CMC and mAP from a query x gallery distance matrix ``float[Q,G]`` (smaller = more similar).

    Gallery entries with the query's person id *and* camera are excluded per query; ties keep the
    gallery order. Queries without a valid match are skipped.

    Raises:
        ValueError: shapes disagree or no query has a valid match.
    """
    dist = np.asarray(distmat, np.float64)
    qp, gp = np.asarray(q_pids), np.asarray(g_pids)
    qc, gc = np.asarray(q_camids), np.asarray(g_camids)
    if dist.shape != (len(qp), len(gp)) or len(qc) != len(qp) or len(gc) != len(gp):
        raise ValueError(f"distmat {dist.shape} vs {len(qp)} queries / {len(gp)} gallery entries")
    all_cmc = []
    aps = []
    for i in range(len(qp)):
        order = np.argsort(dist[i], kind="stable")
        keep = ~((gp[order] == qp[i]) & (gc[order] == qc[i]))
        matches = (gp[order] == qp[i])[keep]
        if not matches.any():
            continue
        cmc = np.minimum(np.cumsum(matches), 1).astype(np.float64)
        if len(cmc) < max_rank:
            cmc = np.concatenate([cmc, np.full(max_rank - len(cmc), cmc[-1])])
        all_cmc.append(cmc[:max_rank])
        precision = np.cumsum(matches) / np.arange(1, len(matches) + 1)
        aps.append(float((precision * matches).sum() / matches.sum()))
    if not aps:
        raise ValueError("no query has a true match in the gallery (after the same-camera exclusion)")
    return RankResult(np.mean(all_cmc, axis=0), float(np.mean(aps)), len(aps))


def cosine_distance(q: NDArray[np.floating], g: NDArray[np.floating]) -> NDArray[np.float32]:
    """``1 - cos`` between rows of ``float[Q,D]`` and ``float[G,D]``: ``float32[Q,G]``."""
    qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    gn = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    return (1.0 - qn @ gn.T).astype(np.float32)


def re_ranking(
    q_g_dist: NDArray[np.floating],
    q_q_dist: NDArray[np.floating],
    g_g_dist: NDArray[np.floating],
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> NDArray[np.float32]:
    """k-reciprocal re-ranking (Zhong et al., CVPR 2017): Jaccard distance of k-reciprocal neighbour
    sets blended with the original distance.

    Args:
        q_g_dist: ``float[Q,G]``; q_q_dist: ``float[Q,Q]``; g_g_dist: ``float[G,G]``.
        k1, k2: neighbourhood sizes; lambda_value: weight of the original distance.

    Returns:
        ``float32[Q,G]`` re-ranked distances.
    """
    n_q = q_g_dist.shape[0]
    original = np.concatenate(
        [np.concatenate([q_q_dist, q_g_dist], axis=1), np.concatenate([q_g_dist.T, g_g_dist], axis=1)], axis=0
    ).astype(np.float32)
    original = np.power(original, 2)
    original = np.transpose(original / np.maximum(np.max(original, axis=0), 1e-12))
    n_all = original.shape[0]
    v = np.zeros_like(original, dtype=np.float32)
    initial_rank = np.argsort(original, axis=1, kind="stable").astype(np.int32)
    half = int(np.around(k1 / 2.0))
    for i in range(n_all):
        forward = initial_rank[i, : k1 + 1]
        backward = initial_rank[forward, : k1 + 1]
        k_recip = forward[np.where(backward == i)[0]]
        expansion = k_recip
        for cand in k_recip:
            c_forward = initial_rank[cand, : half + 1]
            c_backward = initial_rank[c_forward, : half + 1]
            c_recip = c_forward[np.where(c_backward == cand)[0]]
            if len(np.intersect1d(c_recip, k_recip)) > 2.0 / 3 * len(c_recip):
                expansion = np.append(expansion, c_recip)
        expansion = np.unique(expansion)
        weight = np.exp(-original[i, expansion])
        v[i, expansion] = weight / np.sum(weight)
    original = original[:n_q]
    if k2 != 1:
        v = np.stack([np.mean(v[initial_rank[i, :k2]], axis=0) for i in range(n_all)]).astype(np.float32)
    inv_index = [np.where(v[:, i] != 0)[0] for i in range(n_all)]
    jaccard = np.zeros_like(original, dtype=np.float32)
    for i in range(n_q):
        temp_min = np.zeros(n_all, dtype=np.float32)
        nonzero = np.where(v[i] != 0)[0]
        for j in nonzero:
            idx = inv_index[j]
            temp_min[idx] += np.minimum(v[i, j], v[idx, j])
        jaccard[i] = 1 - temp_min / (2.0 - temp_min)
    final = jaccard * (1 - lambda_value) + original * lambda_value
    return final[:, n_q:].astype(np.float32)


# --------------------------------------------------------------------------------- protocols


def _cuhk01_test(root: Path) -> ReidSplits:
    return load_cuhk01(root / "CUHK01" if (root / "CUHK01").is_dir() else root)


def _cuhk03(root: Path) -> ReidSplits:
    return load_cuhk03(root / "CUHK03" if (root / "CUHK03").is_dir() else root)


def _mot_thirds(seq: Path) -> ReidSplits:
    """Cross-domain crops from a MOTChallenge sequence with ground truth (``--data`` = the sequence).

    Rows with the consider flag, boxes clipped to the image and at least :data:`MOT_MIN_HEIGHT` px tall;
    identities present in at least :data:`MOT_MIN_FRAMES` such frames. Each identity's presence is cut
    into thirds: its query is its largest crop in the first third; the gallery holds every
    :data:`MOT_GALLERY_STEP`-th crop of the last third of every identity. One camera, so query and
    gallery get different camera ids and nothing is excluded.
    """
    from tracker.io.mot import read_ground_truth, read_seqinfo

    info = read_seqinfo(seq)
    gt = read_ground_truth(seq / "gt" / "gt.txt")
    crops: dict[int, list[tuple[int, tuple[float, float, float, float]]]] = {}
    for t in sorted(gt.frames):
        f = gt.frames[t]
        for pid, box, keep in zip(f.ids, f.boxes, f.consider, strict=True):
            if not keep:
                continue
            x1, y1 = max(float(box[0]), 0.0), max(float(box[1]), 0.0)
            x2, y2 = min(float(box[2]), float(info.im_width)), min(float(box[3]), float(info.im_height))
            if x2 - x1 < 1 or y2 - y1 < MOT_MIN_HEIGHT:
                continue
            crops.setdefault(int(pid), []).append((t, (x1, y1, x2, y2)))
    query: list[Sample] = []
    gallery: list[Sample] = []

    def sample(t: int, pid: int, cam: int, box: tuple[float, float, float, float]) -> Sample:
        return Sample(str(seq / info.im_dir / f"{t:06d}{info.im_ext}"), pid, cam, box)

    for pid, rows in sorted(crops.items()):
        if len(rows) < MOT_MIN_FRAMES:
            continue
        n = len(rows)
        first, last = rows[: n // 3], rows[n - n // 3 :]
        t, box = max(first, key=lambda r: (r[1][2] - r[1][0]) * (r[1][3] - r[1][1]))
        query.append(sample(t, pid, 0, box))
        gallery.extend(sample(t, pid, 1, box) for t, box in last[::MOT_GALLERY_STEP])
    return ReidSplits(f"mot-thirds:{info.name}", [], query, gallery)


MOT_MIN_HEIGHT = 20.0
"""``mot-thirds``: smallest crop height in pixels."""
MOT_MIN_FRAMES = 30
"""``mot-thirds``: fewest ground-truth frames for an identity to take part."""
MOT_GALLERY_STEP = 5
"""``mot-thirds``: every n-th crop of an identity's last third goes to the gallery."""


PROTOCOLS: dict[str, Any] = {
    "cuhk01-test": _cuhk01_test,
    "cuhk03": _cuhk03,
    "market": lambda root: load_dataset("market1501", root),
    "duke": lambda root: load_dataset("dukemtmc", root),
    "msmt17": lambda root: load_dataset("msmt17", root),
    "mot-thirds": _mot_thirds,
}
"""Protocol name -> function(data root) -> splits whose query/gallery are evaluated.

``cuhk01-test``: CUHK01 persons 0486-0971, camera A (001, 002) query, camera B (003, 004) gallery.
``mot-thirds``: cross-domain crops of a MOTChallenge sequence (see :func:`_mot_thirds`)."""


def load_protocol(name: str, data_root: str | Path) -> tuple[list[Sample], list[Sample]]:
    """``(query, gallery)`` of a protocol in :data:`PROTOCOLS`.

    Raises:
        ValueError: unknown protocol or a split without query/gallery images.
    """
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; expected one of {sorted(PROTOCOLS)}")
    splits = PROTOCOLS[name](Path(data_root))
    if not splits.query or not splits.gallery:
        raise ValueError(f"protocol {name!r} under {data_root}: no query or gallery images")
    return splits.query, splits.gallery


# --------------------------------------------------------------------------------- features


def extract_features(
    model_path: str | Path, samples: Sequence[Sample], batch_size: int = 32
) -> NDArray[np.float32]:
    """Embeddings ``float32[N,D]`` (not normalised) of ``samples`` from a ``.onnx`` model (through
    :class:`tracker.reid.OnnxEmbedder`, whole image as the box) or a training checkpoint (``.pt``)."""
    path = Path(model_path)
    if path.suffix.lower() == ".onnx":
        import cv2

        from tracker.reid import OnnxEmbedder

        emb = OnnxEmbedder(path)
        feats = []
        for s in samples:
            img = cv2.imread(s.path, cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"{s.path}: cannot read image")
            box = s.box if s.box is not None else (0.0, 0.0, float(img.shape[1]), float(img.shape[0]))
            feats.append(emb.embed(np.asarray(img, np.uint8), np.asarray([box], np.float32))[0])
        return np.stack(feats).astype(np.float32)

    from tracker.reid.train.engine import model_from_checkpoint

    model, cfg, _ = model_from_checkpoint(path)
    return _torch_features(model, samples, cfg.model.input_size, batch_size)


def _torch_features(
    model: Any, samples: Sequence[Sample], size: tuple[int, int], batch_size: int = 32
) -> NDArray[np.float32]:
    import torch

    mean = np.asarray((0.485, 0.456, 0.406), np.float32)
    std = np.asarray((0.229, 0.224, 0.225), np.float32)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(samples), batch_size):
            imgs = np.stack([read_image(s, size) for s in samples[start : start + batch_size]])
            x = (imgs.astype(np.float32) / 255.0 - mean) / std
            out.append(model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy())
    return np.concatenate(out).astype(np.float32)


def evaluate_samples(distmat: ArrayLike, query: Sequence[Sample], gallery: Sequence[Sample]) -> RankResult:
    """:func:`evaluate_rank` with the person and camera ids of the samples behind a query x gallery
    distance matrix ``float[Q,G]`` (``len(query)`` x ``len(gallery)``).

    Raises:
        ValueError: as :func:`evaluate_rank`.
    """
    return evaluate_rank(
        distmat,
        [s.pid for s in query],
        [s.pid for s in gallery],
        [s.camid for s in query],
        [s.camid for s in gallery],
    )


def evaluate_model(
    model_path: str | Path, data_root: str | Path, protocol: str, rerank: bool = False
) -> dict[str, float]:
    """Evaluate a model (``.onnx`` or checkpoint) on a protocol; cosine distance, optional re-ranking.

    Returns:
        ``{"rank1", "rank5", "rank10", "mAP", "num_queries"}``.
    """
    query, gallery = load_protocol(protocol, data_root)
    # one pass (one model load: its warnings once) over both sets
    feats = extract_features(model_path, [*query, *gallery])
    qf, gf = feats[: len(query)], feats[len(query) :]
    dist = cosine_distance(qf, gf)
    if rerank:
        dist = re_ranking(dist, cosine_distance(qf, qf), cosine_distance(gf, gf))
    return evaluate_samples(dist, query, gallery).summary()
