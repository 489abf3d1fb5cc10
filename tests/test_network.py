"""Key network: scheduling optimality and feasibility, relay arithmetic and conservation, weather Monte Carlo.

Everything here is built by hand or from seeded random numbers: no passes are propagated.
Tolerances: relay arithmetic on integer-valued key is exact (==); sums of water-filled
(fractional) shares use a relative 1e-9; Monte Carlo means use 4 standard errors.
"""

import datetime as dt
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies

from constellation.core.geodesy import site_distance_km
from constellation.scenario.model import Fibre, Link
from constellation.network.contacts import contacts_from_passes, make_contacts
from constellation.network.plan import link_rows, plan_relay, timeline_rows
from constellation.network.relay import _waterfill, relay_key
from constellation.network.schedule import max_concurrency, schedule, schedule_fcfs
from constellation.network.weather import expected_pair_relay_bits, relay_weather, station_nights
from constellation.passes.table import PassTable
from constellation.scenario.stations import builtin_station

DAY = 86400.0
HOUR = 3600.0


def contacts_of(rows):
    """rows: (satellite, station, start_s, end_s, key_bits)."""
    sat, st, start, end, key = zip(*rows) if rows else ((),) * 5
    return make_contacts(sat, st, start, end, key)


def random_contacts(rng, n, n_sat, n_st, span_s=4 * HOUR, length_s=(200.0, 900.0)):
    start = rng.uniform(0, span_s, n)
    return make_contacts(rng.integers(0, n_sat, n), rng.integers(0, n_st, n), start,
                         start + rng.uniform(*length_s, n), rng.integers(1, 1000, n).astype(float))


def feasible(c, chosen, telescopes, terminals):
    """Independent check by brute force over instants: the start of every chosen window."""
    chosen = list(chosen)
    for i in chosen:
        t = c.start_s[i]
        at_t = [j for j in chosen if c.start_s[j] <= t < c.end_s[j]]
        tel = telescopes if np.ndim(telescopes) == 0 else telescopes[c.station[i]]
        if sum(c.station[j] == c.station[i] for j in at_t) > tel:
            return False
        if terminals is not None and sum(c.satellite[j] == c.satellite[i] for j in at_t) > terminals:
            return False
    return True


def brute_force_best(c, telescopes=1, terminals=None):
    best = 0.0
    for r in range(len(c) + 1):
        for subset in itertools.combinations(range(len(c)), r):
            if feasible(c, subset, telescopes, terminals):
                best = max(best, float(c.key_bits[list(subset)].sum()))
    return best


# --- scheduling -------------------------------------------------------------------------


def test_fcfs_is_beaten_where_it_should_be():
    # A long early pass blocks two later ones worth more together.
    c = contacts_of([(0, 0, 0.0, 600.0, 10.0), (1, 0, 60.0, 300.0, 6.0), (2, 0, 300.0, 590.0, 6.0)])
    assert schedule_fcfs(c).tolist() == [0]
    s = schedule(c)
    assert s.method == "exact"
    assert s.chosen.tolist() == [1, 2]  # touching windows (300 s) do not conflict
    assert s.key_bits == 12.0 and s.baseline_key_bits == 10.0


def test_exact_schedule_equals_brute_force():
    rng = np.random.default_rng(20240601)
    for _ in range(60):
        c = random_contacts(rng, int(rng.integers(1, 11)), n_sat=4, n_st=2, span_s=3000.0)
        s = schedule(c)
        assert s.method == "exact"
        assert s.key_bits == brute_force_best(c)  # integer keys: exact
        assert feasible(c, s.chosen, 1, None)


@pytest.mark.parametrize("telescopes, terminals", [(2, None), (1, 1), (2, 1), (3, 1)])
def test_milp_schedule_equals_brute_force_and_beats_fcfs(telescopes, terminals):
    # Several telescopes or one terminal per satellite: the programme (HiGHS) against every
    # subset of the contacts. Integer keys: the optimum is exact.
    rng = np.random.default_rng(7 + 10 * telescopes + (terminals or 0))
    for _ in range(40):
        c = random_contacts(rng, int(rng.integers(1, 10)), n_sat=3, n_st=2, span_s=2000.0)
        s = schedule(c, telescopes=telescopes, satellite_terminals=terminals)
        assert s.method == "optimal" and s.gap == 0.0
        assert feasible(c, s.chosen, telescopes, terminals)
        fcfs = schedule_fcfs(c, telescopes, terminals)
        assert feasible(c, fcfs, telescopes, terminals)
        assert s.key_bits >= float(c.key_bits[fcfs].sum()) == s.baseline_key_bits
        assert s.key_bits == brute_force_best(c, telescopes, terminals)


