"""Engines that run the frame pipeline somewhere other than one Python loop.

* :mod:`~tracker.engines.identity`: :class:`IdentityService`, the cross-camera identity manager behind a
  timestamp watermark (events may arrive in any order; global ids equal the local engine's);
* :mod:`~tracker.engines.camera`: :class:`CameraWorker`, one camera's source -> detect -> embed -> track
  -> sinks, sending one :class:`TrackletEvent` per frame to an identity service;
* :mod:`~tracker.pipeline.final_outputs`: the final-id outputs (``<cam>.txt/.jsonl/.tracks.npz``,
  ``global_ids.json``) from the service's records, laid out as the local engine's;
* :mod:`~tracker.engines.ray_engine`: the same pieces as Ray actors and tasks (``--engine ray``).

Only :mod:`~tracker.engines.ray_engine` imports ``ray`` (the optional ``[ray]`` extra); importing this
package, or ``tracker``, never does.
"""

from __future__ import annotations

import importlib.util

__all__ = ["RAY_MISSING", "RayMissing", "ray_available", "require_ray"]

RAY_MISSING = '--engine ray needs the ray extra: pip install "tracker[ray]"'
"""The message (after ``error: ``) when ``ray`` cannot be imported."""


class RayMissing(ValueError):
    """``ray`` is not installed (a usage error: exit status 2 on the command line)."""


def ray_available() -> bool:
    """Whether ``ray`` can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def require_ray() -> None:
    """Raise :class:`RayMissing` (a ``ValueError``) with :data:`RAY_MISSING` unless ray is importable."""
    if not ray_available():
        raise RayMissing(RAY_MISSING)
