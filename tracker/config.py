"""Tracker configuration: frozen dataclasses loaded from YAML presets in ``configs/``.

Every threshold the tracker uses is a named, documented field here; the code holds no magic numbers.
Unknown keys in a YAML file are an error (so a typo never silently falls back to a default), and so is
a value outside a field's allowed range: fields declare it in their metadata (:func:`ranged`,
:func:`choice`), and :func:`dataclass_from_dict` checks it for any config dataclass, naming the key
path and the range. Presets ship inside the package (``tracker/configs/*.yaml``, also visible as
``configs/`` at the repo root) and are loaded by name: ``load_config("bytetrack")``; a path to any
YAML file works too. A file may start from another with ``base: NAME`` (:func:`read_yaml_with_base`).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = [
    "COST_TERMS",
    "DETECTION_BANDS",
    "TRACK_POOLS",
    "AppearanceConfig",
    "AssociationConfig",
    "CmcConfig",
    "CostTermConfig",
    "LifecycleConfig",
    "MotionConfig",
    "StageConfig",
    "TrackerConfig",
    "available_presets",
    "build_with_blame",
    "check_fields",
    "choice",
    "config_from_dict",
    "dataclass_from_dict",
    "load_config",
    "load_yaml",
    "ranged",
    "read_yaml_chain",
    "read_yaml_with_base",
]

PRESET_DIR = Path(__file__).resolve().parent / "configs"

T = TypeVar("T")
_INF = math.inf


def ranged(default: T, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> T:
    """A dataclass field with ``default`` whose value must lie in ``[lo, hi]`` (``(`` / ``)`` where
    ``lo_open`` / ``hi_open``). For tuple fields every item is checked. Checked by
    :func:`dataclass_from_dict` and :func:`check_fields`."""
    meta = {"range": (lo, hi, lo_open, hi_open)}
    return typing.cast(T, field(default=default, metadata=meta))


def choice(default: T, options: tuple[str, ...]) -> T:
    """A ``str`` (or tuple-of-``str``) dataclass field with ``default`` whose value(s) must be one of
    ``options``."""
    return typing.cast(T, field(default=default, metadata={"choices": options}))


def _range_text(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    def num(x: float) -> str:
        return "inf" if x == _INF else "-inf" if x == -_INF else f"{x:g}"

    return f"{'(' if lo_open else '['}{num(lo)}, {num(hi)}{')' if hi_open else ']'}"


def _check_value(f: dataclasses.Field[Any], value: Any, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` if ``value`` breaks the range/choices of field ``f``."""
    items = value if isinstance(value, tuple) else (value,)
    if "range" in f.metadata:
        lo, hi, lo_open, hi_open = f.metadata["range"]
        for v in items:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue  # type errors are reported by the type check
            ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
            if not ok or math.isnan(v):
                raise ValueError(
                    f"{where}: {v!r} is outside the allowed range {_range_text(lo, hi, lo_open, hi_open)}"
                )
    if "choices" in f.metadata:
        for v in items:
            if v not in f.metadata["choices"]:
                raise ValueError(f"{where}: {v!r} is not one of {list(f.metadata['choices'])}")


def check_fields(obj: Any, where: str | None = None) -> None:
    """Check every field of the dataclass instance ``obj`` against its declared range/choices.

    Config dataclasses call this from ``__post_init__``, so a direct construction such as
    ``AssociationConfig(high_score=7)`` is rejected too."""
    where = where or type(obj).__name__
    for f in dataclasses.fields(obj):
        _check_value(f, getattr(obj, f.name), f"{where}.{f.name}")


class _Checked:
    """Mixin: frozen config dataclasses validate their field ranges on construction."""

    def __post_init__(self) -> None:
        check_fields(self)


# -- association stages ------------------------------------------------------------------------------
TRACK_POOLS = ("tracked", "lost", "tentative")
"""Track pools a stage may draw from: ``tracked`` (confirmed, matched until last frame), ``lost``
(confirmed, unmatched since) and ``tentative`` (not confirmed yet). Tracks already matched by an
earlier stage are never offered again."""

DETECTION_BANDS = ("high", "low", "all")
"""Detection selectors by score: ``high`` (``>= association.high_score``), ``low`` (in
``[low_score, high_score)``), ``all`` (``>= low_score``). Detections matched by an earlier stage are
never offered again (each stage sees what earlier stages left over)."""

