"""Ground tracks on a world (or regional) map, offline, with cartopy.

The map draws the shipped Natural Earth 110 m land and coastlines (see
:func:`constellation.plots.base.shipped_maps`); nothing is downloaded. The tracks and
footprints come from :mod:`constellation.coverage.tracks`.
"""

from __future__ import annotations

import numpy as np

from ..coverage.tracks import (default_footprint_mask_deg, ground_tracks, satellite_footprints, select_satellites,
                               split_antimeridian)
from ..errors import ParameterError
from .base import (COAST_COLOUR, LAND_COLOUR, OCEAN_COLOUR, colour, new_figure, shipped_layer,
                   shipped_maps, utc_datetimes)

__all__ = ["draw_stations", "footprint_outline", "plot_tracks", "span_of_interest", "stations_extent"]


def stations_extent(stations, margin_deg: float = 12.0) -> tuple:
    """``(west, east, south, north)`` in degrees around ``stations``, plus ``margin_deg``.

    Picks the shorter way round in longitude, so stations on both sides of the antimeridian
    give an extent with ``west > east`` (which :func:`plot_tracks` draws across it).
    """
    lon = np.array([s.longitude_deg for s in stations], dtype=float)
    lat = np.array([s.latitude_deg for s in stations], dtype=float)
    south = max(-90.0, lat.min() - margin_deg)
    north = min(90.0, lat.max() + margin_deg)
    order = np.sort((lon + 180.0) % 360.0 - 180.0)
    gaps = np.diff(np.append(order, order[0] + 360.0))
    k = int(np.argmax(gaps))  # the widest empty arc is left out of the map
    west, east = order[(k + 1) % order.size], order[k]
    if (east - west) % 360.0 + 2 * margin_deg >= 360.0:
        return (-180.0, 180.0, south, north)
    return (_wrap_deg(west - margin_deg), _wrap_deg(east + margin_deg), south, north)


def _wrap_deg(lon):
    return (lon + 180.0) % 360.0 - 180.0


def _projection_for(extent_deg):
    import cartopy.crs as ccrs

    if extent_deg is None:
        return ccrs.PlateCarree(), None
    west, east, south, north = (float(v) for v in extent_deg)
    if not (-90.0 <= south < north <= 90.0):
        raise ParameterError("extent_deg", "(west, east, south, north) with south < north in [-90, 90]",
                             extent_deg)
    if east <= west:
        east += 360.0  # crosses the antimeridian
    centre = 0.0 if west >= -180.0 and east <= 180.0 else 0.5 * (west + east)
    return ccrs.PlateCarree(central_longitude=centre), (west, east, south, north)


NIGHT_SHADE = "#102040"
LEGEND_MAX = 10  # beyond this many satellites: one colour, no legend
MANY_COLOUR = "#0072B2"


