"""Our ``update()`` against the same code at an earlier commit, in one process, interleaved.

Answers "did this change make the tracker faster, and by how much" on a machine whose speed drifts
by 2x between runs: the earlier commit's ``tracker/`` package is extracted with ``git archive`` into a
temporary folder under the name ``tracker_base`` (the tracking core imports itself relatively, so both
copies load side by side), and for every round and sequence both versions run once on a fresh
instance, one after the other, alternating which goes first. The table reports each version's median
``update()`` time per sequence and the median over (round, sequence) pairs of the ratio base / new
(> 1: the working tree is faster). Inputs are built before timing, as in ``speed.py``.

Run from the repository root with the benchmark's environment::

    .venv-bench/bin/python benchmarks/speed_ab.py --base 096c6ce                 # MOT17 FRCNN + YOLOX
    .venv-bench/bin/python benchmarks/speed_ab.py --base 096c6ce --scenes 200,2000 --skip-mot --skip-yolox

It also checks that both versions give the same tracks on every frame (ids, boxes, detection index)
and says so: a speed-up that changes results is reported as such. ``--without-scipy`` hides SciPy's
compiled solvers from both versions (``lsap._compiled_lsa`` and ``_compiled_sparse_matching`` set to
``None`` in each copy), so the core install's pure-Python path is compared::

    .venv-bench/bin/python benchmarks/speed_ab.py --base 5450648 --scenes 200,2000 --skip-mot --skip-yolox --without-scipy

SIGINT / SIGTERM / SIGHUP stop the run after the (round, sequence) in hand: the table of the rounds
measured so far is printed, the extracted base package is removed, and the exit status is
128 + the signal number.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
sys.path.insert(0, str(REPO_ROOT))

import speed  # noqa: E402  (the inputs: MOT17 readers and synthetic scenes)

from tracker.signals import GracefulStop  # noqa: E402


def extract_base(commit: str, into: Path) -> None:
    """``tracker/`` of ``commit`` as the package ``into/tracker_base``."""
    archive = into / "base.tar"
    subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", "-o", str(archive), commit, "tracker"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (into / "tracker").rename(into / "tracker_base")


def run_clip(
    tracker_cls: Any, preset: str, frame_rate: float, inputs: list[Any]
) -> tuple[list[int], list[Any]]:
    """Per-update nanoseconds and the outputs of one fresh tracker over ``inputs``."""
    t = tracker_cls(preset, frame_rate=frame_rate)
    times, outs = [], []
    for x in inputs:
        a = time.perf_counter_ns()
        out = t.update(x)
        times.append(time.perf_counter_ns() - a)
        outs.append(out)
    return times, outs


def same_tracks(a: list[Any], b: list[Any]) -> bool:
    return all(
        np.array_equal(x.ids, y.ids)
        and np.array_equal(x.boxes, y.boxes)
        and np.array_equal(x.det_index, y.det_index)
        for x, y in zip(a, b, strict=True)
    )


def compare(
    label: str,
    clips: list[speed.Clip],
    preset: str,
    rounds: int,
    without_scipy: bool = False,
    stop: GracefulStop | None = None,
) -> None:
    """Time both versions over ``clips`` and print the table; after a stop request no further
    (round, clip) starts, and the table covers the pairs measured (every one has both versions)."""
    impls = {}
    for name in ("tracker_base", "tracker"):
        impls[name] = (
            importlib.import_module(name + ".core.tracker").Tracker,
            importlib.import_module(name + ".types").Detections,
        )
        if without_scipy:  # the core install: the pure-Python solvers in both copies
            lsap = importlib.import_module(name + ".association.lsap")
            lsap._compiled_lsa = lsap._compiled_sparse_matching = None
    inputs = {
        n: [[d(b, s) for b, s in zip(q.boxes, q.scores, strict=True)] for q in clips]
        for n, (_, d) in impls.items()
    }
    med: dict[tuple[str, str, int], float] = {}
    identical = True
    order = list(impls)
    for r in range(rounds):
        for i, q in enumerate(clips):
            if stop is not None and stop.requested:
                break
            outs = {}
            for n in order if (r + i) % 2 == 0 else order[::-1]:
                times, outs[n] = run_clip(impls[n][0], preset, q.frame_rate, inputs[n][i])
                med[(n, q.name, r)] = statistics.median(times) / 1e3
            identical &= same_tracks(outs["tracker_base"], outs["tracker"])
    solvers = ", without SciPy" if without_scipy else ""
    done = sorted({r for (n, _, r) in med if n == "tracker"})
    print(f"\n{label}: preset {preset!r}{solvers}, {len(done)} interleaved rounds (median update() time, us)")
    print(f"{'sequence':20s} {'base':>9s} {'new':>9s} {'base/new':>9s}")
    ratios = []
    for q in clips:
        measured = [r for r in done if ("tracker", q.name, r) in med]
        if not measured:
            continue
        b = statistics.median(med[("tracker_base", q.name, r)] for r in measured)
        n = statistics.median(med[("tracker", q.name, r)] for r in measured)
        ratios += [med[("tracker_base", q.name, r)] / med[("tracker", q.name, r)] for r in measured]
        print(f"{q.name:20s} {b:9.0f} {n:9.0f} {b / n:9.2f}")
    if ratios:
        print(f"paired speed-up (median over round x sequence): {statistics.median(ratios):.2f}x")
    print(f"same tracks on every frame: {'yes' if identical else 'NO'}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--base", required=True, help="the earlier commit (anything git rev-parse takes)")
    p.add_argument("--preset", default="default", help="our preset to time (default: default)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--scenes", default="", help="synthetic scene sizes, comma separated (default: none)")
    p.add_argument("--frames", type=int, default=60, help="frames per synthetic scene (default 60)")
    p.add_argument("--skip-mot", action="store_true", help="skip MOT17 FRCNN")
    p.add_argument("--skip-yolox", action="store_true", help="skip the YOLOX val half")
    p.add_argument(
        "--without-scipy", action="store_true", help="hide SciPy's solvers from both versions (core install)"
    )
    args = p.parse_args(argv)
    with GracefulStop() as stop, tempfile.TemporaryDirectory() as tmp:
        extract_base(args.base, Path(tmp))
        sys.path.insert(0, tmp)
        runs: list[tuple[str, Any]] = []
        if not args.skip_mot:
            runs.append(
                ("MOT17 FRCNN public detections", lambda: speed.load_mot17(speed.DEFAULT_MOT_ROOT)[0])
            )
        if not args.skip_yolox:
            runs.append(
                (
                    "MOT17 val half, YOLOX-X detections",
                    lambda: speed.load_mot17(speed.DEFAULT_YOLOX_ROOT, detector="YOLOX")[0],
                )
            )
        for n in [int(x) for x in args.scenes.split(",") if x]:
            runs.append(
                (f"synthetic scene, {n} objects", lambda n=n: [speed.synthetic_scene(n, args.frames, seed=n)])
            )
        for label, clips in runs:
            if stop.requested:
                break
            compare(label, clips(), args.preset, args.rounds, args.without_scipy, stop)
    if stop.requested:
        print(f"\nstopped by {stop.signal_name}: the tables above hold the rounds finished before it")
    return stop.exit_status(default=0)


if __name__ == "__main__":
    raise SystemExit(main())
