"""Command line: ``python -m tracker bench DATASET ...`` (see ``python -m tracker --help``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def _bench(args: argparse.Namespace) -> int:
    from .apps.bench import run_benchmark

    report = run_benchmark(
        args.dataset,
        root=args.root,
        split=args.split,
        config=args.config,
        reid=args.reid,
        out_dir=args.out,
        sequences=args.seq,
        use_images=not args.no_images,
        progress=not args.no_progress,
    )
    print(f"dataset {report.dataset}  config {report.config}  reid {report.reid or '-'}")
    print(report.table())
    print(f"results and summary.json in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tracker", description="Multi-object tracking with ReID.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser(
        "bench",
        help="track and score a MOTChallenge-layout dataset from its public detections",
        description=(
            "Runs the tracker on every sequence of DATASET/<split>/ using det/det.txt, writes "
            "OUT/<sequence>.txt and OUT/summary.json, and prints MOTA/IDF1/HOTA per sequence. "
            "DATASET is a folder, or a name looked up as $TRACKER_DATA/<name> then ./data/<name>."
        ),
    )
    b.add_argument("dataset", help="dataset name (MOT17, MOT15, ...) or folder")
    b.add_argument("--root", help="dataset folder (overrides name lookup)")
    b.add_argument("--split", default="train", help="sub-folder with the sequences (default: train)")
    b.add_argument("--config", help="preset name or YAML path (default: default)")
    b.add_argument("--reid", help="ONNX ReID model used on sequences that have images")
    b.add_argument("--out", default="out/bench", help="output folder (default: out/bench)")
    b.add_argument("--seq", action="append", help="only sequences whose name contains this (repeatable)")
    b.add_argument("--no-images", action="store_true", help="ignore img1/ and track on motion alone")
    b.add_argument("--no-progress", action="store_true", help="hide progress bars")
    b.set_defaults(func=_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
