"""``python -m tracker bench``: run the tracker over a MOTChallenge-layout dataset and score it.

For every sequence it reads ``seqinfo.ini`` and the public detections ``det/det.txt``, runs a fresh
:class:`~tracker.Tracker`, writes ``OUT/<sequence>.txt`` (MOTChallenge format) and, where
``gt/gt.txt`` exists, scores the results (MOTA, IDF1, HOTA, ...). Frames from ``img1/`` are given to the
tracker (appearance, camera motion compensation) when the folder holds every frame of the sequence;
otherwise the sequence runs on motion alone and the report says so.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from ..config import TrackerConfig, load_config
from ..core.tracker import Tracker
from ..detect.file_detector import MotFileDetector
from ..io.atomic import write_text_atomic
from ..io.mot import (
    MotGroundTruth,
    MotResults,
    ScoreNorm,
    SeqInfo,
    list_sequences,
    read_detections,
    read_ground_truth,
    read_results,
    read_seqinfo,
    write_results,
)
from ..pipeline import (
    FramePipeline,
    MotTxtSink,
    Progress,
    SingleCamera,
    StageClock,
    StreamInput,
    TimedEmbedder,
    output_folder,
    run_streams,
)
from ..postprocess import interpolate_gaps, max_gap_at, smooth_tracks
from ..signals import GracefulStop, StopNow
from ..types import Embedder

__all__ = ["DATA_ENV", "BenchReport", "SequenceRun", "resolve_dataset", "run_benchmark"]

log = logging.getLogger("tracker")

DATA_ENV = "TRACKER_DATA"
"""Environment variable: folder holding datasets by name (``$TRACKER_DATA/MOT17/train/...``)."""


def resolve_dataset(name_or_path: str, root: str | Path | None = None) -> Path:
    """Find a dataset folder.

    Order: ``root`` if given; ``name_or_path`` itself if it is an existing folder; else
    ``$TRACKER_DATA/<name>``; else ``./data/<name>``.

    Raises:
        FileNotFoundError: none of these exists; the message lists where it looked.
    """
    if root is not None:
        p = Path(root)
        if not p.is_dir():
            raise FileNotFoundError(f"dataset root {p} does not exist")
        return p
    tried = []
    direct = Path(name_or_path)
    if direct.is_dir():
        return direct
    tried.append(str(direct))
    env = os.environ.get(DATA_ENV)
    if env:
        p = Path(env) / name_or_path
        if p.is_dir():
            return p
        tried.append(str(p))
    else:
        tried.append(f"${DATA_ENV}/{name_or_path} (${DATA_ENV} is not set)")
    p = Path("data") / name_or_path
    if p.is_dir():
        return p
    tried.append(str(p))
    raise FileNotFoundError(f"dataset {name_or_path!r} not found; looked in: " + ", ".join(tried))


@dataclass
class SequenceRun:
    """What happened on one sequence."""

    name: str
    frames: int
    detections: int
    used_images: bool
    note: str
    track_seconds: float
    frame_rate: float
    """Frames per second of the sequence (its ``seqinfo.ini``)."""
    results_path: str
    results: MotResults = field(repr=False)
    ground_truth: MotGroundTruth | None = field(repr=False)
    stopped: str = "end"
    """``"end"`` or ``"signal"`` (the sequence was cut short; it is not scored)."""

    @property
    def fps(self) -> float:
        return self.frames / self.track_seconds if self.track_seconds > 0 else float("inf")


@dataclass
class BenchReport:
    """All sequences of one benchmark run, with scores when ground truth exists."""

    dataset: str
    config: str
    reid: str | None
    runs: list[SequenceRun]
    scores: Any = None  # tracker.eval.ScoreTable | None
    stopped: str = "end"
    """``"end"``, or ``"signal"`` when SIGINT/SIGTERM/SIGHUP cut the run short (:attr:`signal`)."""
    signal: str | None = None
    interpolate: int = 0
    """Gaps filled by offline interpolation before scoring, frames at 30 fps (0: none)."""
    smooth: float = 0.0
    """Width of the offline track smoothing, frames at 30 fps (0: none)."""

    def table(self) -> str:
        """Text table: MOTA, IDF1, HOTA, IDSW, FP, FN and the tracker's own frames/s."""
        head = f"{'sequence':<20} {'MOTA':>6} {'IDF1':>6} {'HOTA':>6} {'IDSW':>6} {'FP':>7} {'FN':>7} {'FPS':>8}  input"
        lines = [head, "-" * len(head)]
        total_frames = sum(r.frames for r in self.runs)
        total_time = sum(r.track_seconds for r in self.runs)
        for r in self.runs:
            lines.append(self._row(r.name, r.fps, "images" if r.used_images else "motion only"))
        lines.append("-" * len(head))
        overall_fps = total_frames / total_time if total_time > 0 else float("inf")
        lines.append(self._row("OVERALL", overall_fps, ""))
        return "\n".join(lines)

    def _row(self, name: str, fps: float, note: str) -> str:
        s = None
        if self.scores is not None:
            s = self.scores.overall if name == "OVERALL" else self.scores.sequences.get(name)
        if s is None:
            return f"{name:<20} {'-':>6} {'-':>6} {'-':>6} {'-':>6} {'-':>7} {'-':>7} {fps:8.1f}  {note}"
        return (
            f"{name:<20} {100 * s.mota:6.1f} {100 * s.idf1:6.1f} {100 * s.hota:6.1f} {s.num_switches:6d} "
            f"{s.num_false_positives:7d} {s.num_misses:7d} {fps:8.1f}  {note}"
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "config": self.config,
            "reid": self.reid,
            "stopped": self.stopped,
            "signal": self.signal,
            "interpolate": self.interpolate,
            "smooth": self.smooth,
            "sequences": [
                {
                    "name": r.name,
                    "frames": r.frames,
                    "detections": r.detections,
                    "used_images": r.used_images,
                    "note": r.note,
                    "track_seconds": r.track_seconds,
                    "tracker_fps": r.fps,
                    "results": r.results_path,
                    "stopped": r.stopped,
                }
                for r in self.runs
            ],
        }
        if self.scores is not None:
            out["scores"] = {row.name: row.as_dict() for row in self.scores.rows()}
        return out


