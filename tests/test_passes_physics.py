"""Pass finder physics: invariants of every pass, constraints of every window, edge cases
(poles, antimeridian, a span cut mid-pass, a satellite that never rises, horizon masks)
and the Liao et al. 2017 headline pass."""

import datetime as dt

import numpy as np
import pytest

from constellation import geometry, orbits
from constellation.passes import Constraints, find_passes
from constellation.propagation import Propagator
from constellation.stations import Station, builtin_station
from constellation.sun import SunTrack
from constellation.timebase import TimeBase, parse_utc

START = "2016-12-19T00:00:00Z"
STATIONS = [builtin_station(n, min_elevation_deg=10.0) for n in ("Xinglong", "Nanshan", "Graz", "Zvenigorod", "Stellenbosch")]
NIGHT_1200 = Constraints(station_sun_max_elevation_deg=-12.0, max_range_km=1200.0)


@pytest.fixture(scope="module")
def week():
    from sgp4.api import Satrec

    from conftest import MICIUS_TLE

    tb = TimeBase(parse_utc(START))
    prop = Propagator([Satrec.twoline2rv(*MICIUS_TLE)], tb)
    return prop, find_passes(prop, STATIONS, 7 * 86400.0, NIGHT_1200)


def _elevation_deg(prop, stations, station_idx, t_s):
    st = prop.pairwise(np.zeros(np.size(t_s), int), np.atleast_1d(t_s))
    s = stations[station_idx]
    east, north, up = s.enu
    el, az, rng = geometry.look_angles(st.r_km[0], s.position_km, east, north, up)
    return np.degrees(el), np.degrees(az), rng


def test_event_order_and_windows_inside_passes(week):
    _, t = week
    assert len(t) > 50
    assert np.all(t.aos_s < t.culmination_s) and np.all(t.culmination_s < t.los_s)
    assert np.all((t.aos_s <= t.tca_s) & (t.tca_s <= t.los_s))
    w = t.has_window
    assert w.any() and (~w).any()
    assert np.all(t.window_start_s[w] >= t.aos_s[w]) and np.all(t.window_end_s[w] <= t.los_s[w])
    assert np.all(t.max_elevation_deg <= 90.0)


def test_elevation_rises_through_the_mask_at_aos_and_peaks_at_culmination(week):
    prop, t = week
    for k in range(len(t)):
        s = t.station[k]
        el, _, _ = _elevation_deg(prop, STATIONS, s, np.array([t.aos_s[k] - 1, t.aos_s[k], t.aos_s[k] + 1,
                                                                 t.culmination_s[k] - 1, t.culmination_s[k],
                                                                 t.culmination_s[k] + 1, t.los_s[k] - 1, t.los_s[k],
                                                                 t.los_s[k] + 1]))
        assert el[0] < 10.0 < el[2] and abs(el[1] - 10.0) < 1e-4
        assert el[6] > 10.0 > el[8] and abs(el[7] - 10.0) < 1e-4
        assert el[4] > el[3] and el[4] > el[5]
        assert abs(el[4] - t.max_elevation_deg[k]) < 1e-4


def test_constraints_hold_inside_windows_and_fail_outside(week):
    prop, t = week
    sun = SunTrack(prop.timebase, 0.0, 7 * 86400.0)
    for k in np.flatnonzero(t.has_window):
        s = STATIONS[t.station[k]]
        inside = np.linspace(t.window_start_s[k] + 0.01, t.window_end_s[k] - 0.01, 25)
        _, _, rng = _elevation_deg(prop, STATIONS, t.station[k], inside)
        sun_el = np.degrees(np.arcsin(sun.unit_ecef(inside) @ s.enu[2]))
        assert np.all(rng <= 1200.0) and np.all(sun_el <= -12.0)
        # An interior window edge is where a constraint starts to fail.
        for edge, outside in ((t.window_start_s[k], t.window_start_s[k] - 0.05), (t.window_end_s[k], t.window_end_s[k] + 0.05)):
            if t.aos_s[k] < edge < t.los_s[k]:
                _, _, r = _elevation_deg(prop, STATIONS, t.station[k], np.array([outside]))
                sun_out = np.degrees(np.arcsin(sun.unit_ecef(np.array([outside])) @ s.enu[2]))
                assert r[0] > 1200.0 or sun_out[0] > -12.0


