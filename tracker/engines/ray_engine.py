"""``--engine ray``: the multi-camera run as Ray actors, ``bench`` sequences as Ray tasks.

* :func:`run_cameras_ray`: one actor per camera (:class:`~tracker.engines.camera.CameraWorker`: source
  -> detect -> embed -> track -> streaming per-camera sinks), one identity-service actor
  (:class:`~tracker.engines.identity.IdentityService`: the cross-camera manager behind a timestamp
  watermark). The final-id outputs are the local engine's, file for file: ``<cam>.txt``,
  ``<cam>.jsonl``, ``<cam>.tracks.npz``, ``global_ids.json`` and ``multicam_summary.json`` (plus the
  engine's own section: per-actor memory, the identity service's latency). Each camera actor also
  streams ``<cam>.local.txt`` / ``<cam>.local.jsonl`` (camera-local ids) and, when asked, ``<cam>.mp4``
  with LOCAL ids (``L<id>``; the local engine draws provisional global ids).
* :func:`run_sequences_ray`: one Ray task per ``bench`` sequence.

A camera actor that dies is reported in the summary (``error``, the frames the service received from
it); its streamed files and the final-id outputs of the frames received are kept; the other cameras go
on and the identity service stops waiting for it.

Without ``address`` a local Ray instance is started (``num_cpus``, no dashboard, loopback only, usage
statistics off) and shut down at the end; with it the run joins that cluster (``ray start --head`` on
one machine, ``ray start --address HEAD:6379`` on the others; ``tracker`` and the models must be
installed at the same paths on every node, and the output folder is written on each actor's node).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayActorError, RayTaskError

from ..apps.multicam_run import CameraStats, MultiRunSummary
from ..config import TrackerConfig, load_config
from ..io.atomic import write_text_atomic
from ..multicam.setup import CameraSetup, load_camera_setup, setup_from_sources
from ..pipeline import STAGES, Progress, output_folder
from ..pipeline.final_outputs import write_camera_outputs, write_global_ids
from ..signals import GracefulStop, stop_guard
from .camera import CameraReport, CameraWorker, ModelSpec, peak_rss_mb
from .identity import IdentityService, TrackletEvent

__all__ = ["RayRunSummary", "ray_session", "run_cameras_ray", "run_sequences_ray"]

log = logging.getLogger("tracker")

POLL_SECONDS = 0.5
"""How often the driver checks for finished or dead camera actors (and updates the progress)."""


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[dict[str, Any]]:
    """Use the Ray instance already initialised, join ``address``, or start a local one.

    A local instance gets ``num_cpus`` CPUs (default: the machine's), no dashboard, only the loopback
    interface, usage statistics off; the workers import the same ``tracker`` as this process. Whatever
    this call started it shuts down at the end.

    Yields:
        ``{"address": ..., "num_cpus": ..., "started": bool}``.
    """
    if ray.is_initialized():
        yield {"address": "existing", "num_cpus": ray.cluster_resources().get("CPU"), "started": False}
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is not None:
        ray.init(address=address, log_to_driver=True, configure_logging=False)
    else:
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        ray.init(
            num_cpus=num_cpus if num_cpus is not None else os.cpu_count(),
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}},
        )
    try:
        yield {
            "address": address or "local",
            "num_cpus": ray.cluster_resources().get("CPU"),
            "started": True,
        }
    finally:
        ray.shutdown()


class _ServiceActor(IdentityService):
    """The identity service as an actor: remote pushes are fire-and-forget, so their errors are kept
    here (and reported) instead of being lost with their object refs."""

    def __init__(self, cameras: Sequence[str], config: Any, keep_records: bool = True) -> None:
        super().__init__(cameras, config, keep_records=keep_records)
        self.errors: list[str] = []
        # The actor's process is ours alone: move what exists now (Ray's and our modules' objects,
        # hundreds of thousands) out of the cyclic collector's reach, so that the collections the
        # service's many small objects trigger do not rescan them (~15% of its time, measured).
        gc.freeze()

    def push_checked(self, events: list[TrackletEvent]) -> int:
        try:
            return self.push(events)
        except ValueError as exc:
            self.errors.append(str(exc))
            log.error("identity service: %s", exc)
            return 0

    def peak_rss_mb(self) -> float:
        return round(peak_rss_mb(), 1)

    def report(self) -> dict[str, Any]:
        out = super().report()
        out["errors"] = list(self.errors)
        return out


class _RemoteService:
    """A camera worker's view of the service actor. Pushes do not wait; ``finish`` waits, so every
    push of this camera (same caller: executed in order) is in the service when it returns."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def push(self, events: list[TrackletEvent]) -> object:
        return self.handle.push_checked.remote(events)

    def finish(self, camera: str) -> object:
        return ray.get(self.handle.finish.remote(camera))


class _CameraActor:
    """One camera's :class:`CameraWorker` in an actor (two threads: ``run`` and ``stop``/``progress``)."""

    def __init__(
        self,
        spec: Any,
        models: ModelSpec,
        config: TrackerConfig,
        out_dir: str,
        service: Any,
        write_video: bool,
        batch_frames: int,
    ) -> None:
        self.worker = CameraWorker(
            spec,
            models,
            config,
            out_dir,
            _RemoteService(service),
            write_video=write_video,
            batch_frames=batch_frames,
        )

    def run(self, max_frames: int | None) -> CameraReport:
        return self.worker.run(max_frames)

    def stop(self) -> None:
        self.worker.stop.request()

    def progress(self) -> dict[str, Any]:
        return self.worker.progress()


@dataclass
class RayRunSummary(MultiRunSummary):
    """:class:`~tracker.apps.multicam_run.MultiRunSummary` plus the engine's own figures.

    Attributes:
        engine: ``{"name": "ray", "address", "num_cpus", "cpus_per_camera", "batch_frames"}``.
        actors: camera id (and ``"identity_service"``) -> ``{"status", "peak_rss_mb", "frames",
            "seconds"}``; status ``finished``, ``died`` or ``failed``.
        service: the identity service's report (events, latency median/p95 in ms, late events, ...).
    """

    engine: dict[str, Any] = field(default_factory=dict)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    service: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out["engine"] = dict(self.engine)
        out["actors"] = {k: dict(v) for k, v in self.actors.items()}
        out["identity_service"] = dict(self.service)
        return out

    def format(self) -> str:
        lat = self.service.get("latency_ms", {})
        lines = [super().format()]
        lines.append(
            f"ray      identity service: {self.service.get('events', 0)} events, latency median "
            f"{lat.get('median')} ms p95 {lat.get('p95')} ms; peak memory per actor (MiB): "
            + ", ".join(f"{k} {v.get('peak_rss_mb')}" for k, v in self.actors.items())
        )
        return "\n".join(lines)


def run_cameras_ray(
    setup: CameraSetup | Sequence[str] | str | Path,
    models: ModelSpec,
    tracker_config: str | Path | TrackerConfig = "default",
    out_dir: str | Path = "out/run",
    write_video: bool = True,
    progress: bool = True,
    max_frames: int | None = None,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_camera: float | None = None,
    batch_frames: int = 1,
    stop: GracefulStop | None = None,
    on_start: Callable[[dict[str, Any], Any], None] | None = None,
) -> RayRunSummary:
    """Track several cameras with global identities on Ray (see the module docstring).

    Args:
        setup: a :class:`~tracker.apps.multicam_run.CameraSetup`, a camera list YAML or sources.
        models: how each camera actor builds its detector and embedder (threads per model included).
        tracker_config: per-camera tracker preset, YAML path or config.
        out_dir: output folder (created).
        write_video: each camera actor writes ``<cam>.mp4`` (local ids).
        progress: progress over all cameras' frames (as the service observes them).
        max_frames: frames per camera at most.
        address: a Ray cluster to join (``"auto"``, ``"HOST:6379"``); ``None`` starts a local instance.
        num_cpus: CPUs of the local instance (default: the machine's).
        cpus_per_camera: CPUs each camera actor reserves (default: 1, or the local instance's CPUs
            shared out when there are more cameras than CPUs, so every camera runs at once).
        batch_frames: frames per event message from a camera to the service.
        stop: a :class:`~tracker.signals.GracefulStop` to obey (default: one installed for the run);
            on a signal every camera finishes its frame and every output is written.
        on_start: called with ``({camera: actor}, service actor)`` once the actors run (tests use it
            to kill one).

    Returns:
        :class:`RayRunSummary` (also written to ``multicam_summary.json``).

    Raises:
        ValueError: a bad setup or ``max_frames``.
    """
    if isinstance(setup, (str, Path)):
        setup = load_camera_setup(setup)
    elif not isinstance(setup, CameraSetup):
        setup = setup_from_sources(list(setup))
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, got {batch_frames}")
    cfg = tracker_config if isinstance(tracker_config, TrackerConfig) else load_config(tracker_config)
    if not models.use_reid:
        log.warning("no embedder: tracks are not linked across cameras (each keeps its own global id)")
    # each model built once here, as the actors will: a bad file is one error before any actor starts
    # (an actor's failure arrived as a remote traceback, after empty outputs were written)
    models.build_embedder()
    if models.detector is not None and any(c.dets is None for c in setup.cameras):
        models.build_detector()
    out = output_folder(out_dir)
    cam_ids = [c.id for c in setup.cameras]
    summary = RayRunSummary()
    start = time.perf_counter()
    with ray_session(address, num_cpus) as session, stop_guard(stop) as guard:
        cpus = float(session["num_cpus"] or 1)
        share = cpus_per_camera if cpus_per_camera is not None else min(1.0, cpus / len(cam_ids))
        summary.engine = {
            "name": "ray",
            "address": session["address"],
            "num_cpus": cpus,
            "cpus_per_camera": share,
            "batch_frames": batch_frames,
        }
        service_cls: Any = ray.remote(_ServiceActor)
        service: Any = service_cls.options(num_cpus=0).remote(
            cam_ids, replace(setup.linking, history_s=None)
        )  # final ids written at the end
        actor_cls: Any = ray.remote(_CameraActor)
        actors: dict[str, Any] = {
            spec.id: actor_cls.options(num_cpus=share, max_concurrency=2).remote(
                spec, models, cfg, str(out.resolve()), service, write_video, batch_frames
            )
            for spec in setup.cameras
        }
        running = {actors[c].run.remote(max_frames): c for c in cam_ids}
        if on_start is not None:
            on_start(actors, service)
        reports: dict[str, CameraReport] = {}
        failures: dict[str, tuple[str, str]] = {}
        bar = Progress(None, "cameras", enabled=progress)
        seen = 0
        stop_sent = False
        try:
            while running:
                done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
                for ref in done:
                    cid = running.pop(ref)
                    try:
                        reports[cid] = ray.get(ref)
                    except RayActorError as exc:
                        failures[cid] = ("died", f"camera actor died: {_first_line(exc)}")
                        ray.get(service.lose.remote(cid))
                    except RayTaskError as exc:
                        failures[cid] = ("failed", f"camera actor failed: {_first_line(exc)}")
                        ray.get(service.lose.remote(cid))
                if guard.requested and not stop_sent:
                    stop_sent = True
                    for cid in running.values():
                        actors[cid].stop.remote()
                if progress:
                    now = sum(ray.get(service.received.remote()).values())
                    bar.update(now - seen)
                    seen = now
        finally:
            bar.close()
        ray.get(service.flush.remote())
        model = models.model_name()
        for spec in setup.cameras:
            frames = ray.get(service.final_frames.remote(spec.id))
            summary.outputs.update(write_camera_outputs(out, spec.id, spec.source, frames, model))
            rep = reports.get(spec.id)
            if rep is not None:
                summary.outputs.update(rep.outputs)
        summary.outputs["global_ids"] = write_global_ids(out, ray.get(service.decisions.remote()))
        summary.service = ray.get(service.report.remote())
        received = summary.service["frames"]
        detections = summary.service.get("detections", {})
        all_ids: set[int] = set()
        for spec in setup.cameras:
            rep = reports.get(spec.id)
            stats = CameraStats(spec.source)
            if rep is not None:
                stats.frames, stats.detections, stats.error = rep.frames, rep.detections, rep.error
                stats.fps, stats.size = rep.fps, rep.size
                for k in STAGES:
                    summary.stage_seconds[k] += rep.stage_seconds.get(k, 0.0)
                summary.actors[spec.id] = {
                    "status": "finished",
                    "peak_rss_mb": rep.peak_rss_mb,
                    "frames": rep.frames,
                    "seconds": round(rep.seconds, 4),
                    "cpu_seconds": round(rep.cpu_seconds, 4),
                    "loop_start_s": rep.started_s,
                    "loop_end_s": rep.ended_s,
                }
                if rep.stopped == "max_frames" and summary.stopped == "end":
                    summary.stopped = "max_frames"
            else:
                status, error = failures[spec.id]
                stats.frames = int(received.get(spec.id, 0))
                stats.detections = int(detections.get(spec.id, 0))
                stats.error = f"{error} (after {stats.frames} frames)"
                summary.actors[spec.id] = {"status": status, "peak_rss_mb": None, "frames": stats.frames}
            summary.cameras[spec.id] = stats
            ids = _ids_in(out / f"{spec.id}.txt")
            stats.global_ids = len(ids)
            all_ids |= ids
        summary.actors["identity_service"] = {
            "status": "finished",
            "peak_rss_mb": ray.get(service.peak_rss_mb.remote()),
            "frames": summary.service["events"],
        }
        summary.global_ids = len(all_ids)
        summary.links = sum(d["linked_from"] is not None for d in _decisions(out))
        if guard.requested:
            summary.stopped, summary.signal = "signal", guard.signal_name
    summary.total_seconds = time.perf_counter() - start
    path = out / "multicam_summary.json"
    summary.outputs["summary"] = str(path)
    write_text_atomic(path, json.dumps(summary.as_dict(), indent=2) + "\n")
    return summary


def _ids_in(path: Path) -> set[int]:
    """Distinct ids of a MOTChallenge results file (the local engine counts the same final ids)."""
    from ..io.mot import read_results

    res = read_results(path)
    return {int(i) for fr in res.frames.values() for i in fr.ids.tolist()}


def _decisions(out: Path) -> list[dict[str, Any]]:
    data = json.loads((out / "global_ids.json").read_text(encoding="utf-8"))
    return list(data["decisions"])


def _first_line(exc: BaseException) -> str:
    """What went wrong in a remote call: the original exception's message (a ``RayTaskError``'s own
    first line is only ``ray::_CameraActor.run() (pid=..., repr=...)``), else the first line."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and str(cause).strip():
        return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0]}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _local_error(exc: RayTaskError) -> BaseException:
    """A remote task's bad-input error as the local engine raises it (``ValueError`` / ``OSError``:
    one ``error:`` line and exit 2 on the CLI), instead of Ray's 20-line remote traceback."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, (ValueError, OSError)) else exc