def _image_paths(seq_dir: Path, info: SeqInfo) -> list[Path] | None:
    """Every frame's image path if the image folder holds all ``seq_length`` frames, else None."""
    img_dir = seq_dir / info.im_dir
    if not img_dir.is_dir():
        return None
    paths = [img_dir / f"{i:06d}{info.im_ext}" for i in range(1, info.seq_length + 1)]
    if all(p.is_file() for p in paths):
        return paths
    return None


def _read_image(path: Path) -> NDArray[np.uint8]:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{path}: cannot read image")
    return np.asarray(img, np.uint8)


def _frames(images: list[Path] | None, seq_length: int) -> Iterator[tuple[int, NDArray[np.uint8] | None]]:
    """``(frame, image or None)`` for frames ``1..seq_length`` (images read as they are needed)."""
    for t in range(1, seq_length + 1):
        yield t, (_read_image(images[t - 1]) if images is not None else None)


def check_sequences(seq_dirs: Sequence[Path]) -> set[str]:
    """Read every sequence's ``seqinfo.ini`` and ``det/det.txt`` before the first is tracked, so a
    broken last sequence stops the run at once (it was found after the others had run, leaving no
    summary). Raises ``ValueError`` (file and line) for a bad file or two sequences whose
    ``seqinfo.ini`` give the same name (they would write one results file); warns when a ``det.txt``
    has rows after the sequence's last frame (they are never read). Returns the sequences' names."""
    names: dict[str, Path] = {}
    for seq_dir in seq_dirs:
        info = read_seqinfo(seq_dir)
        if info.name in names:
            raise ValueError(
                f"{seq_dir}: seqinfo.ini names it {info.name!r}, as {names[info.name]} is named; "
                "both would write one results file"
            )
        names[info.name] = seq_dir
        dets = read_detections(seq_dir / "det" / "det.txt")
        late = [f for f in dets.frames if f > info.seq_length]
        if late:
            log.warning(
                "%s: %d frames of rows after frame %d, the last of seqinfo.ini's seqLength, are not "
                "tracked (first: %d)",
                dets.path,
                len(late),
                info.seq_length,
                min(late),
            )
    return set(names)


