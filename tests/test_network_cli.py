"""The three seed links end to end: scenario -> passes -> key -> schedule -> relay -> weather."""

import csv
import io
import json
from pathlib import Path

import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Published distances (docs/references.md §3, §5, §6) and the station pair of each seed scenario.
SEEDS = [
    ("china-austria-2017.toml", "Xinglong", "Graz", 7600.0),
    ("china-russia-2023.toml", "Nanshan", "Zvenigorod", 3800.0),
    ("china-south-africa-2025.toml", "Beijing", "Stellenbosch", 12900.0),
]


def _network(run_cli, scenario, *extra):
    return run_cli("network", ROOT / "scenarios" / scenario, "--format", "json", *extra).json()


@pytest.mark.parametrize("scenario, a, b, distance_km",
                         [SEEDS[0], *(pytest.param(*s, marks=pytest.mark.slow) for s in SEEDS[1:])],
                         ids=[s[0] for s in SEEDS])
def test_seed_links(run_cli, scenario, a, b, distance_km):
    rows = _network(run_cli, scenario)
    link = next(r for r in rows if r["a"] == a and r["b"] == b)
    assert link["distance_km"] == pytest.approx(distance_km, rel=0.01)
    # The relay delivers key, weather can only take some of it away, P10 <= expectation.
    assert link["clear_sky_key_bits_per_day"] > 0
    assert 0 < link["key_bits_per_day"] <= link["clear_sky_key_bits_per_day"]
    assert link["key_bits_per_day_p10"] <= link["key_bits_per_day"]
    assert link["limiting_station"] in (a, b)
    assert link["median_latency_h"] <= link["max_latency_h"]


def test_relay_never_exceeds_what_either_end_received(run_cli):
    # Clear-sky relayed key over the span <= the key each gateway shared with the satellite.
    keys = run_cli("key", ROOT / "scenarios" / "china-russia-2023.toml", "--format", "json").json()
    per_station = {}
    for row in keys:
        per_station[row["station"]] = per_station.get(row["station"], 0) + row["finite_key_bits"]
    link = _network(run_cli, "china-russia-2023.toml")[0]
    assert link["key_bits"] <= min(per_station["Nanshan"], per_station["Zvenigorod"])


@pytest.mark.slow
def test_weather_monte_carlo_is_reproducible(run_cli):
    first = _network(run_cli, "china-south-africa-2025.toml")
    second = _network(run_cli, "china-south-africa-2025.toml")
    assert first == second


def test_timeline_covers_every_day(run_cli):
    rows = _network(run_cli, "china-russia-2023.toml", "--timeline")
    assert len(rows) == 30 and [r["day"] for r in rows] == list(range(30))
    assert all(r["day_start_utc"].endswith("Z") for r in rows)


def test_fibre_city_link_is_capped_by_its_fibre(run_cli):
    rows = _network(run_cli, "china-austria-2017.toml")
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


@pytest.mark.slow
def test_run_writes_network_tables(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(ROOT / "scenarios" / "china-austria-2017.toml"), "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "network.csv").read_text())))
    assert {r["a"] for r in rows} == {"Xinglong", "Beijing"}
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["links"]) == 2
