"""Contacts: the candidate downlinks a network schedule chooses from (one per QKD window).

A window longer than ``MAX_CONTACT_S`` is cut into equal pieces. The rules of the network
model are stated once, in :mod:`constellation.network`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Longest contact (s): a longer window (a MEO or GEO satellite up all night) is cut into
# pieces of at most this length, so a telescope can serve it between LEO passes.
MAX_CONTACT_S = 900.0


@dataclass(frozen=True)
class Contacts:
    """Candidate contacts; every field is an ndarray of length ``n``.

    ``satellite`` and ``station`` are indices, ``start_s`` and ``end_s`` the window (s since
    the start), ``key_bits`` its key and ``pass_index`` the row of the pass it came from.
    """

    satellite: np.ndarray
    station: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    key_bits: np.ndarray
    pass_index: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.size)

    @property
    def n_satellites(self) -> int:
        return int(self.satellite.max()) + 1 if len(self) else 0

    @property
    def n_stations(self) -> int:
        return int(self.station.max()) + 1 if len(self) else 0


def make_contacts(satellite, station, start_s, end_s, key_bits, pass_index=None) -> Contacts:
    """Contacts from parallel arrays (checked: equal lengths, finite, ``end >= start``, key >= 0)."""
    sat = np.asarray(satellite, dtype=np.int64).ravel()
    st = np.asarray(station, dtype=np.int64).ravel()
    start = np.asarray(start_s, dtype=float).ravel()
    end = np.asarray(end_s, dtype=float).ravel()
    key = np.asarray(key_bits, dtype=float).ravel()
    index = np.arange(sat.size) if pass_index is None else np.asarray(pass_index, dtype=np.int64).ravel()
    if not all(a.size == sat.size for a in (st, start, end, key, index)):
        raise ValueError("contact arrays must all have the same length")
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end)) and np.all(np.isfinite(key))):
        raise ValueError("contact times and key must be finite (mask failed passes before)")
    if np.any(end < start) or np.any(key < 0) or np.any(sat < 0) or np.any(st < 0):
        raise ValueError("contacts need end_s >= start_s, key_bits >= 0 and indices >= 0")
    return Contacts(sat, st, start, end, key, index)


def contacts_from_passes(table, key_bits) -> Contacts:
    """The passes of a ``PassTable`` with a QKD window and positive key.

    ``key_bits``, shape (n_pass,), is aligned with the table rows (e.g. ``PassKeys.key_bits``);
    ``pass_index`` keeps each contact's row.
    A window longer than ``MAX_CONTACT_S`` (a MEO or GEO satellite up all night) becomes
    equal consecutive contacts of at most that length, sharing its key in proportion to
    time, so a telescope can serve it between LEO passes. (The key of a chunk is its share
    of the whole window's finite-size key: a fair figure when most chunks are used,
    optimistic by the finite-size penalty of a shorter block otherwise.)
    """
    key = np.asarray(key_bits, dtype=float)
    rows = np.flatnonzero(np.asarray(table.has_window) & (key > 0) &
                          (table.window_end_s > table.window_start_s))
    start, end = table.window_start_s[rows], table.window_end_s[rows]
    pieces = np.maximum(1, np.ceil((end - start) / MAX_CONTACT_S - 1e-9).astype(int))
    row = np.repeat(rows, pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(row.size) - np.repeat(first, pieces)
    length = np.repeat((end - start) / pieces, pieces)
    chunk_start = np.repeat(start, pieces) + k * length
    # each piece ends where the next starts, bit for bit (no 1e-11 s overlap)
    chunk_end = np.where(k == np.repeat(pieces, pieces) - 1, np.repeat(end, pieces),
                         np.repeat(start, pieces) + (k + 1) * length)
    return make_contacts(table.satellite[row], table.station[row], chunk_start, chunk_end,
                         key[row] / np.repeat(pieces, pieces), row)
