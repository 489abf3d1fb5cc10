"""Building a scenario: a TOML file (or a parsed mapping) checked into an immutable Scenario.

Every check of a scenario file is reached from here, and every problem becomes one
:class:`~constellation.errors.InputError` line that names the file, the field, what was
expected and what was found:

- keys, types and ranges of each table: the schema (:mod:`constellation.scenario.schema`),
  its ``ValidationError`` worded by :mod:`constellation.scenario.messages`;
- what spans tables: unique names, built-in stations and cities, link and fibre ends,
  design families and targets, files the scenario names (here);
- element sets: :mod:`constellation.scenario.tle` and :mod:`constellation.scenario.omm`;
- ``[link]`` and ``[qkd]`` with their presets and per-satellite overrides, for every
  satellite-station pair: :mod:`constellation.scenario.terminals`, called here, so that a
  built scenario holds only checked terminal parameters. A station without a receiver (or
  with one for another band than the payload's) is no error here: the pair's InputError is
  raised when its key is asked for, so passes, coverage and exports work without receivers.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import hashlib
import math
from pathlib import Path
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError
from sgp4.api import Satrec

from ..constants import MIN_PERIGEE_ALTITUDE_KM, WGS72_RE_KM
from ..core import orbits
from ..core.timebase import parse_utc
from ..errors import Described, InputError, decode_utf8, did_you_mean, parse_toml, read_input
from . import omm, tle
from .messages import input_error
from .climate import climatology
from .model import Constraints, Fibre, Link, Satellite, Scenario
from .schema import SatelliteSpec, ScenarioFile, StationSpec, plain_name
from .stations import Station, builtin_station, lookup, station_hint
from .terminal_params import Terminal
from .terminals import link_params, qkd_params, receiver_params, site_params, terminal, toml_found

__all__ = ["STALE_TLE_DAYS", "load_scenario", "scenario_from_dict"]

STALE_TLE_DAYS = 14.0
MAX_SCENARIO_BYTES = 4 * 1024 * 1024  # scenario files are hand-written: a few kB; element sets go in their own files


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises InputError on any problem."""
    path = Path(path)
    raw = read_input(path, "a readable scenario file", MAX_SCENARIO_BYTES)
    sha256 = hashlib.sha256(raw).hexdigest()
    return _nesting_guard(parse_toml(path, decode_utf8(path, raw)), path, sha256)


def scenario_from_dict(data: dict[str, Any], source: str | Path = "<memory>") -> Scenario:
    """Validate an already-parsed scenario mapping (paths resolve against ``source``)."""
    return _nesting_guard(data, source, "")


def _nesting_guard(data: dict[str, Any], source, sha256: str) -> Scenario:
    """:func:`_build`, with values nested past the interpreter's stack refused in one line."""
    try:
        return _build(data, source, sha256)
    except RecursionError:
        raise InputError(source, "nesting", "tables and arrays nested at most a few hundred deep",
                         Described("deeper nesting")) from None


def _build(data: dict[str, Any], source: str | Path, sha256: str) -> Scenario:
    """The Scenario of ``data``, every check done in the order a user fixes them."""
    try:
        model = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise input_error(source, exc) from None
    if not model.satellites and not model.designs:
        raise InputError(source, "satellites", "at least one [[satellites]] entry (or [[designs]] to size)", "none")
    _check_designs(model, source)
    base = Path(source).parent if str(source) != "<memory>" else Path.cwd()
    satellites = tuple(sat for index, spec in enumerate(model.satellites)
                       for sat in _build_satellites(spec, index, model.scenario.start, base, source))
    _unique([s.name for s in satellites], source, "satellites", "name")
    _check_element_sets(satellites, model, source)
    stations = tuple(_build_station(spec, index, source) for index, spec in enumerate(model.stations))
    _unique([s.name for s in stations], source, "stations", "name")
    cities = _build_cities(model, {s.name for s in stations}, source)
    _check_links(model, {s.name for s in stations} | set(cities), source)
    terminals = _terminals(model, satellites, stations, source)
    return _scenario(model, data, str(source), sha256, satellites, stations, cities, terminals)


