"""The key stage interpolates the satellite between SGP4 states 60 s apart instead of calling
SGP4 at every slot (issue 16): the positions must equal SGP4's at the slots to well under the
size that would matter for the link (a metre at ~500-40,000 km changes the diffraction loss by
< 1e-5 dB), for LEO, eccentric and high orbits."""

from __future__ import annotations

import numpy as np
import pytest

from constellation.api import scenario_from_dict
from constellation.key.per_pass import TRACK_NODE_S, track_positions, window_slots
from constellation.passes.finder import default_step_s
from constellation.pipeline import find_passes, propagator_for


def _scenario(satellite: dict, days: float = 1.0):
    return scenario_from_dict({
        "scenario": {"name": "track", "start": "2024-03-01T00:00:00Z",
                     "end": f"2024-03-0{1 + int(days)}T00:00:00Z"},
        "satellites": [satellite],
        "stations": [{"name": "Xinglong"}, {"name": "Graz"}, {"name": "Stellenbosch"}, {"name": "Tenerife"}],
    })


@pytest.mark.parametrize("satellite, tolerance_m", [
    ({"walker": "delta", "total": 12, "planes": 3, "altitude_km": 550, "inclination_deg": 53}, 1.0),
    ({"name": "SSO", "altitude_km": 500, "ltan": "22:30"}, 1.0),
    ({"name": "MOLNIYA-LIKE", "semi_major_axis_km": 26600, "eccentricity": 0.7, "inclination_deg": 63.4,
      "argp_deg": 270}, 1.0),
    ({"name": "MEO", "altitude_km": 10000, "inclination_deg": 45}, 1.0),
])
def test_interpolated_positions_equal_sgp4_at_every_slot(satellite, tolerance_m):
    scenario = _scenario(satellite)
    passes = find_passes(scenario)
    # every pass, AOS to LOS (windows need constraints; the geometry is the same)
    start, end = passes.aos_s, passes.los_s
    assert start.size > 0
    owner, mid, _ = window_slots(start, end, 1.0)
    prop = propagator_for(scenario)
    node_s = min(TRACK_NODE_S, default_step_s(prop.satrecs))      # as key.per_pass.pass_keys
    r_km, valid = track_positions(prop, passes.satellite, start, end, owner, mid, node_s)
    direct = prop.pairwise(passes.satellite[owner], mid)
    assert np.array_equal(valid, direct.valid[0])
    error_m = np.linalg.norm(r_km - direct.r_km[0], axis=-1)[valid] * 1e3
    assert error_m.max() < tolerance_m, f"max {error_m.max():.3f} m"


def test_a_window_shorter_than_a_slot_and_a_single_node_window_are_exact_at_the_nodes():
    scenario = _scenario({"name": "SSO", "altitude_km": 500, "ltan": "10:30"})
    prop = propagator_for(scenario)
    start = np.array([1000.0, 5000.0])
    end = np.array([1000.4, 5000.0])
    owner = np.array([0, 0, 1])
    t = np.array([1000.0, 1000.4, 5000.0])
    r_km, valid = track_positions(prop, np.array([0, 0]), start, end, owner, t)
    direct = prop.pairwise(np.zeros(3, int), t)
    assert valid.all()
    assert np.abs(r_km - direct.r_km[0]).max() < 1e-6


def test_key_per_pass_from_the_track_equals_the_key_from_sgp4_at_every_slot(micius_scenario, micius_passes,
                                                                             monkeypatch):
    """The whole key table, computed from the interpolated track and from SGP4 called at every
    1-s slot: mean loss within 1e-6 dB, QBER within 1e-9 and finite key within 1e-6 relative
    (measured on Micius 2016: 9.4e-8 dB, 1.7e-11 and the same bits; a metre of position is
    < 1e-5 dB of diffraction loss)."""
    from constellation.key import per_pass
    from constellation.pipeline import compute_keys

    tracked = compute_keys(micius_scenario, micius_passes)

    def sgp4_at_every_slot(propagator, satellite, start_s, end_s, owner, t_s, node_s=TRACK_NODE_S):
        states = propagator.pairwise(np.asarray(satellite)[owner], t_s)
        return states.r_km[0], states.valid[0]

    monkeypatch.setattr(per_pass, "track_positions", sgp4_at_every_slot)
    direct = compute_keys(micius_scenario, micius_passes)
    lit = tracked.finite_key_bits > 0
    assert lit.sum() >= 3
    window = tracked.window_s > 0
    np.testing.assert_allclose(tracked.mean_loss_db[window], direct.mean_loss_db[window], atol=1e-6, rtol=0)
    np.testing.assert_allclose(tracked.qber[lit], direct.qber[lit], atol=1e-9, rtol=0)
    np.testing.assert_allclose(tracked.finite_key_bits, direct.finite_key_bits, rtol=1e-6, atol=1.0)
    np.testing.assert_array_equal(tracked.sifted_bits > 0, direct.sifted_bits > 0)
