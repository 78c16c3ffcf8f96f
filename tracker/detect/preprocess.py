"""Frame -> network input for detectors, and the transform that maps boxes back to the frame.

Three ways of bringing a frame to the network's input size, each returning the resized ``uint8``
image and a :class:`BoxTransform`:

* :func:`letterbox`: keep the aspect ratio, scale by ``r = min(H_in / h, W_in / w)`` and pad with a
  constant; ``center=False`` places the image at the top-left (YOLOX's ``preproc``), ``center=True``
  centres it (Ultralytics' ``LetterBox``);
* :func:`plain_resize`: stretch to the input size (NanoDet, TF object-detection-API SSD with a fixed
  input size);
* :func:`no_resize`: feed the frame as is (models with dynamic height/width).

:func:`make_blob` then turns the image into the tensor a model wants (channel order, layout, dtype,
scaling and normalisation).

A :class:`BoxTransform` maps input pixels to frame pixels as ``frame = (input - pad) / scale`` per
axis; :meth:`BoxTransform.to_input` is its inverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BoxTransform",
    "check_frame",
    "clip_boxes",
    "letterbox",
    "make_blob",
    "no_resize",
    "plain_resize",
]


def check_frame(frame: object) -> NDArray[np.uint8]:
    """Validate a frame: ``uint8[H,W,3]`` with ``H, W >= 1``; returns it unchanged.

    Raises:
        ValueError: anything else (the message gives the type, dtype and shape seen).
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"frame must be a uint8[H,W,3] numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"frame must be uint8[H,W,3] (BGR), got dtype {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"frame must be uint8[H,W,3] (BGR), got shape {frame.shape}")
    return frame


@dataclass(frozen=True)
class BoxTransform:
    """Affine per-axis map between frame pixels and network-input pixels.

    ``input_x = frame_x * scale_x + pad_x`` (same for ``y``).

    Attributes:
        scale_x: horizontal scale factor (input pixels per frame pixel).
        scale_y: vertical scale factor.
        pad_x: horizontal offset of the frame's left edge in the input, pixels.
        pad_y: vertical offset of the frame's top edge in the input, pixels.
        frame_size: ``(height, width)`` of the frame.
        input_size: ``(height, width)`` of the network input.
    """

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    frame_size: tuple[int, int]
    input_size: tuple[int, int]

    def to_frame(self, boxes: ArrayLike) -> NDArray[np.float32]:
        """``float[N,4]`` xyxy input pixels -> ``float32[N,4]`` xyxy frame pixels (not clipped)."""
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        scale = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], np.float32)
        return ((b - pad) / scale).astype(np.float32)

    def to_input(self, boxes: ArrayLike) -> NDArray[np.float32]:
        """``float[N,4]`` xyxy frame pixels -> ``float32[N,4]`` xyxy input pixels."""
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        scale = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], np.float32)
        return (b * scale + pad).astype(np.float32)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    h, w = (int(v) for v in size)
    if h < 1 or w < 1:
        raise ValueError(f"input size must be positive (height, width), got {tuple(size)}")
    return h, w


def _resize(frame: NDArray[np.uint8], w: int, h: int) -> NDArray[np.uint8]:
    if frame.shape[0] == h and frame.shape[1] == w:
        return frame
    return np.asarray(cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)


def letterbox(
    frame: NDArray[np.uint8], size: Sequence[int], pad_value: int = 114, center: bool = False
) -> tuple[NDArray[np.uint8], BoxTransform]:
    """Resize keeping the aspect ratio, then pad to ``size``.

    Args:
        frame: ``uint8[h,w,3]`` image.
        size: ``(H_in, W_in)`` network input size.
        pad_value: value of the padding pixels (114 for YOLOX and Ultralytics).
        center: ``False``: image at the top-left, padding right/bottom (YOLOX; resized size
            ``int(w * r), int(h * r)``); ``True``: image centred (Ultralytics; resized size
            ``round(w * r), round(h * r)``, left/top padding ``round(pad / 2 - 0.1)``).

    Returns:
        ``uint8[H_in,W_in,3]`` image and the transform back to ``frame`` pixels.
    """
    in_h, in_w = _check_size(size)
    h, w = frame.shape[:2]
    r = min(in_h / h, in_w / w)
    if center:
        new_w, new_h = max(1, round(w * r)), max(1, round(h * r))
        left = round((in_w - new_w) / 2 - 0.1)
        top = round((in_h - new_h) / 2 - 0.1)
    else:
        new_w, new_h = max(1, int(w * r)), max(1, int(h * r))
        left = top = 0
    out = np.full((in_h, in_w, 3), pad_value, np.uint8)
    out[top : top + new_h, left : left + new_w] = _resize(frame, new_w, new_h)
    tf = BoxTransform(new_w / w, new_h / h, float(left), float(top), (h, w), (in_h, in_w))
    return out, tf


