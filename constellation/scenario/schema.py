"""The scenario file's schema: pydantic models of every TOML table, with their types and ranges.

:class:`ScenarioFile` is the whole file; each ``*Spec`` is one table (``[scenario]``,
``[[satellites]]``, ``[[stations]]``, ``[constraints]``, ``[[links]]``, ``[[fibre]]``,
``[[cities]]``, ``[network]``, ``[coverage]``) and the sizing tables (``[[designs]]``,
``[targets]``, ``[sweep]``; what a design family means is told in
:mod:`constellation.sizing.designs`, which expands them). Models are strict (an unknown key
is an error) and frozen. A validator's ``ValueError`` says what was expected;
:mod:`constellation.scenario.messages` turns a ``ValidationError`` into the one-line
InputError, and :mod:`constellation.scenario.build` checks what spans tables (names,
references, files). ``[link]`` and ``[qkd]`` stay plain tables here: presets and overrides
merge before :mod:`constellation.scenario.terminal_params` checks them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core import orbits

__all__ = ["MAX_NAME_CHARS", "CitySpec", "ConstraintsSpec", "CoverageSpec", "DesignSpec", "FAMILY_KEYS", "FibreSpec", "LinkSpec",
           "NetworkSpec", "RegionTarget", "SatelliteSpec", "ScenarioFile", "ScenarioSection", "StationSpec",
           "StationTarget", "SweepSpec", "TargetsSpec", "grid_choices"]

Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=360.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Angle = Annotated[float, Field(ge=-360.0, le=360.0)]
Azimuth = Annotated[float, Field(ge=0.0, le=360.0)]

# Element sets are dated from Sputnik 1 (1957-10-04) on; SGP4 and the leap-second tables end
# well before 2100, and the OMM reader takes the same years.
EARLIEST = dt.datetime(1957, 10, 4, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)

# A slot (geo_longitude_deg) holds a geosynchronous orbit: prograde, one turn a sidereal day
# with the Earth. A retrograde orbit of that period circles the Earth twice a day: no slot.
GEO_MAX_INCLINATION_DEG = 90.0
_GEO_INCLINATIONS = ("0: geostationary, up to 90: inclined geosynchronous with its node over the slot, "
                     "as BeiDou's IGSO at 55; a retrograde orbit stays over no longitude")

MAX_NAME_CHARS = 100  # names become table cells, figure labels and file names (best-<family>.toml)
# C0/C1 controls and the bidirectional overrides that reorder what a terminal shows.
_HOSTILE = {*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def plain_name(value: str, limit: int = MAX_NAME_CHARS) -> str:
    """``value`` if it can be printed and put in a table as it is: at most ``limit`` characters,
    no control characters (they would reach terminals raw). Raises ``ValueError`` saying which."""
    if len(value) > limit:
        raise ValueError(f"a name of at most {limit} characters, found {len(value):,} characters")
    bad = next((i for i, c in enumerate(value) if ord(c) in _HOSTILE), None)
    if bad is not None:
        raise ValueError(f"a name without control characters, found U+{ord(value[bad]):04X} at character {bad + 1}")
    return value


Name = Annotated[str, Field(min_length=1), AfterValidator(plain_name)]


_DATETIME = "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z"
_DATE_FIRST = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_and_time(value):
    """``value`` if it can be a date and time: a datetime or date (TOML's), or text that begins
    with a date (RFC 3339 / ISO 8601, from Python). pydantic would read a number or numeric text
    as Unix seconds (``start = 2016`` as 1970-01-01T00:33:36Z): refused here. Runs before
    pydantic's own parsing; other types are left to it (its message is the same)."""
    if isinstance(value, bool):
        raise ValueError(_DATETIME)
    if isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
        raise ValueError(f"{_DATETIME} (a date and time, not a number)")
    if isinstance(value, str) and not _DATE_FIRST.match(value):
        raise ValueError(_DATETIME)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dated(value: dt.datetime) -> dt.datetime:
    """A UTC datetime from 1957-10-04 (Sputnik 1) to 2100."""
    if value.tzinfo is None:
        raise ValueError(f"{_DATETIME} (zone missing)")
    value = value.astimezone(dt.timezone.utc)
    if not EARLIEST <= value < LATEST:
        raise ValueError("a UTC datetime from 1957-10-04 (Sputnik 1) to 2099, found "
                         f"{value.isoformat().replace('+00:00', 'Z')}")
    return value


class _Strict(BaseModel):
    # allow_inf_nan=False: every number of every table is finite (nan and inf are refused);
    # strict=True: no coercion ("60" or true is not a number, 1.5 is not a count); an integer
    # is still a float. TOML arrays of pairs become tuples in _pairs below.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    @field_validator("horizon_mask", "region", mode="before", check_fields=False)
    @classmethod
    def _pairs(cls, value):
        """TOML has no tuples: ``[[a, b], ...]`` arrives as lists, checked as (a, b) pairs."""
        if isinstance(value, list):
            return [tuple(item) if isinstance(item, list) else item for item in value]
        return value


class ScenarioSection(_Strict):
    """``[scenario]``: name and time span (UTC, ``end`` after ``start``)."""

    name: Annotated[str, Field(min_length=1), AfterValidator(lambda v: plain_name(v, 200))]
    start: Annotated[dt.datetime, Field(strict=False)]   # a TOML datetime, or RFC 3339 text from Python
    end: Annotated[dt.datetime, Field(strict=False)]
    description: Annotated[str, Field(max_length=10000)] = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _not_seconds(cls, value):
        return _date_and_time(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return _dated(value)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"end after start ({self.start.isoformat()})")
        return self


class SatelliteSpec(_Strict):
    """One ``[[satellites]]`` entry: exactly one source of elements, and optional terminal overrides."""

    name: Name | None = None
    tle: list[str] | None = None
    tle_file: str | None = None
    omm_file: str | None = None
    altitude_km: Annotated[float, Field(gt=100.0, lt=400000.0)] | None = None
    semi_major_axis_km: Annotated[float, Field(gt=6478.0, lt=500000.0)] | None = None
    eccentricity: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    inclination_deg: Annotated[float, Field(ge=0.0, le=180.0)] | None = None
    raan_deg: Angle = 0.0
    argp_deg: Angle = 0.0
    mean_anomaly_deg: Angle = 0.0
    epoch: Annotated[dt.datetime, Field(strict=False)] | None = None
    bstar: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0  # 1/earth radii; real element sets: |B*| < 0.1
    ltan: str | None = None
    walker: Literal["delta", "star"] | None = None
    total: Annotated[int, Field(ge=1, le=100000)] | None = None
    planes: Annotated[int, Field(ge=1, le=100000)] | None = None
    phasing: Annotated[int, Field(ge=0, le=100000)] = 0
    geo_longitude_deg: Annotated[float, Field(ge=-180.0, le=360.0)] | None = None
    unit_cost: Annotated[float, Field(ge=0.0)] | None = None
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None
    # An entangled-photon source on these satellites (over the scenario's [source]; false: none).
    source: dict[str, Any] | bool | None = None

    @field_validator("epoch", mode="before")
    @classmethod
    def _not_seconds(cls, value):
        return _date_and_time(value) if value is not None else None

    @field_validator("epoch")
    @classmethod
    def _utc(cls, value):
        return _dated(value) if value is not None else None

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
        conflicting = sorted(self.model_fields_set & _NOT_WITH.get(kind, set()))
        if conflicting:
            what = {"geo": "geo_longitude_deg", "ltan": "ltan (sun-synchronous: the inclination follows from "
                    "the altitude)", "elements": "classical elements"}.get(kind, kind)
            raise ValueError(f"{what} without {', '.join(conflicting)} (one would be ignored), "
                             f"found {', '.join(conflicting)} too")
        if kind == "geo" and self.inclination_deg is not None and self.inclination_deg > GEO_MAX_INCLINATION_DEG:
            raise ValueError(f"inclination_deg <= {GEO_MAX_INCLINATION_DEG:g} for a geo_longitude_deg satellite "
                             f"({_GEO_INCLINATIONS}), found {self.inclination_deg:g}")
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


# Keys an orbit kind would silently ignore: given together with it, they are refused.
_ELEMENTS = {"altitude_km", "semi_major_axis_km", "eccentricity", "inclination_deg", "raan_deg", "argp_deg",
             "mean_anomaly_deg", "epoch", "bstar"}
_PATTERN = {"total", "planes", "phasing"}
_NOT_WITH = {
    "tle": _ELEMENTS | _PATTERN, "tle_file": _ELEMENTS | _PATTERN, "omm_file": _ELEMENTS | _PATTERN,
    "geo": {"altitude_km", "semi_major_axis_km", "eccentricity", "raan_deg", "argp_deg", "mean_anomaly_deg",
            "bstar"} | _PATTERN,
    "ltan": {"inclination_deg", "semi_major_axis_km", "raan_deg", "argp_deg", "bstar"} | _PATTERN,
    "walker": {"semi_major_axis_km", "eccentricity", "argp_deg", "bstar"},
    "elements": _PATTERN,
}


class StationSpec(_Strict):
    """One ``[[stations]]`` entry: a built-in site by name, or a position; mask, receiver and sky.

    ``receiver`` names a receiver preset or is a table (with an optional ``preset``) checked by
    :mod:`constellation.scenario.terminals`; ``sky`` is a table of site parameters
    (:class:`~constellation.scenario.receiver_params.SiteParams`); ``aperture_m`` replaces the
    receiver's aperture."""

    name: Name
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None
    elevation_m: Annotated[float, Field(ge=-500.0, le=9000.0)] | None = None
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] | None = None
    horizon_mask: list[tuple[Azimuth, Annotated[float, Field(ge=-5.0, lt=90.0)]]] | None = None
    aperture_m: Annotated[float, Field(gt=0.0, le=50.0, strict=True, allow_inf_nan=False)] | None = None
    receiver: str | dict[str, Any] | None = None
    sky: dict[str, Any] | None = None
    telescopes: Annotated[int, Field(ge=1, le=100)] = 1
    clear_sky_probability: Probability | Annotated[list[Probability], Field(min_length=12, max_length=12)] | None = None
    clear_sky_persistence: Probability | None = None

    @model_validator(mode="after")
    def _position(self):
        if (self.latitude_deg is None) != (self.longitude_deg is None):
            raise ValueError("both latitude_deg and longitude_deg (or neither, for a built-in station)")
        return self


