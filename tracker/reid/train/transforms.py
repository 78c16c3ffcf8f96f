"""Training augmentations of the ReID strong baseline, on ``float32[3,H,W]`` tensors, seeded.

Random horizontal flip, zero pad + random crop back to the input size, and random erasing
(Zhong et al. 2020) with the baseline's defaults; for domain generalisation, optionally colour jitter
(brightness, contrast, saturation) and random grayscale first, so that a model leans less on the
colour rendition of the training cameras. Each transform draws from its own
``numpy.random.Generator`` so a seed reproduces the same augmentations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "ColorJitter",
    "Compose",
    "PadCrop",
    "RandomDownscale",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "build_train_transform",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = (0.299, 0.587, 0.114)  # RGB weights of the grey level (ITU-R BT.601)


class _Pixels:
    """Map a normalised ``float32[3,H,W]`` RGB tensor to ``[0,1]`` pixels and back."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
        self.luma = torch.tensor(_LUMA, dtype=torch.float32).view(3, 1, 1)

    def to01(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean

    def back(self, x: torch.Tensor) -> torch.Tensor:
        return (x.clamp(0.0, 1.0) - self.mean) / self.std

    def grey(self, x01: torch.Tensor) -> torch.Tensor:
        return (x01 * self.luma).sum(0, keepdim=True)


class _ColourTransform:
    """Base of the transforms that work on pixels: the normalisation to undo and redo, and a
    generator."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], rng: np.random.Generator | None) -> None:
        self.px, self.rng = _Pixels(mean, std), rng or np.random.default_rng()


class ColorJitter(_ColourTransform):
    """Scale brightness, contrast and saturation of a normalised RGB ``float32[3,H,W]`` image, each by
    a factor drawn uniformly from ``[1 - strength, 1 + strength]`` (brightness, then contrast about
    the mean grey level, then saturation about each pixel's grey level), clipped to valid pixels."""

    def __init__(
        self,
        strength: float,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        rng: np.random.Generator | None = None,
    ) -> None:
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"ColorJitter: strength must be in [0, 1), got {strength}")
        super().__init__(mean, std, rng)
        self.strength = strength

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        b, c, s = self.rng.uniform(1.0 - self.strength, 1.0 + self.strength, size=3)
        y = self.px.to01(x) * float(b)
        m = self.px.grey(y).mean()
        y = (y - m) * float(c) + m
        g = self.px.grey(y)
        y = (y - g) * float(s) + g
        return self.px.back(y)


class RandomGrayscale(_ColourTransform):
    """With probability ``p`` replace a normalised RGB ``float32[3,H,W]`` image by its grey level."""

    def __init__(
        self,
        p: float,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        rng: np.random.Generator | None = None,
    ) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomGrayscale: p must be in [0, 1], got {p}")
        super().__init__(mean, std, rng)
        self.p = p

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        return self.px.back(self.px.grey(self.px.to01(x)).expand(3, -1, -1))


class RandomDownscale:
    """With probability ``p`` shrink a ``float32[C,H,W]`` image to a random height between
    ``min_scale * H`` and ``H`` (area averaging, aspect kept) and scale it back up to ``H x W``
    (bilinear): the blur of a person seen small, as surveillance and robot cameras see most people
    (PETS09's are 68-100 px tall against CUHK01's 160), and which a model trained on sharp crops does
    not withstand (CUHK01 test rank-1 75.7 -> 65.3 with its images shrunk to 75 px)."""

    def __init__(self, p: float, min_scale: float, rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomDownscale: p must be in [0, 1], got {p}")
        if not 0.0 < min_scale <= 1.0:
            raise ValueError(f"RandomDownscale: min_scale must be in (0, 1], got {min_scale}")
        self.p, self.min_scale, self.rng = p, min_scale, rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        _, h, w = x.shape
        f = float(self.rng.uniform(self.min_scale, 1.0))
        small = (max(1, round(h * f)), max(1, round(w * f)))
        if small == (h, w):
            return x
        y = torch.nn.functional.interpolate(x[None], size=small, mode="area")
        return torch.nn.functional.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)[0]


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
    flip_p: float = 0.5,
    pad: int = 10,
    erase_p: float = 0.5,
    seed: int | Sequence[int] | None = None,
    *,
    color_jitter: float = 0.0,
    gray_p: float = 0.0,
    downscale_p: float = 0.0,
    downscale_min: float = 0.25,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> Compose:
    """The strong-baseline training pipeline: flip, pad + crop, random erasing (seeded); preceded by
    colour jitter and random grayscale when ``color_jitter`` / ``gray_p`` are non-zero (``mean`` and
    ``std``: the normalisation of the images), and before those by :class:`RandomDownscale` when
    ``downscale_p`` is non-zero. With all three zero the random streams are those of the baseline
    pipeline alone (each transform draws from its own stream, so adding one changes no other)."""
    seq = np.random.SeedSequence(seed)
    r = [np.random.default_rng(s) for s in seq.spawn(6)]
    colour: list[Callable[[torch.Tensor], torch.Tensor]] = []
    if downscale_p > 0:
        colour.append(RandomDownscale(downscale_p, downscale_min, r[5]))
    if color_jitter > 0:
        colour.append(ColorJitter(color_jitter, mean, std, r[3]))
    if gray_p > 0:
        colour.append(RandomGrayscale(gray_p, mean, std, r[4]))
    return Compose(
        [*colour, RandomHorizontalFlip(flip_p, r[0]), PadCrop(pad, r[1]), RandomErasing(erase_p, rng=r[2])]
    )
