"""Machine-readable run summary and its short human rendering."""

from __future__ import annotations

import datetime as dt

import numpy as np

from .. import __version__

_J2000 = dt.datetime(2000, 1, 1, 12)


def summarise(scenario, table, rows, key_rows=None, link_rows=None) -> dict:
    """Counts and totals of a pass table, with provenance (version, scenario hash, TLE epochs)."""
    tb = scenario.timebase
    per_station = {}
    for s_idx, station in enumerate(scenario.stations):
        here = table.station == s_idx
        windows = table.window_s[here]
        best = int(np.argmax(windows)) if windows.size else -1
        per_station[station.name] = {
            "passes": int(here.sum()),
            "windows": int((windows > 0).sum()),
            "window_total_s": round(float(windows.sum()), 3),
            "longest_window_s": round(float(windows[best]), 3) if best >= 0 else 0.0,
        }
    errors = table.sgp4_error_samples
    return {
        "tool": "constellation",
        "version": __version__,
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "scenario_sha256": scenario.sha256,
        "start_utc": tb.utc_iso(0.0, places=0)[0],
        "end_utc": tb.utc_iso(scenario.duration_s, places=0)[0],
        "satellites": len(scenario.satellites),
        "stations": len(scenario.stations),
        "constraints": {k: v for k, v in vars(scenario.constraints).items()},
        "passes": len(table),
        "windows": int((table.window_s > 0).sum()),
        "window_total_s": round(float(table.window_s.sum()), 3),
        "per_station": per_station,
        "sgp4_error_samples": int(errors.sum()) if errors is not None else 0,
        "satellites_with_sgp4_errors": [scenario.satellites[i].name for i in np.flatnonzero(errors)] if errors is not None else [],
        "element_set_epochs_utc": {s.name: _jd_to_iso(s.satrec.jdsatepoch, s.satrec.jdsatepochF)
                                   for s in scenario.satellites[:1000]},
        "warnings": list(scenario.warnings) + pass_warnings(scenario, table) + (
            key_warnings(*([r[c] for r in key_rows] for c in ("window_s", "daylight_s", "finite_key_bits")))
            if key_rows else []),
        **({"key": _key_totals(key_rows)} if key_rows is not None else {}),
        **({"links": link_rows} if link_rows is not None else {}),
    }


def _key_totals(key_rows):
    from ..key.per_pass import key_totals   # here: `passes` warns through this module, without the key code

    return key_totals(key_rows)


def pass_warnings(scenario, table) -> list[str]:
    """A warning when satellites never rise above any station's mask in the span (with
    stations): often a unit typed wrong (an inclination in radians, an altitude in metres)."""
    if not scenario.stations or not scenario.satellites:
        return []
    silent = np.setdiff1d(np.arange(len(scenario.satellites)), np.unique(table.satellite))
    if silent.size == 0:
        return []

    def orbit(i):
        rec = scenario.satellites[i].satrec
        a_km = (398600.8 / (rec.no_kozai / 60.0) ** 2) ** (1.0 / 3.0)  # WGS72 mu, mean motion in rad/min
        return f"inclination {np.degrees(rec.inclo):.4g} deg, altitude {a_km - 6378.135:,.0f} km"

    names = [scenario.satellites[i].name for i in silent[:5]]
    more = f" and {silent.size - 5} more" if silent.size > 5 else ""
    first = f" ({orbit(int(silent[0]))})" if silent.size == 1 else f" (the first: {orbit(int(silent[0]))})"
    every = "no satellite rises" if silent.size == len(scenario.satellites) else \
        f"{silent.size} of {len(scenario.satellites)} satellites never rise"
    first_silent = scenario.satellites[int(silent[0])]
    inclination_deg = np.degrees(first_silent.satrec.inclo)
    radians = (f"; inclination_deg is in degrees ({inclination_deg:.4g} looks like radians)"
               if 0.0 < inclination_deg <= 2.0 * np.pi and first_silent.geo_slot is None else "")  # GEO: a few deg is real
    return [f"{every} above any station's mask in the span: {', '.join(names)}{more}{first}{radians}"]


# A QKD window is one finite-key block. A window this long holding both a night and a day (a
# MEO/GEO satellite seen all day, no darkness asked for) pools the day's noise into the night's key.
MIXED_WINDOW_NIGHT_S = 3600.0
MIXED_WINDOW_DAY_S = 600.0


