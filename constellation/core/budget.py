"""Memory budget: estimate from work sizes what a step will allocate, and refuse what cannot fit.

A pure estimator: every function takes numbers (satellites, stations, seconds, passes, grid
points) and returns bytes; nothing here reads a scenario or imports a later stage. The
pipeline (``constellation.pipeline.find_passes``, ``compute_keys`` and ``compute_coverage``)
turns a scenario into these numbers, calls :func:`check_memory` before the step allocates,
and turns an :class:`OverBudget` into a one-line input error naming the scenario file.

The estimates follow how each step allocates (read from the code, then checked against
measured peaks by ``tests/test_budget.py`` and ``benchmarks/bench_memory.py``):

* passes (``passes.finder.find_passes``): satellites are processed in chunks of at most
  ``PASS_CHUNK_STATES`` (2,000,000) coarse states (satellite x sample). Per state the chunk
  holds SGP4 position/velocity, the interpolation track (acceleration and component-major
  copies) and, per station in turn, the elevation arrays of the coarse search:
  ~``PASS_STATE_BYTES``. The passes found in the chunk in flight cost
  ~``PASS_CHUNK_ROW_BYTES`` each while they are refined; above one chunk (396 satellites
  over 7 days at 120 s) only the finished table, ~``PASS_ROW_BYTES`` per pass, keeps growing
  with the constellation.
* key (``key.per_pass.pass_keys``): windows go in batches of ~250,000 slots; a batch's slots
  are padded into a (windows x longest window) matrix and the decoy-BB84 key expands it by
  the three intensities: ~``KEY_CELL_BYTES`` per padded cell plus ``KEY_SLOT_BYTES`` per slot
  of one batch, plus ``KEY_WINDOW_BYTES`` per window for the results.
* coverage (``coverage.statistics.coverage``): positions are propagated
  ``COVERAGE_CHUNK_STATES`` (60,000) satellite-states at a time; memory is the Sun track, a
  fixed chunk and ~``COVERAGE_POINT_BYTES`` per grid point, plus ~``COVERAGE_SATELLITE_BYTES``
  per satellite for the start-instant footprints the coverage command writes beside it.
* network (``network.weather.relay_weather``): the weather Monte Carlo keeps
  (satellites x link stations x runs), (links x days x runs) and (station-nights x runs)
  arrays.

:func:`check_memory` compares an estimate with a limit (by default the memory available
now, :func:`available_bytes`) and raises :class:`OverBudget` (a ``ValueError``) when it
exceeds ``FRACTION`` (70 %) of it.

``python benchmarks/bench_memory.py passes|key|coverage --satellites N ...`` runs one case
and prints its wall time, peak RSS and the estimate (the command behind
docs/reliability.md "Scale").

Shapes: none; every argument is a scalar count (satellites, stations, passes, windows,
grid points, time samples), a duration in s or an altitude in km, and every estimate is in
bytes (float).
"""

from __future__ import annotations

import math
import os

from ..constants import (COVERAGE_CHUNK_STATES, EARTH_MEAN_RADIUS_KM, KEY_BATCH_SLOTS, KEY_MAX_SLOTS,
                         PASS_CHUNK_STATES, WGS72_MU_KM3_S2, WGS72_RE_KM)

GIB = 1024.0 ** 3
FRACTION = 0.70

# Bytes per element, from the arrays each step allocates (see the module docstring) and
# checked against tracemalloc peaks (tests/test_budget.py).
PASS_STATE_BYTES = 180.0      # per coarse state in a chunk (r, v, a, copies, per-station temporaries)
PASS_CHUNK_ROW_BYTES = 1_200.0  # per pass found in the chunk in flight: candidates, brackets, refinement
PASS_ROW_BYTES = 250.0        # per pass kept: the table's columns, concatenated and sorted
KEY_CELL_BYTES = 180.0        # per padded (window x slot) cell: loss/width/background matrices, x3 intensities
KEY_SLOT_BYTES = 300.0        # per slot: track, look angles, link loss terms, Sun/Moon/line-of-sight vectors, sky terms
KEY_WINDOW_BYTES = 120.0      # per window: the per-pass results and batch bookkeeping
COVERAGE_STATE_BYTES = 300.0  # per propagated state in a chunk (positions, caps, events)
COVERAGE_POINT_BYTES = 500.0  # per grid point: statistics and accumulators
COVERAGE_SUN_BYTES = 45e6     # the Sun track for night statistics (DE421 segments), measured
COVERAGE_TIME_BYTES = 8.0     # per time sample of the span: the sample times (float64), made whole before the chunks
SUN_NODE_BYTES = 22_500.0     # per hourly node of a Sun track (core.sun.SunTrack), while skyfield computes them:
#   tracemalloc peak 194 MB for one year (8,769 nodes), 777 MB for four: 22.1 kB a node. Every step that
#   needs night or sunlight builds one over the whole span, so it grows with the span (100 years: 19 GB).
COVERAGE_SATELLITE_BYTES = 45_000.0  # per satellite: the start-instant footprint GeoJSON the coverage command writes
#   (Python lists of 181 vertices: 27 KB traced per satellite, ~45 KB of RSS with shapely's memory;
#   measured: 20,000 satellites add ~0.77 GB of RSS over 4,000, for 0.25 or 1 day alike)
BASE_BYTES = 0.0              # interpreter and imports are not counted (they are in RSS, not in the estimate)


