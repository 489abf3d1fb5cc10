"""Weather with memory (issue 14, item 4): each station's nights are a two-state Markov chain
with the (monthly) clear-sky probability as its marginal and the station's persistence as
its lag-1 correlation; built-in stations carry a sourced climatology.

Tolerances: Monte Carlo estimates are held to 4 standard errors of the estimate, computed
from the binomial variance (a proportion) or ``(1 - r**2) / sqrt(n)`` (a correlation, the
large-sample standard error of Pearson's r).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from constellation.network.contacts import make_contacts
from constellation.network.weather import clear_nights, night_table, relay_weather
from constellation.scenario.build import scenario_from_dict
from constellation.scenario.climate import climatology, climatology_names
from constellation.scenario.stations import catalogue_names

DAY = 86400.0
HOUR = 3600.0


def chain(p, rho, days, runs, seed=0):
    """One station's nights on ``days`` (sorted), constant ``p`` and persistence ``rho``."""
    days = np.asarray(days, dtype=np.int64)
    n = days.size
    return clear_nights(np.full(n, p), runs, np.random.default_rng(seed), station=np.zeros(n, np.int64),
                        day=days, persistence=np.full(n, rho))


def correlation(a, b) -> float:
    return float(np.corrcoef(a.astype(float), b.astype(float))[0, 1])


def test_chain_reproduces_its_marginal_and_lag_k_persistence():
    p, rho, runs = 0.3, 0.6, 40_000
    days = np.array([0, 1, 2, 3, 4, 7, 8, 20])  # gaps of 3 and 12 nights
    clear = chain(p, rho, days, runs, seed=11)
    se_p = math.sqrt(p * (1 - p) / runs)
    for i in range(days.size):  # every night has the marginal p
        assert abs(clear[i].mean() - p) < 4 * se_p, (i, clear[i].mean())
    # The correlation of two nights k apart is rho**k, across gaps of nights without contacts.
    for i, j in [(0, 1), (1, 2), (0, 2), (0, 4), (4, 5), (5, 6), (6, 7), (0, 5)]:
        expected = rho ** (days[j] - days[i])
        se = (1 - expected ** 2) / math.sqrt(runs)
        assert abs(correlation(clear[i], clear[j]) - expected) < 4 * se, (i, j, correlation(clear[i], clear[j]))


def test_chain_is_seeded():
    a = chain(0.4, 0.5, range(30), 2000, seed=3)
    np.testing.assert_array_equal(a, chain(0.4, 0.5, range(30), 2000, seed=3))
    assert not np.array_equal(a, chain(0.4, 0.5, range(30), 2000, seed=4))


def test_zero_persistence_is_todays_independent_draw():
    p = np.array([0.2, 0.5, 0.9, 0.4, 0.7])
    station = np.array([0, 0, 0, 1, 1])
    day = np.array([0, 1, 5, 0, 1])
    runs = 30_000
    independent = np.random.default_rng(7).random((p.size, runs)) < p[:, None]
    markov = clear_nights(p, runs, np.random.default_rng(7), station=station, day=day, persistence=np.zeros(5))
    np.testing.assert_array_equal(markov, independent)
    se = 1 / math.sqrt(runs)  # correlation 0: standard error 1/sqrt(n)
    assert abs(correlation(markov[0], markov[1])) < 4 * se


def test_full_persistence_is_all_clear_or_all_cloudy_per_run():
    p, runs = 0.35, 20_000
    clear = chain(p, 1.0, [0, 1, 2, 9, 10, 30], runs, seed=5)
    all_clear, all_cloudy = clear.all(axis=0), (~clear).all(axis=0)
    assert np.all(all_clear | all_cloudy)  # no run mixes clear and cloudy nights
    assert abs(all_clear.mean() - p) < 4 * math.sqrt(p * (1 - p) / runs)


def test_stations_are_independent_chains():
    runs = 20_000
    p = np.full(6, 0.5)
    station = np.array([0, 0, 0, 1, 1, 1])
    day = np.array([0, 1, 2, 0, 1, 2])
    clear = clear_nights(p, runs, np.random.default_rng(2), station=station, day=day, persistence=np.full(6, 0.8))
    assert abs(correlation(clear[0], clear[3])) < 4 / math.sqrt(runs)  # same night, two stations
    assert abs(correlation(clear[0], clear[1]) - 0.8) < 4 * (1 - 0.64) / math.sqrt(runs)


