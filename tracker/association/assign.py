"""Gated minimum-cost assignment: connected components, each solved by :mod:`.lsap`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .lsap import (
    dense_gated_matching,
    has_compiled_solver,
    linear_sum_assignment,
    max_gain_assignment,
    sparse_gated_matching,
    sparse_max_gain_matching,
)

__all__ = [
    "Matches",
    "assign",
    "assign_pairs",
    "match",
    "match_iterative",
    "match_iterative_pairs",
    "match_pairs",
]

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
    m_rows, m_cols = match(cost, max_cost)
    n_rows, n_cols = np.shape(cost)
    return m_rows, m_cols, *_unmatched(m_rows, m_cols, n_rows, n_cols)


def match(cost: NDArray[np.floating], max_cost: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The matched ``(rows, cols)`` of :func:`assign`, without the unmatched lists (what the stage
    runner needs; it keeps its own masks), rows ascending. With SciPy installed, a matrix where two
    rows compete for a column (or the reverse) is solved whole by its compiled solver
    (:func:`~tracker.association.lsap.dense_gated_matching`); without, component by component in
    Python. Both give the same matches (where two assignments tie in total cost either may be
    returned)."""
    cost64: NDArray[np.float64] = np.asarray(cost, dtype=np.float64)
    admissible = cost64 <= max_cost
    rows, cols = admissible.nonzero()
    n = len(rows)
    if n <= 1:  # nothing, or one admissible pair: it is the match
        return rows.astype(np.int64), cols.astype(np.int64)
    if n > _PYTHON_MAX_PAIRS:
        return match_pairs(rows, cols, cost64[rows, cols], max_cost)
    # The usual frame: every admissible pair is alone in its row and column (distinct rows and
    # columns), so every pair is a match, already in row order. Otherwise the general path: with
    # SciPy, the whole (small) matrix in one compiled call; without, component by component.
    row_list = rows.tolist()
    col_list = cols.tolist()
    if len(set(row_list)) == n and len(set(col_list)) == n:
        return rows.astype(np.int64), cols.astype(np.int64)
    whole = dense_gated_matching(cost64, admissible, max_cost)
    if whole is not None:
        return whole
    out_r, out_c = _solve_components(row_list, col_list, cost64[rows, cols].tolist(), max_cost)
    by_row = sorted(zip(out_r, out_c, strict=True))  # rows ascending, as the compiled path gives them
    return np.array([r for r, _ in by_row], np.int64), np.array([c for _, c in by_row], np.int64)


