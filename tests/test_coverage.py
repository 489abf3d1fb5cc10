"""Coverage: equal-area grid, fast kernel vs brute force, statistics, physics, Walker reference."""

import datetime as dt
import itertools
import json
import math

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from constellation.coverage import grid as cg
from constellation.coverage import kernels as cv
from constellation.coverage import statistics as cs
from constellation.core import orbits
from constellation.constants import WGS72_MU_KM3_S2
from constellation.errors import ParameterError
from constellation.constants import EARTH_MEAN_RADIUS_KM
from constellation.coverage.caps import cap_angle_deg
from constellation.core.propagation import Propagator
from constellation.core.timebase import TimeBase, parse_utc

EPOCH = dt.datetime(2024, 3, 20, 0, 0, 0, tzinfo=dt.timezone.utc)
TB = TimeBase(parse_utc(EPOCH))

BACKENDS = ["numpy", "numba"]  # numba is a dependency; numpy is the fallback kept for it


def walker_satrecs(total, planes, phasing, altitude_km, inclination_deg):
    items = orbits.walker("delta", total, planes, phasing, altitude_km, inclination_deg, EPOCH)
    return [orbits.satrec_from_elements(el, 1000 + i) for i, (_, _, el) in enumerate(items)]


def satrec(altitude_km=550.0, inclination_deg=90.0, raan_deg=0.0, mean_anomaly_deg=0.0, a_km=None):
    a = a_km or orbits.semi_major_axis_km(altitude_km)
    return orbits.satrec_from_elements(orbits.Elements(a, 0.0, inclination_deg, raan_deg, 0.0,
                                                       mean_anomaly_deg, EPOCH))


@pytest.fixture(scope="module")
def walker24():
    return Propagator(walker_satrecs(24, 6, 1, 550.0, 53.0), TB)


# ----------------------------------------------------------------------------- grids


def test_equal_area_grid_at_one_degree():
    grid = cg.equal_area_grid(1.0)
    # 4 pi sr / (1 deg)^2 = 41,253 cells.
    assert grid.size == pytest.approx(41253, rel=0.002)
    assert grid.weight.sum() == pytest.approx(1.0, abs=1e-12)
    # Near-equal areas: integer longitude counts leave < 2 % spread away from the polar rows.
    mid = np.abs(grid.lat_deg) < 80.0
    assert grid.weight[mid].max() / grid.weight[mid].min() < 1.02
    # Row weights are exact: the northern hemisphere holds half the area.
    assert grid.weight[grid.lat_deg > 0].sum() == pytest.approx(0.5, abs=1e-12)
    assert grid.lon_deg.min() > -180.0 and grid.lon_deg.max() < 180.0


@pytest.mark.parametrize("bad", [0.01, 0.0, 45.0, -1.0, "coarse", None])
def test_grid_resolution_out_of_range(bad):
    with pytest.raises(ParameterError, match="grid resolution_deg: expected a resolution between 0.1 and 30 deg"):
        cg.equal_area_grid(bad)


def test_region_and_target_grids():
    region = box(-10.0, 35.0, 30.0, 60.0)  # Europe-ish
    grid = cg.region_grid(region, 1.0)
    full = cg.equal_area_grid(1.0)
    inside = (full.lon_deg > -10) & (full.lon_deg < 30) & (full.lat_deg > 35) & (full.lat_deg < 60)
    assert grid.size == inside.sum()
    assert grid.weight.sum() == pytest.approx(1.0)
    targets = cg.target_grid([40.0, -33.9], [116.4, 18.4], ["Beijing", "Cape Town"])
    assert targets.names == ("Beijing", "Cape Town") and targets.size == 2


def test_empty_region_and_bad_targets():
    with pytest.raises(ParameterError, match="region: expected a non-empty polygon"):
        cg.region_grid(Polygon(), 1.0)
    with pytest.raises(ParameterError, match="at least one point"):
        cg.region_grid(box(0.0, 0.0, 0.01, 0.01), 1.0)
    with pytest.raises(ParameterError, match="latitudes in \\[-90, 90\\]"):
        cg.target_grid([100.0], [0.0])
    with pytest.raises(ParameterError, match="one or more"):
        cg.target_grid([], [])


# ----------------------------------------------------------------------------- kernel


