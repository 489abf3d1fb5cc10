"""Entanglement distribution (issue 15): dual-downlink windows, the BBM92 model, and the Micius
entanglement experiments reproduced through the shipped scenarios.

Published figures (docs/validation.md, docs/references.md §14):
- Yin et al. 2017, Science 356:1140: Delingha-Lijiang, summed two-downlink length 1,600-2,400 km.
- Yin et al. 2017, PRL 119:200501: one downlink to Delingha, 29 dB at 530 km to 36 dB at 1,000 km.
- Yin et al. 2020, Nature 582:501: Delingha-Nanshan, 2.2 coincidences/s (signal-to-noise 15:1),
  sifted 1.1 bit/s, QBER ~4.5 %, 0.43 bit/s asymptotic, 372 bits of finite key from 3,100 s at
  epsilon 1e-10 (0.12 bit/s), a positive finite key needing a QBER below ~6.0 %.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from constellation.api import load_scenario
from constellation.cli import main
from constellation.key.bbm92 import coincidence_rates, finite_key_bits, pair_key
from constellation.key.finite_key import binary_entropy
from constellation.key.link import link_loss
from constellation.network.entangled import EntanglementInput, block_key_bits
from constellation.passes.dual import dual_windows
from constellation.passes.table import PassTable
from constellation.pipeline import Run
from constellation.scenario.build import scenario_from_dict
from constellation.scenario.receivers import RECEIVERS
from constellation.scenario.source_params import SOURCE_PRESETS

ROOT = Path(__file__).resolve().parents[1]
ENTANGLEMENT = ROOT / "scenarios" / "micius-2018-entanglement.toml"
BBM92 = ROOT / "scenarios" / "micius-2018-bbm92-delingha-nanshan.toml"
MICIUS = SOURCE_PRESETS["micius-entanglement"]


# ---------------------------------------------------------------- dual windows

def _random_table(rng, n_sat, n_st, n_per):
    """A PassTable of random disjoint windows per (satellite, station)."""
    rows = []
    for sat in range(n_sat):
        for st in range(n_st):
            edges = np.sort(rng.uniform(0.0, 86400.0, 2 * n_per))
            for k in range(n_per):
                lo, hi = edges[2 * k], edges[2 * k + 1]
                rows.append((sat, st, lo, hi, rng.random() < 0.8))
    sat, st, lo, hi, has = (np.array(c) for c in zip(*rows))
    z = np.zeros(sat.size)
    return PassTable(satellite=sat, station=st, aos_s=lo - 10, culmination_s=lo, tca_s=lo, los_s=hi + 10,
                     max_elevation_deg=z, min_range_km=z, aos_partial=z.astype(bool), los_partial=z.astype(bool),
                     window_start_s=np.where(has, lo, lo - 10), window_end_s=np.where(has, hi, lo - 10),
                     has_window=has, satellite_names=[f"S{k}" for k in range(n_sat)],
                     station_names=[f"G{k}" for k in range(n_st)])


@pytest.mark.parametrize("seed", range(8))
def test_dual_windows_are_the_intersection_of_both_stations_windows(seed):
    """Property: against a brute-force intersection of every pair of windows of one satellite."""
    rng = np.random.default_rng(seed)
    table = _random_table(rng, n_sat=int(rng.integers(1, 12)), n_st=4, n_per=int(rng.integers(1, 9)))
    pairs = [(0, 1), (2, 1), (3, 0)]
    dual = dual_windows(table, pairs)
    expected = set()
    for p, (a, b) in enumerate(pairs):
        for i in np.flatnonzero(table.has_window & (table.station == a)):
            for j in np.flatnonzero(table.has_window & (table.station == b) & (table.satellite == table.satellite[i])):
                lo = max(table.window_start_s[i], table.window_start_s[j])
                hi = min(table.window_end_s[i], table.window_end_s[j])
                if hi > lo:
                    expected.add((p, int(table.satellite[i]), lo, hi))
    found = {(int(p), int(s), lo, hi) for p, s, lo, hi in zip(dual.pair, dual.satellite, dual.start_s, dual.end_s)}
    assert found == expected  # exact: edges are the pass finder's, no arithmetic on them
    assert np.all(dual.a == np.array([pairs[p][0] for p in dual.pair]))


def test_dual_windows_of_micius_2018_span_the_published_summed_range():
    """Yin 2017 Science: summed length of the two downlinks 1,600-2,400 km (Delingha-Lijiang).
    With a 20 deg mask the windows reach from ~1,580 km (overhead between the stations) to
    ~2,200 km (the mask): inside the published span within 2 %."""
    run = Run(load_scenario(ENTANGLEMENT))
    keys, dual = run.dual_keys, run.dual
    lijiang = dual.pair == 0
    assert lijiang.sum() >= 5
    assert keys.min_sum_range_km[lijiang].min() >= 1600 * 0.98
    assert keys.max_sum_range_km[lijiang].max() <= 2400
    assert keys.min_sum_range_km[lijiang].min() < 1700 and keys.max_sum_range_km[lijiang].max() > 2100
    # each window lies inside both stations' QKD windows
    table = run.passes
    assert np.all(dual.start_s >= table.window_start_s[dual.pass_a])
    assert np.all(dual.end_s <= table.window_end_s[dual.pass_b])


def test_dual_window_edges_against_skyfield():
    """Independent reference: skyfield's altaz of the satellite (20 deg masks) and of the Sun
    (night below -12 deg) at both stations. 0.05 s inside every edge both stations hold the
    satellite in a night window; 0.05 s outside, one of them does not."""
    from skyfield.api import EarthSatellite, wgs84

    from constellation.core.timebase import ephemeris

    scn = load_scenario(ENTANGLEMENT)
    dual = Run(scn).dual
    tb = scn.timebase
    es = EarthSatellite.from_satrec(scn.satellites[0].satrec, tb.ts)
    eph = ephemeris()
    earth, sun = eph["earth"], eph["sun"]

    def inside(k, t_s):
        t = tb.time(t_s)
        ok = True
        for index in (dual.a[k], dual.b[k]):
            st = scn.stations[index]
            site = wgs84.latlon(st.latitude_deg, st.longitude_deg, st.elevation_m)
            elevation = (es - site).at(t).altaz()[0].degrees
            sun_elevation = (earth + site).at(t).observe(sun).apparent().altaz()[0].degrees
            ok &= elevation >= 20.0 and sun_elevation <= -12.0
        return ok

    assert len(dual) >= 10
    for k in range(len(dual)):
        assert inside(k, dual.start_s[k] + 0.05) and inside(k, dual.end_s[k] - 0.05)
        assert not inside(k, dual.start_s[k] - 0.05) and not inside(k, dual.end_s[k] + 0.05)


# ---------------------------------------------------------------- BBM92 arithmetic

def test_coincidences_and_accidentals_by_hand():
    """R = 1e6 pairs/s, 30 dB + 30 dB, detector 0.5 each: eta = 5e-4 per arm.
    True = 1e6 * 2.5e-7 = 0.25/s (window holds all: no jitter); singles = 500 + noise
    (4 x 25 dark + 100 background = 200) = 700/s per station; accidental = 700**2 x 1 ns =
    4.9e-4/s; errors = 0.25 x e + accidental / 2 with e the composed flip of (1 - 0.98) / 2
    and the two receivers' 0.58 %."""
    rx = RECEIVERS["observatory-1m"]
    source = dataclasses.replace(MICIUS, pair_rate_hz=1e6, visibility=0.98, coincidence_window_ns=1.0,
                                 timing_jitter_ps=0.0)
    r = coincidence_rates(30.0, 30.0, source, rx, rx, 100.0, 100.0)
    assert rx.detector_efficiency == 0.5 and rx.dark_count_cps == 25.0 and rx.detectors == 4
    assert float(r.true_cps) == pytest.approx(0.25, rel=1e-12)
    assert float(r.singles_a_cps) == pytest.approx(700.0, rel=1e-12)
    assert float(r.accidental_cps) == pytest.approx(700.0 ** 2 * 1e-9, rel=1e-12)
    e = 0.5 * (1 - (1 - 2 * 0.01) * (1 - 2 * rx.polarisation_error) ** 2)
    assert float(r.error_cps) == pytest.approx(0.25 * e + 0.5 * 700.0 ** 2 * 1e-9, rel=1e-12)


