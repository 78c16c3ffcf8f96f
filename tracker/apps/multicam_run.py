"""``python -m tracker run camA.mp4 camB.mp4 ...`` or ``run cameras.yaml``: several cameras, global ids.

One detector (shared), one embedder (shared), one :class:`~tracker.multicam.MultiCameraTracker` (one
tracker per camera plus the cross-camera identity manager). Frames are taken from the cameras in the
order of their timestamps on a common clock: camera ``c``'s frame ``i`` (1-based) is at
``start_s[c] + (i - 1) / fps[c]`` seconds (files are synchronised by their start offsets; the default
offset is 0, i.e. all files start together).

Outputs in ``OUT/``, per camera ``c`` (files named after the camera id):

* ``<c>.txt``: MOTChallenge results whose ids are the FINAL global ids (the same person has the same
  id in every camera's file);
* ``<c>.jsonl``: one JSON object per frame, final global ids;
* ``<c>.mp4``: the annotated video (written online: an id shown while provisional may still change
  once; provisional ids are drawn with a trailing ``?``), unless ``write_video=False``;
* ``<c>.tracks.npz``: the per-track appearance gallery for ``python -m tracker search``
  (:class:`~tracker.multicam.search.Gallery`, track id = global id);

and ``global_ids.json`` (every ``(camera, local id, segment start) -> global id`` and each link
decision) and ``multicam_summary.json``.

Camera list YAML (unknown keys are errors; relative paths are relative to the YAML file)::

    cameras:
      - id: left               # camera id (defaults to the source's name)
        source: left.mp4       # anything `run` accepts
        start_s: 0.0           # timestamp of the first frame on the common clock
        fps: null              # override the source's frame rate
        dets: null             # optional MOTChallenge det.txt: public detections instead of the detector
      - id: right
        source: right.mp4
    linking:                   # tracker.multicam.MultiCamConfig fields (transitions, time windows, ...)
      time_window_s: 10
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from ..config import TrackerConfig, load_config
from ..io.mot import ResultsWriter
from ..io.sources import DEFAULT_FPS, FrameSource, open_source
from ..io.writers import AnnotatedVideoWriter, JsonlWriter
from ..multicam.multi_tracker import GlobalTracks, MultiCameraTracker
from ..multicam.setup import CameraSetup, CameraSpec, load_camera_setup, setup_from_sources
from ..reid.gallery import GalleryBuilder
from ..types import Detections, Detector, Tracks
from ..viz.draw import TrailBuffer, draw_tracks

__all__ = [
    "CameraSetup",
    "CameraSpec",
    "MultiRunSummary",
    "load_camera_setup",
    "run_cameras",
    "setup_from_sources",
]

log = logging.getLogger("tracker")


@dataclass
class CameraStats:
    """Per-camera counts of a multi-camera run."""

    source: str
    frames: int = 0
    detections: int = 0
    fps: float = DEFAULT_FPS
    size: tuple[int, int] | None = None
    error: str | None = None
    global_ids: int = 0


@dataclass
class MultiRunSummary:
    """What :func:`run_cameras` did.

    Attributes:
        cameras: camera id -> :class:`CameraStats`.
        global_ids: distinct final global ids over all cameras.
        links: cross-camera (and re-acquisition) links decided by the identity manager.
        stage_seconds: decode / detect / track (embedding included) / write.
        total_seconds: wall time of the frame loop and the final writes.
        outputs: file paths written.
    """

    cameras: dict[str, CameraStats] = field(default_factory=dict)
    global_ids: int = 0
    links: int = 0
    stage_seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("decode", "detect", "track", "write"), 0.0)
    )
    total_seconds: float = 0.0
    stopped: str = "end"
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.cameras.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "cameras": {
                k: {
                    "source": c.source,
                    "frames": c.frames,
                    "detections": c.detections,
                    "fps": c.fps,
                    "size": list(c.size) if c.size else None,
                    "global_ids": c.global_ids,
                    "error": c.error,
                }
                for k, c in self.cameras.items()
            },
            "global_ids": self.global_ids,
            "links": self.links,
            "frames": self.frames,
            "stopped": self.stopped,
            "total_seconds": round(self.total_seconds, 4),
            "frames_per_second": round(self.frames / self.total_seconds, 2)
            if self.total_seconds > 0
            else None,
            "stages": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "outputs": dict(self.outputs),
        }

    def format(self) -> str:
        lines = [f"{'camera':<16} {'frames':>7} {'dets':>7} {'ids':>5}  source"]
        for k, c in self.cameras.items():
            lines.append(f"{k:<16} {c.frames:>7} {c.detections:>7} {c.global_ids:>5}  {c.source}")
            if c.error:
                lines.append(f"{'':<16} error: {c.error}")
        fps = self.frames / self.total_seconds if self.total_seconds > 0 else 0.0
        lines.append(
            f"global ids {self.global_ids}  links {self.links}  frames {self.frames} in "
            f"{self.total_seconds:.1f} s ({fps:.1f} frames/s over all cameras)  stopped: {self.stopped}"
        )
        lines.append("stages   " + "  ".join(f"{k} {v:.2f} s" for k, v in self.stage_seconds.items()))
        for key, p in self.outputs.items():
            lines.append(f"{key:<8} {p}")
        return "\n".join(lines)


@dataclass
class _Cam:
    spec: CameraSpec
    src: FrameSource
    frames: Iterator[tuple[int, NDArray[np.uint8]]]
    fps: float
    detector: Detector
    video: AnnotatedVideoWriter | None
    trails: TrailBuffer | None
    records: list[tuple[int, float, GlobalTracks]] = field(default_factory=list)


def run_cameras(
    setup: CameraSetup | Sequence[str] | str | Path,
    detector: Detector | None,
    tracker_config: str | Path | TrackerConfig = "default",
    embedder: object | None = None,
    out_dir: str | Path = "out/run",
    write_video: bool = True,
    progress: bool = True,
    max_frames: int | None = None,
) -> MultiRunSummary:
    """Track several cameras with global identities and write per-camera outputs.

    Args:
        setup: a :class:`CameraSetup`, a camera list YAML path, or a list of sources.
        detector: shared detector (``detect(frame uint8[H,W,3] BGR, frame_index) -> Detections``);
            may be ``None`` only if every camera has ``dets``.
        tracker_config: per-camera tracker preset name, YAML path or config.
        embedder: appearance model (``embed(image, boxes)``); without one nothing is linked across
            cameras (a warning says so).
        out_dir: output folder (created).
        write_video: write ``<camera>.mp4`` annotated videos.
        progress: tqdm progress bar (over all cameras' frames when their counts are known).
        max_frames: stop each camera after this many frames.

    Returns:
        :class:`MultiRunSummary` (also written to ``multicam_summary.json``).

    Raises:
        FileNotFoundError, ValueError: a source or a ``dets`` file cannot be opened, or a bad setup.
    """
    if isinstance(setup, (str, Path)):
        setup = load_camera_setup(setup)
    elif not isinstance(setup, CameraSetup):
        setup = setup_from_sources(list(setup))
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    cfg = tracker_config if isinstance(tracker_config, TrackerConfig) else load_config(tracker_config)
    if embedder is None:
        log.warning("no embedder: tracks are not linked across cameras (each keeps its own global id)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = MultiRunSummary()
    stages = summary.stage_seconds
    clock = time.perf_counter
    with ExitStack() as stack:
        cams: list[_Cam] = []
        for spec in setup.cameras:
            src = stack.enter_context(open_source(spec.source, fps=spec.fps))
            fps = src.fps if src.fps is not None else DEFAULT_FPS
            det: Detector
            if spec.dets is not None:
                from ..detect import MotFileDetector

                det = MotFileDetector(spec.dets)
            elif detector is None:
                raise ValueError(f"camera {spec.id!r}: no detector and no 'dets' file")
            else:
                det = detector
            video = (
                stack.enter_context(AnnotatedVideoWriter(out / f"{spec.id}.mp4", fps, src.size))
                if write_video
                else None
            )
            cams.append(
                _Cam(spec, src, iter(src), fps, det, video, TrailBuffer() if video is not None else None)
            )
            summary.cameras[spec.id] = CameraStats(spec.source, fps=fps, size=src.size)
        mct = MultiCameraTracker(
            [c.spec.id for c in cams],
            setup.linking,
            tracker_config=cfg,
            frame_rate={c.spec.id: c.fps for c in cams},
            embedder=embedder,
        )
        counts = [c.src.frame_count for c in cams]
        total = None
        if all(n is not None for n in counts):
            total = sum(min(n, max_frames) if max_frames else n for n in counts if n is not None)
        bar = stack.enter_context(
            tqdm(
                total=total, desc="cameras", unit="frame", file=sys.stderr, disable=not progress, leave=False
            )
        )
        start = clock()
        heap: list[tuple[float, int, int, NDArray[np.uint8]]] = []

        def pull(k: int) -> None:
            cam = cams[k]
            if (
                max_frames is not None
                and summary.cameras[cam.spec.id].frames + sum(1 for h in heap if h[1] == k) >= max_frames
            ):
                return
            t0 = clock()
            item = next(cam.frames, None)
            stages["decode"] += clock() - t0
            if item is not None:
                index, frame = item
                ts = cam.spec.start_s + (index - 1) / cam.fps
                heapq.heappush(heap, (ts, k, index, frame))

        for k in range(len(cams)):
            pull(k)
        try:
            while heap:
                ts, k, index, frame = heapq.heappop(heap)
                cam = cams[k]
                stats = summary.cameras[cam.spec.id]
                t1 = clock()
                dets = cam.detector.detect(frame, index)
                if not isinstance(dets, Detections):
                    raise TypeError(f"{type(cam.detector).__name__}.detect returned {type(dets).__name__}")
                t2 = clock()
                stages["detect"] += t2 - t1
                tracks = mct.update(cam.spec.id, ts, dets, frame)
                t3 = clock()
                stages["track"] += t3 - t2
                cam.records.append((index, ts, tracks))
                if cam.video is not None and cam.trails is not None:
                    cam.trails.update(index, tracks)
                    labels = [
                        f"{g}?" if p else str(g) for g, p in zip(tracks.ids, tracks.provisional, strict=True)
                    ]
                    cam.video.write(draw_tracks(frame, tracks, cam.trails, frame_index=index, labels=labels))
                stages["write"] += clock() - t3
                stats.frames += 1
                stats.detections += len(dets)
                bar.update(1)
                pull(k)
        except KeyboardInterrupt:
            summary.stopped = "interrupted"
            log.warning("interrupted; writing the results so far")
        if max_frames is not None and summary.stopped == "end":
            if any(summary.cameras[c.spec.id].frames >= max_frames for c in cams):
                summary.stopped = "max_frames"
        for c in cams:
            if c.src.error is not None:
                summary.cameras[c.spec.id].error = c.src.error
        t_w = clock()
        mct.flush()
        summary.outputs.update(_write_outputs(out, cams, mct, model_name(embedder)))
        stages["write"] += clock() - t_w
        summary.total_seconds = clock() - start
    all_ids: set[int] = set()
    for c in cams:
        ids = {int(g) for _, ts, tr in c.records for g in _final_ids(mct, c.spec.id, tr, ts)}
        summary.cameras[c.spec.id].global_ids = len(ids)
        all_ids |= ids
    summary.global_ids = len(all_ids)
    summary.links = sum(d.linked_from is not None for d in mct.manager.decisions)
    path = out / "multicam_summary.json"
    summary.outputs["summary"] = str(path)
    path.write_text(json.dumps(summary.as_dict(), indent=2) + "\n", encoding="utf-8")
    return summary


def _final_ids(mct: MultiCameraTracker, camera: str, tracks: GlobalTracks, ts: float) -> NDArray[np.int64]:
    ids = [mct.manager.global_id_at(camera, int(lid), ts) for lid in tracks.local_ids.tolist()]
    return np.array([g if g is not None else -1 for g in ids], np.int64)


def model_name(embedder: object | None) -> str:
    """A name for the embedder's model (its file name when it has one), stored with galleries."""
    if embedder is None:
        return ""
    path = getattr(embedder, "model_path", None)
    return Path(str(path)).name if path else type(embedder).__name__


def _write_outputs(out: Path, cams: list[_Cam], mct: MultiCameraTracker, model: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for c in cams:
        cid = c.spec.id
        results = ResultsWriter()
        gallery = GalleryBuilder()
        with JsonlWriter(out / f"{cid}.jsonl") as jsonl:
            for index, ts, tr in c.records:
                final = _final_ids(mct, cid, tr, ts)
                plain = Tracks(
                    ids=final,
                    boxes=tr.boxes,
                    scores=tr.scores,
                    class_ids=tr.class_ids,
                    states=tr.states,
                    det_index=tr.det_index,
                )
                results.add(index, plain)
                jsonl.write(index, plain)
                if tr.embeddings is not None:
                    for i in np.nonzero(tr.det_index >= 0)[0].tolist():
                        if np.any(tr.embeddings[i]):
                            gallery.add(
                                index, int(final[i]), tr.boxes[i], float(tr.scores[i]), tr.embeddings[i]
                            )
        results.save(out / f"{cid}.txt")
        outputs[f"{cid}.txt"] = str(out / f"{cid}.txt")
        if len(gallery):
            g = gallery.build(cid, source=c.spec.source, model=model)
            outputs[f"{cid}.tracks.npz"] = str(g.save(out / f"{cid}.tracks.npz"))
        if c.video is not None:
            outputs[f"{cid}.mp4"] = str(out / f"{cid}.mp4")
    mapping = [
        {
            "camera": d.camera,
            "local_id": d.local_id,
            "decision_time_s": d.decision_time,
            "global_id": d.global_id,
            "linked_from": list(d.linked_from) if d.linked_from else None,
            "distance": None if math.isnan(d.distance) else round(d.distance, 4),
        }
        for d in mct.manager.decisions
    ]
    (out / "global_ids.json").write_text(
        json.dumps({"decisions": mapping}, indent=1) + "\n", encoding="utf-8"
    )
    outputs["global_ids"] = str(out / "global_ids.json")
    return outputs
