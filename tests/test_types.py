"""Validation of :class:`tracker.types.Detections` (issue 12 item 6): every bad field gives a
ValueError that names the field and, where there is one, the row."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from tracker.types import Detections, Tracks

BOX = [0, 0, 10, 10]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # boxes: ragged lists, text, wrong ndim, None, values beyond float32
        ({"boxes": [BOX, [0, 0, 1]]}, "boxes: ragged rows: row 1 has shape [3], row 0 has [4]"),
        ({"boxes": [BOX, BOX, [0, 0, 1, 1, 1]]}, "boxes: ragged rows: row 2 has shape [5], row 0 has [4]"),
        ({"boxes": [["a", 0, 1, 1]]}, "boxes: row 0 holds text (['a', 0, 1, 1])"),
        ({"boxes": [BOX, ["1", 0, 2, 2]]}, "boxes: row 1 holds text (['1', 0, 2, 2])"),
        ({"boxes": "0 0 10 10"}, "boxes: expected float32[N,4] xyxy pixels, got str '0 0 10 10'"),
        ({"boxes": None}, "boxes: expected float32[N,4] xyxy pixels, got NoneType None"),
        ({"boxes": BOX}, "boxes: expected 2-D array (float32[N,4] xyxy pixels), got shape (4,)"),
        (
            {"boxes": np.zeros((2, 4, 1))},
            "boxes: expected 2-D array (float32[N,4] xyxy pixels), got shape (2, 4, 1)",
        ),
        ({"boxes": [BOX, [0, 0, None, 1]]}, "boxes: non-finite (or beyond float32) coordinates in row 1"),
        ({"boxes": [BOX, [0, 0, 1e300, 1]]}, "boxes: non-finite (or beyond float32) coordinates in row 1"),
        ({"boxes": [[1 + 2j, 0, 1, 1]]}, "boxes: element type complex128 is not real numbers"),
        # scores
        ({"boxes": [BOX, BOX], "scores": [0.5, "high"]}, "scores: row 1 holds text ('high')"),
        (
            {"boxes": [BOX], "scores": [[0.5]]},
            "scores: expected 1-D array (float32[N] in [0, 1]), got shape (1, 1)",
        ),
        ({"boxes": [BOX, BOX], "scores": [0.5, np.nan]}, "scores: row 1 is nan, outside [0, 1]"),
        (
            {"boxes": [BOX, BOX], "scores": [0.5, [0.5]]},
            "scores: ragged rows: row 1 has shape [1], row 0 has []",
        ),
        # class ids: never truncated
        ({"boxes": [BOX, BOX], "class_ids": [0, 1.5]}, "class_ids: row 1 is 1.5, not an integer"),
        ({"boxes": [BOX], "class_ids": [np.nan]}, "class_ids: row 0 is nan, not an integer"),
        ({"boxes": [BOX], "class_ids": ["person"]}, "class_ids: row 0 holds text ('person')"),
        (
            {"boxes": [BOX], "class_ids": [2**70]},
            "class_ids: row 0 is 1.1805916207174113e+21, not an integer in the int64",
        ),
        ({"boxes": [BOX], "class_ids": [[0]]}, "class_ids: expected 1-D array (int64[N]), got shape (1, 1)"),
        # embeddings
        (
            {"boxes": [BOX, BOX], "embeddings": [[1, 2], [1]]},
            "embeddings: ragged rows: row 1 has shape [1], row 0 has [2]",
        ),
        (
            {"boxes": [BOX, BOX], "embeddings": [[1, 2], [1, np.inf]]},
            "embeddings: row 1 has non-finite values (NaN or inf)",
        ),
        (
            {"boxes": [BOX, BOX, BOX], "embeddings": [[1, 2], [1, 2], [np.nan, 2]]},
            "embeddings: row 2 has non-finite",
        ),
        ({"boxes": [BOX, BOX], "embeddings": [[1, 2], [0, 0]]}, "embeddings: row 1 is all zeros"),
        ({"boxes": [BOX], "embeddings": [["a", "b"]]}, "embeddings: row 0 holds text"),
        (
            {"boxes": [BOX], "embeddings": [1.0, 2.0]},
            "embeddings: expected 2-D array (float32[N,D]), got shape (2,)",
        ),
    ],
)
def test_bad_fields_are_named_with_their_row(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        Detections(**kwargs)  # type: ignore[arg-type]


def test_huge_embeddings_keep_their_direction() -> None:
    """Issue 12: rows like [1e30, 1e30] used to overflow the float32 norm and become zeros."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        d = Detections(
            [BOX] * 4,
            embeddings=[[1e30, 1e30], [3e38, -3e38], [1e300, 0.0], [1e-300, 2e-300]],
        )
    assert d.embeddings is not None and d.embeddings.dtype == np.float32
    s = np.sqrt(0.5)
    np.testing.assert_allclose(
        d.embeddings, [[s, s], [s, -s], [1, 0], [1 / np.sqrt(5), 2 / np.sqrt(5)]], rtol=1e-6
    )


