"""Tracker configuration: frozen dataclasses loaded from YAML presets in ``configs/``.

Every threshold the tracker uses is a named, documented field here; the code holds no magic numbers.
Unknown keys in a YAML file are an error (so a typo never silently falls back to a default).
Presets ship inside the package (``tracker/configs/*.yaml``, also visible as ``configs/`` at the repo
root) and are loaded by name: ``load_config("bytetrack")``; a path to any YAML file works too.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = [
    "AppearanceConfig",
    "AssociationConfig",
    "CmcConfig",
    "LifecycleConfig",
    "MotionConfig",
    "TrackerConfig",
    "available_presets",
    "config_from_dict",
    "dataclass_from_dict",
    "load_config",
]

PRESET_DIR = Path(__file__).resolve().parent / "configs"


@dataclass(frozen=True)
class MotionConfig:
    """Constant-velocity Kalman filter on ``(cx, cy, w, h)`` and their velocities.

    Process and measurement noise scale with the box size (as in DeepSORT/ByteTrack/BoT-SORT).
    """

    std_weight_position: float = 1.0 / 20
    """Measurement/process noise of positions, as a fraction of box size."""
    std_weight_velocity: float = 1.0 / 160
    """Process noise of velocities, as a fraction of box size per frame, at ``reference_fps``. At
    another frame rate it is scaled by ``reference_fps / fps``: at a lower rate a person's per-frame
    velocity changes more from one frame to the next."""
    reference_fps: float = 30.0
    """Frame rate at which ``std_weight_velocity`` applies."""
    gating_chi2: float = 9.4877
    """Mahalanobis gate on (cx, cy, w, h): chi-square 95% quantile with 4 dof."""
    lost_velocity_decay: float = 1.0
    """Velocity multiplier applied per frame while a track is lost (1.0 = keep constant velocity)."""
    shift_lost_with_scene: bool = False
    """Move lost tracks with the scene: each frame they take the median position innovation and the
    median velocity correction of the matched tracks (camera motion compensation from detections
    alone). Used on frames where image-based CMC is off or has no frame."""
    min_shift_matches: int = 3
    """Fewest matched tracks for those medians to be trusted."""
    reset_velocity_after_gap: bool = True
    """When a track is matched again after missed frames, set its velocity to the mean velocity over the
    gap (last observed box to the new one) instead of the drifted prediction."""


@dataclass(frozen=True)
class AssociationConfig:
    """Two-stage (ByteTrack-style) gated Hungarian association."""

    high_score: float = 0.6
    """Detections at or above this score enter the first association stage."""
    low_score: float = 0.1
    """Detections in ``[low_score, high_score)`` enter the second stage only; lower ones are dropped."""
    new_track_score: float = 0.7
    """An unmatched high-score detection starts a new track only at or above this score."""
    match_cost: float = 0.8
    """First stage: pairs with fused cost above this are not matched (cost = 1 - IoU without ReID)."""
    second_match_cost: float = 0.5
    """Second stage (low-score detections vs. remaining tracked tracks): max ``1 - IoU``."""
    unconfirmed_match_cost: float = 0.7
    """Tentative tracks vs. leftover high-score detections: max cost."""
    fuse_score: bool = True
    """Multiply IoU similarity by detection score in the first stage (ByteTrack's ``fuse_score``)."""
    use_mahalanobis_gate: bool = True
    """Gate pairs whose Mahalanobis distance exceeds ``MotionConfig.gating_chi2`` (lost tracks only)."""
    recovery_cost: float = 0.0
    """After the two stages, still-unmatched tracks may take leftover high-score detections whose
    ``1 - IoU`` with the track's last observed box is at most this (0 disables; OC-SORT's OCR)."""
    duplicate_iou: float = 0.85
    """A lost track overlapping a tracked one above this IoU is a duplicate; the younger is dropped."""
    min_box_area: float = 10.0
    """Tracks whose box area (pixels²) is below this are not reported."""


@dataclass(frozen=True)
class AppearanceConfig:
    """Appearance (ReID) state and how it enters the cost."""

    enabled: bool = False
    """Use embeddings (from the detections or an embedder) in association."""
    ema_alpha: float = 0.9
    """Track feature update: ``f = alpha * f + (1 - alpha) * new`` (then re-normalised)."""
    weight: float = 0.5
    """Fused cost = ``(1 - weight) * motion_cost + weight * cosine_distance`` where both pass gates."""
    proximity_gate: float = 0.5
    """Pairs with plain ``1 - IoU`` above this get no appearance help (their appearance cost is gated)."""
    appearance_gate: float = 0.5
    """Pairs with cosine distance above this get no appearance help (BoT-SORT's 0.25 is on half the
    cosine distance, i.e. 0.5 here)."""
    fuse: str = "min"
    """How motion and appearance costs combine: ``"min"`` (BoT-SORT) or ``"weighted"``."""
    min_update_score: float = 0.0
    """Only detections at or above this score update a track's appearance feature."""
    reid_lost_cost: float = 0.3
    """Lost tracks may be re-identified anywhere (no IoU needed) when cosine distance is below this
    and the Mahalanobis gate passes."""


@dataclass(frozen=True)
class LifecycleConfig:
    """Track life cycle: tentative -> confirmed -> lost -> removed."""

    min_hits: int = 1
    """Consecutive matched frames before a tentative track is confirmed. On the very first frame of
    a sequence new tracks are confirmed at once (as ByteTrack does)."""
    max_lost_frames: int = 30
    """A lost track is removed after this many frames without a match, at ``reference_fps``."""
    reference_fps: float = 30.0
    """``max_lost_frames`` scales with the sequence frame rate: ``max_lost * fps / reference_fps``."""
    output_tentative: bool = False
    """Report tentative tracks too (default: only confirmed tracks matched this frame)."""


@dataclass(frozen=True)
class CmcConfig:
    """Camera motion compensation between consecutive frames (needs frames). Finer settings of the
    estimator (corner quality, LK window, RANSAC threshold) are documented constants in
    :mod:`tracker.motion.cmc`."""

    enabled: bool = False
    """Estimate a global affine between frames and apply it to predicted tracks."""
    method: str = "sparse_flow"
    """``"sparse_flow"``: good features to track + pyramidal LK + RANSAC partial affine."""
    downscale: int = 2
    """Frames are shrunk by this factor before estimation (speed)."""
    max_corners: int = 1000
    """Feature points per frame for sparse flow."""


@dataclass(frozen=True)
class TrackerConfig:
    """A complete tracker configuration (one preset)."""

    name: str = "custom"
    motion: MotionConfig = field(default_factory=MotionConfig)
    association: AssociationConfig = field(default_factory=AssociationConfig)
    appearance: AppearanceConfig = field(default_factory=AppearanceConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    cmc: CmcConfig = field(default_factory=CmcConfig)

    def replace(self, **changes: Any) -> TrackerConfig:
        """A copy with top-level fields replaced (sections must be full dataclasses)."""
        return dataclasses.replace(self, **changes)


T = TypeVar("T")


def dataclass_from_dict(cls: type[T], data: Any, where: str = "config") -> T:
    """Build the (frozen) dataclass ``cls`` from a nested mapping, as read from YAML.

    Nested dataclass fields are built recursively; ``None`` for a section means its defaults. Values
    are checked against the field types (bool, int, float, str, tuples from lists, optional fields);
    unknown keys and wrong types raise ``ValueError`` naming ``where`` and the key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in set(data) - names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(names)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        typ = hints[key]
        if dataclasses.is_dataclass(typ):
            kwargs[key] = dataclass_from_dict(typ, value, f"{where}.{key}")  # type: ignore[arg-type]
        else:
            kwargs[key] = _coerce(typ, value, f"{where}.{key}")
    return cls(**kwargs)


def _coerce(typ: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(typ):
            try:
                return _coerce(arg, value, where)
            except ValueError:
                continue
        raise ValueError(f"{where}: {value!r} does not match {typ}")
    if origin is tuple:
        args = typing.get_args(typ)
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{where}: expected {len(args)} items, got {value!r}")
        return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if typ is type(None):
        if value is None:
            return None
        raise ValueError(f"{where}: expected null")
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{where}: expected true/false, got {value!r}")
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if typ is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def config_from_dict(data: dict[str, Any], where: str = "config") -> TrackerConfig:
    """Build a :class:`TrackerConfig` from a nested mapping; unknown keys raise ``ValueError``."""
    cfg = dataclass_from_dict(TrackerConfig, data, where)
    _check(cfg, where)
    return cfg


def _check(cfg: TrackerConfig, where: str) -> None:
    a = cfg.association
    if not 0.0 <= a.low_score <= a.high_score <= 1.0:
        raise ValueError(f"{where}: need 0 <= low_score <= high_score <= 1")
    if cfg.appearance.fuse not in ("min", "weighted"):
        raise ValueError(
            f"{where}.appearance.fuse: expected 'min' or 'weighted', got {cfg.appearance.fuse!r}"
        )
    if cfg.cmc.method not in ("sparse_flow",):
        raise ValueError(f"{where}.cmc.method: expected 'sparse_flow', got {cfg.cmc.method!r}")
    if cfg.lifecycle.min_hits < 1 or cfg.lifecycle.max_lost_frames < 0:
        raise ValueError(f"{where}.lifecycle: min_hits >= 1 and max_lost_frames >= 0 required")
    if not cfg.motion.reference_fps > 0:
        raise ValueError(f"{where}.motion.reference_fps: must be > 0")
    if not cfg.lifecycle.reference_fps > 0:
        raise ValueError(f"{where}.lifecycle.reference_fps: must be > 0")
    if not 0.0 <= cfg.appearance.ema_alpha < 1.0:
        raise ValueError(f"{where}.appearance.ema_alpha: must be in [0, 1)")


def available_presets() -> list[str]:
    """Names of the presets bundled with the package."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> TrackerConfig:
    """Load a preset by name (``"bytetrack"``) or any YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESET_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ValueError(f"unknown preset {str(name_or_path)!r}; available: {available_presets()}")
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {exc}") from None
    data.setdefault("name", path.stem)
    return config_from_dict(data, where=str(path))
