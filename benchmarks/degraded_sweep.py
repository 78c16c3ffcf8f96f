"""Association candidates on the tuning sets plus two degraded copies of the YOLOX train half.

Why: on ``MOT17-YOLOX-train-half`` the YOLOX-X detector was trained on the very frames it detects, so
it misses few people and places its boxes tightly there. A detector on frames it has never seen (the
val half, a user's camera) misses more, flickers and places its boxes less well. A default chosen on
the clean train half can lean on that. This script makes two copies of the train half with the
detections spoiled in a fixed, seeded way (nothing is learnt from any held-out set):

* ``train-drop15``: each detection dropped independently with probability 0.15 (flicker);
* ``train-noisy``: the same drops, then each box edge moved by a normal error of 4 % of the box
  width (x) or height (y), then 10 % more detections as false positives (copies of random detections
  moved sideways by 1-3 box widths, scores uniform in [0.1, 0.6]).

Copies go to ``out/degraded/<name>/`` (built once, seed 0; the ground truth is linked, not copied).

Each candidate (a preset plus overrides, as in ``association_sweep.py``) is scored on the eight
tuning sets: motion only on ``yolox-train``, ``mot17`` (FRCNN), ``pets`` (PETS09-S2L1, images
ignored), ``train-drop15`` and ``train-noisy``; and on PETS09-S2L1 with its images
(``pets-frames``: camera motion compensation, no ReID; ``pets-osnet`` and ``pets-ours``: with OSNet
x0.25 or the shipped embedder). Held-out sets (``yolox-val``, ``tud``) only with
``--report NAME ...`` for a candidate already chosen.

The rule (round 36): the candidate with the highest mean of ``(dIDF1 + dHOTA) / 2`` against
``r35-default`` (the default before this round: the velocity reset after every gap) over the tuning sets, among those for which no set loses more than 0.1 IDF1 or 0.1 HOTA
(unrounded) against it; none such, nothing changes. (It was first written for the five
motion-only sets; the three PETS09 sets with images, tuning data of earlier rounds too, were added
after the first candidates had run: ``results/flicker.md`` says what was seen when.)

Usage (from the repository root)::

    python benchmarks/degraded_sweep.py                   # every candidate not yet in the cache
    python benchmarks/degraded_sweep.py --only NAME ...    # these candidates (again)
    python benchmarks/degraded_sweep.py --report NAME ...  # also on the held-out sets
    python benchmarks/degraded_sweep.py --table            # rewrite the table from the cache

Cache: ``benchmarks/results/degraded_sweep.json``; table: ``benchmarks/results/degraded_sweep.md``.
SIGINT / SIGTERM stop after the run under way; finished rows are kept and the exit status is
128 + the signal number.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import association_sweep as sweep  # noqa: E402

from tracker.io.atomic import write_text_atomic  # noqa: E402
from tracker.signals import GracefulStop  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
CACHE = RESULTS / "degraded_sweep.json"
TABLE = RESULTS / "degraded_sweep.md"
COPIES = REPO / "out" / "degraded"
SOURCE = sweep.DATA / "MOT17-YOLOX-train-half"

DROP_P = 0.15
"""Probability that a detection is dropped (both copies)."""
EDGE_SIGMA = 0.04
"""``train-noisy``: standard deviation of each box edge's error, as a fraction of the box's size."""
FALSE_POSITIVES = 0.10
"""``train-noisy``: false positives added, as a fraction of the detections left."""
TOLERANCE = 0.1
"""The rule: the most IDF1 or HOTA (points) a candidate may lose on any tuning set."""

BASELINE = "r35-default"
"""What every candidate is compared with: the default preset before round 36 (the velocity reset after
every gap)."""

DEGRADED = {"train-drop15": (DROP_P, 0.0, 0.0), "train-noisy": (DROP_P, EDGE_SIGMA, FALSE_POSITIVES)}

R35 = {"motion": {"reset_velocity_min_gap_s": 0.0}, "association": {"reclaim_iou": 0.0}}
"""The two settings of round 36 as they were before it (every candidate states both, so that its row
keeps its meaning whatever the ``default`` preset holds)."""


def _r35(**changes: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) for k, v in R35.items()}
    for section, fields in changes.items():
        out.setdefault(section, {}).update(fields)
    return out


CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "r35-default": ("default", _r35()),
    "bytetrack": ("bytetrack", {}),
    "r36-noreset": ("default", _r35(motion={"reset_velocity_after_gap": False})),
    "r36-resetgap0.2": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.2})),
    "r36-resetgap0.3": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.3})),
    "r36-resetgap0.5": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.5})),
    "r36-resetgap1": ("default", _r35(motion={"reset_velocity_min_gap_s": 1.0})),
    "r36-resetgap0.4": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.4})),
    "r36-resetgap0.75": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.75})),
    "r36-reclaim0.7": ("default", _r35(association={"reclaim_iou": 0.7})),
    "r36-reclaim0.5": ("default", _r35(association={"reclaim_iou": 0.5})),
    "r36-gap0.5+reclaim0.7": (
        "default",
        _r35(motion={"reset_velocity_min_gap_s": 0.5}, association={"reclaim_iou": 0.7}),
    ),
    "r36-gap0.5+reclaim0.5": (
        "default",
        _r35(motion={"reset_velocity_min_gap_s": 0.5}, association={"reclaim_iou": 0.5}),
    ),
    "r36-resetgap0.25": ("default", _r35(motion={"reset_velocity_min_gap_s": 0.25})),
}


REMOVED: dict[str, str] = {
    "r36x-blend0.5": "after a gap the velocity becomes v + w (v_gap - v), v the Kalman update's, v_gap the "
    "mean over the gap, w = min(1, gap in seconds / 0.5)",
    "r36x-blend1": "the same with min(1, gap / 1 s)",
    "r36x-blend0.25": "the same with min(1, gap / 0.25 s)",
    "r36x-weighted": "the same with w = P_v / (P_v + 2 R / gap^2) per velocity component (P_v the predicted "
    "velocity variance, R the measurement noise of the new box): the two estimates weighed by their variances",
    "r36x-reid-unexplained": "a lost track re-identified by appearance alone (`mahalanobis_lost`) only where "
    "its motion cost is not admissible",
    "r36x-reclaim0.5": "`association.reclaim_iou` 0.5 on every frame, with or without appearance",
    "r36x-reclaim0.3": "the same at 0.3",
    "r36x-reclaim0.7": "the same at 0.7",
    "r36x-reclaim0.7-anyage": "`association.reclaim_iou` 0.7 (appearance frames only) as first written: any "
    "younger track, also one that started before the returned track's last match (cost the `four` "
    "multi-camera cut 2 handoffs and 4 cross-camera IDF1)",
    "r36x-reclaim0.5-anyage": "the same at 0.5",
    "r36x-gap0.5+reclaim0.7-anyage": "`reset_velocity_min_gap_s` 0.5 with `r36x-reclaim0.7-anyage`",
    "r36x-gap0.5+reclaim0.5-anyage": "`reset_velocity_min_gap_s` 0.5 with `r36x-reclaim0.5-anyage`",
}
"""Candidates measured with an experimental option that was then removed from the code (their rows stay
in the cache; they cannot be run again)."""


def build_copy(name: str, drop: float, sigma: float, fp: float) -> Path:
    """The degraded copy ``name`` of the YOLOX train half (built on first use, seed 0)."""
    dst = COPIES / name
    if (dst / "done").is_file():
        return dst
    if dst.exists():
        shutil.rmtree(dst)
    rng = np.random.default_rng(0)
    for seq in sorted((SOURCE / "train").iterdir()):
        out = dst / "train" / seq.name
        (out / "det").mkdir(parents=True)
        shutil.copy(seq / "seqinfo.ini", out / "seqinfo.ini")
        (out / "gt").symlink_to((seq / "gt").resolve())
        d = np.loadtxt(seq / "det" / "det.txt", delimiter=",", ndmin=2)
        d = d[rng.random(len(d)) >= drop]
        if sigma > 0:
            e = rng.normal(0.0, sigma, (len(d), 4))
            w, h = d[:, 4].copy(), d[:, 5].copy()
            x1, y1 = d[:, 2] + e[:, 0] * w, d[:, 3] + e[:, 1] * h
            x2, y2 = d[:, 2] + w + e[:, 2] * w, d[:, 3] + h + e[:, 3] * h
            d[:, 2], d[:, 3] = x1, y1
            d[:, 4], d[:, 5] = np.maximum(x2 - x1, 2.0), np.maximum(y2 - y1, 2.0)
        if fp > 0:
            k = int(fp * len(d))
            f = d[rng.integers(0, len(d), k)].copy()
            f[:, 2] += rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k) * f[:, 4]
            f[:, 6] = rng.uniform(0.1, 0.6, k)
            d = np.concatenate([d, f])
            d = d[np.argsort(d[:, 0], kind="stable")]
        np.savetxt(
            out / "det" / "det.txt",
            d[:, :7],
            fmt=["%d", "%d", "%.2f", "%.2f", "%.2f", "%.2f", "%.5f"],
            delimiter=",",
        )
    (dst / "done").write_text("ok\n")
    return dst


PETS_IMAGES: dict[str, dict[str, Any]] = {
    "pets-frames": {"reid": None},
    "pets-osnet": {"reid": sweep.DATA.parent / "models" / "osnet_x0_25_msmt17.onnx"},
    "pets-ours": {"reid": REPO / "tracker" / "assets" / "reid_mobilenetv2_cuhk.onnx"},
}
"""PETS09-S2L1 with its images (camera motion compensation on; appearance from OSNet x0.25 or the
shipped embedder): tuning data too, as in ``association_reid_check.md``."""


def tuning_sets() -> dict[str, dict[str, Any]]:
    sets = dict(sweep.SETS)
    for name, (drop, sigma, fp) in DEGRADED.items():
        sets[name] = {"dataset": "MOT17", "root": build_copy(name, drop, sigma, fp)}
    for name, extra in PETS_IMAGES.items():
        sets[name] = {"dataset": "MOT15", "root": sweep.DATA / "MOT15", "sequences": ["PETS09-S2L1"], **extra}
    return sets


def _cell(r: dict[str, float] | None) -> str:
    return "" if r is None else f"{r['mota']:.1f} / {r['idf1']:.1f} / {r['hota']:.1f} ({r['idsw']:.0f})"


def verdict(cache: dict[str, Any], sets: list[str]) -> tuple[dict[str, tuple[float, float]], str | None]:
    """Per candidate: (mean of (dIDF1 + dHOTA) / 2 against ``default``, worst per-set loss); and the
    candidate the rule picks (``None``: nothing beats ``default`` within the tolerance)."""
    ref = cache.get(BASELINE, {})
    out: dict[str, tuple[float, float]] = {}
    for name, row in cache.items():
        if not all(s in row and s in ref for s in sets):
            continue
        gains = [(row[s]["idf1"] - ref[s]["idf1"] + row[s]["hota"] - ref[s]["hota"]) / 2 for s in sets]
        worst = min(min(row[s]["idf1"] - ref[s]["idf1"], row[s]["hota"] - ref[s]["hota"]) for s in sets)
        out[name] = (sum(gains) / len(gains), worst)
    ok = {
        n: v for n, v in out.items() if n in CANDIDATES and n != BASELINE and v[1] >= -TOLERANCE and v[0] > 0
    }
    return out, (max(ok, key=lambda n: ok[n][0]) if ok else None)


def write_table(cache: dict[str, Any], sets: list[str]) -> None:
    held = list(sweep.HELD_OUT)
    stats, pick = verdict(cache, sets)
    lines = [
        "# Association candidates on the tuning sets and two degraded copies of the YOLOX train half",
        "",
        "Written by `benchmarks/degraded_sweep.py` (its docstring has the degradation and the rule).",
        "Cells: MOTA / IDF1 / HOTA (IDSW). `gain`: mean of (dIDF1 + dHOTA) / 2 against `r35-default`",
        "over the tuning sets; `worst`: the largest loss of IDF1 or HOTA on one of them.",
        f"Held-out sets ({', '.join(held)}) are scored only for a candidate already chosen.",
        "",
        "| candidate | " + " | ".join([*sets, *held]) + " | gain | worst |",
        "|---|" + "---|" * (len(sets) + len(held) + 2),
    ]
    for name, row in cache.items():
        g = stats.get(name)
        tail = f"{g[0]:+.2f} | {g[1]:+.2f}" if g else " | "
        mark = f"**{name}** (picked)" if name == pick else name
        lines.append(f"| {mark} | " + " | ".join(_cell(row.get(c)) for c in [*sets, *held]) + f" | {tail} |")
    lines += ["", f"The rule picks: {pick or 'nothing (the default stays)'}.", "", "Candidates:", ""]
    for name, (base, over) in CANDIDATES.items():
        if name in cache:
            lines.append(f"- `{name}`: base `{base}`, " + json.dumps(over, separators=(",", ":")))
    for name, text in REMOVED.items():
        if name in cache:
            lines.append(f"- `{name}`: experimental (an option measured, then removed from the code): {text}")
    write_text_atomic(TABLE, "\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="run these candidates (again)")
    ap.add_argument("--report", nargs="*", default=[], help="also score these on the held-out sets")
    ap.add_argument("--table", action="store_true", help="only rewrite the table from the cache")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    cache: dict[str, Any] = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    sets = tuning_sets()
    with GracefulStop() as stop:
        if not args.table:
            # every candidate on every tuning set it lacks (``--only``: on all of them again)
            names = args.only if args.only else [n for n in CANDIDATES if set(sets) - set(cache.get(n, {}))]
            todo = [*names, *[n for n in args.report if n not in names]]
            unknown = [n for n in todo if n not in CANDIDATES]
            if unknown:
                raise SystemExit(f"unknown candidate(s) {unknown}")
            for name in todo:
                # (``--only`` runs every set again; a signal leaves the sets not yet run as they were)
                row = dict(cache.get(name, {}))
                todo_sets = {}
                if name in names:
                    todo_sets = (
                        dict(sets)
                        if name in (args.only or [])
                        else {k: v for k, v in sets.items() if k not in row}
                    )
                if name in args.report:
                    todo_sets.update(sweep.HELD_OUT)
                for set_name, spec in todo_sets.items():
                    if stop.requested:
                        break
                    t0 = time.time()
                    r = sweep.score(name, set_name, spec, stop, CANDIDATES)
                    if r is None:
                        break
                    row[set_name] = r
                    print(f"{name:22s} {set_name:13s} {_cell(r)}  ({time.time() - t0:.0f}s)", flush=True)
                cache[name] = row
                write_text_atomic(CACHE, json.dumps(cache, indent=1) + "\n")
                if stop.requested:
                    break
        write_table(cache, list(sets))
    print(TABLE.read_text())
    if stop.requested:
        print(f"stopped by {stop.signal_name}: the table holds the runs that finished", flush=True)
    return stop.exit_status(0)


if __name__ == "__main__":
    sys.exit(main())