def estimate_sun_track_bytes(duration_s: float, node_s: float = 3600.0) -> float:
    """Peak bytes of building a Sun track (``core.sun.SunTrack``) over ``duration_s`` (s)."""
    return (math.ceil(max(duration_s, 0.0) / node_s) + 3) * SUN_NODE_BYTES


def default_pass_step_s(altitude_km: float = 550.0) -> float:
    """The pass finder's coarse step (s) for a circular orbit at ``altitude_km``: a fortieth of
    the period, 120 s at most (as ``passes.finder.default_step_s``)."""
    period_s = 2.0 * math.pi * math.sqrt((WGS72_RE_KM + altitude_km) ** 3 / WGS72_MU_KM3_S2)
    return min(120.0, period_s / 40.0)


def expected_passes(n_satellites: int, n_stations: int, duration_s: float, altitude_km: float = 550.0,
                    min_elevation_deg: float = 10.0) -> float:
    """A generous count of passes over ``duration_s`` (s) of circular orbits at ``altitude_km``.

    Each satellite sees a station a fraction of the time equal to the cap's share of the
    sphere, (1 - cos cap) / 2, in passes of 0.6 x the longest (overhead) one. For 550 km,
    53 deg, a 10 deg mask it gives 6.3 passes per satellite-station-day, where 100 satellites
    x 10 stations x 2 days measured 4.3; ``tests/test_budget.py`` checks that it stays above
    the count of a real run."""
    re = EARTH_MEAN_RADIUS_KM
    el = math.radians(min_elevation_deg)
    cap = math.pi / 2 - el - math.asin(re / (re + altitude_km) * math.cos(el))
    share = (1.0 - math.cos(cap)) / 2.0
    v = math.sqrt(WGS72_MU_KM3_S2 / (WGS72_RE_KM + altitude_km))
    longest_s = 2.0 * cap * (re + altitude_km) / v
    return n_satellites * n_stations * duration_s * share / (0.6 * longest_s)


