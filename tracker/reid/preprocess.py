"""How image crops are turned into a ReID model's input: :class:`PreprocessSpec` and cropping.

A spec says which channel order the model wants, how pixel values are scaled and normalised, and
optionally the input size (for models whose height/width are dynamic). It can travel with the model:

1. in the ONNX file's ``metadata_props`` under :data:`METADATA_KEY` as JSON (our own exports write it);
2. in a sidecar YAML file next to the model: ``osnet.onnx`` -> ``osnet.yaml``.

:func:`resolve_spec` applies the order explicit argument > model metadata > sidecar > default, where
the default is the torchreid/ImageNet convention (:data:`IMAGENET_SPEC`). Specs are never guessed from
file names.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import yaml
from numpy.typing import NDArray

from tracker.config import load_yaml

__all__ = [
    "IMAGENET_SPEC",
    "INTERPOLATIONS",
    "METADATA_KEY",
    "PreprocessSpec",
    "crop_and_resize",
    "resolve_spec",
    "sidecar_path",
]

logger = logging.getLogger(__name__)

METADATA_KEY = "tracker.preprocess"
"""Key in an ONNX model's ``metadata_props`` whose value is a :class:`PreprocessSpec` as JSON."""

INTERPOLATIONS: dict[str, int] = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "cubic": cv2.INTER_CUBIC,
}
"""Names accepted for :attr:`PreprocessSpec.interpolation` and the OpenCV flags they stand for."""

SpecSource = Literal["argument", "metadata", "sidecar", "default"]


def _floats3(name: str, value: Any) -> tuple[float, float, float]:
    try:
        vals = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected 3 numbers, got {value!r}") from None
    if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
        raise ValueError(f"{name}: expected 3 finite numbers, got {value!r}")
    return (vals[0], vals[1], vals[2])


