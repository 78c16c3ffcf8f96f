"""MOTChallenge text formats: ``seqinfo.ini``, ``det/det.txt``, ``gt/gt.txt`` and tracker results.

All readers return per-frame arrays keyed by the 1-based frame number used in the file. Boxes are
converted from the file's ``left, top, width, height`` to the package convention ``float32[N,4]``
xyxy pixels. Files are read as comma (or whitespace) separated numbers; empty lines are skipped and
rows may come in any order (MOT17's public ``det.txt`` is not sorted by frame). Within a frame the file
order of the rows is kept. A malformed row raises :class:`ValueError` as ``"{path}:{lineno}: ..."``
(also a file that is not UTF-8 text; a folder or an unreadable file is a :class:`ValueError` naming the
path, a missing one a :class:`FileNotFoundError`).

An empty or whitespace-only file is valid: a ``det.txt`` without detections, a ``gt.txt`` without
targets, a results file of a tracker that reported nothing (it scores as all misses).

Column layouts (1-based column numbers as in the MOTChallenge papers):

* detections, 7 or 10 columns: ``frame, id(-1), x, y, w, h, score[, wx, wy, wz]``;
* ground truth, decided per file by the number of columns:

  - 9 columns (MOT16/17/20): ``frame, id, x, y, w, h, consider, class, visibility``;
  - 10 columns (MOT15): ``frame, id, x, y, w, h, consider, wx, wy, wz`` -> class 1, visibility 1;
  - 7 columns: ``frame, id, x, y, w, h, consider`` -> class 1, visibility 1;
  - 8 columns: ``frame, id, x, y, w, h, consider, class`` -> visibility 1;

* tracker results, 7 to 10 columns: ``frame, id, x, y, w, h, score[, -1, -1, -1]``.
"""

from __future__ import annotations

import configparser
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracker.types import Detections, Tracks

from .atomic import write_text_atomic

__all__ = [
    "DetFrame",
    "GtFrame",
    "MotDetections",
    "MotGroundTruth",
    "MotResults",
    "ResultFrame",
    "ResultsWriter",
    "ScoreNorm",
    "SeqInfo",
    "list_sequences",
    "normalise_scores",
    "read_detections",
    "read_ground_truth",
    "read_results",
    "read_seqinfo",
    "write_results",
]

ScoreNorm = Literal["auto", "none", "minmax"]
"""Detection score normalisation, see :func:`normalise_scores`."""

_SPLIT = re.compile(r"\s*,\s*|\s+")

_MAX_INTEGRAL = 2.0**53
"""Largest frame number / id accepted: beyond it a float64 column no longer holds every integer."""


# --------------------------------------------------------------------------------------------------
# seqinfo.ini


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``.

    Attributes:
        name: sequence name, e.g. ``MOT17-02-FRCNN``.
        im_dir: image folder relative to the sequence folder (usually ``img1``).
        frame_rate: frames per second.
        seq_length: number of frames; frames are numbered ``1..seq_length``.
        im_width: image width in pixels.
        im_height: image height in pixels.
        im_ext: image file extension including the dot, e.g. ``.jpg``.
    """

    name: str
    im_dir: str
    frame_rate: float
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str


def _ini_line(text: str, key: str) -> int | None:
    """1-based line number of ``key = ...`` in an ini text (case-insensitive), or None."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*[=:]", re.IGNORECASE)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return lineno
    return None


