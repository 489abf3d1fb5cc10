"""Memory budget: estimate what a run will allocate and refuse, with one line, what cannot fit.

The estimates follow how the steps allocate (read from the code, then checked against
measured peaks in ``tests/test_budget.py``):

* passes (``passes.find_passes``): satellites are processed in chunks of at most
  ``chunk_states`` (2,000,000) coarse states (satellite x sample). Per state the chunk holds
  SGP4 position/velocity, the interpolation track (acceleration and component-major copies)
  and, per station in turn, the elevation arrays of ``_coarse_candidates``: ~``PASS_STATE_BYTES``.
  The passes found in the chunk in flight cost ~``PASS_CHUNK_ROW_BYTES`` each while they are
  refined; above ~2e6 states (396 satellites over 7 days) only the finished table,
  ~``PASS_ROW_BYTES`` per pass, keeps growing with the constellation.
* key (``passkey.pass_keys``): windows go in batches of ~250,000 slots; a batch's slots are
  padded into a (windows x longest window) matrix and ``qkd.key_for_profile`` expands it by
  the three intensities: ~``KEY_CELL_BYTES`` per padded cell plus ``KEY_SLOT_BYTES`` per slot
  of one batch, plus ``KEY_WINDOW_BYTES`` per window for the results.
* coverage (``coverage.coverage``): positions are propagated ``chunk_states`` (60,000)
  satellite-states at a time; memory is a fixed chunk plus ~``COVERAGE_POINT_BYTES`` per grid
  point, plus ~``COVERAGE_SATELLITE_BYTES`` per satellite for the footprint GeoJSON that
  ``api.scenario_coverage`` builds alongside.
* network (``network.relay_weather``): the Monte Carlo keeps (satellites x link stations x runs),
  (links x days x runs) and (station-nights x runs) arrays.

``check_memory`` compares an estimate with the memory available now (``MemAvailable`` in
/proc/meminfo, else ``os.sysconf``) and raises :class:`constellation.errors.InputError`
when it exceeds ``FRACTION`` (70 %) of it.

``python -m constellation.budget passes|coverage ...`` runs one case and prints its wall time,
peak RSS and the estimate (the command behind docs/reliability.md "Scale").
"""

from __future__ import annotations

import math
import os

from ..constants import WGS72_MU_KM3_S2, WGS72_RE_KM

GIB = 1024.0 ** 3
FRACTION = 0.70

# Bytes per element, from the arrays each step allocates (see the module docstring) and
# checked against tracemalloc peaks (tests/test_budget.py).
PASS_STATE_BYTES = 180.0      # per coarse state in a chunk (r, v, a, copies, per-station temporaries)
PASS_CHUNK_ROW_BYTES = 1_200.0  # per pass found in the chunk in flight: candidates, brackets, refinement
PASS_ROW_BYTES = 250.0        # per pass kept: the table's columns, concatenated and sorted
PASS_CHUNK_STATES = 2_000_000  # passes.find_passes(chunk_states=...)
KEY_CELL_BYTES = 150.0        # per padded (window x slot) cell: loss/width/day matrices, x3 intensities
KEY_SLOT_BYTES = 200.0        # per slot: SGP4 state, look angles, link loss terms
KEY_WINDOW_BYTES = 120.0      # per window: the per-pass results and batch bookkeeping
COVERAGE_CHUNK_STATES = 60_000  # coverage.coverage(chunk_states=...)
COVERAGE_STATE_BYTES = 300.0  # per propagated state in a chunk (positions, caps, events)
COVERAGE_POINT_BYTES = 500.0  # per grid point: statistics and accumulators
COVERAGE_SUN_BYTES = 45e6     # the Sun track for night statistics (DE421 segments), measured
COVERAGE_SATELLITE_BYTES = 45_000.0  # per satellite: the start-instant footprint GeoJSON of api.scenario_coverage
#   (Python lists of 181 vertices: 27 KB traced per satellite, ~45 KB of RSS with shapely's memory;
#   measured: 20,000 satellites add ~0.77 GB of RSS over 4,000, for 0.25 or 1 day alike)
BASE_BYTES = 0.0              # interpreter and imports are not counted (they are in RSS, not in the estimate)


def default_pass_step_s(altitude_km: float = 550.0) -> float:
    """The pass finder's coarse step for a circular orbit (``passes.default_step_s``)."""
    period_s = 2.0 * math.pi * math.sqrt((6378.135 + altitude_km) ** 3 / 398600.8)
    return min(120.0, period_s / 40.0)


def expected_passes(n_satellites: int, n_stations: int, duration_s: float, altitude_km: float = 550.0,
                    min_elevation_deg: float = 10.0) -> float:
    """A generous count of passes: each satellite sees a station a fraction of the time equal to
    the cap's share of the sphere, (1 - cos cap) / 2, in passes of 0.6 x the longest (overhead)
    one. For 550 km, 53 deg, a 10 deg mask it gives 6.3 passes per satellite-station-day;
    100 satellites x 10 stations x 2 days measured 4.3 (tests/test_budget.py)."""
    re = 6371.0
    el = math.radians(min_elevation_deg)
    cap = math.pi / 2 - el - math.asin(re / (re + altitude_km) * math.cos(el))
    share = (1.0 - math.cos(cap)) / 2.0
    v = math.sqrt(398600.8 / (6378.135 + altitude_km))
    longest_s = 2.0 * cap * (re + altitude_km) / v
    return n_satellites * n_stations * duration_s * share / (0.6 * longest_s)


