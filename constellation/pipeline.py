"""The pipeline, written once: each stage run on a whole validated scenario.

A stage here takes a :class:`~constellation.scenario.model.Scenario` (and the products of
the stages before it), checks that the scenario has what the stage needs and that the
work fits in memory, and calls the stage's kernel::

    find_passes(scenario)                      -> PassTable         (passes/)
    compute_keys(scenario, passes)             -> PassKeys          (key/)
    plan_network(scenario, passes, keys)       -> NetworkPlan       (network/)
    compute_coverage(scenario)                 -> CoverageResult    (coverage/)
    Run(scenario)                              each of the above on demand, once
    key_profile(scenario, passes, row)         -> KeyProfile        loss and key along one pass
    compute_profile_key(profile.csv, qkd.toml) -> one row: your own channel as one block

Everything above the stages calls these: the public API (``run_scenario``), the sizing
evaluation of one design, the plots and the exports. Problems with the scenario are
:class:`~constellation.errors.InputError` lines naming the scenario file.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .core import budget
from .core.geometry import look_angles
from .core.propagation import Propagator
from .core.sun import MoonTrack, SunTrack, moon_phase_angle_deg
from .errors import Described, InputError, ParameterError
from .passes.finder import default_step_s
from .passes.finder import find_passes as find_passes_of
from .passes.table import PassTable
from .scenario.model import Scenario
from .scenario.schema import CoverageSpec
from .scenario.terminals import link_params, station_receiver

# The key, network, dual-window and coverage stages are imported where they run, so that
# `constellation passes` loads only what passes need (issue 16: start-up).
if TYPE_CHECKING:
    from .coverage.statistics import CoverageResult
    from .key.entanglement import DualKeys
    from .key.per_pass import PassKeys
    from .network.plan import NetworkPlan
    from .passes.dual import DualTable

__all__ = ["KeyProfile", "Run", "compute_coverage", "compute_dual", "compute_keys", "dual_profile", "find_dual", "compute_profile_key", "find_passes", "plan_network",
           "key_profile", "propagator_for", "region_coverage"]


def propagator_for(scenario: Scenario) -> Propagator:
    """A Propagator over the scenario's satellites on its time base."""
    return Propagator.for_satellites(scenario.satellites, scenario.timebase)


def find_passes(scenario: Scenario, **options) -> PassTable:
    """Every pass of every satellite over every station, with its QKD window.

    ``options`` go to :func:`constellation.passes.finder.find_passes` (``step_s``,
    ``progress``: a callable ``progress(done, total)`` told the satellites done, ...).
    Refused up front (InputError with the estimate) when it would not fit in memory."""
    n_sat, n_st = len(scenario.satellites), len(scenario.stations)
    step = default_step_s([s.satrec for s in scenario.satellites])
    n_time = math.ceil(scenario.duration_s / step) + 1
    estimate = budget.estimate_passes_bytes(n_sat, n_st, scenario.duration_s, step,
                                            altitude_km=_mean_altitude_km(scenario))
    _check_memory(scenario, estimate, budget.describe_size(n_sat, n_st, n_time))
    return find_passes_of(propagator_for(scenario), scenario.stations, scenario.duration_s, scenario.constraints,
                          satellite_names=[s.name for s in scenario.satellites], **options)


def compute_keys(scenario: Scenario, passes: PassTable, slot_s: float | None = None, progress=None,
                 workers: int = 1) -> PassKeys:
    """Loss and key of every QKD window of ``passes`` (needs the scenario's [link] and [qkd]
    tables), integrated by quadrature (``slot_s`` None, key.per_pass.window_nodes) or over
    slots of ``slot_s``; ``progress(done, total)`` hears the windows done; ``workers``
    processes share the work when it is large (the same keys, bit for bit)."""
    from .key.per_pass import GAUSS_NODES, SEGMENT_S, pass_keys, samples_per_window

    if not scenario.has_key_model:
        raise InputError(scenario.source, "link/qkd", '[link] and [qkd] tables (e.g. preset = "micius") to compute key',
                         "none")
    w = passes.window_s[passes.has_window]
    longest = float(w.max()) if w.size else 0.0
    mean = float(w.mean()) if w.size else 0.0
    # The quadrature's nodes (~1 per 15 s), with the pieces refined near the Moon and the copies
    # that put them in order, hold as much as 1-s slots would at one per 7.5 s (tests/test_budget.py).
    spacing_s = slot_s if slot_s is not None else SEGMENT_S / (2 * GAUSS_NODES)
    estimate = budget.estimate_key_bytes(w.size, longest, mean, spacing_s) + len(passes) * budget.PASS_ROW_BYTES
    samples = int(samples_per_window(w, slot_s).sum()) if w.size else 0
    what = budget.describe_size(len(scenario.satellites), len(scenario.stations), samples)
    what = what.replace("steps", "key samples")
    _check_memory(scenario, estimate, what)
    return pass_keys(propagator_for(scenario), passes, scenario.stations, scenario.terminal,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s),
                     moon=MoonTrack(scenario.timebase, 0.0, scenario.duration_s), slot_s=slot_s, progress=progress,
                     workers=workers)