def read_seqinfo(seq_dir: str | Path) -> SeqInfo:
    """Read ``seq_dir/seqinfo.ini``.

    Raises:
        FileNotFoundError: the file does not exist (the message names the path).
        ValueError: the ``[Sequence]`` section or a key is missing, or a number does not parse or is
            not positive; the message names the file, the key and (where it exists) the line.
    """
    path = Path(seq_dir) / "seqinfo.ini"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: seqinfo.ini not found (every sequence folder needs one)")
    text = path.read_text(encoding="utf-8-sig")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ValueError(f"{path}: not a valid ini file: {exc}") from None
    if not parser.has_section("Sequence"):
        raise ValueError(f"{path}: missing [Sequence] section")
    section = parser["Sequence"]

    def get(key: str) -> str:
        if key not in section or not section[key].strip():
            raise ValueError(f"{path}: missing key {key!r} in [Sequence]")
        return section[key].strip()

    def number(key: str, kind: type[int] | type[float]) -> float:
        raw = get(key)
        try:
            value: float = kind(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            line = _ini_line(text, key)
            where = f"{path}:{line}" if line is not None else str(path)
            expected = "a positive integer" if kind is int else "a positive number"
            raise ValueError(f"{where}: key {key!r} = {raw!r} is not {expected}")
        return value

    return SeqInfo(
        name=get("name"),
        im_dir=get("imDir"),
        frame_rate=float(number("frameRate", float)),
        seq_length=int(number("seqLength", int)),
        im_width=int(number("imWidth", int)),
        im_height=int(number("imHeight", int)),
        im_ext=get("imExt"),
    )


def list_sequences(dataset_root: str | Path, split: str | None = "train") -> list[Path]:
    """Sequence folders of a MOTChallenge dataset, sorted by name.

    Args:
        dataset_root: dataset folder, e.g. ``data/MOT17``.
        split: sub-folder holding the sequences (``"train"``, ``"test"``); ``None`` means that
            ``dataset_root`` itself holds them.

    A sequence folder is a folder that contains ``seqinfo.ini``, ``det/`` or ``gt/``.

    Raises:
        FileNotFoundError: the folder does not exist, or holds no sequence folder.
    """
    folder = Path(dataset_root) if split is None else Path(dataset_root) / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: dataset folder not found")
    seqs = sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and ((p / "seqinfo.ini").is_file() or (p / "det").is_dir() or (p / "gt").is_dir())
    )
    if not seqs:
        raise FileNotFoundError(f"{folder}: no sequence folders (with seqinfo.ini, det/ or gt/) found")
    return seqs


# --------------------------------------------------------------------------------------------------
# Generic table reading


def _read_table(path: Path, min_cols: int, max_cols: int, what: str) -> tuple[NDArray[np.float64], NDArray]:
    """Parse a numeric text table into ``float64[N,C]`` and the 1-based line numbers ``int64[N]``.

    Every row must have the same number of columns, between ``min_cols`` and ``max_cols``; all values
    must be finite numbers. Comma-separated files take a fast path (``np.loadtxt``); anything it rejects
    is re-parsed line by line, which either reads it (whitespace-separated) or names the bad line.
    """
    lines = _read_lines(path, what)
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    linenos = np.array([i for i, _ in numbered], dtype=np.int64)
    if not numbered:
        return np.zeros((0, min_cols), np.float64), linenos
    try:
        table = np.loadtxt(
            [line for _, line in numbered], delimiter=",", ndmin=2, comments=None, dtype=np.float64
        )
    except ValueError:
        table = _parse_rows(path, numbered, min_cols, max_cols, what)
    ncols = table.shape[1]
    if ncols < min_cols or ncols > max_cols:
        raise ValueError(
            f"{path}:{linenos[0]}: {what} row has {ncols} columns, {_expected(min_cols, max_cols)}"
        )
    finite = np.isfinite(table)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        raise ValueError(f"{path}:{linenos[i]}: non-finite value {table[i, j]} in column {j + 1}")
    return table, linenos


def _read_lines(path: Path, what: str) -> list[str]:
    """The lines of a text file (UTF-8, optional BOM); every failure is an error naming the file."""
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, expected a {what} file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}:{lineno}: not UTF-8 text (byte 0x{data[exc.start]:02x}); is this a {what} file?"
        ) from None
    return text.splitlines()


def _parse_rows(
    path: Path, numbered: list[tuple[int, str]], min_cols: int, max_cols: int, what: str
) -> NDArray[np.float64]:
    """Slow path of :func:`_read_table`: split each line on commas or whitespace, with errors that
    name the line."""
    rows: list[list[float]] = []
    ncols = 0
    for lineno, line in numbered:
        tokens = _SPLIT.split(line.strip())
        n = len(tokens)
        if n < min_cols or n > max_cols:
            raise ValueError(f"{path}:{lineno}: {what} row has {n} columns, {_expected(min_cols, max_cols)}")
        if ncols and n != ncols:
            raise ValueError(f"{path}:{lineno}: row has {n} columns but the rows before have {ncols}")
        ncols = n
        try:
            rows.append([float(tok) for tok in tokens])
        except ValueError:
            j = next(j for j, tok in enumerate(tokens) if not _is_float(tok))
            raise ValueError(f"{path}:{lineno}: non-numeric value {tokens[j]!r} in column {j + 1}") from None
    return np.array(rows, dtype=np.float64).reshape(len(rows), ncols)


