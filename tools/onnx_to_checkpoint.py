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

The ONNX model must store its weights in float32. The package's embedder is stored compacted (int8 /
float16 weights rebuilt at load); expand it first, which gives the weights it computes with::

    python tools/compact_onnx_weights.py tracker/assets/reid_mobilenetv2_cuhk.onnx out/reid_f32.onnx --mode float32

(the first default embedder's float32 export is also in git history:
``git show 2f1794c:tracker/assets/reid_mobilenetv2_cuhk.onnx``).
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

from tracker.reid.train.config import ReidTrainConfig, load_reid_config  # noqa: E402
from tracker.reid.train.datasets import ImageDataset  # noqa: E402
from tracker.reid.train.engine import (  # noqa: E402
    _make_model,
    build_train_samples,
    model_from_checkpoint,
    save_checkpoint,
)
from tracker.reid.train.models import LightReid, MGNMobileNetV2  # noqa: E402
from tracker.reid.train.recover import calibrate, light_to_mgn, load_folded  # noqa: E402

logger = logging.getLogger("onnx_to_checkpoint")


def onnx_output(onnx_path: Path, x: torch.Tensor) -> np.ndarray:
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]


def recover(args: argparse.Namespace) -> tuple[LightReid, ReidTrainConfig]:
    """The light model of an ONNX export, BatchNorms rebuilt and checked against ONNX Runtime."""
    if not args.config or not args.data:
        raise SystemExit("an ONNX model needs --config (what it was trained with) and --data")
    cfg = load_reid_config(args.config)
    if cfg.model.arch != "mobilenetv2":
        raise SystemExit(f"{args.config}: only arch mobilenetv2 can be recovered, not {cfg.model.arch}")
    model = _make_model(cfg, 1, 0, pretrained=False)
    assert isinstance(model, LightReid)
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
    model.eval()
    logger.info("max |torch - onnx|: folded %.2e, after calibration %.2e (eval mode)", d0, d1)
    logger.info("train-mode (batch statistics) vs eval features, batch of 64: mean cosine %.4f", cos)
    if max(d0, d1) > 1e-3:
        raise SystemExit(f"recovered model differs from {args.model} by {max(d0, d1):.3g}")
    logger.info("%d calibration images", len(images))
    return model, cfg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "model",
        type=Path,
        help="float32 ONNX export of a mobilenetv2 light model, or its training checkpoint .pt",
    )
    ap.add_argument("out", type=Path, help="checkpoint to write (last.pt)")
    ap.add_argument("--data", help="data root of the config's training datasets (ONNX input)")
    ap.add_argument("--config", help="the reid training config the ONNX model was trained with")
    ap.add_argument(
        "--mgn-config",
        help="write an mgn_mobilenetv2 checkpoint of this config instead, its trunk and three branches "
        "started from the light model",
    )
    ap.add_argument("--calibration-images", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.model.suffix == ".pt":
        light, cfg, _meta = model_from_checkpoint(args.model)
        if not isinstance(light, LightReid):
            raise SystemExit(f"{args.model}: not a mobilenetv2 light model")
    else:
        light, cfg = recover(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.mgn_config:
        save_checkpoint(args.out, light, None, cfg, 1, cfg.optim.epochs)
        logger.info("wrote %s", args.out)
        return 0
    mcfg = load_reid_config(args.mgn_config)
    if mcfg.model.arch != "mgn_mobilenetv2" or mcfg.model.input_size != cfg.model.input_size:
        raise SystemExit(f"{args.mgn_config}: expected arch mgn_mobilenetv2 at {cfg.model.input_size}")
    mgn = _make_model(mcfg, 1, 0, pretrained=False)
    assert isinstance(mgn, MGNMobileNetV2)
    light_to_mgn(light, mgn)
    mgn.eval()
    x = torch.randn(4, 3, *cfg.model.input_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = float((mgn.p1(mgn.backbone(x)) - light.backbone(x)).abs().max())
    logger.info("MGN global branch vs light backbone, max |diff| %.2e", diff)
    if diff > 1e-4:
        raise SystemExit(f"MGN trunk + global branch differ from the light backbone by {diff:.3g}")
    save_checkpoint(args.out, mgn, None, mcfg, 1, mcfg.optim.epochs)
    logger.info("wrote %s (MGN from the light model)", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
