"""Entanglement delivery: key between two stations from dual-downlink windows, no trusted node.

A link served by entanglement (``mode = "entanglement"`` or ``"both"`` on ``[[links]]``) gets
its key straight from the windows in which one satellite sends a photon of each pair to both
of its stations (:mod:`constellation.passes.dual`, :mod:`constellation.key.entanglement`):
no satellite holds key, so nothing is relayed and nothing is trusted.

Rules (an operator could fly them):

- a window occupies the satellite's pair source and one telescope at each station, for the
  window plus the re-pointing time after it; windows are taken greedily by their sifted key,
  largest first, where the satellite and both stations are free (each station has its
  ``telescopes``, each satellite one source);
- the relay schedule then works around them: a relay contact that overlaps a taken window
  at a station with one telescope, or on the same satellite, is not flown;
- a window delivers only when both its stations are clear that night (each station's
  Markov chain of :mod:`constellation.network.weather`);
- the sifted bits a link gathers over the span form one block, distilled once by BBM92 with
  finite-key effects (:func:`constellation.key.bbm92.finite_key_bits`), as Yin et al. 2020
  distilled 3,100 s of windows into 372 bits; each window is credited its share of that key.
  A single window of Micius is far too small a block for any key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..constants import DAY_S
from ..key.bbm92 import finite_key_bits
from ..key.finite_key import binary_entropy
from .contacts import Contacts, make_contacts
from .weather import clear_nights, night_table

__all__ = ["EntanglementInput", "EntanglementResult", "block_key_bits", "deliver_entanglement",
           "free_of_windows", "schedule_windows"]


@dataclass(frozen=True)
class EntanglementInput:
    """Dual windows with their sifted bits and errors (arrays of length ``n``), the links
    they serve (``link``: index into the scenario's links, -1 for none) and the source's
    post-processing numbers."""

    satellite: np.ndarray
    a: np.ndarray
    b: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    sifted_bits: np.ndarray
    error_bits: np.ndarray
    link: np.ndarray
    basis_probability: float = 0.5
    error_correction_efficiency: float = 1.16
    epsilon_secret: float = 1e-10
    epsilon_correct: float = 1e-10
    finite_key: bool = True


@dataclass
class EntanglementResult:
    """What entanglement delivered: the chosen windows and, per link, the key (clear sky and
    per weather run, by day), its deliveries and their times."""

    chosen: np.ndarray                 # indices into the input windows, by start
    window_key_bits: np.ndarray        # (n,) clear sky: each chosen window's share of its link's key
    key_bits: np.ndarray               # (n_links,) clear sky
    daily_bits: np.ndarray             # (n_links, n_days) clear sky
    daily_runs_bits: np.ndarray        # (n_links, n_days, runs) under weather (runs = 1 without)
    sifted_bits: np.ndarray            # (n_links,) clear sky
    qber: np.ndarray                   # (n_links,) clear sky, NaN without windows

    def delivery_times_s(self, windows: EntanglementInput, link: int) -> np.ndarray:
        """End times of the chosen windows of ``link`` that carry key, sorted."""
        c = self.chosen[(windows.link[self.chosen] == link) & (self.window_key_bits[self.chosen] > 0)]
        return np.sort(windows.end_s[c])


def schedule_windows(w: EntanglementInput, telescopes, retarget_s: float = 0.0) -> np.ndarray:
    """Windows taken, greedily by sifted bits (then start), where the satellite's source and a
    telescope at each station are free for the window plus ``retarget_s``. Returns indices
    sorted by start."""
    order = np.lexsort((w.start_s, -w.sifted_bits))
    order = order[(w.link[order] >= 0) & (w.sifted_bits[order] > 0)]
    busy: dict = {}
    taken = []
    for i in order.tolist():
        lo, hi = float(w.start_s[i]), float(w.end_s[i]) + retarget_s
        resources = [("sat", int(w.satellite[i]), 1), ("st", int(w.a[i]), int(telescopes[int(w.a[i])])),
                     ("st", int(w.b[i]), int(telescopes[int(w.b[i])]))]
        if all(sum(1 for s, e in busy.get((kind, k), ()) if s < hi and lo < e) < cap for kind, k, cap in resources):
            for kind, k, _ in resources:
                busy.setdefault((kind, k), []).append((lo, hi))
            taken.append(i)
    taken = np.array(taken, dtype=np.int64)
    return taken[np.argsort(w.start_s[taken], kind="stable")] if taken.size else taken


def free_of_windows(contacts: Contacts, w: EntanglementInput, chosen: np.ndarray, telescopes,
                    retarget_s: float = 0.0) -> np.ndarray:
    """Mask of the relay contacts that can still fly: not on a satellite, nor at a station
    with one telescope, during a chosen window (plus ``retarget_s`` on either side)."""
    keep = np.ones(len(contacts), bool)
    for i in chosen.tolist():
        lo, hi = w.start_s[i] - retarget_s, w.end_s[i] + retarget_s
        overlap = (contacts.start_s < hi) & (contacts.end_s > lo)
        single = np.asarray([int(telescopes[int(s)]) <= 1 for s in contacts.station]) if len(contacts) else keep
        at_station = ((contacts.station == w.a[i]) | (contacts.station == w.b[i])) & single
        keep &= ~(overlap & ((contacts.satellite == w.satellite[i]) | at_station))
    return keep


def block_key_bits(sifted_bits, error_bits, w: EntanglementInput):
    """Key of blocks of ``sifted_bits`` with ``error_bits`` errors (arrays broadcast): BBM92
    finite key of both bases (each with half of the epsilons), or the asymptotic key when
    ``w.finite_key`` is False."""
    sifted = np.asarray(sifted_bits, dtype=float)
    qber = np.divide(error_bits, sifted, out=np.full(sifted.shape, 0.5), where=sifted > 0)
    f = w.error_correction_efficiency
    if not w.finite_key:
        return np.where(qber < 0.5, np.floor(np.maximum(sifted * (1.0 - (1.0 + f) * binary_entropy(qber)), 0.0)), 0.0)
    p = w.basis_probability
    share_x = p * p / (p * p + (1.0 - p) ** 2)
    n_x, n_z = sifted * share_x, sifted * (1.0 - share_x)
    eps_s, eps_c = 0.5 * w.epsilon_secret, 0.5 * w.epsilon_correct
    return finite_key_bits(n_x, n_z, qber, f, eps_s, eps_c) + finite_key_bits(n_z, n_x, qber, f, eps_s, eps_c)


def deliver_entanglement(w: EntanglementInput, n_links: int, duration_s: float, telescopes, *,
                         retarget_s: float = 0.0, longitude_deg=None, clear_sky_probability=None,
                         clear_sky_persistence=None, start_utc: dt.datetime | None = None, runs: int = 0,
                         seed: int = 0) -> EntanglementResult:
    """Schedule the windows and distil each link's key, clear sky and under weather.

    ``clear_sky_probability`` and ``clear_sky_persistence``: per station (annual values, or
    ``(n_stations, 12)`` monthly), as :func:`~constellation.network.weather.night_table`
    takes them; None (or ``runs`` 0) for no weather."""
    n_days = max(int(np.ceil(duration_s / DAY_S - 1e-9)), 1)
    chosen = schedule_windows(w, telescopes, retarget_s)
    link = w.link[chosen]
    day = np.minimum((w.end_s[chosen] // DAY_S).astype(np.int64), n_days - 1)
    sifted = np.bincount(link, weights=w.sifted_bits[chosen], minlength=n_links)
    errors = np.bincount(link, weights=w.error_bits[chosen], minlength=n_links)
    key = block_key_bits(sifted, errors, w)
    window_key = np.zeros(w.start_s.size)
    window_key[chosen] = key[link] * np.divide(w.sifted_bits[chosen], sifted[link], out=np.zeros(chosen.size),
                                               where=sifted[link] > 0)
    daily = np.zeros((n_links, n_days))
    np.add.at(daily, (link, day), window_key[chosen])
    weather = clear_sky_probability is not None and runs > 0 and chosen.size > 0
    if weather:
        clear = _both_clear(w, chosen, longitude_deg, clear_sky_probability, clear_sky_persistence, start_utc,
                            runs, seed)                                    # (n_chosen, runs)
        s_runs = np.zeros((n_links, runs))
        e_runs = np.zeros((n_links, runs))
        np.add.at(s_runs, link, w.sifted_bits[chosen, None] * clear)
        np.add.at(e_runs, link, w.error_bits[chosen, None] * clear)
        key_runs = block_key_bits(s_runs, e_runs, w)                       # (n_links, runs)
        share = np.divide(w.sifted_bits[chosen, None] * clear, s_runs[link], out=np.zeros(clear.shape),
                          where=s_runs[link] > 0)
        daily_runs = np.zeros((n_links, n_days, runs))
        np.add.at(daily_runs, (link, day), key_runs[link] * share)
    else:
        daily_runs = daily[:, :, None]
    qber = np.divide(errors, sifted, out=np.full(n_links, np.nan), where=sifted > 0)
    return EntanglementResult(chosen, window_key, key, daily, daily_runs, sifted, qber)


def _both_clear(w: EntanglementInput, chosen, longitude_deg, probability, persistence, start_utc, runs, seed):
    """(n_chosen, runs): both stations of each chosen window clear that night."""
    n = chosen.size
    ends = make_contacts(np.concatenate([w.satellite[chosen]] * 2), np.concatenate([w.a[chosen], w.b[chosen]]),
                         np.concatenate([w.start_s[chosen]] * 2), np.concatenate([w.end_s[chosen]] * 2),
                         np.zeros(2 * n))
    nights = night_table(ends, longitude_deg, probability, start_utc,
                         0.0 if persistence is None else persistence)
    # A seed apart from the relay's draws (the two modes' weather is drawn independently).
    clear = clear_nights(nights.probability, runs, np.random.default_rng([seed, 15]), station=nights.station,
                         day=nights.day, persistence=nights.persistence)
    at_end = clear[nights.night_id]
    return at_end[:n] & at_end[n:]
