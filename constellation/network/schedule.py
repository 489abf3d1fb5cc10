"""Scheduling: which contacts happen, given telescopes per station and terminals per satellite.

Exact per-station weighted interval scheduling when each station has one telescope and
satellites are unlimited, else the best of three greedy fills; the FCFS baseline for
comparison. The rules are stated once, in :mod:`constellation.network`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .contacts import Contacts


@dataclass(frozen=True)
class Schedule:
    """Chosen contact indices (sorted by start), their key and the FCFS baseline's."""

    chosen: np.ndarray
    key_bits: float
    baseline_key_bits: float
    method: str  # "exact" (per-station DP) or "greedy" (best of three, see constellation.network)


def _per_index(value, n: int, name: str) -> np.ndarray:
    array = np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)) if np.ndim(value) == 0 else \
        np.asarray(value, dtype=np.int64)
    if array.shape != (n,) or np.any(array < 0):
        raise ValueError(f"{name}: one integer >= 0, or one per index ({n}), expected")
    return array


def max_concurrency(start_s, end_s, group, n_groups: int) -> np.ndarray:
    """Largest number of intervals ``[start, end)`` of each group open at one instant.

    Touching intervals (one ends when the next starts) do not overlap.
    """
    start = np.asarray(start_s, dtype=float)
    end = np.asarray(end_s, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    out = np.zeros(n_groups, dtype=np.int64)
    if start.size == 0:
        return out
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones(start.size, np.int64), -np.ones(end.size, np.int64)])
    groups = np.concatenate([group, group])
    order = np.lexsort((delta, times, groups))  # by group, then time, ends before starts
    # Each group's deltas sum to zero, so a global running sum is the count within the group.
    running = np.cumsum(delta[order])
    np.maximum.at(out, groups[order], running)
    return out


