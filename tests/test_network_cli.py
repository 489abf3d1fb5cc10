"""The three seed links end to end: scenario -> passes -> key -> schedule -> relay -> weather."""

import csv
import io
import json
from pathlib import Path

import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Published distances (facts.md 3, 5, 6) and the station pair of each seed scenario.
SEEDS = [
    ("china-austria-2017.toml", "Xinglong", "Graz", 7600.0),
    ("china-russia-2023.toml", "Nanshan", "Zvenigorod", 3800.0),
    ("china-south-africa-2025.toml", "Beijing", "Stellenbosch", 12900.0),
]


def _network(capsys, scenario, *extra):
    assert main(["network", str(ROOT / "scenarios" / scenario), "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("scenario, a, b, distance_km", SEEDS, ids=[s[0] for s in SEEDS])
def test_seed_links(capsys, scenario, a, b, distance_km):
    rows = _network(capsys, scenario)
    link = next(r for r in rows if r["a"] == a and r["b"] == b)
    assert link["distance_km"] == pytest.approx(distance_km, rel=0.01)
    # The relay delivers key, weather can only take some of it away, P10 <= expectation.
    assert link["clear_sky_key_bits_per_day"] > 0
    assert 0 < link["key_bits_per_day"] <= link["clear_sky_key_bits_per_day"]
    assert link["key_bits_per_day_p10"] <= link["key_bits_per_day"]
    assert link["limiting_station"] in (a, b)
    assert link["median_latency_h"] <= link["max_latency_h"]


def test_relay_never_exceeds_what_either_end_received(capsys):
    # Clear-sky relayed key over the span <= the key each gateway shared with the satellite.
    assert main(["key", str(ROOT / "scenarios" / "china-russia-2023.toml"), "--format", "json"]) == 0
    keys = json.loads(capsys.readouterr().out)
    per_station = {}
    for row in keys:
        per_station[row["station"]] = per_station.get(row["station"], 0) + row["finite_key_bits"]
    link = _network(capsys, "china-russia-2023.toml")[0]
    assert link["key_bits"] <= min(per_station["Nanshan"], per_station["Zvenigorod"])


def test_weather_monte_carlo_is_reproducible(capsys):
    first = _network(capsys, "china-south-africa-2025.toml")
    second = _network(capsys, "china-south-africa-2025.toml")
    assert first == second


def test_timeline_covers_every_day(capsys):
    rows = _network(capsys, "china-russia-2023.toml", "--timeline")
    assert len(rows) == 30 and [r["day"] for r in rows] == list(range(30))
    assert all(r["day_start_utc"].endswith("Z") for r in rows)


def test_fibre_city_link_is_capped_by_its_fibre(capsys):
    rows = _network(capsys, "china-austria-2017.toml")
    city = next(r for r in rows if r["a"] == "Beijing")
    # 1 kbit/s fibre tails carry at most 86.4 Mbit a day: never the binding limit here, so the
    # city link gets what its gateway channel relays.
    assert city["key_bits_per_day"] <= 86.4e6
    assert city["gateway_a"] == "Xinglong" and city["gateway_b"] == "Graz"


def test_unknown_link_end_is_an_input_error(tmp_path, capsys):
    text = (ROOT / "scenarios" / "china-russia-2023.toml").read_text().replace('b = "Zvenigorod"', 'b = "Zvenigorad"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["network", str(path)]) == 2
    err = capsys.readouterr().err
    assert "links[0].b" in err and "did you mean 'Zvenigorod'" in err


def test_run_writes_network_tables(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "scenarios" / "china-austria-2017.toml"), "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "network.csv").read_text())))
    assert {r["a"] for r in rows} == {"Xinglong", "Beijing"}
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["links"]) == 2