def run_sequence(
    seq_dir: Path,
    config: TrackerConfig,
    out_dir: Path,
    embedder: Embedder | None = None,
    use_images: bool = True,
    score_norm: ScoreNorm = "auto",
    progress: bool = True,
    stop: GracefulStop | None = None,
) -> SequenceRun:
    """Track one sequence from its public detections and write ``out_dir/<name>.txt`` (streamed as
    frames complete). With ``stop``, a signal ends the sequence after the current frame
    (:attr:`SequenceRun.stopped`)."""
    info = read_seqinfo(seq_dir)
    detector = MotFileDetector(seq_dir / "det" / "det.txt", score_norm=score_norm)
    images = _image_paths(seq_dir, info) if use_images else None
    needs_frames = config.appearance.enabled or config.cmc.enabled
    if images is not None:
        note = "images"
    elif not use_images:
        note = "motion only (images disabled)"
    elif not (seq_dir / info.im_dir).is_dir():
        note = f"motion only: no {info.im_dir}/ folder"
    else:
        note = f"motion only: {info.im_dir}/ does not hold all {info.seq_length} frames"
    if images is None and needs_frames:
        log.warning("%s: %s; appearance and camera motion compensation are off", info.name, note)
    timed = TimedEmbedder(embedder) if embedder is not None else None
    tracker = Tracker(config, frame_rate=info.frame_rate, embedder=timed)
    path = out_dir / f"{info.name}.txt"
    clock = StageClock()
    pipeline = FramePipeline(
        info.name, detector, SingleCamera(tracker), [MotTxtSink(path)], clock=clock, embedder=timed
    )
    frames = _frames(images if needs_frames else None, info.seq_length)
    bar = Progress(info.seq_length, info.name, enabled=progress)
    try:
        end = run_streams(
            [StreamInput(pipeline, frames, info.frame_rate)],
            stop=stop if stop is not None else GracefulStop(),
            progress=bar,
        )
    finally:
        bar.close()
        pipeline.close()
    gt_path = seq_dir / "gt" / "gt.txt"
    gt = read_ground_truth(gt_path) if gt_path.is_file() else None
    return SequenceRun(
        name=info.name,
        frames=pipeline.frames,
        detections=pipeline.detections,
        used_images=images is not None and needs_frames,
        note=note,
        track_seconds=clock.seconds["track"] + clock.seconds["embed"],
        frame_rate=info.frame_rate,
        results_path=str(path),
        # what the file holds (boxes to 2 decimals), read where it was written: the scores are then
        # those of `score` on the file, to the last count
        results=read_results(path),
        ground_truth=gt,
        stopped=end.stopped,
    )