def plain_resize(frame: NDArray[np.uint8], size: Sequence[int]) -> tuple[NDArray[np.uint8], BoxTransform]:
    """Stretch ``frame: uint8[h,w,3]`` to ``size = (H_in, W_in)`` (aspect ratio not kept).

    Returns:
        ``uint8[H_in,W_in,3]`` image and the transform back to ``frame`` pixels.
    """
    in_h, in_w = _check_size(size)
    h, w = frame.shape[:2]
    return _resize(frame, in_w, in_h), BoxTransform(in_w / w, in_h / h, 0.0, 0.0, (h, w), (in_h, in_w))


def no_resize(frame: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], BoxTransform]:
    """``frame: uint8[h,w,3]`` unchanged, with the identity transform."""
    h, w = frame.shape[:2]
    return frame, BoxTransform(1.0, 1.0, 0.0, 0.0, (h, w), (h, w))


def make_blob(
    image: NDArray[np.uint8],
    layout: Literal["NCHW", "NHWC"],
    dtype: np.dtype[Any],
    rgb: bool,
    scale: float = 1.0,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> NDArray[Any]:
    """Turn a BGR image into a batch-of-one model input.

    Args:
        image: ``uint8[H,W,3]`` BGR.
        layout: ``"NCHW"`` -> ``[1,3,H,W]``; ``"NHWC"`` -> ``[1,H,W,3]``.
        dtype: element type of the model input. Integer inputs get the raw (channel-swapped) pixels;
            ``scale``, ``mean`` and ``std`` apply only to float inputs.
        rgb: swap BGR to RGB.
        scale: pixel values are multiplied by this first (e.g. ``1/255``).
        mean: per-channel mean subtracted after scaling, in the model's channel order.
        std: per-channel standard deviation divided by after the mean, in the model's channel order.

    Returns:
        A contiguous array of ``dtype`` in the requested layout.
    """
    img = image[:, :, ::-1] if rgb else image
    if layout == "NCHW":
        img = img.transpose(2, 0, 1)
    # One contiguous uint8 copy in the final layout, then in-place float arithmetic.
    arr: NDArray[Any] = np.ascontiguousarray(img)[None]
    if dtype.kind != "f":
        return arr.astype(dtype, copy=False)
    x = arr.astype(np.float32)
    shape = (1, 3, 1, 1) if layout == "NCHW" else (1, 1, 1, 3)
    if mean is not None or scale != 1.0:
        offset = np.zeros(3, np.float32) if mean is None else np.asarray(mean, np.float32)
        # (x * scale - mean) / std  ==  (x - mean / scale) * (scale / std)
        if scale != 1.0:
            offset = (offset / scale).astype(np.float32)
        np.subtract(x, offset.reshape(shape), out=x)
    factor = np.full(3, scale, np.float32)
    if std is not None:
        factor = (factor / np.asarray(std, np.float32)).astype(np.float32)
    if (factor != 1.0).any():
        np.multiply(x, factor.reshape(shape), out=x)
    return x.astype(dtype, copy=False)


def clip_boxes(boxes: ArrayLike, frame_size: Sequence[int]) -> NDArray[np.float32]:
    """Clip ``float[N,4]`` xyxy boxes to a frame of ``(height, width)``; returns ``float32[N,4]``."""
    h, w = frame_size
    b = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    np.clip(b[:, 0::2], 0.0, float(w), out=b[:, 0::2])
    np.clip(b[:, 1::2], 0.0, float(h), out=b[:, 1::2])
    return b
