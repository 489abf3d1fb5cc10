"""Link loss and key rate along one pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import look_angles
from ..core.sun import SunTrack
from ..errors import InputError
from ..key.decoy_bb84 import asymptotic_key_rate, decoy_estimates, key_for_profile
from ..key.link import link_loss, transmittance_from_db
from ..key.per_pass import window_slots
from ..pipeline import propagator_for
from .base import WINDOW_COLOUR, colour, date_numbers, new_figure, utc_axis, utc_datetimes

__all__ = ["KeyProfile", "key_profile", "longest_window_pass", "plot_key", "plot_key_profile"]


@dataclass
class KeyProfile:
    """Link and key along a pass, per slot; every array has shape ``(n_slot,)``.

    Build one with :func:`key_profile`, or fill it from your own arrays to plot them.

    Attributes
    ----------
    t_s : slot middles, seconds since the scenario start
    elevation_deg, range_km : geometry from the station
    loss_terms_db : dict of name -> array, the link loss terms (``key.link.LinkLoss.as_dict``),
        including ``loss_db``, the total; NaN where SGP4 failed
    key_rate_bps : asymptotic secret key rate (bit/s) in the QKD window, 0 outside it
    qber : QBER of the signal pulses (fraction), NaN outside the window
    window_s : ``(start_s, end_s)`` of the QKD window, or None
    finite_key_bits, asymptotic_key_bits : the window's key as one block (as ``key.per_pass``)
    label : text naming the pass
    """

    t_s: np.ndarray
    elevation_deg: np.ndarray
    range_km: np.ndarray
    loss_terms_db: dict
    key_rate_bps: np.ndarray
    qber: np.ndarray
    window_s: tuple | None
    finite_key_bits: float
    asymptotic_key_bits: float
    label: str = ""


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


def key_profile(scenario, passes, row: int, slot_s: float = 1.0) -> KeyProfile:
    """Loss, key rate and QBER along pass ``row`` of ``passes``, in slots of ``slot_s``.

    The whole pass (AOS to LOS) is sampled for the geometry and the loss; the key rate is
    the asymptotic decoy-state rate (``key.decoy_bb84.asymptotic_key_rate``) times the source rate,
    slot by slot, inside the QKD window only. The window's finite and asymptotic key come
    from ``key.decoy_bb84.key_for_profile`` on the same slots as ``key.per_pass.pass_keys`` uses, so they
    match the key table. Daylight (Sun above the horizon) selects the day background.
    """
    if not scenario.has_key_model:
        raise InputError(scenario.source, "link/qkd", "[link] and [qkd] tables to compute key along a pass")
    if not 0 <= row < len(passes):
        raise InputError(scenario.source, "pass", f"a pass number in 0..{len(passes) - 1}", row)
    sat, st = int(passes.satellite[row]), int(passes.station[row])
    link_params, qkd_params = scenario.terminal(sat, st)
    station = scenario.stations[st]
    east, north, up = station.enu
    aos, los = float(passes.aos_s[row]), float(passes.los_s[row])
    _, t, _ = window_slots(np.array([aos]), np.array([los]), slot_s)
    has_window = bool(passes.has_window[row])
    w0, w1 = float(passes.window_start_s[row]), float(passes.window_end_s[row])
    _, t_win, width_win = window_slots(np.array([w0]), np.array([w1]), slot_s)
    if not has_window:
        t_win, width_win = np.zeros(0), np.zeros(0)
    both = np.concatenate([t, t_win])
    prop = propagator_for(scenario)
    states = prop.pairwise(np.full(both.size, sat), both)
    el, _, rng = look_angles(states.r_km[0], station.position_km, east, north, up)
    valid = states.valid[0]
    elevation = np.where(valid, np.degrees(el), np.nan)
    rng = np.where(valid, rng, np.nan)
    loss = link_loss(rng, elevation, link_params)
    sun = SunTrack(scenario.timebase, float(both.min()) - 1.0, float(both.max()) + 1.0)
    daylight = sun.unit_ecef(both) @ up > 0.0
    n = t.size
    terms = {k: v[:n] for k, v in loss.as_dict().items()}
    win_loss = loss.loss_db[n:]
    block = key_for_profile(win_loss, width_win, qkd_params, daylight=daylight[n:])
    in_window = has_window & (t >= w0) & (t <= w1)
    eta = transmittance_from_db(np.where(np.isfinite(terms["loss_db"]), terms["loss_db"], np.inf))
    rate = asymptotic_key_rate(eta, qkd_params, daylight[:n]) * qkd_params.source_rate_hz
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = decoy_estimates(eta, qkd_params, daylight[:n]).qber_signal
    aos_text = f"{utc_datetimes(scenario.timebase, aos)[0]:%Y-%m-%d %H:%M:%S}"
    label = f"{scenario.satellites[sat].name} over {station.name}, AOS {aos_text} UTC"
    return KeyProfile(t, elevation[:n], rng[:n], terms, np.where(in_window, rate, 0.0),
                      np.where(in_window, qber, np.nan), (w0, w1) if has_window else None,
                      float(block.finite_key_bits), float(block.asymptotic_key_bits), label)


_TERM_LABELS = {"diffraction_loss_db": "diffraction", "pointing_loss_db": "pointing",
                "turbulence_loss_db": "turbulence", "atmosphere_loss_db": "atmosphere",
                "fixed_loss_db": "fixed optics"}


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


def plot_key(scenario, passes, row: int | None = None, *, slot_s: float = 1.0, title: str | None = None):
    """Link loss and key rate along pass ``row`` (default: the longest QKD window).

    See :func:`key_profile` for what is computed and :func:`plot_key_profile` for the
    panels. Returns the matplotlib Figure.
    """
    if row is None:
        try:
            row = longest_window_pass(passes)
        except ValueError:
            raise InputError(scenario.source, "pass", "a pass number (no pass has a QKD window)") from None
    return plot_key_profile(key_profile(scenario, passes, int(row), slot_s), scenario.timebase, title=title)
