"""Core data types that cross the public API: :class:`Detections` in, :class:`Tracks` out.

Conventions used everywhere in the package:

* boxes are ``float32[N,4]`` in pixels as ``x1, y1, x2, y2`` (xyxy), with ``x2 > x1`` and ``y2 > y1``;
* scores are ``float32[N]`` in ``[0, 1]``;
* class ids are ``int64[N]``;
* embeddings are ``float32[N,D]``, L2-normalised.

Both types validate what enters them and raise :class:`ValueError` naming the offending field, so a
bad frame is rejected before any tracker state changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # never at run time: types.py is the lowest layer and stays light
    import supervision as sv

__all__ = [
    "Detections",
    "Detector",
    "Embedder",
    "TrackState",
    "Tracks",
    "positive_rate",
    "xywh_to_xyxy",
    "xyxy_to_xywh",
]


class TrackState(IntEnum):
    """Life cycle of a track: tentative -> confirmed -> lost -> removed."""

    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2
    REMOVED = 3


def xywh_to_xyxy(boxes: ArrayLike) -> NDArray[np.float32]:
    """``float[N,4]`` left, top, width, height -> ``float32[N,4]`` xyxy."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    b[:, 2:] += b[:, :2]
    return b


def xyxy_to_xywh(boxes: ArrayLike) -> NDArray[np.float32]:
    """``float[N,4]`` xyxy -> ``float32[N,4]`` left, top, width, height."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    b[:, 2:] -= b[:, :2]
    return b


def positive_rate(value: object, name: str) -> float:
    """``value`` as a positive finite ``float`` (a frame rate, fps), or :class:`ValueError` naming
    ``name`` and what was given. Text, ``None`` and booleans are refused, not read as numbers
    (``"30"`` is a mistake in a caller's code, not a rate)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive number, got {type(value).__name__} {value!r:.60}")
    rate = float(value)
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"{name} must be a positive number, got {value}")
    return rate


def _why_not_numeric(value: object, exc: Exception) -> str:
    """Why ``value`` (a list of rows) is not a numeric array: the first row that is text, is not
    numbers, or has another shape than row 0 (a ragged list); else ``exc``'s own words."""
    if isinstance(value, (list, tuple)):
        first: tuple[int, ...] | None = None
        for i, row in enumerate(value):
            try:
                r = np.asarray(row)
                if r.dtype.kind in "USV":
                    return f"row {i} holds text ({row!r:.60})"
                r = r.astype(np.float64)
            except (TypeError, ValueError, OverflowError) as row_exc:
                return f"row {i} is not numbers ({row!r:.60}: {row_exc})"
            if first is None:
                first = r.shape
            elif r.shape != first:
                return f"ragged rows: row {i} has shape {list(r.shape)}, row 0 has {list(first)}"
    return f"not a numeric array ({exc})"


def _numeric(name: str, value: object, expected: str) -> NDArray[Any]:
    """``value`` as an array of bool, integer or float dtype, or :class:`ValueError` naming ``name``,
    what was ``expected`` and (for a list of rows) the first bad row. Text is never read as numbers."""
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: expected {expected}, got {type(value).__name__} {value!r:.60}")
    try:
        arr: NDArray[Any] = np.asarray(value)
        if arr.dtype.kind in "USV":
            raise ValueError("text")
        if arr.dtype.kind == "O":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name}: {_why_not_numeric(value, exc)}; expected {expected}") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: element type {arr.dtype} is not real numbers; expected {expected}")
    return arr


def _as_array(name: str, value: ArrayLike, dtype: type, ndim: int, expected: str = "") -> NDArray[Any]:
    """``value`` as a ``dtype`` array of ``ndim`` dimensions; float values beyond the range of a float32
    field become ``inf`` (rejected by the callers' finiteness checks, which name the row)."""
    expected = expected or f"{np.dtype(dtype).name} {ndim}-D array"
    raw = _numeric(name, value, expected)
    if raw.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim}-D array ({expected}), got shape {raw.shape}")
    if np.dtype(dtype).kind == "i":
        return _as_int64(name, raw)
    with np.errstate(over="ignore", invalid="ignore"):
        return raw.astype(dtype, copy=False)


def _as_int64(name: str, raw: NDArray[Any]) -> NDArray[np.int64]:
    """Integer-valued ``raw`` as ``int64``; a fractional, non-finite or out-of-range value is an error
    naming its row (never silently truncated)."""
    if raw.dtype.kind == "f":
        bad = ~np.isfinite(raw) | (raw != np.round(raw)) | (np.abs(raw) >= 2.0**63)
        if bad.any():
            i = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{name}: row {i} is {raw[i]}, not an integer in the int64 range")
    elif raw.dtype.kind == "u" and raw.size and int(raw.max()) > np.iinfo(np.int64).max:
        i = int(np.argmax(raw > np.iinfo(np.int64).max))
        raise ValueError(f"{name}: row {i} is {raw[i]}, beyond the int64 range")
    return raw.astype(np.int64)