COST_TERMS = (
    "iou",
    "iou_score",
    "last_iou",
    "buffered_iou",
    "appearance",
    "mahalanobis",
    "mahalanobis_lost",
    "height",
    "shape",
    "confidence",
    "direction",
    "low_penalty",
)
"""Names of the cost functions a stage may compose (documented in :mod:`tracker.association.terms`)."""


@dataclass(frozen=True)
class CostTermConfig(_Checked):
    """One cost function in a stage's cost (see :mod:`tracker.association.terms` for each)."""

    name: str = choice("iou", COST_TERMS)
    """Registered cost function."""
    weight: float = ranged(1.0, 0.0, 10.0)
    """How much of this term enters the cost (its meaning is documented per term)."""
    param: float = ranged(0.0, 0.0, 10.0)
    """The term's own parameter (e.g. the box buffer of ``buffered_iou``), documented per term."""


def _terms(*names: str) -> tuple[CostTermConfig, ...]:
    return tuple(CostTermConfig(name=n) for n in names)


STAGE_SOLVERS = ("optimal", "iterative")
"""Solvers a stage may name (:attr:`StageConfig.solver`)."""


@dataclass(frozen=True)
class StageConfig(_Checked):
    """One association stage: which tracks meet which detections, at what cost, up to what cost."""

    name: str = "stage"
    """Name, for logs and documentation."""
    tracks: tuple[str, ...] = choice(("tracked", "lost"), TRACK_POOLS)
    """Track pools offered to this stage (:data:`TRACK_POOLS`), minus tracks already matched."""
    detections: str = choice("high", DETECTION_BANDS)
    """Detection band offered (:data:`DETECTION_BANDS`), minus detections already matched."""
    cost: tuple[CostTermConfig, ...] = _terms("iou")
    """Cost terms applied in order to build the ``tracks x detections`` cost (a YAML list of term
    names or of ``{name, weight, param}`` mappings)."""
    max_cost: float = ranged(0.8, 0.0, 2.0)
    """Pairs with a cost above this are never matched."""
    solver: str = choice("optimal", STAGE_SOLVERS)
    """How the stage's gated cost is solved: ``optimal`` (the minimum-cost assignment) or
    ``iterative`` (TrackTrack's track-perspective rounds: each round matches every track and detection
    that are each other's cheapest admissible choice, until a round matches nothing;
    :func:`tracker.association.assign.match_iterative`)."""


def _bytetrack_stages() -> tuple[StageConfig, ...]:
    return (
        StageConfig(
            "first", ("tracked", "lost"), "high", _terms("iou_score", "appearance", "mahalanobis_lost"), 0.8
        ),
        StageConfig("second", ("tracked",), "low", _terms("iou"), 0.5),
        StageConfig("tentative", ("tentative",), "high", _terms("iou_score", "appearance"), 0.7),
    )