class ConstraintsSpec(_Strict):
    """``[constraints]``: conditions of a QKD window."""

    station_sun_max_elevation_deg: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    satellite_sunlit: bool | None = None
    max_range_km: Annotated[float, Field(gt=0.0, le=1e6)] | None = None


class LinkSpec(_Strict):
    """One ``[[links]]`` entry: a station (or city) pair that wants key."""

    a: Name
    b: Name
    required_key_bits_per_day: Annotated[float, Field(ge=0.0, le=1e18)] | None = None
    max_latency_h: Annotated[float, Field(gt=0.0, le=1e6)] | None = None
    # How the link gets key: trusted relay through satellites (default), entanglement sent to
    # both stations at once from a satellite's [source] (no trust in the satellite), or both.
    mode: Literal["relay", "entanglement", "both"] = "relay"

    @model_validator(mode="after")
    def _distinct(self):
        if self.a == self.b:
            raise ValueError(f"two different ends, found {self.a!r} twice")
        return self


class FibreSpec(_Strict):
    """One ``[[fibre]]`` entry: a ground QKD link between a city and a station."""

    a: Name
    b: Name
    key_rate_bps: Annotated[float, Field(gt=0.0, le=1e12)]


class CitySpec(_Strict):
    """One ``[[cities]]`` entry: a built-in site by name, or a position."""

    name: Name
    latitude_deg: Latitude | None = None
    longitude_deg: Longitude | None = None


