"""Training loop: data assembly, losses per batch, tqdm progress, checkpoints, resume, JSON-lines log.

A run writes to ``out_dir``:

* ``last.pt``: the checkpoint after the latest finished epoch (see :func:`save_checkpoint`);
* ``log.jsonl``: one JSON object per epoch (``epoch``, ``loss`` and its parts, ``id_acc``, ``lr``,
  ``time_s``, ``batches``).

Checkpoints are plain dicts ``{"model": state_dict, "optimizer": state_dict, "meta": JSON text}``
written with ``torch.save`` and read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from tracker.reid.preprocess import PreprocessSpec
from tracker.reid.train.config import LossConfig, ReidTrainConfig, reid_config_from_dict
from tracker.reid.train.datasets import ImageDataset, Sample, load_dataset, relabel
from tracker.reid.train.losses import (
    attribute_loss,
    batch_hard_triplet_loss,
    cross_entropy_label_smooth,
    pairwise_contrastive_loss,
)
from tracker.reid.train.models import ReidOutput, build_model
from tracker.reid.train.sampler import RandomIdentitySampler
from tracker.reid.train.transforms import build_train_transform

__all__ = [
    "TrainResult",
    "build_train_samples",
    "compute_loss",
    "learning_rate",
    "load_checkpoint",
    "model_from_checkpoint",
    "preprocess_spec",
    "save_checkpoint",
    "train",
]

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "last.pt"
LOG_NAME = "log.jsonl"


def preprocess_spec(cfg: ReidTrainConfig) -> PreprocessSpec:
    """The inference preprocessing of models trained with ``cfg``: RGB, /255, ImageNet mean/std,
    bilinear resize to ``cfg.model.input_size``."""
    return PreprocessSpec(input_size=cfg.model.input_size)


def build_train_samples(cfg: ReidTrainConfig, data_root: str | Path) -> tuple[list[Sample], int]:
    """Training samples of all ``cfg.data.datasets`` with labels ``0..C-1`` (ids of different
    datasets never merge) and camera ids made distinct per dataset. Returns ``(samples, C)``.

    Raises:
        ValueError: a dataset is unknown, missing or has no training images.
    """
    d = cfg.data
    out: list[Sample] = []
    n_cls = 0
    cam_offset = 0
    for i, name in enumerate(d.datasets):
        kwargs: dict[str, Any] = {}
        if name == "cuhk01":
            kwargs = {"train_ids": d.cuhk01_train_ids, "test_ids": d.cuhk01_test_ids}
        elif name == "cuhk03":
            kwargs = {"variant": d.cuhk03_variant}
        elif name.startswith("mot:"):
            kwargs = {
                "camid": i,
                "min_visibility": d.mot_min_visibility,
                "min_height": d.mot_min_height,
                "every": d.mot_every,
            }
        splits = load_dataset(name, data_root, **kwargs)
        if not splits.train:
            raise ValueError(f"dataset {name!r} under {data_root}: no training images")
        samples, mapping = relabel(splits.train, n_cls)
        n_cls += len(mapping)
        out += [s._replace(camid=s.camid + cam_offset) for s in samples]
        cam_offset += max(s.camid for s in samples) + 1
    return out, n_cls


def learning_rate(cfg: ReidTrainConfig, epoch: int) -> float:
    """Learning rate of 0-based ``epoch``: linear warm-up from ``lr/10`` over ``warmup_epochs``,
    then ``lr * gamma**(milestones passed)``."""
    o = cfg.optim
    if epoch < o.warmup_epochs:
        return o.lr * (0.1 + 0.9 * epoch / o.warmup_epochs)
    return o.lr * o.gamma ** sum(epoch >= m for m in o.milestones)


def compute_loss(
    out: ReidOutput, pids: torch.Tensor, attrs: torch.Tensor | None, cfg: LossConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted total of the ID loss (mean over classifiers), triplet loss (mean over metric
    features), optional contrastive loss and, when ``attrs`` (``float32[N,A]``) and attribute logits
    exist, the attribute loss. Returns ``(total, {part: value})``."""
    parts: dict[str, torch.Tensor] = {}
    if cfg.id_weight:
        parts["id"] = sum(  # type: ignore[assignment]
            cross_entropy_label_smooth(lg, pids, cfg.label_smoothing) for lg in out.logits
        ) / len(out.logits)
    if cfg.triplet_weight:
        parts["triplet"] = sum(  # type: ignore[assignment]
            batch_hard_triplet_loss(f, pids, cfg.triplet_margin) for f in out.features
        ) / len(out.features)
    if cfg.contrastive_weight:
        parts["contrastive"] = sum(  # type: ignore[assignment]
            pairwise_contrastive_loss(nn.functional.normalize(f, dim=1), pids, cfg.contrastive_margin)
            for f in out.features
        ) / len(out.features)
    if out.attributes is not None and attrs is not None and attrs.numel() and cfg.attribute_weight:
        parts["attribute"] = attribute_loss(out.attributes, attrs)
    weights = {
        "id": cfg.id_weight,
        "triplet": cfg.triplet_weight,
        "contrastive": cfg.contrastive_weight,
        "attribute": cfg.attribute_weight,
    }
    total = sum(weights[k] * v for k, v in parts.items())
    assert isinstance(total, torch.Tensor)
    return total, {k: float(v.detach()) for k, v in parts.items()}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    cfg: ReidTrainConfig,
    num_classes: int,
    epoch: int,
    num_attributes: int = 0,
) -> None:
    """Write ``{"model", "optimizer", "meta"}``; ``meta`` is JSON text holding the config, the number
    of classes/attributes, the finished ``epoch`` count and the preprocessing spec. Written to a
    temporary file first, then renamed."""
    meta = {
        "format": "tracker.reid.train/1",
        "config": cfg.to_dict(),
        "num_classes": num_classes,
        "num_attributes": num_attributes,
        "epoch": epoch,
        "preprocess": preprocess_spec(cfg).to_dict(),
        "torch": torch.__version__,
    }
    state: dict[str, Any] = {"model": model.state_dict(), "meta": json.dumps(meta)}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a checkpoint with ``weights_only=True``. Returns ``(state, meta)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a checkpoint written by :func:`save_checkpoint`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or "model" not in state or "meta" not in state:
        raise ValueError(f"{path}: not a tracker ReID checkpoint (needs 'model' and 'meta')")
    meta = json.loads(state["meta"])
    return state, meta


