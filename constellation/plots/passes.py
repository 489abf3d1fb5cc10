"""Passes as pictures: a sky plot of passes over one station, a timeline of all stations."""

from __future__ import annotations

import numpy as np

from ..core.geometry import interpolate_mask_deg, look_angles
from ..coverage.tracks import scenario_span_s
from ..errors import InputError
from ..pipeline import propagator_for
from .base import (NIGHT_COLOUR, PASS_COLOUR, WINDOW_COLOUR, colour, date_numbers, new_figure, station_index,
                   sun_elevation_deg, timeline_axes, utc_datetimes)

__all__ = ["pass_track", "pass_tracks", "plot_sky", "plot_timeline", "sky_axes"]

SKY_LEGEND_MAX = 12


def pass_track(scenario, passes, row: int, step_s: float = 2.0):
    """Look angles along pass ``row`` of ``passes`` from its station, AOS to LOS.

    Returns ``(t_s, azimuth_deg, elevation_deg, range_km, valid)``, each shape ``(n,)``;
    the samples are every ``step_s`` plus the AOS, culmination and LOS instants.
    """
    return pass_tracks(scenario, passes, [row], step_s)[0]


def pass_tracks(scenario, passes, rows, step_s: float = 2.0) -> list[tuple]:
    """:func:`pass_track` of each of ``rows``, propagated in one call (a sky plot of thousands
    of passes spent a third of its time building a propagator and propagating pass by pass)."""
    rows = [int(r) for r in rows]
    times = [np.union1d(np.append(np.arange(passes.aos_s[r], passes.los_s[r], step_s), passes.los_s[r]),
                        [passes.culmination_s[r]]) for r in rows]
    if not rows:
        return []
    t = np.concatenate(times)
    owner = np.repeat(np.arange(len(rows)), [x.size for x in times])
    row_of = np.asarray(rows)
    states = propagator_for(scenario).pairwise(passes.satellite[row_of][owner], t)
    stations = [scenario.stations[int(s)] for s in passes.station[row_of]]
    site = np.array([s.position_km for s in stations])[owner]
    east, north, up = (np.array([s.enu[i] for s in stations])[owner] for i in range(3))
    el, az, rng = look_angles(states.r_km[0], site, east, north, up)
    cuts = np.cumsum([x.size for x in times])[:-1]
    return [(tt, np.degrees(a), np.degrees(e), r, v) for tt, a, e, r, v in
            zip(times, *(np.split(x, cuts) for x in (az, el, rng, states.valid[0])))]


def _check_rows(scenario, passes, rows, st=None):
    rows = np.atleast_1d(np.asarray(rows, dtype=int))
    bad = (rows < 0) | (rows >= len(passes))
    if bad.any():
        raise InputError(scenario.source, "passes", f"pass numbers in 0..{len(passes) - 1}", rows[bad].tolist())
    if st is not None and np.any(passes.station[rows] != st):
        other = rows[passes.station[rows] != st]
        raise InputError(scenario.source, "passes",
                         f"passes over {scenario.stations[st].name}", other.tolist())
    return rows


