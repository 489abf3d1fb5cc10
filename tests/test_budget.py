"""Memory budget: the estimates bound what the stages really allocate, grow with the work and
stop growing past one chunk or batch, and a run that cannot fit is refused in one line.

Measured peaks are tracemalloc's (numpy reports its buffers to it), taken around one stage
of the pipeline on a small Walker scenario; the estimate is the one the pipeline checks
(caught on its way to ``budget.check_memory``). Stated bounds:

* what ``check_memory`` admits fits: the traced peak is at most ``estimate / FRACTION``
  (the estimates are expected peaks, read within ~15 % either way; the 30 % headroom
  that ``check_memory`` keeps covers that);
* the estimate is not wasteful: at most ``FACTOR`` x the traced peak, plus, for coverage,
  the fixed ``COVERAGE_SUN_BYTES`` allowance for the first use of the Sun ephemeris and the
  compiled kernels (an allowance a warm process does not allocate again).

Larger cases, run in a fresh process, are in ``benchmarks/bench_memory.py`` and
docs/reliability.md "Scale".
"""

from __future__ import annotations

import math
import tracemalloc

import pytest

import constellation.key.per_pass  # noqa: F401  (imported here: a module's first import is not the key stage's arrays)
from constellation import pipeline
from constellation.core import budget
from constellation.errors import InputError

from conftest import walker_data

GIB = 1024.0 ** 3
FACTOR = 1.5


@pytest.fixture
def checked(monkeypatch):
    """The estimates the pipeline checks, in order, as ``(estimate_bytes, what)``."""
    seen = []
    check = budget.check_memory

    def spy(estimate_bytes, what, limit_bytes=None):
        seen.append((estimate_bytes, what))
        return check(estimate_bytes, what, limit_bytes)

    monkeypatch.setattr(budget, "check_memory", spy)
    return seen


