"""The pipeline, written once: each stage run on a whole validated scenario.

A stage here takes a :class:`~constellation.scenario.model.Scenario` (and the products of
the stages before it), checks that the scenario has what the stage needs and that the
work fits in memory, and calls the stage's kernel::

    find_passes(scenario)                      -> PassTable         (passes/)
    compute_keys(scenario, passes)             -> PassKeys          (key/)
    plan_network(scenario, passes, keys)       -> NetworkPlan       (network/)
    compute_coverage(scenario)                 -> CoverageResult    (coverage/)
    run_stages(scenario)                       -> Stages            (all of the above that
                                                                     the scenario asks for)

Everything above the stages calls these: the public API (``run_scenario``), the sizing
evaluation of one design, the plots and the exports. Problems with the scenario are
:class:`~constellation.errors.InputError` lines naming the scenario file.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from .core import budget
from .core.propagation import Propagator
from .core.sun import SunTrack
from .coverage.kernels import CoverageResult, coverage, equal_area_grid, region_grid, target_grid
from .errors import Described, InputError
from .key.per_pass import PassKeys, pass_keys
from .network.plan import NetworkPlan, contacts_from_passes
from .network.plan import plan_network as plan_relay
from .passes.finder import PassTable, default_step_s
from .passes.finder import find_passes as find_passes_of
from .scenario.build import CoverageSpec, Scenario

__all__ = ["Stages", "compute_coverage", "compute_keys", "find_passes", "plan_network", "propagator_for",
           "region_coverage", "run_stages"]


def propagator_for(scenario: Scenario) -> Propagator:
    """A Propagator over the scenario's satellites on its time base."""
    return Propagator([s.satrec for s in scenario.satellites], scenario.timebase)


def find_passes(scenario: Scenario, **options) -> PassTable:
    """Every pass of every satellite over every station, with its QKD window.

    ``options`` go to :func:`constellation.passes.finder.find_passes` (``step_s``, ...).
    Refused up front (InputError with the estimate) when it would not fit in memory."""
    n_sat, n_st = len(scenario.satellites), len(scenario.stations)
    step = default_step_s([s.satrec for s in scenario.satellites])
    n_time = math.ceil(scenario.duration_s / step) + 1
    estimate = budget.estimate_passes_bytes(n_sat, n_st, scenario.duration_s, step,
                                            altitude_km=_mean_altitude_km(scenario))
    _check_memory(scenario, estimate, budget.describe_size(n_sat, n_st, n_time))
    return find_passes_of(propagator_for(scenario), scenario.stations, scenario.duration_s, scenario.constraints,
                          satellite_names=[s.name for s in scenario.satellites], **options)


def compute_keys(scenario: Scenario, passes: PassTable, slot_s: float = 1.0) -> PassKeys:
    """Loss and key of every QKD window of ``passes`` (needs the scenario's [link] and [qkd]
    tables), integrated over slots of ``slot_s``."""
    if not scenario.has_key_model:
        raise InputError(scenario.source, "link/qkd", '[link] and [qkd] tables (e.g. preset = "micius") to compute key',
                         "none")
    w = passes.window_s[passes.has_window]
    longest = float(w.max()) if w.size else 0.0
    mean = float(w.mean()) if w.size else 0.0
    estimate = budget.estimate_key_bytes(w.size, longest, mean, slot_s) + len(passes) * budget.PASS_ROW_BYTES
    slots = math.ceil(w.size * mean / slot_s) if w.size else 0
    what = budget.describe_size(len(scenario.satellites), len(scenario.stations), slots)
    what = what.replace("steps", "1-s key slots") if slot_s == 1.0 else what + " (key slots)"
    _check_memory(scenario, estimate, what)
    return pass_keys(propagator_for(scenario), passes, scenario.stations, scenario.terminal,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s), slot_s=slot_s)


def plan_network(scenario: Scenario, passes: PassTable, keys: PassKeys) -> NetworkPlan:
    """Schedule the stations and relay key over the scenario's [[links]].

    The key of a contact is ``keys.key_bits``: the finite-size key, or the asymptotic one
    when the scenario's ``[qkd]`` says ``finite_key = false``."""
    if not scenario.links:
        raise InputError(scenario.source, "links", "at least one [[links]] entry (a, b)", "none")
    net = scenario.network
    return plan_relay(
        contacts_from_passes(passes, keys.key_bits), scenario.stations, scenario.links, scenario.duration_s,
        cities=scenario.cities, fibre=scenario.fibre, telescopes=scenario.telescopes,
        satellite_terminals=net.satellite_terminals, key_store_bits=net.key_store_bits,
        clear_sky_probability=scenario.clear_sky_probability or None, start_utc=scenario.start,
        runs=net.weather_runs, seed=net.seed, n_satellites=len(scenario.satellites))