def estimate_passes_bytes(n_satellites: int, n_stations: int, duration_s: float, step_s: float | None = None, *,
                          altitude_km: float = 550.0, n_passes: float | None = None,
                          chunk_states: int = PASS_CHUNK_STATES) -> float:
    """Peak bytes of ``passes.find_passes`` for ``n_satellites`` x ``n_stations`` over ``duration_s``."""
    step = step_s or default_pass_step_s(altitude_km)
    n_time = math.ceil(duration_s / step) + 1
    per_chunk = max(1, chunk_states // n_time)
    states = min(n_satellites, per_chunk) * n_time
    passes = expected_passes(n_satellites, n_stations, duration_s, altitude_km) if n_passes is None else n_passes
    in_chunk = passes * min(n_satellites, per_chunk) / max(n_satellites, 1)
    return BASE_BYTES + states * PASS_STATE_BYTES + in_chunk * PASS_CHUNK_ROW_BYTES + passes * PASS_ROW_BYTES


def estimate_key_bytes(n_windows: float, longest_window_s: float = 600.0, mean_window_s: float | None = None,
                       slot_s: float = 1.0, max_slots: int = 900, batch_slots: int = 250_000) -> float:
    """Peak bytes of ``passkey.pass_keys`` for ``n_windows`` QKD windows (processed in
    batches of about ``batch_slots`` slots, so the peak stops growing past one batch)."""
    width = min(max_slots, math.ceil(longest_window_s / slot_s))
    mean = longest_window_s / 2.0 if mean_window_s is None else mean_window_s
    per_window = max(1, min(max_slots, math.ceil(mean / slot_s)))
    in_batch = min(n_windows, math.ceil(batch_slots / per_window) + 1)
    return BASE_BYTES + in_batch * width * KEY_CELL_BYTES + in_batch * per_window * KEY_SLOT_BYTES \
        + n_windows * KEY_WINDOW_BYTES


def estimate_coverage_bytes(n_satellites: int, n_points: int, n_time: int | None = None, *,
                            chunk_states: int = COVERAGE_CHUNK_STATES) -> float:
    """Peak bytes of ``coverage.coverage`` on ``n_points`` grid points (independent of the span
    beyond one chunk of ``chunk_states`` satellite-states)."""
    per_block = max(1, chunk_states // max(n_satellites, 1))
    states = n_satellites * (per_block if n_time is None else min(per_block, n_time))
    return (BASE_BYTES + COVERAGE_SUN_BYTES + states * COVERAGE_STATE_BYTES + n_points * COVERAGE_POINT_BYTES
            + n_satellites * COVERAGE_SATELLITE_BYTES)


def estimate_network_bytes(n_satellites: int, n_link_stations: int, n_links: int, n_days: int, runs: int,
                           n_station_nights: int, n_contacts: int = 0) -> float:
    """Peak bytes of the weather Monte Carlo (``network.relay_weather``): float64 pools per
    satellite and link station, ledgers per satellite, deliveries per link and day, one
    clear/cloudy draw per station-night, each x ``runs``; plus ~200 B per contact."""
    per_run = 8.0 * (n_satellites * (n_link_stations + 5) + n_links * n_days) + 9.0 * n_station_nights
    return BASE_BYTES + runs * per_run + 200.0 * n_contacts


def available_bytes() -> float:
    """Memory available to a new allocation now: ``MemAvailable`` from /proc/meminfo, else
    free pages x page size (``os.sysconf``)."""
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


def describe_size(n_satellites: int, n_stations: int, n_time: int) -> str:
    return f"{n_satellites} satellites x {n_stations} stations x {n_time} steps"


class OverBudget(ValueError):
    """An estimate over the memory budget; ``expected`` and ``found`` say it in words."""

    def __init__(self, expected: str, found: str):
        self.expected, self.found = expected, found
        super().__init__(f"expected {expected}, found {found}")


def check_memory(estimate_bytes: float, what: str, limit_bytes: float | None = None) -> float:
    """Raise :class:`OverBudget` when ``estimate_bytes`` exceeds ``FRACTION`` of ``limit_bytes``
    (default: the memory available now). Returns the estimate.

    ``what`` describes the size, e.g. ``describe_size(n_sat, n_st, n_time)``. The words read
    "expected a scenario needing <= 15.4 GiB (this machine has 22.0 GiB available), found an
    estimated 40.1 GiB for 20000 satellites x 30 stations x 5041 steps".
    """
    limit = available_bytes() if limit_bytes is None else float(limit_bytes)
    if not math.isfinite(estimate_bytes) or estimate_bytes > FRACTION * limit:
        raise OverBudget(f"a scenario needing <= {FRACTION * limit / GIB:.1f} GiB "
                         f"(this machine has {limit / GIB:.1f} GiB available)",
                         f"an estimated {estimate_bytes / GIB:.1f} GiB for {what}")
    return estimate_bytes


def mean_altitude_km(mean_motions_rad_min) -> float:
    """Mean altitude of circular orbits with these SGP4 mean motions (rad/min; 200 km at
    least; 550 km for none)."""
    if not len(mean_motions_rad_min):
        return 550.0
    a = [(WGS72_MU_KM3_S2 / (n / 60.0) ** 2) ** (1.0 / 3.0) for n in mean_motions_rad_min]
    return max(200.0, sum(a) / len(a) - WGS72_RE_KM)


# ----------------------------------------------------------------------------- measuring


def walker_scenario(n_satellites: int, n_stations: int, days: float, *, altitude_km: float = 550.0,
                    inclination_deg: float = 53.0, key: bool = True, start: str = "2024-03-20T00:00:00Z"):
    """A Walker-delta shell (planes ~ sqrt(N)) over stations spread in latitude -60..60 and
    longitude, built through ``scenario_from_dict`` as the command line does."""
    import datetime as dt

    from ..scenario.build import scenario_from_dict

    planes = max(1, round(math.sqrt(n_satellites)))
    while n_satellites % planes:
        planes -= 1
    t0 = dt.datetime.fromisoformat(start)
    end = (t0 + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stations = [{"name": f"G{k:03d}", "latitude_deg": -60.0 + 120.0 * (k + 0.5) / n_stations,
                 "longitude_deg": (k * 137.508) % 360.0 - 180.0, "min_elevation_deg": 10.0}
                for k in range(n_stations)]
    data = {"scenario": {"name": "scale", "start": start, "end": end},
            "satellites": [{"name": "w", "walker": "delta", "total": n_satellites, "planes": planes, "phasing": 1,
                            "altitude_km": altitude_km, "inclination_deg": inclination_deg}],
            "stations": stations,
            "constraints": {"station_sun_max_elevation_deg": -12.0}}
    if key:
        data["link"] = {"preset": "micius"}
        data["qkd"] = {"preset": "micius"}
    return scenario_from_dict(data)


def measure(what: str, n_satellites: int, n_stations: int = 30, days: float = 7.0, grid_deg: float = 1.0,
            step_s: float = 60.0, trace: bool = False) -> dict:
    """Run one case; return wall time, peak RSS (ru_maxrss), the tracemalloc peak (if
    ``trace``) and the estimate. Meant for a fresh process (``python -m constellation.budget``)."""
    import resource
    import time
    import tracemalloc

    import numpy as np

    from ..api import find_scenario_passes, scenario_coverage, scenario_pass_keys

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    out = {"what": what, "n_satellites": n_satellites}
    if what in ("passes", "key"):
        scenario = walker_scenario(n_satellites, n_stations, days, key=what == "key")
        table = find_scenario_passes(scenario)
        out.update(n_stations=n_stations, days=days, n_passes=len(table), n_windows=int(table.has_window.sum()))
        estimate = estimate_passes_bytes(n_satellites, n_stations, scenario.duration_s, n_passes=len(table))
        if what == "key":
            keys = scenario_pass_keys(scenario, table)
            w = table.window_s[table.has_window]
            out.update(finite_key_bits=float(keys.finite_key_bits.sum()), longest_window_s=float(w.max(initial=0.0)),
                       window_slots=float(np.ceil(w).sum()))
            estimate = max(estimate, estimate_key_bytes(w.size, float(w.max(initial=0.0)), float(w.mean()) if w.size else 0.0)
                           + len(table) * PASS_ROW_BYTES)
    elif what == "coverage":
        scenario = walker_scenario(n_satellites, 1, days, key=False)
        result, _ = scenario_coverage(scenario, grid_deg=grid_deg, step_s=step_s, min_elevation_deg=20.0)
        out.update(days=days, grid_deg=grid_deg, step_s=step_s, n_points=result.grid.size,
                   mean_coverage=float(result.coverage_fraction.mean()))
        estimate = estimate_coverage_bytes(n_satellites, result.grid.size, result.n_time)
    else:
        raise ValueError(what)
    out["wall_s"] = time.perf_counter() - t0
    if trace:
        out["traced_peak_bytes"] = float(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    out["rss_before_bytes"] = rss0
    out["estimate_bytes"] = estimate
    return out


def main(argv=None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(description="Run one scale case; print wall time, peak RSS and the estimate.")
    p.add_argument("what", choices=["passes", "key", "coverage"])
    p.add_argument("--satellites", type=int, required=True)
    p.add_argument("--stations", type=int, default=30)
    p.add_argument("--days", type=float, default=7.0)
    p.add_argument("--grid-deg", type=float, default=1.0)
    p.add_argument("--step-s", type=float, default=60.0)
    p.add_argument("--trace", action="store_true", help="also the tracemalloc peak (slower)")
    a = p.parse_args(argv)
    print(json.dumps(measure(a.what, a.satellites, a.stations, a.days, a.grid_deg, a.step_s, a.trace)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