def relayable_bits(c, chosen, a, b):
    """One channel (a, b): what the flow model relays, by hand: per satellite, the key it
    collected at the weaker end."""
    chosen = list(chosen)
    total = 0.0
    for sat in set(c.satellite.tolist()):
        at = [float(c.key_bits[j]) for j in chosen if c.satellite[j] == sat and c.station[j] == a]
        bt = [float(c.key_bits[j]) for j in chosen if c.satellite[j] == sat and c.station[j] == b]
        total += min(sum(at), sum(bt))
    return total


def test_link_aware_schedule_equals_brute_force_on_one_channel():
    # Three stations, one channel between stations 0 and 1, one terminal per satellite: the
    # best schedule relays the most key; brute force over every feasible subset.
    rng = np.random.default_rng(2020)
    for _ in range(30):
        c = random_contacts(rng, int(rng.integers(2, 10)), n_sat=3, n_st=3, span_s=3000.0)
        s = schedule(c, telescopes=1, satellite_terminals=1, link_pairs=[[0, 1]])
        assert s.method == "optimal" and s.gap == 0.0
        assert feasible(c, s.chosen, 1, 1)
        best = max(relayable_bits(c, subset, 0, 1) for r in range(len(c) + 1)
                   for subset in itertools.combinations(range(len(c)), r) if feasible(c, subset, 1, 1))
        assert s.min_share_bits == pytest.approx(best, rel=1e-6, abs=1e-6)
        assert relayable_bits(c, s.chosen, 0, 1) == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_retargeting_keeps_a_gap_and_short_contacts_are_dropped():
    # One telescope, 60 s to re-point: a contact starting 30 s after the last one ended waits out.
    c = contacts_of([(0, 0, 0.0, 300.0, 10.0), (1, 0, 330.0, 600.0, 9.0), (2, 0, 400.0, 700.0, 8.0),
                     (0, 1, 0.0, 20.0, 50.0)])
    s = schedule(c, retarget_s=60.0)
    assert sorted(s.chosen.tolist()) == [0, 2, 3]
    assert sorted(schedule(c, retarget_s=60.0, min_contact_s=30.0).chosen.tolist()) == [0, 2]
    assert sorted(schedule(c, retarget_s=20.0).chosen.tolist()) == [0, 1, 3]
    with pytest.raises(ValueError, match="retarget_s"):
        schedule(c, retarget_s=-1.0)


def windows_in_pieces(rng, n_windows, n_sat, n_st, span_s=6000.0):
    """Contacts as contacts_from_passes makes them: windows of 200-2,700 s, those over
    900 s cut into equal consecutive pieces (the next piece starts where the last ends)."""
    rows = []
    for _ in range(n_windows):
        sat, st = int(rng.integers(0, n_sat)), int(rng.integers(0, n_st))
        start, length = float(rng.uniform(0, span_s)), float(rng.uniform(200.0, 2700.0))
        pieces = max(1, math.ceil(length / 900.0))
        key = float(rng.integers(1, 1000))
        for k in range(pieces):
            a = start + k * length / pieces
            b = start + length if k == pieces - 1 else a + length / pieces
            rows.append((sat, st, a, b, key))
    return contacts_of(rows)


def flyable(c, chosen, retarget_s, terminals=None):
    """Independent check, one telescope per station (and one terminal per satellite): in order
    of start, each contact of a telescope (terminal) starts ``retarget_s`` after the last one
    ended, unless it continues it (same satellite and station, starting where it ended)."""
    chosen = sorted(chosen, key=lambda j: (c.start_s[j], c.end_s[j]))
    groups = [c.station] + ([c.satellite] if terminals else [])
    for group in groups:
        for g in set(group[chosen].tolist()):
            mine = [j for j in chosen if group[j] == g]
            for a, b in zip(mine, mine[1:]):
                same = c.satellite[a] == c.satellite[b] and c.station[a] == c.station[b]
                if same and abs(c.start_s[b] - c.end_s[a]) <= 1e-6:
                    continue
                if c.start_s[b] < c.end_s[a] + retarget_s:
                    return False
    return True


