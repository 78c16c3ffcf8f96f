"""Benchmark scripts and tools that tests load as modules (they are not part of the package)."""

from __future__ import annotations

import functools
import importlib.util
import sys
import types
from pathlib import Path


def _load(name: str, folder: str = "benchmarks") -> types.ModuleType:
    """``<folder>/<name>.py`` loaded as the module ``name``."""
    path = Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@functools.cache
def harness() -> types.ModuleType:
    """``benchmarks/multicam_harness.py`` (a script, not part of the package) loaded as a module."""
    return _load("multicam_harness")


@functools.cache
def frame_rate() -> types.ModuleType:
    """``benchmarks/frame_rate.py`` loaded as a module."""
    return _load("frame_rate")


@functools.cache
def compact_weights() -> types.ModuleType:
    """``tools/compact_onnx_weights.py`` loaded as a module."""
    return _load("compact_onnx_weights", "tools")


@functools.cache
def score_shift() -> types.ModuleType:
    """``benchmarks/score_shift.py`` loaded as a module."""
    return _load("score_shift")
