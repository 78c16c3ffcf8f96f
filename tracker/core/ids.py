"""Track ID allocation, owned by one tracker instance."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["IdAllocator"]


class IdAllocator:
    """Hands out increasing, never-reused ids (1, 2, 3, ...). One per tracker; ``reset()`` restarts."""

    def __init__(self, start: int = 1) -> None:
        self._start = start
        self._next = start

    def take(self, n: int) -> NDArray[np.int64]:
        """``n`` fresh ids as ``int64[n]``."""
        ids = np.arange(self._next, self._next + n, dtype=np.int64)
        self._next += n
        return ids

    @property
    def issued(self) -> int:
        """How many ids have been handed out since the last reset."""
        return self._next - self._start

    def reset(self) -> None:
        self._next = self._start
