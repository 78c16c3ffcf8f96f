"""Appearance re-identification: embedders that turn boxes into L2-normalised appearance vectors."""

from tracker.reid.embedder import Embedder, OnnxEmbedder, l2_normalize
from tracker.reid.preprocess import (
    IMAGENET_SPEC,
    METADATA_KEY,
    PreprocessSpec,
    crop_and_resize,
    resolve_spec,
    sidecar_path,
)

__all__ = [
    "IMAGENET_SPEC",
    "METADATA_KEY",
    "Embedder",
    "OnnxEmbedder",
    "PreprocessSpec",
    "crop_and_resize",
    "l2_normalize",
    "resolve_spec",
    "sidecar_path",
]
