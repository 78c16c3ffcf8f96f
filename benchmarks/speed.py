"""Speed benchmark: our ``Tracker`` against roboflow ``trackers`` (SORT, ByteTrack), side by side.

Only ``update()`` is timed (``time.perf_counter_ns`` around each call). Every input is built before
timing starts: our :class:`tracker.Detections` and roboflow's ``sv.Detections`` for every frame, so
parsing, detection and ReID inference are excluded.

Three inputs:

1. MOT17 train, the 7 FRCNN sequences' public detections (full length, no images);
2. MOT17 val half with YOLOX-X detections (``../shared/data/MOT17-YOLOX-val-half``, 7 sequences);
3. synthetic scenes with 50/200/500/2000 random walkers in a 1920x1080 frame, 300 frames each.

The machine this runs on is shared and noisy, so the trackers are interleaved: for every round and
every sequence (or scene) each tracker runs once, on a fresh instance, one after the other, and the
order of the trackers rotates from round to round. All samples of all rounds are pooled. The tables
report the ratio of roboflow ByteTrack's median to each tracker's median (> 1: faster than roboflow
ByteTrack), and, as a noise-robust cross-check, the median over (round, sequence) pairs of that same
ratio measured within the pair ("paired"). The synthetic sizes run back to back within each round, and
a last table gives the time per object per update at each size over that at the first size ("growth";
"paired": the median over rounds of that ratio within the round).

SIGINT / SIGTERM / SIGHUP stop the run after the (round, sequence) in hand: the tables of what was
measured are printed, the JSON is written whole with ``"stopped": "<signal>"`` (``"end"`` after a full
run), and the exit status is 128 + the signal number (a second signal leaves at once, writing nothing).

Run from the repository root with the benchmark's own environment (see ``benchmarks/README.md``)::

    .venv-bench/bin/python benchmarks/speed.py            # full run, ~10 min on 2 cores
    .venv-bench/bin/python benchmarks/speed.py --quick    # smoke run, seconds
    .venv-bench/bin/python benchmarks/speed.py --profile default   # cProfile our update()
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv
from numpy.typing import NDArray
from trackers import ByteTrackTracker, SORTTracker

from tracker import Detections, Tracker
from tracker.association import lsap
from tracker.config import available_presets, load_config
from tracker.io.atomic import write_text_atomic
from tracker.io.mot import read_seqinfo
from tracker.signals import GracefulStop

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MOT_ROOT = REPO_ROOT.parent / "shared" / "data" / "MOT17"
DEFAULT_YOLOX_ROOT = REPO_ROOT.parent / "shared" / "data" / "MOT17-YOLOX-val-half"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "speed.json"
MOT17_SEQUENCES = ("02", "04", "05", "09", "10", "11", "13")
REFERENCE = "rf-bytetrack"
"""Name of the tracker every ratio is taken against."""

Boxes = NDArray[np.float32]
Scores = NDArray[np.float32]


# --------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Clip:
    """One input sequence (MOT17 sequence or synthetic scene): per-frame boxes ``float32[N,4]`` xyxy and scores ``float32[N]`` in [0, 1]."""

    name: str
    frame_rate: float
    boxes: list[Boxes]
    scores: list[Scores]
    num_objects: int | None = None
    """Number of true objects (synthetic scenes only)."""

    def __len__(self) -> int:
        return len(self.boxes)


def _read_det_local(path: Path, num_frames: int) -> tuple[list[Boxes], list[Scores]]:
    """Minimal MOTChallenge ``det.txt`` reader (7+ columns ``frame,-1,x,y,w,h,score``, any row order)."""
    table = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    frames = table[:, 0].astype(np.int64)
    boxes = table[:, 2:6].astype(np.float32)
    boxes[:, 2:] += boxes[:, :2]
    scores = table[:, 6].astype(np.float32)
    order = np.argsort(frames, kind="stable")  # keep the file order within a frame
    frames, boxes, scores = frames[order], boxes[order], scores[order]
    starts = np.searchsorted(frames, np.arange(1, num_frames + 2))
    return (
        [boxes[starts[i] : starts[i + 1]] for i in range(num_frames)],
        [scores[starts[i] : starts[i + 1]] for i in range(num_frames)],
    )


def _read_det(path: Path, num_frames: int) -> tuple[list[Boxes], list[Scores], str]:
    """Per-frame boxes and raw scores of ``det.txt`` for frames ``1..num_frames``.

    Uses the package's ``tracker.io.mot.read_detections`` when it is available, else a local parser.
    Returns the boxes, the scores and the name of the reader used.
    """
    try:
        from tracker.io.mot import read_detections
    except ImportError:
        return (*_read_det_local(path, num_frames), "local")
    dets = read_detections(path)
    frames = [dets[t] for t in range(1, num_frames + 1)]
    boxes = [np.asarray(f.boxes, np.float32).reshape(-1, 4) for f in frames]
    scores = [np.asarray(f.scores, np.float32).reshape(-1) for f in frames]
    return boxes, scores, "tracker.io.mot"


def load_mot17(root: Path, max_frames: int | None = None, detector: str = "FRCNN") -> tuple[list[Clip], str]:
    """The 7 MOT17 train sequences' detections ``MOT17-NN-<detector>`` (scores already in [0, 1])."""
    seqs = []
    reader = "local"
    for num in MOT17_SEQUENCES:
        seq_dir = root / "train" / f"MOT17-{num}-{detector}"
        try:
            info = read_seqinfo(seq_dir)  # the package's parser: errors name the file and line
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc} (set --mot-root or TRACKER_DATA)") from None
        n = info.seq_length
        if max_frames is not None:
            n = min(n, max_frames)
        boxes, scores, reader = _read_det(seq_dir / "det" / "det.txt", n)
        for s in scores:
            if len(s) and (s.min() < 0 or s.max() > 1):
                raise ValueError(f"{seq_dir}: detection scores outside [0, 1]")
        seqs.append(Clip(seq_dir.name, info.frame_rate, boxes, scores))
    return seqs, reader


