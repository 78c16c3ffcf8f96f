"""tracker: multi-object tracking by detection with appearance re-identification.

Public API (numpy in, numpy out)::

    from tracker import Tracker, Detections
    tracker = Tracker("botsort", frame_rate=30)
    tracks = tracker.update(Detections(boxes_xyxy, scores), frame=bgr_image)
"""

from .config import TrackerConfig, available_presets, load_config
from .core.tracker import Tracker
from .types import Detections, Tracks, TrackState

__all__ = [
    "Detections",
    "TrackState",
    "Tracker",
    "TrackerConfig",
    "Tracks",
    "available_presets",
    "load_config",
]
__version__ = "0.1.0"
