"""Earth-fixed positions and the geometry kernels against Skyfield.

Skyfield is the independent reference: its ``EarthSatellite`` turns SGP4's TEME output into
GCRS through its own precession-nutation chain and back into ITRS; its ``wgs84`` positions
and ``altaz`` use their own geodesy and rotations. Measured agreement (skyfield 1.55,
sgp4 2.27, Micius TLE of 2016-12-18, 2016-12-19 at 10 s):

- Earth-fixed position: 1e-7 m (tolerance 1 m);
- elevation 5e-12 deg, azimuth 1e-11 deg, range 1e-10 km (tolerances 1e-6 deg, 1e-5 deg,
  1e-6 km), at mid latitudes, both poles and the antimeridian;
- geodetic round trip and WGS84 forward vs skyfield: < 1 mm (asserted);
- GMST-1982: 1e-15 rad (tolerance 1e-12 rad);
- Sun direction (geometric, geocentric) in the local horizon: 5e-8 deg (tolerance 0.001 deg);
  against Skyfield's apparent topocentric Sun: 0.008 deg (tolerance 0.01 deg, see the test).
"""

import datetime as dt

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import theta_GMST1982

from constellation.core import geometry
from constellation.core import orbits
from constellation.core.propagation import Propagator, Track
from constellation.core.sun import SunTrack
from constellation.core.timebase import TimeBase, ephemeris, parse_utc, timescale

from conftest import MICIUS_TLE

DAY = np.arange(0.0, 86400.0, 10.0)
# (latitude, longitude, elevation m): Xinglong, Stellenbosch, both poles, the antimeridian.
SITES = [(40.39587, 117.57746, 890.0), (-33.93, 18.86, 110.0), (90.0, 0.0, 0.0), (-90.0, 0.0, 2835.0),
         (0.0, 180.0, 0.0), (-17.0, -180.0, 10.0)]


@pytest.fixture(scope="module")
def timebase():
    return TimeBase(parse_utc("2016-12-19T00:00:00Z"))


@pytest.fixture(scope="module")
def micius_day(timebase):
    """Our Earth-fixed Micius positions over a day at 10 s, and Skyfield's satellite."""
    from sgp4.api import Satrec

    states = Propagator([Satrec.twoline2rv(*MICIUS_TLE)], timebase).states(DAY)
    assert states.valid.all()
    return states.r_km[0], EarthSatellite(*MICIUS_TLE, ts=timescale())


def test_earth_fixed_positions_match_skyfield_itrs(timebase, micius_day):
    # Both rotate TEME about z by GMST-1982 evaluated on UT1 from skyfield's built-in IERS
    # tables, and neither applies polar motion (skyfield loads none by default), so they
    # agree to round-off: measured ~1e-7 m. 1 m is far above that, yet tight enough to catch
    # any frame or time-scale slip: 1 ms of UT1 already moves a LEO satellite 0.5 m
    # Earth-fixed, and using UTC instead of UT1 (-0.4 s in Dec 2016) ~200 m. (True ITRS
    # differs from both by polar motion, ~0.3 arcsec, i.e. ~10 m at LEO radius.)
    ours, sat = micius_day
    ref = sat.at(timebase.time(DAY)).frame_xyz(itrs).km.T
    err_m = np.linalg.norm(ours - ref, axis=1).max() * 1000.0
    print(f"max |r_ours - r_skyfield_itrs| over 1 day at 10 s: {err_m:.2e} m")
    assert err_m < 1.0


def test_gmst_matches_skyfield(timebase):
    # Same IAU-82 polynomial (Vallado's gstime as coded in skyfield.sgp4lib); over a day and
    # over decades, on UT1 split into whole day and fraction.
    whole, _, fraction_ut1 = timebase.sgp4_and_ut1(DAY)
    theta, _ = theta_GMST1982(whole, fraction_ut1)
    diff = np.angle(np.exp(1j * (geometry.gmst82_rad(whole, fraction_ut1) - theta)))
    assert np.abs(diff).max() < 1e-12
    jd_whole = np.floor(np.linspace(2447892.5, 2466154.5, 2001)) + 0.5  # 1990 .. 2040
    fraction = np.random.default_rng(3).uniform(0.0, 1.0, jd_whole.size)
    theta, _ = theta_GMST1982(jd_whole, fraction)
    diff = np.angle(np.exp(1j * (geometry.gmst82_rad(jd_whole, fraction) - theta)))
    assert np.abs(diff).max() < 1e-12


