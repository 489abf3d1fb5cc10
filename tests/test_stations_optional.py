"""Stations are optional where the question does not need them (issue 17, item 2): a
coverage-only scenario runs ``coverage`` and ``run``; what needs a station says so in one line.

The reference case is Iridium: 66 satellites in 6 near-polar planes of 11 at 780 km and
86.4 deg, users above 8.2 deg elevation, a constellation built for continuous global
coverage (geometry of ``scenarios/iridium-66-coverage.toml``: L. Wood's SaVi,
``data/iridium-66.tcl`` v1.13, planes 31.6 deg apart, odd planes half a slot ahead; the
66/6/780 km/86.4 deg numbers also in Fossa et al., IEEE NAECON 1998,
doi:10.1109/NAECON.1998.710110).
"""

import csv
import json
import math
import tomllib
from pathlib import Path

import pytest
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
IRIDIUM = ROOT / "scenarios" / "iridium-66-coverage.toml"
R_EARTH_KM = 6378.137


def _streets_of_coverage_deg(altitude_km, mask_deg, per_plane):
    """Coverage circle radius theta and the half-width c of the street of continuous coverage
    of one plane of ``per_plane`` satellites (spherical Earth; Adams & Rider, J. Astronaut.
    Sci. 35, 155 (1987)): cos theta = cos c cos(pi / S)."""
    eps = math.radians(mask_deg)
    theta = math.acos(R_EARTH_KM * math.cos(eps) / (R_EARTH_KM + altitude_km)) - eps
    c = math.acos(math.cos(theta) / math.cos(math.pi / per_plane))
    return math.degrees(theta), math.degrees(c)


def test_the_iridium_geometry_closes_the_streets_of_coverage():
    # Polar streets: co-rotating planes may be theta + c apart, the counter-rotating seam 2c;
    # P planes cover the globe when (P - 1)(theta + c) + 2c >= 180 deg.
    theta, c = _streets_of_coverage_deg(780.0, 8.2, 11)
    assert theta == pytest.approx(19.9, abs=0.1)
    assert (6 - 1) * (theta + c) + 2 * c >= 180.0
    assert (4 - 1) * (theta + c) + 2 * c < 180.0 - 50.0  # four planes leave a wide gap
    # SaVi's 31.6 deg spacing and 22 deg seam fill the half circle as the theory asks.
    assert 5 * 31.6 + 22.0 == pytest.approx(180.0)
    assert 22.0 <= 2 * c and 31.6 == pytest.approx(theta + c, abs=0.25)


def _coverage(run_cli, path):
    return run_cli("coverage", path, "--format", "json").json()


def test_iridium_covers_the_globe_and_four_planes_do_not(run_cli, tmp_path):
    data = tomllib.loads(IRIDIUM.read_text())
    assert "stations" not in data
    assert sum(s["total"] for s in data["satellites"]) == 66 and len(data["satellites"]) == 6
    full = _coverage(run_cli, IRIDIUM)
    assert full["min_elevation_deg"] == 8.2
    assert full["global_coverage_fraction"] >= 0.995
    assert full["mean_satellites_in_view"] > 1.5  # the polar planes overlap: ~2 in view on average
    data["satellites"] = data["satellites"][:4]
    four = tmp_path / "iridium-4-planes.toml"
    four.write_text(tomli_w.dumps(data))
    subset = _coverage(run_cli, four)
    assert subset["global_coverage_fraction"] < 0.995
    assert subset["global_coverage_fraction"] < full["global_coverage_fraction"] - 0.1  # 0.80 measured
    assert subset["max_revisit_gap_s"] > 0.0


def test_run_without_stations_writes_coverage_and_no_pass_tables(run_cli, tmp_path):
    data = tomllib.loads(IRIDIUM.read_text())
    data["scenario"]["end"] = data["scenario"]["start"].replace(hour=0, minute=30)  # half an hour is enough
    data["coverage"]["grid_deg"] = 6
    path = tmp_path / "iridium.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    run = run_cli("run", path, "-o", out)
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # not the lock file
    assert written == ["coverage.png", "coverage_points.csv", "coverage_summary.json", "footprints.geojson",
                       "summary.json", "tracks.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stations"] == 0 and summary["passes"] == 0 and summary["per_station"] == {}
    assert summary["coverage"]["global_coverage_fraction"] >= 0.995
    assert "0 station(s)" in run.out and "coverage: " in run.out and "passes," not in run.out
    assert list(csv.DictReader((out / "coverage_points.csv").open()))
    # Footprints above the [coverage] mask: there is no station mask to take.
    shapes = json.loads((out / "footprints.geojson").read_text())
    assert len(shapes["features"]) == 66
    assert {f["properties"]["min_elevation_deg"] for f in shapes["features"]} == {8.2}


def test_an_empty_station_list_is_accepted_and_what_needs_one_says_so(run_cli, tmp_path):
    text = "stations = []\n" + IRIDIUM.read_text()  # before the first table: a top-level key
    path = tmp_path / "empty.toml"
    path.write_text(text)
    assert _coverage(run_cli, path)["global_coverage_fraction"] >= 0.995
    for args, what in ((("passes", path), "the passes table"), (("key", path), "the key table"),
                       (("plot", "sky", path, "-o", tmp_path / "s.png"), "a sky plot"),
                       (("plot", "timeline", path, "-o", tmp_path / "t.png"), "a timeline plot"),
                       (("plot", "tracks", path, "--region", "-o", tmp_path / "r.png"), "--region"),
                       (("coverage", path, "--stations"), "coverage of the stations")):
        run = run_cli(*args, code=2)
        assert run.err.count("\n") == 1 and run.out == "", run.err
        assert f"{path}: stations: expected at least one [[stations]] entry ({what}" in run.err
    assert not list(tmp_path.glob("*.png"))