def _expected(min_cols: int, max_cols: int) -> str:
    return f"expected {min_cols}" if min_cols == max_cols else f"expected {min_cols} to {max_cols}"


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _check_integral(
    path: Path, table: NDArray[np.float64], linenos: NDArray, col: int, name: str, minimum: int | None = None
) -> NDArray[np.int64]:
    values = table[:, col]
    bad = (values != np.round(values)) | (np.abs(values) > _MAX_INTEGRAL)
    if minimum is not None:
        bad |= values < minimum
    if bad.any():
        i = int(np.argmax(bad))
        req = "an integer" if minimum is None else f"an integer >= {minimum}"
        if abs(values[i]) > _MAX_INTEGRAL:
            req += " of at most 2**53"
        raise ValueError(f"{path}:{linenos[i]}: {name} {values[i]:g} is not {req}")
    return values.astype(np.int64)


def _boxes(path: Path, table: NDArray[np.float64], linenos: NDArray, positive: bool) -> NDArray[np.float32]:
    """Columns 3..6 (x, y, w, h) -> ``float32[N,4]`` xyxy; w and h must be > 0 when ``positive``."""
    xywh = table[:, 2:6]
    if positive:
        bad = (xywh[:, 2] <= 0) | (xywh[:, 3] <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{path}:{linenos[i]}: box width/height must be > 0, got w={xywh[i, 2]:g} h={xywh[i, 3]:g}"
            )
    xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    return xyxy.astype(np.float32)


def _group(frames: NDArray[np.int64]) -> Iterator[tuple[int, NDArray[np.int64]]]:
    """``(frame, row indices in file order)`` for each distinct frame, frames ascending; nothing for a
    file without rows (an empty file is a valid sequence with no rows)."""
    if len(frames) == 0:
        return
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    for t, rows in zip(uniq.tolist(), np.split(order, starts[1:]), strict=True):
        yield int(t), rows


def _readonly(*arrays: NDArray) -> None:
    for a in arrays:
        a.setflags(write=False)


# --------------------------------------------------------------------------------------------------
# Detections


class DetFrame(NamedTuple):
    """Public detections of one frame.

    Attributes:
        boxes: ``float32[N,4]`` xyxy pixels.
        scores: ``float32[N]`` raw detector scores as in the file (not normalised).
    """

    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]


