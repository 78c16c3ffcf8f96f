"""The video pipeline end to end: frame sources, writers, drawing and ``run_video``.

A synthetic video (two coloured rectangles moving on a grey background) is written with
cv2.VideoWriter; a tiny colour-threshold detector finds the rectangles in the decoded frames. Every
other component is the real one (Tracker, ResultsWriter, JsonlWriter, AnnotatedVideoWriter).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from tracker.apps.run import RunSummary, display_available, run_video
from tracker.io.mot import read_results
from tracker.io.sources import DEFAULT_FPS, open_source, parse_source_spec
from tracker.io.writers import AnnotatedVideoWriter, JsonlWriter
from tracker.types import Detections, Tracks
from tracker.viz.draw import TrailBuffer, draw_tracks, id_color

W, H, N_FRAMES, FPS = 320, 240, 40, 10.0
RED, GREEN = (0, 0, 255), (0, 255, 0)  # BGR
RECT_W, RECT_H = 30, 50


def rect_boxes(t: int) -> dict[tuple[int, int, int], tuple[int, int, int, int]]:
    """Ground-truth xyxy boxes of the two rectangles in 1-based frame ``t``."""
    ax, bx = 10 + 5 * (t - 1), 280 - 5 * (t - 1)
    return {RED: (ax, 30, ax + RECT_W, 30 + RECT_H), GREEN: (bx, 150, bx + RECT_W, 150 + RECT_H)}


def make_frame(t: int) -> NDArray[np.uint8]:
    frame = np.full((H, W, 3), 90, np.uint8)
    for color, (x1, y1, x2, y2) in rect_boxes(t).items():
        cv2.rectangle(frame, (x1, y1), (x2 - 1, y2 - 1), color, -1)
    return frame


class ColourDetector:
    """Finds the red and green rectangles by thresholding (works on lossy decoded frames)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect(self, frame: NDArray[np.uint8], frame_index: int) -> Detections:
        self.calls.append(frame_index)
        boxes = []
        b, g, r = (frame[..., k].astype(np.int16) for k in range(3))
        for mask in ((r > 160) & (g < 100) & (b < 100), (g > 160) & (r < 100) & (b < 100)):
            ys, xs = np.nonzero(mask)
            if len(xs) > 20:
                boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        if not boxes:
            return Detections.empty()
        return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9, np.float32))


def write_video(path: Path, n: int = N_FRAMES, fourcc: str = "MJPG") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), FPS, (W, H))
    assert writer.isOpened()
    for t in range(1, n + 1):
        writer.write(make_frame(t))
    writer.release()
    return path


def write_images(folder: Path, n: int, ext: str = ".png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in range(1, n + 1):
        p = folder / f"{t:06d}{ext}"
        assert cv2.imwrite(str(p), make_frame(t))
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "moving.avi")


def check_two_stable_ids(mot_path: Path, last_frame: int) -> None:
    res = read_results(mot_path)
    assert res.last_frame == last_frame
    # from frame 3 on (tracks are confirmed after 2 hits) both rectangles are tracked, always with the
    # same id, and the reported box follows the rectangle
    id_of: dict[tuple[int, int, int], int] = {}
    for t in range(3, last_frame + 1):
        f = res[t]
        assert len(f.ids) == 2, f"frame {t}: {f.ids}"
        for color, box in rect_boxes(t).items():
            ious = [_iou(np.array(box, np.float32), b) for b in f.boxes]
            k = int(np.argmax(ious))
            assert ious[k] > 0.7, f"frame {t}: box {f.boxes[k]} vs {box}"
            assert id_of.setdefault(color, int(f.ids[k])) == int(f.ids[k]), f"id switch at frame {t}"
    assert len(set(id_of.values())) == 2


