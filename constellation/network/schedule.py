"""Scheduling: which contacts happen, given telescopes per station and terminals per satellite.

With relay channels (links) the contacts are chosen by the link-aware programme of
:mod:`constellation.network.milp`: exactly (HiGHS) within a time limit, else the best of
its LP-rounding and greedy fills, with the optimality gap to the programme's bound. Without
channels, one telescope per station and no satellite limit, exact per-station weighted
interval scheduling. The FCFS baseline is kept for comparison. The rules are stated once,
in :mod:`constellation.network`.
"""

from __future__ import annotations

import bisect
import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from . import milp
from .contacts import Contacts


_MIP_REL_GAP = 1e-4  # HiGHS's default relative optimality gap
# Work limits, counts not times, so that the same inputs give the same schedule on any machine:
# dual-simplex iterations of the LP relaxation (~1 s on the largest shells of the 2027 sweep,
# 27,000 contacts) and branch-and-bound nodes of the integer programme.
LP_ITERATIONS = 5_000
MILP_NODES = 200
# Windows cut into pieces with re-pointing (MEO, GEO) and more than this many contacts: the
# integer programme stops after its root node. There the root takes 15-30 s and its
# heuristics find the schedule (the fills reach only ~70 % of the bound: they are not
# link-aware enough); on the 2027 MEO designs 200 nodes found nothing better (6 satellites
# at 5,000 km, 4,035 contacts: 0.451733 after 1 node and after 200; 8 satellites, 5,368
# contacts: 0.450699 after 1 node and after 200 in 65 s, bound 0.452219).
MILP_PIECES_ROOT_ONLY = 1_000

@dataclass(frozen=True)
class Schedule:
    """Chosen contact indices (sorted by start), their key and the FCFS baseline's.

    ``method``: "exact" (per-station dynamic programme, no links); "optimal" (the programme's
    optimum within HiGHS's relative tolerance 1e-4, proven by HiGHS or by a fill that meets
    the LP relaxation's bound, when the integer programme is not run); "milp-time-limit"
    (HiGHS's incumbent when the time ran out); "heuristic" (the best fill, HiGHS found
    nothing better in time).
    ``objective`` is the programme's value of the schedule (higher is better) and ``bound``
    an upper bound on any schedule's; ``gap = (bound - objective) / bound`` (0 when optimal).
    ``min_share_bits`` is the smallest relayable key over the channels divided by each
    channel's weight (the programme's flow model; None without channels), and
    ``planned_bits`` that flow per channel and satellite: the relay splits each satellite's
    key between channels in these proportions."""

    chosen: np.ndarray
    key_bits: float
    baseline_key_bits: float
    method: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    min_share_bits: float | None = None
    runtime_s: float = 0.0
    planned_bits: np.ndarray | None = None  # (n_channels, n_satellites): key each satellite should relay per channel


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


def _scarcity(contacts: Contacts, idx: np.ndarray, pairs: np.ndarray, link_weights) -> np.ndarray:
    """Per station: the demand weight of its channels over the key its contacts could give
    (stations in no channel: a thousandth of the smallest), the priority of its key."""
    n = max(int(contacts.station.max()) + 1, int(pairs.max()) + 1)
    weights = np.ones(len(pairs)) if link_weights is None else np.asarray(link_weights, float)
    demand = np.zeros(n)
    np.add.at(demand, pairs[:, 0], weights)
    np.add.at(demand, pairs[:, 1], weights)
    supply = np.bincount(contacts.station[idx], weights=contacts.key_bits[idx], minlength=n)
    scarcity = np.divide(demand, supply, out=np.zeros(n), where=supply > 0)
    floor = scarcity[scarcity > 0].min() * 1e-3 if np.any(scarcity > 0) else 1.0
    return np.where(scarcity > 0, scarcity, floor)


