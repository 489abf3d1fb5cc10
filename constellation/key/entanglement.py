"""Geometry, two-arm loss and BBM92 key along each dual-downlink window.

Each dual window (:mod:`constellation.passes.dual`) is cut into slots as a pass window is
(:func:`constellation.key.per_pass.window_slots`); the satellite's position at each slot comes
from the same interpolated SGP4 track as the key of a pass. Per slot and arm: range and
elevation from that station, the arm's link loss through the station's receiver and site, and
the sky background the receiver sees; the slots of a window form one BBM92 block
(:mod:`constellation.key.bbm92`). The summed range is also taken at both window edges, where it
is largest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..passes.dual import DualTable
from ..passes.finder import default_step_s
from ..scenario.source_params import SourceParams
from ..scenario.terminal_params import Terminal
from .background import background_cps
from .bbm92 import pair_key
from .link import link_loss
from .per_pass import (BATCH_SLOTS, MAX_SLOTS, TRACK_NODE_S, SlotGeometry, slot_geometry, sun_and_moon,
                       track_positions, window_slots)

__all__ = ["DUAL_COLUMNS", "DUAL_KEY_COLUMNS", "DualKeys", "DualProfile", "dual_columns", "dual_keys", "dual_profile"]

_PAD_LOSS_DB = np.inf


@dataclass
class DualKeys:
    """Per dual window (aligned with the DualTable rows). Without a source only the range
    columns are filled (the rest NaN / 0)."""

    min_sum_range_km: np.ndarray
    max_sum_range_km: np.ndarray
    min_total_loss_db: np.ndarray
    mean_total_loss_db: np.ndarray
    coincidences: np.ndarray
    sifted_bits: np.ndarray
    qber: np.ndarray
    asymptotic_key_bits: np.ndarray
    finite_key_bits: np.ndarray
    has_source: bool = False


def _arms(stations, a, b, r_km, t_s, sun, moon):
    """The geometry of both ends (:class:`~constellation.key.per_pass.SlotGeometry`), the Sun
    and the Moon found once for both."""
    sky = sun_and_moon(t_s, sun, moon)
    return slot_geometry(stations, a, r_km, *sky), slot_geometry(stations, b, r_km, *sky)


def _loss_and_background(arm: SlotGeometry, stations, index, source: SourceParams):
    """Link loss (dB, detector excluded) and sky background (cps) of one end per sample."""
    loss = np.full(arm.range_km.shape, np.nan)
    background = np.zeros(arm.range_km.shape)
    for st in np.unique(index):
        here = index == st
        station = stations[int(st)]
        term = Terminal(source.arm_link, None, station.receiver, station.site)
        loss[here] = link_loss(arm.range_km[here], arm.elevation_deg[here], term.link, term.receiver,
                               term.site).loss_db
        background[here] = background_cps(term, arm.up[here], arm.line[here], arm.sun[here], arm.moon[here],
                                          arm.phase[here])
    return loss, background


def dual_keys(propagator, dual: DualTable, stations, source=None, sun=None, moon=None,
              slot_s: float = 1.0, batch_slots: int = BATCH_SLOTS, progress=None) -> DualKeys:
    """Summed range, two-arm loss and BBM92 key of every dual window.

    ``source``: one SourceParams for every satellite, a sequence of them per satellite index
    (None where a satellite carries none: its windows get the range columns only), or None.
    ``stations`` must have receivers where a source is given (the caller checks).
    ``progress(done, total)``, if given, hears the dual windows done: ``(0, total)`` first,
    then after each batch of about ``batch_slots`` slots (as ``pass_keys`` does)."""
    if source is not None and not isinstance(source, SourceParams):
        source = list(source) if any(s is not None for s in source) else None
    n = len(dual)
    out = dict(min_sum_range_km=np.full(n, np.nan), max_sum_range_km=np.full(n, np.nan),
               min_total_loss_db=np.full(n, np.nan), mean_total_loss_db=np.full(n, np.nan),
               coincidences=np.zeros(n), sifted_bits=np.zeros(n), qber=np.full(n, np.nan),
               asymptotic_key_bits=np.zeros(n), finite_key_bits=np.zeros(n))
    if progress is not None:
        progress(0, n)
    if n:
        length = dual.end_s - dual.start_s
        slots = np.ceil(length / np.maximum(slot_s, length / MAX_SLOTS) - 1e-9) + 2
        batch = (np.cumsum(slots) - slots) // max(batch_slots, 1)  # non-decreasing
        for windows in np.split(np.arange(n), np.flatnonzero(np.diff(batch)) + 1):
            _batch(out, windows, propagator, dual, stations, source, sun, moon, slot_s)
            if progress is not None:
                progress(int(windows[-1]) + 1, n)
    return DualKeys(**out, has_source=source is not None)


def _sources_of(source, satellites) -> list:
    """The source of each window's satellite (one SourceParams, or a list per satellite)."""
    if isinstance(source, SourceParams):
        return [source] * len(satellites)
    return [source[int(s)] for s in satellites]