def plot_sky(scenario, passes, station, rows=None, *, step_s: float = 2.0, title: str | None = None,
             ax=None):
    """Az/el sky plot of passes over one station; returns the matplotlib Figure.

    North is up and azimuth runs clockwise (east to the right, as on a map); the zenith is
    at the centre and the horizon on the rim (radius = 90 - elevation). The station's obstruction (minimum
    elevation and horizon mask) is shaded grey. Each pass is a thin line from AOS (open
    circle, labelled with its UTC time) to LOS (arrow head), thick where its QKD window is.

    Parameters
    ----------
    scenario : Scenario
    passes : PassTable
    station : str or int
        Station name or index.
    rows : sequence of int, optional
        Rows of ``passes`` to draw (all must be over ``station``); default every pass
        over the station.
    step_s : float
        Sampling along each pass.
    ax : matplotlib polar Axes, optional

    Lines have gid ``pass:ROW`` (whole pass) and ``window:ROW`` (QKD window).
    """
    st = station_index(scenario, station)
    rows = (np.flatnonzero(passes.station == st) if rows is None else _check_rows(scenario, passes, rows, st))
    if ax is None:
        fig = new_figure(7.0, 7.4)
        ax = fig.add_subplot(projection="polar")
    fig = ax.figure
    sky_axes(ax)
    _draw_mask(ax, scenario.stations[st])
    busy = len(rows) > SKY_LEGEND_MAX  # many passes: thin lines; windows coloured by time, with an arrow
    when = _time_colours(scenario, passes, rows) if busy else None
    tracks = pass_tracks(scenario, passes, rows, step_s)
    for n, (row, track) in enumerate(zip(rows, tracks)):
        _draw_sky_pass(ax, scenario, passes, row, "#4C72B0" if busy else colour(n), busy, track,
                       window_colour=None if when is None else when(row))
    if 0 < len(rows) <= SKY_LEGEND_MAX:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=8, frameon=False,
                  ncol=1 if len(rows) <= 6 else 2)
    if when is not None and passes.has_window[rows].any():
        _time_colour_bar(fig, ax, scenario, when)
    where = scenario.stations[st]
    key = ("QKD windows coloured by date, arrow: direction of travel" if busy
           else "thick: QKD window; o AOS (UTC), arrow LOS")
    ax.set_title(title or f"{len(rows)} pass{'es' if len(rows) != 1 else ''} over {where.name} "
                 f"({where.latitude_deg:.2f}°, {where.longitude_deg:.2f}°)\n{key}; grey: below the elevation mask",
                 fontsize=10)
    return fig


