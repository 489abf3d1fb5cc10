"""Coverage on a world map, offline: one coloured cell per grid point, plus a latitude profile.

Draws a :class:`~constellation.coverage.statistics.CoverageResult` (``compute_coverage`` returns one)
over the shipped Natural Earth 110 m coastlines (see
:func:`constellation.plots.base.shipped_maps`); nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..coverage.grid import equal_area_rows
from ..errors import ParameterError, did_you_mean
from .base import (COAST_COLOUR, LAND_COLOUR, OCEAN_COLOUR, new_figure, shipped_layer,
                   shipped_maps)
from .maps import draw_stations

__all__ = ["COVERAGE_QUANTITIES", "coverage_cells", "plot_coverage"]

_HOUR_S = 3600.0


@dataclass(frozen=True)
class _Quantity:
    attribute: str  # CoverageResult per-point array
    band_key: str  # key of the latitude_bands() / summary() figure of the same quantity
    summary_key: str
    label: str  # colour-bar label, with units
    short: str  # axis label of the latitude panel
    scale: float  # divide the stored values by this (s -> h)
    fraction: bool
    cmap: str


COVERAGE_QUANTITIES = {
    "coverage_fraction": _Quantity("coverage_fraction", "coverage_fraction", "global_coverage_fraction",
                                   "Coverage (fraction of time)", "coverage (fraction)", 1.0, True,
                                   "viridis"),
    "night_coverage_fraction": _Quantity("night_coverage_fraction", "night_coverage_fraction",
                                         "global_night_coverage_fraction",
                                         "Night coverage (fraction of all time)", "night coverage (fraction)",
                                         1.0, True, "cividis"),
    "max_gap_s": _Quantity("max_gap_s", "max_revisit_gap_s", "max_revisit_gap_s", "Longest revisit gap (h)",
                           "longest gap (h)", _HOUR_S, False, "magma_r"),
    "mean_gap_s": _Quantity("mean_gap_s", "mean_revisit_gap_s", "mean_revisit_gap_s", "Mean revisit gap (h)",
                            "mean gap (h)", _HOUR_S, False, "magma_r"),
}
"""What :func:`plot_coverage` can draw: name -> per-point array, band figure, label with units."""


def _quantity(result, quantity) -> _Quantity:
    spec = COVERAGE_QUANTITIES.get(quantity)
    if spec is None:
        names = list(COVERAGE_QUANTITIES)
        hint = did_you_mean(quantity, names)
        raise ParameterError("quantity", f"one of {', '.join(names)}{hint}", quantity)
    if getattr(result, spec.attribute) is None:
        raise ParameterError("quantity", "a quantity the coverage result holds (this one was computed "
                             "without night statistics)", quantity)
    if spec.attribute == "coverage_fraction" and result.night_only:  # usable = dark and covered
        spec = dataclasses.replace(spec, label="Night coverage (fraction of all time: dark and covered)",
                                   short="night coverage (fraction)")
    return spec


def coverage_cells(grid):
    """``(west, east, south, north)`` arrays (deg) of the cell each grid point stands for.

    Equal-area grids (and regions cut from them) tile the globe in rows of height
    ``180 / round(180 / resolution_deg)`` deg holding equally spaced points, so each point's
    cell is exact. Returns None for a grid without a resolution (a list of targets).
    """
    if grid.resolution_deg is None:
        return None
    row_lat, counts, _ = equal_area_rows(float(grid.resolution_deg))
    row_lat = np.degrees(row_lat)
    half_h = 90.0 / row_lat.size
    row = np.clip(np.rint((grid.lat_deg + 90.0) / (2 * half_h) - 0.5).astype(int), 0, row_lat.size - 1)
    half_w = 180.0 / counts[row]
    return (grid.lon_deg - half_w, grid.lon_deg + half_w, row_lat[row] - half_h, row_lat[row] + half_h)


def _band_width(result) -> float:
    res = result.grid.resolution_deg
    if res is None:
        return 10.0
    rows = max(2, round(180.0 / float(res)))  # bands on row edges, ~10 deg or one row if wider
    height = 180.0 / rows
    return height * max(1, round(10.0 / height))


def plot_coverage(result, *, quantity: str = "coverage_fraction", title: str | None = None, stations=None,
                  band_width_deg: float | None = None):
    """A world map of one per-point coverage figure and its profile by latitude; returns the Figure.

    Parameters
    ----------
    result : CoverageResult
        From :func:`constellation.pipeline.compute_coverage` (or ``coverage.statistics.coverage``).
    quantity : str
        ``"coverage_fraction"`` (fraction of the time with >= k satellites in view),
        ``"night_coverage_fraction"`` (fraction of all the time that is night and covered; its
        colour scale tops at the largest night fraction, rounded up to 0.1),
        ``"max_gap_s"`` or ``"mean_gap_s"`` (longest or mean revisit gap, drawn in hours).
    title : str, optional
    stations : list of Station, optional
        Marked and labelled on the map.
    band_width_deg : float, optional
        Latitude band of the right panel (default ~10 deg, on grid row edges).

    An equal-area grid is drawn as one cell per point (a PolyCollection, gid
    ``coverage:cells``, array = the values drawn, in grid order); a target grid as round
    markers (a scatter, gid ``coverage:points``). The colour bar is labelled with units.
    The right panel has the area-weighted figure of each latitude band
    (:meth:`CoverageResult.latitude_bands`) as the line ``coverage:bands`` (x = value,
    y = band centre) and the global figure as the dashed line ``coverage:global``.
    Station markers have gid ``stations``.
    """
    spec = _quantity(result, quantity)
    values = np.asarray(getattr(result, spec.attribute), dtype=float) / spec.scale
    width = _band_width(result) if band_width_deg is None else float(band_width_deg)
    cmap, norm = _colour_scale(result, spec, values)
    fig = new_figure(12.0, 5.4)
    outer = fig.add_gridspec(1, 2, width_ratios=[4.0, 1.05])
    with shipped_maps():
        ax, mesh = _draw_map(fig, outer[0], result.grid, values, cmap, norm, stations)
    bar = fig.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.55, aspect=40, pad=0.03,
                       extend="neither")
    bar.set_label(spec.label, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    _draw_latitude_panel(fig.add_subplot(outer[1]), result, spec, width, norm)
    ax.set_title(title or _title(result, spec), fontsize=10)
    return fig


def _colour_scale(result, spec: _Quantity, values):
    """``(cmap, norm)``: grey for no data; fractions on 0..1 (night: up to the darkest place's
    night fraction, rounded up to 0.1), gaps on 0..a round number above the largest."""
    from matplotlib import colormaps, colors

    cmap = colormaps[spec.cmap].with_extremes(bad="#BBBBBB")  # NaN (no data) in grey
    if spec.attribute == "night_coverage_fraction" or (spec.attribute == "coverage_fraction" and result.night_only):
        # at most the night fraction: scale to the darkest place
        top = float(np.nanmax(result.night_fraction, initial=0.0))
        norm = colors.Normalize(0.0, min(1.0, np.ceil(top * 10.0 - 1e-9) / 10.0) if top > 0 else 1.0)
    elif spec.fraction:
        norm = colors.Normalize(0.0, 1.0)
    else:
        top = float(np.nanmax(values, initial=0.0))
        norm = colors.Normalize(0.0, _nice_ceiling(top) if top > 0 else 1.0)
    return cmap, norm


def _draw_map(fig, slot, grid, values, cmap, norm, stations):
    """The world map in gridspec ``slot``: cells (or target markers), coastlines, gridlines and
    stations; returns ``(ax, mappable)``. Call inside :func:`shipped_maps`."""
    import cartopy.crs as ccrs
    from matplotlib import patheffects

    data_crs = ccrs.PlateCarree()
    ax = fig.add_subplot(slot, projection=ccrs.PlateCarree())
    ax.set_global()
    ax.set_facecolor(OCEAN_COLOUR)
    cells = coverage_cells(grid)
    if cells is not None:
        mesh = _draw_cells(ax, cells, values, cmap, norm, data_crs)
    else:
        mesh = ax.scatter(grid.lon_deg, grid.lat_deg, c=np.ma.masked_invalid(values), cmap=cmap, norm=norm, s=70,
                          edgecolors="#333333", linewidths=0.6, transform=data_crs, zorder=3)
        mesh.set_gid("coverage:points")
        ax.add_feature(shipped_layer("land"), facecolor=LAND_COLOUR, edgecolor="none", zorder=0.5)
    coast = ax.add_feature(shipped_layer("coastline"), edgecolor="#1A1A1A" if cells is not None else COAST_COLOUR,
                           facecolor="none", linewidth=0.6, zorder=2)
    if cells is not None:  # a pale halo keeps the dark coast legible on dark cells too
        coast.set_path_effects([patheffects.withStroke(linewidth=1.4, foreground="#FFFFFF", alpha=0.4)])
    lines = ax.gridlines(draw_labels=True, linewidth=0.4, color="#FFFFFF", alpha=0.5, linestyle=":",
                         xlocs=np.arange(-180, 181, 60), ylocs=np.arange(-90, 91, 30), zorder=2.5)
    lines.top_labels = lines.right_labels = False
    lines.xlabel_style = lines.ylabel_style = {"size": 8, "color": "#444444"}
    if stations:
        draw_stations(ax, list(stations), None, data_crs)
    return ax, mesh


def _draw_cells(ax, cells, values, cmap, norm, data_crs):
    """One quadrilateral per grid point (a PolyCollection, gid ``coverage:cells``)."""
    from matplotlib.collections import PolyCollection

    west, east, south, north = cells
    quads = np.stack([np.stack([west, south], -1), np.stack([east, south], -1),
                      np.stack([east, north], -1), np.stack([west, north], -1)], axis=1)
    mesh = PolyCollection(quads, array=np.ma.masked_invalid(values), cmap=cmap, norm=norm,
                          edgecolors="face", linewidths=0.2, transform=data_crs, zorder=1)
    ax.add_collection(mesh)
    mesh.set_gid("coverage:cells")
    return mesh


def _draw_latitude_panel(side, result, spec: _Quantity, width: float, norm) -> None:
    """The area-weighted figure of each latitude band (``coverage:bands``) beside the global
    one (``coverage:global``), on the colour scale's range."""
    bands = result.latitude_bands(width)
    band_lat = np.array([0.5 * (b["lat_min_deg"] + b["lat_max_deg"]) for b in bands])
    band_val = np.array([b[spec.band_key] for b in bands], dtype=float) / spec.scale
    overall = float(result.summary()[spec.summary_key]) / spec.scale
    side.set_box_aspect(2.0)
    side.axvline(overall, color="#7F7F7F", linestyle="--", linewidth=1.0, zorder=1,
                 label=f"global {_fmt(overall, spec)}").set_gid("coverage:global")
    (curve,) = side.plot(band_val, band_lat, marker="o", markersize=3.5, color="#0072B2", linewidth=1.4,
                         zorder=3, label=f"{width:g}° bands")
    curve.set_gid("coverage:bands")
    side.set_ylim(-90.0, 90.0)
    side.set_yticks(np.arange(-90, 91, 30))
    side.yaxis.set_major_formatter(_latitude_formatter())
    side.yaxis.tick_right()
    side.set_xlabel(spec.short, fontsize=9)
    side.set_title(f"by latitude ({width:g}° bands)\n- - global: {_fmt(overall, spec)}", fontsize=9)
    if spec.fraction and norm.vmax == 1.0:
        side.set_xlim(-0.03, 1.03)
        side.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0], ["0", "", "0.5", "", "1"])
    else:
        side.set_xlim(-0.03 * norm.vmax if spec.fraction else 0.0, norm.vmax * 1.04)
    side.tick_params(labelsize=8)
    side.grid(True, linewidth=0.4, alpha=0.5)


