"""Key network: station scheduling, trusted-relay key between station pairs, fibre tails, weather.

Times are ``t_s`` (seconds since the scenario start), key in bits. Stations and satellites
are indices (the PassTable's); links, cities and fibre are named at the top level.

API
---
Contacts (candidate downlinks)
    ``contacts_from_passes(table, key_bits) -> Contacts``: the passes with a QKD window
    and positive key (``key_bits`` = ``PassKeys.finite_key_bits``).
    ``make_contacts(satellite, station, start_s, end_s, key_bits, pass_index=None)``.
Scheduling
    ``schedule(contacts, telescopes=1, satellite_terminals=None) -> Schedule``.
    ``schedule_fcfs(...) -> ndarray``: the baseline (earliest window start first).
    ``max_concurrency(start_s, end_s, group, n_groups) -> ndarray``: for checks.
Trusted relay
    ``relay_key(contacts, chosen, link_pairs, duration_s, ...) -> RelayResult``: clear sky,
    with every delivery, its latency, the limiting side and the per-satellite ledger.
    ``relay_weather(..., night_id, night_clear_probability, runs, seed) -> WeatherResult``.
Weather
    ``station_nights(contacts, longitude_deg, clear_sky_probability, start_utc)``:
    the station-night of every contact and each night's clear-sky probability.
    ``expected_pair_relay_bits(key_a_bits, key_b_bits, p_a, p_b)``: analytic mean.
Everything at once
    ``plan_network(contacts, stations, links, duration_s, ...) -> NetworkPlan``, then
    ``link_rows(plan)`` and ``timeline_rows(plan)`` for tables.

Rules (the model, stated once)
------------------------------
Scheduling. A contact occupies its station's telescope and (optionally) the satellite's
terminal over its QKD window ``[start_s, end_s)``; windows that only touch do not
conflict. The objective is the total key of the chosen contacts. With one telescope per
station and no satellite limit the stations are independent and each is solved exactly
by weighted interval scheduling (sort by end, O(n log n) dynamic programme). Otherwise
(several telescopes, or ``satellite_terminals``) three feasible schedules are built by
accepting contacts in a priority order when every resource still has room, and the best
is kept: (1) the per-station exact optimum, in key order, then the rest in key order;
(2) all contacts in key order; (3) first-come-first-served. So the result is never
worse than the FCFS baseline.

Relay (Liao et al. 2018 PRL 120:030501). Each satellite keeps one pool per station of
unspent key shared with it. Events are the scheduled contacts at link stations, in order
of window end (key is ready when the window closes). At a contact of satellite S with
station X, the new key joins pool X, and every link (X, Y) takes
``d = min(pool X share, pool Y)`` bits: the satellite announces the XOR of d bits from
each pool, so d bits leave pool X and d leave pool Y. Links at X compete for pool X by
weighted water-filling (max-min fair in proportion to their weights, each capped by
its own partner pool); delivering at every contact is chronological, first come first
served between contacts, with no look-ahead. Pools are spent oldest key first. Key left
over stays in the pool; with a finite ``key_store_bits`` the satellite keeps only what
fits (its total over pools is capped) and the rest of the new key is discarded
(``overflow_bits``). Ledger per satellite, exact up to rounding:
``acquired = 2 * relayed + remaining + overflow``. No key is created, spent twice or
negative. Latency of a delivery = its time minus the window end of the oldest
contributing contact. The limiting station of a link is the end whose shared key ran
out: the one with less key left unspent at the end on the satellites that delivered to
the link (ties: the end whose share was emptied at more of the delivered bits; no
delivery: the end that acquired less key).

Links and weights (``plan_network``). A link weighs its ``required_key_bits_per_day``;
links without a demand weigh as the mean stated demand (all 1 when none is stated).
Links whose ends reach the same two gateway stations form one relay channel of the
summed weight, and split its key in proportion to their weights.

Fibre. A link endpoint that is a city (not a satellite station) reaches the network
through one ``Fibre(city, station, key_rate_bps)`` tail (the fastest if several; one
hop; fibre between two satellite stations is not used). The end-to-end key by time t
is ``min(R(t), rate * t)`` over the link's relayed key R and each of its tails (key is
storable at the trusted gateway), evaluated at day boundaries. A link whose two ends
share a gateway is fibre only. Stations in no link take no part in the relay.

Weather. One Bernoulli cloud state per station per local night (noon to noon in local
mean solar time); a cloudy night loses the key of all that station's contacts that
night. The schedule is fixed in advance (clouds are not forecast). ``runs`` seeded
realisations give the expected key per day, its standard error and the 10th percentile
(P10) over runs; latency and limiting station come from the clear-sky relay.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..constants import DAY_S
from ..scenario.model import Fibre, Link

# --- contacts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contacts:
    """Candidate contacts; every field is an ndarray of length ``n``."""

    satellite: np.ndarray
    station: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    key_bits: np.ndarray
    pass_index: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.size)

    @property
    def n_satellites(self) -> int:
        return int(self.satellite.max()) + 1 if len(self) else 0

    @property
    def n_stations(self) -> int:
        return int(self.station.max()) + 1 if len(self) else 0


def make_contacts(satellite, station, start_s, end_s, key_bits, pass_index=None) -> Contacts:
    """Contacts from parallel arrays (checked: equal lengths, finite, ``end >= start``, key >= 0)."""
    sat = np.asarray(satellite, dtype=np.int64).ravel()
    st = np.asarray(station, dtype=np.int64).ravel()
    start = np.asarray(start_s, dtype=float).ravel()
    end = np.asarray(end_s, dtype=float).ravel()
    key = np.asarray(key_bits, dtype=float).ravel()
    index = np.arange(sat.size) if pass_index is None else np.asarray(pass_index, dtype=np.int64).ravel()
    if not all(a.size == sat.size for a in (st, start, end, key, index)):
        raise ValueError("contact arrays must all have the same length")
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end)) and np.all(np.isfinite(key))):
        raise ValueError("contact times and key must be finite (mask failed passes before)")
    if np.any(end < start) or np.any(key < 0) or np.any(sat < 0) or np.any(st < 0):
        raise ValueError("contacts need end_s >= start_s, key_bits >= 0 and indices >= 0")
    return Contacts(sat, st, start, end, key, index)


def contacts_from_passes(table, key_bits) -> Contacts:
    """The passes of a ``PassTable`` with a QKD window and positive key.

    ``key_bits`` is aligned with the table rows (e.g. ``PassKeys.finite_key_bits``);
    ``pass_index`` keeps each contact's row.
    A window longer than ``MAX_CONTACT_S`` (a MEO or GEO satellite up all night) becomes
    equal consecutive contacts of at most that length, sharing its key in proportion to
    time, so a telescope can serve it between LEO passes. (The key of a chunk is its share
    of the whole window's finite-size key: a fair figure when most chunks are used,
    optimistic by the finite-size penalty of a shorter block otherwise.)
    """
    key = np.asarray(key_bits, dtype=float)
    rows = np.flatnonzero(np.asarray(table.has_window) & (key > 0) &
                          (table.window_end_s > table.window_start_s))
    start, end = table.window_start_s[rows], table.window_end_s[rows]
    pieces = np.maximum(1, np.ceil((end - start) / MAX_CONTACT_S - 1e-9).astype(int))
    row = np.repeat(rows, pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(row.size) - np.repeat(first, pieces)
    length = np.repeat((end - start) / pieces, pieces)
    chunk_start = np.repeat(start, pieces) + k * length
    chunk_end = np.where(k == np.repeat(pieces, pieces) - 1, np.repeat(end, pieces), chunk_start + length)
    return make_contacts(table.satellite[row], table.station[row], chunk_start, chunk_end,
                         key[row] / np.repeat(pieces, pieces), row)


MAX_CONTACT_S = 900.0


# --- scheduling -------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Chosen contact indices (sorted by start), their key and the FCFS baseline's."""

    chosen: np.ndarray
    key_bits: float
    baseline_key_bits: float
    method: str  # "exact" (per-station DP) or "greedy" (best of three, see module doc)


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
    """Choose contacts that maximise total key (see the module docstring for the rules).

    Parameters
    ----------
    contacts : Contacts
    telescopes : int or array_like of int, shape (n_stations,)
        Satellites each station can track at once (0 disables a station).
    satellite_terminals : None, int or array_like of int, shape (n_satellites,)
        Stations each satellite can serve at once; None = no limit.

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


# --- trusted relay ----------------------------------------------------------------------


def _waterfill(budget: np.ndarray, caps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split ``budget`` (runs,) over claims capped by ``caps`` (m, runs) in proportion to
    ``weights`` (m,): weighted max-min fair shares. Every claim is met when they fit."""
    if caps.shape[0] == 1:
        return np.minimum(caps, budget)
    short = caps.sum(axis=0) > budget
    if not short.any():
        return caps.copy()
    ratio = caps / weights[:, None]
    order = np.argsort(ratio, axis=0, kind="stable")
    r = np.take_along_axis(ratio, order, axis=0)
    c = np.take_along_axis(caps, order, axis=0)
    w = weights[order]
    before = np.cumsum(c, axis=0) - c
    rest = np.cumsum(w[::-1], axis=0)[::-1]
    k = np.argmax(before + r * rest >= budget, axis=0)[None, :]
    level = (budget - np.take_along_axis(before, k, 0)[0]) / np.take_along_axis(rest, k, 0)[0]
    return np.where(short, np.minimum(caps, weights[:, None] * level), caps)


