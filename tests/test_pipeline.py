"""The pipeline written once: stages computed on demand and once, the same numbers through
every entry point (stage functions, run_scenario, evaluate_scenario, the command line), and
the [qkd] finite_key option deciding which key the network relays."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from constellation.api import (compute_keys, evaluate_scenario, find_passes, load_scenario, plan_network,
                               run_scenario, scenario_from_dict)
from constellation.cli import main
from constellation.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
MICIUS = ROOT / "scenarios" / "micius-2016-xinglong.toml"
RELAY = ROOT / "scenarios" / "china-austria-2017.toml"


def relay_scenario(**qkd):
    """The China-Austria relay scenario over four days, 100 weather runs, with ``qkd`` overrides."""
    data = tomllib.loads(RELAY.read_text())
    data["scenario"]["end"] = data["scenario"]["start"].replace(day=data["scenario"]["start"].day + 4)
    data.setdefault("network", {})["weather_runs"] = 100
    data["qkd"] = {**data["qkd"], **qkd}
    return scenario_from_dict(data, source=RELAY)


def test_stages_are_computed_on_demand_and_once():
    result = run_scenario(load_scenario(MICIUS))
    assert result.timings_s == {}                      # nothing computed yet
    rows = result.rows("key")                          # needs passes, then key
    assert set(result.timings_s) == {"passes", "key"}
    assert result.keys is result.keys and result.passes is result.passes
    assert len(rows) == len(result.passes)


def test_every_entry_point_gives_the_same_key(tmp_path):
    scenario = load_scenario(MICIUS)
    passes = find_passes(scenario)
    keys = compute_keys(scenario, passes)
    result = run_scenario(scenario)
    np.testing.assert_array_equal(result.keys.finite_key_bits, keys.finite_key_bits)
    out = tmp_path / "out"
    assert main(["run", str(MICIUS), "--no-plots", "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["key"]["finite_key_bits"] == pytest.approx(float(np.sum(keys.finite_key_bits)), abs=1.0)


def test_network_needs_links_and_says_so_before_computing_anything():
    result = run_scenario(load_scenario(MICIUS))
    with pytest.raises(InputError, match="links: expected at least one"):
        result.network
    assert result.timings_s == {}


def test_finite_key_option_decides_which_key_the_network_relays():
    finite, asymptotic = relay_scenario(), relay_scenario(finite_key=False)
    passes = find_passes(finite)
    keys_finite, keys_asymptotic = compute_keys(finite, passes), compute_keys(asymptotic, passes)
    window = passes.has_window & (keys_finite.finite_key_bits > 0)
    assert window.any()
    # The per-pass key follows the option: finite size (Lim et al. 2014) is below the asymptotic bound.
    np.testing.assert_array_equal(keys_finite.key_bits, keys_finite.finite_key_bits)
    np.testing.assert_array_equal(keys_asymptotic.key_bits, keys_asymptotic.asymptotic_key_bits)
    assert np.all(keys_asymptotic.key_bits[window] > keys_finite.key_bits[window])
    # ... and so does what the relay delivers, link by link, and what sizing evaluates.
    relayed_finite = {(r.a, r.b): r.clear_sky_key_bits_per_day for r in plan_network(finite, passes, keys_finite).links}
    relayed_asym = {(r.a, r.b): r.clear_sky_key_bits_per_day
                    for r in plan_network(asymptotic, passes, keys_asymptotic).links}
    assert any(relayed_finite[pair] > 0 for pair in relayed_finite)
    for pair, bits in relayed_finite.items():
        assert relayed_asym[pair] >= bits
    assert evaluate_scenario(asymptotic)["key_bits_per_day"] > evaluate_scenario(finite)["key_bits_per_day"]


def test_a_region_too_small_for_its_grid_is_named_by_its_own_field():
    """A target region and the [coverage] region are different settings: each error names its own."""
    from constellation.pipeline import compute_coverage, region_coverage

    scenario = load_scenario(MICIUS)
    tiny = [[10.0, 10.0], [10.1, 10.0], [10.1, 10.1]]
    with pytest.raises(InputError, match=r"micius-2016-xinglong.toml: targets.regions\[0\].region: expected a polygon"):
        region_coverage(scenario, tiny, 2.0, 600.0, 20.0, "targets.regions[0].region")
    with pytest.raises(InputError, match=r"micius-2016-xinglong.toml: coverage.k: expected"):
        compute_coverage(scenario, grid_deg=10.0, k=0)
