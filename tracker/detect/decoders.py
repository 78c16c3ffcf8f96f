"""Pure decoders: raw detector outputs -> boxes, scores and class ids in network-input pixels.

Every decoder returns :class:`Decoded` for ONE image (the batch dimension, when present, must be 1)
with boxes ``float32[N,4]`` xyxy in the pixels of the network input, one score and one class id per
box (the best class), and optionally per-box embeddings. Thresholds, class filtering, mapping back to
the frame and NMS are the caller's job (:class:`~tracker.detect.onnx_detector.OnnxDetector`).

Class ids are returned in one convention for all families: **0-based, person = 0** for COCO models.
YOLOX, NanoDet and Ultralytics models are 0-based already; TF object-detection-API SSD models are
1-based (0 = background), so :func:`decode_ssd` subtracts ``class_offset = 1``.

Families:

* YOLOX (:func:`decode_yolox`): ``[1,A,5+C]`` raw ``(dx, dy, log w, log h)`` per anchor point, then
  objectness and class probabilities (sigmoid applied in the exported graph).
  ``xy = (out_xy + grid) * stride``, ``wh = exp(out_wh) * stride``, score = objectness x class.
* NanoDet-m (:func:`decode_nanodet`): per stride a class map ``[1,A_s,C]`` and a box-distribution map
  ``[1,A_s,4*(reg_max+1)]`` (GFL); the distances to the left/top/right/bottom edges from the anchor
  point centre ``((x + 0.5) * stride, (y + 0.5) * stride)`` are the expectation of the softmax over the
  ``reg_max + 1`` bins, times the stride.
* Ultralytics YOLOv8/11 (:func:`decode_yolov8`): ``[1,4+C(+D),N]``: ``cx, cy, w, h`` in input pixels,
  class probabilities, then (JDE models) a ``D``-dimensional embedding.
* TF object-detection-API SSD with NMS in the graph (:func:`decode_ssd`): ``boxes [1,N,4]``
  normalised ``ymin, xmin, ymax, xmax``, ``scores [1,N]``, ``classes [1,N]`` (1-based), ``num [1]``.

Anchor points of the grid families are enumerated stride by stride (8, 16, 32), row-major within a
level, which is how YOLOX, NanoDet and Ultralytics flatten their feature maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_STRIDES",
    "Decoded",
    "best_class",
    "decode_nanodet",
    "decode_ssd",
    "decode_yolov8",
    "decode_yolox",
    "gfl_integral",
    "grid_points",
    "num_grid_points",
]

DEFAULT_STRIDES: tuple[int, ...] = (8, 16, 32)
"""Feature-map strides of YOLOX, NanoDet-m and Ultralytics P3-P5 detectors."""


class Decoded(NamedTuple):
    """Decoded detections of one image, in network-input pixels.

    Attributes:
        boxes: ``float32[N,4]`` xyxy input pixels (not clipped; may be degenerate).
        scores: ``float32[N]`` in ``[0, 1]``.
        class_ids: ``int64[N]``, 0-based.
        embeddings: ``float32[N,D]`` raw (not normalised) per-box embeddings, or ``None``.
    """

    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]
    class_ids: NDArray[np.int64]
    embeddings: NDArray[np.float32] | None = None


def _one_image(name: str, arr: ArrayLike, rank: int) -> NDArray[np.float32]:
    """Drop a leading batch dimension of 1: ``[1,...]`` (rank ``rank + 1``) or ``[...]`` (rank ``rank``)."""
    a = np.asarray(arr, np.float32)
    if a.ndim == rank + 1:
        if a.shape[0] != 1:
            raise ValueError(f"{name}: batch size {a.shape[0]} given; decoders take one image (batch 1)")
        a = a[0]
    if a.ndim != rank:
        raise ValueError(f"{name}: expected rank {rank} (or {rank + 1} with batch 1), got shape {a.shape}")
    return a


def num_grid_points(input_size: Sequence[int], strides: Sequence[int] = DEFAULT_STRIDES) -> int:
    """Number of anchor points for ``input_size = (H, W)``: ``sum(ceil(H/s) * ceil(W/s))``."""
    h, w = input_size
    return int(sum(-(-h // s) * -(-w // s) for s in strides))


def grid_points(
    input_size: Sequence[int], strides: Sequence[int] = DEFAULT_STRIDES, offset: float = 0.0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Anchor points of a multi-stride grid.

    Args:
        input_size: ``(H, W)`` of the network input.
        strides: feature-map strides, in output order.
        offset: added to the integer cell index (0 for YOLOX, 0.5 for a cell centre).

    Returns:
        ``float32[A,2]`` cell coordinates ``(x + offset, y + offset)`` in grid units (multiply by the
        stride for pixels) and ``float32[A]`` stride of each point, ``A = num_grid_points(...)``.
    """
    h, w = input_size
    pts: list[NDArray[np.float32]] = []
    strd: list[NDArray[np.float32]] = []
    for s in strides:
        gh, gw = -(-h // s), -(-w // s)
        yv, xv = np.meshgrid(np.arange(gh, dtype=np.float32), np.arange(gw, dtype=np.float32), indexing="ij")
        pts.append(np.stack([xv.ravel(), yv.ravel()], axis=1) + np.float32(offset))
        strd.append(np.full(gh * gw, s, np.float32))
    if not pts:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.float32)
    return np.concatenate(pts).astype(np.float32), np.concatenate(strd)


