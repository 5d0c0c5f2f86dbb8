"""Imports go one way (DESIGN.md): core ← models ← pipelines/training ← serving/evaluation ← cli."""

from __future__ import annotations

import ast
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
