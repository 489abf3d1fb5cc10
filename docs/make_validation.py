"""Regenerate docs/validation.md: each published figure next to what `constellation key`
computes on the shipped scenarios.

    python docs/make_validation.py            # writes docs/validation.md
    python docs/make_validation.py --check    # writes nothing; exit 1 if docs/validation.md differs

Every number comes from the same code path as `constellation key SCENARIO` (the API's
run_scenario), on the scenarios in scenarios/.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from constellation.api import run_scenario, scenario_from_dict  # noqa: E402
from constellation.key.link import link_loss  # noqa: E402
from constellation.scenario.build import load_scenario  # noqa: E402


def _key_rows(path_or_scenario):
    if isinstance(path_or_scenario, Path):
        path_or_scenario = load_scenario(path_or_scenario)
    return run_scenario(path_or_scenario).rows("key")


def _pct(ours, published):
    return f"{100.0 * (ours - published) / published:+.1f} %"


def rows() -> list[tuple[str, str, str, str, str, str]]:
    """(case, reference, published, tolerance, ours, deviation)."""
    out = []
    micius = ROOT / "scenarios" / "micius-2016-xinglong.toml"
    key = [r for r in _key_rows(micius) if r["station"] == "Xinglong" and (r["window_start_utc"] or "").startswith("2016-12-19T16")][0]
    liao = "Liao et al. 2017, Nature 549:43"
    out.append(("Micius 2016-12-19 Xinglong pass: sifted bits", liao, "1,671,072", "+-10 %",
                f"{key['sifted_bits']:,}", _pct(key["sifted_bits"], 1_671_072)))
    out.append(("same pass: QBER", liao, "1.1 %", "0.8-1.4 %", f"{100 * key['qber']:.2f} %",
                f"{round(100 * key['qber'] - 1.1, 2) + 0.0:+.2f} points"))
    out.append(("same pass: final key bits", liao, "300,939", "+-15 %",
                f"{key['finite_key_bits']:,}", _pct(key["finite_key_bits"], 300_939)))
    scenario = load_scenario(micius)
    xinglong = [s.name for s in scenario.stations].index("Xinglong")
    term = scenario.terminal(0, xinglong)
    for range_km, elevation_deg, published in ((645.0, 47.8, 29.75), (1200.0, 19.4, 40.34)):
        loss = link_loss(range_km, elevation_deg, term.link, term.receiver, term.site)
        out.append((f"link loss at {range_km:,.0f} km (elevation {elevation_deg} deg), detector excluded",
                    "Liao 2017 Fig. (loss curve digitised by QNET)", f"{published:.1f} dB", "+-2 dB",
                    f"{float(loss.loss_db):.1f} dB", f"{float(loss.loss_db) - published:+.1f} dB"))
    qnet = [line.split(",") for line in (ROOT / "tests" / "data" / "qnet_micius2017_loss.csv")
            .read_text(encoding="utf-8").splitlines()[4:] if line]
    rng = np.array([float(r) for _, r, _ in qnet])
    curve = np.array([float(v) for _, _, v in qnet])
    # Elevation along the pass against range (docs/references.md §2d, as tests/test_link.py).
    elevation = np.interp(rng, [645.5, 656.0, 724.0, 857.0, 1008.0, 1187.0, 1197.0, 1200.0],
                          [47.8, 46.7, 40.4, 32.1, 25.2, 19.6, 19.6, 19.4])
    error = link_loss(rng, elevation, term.link, term.receiver, term.site).loss_db - curve
    worst = int(np.argmax(np.abs(error)))
    out.append((f"link loss along the whole curve ({rng.size} QNET points, 645-1,200 km)",
                "Liao 2017 Fig. (loss curve digitised by QNET)", "", "mean within 1 dB, rms within 1.2 dB",
                f"mean {error.mean():+.2f} dB, rms {np.sqrt(np.mean(error ** 2)):.2f} dB",
                f"worst {error[worst]:+.1f} dB at {rng[worst]:,.0f} km"))
    loss = link_loss(1200.0, 19.4, term.link, term.receiver, term.site)
    out.append(("atmosphere at 1,200 km", liao, "3-8 dB", "inside", f"{float(loss.atmosphere_loss_db):.1f} dB", ""))

    data = tomllib.loads(micius.read_text(encoding="utf-8"))
    data["constraints"].pop("station_sun_max_elevation_deg")
    day = scenario_from_dict(data, source=str(micius))
    day_rows = [r for r in run_scenario(day).rows("key") if r["window_s"] and r["daylight_s"] > 0.5 * r["window_s"]]
    out.append(("Micius 850 nm, darkness constraint removed: finite key of daylight windows",
                "Liao 2017 (night only); sky model", "0", "0", f"max {max(r['finite_key_bits'] for r in day_rows):,} "
                f"over {len(day_rows)} windows", ""))

    chen = ROOT / "scenarios" / "micius-2020-xinglong.toml"
    rates = [r["finite_key_bits"] / r["window_s"] for r in _key_rows(chen) if r["window_s"]]
    typical = statistics.median(rates)
    out.append(("Micius 2020: secret-key rate of a typical pass (median over the week's windows)",
                "Chen et al. 2021, Nature 589:214", "47.8 kbit/s", "+-25 %", f"{typical / 1e3:.1f} kbit/s",
                _pct(typical, 47_800)))

    jinan = ROOT / "scenarios" / "jinan-1-stellenbosch-2025.toml"
    best = max(r["finite_key_bits"] for r in _key_rows(jinan))
    li = "Li et al. 2025, Nature 640:47"
    out.append(("Jinan-1 best pass at Stellenbosch (portable 0.28 m receiver)", li, "1.07 Mbit", "+-30 %",
                f"{best / 1e6:.2f} Mbit", _pct(best, 1_070_000)))
    data = tomllib.loads(jinan.read_text(encoding="utf-8"))
    data["stations"][0]["receiver"] = "observatory-1m"
    big = max(r["finite_key_bits"] for r in run_scenario(scenario_from_dict(data, source=str(jinan))).rows("key"))
    out.append(("same payload into a 1 m observatory receiver (observatory-1m) at Stellenbosch", "prediction",
                "", "", f"{big / 1e6:.2f} Mbit", f"x{big / best:.1f}"))
    out += _daylight_rows()
    out += _entanglement_rows()
    return out


def _entanglement_rows():
    """Micius's entanglement experiments through `constellation dual` and `network`."""
    from constellation.key.bbm92 import coincidence_rates
    from constellation.network.entangled import EntanglementInput, block_key_bits
    from constellation.pipeline import Run
    from constellation.scenario.source_params import SOURCE_PRESETS

    out = []
    source = SOURCE_PRESETS["micius-entanglement"]
    run = Run(load_scenario(ROOT / "scenarios" / "micius-2018-entanglement.toml"))
    dual, keys = run.dual, run.dual_keys
    dl = dual.pair == 0
    science = "Yin et al. 2017, Science 356:1140"
    out.append(("Delingha-Lijiang dual windows (Micius 2018, 20 deg masks, 10 nights): summed two-downlink length",
                science, "1,600-2,400 km", "inside +-2 %",
                f"{keys.min_sum_range_km[dl].min():,.0f}-{keys.max_sum_range_km[dl].max():,.0f} km "
                f"({int(dl.sum())} windows)", ""))
    seconds = dual.duration_s[dl].sum()
    rate_2020 = keys.coincidences[dl].sum() / seconds
    out.append(("same windows: two-downlink loss (detectors excluded) with 2017's collection, 6 dB below 2020's "
                "(Yin 2020)", science + " (figure not in the text we could read)", "", "",
                f"{keys.min_total_loss_db[dl].min() + 6:.1f}-{np.nanmax(keys.mean_total_loss_db[dl]) + 6:.1f} dB "
                "(best; worst window mean)", ""))
    out.append(("same windows: coincidences per second with 2017's collection (a quarter of 2020's)",
                "USTC press conference, 16 Jun 2017", "~1 pair/s", "factor 2", f"{rate_2020 / 4:.2f} /s",
                f"x{rate_2020 / 4:.2f}"))
    delingha = run.scenario.stations[0]
    prl = "Yin et al. 2017, PRL 119:200501"
    for range_km, elevation_deg, published in ((530.0, 68.8, 29.0), (1000.0, 26.0, 36.0)):
        loss = float(link_loss(range_km, elevation_deg, source.arm_link, delingha.receiver, delingha.site).loss_db) + 3.0
        out.append((f"Delingha downlink at {range_km:,.0f} km (elevation {elevation_deg} deg), 2017 collection "
                    "(3 dB below 2020's)", prl, f"{published:.0f} dB", "+-2 dB", f"{loss:.1f} dB",
                    f"{loss - published:+.1f} dB"))

    run = Run(load_scenario(ROOT / "scenarios" / "micius-2018-bbm92-delingha-nanshan.toml"))
    dual, keys = run.dual, run.dual_keys
    seconds = dual.duration_s.sum()
    nature = "Yin et al. 2020, Nature 582:501"
    coincidences = keys.coincidences.sum() / seconds
    qber = float(np.sum(keys.qber * keys.coincidences) / keys.coincidences.sum())
    sifted = keys.sifted_bits.sum() / seconds
    out.append(("Delingha-Nanshan windows (27 nights of Sep 2018): coincidences per second (pair rate fitted)",
                nature, "2.2 /s", "fitted (regression +-10 %)", f"{coincidences:.2f} /s", _pct(coincidences, 2.2)))
    # signal to noise of the fitted source at the windows' mean per-arm loss
    delingha, nanshan = run.scenario.stations[0], run.scenario.stations[1]
    mean_loss = float(np.nansum(keys.mean_total_loss_db * dual.duration_s) / seconds)
    r = coincidence_rates(mean_loss / 2, mean_loss / 2, source, delingha.receiver, nanshan.receiver)
    snr = float(r.true_cps / r.accidental_cps)
    out.append(("same: signal-to-noise of the coincidences (window fitted), at the mean loss "
                f"({mean_loss:.1f} dB)", nature, "15:1", "fitted (regression +-20 %)", f"{snr:.0f}:1", _pct(snr, 15.0)))
    out.append(("same: QBER (visibility fitted)", nature, "~4.5 %", "fitted (regression +-0.5 points)",
                f"{100 * qber:.2f} %",
                f"{100 * qber - 4.5:+.2f} points"))
    out.append(("same: sifted key per second (half the coincidences: follows from the fit)", nature, "1.1 bit/s",
                "+-10 %", f"{sifted:.2f} bit/s",
                _pct(sifted, 1.1)))
    w = EntanglementInput(*(np.zeros(1),) * 8, basis_probability=source.basis_probability,
                          error_correction_efficiency=source.error_correction_efficiency,
                          epsilon_secret=source.epsilon_secret, epsilon_correct=source.epsilon_correct)
    asymptotic = sifted * (1 - (1 + source.error_correction_efficiency) * float(_h(qber)))
    out.append(("same: asymptotic key rate (the BBM92 formula on the fitted QBER)", nature, "0.43 bit/s", "+-10 %",
                f"{asymptotic:.2f} bit/s",
                _pct(asymptotic, 0.43)))
    block = float(block_key_bits(sifted * 3100, qber * sifted * 3100, w))
    out.append(("finite key of 3,100 s of these windows as one block (epsilon 1e-10)", nature, "372 bits",
                "+-15 %", f"{block:,.0f} bits ({block / 3100:.2f} bit/s)", _pct(block, 372)))
    zero = next(q for q in np.arange(0.040, 0.080, 0.001) if block_key_bits(sifted * 3100, q * sifted * 3100, w) == 0)
    out.append(("same block: lowest QBER giving no finite key", nature, "~6.0 %", "+-1 point",
                f"{100 * zero:.1f} %", f"{100 * zero - 6.0:+.1f} points"))
    report = run.network.links[0]
    out.append(("`constellation network` on the scenario: the link's key (its ~2,200 s of windows never fill "
                "a 3,400-bit block: one block closed at the last window)",
                "prediction (below the paper's 3,100 s)", "", "",
                f"{report.entanglement_key_bits:,.0f} bits from {seconds:,.0f} s; trusted nodes: none", ""))
    return out


