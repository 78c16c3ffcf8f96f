"""benchmarks/score_shift.py: the rewritten detections hold the same boxes and transformed scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scripts import score_shift

from tracker.io.mot import read_detections


def _sequence(root: Path) -> Path:
    """A two-frame sequence whose scores are ACF-like (0-100: ``bench`` min-max scales them)."""
    seq = root / "SEQ-1"
    (seq / "det").mkdir(parents=True)
    (seq / "gt").mkdir()
    (seq / "gt" / "gt.txt").write_text("1,1,10,20,30,60,1,1,1\n")
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-1\nframeRate=7\nseqLength=2\nimWidth=100\nimHeight=100\n"
    )
    (seq / "det" / "det.txt").write_text(
        "1,-1,10,20,30,60,20,-1,-1,-1\n1,-1,50,20,30,60,100,-1,-1,-1\n2,-1,12,20,30,60,60,-1,-1,-1\n"
    )
    return seq


@pytest.mark.parametrize("name", ["x0.7", "pow2"])
def test_copy_keeps_boxes_and_transforms_normalised_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    mod = score_shift()
    seq = _sequence(tmp_path / "src")
    monkeypatch.setattr(mod, "SETS", {"tiny": ("MOT15", tmp_path / "src", [])})
    monkeypatch.setattr(mod, "OUT", tmp_path / "out")
    root = mod.write_copy("tiny", name)
    copy = root / "train" / "SEQ-1"
    assert (copy / "gt" / "gt.txt").read_text() == (seq / "gt" / "gt.txt").read_text()
    before, after = read_detections(seq / "det" / "det.txt"), read_detections(copy / "det" / "det.txt")
    fn = mod.TRANSFORMS[name]
    for frame in (1, 2):
        b, a = before.detections(frame, "auto"), after.detections(frame, "auto")
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        # min-max scaled first (20 -> 0, 60 -> 0.5, 100 -> 1), then transformed; [0, 1] stays unscaled
        np.testing.assert_allclose(a.scores, fn(b.scores.astype(np.float64)), atol=1e-5)


def test_unknown_transform_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        score_shift().main(["--transforms", "x2"])
    assert "x2" in capsys.readouterr().err


def test_unknown_preset_is_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        score_shift().main(["--presets", "nosuch", "--sets", "pets"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--presets" in err and "unknown preset 'nosuch'" in err