def key_warnings(window_s, daylight_s, finite_key_bits) -> list[str]:
    """A warning when QKD windows (arrays of the key table's columns) hold an hour of night and
    ten minutes of daylight or more: each is one block, the day's background pooled with the
    night's, so the key may be none where the night alone would give some."""
    window_s, daylight_s = np.asarray(window_s, dtype=float), np.asarray(daylight_s, dtype=float)
    mixed = (window_s - daylight_s >= MIXED_WINDOW_NIGHT_S) & (daylight_s >= MIXED_WINDOW_DAY_S)
    if not mixed.any():
        return []
    none = int(np.count_nonzero(mixed & (np.asarray(finite_key_bits, dtype=float) <= 0)))
    count = int(mixed.sum())
    return [f"{count} QKD window{'s hold' if count != 1 else ' holds'} both an hour of night and ten minutes of "
            f"daylight or more ({none} with no finite key); each is one finite-key block, so the day's noise is "
            "pooled with the night's: to key the nights alone, set [constraints] station_sun_max_elevation_deg "
            "to -12 or lower"]


def _jd_to_iso(jd_whole: float, jd_fraction: float) -> str:
    """A UTC Julian date (as SGP4 epochs count it) as ISO-8601 text with ``Z``."""
    moment = _J2000 + dt.timedelta(days=jd_whole - 2451545.0) + dt.timedelta(days=jd_fraction)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def human_summary(summary: dict) -> str:
    lines = [
        f"{summary['scenario']}: {summary['start_utc']} to {summary['end_utc']}, "
        f"{summary['satellites']} satellite(s), {summary['stations']} station(s)",
    ]
    if summary["stations"]:
        lines.append(f"{summary['passes']} passes, {summary['windows']} with a QKD window "
                     f"({summary['window_total_s']:.0f} s in all)")
    width = max((len(n) for n in summary["per_station"]), default=0)
    for name, s in summary["per_station"].items():
        lines.append(f"  {name:<{width}}  {s['passes']:4d} passes  {s['windows']:4d} windows  "
                     f"{s['window_total_s']:8.0f} s  longest {s['longest_window_s']:.0f} s")
    if "key" in summary:
        key = summary["key"]
        lines.append(f"secure key: {key['finite_key_bits'] / 1e3:,.0f} kbit finite-size "
                     f"({key['asymptotic_key_bits'] / 1e3:,.0f} kbit asymptotic)")
        for name, s in key["per_station"].items():
            lines.append(f"  {name:<{width}}  {s['finite_key_bits'] / 1e3:10,.1f} kbit in {s['windows']} windows")
    for link in summary.get("links", []):
        latency = link["median_latency_h"]
        small = link["key_bits_per_day"] < 1e3
        unit, scale = ("bit/day", 1.0) if small else ("kbit/day", 1e3)
        mode = "" if link.get("mode", "relay") == "relay" else f" [{link['mode']}]"
        lines.append(f"link {link['a']}-{link['b']} ({link['distance_km']:,.0f} km){mode}: "
                     f"{link['key_bits_per_day'] / scale:,.1f} {unit} expected, P10 {link['key_bits_per_day_p10'] / scale:,.1f}; "
                     f"median latency {'-' if latency is None else f'{latency:.1f} h'}; "
                     f"limited by {link['limiting_station'] or link.get('limited_by') or '-'}")
    for pair in summary.get("dual", {}).get("pairs", []):
        key = (f"; {pair['sifted_bits']:,} sifted bits, QBER {100 * pair['qber']:.1f} %, "
               f"{pair['asymptotic_key_bits']:,} bits asymptotic" if pair.get("qber") is not None else "")
        lines.append(f"dual windows {pair['a']}-{pair['b']}: {pair['windows']} ({pair['window_total_s']:.0f} s){key}")
    if "coverage" in summary:
        cov = summary["coverage"]
        seen = f"{cov['k']} or more satellite(s) above {cov['min_elevation_deg']:g} deg"
        if cov.get("night_only"):
            dark = cov.get("global_night_fraction") or 0.0
            share = f": {cov['global_coverage_fraction'] / dark:.1%} of the dark time" if dark > 0 else ""
            lines.append(f"night coverage: {cov['global_coverage_fraction']:.2%} of the grid's point-time dark with {seen} "
                         f"(dark {dark:.1%}{share}); longest revisit gap {cov['max_revisit_gap_s'] / 60:,.0f} min")
        else:
            lines.append(f"coverage: {cov['global_coverage_fraction']:.2%} of the grid's point-time with {seen}; "
                         f"longest revisit gap {cov['max_revisit_gap_s'] / 60:,.0f} min")
    if summary["sgp4_error_samples"]:
        lines.append(f"SGP4 could not compute {summary['sgp4_error_samples']} samples "
                     f"(satellites: {', '.join(summary['satellites_with_sgp4_errors'][:5])}); they were masked")
    return "\n".join(lines)