def _h(x):
    from constellation.key.finite_key import binary_entropy

    return binary_entropy(x)


def _daylight_rows():
    """Predictions of the 1,550 nm daylight receiver (no published figure to match)."""
    stations = [{"name": "Xinglong", "receiver": "daylight-1550", "min_elevation_deg": 20},
                {"name": "Tenerife", "receiver": "daylight-1550", "min_elevation_deg": 20}]
    leo = {"scenario": {"name": "LEO daylight", "start": "2024-06-01T00:00:00Z", "end": "2024-06-04T00:00:00Z"},
           "satellites": [{"name": "SSO-1030", "altitude_km": 500, "ltan": "10:30"}], "stations": stations,
           "link": {"preset": "micius", "wavelength_nm": 1550, "beam_divergence_urad": 5},
           "qkd": {"preset": "high-orbit-60cm-1550"}}
    day = [r for r in run_scenario(scenario_from_dict(leo)).rows("key")
           if r["window_s"] and r["daylight_s"] > 0.5 * r["window_s"]]
    geo = {"scenario": {"name": "GEO daylight", "start": "2024-06-01T03:00:00Z", "end": "2024-06-01T07:00:00Z"},
           "satellites": [{"name": "GEO-100E", "geo_longitude_deg": 100}], "stations": stations[:1],
           "link": {"preset": "high-orbit-60cm-1550"}, "qkd": {"preset": "high-orbit-60cm-1550"}}
    geo_key = run_scenario(scenario_from_dict(geo)).rows("key")[0]
    night = []
    for payload, receiver in (("high-orbit-60cm", "observatory-1m"), ("high-orbit-60cm-1550", "daylight-1550")):
        dark = {"scenario": {"name": "GEO night", "start": "2024-06-01T12:00:00Z", "end": "2024-06-02T00:00:00Z"},
                "satellites": [{"name": "GEO-100E", "geo_longitude_deg": 100}],
                "stations": [{"name": "Xinglong", "receiver": receiver, "min_elevation_deg": 20}],
                "link": {"preset": payload}, "qkd": {"preset": payload},
                "constraints": {"station_sun_max_elevation_deg": -12}}
        row = run_scenario(scenario_from_dict(dark)).rows("key")[0]
        night.append((f"GEO at 100 E, {payload} into {receiver} at Xinglong, the whole dark night (Sun below -12 deg)",
                      "prediction", "", "", f"{row['finite_key_bits']:,} bits over {row['window_s'] / 3600:.1f} h "
                      f"(asymptotic {row['asymptotic_key_bits']:,}; {row['mean_loss_db']:.1f} dB, QBER "
                      f"{100 * row['qber']:.1f} %)", ""))
    return night + [
        ("500 km SSO (10:30) at 1,550 nm into daylight-1550 receivers: finite key of daylight windows", "prediction",
         "", "", f"{sum(r['finite_key_bits'] > 0 for r in day)} of {len(day)} windows give key, "
         f"best {max(r['finite_key_bits'] for r in day) / 1e6:.1f} Mbit", ""),
        ("GEO at 100 E, high-orbit-60cm-1550 into daylight-1550 at Xinglong, 4 h around local noon", "prediction",
         "", "", f"{geo_key['finite_key_bits']:,} bits (QBER {100 * geo_key['qber']:.0f} %)", ""),
    ]