def test_a_window_cut_into_pieces_is_flown_whole_despite_retargeting():
    # A MEO satellite up all night at two stations (8 h, 32 pieces of 900 s each), 60 s to
    # re-point: the telescope keeps tracking it from piece to piece, so every piece is flown
    # (before the fix every other piece was: the re-pointing time sat between pieces).
    start = np.arange(32) * 900.0
    c = make_contacts(np.zeros(64), np.r_[np.zeros(32), np.ones(32)], np.r_[start, start],
                      np.r_[start, start] + 900.0, np.full(64, 1e5))
    assert schedule(c, retarget_s=60.0).key_bits == 64 * 1e5  # exact, per station
    assert schedule_fcfs(c, retarget_s=60.0).size == 64
    s = schedule(c, telescopes=1, satellite_terminals=2, retarget_s=60.0, link_pairs=[[0, 1]])
    assert s.key_bits == 64 * 1e5 and s.min_share_bits == pytest.approx(32 * 1e5)
    # A LEO pass (satellite 1, 9,100-9,400 s, worth more) in the MEO piece 9,000-9,900 s at
    # station 0: the telescope leaves the MEO track, re-points (60 s), tracks the LEO and
    # re-points back in time for the next piece (9,900 s). Only the overlapped piece is lost.
    leo = contacts_of([(1, 0, 9000.0 + 100.0, 9000.0 + 400.0, 3e5)])
    both = make_contacts(np.r_[c.satellite, leo.satellite], np.r_[c.station, leo.station],
                         np.r_[c.start_s, leo.start_s], np.r_[c.end_s, leo.end_s], np.r_[c.key_bits, leo.key_bits])
    s = schedule(both, retarget_s=60.0)
    assert 64 in s.chosen.tolist() and 10 not in s.chosen.tolist() and s.key_bits == 63 * 1e5 + 3e5
    assert flyable(both, s.chosen, 60.0)
    # One terminal: the MEO serves one station at a time, all 32 pieces at station 1 (no
    # switch, no re-pointing), and station 0 tracks the LEO.
    s = schedule(both, telescopes=1, satellite_terminals=1, retarget_s=60.0)
    assert flyable(both, s.chosen, 60.0, terminals=1)
    assert s.key_bits == 32 * 1e5 + 3e5


def brute_force_pieces(c, retarget_s, terminals=None):
    best = 0.0
    for r in range(len(c) + 1):
        for subset in itertools.combinations(range(len(c)), r):
            if flyable(c, subset, retarget_s, terminals):
                best = max(best, float(c.key_bits[list(subset)].sum()))
    return best


@pytest.mark.parametrize("terminals, linked", [(None, False), (1, False), (1, True)])
def test_schedule_with_pieces_and_retargeting_equals_brute_force(terminals, linked):
    # Windows cut into pieces, 120 s to re-point, one telescope (and one terminal): the
    # per-station programme and the MILP against every subset (integer keys: exact).
    rng = np.random.default_rng(1402 + (terminals or 0) + 10 * linked)
    for _ in range(25):
        c = windows_in_pieces(rng, int(rng.integers(1, 6)), n_sat=2, n_st=3, span_s=4000.0)
        if len(c) > 11:
            continue
        pairs = [[0, 1]] if linked else None
        s = schedule(c, telescopes=1, satellite_terminals=terminals, retarget_s=120.0, link_pairs=pairs)
        assert flyable(c, s.chosen, 120.0, terminals)
        assert flyable(c, schedule_fcfs(c, 1, terminals, retarget_s=120.0), 120.0, terminals)
        if linked:
            best = max(relayable_bits(c, subset, 0, 1) for r in range(len(c) + 1)
                       for subset in itertools.combinations(range(len(c)), r) if flyable(c, subset, 120.0, 1))
            assert s.method == "optimal" and s.min_share_bits == pytest.approx(best, rel=1e-6, abs=1e-6)
        else:
            assert s.key_bits == brute_force_pieces(c, 120.0, terminals)


def test_adding_a_contact_never_lowers_the_optimum():
    # Monotonicity of the optimum: any schedule of the smaller set is one of the larger.
    rng = np.random.default_rng(99)
    for _ in range(25):
        c = random_contacts(rng, 8, n_sat=3, n_st=3, span_s=2500.0)
        smaller = make_contacts(c.satellite[:-1], c.station[:-1], c.start_s[:-1], c.end_s[:-1], c.key_bits[:-1])
        small, big = schedule(smaller, satellite_terminals=1), schedule(c, satellite_terminals=1)
        assert big.key_bits >= small.key_bits
        links = {"satellite_terminals": 1, "link_pairs": [[0, 1], [1, 2]]}
        small, big = schedule(smaller, **links), schedule(c, **links)
        assert big.min_share_bits >= small.min_share_bits * (1 - 1e-9) - 1e-9


def test_large_overlapping_case_never_double_books():
    rng = np.random.default_rng(11)
    c = random_contacts(rng, 3000, n_sat=40, n_st=6, span_s=5 * DAY)
    for telescopes, terminals in [(1, None), (1, 1), (2, 1)]:
        s = schedule(c, telescopes=telescopes, satellite_terminals=terminals)
        ch = s.chosen
        assert max_concurrency(c.start_s[ch], c.end_s[ch], c.station[ch], 6).max() <= telescopes
        if terminals:
            assert max_concurrency(c.start_s[ch], c.end_s[ch], c.satellite[ch], 40).max() <= terminals
        assert s.key_bits >= s.baseline_key_bits
        # Independent pairwise check of the one-telescope rule.
        if telescopes == 1:
            for st in range(6):
                mine = ch[c.station[ch] == st]
                order = mine[np.argsort(c.start_s[mine])]
                assert np.all(c.end_s[order][:-1] <= c.start_s[order][1:])