# -- sections ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MotionConfig(_Checked):
    """Constant-velocity Kalman filter on ``(cx, cy, w, h)`` and their velocities.

    Process and measurement noise scale with the box size (as in DeepSORT/ByteTrack/BoT-SORT).
    """

    std_weight_position: float = ranged(1.0 / 20, 0.0, 1.0, lo_open=True)
    """Measurement/process noise of positions, as a fraction of box size."""
    std_weight_velocity: float = ranged(1.0 / 160, 0.0, 1.0, lo_open=True)
    """Process noise of velocities, as a fraction of box size per frame, at ``reference_fps``. At
    another frame rate it is scaled by ``reference_fps / fps``: at a lower rate a person's per-frame
    velocity changes more from one frame to the next."""
    reference_fps: float = ranged(30.0, 0.0, 1000.0, lo_open=True)
    """Frame rate at which ``std_weight_velocity`` applies."""
    gating_chi2: float = ranged(9.4877, 0.0, 1e4, lo_open=True)
    """Mahalanobis gate on (cx, cy, w, h): chi-square 95% quantile with 4 dof."""
    lost_velocity_decay: float = ranged(1.0, 0.0, 1.0)
    """Velocity multiplier applied per frame while a track is lost (1.0 = keep constant velocity)."""
    shift_lost_with_scene: bool = False
    """Move lost tracks with the scene: each frame they take the median position innovation and the
    median velocity correction of the matched tracks (camera motion compensation from detections
    alone). Used on frames where image-based CMC is off or has no frame."""
    min_shift_matches: int = ranged(3, 1, 1e6)
    """Fewest matched tracks for those medians to be trusted."""
    shift_min_coherence: float = ranged(0.0, 0.0, 1e3)
    """Move lost tracks with the scene only while the scene moves as one: each frame with at least
    ``min_shift_matches`` matches measures how much the matched tracks' position innovations agree,
    ``|median| / MAD`` (the larger of the x and y ratios; MAD: the median absolute deviation from the
    median), and keeps an exponentially weighted mean of it (``shift_coherence_time_s``; the first
    measurement alone sets it, so a short clip is not judged by a prior value). Under a moving camera every
    box moves the same way and the ratio is large (2-4 on MOT17's moving-camera sequences); under a
    static camera people move their own ways and it is small (0.3-0.7), and the median is mostly the
    Kalman filter's lag behind a few walkers, which moving lost tracks by would push them off their
    path. The shift is applied while the running mean is at least this value (0: always, as
    ``shift_lost_with_scene`` alone)."""
    shift_coherence_time_s: float = ranged(1.0, 0.0, 1e3, lo_open=True)
    """Time constant, in seconds of video, of the running mean that ``shift_min_coherence`` reads."""
    reset_velocity_after_gap: bool = True
    """When a track is matched again after missed frames, set its velocity to the mean velocity over the
    gap (last observed box to the new one) instead of the drifted prediction."""
    reset_velocity_min_gap_s: float = ranged(0.0, 0.0, 60.0)
    """With ``reset_velocity_after_gap``: only gaps at least this long, in seconds of video from the
    last observed box to the new one, reset the velocity; after a shorter gap the Kalman update's
    velocity is kept. 0: every gap of one missed frame or more. The mean over a short gap is the
    difference of two noisy boxes over a few frames, noisier than the filter's estimate, while a
    long gap's prediction has drifted. The default's 0.5 (round 36, ``benchmarks/results/flicker.md``):
    on copies of the YOLOX train half with 15 % of the detections dropped (a detector that flickers)
    it gains 2.8 IDF1 / 1.3 HOTA over a reset after every gap."""
    reupdate_after_gap: bool = False
    """OC-SORT's observation-centric re-update (ORU): when a track is matched again after missed
    frames, its state is rebuilt from its last observed box by one Kalman predict and update per
    missed frame along the straight line from that box to the new one (virtual observations), so
    position, velocity and covariance come out as if it had been seen all along. Replaces
    ``reset_velocity_after_gap`` when on. Like that reset, it reads the last box in its own
    frame's image coordinates: camera motion during the gap is not undone."""
    score_noise: float = ranged(0.0, 0.0, 0.99)
    """Confidence-aware measurement noise (NSA Kalman): a detection with score ``s`` is measured with
    noise ``R * (1 - score_noise * s)``, so confident detections pull a track harder (0 disables)."""


