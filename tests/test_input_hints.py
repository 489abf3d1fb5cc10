"""Hints that help a new user (issue 17, item 7): a satellite that never rises over any
station is warned about (an inclination typed in radians runs, with zero passes)."""

import csv
import io
import json

import tomli_w

SPAN = {"name": "t", "start": "2016-12-19T00:00:00Z", "end": "2016-12-20T00:00:00Z"}


def _write(path, satellites, stations=({"name": "Xinglong"},)):
    data = {"scenario": dict(SPAN), "satellites": list(satellites), "stations": list(stations)}
    path.write_text(tomli_w.dumps(data).replace('"2016-12-19T00:00:00Z"', "2016-12-19T00:00:00Z")
                    .replace('"2016-12-20T00:00:00Z"', "2016-12-20T00:00:00Z"))
    return path


def test_an_inclination_in_radians_is_warned_about(run_cli, tmp_path):
    # 1.7 deg (0.03 rad typed as degrees would be 97.4 deg): a near-equatorial orbit at 500 km
    # never rises above 10 deg at Xinglong (40.4 N), 20 deg of latitude beyond its reach.
    path = _write(tmp_path / "radians.toml", [{"name": "sso", "altitude_km": 500, "inclination_deg": 1.7}])
    run = run_cli("passes", path)
    assert run.out.count("\n") == 1  # the header only
    assert run.err.strip() == ("warning: no satellite rises above any station's mask in the span: sso "
                               "(inclination 1.7 deg, altitude 500 km); inclination_deg is in degrees "
                               "(1.7 looks like radians)")
    out = tmp_path / "out"
    run_cli("run", path, "-o", out, "--no-plots")
    assert any("never" in w or "no satellite rises" in w for w in json.loads((out / "summary.json").read_text())["warnings"])


def test_some_satellites_that_never_rise_are_counted(run_cli, tmp_path):
    path = _write(tmp_path / "mixed.toml", [{"name": "polar", "altitude_km": 500, "inclination_deg": 97.4},
                                            {"name": "equatorial", "altitude_km": 500, "inclination_deg": 0.0}])
    run = run_cli("passes", path)
    assert "polar" in run.out and "equatorial" not in run.out
    assert run.err.startswith("warning: 1 of 2 satellites never rise above any station's mask in the span: "
                              "equatorial (inclination 0 deg")
    assert "radians" not in run.err  # 0 deg is a real equatorial orbit


def test_a_satellite_over_its_station_gives_no_warning(run_cli, tmp_path):
    path = _write(tmp_path / "fine.toml", [{"name": "polar", "altitude_km": 500, "inclination_deg": 97.4}])
    assert run_cli("passes", path).err == ""


def test_a_geostationary_satellite_out_of_sight_gets_no_radians_hint(run_cli, tmp_path):
    # A GEO slot at 100 E inclined 3 deg (as real inclined slots are) is below Graz's horizon
    # (15.5 E, 47 N: 85 deg of longitude away): warned, but 3 deg is no inclination in radians.
    path = _write(tmp_path / "geo.toml", [{"name": "geo", "geo_longitude_deg": 100.0, "inclination_deg": 3.0}],
                  stations=({"name": "Graz"},))
    run = run_cli("passes", path)
    assert run.err.startswith("warning: no satellite rises above any station's mask in the span: geo")
    assert "radians" not in run.err


def _geo_key_scenario(path, constraints=None):
    data = {"scenario": {"name": "geo", "start": "2027-01-01T00:00:00Z", "end": "2027-01-03T00:00:00Z"},
            "satellites": [{"name": "geo", "geo_longitude_deg": 100.0}], "stations": [{"name": "Xinglong"}],
            "link": {"preset": "high-orbit-60cm"}, "qkd": {"preset": "high-orbit-60cm"}}
    if constraints:
        data["constraints"] = constraints
    path.write_text(tomli_w.dumps(data).replace('"2027-01-01T00:00:00Z"', "2027-01-01T00:00:00Z")
                    .replace('"2027-01-03T00:00:00Z"', "2027-01-03T00:00:00Z"))
    return path


def test_a_window_holding_day_and_night_is_warned_about(run_cli, tmp_path):
    # A GEO slot seen all day from Xinglong: without a darkness constraint each noon-to-noon
    # window is one finite-key block, and noon's background (QBER near 50 %) leaves no key
    # although the night alone gives ~1.3 Mbit (docs/validation.md's GEO row).
    day_and_night = run_cli("key", _geo_key_scenario(tmp_path / "all-day.toml"))
    rows = list(csv.DictReader(io.StringIO(day_and_night.out)))
    assert rows and all(int(r["finite_key_bits"]) == 0 for r in rows if float(r["window_s"]) > 20 * 3600)
    warned = [w for w in day_and_night.err.splitlines() if "finite-key block" in w]
    assert len(warned) == 1 and "station_sun_max_elevation_deg to -12" in warned[0]
    nights = run_cli("key", _geo_key_scenario(tmp_path / "nights.toml", {"station_sun_max_elevation_deg": -12}))
    assert "finite-key block" not in nights.err
    assert any(int(r["finite_key_bits"]) > 0 for r in csv.DictReader(io.StringIO(nights.out)))
