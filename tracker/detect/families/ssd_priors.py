"""Caffe-style SSD cut before its ``DetectionOutput`` (e.g. OpenVINO Open Model Zoo
``pedestrian-detection-adas-0002`` rebuilt by ``tools/convert_openvino_ir.py``): three outputs

* ``mbox_loc`` ``[1, 4N]``: box deltas ``(dx, dy, dw, dh)`` per prior,
* ``mbox_conf`` ``[1, N*C]``: softmaxed class scores per prior, class 0 = background,
* ``mbox_priors`` ``[1, 2, 4N]``: the prior boxes (normalised ``xmin, ymin, xmax, ymax``) and their
  variances, constant (stored in the model),

decoded here (``CENTER_SIZE`` code, variances not encoded in the target, as Caffe SSD and OpenVINO's
``DetectionOutput`` do); NMS at IoU 0.45 (the IR's ``nms_threshold``) by the detector. Input: plain
resize, BGR 0..255 (mean and scale are inside the graph).

Layout matching (``family="auto"``): exactly three outputs, one ``[1, 2, 4N]`` (the priors), one
``[1, 4N]`` and one ``[1, N*C]`` with ``C >= 2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...onnx_utils import TensorInfo
from ..decoders import Decoded, best_class
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch

__all__ = ["SPEC", "decode_ssd_priors", "priors_layout"]

_EXP_CLIP = 20.0
"""Log-size deltas are clipped to this before ``exp`` (no overflow on garbage inputs)."""


def decode_ssd_priors(
    loc: ArrayLike, conf: ArrayLike, priors: ArrayLike, input_size: Sequence[int], background: int = 0
) -> Decoded:
    """Decode SSD box deltas against prior boxes (Caffe ``CENTER_SIZE``, variances from the priors).

    Args:
        loc: ``float[1,4N]`` or ``float[N,4]`` deltas ``dx, dy, dw, dh`` per prior.
        conf: ``float[1,N*C]`` or ``float[N,C]`` class probabilities (softmax done), ``C >= 2``.
        priors: ``float[1,2,4N]`` (or ``[2,4N]``): row 0 prior boxes normalised ``xmin, ymin, xmax,
            ymax``, row 1 their variances.
        input_size: ``(H, W)`` of the network input.
        background: index of the background class, dropped; class ids of the others are renumbered
            0-based (person = 0 for a one-class pedestrian model).

    Returns:
        ``N`` boxes ``float32[N,4]`` xyxy in input pixels with their best non-background class.

    Raises:
        ValueError: shapes that do not agree.
    """
    p = np.asarray(priors, np.float32)
    if p.ndim == 3:
        if p.shape[0] != 1:
            raise ValueError(f"SSD priors: batch {p.shape[0]}; expected 1")
        p = p[0]
    if p.ndim != 2 or p.shape[0] != 2 or p.shape[1] % 4:
        raise ValueError(f"SSD priors: expected [1, 2, 4N], got {np.shape(priors)}")
    n = p.shape[1] // 4
    pb, var = p[0].reshape(n, 4), p[1].reshape(n, 4)
    d_flat = np.asarray(loc, np.float32).reshape(-1)
    if d_flat.size != 4 * n:
        raise ValueError(f"SSD box deltas: {d_flat.size} values for {n} priors (expected {4 * n})")
    d = d_flat.reshape(n, 4)
    c_flat = np.asarray(conf, np.float32).reshape(-1)
    if c_flat.size % n or c_flat.size // n < 2:
        raise ValueError(f"SSD class scores: {c_flat.size} values for {n} priors (expected N*C, C >= 2)")
    c = c_flat.reshape(n, c_flat.size // n)
    pw, ph = pb[:, 2] - pb[:, 0], pb[:, 3] - pb[:, 1]
    pcx, pcy = (pb[:, 0] + pb[:, 2]) / 2, (pb[:, 1] + pb[:, 3]) / 2
    cx = var[:, 0] * d[:, 0] * pw + pcx
    cy = var[:, 1] * d[:, 1] * ph + pcy
    w = np.exp(np.clip(var[:, 2] * d[:, 2], -_EXP_CLIP, _EXP_CLIP)) * pw
    h = np.exp(np.clip(var[:, 3] * d[:, 3], -_EXP_CLIP, _EXP_CLIP)) * ph
    hh, ww = float(input_size[0]), float(input_size[1])
    boxes = np.stack([(cx - w / 2) * ww, (cy - h / 2) * hh, (cx + w / 2) * ww, (cy + h / 2) * hh], axis=1)
    keep = [k for k in range(c.shape[-1]) if k != background]
    score, cls = best_class(c[:, keep])
    return Decoded(boxes.astype(np.float32), score, cls)


def priors_layout(outputs: Sequence[TensorInfo]) -> tuple[TensorInfo, TensorInfo, TensorInfo] | None:
    """``(loc, conf, priors)`` outputs, or ``None`` when they do not look like an SSD cut before
    ``DetectionOutput`` (see the module docstring)."""
    if len(outputs) != 3:
        return None
    pri = [
        o
        for o in outputs
        if o.rank == 3 and o.shape[1] == 2 and o.shape[2] is not None and o.shape[2] % 4 == 0
    ]
    if len(pri) != 1:
        return None
    shape2 = pri[0].shape[2]
    assert shape2 is not None
    n = shape2 // 4
    rest = [o for o in outputs if o is not pri[0]]
    if any(o.rank != 2 or o.shape[1] is None for o in rest):
        return None
    loc = [o for o in rest if o.shape[1] == 4 * n]
    conf = [o for o in rest if o.shape[1] != 4 * n]
    if len(loc) == 2:  # C == 4: tell them apart by name
        named = [o for o in rest if "loc" in o.name.lower()]
        if len(named) != 1:
            return None
        loc = named
        conf = [o for o in rest if o is not named[0]]
    if len(loc) != 1 or len(conf) != 1:
        return None
    width = conf[0].shape[1]
    assert width is not None
    if width % n or width // n < 2:
        return None
    return loc[0], conf[0], pri[0]


def _matches(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> bool:
    return priors_layout(outputs) is not None


def _build(ctx: DecoderContext) -> tuple[list[str], DecodeFn]:
    layout = priors_layout(ctx.outputs)
    if layout is None:
        raise LayoutMismatch(
            "expected three outputs: box deltas [1, 4N], class scores [1, N*C] and priors [1, 2, 4N]"
        )

    def dec_priors(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
        return decode_ssd_priors(arrays[0], arrays[1], arrays[2], hw)

    return [o.name for o in layout], dec_priors


SPEC = FamilySpec(
    name="ssd-priors",
    order=50,
    summary="Caffe/OpenVINO SSD cut before DetectionOutput: deltas, softmaxed scores, priors (plain resize, BGR 0..255)",
    defaults=FamilyDefaults("plain", False, 1.0, None, None, 114, 0.1, 0.45),
    matches=_matches,
    build_decoder=_build,
    aliases=("openvino-ssd", "caffe-ssd"),
)
