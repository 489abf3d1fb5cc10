"""Pass finder physics: invariants of every pass, constraints of every window, edge cases
(poles, antimeridian, a span cut mid-pass, a satellite that never rises, horizon masks)
and the Liao et al. 2017 headline pass.

Checks evaluate SGP4 directly (``Propagator.pairwise``, not the finder's interpolated
track) and, for the Sun and the Earth's shadow, Skyfield (DE421 from skyfield-data).
The finder's root tolerance is 1 ms on rise, set and window edges (``passes._XTOL_S``), so
"elevation at AOS equals the mask" is asserted as: within 1.5 ms x the elevation rate of
the mask (measured over the week: 1.1e-5 deg, 0.45 ms; over 30 days 3.1e-5 deg, 0.98 ms);
1e-6 deg would need roots to ~30 us.
"""

import datetime as dt
import math

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from skyfield.api import EarthSatellite, wgs84

from constellation.core import geometry
from constellation.passes.finder import find_passes
from constellation.scenario.model import Constraints
from constellation.core.propagation import Propagator
from constellation.scenario.stations import Station, builtin_station
from constellation.core.timebase import TimeBase, ephemeris, parse_utc, timescale

from conftest import MICIUS_TLE

START = "2016-12-19T00:00:00Z"
EPOCH = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
MISSION = ("Xinglong", "Nanshan", "Graz", "Zvenigorod", "Stellenbosch")
STATIONS = [builtin_station(n, min_elevation_deg=10.0) for n in MISSION]
NIGHT_1200 = Constraints(station_sun_max_elevation_deg=-12.0, max_range_km=1200.0)
XTOL_S = 1e-3  # passes._XTOL_S
T_HEADLINE = 16 * 3600 + 52 * 60 + 14  # 2016-12-19 16:52:14 UTC, docs/references.md §2d


def satrec(altitude_km, inclination_deg, raan_deg, eccentricity=0.001, mean_anomaly_deg=0.0):
    """A designed satellite (sgp4init, WGS72) with epoch 2016-12-19 00:00 UTC."""
    epoch_days = (EPOCH - dt.datetime(1949, 12, 31, tzinfo=dt.timezone.utc)).total_seconds() / 86400.0
    sat = Satrec()
    sat.sgp4init(WGS72, "i", 1, epoch_days, 0.0, 0.0, 0.0, eccentricity, 0.0, math.radians(inclination_deg),
                 math.radians(mean_anomaly_deg), math.sqrt(398600.8 / (6378.135 + altitude_km) ** 3) * 60.0,
                 math.radians(raan_deg))
    return sat


@pytest.fixture(scope="module")
def micius():
    return Satrec.twoline2rv(*MICIUS_TLE)


@pytest.fixture(scope="module")
def week(micius):
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius], tb)
    return prop, find_passes(prop, STATIONS, 7 * 86400.0, NIGHT_1200)


def look(prop, station, t_s, satellite=0):
    """Elevation (deg), azimuth (deg) and range (km) from SGP4 directly."""
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    st = prop.pairwise(np.full(t_s.size, satellite), t_s)
    assert st.valid.all()
    east, north, up = station.enu
    el, az, rng = geometry.look_angles(st.r_km[0], station.position_km, east, north, up)
    return np.degrees(el), np.degrees(az), rng


def sun_elevation_deg(tb, station, t_s):
    """Skyfield: geometric geocentric Sun (DE421) in the station's horizon frame."""
    eph = ephemeris()
    t = tb.time(np.atleast_1d(t_s))
    horizon = np.einsum("ij...,j...->i...", wgs84.latlon(station.latitude_deg, station.longitude_deg).rotation_at(t),
                        (eph["sun"] - eph["earth"]).at(t).position.au)
    return np.degrees(np.arcsin(horizon[2] / np.linalg.norm(horizon, axis=0)))


