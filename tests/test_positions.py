"""Earth-fixed positions and the geometry kernels against Skyfield (independent code paths
for the frames, look angles and the Sun)."""

import datetime as dt

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import theta_GMST1982

from constellation import geometry, orbits
from constellation.propagation import Propagator, Track
from constellation.sun import SunTrack
from constellation.timebase import TimeBase, ephemeris, parse_utc, timescale

from conftest import MICIUS_TLE

DAY = np.arange(0.0, 86400.0, 10.0)


@pytest.fixture
def timebase():
    return TimeBase(parse_utc("2016-12-19T00:00:00Z"))


def test_earth_fixed_positions_match_skyfield_itrs(timebase, micius_satrec):
    # Skyfield turns TEME into GCRS with its own nutation/precession chain and back into
    # ITRS; we rotate TEME by GMST-1982 on UT1 directly. Both omit polar motion, so the
    # results must agree to round-off: we measured 1e-7 m; assert 1 m.
    ours = Propagator([micius_satrec], timebase).states(DAY).r_km[0]
    sat = EarthSatellite(*MICIUS_TLE, ts=timescale())
    ref = sat.at(timebase.time(DAY)).frame_xyz(itrs).km.T
    assert np.abs(ours - ref).max() * 1000.0 < 1.0


def test_gmst_matches_skyfield(timebase):
    whole, _, fraction_ut1 = timebase.sgp4_and_ut1(DAY)
    theta, _ = theta_GMST1982(whole, fraction_ut1)
    diff = np.angle(np.exp(1j * (geometry.gmst82_rad(whole, fraction_ut1) - theta)))
    assert np.abs(diff).max() < 1e-12


def test_look_angles_match_skyfield_altaz(timebase, micius_satrec):
    station = wgs84.latlon(40.39587, 117.57746, 890.0)
    ours = Propagator([micius_satrec], timebase).states(DAY).r_km[0]
    east, north, up = geometry.enu_basis(40.39587, 117.57746)
    el, az, rng = geometry.look_angles(ours, geometry.geodetic_to_ecef(40.39587, 117.57746, 890.0), east, north, up)
    sat = EarthSatellite(*MICIUS_TLE, ts=timescale())
    alt, az_ref, dist = (sat - station).at(timebase.time(DAY)).altaz()
    assert np.abs(np.degrees(el) - alt.degrees).max() < 1e-6
    daz = np.angle(np.exp(1j * (az - az_ref.radians)))
    assert np.degrees(np.abs(daz)).max() < 1e-5
    assert np.abs(rng - dist.km).max() < 1e-6


@pytest.mark.parametrize("lat", [-90.0, -45.0, 0.0, 40.4, 89.999, 90.0])
def test_geodetic_round_trip(lat):
    for lon in (-180.0, -10.0, 117.6, 179.99):
        for h_m in (0.0, 890.0, 500e3, 35786e3):
            r = geometry.geodetic_to_ecef(lat, lon, h_m)
            lat2, lon2, h_km = geometry.ecef_to_geodetic(r)
            back = geometry.geodetic_to_ecef(lat2, lon2, h_km * 1000.0)
            assert np.linalg.norm(back - r) < 1e-6  # < 1 mm


def test_sun_direction_matches_skyfield(timebase):
    eph = ephemeris()
    t_s = np.arange(0.0, 3 * 86400.0, 777.0)
    sun = SunTrack(timebase, 0.0, 3 * 86400.0).unit_ecef(t_s)
    lat, lon = 47.0671, 15.4933
    east, north, up = geometry.enu_basis(lat, lon)
    ours_deg = np.degrees(np.arcsin(sun @ up))
    observer = eph["earth"] + wgs84.latlon(lat, lon, 539.4)
    ref = observer.at(timebase.time(t_s)).observe(eph["sun"]).apparent().altaz()[0].degrees
    # Geometric vs apparent direction: aberration (20") and parallax (9") -> < 0.01 deg.
    assert np.abs(ours_deg - ref).max() < 0.01


def test_interpolated_track_matches_sgp4(timebase, micius_satrec):
    # The pass finder refines events on a quintic Hermite interpolation of 120 s samples;
    # measured error ~0.4 m in LEO (SGP4's velocity is not exactly the derivative of its
    # position at the cm/s level, which sets the floor). Assert 2 m, GEO included.
    epoch = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
    sats = [micius_satrec] + [orbits.satrec_from_elements(orbits.Elements(orbits.semi_major_axis_km(h), 0.001, 60.0,
                                                                          0.0, 0.0, 0.0, epoch))
                              for h in (300.0, 1200.0, 20000.0, 35786.0)]
    prop = Propagator(sats, timebase)
    track = Track(prop.states(np.arange(0.0, 86400.0 + 120.0, 120.0)))
    t = np.random.default_rng(7).uniform(0.0, 86400.0, 5000)
    for k in range(len(sats)):
        r, _, _ = track.at(np.full(t.size, k), t)
        exact = prop.pairwise(np.full(t.size, k), t).r_km[0]
        assert np.linalg.norm(r - exact, axis=1).max() < 2e-3
