"""Multi-camera tracking with global identities.

* :class:`MultiCameraTracker`: one :class:`~tracker.Tracker` per camera plus a
  :class:`GlobalIdentityManager`; ``update(camera_id, timestamp, detections, frame=None)`` returns
  :class:`GlobalTracks` whose ``ids`` are global.
* :class:`GlobalIdentityManager`: links per-camera tracklets into global identities (Hungarian
  assignment on appearance, gated by the camera transition graph and travel times).
* :class:`MultiCamConfig` / :func:`load_multicam_config`: the settings (YAML, unknown keys are errors).
* :mod:`tracker.multicam.setup`: the camera list (``cameras.yaml``) of multi-camera runs and datasets.
* :mod:`tracker.multicam.linking`: the link costs and gates the manager decides with.

Elsewhere: scoring in :mod:`tracker.eval.multicam`, track galleries and person search in
:mod:`tracker.reid.gallery`, the PETS09 virtual-camera harness in ``benchmarks/multicam_harness.py``.
"""

from .config import MultiCamConfig, Transition, load_multicam_config, multicam_config_from_dict
from .manager import GlobalIdentityManager, LinkDecision
from .multi_tracker import GlobalTracks, MultiCameraTracker
from .tracklets import Tracklet, TrackletSummary, observation_weights, summarize_embeddings

__all__ = [
    "GlobalIdentityManager",
    "GlobalTracks",
    "LinkDecision",
    "MultiCamConfig",
    "MultiCameraTracker",
    "Tracklet",
    "TrackletSummary",
    "Transition",
    "load_multicam_config",
    "multicam_config_from_dict",
    "observation_weights",
    "summarize_embeddings",
]
