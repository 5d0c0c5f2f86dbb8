"""Imports go one way (docs/architecture.md): core ← models ← pipelines/training ← serving/evaluation ← cli,
and no two modules import each other, directly or round a longer circle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "talktrack"

ALLOWED = {
    "core": {"core"},
    "models": {"core", "models"},
    "pipelines": {"core", "models", "pipelines"},
    "training": {"core", "models", "training"},
    "serving": {"core", "models", "pipelines", "training", "serving"},
    "evaluation": {"core", "models", "pipelines", "training", "evaluation"},
    "cli": {"core", "models", "pipelines", "training", "serving", "evaluation", "cli"},
    "configs": set(),
}


def imported_layers(path: Path) -> set[tuple[str, int]]:
    """Every ``talktrack.<layer>`` a module imports, with the line (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "talktrack" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def test_every_module_sits_in_a_known_layer():
    layers = {p.relative_to(PACKAGE).parts[0] for p in modules()}
    assert layers <= set(ALLOWED), f"unknown layer(s): {layers - set(ALLOWED)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path):
    layer = path.relative_to(PACKAGE).parts[0]
    wrong = [(target, line) for target, line in imported_layers(path) if target not in ALLOWED[layer]]
    assert not wrong, f"{layer}/ may not import {sorted(wrong)} (allowed: {sorted(ALLOWED[layer])})"


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from talktrack.serving import app\n")
    assert imported_layers(bad) == {("serving", 2)}


# --- import circles ------------------------------------------------------------------------------
def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports (lazy imports inside functions included:
    a circle broken only by importing late is still two modules that need each other)."""
    names = {module_name(p, root): p for p in root.rglob("*.py")}
    top = root.name

    def known(name: str) -> str | None:
        while name and name not in names:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {known(alias.name) for alias in node.names if alias.name.split(".")[0] == top}
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(max(node.level - 1, 0)):
                    base = base.rpartition(".")[0]
                module = (base + "." + node.module if node.module else base) if node.level else (node.module or "")
                if module.split(".")[0] != top:
                    continue
                # `from pkg import submodule` depends on the submodule, `from pkg import name` on pkg
                targets |= {known(f"{module}.{alias.name}") if f"{module}.{alias.name}" in names else known(module)
                            for alias in node.names}
        graph[name] = targets - {None, name}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    order, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                circles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in order:
            visit(node)
    return circles


def test_no_two_modules_import_each_other():
    circles = import_circles(import_graph())
    assert not circles, "import circle(s): " + "; ".join(" ↔ ".join(c) for c in circles)


def test_the_circle_finder_catches_a_long_circle_and_lets_a_package_reexport(tmp_path):
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("from pkg.sub.leaf import thing\n")  # re-export: no circle
    (root / "sub" / "leaf.py").write_text("thing = 1\n")
    (root / "a.py").write_text("from pkg import b\n")
    (root / "b.py").write_text("def f():\n    from pkg.c import g\n")  # a lazy import still counts
    (root / "c.py").write_text("from .a import x\n")
    assert import_circles(import_graph(root)) == [["pkg.a", "pkg.b", "pkg.c"]]
