"""Receivers, sites and user channels under hostile input (review of issue 13).

Only key needs a receiver; receiver, site and loss-profile numbers have physical bounds;
click counts never exceed the pulses sent; a loss that is not finite is never written as
0 dB; key rows of passes without a window leave QBER and background empty; bad input is one
line naming the file and the field, as TOML spells what was found.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from constellation.cli import main
from constellation.key.decoy_bb84 import key_for_profile
from constellation.key.per_pass import PassKeys, key_rows
from constellation.scenario.receiver_params import (MAX_DARK_COUNT_CPS, MAX_GATE_NS, MAX_TURBULENCE_URAD,
                                                   ReceiverParams, SiteParams)
from constellation.scenario.profile import MAX_BACKGROUND_CPS
from constellation.scenario.receivers import RECEIVERS
from constellation.scenario.terminal_params import QkdParams

from conftest import MICIUS_TLE

TLE1, TLE2 = MICIUS_TLE
# The Micius pass of 2016-12-19 ~16:52 UTC over Xinglong (Liao 2017) and a custom station 50 km away.
SCENARIO = f"""[scenario]
name = "t"
start = 2016-12-19T16:00:00Z
end = 2016-12-19T18:00:00Z

[[satellites]]
name = "MICIUS"
tle = ["{TLE1}", "{TLE2}"]

[link]
preset = "micius"

[qkd]
preset = "micius"

