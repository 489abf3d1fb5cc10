"""Coverage benchmark: 1,000 satellites, 1 deg equal-area grid, one day at 60 s, 20 deg mask.

Run:  python benchmarks/bench_coverage.py [--repeat 3] [--json out.json]

Measures, in one process:
  floor      SGP4 propagation of the same 1.44 M states (one call, and in the chunks the
             coverage driver uses; the faster of the two is the floor)
  coverage   constellation.coverage.statistics.coverage(): propagation + fast kernel + statistics
  kernel     the same on positions already in memory (coverage_from_positions)
  numpy      the fast kernel's pure-numpy backend (counts only), for reference
  dense      naive dense numpy (sat x point per step) on a few steps, extrapolated to the day
  memory     tracemalloc peak of a coverage() run (numpy buffers are traced) and the process RSS
Target (issue 5): coverage within 3x of the propagation floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import time
import tracemalloc

import numpy as np

from constellation.constants import COVERAGE_CHUNK_STATES
from constellation.coverage import grid as cg
from constellation.coverage import kernels as cv
from constellation.coverage import statistics as cs
from constellation.core import orbits
from constellation.core.propagation import Propagator
from constellation.core.timebase import TimeBase, parse_utc

EPOCH = dt.datetime(2024, 3, 20, tzinfo=dt.timezone.utc)


def best_of(repeat, fn):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dense-steps", type=int, default=3)
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args(argv)

    items = orbits.walker("delta", 1000, 40, 1, 550.0, 53.0, EPOCH)
    sats = [orbits.satrec_from_elements(el, 10000 + i) for i, (_, _, el) in enumerate(items)]
    prop = Propagator(sats, TimeBase(parse_utc(EPOCH)))
    grid = cg.equal_area_grid(1.0)
    step_s, duration_s, mask = 60.0, 86400.0, 20.0
    t = np.arange(int(duration_s / step_s)) * step_s
    n_states = len(sats) * t.size
    chunk = max(1, COVERAGE_CHUNK_STATES // len(sats))

    t0 = time.perf_counter()
    cs.coverage(prop, grid, 3 * step_s, step_s, min_elevation_deg=mask)  # numba compile or cache load
    warmup_s = time.perf_counter() - t0

    prop_one_s, states = best_of(args.repeat, lambda: prop.states(t))
    prop_chunked_s, _ = best_of(args.repeat, lambda: [prop.states(t[i:i + chunk]) for i in range(0, t.size, chunk)])
    floor_s = min(prop_one_s, prop_chunked_s)

    coverage_s, result = best_of(args.repeat, lambda: cs.coverage(prop, grid, duration_s, step_s,
                                                                  min_elevation_deg=mask))
    night_s, _ = best_of(args.repeat, lambda: cs.coverage(prop, grid, duration_s, step_s, min_elevation_deg=mask,
                                                          night_sun_elevation_deg=-12.0))
    kernel_s, _ = best_of(args.repeat, lambda: cs.coverage_from_positions(
        states.r_km, step_s, grid, valid=states.valid, min_elevation_deg=mask))
    numpy_steps = 240
    numpy_s, _ = best_of(1, lambda: cv.covering_counts(states.r_km[:, :numpy_steps], grid, mask,
                                                       valid=states.valid[:, :numpy_steps], backend="numpy"))
    numpy_day_s = numpy_s * t.size / numpy_steps
    k = args.dense_steps
    dense_s, dense = best_of(1, lambda: cv.covering_counts_dense(states.r_km[:, :k], grid, mask,
                                                                  valid=states.valid[:, :k]))
    dense_day_s = dense_s * t.size / k
    fast = cv.covering_counts(states.r_km[:, :k], grid, mask, valid=states.valid[:, :k])
    assert np.array_equal(fast, dense), "fast kernel and dense reference disagree"
    del states

    tracemalloc.start()
    cs.coverage(prop, grid, duration_s, step_s, min_elevation_deg=mask)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    backend = cv.resolve_backend("auto")
    numbers = {
        "satellites": len(sats), "grid_points": grid.size, "time_steps": int(t.size), "states": n_states,
        "min_elevation_deg": mask, "backend": backend, "cpu_count": __import__("os").cpu_count(),
        "python": platform.python_version(), "numpy": np.__version__,
        "warmup_s": warmup_s,
        "propagation_one_call_s": prop_one_s, "propagation_chunked_s": prop_chunked_s,
        "propagation_floor_s": floor_s, "propagation_us_per_state": floor_s / n_states * 1e6,
        "coverage_s": coverage_s, "coverage_with_night_s": night_s,
        "coverage_over_floor": coverage_s / floor_s,
        "kernel_and_statistics_s": kernel_s,
        "numpy_backend_counts_day_s_extrapolated": numpy_day_s,
        "dense_numpy_day_s_extrapolated": dense_day_s, "dense_steps_timed": k,
        "dense_over_coverage": dense_day_s / coverage_s,
        "tracemalloc_peak_mb": peak / 2**20, "max_rss_mb": rss_mb,
        "global_coverage_fraction": result.summary()["global_coverage_fraction"],
        "mean_revisit_gap_s": result.summary()["mean_revisit_gap_s"],
        "max_revisit_gap_s": result.summary()["max_revisit_gap_s"],
    }
    width = max(len(key) for key in numbers)
    for key, value in numbers.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text}")
    verdict = "PASS" if numbers["coverage_over_floor"] <= 3.0 else "MISS"
    print(f"target coverage <= 3 x propagation floor: {numbers['coverage_over_floor']:.2f}x  {verdict}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(numbers, fh, indent=2)


if __name__ == "__main__":
    main()
