"""Benchmark scripts that tests load as modules (they are not part of the package)."""

from __future__ import annotations

import functools
import importlib.util
import sys
import types
from pathlib import Path


@functools.cache
def harness() -> types.ModuleType:
    """``benchmarks/multicam_harness.py`` (a script, not part of the package) loaded as a module."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "multicam_harness.py"
    spec = importlib.util.spec_from_file_location("multicam_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["multicam_harness"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module