@dataclass
class _Problem:
    events: np.ndarray  # contact indices in time order
    sat: list
    gateway: list  # compact index of the event's station among link stations
    day: list
    time_s: np.ndarray
    key: np.ndarray
    links_at: list  # per compact station: (link ids, partner compact ids, weights, side of this station)
    stations: np.ndarray  # compact -> station index
    n_sat: int
    n_links: int
    n_days: int
    capacity: np.ndarray


def _n_days(duration_s: float) -> int:
    return max(1, math.ceil(duration_s / DAY_S - 1e-9))


def _problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites) -> _Problem:
    pairs = np.asarray(link_pairs, dtype=np.int64).reshape(-1, 2)
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise ValueError("a relay link needs two different stations")
    if len({tuple(sorted(p)) for p in pairs.tolist()}) != len(pairs):
        raise ValueError("each station pair may appear in one link only")
    n_links = len(pairs)
    w = np.ones(n_links) if weights is None else np.asarray(weights, dtype=float).reshape(n_links)
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("link weights must be positive and finite")
    stations = np.unique(pairs)
    compact = {int(s): k for k, s in enumerate(stations)}
    links_at = []
    for s in stations.tolist():
        ids = [i for i in range(n_links) if s in pairs[i]]
        partners = [compact[int(pairs[i][1] if pairs[i][0] == s else pairs[i][0])] for i in ids]
        sides = [0 if pairs[i][0] == s else 1 for i in ids]
        links_at.append((np.array(ids, np.int64), np.array(partners, np.int64), w[ids], np.array(sides)))
    chosen = np.asarray(chosen, dtype=np.int64)
    chosen = chosen[np.isin(contacts.station[chosen], stations)]
    events = chosen[np.lexsort((chosen, contacts.start_s[chosen], contacts.end_s[chosen]))]
    n_sat = max(contacts.n_satellites, n_satellites or 0)
    capacity = np.full(n_sat, np.inf) if key_store_bits is None else \
        np.broadcast_to(np.asarray(key_store_bits, dtype=float), (n_sat,)).astype(float)
    if np.any(np.isnan(capacity)) or np.any(capacity < 0):
        raise ValueError("key_store_bits must be >= 0 (None for unlimited)")
    n_days = _n_days(duration_s)
    time_s = contacts.end_s[events]
    day = np.clip(np.floor(time_s / DAY_S).astype(np.int64), 0, n_days - 1)
    return _Problem(events, contacts.satellite[events].tolist(),
                    [compact[int(s)] for s in contacts.station[events]], day.tolist(), time_s,
                    contacts.key_bits[events], links_at, stations, n_sat, n_links, n_days, capacity)


