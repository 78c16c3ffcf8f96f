"""Training augmentations of the ReID strong baseline, on ``float32[3,H,W]`` tensors, seeded.

Random horizontal flip, zero pad + random crop back to the input size, and random erasing
(Zhong et al. 2020) with the baseline's defaults. Each transform draws from its own
``numpy.random.Generator`` so a seed reproduces the same augmentations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["Compose", "PadCrop", "RandomErasing", "RandomHorizontalFlip", "build_train_transform"]


class RandomHorizontalFlip:
    """Flip ``float32[C,H,W]`` left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        self.p, self.rng = p, rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.flip(-1) if self.rng.random() < self.p else x


class PadCrop:
    """Zero-pad ``float32[C,H,W]`` by ``pad`` pixels on every side, then crop a random ``H x W`` window.

    Zero is the mean colour when the input is already normalised.
    """

    def __init__(self, pad: int = 10, rng: np.random.Generator | None = None) -> None:
        self.pad, self.rng = pad, rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad <= 0:
            return x
        _, h, w = x.shape
        padded = torch.nn.functional.pad(x, (self.pad, self.pad, self.pad, self.pad))
        top = int(self.rng.integers(0, 2 * self.pad + 1))
        left = int(self.rng.integers(0, 2 * self.pad + 1))
        return padded[:, top : top + h, left : left + w].contiguous()


class RandomErasing:
    """Random erasing: with probability ``p`` replace a rectangle of area fraction in ``[sl, sh]`` and
    aspect ratio in ``[r1, 1/r1]`` by ``value`` (per channel; zeros = mean colour of a normalised image).
    """

    def __init__(
        self,
        p: float = 0.5,
        sl: float = 0.02,
        sh: float = 0.4,
        r1: float = 0.3,
        value: Sequence[float] = (0.0, 0.0, 0.0),
        rng: np.random.Generator | None = None,
    ) -> None:
        self.p, self.sl, self.sh, self.r1 = p, sl, sh, r1
        self.value = torch.tensor(value, dtype=torch.float32).view(-1, 1, 1)
        self.rng = rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        _, h, w = x.shape
        for _ in range(100):
            area = h * w * self.rng.uniform(self.sl, self.sh)
            ratio = self.rng.uniform(self.r1, 1.0 / self.r1)
            eh = round(math.sqrt(area * ratio))
            ew = round(math.sqrt(area / ratio))
            if 0 < eh < h and 0 < ew < w:
                y = int(self.rng.integers(0, h - eh + 1))
                xx = int(self.rng.integers(0, w - ew + 1))
                x = x.clone()
                x[:, y : y + eh, xx : xx + ew] = self.value.to(x.dtype)
                return x
        return x


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for t in self.transforms:
            x = t(x)
        return x


def build_train_transform(
    flip_p: float = 0.5, pad: int = 10, erase_p: float = 0.5, seed: int | Sequence[int] | None = None
) -> Compose:
    """The strong-baseline training pipeline: flip, pad + crop, random erasing (seeded)."""
    seq = np.random.SeedSequence(seed)
    r = [np.random.default_rng(s) for s in seq.spawn(3)]
    return Compose([RandomHorizontalFlip(flip_p, r[0]), PadCrop(pad, r[1]), RandomErasing(erase_p, rng=r[2])])
