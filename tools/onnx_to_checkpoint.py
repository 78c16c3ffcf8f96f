"""Recover a trainable checkpoint from an exported light ReID model (``reid export`` of ``mobilenetv2``).

The exporter folds every BatchNorm into the convolution before it. `tracker.reid.train.recover`
rebuilds the BatchNorms from statistics measured on training images, so that the network computes
the same function (checked against ONNX Runtime here) and trains like the original.

The linear reduction and the BN neck are stored unfused and are copied as they are. The classifier is
not in the export; the checkpoint gets a one-class placeholder that ``init_checkpoint`` skips (a new
classifier is built for the training data's identities).

Usage (from the repository root, torch installed)::

    python tools/onnx_to_checkpoint.py FLOAT32_MODEL.onnx out/reid/recovered/last.pt \
        --data ../shared/data/reid --config configs/reid/light_cuhk01_ft.yaml

The ONNX model must store its weights in float32 (the compact int8 file of the package is lossy; take
the float32 export from git history: ``git show 2f1794c:tracker/assets/reid_mobilenetv2_cuhk.onnx``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.reid.train.config import load_reid_config  # noqa: E402
from tracker.reid.train.datasets import ImageDataset  # noqa: E402
from tracker.reid.train.engine import _make_model, build_train_samples, save_checkpoint  # noqa: E402
from tracker.reid.train.recover import calibrate, load_folded  # noqa: E402

logger = logging.getLogger("onnx_to_checkpoint")


def onnx_output(onnx_path: Path, x: torch.Tensor) -> np.ndarray:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="float32 ONNX export of a mobilenetv2 light model")
    ap.add_argument("out", type=Path, help="checkpoint to write (last.pt)")
    ap.add_argument("--data", required=True, help="data root of the config's training datasets")
    ap.add_argument("--config", required=True, help="the reid training config the model was trained with")
    ap.add_argument("--calibration-images", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    cfg = load_reid_config(args.config)
    if cfg.model.arch != "mobilenetv2":
        raise SystemExit(f"{args.config}: only arch mobilenetv2 can be recovered, not {cfg.model.arch}")
    model = _make_model(cfg, 1, 0, pretrained=False)
    load_folded(model, args.model)

    samples, _ = build_train_samples(cfg, args.data)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(samples), size=min(args.calibration_images, len(samples)), replace=False)
    ds = ImageDataset([samples[i] for i in pick], cfg.model.input_size)
    images = torch.stack([ds[i][0] for i in range(len(ds))])

    model.eval()
    with torch.no_grad():
        ref = onnx_output(args.model, images[:16])
        d0 = float(np.abs(model(images[:16]).numpy() - ref).max())
        calibrate(model, images)
        d1 = float(np.abs(model(images[:16]).numpy() - ref).max())
        # train mode (batch statistics): how close the first training steps start to the model
        f_eval = model.reduce(model.backbone(images[:64]).mean(dim=(2, 3)))
        model.train()
        f_train = model.reduce(model.backbone(images[:64]).mean(dim=(2, 3)))
        cos = float(nn.functional.cosine_similarity(f_eval, f_train, dim=1).mean())
    logger.info("max |torch - onnx|: folded %.2e, after calibration %.2e (eval mode)", d0, d1)
    logger.info("train-mode (batch statistics) vs eval features, batch of 64: mean cosine %.4f", cos)
    if max(d0, d1) > 1e-3:
        raise SystemExit(f"recovered model differs from {args.model} by {max(d0, d1):.3g}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out, model, None, cfg, 1, cfg.optim.epochs)
    logger.info("wrote %s (%d calibration images)", args.out, len(images))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
