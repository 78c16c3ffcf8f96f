"""The one place that makes motmetrics 1.4.0 work with NumPy 2 and pandas 3.

Import motmetrics only through :func:`import_motmetrics`. It repairs, once and idempotently:

* ``np.asfarray`` (removed in NumPy 2.0), which ``motmetrics.distances.iou_matrix`` and
  ``norm2squared_matrix`` call: it is defined as ``np.asarray(a, dtype=dtype)`` (default ``float``),
  which is what NumPy 1 did for float dtypes;
* ``MOTAccumulator.merge_event_dataframes``, which calls ``DataFrame.append`` (removed in pandas 2.0):
  it is replaced by the same algorithm built on ``pd.concat``.

Checked against NumPy 2.4 and pandas 3.1.1 by running motmetrics' own test-suite with these two
repairs: it passes except for faults in the tests' own code (``pd.util.testing``, gone in pandas 2;
building the expected frame of ``test_merge_dataframes`` by writing strings into a float column, which
pandas 3 refuses) and a test that needs the pytest-benchmark plugin. Everything this package uses
(``MOTAccumulator.update``, ``metrics.create().compute_many(..., generate_overall=True)``) runs
unchanged and without warnings. ``motmetrics.io.load_motchallenge`` still works but emits a
``Pandas4Warning`` (``df[['X','Y']] -= (1, 1)``) and will break with pandas 4; this package reads
MOTChallenge files with :mod:`tracker.io` instead and never calls it.
"""

from __future__ import annotations

import importlib
import itertools
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["import_motmetrics"]


def _asfarray(a: ArrayLike, dtype: DTypeLike = float) -> NDArray[np.floating]:
    """NumPy 1's ``np.asfarray``: ``a`` as a floating-point array (``dtype`` if it is a float type,
    else float64)."""
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.inexact):
        dt = np.dtype(np.float64)
    return np.asarray(a, dtype=dt)


def _merge_event_dataframes(
    dfs: list[Any],
    update_frame_indices: bool = True,
    update_oids: bool = True,
    update_hids: bool = True,
    return_mappings: bool = False,
) -> Any:
    """motmetrics 1.4.0 ``MOTAccumulator.merge_event_dataframes`` with ``pd.concat`` in place of the
    removed ``DataFrame.append``; same arguments, same results (motmetrics is MIT-licensed)."""
    from motmetrics.mot import MOTAccumulator

    pd = importlib.import_module("pandas")
    mapping_infos = []
    new_oid = itertools.count()
    new_hid = itertools.count()
    parts = []
    r = MOTAccumulator.new_event_dataframe()
    seen_frames = r.index.get_level_values(0)  # frame ids merged so far
    for df in dfs:
        if isinstance(df, MOTAccumulator):
            df = df.events
        copy = df.copy()
        infos: dict[str, Any] = {}
        if update_frame_indices:
            next_frame_id = max(seen_frames.max() + 1, seen_frames.unique().shape[0])
            if np.isnan(next_frame_id):
                next_frame_id = 0
            copy.index = copy.index.map(lambda x, off=next_frame_id: (x[0] + off, x[1]))
            infos["frame_offset"] = next_frame_id
        if update_oids:
            oid_map = {oid: str(next(new_oid)) for oid in copy["OId"].dropna().unique()}
            copy["OId"] = copy["OId"].map(lambda x, m=oid_map: m[x], na_action="ignore")
            infos["oid_map"] = oid_map
        if update_hids:
            hid_map = {hid: str(next(new_hid)) for hid in copy["HId"].dropna().unique()}
            copy["HId"] = copy["HId"].map(lambda x, m=hid_map: m[x], na_action="ignore")
            infos["hid_map"] = hid_map
        if len(copy):
            parts.append(copy)
            seen_frames = seen_frames.append(copy.index.get_level_values(0))
        mapping_infos.append(infos)
    if parts:
        r = pd.concat(parts)
    return (r, mapping_infos) if return_mappings else r


def import_motmetrics() -> ModuleType:
    """Return the ``motmetrics`` module, made to work on NumPy 2 and pandas 3 (see the module
    docstring). Safe to call any number of times."""
    if not hasattr(np, "asfarray"):
        np.asfarray = _asfarray  # type: ignore[attr-defined]  # noqa: NPY201
    import motmetrics
    from motmetrics.mot import MOTAccumulator

    if not hasattr(importlib.import_module("pandas").DataFrame, "append"):
        MOTAccumulator.merge_event_dataframes = staticmethod(_merge_event_dataframes)
    return motmetrics
