"""Configuration of cross-camera identity linking: frozen dataclasses, loaded from YAML.

Unknown keys are an error, as in :mod:`tracker.config`. Times are in seconds of the timestamps given
to :meth:`tracker.multicam.MultiCameraTracker.update`.

Example YAML::

    time_window_s: 10.0            # default max travel time between any two cameras
    max_appearance_distance: 0.3
    min_tracklet_frames: 3
    transitions:                   # per camera pair (directed); others use the defaults
      - {from_camera: left, to_camera: right, min_travel_s: 0.5, max_travel_s: 8.0}
    restrict_to_transitions: false # true: only the listed pairs may hand off
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import build_with_blame, dataclass_from_dict, read_yaml_chain

__all__ = ["MultiCamConfig", "Transition", "load_multicam_config", "multicam_config_from_dict"]


@dataclass(frozen=True)
class Transition:
    """One directed edge of the camera transition graph.

    A tracklet that ends in ``from_camera`` at time ``t0`` may continue as a tracklet that starts in
    ``to_camera`` at ``t1`` only if ``min_travel_s <= t1 - t0 <= max_travel_s``.
    """

    from_camera: str = ""
    to_camera: str = ""
    min_travel_s: float = 0.0
    """Shortest travel time (seconds) from the end of the old tracklet to the start of the new one."""
    max_travel_s: float = 10.0
    """Longest travel time (seconds)."""
    from_zone: tuple[float, float, float, float] | None = None
    """Exit zone ``x1, y1, x2, y2`` (pixels of ``from_camera``): the old tracklet's last box centre must
    lie in it (``None``: anywhere)."""
    to_zone: tuple[float, float, float, float] | None = None
    """Entry zone in ``to_camera``: the new tracklet's first box centre must lie in it."""

    @staticmethod
    def in_zone(zone: tuple[float, float, float, float] | None, box: NDArray[np.float32]) -> bool:
        """Whether the centre of ``box`` (``float32[4]`` xyxy) lies in ``zone`` (always True for None)."""
        if zone is None:
            return True
        cx, cy = 0.5 * (float(box[0]) + float(box[2])), 0.5 * (float(box[1]) + float(box[3]))
        return zone[0] <= cx <= zone[2] and zone[1] <= cy <= zone[3]


