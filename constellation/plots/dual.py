"""A dual-downlink window as a picture: the satellite in both stations' skies at once, and the
loss of the two arms along the window (the arrays: ``pipeline.dual_profile``)."""

from __future__ import annotations

import numpy as np

from .base import colour, date_numbers, new_figure, utc_axis, utc_datetimes
from .passes import _draw_mask, pass_track, sky_axes

__all__ = ["default_dual_window", "plot_dual"]


def default_dual_window(dual, keys=None) -> int:
    """Row of the dual window with the most coincidences (``keys`` with a source), else the
    longest. Raises ValueError when there is no dual window."""
    if not len(dual):
        raise ValueError("no dual window")
    if keys is not None and keys.has_source and np.any(keys.coincidences > 0):
        return int(np.argmax(keys.coincidences))
    return int(np.argmax(dual.duration_s))


def plot_dual(scenario, passes, dual, row: int, profile, keys=None, *, step_s: float = 2.0,
              title: str | None = None):
    """Dual window ``row`` of ``dual``: both stations' sky tracks (left) and the two-arm loss
    along the window (right); returns the matplotlib Figure.

    Left, one polar sky (north up, zenith at the centre, as :func:`~.passes.plot_sky`): the
    satellite's whole pass over station a and over station b, each from its own station (thin;
    open circle at AOS with its UTC time, arrow head at LOS), thick where the dual window is,
    with its start (dot) and end (square) labelled in UTC on both tracks; grey, each station's
    obstruction. Right, each arm's loss and their sum against UTC (dB); without a source in
    ``profile`` (NaN losses) the slant ranges and their sum instead (km).

    Parameters
    ----------
    scenario, passes, dual : Scenario, PassTable, DualTable
    row : int
        Row of ``dual`` (a row of ``constellation dual``).
    profile : DualProfile
        ``pipeline.dual_profile(scenario, dual, row)``.
    keys : DualKeys, optional
        Adds the window's coincidences, QBER and key to the loss panel.

    Lines have gids ``pass:a``/``pass:b`` (whole passes, az/el from each station),
    ``window:a``/``window:b`` (the dual window), and ``loss:a``, ``loss:b``, ``loss:total``
    (or ``range:a``, ``range:b``, ``range:sum``) on the right, x in matplotlib date numbers.
    """
    fig = new_figure(13.0, 6.2)
    grid = fig.add_gridspec(1, 2, width_ratios=[1.0, 1.25])
    sky = fig.add_subplot(grid[0], projection="polar")
    right = fig.add_subplot(grid[1])
    names = dual.station_names
    ends = {"a": (int(dual.a[row]), int(dual.pass_a[row]), profile.azimuth_a_deg, profile.elevation_a_deg),
            "b": (int(dual.b[row]), int(dual.pass_b[row]), profile.azimuth_b_deg, profile.elevation_b_deg)}
    sky_axes(sky)
    for end, (st, pass_row, az, el) in ends.items():
        _draw_mask(sky, scenario.stations[st])
        _draw_track(sky, scenario, passes, pass_row, end, names[st], colour(0 if end == "a" else 1), az, el,
                    profile.t_s, step_s)
    sky.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05), fontsize=8, frameon=False, ncol=1)
    sky.set_title("Each station's sky: thick where both see the satellite (● start, ■ end, UTC)\n"
                  "o AOS, arrow LOS; grey: below the elevation masks", fontsize=10)
    _draw_profile(right, scenario, dual, row, profile, keys)
    sat = dual.satellite_names[int(dual.satellite[row])]
    start, end = utc_datetimes(scenario.timebase, [dual.start_s[row], dual.end_s[row]])
    fig.suptitle(title or f"{sat} over {names[int(dual.a[row])]} and {names[int(dual.b[row])]}: dual window "
                 f"{start:%Y-%m-%d %H:%M:%S}–{end:%H:%M:%S} UTC ({dual.duration_s[row]:.0f} s)", fontsize=11)
    return fig