_EMPTY_DET = DetFrame(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
_readonly(*_EMPTY_DET)


def normalise_scores(
    scores: ArrayLike,
    method: ScoreNorm = "auto",
    score_range: tuple[float, float] | None = None,
) -> NDArray[np.float32]:
    """Map raw detector scores into ``[0, 1]`` (the tracker's :class:`~tracker.types.Detections`
    requires it).

    Args:
        scores: ``float[N]`` raw scores.
        method:
            * ``"auto"``: if the whole range lies in ``[0, 1]`` (MOT17 public FRCNN detections,
              0.05-1.0) the scores are returned unchanged, otherwise they are min-max scaled as for
              ``"minmax"`` (MOT15 ACF detections, about -0.5 to 140);
            * ``"minmax"``: ``(s - lo) / (hi - lo)``, clipped to ``[0, 1]``; if ``hi == lo`` every score
              becomes 1;
            * ``"none"``: clip to ``[0, 1]``.
        score_range: ``(lo, hi)`` used by ``"auto"`` (to decide) and ``"minmax"`` (to scale). Pass the
            range of the WHOLE FILE (:attr:`MotDetections.score_range`), not of one frame, so that a
            score means the same in every frame and results are reproducible frame by frame. Default:
            the range of ``scores`` itself.

    Returns:
        ``float32[N]`` scores in ``[0, 1]``.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if method not in ("auto", "none", "minmax"):
        raise ValueError(f"score normalisation method must be 'auto', 'none' or 'minmax', got {method!r}")
    if score_range is None:
        score_range = (float(s.min()), float(s.max())) if s.size else (0.0, 1.0)
    lo, hi = float(score_range[0]), float(score_range[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"score_range must be finite with lo <= hi, got {score_range}")
    if method == "none" or (method == "auto" and lo >= 0.0 and hi <= 1.0):
        out = np.clip(s, 0.0, 1.0)
    elif hi == lo:
        out = np.ones_like(s)
    else:
        out = np.clip((s - lo) / (hi - lo), 0.0, 1.0)
    return out.astype(np.float32)


@dataclass(frozen=True, eq=False)
class MotDetections:
    """All public detections of one ``det.txt``.

    Attributes:
        path: the file read.
        frames: frame number (1-based) -> :class:`DetFrame`; only frames that have rows.
        score_range: ``(min, max)`` of the raw scores over the whole file (``(0.0, 1.0)`` if empty);
            used by :meth:`detections` to normalise scores the same way in every frame.
    """

    path: Path
    frames: Mapping[int, DetFrame]
    score_range: tuple[float, float]

    def __getitem__(self, frame: int) -> DetFrame:
        """Detections of ``frame``; an empty :class:`DetFrame` if it has none."""
        return self.frames.get(frame, _EMPTY_DET)

    @property
    def last_frame(self) -> int:
        """Largest frame number with a detection (0 if the file is empty)."""
        return max(self.frames, default=0)

    @property
    def num_detections(self) -> int:
        return sum(len(f.scores) for f in self.frames.values())

    def detections(self, frame: int, score_norm: ScoreNorm = "auto") -> Detections:
        """``frame``'s detections as tracker :class:`~tracker.types.Detections` (class id 0 = person),
        scores normalised with :func:`normalise_scores` over this file's :attr:`score_range`."""
        f = self[frame]
        return Detections(
            f.boxes,
            normalise_scores(f.scores, score_norm, self.score_range),
            np.zeros(len(f.scores), np.int64),
        )


def read_detections(path: str | Path) -> MotDetections:
    """Read a MOTChallenge ``det.txt`` (7 or 10 columns: ``frame, -1, x, y, w, h, score[, wx, wy, wz]``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"{path}:{lineno}: ..."`` for a row with fewer than 7 or more than 10 columns, a
            column count that differs from the rows before, a non-numeric or non-finite value, a frame
            that is not an integer >= 1, or a box with ``w <= 0`` or ``h <= 0``.
    """
    path = Path(path)
    table, linenos = _read_table(path, 7, 10, "detection")
    frames_col = _check_integral(path, table, linenos, 0, "frame", minimum=1)
    boxes = _boxes(path, table, linenos, positive=True)
    scores = table[:, 6].astype(np.float32)
    frames: dict[int, DetFrame] = {}
    for t, rows in _group(frames_col):
        f = DetFrame(boxes[rows], scores[rows])
        _readonly(*f)
        frames[t] = f
    # range of the stored float32 scores, so that the extremes map exactly onto 0 and 1
    rng = (float(scores.min()), float(scores.max())) if len(scores) else (0.0, 1.0)
    return MotDetections(path, frames, rng)


# --------------------------------------------------------------------------------------------------
# Ground truth


class GtFrame(NamedTuple):
    """Ground truth of one frame (all rows, nothing filtered).

    Attributes:
        ids: ``int64[N]`` object ids.
        boxes: ``float32[N,4]`` xyxy pixels.
        consider: ``bool[N]`` column 7 != 0 (rows with 0 are ignored by the evaluation).
        classes: ``int64[N]`` MOT16/17 class (1 pedestrian, 2 person on vehicle, 3 car, 4 bicycle,
            5 motorbike, 6 non-motorised vehicle, 7 static person, 8 distractor, 9 occluder,
            10 occluder on the ground, 11 occluder full, 12 reflection, 13 crowd); 1 where the file
            has no class column (MOT15).
        visibility: ``float32[N]`` visible fraction in ``[0, 1]``; 1 where the file has none.
    """

    ids: NDArray[np.int64]
    boxes: NDArray[np.float32]
    consider: NDArray[np.bool_]
    classes: NDArray[np.int64]
    visibility: NDArray[np.float32]


_EMPTY_GT = GtFrame(
    np.zeros(0, np.int64),
    np.zeros((0, 4), np.float32),
    np.zeros(0, np.bool_),
    np.zeros(0, np.int64),
    np.zeros(0, np.float32),
)
_readonly(*_EMPTY_GT)


@dataclass(frozen=True, eq=False)
class MotGroundTruth:
    """Ground truth of one sequence.

    Attributes:
        path: the file read, or ``None`` if built in memory.
        frames: frame number (1-based) -> :class:`GtFrame`; only frames that have rows.
        has_classes: True if the file carries class and visibility columns (9 columns, MOT16/17),
            False for MOT15 (10 columns, world coordinates) where every row is class 1.
    """

    frames: Mapping[int, GtFrame]
    has_classes: bool
    path: Path | None = None

    def __getitem__(self, frame: int) -> GtFrame:
        """Ground truth of ``frame``; an empty :class:`GtFrame` if it has none."""
        return self.frames.get(frame, _EMPTY_GT)

    @property
    def last_frame(self) -> int:
        """Largest frame number with a row (0 if empty)."""
        return max(self.frames, default=0)


def read_ground_truth(path: str | Path) -> MotGroundTruth:
    """Read a MOTChallenge ``gt.txt``; the layout is decided by the number of columns (see the module
    docstring): 9 = MOT16/17, 10 = MOT15 (class 1, visibility 1), 7 or 8 = no visibility/class.

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"{path}:{lineno}: ..."`` for a bad row (column count, non-numeric, non-finite,
            frame not an integer >= 1, id not an integer, ``w <= 0`` or ``h <= 0``), or an id that
            occurs twice in one frame.
    """
    path = Path(path)
    table, linenos = _read_table(path, 7, 10, "ground-truth")
    ncols = table.shape[1]
    frames_col = _check_integral(path, table, linenos, 0, "frame", minimum=1)
    ids = _check_integral(path, table, linenos, 1, "id")
    boxes = _boxes(path, table, linenos, positive=True)
    consider = table[:, 6] != 0
    has_classes = ncols in (8, 9)
    if has_classes:
        classes = _check_integral(path, table, linenos, 7, "class")
    else:
        classes = np.ones(len(table), np.int64)
    visibility = table[:, 8].astype(np.float32) if ncols == 9 else np.ones(len(table), np.float32)
    frames: dict[int, GtFrame] = {}
    for t, rows in _group(frames_col):
        _check_unique_ids(path, ids[rows], linenos[rows], t)
        f = GtFrame(ids[rows], boxes[rows], consider[rows], classes[rows], visibility[rows])
        _readonly(*f)
        frames[t] = f
    return MotGroundTruth(frames, has_classes, path)


def _check_unique_ids(path: Path, ids: NDArray[np.int64], linenos: NDArray, frame: int) -> None:
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[np.argmax(counts > 1)])
        rows = linenos[ids == dup]
        raise ValueError(f"{path}:{rows[1]}: id {dup} occurs twice in frame {frame} (also line {rows[0]})")


