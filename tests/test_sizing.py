"""Sizing (issue 6) end to end: design families, pruning, local vs Dask runs, resume, outputs.

Everything runs the real chain (sgp4 passes -> finite key -> trusted-node relay) on a small
three-station network over three days, and real ``dask.distributed`` clusters on loopback.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from constellation.cli import main
from constellation.sizing.designs import dominates, expand_designs
from constellation.sizing.evaluate import check_targets
from constellation.sizing.search import SizingResult, design_rows, pareto_mask, search_designs
from constellation.scenario.build import load_scenario
from constellation.sizing.scenario_files import problem_base
from constellation.sizing.runners import (
    DaskRunner,
    Journal,
    Problem,
    SerialRunner,
    evaluate_design,
)

# --------------------------------------------------------------------------------------
# Scenario files
# --------------------------------------------------------------------------------------

NETWORK = """\
[scenario]
name = "small sizing"
start = 2027-03-01T00:00:00Z
end = 2027-03-04T00:00:00Z

[[stations]]
name = "Xinglong"
clear_sky_probability = 0.6
[[stations]]
name = "Graz"
clear_sky_probability = 0.5
[[stations]]
name = "Stellenbosch"
clear_sky_probability = 0.6

[constraints]
station_sun_max_elevation_deg = -12

[link]
preset = "jinan-1"
[qkd]
preset = "jinan-1"

[network]
weather_runs = 200

[[links]]
a = "Xinglong"
b = "Graz"
[[links]]
a = "Xinglong"
b = "Stellenbosch"
"""

# Two SSO lattices (500 km and 600 km, planes x sats per plane) and a GEO lattice: 20 designs.
SMALL_SPACE = """
[[designs]]
name = "leo-sso"
family = "sso"
altitude_km = [500.0, 600.0]
planes = [1, 2, 3]
sats_per_plane = [1, 2, 4]
ltan = ["22:30", "21:00", "00:00"]
unit_cost = 1.0
plane_cost = 0.5

[[designs]]
name = "geo"
family = "geo"
longitudes_deg = [60.0, 120.0]
count = [1, 2]
unit_cost = 8.0
"""

# A worst-link key target that one 500 km SSO satellite misses (~2.8e5 bit/day over these
# three days) and three planes of one satellite meet (~4.7e5 bit/day): the optimum sits in
# the middle of the space, not at its cheapest design.
TARGET = 4e5
TARGETS = f"""
[targets]
min_key_bits_per_day = {TARGET:g}
"""

# 36 SSO designs, exhaustive: several seconds serially, long enough to interrupt.
RESUME_SPACE = """
[[designs]]
name = "leo-sso"
family = "sso"
altitude_km = [500.0, 550.0, 600.0]
planes = [1, 2, 3]
sats_per_plane = [1, 2, 3, 4]
ltan = ["22:30", "21:00", "00:00"]
unit_cost = 1.0
plane_cost = 0.5

[targets]
min_key_bits_per_day = 4e5