def plot_tracks(scenario, *, satellites=None, start_s: float = 0.0, end_s: float | None = None,
                step_s: float = 20.0, footprints_at_s: float | None = None,
                footprint_min_elevation_deg: float | None = None, night_at_s: float | None = None,
                extent_deg=None, stations: bool = True, title: str | None = None, ax=None):
    """Ground tracks of satellites on a PlateCarree map; returns the matplotlib Figure.

    Parameters
    ----------
    scenario : Scenario
    satellites : list of str or int, optional
        Names or indices; default all.
    start_s, end_s : float
        Span in seconds since the scenario start. ``end_s`` defaults to one orbital period
        of the slowest chosen satellite after ``start_s`` (capped at the scenario end).
    step_s : float
        Track sampling (20 s is ~150 km along a LEO track).
    footprints_at_s : float, optional
        Draw each satellite's position and footprint (the ground seeing it above
        ``footprint_min_elevation_deg``, default the stations' lowest mask) at this instant.
    night_at_s : float, optional
        Shade the night side of the Earth at this instant.
    extent_deg : (west, east, south, north), optional
        Regional zoom in degrees; ``west > east`` crosses the antimeridian. See
        :func:`stations_extent`. Default: the whole world.
    stations : bool
        Mark and label the scenario's stations.
    ax : cartopy GeoAxes, optional
        Draw into it instead of a new figure.

    Tracks are cut at the antimeridian and at SGP4 failures
    (:func:`constellation.coverage.tracks.split_antimeridian`), so no line crosses the map.
    Each track line has gid ``track:NAME``; the station markers ``stations``; footprints
    ``footprint:NAME``. The map layers are read from the shipped data (:func:`shipped_maps`).
    """
    import cartopy.crs as ccrs

    chosen = select_satellites(scenario, satellites)
    if end_s is None:
        end_s = _one_orbit_end_s(scenario, chosen, start_s)
    tracks = ground_tracks(scenario, chosen, start_s, end_s, step_s)
    projection, extent = _projection_for(extent_deg)
    many = len(tracks.names) > LEGEND_MAX
    data_crs = ccrs.PlateCarree()
    with shipped_maps():
        if ax is None:
            ax = new_figure(*_map_size_in(extent)).add_subplot(projection=projection)
        _draw_base_map(ax, extent, data_crs)
        if night_at_s is not None:
            _draw_night(ax, scenario.timebase, night_at_s)
        _draw_tracks(ax, tracks, many, data_crs)
        if footprints_at_s is not None:
            feet = satellite_footprints(scenario, footprints_at_s, chosen, footprint_min_elevation_deg)
            _draw_footprints(ax, feet, many, data_crs)
        if stations:
            draw_stations(ax, scenario.stations, extent, data_crs)
    if not many and tracks.names:
        ax.legend(loc="lower left", fontsize=8, framealpha=0.85)
    ax.set_title(title or _title(scenario, tracks, footprints_at_s, feet_mask=footprint_min_elevation_deg,
                                 night_at_s=night_at_s), fontsize=10)
    return ax.figure


def span_of_interest(scenario, passes, satellites=None) -> tuple[float, float, float]:
    """``(start_s, end_s, at_s)``: one orbit (of the slowest chosen satellite) centred on the
    longest QKD window of the chosen satellites (else their longest pass; without passes, the
    first orbit), and the middle of that window, where footprints and the night side are drawn.

    The default span of ``tracks.png``: the first orbit of a scenario often passes over no
    station, so the map would show none of the passes the scenario is about.
    """
    chosen = select_satellites(scenario, satellites)
    periods = [2 * np.pi / scenario.satellites[i].satrec.no_kozai * 60.0 for i in chosen]
    period = min(max(periods), scenario.duration_s)
    rows = np.flatnonzero(np.isin(passes.satellite, chosen)) if len(passes) else np.zeros(0, int)
    if rows.size == 0:
        return 0.0, period, 0.0
    windows = passes.window_s[rows]
    if windows.max() > 0:
        row = rows[int(np.argmax(windows))]
        at_s = 0.5 * (passes.window_start_s[row] + passes.window_end_s[row])
    else:
        row = rows[int(np.argmax(passes.los_s[rows] - passes.aos_s[rows]))]
        at_s = float(passes.culmination_s[row])
    start_s = float(np.clip(at_s - period / 2.0, 0.0, scenario.duration_s - period))
    return start_s, start_s + period, float(at_s)


def _one_orbit_end_s(scenario, chosen, start_s) -> float:
    """``start_s`` plus the orbital period of the slowest chosen satellite, capped at the scenario end."""
    periods = [2 * np.pi / scenario.satellites[i].satrec.no_kozai * 60.0 for i in chosen]
    return min(start_s + max(periods), scenario.duration_s)


def _map_size_in(extent) -> tuple[float, float]:
    """Figure size (in) for the world, or for a regional ``extent`` by its aspect."""
    if extent is None:
        return (11.0, 6.0)
    aspect = (extent[1] - extent[0]) / max(extent[3] - extent[2], 1.0)
    return (9.0, float(np.clip(9.0 / aspect + 0.9, 4.0, 9.0)))


def _draw_base_map(ax, extent, data_crs) -> None:
    """Extent, ocean, land, coastlines and labelled gridlines."""
    if extent is None:
        ax.set_global()
    else:
        ax.set_extent(extent, crs=data_crs)
    ax.set_facecolor(OCEAN_COLOUR)
    ax.add_feature(shipped_layer("land"), facecolor=LAND_COLOUR, edgecolor="none", zorder=0.5)
    ax.add_feature(shipped_layer("coastline"), edgecolor=COAST_COLOUR, facecolor="none", linewidth=0.6, zorder=1)
    grid = ax.gridlines(draw_labels=True, linewidth=0.4, color="#9AA5B1", alpha=0.6, linestyle=":")
    grid.top_labels = grid.right_labels = False
    grid.xlabel_style = grid.ylabel_style = {"size": 8, "color": "#444444"}


