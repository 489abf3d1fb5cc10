"""Key per pass: constellation.key.decoy_bb84.key_for_profile on 10,000 passes of 1-s slots.

Run by hand (not collected by pytest), pinned to one core:

    taskset -c 0 /work/venv/bin/python benchmarks/bench_key.py [--passes 10000] [--slots 300]
        [--seed 2016] [--tno-slots 300]

Workload: ``--passes`` Micius-like passes of ``--slots`` 1-s slots (one finite-key block per
pass, ``micius`` preset: finite and asymptotic key of each pass). The loss of each slot is
the ``micius`` link (``constellation.key.link.link_loss``) along a straight ground track at
7.1 km/s past a station (altitude 490-520 km, cross-track offset 300-750 km, culmination
within +-30 s of the window centre, all seeded), plus a per-pass offset N(0, 1 dB)
(weather, optics) and a per-slot AR(1) fluctuation (sigma 0.6 dB, correlation 0.8 per
second: turbulence and tracking), clipped to 28-45 dB.

Rows (all in the same process, best of ``--repeat`` after a warm-up):

- baseline, per-pass loop: ``key_for_profile(loss[i], 1.0, qkd)`` for each pass;
- ours, batched: one ``key_for_profile(loss, 1.0, qkd)`` on the (passes, slots) array;
- ours, batched in chunks of 1,000 passes (bounded memory);
- like-for-like against TNO: asymptotic key per pulse of every slot (no block, no finite
  key), ours vectorised (``asymptotic_key_rate``) vs TNO ``qkd_key_rate`` 2.0.4
  ``BB84AsymptoticKeyRateEstimate.compute_rate`` (three HiGHS LPs per slot) on a seeded
  sample of ``--tno-slots`` slots, extrapolated. Both with the matched physics of
  ``tests/test_qkd_crosscheck.py`` (afterpulsing 0, f_EC 1, key from X); the per-slot
  agreement of our rate (with TNO's vacuum term added) on the sample is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time

import numpy as np

from constellation.key.finite_key import binary_entropy
from constellation.key.decoy_bb84 import asymptotic_key_rate, decoy_estimates, intrinsic_error, key_for_profile
from constellation.key.link import link_loss
from constellation.scenario.presets import PRESETS
from constellation.scenario.receiver_params import SiteParams
from constellation.scenario.receivers import RECEIVERS

RECEIVER = RECEIVERS["observatory-1m"]                      # Xinglong's receiver
SITE = SiteParams(elevation_m=890.0, zenith_transmittance=0.58)  # Xinglong's site

EARTH_RADIUS_KM = 6371.0
GROUND_SPEED_KM_S = 7.1


def micius_like_profiles(passes: int, slots: int, seed: int) -> np.ndarray:
    """Loss (dB) of each 1-s slot, shape (passes, slots); see the module docstring."""
    rng = np.random.default_rng(seed)
    altitude = rng.uniform(490.0, 520.0, (passes, 1))
    offset = rng.uniform(300.0, 750.0, (passes, 1))
    centre = rng.uniform(-30.0, 30.0, (passes, 1))
    t = np.arange(slots) + 0.5 - 0.5 * slots
    along = GROUND_SPEED_KM_S * (t - centre)
    gamma = np.hypot(along, offset) / EARTH_RADIUS_KM            # central angle
    r_sat = EARTH_RADIUS_KM + altitude
    range_km = np.sqrt(EARTH_RADIUS_KM ** 2 + r_sat ** 2 - 2 * EARTH_RADIUS_KM * r_sat * np.cos(gamma))
    elevation = np.degrees(np.arcsin((r_sat * np.cos(gamma) - EARTH_RADIUS_KM) / range_km))
    loss = link_loss(range_km, elevation, PRESETS["micius"].link, RECEIVER, SITE).loss_db
    loss = loss + rng.normal(0.0, 1.0, (passes, 1))
    rho, sigma = 0.8, 0.6
    shocks = rng.normal(0.0, sigma * math.sqrt(1 - rho ** 2), (passes, slots))
    wobble = np.empty_like(shocks)
    wobble[:, 0] = rng.normal(0.0, sigma, passes)
    for k in range(1, slots):
        wobble[:, k] = rho * wobble[:, k - 1] + shocks[:, k]
    return np.clip(loss + wobble, 28.0, 45.0)


def best_of(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def tno_per_slot(loss_db, params, receiver):
    """TNO asymptotic key per signal pulse, slot by slot (HiGHS presolve off, as in the tests)."""
    from tno.quantum.communication.qkd_key_rate.quantum import standard_detector
    from tno.quantum.communication.qkd_key_rate.quantum._config import LP_CONFIG
    from tno.quantum.communication.qkd_key_rate.quantum.bb84 import BB84AsymptoticKeyRateEstimate

    LP_CONFIG["options"]["presolve"] = False
    detector = standard_detector.customise(
        efficiency_system=1.0, efficiency_party=receiver.signal_efficiency,
        # TNO's two detectors each carry half our receiver's noise: (1 - d)^2 = 1 - Y0 (the
        # same vacuum yield; tests/test_qkd_crosscheck.py states the mapping).
        dark_count_rate=float(-math.expm1(0.5 * math.log1p(-receiver.noise_probability(0.0)))),
        polarization_drift=math.asin(math.sqrt(intrinsic_error(params, receiver))))
    estimator = BB84AsymptoticKeyRateEstimate(detector=detector, number_of_decoy=2)
    mu = np.array(params.intensities)
    return np.array([estimator.compute_rate(mu=mu, attenuation=float(x)) for x in loss_db])


def ours_with_vacuum(loss_db, params, receiver):
    d = decoy_estimates(10.0 ** (-np.asarray(loss_db) / 10.0), params, receiver)
    mu = params.intensities[0]
    return (math.exp(-mu) * d.y0 + mu * math.exp(-mu) * d.y1_lower * (1 - binary_entropy(d.e1_upper))
            - params.error_correction_efficiency * d.gain_signal * binary_entropy(d.qber_signal))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--tno-slots", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    qkd = PRESETS["micius"].qkd
    t0 = time.perf_counter()
    loss = micius_like_profiles(args.passes, args.slots, args.seed)
    gen_s = time.perf_counter() - t0
    n_slots = loss.size
    p5, p50, p95 = np.percentile(loss, [5, 50, 95])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, affinity {sorted(os.sched_getaffinity(0))}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"workload: {args.passes} passes x {args.slots} slots of 1 s (seed {args.seed}), "
          f"loss min/p5/median/p95/max {loss.min():.1f}/{p5:.1f}/{p50:.1f}/{p95:.1f}/{loss.max():.1f} dB "
          f"(generated in {gen_s:.2f} s, not timed below)")

    loop_s, loop = best_of(lambda: [key_for_profile(row, 1.0, qkd, RECEIVER) for row in loss],
                           max(1, args.repeat - 1))
    batch_s, batch = best_of(lambda: key_for_profile(loss, 1.0, qkd, RECEIVER), args.repeat)
    chunk = 1000

    def chunked():
        parts = [key_for_profile(loss[k:k + chunk], 1.0, qkd, RECEIVER) for k in range(0, args.passes, chunk)]
        return np.concatenate([p.finite_key_bits for p in parts])
    chunk_s, chunk_finite = best_of(chunked, args.repeat)

    loop_finite = np.array([r.finite_key_bits for r in loop])
    loop_asym = np.array([r.asymptotic_key_bits for r in loop])
    assert np.array_equal(loop_finite, batch.finite_key_bits)
    assert np.array_equal(loop_asym, batch.asymptotic_key_bits)
    assert np.array_equal(chunk_finite, batch.finite_key_bits)

    matched = dataclasses.replace(qkd, error_correction_efficiency=1.0, key_from_both_bases=False)
    matched_rx = dataclasses.replace(RECEIVER, afterpulse_probability=0.0)
    rate_s, _ = best_of(lambda: asymptotic_key_rate(10.0 ** (-loss / 10.0), matched, matched_rx), args.repeat)
    rng = np.random.default_rng(args.seed + 1)
    sample = loss.ravel()[rng.choice(n_slots, min(args.tno_slots, n_slots), replace=False)]
    tno_per_slot(sample[:3], matched, matched_rx)  # warm-up (imports)
    t0 = time.perf_counter()
    tno = tno_per_slot(sample, matched, matched_rx)
    tno_sample_s = time.perf_counter() - t0
    tno_s = tno_sample_s * n_slots / sample.size
    agree = np.abs(ours_with_vacuum(sample, matched, matched_rx) / tno - 1.0).max()

    print()
    print("| method | work | time s | per pass us | per slot us | vs baseline |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("baseline: per-pass loop of `key_for_profile`", "finite + asymptotic block key per pass", loop_s),
        ("ours: one batched `key_for_profile` call", "same", batch_s),
        (f"ours: batched in chunks of {chunk} passes", "same", chunk_s),
    ]
    for name, work, seconds in rows:
        print(f"| {name} | {work} | {seconds:.3f} | {seconds / args.passes * 1e6:.1f} | "
              f"{seconds / n_slots * 1e6:.3f} | {loop_s / seconds:.1f}x |")
    print(f"| TNO `compute_rate` per slot ({sample.size} sampled, extrapolated) | asymptotic rate per slot "
          f"| {tno_s:.0f} | {tno_s / args.passes * 1e6:.0f} | {tno_s / n_slots * 1e6:.0f} | "
          f"1/{tno_s / loop_s:.0f}x |")
    print(f"| ours: `asymptotic_key_rate` on all slots | asymptotic rate per slot | {rate_s:.3f} | "
          f"{rate_s / args.passes * 1e6:.1f} | {rate_s / n_slots * 1e6:.3f} | {loop_s / rate_s:.1f}x "
          f"({tno_s / rate_s:.0f}x TNO) |")
    print()
    print(f"TNO sample: {tno_sample_s:.2f} s for {sample.size} slots; our rate + exp(-mu) Y0 vs TNO: "
          f"max relative difference {agree:.1e}")
    fin, asym = batch.finite_key_bits, batch.asymptotic_key_bits
    print(f"key per pass (micius preset): finite median {np.median(fin):.3g} bits "
          f"(p5 {np.percentile(fin, 5):.3g}, p95 {np.percentile(fin, 95):.3g}), "
          f"asymptotic median {np.median(asym):.3g}, passes with finite key 0: {(fin == 0).sum()}")


if __name__ == "__main__":
    main()