[sweep]
prune = false
"""

CODE = "import sys; from constellation.cli import main; sys.exit(main(sys.argv[1:]))"


def write(folder: Path, name: str, *parts: str) -> Path:
    path = folder / name
    path.write_text("".join(parts))
    return path


def problem_of(scn) -> Problem:
    """The problem ``constellation size`` builds (its [sweep] key slot length included)."""
    return Problem(problem_base(scn), scn.source, scn.sweep.key_slot_s, tuple(scn.targets.regions))


def comparable(rows: list[dict]) -> list[dict]:
    """A design table without its only non-deterministic column (evaluation wall time)."""
    return [{k: v for k, v in row.items() if k != "eval_s"} for row in rows]


def csv_rows(path: Path) -> list[dict]:
    return comparable(list(csv.DictReader(io.StringIO(path.read_text()))))


def worst_key(record: dict) -> float:
    return min(r["key_bits_per_day"] for r in record["links"])


def run_size(scn, runner, journal=None, progress=None) -> SizingResult:
    try:
        return search_designs(scn, runner, journal, progress=progress)
    finally:
        runner.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sizing")


@pytest.fixture(scope="module")
def small_file(folder) -> Path:
    return write(folder, "small.toml", NETWORK, SMALL_SPACE, TARGETS)


@pytest.fixture(scope="module")
def small(small_file):
    return load_scenario(small_file)


@pytest.fixture(scope="module")
def pruned(small) -> SizingResult:
    """The default (pruned) search of the small space, in this process."""
    return run_size(small, SerialRunner(problem_of(small)))


@pytest.fixture(scope="module")
def exhaustive(folder) -> SizingResult:
    scn = load_scenario(write(folder, "small-exhaustive.toml", NETWORK, SMALL_SPACE, TARGETS,
                              "\n[sweep]\nprune = false\n"))
    return run_size(scn, SerialRunner(problem_of(scn)))


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes on loopback."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1", silence_logs=logging.ERROR) as c:
        yield c


# --------------------------------------------------------------------------------------
# 1. Feasibility along a chain of ever smaller designs
# --------------------------------------------------------------------------------------

def test_removing_satellites_eventually_violates_the_target(small):
    designs = expand_designs(small.designs)
    lattice = [d for d in designs if d.lattice == ("leo-sso", 500.0)]
    by_level = {d.level: d for d in lattice}
    # (planes, sats per plane), each design containing the next one's planes: every step
    # removes satellites with the altitude (the lattice) fixed.
    chain = [by_level[lv] for lv in [(3, 4), (3, 2), (3, 1), (2, 1), (1, 1)]]
    for bigger, smaller in itertools.pairwise(chain):
        assert dominates(bigger, smaller) and not dominates(smaller, bigger)
        assert smaller.n_satellites < bigger.n_satellites and smaller.cost < bigger.cost
    problem = problem_of(small)
    records = [evaluate_design(problem, d.satellites) for d in chain]
    verdicts = []
    for design, record in zip(chain, records):
        assert "error" not in record, record
        assert record["n_satellites"] == design.n_satellites
        checks = check_targets(record, small.targets, small.links)
        # One key check per [[links]] entry, each comparing the link's key with the target.
        assert [c["subject"] for c in checks] == ["Xinglong-Graz", "Xinglong-Stellenbosch"]
        assert all(c["target"] == "min_key_bits_per_day" and c["required"] == TARGET for c in checks)
        assert all(c["met"] == (c["value"] >= TARGET) for c in checks)
        verdicts.append(all(c["met"] for c in checks))
    # 12 satellites in three SSO planes deliver well over the target on both links ...
    assert verdicts[0], [worst_key(r) for r in records]
    # ... one satellite does not: it sees each station about twice a night at best.
    assert not verdicts[-1], [worst_key(r) for r in records]
    # Monotone along the chain: once a smaller design misses the target, every smaller one does.
    first_miss = verdicts.index(False)
    assert verdicts == [True] * first_miss + [False] * (len(verdicts) - first_miss)
    # Physics behind it: fewer satellites give fewer QKD windows and less total key.
    windows = [r["n_windows"] for r in records]
    totals = [r["key_bits_per_day"] for r in records]
    assert windows == sorted(windows, reverse=True) and windows[0] > windows[-1]
    assert totals == sorted(totals, reverse=True) and totals[0] > totals[-1]


def test_design_without_key_is_evaluated_not_an_error(small):
    """A GEO satellite is far too distant (~36,000 km, ~37 dB more geometric loss than a
    500 km pass) for the jinan-1 downlink to distil key: the design must be evaluated, with
    zero key and a missed target, not turned into an error record."""
    geo = next(d for d in expand_designs(small.designs) if d.family == "geo" and d.n_satellites == 1)
    record = evaluate_design(problem_of(small), geo.satellites)
    assert "error" not in record, record.get("error")
    assert record["n_satellites"] == 1
    assert record["key_bits_per_day"] == 0.0 and worst_key(record) == 0.0
    # Always above the horizon of a station it serves, so it sees every night hour there.
    assert max(s["night_coverage_fraction"] for s in record["stations"]) > 0.9
    checks = check_targets(record, small.targets, small.links)
    assert checks and not any(c["met"] for c in checks)


# --------------------------------------------------------------------------------------
# 2. Optimum, and the pruned search against the exhaustive one
# --------------------------------------------------------------------------------------

def test_best_is_feasible_and_nothing_cheaper_is(pruned):
    best = pruned.best()
    assert best is not None
    assert pruned.feasible[best.id] is True and best.id in pruned.records  # the optimum was evaluated
    assert all(c["met"] for c in pruned.checks[best.id])
    assert worst_key(pruned.records[best.id]) >= TARGET
    # The target sits mid-space: the cheapest designs (one satellite) miss it.
    cheapest = min(d.cost for d in pruned.designs)
    assert best.cost > cheapest
    for d in pruned.evaluated:
        if d.cost < best.cost:
            assert pruned.feasible[d.id] is False, d.label()
    # Designs decided without evaluation: a cheaper one can only have been implied infeasible.
    for design_id, verdict in pruned.feasible.items():
        if pruned.by_id(design_id).cost < best.cost:
            assert verdict is False
    # Pruning saved evaluations (the point of it), and every design got a verdict.
    assert len(pruned.records) < len(pruned.designs)
    assert set(pruned.records) | set(pruned.implied_by) == {d.id for d in pruned.designs}
    assert not set(pruned.records) & set(pruned.implied_by)
    # best_per_family agrees with best() for its family
    assert pruned.best_per_family()[best.family].id == best.id


@pytest.mark.slow
def test_exhaustive_search_agrees_with_pruned(pruned, exhaustive):
    assert exhaustive.implied_by == {}
    assert len(exhaustive.records) == len(exhaustive.designs) == 20
    # Assumption that makes pruning exact on this space, checked on the exhaustive verdicts:
    # within a lattice, a design with every count at least as large is feasible when the
    # smaller one is (here: more SSO satellites never lower a link's key over these 3 days).
    by_id = {d.id: d for d in exhaustive.designs}
    for a in exhaustive.designs:
        for b in exhaustive.designs:
            if a.id != b.id and dominates(a, b) and exhaustive.feasible[b.id]:
                assert exhaustive.feasible[a.id], (a.label(), b.label())
    # Same optimum ...
    assert exhaustive.best() is not None and pruned.best() is not None
    assert exhaustive.best().id == pruned.best().id
    # ... and the same verdict for every design the pruned search evaluated or implied.
    assert set(pruned.feasible) == set(by_id)
    for design_id, verdict in pruned.feasible.items():
        assert verdict == exhaustive.feasible[design_id], by_id[design_id].label()
    # Evaluated designs have identical records (evaluation is pure).
    for design_id, record in pruned.records.items():
        assert {k: v for k, v in record.items() if k not in ("eval_s", "timings")} == \
            {k: v for k, v in exhaustive.records[design_id].items() if k not in ("eval_s", "timings")}
    # Exhaustive view of the optimum: nothing cheaper in the whole space is feasible.
    best = exhaustive.best()
    assert not any(exhaustive.feasible[d.id] for d in exhaustive.designs if d.cost < best.cost)


# --------------------------------------------------------------------------------------
# 3, 4, 5. Serial vs Dask; the problem shipped once; a worker lost mid-sweep
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_dask_local_cluster_matches_serial(small, pruned):
    serial = comparable(design_rows(pruned))
    runner = DaskRunner(problem_of(small), n_workers=2)
    assert runner.n_workers == 2
    result = run_size(small, runner)
    assert comparable(design_rows(result)) == serial
    assert result.rounds == pruned.rounds  # rounds depend on results only, not on worker timing


@pytest.mark.slow
def test_dask_scheduler_address_matches_serial(small, pruned, cluster):
    runner = DaskRunner(problem_of(small), address=cluster.scheduler_address)
    assert runner.name == f"dask scheduler {cluster.scheduler_address}"
    assert runner.n_workers == 2
    result = run_size(small, runner)
    assert comparable(design_rows(result)) == comparable(design_rows(pruned))
    assert len(cluster.scheduler.workers) == 2  # closing the runner leaves a remote cluster running


@pytest.mark.slow
def test_cli_scheduler_matches_serial_cli(small_file, cluster, folder, capsys):
    serial_out, dask_out = folder / "cli-serial", folder / "cli-dask"
    assert main(["size", str(small_file), "--workers", "1", "--no-plots", "-o", str(serial_out)]) == 0
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    assert main(["size", str(small_file), "--scheduler", address, "--no-plots", "-o", str(dask_out)]) == 0
    assert csv_rows(dask_out / "designs.csv") == csv_rows(serial_out / "designs.csv")
    summary = json.loads((dask_out / "size.json").read_text())
    assert summary["runner"] == f"dask scheduler {address}"
    assert summary["best"]["id"] == json.loads((serial_out / "size.json").read_text())["best"]["id"]
    capsys.readouterr()


@pytest.mark.slow
def test_problem_is_scattered_once_and_tasks_refer_to_it(small, cluster):
    from distributed import Future

    problem = problem_of(small)
    runner = DaskRunner(problem, address=cluster.scheduler_address)
    try:
        client = runner.client
        workers = set(client.scheduler_info()["workers"])
        assert len(workers) == 2
        future = runner._problem_future
        assert isinstance(future, Future)
        # broadcast=True: every worker holds a replica before any task is submitted.
        assert set(client.who_has([future])[future.key]) == workers
        designs = expand_designs(small.designs)[:6]
        for _ in range(2):  # two batches (two planner rounds) ...
            gen = runner.run([(d.id, d.satellites) for d in designs])
            first = next(gen)  # all of the batch is submitted; finished ones are released
            deps = client.run_on_scheduler(
                lambda dask_scheduler: {str(k): sorted(str(d.key) for d in ts.dependencies)
                                        for k, ts in dask_scheduler.tasks.items() if str(k).startswith("design-")})
            assert len(designs) - 1 <= len(deps) <= len(designs)  # the first may be released already
            # Each task's only input is the scattered problem: the task refers to the Future,
            # the Problem itself is not pickled into the task.
            assert all(v == [str(future.key)] for v in deps.values()), deps
            done = [first, *gen]
            assert sorted(i for i, _ in done) == sorted(d.id for d in designs)
            assert all("error" not in r for _, r in done)
        # ... and no worker holds any problem but the scattered one: nothing was re-sent with
        # the tasks. (Dask's active memory manager may drop a broadcast replica it judges
        # redundant, every 2 s by default; a worker then fetches that same key again.)
        held = client.run(lambda dask_worker: [str(k) for k in dask_worker.data if str(k).startswith("Problem")])
        assert set(held) == workers
        assert all(keys in ([], [str(future.key)]) for keys in held.values()), held
        assert any(keys == [str(future.key)] for keys in held.values()), held
        problem_keys = client.run_on_scheduler(
            lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks if str(k).startswith("Problem")])
        assert problem_keys == [str(future.key)]
    finally:
        runner.close()


@pytest.mark.slow
def test_worker_killed_mid_sweep_costs_its_tasks_only(folder, exhaustive):
    """Kill a busy worker process mid-batch; the sweep still gives the serial table, and only
    the tasks that worker was running (not results it had already delivered) are rerun."""
    from distributed import LocalCluster

    # prune = false: one round holding all 20 designs, so the kill lands mid-batch.
    scn = load_scenario(write(folder, "small-kill.toml", NETWORK, SMALL_SPACE, TARGETS,
                              "\n[sweep]\nprune = false\n"))
    killed, seen = {}, []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1", silence_logs=logging.CRITICAL) as cluster:
        runner = DaskRunner(problem_of(scn), address=cluster.scheduler_address)

        def progress(done, total, message):
            # Runs in this thread between results, so no further result is consumed meanwhile.
            seen.append(message)
            if killed or len(seen) < 6:  # both workers have delivered results by now
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                busy = {addr: keys for addr, keys in runner.client.processing().items() if keys}
                if busy:
                    break
                time.sleep(0.005)
            assert busy, "no task running mid-batch: nothing to kill"
            # Of the busy workers, the one holding most finished design results: losing it
            # must not cost results the planner already has.
            held = runner.client.run_on_scheduler(lambda dask_scheduler: [
                ws.address for ts in dask_scheduler.tasks.values()
                if str(ts.key).startswith("design-") and ts.state == "memory" for ws in ts.who_has])
            address = max(sorted(busy), key=held.count)
            nanny = next(n for n in cluster.workers.values() if n.worker_address == address)
            killed.update(address=address, tasks=[str(k) for k in busy[address]], held=held.count(address))
            os.kill(nanny.process.pid, signal.SIGKILL)

        result = run_size(scn, runner, progress=progress)
        assert killed and killed["tasks"], "the kill did not happen mid-sweep"
        # The scheduler dropped the dead worker (its nanny may have started a fresh one).
        assert killed["address"] not in cluster.scheduler.workers
        runs: dict = {}
        for entry in cluster.scheduler.transition_log:  # (key, start, finish, recommendations, stimulus, time)
            if str(entry[0]).startswith("design-") and entry[2] == "processing":
                runs[str(entry[0])] = runs.get(str(entry[0]), 0) + 1
    assert len(runs) == 20
    rerun = sorted(k for k, n in runs.items() if n > 1)
    # The tasks the dead worker was running were run again ...
    assert set(killed["tasks"]) <= set(rerun), (killed, runs)
    # ... and nothing else, but for a task that may have finished on it between the
    # scheduler query and the kill: results already handed to the planner are not redone.
    assert len(rerun) <= len(killed["tasks"]) + 1, (killed, rerun)
    # The whole batch came back, each design once, with the serial records.
    assert result.evaluated_now == len(result.designs) == 20
    assert comparable(design_rows(result)) == comparable(design_rows(exhaustive))


# --------------------------------------------------------------------------------------
# 6. Pareto front
# --------------------------------------------------------------------------------------

def _dominates_point(a, b) -> bool:
    """a dominates b: cost and latency no higher, key no lower, one of them strictly better."""
    return (a[0] <= b[0] and a[1] >= b[1] and a[2] <= b[2]) and (a[0] < b[0] or a[1] > b[1] or a[2] < b[2])


def _check_front(points, mask):
    on = [p for p, m in zip(points, mask) if m]
    assert on, "a non-empty set has a non-empty front"
    for p, m in zip(points, mask):
        if m:
            assert not any(_dominates_point(q, p) for q in points), p
        else:
            # Off the front: dominated, and (dominance is transitive) by a design on the front.
            assert any(_dominates_point(q, p) for q in on), p


@pytest.mark.parametrize("fixture", ["pruned", pytest.param("exhaustive", marks=pytest.mark.slow)])
def test_pareto_front_of_design_table(fixture, request):
    result = request.getfixturevalue(fixture)
    rows = [r for r in design_rows(result) if r["status"] == "evaluated"]
    assert len(rows) == sum("error" not in r for r in result.records.values())
    # The table's front is over (cost, worst link key, worst link's longest wait for fresh key);
    # missing key counts as none and a missing wait as infinite, as in design_rows.
    points = [(r["cost"], r["worst_link_key_bits_per_day"] or 0.0,
               math.inf if r["worst_delivery_gap_h"] is None else r["worst_delivery_gap_h"]) for r in rows]
    flags = [r["pareto"] for r in rows]
    _check_front(points, flags)
    assert any(flags) and not all(flags)
    # The cheapest evaluated design with the most key at that cost is never dominated on cost.
    low = min(p[0] for p in points)
    top = max(p[1] for p in points if p[0] == low)
    assert any(f and p[0] == low and p[1] == top for p, f in zip(points, flags))
    # Implied designs are not on the front (no metrics to place them).
    assert all("pareto" not in r for r in design_rows(result) if r["status"] == "implied")


def test_pareto_mask_property_on_random_arrays():
    rng = np.random.default_rng(6)
    for trial in range(300):
        n = int(rng.integers(1, 25))
        # small integers give ties and duplicates; some latencies missing (NaN = infinite)
        cost = rng.integers(0, 6, n).astype(float)
        key = rng.integers(0, 6, n).astype(float)
        latency = rng.integers(0, 6, n).astype(float)
        latency[rng.random(n) < 0.2] = np.nan
        mask = pareto_mask(cost, key, latency)
        assert mask.dtype == bool and mask.shape == (n,)
        points = list(zip(cost, key, np.where(np.isnan(latency), np.inf, latency)))
        _check_front(points, mask)
        # Identical points share a verdict.
        for i in range(n):
            for j in range(n):
                if points[i] == points[j]:
                    assert mask[i] == mask[j]
    # A single strictly best design dominates everything else.
    assert pareto_mask([1, 2, 3], [9, 5, 1], [1, 2, 3]).tolist() == [True, False, False]
    # A trade-off (cheaper but less key) keeps both.
    assert pareto_mask([1, 2], [1, 2], [np.nan, np.nan]).tolist() == [True, True]


# --------------------------------------------------------------------------------------
# 7. Resume after an interrupted run
# --------------------------------------------------------------------------------------

def _valid_lines(path: Path) -> int:
    n = 0
    for line in path.read_text().splitlines():
        try:
            json.loads(line)
        except json.JSONDecodeError:
            continue
        n += 1
    return n


@pytest.mark.slow
def test_interrupted_sweep_resumes_from_journal(tmp_path, capsys):
    scenario = write(tmp_path, "resume.toml", NETWORK, RESUME_SPACE)
    out = tmp_path / "out"
    journal = out / "sweep.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", CODE, "size", str(scenario), "--workers", "1", "--no-plots",
                             "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and _valid_lines(journal) >= 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep finished before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    saved = _valid_lines(journal)
    assert 3 <= saved < 36
    assert not (out / "size.json").exists()  # killed before writing results

    # Rerunning the same command into the same folder resumes (no --force needed).
    rerun = main(["size", str(scenario), "--workers", "1", "--no-plots", "-o", str(out)])
    assert rerun == 0, capsys.readouterr().err.strip()
    summary = json.loads((out / "size.json").read_text())
    assert summary["designs"] == summary["evaluated"] == 36  # prune = false: everything evaluated
    assert summary["resumed_from_journal"] == saved
    assert summary["evaluated_this_run"] == summary["evaluated"] - summary["resumed_from_journal"]
    # every design recorded once in the journal
    ids = [json.loads(line)["id"] for line in journal.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 36

    reference = tmp_path / "reference"
    assert main(["size", str(scenario), "--workers", "1", "--no-plots", "-o", str(reference)]) == 0
    ref_summary = json.loads((reference / "size.json").read_text())
    assert ref_summary["resumed_from_journal"] == 0 and ref_summary["evaluated_this_run"] == 36
    assert csv_rows(out / "designs.csv") == csv_rows(reference / "designs.csv")
    assert summary["best"]["id"] == ref_summary["best"]["id"]

    # A third run finds everything in the journal and evaluates nothing.
    assert main(["size", str(scenario), "--workers", "1", "--no-plots", "-o", str(out)]) == 0
    again = json.loads((out / "size.json").read_text())
    assert again["resumed_from_journal"] == 36 and again["evaluated_this_run"] == 0


def test_journal_torn_last_line_does_not_swallow_the_next_record(tmp_path):
    """A process killed mid-write leaves a line without its newline; records appended by the
    resumed run must still load (the docstring promises only the torn line is ignored)."""
    journal = Journal(tmp_path / "sweep.jsonl", "fp")
    journal.append("a", {"x": 1})
    with open(journal.path, "a", encoding="utf-8") as handle:
        handle.write('{"fingerprint": "fp", "id": "b", "rec')  # torn: no closing brace, no newline
    assert journal.load() == {"a": {"x": 1}}
    journal.append("c", {"x": 3})
    assert journal.load() == {"a": {"x": 1}, "c": {"x": 3}}


# --------------------------------------------------------------------------------------
# 8. Bad input
# --------------------------------------------------------------------------------------

BAD_FAMILY = """
[[designs]]
name = "leo-sso"
family = "sso"
altitude_km = 500.0
planes = 1
sats_per_plane = 1
ltan = ["22:30"]
colour = "red"
"""

BAD_HYBRID = """
[[designs]]
name = "leo-sso"
family = "sso"
altitude_km = 500.0
planes = 1
sats_per_plane = 1
ltan = ["22:30"]