@dataclass(frozen=True)
class AssociationConfig(_Checked):
    """Association as declared stages (run in order by :func:`tracker.association.stages.run_stages`)."""

    high_score: float = ranged(0.6, 0.0, 1.0)
    """Detections at or above this score form the ``high`` band (and are the ones embedded)."""
    low_score: float = ranged(0.1, 0.0, 1.0)
    """Detections in ``[low_score, high_score)`` form the ``low`` band; lower ones are dropped."""
    new_track_score: float = ranged(0.7, 0.0, 1.0)
    """A high-band detection left over by every stage starts a new track only at or above this."""
    new_track_max_iou: float = ranged(1.0, 0.0, 1.0)
    """Track-aware initialisation (TrackTrack): a left-over detection starts a new track only if its
    IoU with every detection matched this frame is at most this (1 disables the check). A second box
    on a person already tracked then starts no second identity."""
    score_adapt_rate: float = ranged(0.0, 0.0, 1.0)
    """Thresholds that adapt to the detector's score distribution (0 disables). The tracker keeps a
    running level of the scores of the detections it matched (an exponential average of each frame's
    median, this rate per frame at 30 fps, starting at 1; frames with fewer than
    ``score_adapt_min_matches`` matches leave it unchanged); the ``high`` band then starts at
    ``min(high_score, adaptive_high_ratio * level)`` and new tracks need
    ``min(new_track_score, adaptive_new_ratio * level)``. A detector that scores people at 0.9 keeps
    the configured thresholds; one that scores them at 0.5 gets proportionally lower ones."""
    score_adapt_min_matches: int = ranged(1, 1, 1e6)
    """The score level learns only from frames with at least this many matched detections (the
    median of one or two is no estimate of how a detector scores people: a lone steady false
    positive would set the level to its own score)."""
    score_adapt_cold_start: bool = False
    """With ``score_adapt_rate`` on: until the tracker matches its first detection, each frame moves the
    score level towards the frame's strongest detection at or above ``low_score`` (instead of leaving
    it unchanged). A tracker with no track yet (a sequence's or a camera view's first people) then
    learns how this detector scores people from the detections themselves; without it, a detector
    that scores everyone below ``new_track_score`` starts no track until one detection happens to
    reach it. After the first match, frames learn from matches only, as without it (a steady false
    positive in a scene emptied later does not lower the level)."""
    score_adapt_when_empty: bool = False
    """With ``score_adapt_cold_start``: not only before the first match but on every frame on which
    the tracker holds no confirmed or lost track (an emptied scene, tentative tracks aside), the level
    moves towards the frame's strongest detection, so that a scene emptied later is treated as one
    never entered: the next person is started by how the detector scores people now, not by the
    level the previous ones left (a weak detector's next person, scored lower, was otherwise never
    started). Only detections that moved count here (see ``score_adapt_static_iou``): a steady false
    positive alone in an emptied room (a table, a window) must not lower the level to its own score
    and start a track. ``lifecycle.max_weak_frames``, the remedy for a steady false positive that
    moves a little, turns this off (the ended track would otherwise start again)."""
    score_adapt_static_iou: float = ranged(0.7, 0.0, 1.0, lo_open=True)
    """For ``score_adapt_when_empty``: a detection overlapping one of the detections of
    ``score_adapt_static_s`` before at this IoU or more has not moved, and does not teach the level of
    an emptied scene (a person walking in does move: at walking pace the box of half a second before
    overlaps it at IoU 0.3-0.6)."""
    score_adapt_static_s: float = ranged(0.5, 0.0, 60.0, lo_open=True)
    """Seconds of video between the two frames that ``score_adapt_static_iou`` compares."""
    adaptive_high_ratio: float = ranged(0.7, 0.0, 1.0)
    """Adaptive ``high`` band start as a fraction of the score level (see ``score_adapt_rate``)."""
    adaptive_new_ratio: float = ranged(0.8, 0.0, 1.0)
    """Adaptive new-track score as a fraction of the score level (see ``score_adapt_rate``)."""
    relative_score_level: float = ranged(0.0, 0.0, 1.0)
    """With ``score_adapt_rate`` on: above 0, the cost terms read each detection's (and track's)
    score relative to the detector's learnt score level: while the level is below this value, scores
    are divided by ``level / relative_score_level`` (at most 1 after the division), so that
    ``iou_score``'s ``IoU * score`` (and the other score cues) treat a detector that scores people
    lower as the thresholds already do. At or above this level scores are read as they are. Frames
    with appearance embeddings keep the raw scores (the weighted fusion with appearance was balanced
    on them; measured, relative scores there gained nothing and lost a little). 0: off (raw scores).
    The bands, new-track score and reported scores are not affected."""
    stages: tuple[StageConfig, ...] = field(default_factory=_bytetrack_stages)
    """The stages, in order (default: ByteTrack's high / low / tentative stages)."""
    duplicate_iou: float = ranged(0.85, 0.0, 1.0)
    """A lost track overlapping a tracked one above this IoU is a duplicate; the younger is dropped."""
    reclaim_iou: float = ranged(0.0, 0.0, 1.0)
    """On frames with appearance (an embedder or JDE embeddings): when a track comes back after missed
    frames, a track that started while it was unseen (after its last match), was matched on the frame
    before but not on this one, and whose box overlaps the returned track's above this IoU followed
    the same person in the meantime; it is removed. Without it the two alternate on that person, each
    frame the other (the returned track is re-identified by appearance, the younger one by IoU): on
    PETS09-S2L1 with the shipped embedder 31 of 59 identity changes went back to an id seen under 10
    frames before. (A track older than the gap is left alone: it is a neighbour the returned track
    walked beside; removing those too cost a four-view cut of PETS09 2 of 54 handoffs.) 0 = off.
    Frames without appearance are left as they are (motion alone cannot tell a returned track from a
    neighbour's)."""
    min_box_area: float = ranged(10.0, 0.0, _INF)
    """Tracks whose box area (pixels²) is below this are not reported."""


