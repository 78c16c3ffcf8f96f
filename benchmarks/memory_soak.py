"""Memory of ``run`` on an endless source: RSS at 1k / 10k / 100k frames must stay flat.

A synthetic live source (no known length, small frames) with ~20 people walking across and leaving
(so new track ids keep coming) runs through :func:`tracker.apps.run.run_video` with every streaming
output on except the video (MOT txt, JSON lines, gallery with a tiny embedder). An extra sink reads
the process's resident set size (``/proc/self/status`` VmRSS) at the checkpoints.

    python benchmarks/memory_soak.py                      # 100,000 frames, ~3-5 min on 2 cores
    python benchmarks/memory_soak.py --frames 20000 --checkpoints 1000,10000,20000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tracker.apps.run import run_video
from tracker.io.sources import FrameSource
from tracker.pipeline import FrameResult
from tracker.types import Detections

WIDTH, HEIGHT, PEOPLE = 320, 240, 20


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


class LiveSynthetic(FrameSource):
    """An endless (live) source of grey frames; ``limit`` ends it (the loop sees no length)."""

    def __init__(self, limit: int) -> None:
        super().__init__("live", "synthetic-live", 30.0, None)
        self.limit = limit
        self._frame = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
        self._open_first()

    def _read(self, index: int) -> NDArray[np.uint8] | None:
        return self._frame if index <= self.limit else None

    def _release(self) -> None:
        pass


class WalkingPeople:
    """``PEOPLE`` boxes crossing the frame at different speeds; each person re-enters as a new one."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.y = rng.uniform(20, HEIGHT - 80, PEOPLE)
        self.speed = rng.uniform(1.0, 3.0, PEOPLE)
        self.phase = rng.uniform(0, WIDTH, PEOPLE)

    def detect(self, frame: NDArray[np.uint8] | None, frame_index: int) -> Detections:
        x = (self.phase + self.speed * frame_index) % (WIDTH + 60) - 30
        boxes = np.stack([x, self.y, x + 24, self.y + 60], axis=1).astype(np.float32)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, WIDTH)
        keep = (boxes[:, 2] - boxes[:, 0]) > 4
        return Detections(boxes[keep], np.full(int(keep.sum()), 0.9, np.float32))


class TinyEmbedder:
    """A 16-d colour-statistics embedder, so the gallery sink has work to do."""

    dim = 16

    def embed(self, image: NDArray[np.uint8], boxes: NDArray[np.float32]) -> NDArray[np.float32]:
        out = np.zeros((len(boxes), 16), np.float32)
        out[:, 0] = 1.0
        out[:, 1:5] = boxes / 320.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class RssProbe:
    """A sink that records RSS at the given frame numbers."""

    def __init__(self, checkpoints: list[int]) -> None:
        self.checkpoints = set(checkpoints)
        self.rss: dict[int, float] = {}

    def write(self, result: FrameResult) -> None:
        if result.frame_index in self.checkpoints:
            self.rss[result.frame_index] = rss_mb()
            print(f"frame {result.frame_index:>7}: RSS {self.rss[result.frame_index]:.1f} MiB", flush=True)

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--checkpoints", default="1000,10000,50000,100000")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    checkpoints = [int(c) for c in args.checkpoints.split(",") if int(c) <= args.frames]
    probe = RssProbe(checkpoints)
    with tempfile.TemporaryDirectory() as out:
        summary = run_video(
            LiveSynthetic(args.frames),
            WalkingPeople(),
            embedder=TinyEmbedder(),
            out_dir=out,
            write_video=False,
            progress=False,
            extra_sinks=[probe],
        )
        txt = Path(summary.outputs["mot"]).stat().st_size / 1e6
    values = [probe.rss[c] for c in checkpoints]
    spread = max(values) - min(values)
    print(
        f"{summary.frames} frames, {summary.unique_tracks} track ids, {summary.fps or 0:.0f} frames/s, "
        f"MOT txt {txt:.1f} MB on disk; RSS spread over checkpoints {spread:.1f} MiB"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "frames": summary.frames,
                    "track_ids": summary.unique_tracks,
                    "rss_mib": probe.rss,
                    "spread_mib": spread,
                },
                indent=1,
            )
            + "\n"
        )
    return 0 if spread <= 10.0 else 1


if __name__ == "__main__":
    sys.exit(main())
