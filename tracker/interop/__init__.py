"""Bridges to other vision libraries, without importing them at ``import tracker`` time.

* :mod:`tracker.interop.supervision`: Roboflow ``supervision`` (MIT): ``sv.Detections`` in,
  ``sv.Detections`` with ``tracker_id`` out. ``supervision`` is imported only when a function needs it.
* :mod:`tracker.interop.ultralytics`: an Ultralytics ``Results`` object in, duck-typed; ``ultralytics``
  (AGPL-3.0) is never imported.

The same conversions are reachable from the core types: :meth:`tracker.Detections.from_supervision`,
:meth:`tracker.Tracks.to_supervision` and :meth:`tracker.Detections.from_ultralytics`.
ROS 2 messages and bags live in :mod:`tracker.io.ros`.
"""

from .supervision import detections_from_supervision, tracks_to_supervision
from .ultralytics import detections_from_ultralytics

__all__ = ["detections_from_supervision", "detections_from_ultralytics", "tracks_to_supervision"]