def _is_empty_list(value: ArrayLike) -> bool:
    """``[]`` or an empty 1-D array: accepted as "no boxes"; any other empty shape must be ``[0,4]``."""
    return isinstance(value, (list, tuple, np.ndarray)) and len(value) == 0 and np.ndim(value) == 1


def _unit_embeddings(embeddings: ArrayLike, n: int) -> NDArray[np.float32]:
    """``float[N,D]`` embeddings of ``n`` boxes, checked and L2-normalised -> read-only ``float32[N,D]``.

    Normalised in float64 after dividing each row by its largest magnitude, so that huge (even
    beyond-float32) finite values keep their direction instead of overflowing to zeros."""
    e64 = _as_array("embeddings", embeddings, np.float64, 2, "float32[N,D]")
    if len(e64) != n:
        raise ValueError(f"embeddings: {len(e64)} embeddings for {n} boxes")
    if n and e64.shape[1] == 0:
        raise ValueError("embeddings: dimension is 0")
    bad = ~np.isfinite(e64).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"embeddings: row {i} has non-finite values (NaN or inf)")
    scale = np.abs(e64).max(axis=1, keepdims=True) if e64.size else np.ones((n, 1))
    if n and (scale <= 0).any():
        raise ValueError(f"embeddings: row {int(np.argmax(scale[:, 0] <= 0))} is all zeros")
    unit = e64 / np.maximum(scale, np.finfo(np.float64).tiny)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    e = unit.astype(np.float32)
    e.setflags(write=False)
    return e


@dataclass(frozen=True, eq=False)
class Detections:
    """Detections of one frame.

    Attributes:
        boxes: ``float32[N,4]`` xyxy pixels; finite, ``x2 > x1``, ``y2 > y1``.
        scores: ``float32[N]`` confidences in ``[0, 1]``.
        class_ids: ``int64[N]`` class ids (0 = person for the bundled presets).
        embeddings: ``float32[N,D]`` appearance vectors (JDE models or a precomputed embedder), or
            ``None``. They are L2-normalised on construction; all-zero rows are rejected.

    Construction copies and validates; a violation raises :class:`ValueError` that names the field and
    the first offending row.
    """

    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]
    class_ids: NDArray[np.int64]
    embeddings: NDArray[np.float32] | None = None

    def __init__(
        self,
        boxes: ArrayLike,
        scores: ArrayLike | None = None,
        class_ids: ArrayLike | None = None,
        embeddings: ArrayLike | None = None,
    ) -> None:
        b = (
            np.zeros((0, 4), np.float32)
            if _is_empty_list(boxes)
            else _as_array("boxes", boxes, np.float32, 2, "float32[N,4] xyxy pixels")
        )
        if b.shape[1] != 4:
            raise ValueError(f"boxes: expected shape [N,4] (xyxy), got {b.shape}")
        n = len(b)
        s = (
            np.ones(n, np.float32)
            if scores is None
            else _as_array("scores", scores, np.float32, 1, "float32[N] in [0, 1]")
        )
        c = (
            np.zeros(n, np.int64)
            if class_ids is None
            else _as_array("class_ids", class_ids, np.int64, 1, "int64[N]")
        )
        if len(s) != n:
            raise ValueError(f"scores: {len(s)} scores for {n} boxes")
        if len(c) != n:
            raise ValueError(f"class_ids: {len(c)} class ids for {n} boxes")
        bad = ~np.isfinite(b).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"boxes: non-finite (or beyond float32) coordinates in row {i}: {b[i]}")
        bad = (b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"boxes: row {i} has x2<=x1 or y2<=y1 (xyxy expected): {b[i]}")
        bad = ~(np.isfinite(s) & (s >= 0.0) & (s <= 1.0))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"scores: row {i} is {s[i]}, outside [0, 1]")
        e = None if embeddings is None else _unit_embeddings(embeddings, n)
        object.__setattr__(self, "boxes", np.array(b, np.float32))
        object.__setattr__(self, "scores", np.array(s, np.float32))
        object.__setattr__(self, "class_ids", np.array(c, np.int64))
        object.__setattr__(self, "embeddings", e)
        for arr in (self.boxes, self.scores, self.class_ids):
            arr.setflags(write=False)

    @classmethod
    def empty(cls, embedding_dim: int | None = None) -> Detections:
        """No detections (a valid frame). ``embedding_dim`` gives ``float32[0,D]`` embeddings."""
        emb = None if embedding_dim is None else np.zeros((0, embedding_dim), np.float32)
        return cls(np.zeros((0, 4), np.float32), embeddings=emb)

    def __len__(self) -> int:
        return len(self.boxes)

    def subset(self, index: NDArray[np.bool_] | NDArray[np.int64]) -> Detections:
        """Rows selected by a boolean mask ``bool[N]`` or integer index ``int64[K]``."""
        return Detections(
            self.boxes[index],
            self.scores[index],
            self.class_ids[index],
            None if self.embeddings is None else self.embeddings[index],
        )

    def with_embeddings(self, embeddings: ArrayLike) -> Detections:
        """Same detections with ``embeddings: float32[N,D]`` attached (validated, L2-normalised)."""
        return Detections(self.boxes, self.scores, self.class_ids, embeddings)

    # -- interop (thin delegates; the converters live in tracker.interop and import nothing heavy here) --
    @classmethod
    def from_supervision(cls, detections: Any) -> Detections:
        """From an ``sv.Detections`` (``xyxy`` ``float[N,4]`` xyxy pixels, ``confidence`` or ``None`` ->
        1.0, ``class_id`` or ``None`` -> 0; ``tracker_id`` ignored). See
        :func:`tracker.interop.supervision.detections_from_supervision`."""
        from .interop.supervision import detections_from_supervision

        return detections_from_supervision(detections)

    @classmethod
    def from_ultralytics(cls, result: Any) -> Detections:
        """From one Ultralytics ``Results`` (``result.boxes.xyxy/.conf/.cls``, tensors or arrays),
        duck-typed, without importing ``ultralytics``. See
        :func:`tracker.interop.ultralytics.detections_from_ultralytics`."""
        from .interop.ultralytics import detections_from_ultralytics

        return detections_from_ultralytics(result)


