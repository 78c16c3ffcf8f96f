"""Crash safety of ``python -m tracker run``: killed by SIGTERM / SIGINT at random frames, every run
leaves a parseable MOT txt and JSON lines with the same frames, a summary that says it was stopped,
and an annotated video that OpenCV opens with exactly that many frames."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tracker.io.mot import read_results

RUNS = int(os.environ.get("TRACKER_CRASH_RUNS", "20"))
"""Kill runs (20 in CI; set TRACKER_CRASH_RUNS lower for a quick local check)."""


def _sample() -> Path:
    from tracker import assets

    sample = getattr(assets, "SAMPLE_VIDEO", None)
    if sample is None or not Path(sample).is_file():
        pytest.skip("the bundled sample clip is not in this tree")
    return Path(sample)


def _video_frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"OpenCV cannot open {path}"
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def _start(sample: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "run", str(sample), "--out", str(out), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_frames(proc: subprocess.Popen[bytes], jsonl: Path, timeout: float = 90.0) -> None:
    """Until the run has streamed its first frames to disk (the JSON lines are flushed every second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if jsonl.is_file() and jsonl.stat().st_size > 0:
            return
        if proc.poll() is not None:
            pytest.fail(
                f"run ended before it was killed: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        time.sleep(0.05)
    proc.kill()
    pytest.fail("run wrote no frame in time")


def test_killed_runs_leave_valid_consistent_outputs(tmp_path: Path) -> None:
    sample = _sample()
    rng = random.Random(12345)
    name = sample.stem
    seen_frames = []
    for k in range(RUNS):
        sig = signal.SIGTERM if k % 2 == 0 else signal.SIGINT
        out = tmp_path / f"run{k}"
        proc = _start(sample, out)
        _wait_for_frames(proc, out / f"{name}.jsonl")
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 128 + sig, (k, sig.name, proc.returncode, err.decode()[-2000:])

        summary = json.loads((out / f"{name}_summary.json").read_text())
        n = summary["frames"]
        assert summary["stopped"] == "signal" and summary["signal"] == sig.name and n > 0
        lines = (out / f"{name}.jsonl").read_text().splitlines()
        assert [json.loads(line)["frame"] for line in lines] == list(range(1, n + 1))
        results = read_results(out / f"{name}.txt")
        assert set(results.frames) <= set(range(1, n + 1))
        with_tracks = {json.loads(line)["frame"] for line in lines if json.loads(line)["tracks"]}
        assert set(results.frames) == with_tracks
        assert _video_frames(out / f"{name}.mp4") == n
        seen_frames.append(n)
    assert len(set(seen_frames)) > 1, "kills should land at different frames"
