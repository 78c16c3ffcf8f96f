"""Drawing tracks on frames: boxes with ``ID n`` labels, short trails and a small overlay.

Colours are a pure function of the track id (:func:`id_color`), so an id keeps its colour across
frames, runs and machines. Line widths and text sizes scale with the image size. Trails are kept by a
:class:`TrailBuffer` that the caller owns and updates once per frame::

    trails = TrailBuffer()
    for i, frame in source:
        tracks = tracker.update(detector.detect(frame, i), frame=frame, frame_index=i)
        trails.update(i, tracks)
        annotated = draw_tracks(frame, tracks, trails, frame_index=i)
"""

from __future__ import annotations

import colorsys
from collections import deque
from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from ..types import Tracks

__all__ = ["TrailBuffer", "draw_legend", "draw_scale", "draw_tracks", "id_color"]

_GOLDEN = 0.618033988749895
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def id_color(track_id: int) -> tuple[int, int, int]:
    """A BGR colour for ``track_id``: the hue steps by the golden ratio from id to id, so consecutive
    ids get well separated hues; saturation and value alternate a little to separate ids whose hues
    come close. Deterministic (no random state)."""
    k = int(track_id)
    hue = (k * _GOLDEN) % 1.0
    sat = 0.9 if k % 2 else 0.7
    val = 1.0 if k % 3 else 0.85
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return round(b * 255), round(g * 255), round(r * 255)


def draw_scale(shape: Sequence[int]) -> tuple[int, float, int]:
    """``(line thickness, font scale, font thickness)`` for an image of ``shape`` ``(H, W, ...)``:
    2 px lines and font scale 0.6 at 576 px, growing with the shorter side."""
    base = min(int(shape[0]), int(shape[1])) / 480.0
    thickness = max(1, round(1.7 * base))
    font_scale = max(0.35, 0.5 * base)
    font_thickness = max(1, round(base))
    return thickness, font_scale, font_thickness


class TrailBuffer:
    """Recent bottom-centre points ``(x, y)`` of each track, for drawing trails.

    Args:
        length: points kept per id (the newest ``length``).
        max_age: an id not updated for more than ``max_age`` frames is dropped.
    """

    def __init__(self, length: int = 30, max_age: int = 30) -> None:
        if length < 1 or max_age < 0:
            raise ValueError(f"length must be >= 1 and max_age >= 0, got {length}, {max_age}")
        self.length = length
        self.max_age = max_age
        self._points: dict[int, deque[tuple[float, float]]] = {}
        self._last_seen: dict[int, int] = {}

    def update(self, frame_index: int, tracks: Tracks) -> None:
        """Add the bottom-centre of each of ``tracks`` (boxes ``float32[M,4]`` xyxy) seen at
        ``frame_index`` and forget ids not seen for more than ``max_age`` frames."""
        boxes = np.asarray(tracks.boxes, np.float64).reshape(-1, 4)
        for tid, (x1, _y1, x2, y2) in zip(tracks.ids.tolist(), boxes.tolist(), strict=True):
            pts = self._points.get(tid)
            if pts is None:
                pts = self._points[tid] = deque(maxlen=self.length)
            pts.append((0.5 * (x1 + x2), y2))
            self._last_seen[tid] = frame_index
        stale = [tid for tid, seen in self._last_seen.items() if frame_index - seen > self.max_age]
        for tid in stale:
            del self._points[tid]
            del self._last_seen[tid]

    def points(self, track_id: int) -> NDArray[np.float32]:
        """``float32[K,2]`` points of ``track_id``, oldest first (``K = 0`` if unknown)."""
        pts = self._points.get(int(track_id))
        return np.array(pts if pts else np.zeros((0, 2)), np.float32).reshape(-1, 2)

    @property
    def ids(self) -> list[int]:
        return list(self._points)

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._points

    def __len__(self) -> int:
        return len(self._points)

    def clear(self) -> None:
        self._points.clear()
        self._last_seen.clear()