def _scenario(model: ScenarioFile, data: dict, source: str, sha256: str, satellites: tuple[Satellite, ...],
              stations: tuple[Station, ...], cities: dict[str, Station], terminals: dict) -> Scenario:
    """The Scenario of a checked model and its built parts, every table made read-only."""
    c = model.constraints
    start, end = model.scenario.start, model.scenario.end
    return Scenario(
        name=model.scenario.name, start=start, end=end, satellites=satellites, stations=stations,
        constraints=Constraints(c.station_sun_max_elevation_deg, c.satellite_sunlit, c.max_range_km),
        source=source, sha256=sha256,
        warnings=tuple(_stale_warnings(satellites, start, end, source)),
        link=_frozen(model.link), qkd=_frozen(model.qkd),
        links=tuple(Link(s.a, s.b, s.required_key_bits_per_day, s.max_latency_h, s.mode) for s in model.links),
        pair_source=_pair_source(model.source, source),
        satellite_sources=_satellite_sources(model, satellites, source),
        fibre=tuple(Fibre(s.a, s.b, s.key_rate_bps) for s in model.fibre),
        cities=tuple(cities.values()), network=model.network, coverage=model.coverage,
        telescopes=MappingProxyType({st.name: spec.telescopes for st, spec in zip(stations, model.stations)}),
        **_weather_tables(stations, model.stations),
        designs=tuple(model.designs), targets=model.targets, sweep=model.sweep,
        raw=_deep_frozen(data), terminals=terminals,
    )


def _weather_tables(stations: tuple[Station, ...], specs) -> dict:
    """``clear_sky_probability``, ``clear_sky_persistence`` and ``climate_sources`` by station
    name: the scenario's values, else, for a built-in station (named, no position), its
    climatology's (:mod:`.climate`); stations with neither have no entry (always clear,
    independent nights)."""
    probability, persistence, sources = {}, {}, {}
    for st, spec in zip(stations, specs):
        climate = climatology(st.name) if spec.latitude_deg is None else None
        if spec.clear_sky_probability is not None:
            probability[st.name] = spec.clear_sky_probability
        elif climate is not None:
            probability[st.name] = list(climate.monthly)
            sources[st.name] = climate.source
        if spec.clear_sky_persistence is not None:
            persistence[st.name] = float(spec.clear_sky_persistence)
        elif climate is not None:
            persistence[st.name] = climate.persistence
    return dict(clear_sky_probability=MappingProxyType(probability),
                clear_sky_persistence=MappingProxyType(persistence), climate_sources=MappingProxyType(sources))


def _frozen(table: dict | None):
    """A TOML table as a read-only mapping (None stays None)."""
    return None if table is None else MappingProxyType(dict(table))


def _check_designs(model: ScenarioFile, source) -> None:
    """Family names unique; hybrids made of named, non-hybrid families; targets name known
    stations; every region (targets and ``[coverage]``) a simple polygon."""
    families = {}
    for index, spec in enumerate(model.designs):
        if spec.name in families:
            raise InputError(source, f"designs[{index}].name", "unique family names", spec.name)
        families[spec.name] = spec
    for index, spec in enumerate(model.designs):
        for part in spec.parts or []:
            if part not in families or families[part].family == "hybrid":
                plain = sorted(n for n, f in families.items() if f.family != "hybrid")
                raise InputError(source, f"designs[{index}].parts",
                                 f"names of non-hybrid families ({', '.join(plain) or 'none defined'})", part)
    if model.designs and model.targets is None:
        raise InputError(source, "targets", "a [targets] table for the designs to meet", "none")
    regions = [(f"targets.regions[{index}].region", target.region)
               for index, target in enumerate(model.targets.regions if model.targets else [])]
    if model.coverage is not None and model.coverage.region is not None:
        regions.append(("coverage.region", model.coverage.region))
    for where, region in regions:
        from shapely.geometry import Polygon  # heavy: only when a region is given

        if not Polygon(region).is_valid:
            raise InputError(source, where, "a simple polygon (edges must not cross)",
                             f"{len(region)} points with crossing edges")
    names = [s.name for s in model.stations]
    for index, target in enumerate(model.targets.stations if model.targets else []):
        if target.name not in names:
            hint = did_you_mean(target.name, names)
            raise InputError(source, f"targets.stations[{index}].name", f"a station of this scenario{hint}", target.name)


