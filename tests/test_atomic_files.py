"""Files written whole or not at all (:mod:`tracker.io.atomic`), and the writers that rely on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tracker.io.atomic import PART_SUFFIX, atomic_write, write_text_atomic
from tracker.io.mot import ResultFrame, read_results, write_results


def test_text_lands_whole_in_new_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "summary.json"
    assert write_text_atomic(target, '{"x": 1}\n') == target
    assert target.read_bytes() == b'{"x": 1}\n'
    assert not list(target.parent.glob("*" + PART_SUFFIX))


def test_a_failure_mid_write_keeps_the_previous_file_and_leaves_no_part(tmp_path: Path) -> None:
    target = tmp_path / "cache.npz"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(target) as fh:
        fh.write(b"half of the new")
        assert (tmp_path / ("cache.npz" + PART_SUFFIX)).exists()  # the bytes go beside it, not onto it
        assert target.read_bytes() == b"previous"
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


def test_a_stop_signal_mid_write_is_not_swallowed(tmp_path: Path) -> None:
    """KeyboardInterrupt (SIGINT) passes through, and the target is never created half written."""
    target = tmp_path / "results.txt"
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as fh:
        fh.write(b"1,1,0,0,1,1,1,-1,-1,-1\n")
        raise KeyboardInterrupt
    assert not target.exists() and not list(tmp_path.iterdir())


def test_binary_payloads_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "emb.npz"
    with atomic_write(target) as fh:
        np.savez(fh, a=np.arange(6, dtype=np.float32).reshape(2, 3))
    with np.load(target) as z:
        np.testing.assert_array_equal(z["a"], np.arange(6, dtype=np.float32).reshape(2, 3))


def test_mot_results_written_through_it_read_back(tmp_path: Path) -> None:
    boxes = np.array([[10, 20, 40, 100], [50, 60, 70, 90]], np.float32)
    frames = {3: ResultFrame(np.array([2, 1]), boxes, np.array([0.9, 0.5], np.float32))}
    path = write_results(tmp_path / "out" / "seq.txt", frames)
    back = read_results(path)
    assert sorted(back.frames) == [3]
    np.testing.assert_array_equal(back.frames[3].ids, [1, 2])  # written sorted by id
    np.testing.assert_allclose(back.frames[3].boxes, boxes[::-1], atol=0.01)
    assert not list(path.parent.glob("*" + PART_SUFFIX))


def test_json_text_is_utf8_with_the_line_ends_given(tmp_path: Path) -> None:
    target = write_text_atomic(tmp_path / "s.json", json.dumps({"camera": "café"}, ensure_ascii=False) + "\n")
    assert target.read_bytes().decode("utf-8") == '{"camera": "café"}\n'


def test_a_target_that_is_a_folder_fails_and_leaves_no_part(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.mkdir()
    with pytest.raises(OSError):
        write_text_atomic(target, "{}")
    assert target.is_dir() and not list(tmp_path.glob("*" + PART_SUFFIX))