def synthetic_scene(
    num_objects: int,
    num_frames: int,
    seed: int,
    width: int = 1920,
    height: int = 1080,
    miss_rate: float = 0.05,
    false_positives: float = 3.0,
) -> Clip:
    """Random walkers (constant velocity plus noise, bouncing off the borders) seen by a noisy detector.

    Boxes are pedestrian-like (``w`` 20-80 px, ``h`` 2-3 x ``w``); each detection is jittered, a
    ``miss_rate`` fraction is dropped, and Poisson(``false_positives``) random boxes with low-to-mid
    scores are added per frame. True detections score mostly above 0.6 (80 %), the rest 0.1-0.6, so
    both of ByteTrack's association stages are exercised. Rows are shuffled within each frame.
    """
    rng = np.random.default_rng(seed)
    w = rng.uniform(20, 80, num_objects)
    h = w * rng.uniform(2, 3, num_objects)
    cx = rng.uniform(w / 2, width - w / 2)
    cy = rng.uniform(h / 2, height - h / 2)
    vx = rng.normal(0, 3, num_objects)
    vy = rng.normal(0, 1.5, num_objects)
    boxes_out: list[Boxes] = []
    scores_out: list[Scores] = []
    for _ in range(num_frames):
        vx += rng.normal(0, 0.3, num_objects)
        vy += rng.normal(0, 0.15, num_objects)
        cx += vx
        cy += vy
        for c, v, half, lim in ((cx, vx, w / 2, width), (cy, vy, h / 2, height)):
            out = (c < half) | (c > lim - half)
            v[out] *= -1
            np.clip(c, half, lim - half, out=c)
        seen = rng.random(num_objects) >= miss_rate
        k = int(seen.sum())
        dw = w[seen] * (1 + rng.normal(0, 0.04, k))
        dh = h[seen] * (1 + rng.normal(0, 0.04, k))
        dx = cx[seen] + rng.normal(0, 0.05, k) * w[seen]
        dy = cy[seen] + rng.normal(0, 0.05, k) * h[seen]
        det = np.stack([dx - dw / 2, dy - dh / 2, dx + dw / 2, dy + dh / 2], axis=1)
        sc = np.where(rng.random(k) < 0.8, rng.uniform(0.6, 1.0, k), rng.uniform(0.1, 0.6, k))
        nfp = int(rng.poisson(false_positives))
        fw = rng.uniform(20, 80, nfp)
        fh = fw * rng.uniform(2, 3, nfp)
        fx = rng.uniform(0, width - fw)
        fy = rng.uniform(0, height - fh)
        fp = np.stack([fx, fy, fx + fw, fy + fh], axis=1)
        det = np.concatenate([det, fp])
        sc = np.concatenate([sc, rng.uniform(0.1, 0.7, nfp)])
        det[:, 0::2] = np.clip(det[:, 0::2], 0, width)
        det[:, 1::2] = np.clip(det[:, 1::2], 0, height)
        valid = (det[:, 2] - det[:, 0] >= 1) & (det[:, 3] - det[:, 1] >= 1)
        perm = rng.permutation(np.flatnonzero(valid))
        boxes_out.append(det[perm].astype(np.float32))
        scores_out.append(sc[perm].astype(np.float32))
    return Clip(f"synthetic-{num_objects}", 30.0, boxes_out, scores_out, num_objects)


