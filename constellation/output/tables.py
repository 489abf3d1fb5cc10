"""Tables and summaries as text: CSV or JSON, sent to stdout or written atomically to a file."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

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


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A bare CR would end the row unquoted (rows end in LF): line breaks inside text become LF.
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    # Neutralise cells a spreadsheet would evaluate as a formula (OWASP CSV injection list).
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
        return "'" + text
    return text


def render_table(rows: list[dict], columns: list[str], fmt: str) -> str:
    """A table as CSV (header row) or JSON (a list of objects)."""
    if fmt == "json":
        return json.dumps([{c: _clean(r.get(c)) for c in columns} for r in rows], indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(_clean(row.get(c))) for c in columns])
    return buffer.getvalue()


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically (see :mod:`.files`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


def emit(text: str, output: str | None) -> None:
    """Send ``text`` to stdout (``-`` or None) or atomically to a file."""
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_text_atomic(output, text)


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
