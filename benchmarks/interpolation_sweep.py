"""Choose the gap limit of ``bench --interpolate`` on the tuning sets, then score the held-out set once.

Each preset is tracked once per set (motion only, as ``association_sweep.py``); every candidate gap
limit ``G`` (frames at 30 fps, scaled to each sequence's frame rate) is then applied to those same
results with :func:`tracker.postprocess.interpolate_gaps` and scored.

The choice is made on the tuning sets only (``yolox-train``, ``mot17``, ``pets``), by the association
sweep's rule: the highest mean change of IDF1 + HOTA against no interpolation, among the limits whose
worst per-set HOTA change is >= 0. Only then is the held-out ``yolox-val`` scored, for no
interpolation and the chosen limit, with the ``default`` and ``bytetrack`` presets (the same
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
from tracker.postprocess import interpolate_gaps, max_gap_at  # noqa: E402

DATA = REPO.parent / "shared" / "data"
OUT = REPO / "benchmarks" / "results" / "interpolation.md"
TUNING: dict[str, dict[str, Any]] = {
    "yolox-train": {"dataset": "MOT17", "root": DATA / "MOT17-YOLOX-train-half"},
    "mot17": {"dataset": "MOT17", "root": DATA / "MOT17"},
    "pets": {"dataset": "MOT15", "root": DATA / "MOT15", "sequences": ["PETS09-S2L1"], "use_images": False},
}
HELD_OUT: dict[str, dict[str, Any]] = {
    "yolox-val": {"dataset": "MOT17", "root": DATA / "MOT17-YOLOX-val-half"},
}
GAPS = (0, 5, 10, 20, 30, 40, 60)


def track(preset: str, set_name: str, spec: dict[str, Any]) -> tuple[list[SequenceRun], dict[str, float]]:
    """The preset's runs on one set and each sequence's frame rate."""
    kwargs = {k: v for k, v in spec.items() if k not in ("dataset", "root")}
    out = REPO / "out" / "interpolation" / preset / set_name
    report = run_benchmark(
        spec["dataset"], root=spec["root"], config=preset, out_dir=out, progress=False, **kwargs
    )
    rates = {
        read_seqinfo(p).name: read_seqinfo(p).frame_rate
        for p in sorted((Path(spec["root"]) / "train").iterdir())
        if (p / "seqinfo.ini").is_file()
    }
    return report.runs, rates


def score(runs: list[SequenceRun], rates: dict[str, float], gap: int) -> dict[str, float]:
    pairs = {}
    for r in runs:
        assert r.ground_truth is not None
        pairs[r.name] = (r.ground_truth, interpolate_gaps(r.results, max_gap_at(gap, rates[r.name])))
    o = evaluate(pairs, {r.name: r.frames for r in runs}).overall
    return {"mota": 100 * o.mota, "idf1": 100 * o.idf1, "hota": 100 * o.hota, "idsw": float(o.num_switches)}


def cell(r: dict[str, float]) -> str:
    return f"{r['mota']:.1f} / {r['idf1']:.1f} / {r['hota']:.1f} ({r['idsw']:.0f})"


def main() -> None:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    logging.basicConfig(level=logging.ERROR)
    tuned: dict[str, dict[int, dict[str, float]]] = {}
    for set_name, spec in TUNING.items():
        runs, rates = track("default", set_name, spec)
        tuned[set_name] = {g: score(runs, rates, g) for g in GAPS}
        print(set_name, {g: cell(r) for g, r in tuned[set_name].items()}, flush=True)
    rows, best, best_gain = [], 0, 0.0
    for g in GAPS:
        d_idf1 = [tuned[s][g]["idf1"] - tuned[s][0]["idf1"] for s in TUNING]
        d_hota = [tuned[s][g]["hota"] - tuned[s][0]["hota"] for s in TUNING]
        gain = (sum(d_idf1) + sum(d_hota)) / len(TUNING)
        ok = min(d_hota) >= 0
        if ok and gain > best_gain:
            best, best_gain = g, gain
        rows.append((g, gain, min(d_hota), ok))
    print(f"chosen on the tuning sets: {best} frames at 30 fps", flush=True)
    held: dict[str, dict[int, dict[str, float]]] = {}
    for preset in ("default", "bytetrack"):
        runs, rates = track(preset, "yolox-val", HELD_OUT["yolox-val"])
        held[preset] = {g: score(runs, rates, g) for g in sorted({0, best})}
        print(preset, "yolox-val", {g: cell(r) for g, r in held[preset].items()}, flush=True)

    lines = [
        "# Offline interpolation: gap limit chosen on the tuning sets",
        "",
        "Written by `benchmarks/interpolation_sweep.py` (motion only; `default` preset). Each cell:",
        "MOTA / IDF1 / HOTA (IDSW). `G`: gaps of up to G frames at 30 fps (scaled to each sequence's",
        "frame rate: PETS09 at 7 fps gets round(G * 7 / 30)) filled by linear interpolation. `gain`:",
        "mean change of IDF1 + HOTA on the three tuning sets against G = 0; `worst dHOTA`: the worst",
        "per-set HOTA change. Rule: the highest gain with worst dHOTA >= 0.",
        "",
        "| G | " + " | ".join(TUNING) + " | gain | worst dHOTA |",
        "|---|" + "---|" * (len(TUNING) + 2),
    ]
    for g, gain, worst, ok in rows:
        mark = " **chosen**" if g == best else ("" if ok else " (fails the rule)")
        cells = " | ".join(cell(tuned[s][g]) for s in TUNING)
        lines.append(f"| {g}{mark} | {cells} | {gain:+.2f} | {worst:+.2f} |")
    lines += [
        "",
        f"Held out (`MOT17-YOLOX-val-half`, scored only after the choice, G = 0 and G = {best}):",
        "",
        "| preset | G = 0 | G = " + str(best) + " |",
        "|---|---|---|",
    ]
    for preset, by_gap in held.items():
        lines.append(f"| {preset} | {cell(by_gap[0])} | {cell(by_gap[best])} |")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
