"""Linking thresholds that calibrate themselves to the appearance model, from the run's own statistics.

Cosine distances of one model are not those of another (OSNet x0.25 puts two crops of one person at
~0.1-0.2, our MobileNetV2 model at a different scale), so a fixed ``max_appearance_distance`` tuned for
one model is wrong for the next. The manager therefore gathers, online and in bounded memory, two
kinds of distances that need no ground truth:

* **same person** (positives): within one camera, the summary of a tracklet's first
  ``min_tracklet_frames`` observations against the summary of its latest ``min_tracklet_frames``
  observations, sampled when the tracklet reaches ``2n, 4n, 8n, ...`` observations (so the two
  ends are further apart each time); and, for the split threshold, each per-frame embedding against
  its tracklet's running appearance;
* **different people** (negatives): tracklets of the SAME camera observed at the same time are
  different people: at each decision, the new tracklet's summary against every other tracklet of its
  camera concurrently in view (summaries as of the decision time); and, for the split threshold, a
  per-frame embedding against the running appearance of another track in the same frame.

From the latest ``window`` samples of each kind (:class:`DistanceSample`; link samples up to the
decision time, split samples of the track's own camera), thresholds are placed
between the two distributions: with ``p`` the ``upper_quantile`` of the positives and ``q`` the
``lower_quantile`` of the negatives,

    threshold = p + position * (q - p)         (clipped to [min_distance, max_distance])

i.e. a fixed fraction of the way from "far for one person" to "close for two people". Within-camera
positives are easier than cross-camera ones, so the link ``position`` is set past the middle. When
the distributions overlap (``q <= p``) the threshold is ``q``: only links that are rarer between
different people than the lower quantile survive. Until ``min_samples`` of each kind are gathered
the configured fixed values are used, except that the linking threshold is first taken from the
per-frame (split) statistics of all cameras, which fill within seconds and, for the models measured,
sit on the same scale as the tracklet statistics (``link_source`` in the summary says which).

Defaults (``MultiCamConfig``): both quantiles 0.5 and position 0.5, i.e. the midpoint between the
median same-track and the median concurrent-track distance. On the default PETS09 cut this lands at
0.30 (link) / 0.32 (split) for OSNet x0.25, the values hand-tuned for it before, and at 0.17 / 0.17
for our MobileNetV2 model, whose distances are about half as large.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CalibrationRule",
    "CalibrationSettings",
    "CalibrationState",
    "DistanceSample",
    "calibrated_threshold",
]


@dataclass(frozen=True)
class CalibrationRule:
    """Where a threshold sits between the same-person and different-people distance distributions.

    Attributes:
        upper_quantile: quantile of the same-person distances taken as "far for one person".
        lower_quantile: quantile of the different-people distances taken as "close for two people".
        position: ``0`` puts the threshold at the positives' quantile, ``1`` at the negatives'.
    """

    upper_quantile: float
    lower_quantile: float
    position: float


class DistanceSample:
    """The latest ``window`` distances of one kind with the time each was observed (a bounded FIFO;
    memory is ``O(window)``). Quantiles can be taken over the samples up to a time, so that a decision
    at ``T`` does not depend on how frames after ``T`` interleave."""

    def __init__(self, window: int) -> None:
        self._times: deque[float] = deque(maxlen=window)
        self._values: deque[float] = deque(maxlen=window)
        self.seen = 0
        """Distances added in total (also those that fell out of the window)."""

    def add(self, t: float, distance: float) -> None:
        """Record one cosine distance observed at time ``t`` (non-finite distances are ignored)."""
        if math.isfinite(distance):
            self._times.append(float(t))
            self._values.append(float(distance))
            self.seen += 1

    def __len__(self) -> int:
        return len(self._values)

    def values(self, until: float = math.inf) -> NDArray[np.float64]:
        """``float64[K]`` the distances in the window observed at or before ``until``."""
        v = np.fromiter(self._values, np.float64, len(self._values))
        if until == math.inf:
            return v
        return v[np.fromiter(self._times, np.float64, len(self._times)) <= until]


def _pooled(samples: Iterable[DistanceSample], until: float) -> NDArray[np.float64]:
    parts = [s.values(until) for s in samples]
    return np.concatenate(parts) if parts else np.zeros(0, np.float64)


def calibrated_threshold(
    positives: NDArray[np.float64],
    negatives: NDArray[np.float64],
    rule: CalibrationRule,
    bounds: tuple[float, float],
) -> float:
    """The threshold of ``rule`` between same-person distances ``positives`` (``float64[P]``, P >= 1)
    and different-people distances ``negatives`` (``float64[Q]``, Q >= 1), clipped to ``bounds``."""
    p = float(np.quantile(positives, rule.upper_quantile))
    q = float(np.quantile(negatives, rule.lower_quantile))
    t = q if q <= p else p + rule.position * (q - p)
    return float(min(max(t, bounds[0]), bounds[1]))


@dataclass(frozen=True)
class CalibrationSettings:
    """What calibration needs of :class:`~tracker.multicam.MultiCamConfig` (see its fields)."""

    enabled: bool
    min_samples: int
    window: int
    link_rule: CalibrationRule
    split_rule: CalibrationRule
    bounds: tuple[float, float]
    link_fixed: float
    split_fixed: float | None
    recompute_every: int = 100
    """A camera's split threshold is recomputed every this many new samples of that camera."""