[[designs]]
name = "mix"
family = "hybrid"
parts = ["leo-sso", "no-such-family"]
"""

NO_TARGETS = """
[[designs]]
name = "geo"
family = "geo"
longitudes_deg = [60.0]
count = 1
"""


@pytest.mark.parametrize("name, space, targets, field, word", [
    ("unknown-key.toml", BAD_FAMILY, TARGETS, "designs[0].colour", "unknown key"),
    ("bad-hybrid.toml", BAD_HYBRID, TARGETS, "designs[1].parts", "no-such-family"),
    ("no-targets.toml", NO_TARGETS, "", "targets", "[targets]"),
])
def test_bad_sizing_input_is_one_line_exit_2(tmp_path, capsys, name, space, targets, field, word):
    path = write(tmp_path, name, NETWORK, space, targets)
    assert main(["size", str(path), "--workers", "1", "--no-plots", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert err.startswith("error: ") and str(path) in err and field in err and word in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "size.json").exists()


# --------------------------------------------------------------------------------------
# 9, 10. compare; best.toml
# --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_best_toml_reproduces_the_optimum(small_file, small, folder, capsys):
    out = folder / "cli-best"
    assert main(["size", str(small_file), "--workers", "1", "-o", str(out)]) == 0
    capsys.readouterr()
    summary = json.loads((out / "size.json").read_text())
    design = next(d for d in expand_designs(small.designs) if d.id == summary["best"]["id"])
    best = load_scenario(out / "best.toml")
    assert len(best.satellites) == design.n_satellites == summary["best"]["n_satellites"]
    assert sorted(s.name for s in best.satellites) == sorted(s["name"] for s in design.satellites)
    # Per-satellite unit costs (plane cost spread over the plane) add up to the design's cost;
    # the sum of float shares may differ from cost in the last bit only.
    assert best.cost == pytest.approx(design.cost, rel=1e-12, abs=0.0)
    assert best.designs == ()  # a plain scenario, ready to run ...
    assert best.targets == small.targets  # ... that carries the targets, for `compare` to check
    assert best.start == small.start and best.end == small.end
    assert [s.name for s in best.stations] == [s.name for s in small.stations]
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Running it gives the metrics the sweep recorded for the design.
    from constellation.sizing.evaluate import evaluate_scenario

    # With the sweep's key slot length the numbers are the sweep's own, to the bit ...
    metrics = evaluate_scenario(best, key_slot_s=small.sweep.key_slot_s)
    assert metrics["links"] and all(r["key_bits_per_day"] >= TARGET for r in metrics["links"])
    assert min(r["key_bits_per_day"] for r in metrics["links"]) == summary["best"]["worst_link_key_bits_per_day"]
    # ... and a plain run (1 s slots) differs only by the coarser integration along each pass.
    fine = evaluate_scenario(best)
    assert min(r["key_bits_per_day"] for r in fine["links"]) == pytest.approx(
        summary["best"]["worst_link_key_bits_per_day"], rel=0.01)


def test_compare_writes_csv_and_png(tmp_path, small, capsys):
    from constellation.sizing.scenario_files import design_scenario_toml

    designs = {d.level: d for d in expand_designs(small.designs) if d.lattice == ("leo-sso", 500.0)}
    a, b = designs[(1, 1)], designs[(3, 2)]
    path_a = write(tmp_path, "A.toml", design_scenario_toml(small, a))
    path_b = write(tmp_path, "B.toml", design_scenario_toml(small, b))
    out = tmp_path / "cmp"
    assert main(["compare", str(path_a), str(path_b), "-o", str(out)]) == 0
    capsys.readouterr()
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO((out / "compare.csv").read_text()))}
    name_a, name_b = load_scenario(path_a).name, load_scenario(path_b).name
    assert rows["satellites"][name_a] == str(a.n_satellites) == "1"
    assert rows["satellites"][name_b] == str(b.n_satellites) == "6"
    assert rows["satellites"]["best"] == name_a and rows["satellites"]["worst"] == name_b  # fewer is better
    assert float(rows["cost"][name_a]) == pytest.approx(a.cost) and float(rows["cost"][name_b]) == pytest.approx(b.cost)
    # Six satellites over three planes relay more key than one: B is best on total key.
    assert float(rows["total key per day"][name_b]) > float(rows["total key per day"][name_a])
    assert rows["total key per day"]["best"] == name_b
    for link in ("Xinglong-Graz", "Xinglong-Stellenbosch"):
        assert float(rows[f"key {link}"][name_b]) > float(rows[f"key {link}"][name_a])
    # The emitted files carry the [targets]: one satellite misses 4e5 bit/day on the worst link.
    assert (rows["targets met"][name_a], rows["targets met"][name_b]) == ("false", "true")
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


REGION_SPACE = """
[[designs]]
name = "leo-sso"
family = "sso"
altitude_km = 550.0
planes = [1, 2, 3]
sats_per_plane = [1, 2]
ltan = ["22:30", "21:00", "00:00"]

