"""Bad scenario input: one line naming file, field, expectation and what was found; exit 2."""

import datetime as dt
import subprocess
import sys

import pytest

from constellation.cli import main
from constellation.scenario.build import load_scenario, scenario_from_dict

TLE1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
TLE2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"

GOOD = f"""
[scenario]
name = "t"
start = 2016-12-19T00:00:00Z
end = 2016-12-19T06:00:00Z

[[satellites]]
name = "MICIUS"
tle = ["{TLE1}", "{TLE2}"]

[[stations]]
name = "Xinglong"
"""

# (case id, text replacement applied to GOOD, fragments the one-line message must contain)
CASES = [
    ("toml-syntax", ('name = "t"', 'name = "t'), ["TOML syntax", "line"]),
    ("unknown-key-suggests", ('name = "t"', 'name = "t"\nstrat = 2016-12-19T00:00:00Z'),
     ["scenario.strat", "unknown key", "did you mean 'start'"]),
    ("missing-field", ('name = "t"\n', ""), ["scenario.name", "required"]),
    ("end-before-start", ("end = 2016-12-19T06:00:00Z", "end = 2016-12-18T06:00:00Z"), ["end after start"]),
    ("naive-datetime", ("start = 2016-12-19T00:00:00Z", "start = 2016-12-19T00:00:00"), ["scenario.start", "UTC"]),
    ("wrong-type", ('[[stations]]\nname = "Xinglong"', '[[stations]]\nname = "Xinglong"\nmin_elevation_deg = "ten"'),
     ["stations[0].min_elevation_deg", "a number", "ten"]),
    ("out-of-range", ('[[stations]]\nname = "Xinglong"', '[[stations]]\nname = "Xinglong"\nmin_elevation_deg = 95'),
     ["stations[0].min_elevation_deg", "< 90", "95"]),
    ("unknown-station", ('name = "Xinglong"', 'name = "Xinlong"'),
     ["stations[0].name", "did you mean 'Xinglong'", "Xinlong"]),
    ("latitude-range", ('[[stations]]\nname = "Xinglong"', '[[stations]]\nname = "X"\nlatitude_deg = 91\nlongitude_deg = 0'),
     ["stations[0].latitude_deg", "<= 90", "91"]),
    ("bad-checksum", (TLE1, TLE1[:-1] + "4"), ["satellites[0]", "checksum"]),
    ("no-orbit", (f'tle = ["{TLE1}", "{TLE2}"]', ""), ["satellites[0]", "exactly one of"]),
    ("walker-divisible", (f'tle = ["{TLE1}", "{TLE2}"]',
                          'walker = "delta"\ntotal = 25\nplanes = 3\naltitude_km = 550\ninclination_deg = 53'),
     ["satellites[0]", "divisible", "25"]),
    ("walker-pattern", (f'tle = ["{TLE1}", "{TLE2}"]',
                        'walker = "rosette"\ntotal = 24\nplanes = 3\naltitude_km = 550\ninclination_deg = 53'),
     ["satellites[0].walker", "rosette"]),
    ("ltan-format", (f'tle = ["{TLE1}", "{TLE2}"]', 'ltan = "25:00"\naltitude_km = 500'),
     ["satellites[0]", "HH:MM"]),
    ("missing-tle-file", (f'tle = ["{TLE1}", "{TLE2}"]', 'tle_file = "nowhere.tle"'),
     ["satellites[0].tle_file", "existing file", "nowhere.tle"]),
    ("no-stations", ('[[stations]]\nname = "Xinglong"', ""), ["stations", "the passes table needs a ground station"]),
    ("duplicate-station", ('[[stations]]\nname = "Xinglong"', '[[stations]]\nname = "Xinglong"\n[[stations]]\nname = "Xinglong"'),
     ["stations[1].name", "unique", "Xinglong"]),
]