@dataclass(frozen=True)
class AppearanceConfig(_Checked):
    """Appearance (ReID) state and how it enters the cost (the ``appearance`` cost term)."""

    enabled: bool = False
    """Use embeddings (from the detections or an embedder) in association."""
    ema_alpha: float = ranged(0.9, 0.0, 1.0, hi_open=True)
    """Track feature update: ``f = alpha * f + (1 - alpha) * new`` (then re-normalised)."""
    weight: float = ranged(0.5, 0.0, 1.0)
    """Fused cost = ``(1 - weight) * motion_cost + weight * cosine_distance`` where both pass gates."""
    proximity_gate: float = ranged(0.5, 0.0, 1.0)
    """Pairs with plain ``1 - IoU`` above this get no appearance help (their appearance cost is gated)."""
    appearance_gate: float = ranged(0.5, 0.0, 2.0)
    """Pairs with cosine distance above this get no appearance help (BoT-SORT's 0.25 is on half the
    cosine distance, i.e. 0.5 here)."""
    fuse: str = choice("min", ("min", "weighted"))
    """How motion and appearance costs combine: ``"min"`` (BoT-SORT) or ``"weighted"``."""
    min_update_score: float = ranged(0.0, 0.0, 1.0)
    """Only detections at or above this score update a track's appearance feature."""
    reid_lost_cost: float = ranged(0.3, 0.0, 2.0)
    """Lost tracks may be re-identified anywhere (no IoU needed) when cosine distance is below this
    and the Mahalanobis gate passes (the ``mahalanobis_lost`` cost term)."""
    gate_scale: float = ranged(0.0, 0.0, 10.0)
    """0: ``appearance_gate`` is a fixed cosine distance. Above 0: the gate calibrates itself to the
    embedder: it is this multiple of the median cosine distance between *different* people, which
    the tracker measures as it runs (each matched detection's embedding against the appearance
    states of the other tracks matched in the same frame: two tracks seen at once are two people).
    Embedders spread distances differently (the shipped model's different-people median on PETS09
    is about half OSNet's), so one fixed gate cannot suit both. ``appearance_gate`` serves until
    ``gate_min_samples`` distances have been seen."""
    gate_min_samples: int = ranged(200, 1, 1e6)
    """Different-people distances needed before ``gate_scale`` replaces ``appearance_gate``."""
    gate_window: int = ranged(2000, 1, 1e6)
    """The median of ``gate_scale`` is over the last this many different-people distances."""


@dataclass(frozen=True)
class LifecycleConfig(_Checked):
    """Track life cycle: tentative -> confirmed -> lost -> removed."""

    min_hits: int = ranged(1, 1, 1e6)
    """Consecutive matched frames before a tentative track is confirmed. On the very first frame of
    a sequence new tracks are confirmed at once (as ByteTrack does)."""
    max_lost_frames: int = ranged(30, 0, 1e6)
    """A lost track is removed after this many frames without a match, at ``reference_fps``."""
    reference_fps: float = ranged(30.0, 0.0, 1000.0, lo_open=True)
    """``max_lost_frames`` scales with the sequence frame rate: ``max_lost * fps / reference_fps``."""
    max_weak_frames: int = ranged(0, 0, 1e6)
    """A track is removed after this many frames (at ``reference_fps``) without a match to a detection
    strong enough to start a track (score at least this frame's new-track score, adaptive when
    ``association.score_adapt_rate`` is on), even while weaker detections keep matching it; 0 = never.
    It ends tracks held up only by a detector's steady low-score false positive (a window, a poster)
    after the person they followed walked away. Counted from the track's start."""
    output_tentative: bool = False
    """Report tentative tracks too (default: only confirmed tracks matched this frame)."""


