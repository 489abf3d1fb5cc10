"""The public Python API of constellation.

>>> from constellation.api import load_scenario, find_scenario_passes
>>> scenario = load_scenario("scenarios/micius-2016-xinglong.toml")   # doctest: +SKIP
>>> passes = find_scenario_passes(scenario)                              # doctest: +SKIP

Shapes and units: positions are Earth-fixed (ITRS via GMST-1982 on UT1) in km with shape
``(n_satellite, n_time, 3)``; times are ``t_s``, seconds since the scenario start on the
TAI scale; angles in degrees at this level.
"""

from __future__ import annotations

import numpy as np

from .core.geometry import ecef_to_geodetic, look_angles
from .passes.finder import Constraints, PassTable, find_passes
from .core.propagation import Propagator, States
from .scenario.build import Satellite, Scenario, load_scenario, scenario_from_dict
from .scenario.stations import Station, builtin_station, catalogue_names
from .core.timebase import TimeBase, parse_utc, timescale

__all__ = [
    "Constraints", "PassTable", "Propagator", "Satellite", "Scenario", "States", "Station",
    "TimeBase", "builtin_station", "catalogue_names", "find_passes", "find_scenario_passes",
    "load_scenario", "look_angles_deg", "parse_utc", "propagate", "scenario_from_dict",
    "subsatellite_points", "timescale",
]


def propagator_for(scenario: Scenario) -> Propagator:
    """A Propagator over the scenario's satellites on its time base."""
    return Propagator([s.satrec for s in scenario.satellites], scenario.timebase)


def propagate(scenario: Scenario, t_s) -> States:
    """Earth-fixed states of every satellite at ``t_s`` (s since start): ``(n_sat, n_time, 3)`` km."""
    return propagator_for(scenario).states(t_s)


def find_scenario_passes(scenario: Scenario, **options) -> PassTable:
    """Every pass of every satellite over every station, with its QKD window.

    Refused up front (InputError with the estimate) when it would not fit in memory."""
    from .core.budget import check_scenario_passes

    check_scenario_passes(scenario)
    return find_passes(propagator_for(scenario), scenario.stations, scenario.duration_s,
                       scenario.constraints, satellite_names=[s.name for s in scenario.satellites],
                       **options)


def look_angles_deg(states: States, station: Station):
    """``(elevation_deg, azimuth_deg, range_km)`` of each state from ``station``, shape ``(n_sat, n_time)``."""
    east, north, up = station.enu
    el, az, rng = look_angles(states.r_km, station.position_km, east, north, up)
    return np.degrees(el), np.degrees(az), rng


def subsatellite_points(states: States):
    """``(latitude_deg, longitude_deg, height_km)`` of each state, shape ``(n_sat, n_time)``."""
    return ecef_to_geodetic(states.r_km)


def scenario_pass_keys(scenario: Scenario, table: PassTable, slot_s: float = 1.0):
    """Loss and key of every pass window (needs the scenario's [link] and [qkd] tables),
    integrated over slots of ``slot_s``."""
    from .errors import InputError
    from .key.per_pass import pass_keys
    from .core.sun import SunTrack

    if not scenario.has_key_model:
        raise InputError(scenario.source, "link/qkd", '[link] and [qkd] tables (e.g. preset = "micius") to compute key',
                         "none")
    from .core.budget import check_scenario_keys

    check_scenario_keys(scenario, table, slot_s)
    return pass_keys(propagator_for(scenario), table, scenario.stations, scenario.terminal,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s), slot_s=slot_s)


def plan_scenario_network(scenario: Scenario, table: PassTable, keys):
    """Schedule the stations and relay key over the scenario's [[links]] (a NetworkPlan)."""
    from .network.plan import contacts_from_passes, plan_network

    net = scenario.network
    weather = scenario.clear_sky_probability or None
    return plan_network(
        contacts_from_passes(table, keys.finite_key_bits), scenario.stations, scenario.links,
        scenario.duration_s, cities=scenario.cities, fibre=scenario.fibre, telescopes=scenario.telescopes,
        satellite_terminals=net.satellite_terminals, key_store_bits=net.key_store_bits,
        clear_sky_probability=weather, start_utc=scenario.start, runs=net.weather_runs, seed=net.seed,
        n_satellites=len(scenario.satellites))


def scenario_coverage(scenario: Scenario, *, grid_deg=None, min_elevation_deg=None, night_only=None,
                      stations_only=None, step_s=None, k=None):
    """Coverage of the globe (or of the scenario's stations) by its satellites.

    Defaults come from the scenario's ``[coverage]`` table, then from the library defaults.
    Night statistics use the scenario's ``station_sun_max_elevation_deg`` (else -12 deg).
    Returns ``(CoverageResult, footprints GeoJSON dict at the start instant)``.
    """
    from .coverage.kernels import coverage, equal_area_grid, region_grid, target_grid
    from .coverage.kernels import CoverageResult  # noqa: F401  (documented return type)
    from .coverage.footprints import footprints_from_positions, footprints_geojson
    from .scenario.build import CoverageSpec

    spec = scenario.coverage or CoverageSpec()
    pick = lambda value, default: default if value is None else value  # noqa: E731
    grid_deg = pick(grid_deg, spec.grid_deg)
    min_el = pick(min_elevation_deg, spec.min_elevation_deg)
    stations_only = pick(stations_only, spec.grid == "stations")
    if stations_only:
        grid = target_grid([s.latitude_deg for s in scenario.stations], [s.longitude_deg for s in scenario.stations],
                           names=[s.name for s in scenario.stations])
    elif spec.grid == "region":
        from shapely.geometry import Polygon

        region = Polygon(spec.region)
        if not region.is_valid:
            from .errors import InputError

            raise InputError(scenario.source, "coverage.region", "a simple polygon (edges must not cross)",
                             f"{len(spec.region)} points with crossing edges")
        grid = region_grid(region, grid_deg)
    else:
        grid = equal_area_grid(grid_deg)
    night = scenario.constraints.station_sun_max_elevation_deg
    prop = propagator_for(scenario)
    from .core.budget import check_scenario_coverage

    check_scenario_coverage(scenario, grid.size, pick(step_s, spec.step_s))
    result = coverage(prop, grid, scenario.duration_s, pick(step_s, spec.step_s), min_elevation_deg=min_el,
                      k=pick(k, spec.k), night_sun_elevation_deg=-12.0 if night is None else night,
                      night_only=pick(night_only, spec.night_only))
    first = prop.states([0.0])
    shapes = footprints_from_positions(first.r_km[:, 0], min_elevation_deg=min_el)
    geojson = footprints_geojson(shapes, [{"satellite": s.name, "time_utc": scenario.timebase.utc_iso(0.0)[0],
                                           "min_elevation_deg": min_el} for s in scenario.satellites])
    return result, geojson
