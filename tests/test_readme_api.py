"""The README's Python example runs as written, the per-pass key has rows like the pass table,
and the README's notebook list and the `notebooks` extra match the repository (issue 17,
items 8 and 9)."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_pass_keys_rows_are_the_key_table(micius_scenario, micius_passes):
    from constellation.api import RunResult, compute_keys

    keys = compute_keys(micius_scenario, micius_passes)
    rows = keys.rows(micius_passes, micius_scenario.timebase)
    assert rows == RunResult(micius_scenario).rows("key")
    assert [r["aos_utc"] for r in rows] == [r["aos_utc"] for r in micius_passes.rows(micius_scenario.timebase)]
    assert list(keys.columns(micius_passes, micius_scenario.timebase)) == list(rows[0])


@pytest.mark.slow
def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    (block,) = re.findall(r"```python\n(.*?)```", README, re.S)
    monkeypatch.chdir(ROOT)  # the example names scenarios/ relative to a clone
    before = (ROOT / "out" / "summary.json").stat().st_mtime_ns if (ROOT / "out" / "summary.json").exists() else None
    for name in ("key-nanshan.png", "sky.png", "out"):
        block = block.replace(f'"{name}"', repr(str(tmp_path / name)))
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "key-nanshan.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "summary.json").is_file()
    assert namespace["pass_keys"].rows(namespace["passes"], namespace["scenario"].timebase) == namespace["keys"]
    assert namespace["coverage"].summary()["global_coverage_fraction"] == 1.0
    # the example wrote into tmp_path, not into the clone (where the quickstart's `run -o out` may have)
    after = (ROOT / "out" / "summary.json").stat().st_mtime_ns if (ROOT / "out" / "summary.json").exists() else None
    assert after == before


def test_the_readme_lists_every_notebook_and_how_to_open_them():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 4
    for name in notebooks:
        assert f"`{name}`" in README
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("jupyterlab") for req in extras["notebooks"])
    assert '.[notebooks]' in README and "jupyter lab notebooks/" in README
