"""The key integral along a window by Gauss-Legendre quadrature (issue 16).

``key.per_pass.window_nodes`` replaces the 1-s slots of the key table: 4 nodes per segment of
at most 60 s, a segment split where the sky model changes its law (the Moon's horizon, the
Sun's horizon, the twilight corners, the Sun's -30 deg cut), and pieces whose line of sight
comes within 20 deg of the Moon or the Sun integrated again on parts over which it moves at
most 4 deg. The tolerances here come from measurements on 4,000 windows of a 1,000-satellite
Walker shell x 20 stations x 1 day (issue 16, `python benchmarks/bench_key_nodes.py`): the
finite key of every window with more than 1e5 bits within 3e-5 of 0.05-s slots (1e-5 at the
99th percentile), where 1-s slots are within 1.1e-4.
Real SGP4, Skyfield's Sun and Moon and the Micius presets throughout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from constellation import pipeline
from constellation.core.sun import MoonTrack, SunTrack
from constellation.key.per_pass import GAUSS_NODES, MAX_SLOTS, SEGMENT_S, sky_switch, window_nodes


def test_the_weights_of_a_window_add_up_to_its_length_and_its_nodes_lie_inside():
    start = np.array([0.0, 100.0, 500.0, 1000.0, 5.0])
    end = np.array([0.0, 100.4, 800.0, 1000.0 + 9 * 3600.0, 64.0])
    owner, t, w = window_nodes(start, end)
    assert np.all(np.diff(owner) >= 0)                          # window by window
    np.testing.assert_allclose(np.bincount(owner, weights=w, minlength=5), end - start, rtol=1e-12, atol=1e-12)
    assert np.all((t > start[owner]) & (t < end[owner])) and np.all(w > 0)
    counts = np.bincount(owner, minlength=5)
    assert counts[0] == 0                                       # an empty window has no node
    assert counts[1] == counts[4] == GAUSS_NODES                # under 60 s: one segment
    assert counts[2] == GAUSS_NODES * 5                         # 300 s: five segments of 60 s
    assert counts[3] <= MAX_SLOTS                               # a 9-h window: longer segments


def test_a_smooth_rate_is_integrated_to_the_rounding():
    """A LEO pass's count rate is a smooth bell of ~100 s; Gauss-Legendre with 4 nodes per
    60 s integrates it exactly to ~1e-7 (the analytic integral of a Gaussian)."""
    start, end = np.array([0.0]), np.array([420.0])
    _, t, w = window_nodes(start, end)
    sigma = 60.0
    rate = np.exp(-0.5 * ((t - 200.0) / sigma) ** 2)
    exact = sigma * math.sqrt(math.pi / 2) * (math.erf(220.0 / (sigma * math.sqrt(2)))
                                             + math.erf(200.0 / (sigma * math.sqrt(2))))
    assert abs(np.sum(w * rate) / exact - 1) < 1e-6
    assert t.size * 10 < 420                                    # at a tenth of the 1-s slots


def test_a_step_is_integrated_exactly_when_the_switch_marks_it():
    """The sky background jumps where the Moon rises; a segment cut at the switch's zero
    integrates each side exactly (here a step at 137.3 s, and a second one at 201.9 s)."""
    start, end = np.array([0.0, 50.0]), np.array([300.0, 250.0])

    def switch(owner, t_s):
        return np.stack([t_s - 137.3, 201.9 - t_s], axis=1)

    def rate(t):
        return 1.0 + 5.0 * (t > 137.3) + 2.0 * (t > 201.9)

    owner, t, w = window_nodes(start, end, switch)
    got = np.bincount(owner, weights=w * rate(t))
    exact = [300.0 + 5.0 * (300.0 - 137.3) + 2.0 * (300.0 - 201.9),
             200.0 + 5.0 * (250.0 - 137.3) + 2.0 * (250.0 - 201.9)]
    np.testing.assert_allclose(got, exact, rtol=1e-12)
    _, t_plain, w_plain = window_nodes(start[:1], end[:1])         # without the switch: off by
    assert abs(np.sum(w_plain * rate(t_plain)) - exact[0]) > 0.1    # a fraction of a segment


def test_segments_are_cut_where_the_moon_crosses_the_horizon():
    """With Skyfield's Moon (MoonTrack) and a station's up, the cut of a window that spans a
    moonrise sits where the Moon's elevation is zero (to 0.01 s of its motion)."""
    from constellation.scenario.build import scenario_from_dict
    from conftest import walker_data

    scenario = scenario_from_dict(walker_data(6, 1, 1.0))
    moon = MoonTrack(scenario.timebase, 0.0, scenario.duration_s)
    up = scenario.stations[0].enu[2]
    t = np.arange(0.0, scenario.duration_s, 60.0)
    sine = moon.unit_ecef(t) @ up
    rise = int(np.flatnonzero((sine[:-1] <= 0) & (sine[1:] > 0))[0])
    start, end = np.array([t[rise] - 170.0]), np.array([t[rise] + 230.0])
    switch = sky_switch(up, None, moon)
    owner, nodes, w = window_nodes(start, end, switch)
    lengths = w.reshape(-1, GAUSS_NODES).sum(axis=1)
    edges = start[0] + np.cumsum(lengths)[:-1]
    values = np.abs(switch(np.zeros(edges.size, int), edges)[:, 0])
    rate_per_s = np.max(np.abs(np.diff(sine))) / 60.0
    assert values.min() < 0.01 * rate_per_s                     # one edge is the moonrise
    assert lengths.size == math.ceil(400.0 / SEGMENT_S) + 1     # the cut added one piece


