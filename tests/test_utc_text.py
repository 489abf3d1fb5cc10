"""UTC text of long tables (issue 16): ``TimeBase.utc_iso`` writes with numpy what skyfield's
``Time.utc_iso`` writes, character for character, leap seconds included."""

import numpy as np
import pytest

from constellation.core.timebase import TimeBase, parse_utc


@pytest.mark.parametrize("places", [3, 6, 0, 2])
def test_utc_text_is_skyfields(places):
    # Around the leap second of 2016-12-31 (23:59:60), dense millisecond steps and their
    # rounding edges, and random instants from 1921 to 2111.
    tb = TimeBase(parse_utc("2016-12-31T23:59:00Z"))
    rng = np.random.default_rng(16)
    t_s = np.concatenate([np.linspace(0.0, 180.0, 36_001), np.arange(59.0, 62.0, 1e-4) + 5e-5,
                          np.arange(0.0, 3.0, 1e-3) - 5e-4, rng.uniform(-3e9, 3e9, 20_000), [0.0, -0.0005, 60.9995]])
    ours = tb.utc_iso(t_s, places=places)
    theirs = tb.time(t_s).utc_iso(places=places)
    assert ours == list(theirs)
    if places == 3:
        assert "2016-12-31T23:59:60.500Z" in ours and "2017-01-01T00:00:00.000Z" in ours


def test_scalar_and_empty():
    tb = TimeBase(parse_utc("2024-03-20T00:00:00Z"))
    assert tb.utc_iso(1.5) == ["2024-03-20T00:00:01.500Z"]
    assert tb.utc_iso(np.array([])) == []
