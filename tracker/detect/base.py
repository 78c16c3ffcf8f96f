"""The detector protocol: one frame in, :class:`~tracker.types.Detections` out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ..types import Detections

__all__ = ["Detector"]


@runtime_checkable
class Detector(Protocol):
    """Anything that turns a frame into detections.

    ``detect(frame, frame_index)``: ``frame`` is ``uint8[H,W,3]`` BGR (as OpenCV decodes it);
    ``frame_index`` is the 1-based index of the frame in its stream (file-backed detectors such as
    public ``det.txt`` detections use it; model-based ones ignore it). Returns
    :class:`~tracker.types.Detections` with boxes ``float32[N,4]`` xyxy pixels of ``frame``, scores in
    ``[0,1]``, class ids, and embeddings ``float32[N,D]`` for joint detection-embedding (JDE) models.
    """

    def detect(self, frame: NDArray[np.uint8], frame_index: int) -> Detections: ...
