"""Detectors: anything that turns a frame into :class:`~tracker.types.Detections`.

* :class:`Detector`: the protocol (``detect(frame, frame_index) -> Detections``);
* :class:`OnnxDetector`: YOLOX, NanoDet, Ultralytics YOLOv8/11 (optionally JDE, with per-box
  embeddings) and TF object-detection-API SSD models run with ONNX Runtime;
* :class:`MotFileDetector`: precomputed MOTChallenge ``det.txt`` detections;
* building blocks: :mod:`~tracker.detect.preprocess` (letterbox / resize and the box transform back),
  :mod:`~tracker.detect.decoders` (raw outputs -> boxes), :mod:`~tracker.detect.nms`.
"""

from ..types import Detector
from .decoders import Decoded, decode_nanodet, decode_ssd, decode_yolov8, decode_yolox, gfl_integral
from .file_detector import MotFileDetector
from .nms import box_iou, nms
from .onnx_detector import FAMILIES, FAMILY_DEFAULTS, FamilyDefaults, OnnxDetector, infer_family
from .preprocess import BoxTransform, letterbox, plain_resize

__all__ = [
    "FAMILIES",
    "FAMILY_DEFAULTS",
    "BoxTransform",
    "Decoded",
    "Detector",
    "FamilyDefaults",
    "MotFileDetector",
    "OnnxDetector",
    "box_iou",
    "decode_nanodet",
    "decode_ssd",
    "decode_yolov8",
    "decode_yolox",
    "gfl_integral",
    "infer_family",
    "letterbox",
    "nms",
    "plain_resize",
]
