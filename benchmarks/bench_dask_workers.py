"""Benchmark: designs per minute on Dask workers a user starts, against the local cluster.

Issue 18 (item 11): workers started with ``dask worker`` run under Dask's nanny, which sets
``MALLOC_TRIM_THRESHOLD_`` and so switches off glibc's adaptive mmap threshold; the local
cluster of ``constellation size`` removes the variable. ``sizing.runners.evaluate_design`` now
resets the thresholds in such a worker (``mallopt``). The space is ``bench_sizing.py``'s
(seeded subset). Run by hand, in a shell:

    dask scheduler --port 8799 --dashboard-address 127.0.0.1:0 &
    dask worker tcp://127.0.0.1:8799 --nworkers 2 --nthreads 1 &      # or: two --no-nanny workers
    python benchmarks/bench_dask_workers.py tcp://127.0.0.1:8799 24
    python benchmarks/bench_dask_workers.py local 24                  # the local cluster, 2 workers
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sizing import pick, scenario_data, timed  # noqa: E402

from constellation.scenario.build import scenario_from_dict  # noqa: E402
from constellation.sizing.runners import DaskRunner, Problem  # noqa: E402
from constellation.sizing.scenario_files import problem_base  # noqa: E402


def main() -> None:
    address, n_designs = sys.argv[1], int(sys.argv[2])
    scenario = scenario_from_dict(scenario_data(), source="bench_sizing")
    chosen = pick(scenario, n_designs)
    problem = Problem(problem_base(scenario), scenario.source, key_slot_s=scenario.sweep.key_slot_s)
    runner = DaskRunner(problem, address=None if address == "local" else address, n_workers=2)
    try:
        timed(runner, scenario, chosen[:2])  # warm the workers (imports, ephemeris)
        wall, records = timed(runner, scenario, chosen)
        print(f"{address}: {len(records)} designs in {wall:.1f} s, {60 * len(records) / wall:.1f} designs/min")
    finally:
        runner.close()


if __name__ == "__main__":
    main()