@pytest.mark.parametrize("site", [s if s in (SITES[0], SITES[2]) else pytest.param(s, marks=pytest.mark.slow) for s in SITES],
                         ids=lambda s: f"{s[0]}_{s[1]}")
def test_look_angles_match_skyfield_altaz(timebase, micius_day, site):
    # Elevation 1e-6 deg (~0.01 m across at 500 km): measured ~5e-12 deg everywhere,
    # including the poles (where "north" is defined by the longitude, as in skyfield).
    lat, lon, h_m = site
    ours, sat = micius_day
    east, north, up = geometry.enu_basis(lat, lon)
    el, az, rng = geometry.look_angles(ours, geometry.geodetic_to_ecef(lat, lon, h_m), east, north, up)
    alt, az_ref, dist = (sat - wgs84.latlon(lat, lon, h_m)).at(timebase.time(DAY)).altaz()
    err_el = np.abs(np.degrees(el) - alt.degrees).max()
    # Azimuth is ill-conditioned only near the zenith; compare it below 89 deg.
    not_zenith = alt.degrees < 89.0
    err_az = np.degrees(np.abs(np.angle(np.exp(1j * (az - az_ref.radians))))[not_zenith]).max()
    err_rng = np.abs(rng - dist.km).max()
    print(f"{site}: max |d el| {err_el:.1e} deg, |d az| {err_az:.1e} deg, |d range| {err_rng:.1e} km")
    assert err_el < 1e-6
    assert err_az < 1e-5
    assert err_rng < 1e-6
    assert np.all((az >= 0.0) & (az < 2.0 * np.pi))


@pytest.mark.parametrize("lat", [-90.0, -89.9999, -45.0, 0.0, 40.4, 89.999, 90.0])
def test_geodetic_round_trip(lat):
    # geodetic -> ECEF -> geodetic -> ECEF closes to < 1 mm from sea level to GEO, at the
    # poles (longitude undefined there, so compare in ECEF) and on the antimeridian.
    for lon in (-180.0, -10.0, 117.6, 179.99, 180.0):
        for h_m in (-100.0, 0.0, 890.0, 500e3, 35786e3):
            r = geometry.geodetic_to_ecef(lat, lon, h_m)
            # The forward transform against skyfield's WGS84 (independent code): < 1 mm.
            ref = wgs84.latlon(lat, lon, h_m).itrs_xyz.km
            assert np.linalg.norm(r - ref) < 1e-6
            lat2, lon2, h_km = geometry.ecef_to_geodetic(r)
            back = geometry.geodetic_to_ecef(lat2, lon2, h_km * 1000.0)
            assert np.linalg.norm(back - r) < 1e-6  # km: < 1 mm
            assert abs(h_km * 1000.0 - h_m) < 1e-3
            assert abs(lat2 - lat) < 1e-9  # ~0.1 mm on the ground
            if abs(lat) < 89.9:
                assert abs(np.angle(np.exp(1j * np.radians(lon2 - lon)))) < 1e-11


def test_geodetic_round_trip_vectorised():
    rng = np.random.default_rng(11)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, 20000)))
    lon = rng.uniform(-180.0, 180.0, lat.size)
    h_m = rng.uniform(-500.0, 40000e3, lat.size)
    r = geometry.geodetic_to_ecef(lat, lon, h_m)
    lat2, lon2, h_km = geometry.ecef_to_geodetic(r)
    assert np.linalg.norm(geometry.geodetic_to_ecef(lat2, lon2, h_km * 1000.0) - r, axis=-1).max() < 1e-6
    assert np.abs(h_km * 1000.0 - h_m).max() < 1e-3