@dataclass(frozen=True)
class CmcConfig(_Checked):
    """Camera motion compensation between consecutive frames (needs frames). Finer settings of the
    estimator (corner quality, LK window, RANSAC threshold) are documented constants in
    :mod:`tracker.motion.cmc`."""

    enabled: bool = False
    """Estimate a global affine between frames and apply it to predicted tracks."""
    method: str = choice("sparse_flow", ("sparse_flow",))
    """``"sparse_flow"``: good features to track + pyramidal LK + RANSAC partial affine."""
    downscale: int = ranged(4, 1, 64)
    """Frames are shrunk by this factor before estimation (speed). 4 by measurement
    (``benchmarks/cmc_scale.py``, ``benchmarks/results/cmc_scale.md``): about 4x cheaper than 2 on
    768x576 frames, 1.3 px mean disagreement with the full-resolution estimate on moving MOT17 cameras
    (2: 0.6 px, 8: 2.3 px), and the same PETS09 tracking results as 2."""
    max_corners: int = ranged(1000, 1, 1e6)
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


def dataclass_from_dict(cls: type[T], data: Any, where: str = "config") -> T:
    """Build the (frozen) dataclass ``cls`` from a nested mapping, as read from YAML.

    Nested dataclass fields are built recursively; ``None`` for a section means its defaults. Values
    are checked against the field types (bool, int, float, str, tuples from lists, optional fields,
    tuples of dataclasses from lists of mappings; a plain string stands for ``{name: string}`` where the
    dataclass has a ``name`` field) and against the ranges/choices declared in the field metadata
    (:func:`ranged`, :func:`choice`). Unknown keys, wrong types and values out of range raise
    ``ValueError`` naming ``where``, the key path and what is allowed."""
    if data is None:
        data = {}
    if isinstance(data, str) and "name" in {f.name for f in dataclasses.fields(cls)}:  # type: ignore[arg-type]
        data = {"name": data}
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields_by_name = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in set(data) - set(fields_by_name))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(fields_by_name)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        typ = hints[key]
        if dataclasses.is_dataclass(typ):
            kwargs[key] = dataclass_from_dict(typ, value, f"{where}.{key}")  # type: ignore[arg-type]
        else:
            kwargs[key] = _coerce(typ, value, f"{where}.{key}")
        _check_value(fields_by_name[key], kwargs[key], f"{where}.{key}")
    return cls(**kwargs)


