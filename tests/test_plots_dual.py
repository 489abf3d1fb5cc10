"""`constellation plot dual`: both stations' skies and the two-arm loss along a dual window
(issue 15, item 4). The tests read what was drawn (line data by gid), never pixels or text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from constellation.cli import main
from constellation.errors import InputError
from constellation.pipeline import dual_profile
from constellation.plots.base import date_numbers
from constellation.plots.dual import default_dual_window
from constellation.plots.passes import pass_track
from constellation.results import RunResult
from constellation.scenario.build import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
ENTANGLEMENT = ROOT / "scenarios" / "micius-2018-entanglement.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MASK_DEG = 20.0  # the scenario's elevation mask at every station

pytestmark = pytest.mark.usefixtures("no_pyplot_leaks")


@pytest.fixture(scope="module")
def result():
    return RunResult(load_scenario(ENTANGLEMENT))


def _data(**changes) -> dict:
    data = tomllib.loads(ENTANGLEMENT.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _line(fig, gid):
    lines = [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]
    assert len(lines) == 1, (gid, len(lines))
    return lines[0]


def test_profile_is_what_the_dual_table_integrates(result):
    """Every window: the profile's slot-weighted mean and minimum total loss and its summed
    range span are the dual table's numbers (same slots, track, link and receivers); both
    stations see the satellite above their 20 deg mask all along (edges refined to < 0.01 s)."""
    dual, keys = result.dual, result.dual_keys
    assert len(dual) >= 10
    for row in range(len(dual)):
        p = dual_profile(result.scenario, dual, row)
        assert p.t_s[0] == dual.start_s[row] and p.t_s[-1] == dual.end_s[row]
        assert np.all(np.diff(p.t_s) > 0) and p.valid.all()
        assert p.width_s.sum() == pytest.approx(dual.duration_s[row], abs=1e-9)
        slots = p.width_s > 0
        mean = np.sum(p.width_s * p.total_loss_db) / p.width_s.sum()
        assert mean == pytest.approx(keys.mean_total_loss_db[row], rel=1e-12)
        assert p.total_loss_db[slots].min() == pytest.approx(keys.min_total_loss_db[row], rel=1e-12)
        assert p.sum_range_km.min() == pytest.approx(keys.min_sum_range_km[row], rel=1e-12)
        assert p.sum_range_km.max() == pytest.approx(keys.max_sum_range_km[row], rel=1e-12)
        # 0.01 s at the edges: the elevation moves by < 0.02 deg in that time for Micius
        assert p.elevation_a_deg.min() > MASK_DEG - 0.02 and p.elevation_b_deg.min() > MASK_DEG - 0.02


def test_loss_panel_draws_the_profile(result):
    """The right panel's lines are the profile's losses, one point per sample, x in UTC."""
    row = 3
    fig = result.figure("dual", window=row)
    p = dual_profile(result.scenario, result.dual, row)
    x = date_numbers(result.scenario.timebase, p.t_s)
    for gid, values in (("loss:a", p.loss_a_db), ("loss:b", p.loss_b_db), ("loss:total", p.total_loss_db)):
        line = _line(fig, gid)
        np.testing.assert_allclose(line.get_ydata(), values, rtol=0, atol=0)
        np.testing.assert_allclose(line.get_xdata(), x, rtol=0, atol=1e-9)
    # two arms of ~20-35 dB each (Yin 2017 Science: 1,600-2,400 km summed, tens of dB per arm)
    assert np.all((p.loss_a_db > 15) & (p.loss_a_db < 45) & (p.loss_b_db > 15) & (p.loss_b_db < 45))


def test_highlighted_window_lies_on_both_tracks(result):
    """On the sky, the thick dual window of each station lies inside that station's pass (its
    QKD window, between AOS and LOS) and on the thin track drawn from AOS to LOS."""
    scn, passes, dual = result.scenario, result.passes, result.dual
    for row in (0, len(dual) - 1):
        fig = result.figure("dual", window=row)
        p = dual_profile(scn, dual, row)
        for end, pass_row, el in (("a", dual.pass_a[row], p.elevation_a_deg), ("b", dual.pass_b[row], p.elevation_b_deg)):
            assert passes.window_start_s[pass_row] <= p.t_s[0] and p.t_s[-1] <= passes.window_end_s[pass_row]
            assert passes.aos_s[pass_row] <= p.t_s[0] and p.t_s[-1] <= passes.los_s[pass_row]
            track, window = _line(fig, f"pass:{end}"), _line(fig, f"window:{end}")
            np.testing.assert_allclose(window.get_ydata(), 90.0 - el, atol=1e-12)
            t, _, _, _, _ = pass_track(scn, passes, int(pass_row))
            # the track is sampled every 2 s: its straight pieces stay within 0.05 deg of the arc
            np.testing.assert_allclose(np.interp(p.t_s, t, track.get_ydata()), window.get_ydata(), atol=0.05)
            np.testing.assert_allclose(np.interp(p.t_s, t, track.get_xdata()), window.get_xdata(), atol=np.radians(0.1))


def test_default_window_has_the_most_coincidences(result):
    row = default_dual_window(result.dual, result.dual_keys)
    assert result.dual_keys.coincidences[row] == result.dual_keys.coincidences.max() > 0
    fig = result.figure("dual")
    p = dual_profile(result.scenario, result.dual, row)
    np.testing.assert_allclose(_line(fig, "loss:total").get_ydata(), p.total_loss_db, atol=0)


def test_without_a_source_the_ranges_and_the_longest_window():
    data = _data(links=[{"a": "Delingha", "b": "Lijiang"}], link={"preset": "micius"}, qkd={"preset": "micius"})
    del data["source"]
    res = RunResult(scenario_from_dict(data, ENTANGLEMENT))
    dual = res.dual
    row = int(np.argmax(dual.duration_s))
    assert default_dual_window(dual, res.dual_keys) == row
    fig = res.figure("dual")
    p = dual_profile(res.scenario, dual, row)
    assert np.all(np.isnan(p.loss_a_db))
    np.testing.assert_allclose(_line(fig, "range:a").get_ydata(), p.range_a_km, atol=0)
    np.testing.assert_allclose(_line(fig, "range:b").get_ydata(), p.range_b_km, atol=0)
    np.testing.assert_allclose(_line(fig, "range:sum").get_ydata(), p.range_a_km + p.range_b_km, atol=0)
    assert not [line for ax in fig.axes for line in ax.get_lines() if str(line.get_gid()).startswith("loss:")]


def test_run_draws_dual_png(tmp_path):
    """`run` adds dual.png for a scenario with a source and a dual window in its span."""
    data = _data()
    data["scenario"] = {**data["scenario"], "end": "2018-09-12T00:00:00Z"}
    res = RunResult(scenario_from_dict(data, ENTANGLEMENT))
    assert res.has_dual and len(res.dual) >= 1
    assert "dual.png" in res.figures()


def test_cli_plot_dual_writes_a_png(tmp_path):
    out = tmp_path / "dual.png"
    assert main(["plot", "dual", str(ENTANGLEMENT), "-o", str(out), "--window", "7"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_window_with_another_plot_is_a_usage_error(tmp_path, capsys):
    """--window picks a dual window; given to another plot it was silently ignored."""
    out = tmp_path / "key.png"
    assert main(["plot", "key", str(ENTANGLEMENT), "-o", str(out), "--window", "3"]) == 2
    err = capsys.readouterr().err
    assert "--window picks the window of `plot dual`" in err and "Traceback" not in err
    assert not out.exists()


def test_no_dual_window_and_window_out_of_range_are_input_errors(result):
    far = _data(stations=[{"name": "Delingha", "min_elevation_deg": 20}, {"name": "Graz", "min_elevation_deg": 20}],
                links=[{"a": "Delingha", "b": "Graz", "mode": "entanglement"}])
    res = RunResult(scenario_from_dict(far, ENTANGLEMENT))
    assert len(res.dual) == 0  # 6,900 km apart: never both in view of a 500 km orbit
    with pytest.raises(InputError, match="none in the scenario's span"):
        res.figure("dual")
    for row in (len(result.dual), -1):
        with pytest.raises(InputError, match=r"window: expected a dual window number in 0\.\."):
            result.figure("dual", window=row)