@pytest.mark.parametrize("site", SITES[:5], ids=lambda s: f"{s[0]}_{s[1]}")
def test_sun_direction_matches_skyfield(timebase, site):
    lat, lon, h_m = site
    eph = ephemeris()
    t_s = np.arange(0.0, 3 * 86400.0, 97.0)  # never on the SunTrack's hourly nodes
    t = timebase.time(t_s)
    sun = SunTrack(timebase, 0.0, 3 * 86400.0).unit_ecef(t_s)
    _, _, up = geometry.enu_basis(lat, lon)
    ours_deg = np.degrees(np.arcsin(sun @ up))
    topo = wgs84.latlon(lat, lon, h_m)
    # Like for like: Skyfield's geometric geocentric Sun (DE421) turned into this station's
    # horizon frame by Skyfield's own rotation. This checks SunTrack's interpolation and its
    # GMST rotation: measured 5e-8 deg; tolerance 0.001 deg (3.6 arcsec, ~0.25 s of a
    # twilight-threshold crossing).
    geocentric = (eph["sun"] - eph["earth"]).at(t).position.au
    horizon = np.einsum("ij...,j...->i...", topo.rotation_at(t), geocentric)
    ref_geometric = np.degrees(np.arcsin(horizon[2] / np.linalg.norm(horizon, axis=0)))
    err = np.abs(ours_deg - ref_geometric).max()
    # What an observer there sees (Skyfield: light time, aberration, deflection, topocentric,
    # no refraction) differs by the solar parallax (up to 8.8 arcsec) plus the annual and
    # diurnal aberration (20.5 + 0.3 arcsec): ~30 arcsec = 0.0083 deg; measured 0.0083 deg
    # at most (on the equator). Tolerance 0.01 deg.
    ref_apparent = (eph["earth"] + topo).at(t).observe(eph["sun"]).apparent().altaz()[0].degrees
    err_apparent = np.abs(ours_deg - ref_apparent).max()
    print(f"{site}: Sun elevation vs skyfield geometric {err:.1e} deg, vs apparent {err_apparent:.4f} deg")
    assert err < 1e-3
    assert err_apparent < 0.01


def test_interpolated_track_matches_sgp4(timebase, micius_satrec):
    # The pass finder refines events on a quintic Hermite interpolation of its coarse SGP4
    # samples (propagation.Track). Measured ~0.4 m in LEO at 120 s (SGP4's velocity is not
    # exactly the derivative of its position at the cm/s level, which sets the floor);
    # 2 m is ~1e-6 rad seen from 2,000 km, i.e. < 0.2 ms of an AOS. GEO included.
    epoch = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
    sats = [micius_satrec] + [orbits.satrec_from_elements(orbits.Elements(orbits.semi_major_axis_km(h), 0.001, 60.0,
                                                                          0.0, 0.0, 0.0, epoch))
                              for h in (300.0, 1200.0, 20000.0, 35786.0)]
    prop = Propagator(sats, timebase)
    track = Track(prop.states(np.arange(0.0, 86400.0 + 120.0, 120.0)))
    t = np.random.default_rng(7).uniform(0.0, 86400.0, 5000)
    worst = []
    for k in range(len(sats)):
        r, _, _ = track.at(np.full(t.size, k), t)
        exact = prop.pairwise(np.full(t.size, k), t).r_km[0]
        worst.append(np.linalg.norm(r - exact, axis=1).max() * 1000.0)
    print("Hermite track vs SGP4, max error (m):", np.round(worst, 3))
    assert max(worst) < 2.0


@pytest.mark.parametrize("altitude_km, eccentricity", [(500.0, 0.03), (800.0, 0.1), (20000.0, 0.7)])
def test_default_step_keeps_eccentric_tracks_within_a_metre(timebase, altitude_km, eccentricity):
    # SGP4's velocity departs from the derivative of its position in proportion to the
    # eccentricity; passes.default_step_s shortens the step so the interpolation stays
    # ~0.5 m (measured 0.4-0.6 m here); assert 1 m.
    from constellation.passes.finder import default_step_s

    epoch = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
    a = max(orbits.semi_major_axis_km(altitude_km), 6578.0 / (1.0 - eccentricity))
    sat = orbits.satrec_from_elements(orbits.Elements(a, eccentricity, 63.4, 0.0, 270.0, 0.0, epoch))
    step = default_step_s([sat])
    prop = Propagator([sat], timebase)
    track = Track(prop.states(np.arange(0.0, 86400.0 + step, step)))
    t = np.random.default_rng(11).uniform(0.0, 86400.0, 3000)
    r, _, _ = track.at(np.zeros(t.size, int), t)
    exact = prop.pairwise(np.zeros(t.size, int), t).r_km[0]
    assert np.linalg.norm(r - exact, axis=1).max() < 1e-3
