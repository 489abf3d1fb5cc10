"""Calibration end to end: published figures against what `constellation key` computes on the
shipped scenarios, run as a user runs it (the command line, output written to a file).

Cases and definitions mirror docs/make_validation.py (docs/validation.md):

- Liao et al. 2017, Nature 549:43: the 2016-12-19 Xinglong night pass of Micius;
- the same scenario without its darkness constraint: no key in daylight, key at night;
- Chen et al. 2021, Nature 589:214: Micius after its upgrade, 47.8 kbit/s for a typical pass
  (the median over a week's windows of finite key / window length);
- Li et al. 2025, Nature 640:47: up to 1.07 Mbit in one Jinan-1 pass into the portable station
  at Stellenbosch (the best pass of a week).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import statistics
import tomllib
import warnings
from pathlib import Path

import pytest
import tomli_w

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
MICIUS_2016 = SCENARIOS / "micius-2016-xinglong.toml"
MICIUS_2020 = SCENARIOS / "micius-2020-xinglong.toml"
JINAN_1 = SCENARIOS / "jinan-1-stellenbosch-2025.toml"


def _cli_json(out_dir: Path, *args) -> list | dict:
    """Run ``constellation ARGS --format json -o FILE`` and read FILE."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{args[0]}-{len(list(out_dir.iterdir()))}.json"
    assert main([str(a) for a in args] + ["--format", "json", "-o", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("calibration")


@pytest.fixture(scope="module")
def micius_rows(out_dir):
    return _cli_json(out_dir, "key", MICIUS_2016)


@pytest.fixture(scope="module")
def daylight_rows(out_dir):
    """`constellation key` on a copy of the Micius scenario without station_sun_max_elevation_deg."""
    data = tomllib.loads(MICIUS_2016.read_text(encoding="utf-8"))
    del data["constraints"]["station_sun_max_elevation_deg"]
    # The element set is inline (no file to resolve relative to the copy), so the copy is valid as is.
    assert all(isinstance(sat.get("tle"), list) for sat in data["satellites"])
    copy = out_dir / "micius-2016-no-darkness.toml"
    copy.write_text(tomli_w.dumps(data), encoding="utf-8")
    return _cli_json(out_dir, "key", copy)


@pytest.fixture(scope="module")
def stations(out_dir):
    return {s["name"]: s for s in _cli_json(out_dir, "stations")}


def _headline(rows):
    """The 2016-12-19 night pass over Xinglong (QKD window from ~16:50 UTC)."""
    found = [r for r in rows if r["station"] == "Xinglong" and (r["window_start_utc"] or "").startswith("2016-12-19T16")]
    assert len(found) == 1
    return found[0]


# --- Micius 2016: Liao et al. 2017 -----------------------------------------------------------

def test_micius_2016_xinglong_pass_reproduces_liao_2017(micius_rows):
    row = _headline(micius_rows)
    # Liao 2017 (Nature 549:43): sifted key 1,671,072 bits, QBER 1.1 %, final key 300,939 bits
    # on this pass; tolerances of issue 13 / docs/validation.md: +-10 %, 0.8-1.4 %, +-15 %.
    assert row["sifted_bits"] == pytest.approx(1_671_072, rel=0.10)
    assert 0.008 <= row["qber"] <= 0.014
    assert row["finite_key_bits"] == pytest.approx(300_939, rel=0.15)
    # The paper's QKD window: ~273 s between 645 and 1,200 km.
    assert row["window_s"] == pytest.approx(273.0, abs=5.0)
    assert row["daylight_s"] == 0.0


# --- Micius 2016 without the darkness constraint -------------------------------------------

@functools.cache
def _skyfield():
    """DE421 from skyfield-data and skyfield's built-in timescale (offline)."""
    from skyfield.api import Loader, load

    with warnings.catch_warnings():
        # skyfield-data warns that its own IERS table has expired; we use skyfield's built-in one.
        warnings.simplefilter("ignore", RuntimeWarning)
        from skyfield_data import get_skyfield_data_path

        return Loader(get_skyfield_data_path(), verbose=False)("de421.bsp"), load.timescale(builtin=True)


def _sun_elevations_deg(station, utc_times):
    """Topocentric elevation of the Sun (deg) at a station, from skyfield and DE421."""
    from skyfield.api import wgs84

    eph, ts = _skyfield()
    here = eph["earth"] + wgs84.latlon(station["latitude_deg"], station["longitude_deg"], station["elevation_m"])
    out = []
    for text in utc_times:
        t = ts.from_datetime(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        alt, _, _ = here.at(t).observe(eph["sun"]).apparent().altaz()
        out.append(alt.degrees)
    return out


def _classify(rows, stations):
    """Windows flown in full daylight (Sun above the horizon at start, middle and end) and at
    night (Sun below -12 deg throughout), by the Sun's elevation at the station."""
    day, night = [], []
    for row in rows:
        if not row["window_s"]:
            continue
        start = dt.datetime.fromisoformat(row["window_start_utc"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(row["window_end_utc"].replace("Z", "+00:00"))
        middle = start + (end - start) / 2
        times = [t.isoformat().replace("+00:00", "Z") for t in (start, middle, end)]
        sun = _sun_elevations_deg(stations[row["station"]], times)
        if min(sun) > 0.0:
            day.append(row)
        elif max(sun) < -12.0:
            night.append(row)
    return day, night


def test_daylight_windows_give_no_key_without_the_darkness_constraint(daylight_rows, stations):
    day, night = _classify(daylight_rows, stations)
    # Over two days and five stations, Micius flies several windows in full daylight (issue 13:
    # e.g. Xinglong 2016-12-19 03:47 UTC); none of them may give key at 850 nm: the day sky
    # (~1e8 background clicks/s in a 1 m, 100 urad, 1 nm receiver, docs/physics.md) swamps
    # the ~1e5-1e6 signal clicks/s (QBER -> 50 %).
    assert len(day) >= 5
    assert any(r["station"] == "Xinglong" and r["window_start_utc"].startswith("2016-12-19T03:4") for r in day)
    for row in day:
        assert row["finite_key_bits"] == 0, row
        assert row["asymptotic_key_bits"] == 0, row
        assert row["qber"] > 0.4, row
        assert row["daylight_s"] == pytest.approx(row["window_s"], rel=1e-6)
    assert len(night) >= 5
    assert sum(r["finite_key_bits"] > 0 for r in night) >= 5


def test_night_windows_keep_their_key_without_the_darkness_constraint(daylight_rows, micius_rows, stations):
    # A night window (Sun below -12 deg throughout) is the same window with or without the
    # constraint, so its key must not change; the Liao 2017 pass stays calibrated.
    _, night = _classify(daylight_rows, stations)
    constrained = {(r["station"], r["window_start_utc"]): r for r in micius_rows if r["window_s"]}
    matched = 0
    for row in night:
        other = constrained.get((row["station"], row["window_start_utc"]))
        if other is None:
            continue
        matched += 1
        assert row["finite_key_bits"] == pytest.approx(other["finite_key_bits"], rel=1e-6)
        assert row["sifted_bits"] == pytest.approx(other["sifted_bits"], rel=1e-6)
    assert matched >= 5
    headline = _headline(daylight_rows)
    assert headline["finite_key_bits"] == pytest.approx(300_939, rel=0.15)


# --- Micius 2020: Chen et al. 2021 ---------------------------------------------------------

def test_micius_2020_typical_pass_rate_matches_chen_2021(out_dir):
    rows = _cli_json(out_dir, "key", MICIUS_2020)
    # Chen et al. 2021 (Nature 589:214): "average secret-key rate 47.8 kbit/s for a typical
    # satellite pass". Typical pass as docs/make_validation.py: the median over the week's
    # windows of finite key / window length. Tolerance +-25 % (issue 13).
    rates = [r["finite_key_bits"] / r["window_s"] for r in rows if r["window_s"]]
    assert len(rates) >= 10                    # a week of night passes over two stations
    assert statistics.median(rates) == pytest.approx(47_800.0, rel=0.25)
    assert {r["station"] for r in rows if r["window_s"]} == {"Xinglong", "Nanshan"}


# --- Jinan-1: Li et al. 2025 ----------------------------------------------------------------

def test_jinan_1_best_pass_into_the_portable_receiver_matches_li_2025(out_dir, stations):
    # The scenario's Stellenbosch station uses its built-in receiver: the ~100 kg portable
    # station's 0.28 m class (Li et al. 2025; hardware assumed, constellation/scenario/receivers.py).
    assert stations["Stellenbosch"]["receiver"] == "portable-0.28m"
    assert stations["Stellenbosch"]["aperture_m"] == pytest.approx(0.28)
    scenario = tomllib.loads(JINAN_1.read_text(encoding="utf-8"))
    assert [s["name"] for s in scenario["stations"]] == ["Stellenbosch"]
    assert "receiver" not in scenario["stations"][0] and "aperture_m" not in scenario["stations"][0]
    rows = _cli_json(out_dir, "key", JINAN_1)
    # Li et al. 2025 (Nature 640:47): up to 1.07 Mbit in one pass; best pass within +-30 %.
    best = max(r["finite_key_bits"] for r in rows)
    assert best == pytest.approx(1_070_000, rel=0.30)
    # "Up to": the best pass is the best, others give less (and some none).
    keyed = sorted(r["finite_key_bits"] for r in rows if r["window_s"])
    assert len(keyed) >= 3 and keyed[-2] < best