@dataclass(frozen=True)
class MultiCamConfig:
    """How per-camera tracklets are linked into global identities (see :mod:`tracker.multicam.manager`)."""

    time_window_s: float = 10.0
    """Default longest travel time (seconds) between the end of a tracklet and the start of its
    continuation, for camera pairs without a :class:`Transition` entry. Also the time after which an
    ended tracklet expires (is no longer a handoff candidate)."""
    min_travel_s: float = 0.0
    """Default shortest travel time for camera pairs without a :class:`Transition` entry."""
    max_appearance_distance: float = 0.3
    """Largest cosine distance (``1 - cos``) between tracklet summaries that may be linked."""
    min_tracklet_frames: int = 3
    """Confirmed frames a new tracklet collects before its identity is decided (its global id is
    provisional until then); tracklets shorter than this are never handoff candidates either."""
    min_quality: float = 0.0
    """Tracklets whose mean detection score is below this are neither linked nor candidates."""
    lost_after_s: float = 0.0
    """An ended tracklet becomes a handoff candidate once its camera has not reported it for at least
    this long (seconds) at the decision time of the new tracklet."""
    split_gap_s: float | None = 1.0
    """A local track reported again after being unseen for longer than this (seconds) starts a new
    tracklet whose identity is decided afresh (candidates include its own earlier segment): per-camera
    trackers sometimes hand a lost track's id to a different person entering at the same place.
    ``None``: never split."""
    split_appearance_distance: float | None = 0.35
    """A local track whose per-frame embeddings stay farther than this (cosine distance ``1 - cos``)
    from the running appearance of its tracklet for :attr:`split_confirm_frames` consecutive
    observations starts a new tracklet at the first of them, decided afresh: per-camera trackers
    sometimes pass one person's id to another (two people crossing, one leaving where another enters).
    ``None``: never split on appearance."""
    split_confirm_frames: int = 3
    """Consecutive deviating observations that split a tracklet; the tracklet must already hold this
    many observations that did not deviate."""
    allow_same_camera: bool = False
    """Also link a new tracklet to an ended tracklet of the SAME camera (long-gap re-identification that
    the per-camera tracker missed). Same-camera pairs use the defaults unless a :class:`Transition`
    with ``from_camera == to_camera`` is given, also with :attr:`restrict_to_transitions` (which
    restricts pairs of different cameras)."""
    transitions: tuple[Transition, ...] = ()
    """Directed camera pairs with their own travel-time window."""
    restrict_to_transitions: bool = False
    """Only the pairs in :attr:`transitions` may hand off between two cameras (otherwise unlisted pairs
    use the defaults); a camera's own re-links follow :attr:`allow_same_camera`."""
    overlapping_cameras: tuple[tuple[str, str], ...] = ()
    """Unordered camera pairs whose fields of view overlap: a global id may be active in both at once,
    and the travel time may be negative (down to ``-max_travel_s``)."""
    time_gating: bool = True
    """False switches off every temporal gate (travel-time windows, non-overlap, expiry): appearance
    alone decides (an ablation baseline)."""
    max_decision_wait_s: float = 5.0
    """A decision at time ``T`` waits until every camera has reported a frame at or after ``T``
    (so that the result does not depend on how frames of different cameras interleave), but at most
    this long on the clock of the camera furthest ahead (a camera that stops sending frames does not
    block decisions forever)."""
    gated_cost_margin: float = 1.0
    """Gated pairs get the finite cost ``max_appearance_distance + gated_cost_margin + distance``."""
    calibrate: bool = True
    """Derive the linking threshold (in place of :attr:`max_appearance_distance`) and the split
    threshold (in place of :attr:`split_appearance_distance`, unless that is ``None``) from distances
    the run gathers itself: same-track distances within a camera vs distances between tracks visible
    at the same time in one camera (:mod:`tracker.multicam.calibration`). The fixed values are used
    until :attr:`calibration_min_samples` of each kind are in. False: the fixed values throughout."""
    calibration_min_samples: int = 30
    """Distances of each kind (same track, concurrent tracks) needed before a threshold is derived."""
    calibration_window: int = 2000
    """Latest distances of each kind kept for calibration (memory is bounded by this)."""
    calibration_upper_quantile: float = 0.5
    """Quantile of the same-track distances taken as "far for one person"."""
    calibration_lower_quantile: float = 0.5
    """Quantile of the concurrent-track distances taken as "close for two people"."""
    calibration_link_position: float = 0.5
    """Linking threshold = same-track quantile + this fraction of the gap to the concurrent-track
    quantile (0: at the former, 1: at the latter)."""
    calibration_split_position: float = 0.5
    """The same for the split threshold (per-frame embedding vs the tracklet's running appearance)."""
    calibration_min_distance: float = 0.02
    """Smallest threshold calibration may choose (cosine distance)."""
    calibration_max_distance: float = 1.0
    """Largest threshold calibration may choose (cosine distance)."""
    history_s: float | None = 600.0
    """Ended tracklets are released (observations dropped) once they can no longer be handoff
    candidates (``max_window_s + max_decision_wait_s`` behind every camera); released tracklets and
    decisions older than this many seconds behind every camera are then forgotten for good
    (:meth:`~tracker.multicam.GlobalIdentityManager.global_id_at` no longer knows them, and
    ``decisions`` no longer lists them), so memory stays flat on an endless run. ``None``: keep them
    for the whole run (memory grows with the number of tracks)."""

    def __post_init__(self) -> None:
        # Derived lookups (the config is frozen, so they never go stale): edge() and overlaps() run
        # for every candidate pair of every identity decision.
        object.__setattr__(self, "_edge_memo", {})
        object.__setattr__(
            self, "_overlap_set", {frozenset(p) for p in self.overlapping_cameras if p[0] != p[1]}
        )

    def edge(self, from_camera: str, to_camera: str) -> Transition | None:
        """The transition rule for a handoff ``from_camera -> to_camera`` (a listed :class:`Transition`
        or one built from the defaults), or ``None`` if the pair may not hand off at all."""
        memo: dict[tuple[str, str], Transition | None] = self._edge_memo  # type: ignore[attr-defined]
        key = (from_camera, to_camera)
        if key not in memo:
            memo[key] = self._find_edge(from_camera, to_camera)
        return memo[key]

    def _find_edge(self, from_camera: str, to_camera: str) -> Transition | None:
        for t in self.transitions:
            if t.from_camera == from_camera and t.to_camera == to_camera:
                return t
        # the graph restricts pairs of different cameras; a camera's own re-links follow allow_same_camera
        same = from_camera == to_camera
        if (same and not self.allow_same_camera) or (not same and self.restrict_to_transitions):
            return None
        return Transition(from_camera, to_camera, self.min_travel_s, self.time_window_s)

    def overlaps(self, a: str, b: str) -> bool:
        """Whether cameras ``a`` and ``b`` see the same area (listed in :attr:`overlapping_cameras`)."""
        return a != b and frozenset((a, b)) in self._overlap_set  # type: ignore[attr-defined]

    @property
    def max_window_s(self) -> float:
        """The longest travel time of any pair: ended tracklets older than this are dropped."""
        return max([self.time_window_s, *(t.max_travel_s for t in self.transitions)])