def _exact_station_tracks(start: np.ndarray, end: np.ndarray, key: np.ndarray, retarget_s: float,
                          previous: np.ndarray) -> np.ndarray:
    """Maximum-key schedule of one telescope that needs ``retarget_s`` between two contacts,
    except before one that continues (``previous``, local index or -1) the contact it flew last.

    ``f(j) = key_j + max(F(start_j - retarget_s), f(previous_j))``, F the best over contacts
    ended by then: a dynamic programme in order of end, O(n log n)."""
    order = np.lexsort((start, end))
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    e = end[order]
    reach = np.searchsorted(e, start[order] - retarget_s, side="right").tolist()  # contacts ended by then
    prev_rank = [int(rank[p]) if p >= 0 else -1 for p in previous[order].tolist()]
    weight = key[order].tolist()
    f = [0.0] * order.size
    back = [-1] * order.size
    best = [0.0] * (order.size + 1)  # best[k]: the best f over the first k in order of end (0: none)
    arg = [-1] * (order.size + 1)
    for j, w in enumerate(weight):
        k = reach[j]
        base, via = best[k], arg[k]
        p = prev_rank[j]
        if p >= 0 and f[p] > base:
            base, via = f[p], p
        f[j] = w + base
        back[j] = via
        best[j + 1], arg[j + 1] = (f[j], j) if f[j] > best[j] else (best[j], arg[j])
    chosen = []
    j = arg[order.size]
    while j >= 0:
        chosen.append(int(order[j]))
        j = back[j]
    return np.array(chosen[::-1], dtype=np.int64)


def _exact(contacts: Contacts, usable: np.ndarray, retarget_s: float = 0.0, previous=None) -> np.ndarray:
    """The per-station optimum over the ``usable`` contacts (one telescope each; ``retarget_s``
    of re-pointing between two contacts, none before one that continues ``previous``)."""
    idx = np.flatnonzero(usable)
    chosen = []
    by_station = np.argsort(contacts.station[idx], kind="stable")
    idx = idx[by_station]
    bounds = np.flatnonzero(np.diff(contacts.station[idx])) + 1
    local_of = np.full(len(contacts), -1, np.int64)
    for part in np.split(idx, bounds):
        if not part.size:
            continue
        if previous is None or retarget_s <= 0 or not np.any(previous[part] >= 0):
            local = _exact_station(contacts.start_s[part], contacts.end_s[part] + retarget_s, contacts.key_bits[part])
        else:
            local_of[part] = np.arange(part.size)
            prev = previous[part]
            prev_local = np.where(prev >= 0, local_of[np.maximum(prev, 0)], -1)
            local = _exact_station_tracks(contacts.start_s[part], contacts.end_s[part], contacts.key_bits[part],
                                          retarget_s, prev_local)
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


def _insert(lists, s: float, e: float) -> None:
    k = bisect.bisect_right(lists[0], s)
    lists[0].insert(k, s)
    lists[1].insert(k, e)


def _remove(lists, s: float, e: float) -> None:
    k = bisect.bisect_left(lists[0], s)
    while lists[1][k] != e:
        k += 1
    del lists[0][k], lists[1][k]


