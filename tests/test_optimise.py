"""Protocol optimisation: best settings for the finite key of one block, within bounds."""

import dataclasses

import numpy as np
import pytest

from constellation.key.optimise import DEFAULT_BOUNDS, _settings, _with, optimise_protocol
from constellation.scenario.presets import PRESETS
from constellation.scenario.stations import builtin_station
from constellation.key.decoy_bb84 import key_for_profile

# The Liao 2017 pass as digitised by QNET (docs/references.md §2c), 1 s slots.
T_S = [0, 20, 40, 60, 80, 100, 120, 131.3, 160, 180, 200, 220, 240, 260, 274]
LOSS_DB = [39.05, 36.46, 32.74, 32.10, 31.37, 30.54, 29.74, 29.75, 30.71, 30.62, 31.80, 31.80, 33.69, 37.13, 38.28]
PASS = np.interp(np.arange(274.0) + 0.5, T_S, LOSS_DB)
MICIUS = PRESETS["micius"].qkd
# QNET's loss excludes the detector: the receiver is Xinglong's observatory-1m (Liao 2017).
RX = builtin_station("Xinglong").receiver


@pytest.fixture(scope="module")
def optimum():
    return optimise_protocol(PASS, 1.0, MICIUS, RX)


def test_never_worse_than_the_start_and_within_bounds(optimum):
    assert optimum.finite_key_bits >= optimum.start_finite_key_bits
    x = _settings(optimum.params)
    for value, (low, high) in zip(x, DEFAULT_BOUNDS.values()):
        assert low - 1e-12 <= value <= high + 1e-12
    assert optimum.params.source_rate_hz == MICIUS.source_rate_hz
    assert optimum.params.intensities[2] == 0.0
    # Only the searched settings move: the rest of the payload's protocol is kept.
    assert optimum.params.intrinsic_qber == MICIUS.intrinsic_qber
    assert optimum.params.error_correction_efficiency == MICIUS.error_correction_efficiency
    assert optimum.params.epsilon_secret == MICIUS.epsilon_secret
    assert optimum.finite_key_bits == key_for_profile(PASS, 1.0, optimum.params, RX).finite_key_bits


def test_result_is_a_local_maximum(optimum):
    # Moving any setting by 2 % of its range (staying valid) does not gain more than 0.1 %.
    x = _settings(optimum.params)
    for i, (low, high) in enumerate(DEFAULT_BOUNDS.values()):
        for sign in (1.0, -1.0):
            y = x.copy()
            y[i] = np.clip(y[i] + sign * 0.02 * (high - low), low, high)
            params = _with(MICIUS, y)
            if params is None:
                continue
            assert key_for_profile(PASS, 1.0, params, RX).finite_key_bits <= optimum.finite_key_bits * 1.001


def test_independent_of_the_random_start(optimum):
    other = optimise_protocol(PASS, 1.0, MICIUS, RX, seed=7)
    assert other.finite_key_bits == pytest.approx(optimum.finite_key_bits, rel=5e-3)


def test_bounds_are_respected():
    fixed = optimise_protocol(PASS, 1.0, MICIUS, RX,
                              bounds={"mu_signal": (0.8, 0.8), "basis_probability_x": (0.5, 0.5)})
    assert fixed.params.intensities[0] == pytest.approx(0.8)
    assert fixed.params.basis_probability_x == pytest.approx(0.5)


def test_hopeless_block_stays_at_zero():
    out = optimise_protocol(np.full(10, 60.0), 1.0, dataclasses.replace(MICIUS), RX)
    assert out.finite_key_bits == 0.0 and out.start_finite_key_bits == 0.0
    # So does a pass under a daylight sky at 850 nm (~9e7 background clicks/s in this receiver,
    # docs/physics.md): no setting of the source beats a QBER of ~50 %.
    day = optimise_protocol(PASS, 1.0, MICIUS, RX, samples=50, rounds=2, background_cps=9e7)
    assert day.finite_key_bits == 0.0 and day.start_finite_key_bits == 0.0


def test_background_lowers_the_optimum_and_is_passed_through():
    # The optimiser scores with the background it is given: its optimum under a bright night
    # sky (2,000 clicks/s) is the key of those settings under that sky, and below the dark
    # night's optimum (more extraneous clicks never help).
    dark = optimise_protocol(PASS, 1.0, MICIUS, RX, samples=50, rounds=3)
    bright = optimise_protocol(PASS, 1.0, MICIUS, RX, samples=50, rounds=3, background_cps=2000.0)
    assert bright.finite_key_bits == key_for_profile(PASS, 1.0, bright.params, RX, 2000.0).finite_key_bits
    assert 0.0 < bright.finite_key_bits < dark.finite_key_bits
    assert bright.finite_key_bits >= bright.start_finite_key_bits
