"""The import graph of the nbviz package: no cycles, and the engines never reach widgets or reports.

Every module's source is parsed with `ast`; every `import` statement counts, at module level or
inside a function (a function-level import only delays a cycle, it does not remove it), including
relative imports. `from package import name` is an edge to `package.name` when that is a module,
else to `package` itself. Imports built from strings at run time (importlib) are not seen.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "nbviz"
ENGINES = ("nbviz.cam", "nbviz.tsne")
ABOVE_THE_ENGINES = ("nbviz.widgets", "nbviz.report", "nbviz.demo", "nbviz.__main__", "nbviz.lens")


@dataclass(frozen=True)
class Edge:
    """`source` imports `target` at `line` of `path`."""

    source: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.path.name}:{self.line})"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every .py file under `package_dir` (a package)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_edges(package_dir: Path) -> list[Edge]:
    """Every import from one module of the package to another, wherever in the module it stands."""
    modules = module_names(package_dir)
    edges = []
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for target in _targets(node, source, is_package, modules):
                edges.append(Edge(source, target, path, node.lineno))
    return edges


def _targets(node: ast.AST, source: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        found = [_known_prefix(alias.name, modules) for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node.module, node.level, source, is_package)
        found = []
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.append(submodule if submodule in modules else _known_prefix(base, modules))
    else:
        return []
    return [name for name in found if name is not None]


def _absolute(module: str | None, level: int, source: str, is_package: bool) -> str:
    """The absolute name `from <level dots><module> import ...` refers to inside `source`."""
    if level == 0:
        return module or ""
    package = source.split(".") if is_package else source.split(".")[:-1]
    anchor = package[: len(package) - (level - 1)]
    return ".".join(anchor + ([module] if module else []))


def _known_prefix(name: str, modules: dict[str, Path]) -> str | None:
    """`name` or its longest dotted prefix that is a module of the package (None outside it)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself
    (Tarjan's algorithm): each is a set of modules that import one another in a loop."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(edges: list[Edge], start: str) -> dict[str, list[Edge]]:
    """Every module `start` imports directly or through others, with one import chain to each."""
    outgoing: dict[str, list[Edge]] = {}
    for edge in edges:
        outgoing.setdefault(edge.source, []).append(edge)
    chains: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for edge in outgoing.get(node, []):
            if edge.target not in chains:
                chains[edge.target] = chains[node] + [edge]
                frontier.append(edge.target)
    return chains


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


# ---- the helpers on small packages written here -------------------------------------------------
def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_cycle_through_a_function_level_relative_import_is_found(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.sub import b\n",
        "pkg/sub/__init__.py": "from . import b\n",
        "pkg/sub/b.py": "def late():\n    from ..a import thing\n    import os\n",
        "pkg/c.py": "from .a import b\nimport pkg.sub.b\n",
    })
    edges = import_edges(package)
    assert {(e.source, e.target) for e in edges} == {
        ("pkg.a", "pkg.sub.b"), ("pkg.sub", "pkg.sub.b"), ("pkg.sub.b", "pkg.a"),
        ("pkg.c", "pkg.a"), ("pkg.c", "pkg.sub.b"),
    }
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]
    assert [str(e) for e in reachable(edges, "pkg.c")["pkg.a"]] == ["pkg.c -> pkg.a (c.py:1)"]


def test_a_module_importing_its_own_package_init_that_imports_it_is_a_cycle(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "from .engine import run\n",
        "pkg/engine.py": "from pkg import helper_value\n",
        "pkg/leaf.py": "from pkg.engine import run\n",
    })
    assert cycles(import_edges(package)) == [["pkg", "pkg.engine"]]


def test_an_acyclic_package_has_no_cycles(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\nfrom pkg import c\n",
        "pkg/b.py": "from .c import x\nfrom typing import Any\n",
        "pkg/c.py": "import json\n",
    })
    assert cycles(import_edges(package)) == []


# ---- nbviz --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nbviz_edges():
    return import_edges(PACKAGE_DIR)


def test_nbviz_has_no_import_cycles(nbviz_edges):
    assert len(module_names(PACKAGE_DIR)) > 40 and len(nbviz_edges) > 80, "the walk found the package"
    found = cycles(nbviz_edges)
    described = [
        " <-> ".join(component) + ": " + "; ".join(
            str(e) for e in nbviz_edges if e.source in component and e.target in component
        )
        for component in found
    ]
    assert not found, "import cycles:\n" + "\n".join(described)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_reach_neither_widgets_nor_reports_nor_the_other_engine(nbviz_edges, engine):
    other_engines = tuple(e for e in ENGINES if e != engine)
    for module in module_names(PACKAGE_DIR):
        if not _inside(module, (engine,)):
            continue
        for target, chain in reachable(nbviz_edges, module).items():
            assert not _inside(target, ABOVE_THE_ENGINES + other_engines), (
                f"{module} reaches {target}: " + " ; ".join(str(e) for e in chain)
            )


def test_the_report_package_reaches_no_concrete_widget(nbviz_edges):
    for module in module_names(PACKAGE_DIR):
        if not _inside(module, ("nbviz.report",)):
            continue
        for target, chain in reachable(nbviz_edges, module).items():
            assert not _inside(target, ("nbviz.widgets.cam_explorer", "nbviz.widgets.tsne_scatter",
                                        "nbviz.widgets.base", "nbviz.cam", "nbviz.tsne", "nbviz.demo")), (
                f"{module} reaches {target}: " + " ; ".join(str(e) for e in chain)
            )


def test_the_lens_bridge_reaches_no_widget_and_no_report(nbviz_edges):
    """nbviz.lens reads datasets for the engines (features, image sources); the widgets built on it
    (ModelLens, link) import it, never the other way round."""
    for module in module_names(PACKAGE_DIR):
        if not _inside(module, ("nbviz.lens",)):
            continue
        for target, chain in reachable(nbviz_edges, module).items():
            assert not _inside(target, ("nbviz.widgets", "nbviz.report", "nbviz.demo", "nbviz.tsne")), (
                f"{module} reaches {target}: " + " ; ".join(str(e) for e in chain)
            )
