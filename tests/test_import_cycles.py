"""No import cycle in the package, the emulator or the benchmarks.

The graph is built from the source, not by importing it: every ``import x`` and ``from x import y`` in a module
is an edge, wherever it stands (at the top, inside a function, under ``if TYPE_CHECKING:``), because an import
moved into a function or behind ``TYPE_CHECKING`` hides a cycle from the interpreter but not from a reader, who
still cannot read one module without the other. ``from package import name`` is an edge to ``package.name``
when that is a module of the tree, else to ``package``; the implicit import of a module's parent packages is not.
The benchmarks are scripts run from their folder (``bench/run.py`` imports ``_common``), so in a folder without
``__init__.py`` a bare name also resolves to a sibling file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(folder: Path) -> bool:
    return (folder / "__init__.py").exists()


def _resolve_relative(module: str, is_init: bool, level: int, target: str | None) -> str:
    """``from ..x import y`` in ``module``: the absolute name of ``..x``."""
    package = module.split(".") if is_init else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, *([target] if target else [])])


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module name -> the names of the tree's modules it imports (only modules of ``root``)."""
    files = {_module_name(p): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}

    def known(name: str, folder: Path) -> str | None:
        if name in files:
            return name
        if not _is_package(folder):  # a script folder: `import _common` is the sibling file
            sibling = _module_name(folder / (name.replace(".", "/") + ".py"))
            if sibling in files:
                return sibling
        return None

    for module, path in files.items():
        folder, is_init = path.parent, path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (_resolve_relative(module, is_init, node.level, node.module) if node.level
                        else node.module or "")
                for alias in node.names:
                    targets.append(f"{base}.{alias.name}" if known(f"{base}.{alias.name}", folder) else base)
            for target in targets:
                found = known(target, folder)
                if found is not None and found != module:
                    graph[module].add(found)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first search, modules in name order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


@pytest.mark.parametrize("tree", ["airflow_provider_zoho_aep", "emulator", "bench"])
def test_no_import_cycle(tree: str) -> None:
    graph = import_graph(REPO / tree)
    assert graph, f"no modules found under {tree}/"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in {tree}/: {' -> '.join(cycle or [])}"


def test_the_graph_sees_every_kind_of_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself: a cycle through a function-level import, a ``TYPE_CHECKING`` import, a relative
    ``from . import module`` and a script folder's bare name is found; a one-way chain is not a cycle."""
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("from . import b\nA = 1\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n")
    (pkg / "c.py").write_text("def f():\n    from pkg.a import A\n")
    assert find_cycle(import_graph(pkg)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (pkg / "c.py").write_text("C = 1\n")
    assert find_cycle(import_graph(pkg)) is None

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "run.py").write_text("import helper\n")
    (scripts / "helper.py").write_text("def table():\n    from run import main\n")
    assert find_cycle(import_graph(scripts)) == ["scripts.helper", "scripts.run", "scripts.helper"]
