"""Every bad input to a command ends in one `error: <what>: <why>` line and a documented exit status,
before any frame is processed; outputs of the pipeline never end in a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_mot import write_sequence

from tracker.__main__ import EXIT_STATUSES, build_parser, main
from tracker.apps.run import run_video
from tracker.types import Detections


class NoDetections:
    def detect(self, frame: object, frame_index: int) -> Detections:
        return Detections(np.zeros((0, 4), np.float32))


def _video(tmp_path: Path) -> Path:
    import cv2

    path = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(5):
        w.write(np.full((48, 64, 3), 80, np.uint8))
    w.release()
    return path


def test_out_pointing_at_a_file_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "taken"
    out.write_text("not a folder")
    assert main(["run", str(_video(tmp_path)), "--out", str(out), "--no-reid", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {out}: --out exists and is not a folder"
    assert out.read_text() == "not a folder"


def test_bench_out_pointing_at_a_file_is_an_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sequence(tmp_path / "DS", "S1", "1,-1,10,10,20,40,0.9\n")
    out = tmp_path / "taken"
    out.write_text("x")
    assert main(["bench", str(tmp_path / "DS"), "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {out}: --out exists and is not a folder"


def test_results_file_being_a_folder_fails_before_the_first_frame(tmp_path: Path) -> None:
    (tmp_path / "clip.txt").mkdir()
    with pytest.raises(ValueError, match=r"clip\.txt: exists and is not a file"):
        run_video(_video(tmp_path), NoDetections(), out_dir=tmp_path, progress=False)
    assert not (tmp_path / "clip_summary.json").exists()  # failed at the start, not after the run


def test_outputs_written_after_the_last_frame_are_checked_before_the_first(tmp_path: Path) -> None:
    """The summary (and a multi-camera run's end files) are written after the last frame; a folder in
    their way was found only then, after the whole source had been tracked, and the summary was lost."""
    (tmp_path / "clip_summary.json").mkdir()
    with pytest.raises(ValueError, match=r"clip_summary\.json: exists and is not a file"):
        run_video(_video(tmp_path), NoDetections(), out_dir=tmp_path, progress=False)
    assert not (tmp_path / "clip.txt").exists() and not (tmp_path / "clip.jsonl").exists()
    (tmp_path / "clip_summary.json").rmdir()
    (tmp_path / "clip.mp4").mkdir()  # opened after the results files, which it left behind empty
    with pytest.raises(ValueError, match=r"clip\.mp4: exists and is not a file"):
        run_video(_video(tmp_path), NoDetections(), out_dir=tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.avi", "clip.mp4"]


@pytest.mark.parametrize("blocked", ["global_ids.json", "multicam_summary.json"])
def test_multicamera_end_files_are_checked_before_the_first_frame(
    tmp_path: Path, blocked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    video = _video(tmp_path)
    other = tmp_path / "clip2.avi"
    shutil.copy(video, other)
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)
    argv = ["run", str(video), str(other), "--out", str(out), "--no-reid", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {out / blocked}: exists and is not a file (remove it or choose another --out)"
    assert sorted(p.name for p in out.iterdir()) == [blocked]  # nothing tracked, nothing written


@pytest.mark.parametrize(
    ("extra", "several", "message"),
    [
        (["--ros-out"], True, "--ros-out works with one source"),
        (["--overlap"], True, "--overlap works with one source"),
        (["--linking", "links.yaml"], False, "--linking applies to multi-camera runs"),
        (["--ros-out", "--engine", "ray"], True, "not with --engine ray"),
    ],
)
def test_options_of_the_other_kind_of_run_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], several: bool, message: str
) -> None:
    """`--ros-out` / `--overlap` with several cameras and `--linking` with one source were silently
    ignored (rc 0, no bag; a broken linking file never read)."""
    video = _video(tmp_path)
    sources = [str(video), str(video)] if several else [str(video)]
    out = tmp_path / "out"
    assert main(["run", *sources, "--out", str(out), "--no-reid", "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_source_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.mp4"
    assert main(["run", str(missing), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.mp4" in err and "Traceback" not in err


def test_exit_statuses_are_documented_in_help() -> None:
    text = " ".join(build_parser().format_help().split())
    for status, meaning in EXIT_STATUSES.items():
        assert f"{status} {meaning}" in text


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "tracker", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("tracker ")


def test_a_missing_extra_is_an_error_line_with_its_install_command(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"  # as on a machine without the train extra
        "from tracker.__main__ import main\n"
        f"sys.exit(main(['reid', 'train', '--config', 'light', '--data', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: torch is not installed: this command needs the train extra: pip install torch==2.13.0 "
        '&& pip install ".[train]"'
    )


def test_a_missing_webcam_is_one_line_without_opencv_chatter() -> None:
    """OpenCV's native log (its obsensor backend prints an [ERROR:...] line for a camera index out of
    range) stays out of the way: the user sees our one error line and exit status 2. Run in a
    subprocess, because OpenCV reads its log level once, when it is first imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "run", "7", "--no-reid", "--max-frames", "1", "--no-video"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1] == "error: webcam 7: cannot open (OpenCV VideoCapture failed to open it)", done.stderr
    opencv = [line for line in lines if line.lstrip().startswith(("[ WARN:", "[ERROR:", "OpenCV("))]
    assert not opencv, done.stderr