def match_iterative(
    cost: NDArray[np.floating], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Matched ``(rows, cols)``, ``int64[K]`` each, of TrackTrack's iterative (track-perspective)
    assignment on ``cost: float[T,M]`` (finite; pairs above ``max_cost`` are never matched).

    Each round, every free row picks its cheapest admissible free column and every free column its
    cheapest admissible free row; the pairs that pick each other are matched (rows ascending within
    a round) and leave the pool; rounds go on until one matches nothing. Ties go to the lowest index.
    Every round with an admissible pair left matches at least one (the cheapest admissible entry with
    the lowest column, then row, is each end's pick), so there are at most ``min(T, M)`` rounds.
    Unlike :func:`match` this is greedy: it never trades a cheap pair for a lower total.
    """
    c: NDArray[np.float64] = np.array(cost, dtype=np.float64)  # a copy: rounds overwrite taken ends
    if c.ndim != 2:
        raise ValueError(f"match_iterative: cost must be 2-D, got shape {c.shape}")
    admissible = c <= max_cost
    blocked = float(max_cost) + 1.0  # finite, above every admissible cost
    c[~admissible] = blocked
    out_r: list[NDArray[np.int64]] = []
    out_c: list[NDArray[np.int64]] = []
    rows_all = np.arange(c.shape[0])
    while admissible.any():
        best_col = c.argmin(axis=1)  # each row's pick
        best_row = c.argmin(axis=0)  # each column's pick
        mutual = (best_row[best_col] == rows_all) & admissible[rows_all, best_col]
        if not mutual.any():  # (cannot happen while an admissible pair is left; a guard)
            break
        r = rows_all[mutual]
        k = best_col[mutual]
        out_r.append(r.astype(np.int64))
        out_c.append(k.astype(np.int64))
        c[r, :] = blocked
        c[:, k] = blocked
        admissible[r, :] = False
        admissible[:, k] = False
    if not out_r:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_r), np.concatenate(out_c)


def match_iterative_pairs(
    rows: NDArray[np.int64], cols: NDArray[np.int64], cost: NDArray[np.float64], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`match_iterative` for a sparse cost: only the listed pairs may match (every other pair
    counts as above ``max_cost``). ``rows``, ``cols``: ``int64[P]`` distinct pairs, ``cost``:
    ``float64[P]``. The same matches in the same order as :func:`match_iterative` on the dense matrix
    that holds these costs and inadmissible values elsewhere: each round a row picks its cheapest
    admissible pair (ties: lowest column), a column its cheapest (ties: lowest row), and the pairs
    picked by both ends are matched, rows ascending."""
    if not len(rows) == len(cols) == len(cost):
        raise ValueError(
            "match_iterative_pairs: rows, cols and cost must have one entry per pair, "
            f"got {len(rows)}, {len(cols)}, {len(cost)}"
        )
    cost64 = np.asarray(cost, dtype=np.float64)
    ok = cost64 <= max_cost
    pr = np.asarray(rows, np.int64)[ok]
    pc = np.asarray(cols, np.int64)[ok]
    pv = cost64[ok]
    if len(pr) == 0:
        return _EMPTY, _EMPTY
    row_taken = np.zeros(int(pr.max()) + 1, bool)
    col_taken = np.zeros(int(pc.max()) + 1, bool)
    out_r: list[NDArray[np.int64]] = []
    out_c: list[NDArray[np.int64]] = []
    while len(pr):
        mutual = _first_of_group(pr, pv, pc) & _first_of_group(pc, pv, pr)
        if not mutual.any():  # (cannot happen while a pair is left, as in match_iterative; a guard)
            break
        r, c = pr[mutual], pc[mutual]
        by_row = np.argsort(r, kind="stable")
        out_r.append(r[by_row])
        out_c.append(c[by_row])
        row_taken[r] = True
        col_taken[c] = True
        keep = ~(row_taken[pr] | col_taken[pc])
        pr, pc, pv = pr[keep], pc[keep], pv[keep]
    if not out_r:
        return _EMPTY, _EMPTY
    return np.concatenate(out_r), np.concatenate(out_c)


def _first_of_group(
    group: NDArray[np.int64], value: NDArray[np.float64], tie: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """``bool[P]``: for each ``group`` id, its one entry of lowest ``value`` (ties: lowest ``tie``)."""
    order = np.lexsort((tie, value, group))
    g = group[order]
    first = np.empty(len(g), bool)
    first[:1] = True
    first[1:] = g[1:] != g[:-1]
    out = np.zeros(len(g), bool)
    out[order[first]] = True
    return out


def _unmatched(
    m_rows: NDArray[np.int64], m_cols: NDArray[np.int64], n_rows: int, n_cols: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of ``range(n_rows)`` not in ``m_rows`` and columns of ``range(n_cols)`` not in ``m_cols``."""
    free_r = np.ones(n_rows, bool)
    free_r[m_rows] = False
    free_c = np.ones(n_cols, bool)
    free_c[m_cols] = False
    return free_r.nonzero()[0], free_c.nonzero()[0]


_EMPTY = np.zeros(0, np.int64)
_EMPTY.setflags(write=False)


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
    of rows and columns: a pair whose row and column have no other admissible pair is matched
    directly; each other component is solved on its own small block, as a maximum-gain assignment
    with gain ``max_cost - cost`` for admissible pairs and 0 otherwise (the same optimum as padding
    the block with "unmatched" slots at ``max_cost / 2`` each), on Python lists: blocks are tiny and
    many. Same optimum as solving the whole matrix
    (where several optima tie, either may be returned).

    Args:
        rows: ``int64[P]`` row of each pair; cols: ``int64[P]`` its column; cost: ``float64[P]``.
        max_cost: largest cost that may still be matched.
        n_rows, n_cols: the matrix shape.

    Returns:
        ``(rows, cols, unmatched_rows, unmatched_cols)`` as :func:`assign`; matches of single pairs
        first (by row), then those of each larger component, components ordered by their first row.
    """
    m_rows, m_cols = match_pairs(rows, cols, cost, max_cost)
    return m_rows, m_cols, *_unmatched(m_rows, m_cols, n_rows, n_cols)


def match_pairs(
    rows: NDArray[np.int64], cols: NDArray[np.int64], cost: NDArray[np.float64], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The matched ``(rows, cols)`` of :func:`assign_pairs` (same pairs, same order), without the
    unmatched lists."""
    if not len(rows) == len(cols) == len(cost):
        raise ValueError(
            f"match_pairs: rows, cols and cost must have one entry per pair, got {len(rows)}, {len(cols)}, {len(cost)}"
        )
    if len(rows) <= _PYTHON_MAX_PAIRS:
        return _match_pairs_lists(rows.tolist(), cols.tolist(), cost.tolist(), max_cost)
    ok = cost <= max_cost
    pr, pc, pcost = rows[ok], cols[ok], cost[ok]
    if len(pr) == 0:
        return _EMPTY, _EMPTY
    row_deg = np.bincount(pr)
    col_deg = np.bincount(pc)
    single = (row_deg[pr] == 1) & (col_deg[pc] == 1)
    s_rows, s_cols = pr[single], pc[single]
    by_row = np.argsort(s_rows, kind="stable")
    out_r = s_rows[by_row].tolist()
    out_c = s_cols[by_row].tolist()
    rest = ~single
    n_rest = int(rest.sum())
    if 0 < n_rest <= _LIST_MAX_PAIRS:
        mr, mc = _solve_components(pr[rest].tolist(), pc[rest].tolist(), pcost[rest].tolist(), max_cost)
        out_r += mr
        out_c += mc
    elif n_rest:
        mr, mc = _solve_components_arrays(pr[rest], pc[rest], pcost[rest], max_cost, int(pr.max()) + 1)
        out_r += mr
        out_c += mc
    return np.array(out_r, np.int64), np.array(out_c, np.int64)


_PYTHON_MAX_PAIRS = 64
"""Up to this many listed pairs (a normal scene after gating), :func:`match_pairs` runs on Python lists
from the start: a dozen numpy calls cost more than the loop over the pairs."""


def _match_pairs_lists(
    rows: list[int], cols: list[int], cost: list[float], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`match_pairs` on lists: the same matches in the same order (single pairs by row, then the
    components of :func:`_solve_components`)."""
    keep = [k for k, v in enumerate(cost) if v <= max_cost]
    if not keep:
        return _EMPTY, _EMPTY
    if len(keep) < len(cost):
        rows, cols, cost = [rows[k] for k in keep], [cols[k] for k in keep], [cost[k] for k in keep]
    return _match_admissible(rows, cols, cost, max_cost)


def _match_admissible(
    rows: list[int], cols: list[int], cost: list[float], max_cost: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`_match_pairs_lists` for pairs that are all admissible (``cost <= max_cost``)."""
    out_r, out_c = _solve_components(rows, cols, cost, max_cost)
    return np.array(out_r, np.int64), np.array(out_c, np.int64)


_LIST_MAX_PAIRS = 512
"""Up to this many pairs outside single-pair components, components are found and their blocks
built on Python lists (cheapest for the handfuls of a normal scene); above it (hundreds of mutually
overlapping objects) with numpy, where one component may hold hundreds of rows."""


_SPARSE_BLOCK_MIN_ENTRIES = 40_000
"""Components spanning at least this many rows x columns (about 200 x 200: only the giant components
of packed scenes of hundreds of people) go to SciPy's sparse solver when it is installed
(:func:`~tracker.association.lsap.sparse_gated_matching`); smaller ones to the dense solver."""


_PY_SPARSE_MIN_ENTRIES = 1024
"""Without SciPy, components spanning at least this many rows x columns (about 32 x 32) are solved by
the pure-Python sparse solver (:func:`~tracker.association.lsap.sparse_max_gain_matching`, a
Dijkstra over the listed pairs): the dense one on lists is ``O(n^2 m)`` and took most of a second per
update in a scene of 2,000 people (``benchmarks/speed.py --without-scipy``)."""


_SMALL_BLOCK_PAIRS = 32
"""Components of a crowded scene with at most this many pairs are still solved on Python lists
(:func:`_solve_block`): most components stay small, and numpy's per-call cost dominates there."""


def _solve_components_arrays(
    pr: NDArray[np.int64], pc: NDArray[np.int64], pcost: NDArray[np.float64], max_cost: float, n_rows: int
) -> tuple[list[int], list[int]]:
    """:func:`_solve_components` for many pairs: the same components in the same order (labels by
    smallest node, rows numbered before columns, so by smallest row) and the same block problems."""
    labels = _connected_components(n_rows + int(pc.max()) + 1, pr, n_rows + pc)
    comp = labels[pr]
    order = np.argsort(comp, kind="stable")
    comp_sorted = comp[order]
    starts = np.flatnonzero(np.r_[True, comp_sorted[1:] != comp_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    out_r: list[int] = []
    out_c: list[int] = []
    compiled = has_compiled_solver()
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = order[a:b]
        if b - a <= _SMALL_BLOCK_PAIRS:
            _solve_block(
                pr[idx].tolist(),
                pc[idx].tolist(),
                pcost[idx].tolist(),
                list(range(b - a)),
                max_cost,
                out_r,
                out_c,
            )
            continue
        ur, ri = np.unique(pr[idx], return_inverse=True)
        uc, ci = np.unique(pc[idx], return_inverse=True)
        entries = len(ur) * len(uc)
        if entries >= _SPARSE_BLOCK_MIN_ENTRIES or (not compiled and entries >= _PY_SPARSE_MIN_ENTRIES):
            # the last listed value of a repeated pair counts, as in the dense block below
            key = ri * len(uc) + ci
            _, last = np.unique(key[::-1], return_index=True)
            last = len(key) - 1 - last
            if compiled:
                sparse = sparse_gated_matching(
                    ri[last], ci[last], pcost[idx][last], max_cost, len(ur), len(uc)
                )
                if sparse is not None:
                    out_r += ur[sparse[0]].tolist()
                    out_c += uc[sparse[1]].tolist()
                    continue
            else:
                matched = sparse_max_gain_matching(
                    ri[last], ci[last], max_cost - pcost[idx][last], len(ur), len(uc)
                )
                if matched:
                    ij = np.array(matched, np.int64)
                    out_r += ur[ij[:, 0]].tolist()
                    out_c += uc[ij[:, 1]].tolist()
                continue
        gain = np.zeros((len(ur), len(uc)))
        admissible = np.zeros((len(ur), len(uc)), bool)
        gain[ri, ci] = max_cost - pcost[idx]
        admissible[ri, ci] = True
        r, c = linear_sum_assignment(gain, maximize=True)
        keep = admissible[r, c]
        out_r += ur[r[keep]].tolist()
        out_c += uc[c[keep]].tolist()
    return out_r, out_c


def _connected_components(n_nodes: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    """Component label ``int64[n_nodes]`` of each node of the undirected graph with edges
    ``a[k] -- b[k]``, numbered ``0, 1, ...`` in the order of each component's smallest node
    (min-label propagation with pointer jumping; rounds grow with the log of the diameter)."""
    label = np.arange(n_nodes, dtype=np.int64)
    while True:
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        new = label.copy()
        np.minimum.at(new, la, low)
        np.minimum.at(new, lb, low)
        new = new[new]
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            break
        label = new
    return np.unique(label, return_inverse=True)[1].astype(np.int64)


def _solve_components(
    rows: list[int], cols: list[int], cost: list[float], max_cost: float
) -> tuple[list[int], list[int]]:
    """Matches of admissible pairs, component by component of the graph of rows and columns: first
    every pair alone in its row and column (matched as it is, by row), then each larger component
    solved on its own block, in the order of the components' smallest rows (within one, rows
    ascending). Components are found by a walk from each row in ascending order."""
    row_pairs: dict[int, list[int]] = {}
    col_pairs: dict[int, list[int]] = {}
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        row_pairs.setdefault(r, []).append(k)
        col_pairs.setdefault(c, []).append(k)
    out_r: list[int] = []
    out_c: list[int] = []
    blocks: list[list[int]] = []
    seen_rows: set[int] = set()
    for r in sorted(row_pairs):
        if r in seen_rows:
            continue
        first = row_pairs[r]
        if len(first) == 1 and len(col_pairs[cols[first[0]]]) == 1:  # a pair alone: a match
            out_r.append(r)
            out_c.append(cols[first[0]])
            continue
        seen_rows.add(r)
        members: list[int] = []
        seen_cols: set[int] = set()
        todo = [r]
        while todo:
            for k in row_pairs[todo.pop()]:
                members.append(k)
                c = cols[k]
                if c not in seen_cols:
                    seen_cols.add(c)
                    for k2 in col_pairs[c]:
                        r2 = rows[k2]
                        if r2 not in seen_rows:
                            seen_rows.add(r2)
                            todo.append(r2)
        members.sort()  # listed order (the last listed value of a repeated pair counts)
        blocks.append(members)
    for members in blocks:
        _solve_block(rows, cols, cost, members, max_cost, out_r, out_c)
    return out_r, out_c


def _solve_block(
    rows: list[int],
    cols: list[int],
    cost: list[float],
    pairs: list[int],
    max_cost: float,
    out_r: list[int],
    out_c: list[int],
) -> None:
    """Append to ``out_r``/``out_c`` the matches of one component: the pairs ``pairs`` (indices into
    ``rows``/``cols``/``cost``), rows ascending. On Python lists: cheaper than arrays for small blocks."""
    ur = sorted({rows[k] for k in pairs})
    uc = sorted({cols[k] for k in pairs})
    if len(ur) == 1 or len(uc) == 1:
        # one row (or column) against several: the solver's answer is the largest gain, the
        # first in ascending order among equals (the last listed value of a repeated pair counts)
        one_row = len(ur) == 1
        gains = {(cols[k] if one_row else rows[k]): max_cost - cost[k] for k in pairs}
        best = max(sorted(gains), key=gains.__getitem__)
        out_r.append(ur[0] if one_row else best)
        out_c.append(best if one_row else uc[0])
        return
    ri = {r: i for i, r in enumerate(ur)}
    ci = {c: j for j, c in enumerate(uc)}
    gain = [[0.0] * len(uc) for _ in ur]
    admissible = set()
    for k in pairs:
        i, j = ri[rows[k]], ci[cols[k]]
        gain[i][j] = max_cost - cost[k]
        admissible.add((i, j))
    for i, j in max_gain_assignment(gain):
        if (i, j) in admissible:
            out_r.append(ur[i])
            out_c.append(uc[j])
