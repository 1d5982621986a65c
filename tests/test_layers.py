"""The layers of ``connector/`` as the README draws them: every import points down, none up, and
there is no cycle (type-only imports count: they are what a reader follows too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "connector"
# Bottom to top. The sandbox is a tool beside the stores: it may use core and store helpers,
# and only the entry points use it.
LAYERS = ("core", "ac", "engage", "store", "sandbox", "engine", "entry")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(
                    base[: len(base) - node.level + 1] + ([node.module] if node.module else [])
                )
            else:
                target = node.module or ""
            names.add(target)
            names |= {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


MODULES = _modules()
GRAPH = {
    module: {
        name
        for name in _imports(module, path)
        if name in MODULES and name != module and not name.startswith(module + ".")
    }
    for module, path in MODULES.items()
}


def test_every_module_lives_in_a_layer() -> None:
    loose = [
        m for m in MODULES if m not in ("connector", "connector.__main__") and _layer(m) is None
    ]
    assert loose == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) is not None))
def test_imports_point_down(module: str) -> None:
    mine = _layer(module)
    assert mine is not None
    upward = sorted(
        name for name in GRAPH[module] if (theirs := _layer(name)) is not None and theirs > mine
    )
    assert upward == [], f"{module} ({LAYERS[mine]}) imports a higher layer: {upward}"


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in GRAPH[node]:
            if state.get(nxt) == 1:
                raise AssertionError(" > ".join(stack[stack.index(nxt) :] + [nxt]))
            if not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in GRAPH:
        if not state.get(node):
            visit(node)