def _batch(out, windows, propagator, dual: DualTable, stations, source, sun, moon, slot_s) -> None:
    start, end = dual.start_s[windows], dual.end_s[windows]
    owner, mid, width = window_slots(start, end, slot_s)
    # Samples: the slot middles (for the key), then both edges of every window (for the range).
    k = np.arange(windows.size)
    s_owner = np.concatenate([owner, k, k])
    s_t = np.concatenate([mid, start, end])
    is_slot = np.arange(s_t.size) < mid.size
    node_s = min(TRACK_NODE_S, default_step_s(propagator.satrecs))
    r_km, valid = track_positions(propagator, dual.satellite[windows], start, end, s_owner, s_t, node_s)
    rows = windows[s_owner]
    arm_a, arm_b = _arms(stations, dual.a[rows], dual.b[rows], r_km, s_t, sun, moon)
    total = np.where(valid, arm_a.range_km + arm_b.range_km, np.nan)
    lo = np.full(windows.size, np.inf)
    hi = np.full(windows.size, -np.inf)
    np.minimum.at(lo, s_owner, np.where(valid, total, np.inf))
    np.maximum.at(hi, s_owner, np.where(valid, total, -np.inf))
    out["min_sum_range_km"][windows] = np.where(np.isfinite(lo), lo, np.nan)
    out["max_sum_range_km"][windows] = np.where(np.isfinite(hi), hi, np.nan)
    if source is None or not mid.size:
        return
    window_sources = _sources_of(source, dual.satellite[windows])
    for src in {s for s in window_sources if s is not None}:
        mine = np.array([s == src for s in window_sources])
        _key_batch(out, windows, mine, owner, width, s_owner, is_slot, valid, arm_a, arm_b, rows, dual, stations, src)


