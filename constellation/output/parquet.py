"""Tables as Parquet files, through pyarrow (the optional extra ``parquet``: ``pip install pyarrow``, or ``pip install ".[parquet]"`` in a clone).

A Parquet file holds the same columns, in the same order and with the same names, as the
CSV of the same table, built from the same column blocks (:func:`.tables.column_chunks`,
``PassTable.column_blocks``), one row group per block: linear in the rows, and a long
pass table is never held whole. Each column is typed from its values:

* ``true``/``false`` -> ``bool``;
* whole numbers (``12`` in the CSV) -> ``int64``; a column with any number written with a
  decimal point (``12.5``, ``12.0``), or a whole number beyond int64, -> ``float64``, the
  same double as the CSV text;
* text, and times (the CSV's UTC ISO-8601 text with ``Z``) -> ``string``, as written
  (without the ``'`` the CSV puts before text a spreadsheet would run as a formula);
* an empty CSV cell (no value, never NaN or infinity) -> null.

A column with no value at all (an empty table, or a first block with only empty cells in it)
takes its type from its name, the type it has when it holds values, so that files of the same
table concatenate whatever their rows: ``bool`` for ``has_*``, ``meets_*`` and ``*_partial``,
``string`` for ``*_utc`` and the names of things (satellite, station, link ends, ...),
``int64`` for the columns of whole numbers (bits, counts: ``_INTEGER_NAMES``), ``float64``
otherwise. ``tests/test_parquet.py`` writes every table empty and full and compares the types.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import numpy as np

from ..errors import ConstellationError
from .files import atomic_path
from .tables import block_lists, column_chunks

__all__ = ["INSTALL", "parquet_bytes", "require_pyarrow", "write_parquet"]

_INT64 = (-(2 ** 63), 2 ** 63 - 1)

INSTALL = 'pip install pyarrow (in a clone of constellation: pip install ".[parquet]")'
# Text columns that may be empty throughout (typed by name when no row has a value).
_TEXT_NAMES = {"satellite", "station", "name", "a", "b", "mode", "links", "links_relayed_bits",
               "limiting_station", "limited_by", "gateway_a", "gateway_b", "trusted_nodes", "receiver", "source",
               "receiver_source", "climate_source"}
# Columns of whole numbers (ints in every table that has them: key, dual, network, network
# --timeline/--schedule, coverage, receivers, key --loss-profile), int64 even when empty. Not
# every count or ``*_bits`` is one: ``coincidences``, ``expected_key_bits``, ``p10_key_bits`` and
# ``relayed_bits`` hold fractions (float64). tests/test_parquet.py checks this set against the
# values of every table the command line writes.
_INTEGER_NAMES = {"sifted_bits", "asymptotic_key_bits", "finite_key_bits", "key_bits", "relay_key_bits",
                  "entanglement_key_bits", "deliveries", "day", "passes", "detectors", "slots"}


def require_pyarrow(what: str = "Parquet output"):
    """The ``pyarrow`` module, or one line saying how to install it (:class:`ConstellationError`)."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the writer, loaded here so that its absence shows now)
    except ImportError:
        raise ConstellationError(f"{what} needs pyarrow: {INSTALL}") from None
    return pyarrow


def _kind(value_type) -> str:
    if issubclass(value_type, (bool, np.bool_)):
        return "bool"
    if issubclass(value_type, (numbers.Integral, np.integer)):
        return "int"
    if issubclass(value_type, (numbers.Real, np.floating)):
        return "float"
    return "text"


def _type_by_name(pa, name: str):
    if name.startswith(("has_", "meets_")) or name.endswith("_partial"):
        return pa.bool_()
    if name.endswith("_utc") or name in _TEXT_NAMES:
        return pa.string()
    if name in _INTEGER_NAMES:
        return pa.int64()
    return pa.float64()


def _schema(pa, block: dict, names: list[str]):
    """The Parquet schema of a table from its values (see the module's rules)."""
    fields = []
    for name, values in zip(names, block_lists(block, names)):
        kinds = {_kind(t) for t in set(map(type, values)) if t is not type(None)}
        if not kinds:
            arrow = _type_by_name(pa, name)
        elif kinds == {"bool"}:
            arrow = pa.bool_()
        elif kinds == {"int"} and _beyond_int64(values) is None:
            arrow = pa.int64()
        elif kinds <= {"int", "float"}:
            arrow = pa.float64()
        else:
            arrow = pa.string()
        fields.append(pa.field(name, arrow))
    return pa.schema(fields)


def _beyond_int64(values):
    """The first whole number of ``values`` outside int64, or None."""
    return next((v for v in values if v is not None and not _INT64[0] <= v <= _INT64[1]), None)


def _text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def _array(pa, values: list, arrow_type, name: str = ""):
    big = _beyond_int64(values) if pa.types.is_integer(arrow_type) else None
    if big is not None:
        raise ConstellationError(f"--format parquet: column {name}: expected whole numbers within int64 (as in the "
                                 f"table's first rows), found {big}; use --format csv")
    if pa.types.is_floating(arrow_type):
        # As the CSV: no NaN or infinity, an empty cell (null) instead.
        values = [None if v is None or not math.isfinite(v) else float(v) for v in values]
    elif pa.types.is_string(arrow_type):
        values = [_text(v) for v in values]
    return pa.array(values, type=arrow_type)


def _write(sink, blocks, names: list[str], schema=None) -> None:
    """Write the blocks (``{name: values}``) into ``sink``, one row group each; the schema
    from ``schema`` or the first block."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    writer = None
    try:
        for block in blocks:
            if writer is None:
                schema = schema or _schema(pa, block, names)
                writer = pq.ParquetWriter(sink, schema)
            arrays = [_array(pa, values, field.type, field.name)
                      for values, field in zip(block_lists(block, names), schema)]
            if arrays and len(arrays[0]):
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        if writer is None:  # no rows: the columns alone
            writer = pq.ParquetWriter(sink, schema or _schema(pa, {}, names))
    finally:
        if writer is not None:
            writer.close()


def parquet_bytes(columns: dict, names: list[str]) -> bytes:
    """A column-wise table (``{name: values}``, as :func:`.tables.render_columns` takes) as the
    bytes of a Parquet file with columns ``names``; the types come from the whole table."""
    pa = require_pyarrow()
    sink = pa.BufferOutputStream()
    _write(sink, column_chunks(columns), names, _schema(pa, columns, names))
    return sink.getvalue().to_pybytes()


def write_parquet(blocks, names: list[str], output: str | Path) -> None:
    """Write a table given as successive column blocks (e.g. ``PassTable.column_blocks``) to
    ``output`` as Parquet, atomically (:func:`.files.atomic_path`); types from the first block."""
    with atomic_path(output) as tmp:
        _write(str(tmp), blocks, names)