def _run(p: _Problem, key_runs, runs: int, record: bool):
    """Play the events; ``key_runs(e)`` gives the key of event e in each run, shape (runs,)."""
    pool = np.zeros((p.n_sat, len(p.stations), runs))
    store = np.zeros((p.n_sat, runs))
    acquired = np.zeros((p.n_sat, runs))
    overflow = np.zeros((p.n_sat, runs))
    spent = np.zeros((p.n_sat, runs))
    delivered = np.zeros((p.n_links, p.n_days, runs))
    bound = np.zeros((p.n_links, 2))
    log = {"deposits": {}, "withdrawn": {}, "deliveries": []}
    for e in range(len(p.events)):
        s, g, day = p.sat[e], p.gateway[e], p.day[e]
        key = key_runs(e)
        ids, partners, weights, sides = p.links_at[g]
        old = pool[s, g].copy()
        caps = pool[s, partners]
        d = _waterfill(old + key, caps, weights)
        used = d.sum(axis=0)
        spent[s] += 2.0 * used
        pool[s, partners] = caps - d
        from_old = np.minimum(used, old)
        fresh_left = np.maximum(key - (used - from_old), 0.0)
        store[s] -= from_old + used
        kept = np.minimum(fresh_left, np.maximum(p.capacity[s] - store[s], 0.0))
        store[s] += kept
        overflow[s] += fresh_left - kept
        acquired[s] += key
        pool[s, g] = old - from_old + kept
        delivered[ids, day] += d
        if record:
            t = float(p.time_s[e])
            log["deposits"].setdefault((s, g), []).append((t, float(key[0] - (fresh_left - kept)[0])))
            partner_bound = d[:, 0] >= caps[:, 0]
            bound[ids, np.where(partner_bound, 1 - sides, sides)] += d[:, 0]
            for i, y, bits in zip(ids.tolist(), partners.tolist(), d[:, 0].tolist()):
                if bits <= 0:
                    continue
                positions = []
                for key_pool in ((s, g), (s, y)):
                    before = log["withdrawn"].get(key_pool, 0.0)
                    log["withdrawn"][key_pool] = before + bits
                    positions.append((key_pool, before))
                log["deliveries"].append((i, t, bits, positions, s))
    ledger = {"acquired_bits": acquired, "spent_bits": spent, "remaining_bits": pool.sum(axis=1),
              "overflow_bits": overflow}
    return delivered, bound, ledger, log, pool


