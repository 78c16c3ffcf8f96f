"""Multi-camera evaluation harness: virtual cameras cut from one real sequence, scored across cameras.

A sequence (PETS09-S2L1: 768x576, 7 fps) is cut into vertical VIEWS (``--views
name=x0:x1,name=x0:x1,...``, two or more, left to right, full-frame pixels; the gaps between them are
blind strips of any width). The default cut is ``left=0:340,right=428:768`` (an 88-px blind strip).

* Detections of a view: the public ACF detections whose box centre lies in the view, boxes clipped to
  the view; scores normalised over the whole file (``MotDetections.detections(t, "auto")``).
* Ground truth of a view: the gt rows whose box centre lies in the view, clipped likewise. Person ids
  are the sequence's ids, so the same person has the same id in every view.
* Coordinates stay in FULL-FRAME pixels (the ``--export`` dataset shifts them into view coordinates).
* Embeddings: the ReID model on the full frame with the clipped box (= a crop of the view), computed
  once per (frame, box) and cached on disk per model and cut (``--cache``, default
  ``out/multicam_cache/<model>-<cut>.npz``), reused by every mode and run. The detections carry the
  embeddings (the trackers get no frames: static cameras need no motion compensation).
* Timestamps = (frame - 1) / fps; per frame the views are fed left to right.

Scores (:mod:`tracker.eval.multicam`, on the FINAL global ids; ``idf1_cross_emitted`` scores the ids as
emitted online): cross-camera IDF1/MOTA, per-view MOTA/IDF1, handoff accuracy (true view changes where
the person is covered on both sides, share keeping the global id), concurrent-id conflicts (a global id
in two views at the same time; must be 0), and person search (rank-1 / mAP: the largest gt crop of each
person in one view against the other view's track gallery).

Modes: ``full`` (appearance + transition graph between neighbouring views, travel 0.5-8 s, exit/entry
zones along each blind strip), ``no_link`` (global id = (view, local id)), ``appearance_only`` (same
distance settings, ``time_gating: false``).

Run from the repository root::

    python benchmarks/multicam_harness.py --data ../shared/data/MOT15/train/PETS09-S2L1 \
        --reid ../shared/models/osnet_x0_25_msmt17.onnx [--views left=0:300,right=468:768]
    python benchmarks/multicam_harness.py --data ... --views a=0:256,b=300:512,c=556:768 --export DIR
    python -m tracker bench DIR --reid MODEL        # the exported cut as a multi-camera dataset
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tracker.eval.multicam import CameraTruth, match_frame, score_multicam
from tracker.io.atomic import atomic_write, write_text_atomic
from tracker.io.mot import (
    GtFrame,
    MotGroundTruth,
    MotResults,
    ResultFrame,
    read_detections,
    read_ground_truth,
    read_seqinfo,
)
from tracker.multicam import GlobalIdentityManager, LinkDecision, MultiCamConfig, MultiCameraTracker
from tracker.multicam.config import Transition
from tracker.types import Detections

__all__ = [
    "DEFAULT_VIEWS",
    "HandoffTransition",
    "ModeResult",
    "View",
    "VirtualSequence",
    "build_virtual_sequence",
    "compute_embeddings",
    "evaluate_mode",
    "export_virtual_views",
    "main",
    "parse_views",
    "run_mode",
    "true_transitions",
]


@dataclass(frozen=True)
class View:
    """A vertical strip ``x0 <= x < x1`` of the frame (full-frame pixels) seen as one camera."""

    name: str
    x0: float
    x1: float

    def select(self, boxes: NDArray[np.float32]) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """Boxes ``float32[N,4]`` whose centre lies in the view: ``(mask bool[N], clipped float32[K,4])``."""
        cx = 0.5 * (boxes[:, 0] + boxes[:, 2])
        mask = (cx >= self.x0) & (cx < self.x1)
        b = boxes[mask].copy()
        b[:, 0] = np.clip(b[:, 0], self.x0, self.x1)
        b[:, 2] = np.clip(b[:, 2], self.x0, self.x1)
        keep = b[:, 2] - b[:, 0] >= 1.0
        mask[np.nonzero(mask)[0][~keep]] = False
        return mask, b[keep]


DEFAULT_VIEWS = (View("left", 0.0, 340.0), View("right", 428.0, 768.0))
"""The default cut of PETS09-S2L1 (the one linking was first tuned on)."""


def parse_views(text: str, width: float | None = None) -> tuple[View, ...]:
    """Views from ``name=x0:x1,name=x0:x1,...`` (two or more, left to right, not overlapping).

    Raises:
        ValueError: malformed text, fewer than two views, repeated names, ``x0 >= x1``, views out of
            order or overlapping, or outside ``[0, width]`` (when ``width`` is given).
    """
    views = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, eq, span = part.partition("=")
        lo, colon, hi = span.partition(":")
        try:
            if not (eq and colon and name.strip()):
                raise ValueError
            x0, x1 = float(lo), float(hi)
        except ValueError:
            raise ValueError(f"--views: expected name=x0:x1, got {part!r}") from None
        if not (math.isfinite(x0) and math.isfinite(x1) and x0 < x1):
            raise ValueError(f"--views: {part!r}: need finite x0 < x1")
        views.append(View(name.strip(), x0, x1))
    if len(views) < 2:
        raise ValueError(f"--views: need two or more views, got {len(views)} in {text!r}")
    names = [v.name for v in views]
    if len(set(names)) != len(names):
        raise ValueError(f"--views: repeated view name in {names}")
    for a, b in itertools.pairwise(views):
        if b.x0 < a.x1:
            raise ValueError(f"--views: {b.name} starts at {b.x0:g}, before {a.name} ends ({a.x1:g})")
    if width is not None and (views[0].x0 < 0 or views[-1].x1 > width):
        raise ValueError(f"--views: views must lie within [0, {width:g}]")
    return tuple(views)


def format_views(views: Sequence[View]) -> str:
    """The ``--views`` text of a cut (inverse of :func:`parse_views`)."""
    return ",".join(f"{v.name}={v.x0:g}:{v.x1:g}" for v in views)


@dataclass
class VirtualSequence:
    """Per-view detections and ground truth of one sequence.

    Attributes:
        views: the views (cameras).
        frames: frame numbers ``1..N``.
        fps: frames per second.
        dets: view name -> frame -> ``(boxes float32[K,4] xyxy, scores float32[K] in [0,1])``.
        gt: view name -> :class:`~tracker.io.MotGroundTruth` (full-frame coordinates, clipped).
        image_paths: frame -> image file (may be missing).
    """

    views: tuple[View, ...]
    frames: list[int]
    fps: float
    dets: dict[str, dict[int, tuple[NDArray[np.float32], NDArray[np.float32]]]]
    gt: dict[str, MotGroundTruth]
    image_paths: dict[int, Path] = field(default_factory=dict)


def build_virtual_sequence(seq_dir: str | Path, views: Sequence[View] = DEFAULT_VIEWS) -> VirtualSequence:
    """Split a MOTChallenge sequence (``seqinfo.ini``, ``det/det.txt``, ``gt/gt.txt``, ``img1/``) into views."""
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir)
    dets = read_detections(seq_dir / "det" / "det.txt")
    gt = read_ground_truth(seq_dir / "gt" / "gt.txt")
    frames = list(range(1, info.seq_length + 1))
    out_dets: dict[str, dict[int, tuple[NDArray[np.float32], NDArray[np.float32]]]] = {
        v.name: {} for v in views
    }
    gt_frames: dict[str, dict[int, GtFrame]] = {v.name: {} for v in views}
    for t in frames:
        d = dets.detections(t, "auto")
        g = gt[t]
        for v in views:
            mask, boxes = v.select(np.asarray(d.boxes))
            out_dets[v.name][t] = (boxes, np.asarray(d.scores)[mask])
            gmask, gboxes = v.select(np.asarray(g.boxes))
            if gmask.any():
                gt_frames[v.name][t] = GtFrame(
                    g.ids[gmask], gboxes, g.consider[gmask], g.classes[gmask], g.visibility[gmask]
                )
    img_dir = seq_dir / info.im_dir
    paths = {t: img_dir / f"{t:06d}{info.im_ext}" for t in frames}
    return VirtualSequence(
        views=tuple(views),
        frames=frames,
        fps=info.frame_rate,
        dets=out_dets,
        gt={k: MotGroundTruth(v, has_classes=False) for k, v in gt_frames.items()},
        image_paths=paths,
    )


@dataclass(frozen=True)
class HandoffTransition:
    """A person's consecutive ground-truth appearances switch views: last frame in ``from_view``
    (segment ``[from_start, from_end]``), first frame in ``to_view`` (segment ``[to_start, to_end]``)."""

    person: int
    from_view: str
    to_view: str
    from_start: int
    from_end: int
    to_start: int
    to_end: int


def true_transitions(vs: VirtualSequence) -> list[HandoffTransition]:
    """Every view change in every person's ground-truth timeline (rows with the consider flag)."""
    timeline: dict[int, list[tuple[int, str]]] = {}
    for v in vs.views:
        for t, g in vs.gt[v.name].frames.items():
            for pid in g.ids[g.consider].tolist():
                timeline.setdefault(pid, []).append((t, v.name))
    out: list[HandoffTransition] = []
    for pid, rows in sorted(timeline.items()):
        rows.sort()
        segs: list[list[Any]] = []  # [view, start, end]
        for t, name in rows:
            if segs and segs[-1][0] == name:
                segs[-1][2] = t
            else:
                segs.append([name, t, t])
        for a, b in itertools.pairwise(segs):
            out.append(HandoffTransition(pid, a[0], b[0], a[1], a[2], b[1], b[2]))
    return out


