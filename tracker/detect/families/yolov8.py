"""Ultralytics YOLOv8/YOLO11 (optionally JDE with per-box embeddings): one ``[1,4+C(+D),N]`` output;
letterbox centred with pad 114, RGB ``x / 255``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.typing import NDArray

from ...onnx_utils import TensorInfo
from ..decoders import Decoded, decode_yolov8
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch
from .yolox import single_grid_output

__all__ = ["SPEC"]


def _matches(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> bool:
    return single_grid_output(outputs, input_size) == "yolov8"


def _build(ctx: DecoderContext) -> tuple[list[str], DecodeFn]:
    outs = ctx.outputs
    o = outs[0]
    d = ctx.embedding_dim or 0
    if len(outs) != 1 or o.rank != 3:
        raise LayoutMismatch("expected one output [1, 4+C(+D), N]")
    k, n = o.shape[1], o.shape[2]
    if k is not None and n is not None and k > n:
        raise LayoutMismatch(
            f"channels {k} > boxes {n}: looks like [1, N, K] (YOLOX-style or transposed); "
            "Ultralytics exports are [1, 4+C, N]"
        )
    if k is not None and k < 5 + d:
        raise LayoutMismatch(f"{k} channels cannot hold 4 box values, >= 1 class and D={d}")

    def dec_yolov8(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
        return decode_yolov8(arrays[0], d)

    return [o.name], dec_yolov8


SPEC = FamilySpec(
    name="yolov8",
    order=30,
    summary="Ultralytics YOLOv8/11 [1,4+C(+D),N], JDE embeddings optional (letterbox centred, RGB /255)",
    defaults=FamilyDefaults("letterbox_center", True, 1.0 / 255.0, None, None, 114, 0.1, 0.6),
    matches=_matches,
    build_decoder=_build,
    aliases=("yolo11", "yolov11", "ultralytics"),
    supports_embeddings=True,
)
