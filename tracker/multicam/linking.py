"""Link costs and gates of the cross-camera identity decisions (:mod:`tracker.multicam.manager`).

A decision compares NEW tracklets (just collected ``min_tracklet_frames`` observations) with
CANDIDATES (ended tracklets whose identity may continue). This module holds the pure parts:

* :func:`appearance_distance`: cosine distance ``1 - cos`` of two unit summaries, in ``[0, 2]``;
* :func:`transition_allowed`: the camera graph, exit/entry zones, travel-time window and
  ``lost_after_s`` rules for one ``old -> new`` pair;
* :func:`intervals_overlap`: whether two tracklets were observed during a common time span (the
  manager forbids one global id in two non-overlapping cameras at once with it);
* :func:`link_costs`: the cost matrix of one Hungarian assignment, gated pairs at a finite cost
  above the linking threshold (never inf/NaN, so the solver always has a feasible assignment).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .config import MultiCamConfig
from .tracklets import TrackletSummary

__all__ = [
    "MISSING_EMBEDDING_DISTANCE",
    "appearance_distance",
    "intervals_overlap",
    "link_costs",
    "transition_allowed",
]

MISSING_EMBEDDING_DISTANCE = 2.0
"""Distance assumed when either side has no embedding (the largest cosine distance): such a pair is
always gated."""


def appearance_distance(a: NDArray[np.float32] | None, b: NDArray[np.float32] | None) -> float | None:
    """Cosine distance ``1 - a.b`` of two unit vectors ``float32[D]``, clipped to ``[0, 2]``; ``None``
    when either is missing."""
    if a is None or b is None:
        return None
    return min(max(1.0 - float(a @ b), 0.0), 2.0)  # np.clip on a scalar costs 10x more


def intervals_overlap(a_first: float, a_last: float, b_first: float, b_last: float) -> bool:
    """Whether the closed time spans ``[a_first, a_last]`` and ``[b_first, b_last]`` intersect."""
    return a_first <= b_last and b_first <= a_last


def transition_allowed(
    config: MultiCamConfig, new: TrackletSummary, old: TrackletSummary, decision_time: float
) -> bool:
    """True if ``old -> new`` passes the camera graph, the zones and (with ``time_gating``) the travel
    time window and ``lost_after_s``. A local track may always continue its own earlier segment.

    The one-id-in-one-place rule (no global id in two non-overlapping cameras at once) is not here:
    it needs every tracklet carrying ``old``'s global id and is enforced by the manager in every mode.
    """
    if old.camera == new.camera and old.local_id == new.local_id:
        return True
    edge = config.edge(old.camera, new.camera)
    if edge is None:
        return False
    if not (edge.in_zone(edge.from_zone, old.last_box) and edge.in_zone(edge.to_zone, new.first_box)):
        return False
    if not config.time_gating:
        return True
    travel = new.first_t - old.last_t
    lo, hi = edge.min_travel_s, edge.max_travel_s
    if config.overlaps(old.camera, new.camera):
        return -hi <= travel <= hi
    if travel <= 0 or not (lo <= travel <= hi):
        return False
    return decision_time - old.last_t >= config.lost_after_s


def link_costs(
    distances: NDArray[np.float64], allowed: NDArray[np.bool_], threshold: float, margin: float
) -> NDArray[np.float64]:
    """Costs ``float64[N,M]`` of one assignment.

    Args:
        distances: ``float64[N,M]`` appearance distances in ``[0, 2]`` (``MISSING_EMBEDDING_DISTANCE``
            where an embedding is missing).
        allowed: ``bool[N,M]`` pairs that pass every gate (and have both embeddings).
        threshold: the linking threshold; an assigned pair links only if its cost is ``<= threshold``.
        margin: gated pairs cost ``threshold + margin + distance`` (finite, above any link).
    """
    return np.where(allowed, distances, threshold + margin + distances)
