"""ReID training toolkit (needs the ``train`` extra: torch).

Modules: :mod:`~.datasets` (dataset parsers and loaders), :mod:`~.sampler` (P x K identity sampler),
:mod:`~.transforms` (flip, pad + crop, random erasing), :mod:`~.losses`, :mod:`~.models` (BoT
ResNet-50, MGN, light MobileNetV2), :mod:`~.engine` (training loop, graceful stops),
:mod:`~.checkpoint` (tensor-only ``.pt`` reading, checkpoint layout), :mod:`~.evaluate` (CMC/mAP,
re-ranking), :mod:`~.export` (ONNX), :mod:`~.config` (YAML config), :mod:`~.cli`.

Importing this package imports nothing heavy; import the submodules you need.
"""

from __future__ import annotations
