"""docs/outputs.md names every column and key that `run` writes (issue 17, item 4).

`run` is run on the shipped default scenario and on shipped scenarios that reach the other
tables (relay network, coverage without stations, entanglement); every CSV header, every
JSON key (recursively; keys that are data, like station names and dates, excepted) and every
GeoJSON feature property must appear in backticks on the page.
"""

import csv
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "outputs.md"
# Objects keyed by data (station names, UTC days, satellite names), not by field names.
DATA_KEYED = {"per_station", "per_day", "element_set_epochs_utc"}


def documented() -> set[str]:
    return set(re.findall(r"`([A-Za-z0-9_.-]+)`", DOC.read_text(encoding="utf-8")))


def json_keys(value, parent=None) -> set[str]:
    keys = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in DATA_KEYED:
                keys.add(key)
            keys |= json_keys(item, key)
    elif isinstance(value, list):
        for item in value:
            keys |= json_keys(item, parent)
    return keys


def written_names(folder: Path) -> dict[str, set[str]]:
    """File name -> the column or key names it holds."""
    names = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            with path.open(newline="") as handle:
                names[path.name] = set(next(csv.reader(handle)))
        elif path.suffix == ".geojson":
            document = json.loads(path.read_text())
            names[path.name] = {k for f in document["features"] for k in f["properties"]}
        elif path.suffix == ".json":
            names[path.name] = json_keys(json.loads(path.read_text()))
    return names


@pytest.mark.parametrize("scenario, files", [
    (None, {"passes.csv", "key.csv", "summary.json"}),  # the built-in default
    ("china-russia-2023.toml", {"network.csv", "network_timeline.csv", "schedule.csv"}),
    ("iridium-66-coverage.toml", {"coverage_points.csv", "coverage_summary.json", "footprints.geojson"}),
    ("micius-2018-entanglement.toml", {"dual.csv"}),
])
def test_every_column_run_writes_is_documented(run_cli, tmp_path, scenario, files):
    out = tmp_path / "out"
    args = ["run", "-o", out, "--no-plots"] + ([ROOT / "scenarios" / scenario] if scenario else [])
    run_cli(*args)
    names = written_names(out)
    assert files <= set(names), sorted(names)
    known = documented()
    for name in names:
        assert f"`{name}`" in DOC.read_text(encoding="utf-8"), f"{name} is not on docs/outputs.md"
    missing = {f"{file}: {column}" for file, columns in names.items() for column in columns - known}
    assert not missing, f"columns written by run but not in docs/outputs.md: {sorted(missing)}"


def test_the_readme_points_to_the_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/outputs.md" in readme
    for column in ("daylight_s", "mean_background_cps", "limiting_station", "p10_key_bits"):
        assert column in readme or column in DOC.read_text(encoding="utf-8")
