"""Training loop: data assembly, losses per batch, tqdm progress, checkpoints, resume, JSON-lines log,
graceful stops.

A run writes to ``out_dir``:

* ``last.pt``: the checkpoint after the latest finished epoch, or after the batch in hand when the run
  was stopped by a signal (see :func:`save_checkpoint`);
* ``log.jsonl``: one JSON object per epoch (``epoch``, ``loss`` and its parts, ``id_acc``, ``lr``,
  ``time_s``, ``batches``), and one for the part of an epoch a stopped run did (``"stopped":
  "SIGTERM"``, ``"at_batch"``) or a resumed run finished (``"resumed_at_batch"``).

:func:`train` is a sequence of named steps: :func:`_training_samples` (what to learn from),
:func:`_initial_state` (model, optimiser, resume point), then :func:`_train_epochs`, per epoch
:func:`_epoch_loader`, :func:`_run_epoch` (which calls :func:`_train_batch` per batch) and
:func:`_end_epoch` (checkpoint and log line).

Signals: SIGINT, SIGTERM and SIGHUP (:class:`tracker.signals.GracefulStop`) finish the batch in hand,
write ``last.pt`` with the position inside the epoch (``meta["batch"]``) and the log line, log
``stopped`` and return with :attr:`TrainResult.exit_status` 130 / 143 / 129. ``--resume`` continues
with the next batch of the same epoch, with the same model and optimiser state and the same batch
order; only the random augmentation draws of the rest of that epoch differ from an uninterrupted run
(a resume at an epoch boundary is exact). A second signal leaves at once: ``last.pt`` keeps the state
of the previous save (checkpoints are written to a temporary file and renamed).

Checkpoints are plain dicts ``{"model": state_dict, "optimizer": state_dict, "meta": JSON text}``
written with ``torch.save`` and read tensor-only (:mod:`tracker.reid.train.checkpoint`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from tracker.reid.preprocess import PreprocessSpec
from tracker.reid.train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint_state
from tracker.reid.train.config import LossConfig, ReidTrainConfig, reid_config_from_dict
from tracker.reid.train.datasets import ImageDataset, Sample, load_dataset, relabel
from tracker.reid.train.distill import Teacher, similarity_distillation_loss
from tracker.reid.train.losses import (
    attribute_loss,
    batch_hard_triplet_loss,
    cross_entropy_label_smooth,
    pairwise_contrastive_loss,
)
from tracker.reid.train.models import ReidOutput, build_model
from tracker.reid.train.sampler import RandomIdentitySampler
from tracker.reid.train.transforms import build_train_transform
from tracker.signals import HANDLED_SIGNALS, GracefulStop, StopNow, exit_status_for

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
    out: ReidOutput,
    pids: torch.Tensor,
    attrs: torch.Tensor | None,
    cfg: LossConfig,
    teacher: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted total of the ID loss (mean over classifiers), triplet loss (mean over metric
    features), optional contrastive loss, when ``attrs`` (``float32[N,A]``) and attribute logits
    exist the attribute loss, and when ``teacher`` (``float32[N,D_t]`` teacher embeddings of the same
    images) is given the similarity-distillation loss on ``out.embedding``. Returns
    ``(total, {part: value})``."""
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
    if teacher is not None and cfg.distill_weight:
        if out.embedding is None:
            raise ValueError("distillation: the model gives no embedding in training mode")
        parts["distill"] = similarity_distillation_loss(out.embedding, teacher)
    weights = {
        "id": cfg.id_weight,
        "triplet": cfg.triplet_weight,
        "contrastive": cfg.contrastive_weight,
        "attribute": cfg.attribute_weight,
        "distill": cfg.distill_weight,
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
    batch: int = 0,
) -> None:
    """Write ``{"model", "optimizer", "meta"}``; ``meta`` is JSON text holding the config, the number
    of classes/attributes, the finished ``epoch`` count, the ``batch`` count done of the next epoch
    (non-zero only for a run stopped mid-epoch) and the preprocessing spec. Written to a temporary file
    first, then renamed."""
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": cfg.to_dict(),
        "num_classes": num_classes,
        "num_attributes": num_attributes,
        "epoch": epoch,
        "batch": batch,
        "preprocess": preprocess_spec(cfg).to_dict(),
        "torch": torch.__version__,
    }
    state: dict[str, Any] = {"model": model.state_dict(), "meta": json.dumps(meta)}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    save_checkpoint_state(path, state)


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
        ibn_blocks=m.ibn_blocks,
        pooling=m.pooling,
    )
    if m.init_checkpoint and pretrained:
        init_from_checkpoint(model, m.init_checkpoint)
    if m.freeze_blocks:
        features = getattr(getattr(model, "backbone", None), "features", None)
        if features is None:
            raise ValueError(f"model.freeze_blocks: only for mobilenetv2 and mgn_mobilenetv2, not {m.arch!r}")
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
    model = _make_model(cfg, meta["num_classes"], int(meta.get("num_attributes", 0)), pretrained=False)
    _load_weights(model, state["model"], path)
    return model.eval(), cfg, meta