@pytest.fixture(scope="module")
def daylight_run():
    """24 satellites x 6 stations x 1 day with no night constraint: windows in daylight,
    in darkness and across sunrise and sunset, under the real Sun and Moon."""
    from constellation.scenario.build import scenario_from_dict
    from conftest import walker_data

    data = walker_data(24, 6, 1.0)
    data["constraints"] = {}
    scenario = scenario_from_dict(data)
    passes = pipeline.find_passes(scenario)
    return scenario, passes


def test_the_key_table_matches_fine_slots(daylight_run):
    """Every window's finite key, sifted bits and QBER by quadrature match 0.1-s slots:
    within 2e-4 where the window yields more than 1e4 bits (measured here: 5e-5 at most, as
    much as 1-s slots; 6.3e-4 before pieces near the Moon were refined), the mean loss within
    1e-4 dB, the least loss within 0.01 dB
    (quadrature takes it at the culmination or the window's edge, slots at a slot's middle)."""
    scenario, passes = daylight_run
    nodes = pipeline.compute_keys(scenario, passes)
    fine = pipeline.compute_keys(scenario, passes, slot_s=0.1)
    keyed = fine.finite_key_bits > 1e4
    assert keyed.sum() >= 20
    for name in ("finite_key_bits", "sifted_bits", "asymptotic_key_bits", "qber"):
        np.testing.assert_allclose(getattr(nodes, name)[keyed], getattr(fine, name)[keyed], rtol=2e-4, err_msg=name)
    window = passes.has_window
    np.testing.assert_allclose(nodes.mean_loss_db[window], fine.mean_loss_db[window], atol=1e-4)
    np.testing.assert_allclose(nodes.min_loss_db[window], fine.min_loss_db[window], atol=0.01)
    # the culmination (highest elevation) is within ~0.3 s of the least range: ~1e-4 dB off the
    # least loss, while a slot's middle can be up to 0.05 s off the window's edge
    assert np.all(nodes.min_loss_db[window] <= fine.min_loss_db[window] + 1e-3)
    np.testing.assert_allclose(nodes.mean_background_cps[window], fine.mean_background_cps[window], rtol=5e-3)


