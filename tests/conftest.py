"""Shared fixtures: the Micius element set of the Liao et al. 2017 headline pass."""

import pytest
from sgp4.api import Satrec

MICIUS_TLE = (
    "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993",
    "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063",
)


@pytest.fixture
def micius_satrec():
    return Satrec.twoline2rv(*MICIUS_TLE)