def test_two_telescopes_take_simultaneous_satellites_and_zero_disables():
    c = contacts_of([(0, 0, 0.0, 300.0, 5.0), (1, 0, 100.0, 400.0, 7.0), (2, 0, 50.0, 350.0, 1.0),
                     (0, 1, 0.0, 300.0, 9.0)])
    s = schedule(c, telescopes=np.array([2, 0]))
    assert s.chosen.tolist() == [0, 1] and s.key_bits == 12.0
    # One terminal per satellite: satellite 0 cannot serve stations 0 and 1 at once.
    s = schedule(c, telescopes=2, satellite_terminals=1)
    assert s.key_bits == 9.0 + 7.0 + 1.0
    assert 0 not in s.chosen.tolist()


def test_empty_and_zero_key_contacts():
    empty = contacts_of([])
    s = schedule(empty)
    assert s.chosen.size == 0 and s.key_bits == 0.0
    zero = contacts_of([(0, 0, 0.0, 100.0, 0.0)])
    assert schedule(zero).chosen.size == 0
    with pytest.raises(ValueError, match="end_s >= start_s"):
        make_contacts([0], [0], [10.0], [5.0], [1.0])


def test_max_concurrency_counts_touching_as_disjoint():
    assert max_concurrency([0, 10, 5], [10, 20, 15], [0, 0, 1], 2).tolist() == [1, 1]
    assert max_concurrency([0, 5, 6], [10, 20, 7], [0, 0, 0], 1).tolist() == [3]


# --- relay arithmetic -------------------------------------------------------------------

A, B, C = 0, 1, 2


def test_two_station_relay_is_min_and_latency_between_passes():
    for key_a, key_b in [(1000.0, 600.0), (600.0, 1000.0), (750.0, 750.0)]:
        c = contacts_of([(0, A, 0.0, 300.0, key_a), (0, B, 3600.0, 3900.0, key_b)])
        r = relay_key(c, [0, 1], [[A, B]], DAY)
        assert r.relayed_bits.tolist() == [min(key_a, key_b)]
        assert r.delivery_t_s.tolist() == [3900.0]
        assert r.delivery_latency_s.tolist() == [3600.0]  # window end to window end
        assert r.latency_h(0) == (1.0, 1.0)
        if key_a != key_b:
            assert r.limiting_side(0) == (0 if key_a < key_b else 1)
        assert r.remaining_bits.tolist() == [abs(key_a - key_b)]
        assert r.spent_bits.tolist() == [2 * min(key_a, key_b)]


def test_relay_needs_one_satellite_and_passes_at_both_ends():
    # Key with A on satellite 0 and with B on satellite 1 cannot be combined.
    c = contacts_of([(0, A, 0.0, 300.0, 500.0), (1, B, 3600.0, 3900.0, 500.0)])
    r = relay_key(c, [0, 1], [[A, B]], DAY)
    assert r.relayed_bits.tolist() == [0.0] and r.delivery_link.size == 0
    assert r.latency_h(0) == (None, None)
    # A contact that was not scheduled gives nothing.
    c = contacts_of([(0, A, 0.0, 300.0, 500.0), (0, B, 3600.0, 3900.0, 500.0)])
    assert relay_key(c, [0], [[A, B]], DAY).relayed_bits.tolist() == [0.0]


def test_fifo_latency_and_carry_over():
    c = contacts_of([(0, A, 0.0, 300.0, 100.0), (0, A, 10000.0, 10300.0, 100.0),
                     (0, B, 20000.0, 20300.0, 150.0), (0, B, 40000.0, 40300.0, 100.0)])
    r = relay_key(c, range(4), [[A, B]], DAY)
    assert r.delivery_bits.tolist() == [150.0, 50.0]
    # First delivery spends A key from t=300; the second spends A key from t=10,300.
    assert r.delivery_latency_s.tolist() == [20000.0, 30000.0]
    assert r.relayed_bits.tolist() == [200.0] and r.remaining_bits.tolist() == [50.0]  # 450 - 2 x 200
    assert r.limiting_side(0) == 0  # A's pool emptied at the second delivery