def test_finite_key_of_yin_2020_block():
    """3,100 s at 1.1 sifted bits/s and QBER 4.5 %, f = 1.19, epsilon 1e-10: the paper's
    372 bits (we get 384, +3 %; tolerance 15 %: the paper's bound is not in the text we read);
    asymptotic 1.1 x (1 - 2.19 h(0.045)) = 0.46 bit/s (paper: 0.43, tolerance 10 %); a
    positive finite key needs a QBER below ~6.0 % (paper): zero at 6.0 %, positive at 5.0 %."""
    sifted = 1.1 * 3100
    w = EntanglementInput(*(np.zeros(1),) * 8, basis_probability=0.5, error_correction_efficiency=1.19,
                          epsilon_secret=1e-10, epsilon_correct=1e-10)
    assert float(block_key_bits(sifted, 0.045 * sifted, w)) == pytest.approx(372, rel=0.15)
    assert float(block_key_bits(sifted, 0.050 * sifted, w)) > 0
    assert float(block_key_bits(sifted, 0.060 * sifted, w)) == 0
    asymptotic = 1.1 * (1 - 2.19 * float(binary_entropy(0.045)))
    assert asymptotic == pytest.approx(0.43, rel=0.10)


def test_finite_key_is_monotone_in_loss_and_zero_above_threshold():
    rx = RECEIVERS["observatory-1m"]
    slots = np.ones(3000)
    keys = []
    for loss in (24.0, 26.0, 28.0, 30.0, 32.0, 34.0):
        keys.append(float(pair_key(np.full(3000, loss), np.full(3000, loss), slots, MICIUS, rx, rx).finite_key_bits))
    assert all(a >= b for a, b in zip(keys, keys[1:]))
    assert keys[0] > 0 and keys[-1] == 0
    # QBER threshold: the finite key of a fixed block is 0 from some QBER on, and stays 0
    n = 1e5
    bits = [float(finite_key_bits(n, n, q, 1.16, 1e-10, 1e-10)) for q in np.linspace(0.0, 0.2, 41)]
    first_zero = next(k for k, b in enumerate(bits) if b == 0)
    assert all(b == 0 for b in bits[first_zero:]) and all(b > 0 for b in bits[:first_zero])
    assert 0.08 < np.linspace(0.0, 0.2, 41)[first_zero] <= 0.11  # under the asymptotic ~11 % (Yin 2020)


