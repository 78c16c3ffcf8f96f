"""``python -m tracker search --query person.jpg TARGET...``: person search over tracked videos.

TARGETs are galleries (``<camera>.tracks.npz`` written by ``run``, or folders holding them) or
videos / image folders, which are first tracked as the cameras of one multi-camera run (the
galleries land in ``OUT/gallery``). The query image (one person, cropped) is embedded with the same
ReID model; tracks are ranked by cosine distance between the query and each track's appearance
summary (:func:`tracker.reid.gallery.search`).

Writes ``OUT/search.json`` (every shown hit with its trajectory: frame and xyxy box per observation)
and ``OUT/search_top.png`` (the query and each hit's middle-frame crop), and prints a table.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ..io.atomic import write_text_atomic
from ..pipeline import model_name, output_folder
from ..reid.gallery import Gallery, SearchHit, draw_hits, search
from ..types import Embedder

__all__ = ["collect_galleries", "embed_query", "format_hits", "load_frames", "run_search"]

log = logging.getLogger("tracker")


def embed_query(embedder: Embedder, image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Embedding ``float32[D]`` of a whole query image (``uint8[H,W,3]`` BGR, one person)."""
    h, w = image.shape[:2]
    box = np.array([[0.0, 0.0, float(w), float(h)]], np.float32)
    out = np.asarray(embedder.embed(image, box), np.float32)
    if out.ndim != 2 or len(out) != 1:
        raise ValueError(f"embedder returned shape {out.shape} for one query image")
    return out[0]