def run_benchmark(
    dataset: str,
    *,
    root: str | Path | None = None,
    split: str = "train",
    config: str | TrackerConfig | None = None,
    reid: str | Path | None = None,
    out_dir: str | Path = "out/bench",
    sequences: Sequence[str] | None = None,
    use_images: bool = True,
    progress: bool = True,
    on_sequence: Callable[[SequenceRun], None] | None = None,
    engine: str = "local",
    address: str | None = None,
    num_cpus: int | None = None,
    threads: int | None = None,
    interpolate: int = 0,
    smooth: float = 0.0,
) -> BenchReport:
    """Track and score every sequence of a dataset.

    Args:
        dataset: a dataset name (``MOT17``) resolved by :func:`resolve_dataset`, or a folder.
        root: the dataset folder (overrides name resolution).
        split: sub-folder holding the sequences (``train``).
        config: preset name, YAML path or config (default: the ``default`` preset).
        reid: path to an ONNX ReID model (used on sequences with images).
        out_dir: where ``<sequence>.txt`` and ``summary.json`` are written.
        sequences: only these sequence names (substring match), e.g. ``["MOT17-02"]``.
        use_images: give frames to the tracker when the sequence has them.
        engine: ``"local"`` (one sequence after the other, here) or ``"ray"`` (one Ray task per
            sequence: :func:`tracker.engines.ray_engine.run_sequences_ray`; same table).
        address, num_cpus, threads: with ``engine="ray"``: the cluster to join (``None``: a local
            instance of ``num_cpus`` CPUs) and ONNX Runtime threads per task (default 1).
        interpolate: offline post-processing: fill gaps of up to this many frames (at 30 fps; scaled
            to each sequence's frame rate) inside each track with linearly interpolated boxes
            (:func:`tracker.postprocess.interpolate_gaps`) before scoring; the ``<sequence>.txt``
            files are rewritten with them. 0 (default): the online tracker's output as it is.
        smooth: offline post-processing after ``interpolate``: each track's boxes replaced by a
            Gaussian-weighted local linear fit over time of this width in frames at 30 fps (scaled
            like ``interpolate``; :func:`tracker.postprocess.smooth_tracks`). 0 (default): off.
    """
    from ..eval import evaluate

    data_dir = resolve_dataset(dataset, root)
    if config is None:
        config = "default"
    cfg = config if isinstance(config, TrackerConfig) else load_config(config)
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    if engine == "ray":
        from ..engines import require_ray

        require_ray()
    if reid is not None and not cfg.appearance.enabled:
        log.warning("config %s has appearance disabled: the ReID model %s is not used", cfg.name, reid)
    if interpolate < 0:
        raise ValueError(f"interpolate must be >= 0 frames, got {interpolate}")
    if not (math.isfinite(smooth) and smooth >= 0):
        raise ValueError(f"smooth must be a finite number >= 0 of frames, got {smooth}")
    every_dir = list_sequences(data_dir, split)
    seq_dirs = [p for p in every_dir if any(s in p.name for s in sequences)] if sequences else every_dir
    if not seq_dirs:
        names = [p.name for p in every_dir]
        raise ValueError(f"no sequence of {data_dir} matches {list(sequences or [])}; it holds {names}")
    tracked = check_sequences(seq_dirs)
    embedder = None
    if reid is not None:  # loaded before anything is written (Ray's tasks load their own: this checks it)
        from ..reid import OnnxEmbedder

        embedder = OnnxEmbedder(reid)
    out = output_folder(out_dir)  # (after the checks: a refused run leaves no folder behind)
    stale = sorted(p.name for p in out.glob("*.txt") if p.stem not in tracked)
    if stale:  # left as they are (they are the user's), but not taken for this run's
        log.warning("%s holds results of sequences this run does not track: %s", out, ", ".join(stale))
    runs: list[SequenceRun] = []
    stopped = "end"
    signal_name = None
    if engine == "ray":  # -- engine dispatch: sequences as Ray tasks (tracker/engines) --
        from ..engines.ray_engine import run_sequences_ray

        runs = run_sequences_ray(
            run_sequence,
            seq_dirs,
            cfg,
            out,
            reid=reid,
            use_images=use_images,
            threads=1 if threads is None else threads,
            address=address,
            num_cpus=num_cpus,
            on_sequence=on_sequence,
        )
    else:
        with GracefulStop() as stop:
            try:
                for seq_dir in seq_dirs:
                    run = run_sequence(
                        seq_dir,
                        cfg,
                        out,
                        embedder=embedder,
                        use_images=use_images,
                        progress=progress,
                        stop=stop,
                    )
                    runs.append(run)
                    if on_sequence is not None:
                        on_sequence(run)
                    if stop.requested:
                        break
            except StopNow:
                pass
            if stop.requested:
                stopped, signal_name = "signal", stop.signal_name
                log.warning(
                    "%s: stopped after %d sequence(s); scoring the complete ones", signal_name, len(runs)
                )
    complete = [r for r in runs if r.stopped != "signal"]
    scores = None
    # Post-processing, scoring and the summary are guarded too: a first signal here lets them finish
    # (the run then reports the signal), a second one skips what is left of them; the summary is
    # written either way.
    with GracefulStop() as tail:
        try:
            if interpolate > 0 or smooth > 0:
                for r in complete:
                    fps = r.frame_rate
                    r.results = smooth_tracks(
                        interpolate_gaps(r.results, max_gap_at(interpolate, fps)), smooth * fps / 30.0
                    )
                    write_results(r.results_path, r.results)
                    r.results = read_results(r.results_path)  # scored as written, like the online rows
            scored = {r.name: (r.ground_truth, r.results) for r in complete if r.ground_truth is not None}
            if scored:
                scores = evaluate(scored, {r.name: r.frames for r in complete if r.ground_truth is not None})
        except StopNow:
            scores = None
            log.warning("stopped now: no scores in the summary")
        if tail.requested and stopped == "end":
            stopped, signal_name = "signal", tail.signal_name
        report = BenchReport(
            Path(dataset).name,
            cfg.name,
            None if reid is None else str(reid),
            runs,
            scores,
            stopped,
            signal_name,
            interpolate,
            smooth,
        )
        # (never half a summary, whatever arrives while it is written)
        write_text_atomic(out / "summary.json", json.dumps(report.as_dict(), indent=2, default=_json_default))
    return report