def best_class(class_scores: ArrayLike) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """``float[N,C]`` per-class scores -> best score ``float32[N]`` and its class ``int64[N]``."""
    cs = np.asarray(class_scores, np.float32)
    if cs.ndim != 2 or cs.shape[1] < 1:
        raise ValueError(f"class scores must be [N,C] with C >= 1, got shape {cs.shape}")
    ids = np.argmax(cs, axis=1).astype(np.int64)
    return np.take_along_axis(cs, ids[:, None], axis=1)[:, 0].astype(np.float32), ids


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))).astype(np.float32)


def decode_yolox(
    output: ArrayLike, input_size: Sequence[int], strides: Sequence[int] = DEFAULT_STRIDES
) -> Decoded:
    """Decode a raw YOLOX head output (exported with ``decode_in_inference=False``).

    Args:
        output: ``float[1,A,5+C]`` or ``float[A,5+C]``: ``dx, dy, log_w, log_h, objectness,
            class_1..class_C`` per anchor point (objectness and classes already sigmoided).
        input_size: ``(H, W)`` of the network input.
        strides: strides in output order.

    Returns:
        All ``A`` anchor points decoded; score = objectness x best class probability.

    Raises:
        ValueError: wrong rank, fewer than 6 channels, or ``A`` not the grid size for ``input_size``.
    """
    out = _one_image("YOLOX output", output, 2)
    n_expected = num_grid_points(input_size, strides)
    if out.shape[1] < 6 or out.shape[0] != n_expected:
        raise ValueError(
            f"YOLOX output: expected [{n_expected}, 5+C] for input {tuple(input_size)} and strides "
            f"{tuple(strides)}, got {out.shape}"
        )
    grid, stride = grid_points(input_size, strides, offset=0.0)
    xy = (out[:, :2] + grid) * stride[:, None]
    wh = np.exp(np.clip(out[:, 2:4], -20.0, 20.0)) * stride[:, None]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1).astype(np.float32)
    cls_score, cls_id = best_class(out[:, 5:])
    return Decoded(boxes, (out[:, 4] * cls_score).astype(np.float32), cls_id)


def gfl_integral(distribution: ArrayLike, reg_max: int = 7) -> NDArray[np.float32]:
    """GFL "integral": expected value of each side's discrete distribution.

    Args:
        distribution: ``float[N, 4*(reg_max+1)]`` logits, side-major (left, top, right, bottom, each
            ``reg_max + 1`` bins).
        reg_max: largest bin value (bins are ``0..reg_max``).

    Returns:
        ``float32[N,4]`` distances in stride units (``0..reg_max``).
    """
    d = np.asarray(distribution, np.float32)
    bins = reg_max + 1
    if d.ndim != 2 or d.shape[1] != 4 * bins:
        raise ValueError(f"box distribution: expected [N, {4 * bins}] for reg_max {reg_max}, got {d.shape}")
    d = d.reshape(-1, 4, bins)
    e = np.exp(d - d.max(axis=2, keepdims=True))
    p = e / e.sum(axis=2, keepdims=True)
    return (p @ np.arange(bins, dtype=np.float32)).astype(np.float32)


