"""The Ray engine (``--engine ray``): the identity service's watermark order, local vs Ray outputs on the
exported PETS09 views (every row), a camera actor killed mid-run, ``bench --engine ray``.

The identity-service tests need neither Ray nor data. The Ray tests skip, saying so, when ``ray`` is not
installed (CI installs the ``dev`` extra, which brings it); they share one local Ray instance of 2 CPUs.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tracker.engines import RAY_MISSING, ray_available
from tracker.engines.identity import IdentityService, TrackletEvent
from tracker.multicam.manager import GlobalIdentityManager
from tracker.types import Tracks

needs_ray = pytest.mark.skipif(
    not ray_available(), reason="ray is not installed (pip install 'tracker[ray]'); Ray engine tests skipped"
)
FRAMES = 150
"""Frames per camera in the PETS09 comparisons (keeps CI time small)."""


# -- identity service: order of events does not matter ------------------------------------------------
def _tracks(ids: list[int], x: float) -> Tracks:
    n = len(ids)
    boxes = np.array([[x + 30 * i, 10, x + 30 * i + 20, 80] for i in range(n)], np.float32).reshape(n, 4)
    return Tracks(
        ids=np.array(ids, np.int64),
        boxes=boxes,
        scores=np.full(n, 0.9, np.float32),
        class_ids=np.zeros(n, np.int64),
        states=np.ones(n, np.int8),
        det_index=np.arange(n, dtype=np.int64),
    )


def _synthetic(cameras: list[str], frames: int, seed: int) -> dict[str, list[TrackletEvent]]:
    """Per camera, ``frames`` events: people appear, leave and re-enter (so links are decided)."""
    rng = np.random.default_rng(seed)
    people = rng.normal(size=(6, 8)).astype(np.float32)
    out: dict[str, list[TrackletEvent]] = {}
    for k, cam in enumerate(cameras):
        evs = []
        for f in range(1, frames + 1):
            ids = [1 + (f // 12 + k) % 5, 10 + (f // 7) % 3] if f % 9 else []
            emb = (
                np.stack([people[i % 6] + 0.05 * rng.normal(size=8) for i in ids]).astype(np.float32)
                if ids
                else None
            )
            evs.append(
                TrackletEvent(cam, f, (f - 1) / 5.0 + 0.01 * (k // 2), _tracks(ids, 10 + k), emb, len(ids))
            )
        out[cam] = evs
    return out


def _reference(
    cameras: list[str], events: dict[str, list[TrackletEvent]]
) -> tuple[list[Any], list[list[int]]]:
    """The manager fed as the local engine feeds it: (timestamp, camera order)."""
    order = sorted(
        (ev for evs in events.values() for ev in evs), key=lambda e: (e.timestamp, cameras.index(e.camera))
    )
    m = GlobalIdentityManager(cameras)
    emitted = []
    for ev in order:
        gids, _ = m.observe(
            ev.camera, ev.timestamp, ev.tracks.ids, ev.tracks.boxes, ev.tracks.scores, ev.embeddings
        )
        emitted.append(gids.tolist())
    m.flush()
    return m.decisions, emitted


def test_identity_service_any_arrival_order_gives_the_local_ids() -> None:
    cameras = ["a", "b", "c"]
    events = _synthetic(cameras, 60, seed=3)
    ref_decisions, _ = _reference(cameras, events)
    assert any(d.linked_from is not None for d in ref_decisions)  # the case exercises linking
    rng = np.random.default_rng(0)
    for trial in range(4):
        svc = IdentityService(cameras)
        cursors = dict.fromkeys(cameras, 0)
        live = list(cameras)
        while live:  # random interleaving and batch sizes; each camera's own order kept
            cam = live[int(rng.integers(len(live)))]
            n = int(rng.integers(1, 6))
            svc.push(events[cam][cursors[cam] : cursors[cam] + n])
            cursors[cam] += n
            if cursors[cam] >= len(events[cam]):
                svc.finish(cam)
                live.remove(cam)
        svc.flush()
        assert svc.pending() == 0
        assert [(d.camera, d.local_id, d.global_id, d.linked_from) for d in svc.decisions()] == [
            (d.camera, d.local_id, d.global_id, d.linked_from) for d in ref_decisions
        ], f"trial {trial}"
        assert svc.report()["events"] == 180


def test_identity_service_watermark_waits_and_a_lost_camera_stops_holding_it() -> None:
    cameras = ["a", "b"]
    ev = _synthetic(cameras, 10, seed=1)
    svc = IdentityService(cameras)
    assert svc.push(ev["a"][:5]) == 0  # b has sent nothing: nothing can be ordered yet
    assert svc.watermark() == -np.inf
    assert svc.push(ev["b"][:2]) == 2 + 2  # up to b's latest (0.21 s): a's frames 1-2 and b's 1-2
    with pytest.raises(ValueError, match="not after its previous"):
        svc.push([ev["b"][2], ev["b"][2]])
    assert svc.pending() == 3  # the bad call took nothing
    svc.lose("b")
    assert svc.pending() == 0 and svc.report()["lost"] == ["b"]
    assert svc.push([ev["b"][2]]) == 0 and svc.report()["late_events"] == 1  # behind the watermark
    with pytest.raises(ValueError, match="unknown camera"):
        svc.push([TrackletEvent("z", 1, 0.0, _tracks([], 0), None)])


def test_import_tracker_does_not_import_ray() -> None:
    code = "import sys, tracker, tracker.engines, tracker.engines.identity; sys.exit('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_engine_ray_without_ray_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tracker.engines
    from tracker.__main__ import main

    monkeypatch.setattr(tracker.engines, "ray_available", lambda: False)
    assert main(["run", "cams.yaml", "--engine", "ray"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {RAY_MISSING}"
    assert main(["bench", ".", "--engine", "ray"]) == 2
    assert RAY_MISSING in capsys.readouterr().err


# -- Ray ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    if not ray_available():
        pytest.skip("ray is not installed (pip install 'tracker[ray]')")
    from tracker.engines.ray_engine import ray_session

    with ray_session(num_cpus=2):
        yield


@pytest.fixture(scope="module")
def pets_views(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    from test_multicam_apps import harness

    return harness().export_virtual_views(
        data_root / "MOT15" / "train" / "PETS09-S2L1", tmp_path_factory.mktemp("pets")
    )


@pytest.fixture(scope="module")
def local_run(pets_views: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from tracker.apps.multicam_run import run_cameras
    from tracker.assets import DEFAULT_EMBEDDER
    from tracker.reid import OnnxEmbedder

    out = tmp_path_factory.mktemp("local")
    summary = run_cameras(
        pets_views,
        None,
        embedder=OnnxEmbedder(DEFAULT_EMBEDDER, threads=1),
        out_dir=out,
        write_video=False,
        progress=False,
        max_frames=FRAMES,
    )
    return out, summary


@needs_ray
@pytest.mark.data
def test_ray_outputs_equal_the_local_engine_row_for_row(
    ray_instance: None, pets_views: Path, local_run: tuple[Path, Any], tmp_path: Path
) -> None:
    from tracker.engines.camera import ModelSpec
    from tracker.engines.ray_engine import run_cameras_ray

    local_out, local = local_run
    summary = run_cameras_ray(
        pets_views,
        ModelSpec(threads=1),
        out_dir=tmp_path,
        write_video=False,
        progress=False,
        max_frames=FRAMES,
    )
    assert summary.links > 0  # cross-camera identities are really decided
    for cam in ("left", "right"):
        for ext in ("txt", "jsonl"):
            a = (local_out / f"{cam}.{ext}").read_text().splitlines()
            b = (tmp_path / f"{cam}.{ext}").read_text().splitlines()
            assert len(a) > 0 and a == b, f"{cam}.{ext}"
        ga, gb = np.load(local_out / f"{cam}.tracks.npz"), np.load(tmp_path / f"{cam}.tracks.npz")
        assert sorted(ga.files) == sorted(gb.files)
        for k in ga.files:
            assert np.array_equal(ga[k], gb[k]), f"{cam}.tracks.npz {k}"
        assert (tmp_path / f"{cam}.local.txt").stat().st_size > 0  # the streamed camera-local results
        got, want = summary.cameras[cam], local.cameras[cam]
        assert (got.frames, got.detections, got.global_ids) == (want.frames, want.detections, want.global_ids)
    assert filecmp.cmp(local_out / "global_ids.json", tmp_path / "global_ids.json", shallow=False)
    assert (summary.global_ids, summary.links) == (local.global_ids, local.links)
    data = json.loads((tmp_path / "multicam_summary.json").read_text())
    assert set(json.loads((local_out / "multicam_summary.json").read_text())) <= set(data)
    assert data["identity_service"]["events"] == 2 * FRAMES
    assert data["identity_service"]["latency_ms"]["count"] == 2 * FRAMES
    assert data["actors"]["left"]["peak_rss_mb"] > 0 and data["actors"]["identity_service"]["peak_rss_mb"] > 0


@needs_ray
@pytest.mark.data
def test_a_killed_camera_actor_is_reported_and_the_others_go_on(
    ray_instance: None, pets_views: Path, tmp_path: Path
) -> None:
    import ray

    from tracker.engines.camera import ModelSpec
    from tracker.engines.ray_engine import run_cameras_ray

    victim, kill_at = "right", 20
    killed: dict[str, int] = {}

    def kill_later(actors: dict[str, Any], service: Any) -> None:
        def watch() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                n = ray.get(service.received.remote())[victim]
                streamed = tmp_path / f"{victim}.local.txt"
                # kill once the actor has flushed its streamed files at least once (every second)
                if n >= kill_at and streamed.is_file() and streamed.stat().st_size > 0:
                    ray.kill(actors[victim], no_restart=True)
                    killed[victim] = n
                    return
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True).start()

    summary = run_cameras_ray(
        pets_views,
        ModelSpec(threads=1),
        out_dir=tmp_path,
        write_video=False,
        progress=False,
        max_frames=FRAMES,
        on_start=kill_later,
    )
    assert killed, "the camera finished before it could be killed"
    dead = summary.cameras[victim]
    assert dead.error is not None and "died" in dead.error
    assert killed[victim] <= dead.frames < FRAMES
    assert summary.cameras["left"].frames == FRAMES and summary.cameras["left"].error is None
    data = json.loads((tmp_path / "multicam_summary.json").read_text())
    assert data["actors"][victim]["status"] == "died"
    assert data["identity_service"]["lost"] == [victim]
    assert data["identity_service"]["frames"][victim] == dead.frames
    # its final-id results are kept for every frame the service received
    rows = [line.split(",") for line in (tmp_path / f"{victim}.txt").read_text().splitlines()]
    assert rows and max(int(r[0]) for r in rows) <= dead.frames
    assert len((tmp_path / f"{victim}.jsonl").read_text().splitlines()) == dead.frames
    # and what the actor streamed itself is on disk
    assert (tmp_path / f"{victim}.local.txt").stat().st_size > 0
    assert (tmp_path / "global_ids.json").is_file()


@needs_ray
@pytest.mark.data
def test_bench_engine_ray_table_equals_local(ray_instance: None, data_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("motmetrics", reason="bench scores need the eval extra")
    from tracker.apps.bench import run_benchmark

    kwargs: dict[str, Any] = {"sequences": ["TUD"], "use_images": False, "progress": False}
    local = run_benchmark(str(data_root / "MOT15"), out_dir=tmp_path / "local", **kwargs)
    remote = run_benchmark(str(data_root / "MOT15"), out_dir=tmp_path / "ray", engine="ray", **kwargs)

    def without_fps(table: str) -> list[list[str]]:  # columns: sequence MOTA IDF1 HOTA IDSW FP FN FPS input
        rows = [line.split() for line in table.splitlines()]
        return [r[:7] + r[8:] if len(r) >= 8 else r for r in rows]

    assert len(remote.runs) == 2
    assert without_fps(local.table()) == without_fps(remote.table())
    for r in local.runs:
        assert (tmp_path / "local" / f"{r.name}.txt").read_text() == (
            tmp_path / "ray" / f"{r.name}.txt"
        ).read_text()


@needs_ray
def test_a_bad_model_under_ray_is_one_error_line_before_ray_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bench --engine ray --reid bad.onnx` printed Ray's 20-line remote traceback (with colour codes);
    `run cameras.yaml --engine ray` exited 1 with 'camera actor failed: ray::_CameraActor.run() (pid=...)'
    and never said why, after writing empty outputs."""
    from tracker.__main__ import main

    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    from tiny_mot import write_sequence

    write_sequence(tmp_path / "DS", "S1", "1,-1,10,10,20,40,0.9\n")
    out = tmp_path / "out"
    argv = ["bench", str(tmp_path / "DS"), "--engine", "ray", "--reid", str(bad), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot load ONNX model {bad}")
    assert not out.exists()


@needs_ray
def test_a_remote_failure_reads_as_its_cause() -> None:
    from tracker.engines.ray_engine import _first_line, _local_error

    class Remote(Exception):
        """Stands for a RayTaskError: its text starts with the task's name, `cause` holds the error."""

        cause = ValueError("det.txt:3: non-numeric value 'abc'\nmore")

    remote = Remote("ray::_CameraActor.run() (pid=1, repr=<...>)\nTraceback ...")
    assert _first_line(remote) == "ValueError: det.txt:3: non-numeric value 'abc'"
    assert _local_error(remote) is Remote.cause  # type: ignore[arg-type]
