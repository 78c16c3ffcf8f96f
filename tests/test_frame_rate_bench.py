"""benchmarks/frame_rate.py: the subsampled datasets it scores are what it says they are."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from scripts import frame_rate

from tracker.io.mot import read_detections, read_ground_truth


def _sequence(root: Path, frames: int = 7, rate: int = 30) -> Path:
    seq = root / "train" / "SEQ-01"
    (seq / "det").mkdir(parents=True)
    (seq / "gt").mkdir()
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\n"
        f"frameRate={rate}\nseqLength={frames}\nimWidth=640\nimHeight=480\nimExt=.jpg\n"
    )
    det, gt = [], []
    for f in range(1, frames + 1):
        # one person walking right 10 px a frame; its detection's score encodes the frame
        det.append(f"{f},-1,{10 * f},50,40,100,{f / 100:.2f},-1,-1,-1\n")
        gt.append(f"{f},1,{10 * f},50,40,100,1,1,1.0\n")
    (seq / "det" / "det.txt").write_text("".join(det))
    (seq / "gt" / "gt.txt").write_text("".join(gt))
    return root


def test_every_third_frame_renumbered_with_rate_and_length(tmp_path: Path) -> None:
    src = _sequence(tmp_path / "src")
    spec = {"dataset": "X", "root": src}
    kw = frame_rate().subsample_dataset(spec, 3, tmp_path / "out")
    assert kw["root"] == tmp_path / "out" and kw["use_images"] is False
    seq = tmp_path / "out" / "train" / "SEQ-01"
    ini = configparser.ConfigParser()
    ini.read(seq / "seqinfo.ini")
    assert ini["Sequence"]["seqLength"] == "3"  # frames 1, 4, 7 of 7
    assert float(ini["Sequence"]["frameRate"]) == 10.0
    assert ini["Sequence"]["imWidth"] == "640"
    det = read_detections(seq / "det" / "det.txt")
    assert sorted(det.frames) == [1, 2, 3]
    # new frame k holds old frame 3k - 2: its box moved 30 px a frame, its score tells the frame
    for new, old in ((1, 1), (2, 4), (3, 7)):
        boxes, scores = det[new].boxes, det[new].scores
        assert boxes[0, 0] == pytest.approx(10 * old)
        assert scores[0] == pytest.approx(old / 100)
    gt = read_ground_truth(seq / "gt" / "gt.txt")
    assert [float(gt[k].boxes[0, 0]) for k in (1, 2, 3)] == [10.0, 40.0, 70.0]


def test_stride_one_is_the_set_itself(tmp_path: Path) -> None:
    src = _sequence(tmp_path / "src")
    kw = frame_rate().subsample_dataset({"dataset": "X", "root": src}, 1, tmp_path / "out")
    assert kw["root"] == src and not (tmp_path / "out").exists()


def test_a_bad_frame_number_names_file_and_line(tmp_path: Path) -> None:
    src = _sequence(tmp_path / "src")
    det = src / "train" / "SEQ-01" / "det" / "det.txt"
    lines = det.read_text().splitlines(keepends=True)
    lines[2] = "x" + lines[2]
    det.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"det\.txt:3: frame number"):
        frame_rate().subsample_dataset({"dataset": "X", "root": src}, 2, tmp_path / "out")