def _latencies(log) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per delivery: link, time, bits, latency (time minus the oldest key spent, FIFO)."""
    cumulative = {}
    for pool_key, items in log["deposits"].items():
        times, amounts = np.array(items).T
        cumulative[pool_key] = (times, np.cumsum(amounts))
    link, t_s, bits, latency = [], [], [], []
    for i, t, b, positions, _ in log["deliveries"]:
        oldest = t
        for pool_key, before in positions:
            times, cum = cumulative[pool_key]
            j = int(np.searchsorted(cum, before + 1e-9 * max(1.0, cum[-1]), side="right"))
            oldest = min(oldest, float(times[min(j, times.size - 1)]))
        link.append(i)
        t_s.append(t)
        bits.append(b)
        latency.append(t - oldest)
    return (np.array(link, np.int64), np.array(t_s, float), np.array(bits, float), np.array(latency, float))


@dataclass
class RelayResult:
    """Clear-sky trusted relay. Per link ``i`` (rows of ``link_pairs``) and satellite."""

    relayed_bits: np.ndarray  # (n_links,)
    daily_bits: np.ndarray  # (n_links, n_days), by day of the delivering window end
    delivery_link: np.ndarray  # (n_deliveries,) one row per (event, link) with bits > 0
    delivery_t_s: np.ndarray
    delivery_bits: np.ndarray
    delivery_latency_s: np.ndarray
    bound_bits: np.ndarray  # (n_links, 2): delivered bits whose delivery emptied side a / b's share
    side_acquired_bits: np.ndarray  # (n_links, 2): key the scheduled contacts gave each end
    side_remaining_bits: np.ndarray  # (n_links, 2): unspent at the end, on satellites that delivered
    acquired_bits: np.ndarray  # (n_satellites,) key of relay events (link stations only)
    spent_bits: np.ndarray  # = 2 * relayed through that satellite
    remaining_bits: np.ndarray
    overflow_bits: np.ndarray

    def latency_h(self, link: int) -> tuple[float | None, float | None]:
        """Median and maximum latency (h) of the link's deliveries; None without any."""
        values = self.delivery_latency_s[self.delivery_link == link]
        if values.size == 0:
            return None, None
        return float(np.median(values)) / 3600.0, float(values.max()) / 3600.0

    def limiting_side(self, link: int) -> int:
        """0 (side a) or 1 (side b): the end whose shared key ran out.

        The end with less key left unspent on the satellites that delivered to the link;
        on a tie (both spent), the end that bound more delivered bits; without any
        delivery, the end that acquired less key (side a on a tie).
        """
        if self.relayed_bits[link] > 0:
            tolerance = 1e-9 * self.relayed_bits[link]
            left = self.side_remaining_bits[link]
            if abs(left[0] - left[1]) > tolerance:
                return int(left[1] < left[0])
            bound = self.bound_bits[link]
            if abs(bound[0] - bound[1]) > tolerance:
                return int(bound[1] > bound[0])
        return int(self.side_acquired_bits[link, 1] < self.side_acquired_bits[link, 0])