# --------------------------------------------------------------------------------------------------
# Trackers under test


@dataclass(frozen=True)
class Contender:
    """A tracker under test.

    Attributes:
        name: short name used in tables and JSON.
        make: builds a fresh instance for a sequence, given its frame rate.
        prepare: converts one frame's boxes/scores to the tracker's input type (done before timing).
        count: number of output tracks in one ``update()`` result (done after timing).
    """

    name: str
    make: Callable[[float], Any]
    prepare: Callable[[Boxes, Scores], Any]
    count: Callable[[Any], int]


def _ours_input(boxes: Boxes, scores: Scores) -> Detections:
    return Detections(boxes, scores, np.zeros(len(boxes), np.int64))


def _sv_input(boxes: Boxes, scores: Scores) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.array(scores, np.float32),
        class_id=np.zeros(len(boxes), int),
    )


def _sv_count(out: sv.Detections) -> int:
    """Roboflow trackers return every detection; untracked ones carry ``tracker_id == -1``."""
    return 0 if out.tracker_id is None else int(np.count_nonzero(out.tracker_id != -1))


def check_presets(names: Sequence[str]) -> list[str]:
    """The presets to time. They get detections only (no frames, no embeddings), so each runs its
    motion path: exactly the cost of ``update()`` excluding detection and ReID inference."""
    known = available_presets()
    bad = [n for n in names if n not in known]
    if bad:
        raise SystemExit(f"unknown preset(s) {bad}; available: {known}")
    return list(names)