@pytest.fixture(scope="module")
def small_case(walker24):
    """24 Walker satellites, one polar, one with failed samples; 3 h at 60 s."""
    sats = walker24.satrecs + [satrec(inclination_deg=90.0), satrec(800.0, 97.6, 40.0)]
    states = Propagator(sats, TB).states(np.arange(0.0, 3 * 3600.0, 60.0))
    valid = states.valid.copy()
    valid[-1, 20:60] = False  # a failing satellite covers nothing while it fails
    return states.r_km, valid


GRIDS = {
    "global-3deg": lambda: cg.equal_area_grid(3.0),
    "region": lambda: cg.region_grid(box(-30.0, -60.0, 60.0, 80.0), 2.0),
    "region-antimeridian": lambda: cg.region_grid(MultiPolygon([box(150, -40, 180, 70), box(-180, -40, -150, 70)]), 1.5),
    "targets": lambda: cg.target_grid([0.0, 45.0, 90.0, -90.0, 10.0, 10.0, 53.0, -89.99],
                                      [179.999, -180.0, 0.0, 20.0, 5.0, -175.0, 100.0, 33.0]),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("grid_name", list(GRIDS))
def test_fast_kernel_equals_brute_force(small_case, grid_name, backend):
    r_km, valid = small_case
    grid = GRIDS[grid_name]()
    fast = cv.covering_counts(r_km, grid, 20.0, valid=valid, backend=backend, chunk_states=700)
    dense = cv.covering_counts_dense(r_km, grid, 20.0, valid=valid)
    assert fast.shape == (r_km.shape[1], grid.size)
    assert dense.sum() > 0
    np.testing.assert_array_equal(fast, dense)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_kernel_equals_brute_force_with_wide_caps(backend):
    # Caps of 60-75 deg (MEO/GEO) span most rows and contain poles.
    sats = walker_satrecs(6, 3, 1, 20000.0, 55.0) + [satrec(a_km=42164.0, inclination_deg=0.1)]
    states = Propagator(sats, TB).states(np.arange(0.0, 7200.0, 600.0))
    grid = cg.equal_area_grid(4.0)
    for cap in (None, 75.0):
        fast = cv.covering_counts(states.r_km, grid, 5.0, cap_angle_deg=cap, backend=backend)
        np.testing.assert_array_equal(fast, cv.covering_counts_dense(states.r_km, grid, 5.0, cap_angle_deg=cap))


# ----------------------------------------------------------------------------- statistics


def _positions_from_pattern(pattern):
    """One satellite, 7000 km out, over (0, 0) where pattern is 1 and over (0, 180) where 0."""
    pattern = np.asarray(pattern)
    r = np.zeros((1, pattern.size, 3))
    r[0, :, 0] = np.where(pattern == 1, 7000.0, -7000.0)
    return r


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pattern, passes, gaps", [
    ([1, 1, 0, 0, 0, 1, 0, 0, 1, 1], 3, [3, 2]),
    ([0, 0, 1, 1, 0], 1, [2, 1]),  # gaps cut by the start and the end of the span count
    ([1, 1, 1, 1], 1, []),
    ([0, 0, 0], 0, [3]),
])
def test_passes_gaps_and_response_by_hand(pattern, passes, gaps, backend):
    step = 60.0
    grid = cg.target_grid([0.0], [0.0])
    res = cs.coverage_from_positions(_positions_from_pattern(pattern), step, grid, cap_angle_deg=10.0,
                                     backend=backend, chunk_steps=2)
    assert res.coverage_fraction[0] == pytest.approx(np.mean(pattern))
    assert res.passes[0] == passes
    assert res.gap_count[0] == len(gaps)
    assert res.mean_gap_s[0] == pytest.approx(np.mean(gaps) * step if gaps else 0.0)
    assert res.max_gap_s[0] == (max(gaps) * step if gaps else 0.0)
    # Response: from each uncovered sample, the wait until the next usable sample (m, m-1, ..., 1 steps).
    waits = sum(m * (m + 1) / 2 for m in gaps)
    assert res.mean_response_s[0] == pytest.approx(waits * step / len(pattern))


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunking_does_not_change_the_statistics(walker24, backend):
    grid = cg.equal_area_grid(5.0)
    one = cs.coverage(walker24, grid, 6 * 3600.0, 60.0, backend=backend, night_sun_elevation_deg=-12.0,
                      night_only=True)
    many = cs.coverage(walker24, grid, 6 * 3600.0, 60.0, backend=backend, night_sun_elevation_deg=-12.0,
                       night_only=True, chunk_states=24 * 7)  # 7 steps per chunk
    for name in ("coverage_fraction", "night_fraction", "night_coverage_fraction", "passes", "gap_count",
                 "mean_gap_s", "max_gap_s", "mean_response_s", "mean_in_view"):
        np.testing.assert_allclose(getattr(one, name), getattr(many, name), rtol=1e-12, err_msg=name)