def relay_key(contacts: Contacts, chosen, link_pairs, duration_s: float, *, weights=None,
              key_store_bits=None, n_satellites: int | None = None) -> RelayResult:
    """Clear-sky trusted relay over the chosen contacts.

    Parameters
    ----------
    contacts : Contacts
    chosen : array_like of int
        Contact indices that happen (a ``Schedule.chosen``).
    link_pairs : array_like of int, shape (n_links, 2)
        Station indices of each link's two ends.
    duration_s : float
        Span length; days are ``[k * 86400, (k + 1) * 86400)`` from the start.
    weights : array_like, shape (n_links,), optional
        Water-filling weights of links that compete for one pool (default equal).
    key_store_bits : None, float or array_like, shape (n_satellites,)
        Cap on the key a satellite holds over all its pools (None = unlimited).
    """
    problem = _problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites)
    delivered, bound, ledger, log, pool = _run(problem, lambda e: problem.key[e:e + 1], 1, record=True)
    link, t_s, bits, latency = _latencies(log)
    pairs = np.asarray(link_pairs, dtype=np.int64).reshape(-1, 2)
    chosen = np.asarray(chosen, dtype=np.int64)
    per_station = np.bincount(contacts.station[chosen], weights=contacts.key_bits[chosen],
                              minlength=max(contacts.n_stations, int(pairs.max(initial=-1)) + 1))
    compact = {int(s): k for k, s in enumerate(problem.stations)}
    served: dict = {}
    for entry in log["deliveries"]:
        served.setdefault(entry[0], set()).add(entry[4])
    remaining = np.zeros((len(pairs), 2))
    for i in range(len(pairs)):
        satellites = sorted(served.get(i, ()))
        for side in (0, 1):
            remaining[i, side] = pool[satellites, compact[int(pairs[i, side])], 0].sum()
    return RelayResult(delivered[:, :, 0].sum(axis=1), delivered[:, :, 0], link, t_s, bits, latency,
                       bound, per_station[pairs] if pairs.size else np.zeros((0, 2)), remaining,
                       **{k: v[:, 0] for k, v in ledger.items()})


def station_nights(contacts: Contacts, longitude_deg, clear_sky_probability=1.0,
                   start_utc: dt.datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The station-night of each contact and each night's clear-sky probability.

    A night runs from local noon to local noon in mean solar time (longitude / 15 h from
    UTC); it is dated by its evening, days counted from the UTC date of ``start_utc``.

    Parameters
    ----------
    longitude_deg : array_like, shape (n_stations,)
    clear_sky_probability : float, or array_like, shape (n_stations,) or (n_stations, 12)
        Annual, per station, or per station and calendar month (January first).
        Monthly values need ``start_utc``.
    start_utc : datetime, optional
        The instant ``t_s = 0``; without it the span is taken to start at 00:00 UTC.

    Returns
    -------
    night_id : ndarray of int, shape (n_contacts,)
    night_probability : ndarray, shape (n_nights,)
    """
    lon = (np.asarray(longitude_deg, dtype=float).ravel() + 180.0) % 360.0 - 180.0
    n_st = lon.size
    prob = np.asarray(clear_sky_probability, dtype=float)
    if prob.ndim == 0 or prob.shape == (n_st,):
        prob = np.broadcast_to(prob.reshape(-1, 1) if prob.ndim else prob, (n_st, 12))
    elif prob.shape != (n_st, 12):
        raise ValueError(f"clear_sky_probability: one value, one per station ({n_st}) or "
                         f"12 monthly values per station expected, found shape {prob.shape}")
    if np.any(~(prob >= 0)) or np.any(prob > 1):
        raise ValueError("clear_sky_probability values must lie in [0, 1]")
    monthly = np.any(prob != prob[:, :1])
    if monthly and start_utc is None:
        raise ValueError("monthly clear_sky_probability needs start_utc")
    if start_utc is not None:
        start_utc = start_utc.astimezone(dt.UTC)
        day_s = start_utc.hour * 3600.0 + start_utc.minute * 60.0 + start_utc.second + start_utc.microsecond * 1e-6
    else:
        day_s = 0.0
    st = contacts.station
    local_s = contacts.end_s + day_s + lon[st] * 240.0
    night = np.floor((local_s - DAY_S / 2) / DAY_S).astype(np.int64)
    pairs, night_id = np.unique(np.stack([st, night], axis=1), axis=0, return_inverse=True) if len(contacts) \
        else (np.zeros((0, 2), np.int64), np.zeros(0, np.int64))
    if start_utc is not None:
        evening = np.datetime64(start_utc.date(), "D") + pairs[:, 1]
        month = evening.astype("datetime64[M]").astype(np.int64) % 12
    else:
        month = np.zeros(len(pairs), np.int64)
    return night_id.ravel(), prob[pairs[:, 0], month] if len(pairs) else np.zeros(0)


@dataclass
class WeatherResult:
    """Monte Carlo over cloudy nights: delivered bits per link, day and run."""

    daily_bits: np.ndarray  # (n_links, n_days, runs)
    acquired_bits: np.ndarray  # (n_satellites, runs)
    spent_bits: np.ndarray
    remaining_bits: np.ndarray
    overflow_bits: np.ndarray

    @property
    def total_bits(self) -> np.ndarray:
        """(n_links, runs)"""
        return self.daily_bits.sum(axis=1)


def relay_weather(contacts: Contacts, chosen, link_pairs, duration_s: float, night_id, night_probability, *,
                  runs: int = 1000, seed: int = 0, weights=None, key_store_bits=None,
                  n_satellites: int | None = None) -> WeatherResult:
    """The relay of :func:`relay_key` under ``runs`` seeded draws of clear/cloudy nights.

    ``night_id`` (per contact) and ``night_probability`` come from :func:`station_nights`.
    Each run draws one Bernoulli per station-night; a cloudy night zeroes the key of its
    contacts. Same seed, same inputs: identical results.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    problem = _problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites)
    rng = np.random.default_rng(seed)
    clear = rng.random((len(night_probability), runs)) < np.asarray(night_probability)[:, None]
    event_night = np.asarray(night_id)[problem.events]
    delivered, _, ledger, _, _ = _run(problem, lambda e: problem.key[e] * clear[event_night[e]], runs,
                                  record=False)
    return WeatherResult(delivered, **ledger)


