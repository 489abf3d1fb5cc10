"""Link and protocol settings of each satellite-station pair, from presets and overrides.

A scenario's ``[link]`` and ``[qkd]`` tables may start from a named preset
(``preset = "micius"``) and override any field; a satellite may override either table
(``link = { tx_aperture_m = 0.1 }``), and a station's ``aperture_m`` is the receiver
aperture unless the link table sets ``rx_aperture_m``.

This is the edge where the checks of :mod:`constellation.scenario.terminal_params`
(``ParameterError``, which knows no file) become one-line ``InputError`` messages naming
the user's file and the table (``where``): ``<source>: <where>.<field>: expected ...``.
"""

from __future__ import annotations

import dataclasses

from ..errors import InputError, ParameterError, did_you_mean
from .presets import PRESETS
from .terminal_params import LinkParams, QkdParams


def _with_preset(table: dict, kind: str, source, where: str) -> dict:
    values = dict(table)
    name = values.pop("preset", None)
    if name is None:
        return values
    if not isinstance(name, str) or name not in PRESETS:
        hint = did_you_mean(name, PRESETS)
        raise InputError(source, f"{where}.preset", f"one of {', '.join(sorted(PRESETS))}{hint}", name)
    base = getattr(PRESETS[name], kind)
    merged = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    merged.update(values)
    return merged


def link_params(table: dict, source, where: str = "link", rx_aperture_m: float | None = None,
                rx_field: str = "rx_aperture_m") -> LinkParams:
    """LinkParams from a ``[link]`` table.

    The receiver aperture is, in order: the table's own ``rx_aperture_m``, the station's
    ``rx_aperture_m`` argument, the preset's. Raises InputError naming ``source``.
    """
    values = _with_preset(table, "link", source, where)
    if rx_aperture_m is not None and "rx_aperture_m" not in table:
        values["rx_aperture_m"] = rx_aperture_m
    if values.get("rx_aperture_m") is None:
        raise InputError(source, rx_field, f"the receiver aperture in metres (or {where}.rx_aperture_m)",
                         "nothing")
    return _relabel(LinkParams.from_mapping, values, source, where)


def qkd_params(table: dict, source, where: str = "qkd") -> QkdParams:
    """QkdParams from a ``[qkd]`` table (with an optional ``preset``). Raises InputError naming ``source``."""
    return _relabel(QkdParams.from_mapping, _with_preset(table, "qkd", source, where), source, where)


def _relabel(build, values, source, where):
    """``build(values)``, its ParameterError made an InputError on ``<where>.<field>`` of ``source``."""
    try:
        return build(values)
    except ParameterError as exc:
        raise InputError(source, f"{where}.{exc.field}", exc.expected, exc.found) from None
