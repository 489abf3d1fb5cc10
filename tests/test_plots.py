"""Every plot kind renders headless and offline; tests check what was drawn, not pixels."""

import tomllib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from constellation.api import find_passes, load_scenario, propagator_for, scenario_from_dict
from constellation.errors import InputError
from constellation.coverage.tracks import ground_tracks
from constellation.key.per_pass import pass_keys
from constellation.plots.base import OfflineMapError, date_numbers, map_data_dir, save_figure, shipped_maps
from constellation.pipeline import KeyProfile, key_profile
from constellation.plots.key import longest_window_pass, plot_key, plot_key_profile
from constellation.plots.maps import footprint_outline, plot_tracks
from constellation.plots.passes import plot_sky, plot_timeline
from constellation.core.sun import MoonTrack, SunTrack

ROOT = Path(__file__).resolve().parents[1]
MICIUS = ROOT / "scenarios" / "micius-2016-xinglong.toml"
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECOND_DAYS = 1.0 / 86400.0
HEADLINE_T_S = 60600.0  # 2016-12-19 16:50 UTC, the Liao et al. 2017 night pass over Xinglong


@pytest.fixture(scope="module")
def micius(micius_scenario, micius_passes):
    return micius_scenario, micius_passes


# offline, no_pyplot_leaks: tests/conftest.py
pytestmark = pytest.mark.usefixtures("no_pyplot_leaks")