# ---------------------------------------------------------------- the Micius experiments

def test_yin_2017_prl_delingha_downlink_attenuation():
    """29 dB at 530 km and 36 dB at 1,000 km (+-2 dB). The model's arm (2020 calibration)
    plus the 3 dB per link that Yin 2020 says its collection gained over 2017; elevations of
    a 500 km orbit at those ranges from Delingha (68.8 and 26.0 deg); detector excluded, as
    in the Liao 2017 loss curves."""
    delingha = load_scenario(ENTANGLEMENT).stations[0]
    assert delingha.name == "Delingha"
    loss = link_loss([530.0, 1000.0], [68.8, 26.0], MICIUS.arm_link, delingha.receiver, delingha.site).loss_db + 3.0
    assert loss[0] == pytest.approx(29.0, abs=2.0)
    assert loss[1] == pytest.approx(36.0, abs=2.0)


def test_yin_2020_rates_through_the_shipped_scenario():
    """Delingha-Nanshan windows: coincidences 2.2/s and sifted 1.1/s (+-10 %), QBER 4.5 %
    (+-0.5 points). The preset's pair rate, window and visibility are fitted to these three
    (source_params.py), so this checks the fit holds through the command's path."""
    run = Run(load_scenario(BBM92))
    keys, dual = run.dual_keys, run.dual
    seconds = dual.duration_s.sum()
    assert seconds > 1500
    assert keys.coincidences.sum() / seconds == pytest.approx(2.2, rel=0.10)
    assert keys.sifted_bits.sum() / seconds == pytest.approx(1.1, rel=0.10)
    qber = np.sum(keys.qber * keys.coincidences) / keys.coincidences.sum()
    assert qber == pytest.approx(0.045, abs=0.005)
    # one Micius window alone is far too small a block for a finite key
    assert np.all(keys.finite_key_bits == 0)


