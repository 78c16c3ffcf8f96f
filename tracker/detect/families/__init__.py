"""Detector family registry: one :class:`~tracker.detect.families.base.FamilySpec` per module here.

Every module in this package (other than ``base``) that defines ``SPEC`` is a family; they are found by
listing the package, so **adding a family is adding one module** (plus its test). :class:`~tracker.
detect.OnnxDetector`, ``family="auto"`` inference (:func:`infer_family`) and the CLI help
(:func:`family_help`) all read the registry.

* :data:`FAMILIES`: canonical names in display order; :data:`SPECS`: name -> spec;
  :data:`FAMILY_DEFAULTS`: name -> :class:`FamilyDefaults`;
* :func:`get_family`: a spec by name or alias (case-insensitive), ``ValueError`` listing the families
  otherwise;
* :func:`infer_family`: the one family whose layout matcher accepts the outputs, or ``None``;
* :func:`family_help`: one line per family for ``--family`` help texts.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ...onnx_utils import TensorInfo
from .base import DecodeFn, DecoderContext, FamilyDefaults, FamilySpec, LayoutMismatch

__all__ = [
    "FAMILIES",
    "FAMILY_DEFAULTS",
    "SPECS",
    "DecodeFn",
    "DecoderContext",
    "FamilyDefaults",
    "FamilySpec",
    "LayoutMismatch",
    "family_help",
    "get_family",
    "infer_family",
    "load_specs",
]

_NOT_FAMILIES = frozenset({"base"})


def load_specs(package: str = __name__) -> tuple[FamilySpec, ...]:
    """The ``SPEC`` of every module in ``package`` (except ``base``), sorted by ``order`` then name.

    Raises:
        ValueError: two families share a name or alias.
    """
    pkg = importlib.import_module(package)
    specs: list[FamilySpec] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in _NOT_FAMILIES or info.name.startswith("_"):
            continue
        spec = getattr(importlib.import_module(f"{package}.{info.name}"), "SPEC", None)
        if isinstance(spec, FamilySpec):
            specs.append(spec)
    specs.sort(key=lambda s: (s.order, s.name))
    seen: dict[str, str] = {}
    for s in specs:
        for n in (s.name, *s.aliases):
            if n in seen or n == "auto":
                raise ValueError(
                    f"detector family name {n!r} of {s.name} is already taken by {seen.get(n, 'auto')}"
                )
            seen[n] = s.name
    return tuple(specs)


_SPECS = load_specs()
SPECS: Mapping[str, FamilySpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Canonical family name -> spec; read-only."""
FAMILIES: tuple[str, ...] = tuple(SPECS)
"""Supported model families, in display order (plus ``"auto"``)."""
FAMILY_DEFAULTS: Mapping[str, FamilyDefaults] = MappingProxyType({s.name: s.defaults for s in _SPECS})
"""Per-family defaults; read-only."""
_ALIASES: Mapping[str, str] = MappingProxyType({a: s.name for s in _SPECS for a in s.aliases})


def get_family(name: str, specs: Mapping[str, FamilySpec] = SPECS) -> FamilySpec:
    """The spec of family ``name`` (canonical name or alias, any case).

    Raises:
        ValueError: unknown name (the message lists the families and ``"auto"``).
    """
    key = str(name).lower()
    aliases = {a: s.name for s in specs.values() for a in s.aliases}
    key = aliases.get(key, key)
    if key not in specs:
        raise ValueError(f"unknown detector family {name!r}; expected one of {[*specs, 'auto']}")
    return specs[key]


def infer_family(
    outputs: Sequence[TensorInfo],
    input_size: tuple[int, int] | None,
    specs: Mapping[str, FamilySpec] = SPECS,
) -> str | None:
    """The family that the ``outputs`` unambiguously belong to (exactly one matcher accepts them),
    or ``None``.

    Args:
        outputs: the model's outputs (:func:`tracker.onnx_utils.describe_outputs`).
        input_size: ``(H, W)`` of the network input, ``None`` if dynamic.
        specs: the families to consider (default: all registered).
    """
    found = [s.name for s in specs.values() if s.matches(outputs, input_size)]
    return found[0] if len(found) == 1 else None


def family_help(specs: Mapping[str, FamilySpec] = SPECS) -> str:
    """Help text for a ``--family`` option: every family with its aliases and summary, then ``auto``."""
    parts = []
    for s in specs.values():
        alias = f" (alias {', '.join(s.aliases)})" if s.aliases else ""
        parts.append(f"{s.name}{alias}: {s.summary}")
    parts.append("auto (default): inferred from the model's outputs")
    return "detector family for --detector; " + "; ".join(parts)