def _make_model(cfg: ReidTrainConfig, num_classes: int, num_attributes: int, pretrained: bool) -> nn.Module:
    m = cfg.model
    model = build_model(
        m.arch,
        num_classes,
        embedding_dim=m.embedding_dim,
        width=m.width,
        width_mult=m.width_mult,
        last_stride=m.last_stride,
        num_attributes=num_attributes,
        pretrained=m.pretrained if pretrained else None,
    )
    if m.init_checkpoint and pretrained:
        init_from_checkpoint(model, m.init_checkpoint)
    if m.freeze_blocks:
        features = getattr(getattr(model, "backbone", None), "features", None)
        if features is None:
            raise ValueError(f"model.freeze_blocks: only for mobilenetv2, not {m.arch!r}")
        for p in features[: m.freeze_blocks].parameters():
            p.requires_grad_(False)
    return model


def init_from_checkpoint(model: nn.Module, path: str | Path) -> list[str]:
    """Load the weights of a training checkpoint whose names and shapes match ``model``'s.

    Returns:
        The names of ``model``'s tensors left as they were (e.g. a classifier for a different number
        of identities).

    Raises:
        ValueError: nothing matches (another architecture).
    """
    state, _meta = load_checkpoint(path)
    src = state["model"]
    own = model.state_dict()
    take = {k: v for k, v in src.items() if k in own and tuple(own[k].shape) == tuple(v.shape)}
    if not any(v.ndim > 0 for v in take.values()):  # BatchNorm counters (0-d) match anything
        raise ValueError(f"{path}: no weight matches this model (another architecture?)")
    model.load_state_dict(take, strict=False)
    skipped = sorted(set(own) - set(take))
    logger.info(
        "initialised %d tensors from %s; kept %d as built: %s", len(take), path, len(skipped), skipped[:6]
    )
    return skipped


def model_from_checkpoint(path: str | Path) -> tuple[nn.Module, ReidTrainConfig, dict[str, Any]]:
    """Rebuild the model of a checkpoint (eval mode). Returns ``(model, config, meta)``."""
    state, meta = load_checkpoint(path)
    cfg = reid_config_from_dict(meta["config"], where=f"{path} meta.config")
    model = _make_model(cfg, meta["num_classes"], meta.get("num_attributes", 0), pretrained=False)
    model.load_state_dict(state["model"])
    return model.eval(), cfg, meta


@dataclass
class TrainResult:
    """Outcome of :func:`train`: the per-epoch log entries of this call and the checkpoint path."""

    epochs: list[dict[str, Any]]
    checkpoint: Path
    num_classes: int


def _collate_attrs(attrs: torch.Tensor) -> torch.Tensor | None:
    return attrs if attrs.ndim == 2 and attrs.shape[1] > 0 else None