def _draw_night(ax, timebase, night_at_s) -> None:
    """Shade the side of the Earth where the Sun has set at ``night_at_s``."""
    from cartopy.feature.nightshade import Nightshade

    ax.add_feature(Nightshade(utc_datetimes(timebase, night_at_s)[0].replace(tzinfo=None),
                              alpha=0.18, color=NIGHT_SHADE), zorder=1.5)


def _draw_tracks(ax, tracks, many: bool, data_crs) -> None:
    """One line per track piece (gid ``track:NAME``); with few satellites a start dot and an arrow."""
    for k, name in enumerate(tracks.names):
        c = MANY_COLOUR if many else colour(k)
        pieces = split_antimeridian(tracks.longitude_deg[k], tracks.latitude_deg[k], tracks.valid[k])
        for j, piece in enumerate(pieces):
            (line,) = ax.plot(piece[:, 0], piece[:, 1], color=c, linewidth=0.5 if many else 1.4,
                              alpha=0.35 if many else 0.95, transform=data_crs, zorder=3,
                              label=name if (j == 0 and not many) else None)
            line.set_gid(f"track:{name}")
        if pieces and not many:
            ax.plot(*pieces[0][0], marker="o", markersize=4, markerfacecolor="white", markeredgecolor=c,
                    transform=data_crs, zorder=4)
            _direction_arrow(ax, pieces, c, data_crs)


def _draw_footprints(ax, feet, many: bool, data_crs) -> None:
    """Each valid footprint filled (gid ``footprint:NAME``), outlined, with its satellite's dot."""
    for k, name in enumerate(feet.names):
        if not feet.valid[k]:
            continue
        c = MANY_COLOUR if many else colour(k)
        artist = ax.add_geometries([feet.geometries[k]], crs=data_crs, facecolor=c,
                                   alpha=0.05 if many else 0.16, edgecolor="none", zorder=2)
        artist.set_gid(f"footprint:{name}")
        for edge in footprint_outline(feet.geometries[k]):
            ax.plot(edge[:, 0], edge[:, 1], color=c, linewidth=0.4 if many else 0.9,
                    alpha=0.5 if many else 1.0, transform=data_crs, zorder=2.1)
        ax.plot(feet.longitude_deg[k], feet.latitude_deg[k], marker="o", markersize=3.5 if many else 6,
                color=c, markeredgecolor="white", markeredgewidth=0.6, transform=data_crs, zorder=5)


def footprint_outline(geometry, tol_deg: float = 1e-9) -> list:
    """The boundary of a footprint as lines, without the cuts along +/-180 and the pole edges.

    A footprint split at the antimeridian (or closed along a pole) has straight edges there
    that are map seams, not part of the circle; drawing the polygons' outlines would show
    them as lines across the map whenever the map is not centred on 0 deg.

    Returns a list of ``(n, 2)`` arrays of (longitude_deg, latitude_deg).
    """
    lines = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty:
            continue
        ring = np.asarray(polygon.exterior.coords)
        a, b = ring[:-1], ring[1:]
        seam = ((np.abs(np.abs(a[:, 0]) - 180.0) < tol_deg) & (np.abs(a[:, 0] - b[:, 0]) < tol_deg)) | (
            (np.abs(np.abs(a[:, 1]) - 90.0) < tol_deg) & (np.abs(a[:, 1] - b[:, 1]) < tol_deg))
        if not seam.any():
            lines.append(ring)
            continue
        start = int(np.flatnonzero(seam)[0]) + 1
        order = (start + np.arange(seam.size)) % seam.size
        run = []
        for edge in order:
            if seam[edge]:
                if len(run) >= 2:
                    lines.append(np.array(run))
                run = []
                continue
            if not run:
                run.append(a[edge])
            run.append(b[edge])
        if len(run) >= 2:
            lines.append(np.array(run))
    return lines


