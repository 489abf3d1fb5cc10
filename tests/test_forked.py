"""key/forked.py: pieces computed in forked workers come back whole, in order, or as one clear
error when a worker dies; one worker or one piece never forks (issue 16, key on several
processes)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from constellation.errors import ConstellationError
from constellation.key.forked import can_fork, forked_map


def _square_with_state(state, item):
    return state["offset"] + item ** 2, os.getpid()


def test_results_in_order_from_other_processes_with_the_inherited_state():
    assert can_fork()  # Linux: the CI and this machine
    items = list(range(20))
    state = {"offset": np.arange(3)}  # inherited, never pickled
    results = list(forked_map(_square_with_state, items, 2, state))
    assert [r[0].tolist() for r in results] == [[i * i, i * i + 1, i * i + 2] for i in items]
    assert os.getpid() not in {pid for _, pid in results}
    unordered = list(forked_map(_square_with_state, items, 2, state, ordered=False))
    assert sorted(r[0][0] for r in unordered) == [i * i for i in items]


def test_one_worker_or_one_piece_stays_in_this_process():
    for workers, items in ((1, [1, 2, 3]), (4, [5])):
        assert {pid for _, pid in forked_map(_square_with_state, items, workers, {"offset": 0})} == {os.getpid()}


def _die_on_three(state, item):
    if item == 3:
        os._exit(9)  # as the system's out-of-memory killer would end it
    return item


def test_a_worker_that_dies_is_one_error_not_a_hang():
    with pytest.raises(ConstellationError, match="worker process ended"):
        list(forked_map(_die_on_three, list(range(8)), 2, None))


def _refuse(state, item):
    from constellation.errors import InputError, ParameterError

    if item == 2:
        raise InputError("scenario.toml", "link", "a link", "none")  # does not unpickle
    if item == 4:
        raise ParameterError("loss_db", "losses >= 0 dB", -1.0)
    return item


def test_an_error_in_a_worker_is_that_error_here():
    with pytest.raises(ConstellationError) as raised:
        list(forked_map(_refuse, [0, 1, 2, 3], 2, None))
    assert "scenario.toml" in str(raised.value) and "expected a link" in str(raised.value)
    from constellation.errors import ParameterError

    with pytest.raises(ParameterError):
        list(forked_map(_refuse, [4, 5], 2, None))