def plan_network(scenario: Scenario, passes: PassTable, keys: PassKeys | None,
                 dual: DualTable | None = None, dual_key: DualKeys | None = None) -> NetworkPlan:
    """Schedule the stations and relay key over the scenario's [[links]]; the links served by
    entanglement also get the key of the dual windows (``dual`` and ``dual_key``).

    The key of a contact is ``keys.key_bits``: the finite-size key, or the asymptotic one
    when the scenario's ``[qkd]`` says ``finite_key = false`` (which also makes the
    entanglement key asymptotic). ``keys`` may be None when no link is relayed."""
    from .network.contacts import contacts_from_passes
    from .network.plan import plan_relay

    _require_links(scenario)
    _require_relay_payload(scenario)
    net = scenario.network
    contacts = contacts_from_passes(passes, keys.key_bits) if keys is not None else _no_contacts()
    _check_network_memory(scenario, len(contacts.key_bits))
    return plan_relay(
        contacts, scenario.stations, scenario.links, scenario.duration_s,
        cities=scenario.cities, fibre=scenario.fibre, telescopes=scenario.telescopes,
        satellite_terminals=_terminals(scenario), key_store_bits=net.key_store_bits,
        retarget_s=net.retarget_s, min_contact_s=net.min_contact_s, schedule_time_limit_s=net.schedule_time_limit_s,
        clear_sky_probability=scenario.clear_sky_probability or None, start_utc=scenario.start,
        clear_sky_persistence=dict(scenario.clear_sky_persistence), runs=net.weather_runs, seed=net.seed,
        n_satellites=len(scenario.satellites), entanglement=_entanglement_input(scenario, dual, dual_key),
        satellite_names=[s.name for s in scenario.satellites])


def _no_contacts():
    """The same Contacts type with no row."""
    from .network.contacts import make_contacts

    empty = np.zeros(0, dtype=np.int64)
    return make_contacts(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))


def _entanglement_input(scenario: Scenario, dual: DualTable | None, dual_key: DualKeys | None):
    """The dual windows of the entangled links, for the network (None when none is)."""
    sources = [scenario.source_of(k) for k in range(len(scenario.satellites))]
    # The key's post-processing belongs to the link's stations: [source]'s (per-satellite
    # tables may not change it), else the first satellite source's (design families).
    source = scenario.pair_source or next((s for s in sources if s is not None), None)
    if dual is None or dual_key is None or source is None or not any(link.entangled for link in scenario.links):
        return None
    from .network.entangled import EntanglementInput

    index = {s.name: k for k, s in enumerate(scenario.stations)}
    link_of_pair = {}
    for k, link in enumerate(scenario.links):
        if link.entangled:
            pair = frozenset((index[link.a], index[link.b]))
            link_of_pair.setdefault(pair, k)
    link = np.array([link_of_pair.get(frozenset(dual.pairs[p]), -1) for p in dual.pair], dtype=np.int64)
    errors = np.nan_to_num(dual_key.qber) * dual_key.sifted_bits
    finite = source.finite_key and (scenario.qkd is None or scenario.qkd.get("finite_key", True) is not False)
    return EntanglementInput(dual.satellite, dual.a, dual.b, dual.start_s, dual.end_s, dual_key.sifted_bits, errors,
                             link, source.basis_probability, source.error_correction_efficiency,
                             source.epsilon_secret, source.epsilon_correct, finite_key=finite,
                             block_sifted_bits=source.block_sifted_bits)