def _key_batch(out, windows, mine, owner, width, s_owner, is_slot, valid, arm_a, arm_b, rows, dual, stations,
               source) -> None:
    """Loss and key of the windows ``mine`` (a mask over ``windows``) of one source."""
    loss_a, bg_a = _loss_and_background(arm_a, stations, dual.a[rows], source)
    loss_b, bg_b = _loss_and_background(arm_b, stations, dual.b[rows], source)
    slot_loss = np.where(valid, loss_a + loss_b, np.nan)[is_slot]
    # One row of slots per window (padded with no light), one BBM92 block per row.
    counts = np.bincount(owner, minlength=windows.size)
    column = np.arange(owner.size) - np.concatenate([[0], np.cumsum(counts)[:-1]])[owner]
    shape = (windows.size, max(int(counts.max()), 1))

    def matrix(values, fill):
        m = np.full(shape, fill)
        m[owner, column] = values
        return m

    la = matrix(np.where(valid, loss_a, np.nan)[is_slot], _PAD_LOSS_DB)
    lb = matrix(np.where(valid, loss_b, np.nan)[is_slot], _PAD_LOSS_DB)
    w = matrix(width, 0.0)
    receivers = [(stations[int(dual.a[r])].receiver, stations[int(dual.b[r])].receiver) for r in windows]
    groups: dict = {}
    for i, pair in enumerate(receivers):
        if mine[i]:
            groups.setdefault(pair, []).append(i)
    for (rx_a, rx_b), members in groups.items():
        m = np.asarray(members)
        key = pair_key(la[m], lb[m], w[m], source, rx_a, rx_b, matrix(bg_a[is_slot], 0.0)[m],
                       matrix(bg_b[is_slot], 0.0)[m])
        for name in ("coincidences", "sifted_bits", "qber", "asymptotic_key_bits", "finite_key_bits"):
            out[name][windows[m]] = getattr(key, name)
    sampled = ~np.isnan(slot_loss) & mine[owner]
    minimum = np.full(windows.size, np.inf)
    np.minimum.at(minimum, owner, np.where(sampled, slot_loss, np.inf))
    weights = np.where(sampled, width, 0.0)
    total_w = np.bincount(owner, weights=weights, minlength=windows.size)
    with np.errstate(invalid="ignore"):
        weighted = np.bincount(owner, weights=np.where(sampled & np.isfinite(slot_loss), slot_loss, 0.0) * weights,
                               minlength=windows.size)
    out["min_total_loss_db"][windows[mine]] = np.where(np.isfinite(minimum), minimum, np.nan)[mine]
    out["mean_total_loss_db"][windows[mine]] = np.divide(weighted, total_w, out=np.full(windows.size, np.nan),
                                                         where=total_w > 0)[mine]


@dataclass
class DualProfile:
    """Geometry and two-arm loss along one dual window; every array has shape ``(n,)``.

    The samples are the window's start, the middles of its key slots (those
    :func:`dual_keys` integrates) and its end; ``width_s`` is each slot's length, 0 at the two
    edges (which the key does not count, but the summed range does).

    Attributes
    ----------
    t_s : seconds since the scenario start
    width_s : slot length (s)
    range_a_km, range_b_km : slant range from station a and from station b
    elevation_a_deg, elevation_b_deg, azimuth_a_deg, azimuth_b_deg : look angles from each station
    loss_a_db, loss_b_db : each arm's link loss (detector excluded); NaN without a source
    valid : the satellite's position is known (SGP4 did not fail); NaN elsewhere otherwise
    """

    t_s: np.ndarray
    width_s: np.ndarray
    range_a_km: np.ndarray
    range_b_km: np.ndarray
    elevation_a_deg: np.ndarray
    elevation_b_deg: np.ndarray
    azimuth_a_deg: np.ndarray
    azimuth_b_deg: np.ndarray
    loss_a_db: np.ndarray
    loss_b_db: np.ndarray
    valid: np.ndarray

    @property
    def sum_range_km(self) -> np.ndarray:
        return self.range_a_km + self.range_b_km

    @property
    def total_loss_db(self) -> np.ndarray:
        return self.loss_a_db + self.loss_b_db