def test_key_store_cap_discards_what_does_not_fit():
    c = contacts_of([(0, A, 0.0, 300.0, 1000.0), (0, B, 3600.0, 3900.0, 800.0)])
    r = relay_key(c, [0, 1], [[A, B]], DAY, key_store_bits=500.0)
    assert r.relayed_bits.tolist() == [500.0]
    assert r.overflow_bits.tolist() == [500.0]  # half of A's key never fitted
    assert r.remaining_bits.tolist() == [300.0]  # B's unused key fits after the delivery
    assert r.acquired_bits.tolist() == [1800.0]
    assert r.acquired_bits[0] == r.spent_bits[0] + r.remaining_bits[0] + r.overflow_bits[0]
    zero_store = relay_key(c, [0, 1], [[A, B]], DAY, key_store_bits=0.0)
    assert zero_store.relayed_bits.tolist() == [0.0]


def test_competing_links_share_by_water_filling():
    c = contacts_of([(0, B, 0.0, 300.0, 600.0), (0, C, 1000.0, 1300.0, 600.0), (0, A, 2000.0, 2300.0, 800.0)])
    equal = relay_key(c, range(3), [[A, B], [A, C]], DAY)
    assert equal.relayed_bits.tolist() == [400.0, 400.0]
    by_demand = relay_key(c, range(3), [[A, B], [A, C]], DAY, weights=[3.0, 1.0])
    assert by_demand.relayed_bits.tolist() == [600.0, 200.0]
    # A capped claim frees its share for the other link.
    c2 = contacts_of([(0, B, 0.0, 300.0, 100.0), (0, C, 1000.0, 1300.0, 900.0), (0, A, 2000.0, 2300.0, 800.0)])
    assert relay_key(c2, range(3), [[A, B], [A, C]], DAY).relayed_bits.tolist() == [100.0, 700.0]
    with pytest.raises(ValueError, match="one link only"):
        relay_key(c, range(3), [[A, B], [B, A]], DAY)


def test_water_filling_is_weighted_max_min_fair():
    rng = np.random.default_rng(17)
    for _ in range(200):
        m, runs = int(rng.integers(1, 6)), 4
        caps = rng.uniform(0, 100, (m, runs)) * (rng.random((m, runs)) > 0.2)
        weights = rng.uniform(0.1, 5.0, m)
        budget = rng.uniform(0, 300, runs)
        d = _waterfill(budget, caps, weights)
        assert np.all(d >= 0) and np.all(d <= caps)
        np.testing.assert_allclose(d.sum(axis=0), np.minimum(budget, caps.sum(axis=0)), rtol=1e-12, atol=1e-9)
        # A claim left short of its cap has the highest share per weight.
        level = d / weights[:, None]
        for run in range(runs):
            short = d[:, run] < caps[:, run] - 1e-9
            if short.any():
                assert level[short, run].min() >= level[:, run].max() - 1e-9


def test_random_network_conserves_key():
    rng = np.random.default_rng(3)
    c = random_contacts(rng, 1500, n_sat=6, n_st=5, span_s=10 * DAY)
    chosen = schedule(c).chosen
    pairs = [[0, 1], [0, 2], [1, 3], [2, 4], [3, 4], [1, 4]]
    for store in (None, 2000.0, [500.0, 1e4, 0.0, 3000.0, np.inf, 800.0]):
        r = relay_key(c, chosen, pairs, 10 * DAY, key_store_bits=store, weights=[1, 2, 1, 5, 1, 1])
        total = r.acquired_bits.sum()
        # Ledger per satellite: acquired = spent + remaining + overflow; spent = 2 x relayed.
        np.testing.assert_allclose(r.acquired_bits, r.spent_bits + r.remaining_bits + r.overflow_bits,
                                   rtol=1e-9, atol=1e-9 * total)
        assert r.spent_bits.sum() == pytest.approx(2 * r.relayed_bits.sum(), rel=1e-9)
        assert r.delivery_bits.sum() == pytest.approx(r.relayed_bits.sum(), rel=1e-9)
        assert np.all(r.remaining_bits >= 0) and np.all(r.overflow_bits >= 0) and np.all(r.delivery_bits > 0)
        assert np.all(r.delivery_latency_s >= 0)
        # Never created: a link gets at most what the scheduled contacts gave its ends.
        assert np.all(r.relayed_bits <= r.side_acquired_bits.min(axis=1) + 1e-6)
        assert r.daily_bits.shape == (len(pairs), 10)
        if store is not None and np.ndim(store) == 0:
            assert np.all(r.remaining_bits <= store + 1e-6)


# --- weather ----------------------------------------------------------------------------


def nightly_pairs(n_nights=40, seed=5):
    """One satellite per night: a pass over A, then over B, at 01:00 and 02:00 local (lon 0)."""
    rng = np.random.default_rng(seed)
    key_a = rng.integers(10_000, 100_000, n_nights).astype(float)
    key_b = rng.integers(10_000, 100_000, n_nights).astype(float)
    rows = []
    for d in range(n_nights):
        t = d * DAY + HOUR
        rows += [(d, A, t, t + 300.0, key_a[d]), (d, B, t + HOUR, t + HOUR + 300.0, key_b[d])]
    return contacts_of(rows), key_a, key_b, n_nights * DAY


