"""A window's key does not depend on the windows computed beside it, nor on the process
that computes it (issue 16).

``key.per_pass.pass_keys`` stacks windows into matrices (batches of samples, then blocks of
512 rows sorted by length, each as wide as its longest window, shorter rows padded with
zero-weight samples). Each window is its own finite-key block, so batching and blocking must
change nothing: the key of every window computed in the default batches equals, bit for bit,
its key computed alone (one window per batch, no padding), in one batch of every window, and
in batches shared between two forked worker processes (``workers=2``).
Real SGP4 propagation and the Micius presets throughout (tests/conftest.walker_data).
"""

from __future__ import annotations

import numpy as np

from constellation.key.per_pass import _KEY_ROWS, PassKeys, pass_keys
from constellation.pipeline import find_passes, propagator_for
from constellation.core.sun import MoonTrack, SunTrack


def _keys(scenario, passes, batch_slots, **options):
    return pass_keys(propagator_for(scenario), passes, scenario.stations, scenario.terminal,
                     sun=SunTrack(scenario.timebase, 0.0, scenario.duration_s),
                     moon=MoonTrack(scenario.timebase, 0.0, scenario.duration_s), batch_slots=batch_slots, **options)


def test_every_window_keeps_its_key_whatever_it_is_batched_with(walker_scenario):
    scenario = walker_scenario(60, 8, 1.0)  # one terminal for all: a single group per batch
    passes = find_passes(scenario)
    windows = int(passes.has_window.sum())
    assert windows > 1.5 * _KEY_ROWS  # the default batch holds more than one block of rows
    lengths = passes.window_s[passes.has_window]
    assert lengths.min() < lengths.max() / 3  # short and long windows share blocks
    default = _keys(scenario, passes, 250_000)
    alone = _keys(scenario, passes, 1)  # every window its own batch and matrix
    together = _keys(scenario, passes, 10**9)  # every window in one batch
    assert np.count_nonzero(default.finite_key_bits) > windows // 2
    # and shared between two forked worker processes, in batches of ~5,000 samples
    calls = []
    forked = _keys(scenario, passes, 5_000, workers=2, progress=lambda done, total: calls.append((done, total)))
    total = calls[0][1]
    assert calls[0] == (0, total) and calls[-1] == (total, total) and len(calls) > 3
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    for name in PassKeys.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(default, name), getattr(alone, name), err_msg=name)
        np.testing.assert_array_equal(getattr(default, name), getattr(together, name), err_msg=name)
        np.testing.assert_array_equal(getattr(default, name), getattr(forked, name), err_msg=name)