def decode_nanodet(
    class_maps: Sequence[ArrayLike],
    box_maps: Sequence[ArrayLike],
    input_size: Sequence[int],
    strides: Sequence[int] = DEFAULT_STRIDES,
    reg_max: int = 7,
    scores_are_probabilities: bool | None = None,
    center_offset: float = 0.5,
) -> Decoded:
    """Decode NanoDet(-m) GFL head outputs.

    Args:
        class_maps: per stride, ``float[1,A_s,C]`` (or ``[A_s,C]``) class scores.
        box_maps: per stride, ``float[1,A_s,4*(reg_max+1)]`` box-side distributions (logits).
        input_size: ``(H, W)`` of the network input.
        strides: the stride of each level, same order as the maps.
        reg_max: largest distance bin.
        scores_are_probabilities: ``True``: class scores are sigmoided in the graph (the original
            NanoDet-m export); ``False``: logits, sigmoid applied here; ``None``: decided from the
            values (probabilities iff all lie in ``[0, 1]``; logits of a trained model are mostly
            negative, so this is unambiguous in practice).
        center_offset: anchor point = ``(cell + center_offset) * stride`` (0.5 for NanoDet-m).

    Returns:
        All anchor points decoded: box = centre -/+ distances x stride.

    Raises:
        ValueError: level count or shapes inconsistent with ``input_size``/``strides``/``reg_max``.
    """
    if not (len(class_maps) == len(box_maps) == len(strides)):
        raise ValueError(
            f"NanoDet: {len(class_maps)} class maps, {len(box_maps)} box maps, {len(strides)} strides"
        )
    h, w = input_size
    cls_list: list[NDArray[np.float32]] = []
    dist_list: list[NDArray[np.float32]] = []
    for s, cm, bm in zip(strides, class_maps, box_maps, strict=True):
        c = _one_image(f"NanoDet class map (stride {s})", cm, 2)
        d = _one_image(f"NanoDet box map (stride {s})", bm, 2)
        n = -(-h // s) * -(-w // s)
        if c.shape[0] != n or d.shape[0] != n or d.shape[1] != 4 * (reg_max + 1):
            raise ValueError(
                f"NanoDet stride {s}: expected class map [{n}, C] and box map [{n}, {4 * (reg_max + 1)}] "
                f"for input {tuple(input_size)}, got {c.shape} and {d.shape}"
            )
        cls_list.append(c)
        dist_list.append(d)
    cls = np.concatenate(cls_list)
    if scores_are_probabilities is None:
        scores_are_probabilities = bool(cls.size == 0 or (cls.min() >= 0.0 and cls.max() <= 1.0))
    if not scores_are_probabilities:
        cls = _sigmoid(cls)
    dist = gfl_integral(np.concatenate(dist_list), reg_max)
    grid, stride = grid_points(input_size, strides, offset=center_offset)
    centre = grid * stride[:, None]
    dist = dist * stride[:, None]
    boxes = np.concatenate([centre - dist[:, :2], centre + dist[:, 2:]], axis=1).astype(np.float32)
    score, cls_id = best_class(cls)
    return Decoded(boxes, score, cls_id)


def decode_yolov8(output: ArrayLike, embedding_dim: int = 0) -> Decoded:
    """Decode an Ultralytics YOLOv8/YOLO11 detect output (boxes decoded in the graph, no objectness).

    Args:
        output: ``float[1,4+C+D,N]`` or ``float[4+C+D,N]``: rows ``cx, cy, w, h`` (input pixels), ``C``
            class probabilities, then ``D = embedding_dim`` embedding channels (JDE models).
        embedding_dim: ``D``, 0 for a plain detector.

    Returns:
        ``N`` boxes with their best class; ``embeddings float32[N,D]`` when ``D > 0``.

    Raises:
        ValueError: wrong rank or fewer than ``4 + 1 + D`` channels.
    """
    out = _one_image("YOLOv8 output", output, 2)
    if embedding_dim < 0:
        raise ValueError(f"embedding_dim must be >= 0, got {embedding_dim}")
    n_cls = out.shape[0] - 4 - embedding_dim
    if n_cls < 1:
        raise ValueError(
            f"YOLOv8 output: {out.shape[0]} channels cannot hold 4 box values, >= 1 class and "
            f"{embedding_dim} embedding values (shape {out.shape}, expected [4+C+D, N])"
        )
    cx, cy, bw, bh = out[0], out[1], out[2], out[3]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    score, cls_id = best_class(out[4 : 4 + n_cls].T)
    emb = np.ascontiguousarray(out[4 + n_cls :].T, dtype=np.float32) if embedding_dim else None
    return Decoded(boxes, score, cls_id, emb)


def decode_ssd(
    boxes: ArrayLike,
    scores: ArrayLike,
    classes: ArrayLike,
    num_detections: ArrayLike | None,
    input_size: Sequence[int],
    class_offset: int = 1,
) -> Decoded:
    """Decode TF object-detection-API post-processed outputs (NMS already done in the graph).

    Args:
        boxes: ``float[1,N,4]`` or ``float[N,4]`` normalised ``ymin, xmin, ymax, xmax`` (0..1 of the
            network input).
        scores: ``float[1,N]`` or ``float[N]``.
        classes: ``float|int[1,N]`` or ``[N]`` class ids in the label map's numbering (1-based for TF
            OD API models).
        num_detections: ``float[1]`` or scalar: how many of the ``N`` rows are valid (``None`` = all).
        input_size: ``(H, W)`` of the tensor fed to the model.
        class_offset: subtracted from ``classes`` (1: TF's 1-based ids become 0-based, person = 0).

    Returns:
        The first ``num_detections`` rows, boxes in input pixels, scores clipped to ``[0, 1]``.
    """
    b = _one_image("SSD boxes", boxes, 2)
    s = _one_image("SSD scores", scores, 1)
    c = _one_image("SSD classes", classes, 1)
    if b.shape[1] != 4 or len(s) != len(b) or len(c) != len(b):
        raise ValueError(f"SSD outputs: boxes {b.shape}, scores {s.shape}, classes {c.shape} do not agree")
    n = len(b)
    if num_detections is not None:
        nd = np.asarray(num_detections).reshape(-1)
        if nd.size:
            n = max(0, min(n, round(float(nd[0]))))
    h, w = input_size
    b = b[:n]
    xyxy = np.stack([b[:, 1] * w, b[:, 0] * h, b[:, 3] * w, b[:, 2] * h], axis=1).astype(np.float32)
    ids = np.rint(c[:n]).astype(np.int64) - class_offset
    return Decoded(xyxy, np.clip(s[:n], 0.0, 1.0).astype(np.float32), ids)