def test_monte_carlo_is_reproducible_and_matches_the_analytic_mean():
    c, key_a, key_b, span = nightly_pairs()
    p = np.array([0.7, 0.4])
    night_id, night_p = station_nights(c, [0.0, 0.0], p)
    assert night_id.max() + 1 == len(c)  # every contact on its own station-night
    first = relay_weather(c, np.arange(len(c)), [[A, B]], span, night_id, night_p, runs=1000, seed=42)
    again = relay_weather(c, np.arange(len(c)), [[A, B]], span, night_id, night_p, runs=1000, seed=42)
    np.testing.assert_array_equal(first.daily_bits, again.daily_bits)
    other = relay_weather(c, np.arange(len(c)), [[A, B]], span, night_id, night_p, runs=1000, seed=43)
    assert not np.array_equal(first.daily_bits, other.daily_bits)
    totals = first.total_bits[0]
    expected = expected_pair_relay_bits(key_a, key_b, p[0], p[1]).sum()
    standard_error = totals.std(ddof=1) / math.sqrt(totals.size)
    assert abs(totals.mean() - expected) < 4 * standard_error
    # The same holds per night (day index = night here): check the first few.
    per_day_se = first.daily_bits[0].std(axis=1, ddof=1) / math.sqrt(1000)
    per_day_expected = expected_pair_relay_bits(key_a, key_b, p[0], p[1])
    assert np.all(np.abs(first.daily_bits[0].mean(axis=1) - per_day_expected) < 4 * per_day_se + 1e-9)
    # Ledger holds in every run.
    np.testing.assert_allclose(first.acquired_bits,
                               first.spent_bits + first.remaining_bits + first.overflow_bits, rtol=1e-12)


def test_clear_sky_probability_one_is_deterministic():
    rng = np.random.default_rng(9)
    c = random_contacts(rng, 800, n_sat=5, n_st=4, span_s=6 * DAY)
    chosen = schedule(c).chosen
    pairs = [[0, 1], [1, 2], [0, 3], [2, 3]]
    clear = relay_key(c, chosen, pairs, 6 * DAY, key_store_bits=5000.0)
    night_id, night_p = station_nights(c, [10.0, 100.0, -70.0, 170.0], 1.0)
    mc = relay_weather(c, chosen, pairs, 6 * DAY, night_id, night_p, runs=5, seed=1, key_store_bits=5000.0)
    for run in range(5):
        np.testing.assert_array_equal(mc.daily_bits[:, :, run], clear.daily_bits)
    never = relay_weather(c, chosen, pairs, 6 * DAY, night_id, np.zeros_like(night_p), runs=3, seed=1)
    assert never.daily_bits.sum() == 0.0


def test_station_nights_share_clouds_and_follow_months():
    start = dt.datetime(2017, 1, 30, 12, 0, tzinfo=dt.UTC)
    # Station at 120 E (UTC+8 mean solar): contacts at 22:00 and 03:00 local share a night;
    # 16:52 UTC on 31 Jan is 00:52 local on 1 Feb, still the night of 31 Jan.

    def t(day, hour):  # UTC day (from 30 Jan) and hour -> t_s since the 12:00 UTC start
        return (day * 24 + hour - 12) * HOUR

    rows = [(0, 0, t(0, 14), t(0, 14) + 300, 1.0),  # 22:00 local 30 Jan
            (1, 0, t(0, 19), t(0, 19) + 300, 1.0),  # 03:00 local 31 Jan: same night
            (0, 0, t(1, 16 + 52 / 60), t(1, 17), 1.0),  # 00:52 local 1 Feb: night of 31 Jan
            (0, 0, t(2, 14), t(2, 14) + 300, 1.0),  # 22:00 local 1 Feb: a February night
            (0, 1, t(0, 14), t(0, 14) + 300, 1.0)]  # another station (0 E), 14:00 local: night of 30 Jan
    c = contacts_of(rows)
    monthly = np.array([[1.0] + [0.0] * 11, [0.5] * 12])
    night_id, night_p = station_nights(c, [120.0, 0.0], monthly, start)
    assert night_id[0] == night_id[1] != night_id[2] != night_id[3]
    assert night_p[night_id].tolist() == [1.0, 1.0, 1.0, 0.0, 0.5]
    with pytest.raises(ValueError, match="needs start_utc"):
        station_nights(c, [120.0, 0.0], monthly)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        station_nights(c, [120.0, 0.0], 1.5)


# --- whole network ----------------------------------------------------------------------


