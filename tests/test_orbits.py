"""Designed orbits built with sgp4init: sun-synchronous, LTAN, Walker, classical elements."""

import datetime as dt
import math

import numpy as np
import pytest

from constellation.core import orbits
from constellation.core.geometry import ecef_to_geodetic
from constellation.core.propagation import Propagator
from constellation.core.timebase import TimeBase, parse_utc

EPOCH = dt.datetime(2016, 12, 18, 21, 38, 11, tzinfo=dt.timezone.utc)


def test_sun_synchronous_inclination_matches_micius():
    # docs/references.md §1 (derived, J2 nodal-rate formula): 97.379 deg needed at 494 km, e = 0.0013.
    # Our WGS72 constants differ from that calculation's WGS84 ones by < 0.01 deg.
    assert orbits.sun_synchronous_inclination_deg(494.0, 0.0013) == pytest.approx(97.379, abs=0.02)


def test_sun_synchronous_node_follows_the_mean_sun():
    # The nodal rate SGP4 computes for the designed orbit must be 360 deg per tropical year
    # (0.98565 deg/day); the design tunes the inclination on SGP4 itself, to 1e-6 relative.
    elements = orbits.sun_synchronous(500.0, 22.5, EPOCH)
    sat = orbits.satrec_from_elements(elements)
    rate_deg_day = math.degrees(sat.nodedot) * 1440.0
    assert rate_deg_day == pytest.approx(360.0 / 365.2422, rel=1e-5)
    assert elements.inclination_deg == pytest.approx(97.40, abs=0.05)  # ~97.4 deg at 500 km


def test_ltan_reproduces_the_micius_node():
    # docs/references.md §1: the 2016-12-18 TLE (RAAN 267.4500 deg) has LTAN ~ 12:01 apparent
    # solar time (V-calc with a low-precision Sun). One minute of local time = 0.25 deg; allow 0.5 deg.
    raan = orbits.raan_for_ltan_deg(orbits.parse_local_time_hours("12:01"), EPOCH)
    assert abs((raan - 267.45 + 180) % 360 - 180) < 0.5


def test_circular_altitude_is_kept_over_an_orbit():
    elements = orbits.Elements(orbits.semi_major_axis_km(500.0), 0.0, 53.0, 10.0, 0.0, 0.0, EPOCH)
    sat = orbits.satrec_from_elements(elements)
    tb = TimeBase(parse_utc(EPOCH))
    states = Propagator([sat], tb).states(np.arange(0.0, 5700.0, 30.0))
    _, _, height_km = ecef_to_geodetic(states.r_km[0])
    # Mean height above the ellipsoid ~500 km; the ellipsoid's flattening (21 km) and J2
    # short-period terms make it swing by tens of km.
    assert height_km.mean() == pytest.approx(500.0, abs=15.0)
    assert np.ptp(height_km) < 45.0


@pytest.mark.parametrize("pattern, spread", [("delta", 360.0), ("star", 180.0)])
def test_walker_geometry(pattern, spread):
    items = orbits.walker(pattern, 24, 3, 1, 550.0, 53.0, EPOCH)
    assert len(items) == 24
    raans = sorted({round(el.raan_deg, 9) for _, _, el in items})
    assert np.allclose(np.diff(raans), spread / 3)
    # In-plane spacing 360/S and inter-plane phase offset F * 360 / T (Walker T/P/F).
    plane0 = [el.mean_anomaly_deg for p, _, el in items if p == 0]
    plane1 = [el.mean_anomaly_deg for p, _, el in items if p == 1]
    assert np.allclose(np.diff(plane0), 45.0)
    assert plane1[0] - plane0[0] == pytest.approx(360.0 * 1 / 24)


def test_walker_rejects_inconsistent_patterns():
    with pytest.raises(ValueError):
        orbits.walker("delta", 25, 3, 1, 550.0, 53.0, EPOCH)
    with pytest.raises(ValueError):
        orbits.walker("delta", 24, 3, 3, 550.0, 53.0, EPOCH)


def test_no_sun_synchronous_orbit_too_high():
    with pytest.raises(ValueError):
        orbits.sun_synchronous_inclination_deg(7000.0)


# --- Geostationary satellites kept in their slot -------------------------------------------
# ITU Radio Regulations No. 22.6: a geostationary space station keeps within +/-0.1 deg of its
# nominal longitude. SGP4 alone lets a satellite placed at 100 E drift towards 75 E.

def _geo_scenario(inclination_deg=0.0, end="2028-01-01T00:00:00Z"):
    from constellation.scenario.build import scenario_from_dict

    return scenario_from_dict({
        "scenario": {"name": "geo", "start": "2027-01-01T00:00:00Z", "end": end},
        "satellites": [{"name": "G", "geo_longitude_deg": 100.0, "inclination_deg": inclination_deg}],
        "stations": [{"name": "Xinglong"}]})