def _build_cities(model: ScenarioFile, station_names: set[str], source) -> dict[str, Station]:
    """The ``[[cities]]``, and the built-in sites ``[[fibre]]`` names that are not stations, by name."""
    cities = {}
    for index, spec in enumerate(model.cities):
        if spec.latitude_deg is None or spec.longitude_deg is None:
            if lookup(spec.name) is None:
                raise InputError(source, f"cities[{index}]", "latitude_deg and longitude_deg (not a built-in site)", spec.name)
            site = builtin_station(spec.name)
            cities[spec.name] = Station(spec.name, site.latitude_deg, site.longitude_deg)
        else:
            cities[spec.name] = Station(spec.name, spec.latitude_deg, spec.longitude_deg)
    for index, spec in enumerate(model.fibre):
        for end in ("a", "b"):
            name = getattr(spec, end)
            if name not in station_names and name not in cities:
                if lookup(name) is None:
                    raise InputError(source, f"fibre[{index}].{end}", "a station or city of this scenario", name)
                site = builtin_station(name)
                cities[name] = Station(name, site.latitude_deg, site.longitude_deg)
    return cities


def _check_links(model: ScenarioFile, known: set[str], source) -> None:
    """Each ``[[links]]`` end is a station or a fibre-joined city; an entangled link joins two
    satellite stations and needs a source. (Relayed links need ``[link]`` and ``[qkd]``: checked
    by the network stage, so passes and dual windows of a link run without a payload.)"""
    for index, spec in enumerate(model.links):
        for end in ("a", "b"):
            name = getattr(spec, end)
            if name not in known:
                hint = did_you_mean(name, sorted(known))
                raise InputError(source, f"links[{index}].{end}",
                                 f"a station, or a city joined to one by [[fibre]]{hint}", name)
    seen: dict = {}
    for index, spec in enumerate(model.links):
        pair = frozenset((spec.a, spec.b))
        if pair in seen:
            raise InputError(source, f"links[{index}]", f"a station pair listed once (links[{seen[pair]}] joins "
                             f"{spec.a} and {spec.b} already; one entry per pair, with its mode and demand)",
                             Described(f"{spec.a}-{spec.b} again"))
        seen[pair] = index
    station_names = {s.name for s in model.stations}
    for index, spec in enumerate(model.links):
        if spec.mode == "relay":
            continue
        for end in ("a", "b"):
            if getattr(spec, end) not in station_names:
                raise InputError(source, f"links[{index}].{end}",
                                 f"a satellite station for mode = {spec.mode!r} (entanglement goes to two stations "
                                 "in view of one satellite; a city reaches one only by fibre)",
                                 Described(f"{getattr(spec, end)!r}, a city joined by [[fibre]]"))
        if model.source is None and not any(isinstance(s.source, dict) for s in model.satellites) \
                and not any(d.source is not None for d in model.designs):
            raise InputError(source, f"links[{index}].mode", 'a [source] table too (e.g. preset = '
                             '"micius-entanglement") for entanglement', Described(f"{spec.mode!r} and no [source]"))


_POST_PROCESSING = {"basis_probability", "error_correction_efficiency", "epsilon_secret", "epsilon_correct",
                    "finite_key", "block_sifted_bits"}


def _satellite_sources(model: ScenarioFile, satellites, source) -> tuple:
    """Each satellite's SourceParams: its entry's ``source`` table over the scenario's
    ``[source]`` (``source = false``: none), else the scenario's."""
    per_spec: dict = {}
    for index, spec in enumerate(model.satellites):
        if spec.source is False:
            per_spec[index] = None
        elif spec.source is True:
            raise InputError(source, f"satellites[{index}].source", "a source table (or false for none)",
                             Described("true"))
        elif isinstance(spec.source, dict):
            fixed = sorted(set(spec.source) & _POST_PROCESSING)
            if fixed:
                raise InputError(source, f"satellites[{index}].source.{fixed[0]}",
                                 "the key's post-processing in [source] (it belongs to the link, not the satellite)",
                                 spec.source[fixed[0]])
            base = dict(model.source or {})
            table = {**base, **spec.source} if "preset" not in spec.source else dict(spec.source)
            per_spec[index] = _pair_source(table, source, f"satellites[{index}].source")
        else:
            per_spec[index] = _pair_source(model.source, source)
    sources = tuple(per_spec[sat.spec_index] for sat in satellites)
    entangled = [k for k, spec in enumerate(model.links) if spec.mode != "relay"]
    if entangled and satellites and not any(s is not None for s in sources):
        raise InputError(source, f"links[{entangled[0]}].mode", "a satellite carrying an entangled-photon source "
                         "(every [[satellites]] entry says source = false)", model.links[entangled[0]].mode)
    for index, design in enumerate(model.designs):
        if design.source is not None:
            _pair_source(design.source, source, f"designs[{index}].source")
    return sources