def test_plan_network_with_fibre_tails_and_weather():
    stations = [builtin_station(n) for n in ("Xinglong", "Nanshan", "Graz")]
    cities = [builtin_station("Beijing"), builtin_station("Vienna")]
    X, N, G = 0, 1, 2
    rows = []
    for d in range(3):  # each night: satellite 0 over Xinglong, then Nanshan, then Graz
        t = d * DAY + 16 * HOUR
        rows += [(0, X, t, t + 300, 400_000.0), (0, N, t + 600, t + 900, 250_000.0),
                 (0, G, t + 3000, t + 3300, 100_000.0),
                 (1, X, t + 100, t + 400, 50_000.0)]  # overlaps the first: the telescope picks satellite 0
    c = contacts_of(rows)
    links = [Link("Xinglong", "Graz"), Link("Beijing", "Vienna", required_key_bits_per_day=1e5),
             Link("Nanshan", "Graz", max_latency_h=1.0), Link("Xinglong", "Beijing")]
    fibre = [Fibre("Xinglong", "Beijing", 0.2), Fibre("Vienna", "Graz", 1000.0)]
    plan = plan_relay(c, stations, links, 3 * DAY, cities=cities, fibre=fibre,
                        clear_sky_probability={"Graz": 1.0, "Xinglong": [1.0] * 12}, runs=50, seed=0)
    # Every contact fits (satellite 1's overlaps satellite 0's at Xinglong, and loses to it).
    assert plan.schedule.method == "optimal" and plan.schedule.key_bits == 3 * 750_000.0
    xg, bv, ng, xb = plan.links
    assert xg.distance_km == pytest.approx(7641.3, abs=0.1)
    # Distance is between the link's own ends (the cities), not between its gateways.
    assert bv.distance_km == pytest.approx(site_distance_km(cities[0], cities[1]), abs=1e-9)
    assert (xg.gateway_a, xg.gateway_b) == ("Xinglong", "Graz") == (bv.gateway_a, bv.gateway_b)
    # Links without a demand weigh as the mean stated demand (1e5), so the Xinglong-Graz
    # channel (Xinglong-Graz + Beijing-Vienna) weighs 2 and Nanshan-Graz 1: Graz's 100 kbit
    # per night splits 2:1, and the channel's key splits 1:1 between its two links.
    assert ng.relayed_bits == pytest.approx(100_000.0, rel=1e-12)
    assert xg.relayed_bits == bv.relayed_bits == pytest.approx(100_000.0, rel=1e-12)
    assert xg.limiting_station == "Graz" and xg.limited_by == "relay"
    assert ng.limiting_station == "Graz"
    # Oldest key first: nights 2 and 3 spend Nanshan key left from night 1 (24 h + 40 min).
    assert ng.median_latency_h == pytest.approx(24 + 2400 / HOUR)
    assert ng.max_latency_h == pytest.approx(48 + 2400 / HOUR)
    assert ng.meets_latency is False
    # Beijing-Vienna rides the Xinglong-Graz channel; the Beijing fibre (0.2 bit/s) caps it.
    assert bv.key_bits == pytest.approx(0.2 * 3 * DAY)
    assert bv.limited_by == "fibre" and bv.limiting_station == "Beijing"
    assert bv.meets_demand is False
    # Xinglong-Beijing share a gateway: fibre only.
    assert xb.key_bits == pytest.approx(0.2 * 3 * DAY) and xb.limited_by == "fibre"
    assert xb.median_latency_h is None
    # All named stations always clear, others default to clear: expected == clear sky.
    for r in plan.links:
        assert r.key_bits_per_day == pytest.approx(r.clear_sky_key_bits_per_day, rel=1e-12)
        assert r.key_bits_per_day_p10 == pytest.approx(r.clear_sky_key_bits_per_day, rel=1e-12)
    rows = link_rows(plan)
    assert [row["a"] for row in rows] == ["Xinglong", "Beijing", "Nanshan", "Xinglong"]
    assert all(not (isinstance(v, float) and math.isnan(v)) for row in rows for v in row.values())
    timeline = timeline_rows(plan)
    assert len(timeline) == 4 * 3
    # Rows round to whole bits: three days of 33,333.3 bits.
    assert sum(row["key_bits"] for row in timeline if row["a"] == "Nanshan") == pytest.approx(100_000, abs=1.5)