def expected_pair_relay_bits(key_a_bits, key_b_bits, p_a, p_b):
    """Analytic mean relay key of independent single-pass pairs: ``p_a p_b min(K_a, K_b)``.

    Exact when each delivery pairs one contact at each end on nights with independent
    weather and no key is carried to later deliveries (e.g. one satellite per pair).
    """
    return np.asarray(p_a) * np.asarray(p_b) * np.minimum(key_a_bits, key_b_bits)


# --- the whole network ------------------------------------------------------------------


@dataclass
class LinkReport:
    a: str
    b: str
    gateway_a: str
    gateway_b: str
    distance_km: float
    relayed_bits: float  # clear sky, between the gateways
    key_bits: float  # clear sky, end to end (after fibre tails)
    clear_sky_key_bits_per_day: float
    key_bits_per_day: float  # expected under weather (clear sky without weather)
    key_bits_per_day_p10: float
    key_bits_per_day_stderr: float
    deliveries: int
    median_latency_h: float | None
    max_latency_h: float | None
    limiting_station: str | None
    limited_by: str  # "relay", "fibre" or "no key"
    required_key_bits_per_day: float | None
    required_max_latency_h: float | None
    daily_bits: np.ndarray  # clear sky, (n_days,)
    daily_expected_bits: np.ndarray
    daily_p10_bits: np.ndarray
    # Longest wait for fresh key: the largest gap between deliveries, span edges included
    # (0 for a fibre-only link, the whole span without any delivery).
    max_delivery_gap_h: float | None = None

    @property
    def meets_demand(self) -> bool | None:
        if self.required_key_bits_per_day is None:
            return None
        return self.key_bits_per_day >= self.required_key_bits_per_day

    @property
    def meets_latency(self) -> bool | None:
        if self.required_max_latency_h is None:
            return None
        return self.max_latency_h is not None and self.max_latency_h <= self.required_max_latency_h


@dataclass
class NetworkPlan:
    schedule: Schedule
    relay: RelayResult
    weather: WeatherResult | None
    links: list[LinkReport]
    duration_s: float
    n_days: int
    start_utc: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)


def _by_name(value, names: list[str], default, what: str) -> list:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{what}: unknown station {unknown[0]!r}; stations are {', '.join(names)}")
        return [value.get(n, default) for n in names]
    return [value] * len(names)


def _fibre_tails(ends: list[str], station_names: list[str], city_names: list[str], fibre) -> dict:
    """city -> (gateway station, key_rate_bps): the fastest fibre from each city to a station."""
    tails: dict = {}
    for f in fibre:
        if f.key_rate_bps < 0 or not math.isfinite(f.key_rate_bps):
            raise ValueError(f"fibre {f.a}-{f.b}: key_rate_bps must be finite and >= 0")
        for city, other in ((f.a, f.b), (f.b, f.a)):
            faster = city not in tails or f.key_rate_bps > tails[city][1]
            if city in city_names and other in station_names and faster:
                tails[city] = (other, float(f.key_rate_bps))
    for end in ends:
        if end not in station_names and end not in tails:
            known = ", ".join(station_names + city_names)
            raise ValueError(f"link end {end!r} is neither a satellite station nor a city with a "
                             f"[[fibre]] to one; known: {known}")
    return tails


