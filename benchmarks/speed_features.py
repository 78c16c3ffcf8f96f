"""What each part of the ``default`` preset costs in ``update()``: the preset with one part switched off
at a time, side by side in one process on MOT17 public FRCNN detections (motion only).

Every variant runs on every sequence in every round, the order of the variants rotating from round to
round (the machine is shared and noisy). Reported: the median over sequences of each sequence's median
``update()`` time, and the median over (round, sequence) of ``default time / variant time`` (> 1: the
variant is faster, i.e. the part switched off costs that much).

Usage (from the repository root)::

    python benchmarks/speed_features.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker import Detections, Tracker, TrackerConfig  # noqa: E402
from tracker.config import PRESET_DIR, _merge, config_from_dict, load_config, read_yaml_with_base  # noqa: E402
from tracker.detect.file_detector import MotFileDetector  # noqa: E402
from tracker.io.mot import read_seqinfo  # noqa: E402

MOT17 = REPO.parent / "shared" / "data" / "MOT17" / "train"
_IOU_ONLY = [  # the default's stages without the appearance and Mahalanobis terms
    {
        "name": "first",
        "tracks": ["tracked", "lost"],
        "detections": "high",
        "cost": ["iou_score"],
        "max_cost": 0.8,
    },
    {"name": "second", "tracks": ["tracked"], "detections": "low", "cost": ["iou"], "max_cost": 0.5},
    {
        "name": "tentative",
        "tracks": ["tentative"],
        "detections": "high",
        "cost": ["iou_score"],
        "max_cost": 0.7,
    },
]
OFF: dict[str, dict[str, Any]] = {
    "no lost-track shift with the scene": {"motion": {"shift_lost_with_scene": False}},
    "no appearance / Mahalanobis terms": {"association": {"stages": _IOU_ONLY}},
    "no track-aware initialisation": {"association": {"new_track_max_iou": 1.0}},
    "no adaptive thresholds": {"association": {"score_adapt_rate": 0.0}},
    "no velocity reset after a gap": {"motion": {"reset_velocity_after_gap": False}},
}


def variant(over: dict[str, Any]) -> TrackerConfig:
    data = _merge(read_yaml_with_base("default", PRESET_DIR), over)
    data["name"] = "variant"
    return config_from_dict(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    clips: list[tuple[float, list[Detections]]] = []
    for seq in sorted(p for p in MOT17.iterdir() if (p / "seqinfo.ini").is_file()):
        info = read_seqinfo(seq)
        det = MotFileDetector(seq / "det" / "det.txt")
        clips.append((info.frame_rate, [det.detect(None, t) for t in range(1, info.seq_length + 1)]))
    configs = {"default": load_config("default"), "bytetrack preset": load_config("bytetrack")}
    configs.update({name: variant(over) for name, over in OFF.items()})
    times: dict[str, list[float]] = {k: [] for k in configs}
    names = list(configs)
    for rnd in range(args.rounds):
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for fps, frames in clips:
            for name in order:
                t = Tracker(configs[name], frame_rate=fps)
                samples = []
                gc.disable()
                for d in frames:
                    a = time.perf_counter_ns()
                    t.update(d)
                    samples.append(time.perf_counter_ns() - a)
                gc.enable()
                times[name].append(statistics.median(samples))
    print(f"MOT17 FRCNN, {len(clips)} sequences, {args.rounds} rounds; update() times")
    print(f"{'variant':40s} {'median us':>10s} {'default/variant':>16s}")
    for name, v in times.items():
        ratio = statistics.median(a / b for a, b in zip(times["default"], v, strict=True))
        print(f"{name:40s} {statistics.median(v) / 1000:10.0f} {ratio:16.3f}")


if __name__ == "__main__":
    main()