def test_numpy_and_numba_statistics_agree(walker24):
    assert cv._numba_counts() is not None  # numba is a declared dependency
    grid = cg.equal_area_grid(5.0)
    kw = dict(night_sun_elevation_deg=-12.0, k=1)
    a = cs.coverage(walker24, grid, 12 * 3600.0, 60.0, backend="numpy", **kw)
    b = cs.coverage(walker24, grid, 12 * 3600.0, 60.0, backend="numba", **kw)
    sa, sb = a.summary(), b.summary()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert sa[key] == (pytest.approx(sb[key], rel=1e-12) if isinstance(sa[key], float) else sb[key]), key


def test_summary_bands_and_table(walker24):
    res = cs.coverage(walker24, cg.equal_area_grid(5.0), 6 * 3600.0, 60.0, night_sun_elevation_deg=-12.0)
    summary = res.summary()
    json.dumps(summary)
    for key in ("global_coverage_fraction", "mean_revisit_gap_s", "max_revisit_gap_s",
                "global_night_coverage_fraction", "mean_response_time_s"):
        assert key in summary and math.isfinite(summary[key])
    assert 0.0 < summary["global_coverage_fraction"] < 1.0
    assert summary["max_revisit_gap_s"] == res.duration_s  # the poles never see a 53 deg shell
    bands = res.latitude_bands(10.0)
    json.dumps(bands)
    assert sum(b["area_fraction"] for b in bands) == pytest.approx(1.0)
    assert sum(b["area_fraction"] * b["coverage_fraction"] for b in bands) == pytest.approx(
        summary["global_coverage_fraction"])
    table = res.table()
    assert all(np.all(np.isfinite(v)) for k, v in table.items() if k != "name")
    assert len(table["coverage_fraction"]) == res.grid.size


# ----------------------------------------------------------------------------- physics


def test_a_polar_satellite_covers_the_poles_more_than_the_equator():
    prop = Propagator([satrec(550.0, 90.0)], TB)
    res = cs.coverage(prop, cg.equal_area_grid(3.0), 86400.0, 60.0, min_elevation_deg=20.0)
    bands = {b["lat_min_deg"]: b for b in res.latitude_bands(10.0)}
    polar = min(bands[80.0]["coverage_fraction"], bands[-90.0]["coverage_fraction"])
    equator = max(bands[0.0]["coverage_fraction"], bands[-10.0]["coverage_fraction"])
    assert polar > 5 * equator > 0.0
    # At the pole itself the satellite is within the cap for 2 lambda / 360 of each orbit.
    at_pole = cs.coverage(prop, cg.target_grid([90.0], [0.0]), 86400.0, 20.0, min_elevation_deg=20.0)
    assert at_pole.coverage_fraction[0] == pytest.approx(2 * float(cap_angle_deg(550.0, 20.0)) / 360.0, rel=0.05)


def test_coverage_grows_with_satellites_and_with_lower_masks(walker24):
    grid = cg.equal_area_grid(3.0)
    t = np.arange(0.0, 6 * 3600.0, 60.0)
    states = walker24.states(t)
    counts = [cv.covering_counts(states.r_km[:n], grid, 20.0) for n in (4, 8, 16, 24)]
    fractions = [float(np.dot((c >= 1).mean(axis=0), grid.weight)) for c in counts]
    assert all(np.all(a <= b) for a, b in zip(counts, counts[1:]))  # pointwise, every sample
    assert all(a < b for a, b in zip(fractions, fractions[1:]))
    masks = [cv.covering_counts(states.r_km, grid, m) for m in (5.0, 10.0, 20.0, 40.0)]
    assert all(np.all(a >= b) for a, b in zip(masks, masks[1:]))
    global_fraction = [cs.coverage_from_positions(states.r_km, 60.0, grid, min_elevation_deg=m).summary()
                       ["global_coverage_fraction"] for m in (5.0, 10.0, 20.0, 40.0)]
    assert all(a > b for a, b in zip(global_fraction, global_fraction[1:]))


