"""The public Python API of constellation: every name a user or a notebook needs.

>>> from constellation.api import load_scenario, run_scenario
>>> scenario = load_scenario("scenarios/micius-2016-xinglong.toml")   # doctest: +SKIP
>>> result = run_scenario(scenario)                                    # doctest: +SKIP
>>> result.write("out")                                                # doctest: +SKIP

Shapes and units: positions are Earth-fixed (ITRS via GMST-1982 on UT1) in km with shape
``(n_satellite, n_time, 3)``; times are ``t_s``, seconds since the scenario start on the
TAI scale; angles in degrees at this level. ``docs/api.md`` has an example of each function.
"""

from __future__ import annotations

import numpy as np

from .core.geometry import ecef_to_geodetic, look_angles
from .core.propagation import Propagator, States
from .core.timebase import TimeBase, parse_utc, timescale
from .coverage.kernels import CoverageResult
from .errors import ConstellationError, InputError
from .key.per_pass import PassKeys
from .network.plan import NetworkPlan
from .passes.finder import PassTable
from .pipeline import Stages, compute_coverage, compute_keys, find_passes, plan_network, propagator_for, run_stages
from .scenario.build import Satellite, Scenario, load_scenario, scenario_from_dict
from .scenario.model import Constraints, Fibre, Link
from .scenario.stations import Station, builtin_station, catalogue_names

__all__ = [
    # scenarios and stations
    "Constraints", "Fibre", "Link", "Satellite", "Scenario", "Station", "builtin_station", "catalogue_names",
    "load_scenario", "scenario_from_dict",
    # time and geometry
    "Propagator", "States", "TimeBase", "look_angles_deg", "parse_utc", "propagate", "propagator_for",
    "subsatellite_points", "timescale",
    # the stages, each on a whole scenario, and what they return
    "CoverageResult", "NetworkPlan", "PassKeys", "PassTable", "Stages", "compute_coverage", "compute_keys",
    "find_passes", "plan_network", "run_stages",
    # errors
    "ConstellationError", "InputError",
]


def propagate(scenario: Scenario, t_s) -> States:
    """Earth-fixed states of every satellite at ``t_s`` (s since start): ``(n_sat, n_time, 3)`` km."""
    return propagator_for(scenario).states(t_s)


def look_angles_deg(states: States, station: Station):
    """``(elevation_deg, azimuth_deg, range_km)`` of each state from ``station``, shape ``(n_sat, n_time)``."""
    east, north, up = station.enu
    el, az, rng = look_angles(states.r_km, station.position_km, east, north, up)
    return np.degrees(el), np.degrees(az), rng


def subsatellite_points(states: States):
    """``(latitude_deg, longitude_deg, height_km)`` of each state, shape ``(n_sat, n_time)``."""
    return ecef_to_geodetic(states.r_km)
