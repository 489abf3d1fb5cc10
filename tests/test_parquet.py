"""`--format parquet` (issue 16): the CSV's columns, in its order, typed, read back with
pyarrow and compared cell by cell with the CSV read by the csv module; refused on stdout;
one line naming the fix when pyarrow is missing."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from constellation.api import load_scenario, run_scenario
from constellation.output.parquet import parquet_bytes, write_parquet
from constellation.output.tables import PASS_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def assert_same_table(table: pa.Table, csv_text: str) -> None:
    """Same columns in the same order, same rows, each cell the CSV's value; the types as
    promised: bool for true/false, int64 for whole numbers, float64 for the others, text for
    the rest with UTC times as ISO-8601 Z text."""
    header, rows = read_csv(csv_text)
    assert table.column_names == header
    assert table.num_rows == len(rows)
    for k, name in enumerate(header):
        values = table.column(name).to_pylist()
        cells = [row[k] for row in rows]
        kind = table.schema.field(name).type
        for value, cell in zip(values, cells):
            if value is None:
                assert cell == "", (name, cell)
            elif pa.types.is_boolean(kind):
                assert cell == ("true" if value else "false"), (name, cell)
            elif pa.types.is_integer(kind):
                assert kind == pa.int64() and int(cell) == value and "." not in cell, (name, cell)
            elif pa.types.is_floating(kind):
                assert kind == pa.float64() and math.isfinite(value) and float(cell) == value, (name, cell, value)
            else:
                assert pa.types.is_string(kind), (name, kind)
                guarded = "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else value
                assert cell == guarded, (name, cell, value)
        if name.endswith("_utc"):
            assert pa.types.is_string(kind) and all(UTC.match(v) for v in values if v is not None), name
        if cells and set(cells) <= {"true", "false"}:
            assert pa.types.is_boolean(kind), name


def test_passes_from_the_command_line(run_cli, tmp_path):
    """The streamed pass table (one row group per block) against the CSV of the same command."""
    out = tmp_path / "passes.parquet"
    csv_text = run_cli("passes").out
    assert run_cli("passes", "--format", "parquet", "-o", out).out == ""
    table = pq.read_table(out)
    assert_same_table(table, csv_text)
    assert table.schema.field("window_start_utc").type == pa.string()
    assert table.schema.field("aos_partial").type == pa.bool_()
    assert table.schema.field("min_range_km").type == pa.float64()
    assert not list(tmp_path.glob(".constellation-stage-*"))  # written atomically, nothing left behind


def test_coverage_points_and_footprints_together(run_cli, tmp_path):
    scenario = SCENARIOS / "iridium-66-coverage.toml"
    csv_text = run_cli("coverage", scenario).out
    out, geojson = tmp_path / "points.parquet", tmp_path / "footprints.geojson"
    run_cli("coverage", scenario, "--format", "parquet", "-o", out, "--geojson", geojson)
    table = pq.read_table(out)
    assert_same_table(table, csv_text)
    assert table.schema.field("passes").type == pa.int64() and geojson.exists()


@pytest.mark.parametrize("scenario, names", [
    ("micius-2016-xinglong.toml", ["key"]),
    ("china-russia-2023.toml", ["network", "network_timeline", "schedule"]),
    ("micius-2018-entanglement.toml", ["dual"]),
])
def test_result_tables_round_trip(scenario, names):
    """Each table as the commands write it (RunResult.render, what `key`, `network` and `dual`
    emit): Parquet read back equals the CSV."""
    result = run_scenario(load_scenario(SCENARIOS / scenario))
    for name in names:
        data = result.render(name, "parquet")
        assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
        assert_same_table(pq.read_table(pa.BufferReader(data)), result.render(name, "csv"))


def test_schedule_mixes_whole_and_fractional_bits_as_float64():
    """`relayed_bits` holds whole numbers (`12`) and fractions (`12.5`) in the CSV: one float64 column."""
    result = run_scenario(load_scenario(SCENARIOS / "china-russia-2023.toml"))
    table = pq.read_table(pa.BufferReader(result.render("schedule", "parquet")))
    assert table.schema.field("relayed_bits").type == pa.float64()
    assert table.schema.field("key_bits").type == pa.int64()


@pytest.mark.parametrize("command", ["stations", "receivers"])
def test_catalogue_tables(run_cli, tmp_path, command):
    out = tmp_path / f"{command}.parquet"
    run_cli(command, "--format", "parquet", "-o", out)
    assert_same_table(pq.read_table(out), run_cli(command).out)


def test_blocks_become_row_groups_and_an_empty_table_keeps_the_types(micius_scenario, micius_passes, tmp_path):
    """Written seven passes at a time: ceil(n / 7) row groups holding the whole table; with no
    pass, the file has the same columns with the same types."""
    timebase = micius_scenario.timebase
    path = tmp_path / "blocks.parquet"
    write_parquet(micius_passes.column_blocks(timebase, rows=7), PASS_COLUMNS, path)
    whole = pq.read_table(pa.BufferReader(parquet_bytes(micius_passes.columns(timebase), PASS_COLUMNS)))
    assert pq.ParquetFile(path).num_row_groups == math.ceil(len(micius_passes) / 7)
    assert pq.read_table(path).equals(whole)
    empty = tmp_path / "empty.parquet"
    write_parquet(micius_passes.take(slice(0, 0)).column_blocks(timebase), PASS_COLUMNS, empty)
    table = pq.read_table(empty)
    assert table.num_rows == 0 and table.schema.equals(whole.schema)


def test_parquet_is_refused_on_stdout(run_cli):
    run = run_cli("passes", "--format", "parquet", code=2)
    assert run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("error: --format parquet: -o: expected a file name")
    assert "FILE.parquet" in run.err and "found '-'" in run.err


# The command line with pyarrow made impossible to import (as on an install without the extra).
WITHOUT_PYARROW = """
import sys

class NoPyarrow:
    def find_spec(self, name, path=None, target=None):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPyarrow())
from constellation.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [["passes"], ["coverage", str(SCENARIOS / "iridium-66-coverage.toml")], ["stations"]])
def test_without_pyarrow_one_line_names_the_fix(tmp_path, args):
    out = tmp_path / "table.parquet"
    proc = subprocess.run([sys.executable, "-c", WITHOUT_PYARROW, *args, "--format", "parquet", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == ('error: --format parquet needs pyarrow: pip install pyarrow '
                           '(in a clone of constellation: pip install ".[parquet]")\n')
    assert proc.stdout == "" and not out.exists()