class NetworkSpec(_Strict):
    """``[network]``: the schedule's resources and limits, key store and weather runs.

    ``satellite_terminals`` replaces every payload's ``terminals`` (``[link]``, default 1) when
    given. ``retarget_s``: a telescope or terminal is busy this long after each contact
    (default 60 s, an assumption: slewing an observatory mount up to ~120 deg at ~2 deg/s and
    re-acquiring the beacon; no published figure for the Micius stations). ``min_contact_s``:
    shorter contacts are not flown (default 0: finite-key statistics already give no key to a
    window too short for its block). ``schedule_time_limit_s``: a safety cap on HiGHS's time for the
    scheduling programme; work limits (iterations, nodes) decide first, so the same scenario
    gives the same schedule on any machine unless this cap binds."""

    satellite_terminals: Annotated[int, Field(ge=1, le=100)] | None = None
    retarget_s: Annotated[float, Field(ge=0.0, le=86400.0)] = 60.0
    min_contact_s: Annotated[float, Field(ge=0.0, le=86400.0)] = 0.0
    schedule_time_limit_s: Annotated[float, Field(ge=0.0, le=3600.0)] = 60.0
    key_store_bits: Annotated[float, Field(gt=0.0, le=1e18)] | None = None
    weather_runs: Annotated[int, Field(ge=1, le=100000)] = 1000
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0