def _fill(contacts: Contacts, order, telescopes, terminals, retarget_s: float = 0.0, previous=None) -> np.ndarray:
    """Accept contacts in ``order`` whenever station (and satellite) capacity allows. A contact
    holds its resources over ``[start, end + retarget_s)`` (re-pointing after it), or over
    ``[start, end)`` when its next piece (the contact that continues it, ``previous``) is
    accepted: accepting a piece shortens its accepted predecessor to that."""
    start = contacts.start_s.tolist()
    end = contacts.end_s.tolist()
    station = contacts.station.tolist()
    satellite = contacts.satellite.tolist()
    max_len = float((contacts.end_s - contacts.start_s).max()) + retarget_s if len(contacts) else 0.0
    tel = telescopes.tolist()
    term = None if terminals is None else terminals.tolist()
    prev = [-1] * len(contacts) if previous is None or retarget_s <= 0 else previous.tolist()
    following: dict = {p: j for j, p in enumerate(prev) if p >= 0}
    occupied_station: dict = {}
    occupied_satellite: dict = {}
    held = {}  # accepted contact -> the end of the interval it holds
    chosen = []
    for i in np.asarray(order).tolist():
        nxt = following.get(i)
        s, e = start[i], (end[i] if nxt in held else end[i] + retarget_s)
        st = occupied_station.setdefault(station[i], ([], []))
        sa = None if term is None else occupied_satellite.setdefault(satellite[i], ([], []))
        groups = [(st, tel[station[i]])] + ([] if sa is None else [(sa, term[satellite[i]])])
        p = prev[i]
        shorten = p in held and held[p] > end[p]  # accepted and re-pointing after it
        if shorten:  # it hands over to i: no re-pointing
            for lists, _ in groups:
                _remove(lists, start[p], held[p])
                _insert(lists, start[p], end[p])
        if all(_fits(lists[0], lists[1], s, e, cap, max_len) for lists, cap in groups):
            for lists, _ in groups:
                _insert(lists, s, e)
            held[i] = e
            if shorten:
                held[p] = end[p]
            chosen.append(i)
        elif shorten:  # i does not join: p keeps its re-pointing
            for lists, _ in groups:
                _remove(lists, start[p], end[p])
                _insert(lists, start[p], held[p])
    return np.array(chosen, dtype=np.int64)


def _resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites, min_contact_s=0.0):
    """Telescopes per station, terminals per satellite (None: unlimited) and the usable contacts:
    positive key, at least ``min_contact_s`` long, at a station and satellite with capacity."""
    n_st = max(contacts.n_stations, n_stations or 0, np.size(telescopes) if np.ndim(telescopes) else 0)
    n_sat = max(contacts.n_satellites, n_satellites or 0,
                np.size(satellite_terminals) if np.ndim(satellite_terminals) else 0)
    tel = _per_index(telescopes, n_st, "telescopes")
    term = None if satellite_terminals is None else _per_index(satellite_terminals, n_sat, "satellite_terminals")
    length = contacts.end_s - contacts.start_s
    usable = (contacts.key_bits > 0) & (length > 0) & (length >= min_contact_s) & (tel[contacts.station] >= 1)
    if term is not None:
        usable &= term[contacts.satellite] >= 1
    return tel, term, usable


def _sorted_chosen(contacts: Contacts, chosen: np.ndarray) -> np.ndarray:
    return chosen[np.lexsort((chosen, contacts.start_s[chosen]))]


def schedule_fcfs(contacts: Contacts, telescopes=1, satellite_terminals=None, *, retarget_s: float = 0.0,
                  min_contact_s: float = 0.0, n_stations: int | None = None,
                  n_satellites: int | None = None) -> np.ndarray:
    """Baseline: take contacts by earliest window start (then index) whenever there is room."""
    contacts = _snapped(contacts)
    tel, term, usable = _resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites, min_contact_s)
    return _fcfs(contacts, tel, term, usable, retarget_s, _previous(contacts, usable, retarget_s))


def _previous(contacts: Contacts, usable: np.ndarray, retarget_s: float) -> np.ndarray | None:
    """Per contact, the usable contact it continues (:func:`milp.continuations`); None without
    re-pointing (nothing to save)."""
    if retarget_s <= 0:
        return None
    return milp.continuations(contacts.satellite, contacts.station, contacts.start_s, contacts.end_s, usable)


def _snapped(contacts: Contacts) -> Contacts:
    """The contacts with each piece of a window starting exactly where the previous piece ends
    (pieces computed in floating point can overlap by an ulp, which would forbid flying both)."""
    if len(contacts) < 2:
        return contacts
    prev = milp.continuations(contacts.satellite, contacts.station, contacts.start_s, contacts.end_s)
    has = prev >= 0
    if not np.any(has & (contacts.end_s[np.maximum(prev, 0)] > contacts.start_s)):
        return contacts
    start = contacts.start_s.copy()
    start[has] = np.maximum(start[has], contacts.end_s[prev[has]])
    return dataclasses.replace(contacts, start_s=np.minimum(start, contacts.end_s))


