"""`plot key|sky --station NAME` on the command line (issue 17, item 1): every station with a
QKD window in the default run draws; a station without one, or a scenario without any, is one
line on stderr and exit 2."""

import tomllib

import numpy as np
import pytest
import tomli_w

from constellation.cli import default_scenario_path


@pytest.fixture(scope="module")
def default_windows():
    """Station name -> number of passes with a QKD window, in the default run."""
    from constellation.api import load_scenario
    from constellation.pipeline import find_passes

    scenario = load_scenario(default_scenario_path())
    passes = find_passes(scenario)
    return {s.name: int(np.sum(passes.has_window & (passes.station == i))) for i, s in enumerate(scenario.stations)}


def test_every_station_with_a_window_draws_its_key_plot(default_windows, run_cli, tmp_path):
    with_windows = [name for name, n in default_windows.items() if n]
    assert len(with_windows) == 5  # Micius 2016 has a night window over each of its five stations
    for name in with_windows:
        png = tmp_path / f"key-{name}.png"
        run = run_cli("plot", "key", "--station", name, "-o", png)
        assert run.out.strip() == f"wrote {png}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_station_names_on_the_command_line_ignore_case(run_cli, tmp_path):
    png = tmp_path / "sky.png"
    run_cli("plot", "sky", "--station", "xINGLONG", "-o", png)
    assert png.is_file()


def _one_line_error(run, *needles):
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("error: ") and "Traceback" not in run.err
    for needle in needles:
        assert needle in run.err


def test_a_station_without_a_window_is_one_line(run_cli, tmp_path):
    data = tomllib.loads(default_scenario_path().read_text())
    # A 89 deg mask: Micius never culminates that high over Graz in these two days.
    data["stations"] = [{"name": "Xinglong", "min_elevation_deg": 10}, {"name": "Graz", "min_elevation_deg": 89}]
    path = tmp_path / "one-blind.toml"
    path.write_text(tomli_w.dumps(data))
    _one_line_error(run_cli("plot", "key", path, "--station", "Graz", "-o", tmp_path / "k.png", code=2),
                    "station", "a pass with a QKD window over Graz")
    assert not (tmp_path / "k.png").exists()
    run_cli("plot", "key", path, "--station", "Xinglong", "-o", tmp_path / "k.png")


def test_a_scenario_without_windows_is_one_line(run_cli, tmp_path):
    data = tomllib.loads(default_scenario_path().read_text())
    data["constraints"]["station_sun_max_elevation_deg"] = -89.0  # the Sun is never that low at these sites
    path = tmp_path / "never-dark.toml"
    path.write_text(tomli_w.dumps(data))
    _one_line_error(run_cli("plot", "key", path, "-o", tmp_path / "k.png", code=2), "a pass with a QKD window")
    _one_line_error(run_cli("plot", "key", path, "--station", "Nanshan", "-o", tmp_path / "k.png", code=2),
                    "over Nanshan")
    assert not (tmp_path / "k.png").exists()


def test_run_draws_sky_and_key_per_station_and_says_why_not(run_cli, tmp_path):
    data = tomllib.loads(default_scenario_path().read_text())
    data["scenario"]["end"] = data["scenario"]["start"].replace(day=20)  # one day
    data["stations"] = [{"name": "Xinglong", "min_elevation_deg": 10},
                        {"name": "Graz", "min_elevation_deg": 80},  # no pass reaches 80 deg that day
                        {"name": "Nanshan", "min_elevation_deg": 10}]
    path = tmp_path / "three.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    run = run_cli("run", path, "-o", out)
    figures = {p.name for p in out.glob("*.png")}
    assert {"sky-xinglong.png", "key-xinglong.png", "sky-nanshan.png", "key-nanshan.png"} <= figures
    assert not any("graz" in name for name in figures)
    assert "note: no sky or key figure for Graz: no pass in the span" in run.out.splitlines()


def test_run_with_one_station_says_why_a_figure_is_missing(run_cli, tmp_path):
    data = tomllib.loads(default_scenario_path().read_text())
    data["scenario"]["end"] = data["scenario"]["start"].replace(day=20)
    data["stations"] = [{"name": "Xinglong", "min_elevation_deg": 10}]
    data["constraints"]["station_sun_max_elevation_deg"] = -89.0  # never dark enough: passes, no window
    path = tmp_path / "one.toml"
    path.write_text(tomli_w.dumps(data))
    run = run_cli("run", path, "-o", tmp_path / "out")
    figures = {p.name for p in (tmp_path / "out").glob("*.png")}
    assert "sky.png" in figures and "key.png" not in figures  # the sky shows the passes there were
    assert "note: no key figure for Xinglong: no pass with a QKD window" in run.out.splitlines()
    data["stations"] = [{"name": "Xinglong", "min_elevation_deg": 89}]  # and now no pass at all
    path.write_text(tomli_w.dumps(data))
    run = run_cli("run", path, "-o", tmp_path / "out2")
    assert not {"sky.png", "key.png"} & {p.name for p in (tmp_path / "out2").glob("*.png")}
    assert "note: no sky or key figure for Xinglong: no pass in the span" in run.out.splitlines()