def _nice_ceiling(x: float) -> float:
    """Smallest of 1, 2, 2.5, 5 x 10^n at or above ``x`` (a round colour-bar top)."""
    power = 10.0 ** np.floor(np.log10(x))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= x * (1 - 1e-12):
            return float(step * power)
    return float(x)


def _fmt(value: float, spec: _Quantity) -> str:
    return f"{value:.2f}" if spec.fraction else f"{value:.2g} h" if value < 10 else f"{value:.0f} h"


def _latitude_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: "0°" if abs(v) < 1e-9 else f"{abs(v):g}°{'N' if v > 0 else 'S'}")


def _title(result, spec: _Quantity) -> str:
    what = {"coverage_fraction": "Night coverage" if result.night_only else "Coverage",
            "night_coverage_fraction": "Night coverage",
            "max_gap_s": "Longest revisit gap", "mean_gap_s": "Mean revisit gap"}[spec.attribute]
    by = "≥1 satellite" if result.k == 1 else f"≥{result.k} satellites"
    if result.min_elevation_deg is not None:
        mask = f"above {result.min_elevation_deg:g}° elevation"
    else:
        mask = f"within {result.cap_angle_deg:g}° Earth-central angle"
    hours = result.duration_s / _HOUR_S
    grid = f"{result.grid.resolution_deg:g}° grid" if result.grid.resolution_deg else f"{result.grid.size} targets"
    parts = [f"{what} by {by} {mask}", f"{grid}, {hours:g} h in {result.step_s:g} s steps"]
    if spec.attribute == "night_coverage_fraction" or result.night_only:
        parts.append(f"night: Sun below {result.night_sun_elevation_deg:g}°")
    return "; ".join(parts)