def test_plan_network_weather_lowers_expected_key():
    stations = [builtin_station("Xinglong"), builtin_station("Graz")]
    rows = []
    for d in range(20):
        t = d * DAY + 17 * HOUR
        rows += [(d, 0, t, t + 300, 1000.0), (d, 1, t + 4 * HOUR, t + 4 * HOUR + 300, 1000.0)]
    plan = plan_relay(contacts_of(rows), stations, [Link("Xinglong", "Graz")], 20 * DAY,
                        clear_sky_probability={"Xinglong": 0.5, "Graz": 0.6},
                        start_utc=dt.datetime(2017, 6, 1, tzinfo=dt.UTC), runs=2000, seed=3)
    r = plan.links[0]
    assert r.clear_sky_key_bits_per_day == 1000.0
    assert abs(r.key_bits_per_day - 300.0) < 4 * r.key_bits_per_day_stderr
    assert r.key_bits_per_day_p10 < r.key_bits_per_day
    with pytest.raises(ValueError, match="neither a satellite station"):
        plan_relay(contacts_of(rows), stations, [Link("Xinglong", "Vienna")], 20 * DAY)
    with pytest.raises(ValueError, match="unknown station"):
        plan_relay(contacts_of(rows), stations, [Link("Xinglong", "Graz")], 20 * DAY, telescopes={"Matera": 2})


def test_degenerate_network_without_contacts():
    stations = [builtin_station("Xinglong"), builtin_station("Graz")]
    plan = plan_relay(contacts_of([]), stations, [Link("Xinglong", "Graz")], 2 * DAY,
                        clear_sky_probability=0.5, runs=10,
                        start_utc=dt.datetime(2017, 6, 1, tzinfo=dt.UTC))
    (row,) = link_rows(plan)
    assert row["key_bits"] == 0 and row["deliveries"] == 0 and row["median_latency_h"] is None
    assert row["limited_by"] == "no key" and row["limiting_station"] is None
    assert [r["day_start_utc"] for r in timeline_rows(plan)] == ["2017-06-01T00:00:00Z", "2017-06-02T00:00:00Z"]


def test_contacts_from_a_pass_table():
    table = PassTable(
        satellite=np.array([0, 0, 1]), station=np.array([0, 1, 1]), aos_s=np.array([0.0, 10.0, 20.0]),
        culmination_s=np.array([5.0, 15.0, 25.0]), tca_s=np.array([5.0, 15.0, 25.0]),
        los_s=np.array([10.0, 20.0, 30.0]), max_elevation_deg=np.array([30.0, 40.0, 50.0]),
        min_range_km=np.array([900.0, 800.0, 700.0]), aos_partial=np.zeros(3, bool),
        los_partial=np.zeros(3, bool), window_start_s=np.array([0.0, 12.0, 21.0]),
        window_end_s=np.array([0.0, 18.0, 29.0]), has_window=np.array([False, True, True]))
    c = contacts_from_passes(table, [0.0, 0.0, 5000.0])  # row 1 has a window but no key
    assert c.pass_index.tolist() == [2]
    assert (c.satellite.tolist(), c.station.tolist(), c.start_s.tolist(), c.end_s.tolist()) == ([1], [1], [21.0], [29.0])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(strategies.integers(0, 2**31 - 1), strategies.integers(1, 40), strategies.integers(1, 3),
       strategies.integers(1, 2), strategies.sampled_from([0.0, 30.0, 120.0]), strategies.booleans())
def test_telescopes_terminals_and_retargeting_are_never_exceeded(seed, n, telescopes, terminals, retarget_s, linked):
    """Property: whatever the contacts, no station tracks more satellites than it has
    telescopes and no satellite serves more stations than it has terminals, each counted
    over the contact plus the re-pointing before it (none before the next piece of a window
    it keeps tracking; exact: interval counts of the same numbers)."""
    rng = np.random.default_rng(seed)
    c = random_contacts(rng, n, n_sat=4, n_st=3, span_s=4000.0) if seed % 2 else \
        windows_in_pieces(rng, max(1, n // 2), n_sat=4, n_st=3, span_s=4000.0)
    pairs = [[0, 1], [1, 2]] if linked else None
    s = schedule(c, telescopes=telescopes, satellite_terminals=terminals, retarget_s=retarget_s,
                 link_pairs=pairs, time_limit_s=2.0)
    ch = s.chosen
    # Re-pointing before every contact except the continuation of a flown piece of its window.
    flown = set(ch.tolist())
    ends = {(int(c.satellite[j]), int(c.station[j]), round(float(c.end_s[j]), 6)) for j in flown}
    continues = np.array([(int(c.satellite[j]), int(c.station[j]), round(float(c.start_s[j]), 6)) in ends
                          for j in ch], bool)
    busy_start = c.start_s[ch] - np.where(continues, 0.0, retarget_s)
    assert max_concurrency(busy_start, c.end_s[ch], c.station[ch], 3).max(initial=0) <= telescopes
    assert max_concurrency(busy_start, c.end_s[ch], c.satellite[ch], 4).max(initial=0) <= terminals
    assert s.key_bits >= 0 and (s.gap is None or 0.0 <= s.gap <= 1.0)