def find_dual(scenario: Scenario, passes: PassTable) -> DualTable:
    """Dual-downlink windows of the scenario's station pairs (``[[links]]`` with two
    satellite stations): one satellite in the QKD window of both at once."""
    from .passes.dual import dual_windows

    pairs = scenario.dual_pairs
    if not pairs:
        raise InputError(scenario.source, "links", "a [[links]] entry whose two ends are satellite stations "
                         "(dual-downlink windows join two stations)",
                         Described("no such link" if scenario.links else "no [[links]]"))
    return dual_windows(passes, pairs)


def compute_dual(scenario: Scenario, dual: DualTable, slot_s: float = 1.0, progress=None) -> DualKeys:
    """Summed range of every dual window, and with a ``[source]`` its two-arm loss,
    coincidences and BBM92 key (each station at an end needs a receiver then).
    ``progress(done, total)`` hears the dual windows done."""
    from .key.entanglement import dual_keys

    sources, source = _dual_sources(scenario, dual)
    length = dual.end_s - dual.start_s
    slots = int(np.ceil(np.sum(length) / slot_s)) if len(dual) else 0
    _check_memory(scenario, budget.estimate_key_bytes(len(dual), float(length.max()) if len(dual) else 0.0,
                                                      float(length.mean()) if len(dual) else 0.0, slot_s) * 2,
                  budget.describe_size(len(scenario.satellites), len(scenario.stations), slots) + " (dual windows)")
    return dual_keys(propagator_for(scenario), dual, scenario.stations, sources if source is not None else None,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s),
                     moon=MoonTrack(scenario.timebase, 0.0, scenario.duration_s), slot_s=slot_s,
                     progress=progress)


def _dual_sources(scenario: Scenario, dual: DualTable):
    """Each satellite's entangled-photon source and the first of them (None: no source);
    with a source, every station at an end of ``dual``'s pairs must have a receiver for it."""
    sources = [scenario.source_of(k) for k in range(len(scenario.satellites))]
    source = next((s for s in sources if s is not None), None)
    wavelengths = sorted({s.wavelength_nm for s in sources if s is not None})
    for index in sorted({k for pair in dual.pairs for k in pair}) if source is not None else ():
        station = scenario.stations[index]
        for wavelength_nm in wavelengths:
            station_receiver(station, index, wavelength_nm, scenario.source,
                             f"at {station.name} for the entangled photons", "source")
    return sources, source


def dual_profile(scenario: Scenario, dual: DualTable, row: int, slot_s: float = 1.0):
    """Range, look angles from both stations and each arm's loss along dual window ``row``
    (a row of ``constellation dual``), on the slots ``compute_dual`` integrates
    (:class:`~constellation.key.entanglement.DualProfile`; losses NaN without a source)."""
    from .key.entanglement import dual_profile as profile_of

    if not len(dual):
        raise InputError(scenario.source, "links", "a dual-downlink window (one satellite in the QKD window of both "
                         "stations of a [[links]] pair at once)", Described("none in the scenario's span"))
    if not 0 <= row < len(dual):
        raise InputError(scenario.source, "window", f"a dual window number in 0..{len(dual) - 1} "
                         "(rows of `constellation dual`, 0 first)", row)
    sources, _ = _dual_sources(scenario, dual)
    return profile_of(propagator_for(scenario), dual, row, scenario.stations, sources[int(dual.satellite[row])],
                      slot_s=slot_s)


def _terminals(scenario: Scenario) -> list[int]:
    """Optical terminals of each satellite: ``[network] satellite_terminals`` when given, else
    its payload's ``terminals`` (``[link]``, per satellite overridable; default 1)."""
    fixed = scenario.network.satellite_terminals
    if fixed is not None:
        return [fixed] * len(scenario.satellites)
    if scenario.link is None:  # no relay payload (entanglement only): no relay contact either
        return [1] * len(scenario.satellites)
    return [link_params({**scenario.link, **sat.link}, scenario.source,
                        f"satellites[{sat.spec_index}].link" if sat.link else "link").terminals
            for sat in scenario.satellites]


