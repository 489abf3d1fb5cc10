"""Shared test helpers: the reference scenarios and element set, the command line run
in-process, small Walker scenarios, and a network that is not there.

Fixtures
--------
``micius_satrec``          the Micius element set of the Liao et al. 2017 headline pass
``micius_scenario``        ``scenarios/micius-2016-xinglong.toml``, loaded once per session
``micius_passes``          its pass table, found once per session
``walker_scenario``        a factory: ``walker_scenario(n_satellites, n_stations, days)``
                           (a small Walker shell; ``path=`` writes it as a TOML file first)
``run_cli``                ``run_cli("passes", path, "--format", "json")`` -> :class:`CliRun`
``no_network``             sockets disabled for the test
``offline``                no sockets and an empty cartopy download folder that must stay empty
``no_pyplot_leaks``        fails a test that leaves a pyplot figure open (plot modules use it
                           with ``pytestmark = pytest.mark.usefixtures("no_pyplot_leaks")``)

The package is imported inside the fixtures: this file loads before every test module, so a
stage that does not import only fails the tests that use it.

Markers: ``slow`` (registered in pyproject.toml) marks tests that take seconds each
(notebooks, Dask clusters, month-long reference runs, repeated full runs);
``python -m pytest -m "not slow"`` is the fast tier.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from sgp4.api import Satrec

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
MICIUS_SCENARIO = SCENARIOS / "micius-2016-xinglong.toml"

# Micius, epoch 2016-12-18 21:38 UTC (docs/references.md §8).
MICIUS_TLE = (
    "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993",
    "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063",
)


@pytest.fixture
def micius_satrec():
    return Satrec.twoline2rv(*MICIUS_TLE)


@pytest.fixture(scope="session")
def micius_scenario():
    """The shipped Micius scenario (immutable: safe to share between tests)."""
    from constellation.scenario.build import load_scenario

    return load_scenario(MICIUS_SCENARIO)


@pytest.fixture(scope="session")
def micius_passes(micius_scenario):
    """Every pass of the Micius scenario."""
    from constellation.pipeline import find_passes

    return find_passes(micius_scenario)


def walker_data(n_satellites: int, n_stations: int, days: float, *, key: bool = True,
                start: str = "2024-03-20T00:00:00Z") -> dict:
    """A scenario mapping: a Walker-delta shell at 550 km, 53 deg (planes ~ sqrt(N)) over
    stations spread in latitude -60..60 deg and in longitude, 10 deg mask, night windows;
    with ``key``, the Micius link and QKD presets and a 1 m observatory receiver at each station."""
    planes = max(1, round(math.sqrt(n_satellites)))
    while n_satellites % planes:
        planes -= 1
    t0 = dt.datetime.fromisoformat(start)
    end = (t0 + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stations = [{"name": f"G{k:03d}", "latitude_deg": -60.0 + 120.0 * (k + 0.5) / n_stations,
                 "longitude_deg": (k * 137.508) % 360.0 - 180.0, "min_elevation_deg": 10.0}
                for k in range(n_stations)]
    data = {"scenario": {"name": "walker", "start": start, "end": end},
            "satellites": [{"name": "w", "walker": "delta", "total": n_satellites, "planes": planes,
                            "phasing": min(1, planes - 1), "altitude_km": 550.0, "inclination_deg": 53.0}],
            "stations": stations,
            "constraints": {"station_sun_max_elevation_deg": -12.0}}
    if key:
        data["link"] = {"preset": "micius"}
        data["qkd"] = {"preset": "micius"}
        for station in stations:
            station["receiver"] = "observatory-1m"
    return data


@pytest.fixture(scope="session")
def walker_scenario():
    """``walker_scenario(n_satellites, n_stations, days, key=True, path=None)``: a validated
    Scenario of :func:`walker_data`; with ``path``, written there as TOML and loaded from it
    as the command line does."""
    import tomli_w

    from constellation.scenario.build import load_scenario, scenario_from_dict

    def build(n_satellites: int, n_stations: int, days: float, *, key: bool = True, path: Path | None = None):
        data = walker_data(n_satellites, n_stations, days, key=key)
        if path is None:
            return scenario_from_dict(data)
        Path(path).write_text(tomli_w.dumps(data), encoding="utf-8")
        return load_scenario(path)

    return build


@dataclass
class CliRun:
    """What one in-process run of the command line gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*args, code=0)``: run ``constellation`` in-process (arguments may be paths),
    check its exit code and return a :class:`CliRun`."""
    from constellation.cli import main

    def run(*args, code: int | None = 0) -> CliRun:
        capsys.readouterr()
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        result = CliRun(status, captured.out, captured.err)
        if code is not None:
            assert status == code, result.err
        return result

    return run


@pytest.fixture
def no_network():
    """Sockets disabled for the test (pytest-socket)."""
    from pytest_socket import disable_socket, enable_socket

    disable_socket()
    try:
        yield
    finally:
        enable_socket()


@pytest.fixture
def offline(tmp_path, no_network):
    """No sockets, and an empty cartopy download folder that must stay empty."""
    import cartopy

    saved = cartopy.config["data_dir"]
    cartopy.config["data_dir"] = str(tmp_path / "cartopy-downloads")
    try:
        yield tmp_path
    finally:
        cartopy.config["data_dir"] = saved
    assert not (tmp_path / "cartopy-downloads").exists()


@pytest.fixture
def no_pyplot_leaks():
    """The plots never go through pyplot: no figure may be left open."""
    import matplotlib.pyplot as plt

    yield
    assert plt.get_fignums() == []
    plt.close("all")
