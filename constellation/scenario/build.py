"""Scenario files: TOML read with ``tomllib``, validated once into typed objects.

All input checking happens here. Every problem becomes one :class:`InputError` line that
names the file, the field, what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sgp4.api import Satrec

from . import omm, tle
from ..core import orbits
from ..sizing.designs import DesignSpec, SweepSpec, TargetsSpec
from ..errors import InputError
from .model import Constraints, Fibre, Link
from .stations import Station, builtin_station, catalogue_names, lookup
from ..core.timebase import TimeBase, parse_utc

STALE_TLE_DAYS = 14.0

Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=360.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioSection(_Strict):
    name: str = Field(min_length=1)
    start: dt.datetime
    end: dt.datetime
    description: str = ""

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (zone missing)")
        return value.astimezone(dt.timezone.utc)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"end after start ({self.start.isoformat()})")
        return self


class SatelliteSpec(_Strict):
    name: str | None = None
    tle: list[str] | None = None
    tle_file: str | None = None
    omm_file: str | None = None
    altitude_km: Annotated[float, Field(gt=100.0, lt=400000.0)] | None = None
    semi_major_axis_km: Annotated[float, Field(gt=6478.0, lt=500000.0)] | None = None
    eccentricity: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    inclination_deg: Annotated[float, Field(ge=0.0, le=180.0)] | None = None
    raan_deg: float = 0.0
    argp_deg: float = 0.0
    mean_anomaly_deg: float = 0.0
    epoch: dt.datetime | None = None
    bstar: float = 0.0
    ltan: str | None = None
    walker: Literal["delta", "star"] | None = None
    total: Annotated[int, Field(ge=1, le=100000)] | None = None
    planes: Annotated[int, Field(ge=1)] | None = None
    phasing: Annotated[int, Field(ge=0)] = 0
    geo_longitude_deg: Annotated[float, Field(ge=-180.0, le=360.0)] | None = None
    unit_cost: Annotated[float, Field(ge=0.0)] | None = None
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None

    @field_validator("epoch")
    @classmethod
    def _utc(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (zone missing)")
        return value.astimezone(dt.timezone.utc) if value is not None else None

    @property
    def kind(self) -> str:
        kinds = [k for k, present in (
            ("tle", self.tle is not None), ("tle_file", self.tle_file is not None),
            ("omm_file", self.omm_file is not None), ("walker", self.walker is not None),
            ("ltan", self.ltan is not None), ("geo", self.geo_longitude_deg is not None)) if present]
        if not kinds and (self.altitude_km is not None or self.semi_major_axis_km is not None):
            kinds = ["elements"]
        if len(kinds) != 1:
            raise ValueError(
                "exactly one of tle, tle_file, omm_file, walker, ltan, geo_longitude_deg or classical elements "
                f"(altitude_km/semi_major_axis_km + inclination_deg); found {kinds or 'none'}")
        return kinds[0]

    @model_validator(mode="after")
    def _complete(self):
        kind = self.kind
        if kind in ("elements", "walker") and self.inclination_deg is None:
            raise ValueError(f"inclination_deg for a {kind} satellite")
        if kind in ("elements", "walker", "ltan") and (self.altitude_km is None) == (self.semi_major_axis_km is None) and kind != "walker":
            raise ValueError("exactly one of altitude_km or semi_major_axis_km")
        if kind in ("walker", "ltan") and self.altitude_km is None:
            raise ValueError(f"altitude_km for a {kind} satellite")
        if kind == "walker":
            if self.total is None or self.planes is None:
                raise ValueError("total and planes for a walker pattern")
            if self.total % self.planes:
                raise ValueError(f"total divisible by planes, found total={self.total}, planes={self.planes}")
            if self.phasing >= self.planes:
                raise ValueError(f"phasing in 0..{self.planes - 1}, found {self.phasing}")
        if kind == "tle" and len(self.tle) not in (2, 3):
            raise ValueError(f"tle = [line1, line2] (or [name, line1, line2]), found {len(self.tle)} lines")
        if kind == "ltan":
            orbits.parse_local_time_hours(self.ltan)
        return self


class StationSpec(_Strict):
    name: str = Field(min_length=1)
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None
    elevation_m: Annotated[float, Field(ge=-500.0, le=9000.0)] | None = None
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] | None = None
    horizon_mask: list[tuple[float, Annotated[float, Field(ge=-5.0, lt=90.0)]]] | None = None
    aperture_m: Annotated[float, Field(gt=0.0, le=50.0)] | None = None
    telescopes: Annotated[int, Field(ge=0, le=100)] = 1
    clear_sky_probability: Probability | Annotated[list[Probability], Field(min_length=12, max_length=12)] | None = None

    @model_validator(mode="after")
    def _position(self):
        if (self.latitude_deg is None) != (self.longitude_deg is None):
            raise ValueError("both latitude_deg and longitude_deg (or neither, for a built-in station)")
        return self


class ConstraintsSpec(_Strict):
    station_sun_max_elevation_deg: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    satellite_sunlit: bool | None = None
    max_range_km: Annotated[float, Field(gt=0.0)] | None = None


class LinkSpec(_Strict):
    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    required_key_bits_per_day: Annotated[float, Field(ge=0.0)] | None = None
    max_latency_h: Annotated[float, Field(gt=0.0)] | None = None

    @model_validator(mode="after")
    def _distinct(self):
        if self.a == self.b:
            raise ValueError(f"two different ends, found {self.a!r} twice")
        return self


class FibreSpec(_Strict):
    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    key_rate_bps: Annotated[float, Field(gt=0.0)]


class CitySpec(_Strict):
    name: str = Field(min_length=1)
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None


class NetworkSpec(_Strict):
    satellite_terminals: Annotated[int, Field(ge=1)] | None = None
    key_store_bits: Annotated[float, Field(gt=0.0)] | None = None
    weather_runs: Annotated[int, Field(ge=1, le=100000)] = 1000
    seed: int = 0


class CoverageSpec(_Strict):
    grid: Literal["global", "stations", "region"] = "global"
    region: list[tuple[Longitude, Latitude]] | None = None
    grid_deg: Annotated[float, Field(ge=0.1, le=30.0)] = 2.0
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] = 20.0
    step_s: Annotated[float, Field(ge=1.0, le=3600.0)] = 60.0
    k: Annotated[int, Field(ge=1, le=100)] = 1
    night_only: bool = False

    @model_validator(mode="after")
    def _region(self):
        if (self.grid == "region") != (self.region is not None):
            raise ValueError('grid = "region" together with region = [[lon_deg, lat_deg], ...] (3 points at least)')
        if self.region is not None and len(self.region) < 3:
            raise ValueError(f"a region of 3 points at least, found {len(self.region)}")
        return self


class ScenarioFile(_Strict):
    scenario: ScenarioSection
    satellites: list[SatelliteSpec] = []
    stations: list[StationSpec] = Field(min_length=1)
    constraints: ConstraintsSpec = ConstraintsSpec()
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None
    links: list[LinkSpec] = []
    fibre: list[FibreSpec] = []
    cities: list[CitySpec] = []
    network: NetworkSpec = NetworkSpec()
    coverage: CoverageSpec | None = None
    designs: list[DesignSpec] = []
    targets: TargetsSpec | None = None
    sweep: SweepSpec = SweepSpec()


@dataclass
class Satellite:
    """One satellite of a scenario, ready to propagate."""

    name: str
    satrec: Satrec
    kind: str
    link: dict = field(default_factory=dict)
    qkd: dict = field(default_factory=dict)
    spec_index: int = 0
    unit_cost: float | None = None

    @property
    def epoch_jd(self) -> float:
        return self.satrec.jdsatepoch + self.satrec.jdsatepochF


@dataclass
class Scenario:
    """A validated scenario: the time span, satellites, stations and constraints."""

    name: str
    start: dt.datetime
    end: dt.datetime
    satellites: list[Satellite]
    stations: list[Station]
    constraints: Constraints
    source: str = "<memory>"
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)
    link: dict | None = None
    qkd: dict | None = None
    links: list = field(default_factory=list)
    fibre: list = field(default_factory=list)
    cities: list[Station] = field(default_factory=list)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    coverage: CoverageSpec | None = None
    telescopes: dict[str, int] = field(default_factory=dict)
    clear_sky_probability: dict = field(default_factory=dict)
    designs: list[DesignSpec] = field(default_factory=list)
    targets: TargetsSpec | None = None
    sweep: SweepSpec = field(default_factory=SweepSpec)
    raw: dict = field(default_factory=dict, repr=False)
    _terminals: dict = field(default_factory=dict, repr=False)

    @property
    def has_key_model(self) -> bool:
        """True when the scenario describes the optical link and the protocol."""
        return self.link is not None and self.qkd is not None

    def terminal(self, satellite: int, station: int):
        """``(LinkParams, QkdParams)`` of a satellite-station pair (validated, cached)."""
        key = (self.satellites[satellite].spec_index, station)
        if key not in self._terminals:
            self._terminals[key] = _terminal(self, satellite, station)
        return self._terminals[key]

    @property
    def cost(self) -> float | None:
        """Sum of the satellites' ``unit_cost`` (None when no satellite states one)."""
        costs = [s.unit_cost for s in self.satellites if s.unit_cost is not None]
        return float(sum(costs)) if costs else None

    @property
    def timebase(self) -> TimeBase:
        return TimeBase(parse_utc(self.start))

    @property
    def duration_s(self) -> float:
        return self.timebase.t_s(parse_utc(self.end)).item()


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises InputError on any problem."""
    from ..errors import decode_utf8, toml_error

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, "file", "a readable scenario file", exc.strerror or str(exc)) from None
    try:
        data = tomllib.loads(decode_utf8(path, raw))
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(path, exc) from None
    scenario = scenario_from_dict(data, source=path)
    scenario.sha256 = hashlib.sha256(raw).hexdigest()
    return scenario


def scenario_from_dict(data: dict[str, Any], source: str | Path = "<memory>") -> Scenario:
    """Validate an already-parsed scenario mapping (paths resolve against ``source``)."""
    try:
        model = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise _input_error(source, exc, data) from None
    if not model.satellites and not model.designs:
        raise InputError(source, "satellites", "at least one [[satellites]] entry (or [[designs]] to size)", "none")
    _check_designs(model, source)
    base = Path(source).parent if str(source) != "<memory>" else Path.cwd()
    satellites: list[Satellite] = []
    for index, spec in enumerate(model.satellites):
        for sat in _build_satellites(spec, index, model.scenario.start, base, source):
            sat.link, sat.qkd, sat.spec_index = dict(spec.link or {}), dict(spec.qkd or {}), index
            sat.unit_cost = spec.unit_cost
            satellites.append(sat)
    _unique([s.name for s in satellites], source, "satellites", "name")
    stations = [_build_station(spec, index, source) for index, spec in enumerate(model.stations)]
    _unique([s.name for s in stations], source, "stations", "name")
    c = model.constraints
    scenario = Scenario(
        name=model.scenario.name, start=model.scenario.start, end=model.scenario.end,
        satellites=satellites, stations=stations,
        constraints=Constraints(c.station_sun_max_elevation_deg, c.satellite_sunlit, c.max_range_km),
        source=str(source),
    )
    scenario.link, scenario.qkd, scenario.coverage = model.link, model.qkd, model.coverage
    scenario.designs, scenario.targets, scenario.sweep, scenario.raw = model.designs, model.targets, model.sweep, data
    _attach_network(scenario, model, source)
    if scenario.has_key_model:
        for sat_index in {s.spec_index: k for k, s in enumerate(satellites)}.values():
            for station_index in range(len(stations)):
                scenario.terminal(sat_index, station_index)
    scenario.warnings.extend(_stale_warnings(scenario))
    return scenario


def _check_designs(model: ScenarioFile, source) -> None:
    """Family names unique; hybrids made of named, non-hybrid families; targets name known stations."""
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
    for index, target in enumerate(model.targets.regions if model.targets else []):
        from shapely.geometry import Polygon

        if not Polygon(target.region).is_valid:
            raise InputError(source, f"targets.regions[{index}].region", "a simple polygon (edges must not cross)",
                             f"{len(target.region)} points with crossing edges")
    names = [s.name for s in model.stations]
    for index, target in enumerate(model.targets.stations if model.targets else []):
        if target.name not in names:
            close = difflib.get_close_matches(target.name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(source, f"targets.stations[{index}].name", f"a station of this scenario{hint}", target.name)


def _attach_network(scenario: Scenario, model: ScenarioFile, source) -> None:
    """Links, fibre and cities, with every name checked against stations and cities."""
    scenario.telescopes = {st.name: spec.telescopes for st, spec in zip(scenario.stations, model.stations)}
    scenario.clear_sky_probability = {st.name: spec.clear_sky_probability
                                      for st, spec in zip(scenario.stations, model.stations)
                                      if spec.clear_sky_probability is not None}
    scenario.network = model.network
    station_names = {s.name for s in scenario.stations}
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
    known = station_names | set(cities)
    for index, spec in enumerate(model.links):
        for end in ("a", "b"):
            name = getattr(spec, end)
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InputError(source, f"links[{index}].{end}",
                                 f"a station, or a city joined to one by [[fibre]]{hint}", name)
    if model.links and not (model.link and model.qkd):
        raise InputError(source, "links", "[link] and [qkd] tables too (relayed key needs key per pass)", "none")
    scenario.links = [Link(s.a, s.b, s.required_key_bits_per_day, s.max_latency_h) for s in model.links]
    scenario.fibre = [Fibre(s.a, s.b, s.key_rate_bps) for s in model.fibre]
    scenario.cities = list(cities.values())


def _terminal(scenario: Scenario, satellite: int, station: int):
    from .terminals import link_params, qkd_params

    sat = scenario.satellites[satellite]
    sta = scenario.stations[station]
    link_table = {**(scenario.link or {}), **sat.link}
    where = f"satellites[{sat.spec_index}].link" if sat.link else "link"
    link = link_params(link_table, scenario.source, where, rx_aperture_m=sta.aperture_m,
                       rx_field=f"stations[{station}].aperture_m")
    where = f"satellites[{sat.spec_index}].qkd" if sat.qkd else "qkd"
    return link, qkd_params({**(scenario.qkd or {}), **sat.qkd}, scenario.source, where)


def _build_satellites(spec: SatelliteSpec, index: int, start: dt.datetime, base: Path, source) -> list[Satellite]:
    where = f"satellites[{index}]"
    kind = spec.kind
    if kind == "tle":
        lines = list(spec.tle)
        name = spec.name or (lines.pop(0).strip() if len(lines) == 3 else None)
        sets = [tle.parse_tle_lines(lines[0], lines[1], name=name, source=f"{source}: {where}.tle")]
    elif kind == "tle_file":
        sets = tle.read_tle_file(_resolve(spec.tle_file, base, source, f"{where}.tle_file"))
    elif kind == "omm_file":
        sets = omm.read_omm_file(_resolve(spec.omm_file, base, source, f"{where}.omm_file"))
    else:
        return _designed(spec, kind, index, start, source)
    if spec.name and len(sets) == 1:
        return [Satellite(spec.name, sets[0].satrec, kind)]
    return [Satellite(s.name, s.satrec, kind) for s in sets]


def _designed(spec: SatelliteSpec, kind: str, index: int, start: dt.datetime, source) -> list[Satellite]:
    epoch = spec.epoch or start
    satnum = 90000 + index * 100
    prefix = spec.name or f"sat{index + 1}"
    try:
        if kind == "walker":
            items = orbits.walker(spec.walker, spec.total, spec.planes, spec.phasing, spec.altitude_km,
                                  spec.inclination_deg, epoch, raan0_deg=spec.raan_deg)
            width = len(str(spec.total // spec.planes))
            return [Satellite(f"{prefix}-P{p + 1}-{s + 1:0{width}d}",
                              orbits.satrec_from_elements(el, satnum=(satnum + k) % 100000), kind)
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
    if elements.semi_major_axis_km * (1 - elements.eccentricity) < 6478.0:
        raise InputError(source, f"satellites[{index}]", "a perigee above 100 km altitude",
                         f"{elements.semi_major_axis_km * (1 - elements.eccentricity) - 6378.135:.1f} km")
    return [Satellite(prefix, orbits.satrec_from_elements(elements, satnum=satnum), kind)]


def _build_station(spec: StationSpec, index: int, source) -> Station:
    mask = tuple((float(az), float(el)) for az, el in spec.horizon_mask) if spec.horizon_mask else ()
    overrides = dict(min_elevation_deg=spec.min_elevation_deg, horizon_mask=mask or None,
                     aperture_m=spec.aperture_m, elevation_m=spec.elevation_m)
    if spec.latitude_deg is None:
        if lookup(spec.name) is None:
            close = difflib.get_close_matches(spec.name, catalogue_names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(source, f"stations[{index}].name",
                             f"a built-in station{hint} or latitude_deg/longitude_deg", spec.name)
        return builtin_station(spec.name, **overrides)
    longitude = spec.longitude_deg - 360.0 if spec.longitude_deg > 180.0 else spec.longitude_deg
    fields = {k: v for k, v in overrides.items() if v is not None}
    return Station(name=spec.name, latitude_deg=spec.latitude_deg, longitude_deg=longitude, **fields)


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


def _stale_warnings(scenario: Scenario) -> list[str]:
    start_jd = parse_utc(scenario.start).ut1  # within a second of UTC: plenty for a 14-day rule
    end_jd = parse_utc(scenario.end).ut1
    out = []
    for sat in scenario.satellites:
        if sat.kind not in ("tle", "tle_file", "omm_file"):
            continue
        days = max(abs(start_jd - sat.epoch_jd), abs(end_jd - sat.epoch_jd))
        if days > STALE_TLE_DAYS:
            out.append(f"{scenario.source}: satellite {sat.name}: element set used {days:.0f} days from its "
                       f"epoch (SGP4 errors grow to kilometres beyond ~{STALE_TLE_DAYS:.0f} days); "
                       "use elements closer to the scenario dates")
    return out


_MESSAGES = {
    "missing": "this field (it is required)",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "datetime_type": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "datetime_parsing": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "datetime_from_date_parsing": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "too_short": "at least one entry",
}


def _input_error(source, exc: ValidationError, data: dict) -> InputError:
    errors = exc.errors(include_url=False)
    # An unknown key often explains a "missing" one (a misspelt table): report it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    if err["type"].endswith(("_type", "_parsing")):
        # A union (a number or a list of 12): the branch that matches the input's shape explains best.
        same = [e for e in errors if _format_loc(e["loc"]) == _format_loc(err["loc"])
                and not e["type"].endswith(("_type", "_parsing"))]
        err = same[0] if same else err
    loc = [p for p in err["loc"] if p not in ("function-after[_ordered(), ScenarioSection]",)]
    where = _format_loc(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        allowed = sorted(parent_model.model_fields) if parent_model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return InputError(source, where, f"a known key ({hint}known: {', '.join(allowed)})", f"unknown key {loc[-1]!r}")
    if kind == "value_error":
        message = str(err.get("ctx", {}).get("error", err["msg"]))
        first = message.split(" ", 1)[0]
        if isinstance(err.get("input"), dict) and first in err["input"]:  # "end after start": name the key
            where = f"{where}.{first}" if where else first
        head, sep, tail = message.rpartition(" found ")
        if sep and head.endswith((",", ";")):  # the validator said what it found: keep one ", found"
            from ..errors import Described

            return InputError(source, where or "scenario", head[:-1], Described(tail))
        return InputError(source, where or "scenario", message, _found(err, message))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(err.get("ctx", {}).values()), "?")
        return InputError(source, where, f"a value {op} {bound}", _found(err))
    if kind == "literal_error":
        return InputError(source, where, err["msg"].replace("Input should be", "one of"), _found(err))
    if kind == "missing":
        from ..errors import Described

        return InputError(source, where, "this field (it is required)", Described("nothing"))
    if kind in ("too_short", "too_long") and "ctx" in err:
        ctx = err["ctx"]
        size = f"at least {ctx['min_length']}" if kind == "too_short" else f"at most {ctx['max_length']}"
        what = "entry" if ctx.get("min_length") == 1 and kind == "too_short" else "entries"
        return InputError(source, where, f"{size} {what}", _found(err))
    expected = _MESSAGES.get(kind, err["msg"])
    return InputError(source, where, expected, _found(err))


def _found(err, message: str = ""):
    """What the user wrote, as TOML would show it; for a table, the keys ``message`` talks about."""
    import re

    value = err.get("input")
    if isinstance(value, dict):
        words = {"ltan": "local time"}  # keys a message names in other words
        shown = [f"{key} = {_found({'input': item})}" for key, item in value.items()
                 if not isinstance(item, (dict, list)) and (re.search(rf"\b{re.escape(str(key))}\b", message)
                                                             or words.get(key, "\0") in message)]
        return ", ".join(shown) or None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


def _format_loc(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union", "literal[", "nullable[", "constrained-", "list[",
                                   "tuple[", "union[", "lax-or-strict[", "json-or-python[")) \
                or part in ("float", "int", "str", "list[str]", "bool", "datetime", "date"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc):
    model: Any = ScenarioFile
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return None
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            for c in candidates:
                inner = getattr(c, "__args__", ())
                model = next((i for i in inner if isinstance(i, type) and issubclass(i, BaseModel)), None)
                if model:
                    break
        if model is None:
            return None
    return model