def _json_default(o: object) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)  # type: ignore[call-overload]
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def is_multicam_dataset(data_dir: str | Path) -> bool:
    """Whether a folder is a multi-camera layout (holds ``cameras.yaml``, see
    :mod:`tracker.eval.multicam`)."""
    return (Path(data_dir) / "cameras.yaml").is_file()


@dataclass
class MultiCamBenchReport:
    """What :func:`run_multicam_benchmark` measured."""

    dataset: str
    config: str
    reid: str | None
    scores: Any
    run: Any

    def table(self) -> str:
        fps = self.run.frames / self.run.total_seconds if self.run.total_seconds > 0 else 0.0
        return (
            f"{self.scores.format()}\n"
            f"global ids {self.run.global_ids}  links {self.run.links}  "
            f"{self.run.frames} frames at {fps:.1f} frames/s (all cameras, embedding included)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "config": self.config,
            "reid": self.reid,
            "scores": self.scores.as_dict(),
            "run": self.run.as_dict(),
        }


def run_multicam_benchmark(
    data_dir: str | Path,
    *,
    config: str | TrackerConfig | None = None,
    reid: str | Path | None = None,
    out_dir: str | Path = "out/bench",
    progress: bool = True,
    engine: str = "local",
    address: str | None = None,
    num_cpus: int | None = None,
    threads: int | None = None,
) -> MultiCamBenchReport:
    """Track a multi-camera layout with its public detections and score global identities.

    Runs :func:`tracker.apps.multicam_run.run_cameras` on ``DATA/cameras.yaml`` (each camera's ``dets``
    file; the ReID model ``reid`` embeds the boxes for cross-camera linking; without it nothing is
    linked) and scores the per-camera results with :func:`tracker.eval.multicam.score_multicam`:
    per-camera MOTA/IDF1, cross-camera MOTA/IDF1 and handoff accuracy. Writes the run's outputs and
    ``summary.json`` to ``out_dir``. ``engine="ray"`` runs the cameras on Ray
    (:func:`tracker.engines.ray_engine.run_cameras_ray`: same outputs and scores).
    """
    from ..eval.multicam import score_multicam
    from ..multicam.setup import load_camera_setup, load_camera_truth
    from .multicam_run import run_cameras

    data = Path(data_dir)
    setup = load_camera_setup(data / "cameras.yaml")
    missing = [c.id for c in setup.cameras if c.dets is None]
    if missing:
        raise ValueError(
            f"{data / 'cameras.yaml'}: camera(s) {missing} have no 'dets' file to benchmark with"
        )
    cfg = config if isinstance(config, TrackerConfig) else load_config(config or "default")
    out = Path(out_dir)
    run: Any
    if engine == "ray":  # -- engine dispatch (tracker/engines) --
        from ..engines import require_ray

        require_ray()
        from ..engines.camera import ModelSpec
        from ..engines.ray_engine import run_cameras_ray

        models = ModelSpec(
            reid=None if reid is None else str(reid),
            use_reid=reid is not None,
            threads=1 if threads is None else threads,
        )
        run = run_cameras_ray(
            setup, models, cfg, out, write_video=False, progress=progress, address=address, num_cpus=num_cpus
        )
    else:
        embedder = None
        if reid is not None:
            from ..reid import OnnxEmbedder

            embedder = OnnxEmbedder(reid)
        run = run_cameras(
            setup,
            None,
            tracker_config=cfg,
            embedder=embedder,
            out_dir=out,
            write_video=False,
            progress=progress,
        )
    truth = load_camera_truth(data)
    results = {c.id: read_results(out / f"{c.id}.txt") for c in setup.cameras}
    scores = score_multicam(truth, results)
    report = MultiCamBenchReport(data.name, cfg.name, None if reid is None else str(reid), scores, run)
    write_text_atomic(out / "summary.json", json.dumps(report.as_dict(), indent=2, default=_json_default))
    return report
