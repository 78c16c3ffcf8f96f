"""The bundled sample clip: present, attributed, licensed, and decoded frame for frame by OpenCV."""

from __future__ import annotations

import cv2
import numpy as np

from tracker.assets import ASSET_DIR, SAMPLE_VIDEO, SAMPLE_VIDEO_ATTRIBUTION, SAMPLE_VIDEO_FRAMES


def test_sample_video_ships_with_its_licence() -> None:
    assert SAMPLE_VIDEO.is_file()
    assert SAMPLE_VIDEO.suffix == ".mp4"
    assert SAMPLE_VIDEO.stat().st_size < 3 * 2**20  # a few MB at most in the wheel
    licence = (ASSET_DIR / "LICENSE-intel-sample-videos.txt").read_text(encoding="utf-8")
    assert "Attribution 4.0 International" in licence
    assert "CC BY 4.0" in SAMPLE_VIDEO_ATTRIBUTION and "Intel" in SAMPLE_VIDEO_ATTRIBUTION
    readme = (ASSET_DIR / "README.md").read_text(encoding="utf-8")
    assert SAMPLE_VIDEO.name in readme and "CC BY 4.0" in readme


def test_sample_video_decodes_frame_for_frame() -> None:
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    assert cap.isOpened()
    try:
        assert cap.get(cv2.CAP_PROP_FPS) == 25.0
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        assert fourcc.to_bytes(4, "little").decode("ascii").lower() in ("avc1", "h264")
        count = 0
        means: list[float] = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            assert frame.shape == (432, 768, 3) and frame.dtype == np.uint8
            if count % 100 == 0:
                means.append(float(frame.mean()))
            count += 1
    finally:
        cap.release()
    assert count == SAMPLE_VIDEO_FRAMES == 596
    # real pictures, not a blank or frozen stream
    assert all(20.0 < m < 235.0 for m in means)
    assert len({round(m, 1) for m in means}) > 1