def _load_weights(model: nn.Module, weights: dict[str, torch.Tensor], path: str | Path) -> None:
    """``model.load_state_dict(weights)`` (strict), a mismatch reported as a ValueError naming ``path``."""
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: the weights do not fit the model its meta describes: {first}") from None


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        epochs: the log entries of this call (a partial epoch too, marked ``"stopped"``).
        checkpoint: ``out_dir/last.pt``.
        num_classes: identities trained on.
        stopped: ``"SIGTERM"`` etc. when a signal stopped the run, else ``None``.
        exit_status: ``0``, or ``128 + signal number`` after a stop (the CLI's exit status).
    """

    epochs: list[dict[str, Any]]
    checkpoint: Path
    num_classes: int
    stopped: str | None = None
    exit_status: int = 0


def _collate_attrs(attrs: torch.Tensor) -> torch.Tensor | None:
    return attrs if attrs.ndim == 2 and attrs.shape[1] > 0 else None


class _SkipBatches(Sampler[list[int]]):
    """A batch sampler without its first ``skip`` batches (continuing an epoch a stop interrupted)."""

    def __init__(self, batches: RandomIdentitySampler, skip: int) -> None:
        self.batches, self.skip = batches, skip

    def __iter__(self) -> Iterator[list[int]]:
        for i, batch in enumerate(self.batches):
            if i >= self.skip:
                yield batch

    def __len__(self) -> int:
        return max(len(self.batches) - self.skip, 0)


@dataclass
class _EpochStats:
    """Running sums of one epoch (or of the part of it done by this call)."""

    sums: dict[str, float] = field(default_factory=dict)
    batches: int = 0
    correct: int = 0
    total: int = 0

    def add(self, loss: float, parts: dict[str, float], correct: int, total: int) -> None:
        self.batches += 1
        self.sums["loss"] = self.sums.get("loss", 0.0) + loss
        for k, v in parts.items():
            self.sums[f"{k}_loss"] = self.sums.get(f"{k}_loss", 0.0) + v
        self.correct += correct
        self.total += total

    def entry(self, epoch: int, lr: float, seconds: float) -> dict[str, Any]:
        """The log line of 0-based ``epoch``: mean losses per batch, ID accuracy, lr, batches, time."""
        out: dict[str, Any] = {"epoch": epoch + 1}
        out.update({k: v / max(self.batches, 1) for k, v in self.sums.items()})
        out.update(
            id_acc=self.correct / max(self.total, 1), lr=lr, batches=self.batches, time_s=round(seconds, 3)
        )
        return out


@dataclass
class _TrainState:
    """What a run trains and where it starts: model, optimiser, data and the resume position."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    samples: list[Sample]
    num_classes: int
    num_attributes: int
    start_epoch: int = 0
    start_batch: int = 0
    teacher: Teacher | None = None


def _training_samples(
    cfg: ReidTrainConfig,
    data_root: str | Path | None,
    samples: Sequence[Sample] | None,
    num_classes: int | None,
) -> tuple[list[Sample], int]:
    """Step 1: the training samples and their number of classes (``samples`` or ``cfg.data``)."""
    if samples is None:
        if data_root is None:
            raise ValueError("train: give data_root or samples")
        return build_train_samples(cfg, data_root)
    out = list(samples)
    if not out:
        raise ValueError("train: no training samples")
    return out, num_classes if num_classes is not None else max(s.pid for s in out) + 1


def _initial_state(
    cfg: ReidTrainConfig, samples: list[Sample], n_cls: int, ckpt_path: Path, resume: bool
) -> _TrainState:
    """Step 2: model and optimiser, built afresh (pretrained weights, ``init_checkpoint``) or loaded
    from ``ckpt_path`` when resuming; the epoch and batch to start from."""
    n_attr = len(samples[0].attributes or ())
    torch.manual_seed(cfg.seed)
    resuming = resume and ckpt_path.is_file()
    if resume and not resuming:
        logger.warning("--resume: %s not found, starting from scratch", ckpt_path)
    model = _make_model(cfg, n_cls, n_attr, pretrained=not resuming)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    state = _TrainState(model, optimizer, samples, n_cls, n_attr)
    if cfg.loss.distill_teacher is not None:
        state.teacher = Teacher(cfg.loss.distill_teacher, preprocess_spec(cfg))
        logger.info("distilling from %r (weight %g)", state.teacher, cfg.loss.distill_weight)
    if resuming:
        ckpt, meta = load_checkpoint(ckpt_path)
        _check_resumed_config(ckpt_path, meta.get("config"), cfg)
        if meta["num_classes"] != n_cls:
            raise ValueError(f"{ckpt_path}: {meta['num_classes']} classes, the data has {n_cls}")
        _load_weights(model, ckpt["model"], ckpt_path)
        if "optimizer" in ckpt:
            try:
                optimizer.load_state_dict(ckpt["optimizer"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{ckpt_path}: optimizer state does not fit this model: {exc}") from None
        batch = meta.get("batch", 0)
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 0:
            raise ValueError(f"{ckpt_path}: meta.batch must be an integer >= 0, got {batch!r}")
        state.start_epoch, state.start_batch = meta["epoch"], batch
        logger.info("resuming from %s after epoch %d, batch %d", ckpt_path, meta["epoch"], batch)
    return state


_RESUME_FREE = frozenset(
    {"name", "optim.epochs", "model.pretrained", "model.init_checkpoint", "data.num_workers"}
)
"""Config entries a resumed run may change: its name, the number of epochs (``--epochs``), the
starting weights (unused when resuming) and the loader's worker count."""


def _check_resumed_config(ckpt_path: Path, saved: Any, cfg: ReidTrainConfig) -> None:
    """Refuse to resume a run with another recipe than the one it was trained with (its exported
    model would then name the second one); see :data:`_RESUME_FREE` for what may change. Entries the
    checkpoint does not record (written by an older version) are not compared."""
    if not isinstance(saved, dict):
        return  # a checkpoint written before the config was recorded
    now = json.loads(json.dumps(cfg.to_dict()))  # as the checkpoint stores it (tuples as lists)
    changed: list[str] = []
    for sec in sorted(saved.keys() & now.keys()):
        x, y = saved[sec], now[sec]
        if isinstance(x, dict) and isinstance(y, dict):
            keys = [f"{sec}.{k}" for k in sorted(x.keys() & y.keys()) if x[k] != y[k]]
        else:
            keys = [sec] if x != y else []
        changed += [k for k in keys if k not in _RESUME_FREE]
    if changed:
        raise ValueError(
            f"{ckpt_path}: was trained with config {saved.get('name')!r}; --resume needs the same "
            f"recipe (only --epochs and the starting weights may change), these differ: {', '.join(changed)}"
        )


def _ignore_stop_signals() -> None:
    """In DataLoader workers: leave SIGINT/SIGTERM/SIGHUP to the main process, which stops the run
    and shuts the workers down (a Ctrl-C reaches the whole process group)."""
    for name in HANDLED_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)


def _epoch_loader(
    cfg: ReidTrainConfig, dataset: ImageDataset, sampler: RandomIdentitySampler, epoch: int, skip: int
) -> DataLoader:
    """Step 3 (per epoch): the seeded augmentations and the loader of 0-based ``epoch``, without its
    first ``skip`` batches."""
    sampler.set_epoch(epoch)
    aug = cfg.augment
    spec = preprocess_spec(cfg)
    colour: dict[str, Any] = {
        "color_jitter": aug.color_jitter,
        "gray_p": aug.gray_p,
        "downscale_p": aug.downscale_p,
        "downscale_min": aug.downscale_min,
        "augmix_p": aug.augmix_p,
        "truncate_p": aug.truncate_p,
        "truncate_min": aug.truncate_min,
        "mean": spec.mean,
        "std": spec.std,
    }
    dataset.transform = build_train_transform(
        aug.flip_p, aug.pad, aug.erase_p, seed=cfg.seed * 1000 + epoch, **colour
    )

    def init_worker(worker_id: int) -> None:
        _ignore_stop_signals()
        info = torch.utils.data.get_worker_info()
        if info is not None:  # each worker its own augmentation stream
            ds: Any = info.dataset
            ds.transform = build_train_transform(
                aug.flip_p, aug.pad, aug.erase_p, seed=[cfg.seed, epoch, worker_id], **colour
            )

    batches = sampler if skip == 0 else _SkipBatches(sampler, skip)
    return DataLoader(
        dataset, batch_sampler=batches, num_workers=cfg.data.num_workers, worker_init_fn=init_worker
    )


def _train_batch(
    state: _TrainState, batch: Sequence[torch.Tensor], cfg: ReidTrainConfig, stats: _EpochStats
) -> None:
    """One optimisation step on ``(images float32[B,3,H,W], pids int64[B], camids, attrs)``."""
    images, pids, _camids, attrs = batch
    teacher = state.teacher.embed(images) if state.teacher is not None else None
    out_t = state.model(images)
    assert isinstance(out_t, ReidOutput)
    loss, parts = compute_loss(out_t, pids, _collate_attrs(attrs), cfg.loss, teacher)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.optimizer.step()
    stats.add(float(loss.detach()), parts, int((out_t.logits[0].argmax(1) == pids).sum()), len(pids))


def _run_epoch(
    state: _TrainState,
    cfg: ReidTrainConfig,
    loader: DataLoader,
    epoch: int,
    skip: int,
    epoch_length: int,
    stop: GracefulStop,
    progress: bool,
) -> tuple[_EpochStats, int]:
    """Step 4 (per epoch): train on the batches of ``loader`` until the epoch ends or a stop is
    requested (checked after each batch, so the batch in hand is always finished). Returns the stats
    and the number of batches of the epoch done so far (``skip`` included)."""
    from tqdm import tqdm

    state.model.train()
    stats = _EpochStats()
    done = skip
    bar = tqdm(
        loader,
        total=epoch_length - skip,
        desc=f"epoch {epoch + 1}/{cfg.optim.epochs}",
        disable=not progress,
    )
    try:
        for batch in bar:
            if done >= epoch_length:
                break
            _train_batch(state, batch, cfg, stats)
            done += 1
            bar.set_postfix(
                loss=f"{stats.sums['loss'] / stats.batches:.3f}", acc=f"{stats.correct / stats.total:.3f}"
            )
            logger.debug("epoch %d batch %d/%d: loss %.4f", epoch + 1, done, epoch_length, stats.sums["loss"])
            if stop.requested:
                break
    finally:
        bar.close()
    return stats, done


def _end_epoch(
    state: _TrainState,
    cfg: ReidTrainConfig,
    out: Path,
    epoch: int,
    done: int,
    epoch_length: int,
    entry: dict[str, Any],
) -> None:
    """Step 5 (per epoch, or at a stop): write ``last.pt`` (the finished epochs, plus ``done``
    batches of an unfinished one) and append ``entry`` to ``log.jsonl``."""
    finished = done >= epoch_length
    save_checkpoint(
        out / CHECKPOINT_NAME,
        state.model,
        state.optimizer,
        cfg,
        state.num_classes,
        epoch + 1 if finished else epoch,
        state.num_attributes,
        batch=0 if finished else done,
    )
    with (out / LOG_NAME).open("a") as f:
        f.write(json.dumps(entry) + "\n")
    logger.info("epoch %d: %s", epoch + 1, entry)


def train(
    cfg: ReidTrainConfig,
    data_root: str | Path | None,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    samples: Sequence[Sample] | None = None,
    num_classes: int | None = None,
    stop: GracefulStop | None = None,
) -> TrainResult:
    """Train a model as ``cfg`` says and write checkpoints and the log to ``out_dir``.

    Args:
        cfg: the configuration.
        data_root: folder holding the datasets (ignored when ``samples`` is given).
        out_dir: output folder; without ``resume`` it must not hold a checkpoint already (``ValueError``:
            a new run would replace it and mix two runs in one log).
        resume: continue from ``out_dir/last.pt`` (model, optimiser, finished epochs, and the batch
            position of an epoch a stop interrupted).
        progress: show a tqdm bar per epoch.
        samples: training samples with labels ``0..num_classes-1`` instead of ``cfg.data.datasets``.
        num_classes: number of labels in ``samples`` (default: ``max label + 1``).
        stop: a :class:`~tracker.signals.GracefulStop` already entered by the caller (or one whose
            :meth:`~tracker.signals.GracefulStop.request` a caller uses); default: one installed here
            for SIGINT/SIGTERM/SIGHUP for the duration of the run.

    Returns:
        :class:`TrainResult`; after a signal, ``stopped`` and ``exit_status`` say which (module
        docstring).
    """
    with contextlib.ExitStack() as stack:
        if stop is None:
            stop = stack.enter_context(GracefulStop())
        out = Path(out_dir)
        if not resume and (out / CHECKPOINT_NAME).exists():
            # a fresh run here would replace that run's checkpoint and append to its log
            raise ValueError(
                f"{out}: already holds a training run ({CHECKPOINT_NAME}); continue it with --resume "
                "or choose another --out"
            )
        out.mkdir(parents=True, exist_ok=True)
        train_samples, n_cls = _training_samples(cfg, data_root, samples, num_classes)
        state = _initial_state(cfg, train_samples, n_cls, out / CHECKPOINT_NAME, resume)
        return _train_epochs(state, cfg, out, stop, progress)


def _train_epochs(
    state: _TrainState, cfg: ReidTrainConfig, out: Path, stop: GracefulStop, progress: bool
) -> TrainResult:
    """Steps 3-5 for every epoch from the start position to ``cfg.optim.epochs``, or until a stop."""
    d = cfg.data
    sampler = RandomIdentitySampler([s.pid for s in state.samples], d.p, d.k, cfg.seed)
    dataset = ImageDataset(state.samples, cfg.model.input_size)
    ckpt_path = out / CHECKPOINT_NAME
    entries: list[dict[str, Any]] = []
    epoch, skip = state.start_epoch, state.start_batch
    try:
        while epoch < cfg.optim.epochs:
            limit = cfg.optim.max_batches_per_epoch
            epoch_length = len(sampler) if limit is None else min(limit, len(sampler))
            lr = learning_rate(cfg, epoch)
            for group in state.optimizer.param_groups:
                group["lr"] = lr
            t0 = time.perf_counter()
            loader = _epoch_loader(cfg, dataset, sampler, epoch, skip)
            stats, done = _run_epoch(state, cfg, loader, epoch, skip, epoch_length, stop, progress)
            entry = stats.entry(epoch, lr, time.perf_counter() - t0)
            if skip:
                entry["resumed_at_batch"] = skip
            if done < epoch_length:
                entry.update(stopped=stop.signal_name, at_batch=done)
            _end_epoch(state, cfg, out, epoch, done, epoch_length, entry)
            entries.append(entry)
            epoch, skip = (epoch + 1, 0) if done >= epoch_length else (epoch, done)
            if stop.requested:
                break
    except StopNow as now:  # (a checkpoint being written is dropped whole: tracker.io.atomic)
        logger.warning(
            "stopped at once by a second %s: %s keeps the last state saved; the batches since are lost",
            signal.Signals(now.signum).name,
            ckpt_path,
        )
        return TrainResult(
            entries, ckpt_path, state.num_classes, stop.signal_name, exit_status_for(now.signum)
        )
    if stop.requested:
        logger.warning(
            "stopped by %s: %s holds the state after %d epoch(s) and %d batch(es) of the next; "
            "--resume continues from there",
            stop.signal_name,
            ckpt_path,
            epoch,
            skip,
        )
    return TrainResult(entries, ckpt_path, state.num_classes, stop.signal_name, stop.exit_status(0))


def set_threads(n: int | None) -> None:
    """Set torch's intra-op threads (``None`` keeps the default)."""
    if n is not None:
        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    """Seed numpy's legacy global generator and torch."""
    np.random.seed(seed)  # noqa: NPY002
    torch.manual_seed(seed)
