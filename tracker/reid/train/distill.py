"""Relational knowledge distillation from a stronger ONNX ReID model (the teacher).

The student learns the teacher's *similarity structure*, not its features: for a batch, each
model's embeddings are L2-normalised, centred on the batch mean and normalised again (``ĉ``), and
the cosine similarity matrices ``S = ĉ ĉᵀ`` of student (inference features) and teacher are compared
off the diagonal,

    loss = mean_{i != j} (S_s[i,j] - S_t[i,j])²,

so the teacher may have any embedding size and the student keeps its own. The centring matters: a
BN-neck student's features are centred on its training data by construction (strangers' cosine
about 0.08 on a CUHK batch), while OSNet's are not (about 0.45); without it the loss (0.25 on such a
batch, against 0.024 centred) is the offset between the two, which the student cannot remove, and in
a first run it stayed flat for a whole epoch. A teacher trained on more
and more varied people (OSNet on MSMT17: 4,101 identities, 15 cameras) ranks strangers from other
cameras better than our CUHK-only model; matching its similarities on our training batches (the same
augmented images both see) carries some of that over.

The teacher runs through :class:`tracker.reid.OnnxEmbedder`, so it is checked at load, its execution
providers are logged and its own preprocessing applies: the student's normalised batch is turned back
into ``uint8`` BGR pixels (rounded) and handed over as crops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tracker.reid.embedder import OnnxEmbedder
from tracker.reid.preprocess import PreprocessSpec

__all__ = ["Teacher", "similarity_distillation_loss"]


class Teacher:
    """A frozen ONNX ReID model that embeds the student's training batches.

    Args:
        model_path: the teacher's ``.onnx`` file (its preprocessing from metadata or a sidecar).
        student_spec: the student's preprocessing (RGB order, ``scale``, ``mean``, ``std``), used to
            turn normalised ``float32[B,3,H,W]`` batches back into pixels.
        threads: ONNX Runtime intra-op threads.
    """

    def __init__(
        self, model_path: str | Path, student_spec: PreprocessSpec, threads: int | None = None
    ) -> None:
        if student_spec.channel_order != "RGB":
            raise ValueError("Teacher: the student's preprocessing must be RGB (as reid train's is)")
        self.embedder = OnnxEmbedder(model_path, threads=threads)
        s = student_spec
        self._std = torch.tensor(s.std, dtype=torch.float32).view(1, 3, 1, 1) / s.scale
        self._mean = torch.tensor(s.mean, dtype=torch.float32).view(1, 3, 1, 1) / s.scale

    def __repr__(self) -> str:
        return f"Teacher({self.embedder!r})"

    def pixels(self, images: torch.Tensor) -> np.ndarray:
        """``float32[B,3,H,W]`` student-normalised -> ``uint8[B,H,W,3]`` BGR pixels."""
        x = images.detach() * self._std + self._mean
        rgb = x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return np.ascontiguousarray(rgb[..., ::-1])

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Teacher embeddings of a student batch: ``float32[B,D_t]``, L2-normalised, no gradient."""
        return torch.from_numpy(self.embedder.embed_crops(self.pixels(images)))


def _centred(e: torch.Tensor) -> torch.Tensor:
    """``float32[B,D]`` -> L2-normalised, minus the batch mean, L2-normalised again."""
    u = torch.nn.functional.normalize(e, dim=1)
    return torch.nn.functional.normalize(u - u.mean(dim=0, keepdim=True), dim=1)


def similarity_distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the off-diagonal cosine similarities of the batch-centred
    embeddings (module docstring).

    Args:
        student: ``float32[B,D_s]`` student features (any scale; normalised here).
        teacher: ``float32[B,D_t]`` teacher embeddings (normalised here too).

    Returns:
        A scalar tensor (differentiable in ``student``).
    """
    if student.shape[0] != teacher.shape[0] or student.shape[0] < 2:
        raise ValueError(
            f"distillation: batch sizes {student.shape[0]} and {teacher.shape[0]}; need equal, >= 2"
        )
    s = _centred(student)
    t = _centred(teacher.to(student.dtype))
    diff = s @ s.T - t @ t.T
    b = s.shape[0]
    off = ~torch.eye(b, dtype=torch.bool, device=s.device)
    return (diff[off] ** 2).mean()