def _iou(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def read_video(path: Path) -> tuple[int, tuple[int, int], float]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n, size, fps


# ------------------------------------------------------------------------------------------------
# run_video end to end


def test_run_video_writes_valid_outputs(video: Path, tmp_path: Path) -> None:
    det = ColourDetector()
    out = tmp_path / "out"
    s = run_video(str(video), det, out_dir=out, progress=False)
    assert isinstance(s, RunSummary)
    assert s.frames == N_FRAMES and s.error is None and s.stopped == "end"
    assert det.calls == list(range(1, N_FRAMES + 1))
    assert s.unique_tracks == 2
    assert s.detections == 2 * N_FRAMES
    assert s.source_fps == pytest.approx(FPS) and s.frame_rate == pytest.approx(FPS)
    assert s.size == (W, H)
    assert set(s.outputs) == {"mot", "jsonl", "video", "summary"}
    assert s.outputs["mot"] == str(out / "moving.txt")

    check_two_stable_ids(out / "moving.txt", N_FRAMES)

    lines = (out / "moving.jsonl").read_text().splitlines()
    assert len(lines) == N_FRAMES
    records = [json.loads(line) for line in lines]
    assert [r["frame"] for r in records] == list(range(1, N_FRAMES + 1))
    last = records[-1]["tracks"]
    assert len(last) == 2
    assert set(last[0]) == {"id", "box", "score", "class_id"} and len(last[0]["box"]) == 4
    mot_last = read_results(out / "moving.txt")[N_FRAMES]
    assert sorted(t["id"] for t in last) == sorted(mot_last.ids.tolist())

    n, size, fps = read_video(out / "moving.mp4")
    assert n == N_FRAMES and size == (W, H) and fps == pytest.approx(FPS)

    saved = json.loads((out / "moving_summary.json").read_text())
    assert saved["frames"] == N_FRAMES and saved["unique_tracks"] == 2 and saved["error"] is None
    assert set(saved["stages"]) == {"decode", "detect", "embed", "track", "write"}
    assert s.total_seconds > 0 and s.fps is not None
    text = s.format()
    assert "frames   40" in text and "detect" in text and "total" in text


def test_run_video_overlap_threads_give_the_same_outputs(video: Path, tmp_path: Path) -> None:
    """Decode-ahead and background encoding change when work is done, not what is written."""
    runs = {}
    for overlap in (True, False):
        out = tmp_path / str(overlap)
        s = run_video(video, ColourDetector(), out_dir=out, progress=False, overlap=overlap)
        assert s.frames == N_FRAMES and s.stopped == "end" and s.error is None
        runs[overlap] = out
        assert read_video(out / "moving.mp4")[0] == N_FRAMES
    for name in ("moving.txt", "moving.jsonl"):
        assert (runs[True] / name).read_text() == (runs[False] / name).read_text()
    assert _no_tracker_threads()


def test_run_video_max_frames_no_video(video: Path, tmp_path: Path) -> None:
    s = run_video(video, ColourDetector(), out_dir=tmp_path, write_video=False, progress=False, max_frames=7)
    assert s.frames == 7 and s.stopped == "max_frames"
    assert "video" not in s.outputs and not (tmp_path / "moving.mp4").exists()
    assert read_results(tmp_path / "moving.txt").last_frame == 7


def test_run_video_timed_embedder(video: Path, tmp_path: Path) -> None:
    class Embed:
        dim = 4
        calls = 0

        def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
            Embed.calls += 1
            # mean colour inside each box as the appearance vector
            rows = []
            for x1, y1, x2, y2 in boxes.astype(int):
                patch = image[max(y1, 0) : max(y2, 1), max(x1, 0) : max(x2, 1)].reshape(-1, 3)
                rows.append([*patch.mean(axis=0), 1.0])
            return np.array(rows, np.float32)

    s = run_video(
        video, ColourDetector(), embedder=Embed(), out_dir=tmp_path, write_video=False, progress=False
    )
    assert Embed.calls == N_FRAMES
    assert s.stage_seconds["embed"] > 0 and s.stage_seconds["track"] > 0
    check_two_stable_ids(tmp_path / "moving.txt", N_FRAMES)


def test_run_video_show_without_display(video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    s = run_video(video, ColourDetector(), out_dir=tmp_path, show=True, progress=False, max_frames=3)
    assert s.frames == 3


def test_show_with_unreachable_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV's Qt backend aborts the process when DISPLAY cannot be reached: the probe must catch it."""
    monkeypatch.setenv("DISPLAY", ":93")
    monkeypatch.setenv("XAUTHORITY", str(tmp_path / "none"))
    ok, why = display_available()
    if ok:
        pytest.skip("a display :93 exists here")
    assert "window" in why or "GUI" in why


class FailingDetector(ColourDetector):
    def __init__(self, fail_at: int, exc: BaseException) -> None:
        super().__init__()
        self.fail_at, self.exc = fail_at, exc

    def detect(self, frame: NDArray[np.uint8], frame_index: int) -> Detections:
        if frame_index == self.fail_at:
            raise self.exc
        return super().detect(frame, frame_index)


def _no_tracker_threads() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("tracker-")]


@pytest.mark.parametrize("overlap", [False, True])
def test_detector_exception_keeps_partial_outputs(video: Path, tmp_path: Path, overlap: bool) -> None:
    with pytest.raises(RuntimeError, match="model crashed"):
        run_video(
            video,
            FailingDetector(6, RuntimeError("model crashed")),
            out_dir=tmp_path,
            progress=False,
            overlap=overlap,
        )
    assert read_results(tmp_path / "moving.txt").last_frame == 5
    assert len((tmp_path / "moving.jsonl").read_text().splitlines()) == 5
    assert read_video(tmp_path / "moving.mp4")[0] == 5
    assert _no_tracker_threads()


class SignallingDetector(ColourDetector):
    """Sends itself ``signals`` (a list of ``signal.Signals``) while detecting frame ``at``."""

    def __init__(self, at: int, signals: list[signal.Signals]) -> None:
        super().__init__()
        self.at, self.signals = at, signals

    def detect(self, frame: NDArray[np.uint8], frame_index: int) -> Detections:
        if frame_index == self.at:
            for sig in self.signals:
                os.kill(os.getpid(), sig)
        return super().detect(frame, frame_index)


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_finishes_frame_and_writes_everything(
    video: Path, tmp_path: Path, sig: signal.Signals, overlap: bool
) -> None:
    s = run_video(video, SignallingDetector(9, [sig]), out_dir=tmp_path, progress=False, overlap=overlap)
    assert _no_tracker_threads()
    assert s.frames == 9 and s.stopped == "signal" and s.signal == sig.name and s.error is None
    assert read_results(tmp_path / "moving.txt").last_frame == 9
    assert len((tmp_path / "moving.jsonl").read_text().splitlines()) == 9
    assert read_video(tmp_path / "moving.mp4")[0] == 9
    summary = json.loads((tmp_path / "moving_summary.json").read_text())
    assert summary["stopped"] == "signal" and summary["signal"] == sig.name and summary["frames"] == 9
    assert signal.getsignal(sig) is not None  # handlers restored after the run


@pytest.mark.parametrize("overlap", [False, True])
def test_second_signal_stops_at_once_with_valid_files(video: Path, tmp_path: Path, overlap: bool) -> None:
    s = run_video(
        video,
        SignallingDetector(9, [signal.SIGTERM, signal.SIGTERM]),
        out_dir=tmp_path,
        progress=False,
        overlap=overlap,
    )
    assert _no_tracker_threads()
    # the frame in hand is dropped; everything before it is in every file
    assert s.frames == 8 and s.stopped == "signal" and s.signal == "SIGTERM"
    assert read_results(tmp_path / "moving.txt").last_frame == 8
    assert len((tmp_path / "moving.jsonl").read_text().splitlines()) == 8
    assert read_video(tmp_path / "moving.mp4")[0] == 8
    assert json.loads((tmp_path / "moving_summary.json").read_text())["frames"] == 8


def test_image_folder_and_glob(tmp_path: Path) -> None:
    folder = tmp_path / "seq"
    write_images(folder, 12, ".png")
    (folder / "notes.txt").write_text("not an image")
    with open_source(folder) as src:
        assert src.fps is None and src.frame_count == 12 and src.name == "seq" and src.size == (W, H)
        got = [i for i, _ in src]
        assert got == list(range(1, 13)) and src.error is None
    s = run_video(str(folder), ColourDetector(), out_dir=tmp_path / "o1", progress=False)
    assert s.frames == 12 and s.frame_rate == DEFAULT_FPS and s.source_fps is None
    check_two_stable_ids(tmp_path / "o1" / "seq.txt", 12)

    s = run_video(str(folder / "*.png"), ColourDetector(), out_dir=tmp_path / "o2", progress=False)
    assert s.frames == 12 and s.name == "seq"
    check_two_stable_ids(tmp_path / "o2" / "seq.txt", 12)


def test_folder_natural_order_and_seqinfo_fps(tmp_path: Path) -> None:
    seq = tmp_path / "SEQ-01"
    img = seq / "img1"
    img.mkdir(parents=True)
    for t in (1, 2, 10):
        cv2.imwrite(str(img / f"f{t}.jpg"), np.full((8, 10, 3), t, np.uint8))
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=14\nseqLength=3\nimWidth=10\nimHeight=8\nimExt=.jpg\n"
    )
    with open_source(img) as src:
        assert [p.name for p in src.paths] == ["f1.jpg", "f2.jpg", "f10.jpg"]  # type: ignore[attr-defined]
        assert src.fps == 14.0 and src.name == "SEQ-01"
    with open_source(str(img), fps=5) as src:
        assert src.fps == 5.0


