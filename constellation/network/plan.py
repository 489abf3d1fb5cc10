"""The whole network at once: schedule, relay over the links, fibre tails, weather, per-link report.

``plan_relay(contacts, stations, links, duration_s, ...) -> NetworkPlan``, then
``link_rows(plan)`` and ``timeline_rows(plan)`` for tables. The steps are the modules of
this package (contacts -> schedule -> relay -> weather); the rules, links and weights and
fibre included, are stated once, in :mod:`constellation.network`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..constants import DAY_S
from ..core.geodesy import site_distance_km
from ..scenario.model import Fibre, Link
from .contacts import Contacts, make_contacts
from .entangled import EntanglementInput, EntanglementResult, deliver_entanglement, free_of_windows
from .relay import RelayResult, relay_key
from .schedule import Schedule, schedule
from .weather import WeatherResult, night_table, relay_weather


@dataclass
class LinkReport:
    """One link end to end: key per day (clear sky, expected, P10), latency, what limits it."""

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
    mode: str = "relay"
    relay_key_bits: float = 0.0          # clear sky, end to end, by trusted relay
    entanglement_key_bits: float = 0.0   # clear sky, by entanglement (no trusted node)
    trusted_nodes: str = ""              # ";"-separated satellites and gateway stations that saw the key

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
    """What :func:`plan_relay` decided and found: the schedule, the relay, the weather runs
    (None without weather) and one :class:`LinkReport` per link, in the links' order."""

    schedule: Schedule
    relay: RelayResult
    weather: WeatherResult | None
    links: list[LinkReport]
    duration_s: float
    n_days: int
    start_utc: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    contacts: Contacts | None = None  # the candidates ``schedule.chosen`` indexes
    link_pairs: np.ndarray | None = None  # (n_channels, 2) gateway station indices of the relay
    entanglement: EntanglementResult | None = None