@dataclass(frozen=True, eq=False)
class Tracks:
    """Tracks reported for one frame.

    Attributes:
        ids: ``int64[M]`` track ids, unique within a tracker instance and never reused (1-based).
        boxes: ``float32[M,4]`` xyxy pixels (the Kalman estimate after this frame's update).
        scores: ``float32[M]`` score of the detection that last updated each track.
        class_ids: ``int64[M]`` class id of each track.
        states: ``int8[M]`` :class:`TrackState` values.
        det_index: ``int64[M]`` index into this frame's :class:`Detections` of the detection that
            updated each track, or ``-1`` if none did.
    """

    ids: NDArray[np.int64]
    boxes: NDArray[np.float32]
    scores: NDArray[np.float32]
    class_ids: NDArray[np.int64]
    states: NDArray[np.int8]
    det_index: NDArray[np.int64]

    @classmethod
    def empty(cls) -> Tracks:
        return cls(
            np.zeros(0, np.int64),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int8),
            np.zeros(0, np.int64),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def with_ids(self, ids: NDArray[np.int64]) -> Tracks:
        """Plain :class:`Tracks` with ``ids`` (``int64[M]``, e.g. final global ids) instead of these.

        Raises:
            ValueError: ``ids`` is not one id per track.
        """
        new = np.asarray(ids, np.int64).reshape(-1)
        if len(new) != len(self.ids):
            raise ValueError(f"ids: {len(new)} ids for {len(self.ids)} tracks")
        return Tracks(
            ids=new,
            boxes=self.boxes,
            scores=self.scores,
            class_ids=self.class_ids,
            states=self.states,
            det_index=self.det_index,
        )

    def to_supervision(self) -> sv.Detections:
        """As an ``sv.Detections`` with ``tracker_id`` set to the track ids (``xyxy`` ``float32[M,4]``
        xyxy pixels). Needs ``supervision`` installed. See
        :func:`tracker.interop.supervision.tracks_to_supervision`."""
        from .interop.supervision import tracks_to_supervision

        return tracks_to_supervision(self)


@runtime_checkable
class Detector(Protocol):
    """Anything that turns a frame into detections.

    ``detect(frame, frame_index)``: ``frame`` is ``uint8[H,W,3]`` BGR (as OpenCV decodes it);
    ``frame_index`` is the 1-based index of the frame in its stream (file-backed detectors such as
    public ``det.txt`` detections use it; model-based ones ignore it). Returns :class:`Detections` with
    boxes ``float32[N,4]`` xyxy pixels of ``frame``, scores in ``[0,1]``, class ids, and embeddings
    ``float32[N,D]`` for joint detection-embedding (JDE) models.
    """

    def detect(self, frame: NDArray[np.uint8], frame_index: int) -> Detections: ...


@runtime_checkable
class Embedder(Protocol):
    """Computes appearance embeddings for the boxes of one frame."""

    @property
    def dim(self) -> int:
        """Embedding dimension ``D`` (known once the model is loaded)."""
        ...

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        """Embed the image regions under ``boxes``.

        Args:
            image: ``uint8[H,W,3]`` BGR frame (as OpenCV reads it).
            boxes: ``float32[N,4]`` xyxy pixels; boxes may extend past the image.

        Returns:
            ``float32[N,D]``, each row L2-normalised; ``float32[0,D]`` for ``N = 0``.
        """
        ...
