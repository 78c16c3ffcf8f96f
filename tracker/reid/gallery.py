"""Track galleries and person search: per-track appearance summaries, ranked by distance to a query.

Used by single-camera ``run`` (a gallery per video), multi-camera ``run`` (a gallery per camera) and
``search``; the multi-camera identity manager summarises tracklets with the same
:func:`observation_weights`.

Stored format, one file per camera/video: ``<name>.tracks.npz`` with

* ``track_ids``: ``int64[T]``; ``embeddings``: ``float32[T,D]`` per-track mean embedding (unit length);
* ``cameras``: ``str[T]``; ``first_frame``, ``last_frame``: ``int64[T]``;
* ``traj_track``: ``int64[K]`` track id of each trajectory row; ``traj_frame``: ``int64[K]``;
  ``traj_boxes``: ``float32[K,4]`` xyxy pixels.

:func:`search` returns :class:`SearchHit` rows ranked by cosine distance over one or several
galleries; :func:`draw_hits` draws the top-k crops side by side (rank, camera, distance) into a PNG.
Galleries are written by ``python -m tracker run`` (single and multi-camera, whenever an embedder is
used) and built from tracker output with :func:`gallery_from_tracks`; ``python -m tracker search``
(:mod:`tracker.apps.search`) runs the whole retrieval from a query image.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..io.atomic import atomic_write

__all__ = [
    "MAX_TRAJECTORY_POINTS",
    "Gallery",
    "GalleryBuilder",
    "SearchHit",
    "average_precision",
    "concatenate_galleries",
    "draw_hits",
    "gallery_from_tracks",
    "observation_weight",
    "observation_weights",
    "search",
]


def observation_weights(scores: NDArray[np.floating], boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    """Weights ``float64[K]`` of observations: ``score * sqrt(box area)`` (small, uncertain boxes count
    less in a track's appearance summary).

    Args:
        scores: ``float[K]`` detection scores in ``[0, 1]``.
        boxes: ``float[K,4]`` xyxy pixels.
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    return np.asarray(scores, np.float64).reshape(-1) * np.sqrt(area)


def observation_weight(score: float, box: NDArray[np.floating]) -> float:
    """:func:`observation_weights` of one observation (``box`` ``float[4]`` xyxy pixels), the same
    float64 arithmetic without array overhead (it runs once per observation of every tracklet)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return float(score) * math.sqrt(max(x2 - x1, 0.0) * max(y2 - y1, 0.0))


_ARRAY_FIELDS = (
    "track_ids",
    "embeddings",
    "cameras",
    "first_frame",
    "last_frame",
    "traj_track",
    "traj_frame",
    "traj_boxes",
)


@dataclass(frozen=True)
class Gallery:
    """Tracks to search (see the module docstring for the fields and shapes)."""

    track_ids: NDArray[np.int64]
    embeddings: NDArray[np.float32]
    cameras: NDArray[np.str_]
    first_frame: NDArray[np.int64]
    last_frame: NDArray[np.int64]
    traj_track: NDArray[np.int64]
    traj_frame: NDArray[np.int64]
    traj_boxes: NDArray[np.float32]
    source: str = ""
    """Where the frames came from (video path, image folder, ...), to draw the hits; may be empty."""
    model: str = ""
    """Name of the appearance model that made the embeddings (queries must use the same one)."""

    def save(self, path: str | Path) -> Path:
        """Write ``<name>.tracks.npz`` (the path is returned as given: name it ``.npz``)."""
        path = Path(path)
        arrays = {k: getattr(self, k) for k in _ARRAY_FIELDS}
        with atomic_write(path) as f:  # whole or not at all
            np.savez(f, **arrays, source=np.array(self.source), model=np.array(self.model))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Gallery:
        """Read a ``.tracks.npz`` file (``ValueError`` naming a missing field)."""
        try:
            z = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable .npz gallery ({exc})") from None
        with z:
            missing = [k for k in _ARRAY_FIELDS if k not in z]
            if missing:
                raise ValueError(f"{path}: missing field(s) {missing}")
            arrays = {k: z[k] for k in _ARRAY_FIELDS}
            source = str(z["source"]) if "source" in z else ""
            model = str(z["model"]) if "model" in z else ""
        n = len(arrays["track_ids"])
        if arrays["embeddings"].ndim != 2 or len(arrays["embeddings"]) != n or len(arrays["cameras"]) != n:
            raise ValueError(f"{path}: track_ids, embeddings and cameras disagree in length")
        return cls(**arrays, source=source, model=model)

    def trajectory(self, track_id: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """``(frames int64[K], boxes float32[K,4])`` of one track."""
        m = self.traj_track == track_id
        return self.traj_frame[m], self.traj_boxes[m]


MAX_TRAJECTORY_POINTS = 512
"""Boxes kept per track in a gallery: a longer track keeps every 2nd, 4th, ... observation (always its
first and its latest), so memory per track is bounded however long it lives."""


class _TrackSummary:
    """One track's running appearance sum and its thinned trajectory: observation ``k`` (0-based) is
    kept when ``k % stride == 0``; the stride doubles (every other kept point dropped) whenever more
    than :data:`MAX_TRAJECTORY_POINTS` are kept; the latest observation is always kept too."""

    __slots__ = ("boxes", "first", "frames", "last", "latest", "stride", "sum", "wsum")

    def __init__(self, frame: int, w: float, e: NDArray[np.float64]) -> None:
        self.sum = w * e
        self.wsum = w
        self.first = self.last = frame
        self.frames: list[int] = []
        self.boxes: list[NDArray[np.float32]] = []
        self.latest: tuple[int, NDArray[np.float32]] | None = None
        self.stride = 1

    def add_point(self, frame: int, box: NDArray[np.float32], k: int) -> None:
        self.latest = (frame, box)
        if k % self.stride:
            return
        self.frames.append(frame)
        self.boxes.append(box)
        if len(self.frames) > MAX_TRAJECTORY_POINTS:
            self.frames, self.boxes = self.frames[::2], self.boxes[::2]
            self.stride *= 2

    def trajectory(self) -> tuple[list[int], list[NDArray[np.float32]]]:
        if self.latest is not None and (not self.frames or self.frames[-1] != self.latest[0]):
            return [*self.frames, self.latest[0]], [*self.boxes, self.latest[1]]
        return self.frames, self.boxes


class GalleryBuilder:
    """Builds a :class:`Gallery` online, one observation at a time, in bounded memory per track: a
    running weighted sum of unit embeddings and at most :data:`MAX_TRAJECTORY_POINTS` trajectory boxes.
    :meth:`retire` hands over (and forgets) tracks that ended, so a run on an endless source keeps only
    its live tracks in memory.

    Weights are :func:`observation_weights` (score x sqrt(box area)), so the result equals
    :func:`gallery_from_tracks` on the same rows.
    """

    def __init__(self) -> None:
        self._tracks: dict[int, _TrackSummary] = {}
        self._counts: dict[int, int] = {}

    def add(
        self,
        frame: int,
        track_id: int,
        box: NDArray[np.float32],
        score: float,
        embedding: NDArray[np.float32],
    ) -> None:
        """One observation: ``box`` ``float32[4]`` xyxy pixels, ``embedding`` ``float32[D]``."""
        b = np.asarray(box, np.float32).reshape(4).copy()
        e = np.asarray(embedding, np.float64).reshape(-1)
        e = e / max(float(np.linalg.norm(e)), 1e-12)
        w = float(observation_weights(np.array([score]), b[None])[0])
        tid, f = int(track_id), int(frame)
        t = self._tracks.get(tid)
        if t is None:
            t = self._tracks[tid] = _TrackSummary(f, w, e)
            self._counts[tid] = 0
        else:
            t.sum += w * e
            t.wsum += w
            t.first, t.last = min(t.first, f), max(t.last, f)
        t.add_point(f, b, self._counts[tid])
        self._counts[tid] += 1

    def __len__(self) -> int:
        return len(self._tracks)

    def build(self, camera: str, *, source: str = "", model: str = "") -> Gallery:
        """The gallery of every track held (ids in increasing order)."""
        return self._gallery(sorted(self._tracks), camera, source, model)

    def retire(self, before_frame: int, camera: str, *, source: str = "", model: str = "") -> Gallery | None:
        """The gallery of the tracks last seen before ``before_frame``, which are then forgotten
        (``None`` if there are none)."""
        ids = sorted(t for t, s in self._tracks.items() if s.last < before_frame)
        if not ids:
            return None
        g = self._gallery(ids, camera, source, model)
        for t in ids:
            del self._tracks[t], self._counts[t]
        return g

    def _gallery(self, ids: list[int], camera: str, source: str, model: str) -> Gallery:
        embs = []
        for tid in ids:
            m = self._tracks[tid].sum
            n = float(np.linalg.norm(m))
            embs.append((m / n if n > 0 else m).astype(np.float32))
        d = embs[0].shape[0] if embs else 0
        trajectories = [self._tracks[tid].trajectory() for tid in ids]
        traj_track = [tid for tid, (frames, _) in zip(ids, trajectories, strict=True) for _ in frames]
        traj_frame = [f for frames, _ in trajectories for f in frames]
        traj_boxes = [b for _, boxes in trajectories for b in boxes]
        return Gallery(
            np.array(ids, np.int64),
            np.stack(embs) if embs else np.zeros((0, d), np.float32),
            np.array([camera] * len(ids)),
            np.array([self._tracks[t].first for t in ids], np.int64),
            np.array([self._tracks[t].last for t in ids], np.int64),
            np.array(traj_track, np.int64),
            np.array(traj_frame, np.int64),
            np.stack(traj_boxes) if traj_boxes else np.zeros((0, 4), np.float32),
            source,
            model,
        )


def concatenate_galleries(parts: Sequence[Gallery]) -> Gallery:
    """One gallery from several of the same source and model (e.g. the retired parts of one run),
    tracks in the order given."""
    if not parts:
        raise ValueError("no galleries to concatenate")
    d = max(p.embeddings.shape[1] for p in parts)
    return Gallery(
        np.concatenate([p.track_ids for p in parts]),
        np.concatenate([p.embeddings.reshape(-1, d) for p in parts]).astype(np.float32),
        np.concatenate([p.cameras for p in parts]),
        np.concatenate([p.first_frame for p in parts]),
        np.concatenate([p.last_frame for p in parts]),
        np.concatenate([p.traj_track for p in parts]),
        np.concatenate([p.traj_frame for p in parts]),
        np.concatenate([p.traj_boxes.reshape(-1, 4) for p in parts]).astype(np.float32),
        parts[0].source,
        parts[0].model,
    )


def gallery_from_tracks(
    camera: str,
    rows: Iterable[tuple[int, int, NDArray[np.float32], float, NDArray[np.float32]]],
    *,
    source: str = "",
    model: str = "",
) -> Gallery:
    """Build a :class:`Gallery` from per-frame track rows ``(frame, track id, box float32[4], score,
    embedding float32[D])``; the per-track embedding is the score- and size-weighted mean."""
    builder = GalleryBuilder()
    for frame, tid, box, score, emb in rows:
        builder.add(frame, tid, box, score, emb)
    return builder.build(camera, source=source, model=model)


@dataclass(frozen=True)
class SearchHit:
    """One ranked track: rank (1-based), camera, track id, cosine distance, frame span, trajectory."""

    rank: int
    camera: str
    track_id: int
    distance: float
    first_frame: int
    last_frame: int
    frames: NDArray[np.int64]
    boxes: NDArray[np.float32]


def search(
    query: NDArray[np.float32], gallery: Gallery | Sequence[Gallery], top_k: int | None = None
) -> list[SearchHit]:
    """Tracks of one or several galleries ranked by cosine distance to ``query`` (``float32[D]``, any
    norm); ties keep gallery order.

    Raises:
        ValueError: the query's dimension differs from a gallery's.
    """
    galleries = [gallery] if isinstance(gallery, Gallery) else list(gallery)
    q = np.asarray(query, np.float32).reshape(-1)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    dists, owners = [], []
    for gi, g in enumerate(galleries):
        if len(g.track_ids) and g.embeddings.shape[1] != len(q):
            raise ValueError(
                f"query has dimension {len(q)}, gallery {g.source or gi} {g.embeddings.shape[1]} "
                "(use the same ReID model for the query and the gallery)"
            )
        dists.append(1.0 - g.embeddings @ q if len(g.track_ids) else np.zeros(0, np.float32))
        owners += [(gi, i) for i in range(len(g.track_ids))]
    if not owners:
        return []
    d = np.concatenate(dists)
    order = np.argsort(d, kind="stable")[:top_k]
    hits = []
    for r, k in enumerate(order.tolist(), start=1):
        gi, i = owners[k]
        g = galleries[gi]
        frames, boxes = g.trajectory(int(g.track_ids[i]))
        hits.append(
            SearchHit(
                r,
                str(g.cameras[i]),
                int(g.track_ids[i]),
                float(d[k]),
                int(g.first_frame[i]),
                int(g.last_frame[i]),
                frames,
                boxes,
            )
        )
    return hits


def average_precision(relevant: NDArray[np.bool_]) -> float:
    """AP of a ranked list given ``relevant: bool[N]`` in rank order (``nan`` if nothing is relevant)."""
    rel = np.asarray(relevant, bool)
    if not rel.any():
        return float("nan")
    hits = np.cumsum(rel)
    return float((hits[rel] / (np.nonzero(rel)[0] + 1)).mean())


def draw_hits(
    query_crop: NDArray[np.uint8],
    hits: list[SearchHit],
    load_frame: Callable[[str, int], NDArray[np.uint8] | None],
    path: str | Path,
    height: int = 192,
) -> Path:
    """PNG: the query crop, then each hit's middle-frame crop labelled rank / camera / distance.

    Args:
        query_crop: ``uint8[h,w,3]`` BGR.
        hits: ranked hits (:func:`search`).
        load_frame: ``(camera, frame number) -> uint8[H,W,3]`` BGR, or ``None`` when unavailable (the
            tile is then left grey).
        path: PNG path to write.
        height: tile height in pixels.
    """
    import cv2

    def fit(img: NDArray[np.uint8]) -> NDArray[np.uint8]:
        w = max(1, round(img.shape[1] * height / max(img.shape[0], 1)))
        return np.asarray(cv2.resize(img, (w, height)), np.uint8)

    tiles = [fit(query_crop)]
    cv2.putText(tiles[0], "query", (2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 255), 1)
    for h in hits:
        k = len(h.frames) // 2
        frame = load_frame(h.camera, int(h.frames[k]))
        x1, y1, x2, y2 = (round(float(v)) for v in h.boxes[k])
        crop = (
            frame[max(y1, 0) : max(y2, y1 + 1), max(x1, 0) : max(x2, x1 + 1)]
            if frame is not None
            else np.zeros((0, 0, 3), np.uint8)
        )
        tile = (
            fit(np.ascontiguousarray(crop)) if crop.size else np.full((height, height // 2, 3), 96, np.uint8)
        )
        for j, text in enumerate((f"#{h.rank}", h.camera, f"{h.distance:.2f}")):
            cv2.putText(tile, text, (2, 14 + 14 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 0), 1)
        tiles.append(tile)
    out = np.concatenate([np.pad(t, ((0, 0), (0, 4), (0, 0))) for t in tiles], axis=1)
    path = Path(path)
    if not cv2.imwrite(str(path), out):
        raise ValueError(f"cannot write {path}")
    return path
