"""Public MOTChallenge detections (``det/det.txt``) as a :class:`~tracker.types.Detector`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..io.mot import MotDetections, ScoreNorm, read_detections
from ..types import Detections

__all__ = ["MotFileDetector"]


class MotFileDetector:
    """Reads a ``det.txt`` once and serves each frame's rows.

    Scores are normalised into ``[0, 1]`` over the range of the WHOLE file (see
    :func:`tracker.io.mot.normalise_scores`), so a score means the same in every frame: MOT17's FRCNN
    scores (already in ``[0, 1]``) are unchanged with ``"auto"``, MOT15's ACF scores (about 0-100) are
    min-max scaled. Class ids are 0 (person).

    Args:
        path: the ``det.txt`` file (7 or 10 columns).
        score_norm: ``"auto"``, ``"minmax"`` or ``"none"`` (clip).
        min_score: rows whose normalised score is below this are dropped (0 keeps all).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed row (``"{path}:{lineno}: ..."``) or an invalid option.
    """

    def __init__(self, path: str | Path, score_norm: ScoreNorm = "auto", min_score: float = 0.0) -> None:
        if score_norm not in ("auto", "none", "minmax"):
            raise ValueError(f"score_norm must be 'auto', 'none' or 'minmax', got {score_norm!r}")
        if not (np.isfinite(min_score) and 0.0 <= min_score <= 1.0):
            raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
        self.path = Path(path)
        self.score_norm: ScoreNorm = score_norm
        self.min_score = float(min_score)
        self._dets: MotDetections = read_detections(self.path)

    @property
    def last_frame(self) -> int:
        """Largest frame number with a detection (0 for an empty file)."""
        return self._dets.last_frame

    @property
    def score_range(self) -> tuple[float, float]:
        """``(min, max)`` raw score over the file."""
        return self._dets.score_range

    def detect(self, frame: NDArray[np.uint8] | None, frame_index: int) -> Detections:
        """Detections of frame ``frame_index``.

        Args:
            frame: ignored (may be ``None`` when no images are available, e.g. MOT17 without ``img1``).
            frame_index: 1-based frame number as in the file.

        Returns:
            Boxes ``float32[N,4]`` xyxy pixels, scores in ``[0, 1]``, class ids 0; empty for a frame
            with no rows.

        Raises:
            ValueError: ``frame_index`` is not an integer >= 1.
        """
        if isinstance(frame_index, bool) or not isinstance(frame_index, (int, np.integer)) or frame_index < 1:
            raise ValueError(
                f"frame_index must be an integer >= 1 (MOTChallenge frames are 1-based), got {frame_index!r}"
            )
        dets = self._dets.detections(int(frame_index), self.score_norm)
        if self.min_score > 0.0:
            dets = dets.subset(dets.scores >= self.min_score)
        return dets

    def __repr__(self) -> str:
        return f"MotFileDetector({str(self.path)!r}, score_norm={self.score_norm!r})"
