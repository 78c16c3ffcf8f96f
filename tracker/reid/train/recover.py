"""Recover a trainable light model from its ONNX export (the exporter folds BatchNorm into convolutions).

The exporter folds every BatchNorm into the convolution before it, so the ONNX file holds
``conv(x) + b`` per layer. To fine-tune such a model again, the BatchNorms are rebuilt so that the
network computes the same function **and** trains like the original:

1. :func:`load_folded`: each convolution gets the folded weight and its BatchNorm the identity with
   bias ``b`` (``running_var = 1 - eps``): the torch model then equals the ONNX model up to float
   rounding;
2. :func:`calibrate`: the per-channel mean ``mu`` and variance ``var`` of every convolution output
   are measured on real training images (one eval pass, hooks on the convolutions), and the BatchNorm
   becomes ``gamma = sqrt(var + eps)``, ``beta = b + mu``, ``running_mean = mu``,
   ``running_var = var``: the same function in eval mode, and in train mode batch statistics close to
   the running ones, so the first training steps do not jolt the network.

The linear reduction and the BN neck are stored unfused and are copied as they are. The classifier is
not in an export. ``tools/onnx_to_checkpoint.py`` is the command line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from tracker.reid.train.models import MGN_SPLIT, LightReid, MGNMobileNetV2

__all__ = ["calibrate", "light_to_mgn", "load_folded"]


def _conv_pairs(model: LightReid) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """The backbone's (convolution, BatchNorm after it) pairs in forward order."""
    mods = [m for m in model.backbone.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d]] = []
    for conv, bn in zip(mods[0::2], mods[1::2], strict=True):
        if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
            raise ValueError("backbone is not a sequence of Conv2d + BatchNorm2d pairs")
        pairs.append((conv, bn))
    return pairs


def _buffer(bn: nn.BatchNorm2d, name: str) -> torch.Tensor:
    t = getattr(bn, name)
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"BatchNorm without {name} (track_running_stats off?)")
    return t


def load_folded(model: LightReid, onnx_path: str | Path) -> None:
    """Step 1: load the folded convolution weights of a ``mobilenetv2`` export into ``model`` (a
    :class:`~tracker.reid.train.models.LightReid` of the same shape), with identity BatchNorms carrying
    the folded bias.

    Raises:
        ValueError: the file is not a float32 export of this architecture (names the file).
    """
    graph = onnx.load(str(onnx_path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for t in graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT:
            raise ValueError(
                f"{onnx_path}: initializer {t.name} is not float32 (a compacted file? expand it first: "
                "tools/compact_onnx_weights.py IN OUT --mode float32)"
            )
    convs = [n for n in graph.node if n.op_type == "Conv"]
    pairs = _conv_pairs(model)
    if len(convs) != len(pairs):
        raise ValueError(f"{onnx_path}: {len(convs)} Conv nodes, the model has {len(pairs)} convolutions")
    with torch.no_grad():
        for node, (conv, bn) in zip(convs, pairs, strict=True):
            w, b = np.array(inits[node.input[1]]), np.array(inits[node.input[2]])
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise ValueError(f"{onnx_path}: {node.name} weight {w.shape} != {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))
            _buffer(bn, "running_mean").zero_()
            _buffer(bn, "running_var").fill_(1.0 - bn.eps)
        for name in ("reduce.weight", "reduce.bias"):
            model.get_parameter(name).copy_(torch.from_numpy(np.array(inits[name])))
        for name in ("weight", "bias"):
            getattr(model.bottleneck, name).copy_(torch.from_numpy(np.array(inits[f"bottleneck.{name}"])))
        for name in ("running_mean", "running_var"):
            getattr(model.bottleneck, name).copy_(torch.from_numpy(np.array(inits[f"bottleneck.{name}"])))


def calibrate(model: LightReid, images: torch.Tensor) -> None:
    """Step 2: measure each convolution's output statistics on ``images`` (``float32[N,3,H,W]``,
    normalised as in training), then rebuild its BatchNorm (module docstring)."""
    pairs = _conv_pairs(model)
    # running per-channel count, sum and sum of squares (float64), not the maps themselves
    count = [0] * len(pairs)
    s1 = [torch.zeros(bn.num_features, dtype=torch.float64) for _c, bn in pairs]
    s2 = [torch.zeros(bn.num_features, dtype=torch.float64) for _c, bn in pairs]
    hooks = []
    for i, (conv, _bn) in enumerate(pairs):

        def hook(_m: nn.Module, _inp: object, out: torch.Tensor, i: int = i) -> None:
            z = out.detach().transpose(0, 1).reshape(out.shape[1], -1).double()
            count[i] += z.shape[1]
            s1[i] += z.sum(dim=1)
            s2[i] += (z * z).sum(dim=1)

        hooks.append(conv.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        for chunk in images.split(32):
            model(chunk)
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for i, (_conv, bn) in enumerate(pairs):
            mu = s1[i] / count[i]
            var = (s2[i] / count[i] - mu * mu).clamp(min=0.0)
            b = bn.bias.double().clone()
            _buffer(bn, "running_mean").copy_(mu.float())
            _buffer(bn, "running_var").copy_(var.float())
            bn.weight.copy_(torch.sqrt(var + bn.eps).float())
            bn.bias.copy_((b + mu).float())


def light_to_mgn(light: LightReid, mgn: MGNMobileNetV2) -> None:
    """Start an MGN from a trained light model: the shared trunk from its first ``MGN_SPLIT`` blocks,
    each of the three branches from a copy of its remaining blocks (the reductions and classifiers
    stay as built)."""
    blocks = list(light.backbone.features.children())
    features = getattr(mgn.backbone, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ValueError("MGN without a MobileNetV2 trunk (backbone.features)")
    trunk = list(features.children())
    if len(trunk) != MGN_SPLIT:
        raise ValueError(f"MGN trunk has {len(trunk)} blocks, expected {MGN_SPLIT}")
    for dst, src in zip(trunk, blocks[:MGN_SPLIT], strict=True):
        dst.load_state_dict(src.state_dict())
    for branch in (mgn.p1, mgn.p2, mgn.p3):
        tail = list(branch.children())
        for dst, src in zip(tail, blocks[MGN_SPLIT:], strict=True):
            dst.load_state_dict(src.state_dict())
