"""Passes longer than ``LONG_PASS_S`` (a geosynchronous satellite that never sets) are cut at
each local mean solar noon of the station; every piece reports its own culmination and
closest approach, within the piece.

Reference: the elevation and range from the satellite's propagation evaluated directly
(SGP4 with its GEO slot, ``Propagator.states``: no interpolated track, no root search),
every 10 s over each piece and at both its edges. Sampling every 10 s misses a maximum by
at most ~(5 s)^2 x the curvature: the daily swing of a 3-deg inclined GEO seen from
Xinglong (~3 deg, ~30 km, at Earth's rotation rate 7.3e-5 rad/s) gives < 1e-6 deg and
< 1e-5 km, far below the tolerances (1e-3 deg, 0.01 km; measured 2.5e-5 deg and 2.6e-4 km
over 60 days: Hermite interpolation of the coarse track and the 10-ms root tolerance).
"""

import numpy as np
import pytest

from constellation.core import geometry
from constellation.passes.finder import LONG_PASS_S
from constellation.pipeline import find_passes, propagator_for
from constellation.scenario.build import scenario_from_dict

EL_TOL_DEG = 1e-3
RANGE_TOL_KM = 0.01


@pytest.fixture(scope="module")
def geo_pieces():
    scenario = scenario_from_dict({
        "scenario": {"name": "geo", "start": "2027-01-01T00:00:00Z", "end": "2027-01-04T00:00:00Z"},
        "satellites": [{"name": "G", "geo_longitude_deg": 100.0, "inclination_deg": 3.0}],
        "stations": [{"name": "Xinglong"}]})
    return scenario, find_passes(scenario)


def _look(scenario, t_s):
    """Elevation (deg) and range (km) from the propagation itself at ``t_s``."""
    states = propagator_for(scenario).states(np.asarray(t_s, dtype=float))
    assert states.valid.all()
    station = scenario.stations[0]
    east, north, up = station.enu
    el, _, rng = geometry.look_angles(states.r_km[0], station.position_km, east, north, up)
    return np.degrees(el), rng


def test_a_geo_pass_is_cut_into_pieces_that_tile_the_span(geo_pieces):
    scenario, table = geo_pieces
    # Always up (~43 deg): one pass over the 3 days, cut at each local noon (04:09 UTC at
    # 117.6 E): 00:00-04:09, two whole days, and 04:09-24:00 on the last day.
    assert len(table) == 4
    assert table.aos_s[0] == 0.0 and table.los_s[-1] == scenario.duration_s
    assert np.array_equal(table.los_s[:-1], table.aos_s[1:])
    assert np.all(np.diff(table.aos_s[1:3]) == 86400.0) and table.los_s[1] - table.aos_s[1] > LONG_PASS_S
    assert table.aos_partial.all() and table.los_partial.all()


def test_each_piece_reports_its_own_culmination_and_closest_approach(geo_pieces):
    scenario, table = geo_pieces
    for k in range(len(table)):
        a, b = table.aos_s[k], table.los_s[k]
        t = np.concatenate([[a], np.arange(np.ceil(a / 10.0) * 10.0, b, 10.0), [b]])
        el, rng = _look(scenario, t)
        assert a <= table.culmination_s[k] <= b and a <= table.tca_s[k] <= b
        assert table.max_elevation_deg[k] == pytest.approx(el.max(), abs=EL_TOL_DEG)
        assert table.min_range_km[k] == pytest.approx(rng.min(), abs=RANGE_TOL_KM)
        # The reported times are where those values are reached.
        el_c, _ = _look(scenario, [table.culmination_s[k]])
        _, rng_t = _look(scenario, [table.tca_s[k]])
        assert el_c[0] == pytest.approx(el.max(), abs=EL_TOL_DEG)
        assert rng_t[0] == pytest.approx(rng.min(), abs=RANGE_TOL_KM)


def test_a_piece_over_which_the_elevation_only_rises_culminates_at_its_edge(geo_pieces):
    scenario, table = geo_pieces
    # 00:00-04:09 UTC: the daily maximum comes at ~06:01, so the elevation rises all along
    # the first piece (42.69 deg at its end, the whole pass's maximum being 43.05 deg).
    el, _ = _look(scenario, np.linspace(table.aos_s[0], table.los_s[0], 200))
    assert np.all(np.diff(el) > 0.0)
    assert table.culmination_s[0] == table.los_s[0]
    assert table.max_elevation_deg[0] == pytest.approx(el[-1], abs=EL_TOL_DEG)
    assert table.max_elevation_deg[0] < table.max_elevation_deg[1] - 0.3
