"""YOLOX (raw head exported with ``decode_in_inference=False``): one ``[1,A,5+C]`` output, ``A`` the
stride-8/16/32 grid size of the input; letterbox top-left with pad 114, BGR 0..255."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.typing import NDArray

from ...onnx_utils import TensorInfo
from ..decoders import DEFAULT_STRIDES, Decoded, decode_yolox, num_grid_points
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch

__all__ = ["SPEC", "single_grid_output"]


def single_grid_output(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> str | None:
    """``"yolox"`` / ``"yolov8"`` for a single ``[1,A,K]`` / ``[1,K,N]`` output matching the grid."""
    if len(outputs) != 1 or outputs[0].rank != 3 or input_size is None:
        return None
    n = num_grid_points(input_size, DEFAULT_STRIDES)
    shape = outputs[0].shape
    if shape[1] == n and shape[2] != n:
        return "yolox"
    if shape[2] == n and shape[1] != n:
        return "yolov8"
    return None


def _matches(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> bool:
    return single_grid_output(outputs, input_size) == "yolox"


def _build(ctx: DecoderContext) -> tuple[list[str], DecodeFn]:
    outs, size = ctx.outputs, ctx.input_size
    o = outs[0]
    n = None if size is None else num_grid_points(size, DEFAULT_STRIDES)
    if len(outs) != 1 or o.rank != 3:
        raise LayoutMismatch("expected one output [1, A, 5+C]")
    if o.shape[1] not in (None, n) or (o.shape[2] is not None and o.shape[2] < 6):
        raise LayoutMismatch(f"expected [1, {n}, 5+C] for input {size} and strides 8/16/32")

    def dec_yolox(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
        return decode_yolox(arrays[0], hw)

    return [o.name], dec_yolox


SPEC = FamilySpec(
    name="yolox",
    order=10,
    summary="YOLOX raw head [1,A,5+C] (letterbox, BGR 0..255)",
    defaults=FamilyDefaults("letterbox", False, 1.0, None, None, 114, 0.1, 0.6),
    matches=_matches,
    build_decoder=_build,
)