def plan_relay(contacts: Contacts, stations: Sequence, links: Sequence[Link], duration_s: float, *,
                 cities: Sequence = (), fibre: Sequence[Fibre] = (), telescopes=1,
                 satellite_terminals: int | None = None, key_store_bits=None,
                 clear_sky_probability=None, start_utc: dt.datetime | None = None, clear_sky_persistence=None,
                 runs: int = 1000, seed: int = 0, n_satellites: int | None = None,
                 retarget_s: float = 0.0, min_contact_s: float = 0.0, schedule_time_limit_s: float = 60.0,
                 entanglement: EntanglementInput | None = None, satellite_names: Sequence[str] | None = None) -> NetworkPlan:
    """Schedule the stations, relay key over the links, apply fibre tails and weather.

    Parameters
    ----------
    contacts : Contacts
        Candidate contacts; ``contacts.station`` indexes ``stations``.
    stations : sequence of Station
        Satellite ground stations (``name``, ``latitude_deg``, ``longitude_deg``).
    links : sequence of Link
        Station or city pairs that want key (names), with optional demand and latency.
    duration_s : float
        Span length (s); days are counted from its start.
    cities : sequence of Station
        Sites reached only by fibre (coordinates for ``distance_km``).
    fibre : sequence of Fibre
        Fibre tails from cities to satellite stations.
    telescopes : int or mapping name -> int
        Satellites a station can track at once (stations not named: 1).
    satellite_terminals : None, int or sequence per satellite index
        Stations a satellite can serve at once (its optical terminals); None = no limit.
    retarget_s, min_contact_s, schedule_time_limit_s : float
        Re-pointing time of a telescope or terminal between contacts, the shortest contact
        flown, and HiGHS's time on the scheduling programme (:func:`~.schedule.schedule`).
    key_store_bits : None, float or sequence per satellite index
        Key a satellite can hold over all its pools; None = unlimited.
    clear_sky_probability : None, float, or mapping name -> float or 12 monthly values
        None: no weather (expected = clear sky, no Monte Carlo). Otherwise ``runs``
        realisations with ``seed`` (stations not named are always clear).
    clear_sky_persistence : None, float, or mapping name -> float
        Lag-1 correlation in [0, 1] of each station's clear/cloudy state between consecutive
        nights (stations not named, or None: 0, independent nights); see
        :func:`~constellation.network.weather.clear_nights`.
    start_utc : datetime, optional
        Scenario start; dates the nights (monthly probabilities) and the timeline.
    runs : int
        Weather realisations (0: no weather).
    seed : int
        Seed of the weather draws: same seed, same inputs, identical plan.
    n_satellites : int, optional
        Satellites in the scenario (the contacts may not name the last ones).
    entanglement : EntanglementInput, optional
        Dual windows for the links with ``mode`` "entanglement" or "both": taken first
        (:mod:`~constellation.network.entangled`), the relay contacts they block dropped.
    satellite_names : sequence of str, optional
        For ``trusted_nodes``.

    Raises ValueError for links, stations or fibre that do not fit together.
    """
    sites = _sites(stations, links, cities, fibre)
    tel = np.array(_by_name(telescopes, sites.station_names, 1, "telescopes"), dtype=np.int64)
    channels = _channels(links, sites)

    def plan(entangled_links):
        """Schedule, relay and weather with dual windows for ``entangled_links`` first."""
        ent, flown = None, contacts
        if entanglement is not None and entangled_links:
            probability, persistence, lon = _weather_tables(stations, clear_sky_probability, clear_sky_persistence)
            ent = deliver_entanglement(entanglement.restricted(entangled_links), len(links), duration_s, tel,
                                       retarget_s=retarget_s, longitude_deg=lon, clear_sky_probability=probability,
                                       clear_sky_persistence=persistence, start_utc=start_utc, runs=runs, seed=seed)
            keep = free_of_windows(contacts, entanglement, ent.chosen, retarget_s)
            flown = make_contacts(contacts.satellite[keep], contacts.station[keep], contacts.start_s[keep],
                                  contacts.end_s[keep], contacts.key_bits[keep], contacts.pass_index[keep])
        sched = schedule(flown, tel, satellite_terminals, retarget_s=retarget_s, min_contact_s=min_contact_s,
                         link_pairs=channels.pairs, link_weights=channels.weight or None,
                         time_limit_s=schedule_time_limit_s, n_stations=len(stations), n_satellites=n_satellites)
        relay = relay_key(flown, sched.chosen, channels.pairs, duration_s, weights=_relay_weights(sched, channels),
                          key_store_bits=key_store_bits, n_satellites=n_satellites)
        weather = None
        if clear_sky_probability is not None and runs > 0:
            weather = _weather(flown, stations, sched, channels, duration_s, clear_sky_probability, start_utc,
                               clear_sky_persistence,
                               runs=runs, seed=seed, key_store_bits=key_store_bits, n_satellites=n_satellites)
        reports = [_link_report(k, link, sites, channels, relay, weather, duration_s, ent, entanglement, flown,
                                satellite_names) for k, link in enumerate(links)]
        return sched, relay, weather, ent, flown, reports

    only = {k for k, link in enumerate(links) if link.mode == "entanglement"}
    both = {k for k, link in enumerate(links) if link.mode == "both"}
    sched, relay, weather, ent, flown, reports = plan(only | both)
    if entanglement is not None and both:
        # Links served both ways fly their dual windows only where that pays: the plan
        # without them is kept when it gives those links more key in all (clear sky).
        without = plan(only)
        if sum(without[5][k].key_bits for k in both) > sum(reports[k].key_bits for k in both):
            sched, relay, weather, ent, flown, reports = without
    gap = "" if sched.gap is None else f", gap {100 * sched.gap:.2f} %"
    notes = [f"schedule: {sched.method}{gap}, {sched.key_bits:.0f} bits vs FCFS {sched.baseline_key_bits:.0f} bits"]
    if ent is not None:
        notes.append(f"entanglement: {ent.chosen.size} dual windows flown in {ent.block_link.size} blocks, "
                     f"{float(ent.key_bits.sum()):.0f} bits")
    return NetworkPlan(sched, relay, weather, reports, duration_s, relay.daily_bits.shape[1], start_utc, notes,
                       contacts=flown, link_pairs=channels.pairs, entanglement=ent)


@dataclass(frozen=True)
class _Sites:
    """Where each link end enters the satellite network."""

    station_names: list[str]
    sites: dict  # name -> Station, cities and satellite stations
    tails: dict  # city -> (gateway station name, key_rate_bps)
    gateway: dict  # site name -> the satellite station its key goes through


