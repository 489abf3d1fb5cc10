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

from ..core import geometry
from ..core.sun import moon_phase_angle_deg
from ..passes.dual import DualTable
from ..passes.finder import default_step_s
from ..scenario.source_params import SourceParams
from ..scenario.terminal_params import Terminal
from .background import background_cps
from .bbm92 import pair_key
from .link import link_loss
from .per_pass import BATCH_SLOTS, TRACK_NODE_S, track_positions, window_slots

__all__ = ["DUAL_COLUMNS", "DUAL_KEY_COLUMNS", "DualKeys", "dual_columns", "dual_keys"]

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


class _Arm:
    """Look angles, loss and background of one station end for a set of samples."""

    def __init__(self, stations, index, r_km, mid_s, sun, moon):
        pos = np.array([s.position_km for s in stations]).reshape(-1, 3)
        enu = [s.enu for s in stations]
        east, north, up = (np.array([e[k] for e in enu]).reshape(-1, 3) for k in range(3))
        el, _, rng = geometry.look_angles(r_km, pos[index], east[index], north[index], up[index])
        self.range_km, self.elevation_deg = rng, np.degrees(el)
        line = r_km - pos[index]
        self.line = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
        self.up = up[index]
        gmst = sun.earth_rotation_rad(mid_s) if sun is not None and mid_s.size else None
        self.sun = -self.up if sun is None or not mid_s.size else sun.unit_ecef(mid_s, gmst)
        self.moon = -self.up if moon is None or not mid_s.size else moon.unit_ecef(mid_s, gmst)
        self.phase = moon_phase_angle_deg(self.sun, self.moon) if moon is not None else np.full(mid_s.size, 180.0)

    def loss_and_background(self, stations, index, source: SourceParams):
        """Link loss (dB, detector excluded) and sky background (cps) per sample."""
        loss = np.full(self.range_km.shape, np.nan)
        background = np.zeros(self.range_km.shape)
        for st in np.unique(index):
            here = index == st
            station = stations[int(st)]
            term = Terminal(source.arm_link, None, station.receiver, station.site)
            loss[here] = link_loss(self.range_km[here], self.elevation_deg[here], term.link, term.receiver,
                                   term.site).loss_db
            background[here] = background_cps(term, self.up[here], self.line[here], self.sun[here], self.moon[here],
                                              self.phase[here])
        return loss, background


def dual_keys(propagator, dual: DualTable, stations, source: SourceParams | None = None, sun=None, moon=None,
              slot_s: float = 1.0, batch_slots: int = BATCH_SLOTS) -> DualKeys:
    """Summed range, two-arm loss and BBM92 key of every dual window.

    ``stations`` must have receivers where ``source`` is given (the caller checks)."""
    n = len(dual)
    out = dict(min_sum_range_km=np.full(n, np.nan), max_sum_range_km=np.full(n, np.nan),
               min_total_loss_db=np.full(n, np.nan), mean_total_loss_db=np.full(n, np.nan),
               coincidences=np.zeros(n), sifted_bits=np.zeros(n), qber=np.full(n, np.nan),
               asymptotic_key_bits=np.zeros(n), finite_key_bits=np.zeros(n))
    if n:
        length = dual.end_s - dual.start_s
        slots = np.ceil(length / np.maximum(slot_s, length / 10_000) - 1e-9) + 2
        batch = (np.cumsum(slots) - slots) // max(batch_slots, 1)
        for b in np.unique(batch):
            _batch(out, np.flatnonzero(batch == b), propagator, dual, stations, source, sun, moon, slot_s)
    return DualKeys(**out, has_source=source is not None)


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
    arm_a = _Arm(stations, dual.a[rows], r_km, s_t, sun, moon)
    arm_b = _Arm(stations, dual.b[rows], r_km, s_t, sun, moon)
    total = np.where(valid, arm_a.range_km + arm_b.range_km, np.nan)
    lo = np.full(windows.size, np.inf)
    hi = np.full(windows.size, -np.inf)
    np.minimum.at(lo, s_owner, np.where(valid, total, np.inf))
    np.maximum.at(hi, s_owner, np.where(valid, total, -np.inf))
    out["min_sum_range_km"][windows] = np.where(np.isfinite(lo), lo, np.nan)
    out["max_sum_range_km"][windows] = np.where(np.isfinite(hi), hi, np.nan)
    if source is None or not mid.size:
        return
    loss_a, bg_a = arm_a.loss_and_background(stations, dual.a[rows], source)
    loss_b, bg_b = arm_b.loss_and_background(stations, dual.b[rows], source)
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
        groups.setdefault(pair, []).append(i)
    for (rx_a, rx_b), members in groups.items():
        m = np.asarray(members)
        key = pair_key(la[m], lb[m], w[m], source, rx_a, rx_b, matrix(bg_a[is_slot], 0.0)[m],
                       matrix(bg_b[is_slot], 0.0)[m])
        for name in ("coincidences", "sifted_bits", "qber", "asymptotic_key_bits", "finite_key_bits"):
            out[name][windows[m]] = getattr(key, name)
    sampled = ~np.isnan(slot_loss)
    minimum = np.full(windows.size, np.inf)
    np.minimum.at(minimum, owner, np.where(sampled, slot_loss, np.inf))
    weights = np.where(sampled, width, 0.0)
    total_w = np.bincount(owner, weights=weights, minlength=windows.size)
    with np.errstate(invalid="ignore"):
        weighted = np.bincount(owner, weights=np.where(sampled & np.isfinite(slot_loss), slot_loss, 0.0) * weights,
                               minlength=windows.size)
    out["min_total_loss_db"][windows] = np.where(np.isfinite(minimum), minimum, np.nan)
    out["mean_total_loss_db"][windows] = np.divide(weighted, total_w, out=np.full(windows.size, np.nan),
                                                   where=total_w > 0)


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
