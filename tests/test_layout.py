"""The package's shape is its architecture (README "Layout"): stage folders in
data-flow order, each importing only the stages before it, and no import circle, counting
the imports inside functions. Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "constellation"

# Data-flow order: a module may import its own layer and the layers before it.
LAYERS = ["errors", "interrupts", "constants", "core", "scenario", "passes", "key", "network", "coverage",
          "pipeline", "sizing", "output", "plots", "results", "api", "cli", "__main__"]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(p for p in parts if p != "__init__")
        out[name] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("constellation"):
                target = node.module.removeprefix("constellation").lstrip(".")
            else:
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}".lstrip(".") if target else alias.name)
                found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("constellation."):
                    found.add(alias.name.removeprefix("constellation."))
    modules = _modules()
    return {m for m in found if m in modules and m and m != name}


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in _modules().items()}


def _layer(module: str) -> str:
    return module.split(".")[0]


def test_at_least_five_stage_subpackages():
    folders = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    assert len(folders) >= 5
    assert {"core", "scenario", "passes", "key", "network", "coverage", "sizing", "output", "plots"} <= set(folders)


def test_subpackage_inits_import_nothing():
    for init in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], init


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_every_stage_imports_only_the_stages_before_it():
    wrong = []
    for module, targets in _graph().items():
        if not module:
            continue
        mine = LAYERS.index(_layer(module))
        for target in targets:
            theirs = LAYERS.index(_layer(target))
            if theirs > mine:
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong


def test_core_needs_only_numpy_sgp4_skyfield_and_geographiclib():
    # geographiclib gives the WGS84 geodesics (Karney 2013) of core/geodesy.py.
    allowed = {"numpy", "sgp4", "skyfield", "skyfield_data", "geographiclib", "math", "datetime", "dataclasses", "functools",
               "__future__", "os", "typing", "collections", "itertools", "bisect", "importlib", "warnings",
               "resource"}  # standard library: budget.py reads RLIMIT_AS
    for path in (PACKAGE / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module.split(".")[0]]
            else:
                continue
            extra = [n for n in names if n not in allowed and n != "constellation"]
            assert not extra, f"{path.name} imports {extra}"