def _sites(stations, links, cities, fibre) -> _Sites:
    """Check the links and fibre (ValueError) and find each site's gateway station."""
    station_names = [s.name for s in stations]
    for link in links:
        if link.a == link.b:
            raise ValueError(f"link {link.a}-{link.b}: the two ends must differ")
    city_names = [c.name for c in cities]
    sites = {c.name: c for c in cities} | {s.name: s for s in stations}
    tails = _fibre_tails([e for link in links for e in (link.a, link.b)], station_names, city_names, fibre)
    gateway = {n: (tails[n][0] if n in tails and n not in station_names else n) for n in sites}
    return _Sites(station_names, sites, tails, gateway)


def _by_name(value, names: list[str], default, what: str) -> list:
    """``value`` per name: a mapping name -> value (others ``default``), or one value for all."""
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


@dataclass(frozen=True)
class _Channels:
    """Relay channels: the links between the same two gateways share one."""

    pairs: np.ndarray  # (n_channels, 2) gateway station indices
    weight: list[float]  # per channel, the sum of its links' weights
    link_weight: list[float]  # per link
    of_link: list[int | None]  # channel of each link; None: both ends behind one gateway


def _channels(links, sites: _Sites) -> _Channels:
    """Weigh the links by demand and group them into relay channels."""
    demands = [link.required_key_bits_per_day if link.relayed else None for link in links]
    stated = [d for d in demands if d]
    link_weight = [d if d else (float(np.mean(stated)) if stated else 1.0) for d in demands]
    channel_of: dict = {}
    pairs, channel_weight, link_channel = [], [], []
    for k, link in enumerate(links):
        if not link.relayed:  # entanglement only: no relay channel
            link_channel.append(None)
            continue
        ga = sites.station_names.index(sites.gateway[link.a])
        gb = sites.station_names.index(sites.gateway[link.b])
        if ga == gb:  # both ends behind one gateway: fibre only
            link_channel.append(None)
            continue
        c = channel_of.setdefault(frozenset((ga, gb)), len(pairs))
        if c == len(pairs):
            pairs.append((ga, gb))
            channel_weight.append(0.0)
        channel_weight[c] += link_weight[k]
        link_channel.append(c)
    return _Channels(np.array(pairs, np.int64).reshape(-1, 2), channel_weight, link_weight, link_channel)


def _relay_weights(sched: Schedule, channels: _Channels):
    """Water-filling weights of the relay: per satellite, the schedule's planned split of its key
    between channels (a millionth of each channel's demand weight added, so that key the plan
    did not foresee still flows); the channels' demand weights without a plan."""
    if not channels.weight:
        return None
    weight = np.asarray(channels.weight, dtype=float)
    planned = sched.planned_bits
    if planned is None or planned.size == 0:
        return weight
    planned = np.nan_to_num(np.clip(planned, 0.0, None))  # the LP's round-off (-1e-12) is no plan
    per_satellite = planned.T / np.maximum(planned.sum(axis=0), 1.0)[:, None]  # (n_sat, n_channels)
    return per_satellite + 1e-6 * weight / weight.sum()


def _weather_tables(stations, clear_sky_probability, clear_sky_persistence):
    """Per station: monthly clear-sky probabilities (n, 12) or None, persistence (n,), longitude (n,)."""
    station_names = [s.name for s in stations]
    lon = np.array([s.longitude_deg for s in stations], dtype=float)
    persistence = np.array(_by_name(0.0 if clear_sky_persistence is None else clear_sky_persistence,
                                    station_names, 0.0, "clear_sky_persistence"), dtype=float)
    if clear_sky_probability is None:
        return None, persistence, lon
    probability = np.array([np.broadcast_to(np.asarray(p, dtype=float), (12,)) for p in
                            _by_name(clear_sky_probability, station_names, 1.0, "clear_sky_probability")])
    return probability, persistence, lon