@contextlib.contextmanager
def _coverage_errors(scenario: Scenario, region_field: str, prefix: str):
    """Turn the coverage kernels' ParameterError into one InputError line naming the scenario
    file: the region's own field (``region_field``) for a region that holds no grid point,
    ``PREFIX.FIELD`` for any other setting."""
    try:
        yield
    except ParameterError as exc:
        field = region_field if exc.field == "region" else f"{prefix}.{exc.field}"
        raise InputError(scenario.source, field, exc.expected, exc.found) from None


def compute_coverage(scenario: Scenario, *, grid_deg=None, min_elevation_deg=None, night_only=None,
                     stations_only=None, step_s=None, k=None, progress=None) -> CoverageResult:
    """Coverage of the globe, a region or the scenario's stations by its satellites.

    Options left at None come from the scenario's ``[coverage]`` table, then from its
    defaults. Night statistics use the scenario's night threshold
    (``Constraints.night_sun_max_elevation_deg``). ``progress(done, total)``, if given, is
    called with the time samples counted so far.
    """
    from .coverage.grid import equal_area_grid, target_grid
    from .coverage.statistics import coverage

    spec = scenario.coverage or CoverageSpec()
    pick = lambda value, default: default if value is None else value  # noqa: E731
    grid_deg = pick(grid_deg, spec.grid_deg)
    step_s = pick(step_s, spec.step_s)
    with _coverage_errors(scenario, "coverage.region", "coverage"):
        if pick(stations_only, spec.grid == "stations"):
            require_stations(scenario, "coverage of the stations")
            grid = target_grid([s.latitude_deg for s in scenario.stations],
                               [s.longitude_deg for s in scenario.stations], names=[s.name for s in scenario.stations])
        elif spec.grid == "region":
            grid = _region_grid(scenario, spec.region, grid_deg, "coverage.region")
        else:
            grid = equal_area_grid(grid_deg)
        _check_coverage_memory(scenario, grid.size, step_s)
        return coverage(propagator_for(scenario), grid, scenario.duration_s, step_s,
                        min_elevation_deg=pick(min_elevation_deg, spec.min_elevation_deg), k=pick(k, spec.k),
                        night_sun_elevation_deg=scenario.constraints.night_sun_max_elevation_deg,
                        night_only=pick(night_only, spec.night_only), progress=progress)


def region_coverage(scenario: Scenario, region, grid_deg: float, step_s: float, min_elevation_deg: float,
                    field_name: str = "region") -> CoverageResult:
    """Night coverage of a polygon ``region`` (``[[lon_deg, lat_deg], ...]``) on an
    equal-area grid of ``grid_deg``, as sizing targets measure it. Errors name ``field_name``
    (e.g. ``targets.regions[0].region``) and its neighbours."""
    from .coverage.statistics import coverage

    with _coverage_errors(scenario, field_name, field_name.rpartition(".")[0] or field_name):
        grid = _region_grid(scenario, region, grid_deg, field_name)
        _check_coverage_memory(scenario, grid.size, step_s)
        return coverage(propagator_for(scenario), grid, scenario.duration_s, step_s,
                        min_elevation_deg=min_elevation_deg,
                        night_sun_elevation_deg=scenario.constraints.night_sun_max_elevation_deg, night_only=True)


@dataclass
class KeyProfile:
    """Link and key along a pass, per slot; every array has shape ``(n_slot,)``.

    Build one with :func:`key_profile`, or fill it from your own arrays to plot them.

    Attributes
    ----------
    t_s : slot middles, seconds since the scenario start
    elevation_deg, range_km : geometry from the station
    loss_terms_db : dict of name -> array, the link loss terms (``key.link.LinkLoss.as_dict``),
        including ``loss_db``, the total; NaN where SGP4 failed
    key_rate_bps : asymptotic secret key rate (bit/s) in the QKD window, 0 outside it
    qber : QBER of the signal pulses (fraction), NaN outside the window
    window_s : ``(start_s, end_s)`` of the QKD window, or None
    finite_key_bits, asymptotic_key_bits : the window's key as one block (as ``key.per_pass``)
    label : text naming the pass
    """

    t_s: np.ndarray
    elevation_deg: np.ndarray
    range_km: np.ndarray
    loss_terms_db: dict
    key_rate_bps: np.ndarray
    qber: np.ndarray
    window_s: tuple | None
    finite_key_bits: float
    asymptotic_key_bits: float
    label: str = ""


