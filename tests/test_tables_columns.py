"""Column-wise tables (issue 16): the text is the one the row-wise writer gives, cell for cell.

``render_columns`` formats a column at a time (linear in the rows); ``render_table`` is the
row-wise definition. The pass and key tables are checked against their earlier row-by-row
construction, written out here as the reference.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constellation.key.per_pass import KEY_COLUMNS, PassKeys, key_columns, key_rows
from constellation.output.tables import (PASS_COLUMNS, columns_from_rows, render_columns, render_table,
                                         rows_from_columns, stream_columns, table_chunks)

CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["=SUM(A1)", "-3", "+x", "@a", "\tx", "\rx", "a\r\nb", "a,b", 'q"q', "", "Graz", "é"]),
)


@st.composite
def tables(draw):
    names = draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5, unique=True))
    n = draw(st.integers(0, 12))
    # Columns of one kind (the fast paths) and mixed columns (the general one).
    kinds = [draw(st.sampled_from(["float", "int", "bool", "str", "mixed"])) for _ in names]
    one = {"float": st.floats(allow_nan=True, allow_infinity=True), "int": st.integers(-10**6, 10**6),
           "bool": st.booleans(), "str": st.one_of(st.none(), st.text(max_size=6)), "mixed": CELLS}
    return {c: draw(st.lists(one[k], min_size=n, max_size=n)) for c, k in zip(names, kinds)}


@settings(max_examples=300, deadline=None)
@given(tables(), st.sampled_from(["csv", "json"]), st.integers(1, 5))
def test_render_columns_is_render_table(columns, fmt, chunk_rows):
    names = list(columns)
    rows = rows_from_columns(columns)
    expected = render_table(rows, names, fmt)
    assert render_columns(columns, names, fmt) == expected
    assert "".join(table_chunks(columns, names, fmt, chunk_rows=chunk_rows)) == expected
    assert columns_from_rows(rows, names) == columns


@settings(max_examples=200, deadline=None)
@given(tables(), st.sampled_from(["csv", "json"]), st.lists(st.integers(0, 4), max_size=6))
def test_streamed_blocks_join_into_the_table(columns, fmt, cuts):
    """Blocks of any sizes (empty ones too) give the text of the whole table."""
    names = list(columns)
    n = len(next(iter(columns.values())))
    bounds = sorted({0, n, *[min(c * 3, n) for c in cuts]})
    blocks = [{c: v[lo:hi] for c, v in columns.items()} for lo, hi in zip(bounds, bounds[1:])]
    blocks.insert(len(blocks) // 2, {c: [] for c in names})
    assert "".join(stream_columns(iter(blocks), names, fmt)) == render_columns(columns, names, fmt)


def test_missing_column_and_numpy_values():
    columns = {"a": np.array([1.5, np.nan, 2.0]), "b": np.array([1, 2, 3]), "c": np.array([True, False, True])}
    rows = rows_from_columns({k: v.tolist() for k, v in columns.items()})
    for fmt in ("csv", "json"):
        names = ["a", "b", "c", "absent"]
        assert render_columns(columns, names, fmt) == render_table(rows, names, fmt)
    assert render_columns(columns, ["a", "b"], "csv") == "a,b\n1.5,1\n,2\n2.0,3\n"
    assert json.loads(render_columns(columns, ["a", "c"], "json")) == [
        {"a": 1.5, "c": True}, {"a": None, "c": False}, {"a": 2.0, "c": True}]


def test_columns_of_different_lengths_refused():
    with pytest.raises(ValueError, match="different lengths"):
        render_columns({"a": [1, 2], "b": [1]}, ["a", "b"], "csv")


def _pass_rows_reference(table, timebase):
    """The pass rows as they were built before issue 16: one row at a time."""
    iso = {name: timebase.utc_iso(getattr(table, name)) for name in
           ("aos_s", "culmination_s", "tca_s", "los_s", "window_start_s", "window_end_s")}
    rows = []
    for k in range(len(table)):
        window = bool(table.has_window[k])
        rows.append({
            "satellite": table.satellite_names[table.satellite[k]],
            "station": table.station_names[table.station[k]],
            "aos_utc": iso["aos_s"][k], "culmination_utc": iso["culmination_s"][k],
            "tca_utc": iso["tca_s"][k], "los_utc": iso["los_s"][k],
            "duration_s": round(float(table.duration_s[k]), 3),
            "max_elevation_deg": round(float(table.max_elevation_deg[k]), 4),
            "min_range_km": round(float(table.min_range_km[k]), 3),
            "aos_partial": bool(table.aos_partial[k]), "los_partial": bool(table.los_partial[k]),
            "window_start_utc": iso["window_start_s"][k] if window else None,
            "window_end_utc": iso["window_end_s"][k] if window else None,
            "window_s": round(float(table.window_s[k]), 3),
        })
    return rows


def test_pass_columns_are_the_row_by_row_table(micius_scenario, micius_passes):
    tb = micius_scenario.timebase
    columns = micius_passes.columns(tb)
    assert list(columns) == PASS_COLUMNS
    reference = _pass_rows_reference(micius_passes, tb)
    assert len(reference) == len(micius_passes) > 10
    assert micius_passes.rows(tb) == reference
    for fmt in ("csv", "json"):
        assert render_columns(columns, PASS_COLUMNS, fmt) == render_table(reference, PASS_COLUMNS, fmt)


def test_pass_column_blocks_and_the_command(micius_scenario, micius_passes, run_cli, tmp_path):
    tb = micius_scenario.timebase
    whole = micius_passes.columns(tb)
    blocks = list(micius_passes.column_blocks(tb, rows=7))
    assert len(blocks) == -(-len(micius_passes) // 7)
    assert {c: sum((b[c] for b in blocks), []) for c in PASS_COLUMNS} == whole
    assert len(micius_passes.take(micius_passes.has_window)) == int(micius_passes.has_window.sum())
    # The command streams the table in blocks: the same bytes as the API's render, CSV and JSON.
    from constellation.api import run_scenario

    result = run_scenario(micius_scenario)
    for fmt in ("csv", "json"):
        target = tmp_path / f"passes.{fmt}"
        run_cli("passes", micius_scenario.source, "--format", fmt, "-o", str(target))
        assert target.read_text(encoding="utf-8") == result.render("passes", fmt)
        assert run_cli("passes", micius_scenario.source, "--format", fmt).out == result.render("passes", fmt)


def _key_rows_reference(pass_rows, keys):
    """The key rows as they were built before issue 16: one row at a time."""
    out = []
    for k, row in enumerate(pass_rows):
        window = keys.window_s[k] > 0

        def value(column, digits):
            number = float(getattr(keys, column)[k])
            return round(number, digits) if window and np.isfinite(number) else None

        out.append({
            **{c: row[c] for c in ("satellite", "station", "aos_utc", "window_start_utc", "window_end_utc")},
            "window_s": round(float(keys.window_s[k]), 3),
            "mean_loss_db": value("mean_loss_db", 3), "min_loss_db": value("min_loss_db", 3),
            "sifted_bits": int(keys.sifted_bits[k]), "qber": value("qber", 6),
            "asymptotic_key_bits": int(keys.asymptotic_key_bits[k]),
            "finite_key_bits": int(keys.finite_key_bits[k]),
            "daylight_s": round(float(keys.daylight_s[k]), 3),
            "mean_background_cps": value("mean_background_cps", 1),
        })
    return out


def test_key_columns_are_the_row_by_row_table():
    # Windows with and without light, a non-finite loss, fractional bit counts (truncated).
    n = 5
    pass_columns = {"satellite": ["a"] * n, "station": ["G", "H", "G", "H", "G"],
                    "aos_utc": [f"2024-01-01T00:0{k}:00.000Z" for k in range(n)],
                    "window_start_utc": [None, "2024-01-01T00:01:10.000Z", "x", "y", "z"],
                    "window_end_utc": [None, "2024-01-01T00:05:10.000Z", "x", "y", "z"]}
    keys = PassKeys(window_s=np.array([0.0, 240.0, 12.5, 300.0, 61.0004]),
                    mean_loss_db=np.array([np.nan, 31.23456, np.inf, 29.0, 30.0]),
                    min_loss_db=np.array([np.nan, 28.0, np.inf, 27.00049, 28.5]),
                    sifted_bits=np.array([0.0, 1.5e5, 0.0, 2e5 + 0.7, 1e4]),
                    qber=np.array([np.nan, 0.0123456789, np.nan, 0.02, 0.5]),
                    asymptotic_key_bits=np.array([0, 20_000, 0, 30_000, 0]),
                    finite_key_bits=np.array([0.0, 12_345.9, 0.0, 20_000.0, 0.0]),
                    key_bits=np.zeros(n), daylight_s=np.array([0.0, 0.0, 12.5, 0.0, 3.14159]),
                    mean_background_cps=np.array([np.nan, 1234.56, 5e6, 99.95, 0.0]))
    pass_rows = rows_from_columns(pass_columns)
    reference = _key_rows_reference(pass_rows, keys)
    columns = key_columns(pass_columns, keys)
    assert list(columns) == KEY_COLUMNS
    assert rows_from_columns(columns) == reference == key_rows(pass_rows, keys)
    assert reference[0]["mean_loss_db"] is None and reference[2]["mean_loss_db"] is None
    assert reference[1]["finite_key_bits"] == 12_345
    for fmt in ("csv", "json"):
        assert render_columns(columns, KEY_COLUMNS, fmt) == render_table(reference, KEY_COLUMNS, fmt)


def test_run_tables_render_from_columns(micius_scenario):
    from constellation.api import run_scenario

    result = run_scenario(micius_scenario)
    for name in ("passes", "key"):
        rows = result.rows(name)
        assert rows == rows_from_columns(result.table_columns(name))
        for fmt in ("csv", "json"):
            assert result.render(name, fmt) == render_table(rows, result.columns(name), fmt)
    assert all(math.isfinite(r["window_s"]) for r in result.rows("key"))


def test_windows_in_small_batches_are_the_same(micius_scenario, monkeypatch):
    """The QKD windows are found in batches of passes (memory bound for mega-constellations):
    any batch size gives the same table, to the bit."""
    from constellation.passes import finder
    from constellation.pipeline import find_passes

    whole = find_passes(micius_scenario)
    assert whole.has_window.any() and not whole.has_window.all()
    monkeypatch.setattr(finder._windows, "__defaults__", (40,))  # a batch every pass or two
    batched = find_passes(micius_scenario)
    for name in ("window_start_s", "window_end_s", "has_window", "aos_s", "los_s"):
        np.testing.assert_array_equal(getattr(batched, name), getattr(whole, name))
