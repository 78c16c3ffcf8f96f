"""What a detector family is: :class:`FamilySpec` (defaults, layout matcher, decoder builder, help).

A family module in :mod:`tracker.detect.families` defines one module-level ``SPEC = FamilySpec(...)``;
the registry (:mod:`tracker.detect.families`) finds it, and :class:`~tracker.detect.OnnxDetector`,
``family="auto"`` inference and the CLI help read it. Nothing else needs editing to add a family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from numpy.typing import NDArray

from ...onnx_utils import TensorInfo
from ..decoders import Decoded

__all__ = [
    "DecodeFn",
    "DecoderContext",
    "FamilyDefaults",
    "FamilySpec",
    "LayoutMismatch",
    "base_name",
    "show_shape",
]

DecodeFn = Callable[[list[NDArray[Any]], tuple[int, int]], Decoded]
"""``(the requested outputs in order, (H, W) of the network input) -> Decoded`` (input pixels)."""


@dataclass(frozen=True)
class FamilyDefaults:
    """Preprocessing and post-processing defaults of a family.

    Attributes:
        resize: ``"letterbox"`` (top-left), ``"letterbox_center"``, or ``"plain"``; ``"plain"`` for a
            model with dynamic height/width and no ``input_size`` means the frame is fed as is.
        rgb: the model wants RGB (else BGR).
        scale: multiply pixel values by this (float inputs only).
        mean: per-channel mean in the model's channel order, or ``None``.
        std: per-channel std in the model's channel order, or ``None``.
        pad_value: letterbox padding value.
        score_threshold: default minimum score.
        nms_iou: default NMS IoU threshold, ``None`` = no NMS.
    """

    resize: Literal["letterbox", "letterbox_center", "plain"]
    rgb: bool
    scale: float
    mean: tuple[float, float, float] | None
    std: tuple[float, float, float] | None
    pad_value: int
    score_threshold: float
    nms_iou: float | None


@dataclass(frozen=True)
class DecoderContext:
    """What a family's decoder builder gets to look at.

    Attributes:
        outputs: the model's outputs (names, shapes with dynamic dims as ``None``, types).
        input_size: ``(H, W)`` fed to the model, ``None`` = the frame's own size.
        embedding_dim: ``D`` of per-box embeddings requested by the caller, or ``None``.
    """

    outputs: Sequence[TensorInfo]
    input_size: tuple[int, int] | None
    embedding_dim: int | None


class LayoutMismatch(ValueError):
    """The outputs do not fit the family; the message says what was expected. The detector adds the
    model file, the family and the outputs seen."""


@dataclass(frozen=True)
class FamilySpec:
    """One detector family.

    Attributes:
        name: canonical name (lower case), e.g. ``"yolox"``.
        order: position in listings and in the CLI help (smaller first).
        summary: one line for the CLI help and error messages.
        defaults: preprocessing and thresholds.
        matches: ``(outputs, input_size) -> bool``: do these outputs unambiguously look like this
            family? Used by ``family="auto"`` (inference succeeds when exactly one family matches).
        build_decoder: ``DecoderContext -> (output names to run, DecodeFn)``; raises
            :class:`LayoutMismatch` when the outputs do not fit.
        aliases: other accepted names (lower case).
        needs_input_size: the family cannot run on a model with dynamic height/width unless the caller
            passes ``input_size`` (grid families); ``False``: the frame may be fed at its own size.
        supports_embeddings: ``embedding_dim`` is allowed (JDE models).
    """

    name: str
    order: int
    summary: str
    defaults: FamilyDefaults
    matches: Callable[[Sequence[TensorInfo], tuple[int, int] | None], bool]
    build_decoder: Callable[[DecoderContext], tuple[list[str], DecodeFn]]
    aliases: tuple[str, ...] = ()
    needs_input_size: bool = True
    supports_embeddings: bool = False

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", self.name):
            raise ValueError(f"family name must be lower-case [a-z0-9_-], got {self.name!r}")
        bad = [a for a in self.aliases if a != a.lower() or a == self.name]
        if bad:
            raise ValueError(
                f"family {self.name}: aliases must be lower case and differ from the name: {bad}"
            )


def show_shape(shape: Sequence[int | None]) -> str:
    """``[1, ?, 4]`` for a shape with a dynamic dimension."""
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def base_name(name: str) -> str:
    """Lower-case tensor name without a ``:0`` suffix or ``scope/`` prefix."""
    return re.sub(r":\d+$", "", name).rsplit("/", 1)[-1].lower()
