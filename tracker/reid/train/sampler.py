"""Identity-balanced P x K batch sampler (seeded, reproducible per epoch)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

__all__ = ["RandomIdentitySampler"]


class RandomIdentitySampler(Sampler[list[int]]):
    """Yields batches of ``p`` identities x ``k`` images each (a batch sampler).

    Per epoch every identity's images are shuffled and cut into groups of ``k`` (an identity with
    fewer than ``k`` images is padded by sampling its own images with replacement); groups are then
    drawn ``p`` distinct identities at a time until fewer than ``p`` identities have groups left.
    The order depends only on ``seed`` and the epoch set by :meth:`set_epoch`, so a resumed run
    sees the same batches as an uninterrupted one.

    Args:
        pids: person label of every dataset index.
        p: identities per batch (``>= 2`` for the triplet loss).
        k: images per identity.
        seed: base seed.
    """

    def __init__(self, pids: Sequence[int], p: int, k: int, seed: int = 0) -> None:
        if p < 1 or k < 1:
            raise ValueError(f"p and k must be >= 1, got p={p}, k={k}")
        self.index: dict[int, list[int]] = defaultdict(list)
        for i, pid in enumerate(pids):
            self.index[int(pid)].append(i)
        if len(self.index) < p:
            raise ValueError(f"need at least p={p} identities, the dataset has {len(self.index)}")
        self.pids = sorted(self.index)
        self.p, self.k, self.seed = p, k, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batch order :meth:`__iter__` yields."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        groups: dict[int, list[list[int]]] = {}
        for pid in self.pids:
            idx = np.asarray(self.index[pid])
            if len(idx) < self.k:
                idx = rng.choice(idx, size=self.k, replace=True)
            idx = rng.permutation(idx)
            n = len(idx) // self.k
            groups[pid] = [idx[j * self.k : (j + 1) * self.k].tolist() for j in range(n)]
        batches = []
        available = [pid for pid in self.pids if groups[pid]]
        while len(available) >= self.p:
            chosen = rng.choice(len(available), size=self.p, replace=False)
            batch: list[int] = []
            for c in chosen:
                batch.extend(groups[available[c]].pop())
            batches.append(batch)
            available = [pid for pid in available if groups[pid]]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())
