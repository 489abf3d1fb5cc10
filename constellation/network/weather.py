"""Weather: clear or cloudy station-nights, and the trusted relay replayed under them.

A cloudy night loses the key of all that station's contacts that night; ``runs`` seeded
draws give the spread. The rules are stated once, in :mod:`constellation.network`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..constants import DAY_S
from .contacts import Contacts
from .relay import play_relay, relay_problem


def station_nights(contacts: Contacts, longitude_deg, clear_sky_probability=1.0,
                   start_utc: dt.datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The station-night of each contact and each night's clear-sky probability.

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
                  n_satellites: int | None = None) -> WeatherResult:
    """The relay of :func:`~constellation.network.relay.relay_key` under ``runs`` seeded draws
    of clear/cloudy nights.

    ``night_id``, shape (n_contacts,), and ``night_probability``, shape (n_nights,), come from
    :func:`station_nights`; the other arguments are those of ``relay_key``.
    Each run draws one Bernoulli per station-night; a cloudy night zeroes the key of its
    contacts. Same seed, same inputs: identical results.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    problem = relay_problem(contacts, chosen, link_pairs, duration_s, weights, key_store_bits, n_satellites)
    rng = np.random.default_rng(seed)
    clear = rng.random((len(night_probability), runs)) < np.asarray(night_probability)[:, None]
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
