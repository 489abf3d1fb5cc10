"""Benchmark: design sweeps (issue 6): designs per minute, 1 -> 2 Dask workers, and the profile.

The space: inclined Walker delta shells at 550 km (inclination 45/53/60/70/97.6 deg,
2-10 planes, 2-10 satellites per plane, <= 100 satellites), over 30 stations (the 21
built-in ones and 9 seeded random sites; each with a receiver), 20 seeded random links,
7 days, night-only windows, key with the "jinan-1" terminal and 100 weather runs. Pruning is
off so every run evaluates exactly the same designs.

Measured in the same run:
  * baseline: the designs evaluated one after another in this process (SerialRunner);
  * a dask LocalCluster with 1 worker process, then with 2 (threads_per_worker=1);
  * the per-stage profile of the evaluations (from each record's timings).

Not collected by pytest. Run (an evaluation takes ~3-4 s on this machine since the link-aware
schedule, so the 405-design space takes ~25 minutes per runner):

    /work/venv/bin/python benchmarks/bench_sizing.py [--designs 120] [--skip-serial]
    /work/venv/bin/python benchmarks/bench_sizing.py --designs 40 --baseline REV  # before (REV) vs after
    /work/venv/bin/python benchmarks/bench_sizing.py --designs 405 --profile 12   # where the time goes (12 designs spread over the space)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from constellation.scenario.build import scenario_from_dict
from constellation.sizing.scenario_files import problem_base
from constellation.scenario.stations import builtin_receiver, catalogue_names
from constellation.sizing.designs import expand_designs
from constellation.sizing.runners import DaskRunner, Problem, SerialRunner, evaluate_design


def scenario_data(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    # Built-in stations keep their receivers; those without one (and the random sites) get the
    # 0.6 m class, so that every design is evaluated through key and relay, not stopped by the
    # receiver check (before issue 16 Ngari and the random sites had none: every record was an
    # error after pass finding).
    stations = [{"name": n, "min_elevation_deg": 15.0} | ({} if builtin_receiver(n)[0] else {"receiver": "telescope-0.6m"})
                for n in catalogue_names()]
    while len(stations) < 30:
        lat = float(np.degrees(np.arcsin(rng.uniform(-0.8, 0.9))))
        stations.append({"name": f"Site{len(stations):02d}", "latitude_deg": round(lat, 3),
                         "longitude_deg": round(float(rng.uniform(-180, 180)), 3), "receiver": "telescope-0.6m",
                         "min_elevation_deg": 15.0})
    for st in stations:
        st["clear_sky_probability"] = round(float(rng.uniform(0.3, 0.7)), 2)
    pairs = set()
    while len(pairs) < 20:
        a, b = sorted(rng.choice(len(stations), 2, replace=False).tolist())
        pairs.add((a, b))
    start = dt.datetime(2027, 3, 16, tzinfo=dt.UTC)
    designs = [{"name": "walker", "family": "walker", "altitude_km": 550.0,
                "inclination_deg": [45.0, 53.0, 60.0, 70.0, 97.6], "planes": list(range(2, 11)),
                "sats_per_plane": list(range(2, 11)), "phasing": 1}]
    return {
        "scenario": {"name": "sizing benchmark", "start": start, "end": start + dt.timedelta(days=7)},
        "stations": stations, "constraints": {"station_sun_max_elevation_deg": -12.0},
        "link": {"preset": "jinan-1"}, "qkd": {"preset": "jinan-1"},
        "network": {"weather_runs": 100, "seed": 1},
        "links": [{"a": stations[a]["name"], "b": stations[b]["name"]} for a, b in sorted(pairs)],
        "designs": designs, "targets": {"min_key_bits_per_day": 1e6}, "sweep": {"prune": False},
    }


def pick(scenario, n_designs: int, seed: int = 0):
    """A seeded subset of the space (every design when n_designs >= its size)."""
    all_designs = expand_designs(scenario.designs)
    rng = np.random.default_rng(seed)
    keep = sorted(rng.choice(len(all_designs), min(n_designs, len(all_designs)), replace=False).tolist())
    return [all_designs[k] for k in keep]


def timed(runner, scenario, chosen):
    started = time.perf_counter()
    records = {}
    for design_id, record in runner.run([(d.id, d.satellites) for d in chosen]):
        records[design_id] = record
    return time.perf_counter() - started, records


def _spin(n: int = 8_000_000) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def _stream(n: int = 30) -> float:
    a = np.random.default_rng(0).random(4_000_000)
    for _ in range(n):
        a = np.sin(a) * 1.0001
    return float(a.sum())


def machine_ceiling() -> dict:
    """What two processes gain over one on this machine for a pure-CPU loop and a memory-bound
    numpy loop (two jobs one after the other vs at once): the most a 2-worker sweep can get."""
    import multiprocessing as mp

    out = {}
    with mp.get_context("spawn").Pool(2) as pool:
        for name, job in (("python loop", _spin), ("numpy streaming", _stream)):
            pool.apply(job)  # warm both
            started = time.perf_counter()
            pool.apply(job)
            pool.apply(job)
            serial = time.perf_counter() - started
            started = time.perf_counter()
            [r.get() for r in [pool.apply_async(job), pool.apply_async(job)]]
            out[name] = serial / (time.perf_counter() - started)
    return out


def profile(problem, chosen) -> None:
    """cProfile of in-process evaluations, broken down by step (cProfile inflates Python-level
    parts a little)."""
    import cProfile
    import pstats

    warm = evaluate_design(problem, chosen[0].satellites)
    if "error" in warm:
        raise SystemExit(f"the evaluation failed: {warm['error']}")
    prof = cProfile.Profile()
    prof.enable()
    for design in chosen:
        evaluate_design(problem, design.satellites)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt

    def cumulative(name):
        return sum(v[3] for k, v in stats.stats.items() if name in f"{k[0]}:{k[2]}")

    print(f"cProfile of {len(chosen)} evaluations ({total:.1f} s):")
    for label, key in [("pass finding (find_passes)", "finder.py:find_passes"),
                       ("key per pass (pass_keys)", "per_pass.py:pass_keys"),
                       ("  SGP4 at window slot centres", "propagation.py:pairwise"),
                       ("  link loss", "link.py:link_loss"), ("  decoy BB84 + finite key", "decoy_bb84.py:key_for_profile"),
                       ("relay network (plan_relay)", "plan.py:plan_relay"),
                       ("  schedule (schedule.schedule)", "schedule.py:schedule"),
                       ("    integer programme (HiGHS, milp.solve_milp)", "milp.py:solve_milp"),
                       ("    LP relaxation and flows (milp.solve_lp)", "milp.py:solve_lp"),
                       ("  relay in time (relay.relay_key)", "relay.py:relay_key"),
                       ("  weather Monte Carlo", "weather.py:relay_weather"),
                       ("station metrics", "evaluate.py:station_metrics"),
                       ("scenario from the design", "build.py:scenario_from_dict"),
                       ("SGP4 itself (every call)", "_sgp4")]:
        print(f"  {label:46s} {cumulative(key):7.2f} s {100 * cumulative(key) / total:5.1f} %")


def one_runner(problem, chosen, workers: int, path: str) -> None:
    """Time one Dask LocalCluster of ``workers`` on the designs and write wall time, records and
    the package that ran them to ``path`` (JSON): one side of ``--baseline``."""
    import constellation

    runner = DaskRunner(problem, n_workers=workers)
    try:
        timed(runner, None, chosen[:2])  # warm the workers (imports, numba, ephemeris)
        wall, records = timed(runner, None, chosen)
        # the package each worker evaluated with (they inherit PYTHONPATH; checked, not assumed)
        packages = [constellation.__file__, *runner.client.run(_package_file).values()]
    finally:
        runner.close()
    failed = [r["error"] for r in records.values() if "error" in r]
    if failed:
        raise SystemExit(f"{len(failed)} of {len(records)} evaluations failed, e.g. {failed[0]}")
    Path(path).write_text(json.dumps({"wall_s": wall, "packages": packages,
                                      "records": {k: _strip(v) for k, v in records.items()}}, default=float))


def _package_file() -> str:
    import constellation

    return constellation.__file__


def compare_with(revision: str, n_designs: int) -> None:
    """Designs/min of the code at ``revision`` ("before", its ``constellation/`` exported from
    git and put first on PYTHONPATH, which the Dask workers inherit) and of this tree ("after"),
    with 1 and 2 workers, interleaved in one run (one run a side: on a shared machine, repeat
    it); and whether every design's metrics agree. The revision must have per-station
    receivers (issue 13), which this benchmark's stations use."""
    root = Path(__file__).resolve().parents[1]
    results = {}
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run(f"git -C {root} archive {revision} constellation | tar -x -C {tree}", shell=True, check=True)
        for workers in (1, 2):
            for side in ("before", "after"):
                env = dict(os.environ)
                if side == "before":
                    env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
                out = Path(tree) / f"{side}{workers}.json"
                subprocess.run([sys.executable, __file__, "--designs", str(n_designs), "--one-runner", str(workers),
                                str(out)], env=env, check=True, stdout=subprocess.DEVNULL)
                results[side, workers] = json.loads(out.read_text())
                wanted = tree if side == "before" else str(root)
                for package in results[side, workers]["packages"]:  # this process and every worker
                    if not package.startswith(wanted):
                        raise SystemExit(f"{side}: ran {package}, not the tree under {wanted}")
    print(f"before = {revision}, after = this tree; {n_designs} designs")
    print("| workers | before designs/min | after designs/min | after / before |")
    print("|---|---|---|---|")
    for workers in (1, 2):
        b, a = (60.0 * n_designs / results[side, workers]["wall_s"] for side in ("before", "after"))
        print(f"| {workers} | {b:.1f} | {a:.1f} | x{a / b:.2f} |")
    ref = results["before", 1]["records"]
    same = all(results[key]["records"] == ref for key in results)
    print(f"identical metrics, before and after, 1 and 2 workers: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", type=int, default=120)
    parser.add_argument("--skip-serial", action="store_true", help="Skip the in-process baseline.")
    parser.add_argument("--profile", type=int, metavar="N", help="Only profile N designs in this process.")
    parser.add_argument("--baseline", metavar="REV", help="Compare designs/min with the code at git revision REV "
                        "(1 and 2 workers each, interleaved) and check the metrics are identical.")
    parser.add_argument("--one-runner", nargs=2, metavar=("WORKERS", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        compare_with(args.baseline, args.designs)
        return
    data = scenario_data()
    scenario = scenario_from_dict(data, source="bench_sizing")
    chosen = pick(scenario, args.designs)
    sats = [d.n_satellites for d in chosen]
    print(f"space: {len(chosen)} designs, {min(sats)}-{max(sats)} satellites (mean {np.mean(sats):.0f}), "
          f"{len(scenario.stations)} stations, {len(scenario.links)} links, 7 days")
    problem = Problem(problem_base(scenario), scenario.source, key_slot_s=scenario.sweep.key_slot_s)
    if args.one_runner:
        one_runner(problem, chosen, int(args.one_runner[0]), args.one_runner[1])
        return
    if args.profile:
        profile(problem, chosen[::max(1, len(chosen) // args.profile)][:args.profile])  # spread over the space
        return
    results = {}
    if not args.skip_serial:
        results["serial (baseline, this process)"] = timed(SerialRunner(problem), scenario, chosen)
    for workers in (1, 2):
        runner = DaskRunner(problem, n_workers=workers)
        try:
            timed(runner, scenario, chosen[:2])  # warm the workers (imports, numba, ephemeris)
            results[f"dask LocalCluster, {workers} worker(s)"] = timed(runner, scenario, chosen)
        finally:
            runner.close()
    for name, (_, records) in results.items():  # a timing of failed evaluations measures nothing
        failed = [r["error"] for r in records.values() if "error" in r]
        if failed:
            raise SystemExit(f"{name}: {len(failed)} of {len(records)} evaluations failed, e.g. {failed[0]}")
    base_name = next(iter(results))
    base = results[base_name][0]
    for name, (wall, records) in results.items():
        print(f"{name:34s} {wall:8.1f} s  {60.0 * len(records) / wall:7.1f} designs/min  "
              f"x{base / wall:5.2f} vs {base_name}")
    one, two = (results[f"dask LocalCluster, {w} worker(s)"][0] for w in (1, 2))
    print(f"speedup 1 -> 2 dask workers: x{one / two:.2f}")
    ceiling = machine_ceiling()
    print("machine ceiling, 2 processes vs 1 (same run): " +
          ", ".join(f"{name} x{value:.2f}" for name, value in ceiling.items()))
    reference = results[f"dask LocalCluster, {1} worker(s)"][1]
    same = all(_strip(reference[i]) == _strip(results["dask LocalCluster, 2 worker(s)"][1][i]) for i in reference)
    print(f"identical metrics with 1 and 2 workers: {same}")
    stages = {}
    for record in reference.values():
        for name, value in record.get("timings", {}).items():
            stages[name] = stages.get(name, 0.0) + value
    total = sum(r["eval_s"] for r in reference.values())
    stages["scenario build + other"] = total - sum(stages.values())
    wall_1 = results["dask LocalCluster, 1 worker(s)"][0]
    print(f"profile over {len(reference)} evaluations ({total:.1f} s inside tasks; "
          f"{wall_1 - total:.1f} s of dask overhead and serialisation with 1 worker):")
    for name, value in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24s} {value:7.1f} s  {100 * value / total:5.1f} %")


def _strip(record):
    return {k: v for k, v in record.items() if k not in ("timings", "eval_s")}


if __name__ == "__main__":
    main()
