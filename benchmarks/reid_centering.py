"""Test-time feature centring for ReID models: does removing each camera's mean embedding help?

A domain-generalisation step that needs no training: before the cosine distance, subtract from every
L2-normalised embedding the mean embedding of its side (query camera / gallery camera), then
normalise again. Compared with the plain distance and with one global mean, on CUHK01 test (in the
training domain of our model) and the PETS09-S2L1 thirds protocol (another domain).

Run from the repository root with the project's environment and ``../shared`` beside it::

    python benchmarks/reid_centering.py tracker/assets/reid_mobilenetv2_cuhk.onnx ../shared/models/osnet_x0_25_msmt17.onnx

Prints one line per model and protocol: rank-1 / mAP for plain, global-centre and per-camera centre.
The per-camera mean of the PETS09 query side is over its 19 crops only, so that figure is noisy.

``--source N`` adds transforms fitted on the *training* data instead of the test data (a fixed
transform a model could carry): N random crops of CUHK01 persons 1-485 + CUHK03 labeled give a mean
and a covariance; "source centre" subtracts that mean, "whiten p" maps ``x -> (x - mean) C^(-p/2)``
(p = 1: full PCA whitening; smaller p shrinks it towards the identity), each followed by L2
normalisation.
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

from tracker.reid.train.datasets import Sample, load_dataset  # noqa: E402
from tracker.reid.train.evaluate import (  # noqa: E402
    cosine_distance,
    evaluate_samples,
    extract_features,
    load_protocol,
)

DATA = REPO.parent / "shared" / "data"
PROTOCOLS = {"cuhk01-test": DATA / "reid", "mot-thirds": DATA / "MOT15" / "train" / "PETS09-S2L1"}


def _norm(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Rows of ``float32[N,D]`` scaled to unit length."""
    n: NDArray[np.float32] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return n


def _score(a: NDArray[np.float32], b: NDArray[np.float32], samples: tuple[list[Sample], list[Sample]]) -> str:
    """``rank-1 / mAP`` (percent) of query features ``a`` against gallery features ``b`` (of the query
    and gallery ``samples``)."""
    r = evaluate_samples(cosine_distance(a, b), *samples)
    return f"{100 * r.rank(1):.1f} / {100 * r.mAP:.1f}"


WHITEN_POWERS = (0.25, 0.5, 1.0)
"""The ``p`` of the source-whitening columns."""


def _source_stats(model: Path, n: int) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """Mean ``float64[D]`` of ``n`` random training crops' L2-normalised embeddings (seed 0), and one
    ``float64[D,D]`` map ``C^(-p/2)`` per ``p`` of :data:`WHITEN_POWERS` (C: their covariance)."""
    train = load_dataset("cuhk01", DATA / "reid", train_ids=(1, 485), test_ids=(486, 971)).train
    train += load_dataset("cuhk03", DATA / "reid").train
    pick = np.random.default_rng(0).choice(len(train), min(n, len(train)), replace=False)
    f = _norm(extract_features(model, [train[i] for i in pick])).astype(np.float64)
    mean = f.mean(axis=0)
    w, v = np.linalg.eigh(np.cov((f - mean).T))
    w = np.maximum(w, 1e-8)
    return mean, [(v * w ** (-p / 2)) @ v.T for p in WHITEN_POWERS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument(
        "--source", type=int, default=0, metavar="N", help="add source-fitted columns from N crops"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    head = ["plain", "global centre", "per-camera"]
    if args.source:
        head += ["source centre"] + [f"whiten {p:g}" for p in WHITEN_POWERS]
    print(f"{'model':34s} {'protocol':12s} " + " ".join(f"{h:>16s}" for h in head))
    for model in args.models:
        source = _source_stats(model, args.source) if args.source else None
        for proto, root in PROTOCOLS.items():
            q, g = load_protocol(proto, root)
            fq, fg = _norm(extract_features(model, q)), _norm(extract_features(model, g))
            ids = (q, g)
            mean = np.concatenate([fq, fg]).mean(axis=0)
            cells = [
                _score(fq, fg, ids),
                _score(_norm(fq - mean), _norm(fg - mean), ids),
                _score(_norm(fq - fq.mean(axis=0)), _norm(fg - fg.mean(axis=0)), ids),
            ]
            if source is not None:
                mu, maps = source
                for m in [np.eye(len(mu)), *maps]:  # the identity map: source centre alone
                    a, b = ((fq - mu) @ m).astype(np.float32), ((fg - mu) @ m).astype(np.float32)
                    cells.append(_score(_norm(a), _norm(b), ids))
            print(f"{model.name:34s} {proto:12s} " + " ".join(f"{c:>16s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
