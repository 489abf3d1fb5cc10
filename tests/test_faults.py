"""Numeric faults are data: decayed satellites are masked and counted, stale elements warn,
and nothing written is NaN."""

import json
from pathlib import Path

import numpy as np
import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
TLE1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
TLE2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"

DECAYING = """
[scenario]
name = "decay"
start = 2024-01-01T00:00:00Z
end = 2024-01-04T00:00:00Z

[[satellites]]
name = "DRAGGY"          # 250 km with a huge B*: SGP4 reports decay (error 6) within the span
altitude_km = 250
inclination_deg = 51.6
bstar = 0.05

[[satellites]]
name = "HEALTHY"
altitude_km = 550
inclination_deg = 51.6

[[stations]]
name = "Matera"
min_elevation_deg = 10
"""


def test_decayed_satellite_is_masked_and_counted(tmp_path, capsys):
    path = tmp_path / "decay.toml"
    path.write_text(DECAYING)
    assert main(["run", str(path), "-o", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["sgp4_error_samples"] > 0
    assert summary["satellites_with_sgp4_errors"] == ["DRAGGY"]
    text = (tmp_path / "out" / "passes.csv").read_text().lower()
    assert ",nan" not in text and "inf," not in text
    assert "HEALTHY" in (tmp_path / "out" / "passes.csv").read_text()
    assert "masked" in capsys.readouterr().out


@pytest.mark.parametrize("start, stale", [("2017-02-01", True), ("2016-12-19", False)])
def test_element_sets_far_from_their_epoch_warn(tmp_path, capsys, start, stale):
    # The TLE epoch is 2016-12-18: 45 days later it warns, the next day it does not.
    path = tmp_path / "scenario.toml"
    path.write_text(f"""
[scenario]
name = "epoch distance"
start = {start}T00:00:00Z
end = {start}T06:00:00Z
[[satellites]]
tle = ["{TLE1}", "{TLE2}"]
[[stations]]
name = "Xinglong"
""")
    assert main(["passes", str(path)]) == 0
    err = capsys.readouterr().err
    if stale:
        assert "warning:" in err and "days from its epoch" in err and "NORAD 41731" in err
    else:
        assert "warning" not in err


def test_decay_is_permanent_and_never_valid():
    # python-sgp4 can report error 0 again after error 6 (decay), with positions far away;
    # the propagator keeps the satellite decayed from its first error-6 sample on.
    import datetime as dt

    from constellation.core import orbits
    from constellation.core.propagation import Propagator
    from constellation.core.timebase import TimeBase, parse_utc

    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    sat = orbits.satrec_from_elements(orbits.Elements(orbits.semi_major_axis_km(250.0), 0.001, 51.6, 0.0, 0.0, 0.0,
                                                      epoch, 0.05))
    states = Propagator([sat], TimeBase(parse_utc(epoch))).states(np.arange(0.0, 3 * 86400.0, 60.0))
    first_bad = int(np.argmax(~states.valid[0]))
    assert first_bad > 0 and not states.valid[0, first_bad:].any()
    radius = np.linalg.norm(states.r_km[0, :first_bad], axis=1)
    assert np.all((radius > 6300.0) & (radius < 7000.0))


def test_outputs_are_world_readable_like_normal_files(tmp_path):
    import os
    import stat

    from constellation.output.tables import write_text_atomic

    path = tmp_path / "x.csv"
    write_text_atomic(path, "a\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


LEAP = f"""
[scenario]
name = "leap second"
start = 2016-12-31T12:00:00Z
end = 2017-01-01T12:00:00Z

[[satellites]]
tle = ["MICIUS", "{TLE1}", "{TLE2}"]

[[satellites]]
name = "ZENITH-ISH"
altitude_km = 500
inclination_deg = 40.4
raan_deg = 100
mean_anomaly_deg = 40

[[satellites]]
name = "GEO-100E"        # up all day over Xinglong: its pass piece spans the leap second
geo_longitude_deg = 100

[[stations]]
name = "Xinglong"
[[stations]]
name = "Graz"
[[stations]]
name = "Stellenbosch"

[constraints]
station_sun_max_elevation_deg = -12

[link]
preset = "micius"
[qkd]
preset = "micius"
"""


def test_a_run_across_the_leap_second_2016_12_31(tmp_path, capsys):
    """2016-12-31T23:59:60Z exists (IERS Bulletin C 52): every duration is TAI seconds, so a
    UTC difference across it is one second longer than the clock says; nothing is NaN, and the
    windows stay inside their passes."""
    import csv
    import datetime as dt

    scenario = tmp_path / "leap.toml"
    scenario.write_text(LEAP)
    assert main(["run", str(scenario), "--no-plots", "-o", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "passes.csv")))
    assert rows, "passes expected over a day"
    text = (tmp_path / "out" / "passes.csv").read_text() + (tmp_path / "out" / "key.csv").read_text()
    assert "nan" not in text.lower() and "inf" not in text.lower()

    def clock(s):  # UTC text -> seconds on the UTC clock since the start (23:59:60 read as 23:59:59 + 1)
        leap = "23:59:60" in s
        moment = dt.datetime.fromisoformat(s.replace("23:59:60", "23:59:59").replace("Z", "+00:00"))
        return (moment - dt.datetime(2016, 12, 31, 12, tzinfo=dt.timezone.utc)).total_seconds() + leap

    leap_s = clock("2017-01-01T00:00:00Z") - 1.0  # the leap second starts here on the UTC clock
    spanning = 0
    for r in rows:
        aos, los = clock(r["aos_utc"]), clock(r["los_utc"])
        # TAI duration = UTC clock difference, + 1 s when the leap second lies inside the pass
        extra = 1.0 if aos < leap_s < los and "23:59:60" not in r["los_utc"] else 0.0
        spanning += extra == 1.0
        assert float(r["duration_s"]) == pytest.approx(los - aos + extra, abs=2e-3)
        if r["window_start_utc"]:
            assert clock(r["aos_utc"]) <= clock(r["window_start_utc"]) <= clock(r["window_end_utc"]) <= los
    assert spanning >= 1  # the geostationary pass over Xinglong holds 2016-12-31T23:59:60Z
