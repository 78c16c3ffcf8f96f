"""Average the weights of ReID training checkpoints of one architecture (a "model soup").

See :func:`tracker.reid.train.soup.average_checkpoints`. Run from the repository root with the train
extra installed::

    python tools/average_checkpoints.py --out soup.pt A.pt:0.7 B.pt:0.3
    python -m tracker reid eval --model soup.pt --data ../shared/data/reid --protocol cuhk01-test
    python -m tracker reid export --checkpoint soup.pt --out soup.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_item(item: str) -> tuple[Path, float]:
    """``PATH[:WEIGHT]`` (weight 1 when absent) -> ``(path, weight)``."""
    path, sep, weight = item.rpartition(":")
    if not sep or not path:
        return Path(item), 1.0
    try:
        return Path(path), float(weight)
    except ValueError:
        raise ValueError(f"{item!r}: weight {weight!r} is not a number") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoints", nargs="+", help="PATH[:WEIGHT] training checkpoints (weights normalised)")
    p.add_argument("--out", type=Path, required=True, help="the averaged checkpoint (.pt)")
    args = p.parse_args(argv)
    from tracker.reid.train.soup import average_checkpoints

    try:
        items = [parse_item(i) for i in args.checkpoints]
        averaged, kept = average_checkpoints(items, args.out)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {averaged} tensors averaged, {kept} taken from {items[0][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
