"""TF object-detection-API SSD with NMS in the graph: ``detection_boxes [1,N,4]`` (normalised
``ymin, xmin, ymax, xmax``), ``detection_scores``, ``detection_classes`` (1-based), ``num_detections``;
RGB uint8, the frame fed at its own size when the input is dynamic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from numpy.typing import NDArray

from ...onnx_utils import TensorInfo
from ..decoders import Decoded, decode_ssd
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch, base_name

__all__ = ["SPEC", "ssd_layout"]

_SSD_ROLES = ("boxes", "scores", "classes", "num")
_SSD_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"boxes": ("box",), "scores": ("score",), "classes": ("class",), "num": ("num",)}
)
_SSD_SKIP = ("raw", "multiclass", "anchor")


def ssd_layout(outputs: Sequence[TensorInfo]) -> dict[str, TensorInfo] | None:
    """Roles -> outputs of a TF OD API post-processed model, or ``None`` if they cannot be found.

    Names are matched first (``detection_boxes`` etc. exactly, ignoring a ``:0`` suffix and a scope
    prefix, else a unique substring match ``box``/``score``/``class``/``num`` that is not a
    ``raw_``/``multiclass``/``anchor`` output, so TF2 saved-model signatures with extra outputs work).
    Roles still unassigned are filled by shape: the ``[1,N,4]`` output is the boxes, a rank-1 one the
    count, and of two remaining ``[1,N]`` outputs an integer-typed one is the classes; two anonymous
    float ``[1,N]`` outputs cannot be told apart and give ``None``. Outputs of unknown rank (shape not
    recorded by the converter) are accepted when their names matched.
    """
    found: dict[str, TensorInfo] = {}
    for role in _SSD_ROLES:
        want = "num_detections" if role == "num" else f"detection_{role}"
        exact = [o for o in outputs if base_name(o.name) == want]
        if len(exact) == 1:
            found[role] = exact[0]
            continue
        subs = [
            o
            for o in outputs
            if any(k in base_name(o.name) for k in _SSD_KEYS[role])
            and not any(s in base_name(o.name) for s in _SSD_SKIP)
            and o not in found.values()
        ]
        if len(subs) == 1:
            found[role] = subs[0]
    rest = [o for o in outputs if o not in found.values()]
    if "boxes" not in found:
        cand = [o for o in rest if o.rank in (2, 3) and o.shape[-1] == 4]
        if len(cand) == 1:
            found["boxes"] = cand[0]
            rest.remove(cand[0])
    if "num" not in found:
        cand = [o for o in rest if o.rank == 1 or (o.rank == 0 and "num" in base_name(o.name))]
        if len(cand) == 1:
            found["num"] = cand[0]
            rest.remove(cand[0])
    two = [o for o in rest if o.rank == 2 and o.shape[-1] != 4]
    if "scores" not in found and "classes" not in found and len(two) == 2:
        ints = [o for o in two if o.dtype is not None and o.dtype.kind in "iu"]
        if len(ints) == 1:
            found["classes"] = ints[0]
            found["scores"] = next(o for o in two if o is not ints[0])
        else:
            return None  # two anonymous [1,N] outputs: cannot tell scores from classes
    elif "scores" not in found and "classes" in found and len(two) == 1:
        found["scores"] = two[0]
    elif "classes" not in found and "scores" in found and len(two) == 1:
        found["classes"] = two[0]
    if not all(r in found for r in ("boxes", "scores", "classes")):
        return None
    b, s, c = found["boxes"], found["scores"], found["classes"]
    if b.rank not in (0, 2, 3) or (b.rank and b.shape[-1] not in (4, None)):
        return None
    if s.rank not in (0, 1, 2) or c.rank not in (0, 1, 2):
        return None
    return found


def _matches(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> bool:
    return len(outputs) >= 3 and ssd_layout(outputs) is not None


def _build(ctx: DecoderContext) -> tuple[list[str], DecodeFn]:
    ssd = ssd_layout(ctx.outputs)
    if ssd is None or len(ctx.outputs) < 3:
        raise LayoutMismatch(
            "expected TF object-detection-API outputs detection_boxes [1, N, 4], detection_scores "
            "[1, N], detection_classes [1, N] and num_detections [1]"
        )
    names = [ssd[r].name for r in ("boxes", "scores", "classes")]
    has_num = "num" in ssd
    if has_num:
        names.append(ssd["num"].name)

    def dec_ssd(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
        return decode_ssd(arrays[0], arrays[1], arrays[2], arrays[3] if has_num else None, hw)

    return names, dec_ssd


SPEC = FamilySpec(
    name="ssd",
    order=40,
    summary="TF object-detection-API SSD, NMS in the graph (RGB uint8, any input size)",
    defaults=FamilyDefaults("plain", True, 1.0, None, None, 114, 0.1, None),
    matches=_matches,
    build_decoder=_build,
    aliases=("tf-ssd",),
    needs_input_size=False,
)