def test_network_distils_entanglement_as_one_block_with_no_trusted_node():
    """The link's key is the finite key of all its windows' sifted bits: positive over
    27 nights (~2,100 s of windows), less than the 372 bits of the paper's 3,100 s."""
    result = Run(load_scenario(BBM92)).network
    report = result.links[0]
    assert report.mode == "entanglement" and report.trusted_nodes == ""
    assert 0 < report.entanglement_key_bits < 372 and report.relay_key_bits == 0
    assert report.key_bits == pytest.approx(report.entanglement_key_bits)


def _mixed(mode: str, finite: bool = True) -> dict:
    text = BBM92.read_text()
    import tomllib

    data = tomllib.loads(text)
    data["links"][0]["mode"] = mode
    data["link"] = {"preset": "micius"}
    data["qkd"] = {"preset": "micius", "finite_key": finite}
    data["network"] = {"weather_runs": 20}
    return data


def test_modes_relay_entanglement_and_both():
    """"both" gets the entanglement key plus what the relay makes of the contacts the dual
    windows leave free, or the relay alone when the windows would block more relay key than
    they give (here: Micius's 138 bits against ~11 Mbit of blocked relay contacts); relay names
    its satellite as a trusted node, entanglement none."""
    reports = {}
    for mode in ("relay", "entanglement", "both"):
        reports[mode] = Run(scenario_from_dict(_mixed(mode), BBM92)).network.links[0]
    assert reports["relay"].trusted_nodes == "MICIUS" and reports["relay"].entanglement_key_bits == 0
    assert reports["entanglement"].trusted_nodes == "" and reports["entanglement"].relay_key_bits == 0
    both = reports["both"]
    assert both.entanglement_key_bits in (0.0, reports["entanglement"].entanglement_key_bits)
    assert both.relay_key_bits <= reports["relay"].relay_key_bits
    assert both.key_bits == pytest.approx(both.relay_key_bits + both.entanglement_key_bits)
    # serving a link both ways never gives it less than the better single mode
    assert both.key_bits >= max(reports["relay"].key_bits, reports["entanglement"].key_bits)


def test_noisy_windows_do_not_dilute_the_block():
    """Without the darkness constraint, daylight dual windows are pure noise (QBER ~50 %):
    the link flies only the windows that add key, so its key is what the night gives."""
    import tomllib

    night = Run(load_scenario(BBM92)).network.links[0]
    data = tomllib.loads(BBM92.read_text())
    data["constraints"] = {}
    day = Run(scenario_from_dict(data, BBM92)).network.links[0]
    assert day.entanglement_key_bits >= night.entanglement_key_bits > 0


def test_blocks_close_at_block_size_and_key_exists_from_then():
    """The bright source fills Yin 2020's 3,400-bit block within a window: one block per
    window, key delivered at each window's end (latency 0), not at the span's end."""
    import tomllib

    data = tomllib.loads(BBM92.read_text())
    data["source"] = {"preset": "micius-entanglement-bright"}
    run = Run(scenario_from_dict(data, BBM92))
    ent = run.network.entanglement
    assert ent.block_link.size == ent.chosen.size > 5
    assert np.allclose(ent.latency_s[ent.chosen], 0.0)
    report = run.network.links[0]
    assert report.deliveries == ent.chosen.size and report.max_latency_h == 0.0
    # Micius's own source: 27 nights never fill one block; the span's end closes it
    slow = Run(load_scenario(BBM92)).network
    assert slow.entanglement.block_link.size == 1 and slow.links[0].deliveries == 1


def test_asymptotic_key_when_finite_key_is_off():
    finite = Run(scenario_from_dict(_mixed("entanglement", True), BBM92)).network.links[0]
    asym = Run(scenario_from_dict(_mixed("entanglement", False), BBM92)).network.links[0]
    assert asym.entanglement_key_bits > finite.entanglement_key_bits > 0


# ---------------------------------------------------------------- command line