def estimate_passes_bytes(n_satellites: int, n_stations: int, duration_s: float, step_s: float | None = None, *,
                          altitude_km: float = 550.0, n_passes: float | None = None,
                          chunk_states: int = PASS_CHUNK_STATES) -> float:
    """Peak bytes of ``passes.finder.find_passes`` for ``n_satellites`` x ``n_stations`` over
    ``duration_s`` (s) sampled every ``step_s`` (s; default :func:`default_pass_step_s`).

    ``n_passes`` is the number of passes if known (else :func:`expected_passes`). Past one
    chunk of ``chunk_states`` coarse states only the per-pass terms grow."""
    step = step_s or default_pass_step_s(altitude_km)
    n_time = math.ceil(duration_s / step) + 1
    per_chunk = max(1, chunk_states // n_time)
    states = min(n_satellites, per_chunk) * n_time
    passes = expected_passes(n_satellites, n_stations, duration_s, altitude_km) if n_passes is None else n_passes
    in_chunk = passes * min(n_satellites, per_chunk) / max(n_satellites, 1)
    return BASE_BYTES + states * PASS_STATE_BYTES + in_chunk * PASS_CHUNK_ROW_BYTES + passes * PASS_ROW_BYTES \
        + estimate_sun_track_bytes(duration_s)


def estimate_key_bytes(n_windows: float, longest_window_s: float = 600.0, mean_window_s: float | None = None,
                       slot_s: float = 1.0, max_slots: int = KEY_MAX_SLOTS,
                       batch_slots: int = KEY_BATCH_SLOTS) -> float:
    """Peak bytes of ``key.per_pass.pass_keys`` for ``n_windows`` QKD windows, the longest
    ``longest_window_s`` (s) and on average ``mean_window_s`` (s; default half the longest),
    cut into slots of ``slot_s`` (s; at most ``max_slots`` per window).

    Windows are processed in batches of about ``batch_slots`` slots, so past one batch only
    the per-window results grow."""
    width = min(max_slots, math.ceil(longest_window_s / slot_s))
    mean = longest_window_s / 2.0 if mean_window_s is None else mean_window_s
    per_window = max(1, min(max_slots, math.ceil(mean / slot_s)))
    in_batch = min(n_windows, math.ceil(batch_slots / per_window) + 1)
    return BASE_BYTES + in_batch * width * KEY_CELL_BYTES + in_batch * per_window * KEY_SLOT_BYTES \
        + n_windows * KEY_WINDOW_BYTES


def estimate_coverage_bytes(n_satellites: int, n_points: int, n_time: int | None = None, *,
                            duration_s: float | None = None,
                            chunk_states: int = COVERAGE_CHUNK_STATES) -> float:
    """Peak bytes of ``coverage.statistics.coverage`` of ``n_satellites`` on ``n_points`` grid
    points over ``n_time`` samples (None: a span longer than one chunk) of a span of
    ``duration_s`` (s). The propagated states stop growing past one chunk of ``chunk_states``
    satellite-states; the sample times (8 B each) and the Sun track of the span (night
    statistics, :func:`estimate_sun_track_bytes`) keep growing with the span."""
    per_block = max(1, chunk_states // max(n_satellites, 1))
    states = n_satellites * (per_block if n_time is None else min(per_block, n_time))
    span = (0.0 if n_time is None else n_time * COVERAGE_TIME_BYTES) \
        + (0.0 if duration_s is None else estimate_sun_track_bytes(duration_s))
    return (BASE_BYTES + COVERAGE_SUN_BYTES + states * COVERAGE_STATE_BYTES + n_points * COVERAGE_POINT_BYTES
            + n_satellites * COVERAGE_SATELLITE_BYTES + span)


def estimate_network_bytes(n_satellites: int, n_link_stations: int, n_links: int, n_days: int, runs: int,
                           n_station_nights: int, n_contacts: int = 0) -> float:
    """Peak bytes of the weather Monte Carlo (``network.weather.relay_weather``): float64 pools per
    satellite and link station, ledgers per satellite, deliveries per link and day, one
    clear/cloudy draw per station-night, each x ``runs``; plus ~200 B per contact."""
    per_run = 8.0 * (n_satellites * (n_link_stations + 5) + n_links * n_days) + 9.0 * n_station_nights
    return BASE_BYTES + runs * per_run + 200.0 * n_contacts


def _machine_bytes() -> float:
    """``MemAvailable`` from /proc/meminfo, else free pages x page size (``os.sysconf``)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _status_bytes(key: str) -> float | None:
    """A ``kB`` line of /proc/self/status (``VmSize``: the address space in use) in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_number(path: str) -> float | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
        return None if text == "max" else float(text)
    except (OSError, ValueError):
        return None


def memory_limits() -> list[tuple[float, str]]:
    """Every limit on what this process can still allocate, each with the words that name it:
    the machine's available memory, the process's address-space limit (``RLIMIT_AS``, set by
    ``ulimit -v``) less the address space in use, and its cgroup v2 limit (a container's
    ``memory.max``) less the cgroup's usage."""
    limits = [(_machine_bytes(), "this machine has {} available")]
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            used = _status_bytes("VmSize") or 0.0
            limits.append((max(0.0, float(soft) - used), "this process may map {} more: ulimit -v / RLIMIT_AS"))
    except (ImportError, OSError, ValueError):
        pass
    cgroup_max, cgroup_now = _read_number("/sys/fs/cgroup/memory.max"), _read_number("/sys/fs/cgroup/memory.current")
    if cgroup_max is not None:
        limits.append((max(0.0, cgroup_max - (cgroup_now or 0.0)), "its control group allows {} more"))
    return limits


def available_bytes() -> float:
    """Memory a new allocation can get now: the smallest of :func:`memory_limits`."""
    return min(limit for limit, _ in memory_limits())


def describe_size(n_satellites: int, n_stations: int, n_time: int) -> str:
    """The size of a run in words, for :func:`check_memory`'s message."""
    return f"{n_satellites} satellites x {n_stations} stations x {n_time} steps"


class OverBudget(ValueError):
    """An estimate over the memory budget; ``expected`` and ``found`` say it in words."""

    def __init__(self, expected: str, found: str):
        self.expected, self.found = expected, found
        super().__init__(f"expected {expected}, found {found}")


def check_memory(estimate_bytes: float, what: str, limit_bytes: float | None = None) -> float:
    """Raise :class:`OverBudget` when ``estimate_bytes`` exceeds ``FRACTION`` of ``limit_bytes``
    (default: :func:`available_bytes`, the memory available now); a non-finite estimate never
    fits. Returns the estimate.

    ``what`` describes the size, e.g. ``describe_size(n_sat, n_st, n_time)``. The words read
    "expected a scenario needing <= 15.4 GiB (this machine has 22.0 GiB available), found an
    estimated 40.1 GiB for 20000 satellites x 30 stations x 5041 steps".
    """
    limit = available_bytes() if limit_bytes is None else float(limit_bytes)
    if not math.isfinite(estimate_bytes) or estimate_bytes > FRACTION * limit:
        words = "this machine has {} available"
        if limit_bytes is None:
            words = next((w for bound, w in memory_limits() if bound == limit), words)
        raise OverBudget(f"a scenario needing <= {FRACTION * limit / GIB:.1f} GiB "
                         f"({words.format(f'{limit / GIB:.1f} GiB')})",
                         f"an estimated {estimate_bytes / GIB:.1f} GiB for {what}")
    return estimate_bytes


def mean_altitude_km(mean_motions_rad_min) -> float:
    """Mean altitude of circular orbits with these SGP4 mean motions (rad/min; 200 km at
    least; 550 km for none)."""
    if not len(mean_motions_rad_min):
        return 550.0
    a = [(WGS72_MU_KM3_S2 / (n / 60.0) ** 2) ** (1.0 / 3.0) for n in mean_motions_rad_min]
    return max(200.0, sum(a) / len(a) - WGS72_RE_KM)
