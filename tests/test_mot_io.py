"""MOTChallenge file I/O: seqinfo.ini, det.txt, gt.txt, results files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracker.io import (
    MotResults,
    ResultFrame,
    ResultsWriter,
    list_sequences,
    normalise_scores,
    read_detections,
    read_ground_truth,
    read_results,
    read_seqinfo,
    write_results,
)
from tracker.types import Tracks

SEQINFO = """[Sequence]
name=SEQ-01
imDir=img1
frameRate=30
seqLength=600
imWidth=1920
imHeight=1080
imExt=.jpg
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tracks(ids: list[int], boxes: list[list[float]], scores: list[float]) -> Tracks:
    n = len(ids)
    return Tracks(
        np.array(ids, np.int64),
        np.array(boxes, np.float32).reshape(n, 4),
        np.array(scores, np.float32),
        np.zeros(n, np.int64),
        np.ones(n, np.int8),
        np.full(n, -1, np.int64),
    )


# ---------------------------------------------------------------------------------------------------
# seqinfo.ini and sequence listing


def test_read_seqinfo(tmp_path: Path) -> None:
    _write(tmp_path / "seqinfo.ini", SEQINFO)
    info = read_seqinfo(tmp_path)
    assert info.name == "SEQ-01"
    assert info.im_dir == "img1"
    assert info.frame_rate == 30.0 and isinstance(info.frame_rate, float)
    assert info.seq_length == 600 and isinstance(info.seq_length, int)
    assert (info.im_width, info.im_height, info.im_ext) == (1920, 1080, ".jpg")


def test_missing_seqinfo_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "seqinfo.ini")):
        read_seqinfo(tmp_path)


def test_seqinfo_missing_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "seqinfo.ini", SEQINFO.replace("frameRate=30\n", ""))
    with pytest.raises(ValueError, match=rf"{path}.*'frameRate'"):
        read_seqinfo(tmp_path)


def test_seqinfo_bad_number_names_key_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "seqinfo.ini", SEQINFO.replace("seqLength=600", "seqLength=six hundred"))
    with pytest.raises(ValueError, match=rf"{path}:5: key 'seqLength'"):
        read_seqinfo(tmp_path)


def test_list_sequences(tmp_path: Path) -> None:
    _write(tmp_path / "DS" / "train" / "B" / "seqinfo.ini", SEQINFO)
    (tmp_path / "DS" / "train" / "A" / "gt").mkdir(parents=True)
    (tmp_path / "DS" / "train" / "not-a-sequence").mkdir()
    _write(tmp_path / "DS" / "train" / "README", "x")
    assert [p.name for p in list_sequences(tmp_path / "DS")] == ["A", "B"]
    assert [p.name for p in list_sequences(tmp_path / "DS" / "train", split=None)] == ["A", "B"]
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        list_sequences(tmp_path / "DS", split="test")
    (tmp_path / "E" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no sequence folders"):
        list_sequences(tmp_path / "E")


# ---------------------------------------------------------------------------------------------------
# det.txt


def test_detections_7_columns_unsorted_with_blank_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "det.txt",
        "3,-1,10,20,30,40,0.9\n\n1,-1,1,2,3,4,0.5\n3,-1,0,0,5,5,0.1\n1,-1,5.5,6.5,7,8,1\n",
    )
    det = read_detections(path)
    assert sorted(det.frames) == [1, 3]
    np.testing.assert_allclose(det[1].boxes, [[1, 2, 4, 6], [5.5, 6.5, 12.5, 14.5]])
    np.testing.assert_allclose(det[1].scores, [0.5, 1.0])
    # file order kept within a frame
    np.testing.assert_allclose(det[3].boxes, [[10, 20, 40, 60], [0, 0, 5, 5]])
    np.testing.assert_allclose(det[3].scores, [0.9, 0.1])
    assert det[3].boxes.dtype == np.float32 and det[3].scores.dtype == np.float32
    assert len(det[2].boxes) == 0 and det[2].boxes.shape == (0, 4)
    assert det.score_range == pytest.approx((0.1, 1.0))
    assert det.last_frame == 3 and det.num_detections == 4