class CoverageSpec(_Strict):
    """``[coverage]``: the grid (global, stations or a region) and how coverage is sampled."""

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


# --- sizing: [[designs]], [targets], [sweep] --------------------------------------------

Count = Annotated[int, Field(ge=1, le=10000)]
Altitude = Annotated[float, Field(gt=150.0, lt=400000.0)]
Inclination = Annotated[float, Field(ge=0.0, le=180.0)]

# The parameters each family takes (beyond name, family, costs, link and qkd).
FAMILY_KEYS = {
    "sso": {"altitude_km", "planes", "sats_per_plane", "ltan"},
    "walker": {"altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing"},
    "meo": {"altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing"},
    "geo": {"longitudes_deg", "count", "inclination_deg"},
    "hybrid": {"parts"},
}
_REQUIRED = {
    "sso": {"altitude_km", "planes", "sats_per_plane", "ltan"},
    "walker": {"altitude_km", "inclination_deg", "planes", "sats_per_plane"},
    "meo": {"altitude_km", "inclination_deg", "planes", "sats_per_plane"},
    "geo": {"longitudes_deg", "count"},
    "hybrid": {"parts"},
}


def grid_choices(value) -> list:
    """The choices of a design grid parameter: a scalar as ``[value]``, a list as itself, None as ``[None]``."""
    if value is None:
        return [None]
    return list(value) if isinstance(value, list) else [value]


class DesignSpec(_Strict):
    """One ``[[designs]]`` family."""

    name: Name
    family: Literal["sso", "walker", "meo", "geo", "hybrid"]
    altitude_km: Altitude | list[Altitude] | None = None
    inclination_deg: Inclination | list[Inclination] | None = None
    planes: Count | list[Count] | None = None
    sats_per_plane: Count | list[Count] | None = None
    phasing: Annotated[int, Field(ge=0)] | list[Annotated[int, Field(ge=0)]] | None = None
    ltan: list[str] | None = None
    longitudes_deg: list[Annotated[float, Field(ge=-180.0, le=360.0)]] | None = None
    count: Count | list[Count] | None = None
    parts: list[str] | None = None
    unit_cost: Annotated[float, Field(ge=0.0)] = 1.0
    plane_cost: Annotated[float, Field(ge=0.0)] = 0.0
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None
    # An entangled-photon payload on the family's satellites (a [source] table, e.g.
    # {preset = "micius-entanglement"}): its designs can serve links with mode entanglement.
    source: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _family_keys(self):
        given = {k for k in FAMILY_KEYS["sso"] | FAMILY_KEYS["walker"] | FAMILY_KEYS["geo"] | {"parts"}
                 if getattr(self, k) is not None}
        allowed, required = FAMILY_KEYS[self.family], _REQUIRED[self.family]
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(f"only {', '.join(sorted(allowed))} for a {self.family} family "
                             f"(found {', '.join(extra)})")
        missing = sorted(required - given)
        if missing:
            raise ValueError(f"{', '.join(missing)} for a {self.family} family")
        if self.family == "sso":
            for text in self.ltan:
                orbits.parse_local_time_hours(text)
            if len(self.ltan) < max(grid_choices(self.planes)):
                raise ValueError(f"one ltan per plane: {max(grid_choices(self.planes))} planes need "
                                 f"{max(grid_choices(self.planes))} ltan values, found {len(self.ltan)}")
        if self.family == "meo" and not all(2000.0 <= h <= 30000.0 for h in grid_choices(self.altitude_km)):
            raise ValueError("altitude_km between 2,000 and 30,000 km for a meo family")
        retrograde = [i for i in grid_choices(self.inclination_deg) if i is not None and i > GEO_MAX_INCLINATION_DEG]
        if self.family == "geo" and retrograde:
            raise ValueError(f"inclination_deg <= {GEO_MAX_INCLINATION_DEG:g} for a geo family ({_GEO_INCLINATIONS}), "
                             f"found {', '.join(f'{i:g}' for i in retrograde)}")
        if self.family == "geo" and len(self.longitudes_deg) < max(grid_choices(self.count)):
            raise ValueError(f"count <= the number of longitudes_deg ({len(self.longitudes_deg)})")
        if self.family == "hybrid" and any(v is not None for v in (self.link, self.qkd, self.source)):
            raise ValueError("link, qkd and source on the parts of a hybrid, not on the hybrid")
        return self