@pytest.mark.parametrize("case, edit, fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_with_exit_2(tmp_path, capsys, case, edit, fragments):
    old, new = edit
    assert old in GOOD, "test case must edit the good scenario"
    path = tmp_path / f"{case}.toml"
    path.write_text(GOOD.replace(old, new, 1))
    code = main(["passes", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("error: ") and str(path) in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_good_scenario_runs(tmp_path, capsys):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    assert main(["passes", str(path), "--format", "json"]) == 0


def test_console_script_exits_2_without_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("end = 2016-12-19T06:00:00Z", "end = 2016-12-18T06:00:00Z"))
    proc = subprocess.run([sys.executable, "-m", "constellation.cli", "passes", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_unknown_option_is_one_line(capsys):
    assert main(["passes", "--format", "xml"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "xml" in err


def test_misspelt_table_is_named_before_what_it_leaves_missing(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text(GOOD.replace("[[stations]]", "[[statoins]]"))
    assert main(["passes", str(path)]) == 2
    err = capsys.readouterr().err
    assert "statoins" in err and "did you mean 'stations'" in err


def test_unknown_qkd_key_suggests_the_near_match(tmp_path, capsys):
    path = tmp_path / "qkd.toml"
    path.write_text(GOOD + '\n[link]\npreset = "micius"\n[qkd]\npreset = "micius"\nintrinsic_qbr = 0.004\n')
    assert main(["passes", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "qkd.intrinsic_qbr" in err and "did you mean 'intrinsic_qber'" in err and "\n" not in err


def test_unknown_receiver_key_suggests_the_near_match(tmp_path, capsys):
    # Detector efficiency is the station's receiver's now: a misspelling there gets the hint.
    path = tmp_path / "receiver.toml"
    path.write_text(GOOD.replace('name = "Xinglong"', 'name = "Xinglong"\nreceiver = { detector_eficiency = 0.4 }'))
    assert main(["passes", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err
    assert "stations[0].receiver.detector_eficiency" in err and "did you mean 'detector_efficiency'" in err


def test_receiver_key_left_in_qkd_says_where_it_lives_now(tmp_path, capsys):
    path = tmp_path / "moved.toml"
    path.write_text(GOOD + '\n[link]\npreset = "micius"\n[qkd]\npreset = "micius"\ndetector_efficiency = 0.4\n')
    assert main(["passes", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err
    assert "qkd.detector_efficiency" in err and "stations[].receiver.detector_efficiency" in err


# ------------------------------------------------------------ date and time forms that stay accepted

# 2016-12-19T00:00:00Z as a UTC Julian date: JD 2451544.5 is 2000-01-01T00:00 UTC, plus whole days.
MIDNIGHT = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
MIDNIGHT_JD = 2451544.5 + (MIDNIGHT - dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() / 86400.0


@pytest.mark.parametrize("written", ["2016-12-19T00:00:00Z", "2016-12-19T08:00:00+08:00", "2016-12-18T19:00:00-05:00",
                                     "2016-12-19 00:00:00Z", "2016-12-19T00:00:00.000Z", "2016-12-19t00:00:00z"])
def test_toml_datetimes_with_a_zone_are_the_same_instant(tmp_path, written):
    """A TOML offset datetime (Z or an offset, T or a space) reads as the UTC instant it names,
    as the span's start and as an element set's epoch (satrec epoch to 1e-8 day, ~1 ms)."""
    path = tmp_path / "forms.toml"
    path.write_text(GOOD.replace("start = 2016-12-19T00:00:00Z", f"start = {written}")
                    .replace(f'tle = ["{TLE1}", "{TLE2}"]', f"altitude_km = 500\ninclination_deg = 97\nepoch = {written}"))
    scenario = load_scenario(path)
    assert scenario.start == MIDNIGHT and scenario.start.utcoffset() == dt.timedelta(0)
    assert scenario.satellites[0].epoch_jd == pytest.approx(MIDNIGHT_JD, abs=1e-8)


@pytest.mark.parametrize("given", ["2016-12-19T00:00:00Z", "2016-12-19T08:00:00+08:00", "2016-12-19T00:00:00+00:00",
                                   MIDNIGHT, MIDNIGHT.astimezone(dt.timezone(dt.timedelta(hours=-5)))])
def test_rfc3339_text_and_aware_datetimes_from_python_are_the_same_instant(given):
    data = {"scenario": {"name": "t", "start": given, "end": "2016-12-19T06:00:00Z"},
            "satellites": [{"name": "S", "altitude_km": 500, "inclination_deg": 97, "epoch": given}],
            "stations": [{"name": "Xinglong"}]}
    scenario = scenario_from_dict(data)
    assert scenario.start == MIDNIGHT
    assert scenario.satellites[0].epoch_jd == pytest.approx(MIDNIGHT_JD, abs=1e-8)


@pytest.mark.parametrize("inclination_deg", [0, 55, 90])
def test_geo_slot_takes_inclinations_up_to_90(inclination_deg):
    """Geostationary (0), inclined geosynchronous as BeiDou's IGSO (55) and polar (90) are kept in the slot."""
    data = {"scenario": {"name": "t", "start": MIDNIGHT, "end": "2016-12-19T06:00:00Z"},
            "satellites": [{"name": "G", "geo_longitude_deg": 100.0, "inclination_deg": inclination_deg}],
            "stations": [{"name": "Xinglong"}]}
    slot = scenario_from_dict(data).satellites[0].geo_slot
    assert slot.inclination_deg == inclination_deg and slot.longitude_deg == 100.0
