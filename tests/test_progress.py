"""The progress bar (issue 16): drawn on stderr only, only on a terminal or when
CONSTELLATION_PROGRESS=1 forces it, only after a delay, never touching stdout; the kernels
report monotone counts that reach their total (real SGP4 propagation throughout)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from constellation.output.progress import ENV, _count, progress_bar, wanted
from constellation.pipeline import Run, find_passes

ENTANGLEMENT = Path(__file__).resolve().parents[1] / "scenarios" / "micius-2018-entanglement.toml"


def _monotone_to_total(calls, total):
    done = [d for d, _ in calls]
    assert calls[0] == (0, total), calls
    assert all(t == total for _, t in calls), calls
    assert done == sorted(done) and done[-1] == total, calls


def test_forced_bar_follows_find_passes_to_the_total(walker_scenario, monkeypatch):
    """CONSTELLATION_PROGRESS=1 draws the bar off a terminal and at once; find_passes, in four
    chunks of three satellites, reports 0, 3, 6, 9, 12 of 12 as whole numbers, fractions
    within each chunk between them, and the bar ends at 12/12."""
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
    assert [(d, t) for d, t in calls if isinstance(d, int)] == [(0, 12), (3, 12), (6, 12), (9, 12), (12, 12)]
    _monotone_to_total(calls, 12)
    for first in (0, 3, 6, 9):  # after propagating and after each of the 2 stations' coarse search at least
        assert sum(first < d < first + 3 for d, _ in calls) >= 3, calls
    assert "passes" in stream.getvalue() and "12/12" in stream.getvalue()
    # Reporting changes nothing found: the same passes as one chunk without a callback.
    plain = find_passes(scn)
    assert len(table) == len(plain) > 0
    for column in ("satellite", "station", "aos_s", "los_s", "window_start_s", "window_end_s"):
        np.testing.assert_array_equal(getattr(table, column), getattr(plain, column))
    # One chunk (all 12 satellites): the count still moves within it, not 0 then 12 at once.
    whole = []
    find_passes(scn, progress=lambda done, total: whole.append((done, total)))
    _monotone_to_total(whole, 12)
    assert whole[-1] == (12, 12) and sum(0 < d < 12 for d, _ in whole) >= 3, whole


def test_dual_key_stage_reports_the_dual_windows_done():
    """Run's dual_key stage (`constellation dual`, the dual stage of `run`, entangled links of
    `network`) counts the dual windows done to their total; dual_keys in batches of a few
    windows reports after each batch and gives the keys of one batch (to 1e-12)."""
    import dataclasses

    from constellation.key.entanglement import dual_keys
    from constellation.pipeline import propagator_for
    from constellation.scenario.build import load_scenario

    seen = []
    run = Run(load_scenario(ENTANGLEMENT), progress=lambda done, total, stage: seen.append((stage, done, total)))
    keys = run.dual_keys
    assert [stage for stage, done, total in seen if total is None] == ["passes", "dual", "dual_key"]
    n = len(run.dual)
    assert n >= 10
    _monotone_to_total([(d, t) for s, d, t in seen if s == "dual_key" and t is not None], n)
    calls = []
    source = run.scenario.source_of(0)
    batched = dual_keys(propagator_for(run.scenario), run.dual, run.scenario.stations, source, slot_s=1.0,
                        batch_slots=300, progress=lambda done, total: calls.append((done, total)))
    _monotone_to_total(calls, n)
    assert len(calls) >= 4, calls  # windows of ~100-300 slots, about one a batch
    plain = dual_keys(propagator_for(run.scenario), run.dual, run.scenario.stations, source, slot_s=1.0)
    for field in dataclasses.fields(plain):  # a batch's sums run over its own padded width: last bits may differ
        np.testing.assert_allclose(getattr(batched, field.name), getattr(plain, field.name), rtol=1e-12)
    # the pipeline's (with the Sun and Moon for the sky) has keys; unchanged by reporting
    assert keys.has_source and keys.finite_key_bits.shape == (n,)
    assert np.all(Run(load_scenario(ENTANGLEMENT)).dual_keys.sifted_bits == keys.sifted_bits)


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
    # a fraction (passes within a chunk of satellites) is shown as the estimate it is
    assert _count(2.5, 12, "passes") == "~2/12 satellites" and _count(3, 12, "passes") == "3/12 satellites"
    assert _count(7, 9, "dual_key") == "7/9 dual windows" and _count(0, None, "key") == ""
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


@pytest.mark.parametrize("command", ["dual", "run"])
def test_cli_dual_key_stage_is_drawn_and_stdout_is_unchanged(command, tmp_path):
    """`dual` and `run` on the Micius entanglement scenario: off a terminal nothing on stderr;
    forced on, the bar shows the dual windows counted, and stdout is byte for byte the same."""
    args = [command, str(ENTANGLEMENT)] + (["--no-plots", "-o", str(tmp_path / "out")] if command == "run" else [])
    quiet = _cli(*args)
    assert quiet.stderr == b""
    forced = _cli(*args, env_extra={ENV: "1"})
    assert forced.stdout == quiet.stdout
    assert b"dual_key" in forced.stderr and b"dual windows" in forced.stderr and b"\x1b[" in forced.stderr


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