def test_detections_10_columns_and_whitespace(tmp_path: Path) -> None:
    det = read_detections(
        _write(tmp_path / "a.txt", "1,-1,1,2,3,4,42.5,-3.7,-7.1,0\n2,-1,0,0,1,1,-0.5,-1,-1,-1\n")
    )
    np.testing.assert_allclose(det[1].boxes, [[1, 2, 4, 6]])
    assert det.score_range == pytest.approx((-0.5, 42.5))
    det2 = read_detections(_write(tmp_path / "b.txt", "1 -1 1 2 3 4 0.5\n1\t-1\t2\t2\t2\t2\t0.25\n"))
    np.testing.assert_allclose(det2[1].boxes, [[1, 2, 4, 6], [2, 2, 4, 4]])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1,-1,1,2,3,4,0.5\n1,-1,1,2,3,4\n", 2, "6 columns"),
        ("1,-1,1,2,3,4,0.5\n\n2,-1,1,2,abc,4,0.5\n", 3, "non-numeric value 'abc' in column 5"),
        ("1,-1,1,2,3,4,0.5\n2,-1,1,2,3,4,nan\n", 2, "non-finite"),
        ("1,-1,1,2,0,4,0.5\n", 1, "width/height must be > 0"),
        ("1,-1,1,2,3,-4,0.5\n", 1, "width/height must be > 0"),
        ("0,-1,1,2,3,4,0.5\n", 1, "frame 0 is not an integer >= 1"),
        ("1.5,-1,1,2,3,4,0.5\n", 1, "frame 1.5 is not an integer"),
        ("1,-1,1,2,3,4,0.5,1,1,1\n1,-1,1,2,3,4,0.5\n", 2, "rows before have 10"),
        ("1,-1,1,2,3,4,0.5,1,1,1,1\n", 1, "11 columns"),
    ],
)
def test_malformed_detections_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _write(tmp_path / "det.txt", text)
    with pytest.raises(ValueError, match=rf"{path}:{line}: .*{message}"):
        read_detections(path)


def test_missing_detection_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.txt"):
        read_detections(tmp_path / "nope.txt")


def test_normalise_scores() -> None:
    # auto: already in [0, 1] -> unchanged
    np.testing.assert_allclose(normalise_scores([0.05, 0.5, 1.0]), [0.05, 0.5, 1.0], rtol=1e-6)
    # auto: outside -> min-max over the given range
    np.testing.assert_allclose(normalise_scores([-10.0, 0.0, 90.0]), [0.0, 0.1, 1.0], rtol=1e-6)
    # a frame whose scores happen to lie in [0, 1] is still scaled when the FILE range is not
    np.testing.assert_allclose(
        normalise_scores([0.2, 0.7], "auto", score_range=(-1.0, 99.0)), [0.012, 0.017], rtol=1e-5
    )
    np.testing.assert_allclose(normalise_scores([2.0, 4.0], "minmax", score_range=(0.0, 8.0)), [0.25, 0.5])
    np.testing.assert_allclose(normalise_scores([-1.0, 0.3, 7.0], "none"), [0.0, 0.3, 1.0], rtol=1e-6)
    np.testing.assert_allclose(normalise_scores([3.0, 3.0], "minmax"), [1.0, 1.0])
    assert normalise_scores([0.5]).dtype == np.float32
    assert normalise_scores([]).shape == (0,)
    with pytest.raises(ValueError, match="method"):
        normalise_scores([0.5], "zscore")  # type: ignore[arg-type]


def test_detections_to_tracker_detections(tmp_path: Path) -> None:
    det = read_detections(
        _write(tmp_path / "det.txt", "1,-1,1,2,3,4,10\n2,-1,1,2,3,4,60\n2,-1,1,2,3,4,110\n")
    )
    d2 = det.detections(2)
    np.testing.assert_allclose(d2.scores, [0.5, 1.0])
    np.testing.assert_allclose(det.detections(1).scores, [0.0])
    np.testing.assert_allclose(d2.boxes, [[1, 2, 4, 6]] * 2)
    assert (d2.class_ids == 0).all()
    assert len(det.detections(7)) == 0


# ---------------------------------------------------------------------------------------------------
# gt.txt


