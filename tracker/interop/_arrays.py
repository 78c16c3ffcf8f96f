"""Array coercion shared by the interop converters: torch tensors, numpy arrays and sequences."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["to_numpy", "whole_numbers"]


def to_numpy(value: Any, name: str) -> NDArray[Any]:
    """``value`` as a numpy array: a tensor (torch or alike, on any device) is detached and copied to the
    CPU through ``.detach()``, ``.cpu()`` and ``.numpy()`` where it has them; anything else goes through
    :func:`numpy.asarray`.

    Raises:
        ValueError: ``value`` cannot be made into an array (the message names ``name``).
    """
    try:
        if hasattr(value, "detach"):
            value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            value = value.numpy()
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name}: cannot convert {type(value).__name__} to an array ({exc})") from None


def whole_numbers(values: NDArray[Any], name: str) -> NDArray[np.int64]:
    """``values`` flattened to ``int64[N]``. Float inputs (Ultralytics' ``cls`` is a float tensor) must
    hold finite whole numbers.

    Raises:
        ValueError: a fractional or non-finite value, or a non-numeric dtype (the message names ``name``
            and the first bad row).
    """
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name}: row {i} is {arr[i]}, not a whole number")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name}: expected integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)
