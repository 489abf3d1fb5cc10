"""Scenario data of a design: the tables every design shares, and a ready-to-run scenario file.

``problem_base`` is what a sweep ships to its workers (the scenario without its design
space); ``design_scenario_toml`` writes one design (plus the fixed fleet) as a scenario file
that ``run`` and ``compare`` read, in the layout of hand-written files.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import tomli_w

from .. import __version__

__all__ = ["design_scenario_toml", "problem_base", "scenario_toml"]

_SIZING_KEYS = ("designs", "targets", "sweep")


def problem_base(scenario) -> dict:
    """The scenario tables every design shares (fleet satellites' file paths made absolute)."""
    base = {k: _thawed(v) for k, v in scenario.raw.items() if k not in _SIZING_KEYS}
    folder = Path(scenario.source).parent if scenario.source != "<memory>" else Path.cwd()
    for sat in base.get("satellites", []):
        for key in ("tle_file", "omm_file"):
            if key in sat and not Path(sat[key]).is_absolute():
                sat[key] = str((folder / sat[key]).resolve())
    return base


def design_scenario_toml(scenario, design) -> str:
    """A scenario file running ``design`` (plus the fixed fleet) over the same span and network."""
    data = problem_base(scenario)
    if scenario.raw.get("targets") is not None:
        data["targets"] = _thawed(scenario.raw["targets"])  # so that `compare` checks them
    data["satellites"] = [*data.get("satellites", []), *copy.deepcopy(list(design.satellites))]
    section = dict(data["scenario"])
    section["name"] = f"{section['name']} / {design.family} {design.n_satellites} satellites"
    section["description"] = (f"Design {design.id} chosen by constellation size from {Path(scenario.source).name}: "
                              f"{design.label()}; cost {design.cost:g}.")
    data["scenario"] = section
    header = (f"# Written by constellation {__version__} (size) on "
              f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}.\n"
              f"# Source scenario: {scenario.source} (sha256 {scenario.sha256[:16]}).\n")
    return header + scenario_toml(data)


def scenario_toml(data: dict) -> str:
    """A scenario mapping as TOML in the layout of hand-written files: [tables], then [[arrays]]."""
    tables = [(k, v) for k, v in data.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    array_order = ["satellites", "stations", "links", "fibre", "cities"]
    arrays.sort(key=lambda kv: array_order.index(kv[0]) if kv[0] in array_order else len(array_order))
    order = ["scenario", "constraints", "link", "qkd", "source", "network", "coverage"]
    tables.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    blocks = []
    for name, table in tables:
        blocks.append(f"[{name}]\n" + _pairs(table))
    for name, items in arrays:
        for item in items:
            blocks.append(f"[[{name}]]\n" + _pairs(item))
    return "\n".join(blocks)


def _pairs(table: dict) -> str:
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in table.items() if v is not None)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else tomli_w.dumps({"k": name})[4:-1]


def _value(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
            f".{value.microsecond:06d}" if value.microsecond else "") + "Z"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return tomli_w.dumps({"k": value})[4:-1]


def _thawed(value):
    """A plain, mutable copy of a scenario's read-only tables: mappings as dicts, tuples as lists."""
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(item) for item in value]
    return value
