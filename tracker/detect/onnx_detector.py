"""ONNX object detectors: :class:`OnnxDetector` runs a YOLOX, NanoDet, Ultralytics YOLOv8/11 (optionally
JDE) or TF object-detection-API SSD model with ONNX Runtime and returns tracker
:class:`~tracker.types.Detections`.

Pipeline per frame: validate the frame (``uint8[H,W,3]`` BGR), resize/pad it as the family expects,
build the input tensor, run the model, decode (:mod:`tracker.detect.decoders`), keep boxes with
``score >= score_threshold`` whose class is in ``classes``, map them back to frame pixels, clip them to
the frame, drop boxes narrower or shorter than ``min_box_size`` pixels, run class-aware NMS
(:mod:`tracker.detect.nms`) and keep at most ``max_detections``, highest score first.

Family conventions (see :data:`FAMILY_DEFAULTS`):

========== ============================ ===== ======================= ========= =======
family     resize                       order pixel values            score thr NMS IoU
========== ============================ ===== ======================= ========= =======
yolox      letterbox top-left, pad 114  BGR   0..255                  0.1       0.6
nanodet    plain resize                 BGR   (x - mean) / std        0.1       0.6
yolov8     letterbox centred, pad 114   RGB   x / 255                 0.1       0.6
ssd        none (dynamic H/W) or plain  RGB   raw uint8 (0..255)      0.1       none
========== ============================ ===== ======================= ========= =======

* Score threshold 0.1 for every family: the tracker's two-stage association uses detections down to
  ``association.low_score`` (0.1 in the presets), so cutting higher here would starve ByteTrack's second
  stage; raise it for a tracker that only uses confident detections.
* NMS IoU 0.6: crowded pedestrian scenes have many genuinely overlapping people, so the YOLOX demo's
  0.45 suppresses real people; 0.6 is NanoDet's own value and inside the usual 0.45-0.7. SSD models
  from the TF object-detection API already ran NMS in the graph, so none is applied by default (pass
  ``nms_iou`` to add one). ``nms_iou=1.0`` effectively disables NMS for the other families.
* Class ids: one convention for all families, **0-based with person = 0** (COCO order for YOLOX,
  NanoDet and Ultralytics; TF SSD's 1-based label-map ids minus 1). The default ``classes=(0,)`` keeps
  persons, which also keeps the only class of a one-class pedestrian SSD (its class 1 becomes 0).
  ``classes=None`` keeps every class.

``family="auto"`` infers the family from the outputs when that is unambiguous: four TF OD API outputs
(``detection_boxes``/``scores``/``classes``/``num_detections``, names matched by substring, ``:0``
suffixes allowed) -> ``ssd``; pairs of per-stride ``[1,A_s,C]`` / ``[1,A_s,4*(reg_max+1)]`` maps ->
``nanodet``; one ``[1,A,K]`` output with ``A`` the stride-8/16/32 grid size of the input -> ``yolox``;
one ``[1,K,N]`` output with ``N`` the grid size -> ``yolov8``. Anything else raises :class:`ValueError`
listing the families.

The NanoDet-m export in ``shared/models`` (``nanodet_m_416.onnx``) was inspected: six outputs
``cls_pred_stride_{8,16,32}`` ``[1,A_s,80]`` and ``dis_pred_stride_{8,16,32}`` ``[1,A_s,32]``. The graph
applies a ``Sigmoid`` to the class maps (values seen on a PETS09 frame: 7e-5..0.76) and nothing to the
box maps (raw logits, -6.6..9.8), so boxes are NOT decoded in the graph: the decoder applies the GFL
softmax-expectation over 8 bins per side around the cell centre ``(x + 0.5) * stride`` (the centre,
not the corner: on real frames the mean IoU with ground truth was 0.73 with 0.5 vs 0.56 with 0). Class
maps that are not in ``[0, 1]`` (exports without the sigmoid) are detected and sigmoided.
The YOLOX-nano export's ``[1,3549,85]`` output is raw as documented: box channels in about -2..4 (grid
offsets and log sizes), objectness and class probabilities in ``[0, 1]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..onnx_utils import ImageInput, TensorInfo, describe_outputs, inspect_image_input, make_session
from ..types import Detections
from .decoders import (
    DEFAULT_STRIDES,
    Decoded,
    decode_nanodet,
    decode_ssd,
    decode_yolov8,
    decode_yolox,
    num_grid_points,
)
from .nms import nms
from .preprocess import BoxTransform, check_frame, clip_boxes, letterbox, make_blob, no_resize, plain_resize

__all__ = ["FAMILIES", "FAMILY_DEFAULTS", "FamilyDefaults", "OnnxDetector", "infer_family"]

logger = logging.getLogger(__name__)

FAMILIES: tuple[str, ...] = ("yolox", "nanodet", "yolov8", "ssd")
"""Supported model families (plus ``"auto"``)."""

_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "yolo11": "yolov8",
        "yolov11": "yolov8",
        "ultralytics": "yolov8",
        "nanodet-m": "nanodet",
        "tf-ssd": "ssd",
    }
)

PRE_NMS_TOP_K = 5000
"""At most this many candidates (best scores) enter NMS; bounds the cost on crowded frames."""

_SCORE_TOLERANCE = 1e-3
"""Decoded scores this far outside ``[0, 1]`` are clipped (rounding); further out they are an error."""


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


FAMILY_DEFAULTS: Mapping[str, FamilyDefaults] = MappingProxyType(
    {
        "yolox": FamilyDefaults("letterbox", False, 1.0, None, None, 114, 0.1, 0.6),
        "nanodet": FamilyDefaults(
            "plain", False, 1.0, (103.53, 116.28, 123.675), (57.375, 57.12, 58.395), 114, 0.1, 0.6
        ),
        "yolov8": FamilyDefaults("letterbox_center", True, 1.0 / 255.0, None, None, 114, 0.1, 0.6),
        "ssd": FamilyDefaults("plain", True, 1.0, None, None, 114, 0.1, None),
    }
)
"""Per-family defaults; read-only."""


def _show(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _seen(outputs: Sequence[TensorInfo]) -> str:
    return ", ".join(f"{o.name} {_show(o.shape)}" for o in outputs)


def _base_name(name: str) -> str:
    """Lower-case tensor name without a ``:0`` suffix or ``scope/`` prefix."""
    return re.sub(r":\d+$", "", name).rsplit("/", 1)[-1].lower()


# ------------------------------------------------------------------------------------------------
# Output layout per family


_SSD_ROLES = ("boxes", "scores", "classes", "num")
_SSD_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"boxes": ("box",), "scores": ("score",), "classes": ("class",), "num": ("num",)}
)
_SSD_SKIP = ("raw", "multiclass", "anchor")


def _ssd_layout(outputs: Sequence[TensorInfo]) -> dict[str, TensorInfo] | None:
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
        exact = [o for o in outputs if _base_name(o.name) == want]
        if len(exact) == 1:
            found[role] = exact[0]
            continue
        subs = [
            o
            for o in outputs
            if any(k in _base_name(o.name) for k in _SSD_KEYS[role])
            and not any(s in _base_name(o.name) for s in _SSD_SKIP)
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
        cand = [o for o in rest if o.rank == 1 or (o.rank == 0 and "num" in _base_name(o.name))]
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


def _stride_for(count: int | None, input_size: tuple[int, int] | None) -> int | None:
    if count is None or input_size is None:
        return None
    for s in (8, 16, 32, 64, 128):
        if num_grid_points(input_size, (s,)) == count:
            return s
    return None


def _nanodet_layout(
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
        named = [o for o in (a, b) if re.search(r"dis|reg|box", _base_name(o.name))]
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


def _single_grid_output(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> str | None:
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


def infer_family(outputs: Sequence[TensorInfo], input_size: tuple[int, int] | None) -> str | None:
    """The family that the ``outputs`` unambiguously belong to, or ``None``.

    Args:
        outputs: the model's outputs (:func:`tracker.onnx_utils.describe_outputs`).
        input_size: ``(H, W)`` of the network input, ``None`` if dynamic.
    """
    found: list[str] = []
    if _ssd_layout(outputs) is not None and len(outputs) >= 3:
        found.append("ssd")
    if _nanodet_layout(outputs, input_size) is not None:
        found.append("nanodet")
    single = _single_grid_output(outputs, input_size)
    if single is not None:
        found.append(single)
    return found[0] if len(found) == 1 else None


# ------------------------------------------------------------------------------------------------
# The detector


_DecodeFn = Callable[[list[NDArray[Any]], tuple[int, int]], Decoded]


class OnnxDetector:
    """A detector ONNX model run with ONNX Runtime.

    Args:
        model_path: the ``.onnx`` file.
        family: ``"yolox"``, ``"nanodet"``, ``"yolov8"`` (aliases ``"yolo11"``, ``"ultralytics"``),
            ``"ssd"``, or ``"auto"`` (inferred from the outputs, see the module docstring).
        score_threshold: minimum score kept; ``None`` = family default (0.1).
        nms_iou: IoU above which a lower-scoring box of the same class is suppressed; ``None`` = family
            default (0.6; no NMS for SSD).
        classes: class ids to keep (0-based, person = 0); ``None`` keeps all.
        max_detections: at most this many detections per frame.
        embedding_dim: ``D`` for a JDE YOLOv8/11 model whose output carries a ``D``-dimensional
            embedding after the class scores (``[1,4+C+D,N]``); detections then have L2-normalised
            ``embeddings``. YOLOv8 family only.
        input_size: ``(H, W)`` to feed a model whose input height/width are dynamic (required for the
            grid families; optional for SSD, which otherwise gets the frame at its own size). Must equal
            the model's size when that is fixed.
        min_box_size: boxes narrower or shorter than this (frame pixels, after clipping) are dropped.
        providers: ONNX Runtime execution providers (``None`` = CUDA if available, else CPU).
        threads: ONNX Runtime intra-op threads (``None`` = its default).

    Raises:
        FileNotFoundError: no file at ``model_path``.
        ValueError: unknown family; outputs that do not match the family (the message names the model
            file, the family and the output shapes seen); an image input that is not rank 4 with 3
            channels; a fixed batch other than 1; invalid options.
    """

    def __init__(
        self,
        model_path: str | Path,
        family: str = "auto",
        *,
        score_threshold: float | None = None,
        nms_iou: float | None = None,
        classes: Iterable[int] | None = (0,),
        max_detections: int = 300,
        embedding_dim: int | None = None,
        input_size: tuple[int, int] | None = None,
        min_box_size: float = 1.0,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        fam = _ALIASES.get(family.lower(), family.lower()) if isinstance(family, str) else family
        if fam != "auto" and fam not in FAMILIES:
            raise ValueError(f"unknown detector family {family!r}; expected one of {[*FAMILIES, 'auto']}")
        if isinstance(max_detections, bool) or not isinstance(max_detections, int) or max_detections < 1:
            raise ValueError(f"max_detections must be a positive integer, got {max_detections!r}")
        if not (np.isfinite(min_box_size) and min_box_size >= 0):
            raise ValueError(f"min_box_size must be finite and >= 0, got {min_box_size!r}")
        if embedding_dim is not None and (
            isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1
        ):
            raise ValueError(f"embedding_dim must be a positive integer or None, got {embedding_dim!r}")
        self.model_path = Path(model_path)
        self._session = make_session(self.model_path, providers, threads)
        self._input: ImageInput = inspect_image_input(self._session, self.model_path)
        if self._input.batch not in (None, 1):
            raise ValueError(
                f"{self.model_path}: input {self._input.name!r} has fixed batch {self._input.batch}; "
                "detectors run one frame at a time (batch 1 or dynamic)"
            )
        self._outputs = describe_outputs(self._session)
        model_size = (
            (self._input.height, self._input.width)
            if self._input.height is not None and self._input.width is not None
            else None
        )
        if input_size is not None:
            input_size = (int(input_size[0]), int(input_size[1]))
            if input_size[0] < 1 or input_size[1] < 1:
                raise ValueError(f"input_size must be positive (height, width), got {input_size}")
            if (self._input.height not in (None, input_size[0])) or (
                self._input.width not in (None, input_size[1])
            ):
                raise ValueError(
                    f"{self.model_path}: input shape {_show(self._input.shape)} is fixed; input_size "
                    f"{input_size} differs"
                )
        size = input_size if input_size is not None else model_size
        if fam == "auto":
            inferred = infer_family(self._outputs, size)
            if inferred is None:
                raise ValueError(
                    f"{self.model_path}: cannot infer the detector family from input "
                    f"{_show(self._input.shape)} and outputs {_seen(self._outputs)}; pass family= one "
                    f"of {list(FAMILIES)}"
                )
            fam = inferred
        self.family: str = fam
        self.defaults: FamilyDefaults = FAMILY_DEFAULTS[fam]
        if fam != "ssd" and size is None:
            raise ValueError(
                f"{self.model_path}: input shape {_show(self._input.shape)} has a dynamic height/width; "
                f"the {fam} family needs a fixed size: pass input_size=(H, W)"
            )
        self.input_size: tuple[int, int] | None = size
        """``(H, W)`` fed to the model, or ``None``: the frame's own size (SSD with dynamic input)."""
        if embedding_dim is not None and fam != "yolov8":
            raise ValueError(f"embedding_dim is supported for the yolov8 (JDE) family only, not {fam}")
        self.embedding_dim: int | None = embedding_dim
        self.score_threshold = float(
            self.defaults.score_threshold if score_threshold is None else score_threshold
        )
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold!r}")
        self.nms_iou: float | None = self.defaults.nms_iou if nms_iou is None else float(nms_iou)
        if self.nms_iou is not None and not 0.0 <= self.nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in [0, 1], got {nms_iou!r}")
        self.classes: NDArray[np.int64] | None = (
            None if classes is None else np.array(sorted({int(c) for c in classes}), np.int64)
        )
        self.max_detections = max_detections
        self.min_box_size = float(min_box_size)
        self._output_names, self._decode = self._build_decoder()
        logger.info(
            "detector %s: family %s, %s input %s %s (%s), score >= %.2f, NMS IoU %s, classes %s",
            self.model_path.name,
            self.family,
            self._input.layout,
            self._input.name,
            _show(self._input.shape),
            "frame size" if self.input_size is None else f"fed {self.input_size[0]}x{self.input_size[1]}",
            self.score_threshold,
            "off" if self.nms_iou is None else f"{self.nms_iou:.2f}",
            "all" if self.classes is None else self.classes.tolist(),
        )

    # ------------------------------------------------------------------ set-up
    def _mismatch(self, why: str) -> ValueError:
        return ValueError(
            f"{self.model_path}: outputs do not match the {self.family} family ({why}); outputs seen: "
            f"{_seen(self._outputs)}; input {_show(self._input.shape)}"
        )

    def _build_decoder(self) -> tuple[list[str], _DecodeFn]:
        outs = self._outputs
        size = self.input_size
        if self.family == "yolox":
            o = outs[0]
            n = None if size is None else num_grid_points(size, DEFAULT_STRIDES)
            if len(outs) != 1 or o.rank != 3:
                raise self._mismatch("expected one output [1, A, 5+C]")
            if o.shape[1] not in (None, n) or (o.shape[2] is not None and o.shape[2] < 6):
                raise self._mismatch(f"expected [1, {n}, 5+C] for input {size} and strides 8/16/32")

            def dec_yolox(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
                return decode_yolox(arrays[0], hw)

            return [o.name], dec_yolox
        if self.family == "yolov8":
            o = outs[0]
            d = self.embedding_dim or 0
            if len(outs) != 1 or o.rank != 3:
                raise self._mismatch("expected one output [1, 4+C(+D), N]")
            k, n = o.shape[1], o.shape[2]
            if k is not None and n is not None and k > n:
                raise self._mismatch(
                    f"channels {k} > boxes {n}: looks like [1, N, K] (YOLOX-style or transposed); "
                    "Ultralytics exports are [1, 4+C, N]"
                )
            if k is not None and k < 5 + d:
                raise self._mismatch(f"{k} channels cannot hold 4 box values, >= 1 class and D={d}")

            def dec_yolov8(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
                return decode_yolov8(arrays[0], d)

            return [o.name], dec_yolov8
        if self.family == "nanodet":
            layout = _nanodet_layout(outs, size)
            if layout is None:
                raise self._mismatch(
                    f"expected per-stride pairs [1, A_s, C] and [1, A_s, 4*(reg_max+1)] with A_s the grid "
                    f"size of input {size} at strides 8/16/32"
                )
            cls_maps, box_maps, strides, reg_max = layout
            n_cls = len(cls_maps)

            def dec_nanodet(arrays: list[NDArray[Any]], hw: tuple[int, int]) -> Decoded:
                return decode_nanodet(arrays[:n_cls], arrays[n_cls:], hw, strides, reg_max)

            return [o.name for o in cls_maps + box_maps], dec_nanodet
        ssd = _ssd_layout(outs)
        if ssd is None or len(outs) < 3:
            raise self._mismatch(
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

    # ------------------------------------------------------------------ inference
    def _preprocess(self, frame: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], BoxTransform]:
        d = self.defaults
        size = self.input_size
        if size is None:
            return no_resize(frame)
        if d.resize == "letterbox":
            return letterbox(frame, size, d.pad_value, center=False)
        if d.resize == "letterbox_center":
            return letterbox(frame, size, d.pad_value, center=True)
        return plain_resize(frame, size)

    def raw(self, frame: NDArray[np.uint8]) -> tuple[Decoded, BoxTransform]:
        """Run the model and decode, without thresholds, class filter or NMS.

        Args:
            frame: ``uint8[H,W,3]`` BGR.

        Returns:
            All decoded candidates in network-input pixels, and the transform to frame pixels.
        """
        frame = check_frame(frame)
        image, tf = self._preprocess(frame)
        d = self.defaults
        blob = make_blob(image, self._input.layout, self._input.dtype, d.rgb, d.scale, d.mean, d.std)
        arrays = self._session.run(self._output_names, {self._input.name: blob})
        try:
            decoded = self._decode(list(arrays), tf.input_size)
        except ValueError as exc:
            shapes = ", ".join(
                f"{n} {list(np.shape(a))}" for n, a in zip(self._output_names, arrays, strict=True)
            )
            raise ValueError(
                f"{self.model_path} ({self.family}): cannot decode outputs {shapes}: {exc}"
            ) from exc
        return decoded, tf

    def detect(self, frame: NDArray[np.uint8], frame_index: int = 0) -> Detections:
        """Detect objects in one frame.

        Args:
            frame: ``uint8[H,W,3]`` BGR (as OpenCV decodes it).
            frame_index: ignored (part of the :class:`~tracker.types.Detector` protocol).

        Returns:
            :class:`~tracker.types.Detections`: boxes ``float32[N,4]`` xyxy frame pixels clipped to the
            frame, scores in ``[0, 1]`` (highest first), 0-based class ids, and for JDE models
            L2-normalised ``embeddings float32[N,D]``.

        Raises:
            ValueError: ``frame`` is not ``uint8[H,W,3]``, or the model's outputs cannot be decoded.
        """
        dec, tf = self.raw(frame)
        finite = np.isfinite(dec.scores)
        if finite.any():
            lo, hi = float(dec.scores[finite].min()), float(dec.scores[finite].max())
            if lo < -_SCORE_TOLERANCE or hi > 1.0 + _SCORE_TOLERANCE:
                raise ValueError(
                    f"{self.model_path} ({self.family}): decoded scores range over [{lo:.4g}, {hi:.4g}], "
                    "not [0, 1]: wrong family, logits instead of probabilities, or (JDE) a missing "
                    "embedding_dim?"
                )
        scores_all = np.clip(dec.scores, 0.0, 1.0)
        keep = finite & (scores_all >= self.score_threshold)
        if self.classes is not None:
            keep &= np.isin(dec.class_ids, self.classes)
        idx = np.flatnonzero(keep)
        if len(idx) > PRE_NMS_TOP_K:
            idx = idx[np.argsort(-scores_all[idx], kind="stable")[:PRE_NMS_TOP_K]]
        boxes = clip_boxes(tf.to_frame(dec.boxes[idx]), tf.frame_size)
        ok = (
            np.isfinite(boxes).all(axis=1)
            & (boxes[:, 2] - boxes[:, 0] >= max(self.min_box_size, 1e-3))
            & (boxes[:, 3] - boxes[:, 1] >= max(self.min_box_size, 1e-3))
        )
        emb = None if dec.embeddings is None else dec.embeddings[idx]
        if emb is not None:
            norms = np.linalg.norm(emb, axis=1)
            bad = ok & ~(np.isfinite(norms) & (norms > 0))
            if bad.any():
                logger.warning(
                    "%s: dropping %d detections with a zero or non-finite embedding",
                    self.model_path.name,
                    int(bad.sum()),
                )
                ok &= ~bad
        idx, boxes = idx[ok], boxes[ok]
        emb = None if emb is None else emb[ok]
        scores, class_ids = scores_all[idx], dec.class_ids[idx]
        if self.nms_iou is not None:
            order = nms(boxes, scores, self.nms_iou, class_ids, self.max_detections)
        else:
            order = np.argsort(-scores, kind="stable")[: self.max_detections]
        if len(order) == 0:
            return Detections.empty(self.embedding_dim)
        return Detections(boxes[order], scores[order], class_ids[order], None if emb is None else emb[order])

    def __repr__(self) -> str:
        return f"OnnxDetector({str(self.model_path)!r}, family={self.family!r})"
