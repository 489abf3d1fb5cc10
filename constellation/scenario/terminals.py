"""Payload, receiver and site of each satellite-station pair, from presets and overrides.

A scenario's ``[link]`` and ``[qkd]`` tables describe the payload and may start from a named
preset (``preset = "micius"``) and override any field; a satellite may override either table
(``link = { tx_aperture_m = 0.1 }``). A station's ``receiver`` names a receiver preset or is a
table starting from one; its ``sky`` table sets the site's atmosphere and night sky; its
``aperture_m`` replaces the receiver's aperture.

This is the edge where the checks of :mod:`constellation.scenario.terminal_params` and
:mod:`constellation.scenario.receiver_params` (``ParameterError``, which knows no file) become
one-line ``InputError`` messages naming the user's file and the table (``where``):
``<source>: <where>.<field>: expected ...``.
"""

from __future__ import annotations

import dataclasses
import json
import re

from ..errors import Described, InputError, ParameterError, did_you_mean
from .presets import PRESETS
from .receiver_params import ReceiverParams, SiteParams
from .receivers import RECEIVERS
from .terminal_params import LinkParams, QkdParams, Terminal


def with_preset(table: dict, presets: dict, kind: str | None, source, where: str) -> dict:
    values = dict(table)
    name = values.pop("preset", None)
    if name is None:
        return values
    if not isinstance(name, str) or name not in presets:
        hint = did_you_mean(name, presets) if isinstance(name, str) else ""
        raise InputError(source, f"{where}.preset", f"one of {', '.join(sorted(presets))}{hint}", name)
    base = getattr(presets[name], kind) if kind else presets[name]
    merged = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    merged.update(values)
    return merged


def link_params(table: dict, source, where: str = "link") -> LinkParams:
    """LinkParams (the payload's transmitter) from a ``[link]`` table. Raises InputError naming ``source``."""
    return relabel_params(LinkParams.from_mapping, with_preset(table, PRESETS, "link", source, where), source, where)


def qkd_params(table: dict, source, where: str = "qkd") -> QkdParams:
    """QkdParams from a ``[qkd]`` table (with an optional ``preset``). Raises InputError naming ``source``."""
    return relabel_params(QkdParams.from_mapping, with_preset(table, PRESETS, "qkd", source, where), source, where)


def receiver_params(value, source, where: str = "receiver", base: ReceiverParams | None = None) -> ReceiverParams:
    """ReceiverParams from a preset name or a table (optional ``preset``; without one, the
    fields override ``base``, the station's built-in receiver, when there is one)."""
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        raise InputError(source, where, "a receiver preset name or a table", toml_found(value))
    table = dict(value)
    if "preset" not in table and base is not None:
        table = {**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, **table}
    return relabel_params(ReceiverParams.from_mapping, with_preset(table, RECEIVERS, None, source, where), source, where)


def site_params(table, source, where: str = "sky", base: SiteParams | None = None) -> SiteParams:
    """SiteParams from a station's ``sky`` table, over ``base`` (the built-in station's)."""
    if not isinstance(table, dict):
        raise InputError(source, where, "a table of site parameters", toml_found(table))
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.name != "elevation_m"} if base else {}
    if "turbulence" in table and "turbulence_urad" not in table:
        values.pop("turbulence_urad", None)  # the table's turbulence replaces the built-in site's
    values.update(table)
    return relabel_params(SiteParams.from_mapping, values, source, where)


def station_receiver(station, station_index: int, wavelength_nm: float, source, purpose: str, band: str):
    """The station's receiver; InputError on ``stations[i].receiver`` when it has none (``a
    receiver PURPOSE``) or one that does not work at ``wavelength_nm`` (``the BAND wavelength``)."""
    receiver = station.receiver
    if receiver is None:
        raise InputError(source, f"stations[{station_index}].receiver",
                         f'a receiver {purpose} (receiver = "observatory-1m", '
                         'another preset of `constellation receivers`, or a table)',
                         Described(f"{station.name} has no receiver"))
    if not receiver.wavelength_min_nm <= wavelength_nm <= receiver.wavelength_max_nm:
        raise InputError(source, f"stations[{station_index}].receiver",
                         f"a receiver working at the {band} wavelength ({wavelength_nm:g} nm)",
                         f"one for {receiver.wavelength_min_nm:g}-{receiver.wavelength_max_nm:g} nm")
    return receiver


def terminal(link: LinkParams, qkd: QkdParams, station, station_index: int, source, payload_where: str) -> Terminal:
    """The Terminal of a payload over a station; InputError when the station has no receiver
    or one that does not work at the payload's wavelength.

    Only key needs a receiver: the scenario keeps this error for the pair and raises it when
    the key of a pass over the station is computed (passes, coverage, exports and track or
    sky plots work for a station without one)."""
    receiver = station_receiver(station, station_index, link.wavelength_nm, source,
                                f"to compute key at {station.name}", payload_where)
    return Terminal(link, qkd, receiver, station.site)


def relabel_params(build, values, source, where):
    """``build(values)``, its ParameterError made an InputError on ``<where>.<field>`` of ``source``."""
    try:
        return build(values)
    except ParameterError as exc:
        raise InputError(source, f"{where}.{exc.field}", exc.expected, toml_found(exc.found)) from None


def toml_found(value):
    """What a file held, as TOML spells it when that differs from Python (``true``, ``{a = 1}``,
    ``["x", 2]``); a plain string or number is returned as it is."""
    if isinstance(value, (bool, dict, list, tuple)):
        return Described(_toml(value))
    return value


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = (f"{key if _BARE_KEY.fullmatch(str(key)) else json.dumps(str(key))} = {_toml(item)}"
                 for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