def _draw_track(ax, scenario, passes, pass_row: int, end: str, name: str, c: str, az, el, t_s, step_s) -> None:
    """One station's pass (gid ``pass:END``) and the dual window on it (``window:END``)."""
    from matplotlib import patheffects

    t, pass_az, pass_el, _, valid = pass_track(scenario, passes, pass_row, step_s)
    theta = np.unwrap(np.radians(pass_az))
    r = np.where(valid, 90.0 - pass_el, np.nan)
    aos = utc_datetimes(scenario.timebase, t[0])[0]
    (line,) = ax.plot(theta, r, color=c, linewidth=1.1, alpha=0.9,
                      label=f"{name}: pass {aos:%H:%M:%S} UTC, max {passes.max_elevation_deg[pass_row]:.0f}°")
    line.set_gid(f"pass:{end}")
    ax.plot(theta[0], r[0], marker="o", markersize=5, markerfacecolor="white", markeredgecolor=c)
    if t.size >= 2:
        ax.annotate("", xy=(theta[-1], r[-1]), xytext=(theta[-2], r[-2]),
                    arrowprops={"arrowstyle": "-|>", "color": c, "lw": 0, "mutation_scale": 12})
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    ax.annotate(f"{aos:%H:%M}", (theta[0], r[0]), xytext=(4, 4), textcoords="offset points", fontsize=7, color=c,
                path_effects=halo, annotation_clip=False)
    # The window on the same unwrapped branch as the pass line (no jump through north).
    win_theta = np.radians(az) + 2.0 * np.pi * np.round((np.interp(t_s, t, theta) - np.radians(az)) / (2.0 * np.pi))
    (thick,) = ax.plot(win_theta, 90.0 - el, color=c, linewidth=4.0, solid_capstyle="round")
    thick.set_gid(f"window:{end}")
    for k, marker in ((0, "o"), (-1, "s")):
        ax.plot(win_theta[k], 90.0 - el[k], marker=marker, markersize=6, color="#222222", markeredgecolor="white")
        when = utc_datetimes(scenario.timebase, t_s[k])[0]
        ax.annotate(f"{when:%H:%M:%S}", (win_theta[k], 90.0 - el[k]), xytext=(5, -10 if k else 5),
                    textcoords="offset points", fontsize=7, color="#222222", path_effects=halo,
                    annotation_clip=False)


def _draw_profile(ax, scenario, dual, row: int, profile, keys) -> None:
    """Each arm's loss and the total (or, without a source, the ranges) against UTC."""
    x = date_numbers(scenario.timebase, profile.t_s)
    names = dual.station_names
    a, b = names[int(dual.a[row])], names[int(dual.b[row])]
    has_loss = bool(np.any(np.isfinite(profile.loss_a_db)))
    if has_loss:
        series = [("a", profile.loss_a_db, f"arm to {a}"), ("b", profile.loss_b_db, f"arm to {b}"),
                  ("total", profile.total_loss_db, "total (both arms)")]
        kind, unit = "loss", "dB"
    else:
        series = [("a", profile.range_a_km, f"range from {a}"), ("b", profile.range_b_km, f"range from {b}"),
                  ("sum", profile.sum_range_km, "summed range")]
        kind, unit = "range", "km"
    for k, (end, values, label) in enumerate(series):
        (line,) = ax.plot(x, values, color=colour(k) if k < 2 else "#222222", linewidth=2.2 if k == 2 else 1.5,
                          label=label)
        line.set_gid(f"{kind}:{end}")
    ax.set_ylabel(f"link loss ({unit})" if has_loss else f"slant range ({unit})")
    ax.set_xlabel("UTC")
    utc_axis(ax.xaxis, float(profile.t_s[-1] - profile.t_s[0]))
    ax.grid(color="#DDDDDD", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="center right")
    what = "Two-arm loss" if has_loss else "Slant ranges (no [source]: no loss)"
    ax.set_title(f"{what} along the dual window", fontsize=10)
    if has_loss and keys is not None and keys.has_source:
        qber = keys.qber[row]
        text = (f"{keys.coincidences[row]:,.0f} coincidences, QBER "
                f"{'–' if not np.isfinite(qber) else f'{100 * qber:.1f} %'}\n"
                f"key: {keys.asymptotic_key_bits[row]:,.0f} bits asymptotic, {keys.finite_key_bits[row]:,.0f} finite "
                "(window alone)")
        ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", fontsize=8, color="#333333")
