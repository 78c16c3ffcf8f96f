"""ReID losses: label-smoothed ID loss, batch-hard triplet (hard or soft margin), contrastive pair
loss and multi-task attribute BCE."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "attribute_loss",
    "batch_hard_triplet_loss",
    "contrastive_loss",
    "cross_entropy_label_smooth",
    "pairwise_contrastive_loss",
    "pairwise_distances",
]


def cross_entropy_label_smooth(
    logits: torch.Tensor, targets: torch.Tensor, epsilon: float = 0.1
) -> torch.Tensor:
    """Softmax cross-entropy with label smoothing.

    ``q = (1 - epsilon) * onehot(target) + epsilon / C``; loss = ``mean_i( -sum_c q_ic log p_ic )``.

    Args:
        logits: ``float32[N,C]``.
        targets: ``int64[N]`` class labels.
        epsilon: smoothing in ``[0, 1)``.

    Returns:
        Scalar loss.
    """
    log_p = F.log_softmax(logits, dim=1)
    n_cls = logits.shape[1]
    q = torch.full_like(log_p, epsilon / n_cls)
    q.scatter_(1, targets.view(-1, 1), 1.0 - epsilon + epsilon / n_cls)
    return -(q * log_p).sum(dim=1).mean()


def pairwise_distances(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances of the rows of ``float32[N,D]``: ``float32[N,N]`` (clamped at 1e-12)."""
    sq = (x * x).sum(dim=1, keepdim=True)
    d2 = sq + sq.t() - 2.0 * x @ x.t()
    return d2.clamp(min=1e-12).sqrt()


def batch_hard_triplet_loss(
    features: torch.Tensor, pids: torch.Tensor, margin: float | None = 0.3
) -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al. 2017).

    For each anchor the farthest positive ``d_p`` and the closest negative ``d_n`` (Euclidean) give
    ``max(0, d_p - d_n + margin)``, or ``log(1 + exp(d_p - d_n))`` when ``margin is None`` (soft
    margin). Averaged over anchors.

    Args:
        features: ``float32[N,D]``.
        pids: ``int64[N]``; every anchor needs a positive and a negative in the batch.

    Returns:
        Scalar loss.
    """
    dist = pairwise_distances(features)
    same = pids.view(-1, 1) == pids.view(1, -1)
    d_p = dist.masked_fill(~same, float("-inf")).max(dim=1).values
    d_n = dist.masked_fill(same, float("inf")).min(dim=1).values
    if margin is None:
        return F.softplus(d_p - d_n).mean()
    return F.relu(d_p - d_n + margin).mean()


def contrastive_loss(
    x1: torch.Tensor, x2: torch.Tensor, same: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """Contrastive (verification) loss on pairs (Hadsell et al. 2006).

    ``d = ||x1 - x2||``; loss = ``mean( y d^2 + (1 - y) max(0, margin - d)^2 ) / 2``.

    Args:
        x1, x2: ``float32[M,D]`` pair members.
        same: ``bool[M]`` or ``float[M]`` 1 for the same identity.

    Returns:
        Scalar loss.
    """
    y = same.to(x1.dtype)
    d = (x1 - x2).pow(2).sum(dim=1).clamp(min=1e-12).sqrt()
    return 0.5 * (y * d.pow(2) + (1 - y) * F.relu(margin - d).pow(2)).mean()


def pairwise_contrastive_loss(
    features: torch.Tensor, pids: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """:func:`contrastive_loss` over all ``N(N-1)/2`` pairs of a batch ``float32[N,D]``."""
    i, j = torch.triu_indices(len(features), len(features), offset=1, device=features.device)
    return contrastive_loss(features[i], features[j], pids[i] == pids[j], margin)


def attribute_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Multi-task attribute loss: binary cross-entropy per attribute, averaged over attributes.

    Args:
        logits: ``float32[N,A]`` attribute logits (one head per attribute).
        targets: ``float32[N,A]`` in ``{0, 1}``; ``-1`` marks unknown labels, which are ignored.

    Returns:
        Scalar: ``mean_a( mean over known i of BCE(logit_ia, target_ia) )`` (0 when nothing is known).
    """
    known = targets >= 0
    bce = F.binary_cross_entropy_with_logits(logits, targets.clamp(min=0), reduction="none") * known
    per_attr = bce.sum(dim=0) / known.sum(dim=0).clamp(min=1)
    has = known.any(dim=0)
    if not bool(has.any()):
        return logits.sum() * 0.0
    return per_attr[has].mean()