@dataclass(frozen=True)
class PreprocessSpec:
    """Pixel preprocessing of a ReID model.

    The input pixel ``x`` (0-255, in :attr:`channel_order`) becomes ``(x * scale - mean[c]) / std[c]``.

    Attributes:
        channel_order: ``"RGB"`` or ``"BGR"``: the channel order the model expects (frames are BGR).
        scale: multiplies the 0-255 pixel values first (``1/255`` or ``1.0``); positive.
        mean: per-channel mean subtracted after scaling, in the model's channel order.
        std: per-channel standard deviation divided by after subtracting the mean; positive.
        input_size: ``(height, width)`` of the model input. Needed only when the model's own height
            and width are dynamic; when the model fixes them this must agree or be ``None``.
        interpolation: crop resize method, one of :data:`INTERPOLATIONS` (``"linear"`` = bilinear).
    """

    channel_order: Literal["RGB", "BGR"] = "RGB"
    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    input_size: tuple[int, int] | None = None
    interpolation: str = "linear"

    def __post_init__(self) -> None:
        if self.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order: expected 'RGB' or 'BGR', got {self.channel_order!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)):
            raise ValueError(f"scale: expected a number, got {self.scale!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale: must be finite and > 0, got {self.scale!r}")
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "mean", _floats3("mean", self.mean))
        std = _floats3("std", self.std)
        if min(std) <= 0:
            raise ValueError(f"std: must be > 0, got {std}")
        object.__setattr__(self, "std", std)
        if self.input_size is not None:
            size = tuple(self.input_size)
            if len(size) != 2 or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in size
            ):
                raise ValueError(
                    f"input_size: expected (height, width) positive integers, got {self.input_size!r}"
                )
            object.__setattr__(self, "input_size", (int(size[0]), int(size[1])))
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation: expected one of {sorted(INTERPOLATIONS)}, got {self.interpolation!r}"
            )

    @classmethod
    def from_dict(cls, data: Any, where: str = "preprocess spec") -> PreprocessSpec:
        """Build from a mapping with the field names as keys (all optional).

        Raises:
            ValueError: ``data`` is not a mapping, has unknown keys, or a value is invalid; the message
                starts with ``where``.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in set(data) - names)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(names)}")
        kwargs = dict(data)
        if kwargs.get("input_size") is not None:
            try:
                kwargs["input_size"] = tuple(kwargs["input_size"])
            except TypeError:
                raise ValueError(f"{where}: input_size: expected [height, width]") from None
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> PreprocessSpec:
        """Load from a YAML file holding a mapping of the fields (see :meth:`from_dict`).

        Raises:
            FileNotFoundError: the file does not exist.
            ValueError: invalid YAML, or an invalid spec (the message names the file).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"preprocess spec file not found: {path}")
        try:
            data = load_yaml(path.read_text())
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: invalid YAML: {exc}") from None
        return cls.from_dict({} if data is None else data, where=str(path))

    @classmethod
    def from_json(cls, text: str, where: str = "preprocess spec") -> PreprocessSpec:
        """Parse the JSON form written by :meth:`to_json` (e.g. from ONNX metadata)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON: {exc}") from None
        return cls.from_dict(data, where=where)

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (lists instead of tuples) that :meth:`from_dict` reads back."""
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        d["input_size"] = None if self.input_size is None else list(self.input_size)
        return d

    def to_json(self) -> str:
        """JSON text for ONNX ``metadata_props[METADATA_KEY]``."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def normalize(
        self, crops: NDArray[np.uint8], layout: Literal["NHWC", "NCHW"] = "NHWC"
    ) -> NDArray[np.float32]:
        """Apply channel order, scale and mean/std to resized crops.

        Args:
            crops: ``uint8[N,H,W,3]`` BGR crops.
            layout: ``"NHWC"`` or ``"NCHW"``: the layout of the result.

        Returns:
            ``float32[N,H,W,3]`` (NHWC) or ``float32[N,3,H,W]`` (NCHW), C-contiguous, channels in
            :attr:`channel_order`, ``(x * scale - mean) / std`` per channel.
        """
        if layout not in ("NHWC", "NCHW"):
            raise ValueError(f"layout: expected 'NHWC' or 'NCHW', got {layout!r}")
        n, h, w = crops.shape[:3]
        std = np.asarray(self.std, np.float64)
        gain = (self.scale / std).astype(np.float32)
        offset = (np.asarray(self.mean, np.float64) / std).astype(np.float32)
        sources = (2, 1, 0) if self.channel_order == "RGB" else (0, 1, 2)
        # One pass per channel straight into the output layout (7x faster than convert, flip, scale,
        # then transpose, each of which copied the whole batch).
        out = np.empty((n, 3, h, w) if layout == "NCHW" else (n, h, w, 3), np.float32)
        for c, src in enumerate(sources):
            dst = out[:, c] if layout == "NCHW" else out[..., c]
            np.multiply(crops[..., src], gain[c], out=dst)
            dst -= offset[c]
        return out


IMAGENET_SPEC = PreprocessSpec()
"""torchreid / ImageNet convention: RGB, ``/255``, ImageNet mean and std. The default."""


def sidecar_path(model_path: str | Path) -> Path:
    """The sidecar spec file of a model: ``dir/name.onnx`` -> ``dir/name.yaml``."""
    return Path(model_path).with_suffix(".yaml")


def resolve_spec(
    model_path: str | Path, explicit: PreprocessSpec | None, metadata: dict[str, str]
) -> tuple[PreprocessSpec, SpecSource]:
    """Pick the preprocessing of a model.

    Order: ``explicit`` > ``metadata[METADATA_KEY]`` (JSON) > sidecar YAML (:func:`sidecar_path`) >
    :data:`IMAGENET_SPEC`, with a warning that it was assumed.

    Args:
        model_path: the model file (names the sidecar; used in messages).
        explicit: a spec given by the caller, or ``None``.
        metadata: the model's ``metadata_props``.

    Returns:
        The spec and where it came from: ``"argument"``, ``"metadata"``, ``"sidecar"`` or ``"default"``.

    Raises:
        ValueError: the metadata entry or the sidecar exists but is invalid.
    """
    name = Path(model_path).name
    if explicit is not None:
        if not isinstance(explicit, PreprocessSpec):
            raise ValueError(f"spec: expected a PreprocessSpec, got {type(explicit).__name__}")
        logger.info("%s: preprocessing given by the caller: %s", name, explicit)
        return explicit, "argument"
    if METADATA_KEY in metadata:
        spec = PreprocessSpec.from_json(
            metadata[METADATA_KEY], where=f"{model_path} metadata {METADATA_KEY!r}"
        )
        logger.info("%s: preprocessing from model metadata: %s", name, spec)
        return spec, "metadata"
    side = sidecar_path(model_path)
    if side.is_file():
        spec = PreprocessSpec.from_yaml(side)
        logger.info("%s: preprocessing from sidecar %s: %s", name, side, spec)
        return spec, "sidecar"
    logger.warning(
        "%s: no preprocessing spec given, none in the model metadata (%r) and no sidecar %s; assuming the "
        "torchreid/ImageNet convention %s",
        name,
        METADATA_KEY,
        side.name,
        IMAGENET_SPEC,
    )
    return IMAGENET_SPEC, "default"


def crop_and_resize(
    image: NDArray[np.uint8],
    boxes: NDArray[np.float32],
    size: tuple[int, int],
    interpolation: str = "linear",
    pad: float = 0.0,
) -> NDArray[np.uint8]:
    """Cut boxes out of an image and resize each to ``size``.

    Boxes are enlarged by ``pad`` times their width/height on each side, clipped to the image and
    rounded outwards to whole pixels. A box that is empty or lies outside the image after clipping
    becomes a region of at least 1x1 pixel at the nearest image border, so this never fails.

    Args:
        image: ``uint8[H,W,3]`` BGR frame (``H, W >= 1``).
        boxes: ``float32[N,4]`` xyxy pixels, finite.
        size: ``(height, width)`` of the output crops.
        interpolation: a key of :data:`INTERPOLATIONS`.
        pad: relative enlargement of each box per side (``>= 0``).

    Returns:
        ``uint8[N,height,width,3]`` BGR crops.
    """
    h_img, w_img = image.shape[:2]
    out_h, out_w = size
    out = np.empty((len(boxes), out_h, out_w, 3), np.uint8)
    if len(boxes) == 0:
        return out
    b = boxes.astype(np.float64)
    if pad:
        bw, bh = (b[:, 2] - b[:, 0]) * pad, (b[:, 3] - b[:, 1]) * pad
        b = b + np.stack([-bw, -bh, bw, bh], axis=1)
    x1 = np.clip(np.floor(b[:, 0]), 0, w_img - 1).astype(np.int64)
    y1 = np.clip(np.floor(b[:, 1]), 0, h_img - 1).astype(np.int64)
    x2 = np.maximum(np.clip(np.ceil(b[:, 2]), 0, w_img).astype(np.int64), x1 + 1)
    y2 = np.maximum(np.clip(np.ceil(b[:, 3]), 0, h_img).astype(np.int64), y1 + 1)
    flag = INTERPOLATIONS[interpolation]
    for i in range(len(b)):
        crop = image[y1[i] : y2[i], x1[i] : x2[i]]
        out[i] = cv2.resize(crop, (out_w, out_h), interpolation=flag)
    return out