def _check(cfg: MultiCamConfig, where: str) -> None:
    def finite_nonneg(name: str, value: float) -> None:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{where}.{name}: must be a finite number >= 0, got {value!r}")

    finite_nonneg("time_window_s", cfg.time_window_s)
    finite_nonneg("min_travel_s", cfg.min_travel_s)
    finite_nonneg("lost_after_s", cfg.lost_after_s)
    finite_nonneg("max_decision_wait_s", cfg.max_decision_wait_s)
    if cfg.split_gap_s is not None:
        finite_nonneg("split_gap_s", cfg.split_gap_s)
    if cfg.split_appearance_distance is not None and not (
        math.isfinite(cfg.split_appearance_distance) and 0 < cfg.split_appearance_distance <= 2
    ):
        raise ValueError(
            f"{where}.split_appearance_distance: must be in (0, 2] or null, got {cfg.split_appearance_distance}"
        )
    if cfg.split_confirm_frames < 1:
        raise ValueError(f"{where}.split_confirm_frames: must be >= 1, got {cfg.split_confirm_frames}")
    if cfg.min_travel_s > cfg.time_window_s:
        raise ValueError(f"{where}: min_travel_s {cfg.min_travel_s} > time_window_s {cfg.time_window_s}")
    if not (math.isfinite(cfg.max_appearance_distance) and 0 <= cfg.max_appearance_distance <= 2):
        raise ValueError(
            f"{where}.max_appearance_distance: must be in [0, 2], got {cfg.max_appearance_distance}"
        )
    if cfg.calibration_min_samples < 1:
        raise ValueError(f"{where}.calibration_min_samples: must be >= 1, got {cfg.calibration_min_samples}")
    if cfg.calibration_window < cfg.calibration_min_samples:
        raise ValueError(
            f"{where}.calibration_window: must be >= calibration_min_samples "
            f"({cfg.calibration_min_samples}), got {cfg.calibration_window}"
        )
    for name in (
        "calibration_upper_quantile",
        "calibration_lower_quantile",
        "calibration_link_position",
        "calibration_split_position",
    ):
        value = getattr(cfg, name)
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise ValueError(f"{where}.{name}: must be in [0, 1], got {value!r}")
    if not (
        math.isfinite(cfg.calibration_min_distance)
        and math.isfinite(cfg.calibration_max_distance)
        and 0 <= cfg.calibration_min_distance <= cfg.calibration_max_distance <= 2
    ):
        raise ValueError(
            f"{where}: need 0 <= calibration_min_distance <= calibration_max_distance <= 2, got "
            f"{cfg.calibration_min_distance}, {cfg.calibration_max_distance}"
        )
    if cfg.history_s is not None and not (math.isfinite(cfg.history_s) and cfg.history_s >= 0):
        raise ValueError(f"{where}.history_s: must be a finite number >= 0 or null, got {cfg.history_s!r}")
    if not (math.isfinite(cfg.gated_cost_margin) and cfg.gated_cost_margin > 0):
        raise ValueError(f"{where}.gated_cost_margin: must be > 0, got {cfg.gated_cost_margin}")
    if cfg.min_tracklet_frames < 1:
        raise ValueError(f"{where}.min_tracklet_frames: must be >= 1, got {cfg.min_tracklet_frames}")
    if not 0 <= cfg.min_quality <= 1:
        raise ValueError(f"{where}.min_quality: must be in [0, 1], got {cfg.min_quality}")
    for i, t in enumerate(cfg.transitions):
        if not t.from_camera or not t.to_camera:
            raise ValueError(f"{where}.transitions[{i}]: from_camera and to_camera are required")
        if not (
            math.isfinite(t.min_travel_s)
            and math.isfinite(t.max_travel_s)
            and t.min_travel_s <= t.max_travel_s
        ):
            raise ValueError(
                f"{where}.transitions[{i}]: need finite min_travel_s <= max_travel_s, "
                f"got {t.min_travel_s}, {t.max_travel_s}"
            )
    pairs = [(t.from_camera, t.to_camera) for t in cfg.transitions]
    for i, pair in enumerate(pairs):
        if pair in pairs[:i]:  # the first would win without a word
            raise ValueError(f"{where}.transitions[{i}]: a second transition {pair[0]!r} -> {pair[1]!r}")
    for i, pair in enumerate(cfg.overlapping_cameras):
        if len(pair) != 2:
            raise ValueError(
                f"{where}.overlapping_cameras[{i}]: expected a pair of camera names, got {pair!r}"
            )