def train(
    cfg: ReidTrainConfig,
    data_root: str | Path | None,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    samples: Sequence[Sample] | None = None,
    num_classes: int | None = None,
) -> TrainResult:
    """Train a model as ``cfg`` says and write checkpoints and the log to ``out_dir``.

    Args:
        cfg: the configuration.
        data_root: folder holding the datasets (ignored when ``samples`` is given).
        out_dir: output folder.
        resume: continue from ``out_dir/last.pt`` (model, optimiser, finished epochs).
        progress: show a tqdm bar per epoch.
        samples: training samples with labels ``0..num_classes-1`` instead of ``cfg.data.datasets``.
        num_classes: number of labels in ``samples`` (default: ``max label + 1``).

    Returns:
        :class:`TrainResult`.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if samples is None:
        if data_root is None:
            raise ValueError("train: give data_root or samples")
        train_samples, n_cls = build_train_samples(cfg, data_root)
    else:
        train_samples = list(samples)
        n_cls = num_classes if num_classes is not None else max(s.pid for s in train_samples) + 1
    n_attr = len(train_samples[0].attributes or ()) if train_samples else 0
    torch.manual_seed(cfg.seed)
    ckpt_path = out / CHECKPOINT_NAME
    start_epoch = 0
    model = _make_model(cfg, n_cls, n_attr, pretrained=not (resume and ckpt_path.is_file()))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    if resume and ckpt_path.is_file():
        state, meta = load_checkpoint(ckpt_path)
        if meta["num_classes"] != n_cls:
            raise ValueError(f"{ckpt_path}: {meta['num_classes']} classes, the data has {n_cls}")
        model.load_state_dict(state["model"])
        if "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        start_epoch = int(meta["epoch"])
        logger.info("resuming from %s after epoch %d", ckpt_path, start_epoch)
    elif resume:
        logger.warning("--resume: %s not found, starting from scratch", ckpt_path)

    d = cfg.data
    sampler = RandomIdentitySampler([s.pid for s in train_samples], d.p, d.k, cfg.seed)
    dataset = ImageDataset(train_samples, cfg.model.input_size)
    log_path = out / LOG_NAME
    entries: list[dict[str, Any]] = []
    for epoch in range(start_epoch, cfg.optim.epochs):
        sampler.set_epoch(epoch)
        aug = cfg.augment
        dataset.transform = build_train_transform(
            aug.flip_p, aug.pad, aug.erase_p, seed=cfg.seed * 1000 + epoch
        )

        def init_worker(worker_id: int, _epoch: int = epoch, _aug: Any = aug) -> None:
            info = torch.utils.data.get_worker_info()
            if info is not None:  # each worker its own augmentation stream
                ds: Any = info.dataset
                ds.transform = build_train_transform(
                    _aug.flip_p, _aug.pad, _aug.erase_p, seed=[cfg.seed, _epoch, worker_id]
                )

        loader = DataLoader(
            dataset, batch_sampler=sampler, num_workers=d.num_workers, worker_init_fn=init_worker
        )
        lr = learning_rate(cfg, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        t0 = time.perf_counter()
        sums: dict[str, float] = {}
        n_batches = 0
        correct = total = 0
        limit = cfg.optim.max_batches_per_epoch
        n_total = len(sampler) if limit is None else min(limit, len(sampler))
        bar = tqdm(loader, total=n_total, desc=f"epoch {epoch + 1}/{cfg.optim.epochs}", disable=not progress)
        for images, pids, _camids, attrs in bar:
            if limit is not None and n_batches >= limit:
                break
            out_t = model(images)
            assert isinstance(out_t, ReidOutput)
            loss, parts = compute_loss(out_t, pids, _collate_attrs(attrs), cfg.loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            n_batches += 1
            sums["loss"] = sums.get("loss", 0.0) + float(loss.detach())
            for k, v in parts.items():
                sums[f"{k}_loss"] = sums.get(f"{k}_loss", 0.0) + v
            correct += int((out_t.logits[0].argmax(1) == pids).sum())
            total += len(pids)
            bar.set_postfix(loss=f"{sums['loss'] / n_batches:.3f}", acc=f"{correct / max(total, 1):.3f}")
        bar.close()
        entry: dict[str, Any] = {"epoch": epoch + 1}
        entry.update({k: v / max(n_batches, 1) for k, v in sums.items()})
        entry.update(
            id_acc=correct / max(total, 1),
            lr=lr,
            batches=n_batches,
            time_s=round(time.perf_counter() - t0, 3),
        )
        entries.append(entry)
        save_checkpoint(ckpt_path, model, optimizer, cfg, n_cls, epoch + 1, n_attr)
        with log_path.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        logger.info("epoch %d: %s", epoch + 1, entry)
    return TrainResult(entries, ckpt_path, n_cls)


def set_threads(n: int | None) -> None:
    """Set torch's intra-op threads (``None`` keeps the default)."""
    if n is not None:
        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    """Seed numpy's legacy global generator and torch."""
    np.random.seed(seed)  # noqa: NPY002
    torch.manual_seed(seed)