class CalibrationState:
    """The online statistics of one manager and the thresholds derived from them.

    Link statistics are shared by all cameras (a link joins two of them); split statistics are kept
    per camera (a split looks at one camera's track, and a camera's own frames arrive in time order, so
    its split threshold does not depend on how cameras interleave).
    """

    def __init__(self, settings: CalibrationSettings) -> None:
        self.settings = settings
        self.link_positive = DistanceSample(settings.window)
        self.link_negative = DistanceSample(settings.window)
        self.split_positive: dict[str, DistanceSample] = {}
        self.split_negative: dict[str, DistanceSample] = {}
        self.link_threshold = settings.link_fixed
        """The linking threshold of the latest decision."""
        self.link_calibrated = False
        self.link_source = "fixed"
        """Where the latest linking threshold came from: ``"tracklets"`` (link statistics),
        ``"per_frame"`` (the split statistics of all cameras, while link statistics are too few) or
        ``"fixed"``."""
        self._split: dict[str, float] = {}
        self._split_stamp: dict[str, int] = {}

    def add_split(self, camera: str, t: float, distance: float, same_track: bool) -> None:
        """A per-frame split distance of ``camera`` (same track, or against another track in view)."""
        store = self.split_positive if same_track else self.split_negative
        if camera not in store:
            store[camera] = DistanceSample(self.settings.window)
        store[camera].add(t, distance)

    def link_threshold_at(self, t: float) -> float:
        """Linking threshold for a decision at ``t``, from the link samples observed up to ``t`` (the
        fixed value until ``min_samples`` of each kind are in, or with calibration off)."""
        s = self.settings
        self.link_source = "fixed"
        self.link_threshold = s.link_fixed
        if s.enabled:
            pos, neg = self.link_positive.values(t), self.link_negative.values(t)
            if len(pos) < s.min_samples or len(neg) < s.min_samples:
                # early in the run: the per-frame statistics of all cameras (they come much faster)
                pos = _pooled(self.split_positive.values(), t)
                neg = _pooled(self.split_negative.values(), t)
                source = "per_frame"
            else:
                source = "tracklets"
            if len(pos) >= s.min_samples and len(neg) >= s.min_samples:
                self.link_threshold = calibrated_threshold(pos, neg, s.link_rule, s.bounds)
                self.link_calibrated = True
                self.link_source = source
        return self.link_threshold

    def split_threshold(self, camera: str) -> float | None:
        """Split threshold of ``camera`` now (``None``: splits off; the fixed value until calibrated)."""
        s = self.settings
        if s.split_fixed is None:
            return None
        if not s.enabled:
            return s.split_fixed
        pos, neg = self.split_positive.get(camera), self.split_negative.get(camera)
        if pos is None or neg is None or len(pos) < s.min_samples or len(neg) < s.min_samples:
            return s.split_fixed
        stamp = pos.seen + neg.seen
        if camera not in self._split or stamp - self._split_stamp[camera] >= s.recompute_every:
            self._split[camera] = calibrated_threshold(pos.values(), neg.values(), s.split_rule, s.bounds)
            self._split_stamp[camera] = stamp
        return self._split[camera]

    def as_dict(self) -> dict[str, object]:
        """The thresholds in use and the statistics behind them (for ``multicam_summary.json``)."""

        def med(v: NDArray[np.float64]) -> float | None:
            return round(float(np.median(v)), 4) if len(v) else None

        return {
            "calibrate": self.settings.enabled,
            "max_appearance_distance": round(self.link_threshold, 4),
            "link_calibrated": self.link_calibrated,
            "link_source": self.link_source,
            "split_appearance_distance": {
                cam: None if (v := self.split_threshold(cam)) is None else round(v, 4)
                for cam in sorted(set(self.split_positive) | set(self.split_negative))
            },
            "samples": {
                "link_same_track": self.link_positive.seen,
                "link_concurrent_tracks": self.link_negative.seen,
                "split_same_track": sum(s.seen for s in self.split_positive.values()),
                "split_concurrent_tracks": sum(s.seen for s in self.split_negative.values()),
            },
            "median_distance": {
                "link_same_track": med(self.link_positive.values()),
                "link_concurrent_tracks": med(self.link_negative.values()),
            },
        }
