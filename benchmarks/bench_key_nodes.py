"""The key integral along a window: Gauss-Legendre nodes (the default) against 1-s slots
(the rule before them, the baseline), both against a fine reference, in the same run.

    python benchmarks/bench_key_nodes.py [--satellites 1000] [--stations 20] [--windows 4000]
                                         [--reference-slot-s 0.05] [--no-moon]

A Walker shell at 550 km, 53 deg (tests/conftest.walker_data: night windows, 10 deg masks,
the Micius link and QKD presets, 1 m observatory receivers) over one day. The first
``--windows`` QKD windows are integrated three ways with ``pipeline.compute_keys``: slots of
``--reference-slot-s`` (the reference), 1-s slots and the quadrature. For each rule: the key
stage's wall time (its ratio to 1-s slots), and its relative differences from the reference
over the windows with more than 1e5 bits of finite key (finite key, sifted bits, QBER,
background), and the largest difference of the least loss (dB). ``--no-moon`` leaves the
Moon out of the sky (its horizon and its 5 deg scattering clip are where the rules differ).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import walker_data  # noqa: E402

from constellation import pipeline  # noqa: E402
from constellation.key import per_pass  # noqa: E402
from constellation.scenario.build import scenario_from_dict  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--satellites", type=int, default=1000)
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--windows", type=int, default=4000)
    parser.add_argument("--reference-slot-s", type=float, default=0.05)
    parser.add_argument("--no-moon", action="store_true")
    args = parser.parse_args()

    scenario = scenario_from_dict(walker_data(args.satellites, args.stations, 1.0))
    passes = pipeline.find_passes(scenario)
    passes = passes.take(np.flatnonzero(passes.has_window)[:args.windows])
    if args.no_moon:
        keys_of = per_pass.pass_keys

        def without_moon(*a, **k):
            return keys_of(*a, **{**k, "moon": None})

        per_pass.pass_keys = without_moon
    reference = pipeline.compute_keys(scenario, passes, slot_s=args.reference_slot_s)
    keyed = reference.finite_key_bits > 1e5
    print(f"{args.satellites} satellites x {args.stations} stations x 1 day: {len(passes)} windows, "
          f"{int(keyed.sum())} with > 1e5 bits; reference {args.reference_slot_s} s slots"
          + (" (no Moon)" if args.no_moon else ""))
    print("| rule | key stage s | vs 1-s slots | finite key max / p99 | sifted max | QBER max | background max "
          "| least loss max dB |")
    print("|---|---|---|---|---|---|---|---|")
    baseline = None
    for label, slot_s in (("1-s slots (baseline)", 1.0), ("Gauss-Legendre nodes (default)", None)):
        t0 = time.perf_counter()
        keys = pipeline.compute_keys(scenario, passes, slot_s=slot_s)
        wall = time.perf_counter() - t0
        baseline = wall if baseline is None else baseline

        def rel(name):
            return np.abs(getattr(keys, name)[keyed] / getattr(reference, name)[keyed] - 1)

        finite = rel("finite_key_bits")
        least = np.nanmax(np.abs(keys.min_loss_db - reference.min_loss_db))
        print(f"| {label} | {wall:.2f} | x{baseline / wall:.1f} | {finite.max():.2g} / {np.percentile(finite, 99):.2g} "
              f"| {rel('sifted_bits').max():.2g} | {rel('qber').max():.2g} | {rel('mean_background_cps').max():.2g} "
              f"| {least:.2g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