def dual_profile(propagator, dual: DualTable, row: int, stations, source: SourceParams | None = None, sun=None,
                 moon=None, slot_s: float = 1.0) -> DualProfile:
    """Range, look angles and each arm's loss along dual window ``row``, at the samples
    :func:`dual_keys` takes (same slots, same interpolated track, same link and receivers),
    so the profile's slot-weighted mean total loss is the window's ``mean_total_loss_db``."""
    window = np.array([int(row)])
    start, end = dual.start_s[window], dual.end_s[window]
    _, mid, width = window_slots(start, end, slot_s)
    t = np.concatenate([start, mid, end])
    owner = np.zeros(t.size, dtype=int)
    node_s = min(TRACK_NODE_S, default_step_s(propagator.satrecs))
    r_km, valid = track_positions(propagator, dual.satellite[window], start, end, owner, t, node_s)
    a, b = np.full(t.size, dual.a[row]), np.full(t.size, dual.b[row])
    arm_a, arm_b = _arms(stations, a, b, r_km, t, sun, moon)
    if source is None:
        loss_a = loss_b = np.full(t.size, np.nan)
    else:
        loss_a = _loss_and_background(arm_a, stations, a, source)[0]
        loss_b = _loss_and_background(arm_b, stations, b, source)[0]

    def known(values):
        return np.where(valid, values, np.nan)

    return DualProfile(t, np.concatenate([[0.0], width, [0.0]]), known(arm_a.range_km), known(arm_b.range_km),
                       known(arm_a.elevation_deg), known(arm_b.elevation_deg), known(arm_a.azimuth_deg),
                       known(arm_b.azimuth_deg), known(loss_a), known(loss_b), valid)


DUAL_COLUMNS = ["satellite", "a", "b", "start_utc", "end_utc", "duration_s", "min_sum_range_km", "max_sum_range_km"]
DUAL_KEY_COLUMNS = ["min_total_loss_db", "mean_total_loss_db", "coincidences", "sifted_bits", "qber",
                    "asymptotic_key_bits", "finite_key_bits"]


def dual_columns(dual: DualTable, keys: DualKeys, timebase) -> dict[str, list]:
    """The dual-window table column-wise (key columns only with a source); no NaN (None)."""
    def num(values, digits):
        return [round(float(v), digits) if np.isfinite(v) else None for v in values]

    columns = {
        "satellite": [dual.satellite_names[s] for s in dual.satellite],
        "a": [dual.station_names[s] for s in dual.a], "b": [dual.station_names[s] for s in dual.b],
        "start_utc": list(timebase.utc_iso(dual.start_s)), "end_utc": list(timebase.utc_iso(dual.end_s)),
        "duration_s": num(dual.duration_s, 3),
        "min_sum_range_km": num(keys.min_sum_range_km, 3), "max_sum_range_km": num(keys.max_sum_range_km, 3),
    }
    if keys.has_source:
        columns.update({
            "min_total_loss_db": num(keys.min_total_loss_db, 3), "mean_total_loss_db": num(keys.mean_total_loss_db, 3),
            "coincidences": num(keys.coincidences, 1), "sifted_bits": [int(v) for v in keys.sifted_bits],
            "qber": num(keys.qber, 6), "asymptotic_key_bits": [int(v) for v in keys.asymptotic_key_bits],
            "finite_key_bits": [int(v) for v in keys.finite_key_bits]})
    return columns


def dual_summary(dual: DualTable, keys: DualKeys) -> dict:
    """Per station pair: dual windows, their seconds, and with a source the sifted bits, QBER
    and key of each window summed (each window a block of its own: see network for a link's
    key distilled over the span)."""
    pairs = []
    for p, (a, b) in enumerate(dual.pairs):
        m = dual.pair == p
        row = {"a": dual.station_names[a], "b": dual.station_names[b], "windows": int(m.sum()),
               "window_total_s": round(float(dual.duration_s[m].sum()), 3)}
        if keys.has_source:
            coincidences = float(keys.coincidences[m].sum())
            errors = float(np.nansum(keys.qber[m] * keys.coincidences[m]))
            row.update({"coincidences": round(coincidences, 1),
                        "sifted_bits": int(np.floor(keys.sifted_bits[m]).sum()),  # as dual.csv's rows add up
                        "qber": round(errors / coincidences, 6) if coincidences > 0 else None,
                        "asymptotic_key_bits": int(keys.asymptotic_key_bits[m].sum()),
                        "finite_key_bits": int(keys.finite_key_bits[m].sum())})
        pairs.append(row)
    return {"windows": len(dual), "pairs": pairs}
