"""Tables and summaries as text: CSV or JSON, sent to stdout or written atomically to a file."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

from ..errors import Described, InputError
from .files import atomic_path

PASS_COLUMNS = [
    "satellite", "station", "aos_utc", "culmination_utc", "tca_utc", "los_utc", "duration_s",
    "max_elevation_deg", "min_range_km", "aos_partial", "los_partial",
    "window_start_utc", "window_end_utc", "window_s",
]


def _clean(value):
    """No NaN or infinity ever reaches an output: they become empty/null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_UNSAFE_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n")


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A bare CR would end the row unquoted (rows end in LF): line breaks inside text become LF.
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    # Neutralise cells a spreadsheet would evaluate as a formula (OWASP CSV injection list).
    if isinstance(value, str) and text[:1] in _UNSAFE_LEAD:
        return "'" + text
    return text


def render_table(rows: list[dict], columns: list[str], fmt: str) -> str:
    """A table as CSV (header row) or JSON (a list of objects).

    For long tables build the columns instead and use :func:`render_columns` (the same text,
    formatted a column at a time)."""
    if fmt == "json":
        return json.dumps([{c: _clean(r.get(c)) for c in columns} for r in rows], indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_cell(c) for c in columns])  # headers can hold names (compare.csv)
    for row in rows:
        writer.writerow([_csv_cell(_clean(row.get(c))) for c in columns])
    return buffer.getvalue()


# Column-wise tables: ``{name: list of values}`` (str, int, float, bool or None, as a row
# dict would hold them). Each column is formatted in one pass (names and texts that repeat
# are formatted once), rows are joined a chunk at a time: linear in the cells, and the text
# is byte-identical to render_table on the same rows.
CHUNK_ROWS = 20_000


def rows_from_columns(columns: dict) -> list[dict]:
    """The rows (one dict per row) of a column-wise table."""
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*(columns[c] for c in names))]


def columns_from_rows(rows: list[dict], names: list[str]) -> dict:
    """A column-wise table from rows (a missing cell is None)."""
    return {c: [r.get(c) for r in rows] for c in names}


def render_columns(columns: dict, names: list[str], fmt: str) -> str:
    """A column-wise table as CSV or JSON: the same text as :func:`render_table` on its rows."""
    return "".join(table_chunks(columns, names, fmt))


def table_chunks(columns: dict, names: list[str], fmt: str, chunk_rows: int = CHUNK_ROWS):
    """The text of :func:`render_columns` in pieces of ``chunk_rows`` rows."""
    yield from stream_columns(column_chunks(columns, chunk_rows), names, fmt)


def column_chunks(columns: dict, chunk_rows: int = CHUNK_ROWS):
    """A column-wise table as successive blocks of ``chunk_rows`` rows (each ``{name: list}``),
    the blocks :func:`stream_columns` and the Parquet writer take."""
    n = _n_rows(columns)
    return ({c: _part(columns, c, lo, min(n, lo + chunk_rows)) for c in columns} for lo in range(0, n, chunk_rows))


def block_lists(block: dict, names: list[str]) -> list[list]:
    """The values of columns ``names`` of one block, as lists (a missing column: None in each row)."""
    n = _n_rows(block)
    return [_part(block, c, 0, n) for c in names]


def stream_columns(blocks, names: list[str], fmt: str):
    """The text of a table given as successive column-wise blocks (each ``{name: values}``,
    any number of rows), piece by piece: a long table is written without ever holding all
    of its rows. The pieces join into :func:`render_columns` of the whole table."""
    started = False
    if fmt == "json":
        # json.dumps(indent=1) of a list of objects: " {", one '  "key": value' line per column, " }".
        keys = [json.dumps(c).replace("%", "%%") for c in names]
        template = " {\n" + ",\n".join(f"  {k}: %s" for k in keys) + "\n }" if names else " {}"
        for block in blocks:
            n = _n_rows(block)
            if n == 0:
                continue
            cells = [_json_column(_part(block, c, 0, n)) for c in names]
            body = ",\n".join(template % row for row in zip(*cells)) if names else ",\n".join([template] * n)
            yield (",\n" if started else "[\n") + body
            started = True
        yield "\n]\n" if started else "[]\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_cell(c) for c in names])
    for block in blocks:
        n = _n_rows(block)
        writer.writerows(zip(*[_csv_column(_part(block, c, 0, n)) for c in names]))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _n_rows(columns: dict) -> int:
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise ValueError(f"columns of different lengths: {sorted(sizes)}")
    return sizes.pop() if sizes else 0


def _part(columns: dict, name: str, lo: int, hi: int) -> list:
    values = columns.get(name)
    if values is None:
        return [None] * (hi - lo)
    part = values[lo:hi]
    return part.tolist() if hasattr(part, "tolist") else list(part)


def _kinds(values: list) -> set:
    return set(map(type, values))


def _finite_floats(values: list) -> bool:
    return all(map(math.isfinite, values))


def _plain_column(values: list, kinds: set) -> list[str] | None:
    """Texts of a column of finite floats, ints or bools, the same in CSV and JSON; None
    for any other column."""
    if kinds == {float} and _finite_floats(values) or kinds == {int}:
        return list(map(repr, values))
    if kinds == {bool}:
        return ["true" if v else "false" for v in values]
    return None


def _csv_column(values: list) -> list[str]:
    """The CSV cells of one column (as ``_csv_cell(_clean(v))`` of each value)."""
    kinds = _kinds(values)
    plain = _plain_column(values, kinds)
    if plain is not None:
        return plain
    if kinds <= {str, type(None)}:
        # Most texts (names, UTC times) pass unchanged: format only the ones that do not.
        special = {v: _csv_cell(v) for v in set(values) if v is None or v[:1] in _UNSAFE_LEAD or "\r" in v}
        return [special.get(v, v) for v in values] if special else list(values)
    return [_csv_cell(_clean(v)) for v in values]


def _json_column(values: list) -> list[str]:
    """The JSON texts of one column (as ``json.dumps(_clean(v))`` of each value)."""
    kinds = _kinds(values)
    plain = _plain_column(values, kinds)
    if plain is not None:
        return plain
    if kinds <= {str, type(None)}:
        text = {v: json.dumps(v) for v in set(values)}
        return [text[v] for v in values]
    return [json.dumps(_clean(v)) for v in values]


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically (see :mod:`.files`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


def emit_chunks(chunks, output: str | None) -> None:
    """Send text pieces (e.g. :func:`stream_columns`) to stdout (``-`` or None) or, written
    one by one into a temporary file, atomically to a file (see :mod:`.files`)."""
    if output in (None, "-"):
        stdout = open_stdout()
        for chunk in chunks:
            stdout.write(chunk)
        return
    with atomic_path(output) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)


def emit(text: str, output: str | None) -> None:
    """Send ``text`` to stdout (``-`` or None) or atomically to a file."""
    if output in (None, "-"):
        open_stdout().write(text)
    else:
        write_text_atomic(output, text)


def open_stdout():
    """Standard output, or one line when it is closed (``>&-``)."""
    if sys.stdout is None:
        raise InputError("-o", "output", "an open standard output, or -o FILE", Described("standard output is closed"))
    return sys.stdout


def to_json(data) -> str:
    return json.dumps(_deep_clean(data), indent=1) + "\n"


def _deep_clean(data):
    if isinstance(data, dict):
        return {k: _deep_clean(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_deep_clean(v) for v in data]
    if hasattr(data, "item") and callable(data.item):
        data = data.item()
    return _clean(data)