def test_dual_command_writes_geometry_without_a_source(tmp_path, capsys):
    text = ENTANGLEMENT.read_text().replace('[source]\npreset = "micius-entanglement"\n', "")
    text = text.replace('mode = "entanglement"', 'mode = "relay"') + '[link]\npreset = "micius"\n[qkd]\npreset = "micius"\n'
    path = tmp_path / "geometry.toml"
    path.write_text(text)
    out = tmp_path / "dual.csv"
    assert main(["dual", str(path), "-o", str(out)]) == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["satellite", "a", "b", "start_utc", "end_utc", "duration_s", "min_sum_range_km",
                      "max_sum_range_km"]
    assert len(out.read_text().splitlines()) > 5


def test_dual_command_json(tmp_path):
    out = tmp_path / "dual.json"
    assert main(["dual", str(ENTANGLEMENT), "--format", "json", "-o", str(out)]) == 0
    import json

    rows = json.loads(out.read_text())
    assert rows and {"coincidences", "qber", "finite_key_bits"} <= set(rows[0])
    assert all(r["start_utc"].endswith("Z") for r in rows)
    assert all(math.isfinite(r["mean_total_loss_db"]) for r in rows)


# ---------------------------------------------------------------- sizing

def _sizing_scenario(tmp_path):
    text = '''[scenario]
name = "trust-free Delingha-Nanshan"
start = 2018-09-10T00:00:00Z
end = 2018-09-13T00:00:00Z

[[stations]]
name = "Delingha"
min_elevation_deg = 20
clear_sky_probability = 1.0

[[stations]]
name = "Nanshan"
min_elevation_deg = 20
clear_sky_probability = 1.0

[constraints]
station_sun_max_elevation_deg = -12

[[links]]
a = "Delingha"
b = "Nanshan"
mode = "entanglement"

[[designs]]
name = "sso-entangled"
family = "sso"
altitude_km = 500
planes = [1, 2, 3]
sats_per_plane = [1, 2, 4]
ltan = ["21:30", "22:30", "23:30"]
unit_cost = 1.0
source = { preset = "micius-entanglement-bright" }

[targets]
min_key_bits_per_day = 20000

[sweep]
prune = false
'''
    path = tmp_path / "trust-free.toml"
    path.write_text(text)
    return path


def test_size_sizes_a_trust_free_network(tmp_path):
    """A family carrying an entanglement payload: `size` evaluates the entanglement key of each
    design (no relay payload at all), finds the cheapest one meeting the target, and its
    best.toml carries the source and reruns to the same key."""
    from constellation.api import size_scenario

    scn = load_scenario(_sizing_scenario(tmp_path))
    result = size_scenario(scn, workers=1)
    rows = result.rows("designs")
    assert len(rows) == 9
    best = result.best()
    assert best is not None
    best_toml = tmp_path / "best.toml"
    best_toml.write_text(result.design_scenario())
    rerun = Run(load_scenario(best_toml)).network.links[0]
    assert rerun.mode == "entanglement" and rerun.trusted_nodes == ""
    assert rerun.key_bits_per_day >= 20000
    assert 'preset = "micius-entanglement-bright"' in best_toml.read_text()
    assert all(not r["feasible"] for r in rows if r["cost"] < best.cost)  # nothing cheaper meets it
    assert all(r["status"] == "evaluated" for r in rows)
    key = [r["worst_link_key_bits_per_day"] for r in sorted(rows, key=lambda r: r["n_satellites"])]
    assert key[0] > 0 and key[-1] > 20000


def test_satellites_without_a_source_have_geometry_only(tmp_path):
    """`source = false` on a [[satellites]] entry: its dual windows keep the range columns and
    carry no key; a satellite's own source table overrides the scenario's fields."""
    import tomllib

    data = tomllib.loads(ENTANGLEMENT.read_text())
    first = data["satellites"][0]
    data["satellites"] = [first, {**first, "name": "NO-SOURCE", "source": False},
                          {**first, "name": "DIM", "source": {"pair_rate_hz": 6.2e5}}]
    run = Run(scenario_from_dict(data, ENTANGLEMENT))
    keys, dual = run.dual_keys, run.dual
    by = {name: dual.satellite == k for k, name in enumerate(["MICIUS", "NO-SOURCE", "DIM"])}
    assert by["NO-SOURCE"].sum() == by["MICIUS"].sum() > 0
    assert np.all(keys.coincidences[by["NO-SOURCE"]] == 0) and np.all(np.isnan(keys.qber[by["NO-SOURCE"]]))
    assert np.all(np.isfinite(keys.min_sum_range_km[by["NO-SOURCE"]]))
    ratio = keys.coincidences[by["DIM"]].sum() / keys.coincidences[by["MICIUS"]].sum()
    assert 0.09 < ratio < 0.11  # true coincidences scale with the pair rate; accidentals fall faster