# --------------------------------------------------------------------------------------------------
# Tracker results


class ResultFrame(NamedTuple):
    """Tracker output of one frame.

    Attributes:
        ids: ``int64[N]`` track ids, unique within the frame.
        boxes: ``float32[N,4]`` xyxy pixels.
        scores: ``float32[N]`` scores as written (may be -1 in third-party files).
    """

    ids: NDArray[np.int64]
    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]


_EMPTY_RES = ResultFrame(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
_readonly(*_EMPTY_RES)


@dataclass(frozen=True, eq=False)
class MotResults:
    """Tracker results of one sequence.

    Attributes:
        frames: frame number (1-based) -> :class:`ResultFrame`; only frames with at least one box.
        path: the file read, or ``None`` if built in memory.
    """

    frames: Mapping[int, ResultFrame]
    path: Path | None = None

    def __getitem__(self, frame: int) -> ResultFrame:
        """Results of ``frame``; an empty :class:`ResultFrame` if it has none."""
        return self.frames.get(frame, _EMPTY_RES)

    @property
    def last_frame(self) -> int:
        return max(self.frames, default=0)

    @classmethod
    def from_rows(
        cls,
        frames: NDArray[np.int64],
        ids: NDArray[np.int64],
        boxes: NDArray[np.float32],
        scores: NDArray[np.float32],
        path: Path | None = None,
    ) -> MotResults:
        """Results from rows ``frames int64[N]`` (1-based), ``ids int64[N]``, ``boxes float32[N,4]``
        xyxy pixels and ``scores float32[N]``: read-only frames, rows in their given order within a
        frame. Ids are not checked for repeats (:func:`read_results` does that for files).

        Raises:
            ValueError: arrays of different lengths, boxes not ``[N,4]``, or a frame number < 1.
        """
        n = len(frames)
        if not (len(ids) == len(scores) == n and np.shape(boxes) == (n, 4)):
            raise ValueError(
                f"MotResults.from_rows: frames {np.shape(frames)}, ids {np.shape(ids)}, boxes "
                f"{np.shape(boxes)} and scores {np.shape(scores)} must describe the same N rows (boxes [N,4])"
            )
        if n and int(np.min(frames)) < 1:
            raise ValueError(f"MotResults.from_rows: frame numbers are 1-based, got {int(np.min(frames))}")
        out: dict[int, ResultFrame] = {}
        for t, rows in _group(frames):
            f = ResultFrame(ids[rows], boxes[rows], scores[rows])
            _readonly(*f)
            out[t] = f
        return cls(out, path)


def read_results(path: str | Path) -> MotResults:
    """Read a tracker results file (MOTChallenge, 7-10 columns ``frame, id, x, y, w, h, score, ...``).

    Unlike detections and ground truth, boxes with ``w <= 0`` or ``h <= 0`` are accepted (they match
    nothing); scores are kept as written.

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``"{path}:{lineno}: ..."`` for a bad row or an id repeated within a frame.
    """
    path = Path(path)
    table, linenos = _read_table(path, 7, 10, "results")
    frames_col = _check_integral(path, table, linenos, 0, "frame", minimum=1)
    ids = _check_integral(path, table, linenos, 1, "id")
    boxes = _boxes(path, table, linenos, positive=False)
    scores = table[:, 6].astype(np.float32)
    frames: dict[int, ResultFrame] = {}
    for t, rows in _group(frames_col):
        _check_unique_ids(path, ids[rows], linenos[rows], t)
        f = ResultFrame(ids[rows], boxes[rows], scores[rows])
        _readonly(*f)
        frames[t] = f
    return MotResults(frames, path)


def write_results(path: str | Path, results: MotResults | Mapping[int, ResultFrame]) -> Path:
    """Write tracker results in the 10-column MOTChallenge format ``frame,id,x,y,w,h,score,-1,-1,-1``.

    Rows are sorted by frame, then id; coordinates have 2 decimals, scores 4. Frames are written as
    given (1-based). Parent folders are created. The file is written beside ``path`` and renamed over
    it, so a reader (or a signal mid-write) never sees half a file. Returns ``path``.

    Raises:
        ValueError: a frame number < 1, or an id repeated within a frame.
    """
    path = Path(path)
    frames = results.frames if isinstance(results, MotResults) else results
    lines: list[str] = []
    for t in sorted(frames):
        if t < 1:
            raise ValueError(f"frame numbers are 1-based, got {t}")
        f = frames[t]
        ids = np.asarray(f.ids, np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"frame {t}: repeated track id")
        boxes = np.asarray(f.boxes, np.float64).reshape(-1, 4)
        scores = np.asarray(f.scores, np.float64)
        for i in np.argsort(ids, kind="stable"):
            x1, y1, x2, y2 = boxes[i]
            lines.append(
                f"{t},{ids[i]},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{scores[i]:.4f},-1,-1,-1\n"
            )
    return write_text_atomic(path, "".join(lines))


class ResultsWriter:
    """Collects a tracker's :class:`~tracker.types.Tracks` frame by frame, for scoring in memory
    (:meth:`results`) or saving (:meth:`save`).

    Every track given is recorded; choosing which tracks to report (e.g. only confirmed ones) is the
    caller's decision.
    """

    def __init__(self) -> None:
        self._frames: dict[int, ResultFrame] = {}

    def add(self, frame: int, tracks: Tracks) -> None:
        """Record ``tracks`` (``ids int64[M]``, ``boxes float32[M,4]`` xyxy, ``scores float32[M]``) as
        the output of 1-based ``frame``.

        Raises:
            ValueError: ``frame < 1``, ``frame`` already added, or a repeated id.
        """
        if frame < 1:
            raise ValueError(f"frame numbers are 1-based, got {frame}")
        if frame in self._frames:
            raise ValueError(f"frame {frame} was already added")
        ids = np.array(tracks.ids, np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"frame {frame}: repeated track id in {ids.tolist()}")
        if len(ids):
            f = ResultFrame(
                ids, np.array(tracks.boxes, np.float32).reshape(-1, 4), np.array(tracks.scores, np.float32)
            )
            _readonly(*f)
            self._frames[frame] = f

    def __len__(self) -> int:
        """Number of frames with at least one track."""
        return len(self._frames)

    def results(self) -> MotResults:
        """A snapshot of what was added so far."""
        return MotResults(dict(self._frames))

    def save(self, path: str | Path) -> Path:
        """Write the results with :func:`write_results`; returns ``path``."""
        return write_results(path, self._frames)