def test_a_geo_satellite_covers_its_footprint_all_day():
    a_geo = (WGS72_MU_KM3_S2 * (86164.0905 / (2 * math.pi)) ** 2) ** (1.0 / 3.0)
    prop = Propagator([satrec(a_km=a_geo, inclination_deg=0.0, mean_anomaly_deg=0.0)], TB)
    r0 = prop.states([0.0]).r_km[0, 0]
    lon0 = math.degrees(math.atan2(r0[1], r0[0]))
    cap = float(cap_angle_deg(np.linalg.norm(r0) - EARTH_MEAN_RADIUS_KM, 10.0))
    # Points from the sub-satellite point out to 2 deg inside the cap edge, and some outside it.
    ring = np.linspace(0.0, cap - 2.0, 6)
    inside = cg.target_grid(np.concatenate([ring, -ring[1:], 0 * ring[1:]]),
                            np.concatenate([lon0 + 0 * ring, lon0 + 0 * ring[1:], lon0 + ring[1:]]))
    res = cs.coverage(prop, inside, 86400.0, 300.0, min_elevation_deg=10.0)
    assert np.all(res.coverage_fraction == 1.0)
    assert np.all(res.passes == 1) and np.all(res.max_gap_s == 0.0) and np.all(res.mean_response_s == 0.0)
    outside = cg.target_grid([0.0, 0.0, 80.0], [lon0 + cap + 2.0, lon0 + 180.0, lon0])
    far = cs.coverage(prop, outside, 86400.0, 300.0, min_elevation_deg=10.0)
    assert np.all(far.coverage_fraction == 0.0) and np.all(far.max_gap_s == 86400.0)


def test_night_fraction_at_equinox_and_in_polar_night():
    prop = Propagator([satrec()], TB)
    # 2024-03-20 (equinox 03:06 UTC): at the equator the Sun is below -12 deg while the hour
    # angle exceeds 90 + 12 deg: (360 - 2 x 102) / 360 = 0.433 of the day.
    eq = cs.coverage(prop, cg.target_grid([0.0, 0.0], [0.0, 120.0]), 86400.0, 60.0,
                     night_sun_elevation_deg=-12.0)
    np.testing.assert_allclose(eq.night_fraction, 156.0 / 360.0, atol=0.01)
    assert np.all(eq.night_coverage_fraction <= np.minimum(eq.night_fraction, eq.coverage_fraction))
    # 2024-12-21: the north pole sees the Sun at about -23.4 deg all day, the south pole at +23.4.
    tb = TimeBase(parse_utc("2024-12-21T00:00:00Z"))
    poles = cs.coverage(Propagator([satrec()], tb), cg.target_grid([90.0, -90.0], [0.0, 0.0]), 86400.0, 600.0,
                        night_sun_elevation_deg=-12.0)
    assert list(poles.night_fraction) == [1.0, 0.0]


# ----------------------------------------------------------------------------- Walker reference


def _exact_covering_radius_deg(u):
    """Largest distance (deg) from any point of the sphere to its nearest satellite, at one instant.

    Independent of any grid: the farthest points are the circumcentres of the facets of the
    convex hull of the satellite directions (vertices of the spherical Voronoi diagram).
    """
    best = 0.0
    for i, j, k in itertools.combinations(range(len(u)), 3):
        n = np.cross(u[j] - u[i], u[k] - u[i])
        n /= np.linalg.norm(n)
        n = n if n @ u[i] > 0 else -n
        d = u @ n
        if np.all(d <= d[i] + 1e-12):
            best = max(best, math.degrees(math.acos(min(1.0, d[i]))))
    return best