@pytest.mark.parametrize(
    "extra", [["--seq", "a"], ["--no-images"], ["--split", "test"], ["--interpolate", "5"], ["--smooth", "1"]]
)
def test_bench_options_a_multicamera_dataset_cannot_use_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """`--seq zzz` on an exported cut ran every camera with rc 0 (so did --no-images and --split)."""
    data = tmp_path / "cut"
    data.mkdir()
    (data / "cameras.yaml").write_text("cameras: [a.mp4, b.mp4]\n")
    assert main(["bench", str(data), "--out", str(tmp_path / "o"), "--no-progress", *extra]) == 2
    assert f"{extra[0]}: not supported on multi-camera datasets" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bench_reads_every_sequence_before_tracking_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A broken last sequence was found after the others had been tracked (no summary, rc 2); two
    sequences named alike in seqinfo.ini wrote one results file and OVERALL lost one."""
    good = "1,-1,10,10,20,40,0.9\n2,-1,11,10,20,40,0.9\n"
    data = tmp_path / "DS"
    write_sequence(data, "A", good, length=3)
    write_sequence(data, "B", good + "3,-1,abc,10,20,40,0.9\n", length=3)
    out = tmp_path / "out"
    assert main(["bench", str(data), "--out", str(out), "--no-progress", "--no-images"]) == 2
    assert (
        f"error: {data / 'train' / 'B' / 'det' / 'det.txt'}:3: non-numeric value 'abc'"
        in capsys.readouterr().err
    )
    assert not out.exists()  # A was not tracked first

    twins = tmp_path / "TW"
    write_sequence(twins, "A", good, name="same", length=3)
    write_sequence(twins, "B", good, name="same", length=3)
    assert main(["bench", str(twins), "--out", str(out), "--no-progress", "--no-images"]) == 2
    assert "seqinfo.ini names it 'same', as" in capsys.readouterr().err and not out.exists()

    late = tmp_path / "LATE"
    write_sequence(late, "A", good + "9,-1,10,10,20,40,0.9\n", length=2)
    with caplog.at_level("WARNING", logger="tracker"):
        assert main(["bench", str(late), "--out", str(out), "--no-progress", "--no-images"]) == 0
    assert (
        "1 frames of rows after frame 2, the last of seqinfo.ini's seqLength, are not tracked (first: 9)"
        in caplog.text
    )
    # results of another sequence already in the folder are named, not silently kept beside the new ones
    (out / "Old-Seq.txt").write_text("")
    caplog.clear()
    with caplog.at_level("WARNING", logger="tracker"):
        assert main(["bench", str(late), "--out", str(out), "--no-progress", "--no-images"]) == 0
    assert "holds results of sequences this run does not track: Old-Seq.txt" in caplog.text