def _weather(contacts, stations, sched: Schedule, channels: _Channels, duration_s, clear_sky_probability,
             start_utc, clear_sky_persistence=None, *, runs, seed, key_store_bits, n_satellites) -> WeatherResult:
    """The channels' relay under ``runs`` draws of each station's clear nights (a Markov
    chain per station when it has a persistence)."""
    station_names = [s.name for s in stations]
    probability = np.array([np.broadcast_to(np.asarray(p, dtype=float), (12,)) for p in
                            _by_name(clear_sky_probability, station_names, 1.0, "clear_sky_probability")])
    persistence = np.array(_by_name(0.0 if clear_sky_persistence is None else clear_sky_persistence,
                                    station_names, 0.0, "clear_sky_persistence"), dtype=float)
    lon = np.array([s.longitude_deg for s in stations], dtype=float)
    nights = night_table(contacts, lon, probability, start_utc, persistence)
    return relay_weather(contacts, sched.chosen, channels.pairs, duration_s, nights.night_id, nights.probability,
                         runs=runs, seed=seed, weights=_relay_weights(sched, channels), key_store_bits=key_store_bits,
                         n_satellites=n_satellites, nights=nights)


def _link_report(k: int, link: Link, sites: _Sites, channels: _Channels, relay: RelayResult,
                 weather: WeatherResult | None, duration_s: float, ent: EntanglementResult | None = None,
                 ent_input: EntanglementInput | None = None, contacts: Contacts | None = None,
                 satellite_names: Sequence[str] | None = None) -> LinkReport:
    """Link ``k`` end to end: its share of its relay channel, capped by its fibre tails, plus
    what entanglement delivered to it, per day."""
    n_days = relay.daily_bits.shape[1]
    day_end_s = np.minimum((np.arange(n_days) + 1) * DAY_S, duration_s)
    span_days = duration_s / DAY_S
    fibre_rate = {end: sites.tails[end][1] for end in (link.a, link.b) if end not in sites.station_names}
    capacity = min([r * day_end_s for r in fibre_rate.values()], key=lambda c: c[-1], default=None)
    c = channels.of_link[k]
    if link.relayed:
        clear_daily, runs_daily = _link_daily_bits(k, channels, relay, weather, n_days)
        clear_e2e = _cap_daily(clear_daily[:, None], capacity)[:, 0]
        e2e = _cap_daily(runs_daily, capacity)
    else:
        clear_e2e, e2e = np.zeros(n_days), np.zeros((n_days, 1))
    relay_bits = float(clear_e2e.sum())
    entangled_bits = 0.0
    ent_times = np.zeros(0)
    latencies = relay.delivery_latency_s[relay.delivery_link == c] if c is not None else np.zeros(0)
    if ent is not None and link.entangled:
        ent_daily = ent.daily_bits[k][:n_days]
        ent_runs = ent.daily_runs_bits[k][:n_days]
        clear_e2e = clear_e2e + ent_daily
        e2e = e2e + ent_runs  # (n_days, runs) + (n_days, runs or 1): each run's relay with its own draw
        entangled_bits = float(ent_daily.sum())
        ent_times = ent.delivery_times_s(k)
        latencies = np.concatenate([latencies, ent.latencies_s(ent_input, k)])
    per_day = e2e.sum(axis=0) / span_days
    relayed = float(relay.daily_bits[c].sum() * channels.link_weight[k] / channels.weight[c]) if c is not None else 0.0
    median_h, max_h = ((float(np.median(latencies)) / 3600.0, float(latencies.max()) / 3600.0)
                       if latencies.size else (None, None))
    if not link.relayed:
        limited_by = "entanglement" if entangled_bits > 0 else "no key"
        limiting = None
    elif c is None or (capacity is not None and capacity[-1] < relayed):
        limited_by, limiting = "fibre", min(fibre_rate, key=fibre_rate.get)
    else:
        limited_by = "relay" if relayed > 0 else ("entanglement" if entangled_bits > 0 else "no key")
        limiting = _limiting_station(relay, c, channels.pairs, sites.station_names, relayed)
    relay_times = relay.delivery_t_s[relay.delivery_link == c] if c is not None else np.zeros(0)
    if c is None and link.relayed and not ent_times.size:
        gap = 0.0  # fibre only: key whenever asked
    else:
        times = np.sort(np.concatenate([relay_times, ent_times]))
        gap = float(np.diff(np.concatenate([[0.0], times, [duration_s]])).max()) / 3600.0
    return LinkReport(
        a=link.a, b=link.b, gateway_a=sites.gateway[link.a], gateway_b=sites.gateway[link.b],
        distance_km=site_distance_km(sites.sites[link.a], sites.sites[link.b]), relayed_bits=relayed,
        key_bits=float(clear_e2e.sum()), clear_sky_key_bits_per_day=float(clear_e2e.sum()) / span_days,
        key_bits_per_day=float(per_day.mean()), key_bits_per_day_p10=float(np.percentile(per_day, 10)),
        key_bits_per_day_stderr=float(per_day.std(ddof=1) / math.sqrt(per_day.size)) if per_day.size > 1 else 0.0,
        deliveries=(int(np.sum(relay.delivery_link == c)) if c is not None else 0) + int(ent_times.size),
        median_latency_h=median_h, max_latency_h=max_h, limiting_station=limiting, limited_by=limited_by,
        required_key_bits_per_day=link.required_key_bits_per_day, required_max_latency_h=link.max_latency_h,
        daily_bits=clear_e2e, daily_expected_bits=e2e.mean(axis=1), daily_p10_bits=np.percentile(e2e, 10, axis=1),
        max_delivery_gap_h=gap, mode=link.mode, relay_key_bits=relay_bits, entanglement_key_bits=entangled_bits,
        trusted_nodes=_trusted_nodes(link, sites, relay, c, contacts, satellite_names))


