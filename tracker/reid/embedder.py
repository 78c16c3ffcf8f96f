"""Appearance embedders: the :class:`Embedder` protocol and :class:`OnnxEmbedder` (any ONNX ReID model).

An embedder turns the boxes of one frame into L2-normalised appearance vectors that the association
compares by cosine distance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tracker.onnx_utils import ImageInput, describe_outputs, inspect_image_input, make_session, model_metadata
from tracker.reid.preprocess import PreprocessSpec, SpecSource, crop_and_resize, resolve_spec
from tracker.types import Embedder

__all__ = ["Embedder", "OnnxEmbedder", "l2_normalize"]

logger = logging.getLogger(__name__)

_FLOAT_OUTPUTS = frozenset({"tensor(float)", "tensor(float16)", "tensor(double)"})
"""ONNX element types accepted for the embedding output."""

MAX_EMBEDDING_DIM = 16384
"""Largest embedding dimension accepted. ReID models give 128-2048 values per crop (MGN's eight
concatenated 2,048-d branches, 16,384, is the largest in common use); a first output far above that
is another kind of model. A person detector (OpenVINO's pedestrian-detection-adas-0002, whose first
output ``mbox_loc`` holds 48,512 box offsets) was otherwise accepted and tracked with box offsets as
"appearance"."""


def l2_normalize(x: NDArray[np.floating]) -> NDArray[np.float32]:
    """Rows of ``float[N,D]`` scaled to unit L2 norm (all-zero rows stay zero); ``float32[N,D]``.

    Computed in float64 after dividing each row by its largest magnitude, so rows with huge values
    (up to the float64 maximum) keep their direction instead of overflowing to zeros.

    Raises:
        ValueError: ``x`` is not 2-D, or a row holds NaN or inf (the message names the row).
    """
    a = np.asarray(x, np.float64)
    if a.ndim != 2:
        raise ValueError(f"embeddings: expected float[N,D], got shape {a.shape}")
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        raise ValueError(f"embeddings: row {int(np.argmax(bad))} has non-finite values (NaN or inf)")
    if a.size == 0:
        return a.astype(np.float32)
    scale = np.abs(a).max(axis=1, keepdims=True)
    unit = a / np.where(scale > 0, scale, 1.0)
    norms = np.linalg.norm(unit, axis=1, keepdims=True)
    return (unit / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _check_image(image: object) -> NDArray[np.uint8]:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image: expected a numpy array uint8[H,W,3], got {type(image).__name__}")
    if (
        image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != 3
        or image.shape[0] < 1
        or image.shape[1] < 1
    ):
        raise ValueError(f"image: expected uint8[H,W,3] BGR, got {image.dtype}{list(image.shape)}")
    return image


def _check_boxes(boxes: object) -> NDArray[np.float32]:
    try:
        b = np.asarray(boxes, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"boxes: cannot convert to float32 ({exc})") from None
    if b.size == 0:
        return np.zeros((0, 4), np.float32)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes: expected float32[N,4] xyxy, got shape {b.shape}")
    bad = ~np.isfinite(b).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"boxes: non-finite coordinates in row {i}: {b[i]}")
    return b


class OnnxEmbedder:
    """A ReID model in ONNX format run with ONNX Runtime.

    The model must have one image input of rank 4, ``[N,3,H,W]`` (NCHW) or ``[N,H,W,3]`` (NHWC), with a
    fixed or dynamic batch, and one (the first) output ``[N,D]``. Crops are resized to the model's
    ``H x W`` (or ``spec.input_size`` when the model leaves them dynamic), converted to the spec's
    channel order, scaled and normalised, then run in batches: chunks of ``batch_size`` for dynamic-batch
    models, chunks of the fixed batch otherwise (the last one padded).

    Preprocessing comes from ``spec``, else the model's metadata (``tracker.preprocess``), else a
    sidecar ``<model>.yaml``, else the torchreid/ImageNet default with a warning; see
    :func:`tracker.reid.preprocess.resolve_spec`. :attr:`spec_source` says which was used.

    Args:
        model_path: the ``.onnx`` file.
        spec: explicit preprocessing, or ``None`` to look it up as above.
        providers: ONNX Runtime execution providers, ``None`` = CUDA if available, else CPU.
        batch_size: crops per inference call for dynamic-batch models (``>= 1``).
        crop_pad: each box is enlarged by this fraction of its width/height per side before cropping.
        threads: intra-op threads for ONNX Runtime, ``None`` = its default.

    Raises:
        FileNotFoundError: no file at ``model_path``.
        ValueError: the file is not a usable ONNX ReID model (wrong input rank, no channel dimension of
            3, dynamic height/width without ``spec.input_size``, output not a float ``[N,D]``, or a probe
            run on a blank crop that returns another shape than declared or NaN/inf); the message names
            the file and the shape seen. Also for invalid arguments.
    """

    def __init__(
        self,
        model_path: str | Path,
        spec: PreprocessSpec | None = None,
        providers: Sequence[str] | None = None,
        batch_size: int = 32,
        crop_pad: float = 0.0,
        threads: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not (np.isfinite(crop_pad) and crop_pad >= 0):
            raise ValueError(f"crop_pad must be finite and >= 0, got {crop_pad!r}")
        self.model_path = Path(model_path)
        self._session = make_session(self.model_path, providers, threads)
        self._input: ImageInput = inspect_image_input(self._session, self.model_path)
        if self._input.dtype.kind != "f":
            raise ValueError(
                f"{self.model_path}: input {self._input.name!r} has element type {self._input.dtype}; "
                "expected a float tensor"
            )
        self.spec: PreprocessSpec
        self.spec_source: SpecSource
        self.spec, self.spec_source = resolve_spec(self.model_path, spec, model_metadata(self._session))
        self._size = self._resolve_size()
        outputs = describe_outputs(self._session)
        out = outputs[0]
        if out.rank != 2:
            shape = ["?" if d is None else d for d in out.shape]
            raise ValueError(
                f"{self.model_path}: output {out.name!r} has shape {shape}; expected rank 2 [N,D]"
            )
        if out.type not in _FLOAT_OUTPUTS:
            raise ValueError(
                f"{self.model_path}: output {out.name!r} has element type {out.type}; expected a float tensor"
            )
        if len(outputs) > 1:
            logger.debug("%s: %d outputs, using the first (%s)", self.model_path.name, len(outputs), out.name)
        if self._input.batch is not None and out.shape[0] not in (None, self._input.batch):
            raise ValueError(
                f"{self.model_path}: output batch {out.shape[0]} differs from input batch {self._input.batch}"
            )
        self._output_name = out.name
        self.batch_size = batch_size
        self.crop_pad = float(crop_pad)
        self._dim = self._probe_dim(out.shape[1])
        logger.info(
            "ReID model %s: %s input %s, batch %s, %dx%d, %d-d embeddings",
            self.model_path.name,
            self._input.layout,
            self._input.name,
            "dynamic" if self._input.batch is None else self._input.batch,
            self._size[0],
            self._size[1],
            self._dim,
        )

    def _resolve_size(self) -> tuple[int, int]:
        h, w = self._input.height, self._input.width
        want = self.spec.input_size
        shape = ["?" if d is None else d for d in self._input.shape]
        if h is None or w is None:
            if want is None:
                raise ValueError(
                    f"{self.model_path}: input {self._input.name!r} has shape {shape} with dynamic height/"
                    "width; give PreprocessSpec.input_size"
                )
            if (h is not None and h != want[0]) or (w is not None and w != want[1]):
                raise ValueError(
                    f"{self.model_path}: input shape {shape} conflicts with spec.input_size {want}"
                )
            return want
        if want is not None and want != (h, w):
            raise ValueError(
                f"{self.model_path}: input shape {shape} is fixed; spec.input_size {want} differs"
            )
        return (h, w)

    def _probe_dim(self, declared: int | None) -> int:
        """Run the model once on a blank crop: the output must be ``[n, D]`` with
        ``1 <= D <= MAX_EMBEDDING_DIM`` equal to the declared ``D`` (when fixed) and finite; returns ``D``."""
        n = self._input.batch or 1
        dummy = np.zeros((n, self._size[0], self._size[1], 3), np.uint8)
        y = self._run(dummy)
        dim = int(y.shape[1])
        if dim < 1 or (declared is not None and dim != declared):
            raise ValueError(
                f"{self.model_path}: output {self._output_name!r} declares {declared if declared else '?'} "
                f"dimensions but the model returned shape {list(y.shape)} for a blank crop"
            )
        if dim > MAX_EMBEDDING_DIM:
            raise ValueError(
                f"{self.model_path}: output {self._output_name!r} has {dim} values per crop, more than any "
                f"ReID embedding ({MAX_EMBEDDING_DIM} at most): is this a ReID model? (a detector's "
                "box output looks like this)"
            )
        if not np.isfinite(y).all():
            raise ValueError(
                f"{self.model_path}: the model outputs non-finite values (NaN or inf) for a blank crop; "
                "the file is broken or does not fit its preprocessing"
            )
        return dim

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        """Embedding dimension ``D``."""
        return self._dim

    @property
    def layout(self) -> Literal["NCHW", "NHWC"]:
        """Input layout of the model."""
        return self._input.layout

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` crops are resized to."""
        return self._size

    @property
    def fixed_batch(self) -> int | None:
        """The model's fixed batch size, or ``None`` when dynamic."""
        return self._input.batch

    @property
    def providers(self) -> list[str]:
        """Execution providers ONNX Runtime uses for this model."""
        return list(self._session.get_providers())

    def __repr__(self) -> str:
        return (
            f"OnnxEmbedder({self.model_path.name!r}, layout={self.layout}, input_size={self._size}, "
            f"batch={self.fixed_batch or 'dynamic'}, dim={self._dim}, spec={self.spec_source})"
        )

    # ------------------------------------------------------------------ inference
    def _run(self, crops: NDArray[np.uint8]) -> NDArray[np.float64]:
        """``uint8[B,h,w,3]`` BGR crops (B = one model call) -> raw ``float64[B,D]`` outputs (float64 so
        that no finite output of a float64 model overflows here)."""
        x = self.spec.normalize(crops, self._input.layout)
        x = x.astype(self._input.dtype, copy=False)
        (y,) = self._session.run([self._output_name], {self._input.name: x})
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[0] != len(crops):
            raise ValueError(
                f"{self.model_path}: model returned shape {list(y.shape)} for {len(crops)} crops; "
                "expected [N,D]"
            )
        return y.astype(np.float64, copy=False)

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """Embed the image regions under ``boxes``.

        Args:
            image: ``uint8[H,W,3]`` BGR frame.
            boxes: ``float32[N,4]`` xyxy pixels, finite; parts outside the image are clipped away, and
                a box left empty by clipping uses a 1-pixel region at the border.

        Returns:
            ``float32[N,D]`` L2-normalised embeddings (``float32[0,D]`` for ``N = 0``).

        Raises:
            ValueError: ``image`` is not ``uint8[H,W,3]`` or ``boxes`` is not a finite ``[N,4]`` array;
                or the model returns another shape than ``[N,D]`` or non-finite values (NaN/inf) — the
                message names the model file and the first bad box.
        """
        img = _check_image(image)
        b = _check_boxes(boxes)
        if len(b) == 0:
            return np.zeros((0, self._dim), np.float32)
        crops = crop_and_resize(img, b, self._size, self.spec.interpolation, self.crop_pad)
        return self._embed_resized(crops, lambda i: f"box {i} {b[i].tolist()}", "boxes")

    def embed_crops(self, crops: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Embed whole images (e.g. person crops already cut out), resized to :attr:`input_size` here
        when they have another size.

        Args:
            crops: ``uint8[N,h,w,3]`` BGR images.

        Returns:
            ``float32[N,D]`` L2-normalised embeddings.

        Raises:
            ValueError: ``crops`` is not ``uint8[N,h,w,3]``; or the model's output is malformed or
                non-finite (the message names the model file and the first bad crop).
        """
        if (
            not isinstance(crops, np.ndarray)
            or crops.dtype != np.uint8
            or crops.ndim != 4
            or crops.shape[3] != 3
        ):
            raise ValueError(
                f"crops: expected uint8[N,h,w,3] BGR images, got {getattr(crops, 'dtype', type(crops).__name__)}"
                f"{list(getattr(crops, 'shape', []))}"
            )
        if len(crops) == 0:
            return np.zeros((0, self._dim), np.float32)
        h, w = crops.shape[1:3]
        if (h, w) != self._size:
            full = np.array([[0, 0, w, h]], np.float32).repeat(len(crops), 0)
            crops = np.stack(
                [crop_and_resize(c, full[:1], self._size, self.spec.interpolation, 0)[0] for c in crops]
            )
        return self._embed_resized(np.ascontiguousarray(crops), lambda i: f"crop {i}", "crops")

    def _embed_resized(
        self, crops: NDArray[np.uint8], name: Callable[[int], str], items: str
    ) -> NDArray[np.float32]:
        """``uint8[N,H,W,3]`` crops at the input size -> ``float32[N,D]`` L2-normalised, in model-sized
        chunks (the last padded for a fixed-batch model); ``name(i)`` names item ``i`` in errors, ``items``
        what they are."""
        n = len(crops)
        chunk = self._input.batch or self.batch_size
        out = np.empty((n, self._dim), np.float64)
        for start in range(0, n, chunk):
            part = crops[start : start + chunk]
            k = len(part)
            if self._input.batch is not None and k < chunk:
                part = np.concatenate([part, np.zeros((chunk - k, *part.shape[1:]), np.uint8)])
            y = self._run(part)[:k]
            if y.shape[1] != self._dim:
                raise ValueError(
                    f"{self.model_path}: model returned {y.shape[1]}-d outputs, expected {self._dim}"
                )
            out[start : start + k] = y
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{self.model_path}: the model output non-finite values (NaN or inf) for {name(i)} "
                f"({int(bad.sum())} of {n} {items}); the model file is broken or does not "
                "fit its preprocessing"
            )
        return l2_normalize(out)
