"""Memory budget: the one-line refusal, and the estimates against measured peaks.

Measurements run ``python -m constellation.core.budget ... --trace`` in a fresh process and
compare the estimate with the tracemalloc peak (numpy reports its buffers to tracemalloc),
which counts what the step allocates, not the interpreter and libraries (~45 MB before
the run, ~200 MB more once numba has compiled the coverage kernels). Stated factor: the
estimate is within 1.5x of the traced peak either way. The sizes differ from the ones the
coefficients were read off (constellation/budget.py docstring).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from constellation.core import budget
from constellation.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
FACTOR = 1.5
GIB = 1024.0 ** 3


def test_check_memory_refuses_with_one_line():
    what = budget.describe_size(20000, 30, 5041)
    with pytest.raises(InputError) as info:
        budget.check_memory(40.0 * GIB, what, "big.toml", limit_bytes=22.0 * GIB)
    message = str(info.value)
    assert "\n" not in message
    assert message == ("big.toml: satellites: expected a scenario needing <= 15.4 GiB (this machine has 22.0 GiB "
                       "available), found an estimated 40.0 GiB for 20000 satellites x 30 stations x 5041 steps")
    assert info.value.source == "big.toml" and info.value.field == "satellites"


def test_check_memory_passes_below_seventy_percent_and_refuses_above():
    limit = 10.0 * GIB
    assert budget.check_memory(0.69 * limit, "x", "s.toml", limit_bytes=limit) == 0.69 * limit
    with pytest.raises(InputError):
        budget.check_memory(0.71 * limit, "x", "s.toml", limit_bytes=limit)
    with pytest.raises(InputError):
        budget.check_memory(float("inf"), "x", "s.toml", limit_bytes=limit)


def test_available_memory_is_read_and_plausible():
    available = budget.available_bytes()
    total = None
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                total = float(line.split()[1]) * 1024.0
    assert 0.0 < available <= total
    # The default limit is what is available now: a tiny estimate passes.
    assert budget.check_memory(1e6, "x", "s.toml") == 1e6


def test_estimates_grow_with_the_problem_and_passes_saturate_at_one_chunk():
    small = budget.estimate_passes_bytes(100, 10, 86400.0, n_passes=0)
    assert budget.estimate_passes_bytes(200, 10, 86400.0, n_passes=0) > small
    # Above one chunk (2e6 states) the state memory stops growing: 7 days at 120 s is
    # 5041 samples, so 396 satellites fill a chunk.
    a = budget.estimate_passes_bytes(1000, 30, 7 * 86400.0, n_passes=0)
    b = budget.estimate_passes_bytes(10000, 30, 7 * 86400.0, n_passes=0)
    assert a == b == pytest.approx(396 * 5041 * budget.PASS_STATE_BYTES)
    # Key per pass runs in batches of ~250,000 slots: below a batch memory grows with the
    # windows, above it only by the per-window results.
    assert budget.estimate_key_bytes(400, 500.0) == pytest.approx(2 * budget.estimate_key_bytes(200, 500.0))
    big, bigger = budget.estimate_key_bytes(100_000, 500.0), budget.estimate_key_bytes(200_000, 500.0)
    assert bigger - big == pytest.approx(100_000 * budget.KEY_WINDOW_BYTES)
    assert budget.estimate_coverage_bytes(10, 41252) < budget.estimate_coverage_bytes(10, 41252 * 4)
    net = budget.estimate_network_bytes(100, 10, 5, 7, 1000, 70)
    assert net == pytest.approx(1000 * (8.0 * (100 * 15 + 5 * 7) + 9.0 * 70))
    # The pass count is generous: the measured 8631 passes of 100 satellites x 10 stations x
    # 2 days (550 km, 53 deg, 10 deg mask) lie below it, within a factor 2.
    guess = budget.expected_passes(100, 10, 2 * 86400.0)
    assert 8631 <= guess <= 2 * 8631


def run_case(*args) -> dict:
    out = subprocess.run([sys.executable, "-m", "constellation.core.budget", *args, "--trace"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ("passes", "--satellites", "200", "--stations", "15", "--days", "2"),
    ("key", "--satellites", "30", "--stations", "30", "--days", "2"),
    ("coverage", "--satellites", "100", "--days", "0.1", "--grid-deg", "2"),
], ids=["passes", "key", "coverage"])
def test_estimate_matches_the_measured_peak(args):
    r = run_case(*args)
    ratio = r["estimate_bytes"] / r["traced_peak_bytes"]
    print(f"\n{args[0]}: estimate {r['estimate_bytes'] / 1e6:.0f} MB, traced peak {r['traced_peak_bytes'] / 1e6:.0f} MB, "
          f"ratio {ratio:.2f}, peak RSS {r['peak_rss_bytes'] / 1e6:.0f} MB, wall {r['wall_s']:.1f} s")
    assert 1.0 / FACTOR <= ratio <= FACTOR


def test_scenario_checks_pass_small_scenarios_and_refuse_on_a_small_limit():
    from constellation.api import find_scenario_passes

    scenario = budget.walker_scenario(6, 2, 0.5)
    assert 0 < budget.check_scenario_passes(scenario) < 50e6
    table = find_scenario_passes(scenario)
    assert 0 < budget.check_scenario_keys(scenario, table) < 50e6
    assert 0 < budget.check_scenario_coverage(scenario, 41252, 60.0) < 100e6
    with pytest.raises(InputError, match=r"^<memory>: satellites: expected a scenario needing <= 0.0 GiB \(this machine has "
                                         r"0.0 GiB available\), found an estimated 0.0 GiB for 6 satellites x 2 stations x "):
        budget.check_scenario_passes(scenario, limit_bytes=1000.0)
    with pytest.raises(InputError, match="key slots"):
        budget.check_scenario_keys(scenario, table, limit_bytes=1000.0)
    with pytest.raises(InputError, match="41252 grid points x 720 steps"):
        budget.check_scenario_coverage(scenario, 41252, 60.0, limit_bytes=1000.0)