def _trusted_nodes(link: Link, sites: _Sites, relay: RelayResult, c, contacts, satellite_names) -> str:
    """Satellites whose key the relay spent for channel ``c`` (they held both ends' key) and
    gateway stations that pass a city's key on (";"-separated); entanglement adds none."""
    nodes = []
    if c is not None and relay.spent_contact is not None and contacts is not None:
        used = relay.spent_contact[relay.spent_link == c]
        sats = sorted(set(contacts.satellite[used].tolist()))
        nodes += [satellite_names[s] if satellite_names is not None else f"satellite {s}" for s in sats]
    if link.relayed:
        nodes += [sites.gateway[end] for end in (link.a, link.b) if sites.gateway[end] != end]
    return ";".join(nodes)


def _link_daily_bits(k: int, channels: _Channels, relay: RelayResult, weather: WeatherResult | None, n_days: int):
    """Relayed bits of link ``k`` per day: clear sky ``(n_days,)`` and per weather run
    ``(n_days, runs)`` (runs = 1 without weather); infinite for a fibre-only link."""
    c = channels.of_link[k]
    if c is None:
        clear_daily = np.full(n_days, np.inf)
        return clear_daily, clear_daily[:, None]
    share = channels.link_weight[k] / channels.weight[c]
    clear_daily = relay.daily_bits[c] * share
    runs_daily = (weather.daily_bits[c] if weather is not None else relay.daily_bits[c][:, None]) * share
    return clear_daily, runs_daily


def _limiting_station(relay: RelayResult, c: int, pairs: np.ndarray, station_names: list[str],
                      relayed: float) -> str | None:
    """The end of channel ``c`` whose shared key ran out (None: no key at either end)."""
    acquired = relay.side_acquired_bits[c]
    if relayed == 0 and acquired[0] == acquired[1]:
        return None
    return station_names[pairs[c, relay.limiting_side(c)]]


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
            "mode": r.mode, "relay_key_bits": round(r.relay_key_bits),
            "entanglement_key_bits": round(r.entanglement_key_bits), "trusted_nodes": r.trusted_nodes,
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


SCHEDULE_COLUMNS = ["satellite", "station", "start_utc", "end_utc", "duration_s", "key_bits", "relayed_bits",
                    "links", "links_relayed_bits"]


