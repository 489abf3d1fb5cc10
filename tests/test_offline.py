"""Nothing downloads at run time: a whole scenario runs with sockets disabled."""

import json
from pathlib import Path

import pytest
from pytest_socket import SocketBlockedError

from constellation.core import timebase
from constellation.cli import main

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "micius-2016-xinglong.toml"


@pytest.fixture
def no_network(no_network):
    """Sockets off (tests/conftest.py), and the time scale and ephemeris loaded afresh."""
    timebase.timescale.cache_clear()
    timebase.ephemeris.cache_clear()


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")  # the point of the test
def test_sockets_really_are_blocked(no_network):
    import socket

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_scenario_runs_offline(no_network, tmp_path, capsys):
    # Loads the timescale (skyfield's built-in IERS tables) and DE421 (skyfield-data) afresh.
    assert main(["run", str(SCENARIO), "-o", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["windows"] > 0
