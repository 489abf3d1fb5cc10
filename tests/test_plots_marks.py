"""What the figures show by default (issue 17, item 6): tracks.png spans the passes the
scenario is about with the night side at that time; busy sky plots say when and which way;
a footprint over a pole draws no seam."""

from pathlib import Path

import numpy as np
import pytest

from constellation.api import RunResult, load_scenario
from constellation.coverage.tracks import ground_tracks, satellite_footprints
from constellation.plots.base import utc_datetimes
from constellation.plots.maps import footprint_outline, span_of_interest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("no_pyplot_leaks")


def _angle_deg(lat1, lon1, lat2, lon2):
    a, b, c, d = map(np.radians, (lat1, lon1, lat2, lon2))
    return np.degrees(np.arccos(np.clip(np.sin(a) * np.sin(c) + np.cos(a) * np.cos(c) * np.cos(b - d), -1, 1)))


def test_default_tracks_span_the_longest_window_and_shade_the_night_then(micius_scenario, micius_passes, offline):
    scenario, passes = micius_scenario, micius_passes
    start_s, end_s, at_s = span_of_interest(scenario, passes)
    longest = int(np.argmax(passes.window_s))
    assert passes.window_start_s[longest] <= at_s <= passes.window_end_s[longest]
    period_s = 2 * np.pi / scenario.satellites[0].satrec.no_kozai * 60.0
    assert end_s - start_s == pytest.approx(period_s) and start_s < at_s < end_s
    # The track of that span passes over the window's station (the first orbit passes over none).
    station = scenario.stations[passes.station[longest]]
    tracks = ground_tracks(scenario, start_s=start_s, end_s=end_s, step_s=20.0)
    near = _angle_deg(tracks.latitude_deg[0], tracks.longitude_deg[0], station.latitude_deg, station.longitude_deg)
    assert near.min() < 10.0
    first = ground_tracks(scenario, start_s=0.0, end_s=period_s, step_s=20.0)
    assert all(_angle_deg(first.latitude_deg[0], first.longitude_deg[0], s.latitude_deg, s.longitude_deg).min() > 15.0
               for s in scenario.stations)
    # The figure draws footprints and the night side at the window, and says so.
    fig = RunResult(scenario).figure("tracks")
    when = utc_datetimes(scenario.timebase, at_s)[0]
    title = fig.axes[0].get_title()
    assert f"at {when:%H:%M:%S} UTC" in title and f"night side at {when:%H:%M} UTC" in title


def test_a_busy_sky_plot_colours_windows_by_time_and_marks_their_direction(offline):
    scenario = load_scenario(ROOT / "scenarios" / "china-russia-2023.toml")
    result = RunResult(scenario)
    passes = result.passes
    fig = result.figure("sky", station="Nanshan")
    sky = fig.axes[0]
    nanshan = scenario.stations.index(next(s for s in scenario.stations if s.name == "Nanshan"))
    windows = np.flatnonzero((passes.station == nanshan) & passes.has_window)
    assert np.sum(passes.station == nanshan) > 12 and windows.size > 12  # busy
    arrows = {t.get_gid() for t in sky.texts if (t.get_gid() or "").startswith("direction:")}
    assert arrows == {f"direction:{row}" for row in windows}
    colours = {line.get_gid(): line.get_color() for line in sky.get_lines() if (line.get_gid() or "").startswith("window:")}
    early, late = windows[np.argmin(passes.window_start_s[windows])], windows[np.argmax(passes.window_start_s[windows])]
    assert colours[f"window:{early}"] != colours[f"window:{late}"]
    assert len(fig.axes) == 2 and "window start" in fig.axes[1].get_xlabel()  # the colour bar of dates


def test_a_footprint_over_the_pole_has_no_seam(micius_scenario):
    tracks = ground_tracks(micius_scenario, end_s=6000.0, step_s=10.0)
    at_s = float(tracks.t_s[np.argmax(tracks.latitude_deg[0])])  # Micius at 82.7 N: its 10 deg cap holds the pole
    geometry = satellite_footprints(micius_scenario, at_s).geometries[0]
    assert geometry.bounds[3] == 90.0
    (outline,) = footprint_outline(geometry)  # one line round the cap, from -180 to 180
    assert outline[0, 0] == -180.0 and outline[-1, 0] == 180.0
    assert np.all(np.diff(outline[:, 0]) > 0) and np.all(outline[:, 1] < 89.0)