def plan_network(contacts: Contacts, stations: Sequence, links: Sequence[Link], duration_s: float, *,
                 cities: Sequence = (), fibre: Sequence[Fibre] = (), telescopes=1,
                 satellite_terminals: int | None = None, key_store_bits=None,
                 clear_sky_probability=None, start_utc: dt.datetime | None = None,
                 runs: int = 1000, seed: int = 0, n_satellites: int | None = None) -> NetworkPlan:
    """Schedule the stations, relay key over the links, apply fibre tails and weather.

    Parameters
    ----------
    contacts : Contacts
        Candidate contacts; ``contacts.station`` indexes ``stations``.
    stations : sequence of Station
        Satellite ground stations (``name``, ``latitude_deg``, ``longitude_deg``).
    links : sequence of Link
    duration_s : float
    cities : sequence of Station
        Sites reached only by fibre (coordinates for ``distance_km``).
    fibre : sequence of Fibre
    telescopes : int or mapping name -> int
    satellite_terminals : None or int
    key_store_bits : None, float or sequence per satellite index
    clear_sky_probability : None, float, or mapping name -> float or 12 monthly values
        None: no weather (expected = clear sky, no Monte Carlo). Otherwise ``runs``
        realisations with ``seed`` (stations not named are always clear).
    start_utc : datetime, optional
        Scenario start; dates the nights (monthly probabilities) and the timeline.
    """
    from ..core.geodesy import site_distance_km

    station_names = [s.name for s in stations]
    for link in links:
        if link.a == link.b:
            raise ValueError(f"link {link.a}-{link.b}: the two ends must differ")
    city_names = [c.name for c in cities]
    sites = {c.name: c for c in cities} | {s.name: s for s in stations}
    tails = _fibre_tails([e for link in links for e in (link.a, link.b)], station_names, city_names, fibre)
    gateway = {n: (tails[n][0] if n in tails and n not in station_names else n) for n in sites}
    tel = np.array(_by_name(telescopes, station_names, 1, "telescopes"), dtype=np.int64)
    sched = schedule(contacts, tel, satellite_terminals, n_stations=len(stations), n_satellites=n_satellites)

    # Links between the same two gateways form one relay channel and split its key.
    demands = [link.required_key_bits_per_day for link in links]
    stated = [d for d in demands if d]
    link_weight = [d if d else (float(np.mean(stated)) if stated else 1.0) for d in demands]
    channel_of: dict = {}
    pairs, channel_weight, link_channel = [], [], []
    for k, link in enumerate(links):
        ga, gb = station_names.index(gateway[link.a]), station_names.index(gateway[link.b])
        if ga == gb:  # both ends behind one gateway: fibre only
            link_channel.append(None)
            continue
        c = channel_of.setdefault(frozenset((ga, gb)), len(pairs))
        if c == len(pairs):
            pairs.append((ga, gb))
            channel_weight.append(0.0)
        channel_weight[c] += link_weight[k]
        link_channel.append(c)
    pairs = np.array(pairs, np.int64).reshape(-1, 2)
    relay = relay_key(contacts, sched.chosen, pairs, duration_s, weights=channel_weight or None,
                      key_store_bits=key_store_bits, n_satellites=n_satellites)
    n_days = relay.daily_bits.shape[1]
    weather = None
    if clear_sky_probability is not None and runs > 0:
        probability = np.array([np.broadcast_to(np.asarray(p, dtype=float), (12,)) for p in
                                _by_name(clear_sky_probability, station_names, 1.0, "clear_sky_probability")])
        lon = np.array([s.longitude_deg for s in stations], dtype=float)
        night_id, night_p = station_nights(contacts, lon, probability, start_utc)
        weather = relay_weather(contacts, sched.chosen, pairs, duration_s, night_id, night_p, runs=runs,
                                seed=seed, weights=channel_weight or None, key_store_bits=key_store_bits,
                                n_satellites=n_satellites)

    day_end_s = np.minimum((np.arange(n_days) + 1) * DAY_S, duration_s)
    span_days = duration_s / DAY_S
    reports = []
    for k, link in enumerate(links):
        fibre_rate = {end: tails[end][1] for end in (link.a, link.b) if end not in station_names}
        capacity = min([r * day_end_s for r in fibre_rate.values()], key=lambda c: c[-1], default=None)
        c = link_channel[k]
        if c is None:
            clear_daily = np.full(n_days, np.inf)
            runs_daily = clear_daily[:, None]
        else:
            share = link_weight[k] / channel_weight[c]
            clear_daily = relay.daily_bits[c] * share
            runs_daily = (weather.daily_bits[c] if weather is not None else relay.daily_bits[c][:, None]) * share
        clear_e2e = _cap_daily(clear_daily[:, None], capacity)[:, 0]
        e2e = _cap_daily(runs_daily, capacity)
        per_day = e2e.sum(axis=0) / span_days
        relayed = float(clear_daily.sum()) if c is not None else 0.0
        median_h, max_h = relay.latency_h(c) if c is not None else (None, None)
        if c is None:
            gap_h = 0.0
        else:
            times = np.sort(relay.delivery_t_s[relay.delivery_link == c])
            gap_h = float(np.diff(np.concatenate([[0.0], times, [duration_s]])).max()) / 3600.0
        if c is None or (capacity is not None and capacity[-1] < relayed):
            limited_by, limiting = "fibre", min(fibre_rate, key=fibre_rate.get)
        else:
            limited_by = "relay" if relayed > 0 else "no key"
            acquired = relay.side_acquired_bits[c]
            limiting = None if relayed == 0 and acquired[0] == acquired[1] else \
                station_names[pairs[c, relay.limiting_side(c)]]
        reports.append(LinkReport(
            a=link.a, b=link.b, gateway_a=gateway[link.a], gateway_b=gateway[link.b],
            distance_km=site_distance_km(sites[link.a], sites[link.b]), relayed_bits=relayed,
            key_bits=float(clear_e2e.sum()), clear_sky_key_bits_per_day=float(clear_e2e.sum()) / span_days,
            key_bits_per_day=float(per_day.mean()), key_bits_per_day_p10=float(np.percentile(per_day, 10)),
            key_bits_per_day_stderr=float(per_day.std(ddof=1) / math.sqrt(per_day.size)) if per_day.size > 1 else 0.0,
            deliveries=int(np.sum(relay.delivery_link == c)) if c is not None else 0,
            median_latency_h=median_h, max_latency_h=max_h, limiting_station=limiting, limited_by=limited_by,
            required_key_bits_per_day=link.required_key_bits_per_day, required_max_latency_h=link.max_latency_h,
            daily_bits=clear_e2e, daily_expected_bits=e2e.mean(axis=1), daily_p10_bits=np.percentile(e2e, 10, axis=1),
            max_delivery_gap_h=gap_h))
    notes = [f"schedule: {sched.method}, {sched.key_bits:.0f} bits vs FCFS {sched.baseline_key_bits:.0f} bits"]
    return NetworkPlan(sched, relay, weather, reports, duration_s, n_days, start_utc, notes)


