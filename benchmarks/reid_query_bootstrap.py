"""How precise is a ReID protocol's mAP? A bootstrap over its queries.

Each query's average precision is computed once; the queries are then resampled with replacement
(10,000 times, seed 0) and the mean taken each time. Prints each model's mAP with its 95 % interval,
the share of resamples at or above ``--bar``, and for exactly two models the paired difference
(both models on the same resampled queries) with its 95 % interval.

Run from the repository root with the project's environment and ``../shared`` beside it::

    python benchmarks/reid_query_bootstrap.py tracker/assets/reid_mobilenetv2_cuhk.onnx ../shared/models/osnet_x0_25_msmt17.onnx

The default protocol is PETS09-S2L1 thirds (19 queries), issue 15's bar of mAP 63.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.reid.train.evaluate import (  # noqa: E402
    cosine_distance,
    evaluate_samples,
    extract_features,
    load_protocol,
)

SEQUENCE = REPO.parent / "shared" / "data" / "MOT15" / "train" / "PETS09-S2L1"
RESAMPLES = 10_000


def query_aps(model: Path, protocol: str, data: Path) -> NDArray[np.float64]:
    """``float64[Q]``: each query's average precision (cosine distance), queries with a true match."""
    query, gallery = load_protocol(protocol, data)
    dist = cosine_distance(extract_features(model, query), extract_features(model, gallery))
    aps = []
    for i, s in enumerate(query):
        try:
            aps.append(evaluate_samples(dist[i : i + 1], [s], gallery).mAP)
        except ValueError:  # no true match for this query: skipped, as evaluate_rank does
            continue
    return np.array(aps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="ReID ONNX models")
    ap.add_argument("--protocol", default="mot-thirds", help="a `reid eval` protocol")
    ap.add_argument("--data", type=Path, default=SEQUENCE, help="the protocol's data folder")
    ap.add_argument("--bar", type=float, default=63.0, help="an mAP bar (percent)")
    args = ap.parse_args()
    missing = [str(m) for m in args.models if not m.is_file()]
    if missing:
        print(f"error: no such model file: {', '.join(missing)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    try:
        aps = {m: query_aps(m, args.protocol, args.data) for m in args.models}
    except (OSError, ValueError) as e:  # the loaders name the file
        print(f"error: {e}", file=sys.stderr)
        return 2
    n = len(next(iter(aps.values())))
    pick = np.random.default_rng(0).integers(0, n, (RESAMPLES, n))
    print(f"{args.protocol}: {n} queries, {RESAMPLES} resamples")
    for m, a in aps.items():
        means = 100 * a[pick].mean(axis=1)
        lo, hi = np.percentile(means, [2.5, 97.5])
        share = float(np.mean(means >= args.bar))
        print(
            f"  {m.name:34s} mAP {100 * a.mean():.1f}, 95 % {lo:.1f}-{hi:.1f}, at or above {args.bar:g}: {share:.2f}"
        )
    if len(aps) == 2:
        (ma, a), (mb, b) = aps.items()
        diff = 100 * (a - b)[pick].mean(axis=1)
        lo, hi = np.percentile(diff, [2.5, 97.5])
        print(f"  {ma.name} - {mb.name}: {100 * (a - b).mean():+.1f}, 95 % {lo:+.1f} to {hi:+.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
