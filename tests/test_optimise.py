"""Protocol optimisation: best settings for the finite key of one block, within bounds."""

import dataclasses

import numpy as np
import pytest

from constellation.key.optimise import DEFAULT_BOUNDS, _settings, _with, optimise_protocol
from constellation.scenario.presets import PRESETS
from constellation.key.decoy_bb84 import key_for_profile

# The Liao 2017 pass as digitised by QNET (docs/references.md §2c), 1 s slots.
T_S = [0, 20, 40, 60, 80, 100, 120, 131.3, 160, 180, 200, 220, 240, 260, 274]
LOSS_DB = [39.05, 36.46, 32.74, 32.10, 31.37, 30.54, 29.74, 29.75, 30.71, 30.62, 31.80, 31.80, 33.69, 37.13, 38.28]
PASS = np.interp(np.arange(274.0) + 0.5, T_S, LOSS_DB)
MICIUS = PRESETS["micius"].qkd


@pytest.fixture(scope="module")
def optimum():
    return optimise_protocol(PASS, 1.0, MICIUS)


def test_never_worse_than_the_start_and_within_bounds(optimum):
    assert optimum.finite_key_bits >= optimum.start_finite_key_bits
    x = _settings(optimum.params)
    for value, (low, high) in zip(x, DEFAULT_BOUNDS.values()):
        assert low - 1e-12 <= value <= high + 1e-12
    assert optimum.params.source_rate_hz == MICIUS.source_rate_hz
    assert optimum.params.intensities[2] == 0.0


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
            assert key_for_profile(PASS, 1.0, params).finite_key_bits <= optimum.finite_key_bits * 1.001


def test_independent_of_the_random_start(optimum):
    other = optimise_protocol(PASS, 1.0, MICIUS, seed=7)
    assert other.finite_key_bits == pytest.approx(optimum.finite_key_bits, rel=5e-3)


def test_bounds_are_respected():
    fixed = optimise_protocol(PASS, 1.0, MICIUS, bounds={"mu_signal": (0.8, 0.8), "basis_probability_x": (0.5, 0.5)})
    assert fixed.params.intensities[0] == pytest.approx(0.8)
    assert fixed.params.basis_probability_x == pytest.approx(0.5)


def test_hopeless_block_stays_at_zero():
    out = optimise_protocol(np.full(10, 60.0), 1.0, dataclasses.replace(MICIUS))
    assert out.finite_key_bits == 0.0 and out.start_finite_key_bits == 0.0