def _cap_daily(daily: np.ndarray, capacity) -> np.ndarray:
    """End-to-end key per day: ``min(cumulative relayed, cumulative fibre)`` at each day end."""
    if capacity is None:
        return daily
    reached = np.minimum(np.cumsum(daily, axis=0), capacity[:, None])
    return np.diff(reached, axis=0, prepend=0.0)


def link_rows(plan: NetworkPlan) -> list[dict]:
    """One row per link for tables (no NaN: missing latency is None)."""
    rows = []
    for r in plan.links:
        rows.append({
            "a": r.a, "b": r.b, "distance_km": round(r.distance_km, 1),
            "key_bits_per_day": round(r.key_bits_per_day, 1),
            "key_bits_per_day_p10": round(r.key_bits_per_day_p10, 1),
            "clear_sky_key_bits_per_day": round(r.clear_sky_key_bits_per_day, 1),
            "key_bits": round(r.key_bits), "deliveries": r.deliveries,
            "median_latency_h": None if r.median_latency_h is None else round(r.median_latency_h, 3),
            "max_latency_h": None if r.max_latency_h is None else round(r.max_latency_h, 3),
            "max_delivery_gap_h": None if r.max_delivery_gap_h is None else round(r.max_delivery_gap_h, 3),
            "limiting_station": r.limiting_station, "limited_by": r.limited_by,
            "gateway_a": r.gateway_a, "gateway_b": r.gateway_b,
            "required_key_bits_per_day": r.required_key_bits_per_day, "meets_demand": r.meets_demand,
            "required_max_latency_h": r.required_max_latency_h, "meets_latency": r.meets_latency,
        })
    return rows


def timeline_rows(plan: NetworkPlan) -> list[dict]:
    """Key delivered per link and day (days counted from the start; dated when known)."""
    rows = []
    for r in plan.links:
        for d in range(plan.n_days):
            row = {"a": r.a, "b": r.b, "day": d}
            if plan.start_utc is not None:
                begin = plan.start_utc.astimezone(dt.UTC) + dt.timedelta(days=d)
                row["day_start_utc"] = begin.strftime("%Y-%m-%dT%H:%M:%SZ")
            row.update({"key_bits": round(float(r.daily_bits[d])), "expected_key_bits": round(float(r.daily_expected_bits[d]), 1),
                        "p10_key_bits": round(float(r.daily_p10_bits[d]), 1)})
            rows.append(row)
    return rows
