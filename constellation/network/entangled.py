"""Entanglement delivery: key between two stations from dual-downlink windows, no trusted node.

A link served by entanglement (``mode = "entanglement"`` or ``"both"`` on ``[[links]]``) gets
its key straight from the windows in which one satellite sends a photon of each pair to both
of its stations (:mod:`constellation.passes.dual`, :mod:`constellation.key.entanglement`):
no satellite holds key, so nothing is relayed and nothing is trusted.

Rules (an operator could fly them):

- a link flies only windows that add key: its windows ordered by QBER, the longest prefix
  whose pooled block gives the most finite key (a window of pure noise, e.g. in daylight,
  would only dilute the block); windows with no asymptotic key are never flown;
- a window occupies the satellite's pair source and one telescope at each station, for the
  window plus the re-pointing time after it; windows are taken greedily by their expected
  (asymptotic) key, largest first, where the satellite and both stations are free (each
  station has its ``telescopes``, each satellite one source);
- the relay schedule then works around them: a relay contact that overlaps a taken window
  at either of its stations, or on the same satellite, is not flown (conservative for a
  station with several telescopes);
- a window delivers only when both its stations are clear that night (each station's
  Markov chain of :mod:`constellation.network.weather`, drawn apart from the relay's);
- a link's sifted bits are distilled in blocks, as Yin et al. 2020 distilled 3,100 s of
  windows (3,400 sifted bits) into 372 bits: a block closes at the end of the window that
  brings it to ``block_sifted_bits`` (default 3,400, Yin 2020's block), and what is left at
  the end of the span is a last, smaller block; its key exists from the block's close, which
  is when it is counted as delivered (latency: close minus the end of each window in it).
  Under weather the blocks keep their clear-sky boundaries; cloudy windows are missing from
  them. A single window of Micius is far too small a block for any key.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..constants import DAY_S
from ..key.bbm92 import finite_key_bits
from ..key.finite_key import binary_entropy
from .contacts import Contacts, make_contacts
from .weather import clear_nights, night_table

__all__ = ["EntanglementInput", "EntanglementResult", "block_key_bits", "deliver_entanglement",
           "free_of_windows", "schedule_windows", "useful_windows", "window_value_bits"]


@dataclass(frozen=True)
class EntanglementInput:
    """Dual windows with their sifted bits and errors (arrays of length ``n``), the links
    they serve (``link``: index into the scenario's links, -1 for none) and the
    post-processing of the links' key."""

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
    block_sifted_bits: float = 3400.0

    def restricted(self, links) -> "EntanglementInput":
        """The same windows, serving only ``links`` (the others' windows get link -1)."""
        keep = np.isin(self.link, np.asarray(sorted(links), dtype=np.int64))
        return dataclasses.replace(self, link=np.where(keep, self.link, -1))


@dataclass
class EntanglementResult:
    """What entanglement delivered: the chosen windows, their blocks and, per link, the key
    (clear sky and per weather run, by day) and its deliveries (block closes)."""

    chosen: np.ndarray                 # indices into the input windows, by start
    block: np.ndarray                  # (n,) block of each chosen window (-1: not flown)
    block_link: np.ndarray             # (n_blocks,) link of each block
    block_close_s: np.ndarray          # (n_blocks,) when each block is distilled
    block_key_bits: np.ndarray         # (n_blocks,) clear sky
    key_bits: np.ndarray               # (n_links,) clear sky
    daily_bits: np.ndarray             # (n_links, n_days) clear sky, by the day a block closes
    daily_runs_bits: np.ndarray        # (n_links, n_days, runs) under weather (runs = 1 without)
    sifted_bits: np.ndarray            # (n_links,) clear sky, of the flown windows
    qber: np.ndarray                   # (n_links,) clear sky, NaN without windows
    latency_s: np.ndarray              # (n,) block close minus window end (NaN: not flown)

    def delivery_times_s(self, link: int) -> np.ndarray:
        """Close times of the link's blocks that carry key, sorted."""
        return np.sort(self.block_close_s[(self.block_link == link) & (self.block_key_bits > 0)])

    def latencies_s(self, w: "EntanglementInput", link: int) -> np.ndarray:
        """Latency of each flown window of ``link`` whose block carries key."""
        flown = self.chosen[w.link[self.chosen] == link]
        keyed = flown[self.block_key_bits[self.block[flown]] > 0] if flown.size else flown
        return self.latency_s[keyed]


def window_value_bits(w: EntanglementInput) -> np.ndarray:
    """Expected (asymptotic) key of each window alone: what ranks them for scheduling."""
    sifted = np.asarray(w.sifted_bits, dtype=float)
    qber = np.divide(w.error_bits, sifted, out=np.full(sifted.shape, 0.5), where=sifted > 0)
    f = w.error_correction_efficiency
    return np.maximum(sifted * (1.0 - (1.0 + f) * binary_entropy(qber)), 0.0)


def useful_windows(w: EntanglementInput, n_links: int) -> np.ndarray:
    """Mask of the windows worth flying: per link, ordered by QBER, the prefix whose pooled
    block gives the most key (the asymptotic key when ``finite_key`` is off)."""
    useful = np.zeros(w.start_s.size, bool)
    value = window_value_bits(w)
    qber = np.divide(w.error_bits, w.sifted_bits, out=np.full(w.sifted_bits.shape, 0.5), where=w.sifted_bits > 0)
    for k in range(n_links):
        mine = np.flatnonzero((w.link == k) & (value > 0))
        if not mine.size:
            continue
        order = mine[np.argsort(qber[mine], kind="stable")]
        key = block_key_bits(np.cumsum(w.sifted_bits[order]), np.cumsum(w.error_bits[order]), w)
        best = int(np.argmax(key))
        useful[order[:best + 1] if key[best] > 0 else order[:0]] = True
    return useful


def schedule_windows(w: EntanglementInput, telescopes, retarget_s: float = 0.0, useful=None) -> np.ndarray:
    """Windows taken, greedily by expected key (then start), where the satellite's source and
    a telescope at each station are free for the window plus ``retarget_s``. Only windows in
    ``useful`` (default: every window of a link with key) compete. Returns indices by start."""
    value = window_value_bits(w)
    candidates = (w.link >= 0) & (value > 0) if useful is None else useful
    order = np.lexsort((w.start_s, -value))
    order = order[candidates[order]]
    busy: dict = {}      # resource -> ([starts], [ends]) sorted by start
    longest: dict = {}   # resource -> longest busy interval (bounds the search)
    taken = []

    def overlaps(key, lo, hi) -> int:
        starts, ends = busy.get(key, ((), ()))
        first = bisect.bisect_left(starts, lo - longest.get(key, 0.0))
        last = bisect.bisect_left(starts, hi)
        return sum(1 for j in range(first, last) if ends[j] > lo)

    for i in order.tolist():
        lo, hi = float(w.start_s[i]), float(w.end_s[i]) + retarget_s
        resources = [(("sat", int(w.satellite[i])), 1), (("st", int(w.a[i])), int(telescopes[int(w.a[i])])),
                     (("st", int(w.b[i])), int(telescopes[int(w.b[i])]))]
        if all(overlaps(key, lo, hi) < cap for key, cap in resources):
            for key, _ in resources:
                starts, ends = busy.setdefault(key, ([], []))
                j = bisect.bisect_left(starts, lo)
                starts.insert(j, lo)
                ends.insert(j, hi)
                longest[key] = max(longest.get(key, 0.0), hi - lo)
            taken.append(i)
    taken = np.array(taken, dtype=np.int64)
    return taken[np.argsort(w.start_s[taken], kind="stable")] if taken.size else taken


def free_of_windows(contacts: Contacts, w: EntanglementInput, chosen: np.ndarray, retarget_s: float = 0.0) -> np.ndarray:
    """Mask of the relay contacts that can still fly: none on a satellite, or at a station,
    during a chosen window (plus ``retarget_s`` on either side). A station with several
    telescopes loses them all for the window (conservative: the relay schedule is not told
    how many a window leaves free)."""
    keep = np.ones(len(contacts), bool)
    if not chosen.size or not len(contacts):
        return keep
    lo = w.start_s[chosen] - retarget_s
    hi = w.end_s[chosen] + retarget_s
    for key, holder in (("satellite", w.satellite[chosen]), ("station", w.a[chosen]), ("station", w.b[chosen])):
        owner = getattr(contacts, key)
        for value in np.unique(holder):
            here = np.flatnonzero(owner == value)
            mine = holder == value
            if not here.size:
                continue
            # sorted busy intervals of this resource; a contact overlaps one if the last busy
            # interval starting before the contact's end ends after the contact's start
            order = np.argsort(lo[mine])
            starts, ends = lo[mine][order], np.maximum.accumulate(hi[mine][order])
            j = np.searchsorted(starts, contacts.end_s[here], side="left") - 1
            overlap = (j >= 0) & (ends[np.maximum(j, 0)] > contacts.start_s[here])
            keep[here[overlap]] = False
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


def _blocks(w: EntanglementInput, chosen: np.ndarray, duration_s: float):
    """Block of each chosen window (windows of a link in time order; a block closes when its
    sifted bits reach ``block_sifted_bits``; the rest at the span end form the last block),
    each block's link and close time."""
    block = np.full(w.start_s.size, -1, dtype=np.int64)
    block_link, block_close = [], []
    for k in np.unique(w.link[chosen]).tolist():
        mine = chosen[w.link[chosen] == k]
        mine = mine[np.argsort(w.end_s[mine], kind="stable")]
        total = 0.0
        for i in mine.tolist():
            if total == 0.0:
                block_link.append(k)
                block_close.append(np.nan)
            block[i] = len(block_link) - 1
            total += float(w.sifted_bits[i])
            if total >= w.block_sifted_bits:
                block_close[-1] = float(w.end_s[i])
                total = 0.0
        if block_link and np.isnan(block_close[-1]):
            block_close[-1] = float(w.end_s[mine[-1]])  # the span's last block, distilled at its last window
    return block, np.array(block_link, dtype=np.int64), np.array(block_close, dtype=float)


def deliver_entanglement(w: EntanglementInput, n_links: int, duration_s: float, telescopes, *,
                         retarget_s: float = 0.0, longitude_deg=None, clear_sky_probability=None,
                         clear_sky_persistence=None, start_utc: dt.datetime | None = None, runs: int = 0,
                         seed: int = 0) -> EntanglementResult:
    """Choose, schedule and distil each link's windows, clear sky and under weather.

    ``clear_sky_probability`` and ``clear_sky_persistence``: per station (annual values, or
    ``(n_stations, 12)`` monthly), as :func:`~constellation.network.weather.night_table`
    takes them; None (or ``runs`` 0) for no weather."""
    n_days = max(int(np.ceil(duration_s / DAY_S - 1e-9)), 1)
    chosen = schedule_windows(w, telescopes, retarget_s, useful_windows(w, n_links))
    block, block_link, block_close = _blocks(w, chosen, duration_s)
    n_blocks = block_link.size
    b = block[chosen]
    s_block = np.bincount(b, weights=w.sifted_bits[chosen], minlength=n_blocks)
    e_block = np.bincount(b, weights=w.error_bits[chosen], minlength=n_blocks)
    key_block = block_key_bits(s_block, e_block, w) if n_blocks else np.zeros(0)
    close_day = np.minimum((block_close // DAY_S).astype(np.int64), n_days - 1) if n_blocks else np.zeros(0, int)
    daily = np.zeros((n_links, n_days))
    np.add.at(daily, (block_link, close_day), key_block)
    key = np.bincount(block_link, weights=key_block, minlength=n_links) if n_blocks else np.zeros(n_links)
    link = w.link[chosen]
    sifted = np.bincount(link, weights=w.sifted_bits[chosen], minlength=n_links) if chosen.size else np.zeros(n_links)
    errors = np.bincount(link, weights=w.error_bits[chosen], minlength=n_links) if chosen.size else np.zeros(n_links)
    latency = np.full(w.start_s.size, np.nan)
    if chosen.size:
        latency[chosen] = block_close[b] - w.end_s[chosen]
    if clear_sky_probability is not None and runs > 0 and chosen.size:
        clear = _both_clear(w, chosen, longitude_deg, clear_sky_probability, clear_sky_persistence, start_utc,
                            runs, seed)                                    # (n_chosen, runs)
        s_runs = np.zeros((n_blocks, runs))
        e_runs = np.zeros((n_blocks, runs))
        np.add.at(s_runs, b, w.sifted_bits[chosen, None] * clear)
        np.add.at(e_runs, b, w.error_bits[chosen, None] * clear)
        key_runs = block_key_bits(s_runs, e_runs, w)                       # (n_blocks, runs)
        daily_runs = np.zeros((n_links, n_days, runs))
        np.add.at(daily_runs, (block_link, close_day), key_runs)
    else:
        daily_runs = daily[:, :, None]
    qber = np.divide(errors, sifted, out=np.full(n_links, np.nan), where=sifted > 0)
    full_block = np.full(w.start_s.size, -1, dtype=np.int64)
    full_block[chosen] = b
    return EntanglementResult(chosen, full_block, block_link, block_close, key_block, key, daily, daily_runs,
                              sifted, qber, latency)


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
