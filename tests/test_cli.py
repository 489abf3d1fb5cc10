"""The command line end to end on the shipped Micius scenario (real sgp4 and skyfield)."""

import csv
import io
import json
from pathlib import Path

import pytest

from constellation.cli import default_scenario_path, main
from constellation.output.tables import PASS_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "micius-2016-xinglong.toml"


def test_shipped_scenario_is_the_default():
    assert default_scenario_path().read_text() == SCENARIO.read_text()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_passes_table_formats(capsys, fmt):
    assert main(["passes", str(SCENARIO), "--format", fmt]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out) if fmt == "json" else list(csv.DictReader(io.StringIO(out)))
    assert rows and set(PASS_COLUMNS) <= set(rows[0])
    for row in rows:
        assert row["aos_utc"].endswith("Z") and row["los_utc"].endswith("Z")
        assert all(str(v).lower() not in ("nan", "inf", "-inf") for v in row.values())


@pytest.mark.slow
def test_run_writes_table_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIO), "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = list(csv.DictReader((out / "passes.csv").open()))
    assert summary["passes"] == len(rows)
    assert summary["windows"] == sum(float(r["window_s"]) > 0 for r in rows)
    assert summary["scenario_sha256"] and summary["version"]
    assert "Xinglong" in capsys.readouterr().out


@pytest.mark.slow
def test_run_without_scenario_uses_builtin_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 0
    assert (tmp_path / "out" / "summary.json").is_file()


def test_output_file_is_written_atomically(tmp_path):
    target = tmp_path / "passes.csv"
    assert main(["passes", str(SCENARIO), "-o", str(target)]) == 0
    assert target.read_text().startswith("satellite,")
    assert [p.name for p in tmp_path.iterdir()] == ["passes.csv"]  # no temp files left behind


@pytest.mark.slow
def test_failed_run_leaves_earlier_results(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIO), "-o", str(out)]) == 0
    before = (out / "passes.csv").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario]\nname = 'x'\n")
    assert main(["run", str(bad), "-o", str(out)]) == 2
    assert (out / "passes.csv").read_text() == before


def test_stations_lists_the_catalogue(capsys):
    assert main(["stations", "--format", "json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    required = {"Xinglong", "Nanshan", "Delingha", "Lijiang", "Ngari", "Jinan", "Hefei", "Beijing",
                "Graz", "Vienna", "Zvenigorod", "Stellenbosch", "Matera", "Tenerife", "Calern",
                "Table Mountain", "Koganei", "Singapore", "St-Hubert", "Mount Stromlo", "San Juan"}
    assert required <= names


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = 'python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]" && .venv/bin/python -m pytest -q'
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()


def test_run_refuses_a_folder_of_another_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIO), "-o", str(out), "--no-plots"]) == 0
    assert main(["run", str(SCENARIO), "-o", str(out), "--no-plots"]) == 0  # same scenario again: fine
    other = ROOT / "scenarios" / "jinan-1-stellenbosch-2025.toml"
    before = (out / "passes.csv").read_text()
    assert main(["run", str(other), "-o", str(out), "--no-plots"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "passes.csv").read_text() == before
    assert main(["run", str(other), "-o", str(out), "--no-plots", "--force"]) == 0


def test_run_refuses_a_folder_of_other_files(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    assert main(["run", str(SCENARIO), "-o", str(tmp_path), "--no-plots"]) == 2
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_no_arguments_prints_help(capsys):
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Usage:") and captured.err == ""


def test_passes_loads_none_of_the_later_stages(tmp_path):
    """`constellation passes` imports what passes need (issue 16): no key, network, coverage,
    plotting or sizing module of ours, nor matplotlib or dask, from start to the last warning."""
    import os
    import subprocess
    import sys

    code = ("import sys; from constellation.cli import main; "
            f"status = main(['passes', {str(ROOT / 'scenarios' / 'walker-66-demo.toml')!r}, '-o', "
            f"{str(tmp_path / 'p.csv')!r}]); "
            "later = ('constellation.key', 'constellation.network', 'constellation.coverage', "
            "'constellation.plots', 'constellation.sizing', 'matplotlib', 'dask'); "
            "print(status, sorted(m for m in sys.modules if m.startswith(later)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr
    assert (tmp_path / "p.csv").stat().st_size > 0