def key_profile(scenario, passes, row: int, slot_s: float = 1.0, key_slot_s: float | None = None) -> KeyProfile:
    """Loss, key rate and QBER along pass ``row`` of ``passes``, in slots of ``slot_s``.

    The whole pass (AOS to LOS) is sampled for the geometry and the loss; the key rate is
    the asymptotic decoy-state rate (``key.decoy_bb84.asymptotic_key_rate``) times the source rate,
    slot by slot, inside the QKD window only. The window's finite and asymptotic key are
    the key table's: ``key.per_pass.pass_keys`` of this pass alone, integrated as the table
    is (``key_slot_s``, as :func:`compute_keys`'s ``slot_s``). The sky background comes from
    the Sun's and the Moon's positions.
    """
    from .key.background import background_cps
    from .key.decoy_bb84 import asymptotic_key_rate, decoy_estimates
    from .key.link import link_loss, transmittance_from_db
    from .key.per_pass import pass_keys, window_slots

    if not scenario.has_key_model:
        raise InputError(scenario.source, "link/qkd", "[link] and [qkd] tables to compute key along a pass")
    if not 0 <= row < len(passes):
        raise InputError(scenario.source, "pass", f"a pass number in 0..{len(passes) - 1}", row)
    sat, st = int(passes.satellite[row]), int(passes.station[row])
    term = scenario.terminal(sat, st)
    station = scenario.stations[st]
    east, north, up = station.enu
    aos, los = float(passes.aos_s[row]), float(passes.los_s[row])
    _, t, _ = window_slots(np.array([aos]), np.array([los]), slot_s)
    has_window = bool(passes.has_window[row])
    w0, w1 = float(passes.window_start_s[row]), float(passes.window_end_s[row])
    sun = SunTrack(scenario.timebase, 0.0, scenario.duration_s)
    moon = MoonTrack(scenario.timebase, 0.0, scenario.duration_s)
    prop = propagator_for(scenario)
    block = pass_keys(prop, passes.take(np.array([row])), scenario.stations, scenario.terminal, sun=sun, moon=moon,
                      slot_s=key_slot_s)
    states = prop.pairwise(np.full(t.size, sat), t)
    el, _, rng = look_angles(states.r_km[0], station.position_km, east, north, up)
    valid = states.valid[0]
    elevation = np.where(valid, np.degrees(el), np.nan)
    rng = np.where(valid, rng, np.nan)
    loss = link_loss(rng, elevation, term.link, term.receiver, term.site)
    sun_unit, moon_unit = sun.unit_ecef(t), moon.unit_ecef(t)
    line = states.r_km[0] - station.position_km
    line = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
    ups = np.broadcast_to(up, line.shape)
    background = background_cps(term, ups, line, sun_unit, moon_unit, moon_phase_angle_deg(sun_unit, moon_unit))
    background = np.where(np.isfinite(background), background, 0.0)
    terms = loss.as_dict()
    in_window = has_window & (t >= w0) & (t <= w1)
    eta = transmittance_from_db(np.where(np.isfinite(terms["loss_db"]), terms["loss_db"], np.inf))
    rate = asymptotic_key_rate(eta, term.qkd, term.receiver, background) * term.qkd.source_rate_hz
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = decoy_estimates(eta, term.qkd, term.receiver, background).qber_signal
    aos_text = f"{scenario.timebase.time(np.array([aos])).utc_datetime()[0]:%Y-%m-%d %H:%M:%S}"
    label = f"{scenario.satellites[sat].name} over {station.name}, AOS {aos_text} UTC"
    return KeyProfile(t, elevation, rng, terms, np.where(in_window, rate, 0.0),
                      np.where(in_window, qber, np.nan), (w0, w1) if has_window else None,
                      float(block.finite_key_bits[0]), float(block.asymptotic_key_bits[0]), label)