def _fcfs(contacts: Contacts, tel, term, usable, retarget_s: float, previous) -> np.ndarray:
    idx = np.flatnonzero(usable)
    order = idx[np.lexsort((idx, contacts.start_s[idx]))]
    return _sorted_chosen(contacts, _fill(contacts, order, tel, term, retarget_s, previous))


def schedule(contacts: Contacts, telescopes=1, satellite_terminals=None, *, retarget_s: float = 0.0,
             min_contact_s: float = 0.0, link_pairs=None, link_weights=None, time_limit_s: float = 60.0,
             n_stations: int | None = None, n_satellites: int | None = None) -> Schedule:
    """Choose the contacts to fly (the rules: :mod:`constellation.network` and
    :mod:`constellation.network.milp`).

    Parameters
    ----------
    contacts : Contacts
    telescopes : int or array_like of int, shape (n_stations,)
        Satellites each station can track at once (0 disables a station).
    satellite_terminals : None, int or array_like of int, shape (n_satellites,)
        Stations each satellite can serve at once; None = no limit.
    retarget_s : float
        Re-pointing time: a telescope or terminal needs this long between two contacts, except
        between consecutive pieces of one window (the same satellite at the same station,
        the next piece starting where the last ends: :data:`milp.CONTIGUOUS_S`), which it
        keeps tracking.
    min_contact_s : float
        Contacts shorter than this are not flown (each piece of a cut window on its own).
    link_pairs : array_like of int, shape (n_channels, 2), optional
        Relay channels (station index pairs). With them the objective is the channels' key
        against ``link_weights`` (smallest share first), else the contacts' total key.
    link_weights : array_like, shape (n_channels,), optional
        Demand of each channel (default all equal).
    time_limit_s : float
        Safety cap on HiGHS's time for the integer programme (0: greedy fills only). The work
        limits ``LP_ITERATIONS`` and ``MILP_NODES`` decide first, so results are reproducible
        unless this cap binds.
    n_stations, n_satellites : int, optional
        Stations and satellites in the scenario, when the contacts do not name the last ones.
    """
    began = time.perf_counter()
    if retarget_s < 0 or not np.isfinite(retarget_s):
        raise ValueError(f"retarget_s: a finite time >= 0 expected, found {retarget_s}")
    if min_contact_s < 0 or not np.isfinite(min_contact_s):
        raise ValueError(f"min_contact_s: a finite time >= 0 expected, found {min_contact_s}")
    contacts = _snapped(contacts)
    tel, term, usable = _resources(contacts, telescopes, satellite_terminals, n_stations, n_satellites, min_contact_s)
    key = contacts.key_bits
    previous = _previous(contacts, usable, retarget_s)
    fcfs = _fcfs(contacts, tel, term, usable, retarget_s, previous)
    baseline = float(key[fcfs].sum())
    pairs = None if link_pairs is None else np.asarray(link_pairs, np.int64).reshape(-1, 2)
    linked = pairs is not None and len(pairs) > 0
    if not linked and term is None and np.all(tel[np.unique(contacts.station)] <= 1):
        chosen = _sorted_chosen(contacts, _exact(contacts, usable, retarget_s, previous))
        total = float(key[chosen].sum())
        return Schedule(chosen, total, baseline, "exact", total, total, 0.0, None, time.perf_counter() - began)
    idx = np.flatnonzero(usable)
    if idx.size == 0:
        return Schedule(idx, 0.0, baseline, "exact", 0.0, 0.0, 0.0, 0.0 if linked else None,
                        time.perf_counter() - began)
    problem = milp.build_problem(contacts.satellite[idx], contacts.station[idx], contacts.start_s[idx],
                                 contacts.end_s[idx], key[idx], tel, term, retarget_s=retarget_s,
                                 channel_pairs=pairs if linked else None, channel_weights=link_weights)
    position = np.full(len(contacts), -1, np.int64)
    position[idx] = np.arange(idx.size)
    # The LP relaxation (within the time limit): a bound on every schedule, and an order to fill by.
    lp_bound, lp_v = milp.solve_lp(problem, max_iterations=LP_ITERATIONS) if time_limit_s > 0 else (None, None)
    # Heuristics: LP rounding, scarcity (key at stations short of key for their links' demand
    # first), key order, the per-station optimum first, FCFS; the best by the programme.
    by_key = idx[np.lexsort((idx, contacts.start_s[idx], -key[idx]))]
    orders = [by_key]
    if lp_v is not None:
        orders.append(idx[np.lexsort((idx, -key[idx], -np.round(milp.contact_values(problem, lp_v), 6)))])
    if linked:
        orders.append(idx[np.lexsort((idx, -key[idx] * _scarcity(contacts, idx, pairs, link_weights)[contacts.station[idx]]))])
    exact = _exact(contacts, usable, retarget_s, previous)
    in_exact = np.zeros(len(contacts), bool)
    in_exact[exact] = True
    orders.append(np.concatenate([by_key[in_exact[by_key]], by_key[~in_exact[by_key]]]))
    candidates = [_fill(contacts, order, tel, term, retarget_s, previous) for order in orders] + [fcfs]
    scores = [milp.evaluate(problem, position[c]) for c in candidates]
    best = int(np.argmax(scores))
    chosen, objective, method = candidates[best], scores[best], "heuristic"
    bound = np.inf if lp_bound is None else lp_bound
    # The LP relaxation bounds every schedule: a fill within HiGHS's own relative gap of it is
    # optimal to that tolerance and the integer programme is not run.
    # The integer programme only where the relaxation finished (a hard relaxation means a hard
    # root node): a decision on counts, so the schedule does not depend on the machine's speed.
    root_only = problem.n_binary > problem.n_contacts and problem.n_contacts > MILP_PIECES_ROOT_ONLY
    if lp_bound is not None and time_limit_s > 0 and bound - objective > _MIP_REL_GAP * abs(objective):
        value, picked, milp_bound, optimal = milp.solve_milp(problem, 1 if root_only else MILP_NODES, time_limit_s)
        if milp_bound is not None:
            bound = min(bound, milp_bound)
        if picked is not None and value > objective:
            chosen, objective = idx[picked], value
            method = "milp-time-limit"
        if optimal:  # HiGHS proved its value optimal; the kept schedule is at least as good
            bound = objective
    if np.isfinite(bound):
        bound = max(bound, objective)
        gap = 0.0 if bound <= 0 else max(0.0, (bound - objective) / bound)
        if gap <= _MIP_REL_GAP:  # optimal to HiGHS's tolerance (by the relaxation or HiGHS's proof)
            gap, method = 0.0, "optimal"
    else:  # neither the relaxation nor HiGHS finished in time: no bound, no gap
        bound, gap = None, None
    share, planned = None, None
    chosen = np.asarray(chosen, np.int64)
    if linked:
        _, carried = milp.flow(problem, position[chosen])
        n_sat = max(contacts.n_satellites, n_satellites or 0)
        planned = np.zeros((len(pairs), n_sat))
        np.add.at(planned, (problem.y_channel, problem.y_satellite), carried)
        weights = np.ones(len(pairs)) if link_weights is None else np.asarray(link_weights, float)
        share = float((planned.sum(axis=1) / weights).min())
    chosen = _sorted_chosen(contacts, chosen)
    return Schedule(chosen, float(key[chosen].sum()), baseline, method, objective, bound, gap, share,
                    time.perf_counter() - began, planned)
