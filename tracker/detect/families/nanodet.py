"""NanoDet(-m) GFL heads: per stride a class map ``[1,A_s,C]`` and a box-distribution map
``[1,A_s,4*(reg_max+1)]``; plain resize, BGR ``(x - mean) / std``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from numpy.typing import NDArray

from ...onnx_utils import TensorInfo
from ..decoders import Decoded, decode_nanodet, num_grid_points
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch, base_name

__all__ = ["SPEC", "nanodet_layout"]


def _stride_for(count: int | None, input_size: tuple[int, int] | None) -> int | None:
    if count is None or input_size is None:
        return None
    for s in (8, 16, 32, 64, 128):
        if num_grid_points(input_size, (s,)) == count:
            return s
    return None


def nanodet_layout(
    outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None
) -> tuple[list[TensorInfo], list[TensorInfo], list[int], int] | None:
    """``(class maps, box maps, strides, reg_max)`` for NanoDet-style outputs, or ``None``.

    Outputs are grouped in pairs by anchor count ``A_s`` (dimension 1). In each pair the box map is
    the output named ``dis``/``reg``/``box`` (or, unnamed, the one with 32 channels = 4 x 8 bins); the
    other is the class map. Strides come from ``A_s`` and the input size.
    """
    if len(outputs) < 2 or len(outputs) % 2 or any(o.rank != 3 for o in outputs):
        return None
    groups: dict[int, list[TensorInfo]] = {}
    for o in outputs:
        if o.shape[1] is None or o.shape[2] is None:
            return None
        groups.setdefault(o.shape[1], []).append(o)
    if any(len(g) != 2 for g in groups.values()):
        return None
    cls_maps: list[TensorInfo] = []
    box_maps: list[TensorInfo] = []
    strides: list[int] = []
    bins: set[int] = set()
    for count in sorted(groups, reverse=True):  # most anchors first = smallest stride first
        a, b = groups[count]
        named = [o for o in (a, b) if re.search(r"dis|reg|box", base_name(o.name))]
        if len(named) == 1:
            box = named[0]
        else:
            with32 = [o for o in (a, b) if o.shape[2] == 32]
            if len(with32) != 1:
                return None
            box = with32[0]
        cls = b if box is a else a
        k = box.shape[2]
        assert k is not None
        if k % 4 or k < 8:
            return None
        stride = _stride_for(count, input_size)
        if stride is None:
            return None
        cls_maps.append(cls)
        box_maps.append(box)
        strides.append(stride)
        bins.add(k // 4)
    if len(bins) != 1:
        return None
    return cls_maps, box_maps, strides, bins.pop() - 1


def _matches(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> bool:
    return nanodet_layout(outputs, input_size) is not None


def _build(ctx: DecoderContext) -> tuple[list[str], DecodeFn]:
    layout = nanodet_layout(ctx.outputs, ctx.input_size)
    if layout is None:
        raise LayoutMismatch(
            f"expected per-stride pairs [1, A_s, C] and [1, A_s, 4*(reg_max+1)] with A_s the grid "
            f"size of input {ctx.input_size} at strides 8/16/32"
        )
    cls_maps, box_maps, strides, reg_max = layout
    n_cls = len(cls_maps)

    def dec_nanodet(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
        return decode_nanodet(arrays[:n_cls], arrays[n_cls:], hw, strides, reg_max)

    return [o.name for o in cls_maps + box_maps], dec_nanodet


SPEC = FamilySpec(
    name="nanodet",
    order=20,
    summary="NanoDet(-m) per-stride class and GFL box maps (plain resize, BGR mean/std)",
    defaults=FamilyDefaults(
        "plain", False, 1.0, (103.53, 116.28, 123.675), (57.375, 57.12, 58.395), 114, 0.1, 0.6
    ),
    matches=_matches,
    build_decoder=_build,
    aliases=("nanodet-m",),
)