def _text_color(bgr: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light backgrounds, white on dark ones."""
    b, g, r = bgr
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)


def _draw_trail(
    img: NDArray[np.uint8], pts: NDArray[np.float32], color: tuple[int, int, int], thickness: int
) -> None:
    p = np.round(pts).astype(np.int32)
    n = len(p)
    for k in range(1, n):
        t = max(1, round(thickness * k / (n - 1)))  # thin (old) to full width (new)
        cv2.line(
            img, (int(p[k - 1, 0]), int(p[k - 1, 1])), (int(p[k, 0]), int(p[k, 1])), color, t, cv2.LINE_AA
        )


def draw_legend(
    frame: NDArray[np.uint8], lines: Iterable[str], *, origin: tuple[int, int] = (0, 0)
) -> NDArray[np.uint8]:
    """Draw ``lines`` of white text on a darkened box at ``origin`` (top-left), in place.

    Args:
        frame: ``uint8[H,W,3]`` BGR image, modified in place and returned.
    """
    lines = list(lines)
    if not lines:
        return frame
    _, font_scale, font_thick = draw_scale(frame.shape)
    sizes = [cv2.getTextSize(s, _FONT, font_scale, font_thick) for s in lines]
    line_h = max(h + base for (_, h), base in sizes) + 4 * font_thick
    pad = 4 * font_thick + 2
    width = max(w for (w, _), _ in sizes) + 2 * pad
    height = line_h * len(lines) + pad
    x0, y0 = origin
    x1, y1 = min(frame.shape[1], x0 + width), min(frame.shape[0], y0 + height)
    if x1 > x0 and y1 > y0:
        roi = frame[y0:y1, x0:x1]
        roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(np.uint8)  # darken to 40 %
    for k, s in enumerate(lines):
        y = y0 + pad + line_h * k + sizes[k][0][1]
        cv2.putText(frame, s, (x0 + pad, y), _FONT, font_scale, (255, 255, 255), font_thick, cv2.LINE_AA)
    return frame


def draw_tracks(
    frame: NDArray[np.uint8],
    tracks: Tracks,
    trails: TrailBuffer | None = None,
    *,
    frame_index: int | None = None,
    show_scores: bool = False,
    legend: bool = True,
    extra_lines: Sequence[str] = (),
    copy: bool = True,
    labels: Sequence[str] | None = None,
) -> NDArray[np.uint8]:
    """Draw boxes, ``ID n`` labels, trails and an overlay (frame number, number of tracks).

    Args:
        frame: ``uint8[H,W,3]`` BGR image.
        tracks: the frame's :class:`~tracker.types.Tracks` (boxes ``float32[M,4]`` xyxy pixels).
        trails: points to draw as trails for the ids in ``tracks`` (the caller updates it first);
            ``None`` for no trails.
        frame_index: shown in the overlay when given.
        show_scores: append the score to each label (``ID 3 0.91``).
        legend: draw the overlay in the top-left corner.
        extra_lines: more overlay lines (e.g. frames/s).
        copy: draw on a copy (default) rather than on ``frame`` itself.
        labels: one text per track replacing the id in ``ID n`` (e.g. ``"7?"`` for a provisional id).

    Returns:
        The annotated ``uint8[H,W,3]`` BGR image.
    """
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be uint8[H,W,3] BGR, got {getattr(frame, 'shape', type(frame))}")
    img = frame.copy() if copy else frame
    thickness, font_scale, font_thick = draw_scale(img.shape)
    w = img.shape[1]
    boxes = np.round(np.asarray(tracks.boxes, np.float64).reshape(-1, 4)).astype(np.int64)
    ids = tracks.ids.tolist()
    if labels is not None and len(labels) != len(ids):
        raise ValueError(f"labels: {len(labels)} texts for {len(ids)} tracks")
    if trails is not None:
        for tid in ids:
            pts = trails.points(tid)
            if len(pts) > 1:
                _draw_trail(img, pts, id_color(tid), thickness)
    # boxes first, then labels, so no box crosses a label; nearer (lower) boxes are drawn last, on top
    order = np.argsort(boxes[:, 3], kind="stable").tolist()
    for k in order:
        x1, y1, x2, y2 = (int(v) for v in boxes[k])
        cv2.rectangle(img, (x1, y1), (x2, y2), id_color(ids[k]), thickness)
    pad = max(2, thickness)
    for k in order:
        tid, color = ids[k], id_color(ids[k])
        x1, y1 = int(boxes[k, 0]), int(boxes[k, 1])
        label = f"ID {tid if labels is None else labels[k]}" + (
            f" {float(tracks.scores[k]):.2f}" if show_scores else ""
        )
        (tw, th), base = cv2.getTextSize(label, _FONT, font_scale, font_thick)
        lx = min(max(x1 - thickness // 2, 0), max(w - tw - 2 * pad, 0))
        ly = y1 - th - base - 2 * pad  # label above the box; inside it when the box touches the top
        if ly < 0:
            ly = max(y1, 0)
        cv2.rectangle(img, (lx, ly), (lx + tw + 2 * pad, ly + th + base + 2 * pad), color, -1)
        cv2.putText(
            img,
            label,
            (lx + pad, ly + pad + th),
            _FONT,
            font_scale,
            _text_color(color),
            font_thick,
            cv2.LINE_AA,
        )
    if legend:
        lines = [] if frame_index is None else [f"frame {frame_index}"]
        lines.append(f"tracks {len(ids)}")
        draw_legend(img, [*lines, *extra_lines])
    return img