def test_dual_windows_match_skyfield_find_events_over_ten_days(tmp_path):
    """The issue's check: Micius (2018 element set) over Delingha and Lijiang, 20 deg masks,
    ten days, no other constraint: the windows of `constellation dual` against the
    intersection of skyfield's find_events rise/set intervals at each station: same count,
    edges within 0.5 s (we find < 0.01 s)."""
    import csv

    from skyfield.api import EarthSatellite, wgs84

    text = ENTANGLEMENT.read_text().split("[[stations]]")[0]
    text += "".join(f'[[stations]]\nname = "{n}"\nmin_elevation_deg = 20\n' for n in ("Delingha", "Lijiang"))
    text += '[[links]]\na = "Delingha"\nb = "Lijiang"\n'
    path = tmp_path / "geometry.toml"
    path.write_text(text)
    out = tmp_path / "dual.csv"
    assert main(["dual", str(path), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    scn = load_scenario(path)
    tb = scn.timebase
    es = EarthSatellite.from_satrec(scn.satellites[0].satrec, tb.ts)
    t0, t1 = tb.time(0.0), tb.time(scn.duration_s)
    intervals = []
    for st in scn.stations:
        site = wgs84.latlon(st.latitude_deg, st.longitude_deg, st.elevation_m)
        times, events = es.find_events(site, t0, t1, altitude_degrees=20.0)
        t = tb.t_s(times)
        spans, rise = [], 0.0 if events.size and events[0] != 0 else None
        for ti, ev in zip(t, events):
            if ev == 0:
                rise = ti
            elif ev == 2 and rise is not None:
                spans.append((rise, ti))
                rise = None
        if rise is not None:
            spans.append((rise, scn.duration_s))
        intervals.append(spans)
    reference = [(max(a0, b0), min(a1, b1)) for a0, a1 in intervals[0] for b0, b1 in intervals[1]
                 if min(a1, b1) > max(a0, b0)]
    reference.sort()
    assert len(rows) == len(reference) > 10
    def seconds(text):
        return float(tb.t_s(tb.ts.from_datetime(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))))

    ours = sorted((seconds(r["start_utc"]), seconds(r["end_utc"])) for r in rows)
    worst = max(max(abs(s0 - r0), abs(s1 - r1)) for (s0, s1), (r0, r1) in zip(ours, reference))
    assert worst < 0.5


@pytest.mark.parametrize("seed", range(5))
def test_scheduled_windows_never_exceed_a_resource(seed):
    """Property: the windows taken never hold more than one source per satellite or more
    telescopes than a station has (re-pointing included), on random windows."""
    from constellation.network.entangled import schedule_windows

    rng = np.random.default_rng(seed)
    n = 300
    start = rng.uniform(0, 20000, n)
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    w = EntanglementInput(rng.integers(0, 6, n), a, b, start, start + rng.uniform(10, 600, n),
                          rng.uniform(1, 1000, n), rng.uniform(0, 20, n), rng.integers(0, 3, n))
    telescopes = [1, 2, 1, 3]
    taken = schedule_windows(w, telescopes, retarget_s=60.0)
    assert taken.size > 10
    lo, hi = w.start_s[taken], w.end_s[taken] + 60.0
    for t in np.unique(np.concatenate([lo, hi])):
        live = (lo <= t) & (t < hi)
        assert np.bincount(w.satellite[taken][live], minlength=6).max(initial=0) <= 1
        use = np.bincount(np.concatenate([w.a[taken][live], w.b[taken][live]]), minlength=4)
        assert np.all(use <= np.array(telescopes))