def traced_peak_bytes(stage, *args, **kwargs):
    """The stage's result and the peak of the memory it allocated (bytes, above what was
    held when it started)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    try:
        result = stage(*args, **kwargs)
        return result, float(tracemalloc.get_traced_memory()[1] - held)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def walker_with_receivers(n_satellites: int, n_stations: int, days: float, path=None):
    """conftest's Walker scenario, each of its (position-only) stations given the
    observatory-1m receiver so that the key stage has a receiver to compute with; with
    ``path``, written there as TOML and loaded from it as the command line does."""
    import tomli_w

    from constellation.scenario.build import load_scenario, scenario_from_dict

    data = walker_data(n_satellites, n_stations, days)
    for station in data["stations"]:
        station["receiver"] = "observatory-1m"
    if path is None:
        return scenario_from_dict(data)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_scenario(path)


@pytest.fixture(scope="module")
def small():
    """12 satellites x 4 stations x 1 day, with key (about 200 passes, 37,000 key slots)."""
    return walker_with_receivers(12, 4, 1.0)


def test_the_estimates_bound_the_measured_peaks_of_a_small_run(small, checked):
    passes, passes_peak = traced_peak_bytes(pipeline.find_passes, small)
    _, keys_peak = traced_peak_bytes(pipeline.compute_keys, small, passes)
    _, coverage_peak = traced_peak_bytes(pipeline.compute_coverage, small, grid_deg=5.0, step_s=60.0)
    assert len(passes) > 100 and int(passes.has_window.sum()) > 20
    (passes_estimate, _), (keys_estimate, _), (coverage_estimate, _) = checked
    for name, peak, estimate, allowance in [("passes", passes_peak, passes_estimate, 0.0),
                                            ("key", keys_peak, keys_estimate, 0.0),
                                            ("coverage", coverage_peak, coverage_estimate, budget.COVERAGE_SUN_BYTES)]:
        print(f"{name}: estimate {estimate / 1e6:.1f} MB, traced peak {peak / 1e6:.1f} MB")
        assert peak <= estimate / budget.FRACTION, name
        assert estimate <= FACTOR * peak + allowance, name


def test_the_pass_count_guess_is_generous(small):
    found = len(pipeline.find_passes(small))
    guess = budget.expected_passes(12, 4, small.duration_s)
    assert found <= guess <= 2.0 * found


def test_estimates_grow_with_the_work():
    day = 86400.0
    passes = [budget.estimate_passes_bytes(n, 10, day) for n in (10, 100, 300)]
    assert passes == sorted(passes) and passes[0] < passes[-1]
    assert budget.estimate_passes_bytes(100, 30, day) > budget.estimate_passes_bytes(100, 10, day)
    assert budget.estimate_passes_bytes(100, 10, 2 * day) > budget.estimate_passes_bytes(100, 10, day)
    assert budget.estimate_key_bytes(400, 500.0) > budget.estimate_key_bytes(200, 500.0)
    assert budget.estimate_key_bytes(200, 800.0) > budget.estimate_key_bytes(200, 400.0)
    assert budget.estimate_coverage_bytes(100, 41252) > budget.estimate_coverage_bytes(10, 41252)
    assert budget.estimate_coverage_bytes(10, 4 * 41252) > budget.estimate_coverage_bytes(10, 41252)
    assert budget.estimate_network_bytes(100, 10, 5, 7, 2000, 70) > budget.estimate_network_bytes(100, 10, 5, 7, 1000, 70)


def test_pass_memory_stops_growing_past_one_chunk():
    # 7 days at the 120 s step of a 550 km orbit are 5,041 samples: 396 satellites fill a
    # chunk of PASS_CHUNK_STATES. Past it only the passes themselves (none here) add memory.
    week = 7 * 86400.0
    below = [budget.estimate_passes_bytes(n, 30, week, n_passes=0) for n in (50, 100, 200)]
    assert below[0] < below[1] < below[2]
    past = {budget.estimate_passes_bytes(n, 30, week, n_passes=0) for n in (1000, 5000, 20000)}
    assert len(past) == 1
    assert past.pop() > below[-1]


def test_key_memory_stops_growing_past_one_batch():
    # Below one batch of slots, memory grows with the windows; past it, only the per-window
    # results do: one more window costs orders of magnitude less.
    per_window_below = (budget.estimate_key_bytes(200, 500.0) - budget.estimate_key_bytes(100, 500.0)) / 100
    per_window_past = (budget.estimate_key_bytes(200_000, 500.0) - budget.estimate_key_bytes(100_000, 500.0)) / 100_000
    assert 0 < per_window_past < per_window_below / 100


def test_coverage_memory_past_one_chunk_grows_only_with_the_span_arrays():
    # Past one chunk (600 steps for 100 satellites) the propagated states stop growing; the
    # sample times (8 B a step) and the Sun track of the span (22.5 kB an hour) do not (issue 18:
    # 100 years at 1 s passed the check and was killed at 24 GB).
    one_chunk = budget.estimate_coverage_bytes(100, 10312, 1000)
    assert budget.estimate_coverage_bytes(100, 10312, 10**6) - one_chunk == pytest.approx((10**6 - 1000) * 8.0)
    assert budget.estimate_coverage_bytes(100, 10312, 10) < one_chunk
    day = budget.estimate_coverage_bytes(100, 10312, 1440, duration_s=86400.0)
    century = budget.estimate_coverage_bytes(100, 10312, 100 * 525960, duration_s=100 * 365.25 * 86400.0)
    assert day < 0.2 * GIB and century > 18.0 * GIB


def test_check_memory_with_an_explicit_limit():
    limit = 10.0 * GIB
    assert budget.check_memory(0.69 * limit, "x", limit_bytes=limit) == 0.69 * limit
    for too_much in (0.71 * limit, math.inf, math.nan):
        with pytest.raises(budget.OverBudget):
            budget.check_memory(too_much, "x", limit_bytes=limit)
    with pytest.raises(ValueError) as info:  # a numeric refusal, not an input error
        budget.check_memory(40.0 * GIB, budget.describe_size(20000, 30, 5041), limit_bytes=22.0 * GIB)
    assert not isinstance(info.value, InputError)
    assert info.value.expected == "a scenario needing <= 15.4 GiB (this machine has 22.0 GiB available)"
    assert info.value.found == "an estimated 40.0 GiB for 20000 satellites x 30 stations x 5041 steps"


def test_check_memory_defaults_to_the_memory_available_now(monkeypatch):
    monkeypatch.setattr(budget, "available_bytes", lambda: 10.0 * GIB)
    assert budget.check_memory(6.0 * GIB, "x") == 6.0 * GIB
    with pytest.raises(budget.OverBudget, match="this machine has 10.0 GiB available"):
        budget.check_memory(8.0 * GIB, "x")


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 1 MB available."""
    monkeypatch.setattr(budget, "available_bytes", lambda: 1e6)


def test_a_run_that_does_not_fit_is_refused_in_one_line_naming_the_file(tmp_path, small_machine, run_cli):
    path = tmp_path / "big.toml"
    scenario = walker_with_receivers(12, 4, 1.0, path=path)
    expected = (f"{path}: satellites: expected a scenario needing <= 0.0 GiB (this machine has 0.0 GiB "
                "available), found an estimated 0.0 GiB for 12 satellites x ")
    with pytest.raises(InputError) as passes:
        pipeline.find_passes(scenario)
    assert str(passes.value) == expected + "4 stations x 721 steps"
    with pytest.raises(InputError) as coverage:
        pipeline.compute_coverage(scenario, grid_deg=5.0, step_s=60.0)
    assert str(coverage.value) == expected + "1652 grid points x 1440 steps"
    assert passes.value.source == coverage.value.source == str(path)
    # The command line prints that line alone and exits 2.
    assert run_cli("passes", path, code=2).err == f"error: {expected}4 stations x 721 steps\n"


def test_the_key_stage_is_refused_too(small, monkeypatch):
    passes = pipeline.find_passes(small)
    monkeypatch.setattr(budget, "available_bytes", lambda: 1e6)
    with pytest.raises(InputError, match=r"^<memory>: satellites: .* key samples$"):
        pipeline.compute_keys(small, passes)