def compute_profile_key(loss_profile, qkd_file, *, optimise: bool = False) -> dict:
    """Key of one loss profile (a CSV of ``t_s,loss_db`` rows, one slot each, with an optional
    ``background_cps`` column) taken as a single finite-key block, with the protocol and the
    receiver of a TOML file (``[qkd]`` and ``[receiver]``), as SatQuMA users do.

    ``optimise`` first chooses the intensities, their probabilities and the basis bias that
    maximise the finite key (bounds: key/optimise.py). Returns one JSON-able row: ``slots,
    duration_s, finite_key_bits, asymptotic_key_bits, qber, sifted_bits`` and, optimised, the
    settings chosen."""
    from .key.decoy_bb84 import key_for_profile
    from .key.optimise import optimise_protocol
    from .scenario.profile import read_loss_profile, read_qkd_file

    params, receiver = read_qkd_file(qkd_file)
    loss_db, slot_s, background = read_loss_profile(loss_profile)
    settings = {}
    if optimise:
        params = optimise_protocol(loss_db, slot_s, params, receiver, background_cps=background).params
        settings = {"mu_signal": round(params.intensities[0], 4), "mu_decoy": round(params.intensities[1], 4),
                    "p_signal": round(params.probabilities[0], 4), "p_decoy": round(params.probabilities[1], 4),
                    "basis_probability_x": round(params.basis_probability_x, 4)}
    result = key_for_profile(loss_db, slot_s, params, receiver, background)
    return {"slots": int(loss_db.size), "duration_s": round(float(slot_s.sum()), 6),
            "finite_key_bits": int(result.finite_key_bits), "asymptotic_key_bits": int(result.asymptotic_key_bits),
            "qber": round(result.qber, 6), "sifted_bits": int(result.sifted_bits), **settings}


class Run:
    """The stages of one scenario, each computed when first asked for, and only once.

    ``run.passes``, ``run.keys``, ``run.network`` and ``run.coverage`` call the stage
    functions above in order, each with the products of the stages before it: asking for
    the network computes the passes and their key first. A stage the scenario cannot run
    raises the stage's InputError (``keys`` without ``[link]``/``[qkd]``, ``network``
    without ``[[links]]``); :meth:`complete` computes every stage the scenario asks for.
    ``timings_s`` holds the wall time of each stage computed so far.

    ``key_slot_s`` is the slot of the key integral along a window (key.per_pass; None, the
    default: Gauss-Legendre quadrature for the pass key, 1-s slots for the dual windows);
    ``coverage_options`` override the scenario's ``[coverage]`` table (see compute_coverage).
    ``progress``, if set (here or later as an attribute), is called as
    ``progress(done, total, stage)``: with ``(0, None, name)`` as each stage starts, then with
    the counts of the stages that report them (passes: satellites; key: QKD windows; dual_key:
    dual windows; coverage: time samples).
    ``workers`` (an attribute too, default 1): processes for the key stage when it is large
    (the same keys with any number).
    """

    def __init__(self, scenario: Scenario, *, key_slot_s: float | None = None, coverage_options: dict | None = None,
                 progress=None):
        self.scenario = scenario
        self.key_slot_s = key_slot_s
        self.coverage_options = dict(coverage_options or {})
        self.progress = progress
        self.workers = 1
        self.timings_s: dict[str, float] = {}

    @property
    def dual_slot_s(self) -> float:
        """Slot of the dual windows' key integral: ``key_slot_s``, or 1 s by default."""
        return 1.0 if self.key_slot_s is None else self.key_slot_s

    @cached_property
    def passes(self) -> PassTable:
        return self._timed("passes", find_passes, self.scenario, progress=self._stage_progress("passes"))

    @cached_property
    def keys(self) -> PassKeys:
        return self._timed("key", compute_keys, self.scenario, self.passes, slot_s=self.key_slot_s,
                           progress=self._stage_progress("key"), workers=self.workers)

    @cached_property
    def network(self) -> NetworkPlan:
        _require_links(self.scenario)  # before the passes and key it would need
        _require_relay_payload(self.scenario)
        relayed = any(link.relayed for link in self.scenario.links)
        entangled = self.has_dual and any(link.entangled for link in self.scenario.links)
        return self._timed("network", plan_network, self.scenario, self.passes, self.keys if relayed else None,
                           self.dual if entangled else None, self.dual_keys if entangled else None)

    @cached_property
    def dual(self) -> DualTable:
        return self._timed("dual", find_dual, self.scenario, self.passes)

    @cached_property
    def dual_keys(self) -> DualKeys:
        return self._timed("dual_key", compute_dual, self.scenario, self.dual, slot_s=self.dual_slot_s,
                           progress=self._stage_progress("dual_key"))

    @property
    def has_dual(self) -> bool:
        """The scenario sends entangled photons (a ``[source]`` and a station-pair link)."""
        return self.scenario.has_sources and bool(self.scenario.dual_pairs)

    @cached_property
    def coverage(self) -> CoverageResult:
        return self._timed("coverage", compute_coverage, self.scenario, **self.coverage_options,
                           progress=self._stage_progress("coverage"))

    @property
    def has_keys(self) -> bool:
        """The scenario computes key (it has ``[link]`` and ``[qkd]``)."""
        return self.scenario.has_key_model

    @property
    def has_network(self) -> bool:
        """The scenario has ``[[links]]`` it can serve: relayed ones need key per pass
        (``[link]``, ``[qkd]``), entangled ones a ``[source]``."""
        links = self.scenario.links
        return bool(links) and (self.scenario.has_key_model or
                                (self.scenario.has_sources and all(link.entangled for link in links)))

    @property
    def has_coverage(self) -> bool:
        """The scenario asks for coverage (a ``[coverage]`` table, or coverage options given)."""
        return self.scenario.coverage is not None or bool(self.coverage_options)

    def complete(self, *, coverage: bool = True) -> "Run":
        """Compute every stage the scenario asks for (coverage only if ``coverage``); returns self."""
        self.passes
        if self.has_keys:
            self.keys
        if self.has_dual:
            self.dual_keys
        if self.has_network:
            self.network
        if coverage and self.has_coverage:
            self.coverage
        return self

    def _stage_progress(self, name):
        """``progress(done, total)`` for a stage's kernel, or None without ``self.progress``."""
        report = self.progress
        return None if report is None else (lambda done, total: report(done, total, name))

    def _timed(self, name, stage, *args, **kwargs):
        if self.progress is not None:
            self.progress(0, None, name)
        started = time.perf_counter()
        value = stage(*args, **kwargs)
        self.timings_s[name] = time.perf_counter() - started
        return value


