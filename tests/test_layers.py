"""The package's import graph: arrows only point down the layers, and no module imports itself back.

Every ``import`` in ``tracker/`` is read with :mod:`ast` (also those inside functions: a lazy import
is still an arrow), resolved to a module, and checked against :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tracker"

LAYERS: list[set[str]] = [
    {"types", "geometry", "signals", "config", "onnx_utils", "interop"},  # ground floor
    {"motion", "association"},
    {"core"},
    {"io", "viz", "eval", "detect", "reid"},
    {"multicam", "assets", "postprocess"},
    {"pipeline"},
    {"apps", "engines"},
    {"__main__", "__init__"},
]
"""Top-level rooms of ``tracker/``, lowest first. A module may import its own layer and those below."""

FACADES = {
    ("tracker.types", "tracker.interop.supervision"),
    ("tracker.types", "tracker.interop.ultralytics"),
}
"""Deliberate call-time imports: ``Detections.from_supervision`` & co. are thin methods whose converters
live in :mod:`tracker.interop` (which builds on ``types``), imported only when called."""

_LEVEL = {room: k for k, rooms in enumerate(LAYERS) for room in rooms}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute ``tracker.*`` module names imported anywhere in ``path``."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "tracker")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tracker":
                continue
            found.add(target)
            for a in node.names:  # `from . import x` may name a submodule
                candidate = f"{target}.{a.name}"
                if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").is_file() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).is_file():
                    found.add(candidate)
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_room_has_a_layer() -> None:
    rooms = {_room(m) for m in _graph()}
    assert rooms <= set(_LEVEL), f"rooms without a layer in LAYERS: {sorted(rooms - set(_LEVEL))}"


def test_no_upward_import() -> None:
    bad = []
    for mod, imports in _graph().items():
        for target in imports:
            if _LEVEL[_room(target)] > _LEVEL[_room(mod)]:
                bad.append(f"{mod} -> {target}")
    assert not bad, "imports that point up the layers:\n" + "\n".join(sorted(bad))


def test_no_import_cycle() -> None:
    graph = _graph()

    def edges(m: str) -> set[str]:
        # importing tracker.a.b also runs tracker.a's __init__: that is not a cycle of m's own making
        return {
            t
            for t in graph.get(m, set())
            if t in graph and t != m and not m.startswith(t + ".") and (m, t) not in FACADES
        }

    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges(m)):
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t) :], t] if t in stack else [m, t])
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("room", ["motion", "association"])
def test_motion_and_association_know_nothing_above(room: str) -> None:
    allowed = LAYERS[0] | {room}
    for mod, imports in _graph().items():
        if _room(mod) == room:
            assert {_room(t) for t in imports} <= allowed, mod