def render(table) -> str:
    lines = ["# Validation: published figures against `constellation key`, `dual` and `network`", "",
             "Regenerated by `python docs/make_validation.py`; each row runs the shipped scenario named in",
             "the case through the same code as `constellation key` (tests/test_calibration.py asserts the",
             "tolerances). What each number assumes is in docs/physics.md and the presets' comments.", "",
             "| Case | Reference | Published | Tolerance | Ours | Deviation |",
             "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    lines += ["", "**A known tension.** The `micius` payload (divergence 9.0 urad) and Xinglong's zenith",
              "transmittance (0.58) are fitted to Liao 2017's sifted and final key of the pass, with the",
              "published source (100 MHz, 0.8/0.1/0 photons), receiver optics (16 %) and detectors (50 %).",
              "That fit sits 0.7 dB above QNET's digitised loss curve on average and 2.5 dB above it",
              "mid-pass (967 km). Fitting the curve instead (7.75 urad, 0.55) puts every point within",
              "1.8 dB but predicts ~18 % more sifted key than was measured: within this model the",
              "published loss curve, source and detector figures and sifted count do not all agree to",
              "better than ~0.7 dB. We calibrate on the key, the number users plan with.",
              "",
              "**A degeneracy.** The observatory receiver's polarisation error (0.58 %) is fitted to the",
              "1.1 % QBER assuming Xinglong's natural dark sky (34 background clicks/s over the pass).",
              "Errors from the sky and from polarisation look alike in one pass: no polarisation error",
              "under a sky 4 magnitudes brighter (650 clicks/s) fits the pass as well (1,642,161 sifted,",
              "QBER 1.03 %, final 329,384 bits), and so does 0.2 % under +3.5 mag (416 clicks/s; QBER",
              "1.03 %, 322,960 bits). They differ where noise dominates: the asymptotic cutoff of the",
              "Micius payload into observatory-1m is 50.7 dB with the shipped fit and 43.9 dB with the",
              "bright-sky one. Predictions near the cutoff (high orbits, low elevations, moonlit nights)",
              "inherit this ~7 dB uncertainty; the night-sky assumption of each site is in",
              "constellation/scenario/stations.py.",
              "",
              "**What changed with the review of issue 13.** Noise is now counted in every detector",
              "before sifting (it was two of four), so the polarisation error was refitted (0.65 % ->",
              "0.58 %); the truncated Gaussian's far field follows Klein & Degnan (1974), so the Jinan-1",
              "payload optics loss was refitted (4.5 -> 0.6 dB; the old value absorbed the 3.98 dB of its",
              "truncation). Daylight rows are upper bounds: a field of view smaller than the seeing disc",
              "costs signal that is not modelled (docs/physics.md).",
              "",
              "**Entanglement (issue 15).** The `micius-entanglement` source has three numbers fitted to",
              "Yin 2020 (pair rate 6.3e6/s to the 2.2 coincidences/s, a 9.7 ns window to the 15:1",
              "signal-to-noise, visibility 0.997 to the 4.5 % QBER) and Delingha's zenith transmittance",
              "(0.75) to the 7 dB slope of Yin 2017 PRL's downlink; the sifted rate, the asymptotic and",
              "finite keys and the QBER threshold are then checks. The finite key uses Lim et al. 2014's",
              "sampling bound and epsilon split (the paper's own bound is in Methods we could not read);",
              "the choice matters at this block size: for the same 3,400 sifted bits the exact",
              "hypergeometric tail gives ~500 bits, Lim's bound ~360, the hypergeometric tail at",
              "epsilon squared (Tomamichel's smoothing) ~160, and Tomamichel et al. 2012's Serfling",
              "bound none, so the 372-bit row checks a convention as much as the physics. Yin 2017 Science's two-link",
              "loss and coincidence figures could not be read; its summed length is reproduced, and the",
              "press conference's ~1 pair/s is compared with 2017's collection, a quarter of 2020's."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 (and say so) if docs/validation.md differs from what would be written")
    args = parser.parse_args(argv)
    text = render(rows())
    if args.check:
        path = ROOT / "docs" / "validation.md"
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(text)
            print("docs/validation.md is out of date: run python docs/make_validation.py", file=sys.stderr)
            return 1
        print("docs/validation.md is up to date")
    else:
        (ROOT / "docs" / "validation.md").write_text(text, encoding="utf-8")
        print("wrote docs/validation.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
