"""Property tests (hypothesis) of invariants that must hold for any input, on the real code.

Each property names its source or reason. Example counts are modest (``max_examples`` below)
so the file runs in well under a minute on two cores; ``deadline=None`` because a pass
search over a day takes a variable ~0.1 s. No mocks: scenarios go through
``scenario_from_dict`` and the public API exactly as the command line does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from constellation.coverage import caps
from constellation.coverage import footprints as fp
from constellation.api import find_passes, look_angles_deg, propagate, compute_coverage, scenario_from_dict
from constellation.network.contacts import make_contacts
from constellation.network.relay import relay_key
from constellation.network.schedule import schedule
from constellation.scenario.presets import PRESETS
from constellation.scenario.stations import builtin_station
from constellation.key.decoy_bb84 import asymptotic_key_rate, key_for_profile

XTOL_EXTREMUM_S = 1e-2  # passes._XTOL_EXTREMUM_S, the finder's tolerance on culmination and TCA
START = "2024-03-20T00:00:00Z"
END_1D = "2024-03-21T00:00:00Z"
SETTINGS = {"deadline": None, "database": None, "derandomize": True,
            "suppress_health_check": [HealthCheck.too_slow]}
MICIUS_QKD = PRESETS["micius"].qkd
XINGLONG_RX = builtin_station("Xinglong").receiver      # observatory-1m (Liao 2017)

# Example counts per property, reported in docs/reliability.md.
N_PASSES = 100
N_KEY = 300
N_RELAY = 200
N_FOOTPRINT = 400
N_COVERAGE = 40

orbit = st.fixed_dictionaries({
    "altitude_km": st.floats(400.0, 2000.0),
    "inclination_deg": st.floats(0.0, 180.0),
    "raan_deg": st.floats(0.0, 360.0, exclude_max=True),
    "mean_anomaly_deg": st.floats(0.0, 360.0, exclude_max=True),
})
station = st.fixed_dictionaries({
    "latitude_deg": st.floats(-89.0, 89.0),
    "longitude_deg": st.floats(-180.0, 180.0),
    "min_elevation_deg": st.floats(0.0, 45.0),
})


def scenario_of(orbits, stations, constraints=None, end=END_1D):
    data = {
        "scenario": {"name": "property", "start": START, "end": end},
        "satellites": [{"name": f"S{i}", **o} for i, o in enumerate(orbits)],
        "stations": [{"name": f"G{i}", **s} for i, s in enumerate(stations)],
    }
    if constraints:
        data["constraints"] = constraints
    return scenario_from_dict(data)


# --- passes -------------------------------------------------------------------------------


@settings(max_examples=N_PASSES, **SETTINGS)
@given(orbit, station, st.sampled_from([None, -12.0, 0.0]), st.sampled_from([None, 1500.0]))
def test_pass_events_are_ordered_and_windows_lie_inside_their_pass(o, s, sun_max, max_range):
    """AOS < culmination < LOS and AOS < TCA < LOS for every complete pass (<= when cut at the
    span edge), window inside its pass, 0 < max elevation <= 90 deg and >= the station mask.

    Reason: a pass is by definition the interval where the elevation is above the mask; the
    culmination (max elevation) and the closest approach (min range) are interior extrema of
    a complete pass, and the QKD window is the part of it where the constraints hold
    (README "The pass table"). Elevation at TCA is recomputed from SGP4 (``propagate`` +
    ``look_angles_deg``), not read back from the finder: it must be >= the mask within
    1e-6 deg and <= 90 deg (geometry).
    """
    constraints = {k: v for k, v in (("station_sun_max_elevation_deg", sun_max), ("max_range_km", max_range))
                   if v is not None}
    scenario = scenario_of([o], [s], constraints)
    t = find_passes(scenario)
    mask = s["min_elevation_deg"]
    full = ~t.aos_partial & ~t.los_partial
    assert np.all(t.aos_s[full] < t.culmination_s[full]) and np.all(t.culmination_s[full] < t.los_s[full])
    assert np.all(t.aos_s[full] < t.tca_s[full]) and np.all(t.tca_s[full] < t.los_s[full])
    assert np.all(t.aos_s <= t.culmination_s) and np.all(t.culmination_s <= t.los_s)
    assert np.all(t.aos_s <= t.tca_s) and np.all(t.tca_s <= t.los_s)
    assert np.all(t.aos_s >= 0.0) and np.all(t.los_s <= scenario.duration_s + 1e-6)
    w = t.has_window
    # Windows inside their pass, exactly (the finder clips them: rounding once put a window end
    # 4.5e-13 s after its LOS at 1935 km, i = 66.9 deg, station at 0 N 66.9 E, Sun below 0 deg).
    assert np.all(t.window_start_s[w] >= t.aos_s[w]) and np.all(t.window_end_s[w] <= t.los_s[w])
    assert np.all(t.window_start_s[w] < t.window_end_s[w]) and np.all(t.window_s <= t.duration_s + 1e-9)
    assert np.all(t.max_elevation_deg <= 90.0)
    # A complete pass peaks above the mask (it rose through it); cut passes peak at or above it.
    assert np.all(t.max_elevation_deg[full] > mask - 1e-6)
    if len(t):
        states = propagate(scenario, t.tca_s)
        el, _, _ = look_angles_deg(states, scenario.stations[0])
        el_tca = el[0]  # satellite 0 at each pass's TCA
        assert np.all(el_tca <= 90.0) and np.all(el_tca >= mask - 1e-6), (el_tca.min(), mask)
        # The culmination is the maximum, to the finder's time tolerance on extrema (10 ms,
        # passes._XTOL_EXTREMUM_S). Off a smooth peak that costs nothing (second order), but a
        # zenith pass has a cusp in elevation and loses up to 10 ms x the angular rate seen
        # from the station, at most v / range (1.1 deg/s at 400 km: up to 0.011 deg; seen
        # 5.9e-3 deg at 400 km, i = 0, station at 0 N 1 E); plus 1e-4 deg for the
        # finder's interpolated track.
        v_km_s = math.sqrt(398600.8 / (6378.135 + o["altitude_km"]))
        rate_deg_s = np.degrees(v_km_s / t.min_range_km)
        assert np.all(el_tca <= t.max_elevation_deg + XTOL_EXTREMUM_S * rate_deg_s + 1e-4)


# --- key ----------------------------------------------------------------------------------

losses = st.lists(st.floats(0.0, 80.0), min_size=1, max_size=300)
# Background clicks/s of the whole receiver: a dark night, anything up to a day sky at 850 nm
# (~9e7 in the observatory-1m receiver, docs/physics.md), and exactly those two.
backgrounds = st.one_of(st.sampled_from([0.0, 9e7]), st.floats(0.0, 1e8))


@pytest.mark.slow
@settings(max_examples=N_KEY, **SETTINGS)
@given(losses, st.floats(0.0, 20.0), st.floats(0.1, 2.0), backgrounds)
def test_key_never_increases_with_loss_and_finite_key_is_below_asymptotic(loss, extra_db, slot_s, background_cps):
    """More loss never gives more key, and the finite-size key never exceeds the asymptotic key,
    under any sky background.

    Source: decoy-state BB84 key rates (GLLP/Lo-Ma-Chen asymptotic, Lim et al. 2014 finite key)
    decrease with channel loss for fixed source and detector; the finite-key bound subtracts
    statistical-fluctuation terms from the asymptotic one (``KeyResult``: "0 <= finite <=
    asymptotic"). Tolerance: 1e-9 relative (+1e-9 bit) for floating-point rounding.
    """
    base = key_for_profile(np.array(loss), slot_s, MICIUS_QKD, XINGLONG_RX, background_cps)
    worse = key_for_profile(np.array(loss) + extra_db, slot_s, MICIUS_QKD, XINGLONG_RX, background_cps)
    for r in (base, worse):
        assert 0.0 <= r.finite_key_bits <= r.asymptotic_key_bits * (1 + 1e-9) + 1e-9
        assert r.asymptotic_key_bits <= r.sifted_bits
    assert worse.asymptotic_key_bits <= base.asymptotic_key_bits * (1 + 1e-9) + 1e-9
    assert worse.finite_key_bits <= base.finite_key_bits * (1 + 1e-9) + 1e-9
    assert worse.sifted_bits <= base.sifted_bits * (1 + 1e-9) + 1e-9


@settings(max_examples=N_KEY, **SETTINGS)
@given(st.lists(st.floats(-12.0, 0.0), min_size=2, max_size=50), backgrounds)
def test_asymptotic_key_rate_is_monotonic_in_transmittance(log10_eta, background_cps):
    """R(eta) per pulse is non-decreasing in transmittance eta (GLLP with decoys: more signal,
    same background). Checked on a sorted set of eta in [1e-12, 1]; 1e-9 relative tolerance."""
    eta = np.sort(10.0 ** np.array(log10_eta))
    rate = np.asarray(asymptotic_key_rate(eta, MICIUS_QKD, XINGLONG_RX, background_cps), dtype=float)
    assert np.all(np.isfinite(rate)) and np.all(rate >= 0.0)
    assert np.all(np.diff(rate) >= -1e-9 * np.abs(rate[1:]) - 1e-300)


@settings(max_examples=N_KEY // 3, **SETTINGS)
@given(st.lists(st.floats(20.0, 60.0), min_size=1, max_size=300), st.floats(0.0, 1e8), st.floats(0.0, 1e8))
def test_key_never_increases_with_sky_background(loss, background_cps, extra_cps):
    """A brighter sky never gives more key: extraneous clicks add errors and no signal, for the
    asymptotic and the finite key and at every per-pulse transmittance.

    Source: in the decoy-BB84 detector model (Ma et al. 2005) the background raises the
    vacuum yield and the error of every intensity; docs/physics.md: a moonlit night costs key,
    daylight at 850 nm gives none. Tolerance 1e-9 relative (+1e-9 bit), floating-point rounding.
    """
    dark = key_for_profile(np.array(loss), 1.0, MICIUS_QKD, XINGLONG_RX, background_cps)
    bright = key_for_profile(np.array(loss), 1.0, MICIUS_QKD, XINGLONG_RX, background_cps + extra_cps)
    assert bright.asymptotic_key_bits <= dark.asymptotic_key_bits * (1 + 1e-9) + 1e-9
    assert bright.finite_key_bits <= dark.finite_key_bits * (1 + 1e-9) + 1e-9
    assert bright.qber >= dark.qber * (1 - 1e-9) - 1e-12
    eta = 10.0 ** (-np.array(loss) / 10.0)
    rate_dark = asymptotic_key_rate(eta, MICIUS_QKD, XINGLONG_RX, background_cps)
    rate_bright = asymptotic_key_rate(eta, MICIUS_QKD, XINGLONG_RX, background_cps + extra_cps)
    assert np.all(rate_bright <= rate_dark * (1 + 1e-9) + 1e-300)


# --- relay --------------------------------------------------------------------------------

DAY = 86400.0


@st.composite
def networks(draw):
    n_sat = draw(st.integers(1, 4))
    n_st = draw(st.integers(2, 5))
    n = draw(st.integers(0, 40))
    sat = draw(st.lists(st.integers(0, n_sat - 1), min_size=n, max_size=n))
    stn = draw(st.lists(st.integers(0, n_st - 1), min_size=n, max_size=n))
    start = draw(st.lists(st.floats(0.0, 3 * DAY), min_size=n, max_size=n))
    length = draw(st.lists(st.floats(0.0, 900.0), min_size=n, max_size=n))
    key = draw(st.lists(st.floats(0.0, 1e6), min_size=n, max_size=n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_st - 1), st.integers(0, n_st - 1)).filter(lambda p: p[0] != p[1]),
                          min_size=1, max_size=4, unique_by=lambda p: tuple(sorted(p))))
    store = draw(st.sampled_from([None, 0.0, 1e3, 1e5]))
    telescopes = draw(st.integers(1, 2))
    contacts = make_contacts(sat, stn, start, np.add(start, length), key)
    return contacts, pairs, store, telescopes, n_sat


@pytest.mark.slow
@settings(max_examples=N_RELAY, **SETTINGS)
@given(networks())
def test_relay_never_creates_key(net):
    """A trusted relay delivers to a link at most the key its scheduled contacts gave each end,
    in total and at every instant; the key a station spends over all its links never exceeds
    what it acquired; per satellite, spent = 2 x relayed <= acquired.

    Reason: trusted-node relay XORs a key shared with one end by a key shared with the other
    (Liao et al. 2018, PRL 120:030501); it consumes key, it cannot create it. Acquired key is
    recomputed here from the contacts (not read back from the result). Tolerance 1e-9
    relative + 1e-6 bit.
    """
    c, pairs, store, telescopes, n_sat = net
    chosen = schedule(c, telescopes=telescopes).chosen
    r = relay_key(c, chosen, pairs, 3 * DAY + 900.0, key_store_bits=store, n_satellites=n_sat)
    chosen = np.asarray(chosen, dtype=int)
    acquired = np.zeros(max(c.n_stations, max(max(p) for p in pairs) + 1))
    np.add.at(acquired, c.station[chosen], c.key_bits[chosen])
    tol = lambda x: 1e-9 * abs(x) + 1e-6
    spent_by_station = np.zeros_like(acquired)
    for i, (a, b) in enumerate(pairs):
        assert r.relayed_bits[i] >= 0.0
        assert r.relayed_bits[i] <= min(acquired[a], acquired[b]) + tol(acquired.max())
        spent_by_station[a] += r.relayed_bits[i]
        spent_by_station[b] += r.relayed_bits[i]
        # Causality: delivered by any time t <= acquired at each end by contacts begun by t.
        sel = r.delivery_link == i
        for t in r.delivery_t_s[sel]:
            delivered = r.delivery_bits[sel][r.delivery_t_s[sel] <= t].sum()
            for end in (a, b):
                got = c.key_bits[chosen][(c.station[chosen] == end) & (c.start_s[chosen] <= t)].sum()
                assert delivered <= got + tol(got)
    assert np.all(spent_by_station <= acquired + 1e-9 * acquired + 1e-6)
    assert np.all(r.spent_bits <= r.acquired_bits + 1e-9 * r.acquired_bits + 1e-6)
    assert r.spent_bits.sum() == np.float64(2 * r.relayed_bits.sum()) or math.isclose(
        r.spent_bits.sum(), 2 * r.relayed_bits.sum(), rel_tol=1e-9, abs_tol=1e-6)


# --- footprints ---------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=N_FOOTPRINT, **SETTINGS)
@given(st.floats(-90.0, 90.0), st.floats(-360.0, 360.0), st.floats(0.5, 85.0))
def test_footprint_is_valid_and_contains_its_centre(lat, lon, cap_deg):
    """Every footprint is a valid (OGC) polygon inside the lon/lat box that covers its centre
    (interior or boundary: a centre on the antimeridian or a pole lies on the cut edge) and
    whose spherical area equals the cap area 2 pi R^2 (1 - cos d) within 0.5 %.

    Reason: a footprint is the spherical cap of angular radius d around the sub-satellite
    point (Wertz, SMAD 5.2); the 180-vertex polygon inscribed in the cap loses
    ~(2 pi / 180)^2 / 6 = 2e-4 of its area, well inside 0.5 %.
    """
    poly = fp.footprint(lat, lon, cap_deg)
    assert poly.is_valid and not poly.is_empty
    minx, miny, maxx, maxy = poly.bounds
    assert -180.0 - 1e-9 <= minx and maxx <= 180.0 + 1e-9 and -90.0 - 1e-9 <= miny and maxy <= 90.0 + 1e-9
    lon_wrapped = (lon + 180.0) % 360.0 - 180.0
    assert poly.buffer(1e-9).covers(Point(lon_wrapped, lat))
    expected = float(caps.cap_area_km2(cap_deg))
    assert math.isclose(fp.polygon_area_km2(poly), expected, rel_tol=5e-3)


@settings(max_examples=N_FOOTPRINT // 4, **SETTINGS)
@given(orbit, st.floats(0.0, 60.0))
def test_footprints_from_positions_contain_the_subsatellite_point(o, min_el):
    """Footprints of propagated satellites contain the sub-satellite point (the geocentric
    direction of the satellite: ``footprints_from_positions`` centres the cap on it)."""
    scenario = scenario_of([o], [{"latitude_deg": 0.0, "longitude_deg": 0.0}])
    r = propagate(scenario, [0.0, 3000.0]).r_km[0]
    shapes = fp.footprints_from_positions(r, min_elevation_deg=min_el)
    for poly, (x, y, z) in zip(shapes, r):
        lat = math.degrees(math.asin(z / math.sqrt(x * x + y * y + z * z)))
        lon = math.degrees(math.atan2(y, x))
        assert poly.is_valid and poly.buffer(1e-9).covers(Point(lon, lat))


# --- coverage -----------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=N_COVERAGE, **SETTINGS)
@given(st.lists(orbit, min_size=1, max_size=3), orbit, st.floats(0.0, 40.0), st.sampled_from([1, 2]),
       st.booleans())
def test_adding_a_satellite_never_lowers_coverage(orbits, extra, min_el, k, night_only):
    """Per grid point, the coverage fraction (time with >= k satellites in view) with one more
    satellite is >= the fraction without it: exactly (fractions are counts over the same
    samples), for k = 1 and 2, day or night-only.

    Reason: visibility of a point from each satellite does not depend on the others, so the
    number in view at every sample can only grow when a satellite is added.
    """
    base = scenario_of(orbits, [{"latitude_deg": 0.0, "longitude_deg": 0.0}], end="2024-03-20T06:00:00Z")
    more = scenario_of(orbits + [extra], [{"latitude_deg": 0.0, "longitude_deg": 0.0}], end="2024-03-20T06:00:00Z")
    options = {"grid_deg": 10.0, "min_elevation_deg": min_el, "step_s": 120.0, "k": k, "night_only": night_only}
    a = compute_coverage(base, **options)
    b = compute_coverage(more, **options)
    assert a.grid.size == b.grid.size and a.n_time == b.n_time
    assert np.all(b.coverage_fraction >= a.coverage_fraction)
    if night_only:
        assert np.all(b.night_coverage_fraction >= a.night_coverage_fraction)
    assert np.all(b.mean_in_view >= a.mean_in_view - 1e-12)
