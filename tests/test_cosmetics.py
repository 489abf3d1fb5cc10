"""Cosmetics a new user noticed (issue 17, item 10): floats written without binary noise,
`export -o` says what it wrote."""

import csv
import io
import json
import math
from pathlib import Path

from constellation.output.rounding import tidy

ROOT = Path(__file__).resolve().parents[1]
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"


def test_tidy_keeps_nine_significant_digits():
    assert tidy(-88.49999999999999) == -88.5
    assert tidy(-120.00000000000001) == -120.0
    assert tidy(1219771.132857143) == 1219771.13
    assert tidy(0.00022841087423769446) == 0.000228410874
    assert tidy({"a": [0.1 + 0.2, 3], "b": None, "c": "x"}) == {"a": [0.3, 3], "b": None, "c": "x"}
    assert math.isnan(tidy(float("nan"))) and tidy(True) is True and tidy(7) == 7


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].replace("-", "").replace(".", "").strip("0")
    return len(mantissa)


def test_coverage_outputs_carry_no_float_noise(run_cli):
    out = run_cli("coverage", WALKER, "--grid-deg", "3").out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["latitude_deg"] == "-88.5" and rows[0]["longitude_deg"] == "-120.0"
    for row in rows:
        for value in row.values():
            assert _significant_digits(value) <= 9, row
    summary = run_cli("coverage", WALKER, "--grid-deg", "6", "--format", "json").out
    numbers = [v for v in json.loads(summary).values() if isinstance(v, float)]
    assert numbers and all(_significant_digits(repr(v)) <= 9 for v in numbers)


def test_export_to_a_file_says_so(run_cli, tmp_path):
    target = tmp_path / "micius.czml"
    assert run_cli("export", "czml", "-o", target).out == f"wrote {target}\n"
    assert json.loads(target.read_text())[0]["id"] == "document"
    assert run_cli("export", "czml").out.startswith("[")  # to stdout: the document only
