"""Training augmentations of the ReID strong baseline, on ``float32[3,H,W]`` tensors, seeded.

Random horizontal flip, zero pad + random crop back to the input size, and random erasing
(Zhong et al. 2020) with the baseline's defaults; for domain generalisation, optionally colour jitter
(brightness, contrast, saturation) and random grayscale first, so that a model leans less on the
colour rendition of the training cameras, a low-resolution blur, AugMix, and a truncation to part of
the width (a person half inside a view, as at every camera's edge). Each transform draws
from its own ``numpy.random.Generator`` so a seed reproduces the same augmentations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "AugMix",
    "ColorJitter",
    "Compose",
    "PadCrop",
    "RandomDownscale",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomTruncate",
    "build_train_transform",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_LUMA = (0.299, 0.587, 0.114)  # RGB weights of the grey level (ITU-R BT.601)


def _check_probability(transform: str, p: float) -> None:
    """``ValueError`` naming ``transform`` unless its probability ``p`` is in ``[0, 1]``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{transform}: p must be in [0, 1], got {p}")


def _check_fraction(transform: str, name: str, value: float) -> None:
    """``ValueError`` naming ``transform`` and ``name`` unless ``value`` is in ``(0, 1]``."""
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{transform}: {name} must be in (0, 1], got {value}")


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
        _check_probability("RandomGrayscale", p)
        super().__init__(mean, std, rng)
        self.p = p

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        return self.px.back(self.px.grey(self.px.to01(x)).expand(3, -1, -1))