def compute_embeddings(
    vs: VirtualSequence, embedder: Any, progress: bool = True
) -> dict[str, dict[int, NDArray[np.float32]]]:
    """OSNet (or any embedder) vectors for every view's detections: view -> frame -> ``float32[K,D]``.

    One ``embed`` call per frame on the full image with all views' (clipped) boxes.
    """
    import cv2

    out: dict[str, dict[int, NDArray[np.float32]]] = {v.name: {} for v in vs.views}
    start = time.perf_counter()
    for i, t in enumerate(vs.frames):
        boxes = [vs.dets[v.name][t][0] for v in vs.views]
        allb = np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32)
        if len(allb):
            img = cv2.imread(str(vs.image_paths[t]), cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(f"{vs.image_paths[t]}: image missing or unreadable")
            emb = np.asarray(embedder.embed(img, allb), np.float32)
        else:
            emb = np.zeros((0, int(getattr(embedder, "dim", 1))), np.float32)
        k = 0
        for v, b in zip(vs.views, boxes, strict=True):
            out[v.name][t] = emb[k : k + len(b)]
            k += len(b)
        if progress and (i + 1) % 200 == 0:
            print(
                f"  embedded {i + 1}/{len(vs.frames)} frames ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
            )
    return out


@dataclass
class ModeRun:
    """Raw per-view output of one mode: view -> frame -> ``(local ids, emitted global ids, boxes, scores)``."""

    records: dict[
        str, dict[int, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32], NDArray[np.float32]]]
    ]
    final: dict[tuple[str, int], int]
    seconds: float
    num_links: int
    decisions: list[LinkDecision] = field(default_factory=list)
    manager: GlobalIdentityManager | None = None
    fps: float = 1.0
    embeddings: dict[str, dict[int, NDArray[np.float32] | None]] = field(default_factory=dict)
    """view -> frame -> ``float32[M,D]`` embedding of each reported track's detection (or None)."""

    def final_at(self, view: str, local_id: int, frame: int) -> int:
        """Final global id of a view's local track at ``frame``."""
        if self.manager is None:
            return self.final[(view, local_id)]
        gid = self.manager.global_id_at(view, local_id, (frame - 1) / self.fps)
        assert gid is not None
        return gid


