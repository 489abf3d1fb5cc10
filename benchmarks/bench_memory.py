"""Memory benchmark: run one stage on a Walker shell and print its peak memory beside the estimate.

Run:  python benchmarks/bench_memory.py passes|key|coverage --satellites N [--stations 30]
          [--days 7] [--grid-deg 1] [--step-s 60] [--trace]

Prints one JSON line: wall time, peak RSS (``ru_maxrss``), the tracemalloc peak (with
``--trace``; numpy reports its buffers to tracemalloc) and the estimate of
``constellation.core.budget`` for the same work. Meant for a fresh process, so that the
peak RSS is this case's; for the largest cases wrap it in ``ulimit -v`` and
``/usr/bin/time``, as docs/reliability.md "Scale" does.

The scenario is built with ``scenario_from_dict`` and each stage runs through
``constellation.pipeline`` (``find_passes``, ``compute_keys``, ``compute_coverage``), as the
command line does: a Walker-delta shell at 550 km, 53 deg (planes ~ sqrt(N), phasing 1) over
stations spread in latitude -60..60 deg and in longitude, 10 deg mask, night windows (Sun
below -12 deg), Micius link and QKD presets, a 1 m receiver (``observatory-1m``) per station.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import resource
import time
import tracemalloc

import numpy as np

from constellation import pipeline
from constellation.core import budget
from constellation.scenario.build import scenario_from_dict

START = "2024-03-20T00:00:00Z"


def walker_scenario(n_satellites: int, n_stations: int, days: float, *, altitude_km: float = 550.0,
                    inclination_deg: float = 53.0, key: bool = True, start: str = START):
    """A Walker-delta shell of ``n_satellites`` (planes ~ sqrt(N)) over ``n_stations`` stations
    spread in latitude -60..60 deg and in longitude (golden-angle steps), for ``days``."""
    planes = max(1, round(math.sqrt(n_satellites)))
    while n_satellites % planes:
        planes -= 1
    t0 = dt.datetime.fromisoformat(start)
    end = (t0 + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stations = [{"name": f"G{k:03d}", "latitude_deg": -60.0 + 120.0 * (k + 0.5) / n_stations,
                 "longitude_deg": (k * 137.508) % 360.0 - 180.0, "min_elevation_deg": 10.0}
                | ({"receiver": "observatory-1m"} if key else {})  # key needs a receiver at each station
                for k in range(n_stations)]
    data = {"scenario": {"name": "scale", "start": start, "end": end},
            "satellites": [{"name": "w", "walker": "delta", "total": n_satellites, "planes": planes, "phasing": min(1, planes - 1),
                            "altitude_km": altitude_km, "inclination_deg": inclination_deg}],
            "stations": stations,
            "constraints": {"station_sun_max_elevation_deg": -12.0}}
    if key:
        data["link"] = {"preset": "micius"}
        data["qkd"] = {"preset": "micius"}
    return scenario_from_dict(data)


def run_passes(n_satellites: int, n_stations: int, days: float, key: bool) -> tuple[dict, float]:
    """Passes (and, with ``key``, the key of their windows); the numbers and the estimate."""
    scenario = walker_scenario(n_satellites, n_stations, days, key=key)
    table = pipeline.find_passes(scenario)
    out = {"n_stations": n_stations, "days": days, "n_passes": len(table), "n_windows": int(table.has_window.sum())}
    estimate = budget.estimate_passes_bytes(n_satellites, n_stations, scenario.duration_s, n_passes=len(table))
    if key:
        keys = pipeline.compute_keys(scenario, table)
        w = table.window_s[table.has_window]
        longest = float(w.max(initial=0.0))
        out.update(finite_key_bits=float(keys.finite_key_bits.sum()), longest_window_s=longest,
                   window_slots=float(np.ceil(w).sum()))
        key_estimate = budget.estimate_key_bytes(w.size, longest, float(w.mean()) if w.size else 0.0)
        estimate = max(estimate, key_estimate + len(table) * budget.PASS_ROW_BYTES)
    return out, estimate


def run_coverage(n_satellites: int, days: float, grid_deg: float, step_s: float) -> tuple[dict, float]:
    """Global coverage at a 20 deg mask; the numbers and the estimate."""
    scenario = walker_scenario(n_satellites, 1, days, key=False)
    result = pipeline.compute_coverage(scenario, grid_deg=grid_deg, step_s=step_s, min_elevation_deg=20.0)
    out = {"days": days, "grid_deg": grid_deg, "step_s": step_s, "n_points": result.grid.size,
           "mean_coverage": float(result.coverage_fraction.mean())}
    return out, budget.estimate_coverage_bytes(n_satellites, result.grid.size, result.n_time)


def measure(what: str, n_satellites: int, n_stations: int = 30, days: float = 7.0, grid_deg: float = 1.0,
            step_s: float = 60.0, trace: bool = False) -> dict:
    """Run one case; return wall time (s), peak RSS (bytes), the tracemalloc peak (bytes, with
    ``trace``) and the estimate (bytes)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    if what in ("passes", "key"):
        numbers, estimate = run_passes(n_satellites, n_stations, days, key=what == "key")
    elif what == "coverage":
        numbers, estimate = run_coverage(n_satellites, days, grid_deg, step_s)
    else:
        raise ValueError(f"expected passes, key or coverage, found {what!r}")
    out = {"what": what, "n_satellites": n_satellites, **numbers, "wall_s": time.perf_counter() - t0}
    if trace:
        out["traced_peak_bytes"] = float(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    out["rss_before_bytes"] = rss0
    out["estimate_bytes"] = estimate
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["passes", "key", "coverage"])
    parser.add_argument("--satellites", type=int, required=True)
    parser.add_argument("--stations", type=int, default=30)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--grid-deg", type=float, default=1.0)
    parser.add_argument("--step-s", type=float, default=60.0)
    parser.add_argument("--trace", action="store_true", help="also the tracemalloc peak (slower)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.what, args.satellites, args.stations, args.days, args.grid_deg, args.step_s,
                             args.trace)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
