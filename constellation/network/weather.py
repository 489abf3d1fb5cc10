"""Weather: clear or cloudy station-nights, and the trusted relay replayed under them.

A cloudy night loses the key of all that station's contacts that night; ``runs`` seeded
draws give the spread. Each station's nights form a two-state Markov chain with the
night's clear-sky probability as its marginal and the station's persistence as its lag-1
correlation (0: independent nights). The rules are stated once, in
:mod:`constellation.network`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..constants import DAY_S
from .contacts import Contacts
from .relay import play_relay, relay_problem


@dataclass(frozen=True)
class Nights:
    """The station-nights that hold contacts, in (station, night) order.

    ``night_id`` (n_contacts,) indexes the other arrays, each (n_nights,): the night's
    clear-sky ``probability``, its ``station``, its ``day`` (nights since the start's UTC
    date) and its station's ``persistence``.
    """

    night_id: np.ndarray
    probability: np.ndarray
    station: np.ndarray
    day: np.ndarray
    persistence: np.ndarray


def station_nights(contacts: Contacts, longitude_deg, clear_sky_probability=1.0,
                   start_utc: dt.datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(night_id, night_probability)`` of :func:`night_table` (no persistence)."""
    nights = night_table(contacts, longitude_deg, clear_sky_probability, start_utc)
    return nights.night_id, nights.probability