def run_mode(
    vs: VirtualSequence,
    embeddings: Mapping[str, Mapping[int, NDArray[np.float32]]],
    mode: str,
    config: MultiCamConfig,
    tracker_config: str = "default",
) -> ModeRun:
    """Run :class:`MultiCameraTracker` over the views (left to right each frame).

    ``mode``: ``"full"`` uses ``config``; ``"appearance_only"`` uses it with ``time_gating=False``;
    ``"no_link"`` ignores the manager: global id = (view index, local id).

    The detections carry the cached embeddings of every box; a camera's :class:`~tracker.Tracker` uses
    given embeddings as they are (its policy for detections that come with embeddings, e.g. from a JDE
    detector). ``run`` / ``bench`` instead give the tracker an embedder, which it applies to detections
    with ``score >= association.high_score`` only; the harness does not reproduce that (it would need
    the frames in the trackers), so its figures can differ slightly from ``bench`` on an exported cut.
    """
    if mode not in ("full", "no_link", "appearance_only"):
        raise ValueError(f"mode must be 'full', 'no_link' or 'appearance_only', got {mode!r}")
    cfg = replace(config, time_gating=False) if mode == "appearance_only" else config
    names = [v.name for v in vs.views]
    mct = MultiCameraTracker(names, cfg, tracker_config=tracker_config, frame_rate=vs.fps)
    records: dict[str, dict[int, Any]] = {n: {} for n in names}
    track_emb: dict[str, dict[int, NDArray[np.float32] | None]] = {}
    start = time.perf_counter()
    for t in vs.frames:
        ts = (t - 1) / vs.fps
        for n in names:
            boxes, scores = vs.dets[n][t]
            emb = embeddings[n][t]
            dets = Detections(boxes, scores, embeddings=emb if len(boxes) else None)
            out = mct.update(n, ts, dets)
            records[n][t] = (out.local_ids.copy(), out.ids.copy(), out.boxes.copy(), out.scores.copy())
            track_emb.setdefault(n, {})[t] = out.embeddings
    mct.flush()
    seconds = time.perf_counter() - start
    if mode == "no_link":
        final = {(c, lid): names.index(c) * 100000 + lid for (c, lid) in mct.mapping()}
        links = 0
        for n in names:  # emitted ids = final ids: nothing is provisional without linking
            for t, (lids, _, boxes, scores) in records[n].items():
                gids = np.array([final[(n, int(i))] for i in lids], np.int64)
                records[n][t] = (lids, gids, boxes, scores)
    else:
        final = mct.mapping()
        links = sum(d.linked_from is not None for d in mct.manager.decisions)
    return ModeRun(
        records,
        final,
        seconds,
        links,
        mct.manager.decisions,
        None if mode == "no_link" else mct.manager,
        vs.fps,
        track_emb,
    )


