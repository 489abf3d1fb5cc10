"""The coverage map renders headless and offline; tests check what was drawn, not pixels."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from constellation.api import load_scenario, compute_coverage
from constellation.errors import ParameterError
from constellation.plots.base import save_figure
from constellation.plots.coverage import COVERAGE_QUANTITIES, coverage_cells, plot_coverage

ROOT = Path(__file__).resolve().parents[1]
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
UNITS = {"coverage_fraction": "(fraction", "night_coverage_fraction": "(fraction",
         "max_gap_s": "(h)", "mean_gap_s": "(h)"}


@pytest.fixture(scope="module")
def walker():
    scenario = load_scenario(WALKER)
    result = compute_coverage(scenario, grid_deg=10)
    return scenario, result


# offline, no_pyplot_leaks: tests/conftest.py
pytestmark = pytest.mark.usefixtures("no_pyplot_leaks")


def _by_gid(fig, gid):
    found = [a for ax in fig.axes for a in [*ax.collections, *ax.lines] if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def _colour_bar_label(fig):
    labels = [ax.get_xlabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(labels) == 1
    return labels[0]


@pytest.mark.parametrize("quantity", [q if q == "coverage_fraction" else pytest.param(q, marks=pytest.mark.slow)
                                      for q in COVERAGE_QUANTITIES])
def test_each_quantity_renders_offline_with_cells_bar_and_bands(walker, offline, quantity):
    scenario, result = walker
    grid = result.grid
    fig = plot_coverage(result, quantity=quantity, stations=scenario.stations)
    try:
        path = save_figure(fig, offline / f"coverage_{quantity}.png")
        assert path.read_bytes()[:8] == PNG_MAGIC

        assert UNITS[quantity] in _colour_bar_label(fig)

        # one cell per grid point, centred on it, coloured by the per-point value (hours for gaps)
        cells = _by_gid(fig, "coverage:cells")
        paths = cells.get_paths()
        assert len(paths) == grid.size == 412
        centres = np.array([p.vertices[:4].mean(axis=0) for p in paths])
        np.testing.assert_allclose(centres[:, 0], grid.lon_deg, atol=1e-9)
        np.testing.assert_allclose(centres[:, 1], grid.lat_deg, atol=1e-9)
        spec = COVERAGE_QUANTITIES[quantity]
        drawn = np.asarray(cells.get_array(), dtype=float)
        np.testing.assert_allclose(drawn, getattr(result, quantity) / spec.scale)
        if spec.fraction:
            assert np.all((drawn >= 0.0) & (drawn <= 1.0))
            assert 0.0 < cells.norm.vmax <= 1.0 and cells.norm.vmin == 0.0
        else:
            assert cells.norm.vmax >= drawn.max() > 0.0  # hours, never clipped

        # the latitude panel: one value per band, at the band centre, equal to latitude_bands
        bands = result.latitude_bands(10.0)
        curve = _by_gid(fig, "coverage:bands")
        x, y = (np.asarray(v, dtype=float) for v in curve.get_data())
        assert x.size == y.size == len(bands) == 18
        np.testing.assert_allclose(y, [0.5 * (b["lat_min_deg"] + b["lat_max_deg"]) for b in bands])
        np.testing.assert_allclose(x, [b[spec.band_key] / spec.scale for b in bands])
        if spec.fraction:
            assert np.all((x >= 0.0) & (x <= 1.0))
        glob = np.asarray(_by_gid(fig, "coverage:global").get_xdata(), dtype=float)
        np.testing.assert_allclose(glob, result.summary()[spec.summary_key] / spec.scale)

        stations = _by_gid(fig, "stations")
        np.testing.assert_allclose(stations.get_offsets()[:, 1], [s.latitude_deg for s in scenario.stations])
        assert fig.axes[0].get_title()
    finally:
        fig.clear()


def test_cells_tile_the_globe(walker):
    _, result = walker
    west, east, south, north = coverage_cells(result.grid)
    area = np.sum((east - west) * (np.sin(np.radians(north)) - np.sin(np.radians(south))))
    assert area == pytest.approx(720.0)  # 360 deg x 2: the whole sphere, no overlap
    assert west.min() == pytest.approx(-180.0) and east.max() == pytest.approx(180.0)
    assert south.min() == pytest.approx(-90.0) and north.max() == pytest.approx(90.0)


def test_target_grid_is_drawn_as_points(walker, offline):
    scenario, _ = walker
    result = compute_coverage(scenario, stations_only=True)
    assert coverage_cells(result.grid) is None
    fig = plot_coverage(result, title="stations only")
    try:
        save_figure(fig, offline / "coverage_targets.png")
        points = _by_gid(fig, "coverage:points")
        np.testing.assert_allclose(points.get_offsets(), np.c_[result.grid.lon_deg, result.grid.lat_deg])
        assert fig.axes[0].get_title() == "stations only"
        assert not [a for ax in fig.axes for a in ax.collections if a.get_gid() == "stations"]
    finally:
        fig.clear()


def test_unknown_quantity_names_the_choices(walker):
    _, result = walker
    with pytest.raises(ParameterError, match="max_gap_s"):
        plot_coverage(result, quantity="max_gap")
