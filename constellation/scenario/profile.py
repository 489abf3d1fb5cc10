"""User-supplied channels: a loss profile CSV (``t_s,loss_db[,background_cps]``) and a TOML
file with the protocol (``[qkd]``) and the receiver (``[receiver]``).

Both are checked here, at the edge, into InputError lines naming the file: the key kernel
(:func:`constellation.key.decoy_bb84.key_for_profile`) gets only valid arrays and settings.
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path

import numpy as np

from ..errors import Described, InputError, decode_utf8, did_you_mean, toml_error
from .receiver_params import ReceiverParams
from .terminal_params import QkdParams
from .terminals import qkd_params, receiver_params


def read_loss_profile(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``t_s,loss_db`` rows (and an optional ``background_cps`` column: the receiver's
    background clicks per second in that slot, 0 when absent); return ``(loss_db, slot_s,
    background_cps)`` arrays, one per row.

    A slot lasts until the next row's ``t_s``; the last slot is as long as the one before
    (1 s when there is a single row). Times must increase strictly, losses be >= 0 dB.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, "file", "a readable UTF-8 CSV file with columns t_s,loss_db",
                         exc.strerror or str(exc)) from None
    text = decode_utf8(path, raw, "UTF-8 text")
    # Blank and '#' lines are skipped, but messages count every line of the file.
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    rows = iter((n, next(csv.reader([line]), [])) for n, line in numbered)
    _, header = next(rows, (None, None))
    if header is None:
        raise InputError(path, "rows", "a header t_s,loss_db and at least one row", "an empty file")
    names = [h.strip() for h in header]
    for column in ("t_s", "loss_db"):
        if column not in names:
            raise InputError(path, "header", "columns t_s and loss_db", ",".join(names))
    i_t, i_loss = names.index("t_s"), names.index("loss_db")
    columns = [("t_s", i_t), ("loss_db", i_loss)]
    if "background_cps" in names:
        columns.append(("background_cps", names.index("background_cps")))
    times, losses, backgrounds = [], [], []
    for line_number, row in rows:
        values = []
        for column, index in columns:
            cell = row[index].strip() if index < len(row) else ""
            try:
                value = float(cell)
            except ValueError:
                found = cell or Described("an empty cell")
                raise InputError(path, f"line {line_number} {column}", "a number", found) from None
            if not math.isfinite(value):
                raise InputError(path, f"line {line_number} {column}", "a finite number", cell)
            values.append(value)
        t, loss = values[:2]
        background = values[2] if len(values) > 2 else 0.0
        if background < 0.0:
            raise InputError(path, f"line {line_number} background_cps", "a rate >= 0", background)
        if loss < 0.0:
            raise InputError(path, f"line {line_number} loss_db", "a loss >= 0 dB", row[i_loss].strip())
        if times and t <= times[-1]:
            raise InputError(path, f"line {line_number} t_s", f"a time after {times[-1]:g} s (strictly increasing)",
                             row[i_t].strip())
        times.append(t)
        losses.append(loss)
        backgrounds.append(background)
    if not times:
        raise InputError(path, "rows", "at least one t_s,loss_db row", "only a header")
    t = np.array(times)
    slot = np.diff(t)
    slot = np.append(slot, slot[-1] if slot.size else 1.0)
    return np.array(losses), slot, np.array(backgrounds)


def read_qkd_file(path) -> tuple[QkdParams, ReceiverParams]:
    """QkdParams and ReceiverParams from a TOML file holding a ``[qkd]`` table and a
    ``[receiver]`` table (``preset`` allowed in both, e.g. ``preset = "observatory-1m"``).

    Every problem, a bad parameter included, is an InputError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, "file", "a readable TOML file", exc.strerror or str(exc)) from None
    try:
        data = tomllib.loads(decode_utf8(path, raw))
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(path, exc) from None
    table = data.get("qkd")
    if not isinstance(table, dict):
        raise InputError(path, "qkd", "a [qkd] table", "none" if table is None else type(table).__name__)
    for name in data:
        if name not in ("qkd", "receiver"):
            raise InputError(path, name, f"only a [qkd] and a [receiver] table{did_you_mean(name, ['qkd', 'receiver'])}",
                             Described(f"unknown table {name!r}" if isinstance(data[name], dict) else f"unknown key {name!r}"))
    receiver = data.get("receiver")
    if receiver is None:
        raise InputError(path, "receiver", 'a [receiver] table (e.g. preset = "observatory-1m")', "none")
    try:
        qkd = qkd_params(table, path, "qkd")
    except InputError as exc:  # a receiver key left in [qkd] lives in this file's [receiver] table
        expected = exc.expected.replace("the station's receiver (stations[].receiver.", "the [receiver] table (receiver.")
        if expected == exc.expected:
            raise
        raise InputError(path, exc.field, expected, exc.found) from None
    return qkd, receiver_params(receiver, path, "receiver")
