"""The progress bar (issue 16): drawn on stderr only, only on a terminal or when
CONSTELLATION_PROGRESS=1 forces it, only after a delay, never touching stdout; the kernels
report monotone counts that reach their total (real SGP4 propagation throughout)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from constellation.output.progress import ENV, progress_bar, wanted
from constellation.pipeline import Run, find_passes


def _monotone_to_total(calls, total):
    done = [d for d, _ in calls]
    assert calls[0] == (0, total), calls
    assert all(t == total for _, t in calls), calls
    assert done == sorted(done) and done[-1] == total, calls


def test_forced_bar_follows_find_passes_to_the_total(walker_scenario, monkeypatch):
    """CONSTELLATION_PROGRESS=1 draws the bar off a terminal and at once; find_passes, in four
    chunks of three satellites, reports 0, 3, 6, 9, 12 of 12 and the bar ends at 12/12."""
    monkeypatch.setenv(ENV, "1")
    scn = walker_scenario(12, 2, 0.5, key=False)
    n_time = int(np.ceil(scn.duration_s / 120.0)) + 1  # the coarse grid of these 550 km satellites
    calls, stream = [], io.StringIO()
    with progress_bar(stream=stream) as bar:
        assert bar is not None and bar.shown  # a StringIO is no terminal: the variable forced it

        def report(done, total):
            calls.append((done, total))
            bar(done, total, "passes")

        table = find_passes(scn, progress=report, chunk_states=3 * n_time)
        assert bar.stages() == {"passes": (12, 12)}
    assert calls == [(0, 12), (3, 12), (6, 12), (9, 12), (12, 12)]
    assert "passes" in stream.getvalue() and "12/12" in stream.getvalue()
    # Reporting changes nothing found: the same passes as one chunk without a callback.
    plain = find_passes(scn)
    assert len(table) == len(plain) > 0
    for column in ("satellite", "station", "aos_s", "los_s", "window_start_s", "window_end_s"):
        np.testing.assert_array_equal(getattr(table, column), getattr(plain, column))


def test_run_reports_each_stage_then_its_counts(walker_scenario):
    """Run names each stage as it starts (0 of an unknown total), then the counts of the stages
    that have them: satellites for passes, QKD windows for key, time samples for coverage."""
    from constellation.scenario.build import scenario_from_dict
    from conftest import walker_data

    data = walker_data(6, 2, 0.25)
    data["coverage"] = {"grid_deg": 15.0, "step_s": 60.0}
    seen = []
    run = Run(scenario_from_dict(data), progress=lambda done, total, stage: seen.append((stage, done, total)))
    run.complete()
    stages = [stage for stage, done, total in seen if total is None]
    assert stages == ["passes", "key", "coverage"]
    _monotone_to_total([(d, t) for s, d, t in seen if s == "passes" and t is not None], 6)
    _monotone_to_total([(d, t) for s, d, t in seen if s == "coverage" and t is not None], run.coverage.n_time)
    assert run.coverage.n_time == round(0.25 * 86400 / 60.0)
    # key: every QKD window
    windows = int(np.count_nonzero(run.passes.has_window))
    assert windows > 0
    _monotone_to_total([(d, t) for s, d, t in seen if s == "key" and t is not None], windows)


def test_quick_work_never_draws_and_no_terminal_means_no_bar(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    stream = io.StringIO()
    with progress_bar(stream=stream, enabled=True, delay_s=30.0) as bar:
        bar(0, 10, "passes")
        bar(10, 10)
    assert not bar.shown and stream.getvalue() == ""  # done before the delay: no flicker
    assert wanted(io.StringIO()) is False
    with progress_bar(stream=io.StringIO()) as bar:
        assert bar is None  # off a terminal, the kernels get no callback at all
    monkeypatch.setenv(ENV, "0")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert wanted(Terminal()) is False
    monkeypatch.delenv(ENV)
    assert wanted(Terminal()) is True


def _cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != ENV}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "constellation", *args], capture_output=True, env=env,
                          timeout=300, check=True)


@pytest.mark.parametrize("command", ["passes", "key"])
def test_cli_off_a_terminal_writes_no_progress_and_the_bar_never_touches_stdout(command):
    """stderr is a pipe here: nothing but the table comes out. Forced on, the bar goes to
    stderr and stdout is byte for byte the same."""
    quiet = _cli(command)
    assert quiet.stderr == b""
    assert quiet.stdout.startswith(b"satellite,station,aos_utc,")
    forced = _cli(command, env_extra={ENV: "1"})
    assert forced.stdout == quiet.stdout
    assert b"passes" in forced.stderr and b"\x1b[" in forced.stderr  # the bar, drawn with terminal codes


def test_size_lines_stay_on_stderr_off_a_terminal(run_cli, tmp_path):
    """Off a terminal `size` keeps its `[done/total] message` lines (no bar): one per design."""
    from test_sizing import NETWORK, SMALL_SPACE, TARGETS, write

    path = write(tmp_path, "small.toml", NETWORK, SMALL_SPACE, TARGETS)
    err = run_cli("size", path, "--workers", "1", "--no-plots", "-o", tmp_path / "out").err
    lines = err.splitlines()
    assert lines[0].startswith("sizing ")
    counted = [line for line in lines[1:] if line.startswith("[")]
    total = int(counted[-1].split("/")[1].split("]")[0])
    assert counted[-1].startswith(f"[{total}/{total}] ")
    assert "\x1b" not in err