def read_image(path: str | Path) -> NDArray[np.uint8]:
    """Read an image file as ``uint8[H,W,3]`` BGR (``FileNotFoundError`` / ``ValueError`` naming it)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"query image not found: {p}")
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{p}: cannot decode the image")
    return np.asarray(img, np.uint8)


def collect_galleries(targets: Sequence[str]) -> tuple[list[Gallery], list[str]]:
    """Split TARGETs into loaded galleries and sources still to be tracked.

    A ``.npz`` file is a gallery; a folder holding ``*.tracks.npz`` files gives all of them; anything
    else (video, image folder, glob, URL) is a source.
    """
    galleries: list[Gallery] = []
    sources: list[str] = []
    for t in targets:
        p = Path(t)
        if p.suffix == ".npz":
            if not p.is_file():
                raise FileNotFoundError(f"gallery not found: {p}")
            galleries.append(Gallery.load(p))
        elif p.is_dir() and any(p.glob("*.tracks.npz")):
            galleries += [Gallery.load(f) for f in sorted(p.glob("*.tracks.npz"))]
        elif p.is_dir() and not _has_images(p):
            if any(p.glob("*.txt")) or any(p.glob("*.jsonl")):
                raise ValueError(
                    f"{p}: a results folder without *.tracks.npz galleries (they are written when `run` "
                    "uses a ReID model)"
                )
            raise ValueError(
                f"{p}: holds neither *.tracks.npz galleries (a `run` results folder) nor images to track"
            )
        else:
            sources.append(t)
    return galleries, sources


def _check_distinct_cameras(galleries: Sequence[Gallery]) -> None:
    """Hits name their camera only: two galleries of one camera name (the same gallery given twice, or
    two runs of videos with one name) gave duplicate hits or, from different videos, pictures cropped
    from the wrong one. Raises ``ValueError`` naming both."""
    seen: dict[str, str] = {}
    for g in galleries:
        for cam in sorted({str(c) for c in g.cameras.tolist()}):
            if cam in seen:
                raise ValueError(
                    f"two galleries hold camera {cam!r} (sources {seen[cam]!r} and {g.source!r}): a hit "
                    "could not say which; search them one at a time, or give each run's galleries once"
                )
            seen[cam] = g.source


def _has_images(folder: Path) -> bool:
    exts = {".jpg", ".jpeg", ".png", ".bmp"}
    return any(f.suffix.lower() in exts for f in folder.iterdir())


def load_frames(source: str, needed: Iterable[int]) -> dict[int, NDArray[np.uint8]]:
    """Frames ``{number: uint8[H,W,3]}`` (1-based numbers) of ``source``, read in one pass."""
    from ..io.sources import open_source

    want = set(needed)
    out: dict[int, NDArray[np.uint8]] = {}
    if not want or not source:
        return out
    last = max(want)
    with open_source(source) as src:
        for index, frame in src:
            if index in want:
                out[index] = frame
            if index >= last:
                break
    return out


def format_hits(hits: Sequence[SearchHit]) -> str:
    """Table: rank, camera, track, distance, frame span, trajectory (observations, start -> end centre)."""
    lines = [f"{'rank':>4} {'camera':<14} {'track':>6} {'dist':>6} {'frames':>13}  trajectory"]
    for h in hits:
        c0 = 0.5 * (h.boxes[0, :2] + h.boxes[0, 2:])
        c1 = 0.5 * (h.boxes[-1, :2] + h.boxes[-1, 2:])
        lines.append(
            f"{h.rank:>4} {h.camera:<14} {h.track_id:>6} {h.distance:6.3f} "
            f"{f'{h.first_frame}-{h.last_frame}':>13}  {len(h.frames)} boxes, "
            f"({c0[0]:.0f},{c0[1]:.0f}) -> ({c1[0]:.0f},{c1[1]:.0f})"
        )
    return "\n".join(lines)


def run_search(args: argparse.Namespace) -> int:
    """The ``search`` command (see the module docstring and ``--help``)."""
    query = read_image(args.query)
    if args.reid is not None:
        from ..reid import OnnxEmbedder

        embedder: Embedder = OnnxEmbedder(args.reid)
    else:
        from ..assets import default_embedder

        embedder = default_embedder()
    galleries, sources = collect_galleries(args.targets)
    out = output_folder(args.out)  # (after the targets are checked: a refused search leaves no folder)
    if sources:
        from ..config import load_config
        from ..multicam.setup import setup_from_sources
        from .multicam_run import run_cameras

        if args.detector is not None:
            from ..detect import OnnxDetector

            detector: object = OnnxDetector(args.detector, family=args.family)
        else:
            from ..assets import default_detector

            detector = default_detector()
        summary = run_cameras(
            setup_from_sources(sources),
            detector,  # type: ignore[arg-type]
            tracker_config=load_config(args.config),
            embedder=embedder,
            out_dir=out / "gallery",
            write_video=False,
            progress=not args.no_progress,
            max_frames=args.max_frames,
        )
        galleries += [Gallery.load(p) for k, p in summary.outputs.items() if k.endswith(".tracks.npz")]
    if not galleries:
        raise ValueError("no tracks to search: the targets gave no gallery")
    _check_distinct_cameras(galleries)
    mine = model_name(embedder)
    for g in galleries:
        if g.model and g.model != mine:  # a ranking across two models' spaces means nothing
            raise ValueError(
                f"gallery {g.source or g.cameras[:1].tolist()} was embedded with {g.model}, the query would be "
                f"with {mine}: give the gallery's model with --reid (or track the videos again)"
            )
    q = embed_query(embedder, query)
    hits = search(q, galleries, top_k=args.top)
    print(format_hits(hits))
    payload = {
        "query": str(args.query),
        "model": mine,
        "hits": [
            {
                "rank": h.rank,
                "camera": h.camera,
                "track_id": h.track_id,
                "distance": round(h.distance, 5),
                "first_frame": h.first_frame,
                "last_frame": h.last_frame,
                "trajectory": [
                    [int(f), *(round(float(v), 1) for v in b)] for f, b in zip(h.frames, h.boxes, strict=True)
                ],
            }
            for h in hits
        ],
    }
    write_text_atomic(out / "search.json", json.dumps(payload, indent=1) + "\n")
    sources_by_cam = {str(c): g.source for g in galleries for c in set(g.cameras.tolist())}
    needed: dict[str, set[int]] = {}
    for h in hits:
        needed.setdefault(h.camera, set()).add(int(h.frames[len(h.frames) // 2]))
    frames: dict[str, dict[int, NDArray[np.uint8]]] = {}
    for cam, want in needed.items():
        try:
            frames[cam] = load_frames(sources_by_cam.get(cam, ""), want)
        except (OSError, ValueError) as exc:
            log.warning("camera %s: cannot read frames for the picture (%s)", cam, exc)
            frames[cam] = {}
    picture = draw_hits(query, hits, lambda cam, f: frames.get(cam, {}).get(f), out / "search_top.png")
    print(f"wrote {out / 'search.json'} and {picture}")
    return 0
