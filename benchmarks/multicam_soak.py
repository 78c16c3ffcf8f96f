"""Memory soak of cross-camera linking: synthetic people walking through 4 cameras for 100,000 frames.

People enter camera 0, walk through it (``--visible`` s), cross a blind strip (``--travel`` s) into
camera 1, and so on to camera 3, where they leave; a new person enters every ``--arrival`` s, so each
camera sees a few people at a time and local track ids grow for ever. Each person has a random unit
appearance (``--dim``), observed with noise. Frames go straight to
:class:`tracker.multicam.GlobalIdentityManager` (the per-camera trackers are not part of the soak).

Prints the resident set size (RSS, from ``/proc/self/status``) and what the manager holds at 1k,
10k, 50k and 100k frames per camera; with the default ``history_s`` (600 s) both must stay flat.

    python benchmarks/multicam_soak.py                     # 4 cameras x 100,000 frames
    python benchmarks/multicam_soak.py --frames 20000 --json benchmarks/results/multicam_soak.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracker.multicam import GlobalIdentityManager, MultiCamConfig


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Person:
    """One synthetic walker: appearance ``float32[D]`` (unit) and the time it enters camera 0."""

    appearance: np.ndarray
    start: float
    lane: float
    local_ids: list[int]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/multicam_soak.py", description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=100_000, help="frames per camera (default %(default)s)")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--visible", type=float, default=6.0, help="seconds a person is in one camera")
    p.add_argument("--travel", type=float, default=2.0, help="seconds between two cameras")
    p.add_argument("--arrival", type=float, default=1.5, help="seconds between two new people")
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--noise", type=float, default=0.08, help="per-frame appearance noise (std)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--history-s", type=float, default=600.0, help="MultiCamConfig.history_s (<0: None)")
    p.add_argument("--json", default=None, help="write the figures here")
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    cams = [f"cam{i}" for i in range(args.cameras)]
    cfg = MultiCamConfig(history_s=None if args.history_s < 0 else args.history_s, time_window_s=10.0)
    m = GlobalIdentityManager(cams, cfg)
    people: list[Person] = []
    next_local = dict.fromkeys(cams, 1)
    checkpoints = {1_000, 10_000, 50_000, 100_000, args.frames}
    rows = []
    t_start = time.perf_counter()
    span = args.visible + args.travel
    for k in range(args.frames):
        t = k / args.fps
        if not people or t - people[-1].start >= args.arrival:
            a = rng.normal(size=args.dim).astype(np.float32)
            people.append(Person(a / np.linalg.norm(a), t, float(rng.uniform(50, 500)), [0] * args.cameras))
        # people still walking: entered camera 0 less than cameras * span ago
        while people and t - people[0].start > args.cameras * span:
            people.pop(0)
        for ci, cam in enumerate(cams):
            ids, boxes, embs = [], [], []
            for person in people:
                dt = t - person.start - ci * span
                if not 0 <= dt < args.visible:
                    continue
                if person.local_ids[ci] == 0:
                    person.local_ids[ci] = next_local[cam]
                    next_local[cam] += 1
                x = 20 + 600 * dt / args.visible
                ids.append(person.local_ids[ci])
                boxes.append([x, person.lane, x + 40, person.lane + 100])
                e = person.appearance + rng.normal(0, args.noise, args.dim).astype(np.float32)
                embs.append(e / np.linalg.norm(e))
            m.observe(
                cam,
                t,
                np.array(ids, np.int64),
                np.array(boxes, np.float32).reshape(-1, 4),
                np.full(len(ids), 0.9, np.float32),
                np.array(embs, np.float32).reshape(len(ids), args.dim) if ids else None,
            )
        if k + 1 in checkpoints:
            s = m.summary()
            row = {
                "frames": k + 1,
                "rss_mb": round(rss_mb(), 1),
                "seconds": round(time.perf_counter() - t_start, 1),
                "held": s["held"],
                "global_ids": s["global_ids"],
                "links": s["links"],
                "decisions": s["decisions"],
                "max_appearance_distance": s["calibration"]["max_appearance_distance"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    payload = {
        "cameras": args.cameras,
        "fps": args.fps,
        "history_s": cfg.history_s,
        "rows": rows,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
