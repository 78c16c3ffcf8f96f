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
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..onnx_utils import ImageInput, TensorInfo, describe_outputs, inspect_image_input, make_session
from ..types import Detections
from .decoders import Decoded
from .families import (
    FAMILIES,
    FAMILY_DEFAULTS,
    SPECS,
    DecodeFn,
    DecoderContext,
    FamilyDefaults,
    FamilySpec,
    LayoutMismatch,
    get_family,
    infer_family,
)
from .families.base import show_shape
from .nms import nms
from .preprocess import BoxTransform, check_frame, clip_boxes, letterbox, make_blob, no_resize, plain_resize

__all__ = ["FAMILIES", "FAMILY_DEFAULTS", "FamilyDefaults", "FamilySpec", "OnnxDetector", "infer_family"]

logger = logging.getLogger(__name__)

PRE_NMS_TOP_K = 5000
"""At most this many candidates (best scores) enter NMS; bounds the cost on crowded frames."""

_SCORE_TOLERANCE = 1e-3
"""Decoded scores this far outside ``[0, 1]`` are clipped (rounding); further out they are an error."""


def _seen(outputs: Sequence[TensorInfo]) -> str:
    return ", ".join(f"{o.name} {show_shape(o.shape)}" for o in outputs)


# ------------------------------------------------------------------------------------------------
# The detector


def _check_options(max_detections: int, min_box_size: float, embedding_dim: int | None) -> None:
    """Reject invalid plain options before anything is opened."""
    if isinstance(max_detections, bool) or not isinstance(max_detections, int) or max_detections < 1:
        raise ValueError(f"max_detections must be a positive integer, got {max_detections!r}")
    if not (np.isfinite(min_box_size) and min_box_size >= 0):
        raise ValueError(f"min_box_size must be finite and >= 0, got {min_box_size!r}")
    if embedding_dim is not None and (
        isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1
    ):
        raise ValueError(f"embedding_dim must be a positive integer or None, got {embedding_dim!r}")


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
        spec = None if str(family).lower() == "auto" else get_family(family)
        _check_options(max_detections, min_box_size, embedding_dim)
        self.model_path = Path(model_path)
        self._session = make_session(self.model_path, providers, threads)
        self._input: ImageInput = self._check_input()
        self._outputs = describe_outputs(self._session)
        size = self._resolve_input_size(input_size)
        self.spec: FamilySpec = spec if spec is not None else self._infer(size)
        self.family: str = self.spec.name
        self.defaults: FamilyDefaults = self.spec.defaults
        self.input_size: tuple[int, int] | None = self._check_size_for_family(size)
        """``(H, W)`` fed to the model, or ``None``: the frame's own size (SSD with dynamic input)."""
        if embedding_dim is not None and not self.spec.supports_embeddings:
            supported = [s.name for s in SPECS.values() if s.supports_embeddings]
            raise ValueError(
                f"embedding_dim is supported for the {'/'.join(supported)} (JDE) family only, not {self.family}"
            )
        self.embedding_dim: int | None = embedding_dim
        self._set_thresholds(score_threshold, nms_iou)
        self.classes: NDArray[np.int64] | None = (
            None if classes is None else np.array(sorted({int(c) for c in classes}), np.int64)
        )
        self.max_detections = max_detections
        self.min_box_size = float(min_box_size)
        self._output_names, self._decode = self._build_decoder()
        self._log_setup()

    # ------------------------------------------------------------------ set-up
    def _check_input(self) -> ImageInput:
        """The model's single image input; batch must be 1 or dynamic."""
        info = inspect_image_input(self._session, self.model_path)
        if info.batch not in (None, 1):
            raise ValueError(
                f"{self.model_path}: input {info.name!r} has fixed batch {info.batch}; "
                "detectors run one frame at a time (batch 1 or dynamic)"
            )
        return info

    def _resolve_input_size(self, input_size: tuple[int, int] | None) -> tuple[int, int] | None:
        """The caller's ``input_size`` (checked against a fixed model size), else the model's own."""
        model_size = (
            (self._input.height, self._input.width)
            if self._input.height is not None and self._input.width is not None
            else None
        )
        if input_size is None:
            return model_size
        size = (int(input_size[0]), int(input_size[1]))
        if size[0] < 1 or size[1] < 1:
            raise ValueError(f"input_size must be positive (height, width), got {size}")
        if (self._input.height not in (None, size[0])) or (self._input.width not in (None, size[1])):
            raise ValueError(
                f"{self.model_path}: input shape {show_shape(self._input.shape)} is fixed; input_size "
                f"{size} differs"
            )
        return size

    def _infer(self, size: tuple[int, int] | None) -> FamilySpec:
        """``family="auto"``: the one registered family whose layout matcher accepts the outputs."""
        inferred = infer_family(self._outputs, size)
        if inferred is None:
            raise ValueError(
                f"{self.model_path}: cannot infer the detector family from input "
                f"{show_shape(self._input.shape)} and outputs {_seen(self._outputs)}; pass family= one "
                f"of {list(FAMILIES)}"
            )
        return SPECS[inferred]

    def _check_size_for_family(self, size: tuple[int, int] | None) -> tuple[int, int] | None:
        if self.spec.needs_input_size and size is None:
            raise ValueError(
                f"{self.model_path}: input shape {show_shape(self._input.shape)} has a dynamic height/width; "
                f"the {self.family} family needs a fixed size: pass input_size=(H, W)"
            )
        return size

    def _set_thresholds(self, score_threshold: float | None, nms_iou: float | None) -> None:
        """Score and NMS thresholds: the caller's, else the family's defaults."""
        self.score_threshold = float(
            self.defaults.score_threshold if score_threshold is None else score_threshold
        )
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], got {score_threshold!r}")
        self.nms_iou: float | None = self.defaults.nms_iou if nms_iou is None else float(nms_iou)
        if self.nms_iou is not None and not 0.0 <= self.nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in [0, 1], got {nms_iou!r}")

    def _build_decoder(self) -> tuple[list[str], DecodeFn]:
        ctx = DecoderContext(self._outputs, self.input_size, self.embedding_dim)
        try:
            return self.spec.build_decoder(ctx)
        except LayoutMismatch as exc:
            raise ValueError(
                f"{self.model_path}: outputs do not match the {self.family} family ({exc}); outputs seen: "
                f"{_seen(self._outputs)}; input {show_shape(self._input.shape)}"
            ) from exc

    def _log_setup(self) -> None:
        logger.info(
            "detector %s: family %s, %s input %s %s (%s), score >= %.2f, NMS IoU %s, classes %s",
            self.model_path.name,
            self.family,
            self._input.layout,
            self._input.name,
            show_shape(self._input.shape),
            "frame size" if self.input_size is None else f"fed {self.input_size[0]}x{self.input_size[1]}",
            self.score_threshold,
            "off" if self.nms_iou is None else f"{self.nms_iou:.2f}",
            "all" if self.classes is None else self.classes.tolist(),
        )

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