def test_valid_inputs_still_accepted() -> None:
    d = Detections([BOX, [5, 5, 20, 30]], [True, 0.25], np.array([3.0, 7.0]), [[3.0, 4.0], [0.0, -2.0]])
    np.testing.assert_array_equal(d.class_ids, [3, 7])
    np.testing.assert_allclose(d.scores, [1.0, 0.25])
    assert d.embeddings is not None
    np.testing.assert_allclose(d.embeddings, [[0.6, 0.8], [0.0, -1.0]], rtol=1e-6)
    assert len(Detections([])) == 0 and len(Detections(np.zeros((0, 4)), embeddings=np.zeros((0, 8)))) == 0


def test_tracks_with_ids_relabels_and_checks_the_count() -> None:
    t = Tracks(
        ids=np.array([3, 4], np.int64),
        boxes=np.array([[0, 0, 1, 1], [1, 1, 2, 2]], np.float32),
        scores=np.array([0.9, 0.8], np.float32),
        class_ids=np.zeros(2, np.int64),
        states=np.ones(2, np.int8),
        det_index=np.array([0, 1], np.int64),
    )
    out = t.with_ids(np.array([10, 11]))
    assert out.ids.tolist() == [10, 11] and np.array_equal(out.boxes, t.boxes)
    assert t.ids.tolist() == [3, 4]
    with pytest.raises(ValueError, match="ids: 1 ids for 2 tracks"):
        t.with_ids(np.array([1]))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "got 0"),
        (-25.0, "got -25.0"),
        (float("nan"), "got nan"),
        (float("inf"), "got inf"),
        ("30", "got str '30'"),
        (None, "got NoneType None"),
        (True, "got bool True"),
    ],
)
def test_a_frame_rate_that_is_not_a_positive_number_is_named_at_every_boundary(
    value: object, message: str, tmp_path: Path
) -> None:
    """Tracker, the video writer, the source opener and interpolation's gap all refuse the same
    values with the same words, before touching any file (text such as "30" was an opaque numpy
    TypeError in Tracker)."""
    from tracker import Tracker
    from tracker.io.sources import open_source
    from tracker.io.writers import AnnotatedVideoWriter
    from tracker.postprocess import max_gap_at

    with pytest.raises(ValueError, match=f"frame_rate must be a positive number, {message}"):
        Tracker(frame_rate=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"frame_rate must be a positive number, {message}"):
        max_gap_at(30, value)  # type: ignore[arg-type]
    if value is not None:  # (open_source's fps=None means "the source's own rate")
        with pytest.raises(ValueError, match=f"fps must be a positive number, {message}"):
            open_source("missing.mp4", fps=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"fps must be a positive number, {message}"):
        AnnotatedVideoWriter(tmp_path / "x.mp4", fps=value)  # type: ignore[arg-type]
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("value", [25, 29.97, np.float32(7.0), np.int64(30)])
def test_positive_rates_of_any_real_type_are_accepted(value: object) -> None:
    from tracker import Tracker

    assert Tracker(frame_rate=value).frame_rate == float(value)  # type: ignore[arg-type]