def _render(fig, path):
    save_figure(fig, path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    return path


def _lines(fig, gid):
    """Lines whose gid is ``gid``, or starts with it when it ends with ':'."""
    def match(g):
        return g == gid or (gid.endswith(":") and g.startswith(gid))
    return [line for ax in fig.axes for line in ax.get_lines() if match(line.get_gid() or "")]


# --- shipped map data ---------------------------------------------------------------------

def test_shipped_natural_earth_is_small_and_where_cartopy_looks():
    from cartopy.io import shapereader

    root = map_data_dir()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 1_000_000
    physical = root / "shapefiles" / "natural_earth" / "physical"
    for name in ("coastline", "land"):
        for ext in ("shp", "shx", "dbf", "prj"):
            assert (physical / f"ne_110m_{name}.{ext}").exists()
    with shipped_maps():
        path = shapereader.natural_earth(resolution="110m", category="physical", name="coastline")
    assert Path(path) == physical / "ne_110m_coastline.shp"
    lines = list(shapereader.Reader(path).geometries())
    assert len(lines) > 100
    for line in lines:  # no map-edge artefacts: nothing runs along +/-180 or the south pole
        xy = np.asarray(line.coords)
        along_edge = (np.abs(np.abs(xy[:-1, 0]) - 180.0) < 1e-6) & (xy[:-1, 0] == xy[1:, 0])
        along_pole = (xy[:-1, 1] < -89.999) & (xy[1:, 1] < -89.999)
        assert not along_edge.any() and not along_pole.any()
        assert np.all(np.abs(xy[:, 0]) <= 180.0) and np.all(np.abs(xy[:, 1]) <= 90.0)


def test_a_layer_we_do_not_ship_fails_with_advice_instead_of_downloading(offline):
    from cartopy.io import shapereader

    with shipped_maps(), pytest.raises(OfflineMapError, match="resolution='110m'"):
        shapereader.natural_earth(resolution="50m", category="physical", name="coastline")


def test_the_map_configuration_is_scoped_and_nests():
    import cartopy

    key = ("shapefiles", "natural_earth")
    before = (cartopy.config["pre_existing_data_dir"], cartopy.config["downloaders"][key])
    with shipped_maps() as outer:
        with shipped_maps():
            assert cartopy.config["pre_existing_data_dir"] == str(outer)
        assert cartopy.config["pre_existing_data_dir"] == str(outer)
        ours = cartopy.config["downloaders"][key]
        assert ours is not before[1]
    assert (cartopy.config["pre_existing_data_dir"], cartopy.config["downloaders"][key]) == before


# --- tracks -------------------------------------------------------------------------------

def test_world_tracks_render_offline_without_crossing_the_map(micius, offline):
    scenario, _ = micius
    fig = plot_tracks(scenario, start_s=HEADLINE_T_S - 3000, end_s=HEADLINE_T_S + 8000,
                            footprints_at_s=HEADLINE_T_S, night_at_s=HEADLINE_T_S)
    _render(fig, offline / "tracks.png")
    ax = fig.axes[0]
    lines = _lines(fig, "track:MICIUS")
    assert len(lines) >= 2  # two orbits: cut at the antimeridian
    ends = []
    for line in lines:
        x = np.asarray(line.get_xdata())
        assert np.all(np.abs(np.diff(x)) < 180.0)
        assert np.all(np.abs(x) <= 180.0)
        ends += [x[0], x[-1]]
    assert 180.0 in ends and -180.0 in ends
    drawn = np.concatenate([line.get_ydata() for line in lines])
    tracks = ground_tracks(scenario, start_s=HEADLINE_T_S - 3000, end_s=HEADLINE_T_S + 8000, step_s=20.0)
    assert drawn.max() == pytest.approx(tracks.latitude_deg.max())
    stations = next(c for c in ax.collections if c.get_gid() == "stations")
    np.testing.assert_allclose(stations.get_offsets(),
                               [(s.longitude_deg, s.latitude_deg) for s in scenario.stations])
    labels = {t.get_gid() for t in ax.texts}
    assert {f"station:{s.name}" for s in scenario.stations} <= labels
    assert any(c.get_gid() == "footprint:MICIUS" for c in ax.collections)
    assert any(type(getattr(a, "_feature", None)).__name__ == "Nightshade" for a in ax.artists + ax.collections)
    assert ax.get_extent() == pytest.approx((-180, 180, -90, 90))


def test_regional_zoom_keeps_its_extent_and_labels_only_stations_inside(micius, offline):
    scenario, _ = micius
    fig = plot_tracks(scenario, start_s=HEADLINE_T_S - 900, end_s=HEADLINE_T_S + 900,
                            footprints_at_s=HEADLINE_T_S, extent_deg=(70, 150, 10, 65))
    _render(fig, offline / "region.png")
    ax = fig.axes[0]
    import cartopy.crs as ccrs

    assert ax.get_extent(crs=ccrs.PlateCarree()) == pytest.approx((70, 150, 10, 65), abs=1e-6)
    assert {t.get_gid() for t in ax.texts if t.get_gid()} == {"station:Xinglong", "station:Nanshan"}


def test_map_across_the_antimeridian_draws_no_seams(micius, offline):
    scenario, _ = micius
    tracks = ground_tracks(scenario, end_s=6000.0, step_s=10.0)
    lat, lon = tracks.latitude_deg[0], tracks.longitude_deg[0]
    at_180 = float(tracks.t_s[np.argmax(np.where(np.abs(lat) < 60, np.abs(lon), 0.0))])
    fig = plot_tracks(scenario, start_s=0.0, footprints_at_s=at_180, extent_deg=(150, -150, -70, 40))
    _render(fig, offline / "antimeridian.png")
    import cartopy.crs as ccrs

    west, east, _, _ = fig.axes[0].get_extent(crs=ccrs.PlateCarree(central_longitude=180))
    assert east - west == pytest.approx(60.0, abs=1e-6)
    from constellation.coverage.tracks import satellite_footprints

    geometry = satellite_footprints(scenario, at_180).geometries[0]
    assert geometry.geom_type == "MultiPolygon"
    for edge in footprint_outline(geometry):
        vertical_on_seam = (np.abs(np.abs(edge[:-1, 0]) - 180.0) < 1e-9) & (edge[:-1, 0] == edge[1:, 0])
        assert not vertical_on_seam.any()


@pytest.mark.slow
def test_many_satellites_and_clustered_stations_stay_readable(offline):
    scenario = load_scenario(WALKER)
    fig = plot_tracks(scenario, footprints_at_s=600.0, night_at_s=600.0)
    _render(fig, offline / "walker.png")
    ax = fig.axes[0]
    assert ax.get_legend() is None  # 66 satellites: no legend
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if (t.get_gid() or "").startswith("station:")]
    assert len(boxes) == len(scenario.stations)
    overlaps = [(i, j) for i in range(len(boxes)) for j in range(i) if boxes[i].overlaps(boxes[j])]
    assert overlaps == []


# --- sky ----------------------------------------------------------------------------------

