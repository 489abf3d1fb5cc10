"""User-supplied channels: a loss profile CSV (``t_s,loss_db[,background_cps]``) and a TOML
file with the protocol (``[qkd]``) and the receiver (``[receiver]``).

The profile's ``loss_db`` is the whole channel but the detector: payload, range, atmosphere
and the receiver's aperture and optics. So the receiver's ``aperture_m``,
``optics_transmittance``, ``field_of_view_urad`` and ``filter_width_nm`` do not enter (the
sky's clicks are the profile's ``background_cps``); its detector fields do.

Both are checked here, at the edge, into InputError lines naming the file: the key kernel
(:func:`constellation.key.decoy_bb84.key_for_profile`) gets only valid arrays and settings.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import math
from pathlib import Path

import numpy as np

from ..errors import Described, InputError, decode_utf8, did_you_mean, parse_toml, read_input
from .presets import PRESETS
from .receiver_params import WAVELENGTH_RANGE_NM, ReceiverParams
from .terminal_params import QkdParams
from .terminals import qkd_params, receiver_params, toml_found


# Bounds of a loss profile, with the physics that sets them.
MAX_TIME_S = 1e9  # times as seconds from any origin: a loss profile covers passes, not centuries
MAX_SLOT_S = 86_400.0          # one slot at most a day: a block is a pass or a night, not a season
MAX_BACKGROUND_CPS = 1e9       # the whole receiver: 64 detectors saturate near 1e7 clicks/s each
COLUMNS = ("t_s", "loss_db", "background_cps")

# Keys that a scenario's [qkd] once held or that belong to a station, and where each lives for a
# loss profile: the CSV holds the channel (loss with the atmosphere, the sky's background), the
# --qkd file's [receiver] table the detectors.
_PROFILE_HOMES = {
    "rx_aperture_m": "the loss profile's loss_db includes the receiver's aperture",
    "aperture_m": "the loss profile's loss_db includes the receiver's aperture",
    "optics_transmittance": "the loss profile's loss_db includes the receiver's optics",
    "extra_loss_db": "the loss profile's loss_db holds every loss but the detector's",
    "zenith_transmittance": "the loss profile's loss_db includes the atmosphere",
    "aerosol_optical_depth": "the loss profile's loss_db includes the atmosphere",
    "turbulence": "the loss profile's loss_db includes the turbulence",
    "turbulence_urad": "the loss profile's loss_db includes the turbulence",
    "night_sky_brightening_mag": "the sky's clicks are the loss profile's background_cps column",
    "field_of_view_urad": "the sky's clicks are the loss profile's background_cps column (field of view included)",
    "filter_width_nm": "the sky's clicks are the loss profile's background_cps column (filter included)",
    "dark_count_probability": "it now lives in the [receiver] table (receiver.dark_count_cps, per second)",
    "gate_width_s": "it now lives in the [receiver] table (receiver.gate_ns)",
}
for _name in ("background_probability_night", "background_probability_day", "background_cps_night",
              "background_cps_day"):
    _PROFILE_HOMES[_name] = "the sky's clicks are the loss profile's background_cps column"
for _name in ("detector_efficiency", "dark_count_cps", "gate_ns", "timing_jitter_ps", "afterpulse_probability",
              "polarisation_error", "detectors", "wavelength_min_nm", "wavelength_max_nm"):
    _PROFILE_HOMES[_name] = f"it now lives in the [receiver] table (receiver.{_name})"


def read_loss_profile(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``t_s,loss_db`` rows (and an optional ``background_cps`` column: the receiver's
    background clicks per second in that slot, 0 when absent); return ``(loss_db, slot_s,
    background_cps)`` arrays, one per row.

    A slot lasts until the next row's ``t_s`` (at most ``MAX_SLOT_S``); the last slot is as
    long as the one before (1 s when there is a single row). Times must increase strictly,
    losses be >= 0 dB, backgrounds from 0 to ``MAX_BACKGROUND_CPS``. Unknown and repeated
    columns are refused (a misspelt ``background_cps`` would otherwise read as a dark sky).
    """
    path = Path(path)
    raw = read_input(path, "a readable UTF-8 CSV file with columns t_s,loss_db")
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
    for index, name in enumerate(names):
        if name not in COLUMNS:
            raise InputError(path, f"header column {index + 1}",
                             f"one of t_s, loss_db, background_cps{did_you_mean(name, COLUMNS)}", name)
        if names.index(name) != index:
            raise InputError(path, f"header column {index + 1}", f"each column once ({name} is column "
                             f"{names.index(name) + 1} too)", name)
    columns = [(name, names.index(name)) for name in COLUMNS if name in names]
    times, losses, backgrounds = [], [], []
    for line_number, row in rows:
        if len(row) > len(names) and any(cell.strip() for cell in row[len(names):]):
            raise InputError(path, f"line {line_number}", f"at most {len(names)} cells ({','.join(names)})",
                             Described(f"{len(row)} cells"))
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
            values.append((value, cell))
        (t, t_cell), (loss, loss_cell) = values[:2]
        background, background_cell = values[2] if len(values) > 2 else (0.0, "0")
        if not 0.0 <= background <= MAX_BACKGROUND_CPS:
            raise InputError(path, f"line {line_number} background_cps",
                             "a rate >= 0 and at most 1e9 clicks/s (the whole receiver; detectors saturate "
                             "near 1e7/s each)", background_cell)
        if loss < 0.0:
            raise InputError(path, f"line {line_number} loss_db", "a loss >= 0 dB", loss_cell)
        if times and t <= times[-1]:
            raise InputError(path, f"line {line_number} t_s", f"a time after {times[-1]:g} s (strictly increasing)",
                             t_cell)
        if times and t - times[-1] > MAX_SLOT_S:
            raise InputError(path, f"line {line_number} t_s", f"a time at most {MAX_SLOT_S:,.0f} s after the "
                             f"previous row's {times[-1]:g} s (a slot of at most a day)", t_cell)
        if abs(t) > MAX_TIME_S:
            raise InputError(path, f"line {line_number} t_s", f"a time within {MAX_TIME_S:.0e} s (about 31 years) "
                             "of 0 s", t_cell)
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

    The loss profile's ``loss_db`` holds the whole channel but the detector (payload, range,
    atmosphere, the receiver's aperture and optics), so of the receiver only the detector
    fields apply: ``detector_efficiency``, ``dark_count_cps``, ``gate_ns``,
    ``timing_jitter_ps``, ``afterpulse_probability``, ``polarisation_error``, ``detectors``
    (and its band). ``[qkd]`` may state the payload's ``wavelength_nm`` (else its preset's
    payload gives it): the receiver's band must hold it.

    Every problem, a bad parameter included, is an InputError naming the file."""
    path = Path(path)
    raw = read_input(path, "a readable TOML file", 4 * 1024 * 1024)
    data = parse_toml(path, decode_utf8(path, raw))
    table = data.get("qkd")
    if not isinstance(table, dict):
        raise InputError(path, "qkd", "a [qkd] table", "none" if table is None else
                         Described("[[qkd]], an array of tables") if isinstance(table, list) else toml_found(table))
    for name in data:
        if name not in ("qkd", "receiver"):
            raise InputError(path, name, f"only a [qkd] and a [receiver] table{did_you_mean(name, ['qkd', 'receiver'])}",
                             Described(f"unknown table {name!r}" if isinstance(data[name], dict) else f"unknown key {name!r}"))
    if "receiver" in table:
        raise InputError(path, "qkd.receiver", 'the receiver in a [receiver] table of its own (e.g. [receiver] '
                         'preset = "observatory-1m"), not inside [qkd]', toml_found(table["receiver"]))
    receiver = data.get("receiver")
    if receiver is None:
        raise InputError(path, "receiver", 'a [receiver] table (e.g. preset = "observatory-1m")', "none")
    table = dict(table)
    given = "wavelength_nm" in table
    wavelength_nm = _payload_wavelength(table, path)
    _check_moved(table, path)
    qkd = qkd_params(table, path, "qkd")
    rx = receiver_params(receiver, path, "receiver")
    if wavelength_nm is not None and not rx.wavelength_min_nm <= wavelength_nm <= rx.wavelength_max_nm:
        whose = "qkd.wavelength_nm" if given else f"the {table['preset']} payload's; set qkd.wavelength_nm for another"
        raise InputError(path, "receiver", f"a receiver working at the payload's wavelength ({wavelength_nm:g} nm, "
                         f"{whose})", f"one for {rx.wavelength_min_nm:g}-{rx.wavelength_max_nm:g} nm")
    return qkd, rx


def _payload_wavelength(table: dict, path) -> float | None:
    """The payload's wavelength of a --qkd file's ``[qkd]`` (popped from ``table``), else its
    preset's payload's; None when neither says."""
    if "wavelength_nm" in table:
        value = table.pop("wavelength_nm")
        low, high = WAVELENGTH_RANGE_NM
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high):
            raise InputError(path, "qkd.wavelength_nm", f"a wavelength from {low:g} to {high:g} nm "
                             "(the payload's, checked against the receiver's band)", toml_found(value))
        return float(value)
    preset = PRESETS.get(table.get("preset")) if isinstance(table.get("preset"), str) else None
    return preset.link.wavelength_nm if preset is not None else None


def _check_moved(table: dict, path) -> None:
    """A key of the channel or the receiver in a --qkd file's ``[qkd]``: say where it lives for a
    loss profile (misspelt ones too)."""
    known = {f.name for f in dataclasses.fields(QkdParams)} | {"preset", "protocol"}
    for key in table:
        if key in known or not isinstance(key, str):
            continue
        close = key if key in _PROFILE_HOMES else next(
            iter(difflib.get_close_matches(key, [*known, *_PROFILE_HOMES], n=1)), None)
        if close in _PROFILE_HOMES:
            hint = "" if close == key else f"did you mean {close!r}? "
            raise InputError(path, f"qkd.{key}", f"no channel or receiver key in [qkd] ({hint}"
                             f"{_PROFILE_HOMES[close]})", toml_found(table[key]) if close == key else key)
