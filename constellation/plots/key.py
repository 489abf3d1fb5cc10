"""Figures of link loss and key rate along one pass (the arrays: ``pipeline.key_profile``)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..pipeline import KeyProfile, key_profile
from .base import WINDOW_COLOUR, colour, date_numbers, new_figure, utc_axis

__all__ = ["longest_window_pass", "plot_key", "plot_key_profile"]


def longest_window_pass(passes, station: int | None = None) -> int:
    """Row of the pass with the longest QKD window (over ``station`` when given).

    Raises ValueError when there is no pass with a window.
    """
    candidates = passes.has_window.copy()
    if station is not None:
        candidates &= passes.station == station
    if not candidates.any():
        raise ValueError("no pass with a QKD window" + (" over that station" if station is not None else ""))
    return int(np.argmax(np.where(candidates, passes.window_s, -1.0)))


_TERM_LABELS = {"payload_optics_loss_db": "payload optics", "diffraction_loss_db": "diffraction",
                "pointing_loss_db": "pointing", "turbulence_loss_db": "turbulence",
                "atmosphere_loss_db": "atmosphere", "receiver_optics_loss_db": "receiver optics"}


def plot_key_profile(profile: KeyProfile, timebase=None, *, title: str | None = None):
    """Three panels sharing the time axis: geometry, link loss and its terms, key rate and QBER.

    With a ``timebase`` the x axis is UTC, otherwise seconds since the scenario start. The
    QKD window is shaded green in every panel. Returns the matplotlib Figure; lines have
    gids ``elevation``, ``range``, ``loss``, ``loss:TERM``, ``key-rate`` and ``qber``.
    """
    fig = new_figure(9.0, 8.0)
    axes = fig.subplots(3, 1, sharex=True, height_ratios=[1.0, 1.3, 1.3])
    x = date_numbers(timebase, profile.t_s) if timebase is not None else profile.t_s - profile.t_s[0]
    window = None
    if profile.window_s is not None:
        window = date_numbers(timebase, profile.window_s) if timebase is not None else (
            np.asarray(profile.window_s) - profile.t_s[0])
    for ax in axes:
        if window is not None:
            ax.axvspan(*window, color=WINDOW_COLOUR, alpha=0.10, linewidth=0, zorder=0)
        ax.grid(color="#DDDDDD", linewidth=0.6)
        for side in ("top",):
            ax.spines[side].set_visible(False)
    geo, loss_ax, key_ax = axes
    (line,) = geo.plot(x, profile.elevation_deg, color=colour(0), linewidth=1.6, label="elevation")
    line.set_gid("elevation")
    geo.set_ylabel("elevation (°)", color=colour(0))
    geo.set_ylim(0.0, 90.0)
    rng_ax = geo.twinx()
    (line,) = rng_ax.plot(x, profile.range_km, color=colour(1), linewidth=1.4, linestyle="--", label="range")
    line.set_gid("range")
    rng_ax.set_ylabel("range (km)", color=colour(1))
    rng_ax.spines["top"].set_visible(False)
    (line,) = loss_ax.plot(x, profile.loss_terms_db["loss_db"], color="#222222", linewidth=2.0, label="total")
    line.set_gid("loss")
    for k, (name, label) in enumerate(_TERM_LABELS.items()):
        values = profile.loss_terms_db.get(name)
        if values is None or not np.any(np.nan_to_num(values) > 0.05):
            continue
        (line,) = loss_ax.plot(x, values, color=colour(k + 2), linewidth=1.0, label=label)
        line.set_gid(f"loss:{name}")
    loss_ax.set_ylabel("link loss (dB)")
    loss_ax.set_ylim(bottom=0.0)
    loss_ax.legend(fontsize=8, ncol=3, loc="upper center", frameon=False)
    (line,) = key_ax.plot(x, profile.key_rate_bps / 1e3, color=WINDOW_COLOUR, linewidth=1.8)
    line.set_gid("key-rate")
    key_ax.set_ylabel("asymptotic key rate (kbit/s)", color="#00573F")
    key_ax.set_ylim(bottom=0.0)
    qber_ax = key_ax.twinx()
    (line,) = qber_ax.plot(x, 100.0 * profile.qber, color=colour(3), linewidth=1.2, linestyle="--")
    line.set_gid("qber")
    qber_ax.set_ylabel("QBER (%)", color=colour(3))
    top = np.nanmax(100.0 * profile.qber) if np.any(np.isfinite(profile.qber)) else 0.0
    qber_ax.set_ylim(0.0, 1.3 * top if top > 0 else 5.0)
    qber_ax.spines["top"].set_visible(False)
    if window is not None:
        w = profile.window_s[1] - profile.window_s[0]
        summary = (f"QKD window {w:.0f} s: finite key {profile.finite_key_bits / 1e3:,.1f} kbit, "
                   f"asymptotic {profile.asymptotic_key_bits / 1e3:,.1f} kbit")
    else:
        summary = "no QKD window in this pass (the scenario's constraints are never all met): no key"
        key_ax.set_ylim(0.0, 1.0)
    key_ax.set_title(summary, loc="left", fontsize=9)
    if timebase is not None:
        utc_axis(key_ax.xaxis, float(profile.t_s[-1] - profile.t_s[0]))
        key_ax.set_xlabel("UTC")
    else:
        key_ax.set_xlabel("time since AOS (s)")
    geo.set_title(title or f"Link and key along the pass: {profile.label}\n(green: QKD window)", fontsize=10)
    return fig


def plot_key(scenario, passes, row: int | None = None, *, slot_s: float = 1.0, title: str | None = None,
             key_slot_s: float | None = None):
    """Link loss and key rate along pass ``row`` (default: the longest QKD window).

    See :func:`key_profile` for what is computed (``slot_s``: the curves' sampling;
    ``key_slot_s``: the window key's integral, as the key table's) and :func:`plot_key_profile`
    for the panels. Returns the matplotlib Figure.
    """
    if row is None:
        try:
            row = longest_window_pass(passes)
        except ValueError:
            raise InputError(scenario.source, "pass", "a pass number (no pass has a QKD window)") from None
    return plot_key_profile(key_profile(scenario, passes, int(row), slot_s, key_slot_s), scenario.timebase, title=title)
