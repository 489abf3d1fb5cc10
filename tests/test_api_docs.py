"""The examples of docs/api.md run as written, in order, and every public name is documented
there; the public API is the whole pipeline (run, size, compare and each stage)."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
from pathlib import Path

import pytest

import constellation.api as api

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow
def test_every_example_in_docs_api_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for number, code in enumerate(_examples(), 1):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"docs/api.md example {number}", "exec"), namespace)  # noqa: S102
        assert out.getvalue().strip(), f"example {number} prints nothing to show"
    # The headline numbers of the Micius example agree with the published pass (Liao 2017:
    # 645 km minimum range) within the pass tests' tolerance.
    night = namespace["night"]
    assert abs(night[0]["min_range_km"] - 645.5) < 1.0


def test_every_function_of_the_api_has_an_example():
    text = DOC.read_text(encoding="utf-8")
    used = set()
    for code in _examples():
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and node.module == "constellation.api":
                used.update(alias.name for alias in node.names)
    functions = {name for name in api.__all__ if callable(getattr(api, name)) and not isinstance(getattr(api, name), type)}
    missing = sorted(name for name in functions - used if f"`{name}" not in text)
    assert not missing, f"public functions without an example or mention in docs/api.md: {missing}"


def test_the_api_offers_the_whole_pipeline():
    for name in ("run_scenario", "size_scenario", "compare_scenarios", "find_passes", "compute_keys",
                 "plan_network", "compute_coverage", "load_scenario"):
        assert name in api.__all__
        assert callable(getattr(api, name))
    for name in api.__all__:
        assert hasattr(api, name), name


def test_importing_the_api_loads_no_plotting_or_cluster_library():
    code = ("import sys, constellation.api; "
            "print(sorted(m for m in ('matplotlib', 'cartopy', 'dask', 'distributed') if m in sys.modules))")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"