[targets]
[[targets.regions]]
name = "Europe"
region = [[-10.0, 36.0], [30.0, 36.0], [30.0, 60.0], [-10.0, 60.0]]
grid_deg = 5.0
step_s = 300.0
min_night_coverage_fraction = 0.02
"""


@pytest.mark.slow
def test_region_targets_are_evaluated_on_a_grid_and_can_bind(tmp_path):
    """A region target uses the coverage grid of the polygon (geometric night coverage):
    more satellites cover more of Europe's night, and the target decides feasibility."""
    scn = load_scenario(write(tmp_path, "region.toml", NETWORK, REGION_SPACE))
    result = run_size(scn, SerialRunner(problem_of(scn)))
    rows = {r["id"]: r for r in design_rows(result)}
    evaluated = [d for d in result.designs if d.id in result.records]
    assert evaluated
    for d in evaluated:
        region = result.records[d.id]["regions"][0]
        assert region["region"] == "Europe" and region["points"] > 10
        assert 0.0 <= region["night_coverage_fraction"] <= 1.0
        checks = [c for c in result.checks[d.id] if c["subject"] == "Europe"]
        assert len(checks) == 1 and checks[0]["met"] == (region["night_coverage_fraction"] >= 0.02)
        assert rows[d.id]["min_region_night_coverage_fraction"] == pytest.approx(region["night_coverage_fraction"])
    # Coverage grows with satellites along a chain of the lattice (adding planes adds orbits).
    one = next(d for d in result.designs if d.level == (1, 1))
    three = next(d for d in result.designs if d.level == (3, 2))
    for d in (one, three):
        if d.id not in result.records:
            result.records[d.id] = evaluate_design(problem_of(scn), d.satellites)
    f = lambda d: result.records[d.id]["regions"][0]["night_coverage_fraction"]
    assert f(three) > f(one)


def test_malloc_thresholds_are_reset_only_where_dask_set_them():
    """A worker spawned by Dask's nanny has MALLOC_TRIM_THRESHOLD_ (glibc's adaptive mmap
    threshold off: evaluations ~2x slower, docs/benchmarks.md); evaluate_design resets the
    thresholds there and leaves every other process alone."""
    import subprocess
    import sys

    code = "from constellation.sizing.runners import _large_arrays_on_the_heap as f; print(f())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    dask_like = subprocess.run([sys.executable, "-c", code], env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"},
                               capture_output=True, text=True, check=True)
    assert plain.stdout.strip() == "False"
    assert dask_like.stdout.strip() == "True"