def test_ground_truth_mot17_layout(tmp_path: Path) -> None:
    gt = read_ground_truth(
        _write(tmp_path / "gt.txt", "2,5,1,2,3,4,1,1,0.5\n1,7,10,10,10,20,0,7,1\n2,3,0,0,2,2,1,12,0.25\n")
    )
    assert gt.has_classes
    f2 = gt[2]
    np.testing.assert_array_equal(f2.ids, [5, 3])
    np.testing.assert_allclose(f2.boxes, [[1, 2, 4, 6], [0, 0, 2, 2]])
    np.testing.assert_array_equal(f2.classes, [1, 12])
    np.testing.assert_allclose(f2.visibility, [0.5, 0.25])
    np.testing.assert_array_equal(f2.consider, [True, True])
    np.testing.assert_array_equal(gt[1].consider, [False])
    assert f2.ids.dtype == np.int64 and f2.boxes.dtype == np.float32


def test_ground_truth_mot15_layout(tmp_path: Path) -> None:
    # MOT15: 10 columns, the last three are world coordinates (or -1): no class, no visibility
    gt = read_ground_truth(
        _write(tmp_path / "gt.txt", "1,9,499,158,31,75,1,-4.1554,-7.3591,0\n1,15,258,219,32,88,0,-1,-1,-1\n")
    )
    assert not gt.has_classes
    np.testing.assert_array_equal(gt[1].classes, [1, 1])
    np.testing.assert_allclose(gt[1].visibility, [1, 1])
    np.testing.assert_array_equal(gt[1].consider, [True, False])


def test_ground_truth_duplicate_id_in_frame(tmp_path: Path) -> None:
    path = _write(tmp_path / "gt.txt", "1,1,0,0,1,1,1,1,1\n1,2,0,0,1,1,1,1,1\n1,1,5,5,1,1,1,1,1\n")
    with pytest.raises(ValueError, match=rf"{path}:3: id 1 occurs twice in frame 1"):
        read_ground_truth(path)


# ---------------------------------------------------------------------------------------------------
# results


def test_results_round_trip(tmp_path: Path) -> None:
    writer = ResultsWriter()
    writer.add(2, _tracks([9, 4], [[10.004, 20, 40.5, 80.25], [0, 0, 1, 1]], [0.5, 0.25]))
    writer.add(1, _tracks([3], [[1.5, 2.5, 11.5, 22.5]], [1.0]))
    writer.add(3, Tracks.empty())
    assert len(writer) == 2
    path = writer.save(tmp_path / "out" / "nested" / "SEQ.txt")
    assert path.read_text().splitlines() == [
        "1,3,1.50,2.50,10.00,20.00,1.0000,-1,-1,-1",
        "2,4,0.00,0.00,1.00,1.00,0.2500,-1,-1,-1",
        "2,9,10.00,20.00,30.50,60.25,0.5000,-1,-1,-1",
    ]
    back = read_results(path)
    assert sorted(back.frames) == [1, 2]
    np.testing.assert_array_equal(back[2].ids, [4, 9])
    np.testing.assert_allclose(back[2].boxes, [[0, 0, 1, 1], [10, 20, 40.5, 80.25]], atol=0.006)
    np.testing.assert_allclose(back[2].scores, [0.25, 0.5])
    in_memory = writer.results()
    np.testing.assert_array_equal(in_memory[2].ids, [9, 4])
    assert len(in_memory[3].ids) == 0


def test_results_writer_rejects_bad_input() -> None:
    writer = ResultsWriter()
    writer.add(1, _tracks([1], [[0, 0, 1, 1]], [1.0]))
    with pytest.raises(ValueError, match="already added"):
        writer.add(1, _tracks([2], [[0, 0, 1, 1]], [1.0]))
    with pytest.raises(ValueError, match="1-based"):
        writer.add(0, _tracks([2], [[0, 0, 1, 1]], [1.0]))
    with pytest.raises(ValueError, match="repeated track id"):
        writer.add(2, _tracks([2, 2], [[0, 0, 1, 1]] * 2, [1.0, 1.0]))


def test_write_results_from_mapping(tmp_path: Path) -> None:
    frame = ResultFrame(
        np.array([2, 1]), np.array([[0, 0, 2, 2], [1, 1, 3, 4]], np.float32), np.ones(2, np.float32)
    )
    path = write_results(tmp_path / "r.txt", MotResults({5: frame}))
    assert path.read_text().splitlines()[0].startswith("5,1,1.00,1.00,2.00,3.00,")
    with pytest.raises(ValueError, match="1-based"):
        write_results(tmp_path / "r.txt", {0: frame})
    assert path.read_text().splitlines()[0].startswith("5,1,"), "a refused rewrite keeps the old file"