def _coerce(typ: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(typ):
        return dataclass_from_dict(typ, value, where)  # type: ignore[arg-type]
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
    """Checks across fields (each field's own range is checked on construction)."""
    a = cfg.association
    if not a.low_score <= a.high_score:
        raise ValueError(
            f"{where}.association: need low_score <= high_score, got {a.low_score} > {a.high_score}"
        )
    if not a.stages:
        raise ValueError(f"{where}.association.stages: at least one stage is needed")
    if a.relative_score_level > 0 and a.score_adapt_rate <= 0:
        raise ValueError(
            f"{where}.association: relative_score_level needs score_adapt_rate > 0 (the score level "
            f"it reads is learnt only then), got relative_score_level {a.relative_score_level} with "
            f"score_adapt_rate {a.score_adapt_rate}"
        )
    p = cfg.appearance
    if p.gate_scale > 0 and p.gate_min_samples > p.gate_window:
        raise ValueError(
            f"{where}.appearance: need gate_min_samples <= gate_window, got "
            f"{p.gate_min_samples} > {p.gate_window}"
        )


def available_presets() -> list[str]:
    """Names of the presets bundled with the package."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path) -> TrackerConfig:
    """Load a preset by name (``"bytetrack"``) or any YAML file by path (``base:`` resolved, see
    :func:`read_yaml_with_base`). A file without ``base:`` starts from the defaults of the dataclasses
    here, not from the ``default`` preset: ``base: default`` changes a few of its values."""
    chain = read_yaml_chain(name_or_path, PRESET_DIR, "preset")
    return build_with_blame(chain, lambda data, where: config_from_dict(data, where=where))


def read_yaml_with_base(name_or_path: str | Path, preset_dir: Path, kind: str = "preset") -> dict[str, Any]:
    """Read a YAML config (a preset name looked up as ``preset_dir/NAME.yaml``, or a path) into a
    mapping, resolving ``base:`` inheritance.

    A file may start from another with ``base: NAME`` (a preset name in ``preset_dir``, or a ``.yaml``
    path relative to the file): the base is read first and the file's own mappings are merged over it,
    key by key (lists and scalars replace). Chains are allowed. ``name`` defaults to the file's stem
    (a derived file is named after itself). Shared by every config family (tracker presets here;
    ``kind`` names the family in messages, e.g. ``"reid preset"``).

    Raises:
        ValueError: unknown preset, invalid YAML, a top level that is not a mapping, a bad ``base``
            value or a ``base`` cycle; the message names the file (a bad ``base`` names the file that
            says it).
        FileNotFoundError: a path that does not exist.
    """
    return read_yaml_chain(name_or_path, preset_dir, kind)[-1][1]


def read_yaml_chain(
    name_or_path: str | Path, preset_dir: Path, kind: str = "preset"
) -> list[tuple[Path, dict[str, Any]]]:
    """:func:`read_yaml_with_base` for every file of the ``base`` chain: ``(file, its mapping merged
    over its own bases)``, the root base first and the file asked for last (each named after its
    file unless it names itself). Errors as :func:`read_yaml_with_base`."""
    path = _resolve_yaml(name_or_path, preset_dir, Path.cwd(), kind)
    return [(p, {"name": p.stem, **d}) for p, d in _read_with_bases(path, preset_dir, kind, ())]


def build_with_blame(
    chain: list[tuple[Path, dict[str, Any]]], build: Callable[[dict[str, Any], str], T]
) -> T:
    """``build(mapping, file)`` for the last file of a :func:`read_yaml_chain`. When that fails, the
    error is the one of the first file of the chain whose own merged mapping already fails, so a bad
    key is reported against the file that holds it, not a file that only names it as its base."""
    path, data = chain[-1]
    try:
        return build(data, str(path))
    except ValueError as final:
        for p, d in chain[:-1]:
            try:
                build(d, str(p))
            except ValueError as exc:
                raise exc from None
        raise final from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last one
    silently, so a setting written twice took whichever came later without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses a key given twice in one mapping (``yaml.YAMLError`` naming the
    line): every YAML file of the package is read with it."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects


def _resolve_yaml(name_or_path: str | Path, preset_dir: Path, relative_to: Path, kind: str) -> Path:
    path = Path(name_or_path)
    if not path.suffix:
        folder = path
        path = preset_dir / f"{name_or_path}.yaml"
        if not path.is_file() and folder.is_dir():  # (a preset's name wins over a folder of that name)
            raise ValueError(f"{folder}: is a folder; give a {kind} name or a .yaml file")
        if not path.is_file():
            names = sorted(p.stem for p in preset_dir.glob("*.yaml"))
            raise ValueError(f"unknown {kind} {str(name_or_path)!r}; available: {names}")
    elif not path.is_absolute():
        path = relative_to / path
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    return path


def _read_with_bases(
    path: Path, preset_dir: Path, kind: str, seen: tuple[Path, ...]
) -> list[tuple[Path, dict[str, Any]]]:
    """``(file, its mapping merged over its base chain, base removed)`` for the chain, root first."""
    if path.resolve() in seen:
        cycle = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise ValueError(f"{path}: base cycle: {cycle}")
    try:
        data = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got a {type(data).__name__}")
    base = data.pop("base", None)
    if base is None:
        return [(path, data)]
    if not isinstance(base, str) or not base:
        raise ValueError(f"{path}: base: expected a preset name or a .yaml path, got {base!r}")
    try:
        parent_path = _resolve_yaml(base, preset_dir, path.parent, kind)
    except FileNotFoundError as exc:  # name the file that asks for the missing one
        raise FileNotFoundError(f"{path}: base: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: base: {exc}") from None
    chain = _read_with_bases(parent_path, preset_dir, kind, (*seen, path.resolve()))
    parent = dict(chain[-1][1])
    parent.pop("name", None)
    return [*chain, (path, _merge(parent, data))]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base``: mappings key by key, everything else replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