class WithoutScipy:
    """Our tracker as a core install runs it: every ``update()`` runs with SciPy's compiled solvers
    hidden from :mod:`tracker.association.lsap` (restored after each call, so the other contenders of
    the same process keep them). Only the assignment solver uses SciPy."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def update(self, detections: Detections) -> Any:
        saved = (lsap._compiled_lsa, lsap._compiled_sparse_matching)
        lsap._compiled_lsa = lsap._compiled_sparse_matching = None
        try:
            return self.tracker.update(detections)
        finally:
            lsap._compiled_lsa, lsap._compiled_sparse_matching = saved


def contenders(presets: Sequence[str], without_scipy: Sequence[str] = ()) -> list[Contender]:
    """Our tracker with each preset (and each of ``without_scipy`` again without SciPy's compiled
    solvers, :class:`WithoutScipy`), then roboflow SORT and ByteTrack with their defaults (only
    ``frame_rate`` set to the sequence's)."""
    out = [
        Contender(
            f"ours-{p}",
            (lambda fps, p=p: Tracker(p, frame_rate=fps)),
            _ours_input,
            len,
        )
        for p in presets
    ]
    out += [
        Contender(
            f"ours-{p}-noscipy",
            (lambda fps, p=p: WithoutScipy(Tracker(p, frame_rate=fps))),
            _ours_input,
            len,
        )
        for p in without_scipy
    ]
    out.append(Contender("rf-sort", lambda fps: SORTTracker(frame_rate=fps), _sv_input, _sv_count))
    out.append(Contender(REFERENCE, lambda fps: ByteTrackTracker(frame_rate=fps), _sv_input, _sv_count))
    return out


# --------------------------------------------------------------------------------------------------
# Timing


@dataclass
class Samples:
    """Timings of one tracker on one input set, pooled over sequences and rounds."""

    ns: list[int] = field(default_factory=list)
    """Every ``update()`` duration in nanoseconds."""
    tracks: int = 0
    """Sum of output tracks over all timed frames."""
    frames: int = 0
    run_medians: dict[tuple[int, str], float] = field(default_factory=dict)
    """Median ns per (round, sequence) run, for paired ratios."""
    per_sequence: dict[str, list[int]] = field(default_factory=dict)
    """Every ``update()`` duration in ns, by sequence (all rounds)."""
    per_sequence_tracks: dict[str, int] = field(default_factory=dict)
    """Sum of output tracks by sequence (all rounds)."""

    def only(self, sequence: str) -> Samples:
        """The samples of one sequence (all rounds)."""
        ns = self.per_sequence.get(sequence, [])
        return Samples(
            ns=list(ns),
            tracks=self.per_sequence_tracks.get(sequence, 0),
            frames=len(ns),
            run_medians={k: v for k, v in self.run_medians.items() if k[1] == sequence},
            per_sequence={sequence: list(ns)} if ns else {},
            per_sequence_tracks={sequence: self.per_sequence_tracks.get(sequence, 0)},
        )


def run_once(c: Contender, seq: Clip, inputs: list[Any]) -> tuple[list[int], int]:
    """One fresh instance over every frame of ``seq``; returns per-update ns and total output tracks."""
    trk = c.make(seq.frame_rate)
    times = [0] * len(inputs)
    outs: list[Any] = [None] * len(inputs)
    clock = time.perf_counter_ns
    for i, x in enumerate(inputs):
        t0 = clock()
        outs[i] = trk.update(x)
        times[i] = clock() - t0
    return times, sum(c.count(o) for o in outs)


def bench(
    cs: list[Contender], seqs: list[Clip], repeats: int, label: str, stop: GracefulStop | None = None
) -> dict[str, Samples]:
    """Interleaved runs: for each round, each sequence, each tracker (order rotating per round).
    After a stop request (``stop``), no further (round, sequence) starts: every one measured has all
    the trackers, so the paired ratios stay paired."""
    inputs = {
        (c.name, s.name): [c.prepare(b, sc) for b, sc in zip(s.boxes, s.scores, strict=True)]
        for c in cs
        for s in seqs
    }
    # Warm-up (imports, first-call caches): a short pass per tracker, not recorded.
    for c in cs:
        warm = seqs[0]
        run_once(c, warm, inputs[(c.name, warm.name)][:50])
    res = {c.name: Samples() for c in cs}
    for r in range(repeats):
        order = cs[r % len(cs) :] + cs[: r % len(cs)]
        for s in seqs:
            if stop is not None and stop.requested:
                return res
            for c in order:
                gc.collect()
                times, ntracks = run_once(c, s, inputs[(c.name, s.name)])
                smp = res[c.name]
                smp.ns.extend(times)
                smp.tracks += ntracks
                smp.frames += len(times)
                smp.run_medians[(r, s.name)] = float(np.median(times))
                smp.per_sequence.setdefault(s.name, []).extend(times)
                smp.per_sequence_tracks[s.name] = smp.per_sequence_tracks.get(s.name, 0) + ntracks
            print(f"  [{label}] round {r + 1}/{repeats} {s.name} done", file=sys.stderr, flush=True)
    return res


def summarise(res: dict[str, Samples], num_objects: int | None = None) -> list[dict[str, Any]]:
    """Per-tracker statistics (ms) and ratios against :data:`REFERENCE`."""
    ref = res[REFERENCE]
    ref_median = float(np.median(ref.ns))
    rows = []
    for name, s in res.items():
        a = np.asarray(s.ns, np.float64)
        med = float(np.median(a))
        paired = [ref.run_medians[k] / v for k, v in s.run_medians.items() if k in ref.run_medians and v > 0]
        row: dict[str, Any] = {
            "tracker": name,
            "updates": len(a),
            "median_ms": med / 1e6,
            "p95_ms": float(np.percentile(a, 95)) / 1e6,
            "mean_ms": float(a.mean()) / 1e6,
            "ratio_vs_rf_bytetrack": ref_median / med if med > 0 else float("nan"),
            "paired_ratio_vs_rf_bytetrack": float(statistics.median(paired)) if paired else float("nan"),
            "tracks_per_frame": s.tracks / s.frames if s.frames else 0.0,
            "per_sequence_median_ms": {k: float(np.median(v)) / 1e6 for k, v in s.per_sequence.items()},
        }
        if num_objects:
            row["num_objects"] = num_objects
            row["median_us_per_object"] = med / 1e3 / num_objects
        rows.append(row)
    return rows


def per_object_growth(
    res: dict[str, Samples], sizes: Sequence[int], names: Sequence[str]
) -> list[dict[str, Any]]:
    """Time per object per update at each size over that at the first size, per tracker: by pooled
    medians, and paired (the median over rounds of the ratio within the round, where the sizes ran
    back to back). Sizes with no complete round are left out."""
    rows = []
    n0, s0 = sizes[0], names[0]
    for tracker, smp in res.items():
        base = smp.per_sequence.get(s0)
        if not base:
            continue
        base_med = float(np.median(base)) / n0
        for n, name in zip(sizes[1:], names[1:], strict=True):
            ns = smp.per_sequence.get(name)
            if not ns:
                continue
            paired = [
                (v / n) / (smp.run_medians[(r, s0)] / n0)
                for (r, seq), v in smp.run_medians.items()
                if seq == name and (r, s0) in smp.run_medians
            ]
            rows.append(
                {
                    "tracker": tracker,
                    "objects": n,
                    "growth": float(np.median(ns)) / n / base_med,
                    "paired_growth": float(statistics.median(paired)) if paired else float("nan"),
                }
            )
    return rows


def format_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """Plain aligned text table; ``columns`` are ``(key, header, format spec)``."""
    cells = [[h for _, h, _ in columns]]
    cells += [[format(r[k], f) if f else str(r[k]) for k, _, f in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for j, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


MOT_COLUMNS = [
    ("tracker", "tracker", ""),
    ("median_ms", "median ms", ".3f"),
    ("p95_ms", "p95 ms", ".3f"),
    ("mean_ms", "mean ms", ".3f"),
    ("ratio_vs_rf_bytetrack", "rf-BT/x", ".2f"),
    ("paired_ratio_vs_rf_bytetrack", "paired", ".2f"),
    ("tracks_per_frame", "tracks/frame", ".2f"),
]
GROWTH_COLUMNS = [
    ("tracker", "tracker", ""),
    ("objects", "objects", "d"),
    ("growth", "growth", ".2f"),
    ("paired_growth", "paired", ".2f"),
]
SYN_COLUMNS = [
    ("num_objects", "objects", "d"),
    *MOT_COLUMNS[:3],
    ("median_us_per_object", "us/object", ".2f"),
    *MOT_COLUMNS[4:],
]


# --------------------------------------------------------------------------------------------------
# Profile


def profile_ours(preset: str, seqs: list[Clip], top: int = 15) -> str:
    """cProfile our tracker's ``update()`` over every frame of ``seqs`` (inputs prepared beforehand);
    returns the top functions by own time (tottime)."""
    inputs = [[_ours_input(b, s) for b, s in zip(q.boxes, q.scores, strict=True)] for q in seqs]
    trackers = [Tracker(preset, frame_rate=q.frame_rate) for q in seqs]
    prof = cProfile.Profile()
    prof.enable()
    for trk, xs in zip(trackers, inputs, strict=True):
        for x in xs:
            trk.update(x)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Main


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("tracker", "trackers", "supervision", "numpy", "scipy", "filterpy", "opencv-python"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _provenance(presets: Sequence[str]) -> dict[str, Any]:
    """Git commit of the checkout, whether ``tracker/`` has uncommitted changes, and the presets used."""
    out: dict[str, Any] = {}
    try:
        git = ["git", "-C", str(REPO_ROOT)]
        out["commit"] = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "tracker"], capture_output=True, text=True
        )
        out["tracker_dirty"] = bool(status.stdout.strip())
    except OSError:
        pass
    out["presets"] = {p: dataclasses.asdict(load_config(p)) for p in presets}
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ.get("TRACKER_DATA")
    default_root = Path(env) / "MOT17" if env else DEFAULT_MOT_ROOT
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--mot-root",
        type=Path,
        default=default_root,
        help="MOT17 folder holding train/ (default: $TRACKER_DATA/MOT17, else ../shared/data/MOT17 "
        "relative to the repository root)",
    )
    p.add_argument(
        "--yolox-root",
        type=Path,
        default=DEFAULT_YOLOX_ROOT,
        help="MOT17 YOLOX-X detections folder holding train/MOT17-NN-YOLOX (default: "
        "../shared/data/MOT17-YOLOX-val-half relative to the repository root)",
    )
    p.add_argument("--skip-yolox", action="store_true", help="skip the YOLOX part")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument(
        "--sizes", default="50,200,500,2000", help="synthetic scene sizes (objects), comma separated"
    )
    p.add_argument("--frames", type=int, default=300, help="frames per synthetic scene (default 300)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic scenes")
    p.add_argument("--presets", default="default,bytetrack", help="our presets to time (comma-separated)")
    p.add_argument(
        "--without-scipy",
        default="",
        metavar="PRESETS",
        help="also time these presets with SciPy's compiled assignment solvers hidden, as a core "
        "install (no SciPy) runs them: contenders ours-PRESET-noscipy (comma-separated; default none)",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round, 40 frames per sequence/scene")
    p.add_argument("--skip-mot", action="store_true", help="skip the MOT17 part")
    p.add_argument("--skip-synthetic", action="store_true", help="skip the synthetic part")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    p.add_argument(
        "--profile",
        metavar="PRESET",
        help="instead of benchmarking, cProfile our tracker with PRESET on MOT17 and print the top 15",
    )
    p.add_argument(
        "--profile-scene",
        type=int,
        metavar="N",
        help="with --profile: profile on the synthetic scene of N objects (--frames long) instead of MOT17",
    )
    args = p.parse_args(argv)
    if args.repeats < 1 or args.frames < 1:
        p.error("--repeats and --frames must be >= 1")
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        p.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if args.quick:
        args.repeats, args.frames = 1, 40
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    max_frames = 40 if args.quick else None

    if args.profile:
        if args.profile_scene:
            seqs = [synthetic_scene(args.profile_scene, args.frames, seed=args.seed + args.profile_scene)]
        else:
            seqs, _ = load_mot17(args.mot_root, max_frames)
        where = seqs[0].name if args.profile_scene else "MOT17"
        print(f"cProfile of Tracker({args.profile!r}).update() over {where} ({sum(map(len, seqs))} frames)")
        print(profile_ours(args.profile, seqs))
        return 0

    presets = check_presets(args.presets.split(","))
    no_scipy = check_presets([x for x in args.without_scipy.split(",") if x.strip()])
    cs = contenders(presets, no_scipy)
    versions = _versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"trackers: {', '.join(c.name for c in cs)} (ours on detections only: motion path, no ReID)")
    print(
        f"repeats: {args.repeats} interleaved rounds; ratio 'rf-BT/x' = rf-bytetrack median / tracker median"
    )
    result: dict[str, Any] = {
        "versions": versions,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
        },
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "provenance": _provenance(presets),
    }

    with GracefulStop() as stop:
        if not args.skip_mot:
            measured = _bench_mot17(
                cs,
                args.mot_root,
                max_frames,
                args.repeats,
                stop,
                "MOT17",
                "MOT17 train FRCNN public detections",
            )
            if measured is None:
                return _finish(args, result, stop)
            result["mot17"] = measured

        if not args.skip_yolox and not stop.requested:
            measured = _bench_mot17(
                cs,
                args.yolox_root,
                max_frames,
                args.repeats,
                stop,
                "YOLOX",
                "MOT17 val half, YOLOX-X detections",
                detector="YOLOX",
            )
            if measured is None:
                return _finish(args, result, stop)
            result["yolox"] = {"root": str(args.yolox_root), **measured}

        if not args.skip_synthetic and args.sizes and not stop.requested:
            print(f"\nSynthetic scenes: {args.frames} frames, 1920x1080, 5% misses, ~3 false positives/frame")
            # every size in one interleaved bench: within a round the sizes run back to back, so
            # the per-object growth is measured within each round, not across minutes of drift
            scenes = [synthetic_scene(n, args.frames, seed=args.seed + n) for n in args.sizes]
            res = bench(cs, scenes, args.repeats, "synthetic", stop)
            syn_rows = []
            for n, scene in zip(args.sizes, scenes, strict=True):
                measured = _summary_or_none({k: v.only(scene.name) for k, v in res.items()}, num_objects=n)
                if measured is None:
                    break
                syn_rows.extend(measured)
            growth = per_object_growth(res, args.sizes, [s.name for s in scenes])
            if syn_rows:
                print(format_table(syn_rows, SYN_COLUMNS))
            if growth:
                print(
                    f"\nTime per object per update at N objects / at {args.sizes[0]} (1.00 = linear in objects):"
                )
                print(format_table(growth, GROWTH_COLUMNS))
            result["synthetic"] = {
                "frames": args.frames,
                "sizes": args.sizes,
                "results": syn_rows,
                "per_object_growth": growth,
            }

    return _finish(args, result, stop)