def test_event_order_and_windows_inside_passes(week):
    _, t = week
    assert len(t) > 100 and not t.aos_partial.any() and not t.los_partial.any()
    assert np.all(t.aos_s < t.culmination_s) and np.all(t.culmination_s < t.los_s)
    assert np.all((t.aos_s <= t.tca_s) & (t.tca_s <= t.los_s))
    assert np.all(t.max_elevation_deg > 10.0) and np.all(t.max_elevation_deg <= 90.0)
    w = t.has_window
    assert w.any() and (~w).any()
    assert np.all(t.window_start_s[w] >= t.aos_s[w]) and np.all(t.window_end_s[w] <= t.los_s[w])
    assert np.all(t.window_start_s[w] < t.window_end_s[w])
    assert np.all(t.window_s[~w] == 0.0) and np.all(t.window_s <= t.duration_s)
    # Passes of one satellite over one station do not overlap.
    for s in range(len(STATIONS)):
        k = np.flatnonzero(t.station == s)
        assert np.all(np.diff(t.aos_s[k]) > 0) and np.all(t.aos_s[k][1:] > t.los_s[k][:-1])


def test_elevation_rises_through_the_mask_and_peaks_at_culmination(week):
    prop, t = week
    worst_deg = worst_time = worst_peak = 0.0
    for k in range(len(t)):
        s = STATIONS[t.station[k]]
        aos, culm, los, tca = t.aos_s[k], t.culmination_s[k], t.los_s[k], t.tca_s[k]
        el, _, rng = look(prop, s, [aos - 1, aos, aos + 1, culm - 1, culm, culm + 1, los - 1, los, los + 1,
                                    aos - 0.01, aos + 0.01, los - 0.01, los + 0.01, tca - 1, tca, tca + 1])
        # Rises through the mask at AOS, sets through it at LOS.
        assert el[0] < 10.0 < el[2] and el[6] > 10.0 > el[8]
        for at, lo, hi in ((1, 9, 10), (7, 11, 12)):
            rate = abs(el[hi] - el[lo]) / 0.02
            assert abs(el[at] - 10.0) <= 1.5 * XTOL_S * rate
            worst_deg, worst_time = max(worst_deg, abs(el[at] - 10.0)), max(worst_time, abs(el[at] - 10.0) / rate)
        # The culmination is a local maximum and max_elevation is its elevation (the finder
        # interpolates SGP4 to ~0.4 m: ~3e-5 deg at 500 km).
        assert el[4] > el[3] and el[4] > el[5]
        assert abs(el[4] - t.max_elevation_deg[k]) < 1e-4
        worst_peak = max(worst_peak, abs(el[4] - t.max_elevation_deg[k]))
        # The closest approach is a local minimum of range; min_range_km its range (< 1 m).
        assert rng[14] < rng[13] and rng[14] < rng[15]
        assert abs(rng[14] - t.min_range_km[k]) < 1e-3
    print(f"\n|el(AOS/LOS) - mask| <= {worst_deg:.1e} deg ({worst_time * 1e3:.2f} ms); "
          f"|el(culmination) - max_elevation| <= {worst_peak:.1e} deg")


