"""Stage timers of the frame pipeline: seconds per stage, and an embedder wrapper that times itself."""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from ..types import Embedder

__all__ = ["STAGES", "StageClock", "TimedEmbedder"]

STAGES = ("decode", "detect", "embed", "track", "write")
"""Timed stages. ``track`` excludes the time spent in the embedder (``embed``); ``write`` is every sink
(result files, drawing, video encoding, display)."""


class StageClock:
    """Seconds spent per stage (:data:`STAGES`), summed over frames (and over streams when shared)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    @staticmethod
    def now() -> float:
        """A monotonic time in seconds (``time.perf_counter``)."""
        return time.perf_counter()

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage`` (one of :data:`STAGES`)."""
        self.seconds[stage] += seconds


class TimedEmbedder:
    """Wraps an :class:`~tracker.types.Embedder` and sums the time spent in ``embed`` in :attr:`seconds`
    (the tracker calls the embedder inside ``update``; the pipeline books that time as ``embed``)."""

    def __init__(self, inner: Embedder) -> None:
        if not callable(getattr(inner, "embed", None)):
            raise TypeError("embedder must have an embed(image, boxes) method")
        self.inner = inner
        self.seconds = 0.0

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    @property
    def model_path(self) -> object:
        """The wrapped model's path (``None`` when it has none)."""
        return getattr(self.inner, "model_path", None)

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """``inner.embed(image uint8[H,W,3] BGR, boxes float32[N,4] xyxy px) -> float32[N,D]``, timed."""
        start = time.perf_counter()
        try:
            return self.inner.embed(image, boxes)
        finally:
            self.seconds += time.perf_counter() - start
