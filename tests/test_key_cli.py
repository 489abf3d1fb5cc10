"""Key per pass end to end (real SGP4 geometry, link and finite-key kernels) and the
``key`` command on user loss profiles, including its bad input."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
MICIUS = ROOT / "scenarios" / "micius-2016-xinglong.toml"
JINAN = ROOT / "scenarios" / "jinan-1-stellenbosch-2025.toml"

# Liao et al. 2017 pass as digitised by Baidu QNET (docs/references.md §2c): t_s -> loss_db,
# detector excluded.
QNET_T_S = [0, 20, 40, 60, 80, 100, 120, 131.3, 160, 180, 200, 220, 240, 260, 274]
QNET_LOSS_DB = [39.05, 36.46, 32.74, 32.10, 31.37, 30.54, 29.74, 29.75, 30.71, 30.62, 31.80, 31.80,
                33.69, 37.13, 38.28]


def _key_rows(run_cli, scenario):
    return run_cli("key", scenario, "--format", "json").json()


def test_micius_headline_pass_key(run_cli):
    # Liao 2017: ~273 s window at 645-1,200 km, kilohertz final key rate; the final key of
    # the 19 Dec 2016 pass (~300 kbit) is recalled, not confirmed (docs/references.md §2e), so the
    # check is the order of magnitude the issue states: 1e5 bits.
    rows = _key_rows(run_cli, MICIUS)
    row = next(r for r in rows if r["station"] == "Xinglong" and (r["window_start_utc"] or "").startswith("2016-12-19T16:4"))
    assert row["window_s"] == pytest.approx(272.0, abs=3.0)
    assert 1e5 <= row["finite_key_bits"] < 1e6
    assert row["finite_key_bits"] <= row["asymptotic_key_bits"] <= row["sifted_bits"]
    assert 0.01 <= row["qber"] <= 0.02  # QBER ~1-2 % (docs/references.md §2e, §10c)
    # The QNET curve spans 29.7-40.3 dB; ours (detector excluded) must sit in that band +- 2 dB.
    assert 27.7 <= row["min_loss_db"] <= 31.8 and row["mean_loss_db"] < 40.3


def test_passes_without_window_carry_no_key(run_cli):
    for row in _key_rows(run_cli, MICIUS):
        if row["window_s"] == 0:
            assert row["finite_key_bits"] == row["sifted_bits"] == 0


def test_jinan1_best_pass_is_about_a_megabit(run_cli):
    # Li et al. 2025: up to 1.07 Mbit in one Stellenbosch pass. The preset's terminal is
    # assumed (see presets.py); the orbit is a 500 km SSO with an assumed LTAN. Factor-2 band.
    best = max(r["finite_key_bits"] for r in _key_rows(run_cli, JINAN))
    assert 0.5e6 <= best <= 2.14e6


# The Micius payload's protocol and Xinglong's receiver (Liao 2017): the --qkd file names both.
MICIUS_QKD_TOML = '[qkd]\npreset = "micius"\n\n[receiver]\npreset = "observatory-1m"\n'


@pytest.fixture
def qkd_file(tmp_path):
    path = tmp_path / "qkd.toml"
    path.write_text(MICIUS_QKD_TOML)
    return path


def _profile(tmp_path, rows, name="profile.csv"):
    path = tmp_path / name
    path.write_text("t_s,loss_db\n" + "".join(f"{t},{loss}\n" for t, loss in rows))
    return path


def test_loss_profile_key(tmp_path, qkd_file, capsys):
    t = np.arange(274.0)
    loss = np.interp(t + 0.5, QNET_T_S, QNET_LOSS_DB)
    path = _profile(tmp_path, zip(t, loss))
    assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd_file), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["slots"] == 274 and out["duration_s"] == pytest.approx(274.0)
    # Liao 2017 (MEM): ~1.67e6 sifted bits and ~3.0e5 final key, QBER ~1.1 %; the Micius
    # payload into the observatory-1m receiver (dark counts only: the profile has no
    # background column) gives the same order: within a factor 2 on key, 25 % on sifted bits,
    # QBER in the published 1-2 % (docs/references.md §2e).
    assert 0.5 * 300939 <= out["finite_key_bits"] <= 2 * 300939
    assert out["sifted_bits"] == pytest.approx(1.67e6, rel=0.25)
    assert 0.01 <= out["qber"] <= 0.02
    assert out["finite_key_bits"] < out["asymptotic_key_bits"]


def test_background_column_costs_key(tmp_path, qkd_file, capsys):
    # A background_cps column adds noise clicks (whole receiver, all 4 detectors together) to
    # the dark counts of every detector: same signal, so more sifted bits, a higher QBER and less key.
    t = np.arange(274.0)
    loss = np.interp(t + 0.5, QNET_T_S, QNET_LOSS_DB)
    dark = _profile(tmp_path, zip(t, loss))
    lit = tmp_path / "background.csv"
    lit.write_text("t_s,loss_db,background_cps\n" + "".join(f"{a},{b},2000\n" for a, b in zip(t, loss)))
    assert main(["key", "--loss-profile", str(dark), "--qkd", str(qkd_file), "--format", "json"]) == 0
    night = json.loads(capsys.readouterr().out)
    assert main(["key", "--loss-profile", str(lit), "--qkd", str(qkd_file), "--format", "json"]) == 0
    moonlit = json.loads(capsys.readouterr().out)
    assert moonlit["sifted_bits"] > night["sifted_bits"]
    assert moonlit["qber"] > night["qber"]
    assert 0 < moonlit["finite_key_bits"] < night["finite_key_bits"]


def test_receiver_decides_the_key_of_a_profile(tmp_path, capsys):
    # The same channel into better detectors (0.6 instead of observatory-1m's 0.5) gives more
    # sifted bits, in proportion to the efficiency to within the dark-count share (< 1 %).
    t = np.arange(274.0)
    path = _profile(tmp_path, zip(t, np.interp(t + 0.5, QNET_T_S, QNET_LOSS_DB)))
    rows = []
    for efficiency in (0.5, 0.6):
        qkd = tmp_path / f"qkd-{efficiency}.toml"
        qkd.write_text(MICIUS_QKD_TOML + f"detector_efficiency = {efficiency}\n")
        assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd), "--format", "json"]) == 0
        rows.append(json.loads(capsys.readouterr().out))
    assert rows[1]["sifted_bits"] / rows[0]["sifted_bits"] == pytest.approx(0.6 / 0.5, rel=0.01)
    assert rows[1]["finite_key_bits"] > rows[0]["finite_key_bits"]


def test_loss_profile_csv_output(tmp_path, qkd_file, capsys):
    path = _profile(tmp_path, [(0, 30.0), (1, 30.0), (2, 30.0)])
    assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd_file)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["slots"] == "3" and {"finite_key_bits", "asymptotic_key_bits", "qber", "sifted_bits"} <= set(rows[0])


BAD_PROFILES = [
    ("negative-loss", "t_s,loss_db\n0,30\n1,-2\n", ["line 3 loss_db", ">= 0"]),
    ("not-monotonic", "t_s,loss_db\n0,30\n2,30\n1,30\n", ["line 4 t_s", "increasing"]),
    ("empty", "t_s,loss_db\n", ["rows", "at least one"]),
    ("no-header", "", ["rows"]),
    ("wrong-columns", "time,loss\n0,30\n", ["header", "t_s and loss_db"]),
    ("not-a-number", "t_s,loss_db\n0,thirty\n", ["line 2 loss_db", "a number", "thirty"]),
    ("negative-background", "t_s,loss_db,background_cps\n0,30,10\n1,30,-5\n",
     ["line 3 background_cps", "a rate >= 0", "-5"]),
    ("background-not-a-number", "t_s,loss_db,background_cps\n0,30,dark\n",
     ["line 2 background_cps", "a number", "dark"]),
]


@pytest.mark.parametrize("case, text, fragments", BAD_PROFILES, ids=[c[0] for c in BAD_PROFILES])
def test_bad_loss_profile(tmp_path, qkd_file, capsys, case, text, fragments):
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err
    for fragment in fragments:
        assert fragment in err


BAD_QKD = [
    ("probabilities-sum", "probabilities = [0.5, 0.3, 0.3]", ["probabilities", "sum"]),
    ("intensities-order", "intensities = [0.1, 0.8, 0.0]", ["intensities"]),
    ("unknown-preset", 'preset = "micus"', ["qkd.preset", "did you mean 'micius'"]),
    ("unknown-key", "sourcerate_hz = 1e8", ["qkd.sourcerate_hz"]),
    # A receiver property in [qkd] (where it lived before): the line says where it lives now.
    ("moved-key", "detector_efficiency = 0.5", ["qkd.detector_efficiency", "now lives in", "receiver"]),
    ("moved-dark-counts", "dark_count_probability = 1e-7", ["qkd.dark_count_probability", "dark_count_cps"]),
]


@pytest.mark.parametrize("case, line, fragments", BAD_QKD, ids=[c[0] for c in BAD_QKD])
def test_bad_qkd_table(tmp_path, capsys, case, line, fragments):
    qkd = tmp_path / "qkd.toml"
    table = f'[qkd]\npreset = "micius"\n{line}\n' if "preset" not in line else f"[qkd]\n{line}\n"
    qkd.write_text(table + '\n[receiver]\npreset = "observatory-1m"\n')
    profile = _profile(tmp_path, [(0, 30.0), (1, 30.0)])
    assert main(["key", "--loss-profile", str(profile), "--qkd", str(qkd)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(qkd) in err
    for fragment in fragments:
        assert fragment in err, err


BAD_RECEIVER = [
    ("missing", None, ["receiver", "a [receiver] table", "none"]),
    ("unknown-preset", 'preset = "observatory-1n"', ["receiver.preset", "did you mean 'observatory-1m'"]),
    ("field-of-view-zero", 'preset = "observatory-1m"\nfield_of_view_urad = 0',
     ["receiver.field_of_view_urad", "(0, 100000]", "0"]),
    ("filter-negative", 'preset = "observatory-1m"\nfilter_width_nm = -1',
     ["receiver.filter_width_nm", "(0, 1000]", "-1"]),
    ("efficiency-above-one", 'preset = "observatory-1m"\ndetector_efficiency = 1.2',
     ["receiver.detector_efficiency", "(0, 1]", "1.2"]),
    ("no-preset-incomplete", "detector_efficiency = 0.5", ["receiver.aperture_m", "required"]),
    ("unknown-key", 'preset = "observatory-1m"\nfield_of_view_rad = 1e-4',
     ["receiver.field_of_view_rad", "field_of_view_urad"]),
]


@pytest.mark.parametrize("case, table, fragments", BAD_RECEIVER, ids=[c[0] for c in BAD_RECEIVER])
def test_bad_receiver_table(tmp_path, capsys, case, table, fragments):
    qkd = tmp_path / "qkd.toml"
    qkd.write_text('[qkd]\npreset = "micius"\n' + ("" if table is None else f"\n[receiver]\n{table}\n"))
    profile = _profile(tmp_path, [(0, 30.0), (1, 30.0)])
    assert main(["key", "--loss-profile", str(profile), "--qkd", str(qkd)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and str(qkd) in err
    for fragment in fragments:
        assert fragment in err, err


def test_daylight_flag_is_gone(tmp_path, qkd_file, capsys):
    # Daylight is decided by the sky model (a background_cps column), not a flag: usage error.
    profile = _profile(tmp_path, [(0, 30.0)])
    assert main(["key", "--loss-profile", str(profile), "--qkd", str(qkd_file), "--daylight"]) == 2
    assert "--daylight" in capsys.readouterr().err


def test_scenario_without_link_model_is_an_input_error(tmp_path, capsys):
    text = MICIUS.read_text().split("[link]")[0]
    path = tmp_path / "nolink.toml"
    path.write_text(text)
    assert main(["key", str(path)]) == 2
    assert "[link] and [qkd]" in capsys.readouterr().err


def test_profile_and_scenario_are_exclusive(tmp_path, qkd_file, capsys):
    profile = _profile(tmp_path, [(0, 30.0)])
    assert main(["key", str(MICIUS), "--loss-profile", str(profile), "--qkd", str(qkd_file)]) == 2


def test_loss_profile_with_optimised_settings(tmp_path, qkd_file, capsys):
    t = np.arange(274.0)
    path = _profile(tmp_path, zip(t, np.interp(t + 0.5, QNET_T_S, QNET_LOSS_DB)))
    assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd_file), "--format", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["key", "--loss-profile", str(path), "--qkd", str(qkd_file), "--format", "json", "--optimise"]) == 0
    best = json.loads(capsys.readouterr().out)
    assert best["finite_key_bits"] >= plain["finite_key_bits"]
    assert 0.3 <= best["mu_signal"] <= 1.0 and 0.3 <= best["basis_probability_x"] <= 0.95