def _zone(value: Any, where: str) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 4):
        raise ValueError(f"{where}: expected [x1, y1, x2, y2], got {value!r}")
    try:
        z = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected 4 numbers, got {value!r}") from None
    if not (all(math.isfinite(v) for v in z) and z[0] <= z[2] and z[1] <= z[3]):
        raise ValueError(f"{where}: need finite x1 <= x2 and y1 <= y2, got {value!r}")
    return (z[0], z[1], z[2], z[3])


def _transition(data: Any, where: str) -> Transition:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(data).__name__}")
    data = dict(data)
    zones = {k: _zone(data.pop(k, None), f"{where}.{k}") for k in ("from_zone", "to_zone")}
    base = dataclass_from_dict(Transition, data, where)
    return Transition(base.from_camera, base.to_camera, base.min_travel_s, base.max_travel_s, **zones)


def multicam_config_from_dict(data: dict[str, Any] | None, where: str = "multicam") -> MultiCamConfig:
    """Build a :class:`MultiCamConfig` from a mapping; unknown keys or bad values raise ``ValueError``."""
    data = dict(data or {})
    transitions = data.pop("transitions", None) or []
    overlapping = data.pop("overlapping_cameras", None) or []
    if not isinstance(transitions, list):
        raise ValueError(f"{where}.transitions: expected a list, got {type(transitions).__name__}")
    if not isinstance(overlapping, list):
        raise ValueError(f"{where}.overlapping_cameras: expected a list, got {type(overlapping).__name__}")
    base = dataclass_from_dict(MultiCamConfig, data, where)
    edges = tuple(_transition(t, f"{where}.transitions[{i}]") for i, t in enumerate(transitions))
    pairs: list[tuple[str, str]] = []
    for i, p in enumerate(overlapping):
        if not (isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(c, str) for c in p)):
            raise ValueError(f"{where}.overlapping_cameras[{i}]: expected [camera, camera], got {p!r}")
        pairs.append((p[0], p[1]))
    cfg = MultiCamConfig(
        **{
            k: getattr(base, k)
            for k in base.__dataclass_fields__
            if k not in ("transitions", "overlapping_cameras")
        },
        transitions=edges,
        overlapping_cameras=tuple(pairs),
    )
    _check(cfg, where)
    return cfg


def load_multicam_config(
    source: MultiCamConfig | str | Path | dict[str, Any] | None = None,
) -> MultiCamConfig:
    """A :class:`MultiCamConfig` from itself, a mapping, a YAML file path, or ``None`` (defaults)."""
    if source is None:
        return MultiCamConfig()
    if isinstance(source, MultiCamConfig):
        _check(source, "multicam")
        return source
    if isinstance(source, dict):
        return multicam_config_from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: multi-camera config file not found")
    # the one YAML loader of the package (base: inheritance, clean errors naming the file)
    chain = read_yaml_chain(path, path.parent, kind="multi-camera config")
    # the loader names every config after its file; linking settings have no name
    return build_with_blame(
        chain,
        lambda data, where: multicam_config_from_dict({k: v for k, v in data.items() if k != "name"}, where),
    )
