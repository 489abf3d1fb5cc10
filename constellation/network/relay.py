"""Trusted relay: key a satellite shares with two stations, XORed into key between them.

Events are replayed in time order over per-satellite, per-station key pools, with
weighted water-filling between links that compete for a pool and a ledger per satellite
(``acquired = 2 * relayed + remaining + overflow``). The rules are stated once, in
:mod:`constellation.network`; :mod:`.weather` replays the same events under clouds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..constants import DAY_S
from .contacts import Contacts


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
class RelayProblem:
    """The relay events, in time order, and the links they serve (built by :func:`relay_problem`).

    Stations are renumbered compactly among the link stations; per event the satellite,
    compact station, day and key are lists or arrays of length ``n_events``.
    """

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
    sat_weights: np.ndarray | None = None  # (n_sat, n_links): per-satellite water-filling weights


def _n_days(duration_s: float) -> int:
    """Days of the span, counting a part day (at least one)."""
    return max(1, math.ceil(duration_s / DAY_S - 1e-9))


def relay_problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites) -> RelayProblem:
    """Check the links, weights and key stores (ValueError) and order the chosen contacts at
    link stations by window end: the events of :func:`play_relay` (arguments as :func:`relay_key`)."""
    pairs = np.asarray(link_pairs, dtype=np.int64).reshape(-1, 2)
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise ValueError("a relay link needs two different stations")
    if len({tuple(sorted(p)) for p in pairs.tolist()}) != len(pairs):
        raise ValueError("each station pair may appear in one link only")
    n_links = len(pairs)
    w = np.ones(n_links) if weights is None else np.asarray(weights, dtype=float)
    sat_weights = None
    if w.ndim == 2:  # per satellite and link: the schedule's planned split of each satellite's key
        if w.shape[1] != n_links or np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise ValueError("per-satellite link weights: shape (n_satellites, n_links), positive and finite")
        sat_weights, w = w, w.mean(axis=0)
    w = w.reshape(n_links)
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
    if sat_weights is not None and sat_weights.shape[0] < n_sat:
        raise ValueError(f"per-satellite link weights: one row per satellite ({n_sat}) expected")
    return RelayProblem(events, contacts.satellite[events].tolist(),
                        [compact[int(s)] for s in contacts.station[events]], day.tolist(), time_s,
                        contacts.key_bits[events], links_at, stations, n_sat, n_links, n_days, capacity,
                        sat_weights)


def play_relay(p: RelayProblem, key_runs, runs: int, record: bool):
    """Play the events; ``key_runs(e)`` gives the key of event e in each run, shape (runs,).

    Returns ``(delivered, bound, ledger, log, pool)``: bits per link, day and run
    ``(n_links, n_days, runs)``; bits bound by each side ``(n_links, 2)`` (with ``record``);
    the ledger per satellite and run; the event log (with ``record``, run 0); the pools
    left ``(n_sat, n_link_stations, runs)``.
    """
    pool = np.zeros((p.n_sat, len(p.stations), runs))
    store = np.zeros((p.n_sat, runs))
    acquired = np.zeros((p.n_sat, runs))
    overflow = np.zeros((p.n_sat, runs))
    spent = np.zeros((p.n_sat, runs))
    delivered = np.zeros((p.n_links, p.n_days, runs))
    bound = np.zeros((p.n_links, 2))
    log = {"deposits": {}, "withdrawn": {}, "deliveries": []}
    earmarked = np.zeros((p.n_sat, p.n_links, 2, runs)) if p.sat_weights is not None else None
    for e in range(len(p.events)):
        s, g, day = p.sat[e], p.gateway[e], p.day[e]
        key = key_runs(e)
        ids, partners, weights, sides = p.links_at[g]
        old = pool[s, g].copy()
        pool_partners = pool[s, partners]
        if earmarked is None:
            caps = pool_partners
            d = _waterfill(old + key, caps, weights)
        else:  # the plan's share of the new key is set aside for each link; a link spends only its own
            share = p.sat_weights[s, ids] / p.sat_weights[s, ids].sum()
            own = earmarked[s, ids, sides] + share[:, None] * key
            caps = earmarked[s, ids, 1 - sides]
            d = np.minimum(own, caps)
            earmarked[s, ids, sides] = own - d
            earmarked[s, ids, 1 - sides] = caps - d
        used = d.sum(axis=0)
        spent[s] += 2.0 * used
        pool[s, partners] = pool_partners - d
        from_old = np.minimum(used, old)
        fresh_left = np.maximum(key - (used - from_old), 0.0)
        store[s] -= from_old + used
        kept = np.minimum(fresh_left, np.maximum(p.capacity[s] - store[s], 0.0))
        store[s] += kept
        overflow[s] += fresh_left - kept
        if earmarked is not None:  # key the store could not keep leaves every link's set-aside share
            earmarked[s, ids, sides] = np.maximum(earmarked[s, ids, sides] - share[:, None] * (fresh_left - kept), 0.0)
        acquired[s] += key
        pool[s, g] = old - from_old + kept
        delivered[ids, day] += d
        if record:
            _record(log, bound, float(p.time_s[e]), s, g, float(key[0] - (fresh_left - kept)[0]), d[:, 0],
                    caps[:, 0], p.links_at[g])
    ledger = {"acquired_bits": acquired, "spent_bits": spent, "remaining_bits": pool.sum(axis=1),
              "overflow_bits": overflow}
    return delivered, bound, ledger, log, pool


def _record(log: dict, bound: np.ndarray, t: float, s: int, g: int, deposited_bits: float, bits: np.ndarray,
            caps: np.ndarray, links_at) -> None:
    """Log one clear-sky event (run 0) for latencies and limiting sides.

    Satellite ``s`` at compact station ``g`` at time ``t`` kept ``deposited_bits`` of new key
    and delivered ``bits`` (one per link at ``g``) against partner pools of ``caps`` bits.
    """
    ids, partners, _, sides = links_at
    log["deposits"].setdefault((s, g), []).append((t, deposited_bits))
    partner_bound = bits >= caps
    bound[ids, np.where(partner_bound, 1 - sides, sides)] += bits
    for i, y, delivered in zip(ids.tolist(), partners.tolist(), bits.tolist()):
        if delivered <= 0:
            continue
        positions = []
        for key_pool in ((s, g), (s, y)):
            before = log["withdrawn"].get(key_pool, 0.0)
            log["withdrawn"][key_pool] = before + delivered
            positions.append((key_pool, before))
        log["deliveries"].append((i, t, delivered, positions, s))


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


def _contact_spending(p: RelayProblem, log) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (contact, link): bits of that contact's key spent in the link's deliveries.

    A post-pass over the clear-sky log (run 0), outside the event loop. The deposits of
    pool (satellite, station) are logged in event order, one per event, so the k-th deposit
    is the k-th event of that satellite at that station; a delivery withdraws the range
    ``[before, before + bits)`` of the pool's cumulative deposits (oldest key first, as for
    latency), which is split over the deposits it overlaps. Returns parallel arrays
    ``(contact, link, bits)``, contacts as indices of the Contacts, bits > 0. Summed over
    links, a contact's spent key counts both ends of every delivery it fed; over all
    contacts it is ``spent_bits`` (= 2 x relayed) up to rounding.
    """
    contact_of: dict = {}
    for e, key_pool in enumerate(zip(p.sat, p.gateway)):
        contact_of.setdefault(key_pool, []).append(int(p.events[e]))
    cumulative = {k: np.cumsum([amount for _, amount in items]) for k, items in log["deposits"].items()}
    spent: dict = {}
    for i, _, bits, positions, _ in log["deliveries"]:
        for key_pool, before in positions:
            cum, contacts = cumulative[key_pool], contact_of[key_pool]
            lo, hi = before, before + bits
            j = int(np.searchsorted(cum, lo, side="right"))
            while j < cum.size:
                take = min(float(cum[j]), hi) - max(float(cum[j - 1]) if j else 0.0, lo)
                if take > 0:
                    spent[(contacts[j], i)] = spent.get((contacts[j], i), 0.0) + take
                if cum[j] >= hi:
                    break
                j += 1
    if not spent:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    (contact, link), bits = zip(*spent), list(spent.values())
    return np.array(contact, np.int64), np.array(link, np.int64), np.array(bits, float)


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
    # Per (contact, link) with bits > 0: the contact's key spent in the link's deliveries
    # (oldest key first; both ends of a delivery count). See _contact_spending.
    spent_contact: np.ndarray | None = None
    spent_link: np.ndarray | None = None
    spent_contact_bits: np.ndarray | None = None

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
    weights : array_like, shape (n_links,) or (n_satellites, n_links), optional
        Water-filling weights of links that compete for one pool (default equal); per
        satellite, the split the schedule planned for each satellite's key.
    key_store_bits : None, float or array_like, shape (n_satellites,)
        Cap on the key a satellite holds over all its pools (None = unlimited).
    n_satellites : int, optional
        Satellites in the scenario, when the contacts do not name the last ones.
    """
    problem = relay_problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites)
    delivered, bound, ledger, log, pool = play_relay(problem, lambda e: problem.key[e:e + 1], 1, record=True)
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
    spent_contact, spent_link, spent_contact_bits = _contact_spending(problem, log)
    return RelayResult(delivered[:, :, 0].sum(axis=1), delivered[:, :, 0], link, t_s, bits, latency,
                       bound, per_station[pairs] if pairs.size else np.zeros((0, 2)), remaining,
                       **{k: v[:, 0] for k, v in ledger.items()}, spent_contact=spent_contact,
                       spent_link=spent_link, spent_contact_bits=spent_contact_bits)