def _bench_mot17(
    cs: list[Contender],
    root: Path,
    max_frames: int | None,
    repeats: int,
    stop: GracefulStop,
    label: str,
    title: str,
    detector: str = "FRCNN",
) -> dict[str, Any] | None:
    """Time the contenders on one set of MOT17 detections (:func:`load_mot17`), print its table and
    return its JSON section, or ``None`` when a stop came before anything was measured."""
    seqs, reader = load_mot17(root, max_frames, detector=detector)
    nframes = sum(map(len, seqs))
    ndets = sum(len(b) for q in seqs for b in q.boxes)
    print(
        f"\n{title}: {len(seqs)} sequences, {nframes} frames, {ndets / nframes:.1f} detections/frame (reader: {reader})"
    )
    rows = _summary_or_none(bench(cs, seqs, repeats, label, stop))
    if rows is None:
        return None
    print(format_table(rows, MOT_COLUMNS))
    return {
        "sequences": [q.name for q in seqs],
        "frames": nframes,
        "detections_per_frame": ndets / nframes,
        "reader": reader,
        "results": rows,
    }


def _summary_or_none(res: dict[str, Samples], num_objects: int | None = None) -> list[dict[str, Any]] | None:
    """:func:`summarise`, or ``None`` when a stop came before any (round, sequence) was measured."""
    if not res[REFERENCE].ns:
        return None
    return summarise(res, num_objects)


def _finish(args: argparse.Namespace, result: dict[str, Any], stop: GracefulStop) -> int:
    """Write the JSON (whole: a temporary file renamed over it) with what was measured and how the run
    ended (``stopped``: ``end`` or the signal's name); exit status 0, or 128 + the signal number."""
    result["stopped"] = stop.signal_name or "end"
    if stop.requested:
        print(f"\nstopped by {stop.signal_name}: the tables above hold the runs finished before it")
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return stop.exit_status(default=0)


if __name__ == "__main__":
    sys.exit(main())
