"""Detectors: anything that turns a frame into :class:`~tracker.types.Detections`.

* :class:`Detector`: the protocol (``detect(frame, frame_index) -> Detections``);
* :class:`OnnxDetector`: YOLOX, NanoDet, Ultralytics YOLOv8/11 (optionally JDE, with per-box
  embeddings), TF object-detection-API SSD and Caffe/OpenVINO SSD (cut before ``DetectionOutput``)
  models run with ONNX Runtime;
* :mod:`~tracker.detect.families`: the family registry, one module per family (:data:`FAMILIES`,
  :func:`get_family`, :func:`infer_family`, :func:`family_help` for CLI help texts);
* :class:`MotFileDetector`: precomputed MOTChallenge ``det.txt`` detections;
* building blocks: :mod:`~tracker.detect.preprocess` (letterbox / resize and the box transform back),
  :mod:`~tracker.detect.decoders` (raw outputs -> boxes), :mod:`~tracker.detect.nms`.
"""

from ..types import Detector
from .decoders import Decoded, decode_nanodet, decode_ssd, decode_yolov8, decode_yolox, gfl_integral
from .families import (
    FAMILIES,
    FAMILY_DEFAULTS,
    SPECS,
    FamilyDefaults,
    FamilySpec,
    family_help,
    get_family,
    infer_family,
)
from .families.ssd_priors import decode_ssd_priors
from .file_detector import MotFileDetector
from .nms import box_iou, nms
from .onnx_detector import OnnxDetector
from .preprocess import BoxTransform, letterbox, plain_resize

__all__ = [
    "FAMILIES",
    "FAMILY_DEFAULTS",
    "SPECS",
    "BoxTransform",
    "Decoded",
    "Detector",
    "FamilyDefaults",
    "FamilySpec",
    "MotFileDetector",
    "OnnxDetector",
    "box_iou",
    "decode_nanodet",
    "decode_ssd",
    "decode_ssd_priors",
    "decode_yolov8",
    "decode_yolox",
    "family_help",
    "get_family",
    "gfl_integral",
    "infer_family",
    "letterbox",
    "nms",
    "plain_resize",
]
