"""The time axis: TAI seconds, UTC for SGP4, UT1 for Earth rotation, leap seconds."""

import numpy as np
import pytest

from constellation.core.timebase import TimeBase, parse_utc, timescale


def test_ut1_is_used_for_earth_rotation():
    # On 2016-12-19 UT1-UTC was about -0.40 s (IERS finals; skyfield's built-in table):
    # using UTC for Earth rotation would move rise/set times by up to ~0.7 s.
    tb = TimeBase(parse_utc("2016-12-19T00:00:00Z"))
    t_s = np.array([0.0, 43200.0, 86400.0])
    _, fraction_utc, fraction_ut1 = tb.sgp4_and_ut1(t_s)
    dut1_s = (fraction_ut1 - fraction_utc) * 86400.0
    assert np.allclose(dut1_s, tb.time(t_s).dut1, atol=1e-5)
    assert -0.45 < dut1_s[0] < -0.35


def test_leap_second_is_just_another_second():
    tb = TimeBase(parse_utc("2016-12-31T23:59:58Z"))
    assert tb.utc_iso([1.0, 2.0, 3.0], places=0) == ["2016-12-31T23:59:59Z", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"]
    # SGP4's UTC Julian date steps by one second per TAI second except across the leap second.
    jd, fraction_utc, _ = tb.sgp4_and_ut1(np.array([0.0, 4.0]))
    elapsed_utc_s = ((jd[1] - jd[0]) + (fraction_utc[1] - fraction_utc[0])) * 86400.0
    assert elapsed_utc_s == pytest.approx(3.0, abs=1e-6)


def test_round_trip_between_time_and_seconds():
    tb = TimeBase(parse_utc("2016-12-19T00:00:00Z"))
    t = timescale().utc(2016, 12, 19, 16, 52, 14.25)
    assert tb.t_s(t) == pytest.approx(16 * 3600 + 52 * 60 + 14.25, abs=1e-6)


@pytest.mark.parametrize("text", ["2016-12-19T00:00:00", "yesterday", "2016-13-01T00:00:00Z"])
def test_parse_utc_rejects_naive_or_malformed(text):
    with pytest.raises(ValueError):
        parse_utc(text)