# -- bench: sequences as tasks -------------------------------------------------------------------------
def _bench_sequence(
    run: Callable[..., Any],
    seq_dir: str,
    config: TrackerConfig,
    out_dir: str,
    reid: str | None,
    use_images: bool,
    threads: int | None,
) -> Any:
    from ..reid import OnnxEmbedder

    embedder = OnnxEmbedder(reid, threads=threads) if reid is not None else None
    return run(Path(seq_dir), config, Path(out_dir), embedder=embedder, use_images=use_images, progress=False)


def run_sequences_ray(
    run_sequence: Callable[..., Any],
    seq_dirs: Sequence[Path],
    config: TrackerConfig,
    out_dir: Path,
    *,
    reid: str | Path | None = None,
    use_images: bool = True,
    threads: int | None = 1,
    address: str | None = None,
    num_cpus: int | None = None,
    on_sequence: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Run ``run_sequence`` (:func:`tracker.apps.bench.run_sequence`, given by the caller so this module
    does not import the app back) on every sequence as one Ray task each (one CPU, ONNX Runtime
    ``threads`` per task); returns the :class:`~tracker.apps.bench.SequenceRun` list in the
    order of ``seq_dirs`` (``on_sequence`` is called in that order too)."""
    with ray_session(address, num_cpus):
        task: Any = ray.remote(_bench_sequence).options(num_cpus=1)
        refs = [
            task.remote(
                run_sequence,
                str(p),
                config,
                str(out_dir.resolve()),
                None if reid is None else str(reid),
                use_images,
                threads,
            )
            for p in seq_dirs
        ]
        runs = []
        for ref in refs:
            try:
                run = ray.get(ref)
            except RayTaskError as exc:
                raise _local_error(exc) from None
            runs.append(run)
            if on_sequence is not None:
                on_sequence(run)
        return runs
