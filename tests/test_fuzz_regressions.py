"""Inputs the parser fuzzer (benchmarks/fuzz_parsers.py) once crashed on: each must now be a
one-line InputError naming the file and the key, never another exception."""

import json

import pytest

from constellation.errors import InputError
from constellation.scenario.omm import read_omm_file
from constellation.output.tables import render_table
from constellation.scenario.build import scenario_from_dict

RECORD = {"OBJECT_NAME": "MICIUS", "OBJECT_ID": "2016-051A", "EPOCH": "2016-12-18T21:38:11.330592",
          "MEAN_MOTION": 15.23915303, "ECCENTRICITY": 0.00132, "INCLINATION": 97.3699, "RA_OF_ASC_NODE": 267.45,
          "ARG_OF_PERICENTER": 178.5836, "MEAN_ANOMALY": 246.0824, "NORAD_CAT_ID": 41731, "BSTAR": 1.7957e-05}


@pytest.mark.parametrize("key, value", [
    ("CLASSIFICATION_TYPE", "Ue"),        # was TypeError inside sgp4.omm.initialize
    ("ELEMENT_SET_NO", 1e60),             # was OverflowError
    ("REV_AT_EPOCH", 10**22),
    ("EPHEMERIS_TYPE", 1e200),
])
def test_omm_json_out_of_range_bookkeeping_keys(tmp_path, key, value):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{**RECORD, key: value}]))
    with pytest.raises(InputError, match=rf"bad\.json: object 1 {key}: expected"):
        read_omm_file(path)


def test_omm_csv_with_a_bare_carriage_return(tmp_path):
    keys = list(RECORD)
    path = tmp_path / "bad.csv"
    path.write_bytes((",".join(keys).replace("MEAN_ANOMALY", "MEAN\rANOMALY") + "\n"
                      + ",".join(str(RECORD[k]) for k in keys) + "\n").encode())
    with pytest.raises(InputError, match=r"bad\.csv: line \d+: expected CSV rows"):
        read_omm_file(path)


def test_omm_epoch_outside_the_sgp4_era(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{**RECORD, "EPOCH": "0016-12-18T21:38:11.330592"}]))
    with pytest.raises(InputError, match=r"EPOCH: expected a UTC date and time from 1957 to 2100"):
        read_omm_file(path)


def test_omm_xml_segment_without_tle_parameters(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text('<ndm><omm><body><segment><metadata><OBJECT_NAME>X</OBJECT_NAME></metadata>'
                    '<data><meanElements><EPOCH>2016-12-18T21:38:11.330592</EPOCH></meanElements></data>'
                    '</segment></body></omm></ndm>\n')
    with pytest.raises(InputError, match=r"bad\.xml: XML: expected CCSDS OMM XML"):
        read_omm_file(path)


@pytest.mark.parametrize("table", ["link", "qkd"])
def test_preset_given_as_a_table(table):
    data = {"scenario": {"name": "x", "start": "2016-12-19T00:00:00Z", "end": "2016-12-19T01:00:00Z"},
            "satellites": [{"name": "s", "altitude_km": 500.0, "inclination_deg": 97.0}],
            "stations": [{"name": "Xinglong"}], "link": {"preset": "micius"}, "qkd": {"preset": "micius"}}
    data[table] = {"preset": {"a": 1}}
    with pytest.raises(InputError, match=rf"{table}\.preset: expected one of"):
        scenario_from_dict(data)


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(lead):
    """OWASP's CSV-injection characters; a text cell starting with one gets a leading quote."""
    import csv
    import io

    text = render_table([{"name": f"{lead}HYPERLINK(1)", "n": -3}], ["name", "n"], "csv")
    row = list(csv.reader(io.StringIO(text, newline="")))[1]
    written = "\n" if lead == "\r" else lead  # line breaks inside text cells are written as LF
    assert row == [f"'{written}HYPERLINK(1)", "-3"]  # numbers are not text: left alone


def test_relative_paths_stay_inside_the_scenario_folder(tmp_path):
    """A scenario reads what it names relative to itself, inside its folder; leaving the folder
    takes an absolute path, written out in the file for the reader to see."""
    from constellation.scenario.build import load_scenario

    (tmp_path / "inner").mkdir()
    (tmp_path / "secret.tle").write_text("not for the scenario\n")
    scenario = tmp_path / "inner" / "s.toml"
    scenario.write_text('[scenario]\nname = "x"\nstart = 2016-12-19T00:00:00Z\nend = 2016-12-19T01:00:00Z\n'
                        '[[satellites]]\ntle_file = "../secret.tle"\n[[stations]]\nname = "Xinglong"\n')
    with pytest.raises(InputError, match=r"satellites\[0\]\.tle_file: expected a file inside the scenario's folder"):
        load_scenario(scenario)