class StationTarget(_Strict):
    """One ``[[targets.stations]]`` entry: coverage and revisit targets of one station."""

    name: Name
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None


class RegionTarget(_Strict):
    """``[[targets.regions]]``: night coverage and revisit over a lon/lat polygon.

    Evaluated on the equal-area grid inside the polygon (``grid_deg``), sampled every
    ``step_s``, with a cone of ``min_elevation_deg`` (geometric coverage, as ``constellation
    coverage``; stations use their QKD windows instead). Night: the scenario's
    ``station_sun_max_elevation_deg`` (else -12 deg).
    """

    name: Name
    region: list[tuple[Annotated[float, Field(ge=-180.0, le=360.0)], Annotated[float, Field(ge=-90.0, le=90.0)]]] \
        = Field(min_length=3)
    grid_deg: Annotated[float, Field(ge=0.25, le=10.0)] = 2.0
    step_s: Annotated[float, Field(ge=10.0, le=3600.0)] = 120.0
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] = 20.0
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None


class TargetsSpec(_Strict):
    """``[targets]``: what a feasible design must reach.

    Key and latency targets apply to every ``[[links]]`` entry (a link's own
    ``required_key_bits_per_day`` / ``max_latency_h`` take precedence); coverage and
    revisit targets to every station (``[[targets.stations]]`` entries take precedence).

    Two latencies: ``max_latency_h`` bounds the age of the key a delivery uses (as in
    ``network.csv``: delivery time minus the oldest key spent, which grows with the span
    when one end gets more key than the other), ``max_delivery_gap_h`` the longest a link
    waits for fresh key (gap between deliveries, span edges included).
    """

    min_key_bits_per_day: Annotated[float, Field(ge=0.0)] | None = None
    min_key_bits_per_day_p10: Annotated[float, Field(ge=0.0)] | None = None
    max_latency_h: Annotated[float, Field(gt=0.0)] | None = None
    max_delivery_gap_h: Annotated[float, Field(gt=0.0)] | None = None
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None
    stations: list[StationTarget] = []
    regions: list[RegionTarget] = []


class SweepSpec(_Strict):
    """``[sweep]``: how the design space is searched."""

    prune: bool = True
    prune_margin: Annotated[float, Field(ge=0.0)] = 0.5
    # Key integrated over 5 s slots: per-pass key within 0.35 % of 1 s slots, totals within
    # 2e-5 (64-satellite Walker, 7 stations, 7 days), 6x faster.
    key_slot_s: Annotated[float, Field(ge=0.1, le=60.0)] = 5.0
    batch: Annotated[int, Field(ge=1, le=10000)] | None = None


class ScenarioFile(_Strict):
    """A whole scenario file, every table checked for its keys, types and ranges."""

    scenario: ScenarioSection
    satellites: list[SatelliteSpec] = []
    stations: list[StationSpec] = []  # optional: coverage of the globe or a region needs none
    constraints: ConstraintsSpec = ConstraintsSpec()
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None
    links: list[LinkSpec] = []
    source: dict[str, Any] | None = None
    fibre: list[FibreSpec] = []
    cities: list[CitySpec] = []
    network: NetworkSpec = NetworkSpec()
    coverage: CoverageSpec | None = None
    designs: list[DesignSpec] = []
    targets: TargetsSpec | None = None
    sweep: SweepSpec = SweepSpec()