def _direction_arrow(ax, pieces, c, crs):
    """A small arrow head half way along the longest piece, pointing along the motion."""
    piece = max(pieces, key=len)
    if len(piece) < 3:
        return
    i = len(piece) // 2
    ax.annotate("", xy=piece[i + 1], xytext=piece[i], xycoords=crs._as_mpl_transform(ax),
                arrowprops={"arrowstyle": "-|>", "color": c, "lw": 0, "mutation_scale": 11}, zorder=4)


# Label positions tried in turn (offset in points, horizontal and vertical alignment).
_LABEL_SPOTS = [((5, 4), "left", "bottom"), ((5, -4), "left", "top"), ((-5, 4), "right", "bottom"),
                ((-5, -4), "right", "top"), ((0, 7), "center", "bottom"), ((0, -8), "center", "top")]


def draw_stations(ax, stations, extent, crs) -> None:
    """Station markers (gid ``stations``) and labels (gid ``station:NAME``) placed clear of each other.

    Labels of stations outside ``extent`` (west, east, south, north; None: the world) are left out.
    """
    from matplotlib import patheffects

    lon = np.array([s.longitude_deg for s in stations])
    lat = np.array([s.latitude_deg for s in stations])
    points = ax.scatter(lon, lat, marker="^", s=42, color="#111111", edgecolor="white", linewidth=0.8,
                        transform=crs, zorder=6)
    points.set_gid("stations")
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    texts = []
    for station in stations:
        if extent is not None and not _inside(station, extent):
            continue
        text = ax.annotate(station.name, (station.longitude_deg, station.latitude_deg),
                           xycoords=crs._as_mpl_transform(ax), xytext=_LABEL_SPOTS[0][0],
                           textcoords="offset points", ha=_LABEL_SPOTS[0][1], va=_LABEL_SPOTS[0][2],
                           fontsize=8, color="#111111", zorder=7, annotation_clip=True)
        text.set_path_effects(halo)
        text.set_gid(f"station:{station.name}")
        texts.append(text)
    _declutter(ax, texts, points)


def _declutter(ax, texts, points):
    """Move each label to the first spot where it overlaps no earlier label and no marker."""
    fig = ax.figure
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None or len(texts) < 2:
        return
    renderer = get_renderer()
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    ax.apply_aspect()
    markers = points.get_offset_transform().transform(points.get_offsets())
    pad = 4.0
    placed = []
    for text in texts:
        own = text.xycoords.transform(np.asarray(text.xy, dtype=float))
        for offset, ha, va in _LABEL_SPOTS:
            text.xyann = offset
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
            box = text.get_window_extent(renderer).padded(1.0)
            hits_label = any(box.overlaps(other) for other in placed)
            hits_marker = any(box.x0 - pad < x < box.x1 + pad and box.y0 - pad < y < box.y1 + pad
                              for x, y in markers if np.hypot(x - own[0], y - own[1]) > 1.0)
            if not (hits_label or hits_marker):
                break
        else:
            text.xyann, (ha, va) = _LABEL_SPOTS[0][0], _LABEL_SPOTS[0][1:]
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
        placed.append(text.get_window_extent(renderer))


def _inside(station, extent):
    west, east, south, north = extent
    lon = (station.longitude_deg - west) % 360.0 + west
    return west <= lon <= east and south <= station.latitude_deg <= north


def _title(scenario, tracks, footprints_at_s, feet_mask, night_at_s):
    tb = scenario.timebase
    a, b = utc_datetimes(tb, [tracks.t_s[0], tracks.t_s[-1]])
    same_day = a.date() == b.date()
    span = f"{a:%Y-%m-%d %H:%M}–{b:%H:%M} UTC" if same_day else f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} UTC"
    names = ", ".join(tracks.names) if len(tracks.names) <= 4 else f"{len(tracks.names)} satellites"
    parts = [f"Ground tracks of {names}, {span}"]
    if footprints_at_s is not None:
        mask = feet_mask if feet_mask is not None else default_footprint_mask_deg(scenario)
        parts.append(f"footprints (elevation ≥ {mask:g}°) at {utc_datetimes(tb, footprints_at_s)[0]:%H:%M:%S} UTC")
    if night_at_s is not None:
        parts.append(f"night side at {utc_datetimes(tb, night_at_s)[0]:%H:%M} UTC")
    return "\n".join([parts[0], "; ".join(parts[1:])]) if len(parts) > 1 else parts[0]
