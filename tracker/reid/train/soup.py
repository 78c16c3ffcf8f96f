"""Weight averaging of ReID training checkpoints of one architecture (a "model soup").

Checkpoints fine-tuned from one another lie in one basin of the loss, and a weighted mean of their
weights is often a better model than any of them (Wortsman et al., "Robust fine-tuning of zero-shot
models", "Model soups", 2022); it costs nothing at inference. The default embedder is such a mean
(see ``tracker/assets/README.md``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from .checkpoint import load_checkpoint, save_checkpoint_state

__all__ = ["average_checkpoints"]

_OWN_PREFIXES = ("classifier.", "classifiers.", "attributes.")
"""Tensors that may differ between the checkpoints (the training heads: identity classifiers, trained
on each run's own identities, and attribute heads; not part of the exported model): taken from the
first. Every other tensor must have
the same name and shape in all of them."""


def average_checkpoints(items: Sequence[tuple[str | Path, float]], out: str | Path) -> tuple[int, int]:
    """Write to ``out`` the weighted mean of the checkpoints ``items`` (``(path, weight)`` pairs,
    weights >= 0, normalised to sum 1).

    Every floating-point tensor whose name and shape all checkpoints share is averaged (in float64,
    stored in its own dtype), BatchNorm running statistics included; integer tensors
    (``num_batches_tracked``) and the training heads (classifiers trained on other identities, of
    another shape; attribute heads) are taken from the first checkpoint, whose ``meta`` (config, classes) the result keeps.
    Files are read tensor-only (:func:`~tracker.reid.train.checkpoint.load_checkpoint`).

    Returns ``(averaged, taken_from_first)`` tensor counts.

    Raises:
        ValueError: no checkpoint, a negative weight, weights summing to 0, checkpoints of different
            architectures or with a tensor (other than the training heads) missing or of another shape,
            or a file :func:`load_checkpoint` refuses (named). Nothing is written then.
    """
    if not items:
        raise ValueError("average_checkpoints: no checkpoint given")
    for path, w in items:
        if not w >= 0:
            raise ValueError(f"{path}: weight must be >= 0, got {w}")
    total = float(sum(w for _, w in items))
    if total <= 0:
        raise ValueError("average_checkpoints: the weights sum to 0")
    loaded = [load_checkpoint(path) for path, _ in items]
    archs = {json.dumps(meta["config"].get("model", {}).get("arch")) for _, meta in loaded}
    if len(archs) > 1:
        raise ValueError(
            f"average_checkpoints: the checkpoints have different architectures: {sorted(archs)}"
        )
    models = [state["model"] for state, _ in loaded]
    for (path, _), m in zip(items[1:], models[1:], strict=True):
        for name in models[0].keys() ^ m.keys():
            if not name.startswith(_OWN_PREFIXES):
                raise ValueError(f"{path}: tensor {name!r} is in one checkpoint and not the other")
        for name in models[0].keys() & m.keys():
            if m[name].shape != models[0][name].shape and not name.startswith(_OWN_PREFIXES):
                raise ValueError(
                    f"{path}: tensor {name!r} is {tuple(m[name].shape)}, "
                    f"{tuple(models[0][name].shape)} in {items[0][0]}: not one model"
                )
    mean: dict[str, torch.Tensor] = {}
    averaged = kept = 0
    for name, t in models[0].items():
        # (past the checks above, every tensor but the heads has one name and shape in all)
        if t.is_floating_point() and not name.startswith(_OWN_PREFIXES):
            acc = torch.zeros(t.shape, dtype=torch.float64)
            for m, (_, w) in zip(models, items, strict=True):
                acc += (w / total) * m[name].to(torch.float64)
            mean[name] = acc.to(t.dtype)
            averaged += 1
        else:
            mean[name] = t.clone()
            kept += 1
    save_checkpoint_state(out, {"model": mean, "meta": json.dumps(loaded[0][1])})
    return averaged, kept