def night_table(contacts: Contacts, longitude_deg, clear_sky_probability=1.0,
                start_utc: dt.datetime | None = None, clear_sky_persistence=0.0) -> Nights:
    """The station-night of each contact, each night's clear-sky probability and the
    station's night-to-night persistence.

    A night runs from local noon to local noon in mean solar time (longitude / 15 h from
    UTC); it is dated by its evening, days counted from the UTC date of ``start_utc``.

    Parameters
    ----------
    contacts : Contacts
        Each contact belongs to the night in which its window ends.
    longitude_deg : array_like, shape (n_stations,)
    clear_sky_probability : float, or array_like, shape (n_stations,) or (n_stations, 12)
        Annual, per station, or per station and calendar month (January first).
        Monthly values need ``start_utc``.
    start_utc : datetime, optional
        The instant ``t_s = 0``; without it the span is taken to start at 00:00 UTC.
    clear_sky_persistence : float or array_like, shape (n_stations,)
        Lag-1 correlation in [0, 1] of each station's clear/cloudy state between
        consecutive nights (see :func:`clear_nights`).

    Returns
    -------
    Nights
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
    rho = np.asarray(clear_sky_persistence, dtype=float)
    if rho.ndim and rho.shape != (n_st,):
        raise ValueError(f"clear_sky_persistence: one value or one per station ({n_st}) expected, "
                         f"found shape {rho.shape}")
    if np.any(~(rho >= 0)) or np.any(rho > 1):
        raise ValueError("clear_sky_persistence values must lie in [0, 1]")
    rho = np.broadcast_to(rho, (n_st,))
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
    station = pairs[:, 0].astype(np.int64)
    return Nights(night_id.ravel(), prob[station, month] if len(pairs) else np.zeros(0), station,
                  pairs[:, 1].astype(np.int64), rho[station].astype(float))


def clear_nights(probability, runs: int, rng: np.random.Generator, *, station=None, day=None,
                 persistence=None) -> np.ndarray:
    """Seeded clear (True) or cloudy states of station-nights, shape (n_nights, runs).

    The nights of one station are a two-state Markov chain whose marginal is each night's
    clear-sky probability ``p`` and whose lag-1 correlation is the station's persistence
    ``rho``. A night ``k`` nights after the station's previous drawn night (``k = day gap``:
    nights without contacts count, so persistence holds across gaps) is clear with
    probability ``p + rho**k (1 - p)`` after a clear night and ``p (1 - rho**k)`` after a
    cloudy one, i.e. ``p (1 - rho**k) + rho**k * previous``; ``p`` is the current night's
    (monthly values: this night's month), so where ``p`` changes (a new month) the chain's
    marginal relaxes to the new ``p`` as ``rho**k`` over the following nights rather than
    at once. A station's first night is clear with ``p``.
    ``rho = 0`` gives independent nights, identical draw for draw to a chain-free
    ``rng.random((n_nights, runs)) < p``; ``rho = 1`` repeats the first night.

    Parameters
    ----------
    probability : array_like, shape (n_nights,)
    runs : int
    rng : numpy Generator
        One ``rng.random((n_nights, runs))`` is drawn whatever the persistence.
    station, day, persistence : array_like, shape (n_nights,), optional
        The nights' station and day, sorted by (station, day), and each night's station
        persistence; without ``persistence`` (or all zero) the nights are independent.
    """
    p = np.asarray(probability, dtype=float)
    u = rng.random((p.size, runs))
    rho = None if persistence is None else np.asarray(persistence, dtype=float)
    if rho is None or not np.any(rho > 0):
        return u < p[:, None]
    st = np.asarray(station, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    first = np.ones(p.size, bool)
    first[1:] = st[1:] != st[:-1]
    if np.any(~first & (np.diff(d, prepend=0) <= 0)):
        raise ValueError("nights must be sorted by station and day, one per station-day")
    gap = np.where(first, 1, np.diff(d, prepend=0))
    carry = np.where(first, 0.0, rho ** gap)  # rho**k: weight of the previous state
    starts = np.flatnonzero(first)
    position = np.arange(p.size) - starts[np.cumsum(first) - 1]
    clear = np.empty((p.size, runs), bool)
    for j in range(int(position.max()) + 1 if p.size else 0):
        idx = np.flatnonzero(position == j)
        if j == 0:
            clear[idx] = u[idx] < p[idx, None]
            continue
        c = carry[idx, None]
        clear[idx] = u[idx] < p[idx, None] * (1.0 - c) + c * clear[idx - 1]
    return clear


@dataclass
class WeatherResult:
    """Monte Carlo over cloudy nights: delivered bits per link, day and run, and the ledger."""

    daily_bits: np.ndarray  # (n_links, n_days, runs)
    acquired_bits: np.ndarray  # (n_satellites, runs), as RelayResult's per run
    spent_bits: np.ndarray  # (n_satellites, runs)
    remaining_bits: np.ndarray  # (n_satellites, runs)
    overflow_bits: np.ndarray  # (n_satellites, runs)

    @property
    def total_bits(self) -> np.ndarray:
        """(n_links, runs)"""
        return self.daily_bits.sum(axis=1)


def relay_weather(contacts: Contacts, chosen, link_pairs, duration_s: float, night_id, night_probability, *,
                  runs: int = 1000, seed: int = 0, weights=None, key_store_bits=None,
                  n_satellites: int | None = None, nights: Nights | None = None) -> WeatherResult:
    """The relay of :func:`~constellation.network.relay.relay_key` under ``runs`` seeded draws
    of clear/cloudy nights.

    ``night_id``, shape (n_contacts,), and ``night_probability``, shape (n_nights,), come from
    :func:`station_nights` (or a :func:`night_table`); the other arguments are those of
    ``relay_key``. Without ``nights`` each run draws one independent Bernoulli per
    station-night; with ``nights`` (the :func:`night_table` these came from) each station's
    nights follow the Markov chain of :func:`clear_nights` with its persistence. A cloudy
    night zeroes the key of its contacts. Same seed, same inputs: identical results.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    problem = relay_problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites)
    rng = np.random.default_rng(seed)
    if nights is not None:
        if len(nights.probability) != len(night_probability):
            raise ValueError("nights and night_probability disagree in length")
        clear = clear_nights(night_probability, runs, rng, station=nights.station, day=nights.day,
                             persistence=nights.persistence)
    else:
        clear = clear_nights(night_probability, runs, rng)
    event_night = np.asarray(night_id)[problem.events]
    delivered, _, ledger, _, _ = play_relay(problem, lambda e: problem.key[e] * clear[event_night[e]], runs,
                                            record=False)
    return WeatherResult(delivered, **ledger)


def expected_pair_relay_bits(key_a_bits, key_b_bits, p_a, p_b):
    """Analytic mean relay key of independent single-pass pairs: ``p_a p_b min(K_a, K_b)``.

    Exact when each delivery pairs one contact at each end on nights with independent
    weather and no key is carried to later deliveries (e.g. one satellite per pair).
    """
    return np.asarray(p_a) * np.asarray(p_b) * np.minimum(key_a_bits, key_b_bits)