def _results(run: ModeRun, view: str, offset: int, emitted: bool) -> dict[int, ResultFrame]:
    out: dict[int, ResultFrame] = {}
    for t, (lids, gids, boxes, scores) in run.records[view].items():
        if not len(lids):
            continue
        ids = gids if emitted else np.array([run.final_at(view, int(i), t) for i in lids], np.int64)
        out[t + offset] = ResultFrame(ids, boxes, scores)
    return out


def _all_final(run: ModeRun) -> dict[str, set[int]]:
    return {
        v: {run.final_at(v, int(i), t) for t, (lids, *_rest) in recs.items() for i in lids}
        for v, recs in run.records.items()
    }


@dataclass
class ModeResult:
    """Scores of one mode (rates are fractions)."""

    mode: str
    handoff_accuracy: float
    handoffs_correct: int
    handoffs_evaluable: int
    handoffs_total: int
    idf1_cross: float
    idf1_cross_emitted: float
    mota_cross: float
    per_view: dict[str, dict[str, float]]
    num_global_ids: int
    num_links: int
    seconds: float
    concurrent_conflicts: int = 0
    """Rows whose FINAL global id is also in another view at the same time (must be 0)."""
    concurrent_conflicts_emitted: int = 0
    """The same for the ids as emitted online (provisional ones included)."""


def evaluate_mode(
    vs: VirtualSequence, run: ModeRun, mode: str, transitions: list[HandoffTransition] | None = None
) -> ModeResult:
    """Score one :func:`run_mode` output with :func:`tracker.eval.multicam.score_multicam`: cross-camera
    IDF1/MOTA, per-view MOTA/IDF1, handoff accuracy and concurrent-id conflicts, on the final ids (and
    cross IDF1 / conflicts on the emitted ids). ``transitions`` is accepted for compatibility; the
    scorer finds the true transitions itself."""
    names = [v.name for v in vs.views]
    truth = [CameraTruth(n, vs.gt[n], 0.0, vs.fps) for n in names]
    final = score_multicam(truth, {n: MotResults(_results(run, n, 0, emitted=False)) for n in names})
    emitted = score_multicam(truth, {n: MotResults(_results(run, n, 0, emitted=True)) for n in names})
    return ModeResult(
        mode=mode,
        handoff_accuracy=final.handoff_accuracy,
        handoffs_correct=final.handoffs_correct,
        handoffs_evaluable=final.handoffs_evaluable,
        handoffs_total=final.handoffs_total,
        idf1_cross=final.idf1_cross,
        idf1_cross_emitted=emitted.idf1_cross,
        mota_cross=final.mota_cross,
        per_view=final.per_camera,
        num_global_ids=len({int(i) for f in _all_final(run).values() for i in f}),
        num_links=run.num_links,
        seconds=run.seconds,
        concurrent_conflicts=final.concurrent_conflicts,
        concurrent_conflicts_emitted=emitted.concurrent_conflicts,
    )