CONSTRAINT_CASES = {
    # Micius at night, range <= 1,200 km: window edges set by the range limit.
    "micius-night-1200km": (None, NIGHT_1200, "range"),
    # A dawn-dusk sun-synchronous satellite (LTAN ~18:00 in Dec 2016): passes in twilight,
    # window edges set by the -12 deg Sun limit.
    "dusk-sso-twilight": ((500.0, 97.4, 357.45), Constraints(station_sun_max_elevation_deg=-12.0, max_range_km=1500.0), "sun"),
    # Micius in the Earth's shadow only: window edges at the shadow boundary.
    "micius-eclipsed": (None, Constraints(satellite_sunlit=False), "shadow"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CONSTRAINT_CASES)
def test_constraints_hold_inside_windows_and_fail_just_outside(micius, case):
    orbit, constraints, edge_kind = CONSTRAINT_CASES[case]
    sat = micius if orbit is None else satrec(*orbit)
    tb = TimeBase(parse_utc(START))
    prop = Propagator([sat], tb)
    duration = 10 * 86400.0
    t = find_passes(prop, STATIONS, duration, constraints)
    eph = ephemeris()
    sky_sat = EarthSatellite.from_satrec(sat, timescale())
    sun_max = constraints.station_sun_max_elevation_deg
    max_range = constraints.max_range_km

    def holds(station, t_s):
        ok = np.ones(np.size(t_s), dtype=bool)
        if sun_max is not None:
            ok &= sun_elevation_deg(tb, station, t_s) <= sun_max
        if max_range is not None:
            ok &= look(prop, station, t_s)[2] <= max_range
        if constraints.satellite_sunlit is not None:
            ok &= sky_sat.at(tb.time(np.atleast_1d(t_s))).is_sunlit(eph) == constraints.satellite_sunlit
        return ok

    edges = {"range": 0, "sun": 0, "shadow": 0}
    assert t.has_window.sum() >= 5
    for k in np.flatnonzero(t.has_window):
        s = STATIONS[t.station[k]]
        w0, w1 = t.window_start_s[k], t.window_end_s[k]
        # Skyfield's shadow test is a line to the Sun's centre at its true distance; ours is
        # a cylinder (parallel rays): the boundaries differ by ~0.1 km, i.e. 39 ms here.
        # Keep sampled points 0.1 s inside the window edges.
        inside = np.linspace(w0 + 0.1, w1 - 0.1, 40)
        assert holds(s, inside).all(), f"a constraint fails inside window {k}"
        # The window is the longest run where the constraints hold: sample the pass at 1 s.
        samples = np.arange(t.aos_s[k], t.los_s[k], 1.0)
        ok = holds(s, samples)
        runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]]))))[::2]
        assert runs.max() <= t.window_s[k] + 2.0
        # An interior window edge is where a constraint starts to fail: 0.05 s outside
        # (0.1 s for the shadow, as above), at least one fails.
        for edge, sign in ((w0, -1.0), (w1, 1.0)):
            if not t.aos_s[k] < edge < t.los_s[k]:
                continue
            outside = edge + sign * (0.1 if edge_kind == "shadow" else 0.05)
            assert not holds(s, outside)[0], f"window {k} could extend past {edge}"
            if max_range is not None and abs(look(prop, s, edge)[2][0] - max_range) < 0.01:
                edges["range"] += 1
            elif sun_max is not None and abs(sun_elevation_deg(tb, s, edge)[0] - sun_max) < 1e-4:
                edges["sun"] += 1
            else:
                edges["shadow"] += 1
    print(f"\n{case}: {t.has_window.sum()} windows, interior edges set by {edges}")
    assert edges[edge_kind] >= 4


def test_headline_pass_of_liao_2017(week):
    # docs/references.md §2d: minimum range 645.5 km at 16:52:14 UTC on 2016-12-19; range <= 1,200 km
    # from 16:49:58 to 16:54:30 UTC (272 s). Liao et al. 2017: 645 km, a ~273 s QKD window.
    _, t = week
    k = np.flatnonzero((t.station == 0) & (np.abs(t.tca_s - T_HEADLINE) < 30.0))
    assert k.size == 1
    k = k[0]
    print(f"\nheadline: min range {t.min_range_km[k]:.2f} km at {t.tca_s[k] - T_HEADLINE:+.2f} s from 16:52:14, "
          f"window {t.window_s[k]:.2f} s from {t.window_start_s[k] - (T_HEADLINE - 136):+.2f} s of 16:49:58")
    assert t.min_range_km[k] == pytest.approx(645.5, abs=2.0)
    assert t.window_s[k] == pytest.approx(272.0, abs=3.0)
    assert abs(t.window_start_s[k] - (T_HEADLINE - 136)) < 3.0  # 16:49:58
    assert abs(t.window_end_s[k] - (T_HEADLINE + 136)) < 3.0  # 16:54:30
    assert t.has_window[k]