def test_write_results_replaces_a_file_whole(tmp_path: Path) -> None:
    """A rewrite (``bench --interpolate`` rewrites each sequence's file) goes through a side file and
    a rename: the old content is replaced at once and nothing is left beside it."""
    one = ResultFrame(np.array([1]), np.array([[0, 0, 2, 2]], np.float32), np.ones(1, np.float32))
    path = write_results(tmp_path / "r.txt", {1: one, 2: one, 3: one})
    write_results(path, {7: one})
    assert path.read_text().splitlines() == ["7,1,0.00,0.00,2.00,2.00,1.0000,-1,-1,-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_read_results_rejects_duplicate_ids(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.txt", "1,1,0,0,1,1,1,-1,-1,-1\n1,1,5,5,1,1,1,-1,-1,-1\n")
    with pytest.raises(ValueError, match=rf"{path}:2: id 1 occurs twice"):
        read_results(path)


# ---------------------------------------------------------------------------------------------------
# empty files and malformed rows, for every parser

_READERS = [read_detections, read_ground_truth, read_results]


@pytest.mark.parametrize("reader", _READERS)
@pytest.mark.parametrize("text", ["", "\n\n", "  \t\n \n", "\ufeff"])
def test_empty_and_whitespace_files_have_no_rows(tmp_path: Path, reader: object, text: str) -> None:
    """An empty det.txt is a sequence without detections, an empty gt.txt one without targets, an empty
    results file a tracker that reported nothing (issue 12: all three used to fail inside zip())."""
    path = _write(tmp_path / "f.txt", text)
    data = reader(path)  # type: ignore[operator]
    assert dict(data.frames) == {} and data.last_frame == 0
    assert len(data[1].boxes) == 0 and data[1].boxes.shape == (0, 4)


def test_empty_det_file_gives_empty_tracker_detections(tmp_path: Path) -> None:
    det = read_detections(_write(tmp_path / "det.txt", ""))
    assert det.num_detections == 0 and det.score_range == (0.0, 1.0)
    d = det.detections(1)
    assert len(d) == 0 and d.boxes.shape == (0, 4)


@pytest.mark.parametrize("reader", _READERS)
@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1,1,1,2,3,4,1,1,1\n2,2,1,2,x3,4,1,1,1\n", 2, "non-numeric value 'x3' in column 5"),
        ("1,1,1,2,3,4,1\n2,2,1,2,,4,1\n", 2, "non-numeric value '' in column 5"),
        ("1,1,1,2,3,4\n", 1, "has 6 columns, expected 7 to 10"),
        ("1,1,1,2,3,4,1\n2,2,1,2,3\n", 2, "has 5 columns, expected 7 to 10"),
        ("1,1,1,2,3,4,1\n2,2,1,2,NaN,4,1\n", 2, "non-finite value nan in column 5"),
        ("1,1,1,2,3,4,1\n2,2,1,2,3,4,inf\n", 2, "non-finite value inf in column 7"),
        ("1,1,1,2,3,4,1\n2,2,1,2,3,4,1,1\n", 2, "row has 8 columns but the rows before have 7"),
        ("1e20,1,1,2,3,4,1\n", 1, "frame 1e\\+20 is not an integer >= 1 of at most 2\\*\\*53"),
        ("nan,1,1,2,3,4,1\n", 1, "non-finite value nan in column 1"),
    ],
)
def test_malformed_rows_name_file_and_line_in_every_parser(
    tmp_path: Path, reader: object, text: str, line: int, message: str
) -> None:
    path = _write(tmp_path / "f.txt", text)
    with pytest.raises(ValueError, match=rf"^{path}:{line}: .*{message}"):
        reader(path)  # type: ignore[operator]


@pytest.mark.parametrize("reader", _READERS)
def test_fractional_ids_and_bad_files_are_named(tmp_path: Path, reader: object) -> None:
    path = _write(tmp_path / "f.txt", "1,1,1,2,3,4,1\n2,1.5,1,2,3,4,1\n")
    if reader is not read_detections:  # det.txt ignores column 2 (always -1)
        with pytest.raises(ValueError, match=rf"^{path}:2: id 1.5 is not an integer"):
            reader(path)  # type: ignore[operator]
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"1,1,1,2,3,4,1\n\xff\xfe\x00garbage\n")
    with pytest.raises(ValueError, match=rf"^{binary}:2: not UTF-8 text \(byte 0xff\)"):
        reader(binary)  # type: ignore[operator]
    folder = tmp_path / "dir.txt"
    folder.mkdir()
    with pytest.raises(ValueError, match=rf"^{folder}: is a folder"):
        reader(folder)  # type: ignore[operator]
    with pytest.raises(FileNotFoundError, match=rf"^{tmp_path / 'none.txt'}: .* file not found"):
        reader(tmp_path / "none.txt")  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------------