# Lang, T. J. and Adams, W. S., "A comparison of satellite constellations for continuous global
# coverage", in Mission Design & Implementation of Satellite Constellations (J. C. van der Ha,
# ed.), Kluwer 1998, pp. 51-62, doi:10.1007/978-94-011-5088-0_5, Table 3 "Optimal Walker
# constellations for continuous global coverage": theta is the Earth central angle radius of
# the coverage circle needed for continuous k-fold global coverage.
#   5/5/1 at i = 43.6 deg: 1-fold theta = 69.106 deg (Walker's classic 5-satellite pattern)
#   7/7/2 at i = 61.2 deg: 2-fold theta = 75.839 deg
# Tolerance: the table gives i to 0.1 deg and finds the worst instant by time sampling (which
# can only under-estimate theta). Our grid evaluation samples space (1 deg) and time (60 s)
# and can only under-estimate too; the exact covering radius (hull facets, 5 s steps) of 5/5/1
# at 43.6 deg is 69.19 deg. Stated tolerance 0.15 deg (1-fold) and 0.25 deg (2-fold).
WALKER = [((5, 5, 1), 43.6, 1, 69.106, 0.15), ((7, 7, 2), 61.2, 2, 75.839, 0.25)]


@pytest.mark.parametrize("tpf, inclination_deg, k, theta_deg, tol_deg",
                         [WALKER[0], pytest.param(*WALKER[1], marks=pytest.mark.slow)])
def test_walker_continuous_global_coverage_reproduces_lang_and_adams(tpf, inclination_deg, k, theta_deg, tol_deg):
    total, planes, phasing = tpf
    altitude_km = 20000.0  # theta does not depend on altitude; MEO keeps the elevation mask >= 0
    prop = Propagator(walker_satrecs(total, planes, phasing, altitude_km, inclination_deg), TB)
    # The pattern repeats (rotated) every period / T: one repeat holds the worst instant.
    period = orbits.period_s(orbits.semi_major_axis_km(altitude_km))
    t = np.arange(0.0, period / total + 60.0, 60.0)
    states = prop.states(t)
    grid = cg.equal_area_grid(1.0)
    theta = cv.required_cap_angle_deg(states.r_km, grid, k)
    assert theta == pytest.approx(theta_deg, abs=tol_deg)
    if k == 1:
        u = states.r_km / np.linalg.norm(states.r_km, axis=-1, keepdims=True)
        exact = max(_exact_covering_radius_deg(u[:, i]) for i in range(t.size))
        assert exact == pytest.approx(theta_deg, abs=tol_deg)
        assert exact - 0.75 <= theta <= exact + 1e-9  # a 1 deg grid misses the worst point by < 0.75 deg
    # The coverage kernel agrees: continuous k-fold global coverage just above theta, gaps below it.
    above = cs.coverage_from_positions(states.r_km, 60.0, grid, k=k, cap_angle_deg=theta_deg + tol_deg)
    below = cs.coverage_from_positions(states.r_km, 60.0, grid, k=k, cap_angle_deg=theta_deg - 1.0)
    assert above.summary()["global_coverage_fraction"] == 1.0
    assert above.summary()["max_revisit_gap_s"] == 0.0
    assert below.summary()["global_coverage_fraction"] < 1.0


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_elevation_deg=90.0), "min_elevation_deg: expected an elevation mask in \\[0, 90\\) deg"),
    (dict(min_elevation_deg=120.0), "min_elevation_deg"),
    (dict(k=0), "k: expected a coverage fold k >= 1"),
    (dict(step_s=0.0), "step_s: expected a time step > 0 s"),
    (dict(duration_s=10.0), "duration_s: expected a duration of at least one step"),
    (dict(night_sun_elevation_deg=-100.0), "night_sun_elevation_deg"),
    (dict(backend="fortran"), "backend"),
])
def test_bad_coverage_input(walker24, kwargs, message):
    args = dict(duration_s=3600.0, step_s=60.0)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=message):
        cs.coverage(walker24, cg.equal_area_grid(10.0), **args)


def test_bad_kernel_input():
    grid = cg.equal_area_grid(10.0)
    with pytest.raises(ParameterError, match="r_km: expected positions of shape"):
        cv.covering_counts(np.zeros((3, 3)), grid)
    with pytest.raises(ParameterError, match="cap_angle_deg"):
        cv.covering_counts(np.ones((1, 1, 3)) * 7000.0, grid, cap_angle_deg=0.0)
