"""Choose ``bench --interpolate`` and ``--smooth`` on the tuning sets, then score the held-out set once.

Each preset is tracked once per set (motion only, as ``association_sweep.py``); every candidate gap
limit ``G`` (frames at 30 fps, scaled to each sequence's frame rate) is then applied to those same
results with :func:`tracker.postprocess.interpolate_gaps` and scored.

The choices are made on the tuning sets only (``yolox-train``, ``mot17``, ``pets``), by the
association sweep's rule: the highest mean change of IDF1 + HOTA against the step before, among the
values whose worst per-set HOTA change is >= 0. First the gap limit ``G`` (against no
post-processing), then, with that ``G``, the smoothing width ``S`` (:func:`smooth_tracks`, frames at
30 fps; against ``G`` alone). Only then is the held-out ``yolox-val`` scored, for no post-processing,
``G`` alone and ``G`` + ``S``, with the ``default`` and ``bytetrack`` presets (the same
post-processing for both, so the comparison stays fair).

Usage (from the repository root)::

    python benchmarks/interpolation_sweep.py          # writes benchmarks/results/interpolation.md
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.apps.bench import SequenceRun, run_benchmark  # noqa: E402
from tracker.eval import evaluate  # noqa: E402
from tracker.io.mot import read_seqinfo  # noqa: E402
from tracker.postprocess import interpolate_gaps, max_gap_at, smooth_tracks  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from association_sweep import HELD_OUT, SETS  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "interpolation.md"
TUNING: dict[str, dict[str, Any]] = SETS
"""The association sweep's tuning sets (the same definitions, so both choices see the same data)."""

GAPS = (0, 5, 10, 20, 30, 40, 60)
WIDTHS = (0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def track(preset: str, set_name: str, spec: dict[str, Any]) -> tuple[list[SequenceRun], dict[str, float]]:
    """The preset's runs on one set and each sequence's frame rate."""
    kwargs = {k: v for k, v in spec.items() if k not in ("dataset", "root")}
    out = REPO / "out" / "interpolation" / preset / set_name
    report = run_benchmark(
        spec["dataset"], root=spec["root"], config=preset, out_dir=out, progress=False, **kwargs
    )
    infos = [
        read_seqinfo(p)
        for p in sorted((Path(spec["root"]) / "train").iterdir())
        if (p / "seqinfo.ini").is_file()
    ]
    rates = {info.name: info.frame_rate for info in infos}
    return report.runs, rates


def score(runs: list[SequenceRun], rates: dict[str, float], gap: int, width: float = 0.0) -> dict[str, float]:
    pairs = {}
    for r in runs:
        assert r.ground_truth is not None
        fps = rates[r.name]
        filled = interpolate_gaps(r.results, max_gap_at(gap, fps))
        pairs[r.name] = (r.ground_truth, smooth_tracks(filled, width * fps / 30.0))
    o = evaluate(pairs, {r.name: r.frames for r in runs}).overall
    return {"mota": 100 * o.mota, "idf1": 100 * o.idf1, "hota": 100 * o.hota, "idsw": float(o.num_switches)}


def cell(r: dict[str, float]) -> str:
    return f"{r['mota']:.1f} / {r['idf1']:.1f} / {r['hota']:.1f} ({r['idsw']:.0f})"


def choose(table: dict[str, dict[Any, dict[str, float]]], values: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    """The rule over ``values`` (the first is the reference): ``(chosen, rows)``."""
    ref = values[0]
    rows, best, best_gain = [], ref, 0.0
    for v in values:
        d_idf1 = [table[s][v]["idf1"] - table[s][ref]["idf1"] for s in TUNING]
        d_hota = [table[s][v]["hota"] - table[s][ref]["hota"] for s in TUNING]
        gain = (sum(d_idf1) + sum(d_hota)) / len(TUNING)
        ok = min(d_hota) >= 0
        if ok and gain > best_gain:
            best, best_gain = v, gain
        rows.append((v, gain, min(d_hota), ok))
    return best, rows


def table_lines(
    name: str, table: dict[str, dict[Any, dict[str, float]]], rows: list[Any], best: Any
) -> list[str]:
    lines = [
        "| " + name + " | " + " | ".join(TUNING) + " | gain | worst dHOTA |",
        "|---|" + "---|" * (len(TUNING) + 2),
    ]
    for v, gain, worst, ok in rows:
        mark = " **chosen**" if v == best else ("" if ok else " (fails the rule)")
        cells = " | ".join(cell(table[s][v]) for s in TUNING)
        lines.append(f"| {v:g}{mark} | {cells} | {gain:+.2f} | {worst:+.2f} |")
    return lines


def main() -> None:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    logging.basicConfig(level=logging.ERROR)
    gaps: dict[str, dict[Any, dict[str, float]]] = {}
    widths: dict[str, dict[Any, dict[str, float]]] = {}
    runs_by_set = {name: track("default", name, spec) for name, spec in TUNING.items()}
    for set_name, (runs, rates) in runs_by_set.items():
        gaps[set_name] = {g: score(runs, rates, g) for g in GAPS}
        print(set_name, {g: cell(r) for g, r in gaps[set_name].items()}, flush=True)
    gap, gap_rows = choose(gaps, GAPS)
    print(f"gap chosen on the tuning sets: {gap} frames at 30 fps", flush=True)
    for set_name, (runs, rates) in runs_by_set.items():
        widths[set_name] = {w: score(runs, rates, gap, w) for w in WIDTHS}
        print(set_name, {w: cell(r) for w, r in widths[set_name].items()}, flush=True)
    width, width_rows = choose(widths, WIDTHS)
    print(f"smoothing chosen on the tuning sets: {width:g} frames at 30 fps", flush=True)
    steps = [(0, 0.0), (gap, 0.0), (gap, width)]
    held: dict[str, list[dict[str, float]]] = {}
    for preset in ("default", "bytetrack"):
        runs, rates = track(preset, "yolox-val", HELD_OUT["yolox-val"])
        held[preset] = [score(runs, rates, g, w) for g, w in steps]
        print(preset, "yolox-val", [cell(r) for r in held[preset]], flush=True)

    lines = [
        "# Offline interpolation and smoothing: chosen on the tuning sets",
        "",
        "Written by `benchmarks/interpolation_sweep.py` (motion only; `default` preset). Each cell:",
        "MOTA / IDF1 / HOTA (IDSW). `G`: gaps of up to G frames at 30 fps (scaled to each sequence's",
        "frame rate: PETS09 at 7 fps gets round(G * 7 / 30)) filled by linear interpolation",
        "(`bench --interpolate G`). `S`: then each track smoothed by a Gaussian-weighted local linear",
        "fit S frames wide at 30 fps (`bench --smooth S`). `gain`: mean change of IDF1 + HOTA on the",
        "three tuning sets against the first row; `worst dHOTA`: the worst per-set HOTA change. Rule:",
        "the highest gain with worst dHOTA >= 0. G is chosen first, then S with that G.",
        "",
        *table_lines("G", gaps, gap_rows, gap),
        "",
        f"With G = {gap}:",
        "",
        *table_lines("S", widths, width_rows, width),
        "",
        "Held out (`MOT17-YOLOX-val-half`), scored only after both choices:",
        "",
        f"| preset | online | `--interpolate {gap}` | `--interpolate {gap} --smooth {width:g}` |",
        "|---|---|---|---|",
    ]
    for preset, cells in held.items():
        lines.append(f"| {preset} | " + " | ".join(cell(c) for c in cells) + " |")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
