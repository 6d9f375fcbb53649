"""The layer rules of docs/architecture.md, read from the source: every import of every module
(lazy ones inside functions included) must be an allowed edge, and no import cycle may exist.

The checker is tested on small synthetic packages too, so that it is known to catch a
forbidden edge and a cycle (also one closed by a lazy import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"

# Which layers each layer may import (besides itself). Layers not listed here may import
# nothing of skelssl. "package" is skelssl/__init__.py (the version).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "losses": set(),
    "schema": {"errors"},
    "skeleton": {"errors"},
    "transforms": {"skeleton", "errors"},
    "models": {"transforms", "skeleton", "schema", "errors"},
    "methods": {"models", "losses", "transforms", "skeleton", "schema", "errors"},
    "data": {"skeleton", "errors", "package"},
    "viz": {"skeleton"},
    "config": {"methods", "models", "schema", "errors"},
    "engine": {"config", "data", "methods", "models", "transforms", "skeleton", "schema",
               "errors", "package"},
    "eval": {"engine", "config", "data", "models", "transforms", "skeleton", "errors"},
    "cli": {"engine", "eval", "data", "config", "viz", "skeleton", "errors", "package"},
    "package": set(),
}
TOP_LEVEL = {"cli": "cli", "__main__": "cli", "demo": "cli", "viz": "viz", "config": "config",
             "errors": "errors", "losses": "losses", "schema": "schema", "skeleton": "skeleton"}


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name → file, for every module of ``package`` under ``root``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of the package that ``name`` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in modules)
    found.discard(name)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    modules = module_files(root, package)
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return TOP_LEVEL.get(parts[1], parts[1])


def forbidden_edges(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for source, targets in graph.items():
        for target in sorted(targets):
            here, there = layer(source), layer(target)
            if here != there and there not in ALLOWED.get(here, set()):
                bad.append(f"{source} → {target} ({here} may not import {there})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_layer_of_skelssl_is_known():
    layers = {layer(name) for name in import_graph(SOURCE, "skelssl")}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_skelssl_imports_only_along_allowed_edges():
    assert forbidden_edges(import_graph(SOURCE, "skelssl")) == []


def test_skelssl_has_no_import_cycle():
    assert cycles(import_graph(SOURCE, "skelssl")) == []


def test_the_design_rules_are_part_of_the_allowed_edges():
    never = {"losses": {"models", "data"}, "skeleton": set(ALLOWED) - {"errors", "skeleton"},
             "models": {"data", "methods"}, "transforms": {"models"}, "data": {"engine"},
             "methods": {"cli", "engine"}, "engine": {"cli"}, "eval": {"methods"}}
    for source, targets in never.items():
        assert not ALLOWED[source] & targets, source


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def fake_skelssl(tmp_path):
    """A miniature skelssl whose methods and engine follow the rules."""
    return write_package(tmp_path, {
        "skelssl/__init__.py": "",
        "skelssl/errors.py": "",
        "skelssl/methods/__init__.py": "from skelssl.methods.mine import Mine\n",
        "skelssl/methods/mine.py": "from skelssl.errors import ConfigError\n",
        "skelssl/engine/__init__.py": "",
        "skelssl/engine/trainer.py": "from skelssl.methods import Mine\n",
    })


def test_the_checker_passes_a_clean_package(fake_skelssl):
    graph = import_graph(fake_skelssl, "skelssl")
    assert graph["skelssl.engine.trainer"] == {"skelssl.methods"}
    assert forbidden_edges(graph) == [] and cycles(graph) == []


def test_the_checker_catches_a_forbidden_edge(fake_skelssl):
    (fake_skelssl / "skelssl/methods/mine.py").write_text(
        "from skelssl.engine.trainer import train\n")
    assert forbidden_edges(import_graph(fake_skelssl, "skelssl")) == [
        "skelssl.methods.mine → skelssl.engine.trainer (methods may not import engine)"]


def test_the_checker_catches_a_cycle_closed_by_a_lazy_import(fake_skelssl):
    (fake_skelssl / "skelssl/methods/mine.py").write_text(
        "def load():\n    from .. import engine\n    from ..engine import trainer\n")
    assert cycles(import_graph(fake_skelssl, "skelssl")) == [
        ["skelssl.engine.trainer", "skelssl.methods", "skelssl.methods.mine"]]