def test_headline_pass_of_liao_2017(week):
    # facts.md 2d: minimum range 645.5 km at 16:52:14 UTC on 2016-12-19; range <= 1,200 km
    # from 16:49:58 to 16:54:30 (272 s). Liao 2017: 645 km and a ~273 s QKD window.
    _, t = week
    tca_target = 16 * 3600 + 52 * 60 + 14
    k = np.flatnonzero((t.station == 0) & (np.abs(t.tca_s - tca_target) < 30.0))
    assert k.size == 1
    k = k[0]
    assert t.min_range_km[k] == pytest.approx(645.5, abs=2.0)
    assert t.window_s[k] == pytest.approx(272.0, abs=3.0)


def test_span_starting_and_ending_mid_pass(micius_satrec):
    # The headline pass is above 10 deg from ~16:48:44 to ~16:55:48 UTC.
    tb = TimeBase(parse_utc("2016-12-19T16:52:00Z"))
    t = find_passes(Propagator([micius_satrec], tb), STATIONS[:1], 120.0)
    assert len(t) == 1
    assert t.aos_partial[0] and t.los_partial[0]
    assert t.aos_s[0] == 0.0 and t.los_s[0] == 120.0
    assert 0.0 < t.culmination_s[0] < 120.0  # the culmination (16:52:13.5) lies inside


def test_satellite_that_never_rises():
    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    sat = orbits.satrec_from_elements(orbits.Elements(orbits.semi_major_axis_km(500.0), 0.0, 0.0, 0.0, 0.0, 0.0, epoch))
    t = find_passes(Propagator([sat], TimeBase(parse_utc(epoch))), [Station("arctic", 70.0, 20.0)], 3 * 86400.0)
    assert len(t) == 0 and t.rows(TimeBase(parse_utc(epoch))) == []


@pytest.mark.parametrize("latitude_deg", [90.0, -90.0])
def test_stations_at_the_poles(micius_satrec, latitude_deg):
    # A 97.4 deg orbit passes within ~3 deg of each pole every revolution: ~15 passes a day,
    # each culminating at the same elevation at either longitude given for the pole.
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius_satrec], tb)
    a = find_passes(prop, [Station("p", latitude_deg, 0.0, min_elevation_deg=10.0)], 86400.0)
    b = find_passes(prop, [Station("p", latitude_deg, 123.0, min_elevation_deg=10.0)], 86400.0)
    assert 14 <= len(a) <= 16 and len(a) == len(b)
    assert np.allclose(a.aos_s, b.aos_s, atol=1e-3)
    assert np.all(a.max_elevation_deg > 20.0)


def test_antimeridian_east_and_west_are_the_same_place(micius_satrec):
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius_satrec], tb)
    east = find_passes(prop, [Station("e", -17.0, 180.0)], 2 * 86400.0)
    west = find_passes(prop, [Station("w", -17.0, -180.0)], 2 * 86400.0)
    assert len(east) > 0 and len(east) == len(west)
    assert np.allclose(east.aos_s, west.aos_s, atol=1e-6)


def test_horizon_mask_is_obeyed(micius_satrec):
    # 30 deg mask to the west (azimuth 180-360), 10 deg elsewhere.
    mask = ((0.0, 10.0), (179.9, 10.0), (180.0, 30.0), (359.9, 30.0))
    station = Station("masked", 40.39587, 117.57746, 890.0, min_elevation_deg=10.0, horizon_mask=mask)
    tb = TimeBase(parse_utc(START))
    prop = Propagator([micius_satrec], tb)
    t = find_passes(prop, [station], 7 * 86400.0)
    plain = find_passes(prop, [builtin_station("Xinglong", min_elevation_deg=10.0)], 7 * 86400.0)
    assert 0 < t.duration_s.sum() < plain.duration_s.sum()
    for k in range(len(t)):
        for edge, partial, sign in ((t.aos_s[k], t.aos_partial[k], 1.0), (t.los_s[k], t.los_partial[k], -1.0)):
            if partial:
                continue
            # The margin above the mask changes sign across each edge, within 10 ms.
            el, az, _ = _elevation_deg(prop, [station], 0, np.array([edge - 0.01, edge + 0.01]))
            limit = np.maximum(geometry.interpolate_mask_deg(az, *station.mask_arrays_deg()), 10.0)
            assert sign * (el[0] - limit[0]) < 0.0 < sign * (el[1] - limit[1])
