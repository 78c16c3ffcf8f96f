"""Frame-rate robustness: the presets on the tuning sets subsampled to a half and a third of their rate.

Issue 10 asks for one default for every frame rate. The tuning sets run at 30 fps (MOT17-05: 14 fps,
PETS09-S2L1: 7 fps); a camera that delivers every 2nd or 3rd frame (a busy robot, a low-rate stream)
sees twice or three times the motion per frame. This script writes each set with every ``k``-th frame
kept (detections and ground truth of the kept frames, renumbered 1, 2, ...; ``frameRate`` divided by
``k`` in ``seqinfo.ini``, so the tracker scales its lifetimes and motion noise), runs each preset on
motion alone (no images) and prints MOTA / IDF1 / HOTA (IDSW) side by side.

Only tuning sets by default; ``--held-out`` adds the held-out sets of ``association_sweep.py`` (the
YOLOX val half; MOT15 TUD since round 16), to report, never to choose.

    python benchmarks/frame_rate.py                          # strides 1,2,3; default vs bytetrack
    python benchmarks/frame_rate.py --strides 2,3 --presets default,bytetrack,botsort --json out.json
"""

from __future__ import annotations

import argparse
import configparser
import json
import logging
import math
import signal
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.apps.bench import run_benchmark  # noqa: E402
from tracker.signals import GracefulStop  # noqa: E402

# one definition of the tuning and held-out sets: the association sweep's
sys.path.insert(0, str(REPO / "benchmarks"))
from association_sweep import HELD_OUT, SETS  # noqa: E402


def _subsample_rows(src: Path, dst: Path, stride: int) -> None:
    """Copy a MOTChallenge txt keeping frames 1, 1 + stride, ... renumbered 1, 2, ... (column 0)."""
    out = []
    with src.open() as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            head, sep, rest = line.partition(",")
            try:
                frame = int(float(head))
            except ValueError:
                raise ValueError(f"{src}:{line_no}: frame number {head!r} is not a number") from None
            if (frame - 1) % stride == 0:
                out.append(f"{(frame - 1) // stride + 1}{sep}{rest}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(out))


def subsample_dataset(spec: dict[str, Any], stride: int, out_root: Path) -> dict[str, Any]:
    """Write the sequences of ``spec`` with every ``stride``-th frame under ``out_root`` (no images);
    returns the ``run_benchmark`` keywords for it."""
    if stride == 1:
        return {**spec, "use_images": False}
    split = Path(spec["root"]) / "train"
    wanted = spec.get("sequences")
    for seq in sorted(p for p in split.iterdir() if (p / "seqinfo.ini").is_file()):
        if wanted and not any(w in seq.name for w in wanted):
            continue
        ini = configparser.ConfigParser()
        ini.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
        ini.read(seq / "seqinfo.ini")
        info = ini["Sequence"]
        n = int(info["seqLength"])
        info["seqLength"] = str(math.ceil(n / stride))
        info["frameRate"] = f"{float(info['frameRate']) / stride:g}"
        dst = out_root / "train" / seq.name
        dst.mkdir(parents=True, exist_ok=True)
        with (dst / "seqinfo.ini").open("w") as f:
            ini.write(f, space_around_delimiters=False)
        for sub in ("det/det.txt", "gt/gt.txt"):
            if (seq / sub).is_file():
                _subsample_rows(seq / sub, dst / sub, stride)
    return {**spec, "root": out_root, "use_images": False}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--strides", default="1,2,3", help="frame strides, comma separated (default 1,2,3)")
    p.add_argument(
        "--presets",
        default="default,bytetrack",
        help="presets (names or YAML files, a file's column named after it), comma separated",
    )
    p.add_argument("--sets", help=f"tuning sets, comma separated (default: all of {','.join(SETS)})")
    p.add_argument(
        "--held-out", action="store_true", help="also the held-out sets (YOLOX val half, TUD; report only)"
    )
    p.add_argument("--out", type=Path, default=REPO / "out" / "frame_rate", help="work folder")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    strides = [int(s) for s in args.strides.split(",")]
    if any(s < 1 for s in strides):
        p.error("--strides: every stride must be >= 1")
    presets = args.presets.split(",")
    names = [Path(pr).stem if pr.endswith((".yaml", ".yml")) else pr for pr in presets]
    sets = dict(SETS) if not args.sets else {k: SETS[k] for k in args.sets.split(",")}
    if args.held_out:
        sets.update(HELD_OUT)
    results: dict[str, dict[str, dict[str, float]]] = {}
    # SIGINT/SIGTERM: the run under way finishes, then the table and JSON of every finished run
    # are written and the exit status says which signal ended it (128 + signum)
    with GracefulStop() as stop:
        for set_name, spec in sets.items():
            for stride in strides:
                kw = subsample_dataset(spec, stride, args.out / "data" / f"{set_name}_s{stride}")
                key = f"{set_name} 1/{stride}"
                for preset, name in zip(presets, names, strict=True):
                    if stop.requested:
                        break
                    t0 = time.perf_counter()
                    report = run_benchmark(
                        kw["dataset"],
                        root=kw["root"],
                        config=preset,
                        out_dir=args.out / "runs" / f"{set_name}_s{stride}" / name,
                        sequences=kw.get("sequences"),
                        use_images=False,
                        progress=False,
                    )
                    if report.stopped == "signal":  # cut short: a partial score is no figure
                        stop.request(getattr(signal, report.signal or "SIGTERM"))
                        break
                    assert report.scores is not None
                    o = report.scores.overall
                    row = {
                        "mota": 100 * o.mota,
                        "idf1": 100 * o.idf1,
                        "hota": 100 * o.hota,
                        "idsw": float(o.num_switches),
                    }
                    results.setdefault(key, {})[name] = row
                    print(
                        f"  {key:<16} {name:<10} {row['mota']:5.1f} / {row['idf1']:5.1f} / {row['hota']:5.1f}"
                        f" ({int(row['idsw'])})  {time.perf_counter() - t0:5.1f} s",
                        flush=True,
                    )
    print()
    print("| set, frames kept | " + " | ".join(names) + " | dIDF1 / dHOTA (first - second) |")
    print("|---" * (len(presets) + 2) + "|")
    for key, rows in results.items():
        if len(rows) < len(names):  # (a stop came between this set's presets)
            continue
        cells = [
            f"{r['mota']:.1f} / {r['idf1']:.1f} / {r['hota']:.1f} ({int(r['idsw'])})"
            for r in (rows[n] for n in names)
        ]
        a, b = rows[names[0]], rows[names[1]] if len(names) > 1 else rows[names[0]]
        print(
            f"| {key} | "
            + " | ".join(cells)
            + f" | {a['idf1'] - b['idf1']:+.1f} / {a['hota'] - b['hota']:+.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if stop.requested:
        print(f"stopped by {stop.signal_name}: the table holds the runs that finished")
    return stop.exit_status(0)


if __name__ == "__main__":
    sys.exit(main())