[[stations]]
name = "My OGS"
latitude_deg = 40.0
longitude_deg = 117.5
"""


def _run(tmp_path, capsys, args, text=None, name="s.toml"):
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    code = main([a.replace("{f}", str(tmp_path / name)) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------ finding 1: only key needs a receiver

@pytest.mark.parametrize("args, shows", [(["passes", "{f}"], "My OGS"), (["export", "geojson", "{f}"], "MICIUS"),
                                         (["export", "czml", "{f}"], "My OGS")])
def test_a_station_without_receiver_has_passes_and_exports(tmp_path, capsys, args, shows):
    code, out, err = _run(tmp_path, capsys, args, SCENARIO)
    assert code == 0 and err == "", err
    assert shows in out


def test_key_of_a_station_without_receiver_is_one_line_naming_it(tmp_path, capsys):
    code, out, err = _run(tmp_path, capsys, ["key", "{f}"], SCENARIO)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "stations[0].receiver: expected a receiver to compute key at My OGS" in err
    assert 'receiver = "observatory-1m"' in err and "found My OGS has no receiver" in err


def test_the_same_station_with_a_receiver_computes_key(tmp_path, capsys):
    text = SCENARIO + 'receiver = "observatory-1m"\n'
    code, out, err = _run(tmp_path, capsys, ["key", "{f}", "--format", "json"], text)
    assert code == 0 and err == "", err
    rows = json.loads(out)
    assert rows and rows[0]["station"] == "My OGS" and rows[0]["finite_key_bits"] > 0


# ------------------------------------------------------------ finding 2: bounds and saturation

@pytest.mark.parametrize("line, field", [
    ('receiver = { preset = "observatory-1m", dark_count_cps = 1e10 }', "receiver.dark_count_cps"),
    ('receiver = { preset = "observatory-1m", gate_ns = 1e6 }', "receiver.gate_ns"),
    ('receiver = { preset = "observatory-1m", timing_jitter_ps = 1e300 }', "receiver.timing_jitter_ps"),
    ('receiver = "observatory-1m"\nsky = { turbulence = 1e160 }', "sky.turbulence"),
    ('receiver = "observatory-1m"\nsky = { turbulence_urad = 1000 }', "sky.turbulence_urad"),
])
def test_unphysical_receiver_and_site_numbers_are_refused(tmp_path, capsys, line, field):
    code, out, err = _run(tmp_path, capsys, ["passes", "{f}"], SCENARIO + line + "\n")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"stations[0].{field}: expected a number" in err and "Warning" not in err


def test_the_bounds_are_the_stated_physical_ones():
    # Detectors saturate near 1e7 counts/s; a gate of 100 ns is a 10 MHz source's period; 100 urad
    # is 20 arcsec, four times the worst seeing.
    assert (MAX_DARK_COUNT_CPS, MAX_GATE_NS, MAX_TURBULENCE_URAD) == (1e7, 100.0, 100.0)
    at_limit = ReceiverParams(**{**RECEIVERS["observatory-1m"].__dict__, "dark_count_cps": 1e7, "gate_ns": 100.0})
    assert at_limit.dark_count_cps == 1e7
    assert SiteParams(turbulence_urad=100.0).turbulence_urad == 100.0


def test_clicks_never_exceed_pulses_at_the_largest_noise():
    """At the largest dark counts and background the inputs allow, every gate has a noise click
    (y0 = 1 - exp(-x) -> 1): sifted bits are half the pulses at most (P_X = 0.5, afterpulses
    adding p_ap of the clicks), the QBER 1/2 and the key 0."""
    noisy = ReceiverParams(**{**RECEIVERS["observatory-1m"].__dict__, "dark_count_cps": 1e7, "gate_ns": 100.0})
    qkd = QkdParams()
    result = key_for_profile(np.full(100, 30.0), 1.0, qkd, noisy, MAX_BACKGROUND_CPS)
    pulses = 100 * qkd.source_rate_hz
    assert result.detections <= pulses * (1.0 + noisy.afterpulse_probability)
    assert result.sifted_bits <= 0.5 * pulses * (1.0 + noisy.afterpulse_probability)
    assert result.qber == pytest.approx(0.5, abs=1e-3)
    assert result.finite_key_bits == 0.0


# ------------------------------------------------------------ finding 3 and 11: empty, never 0

def test_key_rows_leave_unknown_values_empty():
    keys = PassKeys(window_s=np.array([0.0, 100.0, 100.0]), mean_loss_db=np.array([0.0, np.inf, 32.0]),
                    min_loss_db=np.array([0.0, np.inf, 30.0]), sifted_bits=np.array([0.0, 10.0, 1e5]),
                    qber=np.array([0.0, 0.5, 0.02]), asymptotic_key_bits=np.zeros(3), finite_key_bits=np.zeros(3),
                    key_bits=np.zeros(3), daylight_s=np.zeros(3), mean_background_cps=np.array([0.0, 30.0, 30.0]))
    base = dict(satellite="S", station="X", aos_utc="", window_start_utc="", window_end_utc="")
    no_window, dark, good = key_rows([base] * 3, keys)
    assert (no_window["qber"], no_window["mean_background_cps"], no_window["mean_loss_db"]) == (None, None, None)
    assert (dark["mean_loss_db"], dark["min_loss_db"], dark["qber"]) == (None, None, 0.5)
    assert (good["mean_loss_db"], good["min_loss_db"]) == (32.0, 30.0)


def test_a_beam_wider_than_a_float_is_an_infinite_loss_without_warnings(tmp_path, capsys):
    text = SCENARIO.replace('[link]\npreset = "micius"', '[link]\npreset = "micius"\npointing_jitter_urad = 1e160')
    code, out, err = _run(tmp_path, capsys, ["key", "{f}", "--format", "json"], text + 'receiver = "observatory-1m"\n')
    assert code == 0 and err == "", err
    row = json.loads(out)[0]
    assert row["mean_loss_db"] is None and row["min_loss_db"] is None
    assert row["finite_key_bits"] == 0 and row["qber"] == pytest.approx(0.5, abs=1e-3)


# ------------------------------------------------------------ findings 4-6: loss profiles

QKD = '[qkd]\npreset = "micius"\n\n[receiver]\npreset = "observatory-1m"\n'


def _profile(tmp_path, capsys, csv_text, qkd_text=QKD):
    (tmp_path / "p.csv").write_text(csv_text)
    (tmp_path / "q.toml").write_text(qkd_text)
    code = main(["key", "--loss-profile", str(tmp_path / "p.csv"), "--qkd", str(tmp_path / "q.toml")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("csv_text, field, found", [
    ("t_s,loss_db,Background_cps\n0,30,1e9\n", "header column 3", "'Background_cps'"),
    ("t_s,loss_db,background_cps,background_cps\n0,30,1,2\n", "header column 4", "'background_cps'"),
    ("t_s,loss_db,note\n0,30,x\n", "header column 3", "'note'"),
    ("t_s,loss_db\n0,30,5\n", "line 2", "3 cells"),
    ("t_s,loss_db,background_cps\n0,30,1e12\n", "line 2 background_cps", "'1e12'"),
    ("t_s,loss_db,background_cps\n0,30,-5.0\n", "line 2 background_cps", "'-5.0'"),
    ("t_s,loss_db\n0,30\n1e300,30\n", "line 3 t_s", "'1e300'"),
])
def test_bad_profiles_are_refused(tmp_path, capsys, csv_text, field, found):
    code, out, err = _profile(tmp_path, capsys, csv_text)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"p.csv: {field}: expected" in err and err.rstrip().endswith(f"found {found}")


def test_receiver_band_is_checked_against_the_payload_of_the_qkd_file(tmp_path, capsys):
    code, _, err = _profile(tmp_path, capsys, "t_s,loss_db\n0,30\n",
                            QKD.replace("observatory-1m", "daylight-1550"))
    assert code == 2 and "q.toml: receiver: expected a receiver working at the payload's wavelength (848.62 nm" in err
    # The payload's wavelength stated in [qkd] is the one checked.
    code, out, err = _profile(tmp_path, capsys, "t_s,loss_db\n0,30\n",
                              QKD.replace("observatory-1m", "daylight-1550").replace(
                                  'preset = "micius"', 'preset = "micius"\nwavelength_nm = 1550'))
    assert code == 0 and err == "", err


@pytest.mark.parametrize("line, says", [
    ("zenith_transmittance = 0.5", "the loss profile's loss_db includes the atmosphere"),
    ("background_cps_day = 5", "the loss profile's background_cps column"),
    ("aperture_m = 0.5", "loss_db includes the receiver's aperture"),
    ("dark_count_cps = 10", "[receiver] table (receiver.dark_count_cps)"),
    ("field_of_view_urad = 50", "the loss profile's background_cps column"),
    ('receiver = "observatory-1m"', None),
])
def test_channel_and_receiver_keys_in_the_qkd_table_say_where_they_live(tmp_path, capsys, line, says):
    code, _, err = _profile(tmp_path, capsys, "t_s,loss_db\n0,30\n",
                            QKD.replace('preset = "micius"', f'preset = "micius"\n{line}'))
    key = line.split(" =")[0]
    assert code == 2 and f"q.toml: qkd.{key}: expected" in err, err
    assert says is None or says in err


@pytest.mark.parametrize("table, key, says", [
    ("link", "dark_count_cps", "stations[].receiver.dark_count_cps"),
    ("qkd", "field_of_view_urad", "stations[].receiver.field_of_view_urad"),
    ("link", "field_of_view_urad", "stations[].receiver.field_of_view_urad"),
    ("qkd", "aperture_m", "stations[].aperture_m or stations[].receiver.aperture_m"),
    ("qkd", "pointing_jitter_urad", "it belongs in [link]"),
])
def test_receiver_keys_in_payload_tables_point_to_the_station(tmp_path, capsys, table, key, says):
    text = SCENARIO.replace(f'[{table}]\npreset = "micius"', f'[{table}]\npreset = "micius"\n{key} = 1')
    code, _, err = _run(tmp_path, capsys, ["passes", "{f}"], text)
    assert code == 2 and f"{table}.{key}: expected" in err and says in err, err


# ------------------------------------------------------------ findings 7, 8, 12: sky, aperture, wording

@pytest.mark.parametrize("line, field, expected, found", [
    ("sky = { turbulance = 5 }", "sky.turbulance", "did you mean 'turbulence'?", "'turbulance'"),
    ("sky = { turbulence = 5, turbulence_urad = 5 }", "sky.turbulence", "turbulence and turbulence_urad", "both"),
    ('aperture_m = "1"', "aperture_m", "a number", "'1'"),
    ("aperture_m = true", "aperture_m", "a number", "true"),
    ("aperture_m = nan", "aperture_m", "a finite number", "nan"),
    ('aperture_m = 1\nreceiver = { preset = "observatory-1m", aperture_m = 0.3 }', "aperture_m",
     "the aperture given once", "both (1 and 0.3)"),
    ("receiver = { aperture_m = true }", "receiver.aperture_m", "a finite number", "true"),
    ("receiver = { aperture_m = { a = 1 } }", "receiver.aperture_m", "a finite number", "{a = 1}"),
    ("sky = { aerosol_optical_depth = true }", "sky.aerosol_optical_depth", "a finite number", "true"),
])
def test_station_inputs_in_toml_words(tmp_path, capsys, line, field, expected, found):
    code, out, err = _run(tmp_path, capsys, ["passes", "{f}"], SCENARIO + line + "\n")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"stations[0].{field}: expected" in err and expected in err and err.rstrip().endswith(f"found {found}")


# ------------------------------------------------------------ finding 13: receiver numbers on the command line

def test_receivers_lists_every_preset_with_its_numbers_and_source(capsys):
    assert main(["receivers", "--format", "json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(RECEIVERS)
    for name, rx in RECEIVERS.items():
        assert rows[name]["dark_count_cps"] == rx.dark_count_cps and rows[name]["gate_ns"] == rx.gate_ns
        assert rows[name]["source"]
    # Liao 2017: Xinglong's 1 m receiver, 50 % detectors, < 25 counts/s, 2 ns window.
    xinglong = rows["observatory-1m"]
    assert (xinglong["aperture_m"], xinglong["detector_efficiency"], xinglong["dark_count_cps"],
            xinglong["gate_ns"]) == (1.0, 0.5, 25.0, 2.0)
    assert "Liao" in xinglong["source"]


def test_the_readme_scenario_example_computes_key_at_both_stations(tmp_path, capsys):
    """The README's scenario example, its TLE elided there, runs `key` as written (finding 1)."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index('```toml\n[scenario]\nname = "Micius 2016"') + len("```toml\n"):]
    block = block[:block.index("```")].replace('tle = ["1 41731U ...", "2 41731 ..."]', f'tle = ["{TLE1}", "{TLE2}"]')
    code, out, err = _run(tmp_path, capsys, ["key", "{f}", "--format", "json"], block)
    assert code == 0 and err == "", err
    rows = [row for row in json.loads(out) if row["window_s"] > 0]
    assert {row["station"] for row in rows} == {"Xinglong", "My OGS"}
    assert all(row["finite_key_bits"] > 0 for row in rows)
