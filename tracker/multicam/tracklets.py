"""Per-camera tracklets: the observations of one local track and their appearance summary.

A tracklet is one per-camera track (``camera``, local track id) as reported frame by frame. Its summary
is the quality-weighted mean of the L2-normalised per-frame embeddings (weight = detection score times
the square root of the box area, so small, uncertain boxes count less), re-normalised to unit length.
Summaries can be taken "as of" a time, using only the observations up to it; the identity manager
uses this so that its decisions do not depend on how frames of different cameras interleave.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from ..reid.gallery import observation_weight, observation_weights

__all__ = [
    "Tracklet",
    "TrackletSummary",
    "observation_weights",
    "summarize_embeddings",
    "summarize_unit_rows",
    "unit_rows",
    "vector_norm",
]


def vector_norm(x: NDArray[np.floating]) -> float:
    """``float(np.linalg.norm(x))`` of a real 1-D vector, the same arithmetic (``sqrt(x.x)`` in
    ``x``'s dtype) without its per-call overhead (it runs for every observation)."""
    return float(np.sqrt(x.dot(x)))


def summarize_embeddings(
    embeddings: NDArray[np.floating], weights: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Weighted mean of L2-normalised rows, re-normalised.

    Args:
        embeddings: ``float[K,D]`` (rows are normalised here first), ``K >= 1``.
        weights: ``float[K]`` non-negative; all zeros falls back to the plain mean.

    Returns:
        ``float32[D]`` unit vector (zeros if every row is zero).
    """
    return summarize_unit_rows(unit_rows(embeddings), weights)


def unit_rows(embeddings: NDArray[np.floating]) -> NDArray[np.float64]:
    """``float64[K,D]``: the rows of ``embeddings`` (``float[K,D]``) scaled to unit length (zero rows
    stay zero). Each row's result does not depend on the other rows, so rows may be normalised in
    blocks as they arrive."""
    e = np.asarray(embeddings, np.float64)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def summarize_unit_rows(units: NDArray[np.float64], weights: NDArray[np.floating]) -> NDArray[np.float32]:
    """:func:`summarize_embeddings` of rows already normalised by :func:`unit_rows`."""
    w = np.asarray(weights, np.float64).reshape(-1)
    if not (w.sum() > 0):
        w = np.ones(len(units))
    return _finish_summary((w[:, None] * units).sum(axis=0), w)


def _finish_summary(weighted_sum: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float32]:
    """The weighted mean ``weighted_sum / sum(weights)`` (``float64[D]``, ``float64[K]``) re-normalised."""
    m = weighted_sum / weights.sum()
    return (m / max(float(np.linalg.norm(m)), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class TrackletSummary:
    """What the identity manager compares: one tracklet condensed.

    Attributes:
        camera: camera id.
        local_id: the per-camera tracker's track id.
        global_id: the global identity it carries now.
        embedding: ``float32[D]`` unit-length appearance summary, or ``None`` without embeddings.
        quality: mean detection score of the observations used.
        num_frames: number of observations used.
        first_t: timestamp of the first observation (seconds).
        last_t: timestamp of the last observation used.
        last_box: ``float32[4]`` xyxy box of the last observation used.
        first_box: ``float32[4]`` xyxy box of the first observation.
    """

    camera: str
    local_id: int
    global_id: int
    embedding: NDArray[np.float32] | None
    quality: float
    num_frames: int
    first_t: float
    last_t: float
    last_box: NDArray[np.float32]
    first_box: NDArray[np.float32]


@dataclass(eq=False)
class Tracklet:
    """All observations of one per-camera track, plus the manager's bookkeeping.

    Attributes:
        camera: camera id.
        local_id: per-camera track id.
        global_id: current global id (provisional until :attr:`decided`).
        times: observation timestamps, increasing.
        boxes: ``float32[4]`` xyxy per observation.
        scores: detection score per observation.
        embeddings: ``float32[D]`` per observation, or ``None`` where none was available.
        segment: 0 for the first tracklet of a local track, k for its k-th re-acquisition after a gap.
        decided: whether the global id is final.
        claimed: whether a later tracklet continued this identity (it is no longer a candidate).
        linked_from: ``(camera, local_id)`` of the tracklet whose identity it took, if any.
        distance: appearance distance of that link (``nan`` if none).
    """

    camera: str
    local_id: int
    global_id: int
    segment: int = 0
    times: list[float] = field(default_factory=list)
    boxes: list[NDArray[np.float32]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    embeddings: list[NDArray[np.float32] | None] = field(default_factory=list)
    decided: bool = False
    claimed: bool = False
    linked_from: tuple[str, int] | None = None
    distance: float = float("nan")
    ref_sum: NDArray[np.float64] | None = None
    """Running weighted sum of the unit embeddings that did not deviate (the split reference)."""
    ref_count: int = 0
    """Observations with embeddings in :attr:`ref_sum`."""
    streak: int = 0
    """Trailing observations whose embeddings deviate from the reference (held out of it)."""
    streak_start: int = 0
    """Index of the first observation of the current deviating streak."""
    released: bool = False
    """The manager no longer needs the observations (see :meth:`release`)."""
    _prefix: NDArray[np.float64] | None = field(default=None, repr=False)
    """Buffer of running sums: row ``r`` = sum over the first ``r + 1`` observations that have an
    embedding of weight x unit embedding (:func:`unit_rows`); the first :attr:`_units_n` rows are
    filled (see :meth:`_embedded`)."""
    _unit_weights: NDArray[np.float64] | None = field(default=None, repr=False)
    """:func:`observation_weights` of the same observations."""
    _unit_index: list[int] = field(default_factory=list, repr=False)
    """Observation index of each filled row."""
    _units_n: int = field(default=0, repr=False)
    _units_seen: int = field(default=0, repr=False)
    """Observations already scanned into the buffer."""
    _summary_memo: tuple[int, TrackletSummary] | None = field(default=None, repr=False)
    """The latest summary and its observation count (a prefix of the observations never changes:
    they are only appended to or cut at the end, so it stays valid for that count)."""

    _ref_memo: NDArray[np.float64] | None = field(default=None, repr=False)
    """:meth:`reference` of the current :attr:`ref_sum` (reset whenever it changes)."""

    def reference(self) -> NDArray[np.float64] | None:
        """Unit-length running appearance ``float64[D]`` of the non-deviating observations, or None."""
        if self._ref_memo is not None:
            return self._ref_memo
        if self.ref_sum is None:
            return None
        n = vector_norm(self.ref_sum)
        self._ref_memo = self.ref_sum / n if n > 0 else None
        return self._ref_memo

    def absorb(self, first: int) -> None:
        """Add observations ``first..`` (those with embeddings) to the split reference."""
        for i in range(first, len(self.times)):
            e = self.embeddings[i]
            if e is None:
                continue
            w = observation_weight(self.scores[i], self.boxes[i])
            u = e.astype(np.float64) / max(vector_norm(e), 1e-12)
            self.ref_sum = w * u if self.ref_sum is None else self.ref_sum + w * u
            self._ref_memo = None
            self.ref_count += 1

    def split_tail(self, start: int, new: Tracklet) -> None:
        """Move observations ``start..`` into ``new`` (an empty tracklet) and make them its reference."""
        new.times.extend(self.times[start:])
        new.boxes.extend(self.boxes[start:])
        new.scores.extend(self.scores[start:])
        new.embeddings.extend(self.embeddings[start:])
        del self.times[start:], self.boxes[start:], self.scores[start:], self.embeddings[start:]
        self._drop_units()
        self.streak = 0
        new.absorb(0)

    def add(
        self, t: float, box: NDArray[np.float32], score: float, embedding: NDArray[np.float32] | None
    ) -> None:
        """Append one observation (``box``: ``float32[4]`` xyxy, ``embedding``: ``float32[D]`` or None)."""
        self.times.append(float(t))
        self.boxes.append(np.asarray(box, np.float32).reshape(4))
        self.scores.append(float(score))
        self.embeddings.append(None if embedding is None else np.asarray(embedding, np.float32).reshape(-1))

    def release(self) -> None:
        """Drop the observations (the tracklet can no longer be a candidate); only the first and last
        timestamps stay (for :attr:`first_t` / :attr:`last_t`)."""
        self.boxes.clear()
        self.scores.clear()
        self.embeddings.clear()
        self.times[1:-1] = []
        self.ref_sum = None
        self._ref_memo = None
        self._summary_memo = None
        self._drop_units()
        self.released = True

    def _drop_units(self) -> None:
        self._prefix = self._unit_weights = None
        self._unit_index = []
        self._units_n = self._units_seen = 0

    def _embedded(self) -> tuple[NDArray[np.float64], NDArray[np.float64], list[int]]:
        """``(prefix float64[E,D], weights float64[E], index)`` of the ``E`` observations with an
        embedding so far: running weighted sums of their unit vectors, their weights and observation
        indices. Extended by the observations added since the last call. A summary of the first ``m``
        is then ``prefix[m-1] / weights[:m].sum()``, bit for bit what summing the ``m`` weighted rows
        gives (numpy sums rows in order), without redoing the sum for every "as of" time."""
        new = [i for i in range(self._units_seen, len(self.times)) if self.embeddings[i] is not None]
        self._units_seen = len(self.times)
        if new:
            rows = unit_rows(np.stack([self.embeddings[i] for i in new]))  # type: ignore[misc]
            w = np.array([observation_weight(self.scores[i], self.boxes[i]) for i in new])
            n, end = self._units_n, self._units_n + len(new)
            if self._prefix is None or end > len(self._prefix):
                cap = max(16, 2 * end)
                prefix = np.empty((cap, rows.shape[1]))
                weights = np.empty(cap)
                if self._prefix is not None and self._unit_weights is not None:
                    prefix[:n] = self._prefix[:n]
                    weights[:n] = self._unit_weights[:n]
                self._prefix, self._unit_weights = prefix, weights
            assert self._unit_weights is not None
            weighted = w[:, None] * rows
            if n:
                weighted[0] += self._prefix[n - 1]
            self._prefix[n:end] = np.cumsum(weighted, axis=0)
            self._unit_weights[n:end] = w
            self._unit_index.extend(new)
            self._units_n = end
        if self._prefix is None or self._unit_weights is None:
            return np.zeros((0, 0)), np.zeros(0), self._unit_index
        n = self._units_n
        return self._prefix[:n], self._unit_weights[:n], self._unit_index

    def _summary_of_first(self, m: int) -> NDArray[np.float32]:
        """:func:`summarize_embeddings` of the first ``m >= 1`` observations that have an embedding
        (call :meth:`_embedded` first: this reads its buffers as they are)."""
        assert self._prefix is not None and self._unit_weights is not None
        prefix, weights, index = self._prefix, self._unit_weights, self._unit_index
        w = weights[:m]
        if w.sum() > 0:
            return _finish_summary(prefix[m - 1], w)
        # all weights zero: the plain mean (rare), from the embeddings themselves
        return summarize_embeddings(np.stack([self.embeddings[i] for i in index[:m]]), w)  # type: ignore[misc]

    def end_distance(self, n: int) -> float | None:
        """Cosine distance between the summaries of the first ``n`` and the last ``n`` observations
        that have embeddings (``None`` with fewer than ``2 n``): a same-person distance across time."""
        _, weights, index = self._embedded()
        e = len(index)
        if e < 2 * n:
            return None
        last = [self.embeddings[i] for i in index[e - n :]]
        sums = [self._summary_of_first(n), summarize_embeddings(np.stack(last), weights[e - n :])]  # type: ignore[arg-type]
        return min(max(1.0 - float(sums[0] @ sums[1]), 0.0), 2.0)

    @property
    def first_t(self) -> float:
        return self.times[0]

    @property
    def last_t(self) -> float:
        return self.times[-1]

    def count_until(self, t: float) -> int:
        """Number of observations with timestamp ``<= t``."""
        return bisect.bisect_right(self.times, t)

    def time_of(self, n: int) -> float:
        """Timestamp of the ``n``-th observation (1-based); ``inf`` if there are fewer."""
        return self.times[n - 1] if len(self.times) >= n else float("inf")

    def summary(self, as_of: float | None = None) -> TrackletSummary | None:
        """Summary of the observations up to ``as_of`` (all if ``None``); ``None`` if there are none."""
        k = len(self.times) if as_of is None else self.count_until(as_of)
        if k == 0:
            return None
        memo = self._summary_memo
        if memo is not None and memo[0] == k:
            return (
                memo[1] if memo[1].global_id == self.global_id else replace(memo[1], global_id=self.global_id)
            )
        _, _, index = self._embedded()
        m = bisect.bisect_left(index, k)  # observations with an embedding among the first k
        emb = self._summary_of_first(m) if m else None
        out = TrackletSummary(
            camera=self.camera,
            local_id=self.local_id,
            global_id=self.global_id,
            embedding=emb,
            quality=float(np.mean(self.scores[:k])),
            num_frames=k,
            first_t=self.times[0],
            last_t=self.times[k - 1],
            last_box=self.boxes[k - 1].copy(),
            first_box=self.boxes[0].copy(),
        )
        self._summary_memo = (k, out)
        return out