@dataclass(frozen=True)
class SearchScore:
    """Person search from one view into another (rates are fractions)."""

    query_view: str
    gallery_view: str
    queries: int
    gallery_tracks: int
    rank1: float
    mean_ap: float


def person_search_eval(vs: VirtualSequence, run: ModeRun, embedder: Any) -> list[SearchScore]:
    """Person search on the views, scored against ground truth.

    Gallery of a view: its tracks in ``run`` (one per final global id in that view: per-camera tracks
    cut where the identity manager split them), each summarised by the score- and size-weighted mean
    of its detections' embeddings
    (:func:`tracker.reid.gallery.gallery_from_tracks`); a track's identity is the ground-truth
    person it is matched to (IoU >= 0.5) in most of its frames. Query: for every person seen in the
    query view who has at least one track in the gallery view, the crop of their LARGEST ground-truth
    box in the query view, embedded by ``embedder``. Rank-1: the nearest gallery track is that person;
    AP over the ranked gallery tracks, relevant = the person's tracks. Both directions.
    """
    from collections import Counter

    import cv2

    from tracker.reid.gallery import average_precision, gallery_from_tracks, search

    names = [v.name for v in vs.views]
    galleries = {}
    person_of: dict[str, dict[int, int]] = {}
    for n in names:
        rows = []
        votes: dict[int, Counter[int]] = {}
        for t, (lids, _gids, boxes, scores) in run.records[n].items():
            e = run.embeddings.get(n, {}).get(t)
            tids = np.array([run.final_at(n, int(i), t) for i in lids], np.int64)
            for i, tid in enumerate(tids.tolist()):
                if e is not None and np.any(e[i]):
                    rows.append((t, tid, boxes[i], float(scores[i]), e[i]))
            for pid, tid in match_frame(vs.gt[n][t], ResultFrame(tids, boxes, scores)).items():
                votes.setdefault(tid, Counter())[pid] += 1
        galleries[n] = gallery_from_tracks(n, rows)
        person_of[n] = {lid: c.most_common(1)[0][0] for lid, c in votes.items()}
    out = []
    for qv, gv in itertools.permutations(names, 2):
        largest: dict[int, tuple[float, int, NDArray[np.float32]]] = {}
        for t, g in vs.gt[qv].frames.items():
            for pid, box, ok in zip(g.ids.tolist(), g.boxes, g.consider.tolist(), strict=True):
                area = float((box[2] - box[0]) * (box[3] - box[1]))
                if ok and area > largest.get(pid, (-1.0, 0, box))[0]:
                    largest[pid] = (area, t, box)
        gallery = galleries[gv]
        track_person = np.array([person_of[gv].get(int(i), -1) for i in gallery.track_ids])
        r1, aps = [], []
        for pid, (_a, t, box) in sorted(largest.items()):
            if not (track_person == pid).any():
                continue
            img = cv2.imread(str(vs.image_paths[t]), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot read {vs.image_paths[t]}")
            q = np.asarray(embedder.embed(img, box[None].astype(np.float32)), np.float32)[0]
            hits = search(q, gallery)
            rel = np.array([person_of[gv].get(h.track_id, -1) == pid for h in hits])
            r1.append(float(rel[0]))
            aps.append(average_precision(rel))
        out.append(
            SearchScore(
                qv,
                gv,
                len(r1),
                len(gallery.track_ids),
                float(np.mean(r1)) if r1 else math.nan,
                float(np.mean(aps)) if aps else math.nan,
            )
        )
    return out


def format_table(results: Sequence[ModeResult]) -> str:
    """A plain-text table of the modes (percentages)."""
    names = list(results[0].per_view) if results else []
    head = f"{'mode':<16} {'handoff acc':>14} {'IDF1 cross':>10} {'IDF1 emit':>9} {'MOTA cross':>10}"
    for n in names:
        head += f" {'MOTA ' + n:>11} {'IDF1 ' + n:>11}"
    head += f" {'ids':>5} {'links':>5} {'conflicts':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        acc = f"{100 * r.handoff_accuracy:5.1f} ({r.handoffs_correct}/{r.handoffs_evaluable})"
        line = f"{r.mode:<16} {acc:>14} {100 * r.idf1_cross:10.1f} {100 * r.idf1_cross_emitted:9.1f} {100 * r.mota_cross:10.1f}"
        for n in names:
            line += f" {100 * r.per_view[n]['mota']:11.1f} {100 * r.per_view[n]['idf1']:11.1f}"
        line += f" {r.num_global_ids:5d} {r.num_links:5d} {r.concurrent_conflicts:9d}"
        lines.append(line)
    return "\n".join(lines)


def _linking_defaults() -> dict[str, Any]:
    """The linking settings of the harness besides the transition graph (also written by --export)."""
    return {
        "time_window_s": 10.0,
        "max_appearance_distance": 0.3,
        "min_tracklet_frames": 3,
        "restrict_to_transitions": True,
    }


def travel_floor(a: View, b: View) -> float:
    """The shortest travel time between neighbouring views ``a`` (left) and ``b``: 0.5 s across a
    blind strip, 0 when they touch."""
    return 0.5 if b.x0 > a.x1 else 0.0


def harness_config(views: Sequence[View] = DEFAULT_VIEWS, zone_width: float = 100.0) -> MultiCamConfig:
    """The linking settings the harness measures (``full`` mode): a transition graph between
    neighbouring views (travel 0.5-8 s, 0-8 s between views that touch), with exit/entry zones ``zone_width`` px wide along the shared
    border of the views (the blind strip), and :func:`_linking_defaults`."""
    edges = []
    for a, b in itertools.pairwise(views):  # a is left of b
        za = (a.x1 - zone_width, -1e9, a.x1, 1e9)
        zb = (b.x0, -1e9, b.x0 + zone_width, 1e9)
        floor = travel_floor(a, b)
        edges.append(Transition(a.name, b.name, floor, 8.0, from_zone=za, to_zone=zb))
        edges.append(Transition(b.name, a.name, floor, 8.0, from_zone=zb, to_zone=za))
    return MultiCamConfig(**_linking_defaults(), transitions=tuple(edges))


DEFAULT_HARNESS_CONFIG = harness_config()
"""The linking settings the harness measures on the default cut (``full`` mode), see :func:`harness_config`."""


def default_cache_path(
    model: str | Path, views: Sequence[View], root: str | Path = "out/multicam_cache"
) -> Path:
    """Where the embeddings of ``model`` on a cut are cached: ``<root>/<model stem>-<cut>.npz``."""
    cut = format_views(views).replace("=", "_").replace(":", "-").replace(",", "__")
    return Path(root) / f"{Path(model).stem}-{cut}.npz"


_CACHE_MODEL_KEY = "__model_sha256__"
"""Entry of an embedding cache that holds the SHA-256 of the model file that computed it."""


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cached_embeddings(
    vs: VirtualSequence, embedder: Any, cache: str | Path | None, model: str | Path | None = None
) -> dict[str, dict[int, NDArray[np.float32]]]:
    """Embeddings of every view's detections, loaded from ``cache`` when it holds this cut (same box
    counts per view and frame) and was computed by the same ``model`` file (same SHA-256: a model
    retrained under the same name must not reuse its predecessor's embeddings), else computed and
    saved there with the model's hash."""
    digest = file_sha256(model) if model is not None else ""
    if cache and Path(cache).is_file():
        try:
            with np.load(cache) as z:
                same_model = _CACHE_MODEL_KEY in z.files and str(z[_CACHE_MODEL_KEY]) == digest
                try:
                    emb = {v.name: {t: z[f"{v.name}/{t}"] for t in vs.frames} for v in vs.views}
                except KeyError:
                    emb = {}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # unreadable: recompute
            print(f"  cache {cache} cannot be read ({e}); recomputing", file=sys.stderr)
            same_model, emb = True, {}
        if not same_model:
            print(
                f"  cache {cache} was made by another model file (or holds no hash); recomputing",
                file=sys.stderr,
            )
        elif emb and all(
            len(emb[v.name][t]) == len(vs.dets[v.name][t][0]) for v in vs.views for t in vs.frames
        ):
            return emb
        else:
            print(f"  cache {cache} does not match this cut; recomputing", file=sys.stderr)
    emb = compute_embeddings(vs, embedder)
    if cache:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {f"{n}/{t}": e for n, d in emb.items() for t, e in d.items()}
        arrays[_CACHE_MODEL_KEY] = np.array(digest)
        with atomic_write(cache) as f:  # whole or not at all: a run stopped mid-write leaves no bad cache
            np.savez(f, **arrays)
    return emb


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: cut the views, embed once (cached), run the modes, print the table, write JSON."""
    p = argparse.ArgumentParser(
        prog="python benchmarks/multicam_harness.py", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument(
        "--data", required=True, help="sequence folder, e.g. ../shared/data/MOT15/train/PETS09-S2L1"
    )
    p.add_argument("--reid", help="ReID ONNX model; required unless --export")
    p.add_argument(
        "--views",
        default=format_views(DEFAULT_VIEWS),
        help="the cut: name=x0:x1,... (two or more views, left to right, full-frame pixels; "
        "default %(default)s)",
    )
    p.add_argument(
        "--zone-width", type=float, default=100.0, help="exit/entry zone width (px) along each blind strip"
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        help="write the cut as a multi-camera dataset (cameras.yaml + one MOTChallenge sequence per "
        "view) for `python -m tracker bench DIR` / `run DIR/cameras.yaml`, and exit",
    )
    p.add_argument("--config", default=None, help="multi-camera YAML config (default: the harness settings)")
    p.add_argument("--tracker-config", default="default", help="per-camera tracker preset or YAML")
    p.add_argument("--json", default="virtual_multicam.json", help="where to write the results")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads")
    p.add_argument(
        "--cache",
        default=None,
        help="embedding cache .npz (default: out/multicam_cache/<model>-<cut>.npz; 'none' disables it)",
    )
    p.add_argument(
        "--modes",
        default="full,no_link,appearance_only",
        help="comma-separated modes to run (default %(default)s)",
    )
    p.add_argument("--no-search", action="store_true", help="skip the person-search scores")

    args = p.parse_args(argv)

    from tracker.multicam import load_multicam_config
    from tracker.reid import OnnxEmbedder

    info = read_seqinfo(args.data)
    try:
        views = parse_views(args.views, float(info.im_width))
    except ValueError as exc:
        p.error(str(exc))
    if args.export:
        path = export_virtual_views(args.data, args.export, views, args.zone_width)
        print(f"wrote {path}")
        return 0
    if not args.reid:
        p.error("--reid is required (unless --export)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    cfg = harness_config(views, args.zone_width) if args.config is None else load_multicam_config(args.config)
    t0 = time.perf_counter()
    vs = build_virtual_sequence(args.data, views)
    transitions = true_transitions(vs)
    embedder = OnnxEmbedder(args.reid, threads=args.threads)
    n_boxes = sum(len(b) for v in vs.views for b, _ in vs.dets[v.name].values())
    print(
        f"{len(vs.frames)} frames, {n_boxes} detections in views {format_views(vs.views)}, "
        f"{len(transitions)} true cross-view transitions",
        file=sys.stderr,
    )
    cache = None if args.cache == "none" else (args.cache or default_cache_path(args.reid, views))
    t1 = time.perf_counter()
    emb = _cached_embeddings(vs, embedder, cache, model=args.reid)
    embed_s = time.perf_counter() - t1
    results = []
    runs = {}
    for mode in modes:
        runs[mode] = run_mode(vs, emb, mode, cfg, args.tracker_config)
        results.append(evaluate_mode(vs, runs[mode], mode, transitions))
    print(format_table(results))
    search_scores = []
    if not args.no_search and "full" in runs:
        search_scores = person_search_eval(vs, runs["full"], embedder)
        print(
            "person search (query: largest gt crop of each person in one view; gallery: the other view's tracks)"
        )
        for sc in search_scores:
            print(
                f"  {sc.query_view} -> {sc.gallery_view}: {sc.queries} queries, {sc.gallery_tracks} tracks, "
                f"rank-1 {100 * sc.rank1:.1f}, mAP {100 * sc.mean_ap:.1f}"
            )
    full = runs.get("full")
    payload = {
        "sequence": str(args.data),
        "views": [asdict(v) for v in vs.views],
        "cut": format_views(vs.views),
        "reid": str(args.reid),
        "config": asdict(cfg),
        "num_frames": len(vs.frames),
        "num_detections": n_boxes,
        "num_true_transitions": len(transitions),
        "embed_seconds": embed_s,
        "total_seconds": time.perf_counter() - t0,
        "modes": [asdict(r) for r in results],
        "person_search": [asdict(sc) for sc in search_scores],
        "linking": full.manager.summary() if full is not None and full.manager is not None else None,
    }
    write_text_atomic(args.json, json.dumps(payload, indent=2, default=float))  # never half a file
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


def _shift(boxes: NDArray[np.float32], x0: float) -> NDArray[np.float32]:
    b = np.asarray(boxes, np.float32).copy()
    b[:, [0, 2]] -= x0
    return b


def export_virtual_views(
    seq_dir: str | Path,
    out_dir: str | Path,
    views: Sequence[View] | None = None,
    zone_width: float = 100.0,
) -> Path:
    """Write a multi-camera layout from one sequence cut into vertical views.

    Per view: ``img1/`` (the frames cropped to the view, JPEG), ``det/det.txt`` (public detections
    whose centre is in the view, clipped, scores normalised to [0,1] as
    :func:`build_virtual_sequence` does), ``gt/gt.txt`` (likewise, ids kept:
    the same person has the same id in every view) and ``seqinfo.ini``, all in VIEW coordinates. The
    ``cameras.yaml`` links neighbouring views both ways (travel 0.5-8 s, exit/entry zones
    ``zone_width`` px wide along the blind strip), as the harness's ``full`` mode.

    Returns:
        The path of ``cameras.yaml``.
    """
    import cv2
    import yaml

    views = tuple(DEFAULT_VIEWS if views is None else views)
    vs = build_virtual_sequence(seq_dir, views)
    info = read_seqinfo(seq_dir)
    out = Path(out_dir)
    cameras = []
    for v in views:
        root = out / v.name
        (root / "img1").mkdir(parents=True, exist_ok=True)
        (root / "det").mkdir(exist_ok=True)
        (root / "gt").mkdir(exist_ok=True)
        x0, x1 = round(v.x0), round(v.x1)
        for t in vs.frames:
            img = cv2.imread(str(vs.image_paths[t]), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"cannot read {vs.image_paths[t]}")
            cv2.imwrite(str(root / "img1" / f"{t:06d}.jpg"), img[:, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        det_lines, gt_lines = [], []
        for t in vs.frames:
            boxes, scores = vs.dets[v.name][t]
            for b, s in zip(_shift(boxes, v.x0), scores, strict=True):
                det_lines.append(
                    f"{t},-1,{b[0]:.2f},{b[1]:.2f},{b[2] - b[0]:.2f},{b[3] - b[1]:.2f},{float(s):.5f},-1,-1,-1"
                )
            g = vs.gt[v.name].frames.get(t)
            if g is not None:
                for pid, b, c in zip(g.ids.tolist(), _shift(g.boxes, v.x0), g.consider.tolist(), strict=True):
                    gt_lines.append(
                        f"{t},{pid},{b[0]:.2f},{b[1]:.2f},{b[2] - b[0]:.2f},{b[3] - b[1]:.2f},{int(c)},-1,-1,-1"
                    )
        (root / "det" / "det.txt").write_text("\n".join(det_lines) + "\n", encoding="utf-8")
        (root / "gt" / "gt.txt").write_text("\n".join(gt_lines) + "\n", encoding="utf-8")
        (root / "seqinfo.ini").write_text(
            "[Sequence]\n"
            f"name={info.name}-{v.name}\nimDir=img1\nframeRate={info.frame_rate:g}\n"
            f"seqLength={len(vs.frames)}\nimWidth={x1 - x0}\nimHeight={info.im_height}\nimExt=.jpg\n",
            encoding="utf-8",
        )
        cameras.append({"id": v.name, "source": f"{v.name}/img1", "dets": f"{v.name}/det/det.txt"})
    transitions = []
    for a, b in itertools.pairwise(views):  # a is left of b; zones in each view's own coordinates
        # views that touch leave no strip to walk through: nobody takes 0.5 s to cross (a cut
        # a=0:384,b=384:768 handed off 18.8 % with 0.5 s, 71.9 % with 0)
        min_t = travel_floor(a, b)
        wa = a.x1 - a.x0
        za = [wa - zone_width, -1e9, wa, 1e9]
        zb = [0.0, -1e9, zone_width, 1e9]
        transitions.append(
            {
                "from_camera": a.name,
                "to_camera": b.name,
                "min_travel_s": min_t,
                "max_travel_s": 8.0,
                "from_zone": list(za),
                "to_zone": list(zb),
            }
        )
        transitions.append(
            {
                "from_camera": b.name,
                "to_camera": a.name,
                "min_travel_s": min_t,
                "max_travel_s": 8.0,
                "from_zone": list(zb),
                "to_zone": list(za),
            }
        )
    doc = {"cameras": cameras, "linking": {**_linking_defaults(), "transitions": transitions}}
    path = out / "cameras.yaml"
    path.write_text(
        f"# {Path(seq_dir).name} cut into views {[v.name for v in views]} "
        "(benchmarks/multicam_harness.py --export)\n" + yaml.safe_dump(doc, sort_keys=False),
        encoding="utf-8",
    )
    return path


if __name__ == "__main__":
    raise SystemExit(main())