def _pair_source(table, source, where: str = "source"):
    """SourceParams of the ``[source]`` table (None without one)."""
    if table is None:
        return None
    from .source_params import SOURCE_PRESETS, SourceParams
    from .terminals import relabel_params, with_preset

    values = with_preset(table, SOURCE_PRESETS, None, source, where)
    return relabel_params(SourceParams.from_mapping, values, source, where)


class _Terminals(Mapping):
    """``(spec_index, station_index) -> Terminal`` of the pairs that can compute key; a pair
    whose station has no receiver (or one for another band) raises that station's InputError
    when asked for: only key needs a receiver, so the scenario builds without one."""

    def __init__(self, terminals: dict, errors: dict):
        self._terminals, self._errors = terminals, errors

    def __getitem__(self, pair):
        if pair in self._errors:
            raise InputError(*self._errors[pair])
        return self._terminals[pair]

    def __iter__(self):
        return iter(self._terminals)

    def __len__(self):
        return len(self._terminals)


def _terminals(model: ScenarioFile, satellites: tuple[Satellite, ...], stations: tuple[Station, ...],
               source) -> Mapping[tuple[int, int], Terminal]:
    """``(spec_index, station_index) -> Terminal`` of every satellite entry over every station,
    the payloads checked (empty when the scenario has no ``[link]`` and ``[qkd]``); the
    receiver of each station is checked when its key is asked for (:class:`_Terminals`)."""
    if model.link is None or model.qkd is None:
        return MappingProxyType({})
    out, errors = {}, {}
    for sat in {s.spec_index: s for s in satellites}.values():
        where = f"satellites[{sat.spec_index}].link" if sat.link else "link"
        link = link_params({**model.link, **sat.link}, str(source), where)
        payload_where = where
        where = f"satellites[{sat.spec_index}].qkd" if sat.qkd else "qkd"
        qkd = qkd_params({**model.qkd, **sat.qkd}, str(source), where)
        for index, station in enumerate(stations):
            try:
                out[sat.spec_index, index] = terminal(link, qkd, station, index, str(source), payload_where)
            except InputError as exc:
                errors[sat.spec_index, index] = (exc.source, exc.field, exc.expected, exc.found)
    return _Terminals(out, errors)


def _build_satellites(spec: SatelliteSpec, index: int, start: dt.datetime, base: Path, source) -> list[Satellite]:
    """The satellites of ``[[satellites]]`` entry ``index``, with its terminal overrides and cost."""
    link, qkd = MappingProxyType(dict(spec.link or {})), MappingProxyType(dict(spec.qkd or {}))
    slot = (orbits.geo_slot(spec.geo_longitude_deg, spec.epoch or start, spec.inclination_deg or 0.0)
            if spec.kind == "geo" else None)  # kept in its slot, as a satellite in service is
    return [Satellite(name, satrec, spec.kind, link, qkd, index, spec.unit_cost, slot)
            for name, satrec in _orbits(spec, index, start, base, source)]


def _orbits(spec: SatelliteSpec, index: int, start: dt.datetime, base: Path, source) -> list[tuple[str, Satrec]]:
    """``(name, Satrec)`` of each satellite of an entry: element sets read, or designed orbits."""
    where = f"satellites[{index}]"
    kind = spec.kind
    if kind == "tle":
        lines = list(spec.tle)
        name_line = lines.pop(0).strip() if len(lines) == 3 else None  # [name, line 1, line 2]
        at = (1, 2) if name_line is None else ("tle[1]", "tle[2]")
        sets = [tle.parse_tle_lines(lines[0], lines[1], name=spec.name or name_line, source=f"{source}: {where}.tle",
                                    first_line_number=at[0], second_line_number=at[1])]
    elif kind == "tle_file":
        sets = tle.read_tle_file(_resolve(spec.tle_file, base, source, f"{where}.tle_file"))
    elif kind == "omm_file":
        sets = omm.read_omm_file(_resolve(spec.omm_file, base, source, f"{where}.omm_file"))
    else:
        return _designed(spec, kind, index, start, source)
    if spec.name and len(sets) == 1:
        return [(spec.name, sets[0].satrec)]
    return [(s.name, s.satrec) for s in sets]


