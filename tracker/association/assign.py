"""Gated minimum-cost assignment: connected components, each solved by :mod:`.lsap`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .lsap import connected_components, linear_sum_assignment

__all__ = ["Matches", "assign", "assign_pairs"]

Matches = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]
"""``(rows, cols, unmatched_rows, unmatched_cols)``, all ``int64`` index arrays."""


def assign(cost: NDArray[np.floating], max_cost: float) -> Matches:
    """Minimum-total-cost matching that never pairs entries with ``cost > max_cost``.

    Equivalent to LAPJV with a cost limit: every row and column may instead stay unmatched at
    ``max_cost / 2``, so a pair is used only when it is cheaper than leaving both ends unmatched.

    Work is kept proportional to the real ambiguity: the admissible pairs are handed to
    :func:`assign_pairs`, which solves each connected component on its own. In sparse scenes (the
    usual case after gating) the solver sees a handful of entries at a time.

    Args:
        cost: ``float[T,M]`` finite costs (gated pairs hold a finite value above ``max_cost``).
        max_cost: largest cost that may still be matched.

    Returns:
        ``(rows, cols, unmatched_rows, unmatched_cols)``: matched pairs ``cost[rows[i], cols[i]]``.
    """
    cost64: NDArray[np.float64] = np.asarray(cost, dtype=np.float64)
    n_rows, n_cols = cost64.shape
    rows, cols = np.nonzero(cost64 <= max_cost)
    return assign_pairs(rows, cols, cost64[rows, cols], max_cost, n_rows, n_cols)


_EMPTY = np.zeros(0, np.int64)
_EMPTY.setflags(write=False)


def _solve_with_limit(
    cost: NDArray[np.float64], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Hungarian on ``cost`` (``float64[n,m]``) where leaving a row and a column unmatched costs
    ``max_cost``: maximise the total gain ``max_cost - cost`` over admissible pairs (inadmissible
    pairs gain 0 and are dropped afterwards). Same optimum as padding the matrix with "unmatched"
    slots, at ``n x m`` instead of ``(n+m)^2`` size."""
    ok = cost <= max_cost
    gain = np.where(ok, max_cost - cost, 0.0)
    r, c = linear_sum_assignment(gain, maximize=True)
    keep = ok[r, c]
    return r[keep].astype(np.int64), c[keep].astype(np.int64)


def assign_pairs(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    cost: NDArray[np.float64],
    max_cost: float,
    n_rows: int,
    n_cols: int,
) -> Matches:
    """:func:`assign` for a sparse cost: only the listed pairs may match (every other pair is
    inadmissible).

    The admissible pairs (``cost <= max_cost``) split into connected components of the bipartite graph
    of rows and columns; a component of one pair is matched directly, each other one is solved on its
    own small dense block. Same optimum as :func:`assign` on the dense matrix (where several optima
    tie, either may be returned).

    Args:
        rows: ``int64[P]`` row of each pair; cols: ``int64[P]`` its column; cost: ``float64[P]``.
        max_cost: largest cost that may still be matched.
        n_rows, n_cols: the matrix shape.

    Returns:
        ``(rows, cols, unmatched_rows, unmatched_cols)`` as :func:`assign`.
    """
    ok = cost <= max_cost
    pr, pc, pcost = rows[ok], cols[ok], cost[ok]
    out_r: list[NDArray[np.int64]] = []
    out_c: list[NDArray[np.int64]] = []
    if len(pr):
        labels = connected_components(n_rows + n_cols, pr, n_rows + pc)
        comp = labels[pr]
        order = np.argsort(comp, kind="stable")
        comp_sorted = comp[order]
        starts = np.flatnonzero(np.r_[True, comp_sorted[1:] != comp_sorted[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        single = order[starts[sizes == 1]]
        out_r.append(pr[single])
        out_c.append(pc[single])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
            idx = order[start : start + size]
            ur, ri = np.unique(pr[idx], return_inverse=True)
            uc, ci = np.unique(pc[idx], return_inverse=True)
            block = np.full((len(ur), len(uc)), max_cost + 1.0)
            block[ri, ci] = pcost[idx]
            r, c = _solve_with_limit(block, max_cost)
            out_r.append(ur[r])
            out_c.append(uc[c])
    mr = np.concatenate(out_r).astype(np.int64) if out_r else _EMPTY
    mc = np.concatenate(out_c).astype(np.int64) if out_c else _EMPTY
    free_r = np.ones(n_rows, bool)
    free_r[mr] = False
    free_c = np.ones(n_cols, bool)
    free_c[mc] = False
    return mr, mc, np.nonzero(free_r)[0], np.nonzero(free_c)[0]