def test_sky_plot_is_north_up_clockwise_with_the_passes_where_they_are(micius, offline):
    scenario, passes = micius
    fig = plot_sky(scenario, passes, "Xinglong")
    _render(fig, offline / "sky.png")
    ax = fig.axes[0]
    assert ax.name == "polar"
    assert ax.get_theta_offset() == pytest.approx(np.pi / 2)  # theta_zero_location("N")
    assert ax.get_theta_direction() == -1                       # clockwise: east to the right
    assert ax.get_ylim() == (0.0, 90.0)                         # zenith at the centre
    rows = np.flatnonzero(passes.station == 0)
    assert len(_lines(fig, "pass:")) == rows.size
    for row in rows:
        (line,) = _lines(fig, f"pass:{row}")
        theta, r = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.all(np.abs(np.diff(theta)) < np.pi)            # never the long way round
        assert 90.0 - r.min() == pytest.approx(passes.max_elevation_deg[row], abs=1e-3)
        assert 90.0 - r[0] == pytest.approx(10.0, abs=1e-3)     # AOS on the 10 deg mask
        assert 90.0 - r[-1] == pytest.approx(10.0, abs=1e-3)
        assert bool(_lines(fig, f"window:{row}")) == bool(passes.has_window[row])
    (edge,) = _lines(fig, "mask-edge")
    np.testing.assert_allclose(edge.get_ydata(), 80.0)


def test_sky_plot_draws_a_horizon_mask_and_rejects_foreign_passes(micius, offline):
    scenario, passes = micius
    with pytest.raises(InputError, match="passes over Xinglong"):
        plot_sky(scenario, passes, "Xinglong", rows=[int(np.flatnonzero(passes.station == 1)[0])])
    with pytest.raises(InputError, match="did you mean 'Xinglong'"):
        plot_sky(scenario, passes, "Xinlong")
    data = tomllib.loads(MICIUS.read_text())
    data["stations"] = [{"name": "Xinglong", "min_elevation_deg": 10,
                         "horizon_mask": [[0, 5], [90, 30], [180, 15], [270, 20]]}]
    masked = scenario_from_dict(data)
    fig = plot_sky(masked, find_passes(masked), "Xinglong")
    _render(fig, offline / "sky-mask.png")
    (edge,) = _lines(fig, "mask-edge")
    az = np.degrees(edge.get_xdata())
    el = 90.0 - np.asarray(edge.get_ydata())
    assert el[np.argmin(np.abs(az - 90.0))] == pytest.approx(30.0)
    assert el[np.argmin(np.abs(az - 0.0))] == pytest.approx(10.0)   # the 10 deg floor wins over 5
    assert el[np.argmin(np.abs(az - 135.0))] == pytest.approx(22.5)


# --- timeline -----------------------------------------------------------------------------

def _bars(ax, gid):
    (collection,) = [c for c in ax.collections if c.get_gid() == gid]
    spans = [(p.vertices[:, 0].min(), p.vertices[:, 0].max()) for p in collection.get_paths()]
    return np.array(sorted(spans)).reshape(-1, 2)


def test_timeline_bars_match_the_pass_table_and_windows_lie_in_the_night(micius, offline):
    scenario, passes = micius
    fig = plot_timeline(scenario, passes)
    _render(fig, offline / "timeline.png")
    ax = fig.axes[0]
    tb = scenario.timebase
    assert [t.get_text() for t in ax.get_yticklabels()] == [s.name for s in scenario.stations]
    for st, station in enumerate(scenario.stations):
        rows = np.flatnonzero(passes.station == st)
        expected = np.column_stack([date_numbers(tb, passes.aos_s[rows]), date_numbers(tb, passes.los_s[rows])])
        np.testing.assert_allclose(_bars(ax, f"passes:{station.name}"), expected, atol=1e-3 * SECOND_DAYS)
        win = rows[passes.has_window[rows]]
        windows = _bars(ax, f"windows:{station.name}")
        np.testing.assert_allclose(windows, np.column_stack([date_numbers(tb, passes.window_start_s[win]),
                                                             date_numbers(tb, passes.window_end_s[win])]),
                                   atol=1e-3 * SECOND_DAYS)
        night = _bars(ax, f"night:{station.name}")
        for a, b in windows:  # windows need Sun < -12 deg: inside a shaded band (1 min grid)
            assert np.any((night[:, 0] <= a + 60 * SECOND_DAYS) & (night[:, 1] >= b - 60 * SECOND_DAYS))


