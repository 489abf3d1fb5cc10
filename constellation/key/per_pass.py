"""Key per pass: the optical loss along each QKD window and its secure key.

The key of a window is an integral over time of the detection and error rates. By default
(``slot_s=None``) it is taken by Gauss-Legendre quadrature (:func:`window_nodes`): the window
is cut into segments of at most ``KEY_SEGMENT_S`` with ``KEY_GAUSS_NODES`` nodes each, a
segment is split where the sky model changes its law (the Moon or the Sun crossing the
station's horizon, ...: :func:`sky_switch`), and a piece whose line of sight comes within
``NEAR_BRIGHT_DEG`` of the Moon or the Sun is integrated again on shorter parts. With
``slot_s`` the window is cut into slots of ``slot_s`` instead (the last one shorter; windows
longer than ``MAX_SLOTS`` slots get longer slots), each sampled at its middle, as before the
quadrature (sizing sweeps keep their ``key_slot_s``).

At each node or slot the satellite's position is interpolated between SGP4 states at most
60 s apart (:func:`track_positions`), its range and elevation from the station give the
link loss (``link.link_loss``), the Sun's and the Moon's positions give the sky background
the receiver sees along the line of sight (``background.background_cps``), and the nodes of
a pass form one finite-key block (``decoy_bb84.key_for_profile``, each node weighted by its
quadrature weight in seconds). Daylight is decided by that background, not by a rule;
``daylight_s`` only reports how long the Sun was up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import KEY_BATCH_SLOTS, KEY_GAUSS_NODES, KEY_MAX_SLOTS, KEY_SEGMENT_S
from ..core import geometry
from ..core.propagation import Segments, rotating_frame_acceleration
from ..core.sun import moon_phase_angle_deg
from ..passes.finder import default_step_s
from .background import background_cps
from .decoy_bb84 import key_for_profile
from .forked import forked_map
from .link import link_loss
from .sky import SUN_NEGLIGIBLE_BELOW_DEG, TWILIGHT_DECLINE


_PAD_LOSS_DB = 1000.0
_KEY_ROWS = 512  # windows per key_for_profile call (rows of similar length: see _pass_keys_batch)
# A LEO window (<= 15 min) keeps 1 s slots; the hours-long windows of MEO/GEO satellites,
# whose loss changes slowly, get longer slots (36 s for a 9 h night) instead of 32,400.
MAX_SLOTS = KEY_MAX_SLOTS
BATCH_SLOTS = KEY_BATCH_SLOTS
# SGP4 nodes along a window for the key: the slots are interpolated between them (Track's
# quintic Hermite errs by 0.2-0.5 m at 120 s steps in LEO; 60 s keeps it well under that;
# eccentric orbits get the pass finder's shorter step, passes.finder.default_step_s).
TRACK_NODE_S = 60.0
GAUSS_NODES = KEY_GAUSS_NODES
SEGMENT_S = KEY_SEGMENT_S
# Pieces with a node whose line of sight is within NEAR_BRIGHT_DEG of the Moon or the Sun are
# integrated again on parts over which the line of sight moves at most FINE_ANGLE_DEG against
# them: the scattered light peaks within a few degrees (the sky model clips the scattering
# angle at 5 deg), and a LEO line of sight sweeps ~0.8 deg/s at 550 km (~14 deg between two
# nodes of a 60-s segment; ~27 deg at 200 km), so the closest approach of a body the nodes
# all see beyond 20 deg is itself beyond ~13 deg (~6 deg at 200 km).
NEAR_BRIGHT_DEG = 20.0
FINE_ANGLE_DEG = 4.0


@dataclass
class PassKeys:
    """Per pass (aligned with the PassTable rows); arrays of length ``n_pass``."""

    window_s: np.ndarray
    mean_loss_db: np.ndarray
    min_loss_db: np.ndarray
    sifted_bits: np.ndarray
    qber: np.ndarray
    asymptotic_key_bits: np.ndarray
    finite_key_bits: np.ndarray
    key_bits: np.ndarray
    daylight_s: np.ndarray
    mean_background_cps: np.ndarray

    def columns(self, passes, timebase) -> dict[str, list]:
        """The key table column-wise (``KEY_COLUMNS``, as ``key.csv``) with ``passes``, the
        :class:`~constellation.passes.table.PassTable` these keys were computed for."""
        return key_columns(passes.columns(timebase), self)

    def take(self, index) -> PassKeys:
        """The passes ``index`` selects (a slice, indices or a mask)."""
        return PassKeys(**{name: getattr(self, name)[index] for name in PassKeys.__dataclass_fields__})

    def column_blocks(self, passes, timebase, rows: int = 20_000):
        """:meth:`columns` of ``rows`` passes at a time (to write a long key table piece by
        piece, as ``PassTable.column_blocks``)."""
        for lo in range(0, len(passes), rows):
            part = slice(lo, lo + rows)
            yield key_columns(passes.take(part).columns(timebase), self.take(part))

    def rows(self, passes, timebase) -> list[dict]:
        """One dict per pass, as ``key.csv`` writes it; the key's counterpart of
        :meth:`PassTable.rows(timebase) <constellation.passes.table.PassTable.rows>`.

        >>> keys = compute_keys(scenario, passes)                       # doctest: +SKIP
        >>> keys.rows(passes, scenario.timebase)[1]["finite_key_bits"]   # doctest: +SKIP
        298750
        """
        columns = self.columns(passes, timebase)
        return [dict(zip(columns, row)) for row in zip(*columns.values())]


def window_slots(start_s, end_s, slot_s: float = 1.0, max_slots: int = MAX_SLOTS):
    """Cut windows ``[start_s[k], end_s[k]]`` into slots of ``slot_s`` (at most ``max_slots``
    per window: a longer window gets proportionally longer slots).

    Returns ``(owner, mid_s, width_s)``: the window of each slot, its middle and length.
    """
    start_s, end_s = np.asarray(start_s, float), np.asarray(end_s, float)
    length = np.maximum(end_s - start_s, 0.0)
    step = np.maximum(slot_s, length / max_slots)
    counts = np.ceil(length / step - 1e-9).astype(int)
    owner = np.repeat(np.arange(length.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else np.zeros(0, int)
    k = np.arange(owner.size) - first[owner]
    lo = start_s[owner] + k * step[owner]
    hi = np.minimum(lo + step[owner], end_s[owner])
    return owner, 0.5 * (lo + hi), hi - lo


def window_nodes(start_s, end_s, switch=None, segment_s: float = SEGMENT_S, nodes: int = GAUSS_NODES,
                 max_segments: int = MAX_SLOTS // GAUSS_NODES):
    """Gauss-Legendre nodes of windows ``[start_s[k], end_s[k]]``: each window is cut into
    equal segments of at most ``segment_s`` (at most ``max_segments``: a longer window gets
    longer segments) and each segment gets ``nodes`` nodes.

    ``switch(owner, t_s)`` (optional) gives, for window ``owner[k]`` at ``t_s[k]``, values
    ``(n, m)`` whose signs say which terms of the integrand are on (:func:`sky_switch`: the
    Moon above the horizon, ...). Where one changes sign over a segment, the segment is split
    at the change (found by a secant step, to well under 0.1 s), so that every piece
    integrates a smooth function.

    Returns ``(owner, t_s, weight_s)``: the window of each node, its time and its weight
    (seconds; a window's weights sum to its length). The key table integrates with these
    nodes, refined near the Moon and the Sun (:func:`window_samples`).
    """
    owner, t_s, weight_s, _ = gauss_nodes(*window_pieces(start_s, end_s, switch, segment_s, max_segments), nodes)
    return owner, t_s, weight_s


def window_pieces(start_s, end_s, switch=None, segment_s: float = SEGMENT_S,
                  max_segments: int = MAX_SLOTS // GAUSS_NODES):
    """The pieces :func:`window_nodes` integrates over: ``(owner, lo_s, hi_s)``, window by
    window and in time order."""
    start_s, end_s = np.asarray(start_s, float), np.asarray(end_s, float)
    length = np.maximum(end_s - start_s, 0.0)
    segments = np.where(length > 0.0, np.clip(np.ceil(length / segment_s - 1e-9), 1, max(max_segments, 1)), 0)
    seg_owner, lo, hi = _cut(np.arange(length.size), start_s, end_s, segments.astype(int))
    if switch is not None and seg_owner.size:
        lo, hi, seg_owner = _split_at_switches(switch, seg_owner, lo, hi)
    return seg_owner, lo, hi


def _cut(owner, lo_s, hi_s, counts):
    """Intervals ``[lo_s[j], hi_s[j]]`` of windows ``owner[j]`` cut into ``counts[j]`` equal
    parts: ``(owner, lo_s, hi_s)`` of the parts, in order (the last part ends at ``hi_s``)."""
    parent = np.repeat(np.arange(counts.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else np.zeros(0, int)
    k = np.arange(parent.size) - first[parent]
    step = (hi_s - lo_s)[parent] / np.maximum(counts[parent], 1)
    lo = lo_s[parent] + k * step
    return owner[parent], lo, np.where(k == counts[parent] - 1, hi_s[parent], lo + step)


def _gauss_legendre(n: int):
    """Nodes and weights of the ``n``-point Gauss-Legendre rule on [-1, 1] (Golub-Welsch: the
    eigenvalues of the Jacobi matrix of the Legendre polynomials, and the squared first
    components of its eigenvectors times 2)."""
    k = np.arange(1, n)
    off = k / np.sqrt(4.0 * k * k - 1.0)
    x, vectors = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
    return x, 2.0 * vectors[0] ** 2


def gauss_nodes(owner, lo_s, hi_s, nodes: int = GAUSS_NODES):
    """``(owner, t_s, weight_s, piece)``: ``nodes`` Gauss-Legendre nodes on each piece
    ``[lo_s[j], hi_s[j]]`` of window ``owner[j]``, with the piece ``j`` of each node."""
    x, w = _gauss_legendre(nodes)
    lo_s, hi_s = np.asarray(lo_s, float), np.asarray(hi_s, float)
    half = 0.5 * (hi_s - lo_s)
    t_s = ((lo_s + half)[:, None] + half[:, None] * x[None, :]).ravel()
    weight_s = (half[:, None] * w[None, :]).ravel()
    return np.repeat(owner, nodes), t_s, weight_s, np.repeat(np.arange(lo_s.size), nodes)


def _split_at_switches(switch, owner, lo, hi):
    """Segments ``[lo, hi]`` of windows ``owner`` cut where ``switch`` changes sign in them."""
    f_lo = switch(owner, lo)
    # A segment ends where the next of its window starts: the switch is taken once there.
    last = np.append(owner[1:] != owner[:-1], True)
    f_hi = np.empty_like(f_lo)
    f_hi[:-1] = f_lo[1:]
    f_hi[last] = switch(owner[last], hi[last])
    rows, cols = np.nonzero((f_lo > 0.0) != (f_hi > 0.0))
    cuts = np.full(f_lo.shape, np.nan)
    if rows.size:
        a, b, fa, fb = lo[rows], hi[rows], f_lo[rows, cols], f_hi[rows, cols]
        t = a + (b - a) * fa / (fa - fb)                     # secant through the ends, then
        ft = switch(owner[rows], t)[np.arange(rows.size), cols]  # once more on the side of the change
        left = (fa > 0.0) != (ft > 0.0)
        a2, b2 = np.where(left, a, t), np.where(left, t, b)
        fa2, fb2 = np.where(left, fa, ft), np.where(left, ft, fb)
        with np.errstate(invalid="ignore", divide="ignore"):
            t2 = np.where(fa2 != fb2, a2 + (b2 - a2) * fa2 / (fa2 - fb2), t)
        cuts[rows, cols] = np.clip(t2, a, b)
    bounds = np.concatenate([lo[:, None], np.sort(cuts, axis=1), hi[:, None]], axis=1)
    bounds = np.where(np.isnan(bounds), hi[:, None], bounds)   # sort put the NaNs (no cut) last
    a, b = bounds[:, :-1], bounds[:, 1:]
    keep = b > a
    return a[keep], b[keep], np.broadcast_to(owner[:, None], a.shape)[keep]


def sky_switch(up, sun=None, moon=None):
    """The ``switch`` of :func:`window_nodes` for windows seen from stations whose up unit
    vectors are ``up`` (one row per window), or None without ``sun`` and ``moon``: the sine
    of the Moon's elevation (its light is added only above the horizon: a jump in the sky
    background), and the sine of the Sun's elevation less that of each elevation where the
    Sun's term changes its law: the horizon (also daylight, for ``daylight_s``), the corners
    of ``TWILIGHT_DECLINE`` and ``-SUN_NEGLIGIBLE_BELOW_DEG`` (where the term starts)."""
    if sun is None and moon is None:
        return None
    up = np.asarray(up, dtype=float).reshape(-1, 3)
    corners = sorted({0.0, *(e for e, _ in TWILIGHT_DECLINE), -SUN_NEGLIGIBLE_BELOW_DEG}, reverse=True)
    offsets = np.sin(np.radians(corners))

    def switch(owner, t_s):
        if not np.size(t_s):
            return np.zeros((0, (moon is not None) + (sun is not None) * offsets.size))
        sun_unit, moon_unit = sun_and_moon(t_s, sun, moon)
        u = up[owner]
        columns = []
        if moon_unit is not None:
            columns.append(np.einsum("ij,ij->i", moon_unit, u))
        if sun_unit is not None:
            sine = np.einsum("ij,ij->i", sun_unit, u)
            columns += [sine - offset for offset in offsets]
        return np.stack(columns, axis=1)

    return switch


def near_bright(line, up, sun_unit, moon_unit, near_deg: float = NEAR_BRIGHT_DEG) -> np.ndarray:
    """Samples whose line of sight is within ``near_deg`` of the Moon above the horizon or of
    the Sun above ``-SUN_NEGLIGIBLE_BELOW_DEG``: their scattered light peaks there (and the
    sky model's scattering angle is clipped at 5 deg), faster than 60-s segments follow."""
    cos_near = np.cos(np.radians(near_deg))
    moon_on = np.einsum("ij,ij->i", moon_unit, up) > 0.0
    sun_on = np.einsum("ij,ij->i", sun_unit, up) > -np.sin(np.radians(SUN_NEGLIGIBLE_BELOW_DEG))
    return (moon_on & (np.einsum("ij,ij->i", line, moon_unit) > cos_near)) \
        | (sun_on & (np.einsum("ij,ij->i", line, sun_unit) > cos_near))


def window_samples(propagator, table, rows, stations, sun=None, moon=None, slot_s=None):
    """Where the key of windows ``rows`` of ``table`` is integrated, with the geometry there:
    ``(owner, t_s, weight_s, r_km, valid, geometry)`` (:func:`track_positions`,
    :class:`SlotGeometry`), window by window.

    With ``slot_s`` None: :func:`window_nodes` (with the sky's switches); a piece with a node
    within ``NEAR_BRIGHT_DEG`` of the Moon or the Sun (:func:`near_bright`) is integrated again
    on parts over which the line of sight moves at most ``FINE_ANGLE_DEG`` against them; and
    one more sample, with zero weight, at the culmination (within the window), so that
    ``min_loss_db`` is the loss at the pass's best point. With ``slot_s``:
    :func:`window_slots`. Each window's samples depend on that window alone."""
    start, end = table.window_start_s[rows], table.window_end_s[rows]
    node_s = min(TRACK_NODE_S, default_step_s(propagator.satrecs))
    satellite, station = table.satellite[rows], table.station[rows]

    def at(owner, t_s):
        r_km, valid = track_positions(propagator, satellite, start, end, owner, t_s, node_s)
        return r_km, valid, slot_geometry(stations, station[owner], r_km, *sun_and_moon(t_s, sun, moon))

    if slot_s is not None:
        owner, t_s, weight_s = window_slots(start, end, slot_s)
        return (owner, t_s, weight_s, *at(owner, t_s))
    up = np.array([s.enu[2] for s in stations]).reshape(-1, 3)[station]
    piece_owner, lo, hi = window_pieces(start, end, sky_switch(up, sun, moon))
    owner, t_s, weight_s, piece = gauss_nodes(piece_owner, lo, hi)
    probe = np.arange(len(rows))
    owner, t_s = np.concatenate([owner, probe]), np.concatenate([t_s, np.clip(table.culmination_s[rows], start, end)])
    weight_s, piece = np.concatenate([weight_s, np.zeros(probe.size)]), np.concatenate([piece, np.full(probe.size, -1)])
    r_km, valid, g = at(owner, t_s)
    near = near_bright(g.line, g.up, g.sun, g.moon) & (piece >= 0)
    if near.any():
        rough = np.unique(piece[near])
        parts = _parts_near_bright(g, rough, hi[rough] - lo[rough])
        o2, t2, w2, _ = gauss_nodes(*_cut(piece_owner[rough], lo[rough], hi[rough], parts))
        r2, v2, g2 = at(o2, t2)
        keep = ~np.isin(piece, rough)
        owner, t_s, weight_s = (np.concatenate([x[keep], y]) for x, y in ((owner, o2), (t_s, t2), (weight_s, w2)))
        r_km, valid = np.concatenate([r_km[keep], r2]), np.concatenate([valid[keep], v2])
        g = SlotGeometry(**{f: np.concatenate([getattr(g, f)[keep], getattr(g2, f)])
                            for f in SlotGeometry.__dataclass_fields__})
    order = np.lexsort((t_s, owner))                          # window by window, in time
    g = SlotGeometry(**{f: getattr(g, f)[order] for f in SlotGeometry.__dataclass_fields__})
    return owner[order], t_s[order], weight_s[order], r_km[order], valid[order], g


def _parts_near_bright(g, pieces, length_s):
    """Parts to cut ``pieces`` (of :func:`gauss_nodes`, whose geometry ``g`` holds their nodes
    first, ``GAUSS_NODES`` each) into, so that the line of sight moves at most
    ``FINE_ANGLE_DEG`` against the Moon and the Sun over a part: the angle it sweeps between
    a piece's first and last node plus the bodies' own motion, over the share of the piece
    those nodes span; at least one part, parts no shorter than 1 s. A LEO piece of 60 s
    (~45 deg) gets ~10 parts; a GEO one, whose line of sight is fixed, ~1."""
    first, last = pieces * GAUSS_NODES, pieces * GAUSS_NODES + GAUSS_NODES - 1
    span = float(np.ptp(_gauss_legendre(GAUSS_NODES)[0])) / 2.0 if GAUSS_NODES > 1 else 1.0

    def angle_deg(vectors):
        cos = np.einsum("ij,ij->i", vectors[first], vectors[last])
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    swept = angle_deg(g.line) + np.maximum(angle_deg(g.moon), angle_deg(g.sun))
    parts = np.ceil(swept / span / FINE_ANGLE_DEG)
    return np.clip(parts, 1, np.maximum(np.floor(length_s), 1)).astype(int)


def samples_per_window(length_s, slot_s=None):
    """About the samples :func:`window_samples` takes on windows of ``length_s`` (with
    ``slot_s`` None: the nodes of one split by the Sun or the Moon, and the culmination)."""
    length_s = np.asarray(length_s, dtype=float)
    if slot_s is not None:
        return np.ceil(length_s / np.maximum(slot_s, length_s / MAX_SLOTS) - 1e-9)
    segments = np.clip(np.ceil(length_s / SEGMENT_S - 1e-9), 1, MAX_SLOTS // GAUSS_NODES)
    return GAUSS_NODES * (segments + 1) + 1


def track_positions(propagator, satellite, start_s, end_s, owner, t_s, node_s: float = TRACK_NODE_S):
    """Earth-fixed positions of window ``owner[k]``'s satellite at ``t_s[k]``, from SGP4 states
    at nodes at most ``node_s`` apart over each window ``[start_s, end_s]`` (both ends included),
    joined by the quintic Hermite polynomials of :class:`~constellation.core.propagation.Track`
    (position, velocity and J2 acceleration at both nodes). Returns ``(r_km (n, 3), valid (n,))``.

    One SGP4 call per node instead of per slot: ~60x fewer for 1-s slots. The positions agree
    with SGP4 at the slots within a metre for LEO (tests/test_key_track.py), ~1e-5 of a dB of
    diffraction loss.
    """
    start_s, end_s = np.asarray(start_s, float), np.asarray(end_s, float)
    length = np.maximum(end_s - start_s, 0.0)
    intervals = np.maximum(np.ceil(length / node_s - 1e-9), 1).astype(int)
    step = np.where(length > 0.0, length / intervals, 1.0)
    first = np.concatenate([[0], np.cumsum(intervals + 1)[:-1]]) if intervals.size else np.zeros(0, int)
    node_owner = np.repeat(np.arange(length.size), intervals + 1)
    k = np.arange(node_owner.size) - first[node_owner]
    node_t = start_s[node_owner] + k * step[node_owner]
    states = propagator.pairwise(np.asarray(satellite)[node_owner], node_t)
    r, v = states.r_km[0], states.v_km_s[0]
    a = rotating_frame_acceleration(r, v)
    good = states.valid[0]
    # One polynomial per node interval (the last node of a window starts none).
    starts = np.flatnonzero(k < intervals[node_owner])
    segments = Segments.between(node_t[starts], node_t[starts + 1], (r[starts].T, v[starts].T, a[starts].T),
                                (r[starts + 1].T, v[starts + 1].T, a[starts + 1].T), good[starts] & good[starts + 1])
    first_segment = first - np.arange(first.size)          # window w's intervals start here
    j = np.clip(np.floor((np.asarray(t_s, float) - start_s[owner]) / step[owner]).astype(int), 0, intervals[owner] - 1)
    r_km, _, valid = segments.at(first_segment[owner] + j, t_s)
    return r_km, valid


def pass_keys(propagator, table, stations, terminal, sun=None, moon=None, slot_s: float | None = None,
              batch_slots: int = BATCH_SLOTS, progress=None, workers: int = 1) -> PassKeys:
    """Loss and key of every pass window.

    Parameters
    ----------
    propagator : Propagator
    table : PassTable
    stations : list of Station
    terminal : callable(satellite_index, station_index) -> Terminal
    sun, moon : SunTrack, MoonTrack, optional
        For the sky background; without them the sky is a moonless night.
    slot_s : float, optional
        None (default): the key integral by quadrature (:func:`window_nodes`); a length:
        by slots of that length (:func:`window_slots`).
    batch_slots : int
        Windows are processed in batches of about this many samples (each window is its own
        finite-key block, so batching changes nothing but memory: ~0.1 GB a batch).
    progress : callable(done, total), optional
        Called with the windows done so far and their total as the work goes on.
    workers : int
        Processes to share the batches between (forked from this one, where the system can
        fork; more than one batch needed). Every window is computed as alone, so the keys
        are the same bit for bit with any number of workers.
    """
    out = {name: np.zeros(len(table)) for name in PassKeys.__dataclass_fields__}
    out["window_s"] = table.window_s.astype(float)
    windows = np.flatnonzero(table.has_window)
    length = np.maximum(table.window_end_s[windows] - table.window_start_s[windows], 0.0)
    samples = samples_per_window(length, slot_s)
    batch = (np.cumsum(samples) - samples) // max(batch_slots, 1)  # non-decreasing
    cuts = np.flatnonzero(np.diff(batch)) + 1
    batches = np.split(windows, cuts) if windows.size else []
    done, total = 0, int(windows.size)
    if progress is not None:
        progress(0, total)
    job = (propagator, table, stations, terminal, sun, moon, slot_s)
    # One batch at a time here, or shared between forked workers (forked_map decides).
    for rows, values in forked_map(_batch_alone, batches, workers, job, ordered=False):
        for name, column in values.items():
            out[name][rows] = column
        done += rows.size
        if progress is not None:
            progress(done, total)
    return PassKeys(**out)


_BATCH_FIELDS = tuple(name for name in PassKeys.__dataclass_fields__ if name != "window_s")  # a batch's results


def _batch_alone(job, rows):
    """``(rows, {field: values})`` of one batch of windows ``rows``, computed as a table of
    its own (the same numbers as within the whole table)."""
    propagator, table, stations, terminal, sun, moon, slot_s = job
    part = table.take(rows)
    out = {name: np.zeros(len(part)) for name in PassKeys.__dataclass_fields__}
    _pass_keys_batch(out, np.arange(len(part)), propagator, part, stations, terminal, sun, moon, slot_s)
    return rows, {name: out[name] for name in _BATCH_FIELDS}


@dataclass
class SlotGeometry:
    """What the link and the sky need of each sample, seen from its station: range, look
    angles, the unit line of sight and the station's up, and the Sun's and Moon's directions
    with the Moon's phase (a moonless night without ``sun``/``moon``). Arrays of ``n`` rows."""

    range_km: np.ndarray
    elevation_deg: np.ndarray
    azimuth_deg: np.ndarray
    line: np.ndarray
    up: np.ndarray
    sun: np.ndarray
    moon: np.ndarray
    phase: np.ndarray


def sun_and_moon(t_s, sun=None, moon=None):
    """Earth-fixed unit vectors to the Sun and the Moon at ``t_s`` (None for a track not
    given); station-independent, so computed once for every station a sample is seen from."""
    t_s = np.asarray(t_s, dtype=float)
    if not t_s.size or (sun is None and moon is None):
        return None, None
    gmst = sun.earth_rotation_rad(t_s) if sun is not None else moon.earth_rotation_rad(t_s)
    return (None if sun is None else sun.unit_ecef(t_s, gmst)), (None if moon is None else moon.unit_ecef(t_s, gmst))


def slot_geometry(stations, index, r_km, sun_unit=None, moon_unit=None) -> SlotGeometry:
    """Geometry of Earth-fixed positions ``r_km`` (n, 3) seen from ``stations[index[k]]``;
    ``sun_unit``/``moon_unit`` from :func:`sun_and_moon` (None: below the station's horizon)."""
    pos = np.array([s.position_km for s in stations]).reshape(-1, 3)
    enu = [s.enu for s in stations]
    east, north, up = (np.array([e[k] for e in enu]).reshape(-1, 3) for k in range(3))
    el, az, rng = geometry.look_angles(r_km, pos[index], east[index], north[index], up[index])
    line = r_km - pos[index]
    line = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
    up = up[index]
    sun_unit = -up if sun_unit is None else sun_unit
    phase = np.full(len(up), 180.0) if moon_unit is None else moon_phase_angle_deg(sun_unit, moon_unit)
    moon_unit = -up if moon_unit is None else moon_unit
    return SlotGeometry(rng, np.degrees(el), np.degrees(az), line, up, sun_unit, moon_unit, phase)


def _pass_keys_batch(out, windows, propagator, table, stations, terminal, sun, moon, slot_s) -> None:
    """Fill ``out`` for the pass rows ``windows`` (all with a window)."""
    owner, mid, width, r_km, valid, g = window_samples(propagator, table, windows, stations, sun, moon, slot_s)
    rows = windows[owner]
    rng, elevation_deg, line, up_slot, sun_unit, moon_unit, phase = \
        g.range_km, g.elevation_deg, g.line, g.up, g.sun, g.moon, g.phase
    daylight = np.einsum("ij,ij->i", sun_unit, up_slot) > 0.0
    pair_terms = {}
    # Pairs of the windows (few), then of the slots by the window they belong to (cheap).
    n_st = max(len(stations), 1)
    codes, window_pair = np.unique(table.satellite[windows] * n_st + table.station[windows], return_inverse=True)
    unique_pairs = np.stack([codes // n_st, codes % n_st], axis=1)
    pair_of_slot = window_pair.ravel()[owner]
    for p, (s_idx, t_idx) in enumerate(unique_pairs):
        pair_terms[p] = terminal(int(s_idx), int(t_idx))
    # Group slots by identical terminals so each group is one batched kernel call.
    groups: dict = {}
    for p, terms in pair_terms.items():
        groups.setdefault(terms, []).append(p)
    for term, members in groups.items():
        in_group = np.isin(pair_of_slot, members)
        loss = link_loss(rng[in_group], elevation_deg[in_group], term.link, term.receiver, term.site).loss_db
        background = background_cps(term, up_slot[in_group], line[in_group], sun_unit[in_group],
                                    moon_unit[in_group], phase[in_group])
        loss = np.where(valid[in_group], loss, np.nan)
        grouped = rows[in_group]  # non-decreasing: slots come window by window
        starts = np.concatenate([[True], grouped[1:] != grouped[:-1]]) if grouped.size else np.zeros(0, bool)
        passes_here, local = grouped[starts], np.cumsum(starts) - 1
        if not passes_here.size:  # the group's windows are all shorter than a slot's rounding: no key
            continue
        counts = np.bincount(local, minlength=passes_here.size)
        column = np.arange(local.size) - np.concatenate([[0], np.cumsum(counts)[:-1]])[local]
        # One row per window, longest first, and the rows in blocks each as wide as its longest
        # window: padding (zero-width slots, which add exact zeros) costs ~nothing instead of
        # half of the work or more when short and long LEO windows share a matrix. The counts
        # are summed over slots one slot at a time (numpy reduces a (rows, slots, 3) array's
        # slot axis in order), so a window's key does not depend on its block's width.
        # Each block's matrices are built on their own, so one long window (hours from GEO)
        # widens its block only, not every row of the batch.
        by_length = np.argsort(-counts, kind="stable")
        row_of = np.empty_like(by_length)
        row_of[by_length] = np.arange(by_length.size)
        block_of_sample = row_of[local] // _KEY_ROWS
        by_block = np.argsort(block_of_sample, kind="stable")
        n_blocks = -(-passes_here.size // _KEY_ROWS)
        block_starts = np.searchsorted(block_of_sample[by_block], np.arange(n_blocks))
        block_ends = np.append(block_starts[1:], local.size)
        group_width = width[in_group]
        for first, lo, hi in zip(range(0, passes_here.size, _KEY_ROWS), block_starts, block_ends):
            last = min(first + _KEY_ROWS, passes_here.size)
            wide = int(counts[by_length[first]])
            samples = by_block[lo:hi]
            r, c = row_of[local[samples]] - first, column[samples]
            loss_m = np.full((last - first, wide), _PAD_LOSS_DB)
            width_m = np.zeros((last - first, wide))
            background_m = np.zeros((last - first, wide))
            loss_m[r, c], width_m[r, c] = loss[samples], group_width[samples]
            background_m[r, c] = background[samples]
            result = key_for_profile(loss_m, width_m, term.qkd, term.receiver, background_m)
            target = passes_here[by_length[first:last]]
            for name in ("sifted_bits", "qber", "asymptotic_key_bits", "finite_key_bits", "key_bits"):
                out[name][target] = np.atleast_1d(getattr(result, name))
        # Failed samples (NaN) are left out; an infinite loss (no light through) stays infinite,
        # and a window without a valid slot has no loss (NaN): key_rows writes both as empty.
        sampled = ~np.isnan(loss)
        weights = np.where(sampled, width[in_group], 0.0)
        total_w = np.bincount(local, weights=weights, minlength=passes_here.size)
        with np.errstate(invalid="ignore"):
            weighted = np.where(weights > 0.0, np.where(sampled, loss, 0.0) * weights, 0.0)
        mean = np.bincount(local, weights=weighted, minlength=passes_here.size)
        out["mean_loss_db"][passes_here] = np.divide(mean, total_w, out=np.full_like(mean, np.nan), where=total_w > 0)
        minimum = np.full(passes_here.size, np.inf)
        np.minimum.at(minimum, local, np.where(sampled, loss, np.inf))
        counted = np.bincount(local, weights=sampled.astype(float), minlength=passes_here.size) > 0
        out["min_loss_db"][passes_here] = np.where(counted, minimum, np.nan)
        out["daylight_s"][passes_here] = np.bincount(local, weights=width[in_group] * daylight[in_group],
                                                     minlength=passes_here.size)
        # The sky of samples with a position only (a failed sample has no line of sight): a
        # window without one has no background (NaN, written empty), as it has no loss.
        seen = np.where(valid[in_group], width[in_group], 0.0)
        bg = np.bincount(local, weights=seen * np.where(valid[in_group], background, 0.0),
                         minlength=passes_here.size)
        all_w = np.bincount(local, weights=seen, minlength=passes_here.size)
        out["mean_background_cps"][passes_here] = np.divide(bg, all_w, out=np.full_like(bg, np.nan), where=all_w > 0)


KEY_COLUMNS = ["satellite", "station", "aos_utc", "window_start_utc", "window_end_utc", "window_s",
               "mean_loss_db", "min_loss_db", "sifted_bits", "qber", "asymptotic_key_bits",
               "finite_key_bits", "daylight_s", "mean_background_cps"]


def key_columns(pass_columns: dict, keys: PassKeys) -> dict[str, list]:
    """Per-pass key columns (name -> list, in ``KEY_COLUMNS`` order) from the pass table's
    output columns (:meth:`~constellation.passes.table.PassTable.columns`). A pass without a
    window has no loss, QBER or background (None), and 0 bits; a loss that is not finite (no
    light through, or no valid sample) is None, never 0 dB. Linear in the passes."""
    window = (np.asarray(keys.window_s, dtype=float) > 0).tolist()

    def value(column, digits):
        numbers = np.asarray(getattr(keys, column), dtype=float)
        keep = (np.asarray(window, dtype=bool) & np.isfinite(numbers)).tolist()
        return [round(x, digits) if ok else None for x, ok in zip(numbers.tolist(), keep)]

    def rounded(column, digits):
        return [round(x, digits) for x in np.asarray(getattr(keys, column), dtype=float).tolist()]

    def integers(column):
        return [int(x) for x in np.asarray(getattr(keys, column)).tolist()]

    return {
        **{c: list(pass_columns[c]) for c in ("satellite", "station", "aos_utc", "window_start_utc",
                                              "window_end_utc")},
        "window_s": rounded("window_s", 3),
        "mean_loss_db": value("mean_loss_db", 3),
        "min_loss_db": value("min_loss_db", 3),
        "sifted_bits": integers("sifted_bits"),
        "qber": value("qber", 6),
        "asymptotic_key_bits": integers("asymptotic_key_bits"),
        "finite_key_bits": integers("finite_key_bits"),
        "daylight_s": rounded("daylight_s", 3),
        "mean_background_cps": value("mean_background_cps", 1),
    }


def key_rows(pass_rows: list[dict], keys: PassKeys) -> list[dict]:
    """Per-pass key rows (one dict per pass, the values of :func:`key_columns`)."""
    names = ("satellite", "station", "aos_utc", "window_start_utc", "window_end_utc")
    columns = key_columns({c: [row[c] for row in pass_rows] for c in names}, keys)
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def key_totals(rows: list[dict]) -> dict:
    """Finite and asymptotic key summed per station and per UTC day of the window start."""
    per_station: dict = {}
    per_day: dict = {}
    for row in rows:
        if not row["window_s"]:
            continue
        day = row["window_start_utc"][:10]
        for bucket in (per_station.setdefault(row["station"], {}), per_day.setdefault(day, {})):
            bucket["finite_key_bits"] = bucket.get("finite_key_bits", 0) + row["finite_key_bits"]
            bucket["asymptotic_key_bits"] = bucket.get("asymptotic_key_bits", 0) + row["asymptotic_key_bits"]
            bucket["windows"] = bucket.get("windows", 0) + 1
    return {"per_station": per_station, "per_day": dict(sorted(per_day.items())),
            "finite_key_bits": sum(r["finite_key_bits"] for r in rows),
            "asymptotic_key_bits": sum(r["asymptotic_key_bits"] for r in rows)}