def _designed(spec: SatelliteSpec, kind: str, index: int, start: dt.datetime, source) -> list[tuple[str, Satrec]]:
    """``(name, Satrec)`` of a designed entry (Walker pattern, sun-synchronous, GEO or elements)."""
    epoch = spec.epoch or start
    satnum = 90000 + index * 100
    prefix = spec.name or f"sat{index + 1}"
    try:
        if kind == "walker":
            items = orbits.walker(spec.walker, spec.total, spec.planes, spec.phasing, spec.altitude_km,
                                  spec.inclination_deg, epoch, raan0_deg=spec.raan_deg,
                                  mean_anomaly0_deg=spec.mean_anomaly_deg)
            width = len(str(spec.total // spec.planes))
            return [(f"{prefix}-P{p + 1}-{s + 1:0{width}d}", orbits.satrec_from_elements(el, satnum=(satnum + k) % 100000))
                    for k, (p, s, el) in enumerate(items)]
        if kind == "geo":
            elements = orbits.geostationary(spec.geo_longitude_deg, epoch, spec.inclination_deg or 0.0)
        elif kind == "ltan":
            elements = orbits.sun_synchronous(spec.altitude_km, orbits.parse_local_time_hours(spec.ltan),
                                              epoch, spec.mean_anomaly_deg, spec.eccentricity)
        else:
            a = spec.semi_major_axis_km or orbits.semi_major_axis_km(spec.altitude_km)
            elements = orbits.Elements(a, spec.eccentricity, spec.inclination_deg, spec.raan_deg,
                                       spec.argp_deg, spec.mean_anomaly_deg, epoch, spec.bstar)
    except ValueError as exc:
        raise InputError(source, f"satellites[{index}]", str(exc)) from None
    if elements.semi_major_axis_km * (1 - elements.eccentricity) < WGS72_RE_KM + MIN_PERIGEE_ALTITUDE_KM:
        raise InputError(source, f"satellites[{index}]", f"a perigee above {MIN_PERIGEE_ALTITUDE_KM:g} km altitude",
                         f"{elements.semi_major_axis_km * (1 - elements.eccentricity) - WGS72_RE_KM:.1f} km")
    return [(prefix, orbits.satrec_from_elements(elements, satnum=satnum))]


def _build_station(spec: StationSpec, index: int, source) -> Station:
    """A ``[[stations]]`` entry: a built-in site (with overrides) or a position given in full."""
    mask = tuple((float(az), float(el)) for az, el in spec.horizon_mask) if spec.horizon_mask else ()
    overrides = dict(min_elevation_deg=spec.min_elevation_deg, horizon_mask=mask or None,
                     aperture_m=spec.aperture_m, elevation_m=spec.elevation_m)
    if spec.latitude_deg is None:
        if lookup(spec.name) is None:
            hint = station_hint(spec.name)
            raise InputError(source, f"stations[{index}].name",
                             f"a built-in station{hint} or latitude_deg/longitude_deg", spec.name)
        station = builtin_station(spec.name, **overrides)
    else:
        longitude = spec.longitude_deg - 360.0 if spec.longitude_deg > 180.0 else spec.longitude_deg
        fields = {k: v for k, v in overrides.items() if v is not None}
        station = Station(name=spec.name, latitude_deg=spec.latitude_deg, longitude_deg=longitude, **fields)
    return _with_receiver(station, spec, index, source)


def _with_receiver(station: Station, spec: StationSpec, index: int, source) -> Station:
    """The station with the scenario's receiver and sky over its built-in ones; the station's
    ``aperture_m`` is the receiver's aperture."""
    receiver, sky = station.receiver, station.sky
    if spec.aperture_m is not None and isinstance(spec.receiver, dict) and "aperture_m" in spec.receiver:
        raise InputError(source, f"stations[{index}].aperture_m", "the aperture given once: the station's "
                         "aperture_m or its receiver's aperture_m", Described(
                             f"both ({spec.aperture_m:g} and {toml_found(spec.receiver['aperture_m'])})"))
    if spec.receiver is not None:
        receiver = receiver_params(spec.receiver, str(source), f"stations[{index}].receiver", base=receiver)
    if spec.sky is not None:
        sky = site_params(spec.sky, str(source), f"stations[{index}].sky", base=sky)
    if receiver is not None and spec.aperture_m is not None:
        receiver = dataclasses.replace(receiver, aperture_m=spec.aperture_m)
    return dataclasses.replace(station, receiver=receiver, sky=sky)


def _resolve(name: str, base: Path, source, where: str) -> Path:
    """A file a scenario names: relative to the scenario's folder and inside it, or absolute."""
    path = Path(name)
    if not path.is_absolute():
        path = base / path
        inside = path.resolve()
        if inside != base.resolve() and base.resolve() not in inside.parents:
            raise InputError(source, where, "a file inside the scenario's folder (or an absolute path)", name)
    if not path.is_file():
        raise InputError(source, where, "an existing file (relative to the scenario file)", name)
    return path


def _unique(names: list[str], source, section: str, key: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise InputError(source, f"{section}[{index}].{key}", "unique names", name)
        seen.add(name)


# Element sets read from TLE/OMM are checked for what no real orbit has, and for dates so far
# from their epoch that SGP4's answer means nothing (a warning starts at STALE_TLE_DAYS).
ELEMENT_SET_MIN_PERIGEE_KM = 50.0  # below it the orbit is inside the atmosphere (decayed or a typo)
ELEMENT_SET_MAX_APOGEE_KM = 500_000.0  # past the Moon: not an Earth-orbit element set for SGP4
ELEMENT_SET_MAX_DAYS = 3652.5  # ten years


def _check_element_sets(satellites, model: ScenarioFile, source) -> None:
    """Refuse element sets with a perigee in the ground or the atmosphere, an apogee past the
    Moon, or used over ten years from their epoch; refuse names no terminal should print."""
    start_jd, end_jd = parse_utc(model.scenario.start).ut1, parse_utc(model.scenario.end).ut1
    for sat in satellites:
        spec = model.satellites[sat.spec_index]
        where = f"satellites[{sat.spec_index}]"
        if spec.tle_file or spec.omm_file:  # name the element-set file too
            where = f"{where} ({spec.tle_file or spec.omm_file})"
        try:
            plain_name(sat.name)
        except ValueError as exc:
            head, _, tail = str(exc).rpartition(", found ")
            raise InputError(source, f"{where} name of {sat.name[:20]!r}", head, Described(tail)) from None
        if sat.kind not in ("tle", "tle_file", "omm_file"):
            continue
        radius_km = sat.satrec.radiusearthkm
        perigee_km, apogee_km = sat.satrec.altp * radius_km, sat.satrec.alta * radius_km
        if not (perigee_km >= ELEMENT_SET_MIN_PERIGEE_KM and apogee_km <= ELEMENT_SET_MAX_APOGEE_KM):
            mean_motion = sat.satrec.no_kozai * 1440.0 / (2.0 * math.pi)
            raise InputError(source, f"{where} {sat.name}",
                             f"an orbit with its perigee above {ELEMENT_SET_MIN_PERIGEE_KM:g} km and its apogee "
                             f"below {ELEMENT_SET_MAX_APOGEE_KM:,.0f} km",
                             Described(f"perigee {perigee_km:,.0f} km, apogee {apogee_km:,.0f} km (n = "
                                       f"{mean_motion:.8g} rev/day, e = {sat.satrec.ecco:.7g})"))
        days = max(abs(start_jd - sat.epoch_jd), abs(end_jd - sat.epoch_jd))
        if days > ELEMENT_SET_MAX_DAYS:
            raise InputError(source, "scenario.start", "a span within ten years of every element set's epoch "
                             "(use elements closer to the scenario dates)",
                             Described(f"{days:,.0f} days from the epoch of {sat.name}"))


def _stale_warnings(satellites, start: dt.datetime, end: dt.datetime, source: str) -> list[str]:
    """A line for each element set used more than STALE_TLE_DAYS from its epoch."""
    start_jd = parse_utc(start).ut1  # within a second of UTC: plenty for a 14-day rule
    end_jd = parse_utc(end).ut1
    out = []
    for sat in satellites:
        if sat.kind not in ("tle", "tle_file", "omm_file"):
            continue
        days = max(abs(start_jd - sat.epoch_jd), abs(end_jd - sat.epoch_jd))
        if days > STALE_TLE_DAYS:
            out.append(f"{source}: satellite {sat.name}: element set used {days:.0f} days from its "
                       f"epoch (SGP4 errors grow to kilometres beyond ~{STALE_TLE_DAYS:.0f} days); "
                       "use elements closer to the scenario dates")
    return out


def _deep_frozen(value):
    """A read-only deep copy of parsed TOML: tables as read-only mappings, arrays as tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _deep_frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_deep_frozen(item) for item in value)
    return value
