"""Dual-downlink windows: one satellite in the QKD window of two stations at once (numpy only).

Entanglement distribution (Yin et al. 2017, Science 356:1140) sends one photon of each pair
to each of two stations, so both must see the satellite, above their masks and with every
window constraint met, at the same moment. Those moments are the intersection of the two
stations' QKD windows of the same satellite, which the pass finder has already refined to
better than 0.01 s: intersecting them costs no propagation and keeps that edge accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .table import PassTable

__all__ = ["DualTable", "dual_windows"]


@dataclass
class DualTable:
    """One row per dual window; every column is an ndarray of length ``n``.

    ``satellite`` indexes ``satellite_names``; ``a`` and ``b`` index ``station_names``;
    ``pair`` indexes the station pairs asked for (``pairs``); ``pass_a``/``pass_b`` are the
    PassTable rows whose windows intersect. Times are seconds since the time base start.
    """

    satellite: np.ndarray
    a: np.ndarray
    b: np.ndarray
    pair: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    pass_a: np.ndarray
    pass_b: np.ndarray
    satellite_names: list[str] = field(default_factory=list)
    station_names: list[str] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.start_s.size)

    @property
    def duration_s(self) -> np.ndarray:
        return self.end_s - self.start_s


def _intersect(rows_a: np.ndarray, rows_b: np.ndarray, table: PassTable) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` of pass rows (``i`` from ``rows_a``, ``j`` from ``rows_b``) of one
    satellite whose windows overlap by more than zero seconds.

    A station's windows of one satellite are disjoint, so ordered by (satellite, start) their
    ends are ordered too: the windows of ``b`` that may overlap window ``i`` are a contiguous
    run, found by two binary searches on ``satellite * span + time`` (widened by a second,
    far above that key's rounding); the exact test on the float times then decides."""
    if not rows_a.size or not rows_b.size:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    t0 = min(table.window_start_s[rows_a].min(), table.window_start_s[rows_b].min())
    span = max(table.window_end_s[rows_a].max(), table.window_end_s[rows_b].max()) - t0 + 10.0
    sat_b = table.satellite[rows_b].astype(float)
    order = np.lexsort((table.window_start_s[rows_b], sat_b))
    rows_b = rows_b[order]
    key_start_b = sat_b[order] * span + (table.window_start_s[rows_b] - t0)
    key_end_b = sat_b[order] * span + (table.window_end_s[rows_b] - t0)
    base_a = table.satellite[rows_a].astype(float) * span - t0
    lo = np.searchsorted(key_end_b, base_a + table.window_start_s[rows_a] - 1.0, side="right")
    hi = np.searchsorted(key_start_b, base_a + table.window_end_s[rows_a] + 1.0, side="left")
    counts = np.maximum(hi - lo, 0)
    i = np.repeat(rows_a, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    j = rows_b[np.repeat(lo, counts) + offsets]
    same = table.satellite[i] == table.satellite[j]
    return i[same], j[same]


def dual_windows(table: PassTable, pairs: list[tuple[int, int]]) -> DualTable:
    """The windows in which one satellite is in the QKD window of both stations of a pair.

    Parameters
    ----------
    table : PassTable
        Passes with their QKD windows (``has_window``), from the pass finder.
    pairs : list of (int, int)
        Station index pairs ``(a, b)``, ``a != b``.

    Returns
    -------
    DualTable
        Ordered by pair, then start time, then satellite. A window is kept when it lasts more
        than 0 s.
    """
    with_window = np.flatnonzero(table.has_window)
    by_station = {int(s): with_window[table.station[with_window] == s] for s in np.unique(table.station[with_window])}
    empty = np.zeros(0, dtype=int)
    parts = []
    for p, (a, b) in enumerate(pairs):
        i, j = _intersect(by_station.get(a, empty), by_station.get(b, empty), table)
        start = np.maximum(table.window_start_s[i], table.window_start_s[j])
        end = np.minimum(table.window_end_s[i], table.window_end_s[j])
        keep = end > start
        i, j, start, end = i[keep], j[keep], start[keep], end[keep]
        order = np.lexsort((table.satellite[i], start))
        parts.append((np.full(i.size, p), i[order], j[order], start[order], end[order]))
    if parts:
        pair, i, j, start, end = (np.concatenate(c) for c in zip(*parts))
    else:
        pair = i = j = empty
        start = end = np.zeros(0)
    return DualTable(satellite=table.satellite[i].astype(int), a=table.station[i].astype(int),
                     b=table.station[j].astype(int), pair=pair.astype(int), start_s=start.astype(float),
                     end_s=end.astype(float), pass_a=i.astype(int), pass_b=j.astype(int),
                     satellite_names=list(table.satellite_names), station_names=list(table.station_names),
                     pairs=[(int(a), int(b)) for a, b in pairs])