def sky_axes(ax) -> None:
    """A polar Axes as a sky: north up, azimuth clockwise, zenith at the centre, horizon on the
    rim (radius = 90 - elevation), elevation rings every 15 deg."""
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    ax.set_rlim(0.0, 90.0)
    ax.set_rticks([0, 15, 30, 45, 60, 75, 90])
    ax.set_yticklabels(["90°", "75°", "60°", "45°", "30°", "15°", "0°"], fontsize=7, color="#555555")
    ax.set_rlabel_position(202.5)
    ax.set_thetagrids(np.arange(0, 360, 45), ["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
    ax.grid(color="#BBBBBB", linewidth=0.6, linestyle=":")


def _time_colours(scenario, passes, rows):
    """``row -> colour`` of a window by its start over the span (viridis: early dark, late
    yellow); the function carries ``cmap`` and ``norm`` (date numbers) for the colour bar."""
    from matplotlib import colormaps, colors

    t0, t1 = (date_numbers(scenario.timebase, [0.0, scenario.duration_s]))
    cmap, norm = colormaps["viridis"], colors.Normalize(t0, t1)
    start = date_numbers(scenario.timebase, passes.window_start_s[rows]) if len(rows) else []
    by_row = dict(zip(np.asarray(rows).tolist(), np.asarray(start).tolist()))

    def when(row):
        return cmap(norm(by_row[int(row)]))

    when.cmap, when.norm = cmap, norm
    return when


def _time_colour_bar(fig, ax, scenario, when) -> None:
    """A horizontal colour bar under the sky: the date of each window's colour."""
    import matplotlib.dates as mdates
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(norm=when.norm, cmap=when.cmap), ax=ax, orientation="horizontal",
                       fraction=0.04, pad=0.06, aspect=40)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    bar.ax.xaxis.set_major_locator(locator)
    bar.ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    bar.ax.tick_params(labelsize=7)
    bar.ax.xaxis.get_offset_text().set_fontsize(7)
    bar.set_label("QKD window start (UTC)", fontsize=8)


def _draw_sky_pass(ax, scenario, passes, row: int, c: str, busy: bool, track,
                   window_colour=None) -> None:
    """Pass ``row`` on the sky plot: a thin line (gid ``pass:ROW``), thick in its QKD window
    (``window:ROW``); unless ``busy``, a labelled AOS circle and an arrow head at LOS. When
    ``busy``, the window takes ``window_colour`` (its time) and an arrow head half way along
    it (gid ``direction:ROW``) shows the direction of travel."""
    from matplotlib import patheffects

    t, az, el, _, valid = track  # pass_tracks
    theta = np.unwrap(np.radians(az))  # the short way round through north
    r = np.where(valid, 90.0 - el, np.nan)
    aos = utc_datetimes(scenario.timebase, passes.aos_s[row])[0]
    label = (f"{aos:%m-%d %H:%M} UTC  {scenario.satellites[passes.satellite[row]].name}  "
             f"max {passes.max_elevation_deg[row]:.0f}°")
    if passes.has_window[row]:
        label += f", QKD {passes.window_s[row]:.0f} s"
    (line,) = ax.plot(theta, r, color=c, linewidth=0.5 if busy else 1.1, alpha=0.45 if busy else 0.9,
                      label=None if busy else label)
    line.set_gid(f"pass:{row}")
    if passes.has_window[row]:
        inside = (t >= passes.window_start_s[row]) & (t <= passes.window_end_s[row])
        wc = (window_colour if window_colour is not None else WINDOW_COLOUR) if busy else c
        (thick,) = ax.plot(theta[inside], r[inside], color=wc, linewidth=1.6 if busy else 3.2,
                           alpha=0.9 if busy else 1.0, solid_capstyle="round")
        thick.set_gid(f"window:{row}")
        k = np.flatnonzero(inside & np.isfinite(r))
        if busy and k.size >= 3:
            mid = k[k.size // 2]
            arrow = ax.annotate("", xy=(theta[mid + 1], r[mid + 1]), xytext=(theta[mid - 1], r[mid - 1]),
                                arrowprops={"arrowstyle": "-|>", "color": wc, "lw": 0, "mutation_scale": 9})
            arrow.set_gid(f"direction:{row}")
    if busy:
        return
    ax.plot(theta[0], r[0], marker="o", markersize=5, markerfacecolor="white", markeredgecolor=c)
    if len(t) >= 2:
        ax.annotate("", xy=(theta[-1], r[-1]), xytext=(theta[-2], r[-2]),
                    arrowprops={"arrowstyle": "-|>", "color": c, "lw": 0, "mutation_scale": 12})
    ax.annotate(f"{aos:%H:%M}", (theta[0], r[0]), xytext=(4, 4), textcoords="offset points",
                fontsize=7, color=c, path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
                annotation_clip=False)


def _draw_mask(ax, station):
    az = np.arange(0.0, 360.5, 1.0)
    floor = np.full(az.size, station.min_elevation_deg)
    mask = station.mask_arrays_deg()
    if mask is not None:
        floor = np.maximum(floor, interpolate_mask_deg(az, *mask))
    theta = np.radians(az)
    band = ax.fill_between(theta, 90.0 - floor, 90.0, color="#9E9E9E", alpha=0.35, linewidth=0, zorder=0.5)
    band.set_gid("mask")
    (edge,) = ax.plot(theta, 90.0 - floor, color="#6E6E6E", linewidth=0.9, zorder=0.6)
    edge.set_gid("mask-edge")


def plot_timeline(scenario, passes, *, start_s: float = 0.0, end_s: float | None = None,
                  stations=None, title: str | None = None, ax=None):
    """Passes and QKD windows per station over a span, with the station's night shaded.

    One row per station (top to bottom in scenario order). Each pass is a light bar from
    AOS to LOS; its QKD window a darker bar inside it; the background of a row is shaded
    where the Sun is below the scenario's ``station_sun_max_elevation_deg`` (0 deg, i.e.
    night, when the scenario sets none). Times on the x axis are UTC.

    Parameters
    ----------
    scenario, passes : Scenario, PassTable
    start_s, end_s : float
        Span in seconds since the scenario start (default: the whole scenario).
    stations : list of str or int, optional
        Rows to draw; default all stations.
    ax : matplotlib Axes, optional

    Bars are ``BrokenBarHCollection``-like PolyCollections with gids ``passes:STATION``,
    ``windows:STATION`` and ``night:STATION``; their x extents are matplotlib date numbers.
    """
    start_s, end_s = scenario_span_s(scenario, start_s, end_s)
    chosen = (list(range(len(scenario.stations))) if stations is None
              else [station_index(scenario, s) for s in stations])
    if ax is None:
        fig = new_figure(11.0, 1.6 + 0.55 * len(chosen))
        ax = fig.add_subplot()
    tb = scenario.timebase
    threshold = scenario.constraints.station_sun_max_elevation_deg
    threshold = 0.0 if threshold is None else threshold
    grid = np.linspace(start_s, end_s, int(np.ceil((end_s - start_s) / 60.0)) + 1)
    dark = sun_elevation_deg(scenario, chosen, grid) < threshold
    x_grid = date_numbers(tb, grid)
    for y, st in enumerate(chosen):
        name = scenario.stations[st].name
        _draw_night_row(ax, y, name, x_grid, dark[y])
        here = np.flatnonzero((passes.station == st) & (passes.los_s >= start_s) & (passes.aos_s <= end_s))
        _draw_pass_row(ax, y, name, scenario, passes, here, start_s, end_s)
    timeline_axes(ax, scenario, chosen, start_s, end_s)
    _timeline_legend(ax, threshold)
    a, b = utc_datetimes(tb, [start_s, end_s])
    ax.set_title(title or f"{scenario.name}\n{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} UTC", fontsize=10, loc="left",
                 pad=22)
    return ax.figure


def _draw_night_row(ax, y: int, name: str, x_grid, dark) -> None:
    """Shade row ``y`` where ``dark`` (per sample of ``x_grid``, date numbers); gid ``night:NAME``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], dark.astype(int), [0]])))
    spans = [(x_grid[a], x_grid[min(b, x_grid.size - 1)] - x_grid[a]) for a, b in edges.reshape(-1, 2)]
    ax.broken_barh(spans, (y - 0.45, 0.9), facecolor=NIGHT_COLOUR, alpha=0.12, linewidth=0).set_gid(f"night:{name}")


def _draw_pass_row(ax, y: int, name: str, scenario, passes, here, start_s: float, end_s: float) -> None:
    """Bars of passes ``here`` (rows of ``passes``) and their QKD windows, clipped to the span,
    in row ``y``, with the counts written right of the axes."""
    tb = scenario.timebase
    n_sat = len(scenario.satellites)
    aos = np.clip(passes.aos_s[here], start_s, end_s)
    los = np.clip(passes.los_s[here], start_s, end_s)
    xa, xl = date_numbers(tb, aos), date_numbers(tb, los)
    colours = [colour(int(s)) if 1 < n_sat <= 10 else PASS_COLOUR for s in passes.satellite[here]]
    bars = ax.broken_barh(list(zip(xa, xl - xa)), (y - 0.3, 0.6), facecolors=colours,
                          edgecolor=colours, linewidth=0.6, alpha=0.75 if n_sat > 1 else 1.0)
    bars.set_gid(f"passes:{name}")
    win = here[passes.has_window[here]]
    ws = np.clip(passes.window_start_s[win], start_s, end_s)
    we = np.clip(passes.window_end_s[win], start_s, end_s)
    xs, xe = date_numbers(tb, ws), date_numbers(tb, we)
    ax.broken_barh(list(zip(xs, xe - xs)), (y - 0.2, 0.4), facecolor=WINDOW_COLOUR,
                   edgecolor="#00573F", linewidth=0.6).set_gid(f"windows:{name}")
    total = float(np.sum(we - ws))
    counts = (f"{here.size} pass{'es' if here.size != 1 else ''}, "
              f"{win.size} window{'s' if win.size != 1 else ''}, {total / 60:.1f} min")
    ax.annotate(counts, (1.0, y),
                xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points",
                va="center", fontsize=8, color="#333333")




def _timeline_legend(ax, threshold: float) -> None:
    from matplotlib.patches import Patch

    sun_text = f"Sun < {threshold:g}°" if threshold != 0 else "night"
    handles = [Patch(facecolor=PASS_COLOUR, label="pass (AOS–LOS)"),
               Patch(facecolor=WINDOW_COLOUR, edgecolor="#00573F", label="QKD window"),
               Patch(facecolor=NIGHT_COLOUR, alpha=0.12, label=f"{sun_text} at the station")]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, fontsize=8, frameon=False)