def test_a_geostationary_satellite_stays_in_its_slot_for_a_year():
    from constellation.pipeline import propagator_for

    scenario = _geo_scenario()
    t_s = np.linspace(0.0, 364 * 86400.0, 2000)
    lat, lon, height = ecef_to_geodetic(propagator_for(scenario).states(t_s).r_km[0])
    assert np.abs(lon - 100.0).max() < 0.1 and np.abs(lat).max() < 0.1  # the ITU box
    assert np.abs(height - (orbits.GEO_SEMI_MAJOR_AXIS_KM - 6378.137)).max() < 0.01  # on the equator: a - R_e
    # Why: the same elements left to SGP4 are > 10 deg away within half a year.
    free = Propagator([scenario.satellites[0].satrec], scenario.timebase).states(t_s[t_s <= 180 * 86400.0])
    assert np.abs(ecef_to_geodetic(free.r_km[0])[1] - 100.0).max() > 10.0


def test_an_inclined_geosynchronous_slot_traces_its_figure_of_eight():
    from constellation.pipeline import propagator_for

    inc = 5.0
    scenario = _geo_scenario(inc, end="2027-01-03T00:00:00Z")
    t_s = np.linspace(0.0, 86164.0905, 4001)  # one sidereal day
    states = propagator_for(scenario).states(t_s)
    lat, lon, _ = ecef_to_geodetic(states.r_km[0])
    # Geocentric latitude of a circular orbit peaks at the inclination; geodetic is ~0.03 deg more at 5 deg.
    geocentric = np.degrees(np.arcsin(states.r_km[0, :, 2] / np.linalg.norm(states.r_km[0], axis=-1)))
    assert abs(geocentric.max() - inc) < 1e-3 and abs(geocentric.min() + inc) < 1e-3
    # Longitude swing of a circular geosynchronous orbit: atan(cos i tan u) - u, largest at tan u = 1/sqrt(cos i).
    c = math.cos(math.radians(inc))
    swing_deg = math.degrees(math.atan(math.sqrt(c)) - math.atan(1.0 / math.sqrt(c)))
    assert abs(np.abs(lon - 100.0).max() - abs(swing_deg)) < 2e-4
    assert abs(lat[0]) < 1e-6 and abs(lon[0] - 100.0) < 1e-6  # on its node over the slot at the epoch
    # Velocity is the derivative of position (Earth-relative), central differences at 1 s.
    dt_s = np.array([-1.0, 1.0])
    for t0 in (0.0, 20000.0, 50000.0):
        ends = propagator_for(scenario).states(t0 + dt_s).r_km[0]
        derivative = (ends[1] - ends[0]) / 2.0
        assert np.abs(derivative - propagator_for(scenario).states([t0]).v_km_s[0, 0]).max() < 1e-6


def test_the_slot_starts_where_sgp4_puts_the_elements():
    # At the epoch the kept slot and SGP4's own position of the same elements agree to SGP4's
    # short-period terms (a few km at 42,164 km: < 0.02 deg seen from the Earth's centre).
    from constellation.pipeline import propagator_for

    for inc in (0.0, 5.0):
        scenario = _geo_scenario(inc)
        kept = propagator_for(scenario).states([0.0]).r_km[0, 0]
        free = Propagator([scenario.satellites[0].satrec], scenario.timebase).states([0.0]).r_km[0, 0]
        assert np.linalg.norm(kept - free) < 15.0, inc


def test_a_geostationary_satellite_is_where_skyfield_puts_a_fixed_point():
    # Seen from Xinglong, a satellite kept over (0 N, 100 E) is at the azimuth and elevation
    # Skyfield gives for that Earth-fixed point (WGS84 height a - R_e), all year.
    from skyfield.api import load, wgs84

    from constellation.core.geometry import enu_basis, geodetic_to_ecef, look_angles
    from constellation.pipeline import propagator_for
    from constellation.scenario.stations import builtin_station

    scenario = _geo_scenario()
    station = builtin_station("Xinglong")
    ts = load.timescale(builtin=True)
    here = wgs84.latlon(station.latitude_deg, station.longitude_deg, elevation_m=station.elevation_m)
    slot = wgs84.latlon(0.0, 100.0, elevation_m=(orbits.GEO_SEMI_MAJOR_AXIS_KM - 6378.137) * 1e3)
    t_s = np.array([0.0, 100 * 86400.0, 300 * 86400.0])
    r = propagator_for(scenario).states(t_s).r_km[0]
    site = geodetic_to_ecef(station.latitude_deg, station.longitude_deg, station.elevation_m)
    el, az, _ = np.degrees(look_angles(r, site, *enu_basis(station.latitude_deg, station.longitude_deg)))
    times = ts.utc(2027, 1, 1, 0, 0, t_s)
    alt_ref, az_ref, _ = (slot - here).at(times).altaz()
    assert np.abs(el - alt_ref.degrees).max() < 0.01 and np.abs(az - az_ref.degrees).max() < 0.01