def test_daylight_is_the_time_the_sun_is_up(daylight_run):
    """``daylight_s`` of a window across sunrise or sunset is the time the Sun is above the
    station's horizon, from Skyfield's Sun sampled every 0.05 s (to 0.1 s)."""
    scenario, passes = daylight_run
    keys = pipeline.compute_keys(scenario, passes)
    across = np.flatnonzero(passes.has_window & (keys.daylight_s > 0) & (keys.daylight_s < passes.window_s))
    assert across.size >= 2
    sun = SunTrack(scenario.timebase, 0.0, scenario.duration_s)
    for row in across[:6]:
        t = np.arange(passes.window_start_s[row], passes.window_end_s[row], 0.05) + 0.025
        up = scenario.stations[int(passes.station[row])].enu[2]
        expected = 0.05 * np.count_nonzero(sun.unit_ecef(t) @ up > 0)
        assert abs(keys.daylight_s[row] - expected) < 0.1


class _FixedBody:
    """A Moon (or Sun) held at one Earth-fixed direction, so that a pass's line of sight
    sweeps past it: the sky's scattered light then peaks within seconds."""

    def __init__(self, direction, clock):
        self.direction, self.clock = np.asarray(direction, float) / np.linalg.norm(direction), clock

    def earth_rotation_rad(self, t_s):
        return self.clock.earth_rotation_rad(t_s)

    def unit_ecef(self, t_s, gmst_rad=None):
        return np.broadcast_to(self.direction, np.shape(t_s) + (3,)).copy()


def test_a_line_of_sight_sweeping_past_the_moon_is_resolved():
    """A full Moon 0-8 deg off the line of sight 20 s before the culmination of Micius 2020
    passes over Xinglong, seen by a receiver with 3x the field of view (sky-limited: a few
    thousand background clicks/s): the pieces near the Moon are refined, and the finite key is
    within 1e-3 of 0.05-s slots (measured 1.1e-4; 1.9e-2 without the refinement, 3.9e-5 for
    1-s slots; over 48 placements, 20 s before to 11 s after the culmination and 0-15 deg off
    the track, 7.1e-4 at most, from the sky model's scattering angle clipped at 5 deg)."""
    import dataclasses
    from pathlib import Path

    from constellation.key.per_pass import pass_keys
    from constellation.scenario.build import load_scenario

    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "micius-2020-xinglong.toml")
    passes = pipeline.find_passes(scenario)
    propagator = pipeline.propagator_for(scenario)
    sun = SunTrack(scenario.timebase, 0.0, scenario.duration_s)

    def terminal(s, t):
        term = scenario.terminal(s, t)
        wide = dataclasses.replace(term.receiver, field_of_view_urad=3.0 * term.receiver.field_of_view_urad)
        return dataclasses.replace(term, receiver=wide)

    checked = 0
    for row in np.flatnonzero(passes.has_window)[:3]:
        station = scenario.stations[int(passes.station[row])]
        t = float(np.clip(passes.culmination_s[row], passes.window_start_s[row], passes.window_end_s[row])) - 20.0
        state = propagator.pairwise(np.array([int(passes.satellite[row])]), np.array([t]))
        line = state.r_km[0][0] - station.position_km
        line /= np.linalg.norm(line)
        aside = np.cross(line, station.enu[2])
        aside /= np.linalg.norm(aside)
        one = passes.take(np.array([row]))
        for off_deg in (0.0, 3.0, 8.0):
            moon = _FixedBody(np.cos(np.radians(off_deg)) * line + np.sin(np.radians(off_deg)) * aside, sun)
            nodes, fine = (pass_keys(propagator, one, scenario.stations, terminal, sun=sun, moon=moon, slot_s=slot)
                           for slot in (None, 0.05))
            assert fine.mean_background_cps[0] > 1e3
            if fine.finite_key_bits[0] > 0:
                checked += 1
                assert abs(nodes.finite_key_bits[0] / fine.finite_key_bits[0] - 1) < 1e-3
    assert checked >= 3