def compute_coverage(scenario: Scenario, *, grid_deg=None, min_elevation_deg=None, night_only=None,
                     stations_only=None, step_s=None, k=None) -> CoverageResult:
    """Coverage of the globe, a region or the scenario's stations by its satellites.

    Options left at None come from the scenario's ``[coverage]`` table, then from its
    defaults. Night statistics use the scenario's night threshold
    (``Constraints.night_sun_max_elevation_deg``).
    """
    spec = scenario.coverage or CoverageSpec()
    pick = lambda value, default: default if value is None else value  # noqa: E731
    grid_deg = pick(grid_deg, spec.grid_deg)
    step_s = pick(step_s, spec.step_s)
    if pick(stations_only, spec.grid == "stations"):
        grid = target_grid([s.latitude_deg for s in scenario.stations], [s.longitude_deg for s in scenario.stations],
                           names=[s.name for s in scenario.stations])
    elif spec.grid == "region":
        grid = _region_grid(scenario, spec.region, grid_deg, "coverage.region")
    else:
        grid = equal_area_grid(grid_deg)
    _check_coverage_memory(scenario, grid.size, step_s)
    return coverage(propagator_for(scenario), grid, scenario.duration_s, step_s,
                    min_elevation_deg=pick(min_elevation_deg, spec.min_elevation_deg), k=pick(k, spec.k),
                    night_sun_elevation_deg=scenario.constraints.night_sun_max_elevation_deg,
                    night_only=pick(night_only, spec.night_only))


def region_coverage(scenario: Scenario, region, grid_deg: float, step_s: float, min_elevation_deg: float,
                    field_name: str = "region") -> CoverageResult:
    """Night coverage of a polygon ``region`` (``[[lon_deg, lat_deg], ...]``) on an
    equal-area grid of ``grid_deg``, as sizing targets measure it."""
    grid = _region_grid(scenario, region, grid_deg, field_name)
    _check_coverage_memory(scenario, grid.size, step_s)
    return coverage(propagator_for(scenario), grid, scenario.duration_s, step_s, min_elevation_deg=min_elevation_deg,
                    night_sun_elevation_deg=scenario.constraints.night_sun_max_elevation_deg, night_only=True)


@dataclass
class Stages:
    """What :func:`run_stages` computed; a stage the scenario does not ask for is None.
    ``timings_s`` gives the wall time of each stage that ran."""

    passes: PassTable
    keys: PassKeys | None = None
    network: NetworkPlan | None = None
    coverage: CoverageResult | None = None
    timings_s: dict = field(default_factory=dict)


def run_stages(scenario: Scenario, *, key_slot_s: float = 1.0, coverage: bool = True) -> Stages:
    """Passes, then key (with ``[link]`` and ``[qkd]``), then the relay network (with
    ``[[links]]``), then coverage (with ``[coverage]``, unless ``coverage`` is False)."""
    timings = {}

    def timed(name, func, *args, **kwargs):
        t0 = time.perf_counter()
        value = func(*args, **kwargs)
        timings[name] = time.perf_counter() - t0
        return value

    stages = Stages(passes=timed("passes", find_passes, scenario), timings_s=timings)
    if scenario.has_key_model:
        stages.keys = timed("key", compute_keys, scenario, stages.passes, slot_s=key_slot_s)
        if scenario.links:
            stages.network = timed("network", plan_network, scenario, stages.passes, stages.keys)
    if coverage and scenario.coverage is not None:
        stages.coverage = timed("coverage", compute_coverage, scenario)
    return stages


def _region_grid(scenario, region, grid_deg, field_name):
    from shapely.geometry import Polygon

    polygon = Polygon(region)
    if not polygon.is_valid:
        raise InputError(scenario.source, field_name, "a simple polygon (edges must not cross)",
                         f"{len(region)} points with crossing edges")
    return region_grid(polygon, grid_deg)


def _mean_altitude_km(scenario) -> float:
    """Mean altitude of the scenario's satellites from their SGP4 mean motion (200 km at least)."""
    return budget.mean_altitude_km([s.satrec.no_kozai for s in scenario.satellites])


def _check_coverage_memory(scenario, n_points: int, step_s: float) -> None:
    n_sat = len(scenario.satellites)
    n_time = max(1, round(scenario.duration_s / step_s))
    estimate = budget.estimate_coverage_bytes(n_sat, n_points, n_time)
    _check_memory(scenario, estimate, f"{n_sat} satellites x {n_points} grid points x {n_time} steps")


def _check_memory(scenario, estimate_bytes: float, what: str) -> None:
    """One InputError line naming the scenario when the estimate does not fit in memory."""
    try:
        budget.check_memory(estimate_bytes, what)
    except budget.OverBudget as exc:
        raise InputError(scenario.source, "satellites", exc.expected, Described(exc.found)) from None
