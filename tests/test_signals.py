"""Signals in every long command: the multi-camera run and bench finish the frame in hand, write every
output with the frames processed so far, and say they were stopped; GracefulStop itself."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from test_multicam_apps import ColourDetector, ColourEmbedder, write_scene

from tracker.apps.bench import run_benchmark
from tracker.apps.multicam_run import load_camera_setup, run_cameras
from tracker.io.mot import read_results
from tracker.signals import GracefulStop, StopNow
from tracker.types import Detections


def test_graceful_stop_first_requests_second_raises_and_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGTERM" and stop.exit_status() == 143
        with pytest.raises(StopNow):
            os.kill(os.getpid(), signal.SIGHUP)
    assert signal.getsignal(signal.SIGTERM) == before


class SignalAt(ColourDetector):
    def __init__(self, camera_frame: int) -> None:
        self.at, self.calls = camera_frame, 0

    def detect(self, frame: np.ndarray, frame_index: int) -> Detections:
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().detect(frame, frame_index)


def test_multicam_run_stopped_by_sigterm_writes_everything(tmp_path: Path) -> None:
    setup = load_camera_setup(write_scene(tmp_path / "scene"))
    out = tmp_path / "out"
    s = run_cameras(setup, SignalAt(31), embedder=ColourEmbedder(), out_dir=out, progress=False)
    # frames alternate a, b, a, b ... : the 31st frame (a's 16th) is finished, then the run stops
    assert s.stopped == "signal" and s.signal == "SIGTERM"
    assert (s.cameras["a"].frames, s.cameras["b"].frames) == (16, 15)
    summary = json.loads((out / "multicam_summary.json").read_text())
    assert summary["stopped"] == "signal" and summary["signal"] == "SIGTERM"
    for cam, n in (("a", 16), ("b", 15)):
        assert len((out / f"{cam}.jsonl").read_text().splitlines()) == n
        assert read_results(out / f"{cam}.txt").last_frame <= n
        assert (out / f"{cam}.mp4").stat().st_size > 0


def _dataset(root: Path, sequences: int = 3, frames: int = 30) -> Path:
    for k in range(sequences):
        seq = root / "train" / f"S{k}"
        (seq / "det").mkdir(parents=True)
        (seq / "gt").mkdir()
        rows = [f"{f},-1,{10 + 2 * f},20,20,50,0.9" for f in range(1, frames + 1)]
        (seq / "det" / "det.txt").write_text("\n".join(rows) + "\n")
        gt = [f"{f},1,{10 + 2 * f},20,20,50,1,1,1" for f in range(1, frames + 1)]
        (seq / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname=S{k}\nimDir=img1\nframeRate=10\nseqLength={frames}\n"
            "imWidth=200\nimHeight=100\nimExt=.jpg\n"
        )
    return root


def test_bench_stopped_by_sigterm_scores_the_complete_sequences(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "DS")

    def after_first(run: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    report = run_benchmark(str(data), out_dir=tmp_path / "out", progress=False, on_sequence=after_first)
    assert report.stopped == "signal" and report.signal == "SIGTERM"
    assert [r.name for r in report.runs] == ["S0"]
    assert report.scores is not None and set(report.scores.sequences) == {"S0"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["stopped"] == "signal" and summary["signal"] == "SIGTERM"


def test_bench_signals_while_scoring_still_write_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the last sequence is tracked, post-processing and scoring are guarded as well: one
    SIGTERM there lets them finish and the run reports the signal; a second skips the scores; the
    summary is written either way."""
    import tracker.eval as eval_module

    data = _dataset(tmp_path / "DS")
    real = eval_module.evaluate

    def signalled(times: int):  # type: ignore[no-untyped-def]
        def evaluate(*args, **kwargs):  # type: ignore[no-untyped-def]
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGTERM)
            return real(*args, **kwargs)

        return evaluate

    monkeypatch.setattr(eval_module, "evaluate", signalled(1))
    report = run_benchmark(str(data), out_dir=tmp_path / "one", progress=False, interpolate=5)
    assert report.stopped == "signal" and report.signal == "SIGTERM"
    assert report.scores is not None and set(report.scores.sequences) == {"S0", "S1", "S2"}
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert summary["stopped"] == "signal" and summary["interpolate"] == 5

    monkeypatch.setattr(eval_module, "evaluate", signalled(2))
    report = run_benchmark(str(data), out_dir=tmp_path / "two", progress=False)
    assert report.stopped == "signal" and report.scores is None
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["signal"] == "SIGTERM" and len(summary["sequences"]) == 3
    assert not list((tmp_path / "two").glob("*.part"))


def test_multicam_summary_holds_the_learned_linking_thresholds(tmp_path: Path) -> None:
    setup = load_camera_setup(write_scene(tmp_path / "scene"))
    run_cameras(setup, ColourDetector(), embedder=ColourEmbedder(), out_dir=tmp_path / "out", progress=False)
    linking = json.loads((tmp_path / "out" / "multicam_summary.json").read_text())["linking"]
    assert "calibration" in linking and linking["links"] >= 1


def test_bench_names_the_sequences_when_none_matches(tmp_path: Path) -> None:
    """``--seq`` that matches nothing lists what the dataset holds (it named only the pattern), and
    the refused run creates no output folder."""
    data = _dataset(tmp_path / "data")
    with pytest.raises(
        ValueError, match=r"no sequence of .* matches \['NOPE'\]; it holds \['S0', 'S1', 'S2'\]"
    ):
        run_benchmark(str(data), out_dir=tmp_path / "out", progress=False, sequences=["NOPE"])
    assert not (tmp_path / "out").exists()  # refused before anything is written
