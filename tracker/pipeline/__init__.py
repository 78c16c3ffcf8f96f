"""The frame pipeline: source -> detect -> embed -> track -> sinks, owned in one place.

* :mod:`~tracker.pipeline.frame`: :class:`FramePipeline`, one frame's way, and the tracking steps;
* :mod:`~tracker.pipeline.runner`: :func:`run_streams`, the one frame loop (several streams merged by
  timestamp, signals, ``max_frames``, progress);
* :mod:`~tracker.pipeline.sinks`: the :class:`Sink` protocol and the sinks (MOT txt, JSON lines,
  video, gallery, window, in-memory results), all streaming;
* :mod:`~tracker.pipeline.timing`, :mod:`~tracker.pipeline.progress`: stage timers, progress output.
"""

from .frame import CameraOfMany, FramePipeline, SingleCamera, TrackingStep
from .progress import Progress
from .runner import RunEnd, StreamInput, UserStop, run_streams
from .sinks import (
    CollectSink,
    FrameResult,
    GallerySink,
    JsonlSink,
    MotTxtSink,
    RosTracksSink,
    Sink,
    VideoSink,
    WindowSink,
    check_output_file,
    model_name,
    output_folder,
)
from .timing import STAGES, StageClock, TimedEmbedder

__all__ = [
    "STAGES",
    "CameraOfMany",
    "CollectSink",
    "FramePipeline",
    "FrameResult",
    "GallerySink",
    "JsonlSink",
    "MotTxtSink",
    "Progress",
    "RosTracksSink",
    "RunEnd",
    "SingleCamera",
    "Sink",
    "StageClock",
    "StreamInput",
    "TimedEmbedder",
    "TrackingStep",
    "UserStop",
    "VideoSink",
    "WindowSink",
    "check_output_file",
    "model_name",
    "output_folder",
    "run_streams",
]
