"""``constellation coverage`` and the coverage outputs of ``run``."""

import csv
import io
import json
from pathlib import Path

import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"


def test_summary_json(capsys):
    assert main(["coverage", str(WALKER), "--format", "json", "-o", "-"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("global_coverage_fraction", "mean_revisit_gap_s", "max_revisit_gap_s"):
        assert key in summary
    assert 0.0 < summary["global_coverage_fraction"] < 1.0
    # A near-polar constellation covers the polar caps all the time (the 80-90 deg bands).
    polar = [b for b in summary["latitude_bands"] if b["lat_min_deg"] >= 80 or b["lat_max_deg"] <= -80]
    assert polar and all(b["coverage_fraction"] == 1.0 for b in polar)


def test_lower_mask_covers_more(capsys):
    fractions = []
    for mask in ("30", "10"):
        assert main(["coverage", str(WALKER), "--format", "json", "--grid-deg", "6", "--min-elevation-deg", mask]) == 0
        fractions.append(json.loads(capsys.readouterr().out)["global_coverage_fraction"])
    assert fractions[0] < fractions[1]


def test_station_targets_csv_and_geojson(tmp_path, capsys):
    shapes = tmp_path / "footprints.geojson"
    assert main(["coverage", str(WALKER), "--stations", "--geojson", str(shapes)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows][:2] == ["Xinglong", "Nanshan"]
    assert all(0.0 <= float(r["coverage_fraction"]) <= 1.0 for r in rows)
    features = json.loads(shapes.read_text())["features"]
    assert len(features) == 66 and features[0]["properties"]["satellite"] == "walker-P1-01"


def test_geojson_and_table_into_one_file_is_refused(tmp_path, capsys):
    """The footprints and the table are two files; one name for both wrote one over the other."""
    earlier = tmp_path / "out.json"
    earlier.write_text("earlier\n")
    assert main(["coverage", str(WALKER), "--geojson", str(earlier), "-o", str(tmp_path / "." / "out.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--geojson and -o are two files" in err and "\n" not in err
    assert earlier.read_text() == "earlier\n"


@pytest.mark.parametrize("args", [["--grid-deg", "0.01"], ["--min-elevation-deg", "90"]])
def test_bad_options_exit_2(capsys, args):
    assert main(["coverage", str(WALKER), *args]) == 2
    assert "\n" not in capsys.readouterr().err.strip()


@pytest.mark.slow
def test_run_writes_coverage_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(WALKER), "-o", str(out)]) == 0
    assert (out / "coverage_points.csv").is_file() and (out / "footprints.geojson").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["coverage"]["global_coverage_fraction"] > 0


def test_plot_coverage_command(tmp_path, capsys):
    path = tmp_path / "coverage.png"
    assert main(["plot", "coverage", str(WALKER), "-o", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_region_and_k(tmp_path, capsys):
    # Europe as a region; double coverage is never more than single coverage.
    text = WALKER.read_text().replace("grid_deg = 3\n", 'grid = "region"\nregion = [[-10, 35], [30, 35], [30, 60], [-10, 60]]\ngrid_deg = 2\n')
    path = tmp_path / "europe.toml"
    path.write_text(text)
    fractions = []
    for k in ("1", "2"):
        assert main(["coverage", str(path), "--format", "json", "-k", k]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert 0 < summary["n_points"] < 400
        fractions.append(summary["global_coverage_fraction"])
    assert fractions[1] <= fractions[0]


def test_region_needs_points(tmp_path, capsys):
    text = WALKER.read_text().replace("grid_deg = 3\n", 'grid = "region"\nregion = [[-10, 35], [30, 35]]\n')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["coverage", str(path)]) == 2
    assert "coverage" in capsys.readouterr().err
