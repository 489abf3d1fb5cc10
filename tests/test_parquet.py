"""`--format parquet` (issue 16): the CSV's columns, in its order, typed, read back with
pyarrow and compared cell by cell with the CSV read by the csv module; every table with the
same types empty as full (files of one table concatenate); refused on stdout; one line naming
the fix when pyarrow is missing."""

from __future__ import annotations

import csv
import datetime as dt
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
from constellation.pipeline import find_passes

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


def schema_difference(full: pa.Table, other: pa.Table) -> list:
    """The columns whose names or types differ: (name, type when full, type in ``other``)."""
    types = {f.name: str(f.type) for f in other.schema}
    return [(f.name, str(f.type), types.get(f.name)) for f in full.schema if types.get(f.name) != str(f.type)] + \
        [(name, None, kind) for name, kind in types.items() if name not in full.column_names]


@pytest.fixture(scope="module")
def quiet_scenario(tmp_path_factory):
    """``quiet_scenario(file)``: a shipped scenario with its span cut to end a minute before its
    first pass, as a user shortening the span to a quiet stretch would: the same satellites,
    stations and links, and no pass (checked)."""
    folder, made = tmp_path_factory.mktemp("quiet"), {}

    def cut(file: str) -> Path:
        if file not in made:
            scenario = load_scenario(SCENARIOS / file)
            first_s = float(find_passes(scenario).aos_s.min())
            assert first_s > 120.0, file  # no pass in progress at the start
            end = scenario.start + dt.timedelta(seconds=first_s // 60 * 60 - 60)
            text, n = re.subn(r"(?m)^end = .*$", f"end = {end:%Y-%m-%dT%H:%M:%SZ}", (SCENARIOS / file).read_text())
            assert n == 1, file
            made[file] = folder / file
            made[file].write_text(text)
            assert len(find_passes(load_scenario(made[file]))) == 0, file
        return made[file]

    return cut


# Every table command on a shipped scenario, and what its table holds when no satellite is
# seen: no row (None), or rows whose column ``zero`` is 0 throughout.
TABLE_COMMANDS = [
    (["passes"], "micius-2016-xinglong.toml", None),
    (["key"], "micius-2016-xinglong.toml", None),
    (["dual"], "micius-2018-entanglement.toml", None),
    (["network"], "china-russia-2023.toml", "key_bits"),
    (["network", "--timeline"], "china-russia-2023.toml", "key_bits"),
    (["network", "--schedule"], "china-russia-2023.toml", None),
    (["coverage", "--stations"], "micius-2016-xinglong.toml", "passes"),
]


@pytest.mark.parametrize("command, scenario, zero", TABLE_COMMANDS, ids=[" ".join(c[0]) for c in TABLE_COMMANDS])
def test_a_table_has_the_same_types_with_nothing_seen(run_cli, tmp_path, quiet_scenario, command, scenario, zero):
    """The command on the shipped scenario and on the same scenario with no pass: the files have
    the same columns with the same types (an empty key table had float64 bit counts)."""
    tables = {}
    for name, path in (("full", SCENARIOS / scenario), ("quiet", quiet_scenario(scenario))):
        out = tmp_path / f"{name}.parquet"
        run_cli(command[0], path, *command[1:], "--format", "parquet", "-o", out)
        tables[name] = pq.read_table(out)
    full, quiet = tables["full"], tables["quiet"]
    assert full.num_rows > 0
    if zero is None:
        assert quiet.num_rows == 0
    else:
        assert quiet.num_rows > 0 and set(quiet.column(zero).to_pylist()) == {0}
    assert schema_difference(full, quiet) == [] and quiet.schema.equals(full.schema)


# The --qkd file of `key --loss-profile`: Micius's protocol into Xinglong's receiver (as tests/test_key_cli.py).
MICIUS_QKD_TOML = '[qkd]\npreset = "micius"\n\n[receiver]\npreset = "observatory-1m"\n'


def test_a_profile_without_key_has_the_types_of_one_with_key(run_cli, tmp_path):
    """`key --loss-profile`: a 90 dB channel (no key: noise only) and a 30 dB one."""
    qkd = tmp_path / "qkd.toml"
    qkd.write_text(MICIUS_QKD_TOML)
    tables = {}
    for loss_db in (30, 90):
        profile, out = tmp_path / f"{loss_db}.csv", tmp_path / f"{loss_db}.parquet"
        profile.write_text("t_s,loss_db\n" + "".join(f"{t},{loss_db}\n" for t in range(3)))
        run_cli("key", "--loss-profile", profile, "--qkd", qkd, "--format", "parquet", "-o", out)
        tables[loss_db] = pq.read_table(out)
    assert tables[30].column("asymptotic_key_bits").to_pylist()[0] > 0
    assert tables[90].column("asymptotic_key_bits").to_pylist() == [0]
    assert schema_difference(tables[30], tables[90]) == []


# Every table the command line writes as Parquet, from a shipped scenario (RunResult.render,
# as `key`, `dual`, `network` and `coverage` write them) or from its command.
RESULT_TABLES = {"passes": "micius-2016-xinglong.toml", "key": "micius-2016-xinglong.toml",
                 "dual": "micius-2018-entanglement.toml", "network": "china-russia-2023.toml",
                 "network_timeline": "china-russia-2023.toml", "schedule": "china-russia-2023.toml",
                 "coverage_points": "iridium-66-coverage.toml",
                 "network (entanglement)": "micius-2018-entanglement.toml"}


@pytest.fixture(scope="module")
def shipped_result():
    made = {}

    def result(file):
        if file not in made:
            made[file] = run_scenario(load_scenario(SCENARIOS / file))
        return made[file]

    return result


@pytest.mark.parametrize("table", [*RESULT_TABLES, "stations", "receivers", "key --loss-profile"])
def test_every_column_is_typed_alike_without_a_value(run_cli, tmp_path, shipped_result, table):
    """The type a column gets from its name when it has no value (an empty table, or a first
    block of empty cells) is the one its values give it, for every column of every table:
    written with no row, and streamed with a first block of empty cells before the full
    table, each file has the full table's schema (and the second its values)."""
    if table in RESULT_TABLES:
        data = shipped_result(RESULT_TABLES[table]).render(table.split()[0], "parquet")
        full = pq.read_table(pa.BufferReader(data))
    else:
        out = tmp_path / "full.parquet"
        if table == "key --loss-profile":
            profile, qkd = tmp_path / "profile.csv", tmp_path / "qkd.toml"
            profile.write_text("t_s,loss_db\n0,30\n1,30\n2,30\n")
            qkd.write_text(MICIUS_QKD_TOML)
            run_cli("key", "--loss-profile", profile, "--qkd", qkd, "--format", "parquet", "-o", out)
        else:
            run_cli(table, "--format", "parquet", "-o", out)
        full = pq.read_table(out)
    names = full.column_names
    assert full.num_rows > 0 and names
    empty = pq.read_table(pa.BufferReader(parquet_bytes({name: [] for name in names}, names)))
    assert empty.num_rows == 0 and schema_difference(full, empty) == []
    streamed = tmp_path / "streamed.parquet"
    write_parquet(iter([{name: [None] * 2 for name in names}, full.to_pydict()]), names, streamed)
    read = pq.read_table(streamed)
    assert schema_difference(full, read) == [] and read.slice(2).equals(full)


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