# the real files in ../shared/data


@pytest.mark.data
def test_real_mot17_detections(data_root: Path) -> None:
    seq = data_root / "MOT17" / "train" / "MOT17-02-FRCNN"
    info = read_seqinfo(seq)
    assert (info.name, info.seq_length, info.frame_rate) == ("MOT17-02-FRCNN", 600, 30.0)
    det = read_detections(seq / "det" / "det.txt")
    assert sorted(det.frames) == list(range(1, info.seq_length + 1))
    assert det.num_detections == 8186
    lo, hi = det.score_range
    assert 0.0 <= lo and hi <= 1.0
    # already in [0, 1]: "auto" leaves them as they are
    np.testing.assert_array_equal(det.detections(1).scores, det[1].scores)
    assert all((f.boxes[:, 2:] > f.boxes[:, :2]).all() for f in det.frames.values())


@pytest.mark.data
def test_real_mot17_ground_truth(data_root: Path) -> None:
    gt = read_ground_truth(data_root / "MOT17" / "train" / "MOT17-02-FRCNN" / "gt" / "gt.txt")
    assert gt.has_classes
    assert sorted(gt.frames) == list(range(1, 601))
    classes = np.concatenate([f.classes for f in gt.frames.values()])
    assert {1, 7}.issubset(set(classes.tolist()))
    assert sum(len(f.ids) for f in gt.frames.values()) == 30003


@pytest.mark.data
def test_real_pets09_scores_normalised(data_root: Path) -> None:
    seq = data_root / "MOT15" / "train" / "PETS09-S2L1"
    det = read_detections(seq / "det" / "det.txt")
    lo, hi = det.score_range
    assert lo < 0.0 and hi > 1.0  # ACF scores: not in [0, 1]
    scores = np.concatenate([det.detections(t).scores for t in sorted(det.frames)])
    assert scores.min() == pytest.approx(0.0) and scores.max() == pytest.approx(1.0)
    assert ((scores >= 0) & (scores <= 1)).all()
    # one monotone map for the whole file: sorting by raw score sorts the normalised scores
    raw = np.concatenate([det[t].scores for t in sorted(det.frames)])
    assert (np.diff(scores[np.argsort(raw, kind="stable")]) >= 0).all()
    gt = read_ground_truth(seq / "gt" / "gt.txt")
    assert not gt.has_classes
    consider = np.concatenate([f.consider for f in gt.frames.values()])
    assert consider.any() and not consider.all()


@pytest.mark.data
def test_real_dataset_listing(data_root: Path) -> None:
    seqs = list_sequences(data_root / "MOT17")
    assert [p.name for p in seqs] == [f"MOT17-{n}-FRCNN" for n in ("02", "04", "05", "09", "10", "11", "13")]
    for p in list_sequences(data_root / "MOT15"):
        assert read_seqinfo(p).seq_length > 0


def test_results_from_rows_groups_by_frame_and_refuses_bad_rows() -> None:
    """Rows become read-only frames in their given order; mismatched arrays and frame 0 are refused."""
    from tracker.io.mot import MotResults

    frames = np.array([2, 1, 2], np.int64)
    ids = np.array([7, 3, 5], np.int64)
    boxes = np.arange(12, dtype=np.float32).reshape(3, 4)
    scores = np.array([0.5, 0.6, 0.7], np.float32)
    res = MotResults.from_rows(frames, ids, boxes, scores)
    assert sorted(res.frames) == [1, 2]
    assert res[2].ids.tolist() == [7, 5] and res[1].ids.tolist() == [3]
    np.testing.assert_array_equal(res[2].boxes, boxes[[0, 2]])
    assert not res[2].boxes.flags.writeable
    with pytest.raises(ValueError, match="same N rows"):
        MotResults.from_rows(frames, ids[:2], boxes, scores)
    with pytest.raises(ValueError, match="1-based"):
        MotResults.from_rows(np.array([0, 1, 2]), ids, boxes, scores)