def test_corrupt_image_mid_folder_ends_run_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    paths = write_images(folder, 8, ".png")
    paths[4].write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")  # frame 5
    out = tmp_path / "out"
    s = run_video(folder, ColourDetector(), out_dir=out, progress=False)
    assert s.frames == 4 and s.stopped == "error"
    assert s.error is not None and "frame 5" in s.error and "000005.png" in s.error
    check_two_stable_ids(out / "broken.txt", 4)
    assert len((out / "broken.jsonl").read_text().splitlines()) == 4
    n, size, _ = read_video(out / "broken.mp4")
    assert n == 4 and size == (W, H)
    saved = json.loads((out / "broken_summary.json").read_text())
    assert saved["frames"] == 4 and "frame 5" in saved["error"]


def test_image_of_other_size_stops_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sizes"
    paths = write_images(folder, 5, ".jpg")
    cv2.imwrite(str(paths[2]), np.zeros((20, 30, 3), np.uint8))
    with open_source(folder) as src:
        assert [i for i, _ in src] == [1, 2]
        assert src.error is not None and "frame 3" in src.error and "30x20" in src.error


def test_truncated_video_records_error(video: Path, tmp_path: Path) -> None:
    data = video.read_bytes()
    broken = tmp_path / "cut.avi"
    broken.write_bytes(data[: len(data) // 2])
    with open_source(broken) as src:
        assert src.frame_count == N_FRAMES
        n = sum(1 for _ in src)
    assert 1 <= n < N_FRAMES
    assert src.error is not None and f"frame {n + 1}" in src.error and "cut.avi" in src.error


def test_a_run_on_a_truncated_video_warns_once(
    video: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The source logs its failure when it happens; the run records it in the summary without
    logging the same line again (it was logged twice, then printed by the CLI a third time)."""
    data = video.read_bytes()
    broken = tmp_path / "cut.avi"
    broken.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="tracker"):
        s = run_video(broken, ColourDetector(), out_dir=tmp_path / "out", write_video=False, progress=False)
    assert s.stopped == "error" and s.error is not None and "cut.avi" in s.error
    assert [r.getMessage() for r in caplog.records if "cannot decode" in r.getMessage()] == [s.error]


# ------------------------------------------------------------------------------------------------
# sources: specs and errors


def test_parse_source_spec(tmp_path: Path) -> None:
    assert parse_source_spec(0) == ("webcam", 0)
    assert parse_source_spec("2") == ("webcam", 2)
    assert parse_source_spec("rtsp://cam.local:554/stream1") == ("url", "rtsp://cam.local:554/stream1")
    assert parse_source_spec("https://example.com/v.mp4").kind == "url"
    assert parse_source_spec(tmp_path).kind == "folder"
    assert parse_source_spec(str(tmp_path / "*.jpg")).kind == "glob"
    f = tmp_path / "clip.avi"
    f.write_bytes(b"x")
    assert parse_source_spec(str(f)) == ("video", str(f))
    img = tmp_path / "a.PNG"
    img.write_bytes(b"x")
    assert parse_source_spec(img).kind == "image"
    with pytest.raises(ValueError, match=">= 0"):
        parse_source_spec(-1)
    with pytest.raises(TypeError):
        parse_source_spec(True)
    with pytest.raises(ValueError, match="empty"):
        parse_source_spec("  ")


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        open_source(missing)
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        run_video(str(missing), ColourDetector(), out_dir=tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


def test_not_a_video(tmp_path: Path) -> None:
    bad = tmp_path / "fake.mp4"
    bad.write_bytes(b"this is not a video\n" * 200)
    with pytest.raises(ValueError, match=r"fake\.mp4.*cannot decode"):
        open_source(bad)
    bad_img = tmp_path / "fake.jpg"
    bad_img.write_bytes(b"nope")
    with pytest.raises(ValueError, match="cannot decode"):
        open_source(bad_img)


def test_empty_folder_and_glob(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        open_source(tmp_path / "empty")
    with pytest.raises(ValueError, match="no image file matches"):
        open_source(str(tmp_path / "empty" / "*.jpg"))


def test_source_iterates_once(video: Path) -> None:
    with open_source(video) as src:
        assert src.frame_count == N_FRAMES and src.fps == pytest.approx(FPS) and src.name == "moving"
        first = next(iter(src))
        assert first[0] == 1 and first[1].shape == (H, W, 3) and first[1].dtype == np.uint8
        with pytest.raises(RuntimeError, match="only once"):
            iter(src)


# ------------------------------------------------------------------------------------------------
# writers and drawing


def _tracks(ids: list[int], boxes: list[list[float]]) -> Tracks:
    n = len(ids)
    return Tracks(
        np.array(ids, np.int64),
        np.array(boxes, np.float32).reshape(-1, 4),
        np.full(n, 0.87654, np.float32),
        np.zeros(n, np.int64),
        np.ones(n, np.int8),
        np.arange(n, dtype=np.int64),
    )


def test_jsonl_writer_closes_on_error(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.jsonl"
    with pytest.raises(RuntimeError), JsonlWriter(path) as w:
        w.write(1, _tracks([3], [[1.23456, 2, 30.5, 40]]))
        w.write(2, Tracks.empty())
        raise RuntimeError("boom")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0] == {
        "frame": 1,
        "tracks": [{"id": 3, "box": [1.23, 2.0, 30.5, 40.0], "score": 0.8765, "class_id": 0}],
    }
    assert rows[1] == {"frame": 2, "tracks": []}


def test_video_writer_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported video extension"):
        AnnotatedVideoWriter(tmp_path / "x.webm", 10.0)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises((ValueError, OSError), match="file"):
        AnnotatedVideoWriter(blocker / "x.mp4", 10.0, (64, 48))
    path = tmp_path / "a.avi"
    with AnnotatedVideoWriter(path, 5.0) as w:
        w.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match="64x48"):
            w.write(np.zeros((40, 64, 3), np.uint8))
    assert read_video(path)[:2] == (1, (64, 48))


def test_draw_tracks_and_trails() -> None:
    assert id_color(7) == id_color(7) and id_color(1) != id_color(2)
    assert all(0 <= c <= 255 for c in id_color(123456))
    trails = TrailBuffer(length=5, max_age=3)
    frame = np.zeros((H, W, 3), np.uint8)
    for t in range(1, 9):
        trails.update(t, _tracks([1], [[10 + 5 * t, 50, 40 + 5 * t, 100]]))
    assert len(trails.points(1)) == 5
    assert trails.points(1)[-1].tolist() == [65.0, 100.0]  # bottom-centre of the newest box
    trails.update(12, Tracks.empty())
    assert 1 not in trails
    trails.update(13, _tracks([2], [[100, 100, 150, 200]]))
    out = draw_tracks(frame, _tracks([2], [[100, 100, 150, 200]]), trails, frame_index=13)
    assert out is not frame and not frame.any()  # drew on a copy
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert (out[150, 99:102] == id_color(2)).all(axis=1).any()  # left edge in the id's colour
    assert out[:12, :40].any()  # overlay in the top-left corner


# ------------------------------------------------------------------------------------------------
# real data


@pytest.mark.data
def test_vtest_video(data_root: Path) -> None:
    path = data_root / "videos" / "vtest.avi"
    with open_source(str(path)) as src:
        assert src.fps == pytest.approx(10.0, abs=0.1)
        assert src.frame_count == 795
        assert src.size == (768, 576) and src.name == "vtest"
        frames = []
        for i, frame in src:
            frames.append(i)
            assert frame.shape == (576, 768, 3) and frame.dtype == np.uint8
            if i == 3:
                break
        assert frames == [1, 2, 3] and src.error is None


def test_a_sink_failing_to_close_is_named_by_its_file(tmp_path: Path) -> None:
    """An encoder refused at close raised a bare `[Errno 1] Operation not permitted`, so the CLI's
    `error:` line named no file. The pipeline names the sink's file, and still closes the others."""
    import errno

    from tracker import Tracker
    from tracker.pipeline import FramePipeline, SingleCamera

    class Refused:
        path = tmp_path / "out.mp4"

        def write(self, result: object) -> None: ...

        def close(self) -> None:
            raise PermissionError(errno.EPERM, "Operation not permitted")

    class Recorded:
        closed = False

        def write(self, result: object) -> None: ...

        def close(self) -> None:
            self.closed = True

    other = Recorded()
    pipe = FramePipeline("cam", ColourDetector(), SingleCamera(Tracker()), [Refused(), other])
    with pytest.raises(PermissionError) as info:
        pipe.close()
    assert info.value.filename == str(tmp_path / "out.mp4") and info.value.errno == errno.EPERM
    assert other.closed