def _stretch(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``float32[C,h',w']`` resized to ``float32[C,h,w]`` (bilinear, as the embedder resizes a crop)."""
    return torch.nn.functional.interpolate(x[None], size=(h, w), mode="bilinear", align_corners=False)[0]


class RandomDownscale:
    """With probability ``p`` shrink a ``float32[C,H,W]`` image to a random height between
    ``min_scale * H`` and ``H`` (area averaging, aspect kept) and scale it back up to ``H x W``
    (bilinear): the blur of a person seen small, as surveillance and robot cameras see most people
    (PETS09's are 68-100 px tall against CUHK01's 160), and which a model trained on sharp crops does
    not withstand (CUHK01 test rank-1 75.7 -> 65.3 with its images shrunk to 75 px)."""

    def __init__(self, p: float, min_scale: float, rng: np.random.Generator | None = None) -> None:
        _check_probability("RandomDownscale", p)
        _check_fraction("RandomDownscale", "min_scale", min_scale)
        self.p, self.min_scale, self.rng = p, min_scale, rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        _, h, w = x.shape
        f = float(self.rng.uniform(self.min_scale, 1.0))
        small = (max(1, round(h * f)), max(1, round(w * f)))
        if small == (h, w):
            return x
        return _stretch(torch.nn.functional.interpolate(x[None], size=small, mode="area")[0], h, w)


class RandomTruncate:
    """With probability ``p`` keep a random fraction in ``[min_keep, 1]`` of a ``float32[C,H,W]``
    image's width, from its left or right side (even odds), and stretch it back to ``H x W``
    (bilinear): what an embedder sees of a person entering or leaving a camera's view, whose box the
    view's edge cuts, as when a handoff between cameras is decided."""

    def __init__(self, p: float, min_keep: float, rng: np.random.Generator | None = None) -> None:
        _check_probability("RandomTruncate", p)
        _check_fraction("RandomTruncate", "min_keep", min_keep)
        self.p, self.min_keep, self.rng = p, min_keep, rng or np.random.default_rng()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        _, h, w = x.shape
        keep = max(1, round(w * float(self.rng.uniform(self.min_keep, 1.0))))
        left = bool(self.rng.random() < 0.5)
        if keep == w:
            return x
        return _stretch(x[:, :, :keep] if left else x[:, :, w - keep :], h, w)


def _affine(x: torch.Tensor, theta: list[list[float]]) -> torch.Tensor:
    """Warp ``float32[C,H,W]`` by the 2x3 ``theta`` of ``affine_grid`` (normalised coordinates),
    bilinear, zeros outside."""
    grid = torch.nn.functional.affine_grid(
        torch.tensor([theta], dtype=x.dtype), [1, *x.shape], align_corners=False
    )
    return torch.nn.functional.grid_sample(x[None], grid, align_corners=False)[0]


def _equalize(x01: torch.Tensor) -> torch.Tensor:
    """Histogram equalisation of each channel of ``float32[3,H,W]`` pixels in ``[0,1]`` (256 bins)."""
    q = (x01.clamp(0.0, 1.0) * 255).round().long()
    out = torch.empty_like(x01)
    for c in range(x01.shape[0]):
        hist = torch.bincount(q[c].flatten(), minlength=256).to(torch.float32)
        cdf = hist.cumsum(0)
        lo = cdf[hist > 0][0]
        span = cdf[-1] - lo
        out[c] = (cdf[q[c]] - lo) / span if span > 0 else x01[c]
    return out


class AugMix(_ColourTransform):
    """AugMix (Hendrycks et al. 2020) on a normalised RGB ``float32[3,H,W]`` image, with probability
    ``p``: ``width`` chains of 1-3 operations each (autocontrast, equalise, posterise, solarise,
    rotate, shear, translate; the ImageNet-C-free set of the paper, at severity ``severity`` of 10),
    mixed with Dirichlet(1) weights, then blended with the original by a Beta(1, 1) weight. The image
    keeps its content and size but loses the low-level statistics a model could overfit to the
    training cameras."""

    _OPS = (
        "autocontrast",
        "equalize",
        "posterize",
        "solarize",
        "rotate",
        "shear_x",
        "shear_y",
        "translate_x",
        "translate_y",
    )

    def __init__(
        self,
        p: float,
        severity: int = 3,
        width: int = 3,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        rng: np.random.Generator | None = None,
    ) -> None:
        _check_probability("AugMix", p)
        if not 1 <= severity <= 10:
            raise ValueError(f"AugMix: severity must be in [1, 10], got {severity}")
        if width < 1:
            raise ValueError(f"AugMix: width must be at least 1, got {width}")
        super().__init__(mean, std, rng)
        self.p, self.severity, self.width = p, severity, width

    def _level(self, top: float) -> float:
        """A random magnitude in ``[0.1, 1] x severity / 10 x top``."""
        return float(self.rng.uniform(0.1, 1.0)) * self.severity / 10.0 * top

    def _op(self, name: str, x: torch.Tensor) -> torch.Tensor:
        sign = 1.0 if self.rng.random() < 0.5 else -1.0
        if name == "autocontrast":
            lo = x.amin(dim=(1, 2), keepdim=True)
            hi = x.amax(dim=(1, 2), keepdim=True)
            return torch.where(hi > lo, (x - lo) / (hi - lo).clamp_min(1e-6), x)
        if name == "equalize":
            return _equalize(x)
        if name == "posterize":
            levels = 2 ** (4 - int(self._level(4.0)))  # 3-4 bits at severity 3, as in the paper
            return torch.floor(x * levels) / levels
        if name == "solarize":
            thr = 1.0 - self._level(1.0)
            return torch.where(x >= thr, 1.0 - x, x)
        if name == "rotate":
            a = math.radians(sign * self._level(30.0))
            return _affine(x, [[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
        if name == "shear_x":
            return _affine(x, [[1.0, sign * self._level(0.3), 0.0], [0.0, 1.0, 0.0]])
        if name == "shear_y":
            return _affine(x, [[1.0, 0.0, 0.0], [sign * self._level(0.3), 1.0, 0.0]])
        # translations: at most severity / 10 of a third of the side (normalised coordinates span 2)
        if name == "translate_x":
            return _affine(x, [[1.0, 0.0, sign * self._level(2.0 / 3.0)], [0.0, 1.0, 0.0]])
        return _affine(x, [[1.0, 0.0, 0.0], [0.0, 1.0, sign * self._level(2.0 / 3.0)]])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() >= self.p:
            return x
        x01 = self.px.to01(x).clamp(0.0, 1.0)
        weights = self.rng.dirichlet([1.0] * self.width)
        mix = torch.zeros_like(x01)
        for w in weights:
            y = x01
            for _ in range(int(self.rng.integers(1, 4))):
                y = self._op(self._OPS[int(self.rng.integers(len(self._OPS)))], y)
            mix += float(w) * y
        m = float(self.rng.beta(1.0, 1.0))
        return self.px.back(m * x01 + (1.0 - m) * mix)


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
    augmix_p: float = 0.0,
    truncate_p: float = 0.0,
    truncate_min: float = 0.5,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> Compose:
    """The strong-baseline training pipeline: flip, pad + crop, random erasing (seeded); preceded by
    colour jitter and random grayscale when ``color_jitter`` / ``gray_p`` are non-zero (``mean`` and
    ``std``: the normalisation of the images), before those by :class:`RandomDownscale` when
    ``downscale_p`` is non-zero, and after them by :class:`AugMix` when ``augmix_p`` is non-zero;
    :class:`RandomTruncate` first of all when ``truncate_p`` is non-zero. With all of them zero the
    random streams are those of the baseline pipeline alone (each transform draws from its own stream,
    so adding one changes no other)."""
    seq = np.random.SeedSequence(seed)
    r = [np.random.default_rng(s) for s in seq.spawn(8)]  # child i does not depend on the count
    colour: list[Callable[[torch.Tensor], torch.Tensor]] = []
    if truncate_p > 0:
        colour.append(RandomTruncate(truncate_p, truncate_min, r[7]))
    if downscale_p > 0:
        colour.append(RandomDownscale(downscale_p, downscale_min, r[5]))
    if color_jitter > 0:
        colour.append(ColorJitter(color_jitter, mean, std, r[3]))
    if gray_p > 0:
        colour.append(RandomGrayscale(gray_p, mean, std, r[4]))
    if augmix_p > 0:
        colour.append(AugMix(augmix_p, mean=mean, std=std, rng=r[6]))
    return Compose(
        [*colour, RandomHorizontalFlip(flip_p, r[0]), PadCrop(pad, r[1]), RandomErasing(erase_p, rng=r[2])]
    )