def test_monthly_probability_is_respected():
    """Nights in January and in February at one station (monthly p), persistence 0.5: each
    night's marginal is its month's p once the chain has relaxed (rho**k < 1e-3 ten nights
    after the change of month, well under the tolerance)."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    days = np.arange(0, 59)  # 1 January - 28 February
    t = days * DAY + 20 * HOUR  # 20:00 local at longitude 0: each contact on its own night
    c = make_contacts(np.zeros(days.size, int), np.zeros(days.size, int), t, t + 300.0, np.ones(days.size))
    monthly = np.full((1, 12), 0.5)
    monthly[0, 0], monthly[0, 1] = 0.2, 0.8
    nights = night_table(c, [0.0], monthly, start, 0.5)
    np.testing.assert_array_equal(nights.day, days)
    assert np.all(nights.probability[:31] == 0.2) and np.all(nights.probability[31:] == 0.8)
    runs = 20_000
    clear = clear_nights(nights.probability, runs, np.random.default_rng(8), station=nights.station,
                         day=nights.day, persistence=nights.persistence)
    for i, p in [(5, 0.2), (30, 0.2), (41, 0.8), (58, 0.8)]:
        assert abs(clear[i].mean() - p) < 4 * math.sqrt(p * (1 - p) / runs), (i, clear[i].mean())
    assert clear[31].mean() < 0.8 - 0.1  # the first February night still remembers January (0.5)


def nightly_link(n_nights: int):
    """One satellite: each night a contact over station A, then one over B (key 1e5 bits each)."""
    rows = []
    for d in range(n_nights):
        t = d * DAY + HOUR
        rows += [(0, 0, t, t + 300.0, 1e5), (0, 1, t + HOUR, t + HOUR + 300.0, 1e5)]
    sat, st, start, end, key = (np.array(x) for x in zip(*rows))
    return make_contacts(sat, st, start, end, key), n_nights * DAY


def test_persistence_lowers_p10_of_a_link_and_keeps_its_mean():
    """Bad weeks are likelier with memory: over 14 nights of a two-station link the 10th
    percentile of delivered key drops. Each station's clear nights keep their mean (the
    marginal p), but the satellite carries key from A to B, so the link gets about the
    smaller of the two stations' clear-night key: spreading both sums lowers that minimum's
    mean too, never raises it."""
    c, span = nightly_link(14)
    runs = 20_000
    totals = {}
    for rho in (0.0, 0.7):
        nights = night_table(c, [0.0, 0.0], [0.6, 0.6], None, rho)
        w = relay_weather(c, np.arange(len(c)), [[0, 1]], span, nights.night_id, nights.probability, runs=runs,
                          seed=1, nights=nights)
        totals[rho] = w.total_bits[0]
    se = math.hypot(totals[0.0].std(), totals[0.7].std()) / math.sqrt(runs)
    assert totals[0.7].mean() < totals[0.0].mean() - 4 * se
    assert totals[0.7].mean() > 0.6 * 14 * 1e5 * 0.5  # far from zero: p = 0.6 of 14 nights of 1e5 bits
    p10_independent, p10_persistent = np.percentile(totals[0.0], 10), np.percentile(totals[0.7], 10)
    assert p10_persistent < p10_independent - 1e5, (p10_independent, p10_persistent)
    assert totals[0.7].std() > 1.3 * totals[0.0].std()


def test_bad_persistence_is_refused():
    c, _ = nightly_link(2)
    for bad in (1.5, -0.1, [0.2, 0.3, 0.4]):
        with pytest.raises(ValueError, match="clear_sky_persistence"):
            night_table(c, [0.0, 0.0], 0.5, None, bad)


# ------------------------------------------------------------ built-in climatology

def test_climatology_values_lie_in_unit_interval_and_each_has_a_source():
    names = climatology_names()
    assert {"Xinglong", "Nanshan", "Delingha", "Lijiang", "Ngari", "Graz", "Vienna", "Matera", "Tenerife",
            "Zvenigorod", "Stellenbosch", "Jinan", "Hefei", "Beijing"} <= set(names)
    assert set(names) <= set(catalogue_names())
    for name in names:
        c = climatology(name)
        assert len(c.monthly) == 12 and all(0.0 <= p <= 1.0 for p in c.monthly), name
        assert 0.0 <= c.persistence <= 1.0, name
        assert c.source.strip() and c.persistence_source.strip(), name
        if c.annual is not None:  # the monthly shape averages to the cited annual fraction
            assert abs(c.mean - c.annual) < 0.02, (name, c.mean, c.annual)
    assert climatology("esa ogs") is climatology("Tenerife") and climatology("Nowhere") is None


def test_stellenbosch_climatology_is_cape_town_relative_sunshine():
    """Met Office Cape Town: 11 h of sunshine a day in January, 6 h in June and July; the
    day is ~14.2 h long in mid-January and ~9.9 h in mid-June at 33.9 S (NOAA solar
    calculator, to 0.1 h)."""
    c = climatology("Stellenbosch")
    assert c.monthly[0] == pytest.approx(11 / 14.2, abs=0.01)
    assert c.monthly[5] == pytest.approx(6 / 9.9, abs=0.01)


SCENARIO = {
    "scenario": {"name": "w", "start": "2025-01-01T00:00:00Z", "end": "2025-01-02T00:00:00Z"},
    "satellites": [{"name": "S", "altitude_km": 500.0, "inclination_deg": 97.4}],
}


def test_builtin_stations_without_weather_take_their_climatology():
    data = dict(SCENARIO, stations=[
        {"name": "Xinglong"},                                              # climatology
        {"name": "Graz", "clear_sky_probability": 0.9},                    # stated p, climatology rho
        {"name": "Tenerife", "clear_sky_persistence": 0.1},                # climatology p, stated rho
        {"name": "Own", "latitude_deg": 10.0, "longitude_deg": 20.0},      # no climatology: always clear
        {"name": "Nanshan", "latitude_deg": 43.5, "longitude_deg": 87.2},  # a position given: not built in
    ])
    s = scenario_from_dict(data)
    assert list(s.clear_sky_probability["Xinglong"]) == list(climatology("Xinglong").monthly)
    assert s.clear_sky_probability["Graz"] == 0.9
    assert list(s.clear_sky_probability["Tenerife"]) == list(climatology("Tenerife").monthly)
    assert "Own" not in s.clear_sky_probability and "Nanshan" not in s.clear_sky_probability
    assert s.clear_sky_persistence == {"Xinglong": 0.4, "Graz": 0.4, "Tenerife": 0.1}
    assert set(s.climate_sources) == {"Xinglong", "Tenerife"}