def test_span_starting_mid_pass(micius, week):
    # Start at the middle of the headline pass (16:52:14, just after the culmination at
    # 16:52:13.5): the pass is kept, flagged, starts at 0 and ends where the full run says.
    _, full = week
    k = np.flatnonzero((full.station == 0) & (np.abs(full.tca_s - T_HEADLINE) < 30.0))[0]
    tb = TimeBase(parse_utc("2016-12-19T16:52:14Z"))
    prop = Propagator([micius], tb)
    t = find_passes(prop, STATIONS[:1], 3600.0, NIGHT_1200)
    assert len(t) == 1
    assert t.aos_partial[0] and not t.los_partial[0]
    assert t.aos_s[0] == 0.0
    assert t.los_s[0] == pytest.approx(full.los_s[k] - T_HEADLINE, abs=2e-3)
    # Descending from the start: the highest point of the cut pass is its first instant.
    assert t.culmination_s[0] == 0.0
    assert t.max_elevation_deg[0] == pytest.approx(look(prop, STATIONS[0], 0.0)[0][0], abs=1e-4)
    assert t.window_start_s[0] == 0.0 and t.window_end_s[0] == pytest.approx(136.0, abs=3.0)


def test_span_ending_mid_pass(micius, week):
    _, full = week
    k = np.flatnonzero((full.station == 0) & (np.abs(full.tca_s - T_HEADLINE) < 30.0))[0]
    tb = TimeBase(parse_utc("2016-12-19T16:00:00Z"))
    cut = T_HEADLINE - 16 * 3600.0  # the span ends at 16:52:14
    t = find_passes(Propagator([micius], tb), STATIONS[:1], cut, NIGHT_1200)
    assert len(t) == 1
    assert t.los_partial[0] and not t.aos_partial[0]
    assert t.los_s[0] == cut
    assert t.aos_s[0] == pytest.approx(full.aos_s[k] - 16 * 3600.0, abs=2e-3)
    assert t.culmination_s[0] == pytest.approx(full.culmination_s[k] - 16 * 3600.0, abs=0.05)
    assert t.window_end_s[0] == cut


def test_span_inside_one_pass(micius):
    tb = TimeBase(parse_utc("2016-12-19T16:51:00Z"))
    t = find_passes(Propagator([micius], tb), STATIONS[:1], 120.0)
    assert len(t) == 1
    assert t.aos_partial[0] and t.los_partial[0]
    assert t.aos_s[0] == 0.0 and t.los_s[0] == 120.0
    assert t.culmination_s[0] == pytest.approx(73.5, abs=0.05)  # 16:52:13.5


def test_satellite_that_never_rises():
    # Equatorial orbit at 500 km: its horizon reaches ~22 deg of latitude, so a station at
    # 70 N never sees it (and with a 10 deg mask not even from 20 N).
    sat = satrec(500.0, 0.0, 0.0, eccentricity=0.0)
    tb = TimeBase(parse_utc(START))
    t = find_passes(Propagator([sat], tb), [Station("arctic", 70.0, 20.0), Station("subtropic", 20.0, 0.0)],
                    3 * 86400.0, NIGHT_1200)
    assert len(t) == 0 and t.rows(tb) == []
    assert t.sgp4_error_samples.tolist() == [0]
    # The same satellite does pass over the equator (the search itself works).
    t = find_passes(Propagator([sat], tb), [Station("equator", 0.0, 20.0)], 86400.0)
    assert len(t) > 10


@pytest.mark.parametrize("latitude_deg", [90.0, -90.0])
def test_stations_at_the_poles(micius, latitude_deg):
    # A 97.4 deg orbit passes within 7.4 deg of arc (~820 km) of each pole every revolution:
    # ~15 passes a day, all alike, culminating at ~27-28 deg from 480-510 km up. The longitude
    # given for a pole names the same point, so the passes must not change with it.
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius], tb)
    a = find_passes(prop, [Station("p", latitude_deg, 0.0, min_elevation_deg=10.0)], 86400.0, NIGHT_1200)
    b = find_passes(prop, [Station("p", latitude_deg, 123.0, min_elevation_deg=10.0)], 86400.0, NIGHT_1200)
    assert 14 <= len(a) <= 16 and len(a) == len(b)
    for col in ("aos_s", "los_s", "tca_s", "window_start_s", "window_end_s"):
        assert np.allclose(getattr(a, col), getattr(b, col), atol=2e-3), col
    assert np.allclose(a.max_elevation_deg, b.max_elevation_deg, atol=1e-6)
    assert np.all((a.max_elevation_deg > 25.0) & (a.max_elevation_deg < 30.0))
    assert np.ptp(a.max_elevation_deg) < 0.1