def _exact_station(start: np.ndarray, end: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Maximum-key set of pairwise non-overlapping intervals (weighted interval scheduling)."""
    order = np.lexsort((start, end))
    s, e = start[order], end[order]
    compatible = np.searchsorted(e, s, side="right").tolist()  # intervals ending by each start
    weight = key[order].tolist()
    best = [0.0] * (len(weight) + 1)
    take = [False] * len(weight)
    for j, w in enumerate(weight):
        with_j = w + best[compatible[j]]
        if with_j > best[j]:
            best[j + 1] = with_j
            take[j] = True
        else:
            best[j + 1] = best[j]
    chosen = []
    j = len(weight)
    while j > 0:
        if take[j - 1]:
            chosen.append(order[j - 1])
            j = compatible[j - 1]
        else:
            j -= 1
    return np.array(chosen[::-1], dtype=np.int64)


def _exact(contacts: Contacts, usable: np.ndarray) -> np.ndarray:
    """The per-station optimum over the ``usable`` contacts (one telescope each)."""
    idx = np.flatnonzero(usable)
    chosen = []
    by_station = np.argsort(contacts.station[idx], kind="stable")
    idx = idx[by_station]
    bounds = np.flatnonzero(np.diff(contacts.station[idx])) + 1
    for part in np.split(idx, bounds):
        if part.size:
            local = _exact_station(contacts.start_s[part], contacts.end_s[part], contacts.key_bits[part])
            chosen.append(part[local])
    return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)


def _fits(starts: list, ends: list, s: float, e: float, cap: int, max_len: float) -> bool:
    """Whether ``[s, e)`` can join intervals (sorted by start) keeping <= cap open at once."""
    if cap <= 0:
        return False
    j = bisect.bisect_left(starts, e) - 1
    overlapping = []
    while j >= 0 and starts[j] > s - max_len:
        if ends[j] > s:
            overlapping.append(j)
            if cap == 1:
                return False
        j -= 1
    if len(overlapping) < cap:
        return True
    events = sorted([(max(starts[k], s), 1) for k in overlapping] + [(min(ends[k], e), -1) for k in overlapping])
    depth = peak = 0
    for _, d in events:
        depth += d
        peak = max(peak, depth)
    return peak < cap


def _fill(contacts: Contacts, order, telescopes, terminals) -> np.ndarray:
    """Accept contacts in ``order`` whenever station (and satellite) capacity allows."""
    start = contacts.start_s.tolist()
    end = contacts.end_s.tolist()
    station = contacts.station.tolist()
    satellite = contacts.satellite.tolist()
    max_len = float((contacts.end_s - contacts.start_s).max()) if len(contacts) else 0.0
    tel = telescopes.tolist()
    term = None if terminals is None else terminals.tolist()
    occupied_station: dict = {}
    occupied_satellite: dict = {}
    chosen = []
    for i in np.asarray(order).tolist():
        s, e = start[i], end[i]
        st = occupied_station.setdefault(station[i], ([], []))
        if not _fits(st[0], st[1], s, e, tel[station[i]], max_len):
            continue
        if term is not None:
            sa = occupied_satellite.setdefault(satellite[i], ([], []))
            if not _fits(sa[0], sa[1], s, e, term[satellite[i]], max_len):
                continue
            k = bisect.bisect_right(sa[0], s)
            sa[0].insert(k, s)
            sa[1].insert(k, e)
        k = bisect.bisect_right(st[0], s)
        st[0].insert(k, s)
        st[1].insert(k, e)
        chosen.append(i)
    return np.array(chosen, dtype=np.int64)


def _resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites):
    """Telescopes per station, terminals per satellite (None: unlimited) and the usable contacts."""
    n_st = max(contacts.n_stations, n_stations or 0, np.size(telescopes) if np.ndim(telescopes) else 0)
    n_sat = max(contacts.n_satellites, n_satellites or 0,
                np.size(satellite_terminals) if np.ndim(satellite_terminals) else 0)
    tel = _per_index(telescopes, n_st, "telescopes")
    term = None if satellite_terminals is None else _per_index(satellite_terminals, n_sat, "satellite_terminals")
    usable = (contacts.key_bits > 0) & (contacts.end_s > contacts.start_s)
    return tel, term, usable


def _sorted_chosen(contacts: Contacts, chosen: np.ndarray) -> np.ndarray:
    return chosen[np.lexsort((chosen, contacts.start_s[chosen]))]


def schedule_fcfs(contacts: Contacts, telescopes=1, satellite_terminals=None, *,
                  n_stations: int | None = None, n_satellites: int | None = None) -> np.ndarray:
    """Baseline: take contacts by earliest window start (then index) whenever there is room."""
    return _fcfs(contacts, *_resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites))


def _fcfs(contacts: Contacts, tel, term, usable) -> np.ndarray:
    idx = np.flatnonzero(usable)
    order = idx[np.lexsort((idx, contacts.start_s[idx]))]
    return _sorted_chosen(contacts, _fill(contacts, order, tel, term))


def schedule(contacts: Contacts, telescopes=1, satellite_terminals=None, *,
             n_stations: int | None = None, n_satellites: int | None = None) -> Schedule:
    """Choose contacts that maximise total key (the rules: :mod:`constellation.network`).

    Parameters
    ----------
    contacts : Contacts
    telescopes : int or array_like of int, shape (n_stations,)
        Satellites each station can track at once (0 disables a station).
    satellite_terminals : None, int or array_like of int, shape (n_satellites,)
        Stations each satellite can serve at once; None = no limit.
    n_stations, n_satellites : int, optional
        Stations and satellites in the scenario, when the contacts do not name the last ones.

    Returns
    -------
    Schedule
        ``method`` is "exact" when every station has one telescope and satellites are
        unlimited (the optimum), else "greedy".
    """
    tel, term, usable = _resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites)
    key = contacts.key_bits
    fcfs = _fcfs(contacts, tel, term, usable)
    baseline = float(key[fcfs].sum())
    exact = _exact(contacts, usable & (tel[contacts.station] >= 1))
    if term is None and np.all(tel[np.unique(contacts.station)] <= 1):
        chosen = _sorted_chosen(contacts, exact)
        return Schedule(chosen, float(key[chosen].sum()), baseline, "exact")
    idx = np.flatnonzero(usable)
    by_key = idx[np.lexsort((idx, contacts.start_s[idx], -key[idx]))]
    in_exact = np.zeros(len(contacts), bool)
    in_exact[exact] = True
    seeded = np.concatenate([by_key[in_exact[by_key]], by_key[~in_exact[by_key]]])
    candidates = [_fill(contacts, seeded, tel, term), _fill(contacts, by_key, tel, term), fcfs]
    totals = [float(key[c].sum()) for c in candidates]
    best = candidates[int(np.argmax(totals))]
    chosen = _sorted_chosen(contacts, best)
    return Schedule(chosen, float(key[chosen].sum()), baseline, "greedy")
