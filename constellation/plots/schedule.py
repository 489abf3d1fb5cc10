"""The network schedule as a Gantt chart: which satellite each station tracks, and when."""

from __future__ import annotations

import numpy as np

from ..coverage.tracks import scenario_span_s
from .base import PALETTE, colour, date_numbers, new_figure, timeline_axes, utc_datetimes

__all__ = ["contact_lanes", "plot_schedule"]

# Up to this many satellites: one qualitative colour each and a legend; more: a colormap
# over the satellites' order in the scenario and a colour bar instead of a legend.
SCHEDULE_LEGEND_MAX = len(PALETTE)
SCHEDULE_COLORMAP = "viridis"


def contact_lanes(start_s, end_s) -> np.ndarray:
    """Lane of each interval ``[start, end)`` so that intervals in one lane never overlap
    (touching ones may share), the fewest lanes possible (interval partitioning by start).

    A station with two telescopes tracking two satellites at once gets two lanes.
    """
    start = np.asarray(start_s, dtype=float)
    end = np.asarray(end_s, dtype=float)
    lane = np.zeros(start.size, dtype=np.int64)
    lane_end: list[float] = []
    for i in np.lexsort((end, start)).tolist():
        free = next((k for k, e in enumerate(lane_end) if e <= start[i]), None)
        if free is None:
            free = len(lane_end)
            lane_end.append(0.0)
        lane[i] = free
        lane_end[free] = float(end[i])
    return lane


def plot_schedule(scenario, plan, *, start_s: float = 0.0, end_s: float | None = None, title: str | None = None,
                  ax=None):
    """The contacts the network schedule chose, one row per station, one colour per satellite.

    Rows are the scenario's stations, top to bottom in scenario order; a station tracking
    several satellites at once (several telescopes) has its row split into lanes. Each bar
    is a scheduled contact from its start to its end (UTC on the x axis). With at most
    ``SCHEDULE_LEGEND_MAX`` satellites each has a colour of the shared palette and a legend
    entry; with more, colours run through ``SCHEDULE_COLORMAP`` in satellite order and a
    colour bar replaces the legend. Right of each row: contacts, tracking time and key.

    Parameters
    ----------
    scenario : Scenario
    plan : NetworkPlan
        ``plan.contacts`` and ``plan.schedule.chosen`` (from ``plan_relay``).
    start_s, end_s : float
        Span in seconds since the scenario start (default: the whole scenario).
    ax : matplotlib Axes, optional

    Bars are PolyCollections with gid ``schedule:STATION`` (one per station and lane);
    their x extents are matplotlib date numbers.
    """
    start_s, end_s = scenario_span_s(scenario, start_s, end_s)
    contacts, chosen = plan.contacts, np.asarray(plan.schedule.chosen, dtype=np.int64)
    n_sat = len(scenario.satellites)
    if ax is None:
        fig = new_figure(11.0, 1.8 + 0.55 * len(scenario.stations))
        ax = fig.add_subplot()
    tb = scenario.timebase
    colours = _satellite_colours(n_sat)
    shown = chosen[(contacts.end_s[chosen] >= start_s) & (contacts.start_s[chosen] <= end_s)]
    for y, station in enumerate(scenario.stations):
        here = shown[contacts.station[shown] == y]
        s = np.clip(contacts.start_s[here], start_s, end_s)
        e = np.clip(contacts.end_s[here], start_s, end_s)
        lanes = contact_lanes(s, e)
        n_lanes = int(lanes.max()) + 1 if lanes.size else 1
        height = 0.8 / n_lanes
        xs, xe = date_numbers(tb, s), date_numbers(tb, e)
        for lane in range(n_lanes):
            k = np.flatnonzero(lanes == lane)
            faces = [colours[int(contacts.satellite[i])] for i in here[k]]
            ax.broken_barh(list(zip(xs[k], xe[k] - xs[k])), (y - 0.4 + lane * height, height * 0.9),
                           facecolors=faces, edgecolors=faces, linewidth=0.6).set_gid(f"schedule:{station.name}")
        key_bits = float(contacts.key_bits[here].sum())
        ax.annotate(f"{here.size} contact{'s' if here.size != 1 else ''}, {float(np.sum(e - s)) / 60:.1f} min, "
                    f"{key_bits / 1e6:.3g} Mbit", (1.0, y), xycoords=("axes fraction", "data"), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8, color="#333333")
    _axes(ax, scenario, start_s, end_s)
    _satellite_key(ax, scenario, colours)
    a, b = utc_datetimes(tb, [start_s, end_s])
    method = getattr(plan.schedule, "method", None)
    ax.set_title(title or f"{scenario.name}: network schedule{f' ({method})' if method else ''}\n"
                 f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} UTC", fontsize=10, loc="left", pad=22)
    return ax.figure


def _satellite_colours(n_sat: int) -> list:
    """One colour per satellite: the palette up to ``SCHEDULE_LEGEND_MAX``, else a colormap."""
    if n_sat <= SCHEDULE_LEGEND_MAX:
        return [colour(k) for k in range(n_sat)]
    from matplotlib import colormaps

    cmap = colormaps[SCHEDULE_COLORMAP]
    return [cmap(k / (n_sat - 1)) for k in range(n_sat)]


def _axes(ax, scenario, start_s: float, end_s: float) -> None:
    """Station names down the y axis, UTC across the x axis, light grid, no top/right frame."""
    timeline_axes(ax, scenario, range(len(scenario.stations)), start_s, end_s)


def _satellite_key(ax, scenario, colours: list) -> None:
    """A legend of the satellites (few), or a colour bar over their order (many)."""
    names = [s.name for s in scenario.satellites]
    if len(names) <= SCHEDULE_LEGEND_MAX:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=c, label=n) for c, n in zip(colours, names)]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=min(len(names), 6), fontsize=8,
                  frameon=False)
        return
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    mappable = ScalarMappable(Normalize(1, len(names)), colormaps[SCHEDULE_COLORMAP])
    bar = ax.figure.colorbar(mappable, ax=ax, pad=0.15, fraction=0.03)
    bar.set_label(f"satellite (1 = {names[0]} … {len(names)} = {names[-1]})", fontsize=8)
    bar.ax.tick_params(labelsize=7)
