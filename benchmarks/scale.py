"""Scale-out benchmark: N camera streams on the local engine and on Ray, and the identity service alone.

Workloads (each camera is a copy of the same input, so every stream does the same work):

* ``pets``: PETS09-S2L1 (768x576, 7 fps) images with its public detections (``det/det.txt``): decode +
  ReID on every box + tracking; the detector does not run.
* ``video``: ``vtest.avi`` (the same scene, 768x576) with the embedded SSD detector + ReID.

For N in ``--n`` (default 1 2 4 8) each workload runs ``--frames`` frames per camera on the local
engine (:func:`tracker.apps.multicam_run.run_cameras`, one process) and on Ray
(:func:`tracker.engines.ray_engine.run_cameras_ray`, one actor per camera, CPU shares of the local Ray
instance), ONNX Runtime limited to ONE thread per model in both. Reported per run: total frames/s and
per-camera frames/s (frames over the frame loop's wall time: the local engine's loop; for Ray, the first
camera loop's start to the last one's end, actor start-up and model loading excluded, plus the whole
call including them), cores used (CPU seconds of the camera processes / loop wall time, Ray only),
identity-service latency (event sent -> global id out, median / p95, Ray only) and peak memory per actor.

The bar: Ray on N = 2 >= 1.6x the frames/s of one stream run alone (local engine, N = 1, one thread).

Identity service throughput: synthetic events (8 cameras, ``--synthetic-tracks`` tracks per frame with
512-d embeddings, people entering and leaving so identities are decided and linked) pushed into an
:class:`~tracker.engines.identity.IdentityService` in this process (``--service-repeats`` runs before Ray
starts, the median reported: Ray's own processes would share the cores), and through a Ray actor in
batches (``--service-only``: this part alone, added to ``--out``). With the events per camera-minute measured on the ``pets`` run, it says how many cameras one service
holds.

The machine is shared: the load (``uptime``) is recorded before and after each part. Run from the
repository root::

    nice -n 5 python benchmarks/scale.py                     # ~15 min on 2 busy cores
    nice -n 5 python benchmarks/scale.py --frames 40 --n 1 2 --workload pets   # quick
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.apps.multicam_run import CameraSetup, CameraSpec, run_cameras  # noqa: E402
from tracker.assets import DEFAULT_EMBEDDER  # noqa: E402
from tracker.multicam.config import MultiCamConfig  # noqa: E402
from tracker.types import Tracks  # noqa: E402

SHARED = Path(os.environ.get("TRACKER_SHARED", ROOT.parent / "shared"))
PETS = SHARED / "data" / "MOT15" / "train" / "PETS09-S2L1"
VIDEO = SHARED / "data" / "videos" / "vtest.avi"
THREADS = 1
"""ONNX Runtime threads per model in every run (the bar's "one core" baseline)."""
TRACK_LIFE = 40
"""Frames a synthetic local track lives (4 s at 10 fps)."""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def setup_for(workload: str, n: int) -> CameraSetup:
    if workload == "pets":
        cams = [
            CameraSpec(f"cam{k}", str(PETS / "img1"), dets=str(PETS / "det" / "det.txt")) for k in range(n)
        ]
    elif workload == "video":
        cams = [CameraSpec(f"cam{k}", str(VIDEO)) for k in range(n)]
    else:
        raise ValueError(f"unknown workload {workload!r}")
    return CameraSetup(tuple(cams), MultiCamConfig())


def run_local(workload: str, n: int, frames: int, out: Path) -> dict[str, Any]:
    from tracker.assets import default_detector
    from tracker.reid import OnnxEmbedder

    detector = default_detector(threads=THREADS) if workload == "video" else None
    embedder = OnnxEmbedder(DEFAULT_EMBEDDER, threads=THREADS)
    t0 = time.perf_counter()
    s = run_cameras(
        setup_for(workload, n),
        detector,
        embedder=embedder,
        out_dir=out,
        write_video=False,
        progress=False,
        max_frames=frames,
    )
    call = time.perf_counter() - t0
    from tracker.engines.camera import peak_rss_mb

    return {
        "engine": "local",
        "workload": workload,
        "n": n,
        "frames": s.frames,
        "loop_seconds": s.total_seconds,
        "call_seconds": call,
        "fps_total": s.frames / s.total_seconds,
        "fps_per_camera": s.frames / s.total_seconds / n,
        "fps_total_call": s.frames / call,
        "cores_used": None,
        "latency_ms": None,
        "peak_rss_mb": {"process": round(peak_rss_mb(), 1)},
        "global_ids": s.global_ids,
    }


def run_ray(workload: str, n: int, frames: int, out: Path) -> dict[str, Any]:
    from tracker.engines.camera import ModelSpec
    from tracker.engines.ray_engine import run_cameras_ray

    t0 = time.perf_counter()
    s = run_cameras_ray(
        setup_for(workload, n),
        ModelSpec(threads=THREADS),
        out_dir=out,
        write_video=False,
        progress=False,
        max_frames=frames,
    )
    call = time.perf_counter() - t0
    cams = [a for k, a in s.actors.items() if k != "identity_service"]
    wall = max(a["loop_end_s"] for a in cams) - min(a["loop_start_s"] for a in cams)
    cpu = sum(a["cpu_seconds"] for a in cams)
    return {
        "engine": "ray",
        "workload": workload,
        "n": n,
        "frames": s.frames,
        "loop_seconds": wall,
        "call_seconds": call,
        "fps_total": s.frames / wall,
        "fps_per_camera": s.frames / wall / n,
        "fps_total_call": s.frames / call,
        "cores_used": cpu / wall,
        "latency_ms": s.service["latency_ms"],
        "tracks_per_event": s.service["tracklet_observations"] / max(1, s.service["events"]),
        "peak_rss_mb": {k: a["peak_rss_mb"] for k, a in s.actors.items()},
        "global_ids": s.global_ids,
    }


# -- identity service throughput -----------------------------------------------------------------------
def synthetic_events(cameras: int, frames: int, tracks: int, dim: int = 512, seed: int = 0) -> list[Any]:
    """Per camera ``frames`` events of ``tracks`` tracks (10 fps). Each local track lives
    ``TRACK_LIFE`` frames, the tracks' lives staggered evenly, so tracklets end and new ones are decided
    (and linked to earlier ones by appearance) all the time, a few at a time as in a real scene."""
    from tracker.engines.identity import TrackletEvent

    rng = np.random.default_rng(seed)
    people = rng.normal(size=(4 * tracks, dim)).astype(np.float32)
    phase = (np.arange(tracks) * TRACK_LIFE) // tracks
    out = []
    for f in range(1, frames + 1):
        life = (f - 1 + phase) // TRACK_LIFE
        lids = (1 + life * tracks + np.arange(tracks)).astype(np.int64)
        x = 50.0 * np.arange(tracks, dtype=np.float32) + ((f - 1 + phase) % TRACK_LIFE)
        boxes = np.stack([x, np.full(tracks, 100.0), x + 40, np.full(tracks, 220.0)], 1).astype(np.float32)
        for c in range(cameras):
            who = (lids + c) % len(people)
            emb = (people[who] + 0.1 * rng.normal(size=(tracks, dim))).astype(np.float32)
            tr = Tracks(
                lids,
                boxes,
                np.full(tracks, 0.9, np.float32),
                np.zeros(tracks, np.int64),
                np.ones(tracks, np.int8),
                np.arange(tracks, dtype=np.int64),
            )
            out.append(TrackletEvent(f"cam{c}", f, (f - 1) / 10.0, tr, emb, tracks, time.time()))
    return out


def service_throughput(events: list[Any], cameras: int, use_ray: bool, batch: int = 40) -> dict[str, Any]:
    from tracker.engines.identity import IdentityService

    names = [f"cam{c}" for c in range(cameras)]
    if not use_ray:
        svc = IdentityService(names, keep_records=False)
        t0 = time.perf_counter()
        for i in range(0, len(events), batch):
            svc.push(events[i : i + batch])
        for c in names:
            svc.finish(c)
        svc.flush()
        dt = time.perf_counter() - t0
        rep = svc.report()
        decisions = len(svc.decisions())
    else:
        import ray

        from tracker.engines.ray_engine import _ServiceActor

        actor: Any = ray.remote(_ServiceActor).options(num_cpus=0).remote(names, None, False)
        ray.get(actor.received.remote())  # started
        refs = [ray.put(events[i : i + batch]) for i in range(0, len(events), batch)]
        t0 = time.perf_counter()
        for r in refs:
            actor.push_checked.remote(r)
        for c in names:
            actor.finish.remote(c)
        ray.get(actor.flush.remote())
        dt = time.perf_counter() - t0
        rep = ray.get(actor.report.remote())
        decisions = len(ray.get(actor.decisions.remote()))
        ray.kill(actor)
    return {
        "engine": "ray actor" if use_ray else "in process",
        "events": rep["events"],
        "tracklet_observations": rep["tracklet_observations"],
        "seconds": dt,
        "events_per_s": rep["events"] / dt,
        "tracklets_per_s": rep["tracklet_observations"] / dt,
        "decisions": decisions,
        "batch": batch,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--frames", type=int, default=60, help="frames per camera (default 60)")
    p.add_argument("--workload", nargs="+", default=["pets", "video"], choices=["pets", "video"])
    p.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray instance")
    p.add_argument("--synthetic-frames", type=int, default=400)
    p.add_argument("--synthetic-tracks", type=int, default=8)
    p.add_argument(
        "--service-repeats", type=int, default=3, help="in-process service runs; the median is reported"
    )
    p.add_argument(
        "--service-only", action="store_true", help="only the identity service part; keeps the runs in --out"
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "scale.json"))
    args = p.parse_args()
    from tracker.engines.ray_engine import ray_session

    results: dict[str, Any] = {"frames_per_camera": args.frames, "threads": THREADS, "runs": [], "load": []}
    if args.service_only:
        args.workload = []
        if Path(args.out).is_file():
            results = json.loads(Path(args.out).read_text(encoding="utf-8"))
    results["load"].append(("start", uptime()))
    # The in-process service first, before Ray's own processes (GCS, raylet, workers) share the cores.
    # gc.freeze() as the service actor does at start (this process has imported Ray too; without it
    # every full collection rescans Ray's objects).
    events = synthetic_events(8, args.synthetic_frames, args.synthetic_tracks)
    gc.freeze()
    in_process = [service_throughput(events, 8, False) for _ in range(args.service_repeats)]
    with tempfile.TemporaryDirectory() as tmp, ray_session(num_cpus=args.num_cpus) as session:
        results["ray"] = session
        for workload in args.workload:
            for n in args.n:
                for engine in ("local", "ray"):
                    out = Path(tmp) / f"{workload}-{n}-{engine}"
                    fn = run_local if engine == "local" else run_ray
                    r = fn(workload, n, args.frames, out)
                    r["load_after"] = uptime()
                    results["runs"].append(r)
                    print(
                        f"{workload:<6} N={n} {engine:<5} {r['fps_total']:7.1f} fps total "
                        f"{r['fps_per_camera']:6.1f}/camera  cores {r['cores_used']}  lat {r['latency_ms']}",
                        flush=True,
                    )
        best = sorted(in_process, key=lambda r: r["tracklets_per_s"])[len(in_process) // 2]
        best["repeats"] = [round(r["tracklets_per_s"]) for r in in_process]
        results["service"] = [best, service_throughput(events, 8, True)]
        results["service_setup"] = {
            "cameras": 8,
            "frames": args.synthetic_frames,
            "tracks": args.synthetic_tracks,
        }
        for s in results["service"]:
            print(
                f"service {s['engine']}: {s['events_per_s']:.0f} events/s {s['tracklets_per_s']:.0f} tracklets/s"
                + (f" (median of {s['repeats']})" if "repeats" in s else "")
            )
    results["load"].append(("end", uptime()))
    Path(args.out).write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