def test_timeline_clips_to_a_span_and_picks_stations(micius, offline):
    scenario, passes = micius
    fig = plot_timeline(scenario, passes, start_s=50000.0, end_s=70000.0, stations=["Graz", 0])
    _render(fig, offline / "timeline-span.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Graz", "Xinglong"]
    lo, hi = date_numbers(scenario.timebase, [50000.0, 70000.0])
    assert ax.get_xlim() == pytest.approx((lo, hi))
    bars = _bars(ax, "passes:Graz")
    assert np.all(bars[:, 0] >= lo - 1e-9) and np.all(bars[:, 1] <= hi + 1e-9)


# --- key ----------------------------------------------------------------------------------

def test_key_along_the_headline_pass_matches_the_key_table(micius, offline):
    scenario, passes = micius
    longest = longest_window_pass(passes, station=0)
    assert passes.window_s[longest] == passes.window_s[passes.station == 0].max()
    (row,) = np.flatnonzero((passes.station == 0) & (passes.aos_s < HEADLINE_T_S) & (passes.los_s > HEADLINE_T_S))
    profile = key_profile(scenario, passes, row)
    # The key table's sky: the Sun and the Moon over the whole scenario (pipeline.compute_keys).
    keys = pass_keys(propagator_for(scenario), passes, scenario.stations, scenario.terminal,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s),
                     moon=MoonTrack(scenario.timebase, 0.0, scenario.duration_s))
    assert profile.finite_key_bits == pytest.approx(keys.finite_key_bits[row], rel=1e-12)
    assert profile.asymptotic_key_bits == pytest.approx(keys.asymptotic_key_bits[row], rel=1e-12)
    # Liao et al. 2017: 645-1,200 km across the ~273 s window.
    inside = (profile.t_s >= profile.window_s[0]) & (profile.t_s <= profile.window_s[1])
    assert 640.0 < np.nanmin(profile.range_km) < 650.0
    assert profile.range_km[inside].max() < 1200.0
    assert np.all(profile.key_rate_bps[~inside] == 0.0) and np.all(profile.key_rate_bps[inside] > 0.0)
    best = np.argmax(profile.key_rate_bps)
    assert best == np.nanargmin(profile.loss_terms_db["loss_db"])  # most key where the loss is least
    fig = plot_key(scenario, passes, row)
    _render(fig, offline / "key.png")
    (loss,) = _lines(fig, "loss")
    np.testing.assert_allclose(loss.get_xdata(), date_numbers(scenario.timebase, profile.t_s))
    np.testing.assert_allclose(loss.get_ydata(), profile.loss_terms_db["loss_db"])
    (rate,) = _lines(fig, "key-rate")
    np.testing.assert_allclose(rate.get_ydata(), profile.key_rate_bps / 1e3)


@pytest.mark.slow
def test_key_plot_of_a_daylight_pass_and_of_user_arrays(micius, offline):
    scenario, passes = micius
    day = int(np.flatnonzero(~passes.has_window)[0])
    fig = plot_key(scenario, passes, day)
    _render(fig, offline / "key-day.png")
    assert not np.any(_lines(fig, "key-rate")[0].get_ydata())
    t = np.arange(0.0, 300.0)
    loss = {"loss_db": 30.0 + 10.0 * ((t - 150.0) / 150.0) ** 2}
    own = KeyProfile(t, 60.0 - np.abs(t - 150.0) / 3.0, 600.0 + np.abs(t - 150.0) * 4.0, loss,
                           np.where((t > 50) & (t < 250), 1e3, 0.0), np.full(t.size, 0.02), (50.0, 250.0),
                           1.0e5, 1.5e5, "a user profile")
    _render(plot_key_profile(own), offline / "key-user.png")


def test_key_needs_a_link_model(micius):
    _, passes = micius
    data = tomllib.loads(MICIUS.read_text())
    del data["link"], data["qkd"]
    bare = scenario_from_dict(data)
    with pytest.raises(InputError, match=r"\[link\] and \[qkd\]"):
        plot_key(bare, passes, 1)
