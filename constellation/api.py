"""The public Python API of constellation: every name a user or a notebook needs.

>>> from constellation.api import load_scenario, run_scenario
>>> scenario = load_scenario("scenarios/micius-2016-xinglong.toml")   # doctest: +SKIP
>>> result = run_scenario(scenario)                                    # doctest: +SKIP
>>> result.write("out")                                                # doctest: +SKIP

Shapes and units: positions are Earth-fixed (ITRS via GMST-1982 on UT1) in km with shape
``(n_satellite, n_time, 3)``; times are ``t_s``, seconds since the scenario start on the
TAI scale; angles in degrees at this level. ``docs/api.md`` documents every name, with examples that run.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .core.geometry import ecef_to_geodetic, look_angles
from .core.propagation import Propagator, States
from .core.timebase import TimeBase, parse_utc, timescale
from .coverage.statistics import CoverageResult
from .coverage.tracks import ground_tracks
from .errors import ConstellationError, InputError, ParameterError
from .key.decoy_bb84 import KeyResult, key_for_profile
from .key.link import LinkLoss, link_loss
from .key.per_pass import PassKeys, sky_switch, window_nodes, window_slots
from .network.plan import NetworkPlan
from .output.exports import czml_document, footprints_document, tracks_geojson
from .passes.table import PassTable
from .pipeline import (KeyProfile, compute_coverage, compute_dual, compute_keys, compute_profile_key, dual_profile,
                       find_dual, find_passes, key_profile, plan_network, propagator_for)
from .plots.base import save_figure
from .plots.coverage import plot_coverage
from .plots.design import plot_compare, plot_pareto
from .plots.dual import plot_dual
from .plots.key import plot_key, plot_key_profile
from .plots.maps import plot_tracks, stations_extent
from .plots.passes import plot_sky, plot_timeline
from .results import CompareResult, RunResult, SizeResult, figure_from_results
from .scenario.build import load_scenario, scenario_from_dict
from .scenario.model import Constraints, Fibre, Link, Satellite, Scenario
from .scenario.stations import Station, builtin_station, catalogue_names
from .scenario.receiver_params import ReceiverParams, SiteParams
from .scenario.terminal_params import LinkParams, QkdParams, Terminal
from .sizing.compare import compare_designs
from .sizing.designs import expand_designs
from .sizing.evaluate import evaluate_scenario
from .sizing.runners import Journal, Problem, SchedulerUnreachable, make_runner
from .sizing.scenario_files import problem_base
from .sizing.search import search_designs

__all__ = [
    # scenarios and stations
    "Constraints", "Fibre", "Link", "Satellite", "Scenario", "Station", "builtin_station", "catalogue_names",
    "load_scenario", "scenario_from_dict",
    # time and geometry
    "Propagator", "States", "TimeBase", "look_angles_deg", "parse_utc", "propagate", "propagator_for",
    "subsatellite_points", "timescale",
    # the stages, each on a whole scenario, and what they return
    "CoverageResult", "NetworkPlan", "PassKeys", "PassTable", "compute_coverage", "compute_keys",
    "compute_profile_key", "find_passes", "plan_network", "find_dual", "compute_dual", "dual_profile",
    # the whole job: run one scenario, size a design space, compare designs
    "CompareResult", "RunResult", "SizeResult", "compare_scenarios", "evaluate_scenario", "run_scenario",
    "size_scenario",
    # the physics of one link and one block of key
    "KeyResult", "LinkLoss", "LinkParams", "QkdParams", "ReceiverParams", "SiteParams", "Terminal",
    "key_for_profile", "link_loss", "sky_switch", "window_nodes", "window_slots",
    # exports and figures
    "KeyProfile", "export_czml", "export_footprints", "export_tracks", "figure_from_results", "key_profile",
    "plot_compare", "plot_coverage", "plot_key", "plot_key_profile", "plot_pareto", "plot_sky", "plot_timeline",
    "plot_tracks", "save_figure", "stations_extent", "plot_dual",
    # errors
    "ConstellationError", "InputError", "ParameterError", "SchedulerUnreachable",
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


def run_scenario(scenario: Scenario, *, key_slot_s: float | None = None, coverage_options: dict | None = None) -> RunResult:
    """Everything the scenario asks for (passes; key with ``[link]``/``[qkd]``; the relay
    network with ``[[links]]``; coverage with ``[coverage]``), computed as it is asked for.

    ``result.rows("passes")``, ``result.summary()``, ``result.figure("tracks")``,
    ``result.write(folder)``: see :class:`~constellation.results.RunResult`.
    ``coverage_options`` override ``[coverage]`` (grid_deg, min_elevation_deg, night_only,
    stations_only, step_s, k).
    """
    return RunResult(scenario, key_slot_s=key_slot_s, coverage_options=coverage_options)


def size_scenario(scenario: Scenario, *, folder=None, workers: int | None = None, scheduler: str | None = None,
                  fresh: bool = False, progress=None) -> SizeResult:
    """Search the scenario's ``[[designs]]`` for the cheapest constellations meeting ``[targets]``.

    ``folder``: where the journal ``sweep.jsonl`` lives, so an interrupted sweep resumes
    (``fresh`` ignores it); None keeps no journal. ``workers``: local processes (default:
    the CPU count; 1 runs in this process); ``scheduler``: a Dask scheduler address
    ``tcp://HOST:PORT`` instead. ``progress(done, total, message)`` is called once with
    ``done = 0`` when the runner is ready, then as each design finishes. Write the outputs with ``result.write(folder)``.
    """
    if not scenario.designs:
        raise InputError(scenario.source, "designs", "[[designs]] families to size (see scenarios/2027-global.toml)",
                         "none")
    problem = Problem(problem_base(scenario), scenario.source, scenario.sweep.key_slot_s,
                      tuple(scenario.targets.regions))
    journal = None
    if folder is not None:
        journal = Journal(Path(folder) / "sweep.jsonl", problem.fingerprint)
        if fresh and journal.path.exists():
            journal.path.unlink()
    started = time.perf_counter()
    runner = make_runner(problem, workers=workers, scheduler=scheduler)
    if progress is not None:
        progress(0, len(expand_designs(scenario.designs)), f"sizing {len(scenario.designs)} families on {runner.name}")
    try:
        sizing = search_designs(scenario, runner, journal, progress=progress)
    finally:
        runner.close()
    return SizeResult(scenario, sizing, runner.name, time.perf_counter() - started)


def compare_scenarios(scenarios) -> CompareResult:
    """Evaluate each scenario (a design) and put their figures side by side."""
    return CompareResult(compare_designs(list(scenarios)))


def export_tracks(scenario: Scenario, *, satellites=None, start_s: float = 0.0, end_s: float | None = None,
                  step_s: float = 30.0) -> dict:
    """Ground tracks as a GeoJSON FeatureCollection (RFC 7946): one LineString or
    MultiLineString per satellite, cut at the antimeridian, with UTC start and end times."""
    return tracks_geojson(ground_tracks(scenario, satellites, start_s, end_s, step_s), scenario.timebase)


def export_footprints(scenario: Scenario, *, at_s: float = 0.0, min_elevation_deg: float | None = None,
                      satellites=None) -> dict:
    """The area each satellite sees above ``min_elevation_deg`` at ``at_s``, as GeoJSON
    polygons (the document ``export footprints`` and ``coverage --geojson`` write)."""
    return footprints_document(scenario, at_s=at_s, min_elevation_deg=min_elevation_deg, satellites=satellites)


def export_czml(scenario: Scenario, passes: PassTable | None = None, **options) -> dict:
    """A Cesium CZML document: satellites, stations and their access intervals (the passes
    of the scenario unless ``passes`` is given)."""
    return czml_document(scenario, find_passes(scenario) if passes is None else passes, **options)
