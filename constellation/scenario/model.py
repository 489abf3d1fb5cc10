"""The validated scenario and the value types later stages consume: :class:`Scenario` and
its :class:`Satellite` records, the conditions of a QKD window, the station pairs that want
key, and the fibre tails of cities.

They live with the scenario so that every stage imports them from here, never the other
way round. All are frozen: :mod:`constellation.scenario.build` makes a Scenario in one go
(use ``dataclasses.replace`` for a variant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sgp4.api import Satrec

from ..core.orbits import GeoSlot
from ..core.timebase import TimeBase, parse_utc
from .schema import CoverageSpec, DesignSpec, NetworkSpec, SweepSpec, TargetsSpec
from .source_params import SourceParams
from .stations import Station
from .terminal_params import Terminal


def _empty() -> Mapping:
    """A read-only empty mapping (the default of the mapping fields)."""
    return MappingProxyType({})


# The end of nautical twilight (Sun 12 deg below the horizon): the night threshold of the
# shipped scenarios and the example in the design notes. Night statistics use it when a
# scenario sets no station_sun_max_elevation_deg.
DEFAULT_NIGHT_SUN_ELEVATION_DEG = -12.0


@dataclass(frozen=True)
class Constraints:
    """Conditions a QKD window must meet (None = not required)."""

    station_sun_max_elevation_deg: float | None = None
    satellite_sunlit: bool | None = None
    max_range_km: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.station_sun_max_elevation_deg, self.satellite_sunlit, self.max_range_km))

    @property
    def night_sun_max_elevation_deg(self) -> float:
        """The Sun elevation below which a station counts as dark in night statistics:
        ``station_sun_max_elevation_deg``, else ``DEFAULT_NIGHT_SUN_ELEVATION_DEG``."""
        threshold = self.station_sun_max_elevation_deg
        return DEFAULT_NIGHT_SUN_ELEVATION_DEG if threshold is None else threshold


@dataclass(frozen=True)
class Link:
    """A station pair that wants key (names of stations or fibre-connected cities)."""

    a: str
    b: str
    required_key_bits_per_day: float | None = None
    max_latency_h: float | None = None
    mode: str = "relay"          # "relay", "entanglement" or "both"

    @property
    def relayed(self) -> bool:
        return self.mode in ("relay", "both")

    @property
    def entangled(self) -> bool:
        return self.mode in ("entanglement", "both")


@dataclass(frozen=True)
class Fibre:
    """A ground fibre QKD link between a city and a satellite station."""

    a: str
    b: str
    key_rate_bps: float


@dataclass(frozen=True)
class Satellite:
    """One satellite of a scenario, ready to propagate.

    ``kind`` is how its elements were given (``tle``, ``tle_file``, ``omm_file``,
    ``walker``, ``ltan``, ``geo`` or ``elements``); ``spec_index`` the ``[[satellites]]``
    entry it comes from (a Walker entry gives many satellites); ``link`` and ``qkd`` that
    entry's overrides of the scenario's tables (read-only, empty when none).
    """

    name: str
    satrec: Satrec
    kind: str
    link: Mapping[str, Any] = field(default_factory=_empty)
    qkd: Mapping[str, Any] = field(default_factory=_empty)
    spec_index: int = 0
    unit_cost: float | None = None
    geo_slot: GeoSlot | None = None  # a geostationary entry: kept in its slot (positions from it, not SGP4)

    @property
    def epoch_jd(self) -> float:
        """Epoch of the element set as a Julian date (UTC)."""
        return self.satrec.jdsatepoch + self.satrec.jdsatepochF


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the time span, satellites, stations and constraints, and the
    tables of the later stages. Immutable; built by :func:`constellation.scenario.build.load_scenario`
    or :func:`~constellation.scenario.build.scenario_from_dict`.

    ``source`` is the scenario file (``"<memory>"`` for a mapping) and ``sha256`` the hash of
    its bytes (empty for a mapping); ``warnings`` are lines to show the user (stale element
    sets). ``link`` and ``qkd`` are the scenario's ``[link]``/``[qkd]`` tables as written
    (None when absent); ``terminals`` maps ``(spec_index, station_index)`` to the checked
    :class:`~constellation.scenario.terminal_params.Terminal` of that pair (payload, receiver
    and site; empty without a key model): see :meth:`terminal`.
    ``pair_source`` is the ``[source]`` table (an entangled-photon pair source) when given;
    ``satellite_sources`` each satellite's (its entry's ``source`` over ``[source]``).
    ``telescopes``, ``clear_sky_probability`` and ``clear_sky_persistence`` are keyed by
    station name; a built-in station (named, no position) without a stated value takes the
    one of its climatology (:mod:`constellation.scenario.climate`), whose sources
    ``climate_sources`` gives per station. ``raw`` is the
    parsed file, read-only, from which sizing writes design scenarios.
    """

    name: str
    start: dt.datetime
    end: dt.datetime
    satellites: tuple[Satellite, ...]
    stations: tuple[Station, ...]
    constraints: Constraints
    source: str = "<memory>"
    sha256: str = ""
    warnings: tuple[str, ...] = ()
    link: Mapping[str, Any] | None = None
    qkd: Mapping[str, Any] | None = None
    links: tuple[Link, ...] = ()
    fibre: tuple[Fibre, ...] = ()
    cities: tuple[Station, ...] = ()
    network: NetworkSpec = field(default_factory=NetworkSpec)
    coverage: CoverageSpec | None = None
    telescopes: Mapping[str, int] = field(default_factory=_empty)
    clear_sky_probability: Mapping[str, Any] = field(default_factory=_empty)
    clear_sky_persistence: Mapping[str, float] = field(default_factory=_empty)
    climate_sources: Mapping[str, str] = field(default_factory=_empty)
    designs: tuple[DesignSpec, ...] = ()
    targets: TargetsSpec | None = None
    sweep: SweepSpec = field(default_factory=SweepSpec)
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)
    terminals: Mapping[tuple[int, int], Terminal] = field(default_factory=_empty, repr=False)
    pair_source: SourceParams | None = None
    satellite_sources: tuple[SourceParams | None, ...] = ()

    def source_of(self, satellite: int) -> SourceParams | None:
        """The entangled-photon source satellite ``satellite`` carries (None: none)."""
        if self.satellite_sources:
            return self.satellite_sources[satellite]
        return self.pair_source

    @property
    def has_sources(self) -> bool:
        """Some satellite carries an entangled-photon source."""
        return any(self.source_of(k) is not None for k in range(len(self.satellites)))

    @property
    def has_key_model(self) -> bool:
        """True when the scenario describes the optical link and the protocol."""
        return self.link is not None and self.qkd is not None

    def terminal(self, satellite: int, station: int) -> Terminal:
        """The Terminal (payload, receiver, site) of a satellite-station pair, by their indices.

        Checked when the scenario was built; raises ValueError when the scenario has no
        ``[link]`` and ``[qkd]`` tables."""
        if not self.has_key_model:
            raise ValueError(f"{self.source}: no [link] and [qkd] tables, so no terminal parameters")
        return self.terminals[self.satellites[satellite].spec_index, station]

    @property
    def dual_pairs(self) -> list[tuple[int, int]]:
        """Station index pairs of the ``[[links]]`` whose two ends are satellite stations
        (each pair once, in link order): where dual-downlink windows are looked for."""
        index = {s.name: k for k, s in enumerate(self.stations)}
        pairs: list[tuple[int, int]] = []
        for link in self.links:
            pair = (index.get(link.a), index.get(link.b))
            if None not in pair and pair not in pairs and pair[::-1] not in pairs:
                pairs.append(pair)
        return pairs

    @property
    def cost(self) -> float | None:
        """Sum of the satellites' ``unit_cost`` (None when no satellite states one)."""
        costs = [s.unit_cost for s in self.satellites if s.unit_cost is not None]
        return float(sum(costs)) if costs else None

    @property
    def timebase(self) -> TimeBase:
        """The scenario's time base, starting at ``start``."""
        return TimeBase(parse_utc(self.start))

    @property
    def duration_s(self) -> float:
        """Length of the span, ``end - start``, in seconds."""
        return self.timebase.t_s(parse_utc(self.end)).item()