def require_stations(scenario, what: str) -> None:
    """InputError naming the scenario when ``what`` needs a ground station and it has none
    (stations are optional: coverage of the globe or a region runs without them)."""
    if not scenario.stations:
        raise InputError(scenario.source, "stations", f"at least one [[stations]] entry ({what} needs a ground "
                         "station; coverage of the globe or a region needs none)", "none")


def _require_relay_payload(scenario) -> None:
    """Relayed links need key per pass: the ``[link]`` and ``[qkd]`` tables."""
    if any(link.relayed for link in scenario.links) and not scenario.has_key_model:
        raise InputError(scenario.source, "links", "[link] and [qkd] tables too (relayed key needs key per pass)",
                         "none")


def _require_links(scenario) -> None:
    if not scenario.links:
        raise InputError(scenario.source, "links", "at least one [[links]] entry (a, b)", "none")


def _region_grid(scenario, region, grid_deg, field_name):
    from shapely.geometry import Polygon

    from .coverage.grid import region_grid

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
    n_time = max(1, round(scenario.duration_s / step_s)) if step_s > 0 else 1  # the kernel refuses step_s <= 0
    estimate = budget.estimate_coverage_bytes(n_sat, n_points, n_time, duration_s=scenario.duration_s)
    _check_memory(scenario, estimate, f"{n_sat} satellites x {n_points} grid points x {n_time} steps")


def _check_network_memory(scenario, n_contacts: int) -> None:
    """The weather Monte Carlo keeps arrays of (satellites x link stations), (links x days)
    and (station-nights) per run: refuse what cannot fit."""
    n_sat, n_days = len(scenario.satellites), max(1, math.ceil(scenario.duration_s / 86400.0) + 1)
    ends = {name for link in scenario.links for name in (link.a, link.b)}
    runs = scenario.network.weather_runs if scenario.clear_sky_probability else 1
    estimate = budget.estimate_network_bytes(n_sat, len(ends), len(scenario.links), n_days, runs,
                                             len(scenario.stations) * n_days, n_contacts)
    _check_memory(scenario, estimate, f"{n_sat} satellites x {len(scenario.links)} links x {n_days} days "
                  f"x {runs} weather runs")


def _check_memory(scenario, estimate_bytes: float, what: str) -> None:
    """One InputError line naming the scenario when the estimate does not fit in memory."""
    try:
        budget.check_memory(estimate_bytes, what)
    except budget.OverBudget as exc:
        raise InputError(scenario.source, "satellites", exc.expected, Described(exc.found)) from None