def test_antimeridian_east_and_west_are_the_same_place(micius):
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius], tb)
    east = find_passes(prop, [Station("e", -17.0, 180.0)], 3 * 86400.0, NIGHT_1200)
    west = find_passes(prop, [Station("w", -17.0, -180.0)], 3 * 86400.0, NIGHT_1200)
    assert len(east) > 0 and len(east) == len(west)
    for col in ("aos_s", "culmination_s", "tca_s", "los_s", "max_elevation_deg", "min_range_km",
                "window_start_s", "window_end_s"):
        assert np.allclose(getattr(east, col), getattr(west, col), atol=1e-6), col
    assert np.array_equal(east.has_window, west.has_window)


@pytest.mark.slow
def test_horizon_mask_is_obeyed(micius):
    # 30 deg mask towards azimuth 180-360 (south through west), 10 deg elsewhere.
    mask = ((0.0, 10.0), (179.9, 10.0), (180.0, 30.0), (359.9, 30.0))
    station = Station("masked", 40.39587, 117.57746, 890.0, min_elevation_deg=10.0, horizon_mask=mask)
    mask_az, mask_el = station.mask_arrays_deg()
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius], tb)
    duration = 7 * 86400.0
    t = find_passes(prop, [station], duration)
    plain = find_passes(prop, [builtin_station("Xinglong", min_elevation_deg=10.0)], duration)
    assert 0 < t.duration_s.sum() < plain.duration_s.sum()

    def margin(t_s):
        el, az, _ = look(prop, station, t_s)
        return el - np.maximum(np.interp(az, mask_az, mask_el, period=360.0), 10.0), el, az

    # Independent truth: SGP4 sampled every 0.5 s against the mask.
    grid = np.arange(0.0, duration, 0.5)
    states = prop.states(grid)
    east, north, up = station.enu
    el, az, _ = geometry.look_angles(states.r_km[0], station.position_km, east, north, up)
    above = np.degrees(el) > np.maximum(np.interp(np.degrees(az), mask_az, mask_el, period=360.0), 10.0)
    change = np.flatnonzero(np.diff(above.astype(int)))
    rises, sets = grid[change[above[change + 1]]], grid[change[~above[change + 1]]]
    assert not above[0] and not above[-1]
    assert len(t) == rises.size == sets.size
    assert np.all(np.abs(t.aos_s - rises - 0.25) <= 0.25 + XTOL_S)
    assert np.all(np.abs(t.los_s - sets - 0.25) <= 0.25 + XTOL_S)
    on_mask = 0
    for k in range(len(t)):
        for edge, sign in ((t.aos_s[k], 1.0), (t.los_s[k], -1.0)):
            f, el_e, az_e = margin([edge - 0.005, edge, edge + 0.005])
            # The margin above the mask changes sign across the edge (within 5 ms) ...
            assert sign * f[0] < 0.0 < sign * f[2]
            # ... and the elevation there is the mask at that azimuth (to 1.5 ms of motion).
            assert abs(f[1]) <= 1.5 * XTOL_S * abs(f[2] - f[0]) / 0.01
            on_mask += np.interp(az_e[1], mask_az, mask_el, period=360.0) == 30.0
    assert on_mask >= 2  # some edges lie on the 30 deg part of the mask
    # Where the pass is inside the mask, the unmasked pass contains it.
    for k in range(len(t)):
        j = np.flatnonzero((plain.aos_s <= t.aos_s[k] + XTOL_S) & (plain.los_s >= t.los_s[k] - XTOL_S))
        assert j.size == 1 and plain.max_elevation_deg[j[0]] >= t.max_elevation_deg[k] - 1e-6