def schedule_rows(plan: NetworkPlan, satellite_names: Sequence[str], station_names: Sequence[str], *,
                  timebase=None) -> list[dict]:
    """One row per scheduled contact, in order of start (then contact index): who tracks
    whom when, its key, and what the relay made of that key (clear sky).

    Times are UTC ISO-8601 with ``Z`` to the millisecond: through ``timebase`` (a
    :class:`~constellation.core.timebase.TimeBase`, as the pass table, leap seconds
    included) when given, else from ``plan.start_utc``, else seconds since the start.

    ``relayed_bits`` is the contact's key spent in deliveries (pools are spent oldest key
    first, so each delivered bit is traced to the contact that deposited it; both ends of
    a delivery spend their own contact's key). ``links`` names the scenario links
    (``A-B``, ``;``-separated, in the links' order) whose deliveries drew on this contact,
    ``links_relayed_bits`` their parts of ``relayed_bits`` (a relay channel's key is split
    over its links in proportion to their weights, as in ``network.csv``). A contact at a
    station in no link, or whose key was never spent, has ``relayed_bits`` 0 and no links.
    Over the schedule, ``sum(key_bits)`` at link stations = ``sum(relayed_bits)`` + key left
    on the satellites + key a full store discarded, and ``sum(relayed_bits)`` = twice the
    key relayed over the links (each link's ``relayed_bits``, ``key_bits`` of
    ``network.csv`` when no fibre tail limits it).
    """
    contacts = plan.contacts
    if contacts is None:
        return []
    chosen = plan.schedule.chosen
    chosen = chosen[np.lexsort((chosen, contacts.start_s[chosen]))]
    start_utc, end_utc = (_utc_texts(plan, timebase, t) for t in (contacts.start_s[chosen], contacts.end_s[chosen]))
    spent = _spending_by_contact(plan, station_names)
    rows = []
    for k, i in enumerate(chosen.tolist()):
        parts = spent.get(i, {})
        rows.append({
            "satellite": satellite_names[int(contacts.satellite[i])],
            "station": station_names[int(contacts.station[i])],
            "start_utc": start_utc[k], "end_utc": end_utc[k],
            "duration_s": round(float(contacts.end_s[i] - contacts.start_s[i]), 3),
            "key_bits": round(float(contacts.key_bits[i])),
            "relayed_bits": round(float(sum(parts.values())), 1),
            "links": ";".join(parts), "links_relayed_bits": ";".join(f"{b:.1f}" for b in parts.values()),
        })
    return rows


def _utc_texts(plan: NetworkPlan, timebase, t_s: np.ndarray) -> list:
    """UTC ISO-8601 ``Z`` texts (ms) of ``t_s``; seconds when the plan has no date."""
    if timebase is not None:
        return timebase.utc_iso(t_s)
    if plan.start_utc is None:
        return [round(float(t), 3) for t in t_s]
    start = plan.start_utc.astimezone(dt.UTC)
    moments = [start + dt.timedelta(seconds=round(float(t), 3)) for t in t_s]
    return [m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z" for m in moments]


def _spending_by_contact(plan: NetworkPlan, station_names: Sequence[str]) -> dict:
    """contact index -> {"A-B": bits of its key spent for link A-B}, links in the plan's order.

    The relay traces spending per relay channel (``RelayResult.spent_*``); a channel's links
    take their weight shares of it (each link's ``relayed_bits`` over the channel's)."""
    relay = plan.relay
    if relay.spent_contact is None or plan.link_pairs is None:
        return {}
    channel_of = {frozenset(p): c for c, p in enumerate(plan.link_pairs.tolist())}
    links_of: dict = {}  # channel -> [(link name, share)]
    for r in plan.links:
        ends = frozenset((station_names.index(r.gateway_a), station_names.index(r.gateway_b)))
        c = channel_of.get(ends)
        if c is None or relay.relayed_bits[c] <= 0:
            continue
        links_of.setdefault(c, []).append((f"{r.a}-{r.b}", r.relayed_bits / float(relay.relayed_bits[c])))
    out: dict = {}
    for i, c, bits in zip(relay.spent_contact.tolist(), relay.spent_link.tolist(), relay.spent_contact_bits.tolist()):
        for name, share in links_of.get(c, ()):
            if bits * share > 0:
                parts = out.setdefault(i, {})
                parts[name] = parts.get(name, 0.0) + bits * share
    order = {f"{r.a}-{r.b}": k for k, r in enumerate(plan.links)}
    return {i: dict(sorted(parts.items(), key=lambda item: order[item[0]])) for i, parts in out.items()}
