"""Link-aware contact scheduling as a mixed-integer programme (HiGHS through ``scipy.optimize.milp``).

The model, stated once here (:mod:`constellation.network` points to it):

* ``x_j`` in {0, 1}: contact ``j`` is flown (its whole QKD window) after re-pointing.
  ``c_j`` in {0, 1} (only with ``retarget_s > 0``, for a contact that continues another:
  same satellite, same station, starting when that one ends, e.g. the next 15-minute piece
  of a MEO window): contact ``j`` is flown as the continuation of its predecessor ``p``,
  which must be flown (``c_j <= x_p + c_p``); ``x_j + c_j <= 1``. Contact ``j`` is flown
  when ``x_j + c_j = 1``.
* Resources. A re-pointed contact holds its station's telescope and its satellite's terminal
  over ``[start - retarget_s, end)`` (the telescope and terminal turn to it for
  ``retarget_s`` before its window: the same gap between contacts as a busy time after
  each, but a continuation needs none); a continuation holds them over ``[start, end)``, the
  same telescope and terminal that flew its predecessor. At every interval's start, the
  intervals holding a resource number at most its capacity (telescopes per station,
  terminals per satellite). For intervals this is exact: the largest overlap of intervals
  occurs at some start, and ``c`` overlapping at most everywhere can be assigned to ``c``
  telescopes (interval graphs are perfect; taken in order of start, a continuation takes
  the telescope its predecessor frees at that instant).
* Relay, as a flow over the span. ``y[l, s] >= 0``: key of satellite ``s`` spent on relay
  channel ``l`` = (A, B). What ``s`` collects at a station bounds what all channels with an
  end there spend of it: ``sum over l at A of y[l, s] <= sum over s's contacts at A of
  key_j (x_j + c_j)``. Channel ``l`` gets ``K_l = sum_s y[l, s]``. This ignores the order of
  contacts (the chronological relay of :mod:`constellation.network.relay` spends key only
  after both ends have it, so it delivers at most this; the plan reports what the relay
  really delivered).
* Objective, lexicographic by weights: first the smallest share of demand met,
  ``t <= K_l / w_l`` for every channel (normalised by an upper bound so that ``t`` lies in
  [0, 1]); then, with weight ``TIE_WEIGHT``, the key relayed over all channels and a
  thousandth of the contacts' total key (so stations that serve no link still get key),
  both normalised by the contacts' total key. Without channels the objective is the
  contacts' total key.

Anchor: Polnik et al. 2020 (EPJ Quantum Technology 7:3) schedule QKD ground stations by MILP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TIE_WEIGHT", "MilpProblem", "build_problem", "continuations", "contact_values", "evaluate", "flow",
           "solve_lp", "solve_milp"]

TIE_WEIGHT = 1e-3  # weight of the total relayed key behind the smallest share of demand
_CONTACT_WEIGHT = 1e-3  # weight of the contacts' own key behind the relayed key


# Two contacts of one satellite at one station are one track when the second starts within
# this of the first's end (the pieces of a window cut by contacts.MAX_CONTACT_S).
CONTIGUOUS_S = 1e-6


def continuations(satellite, station, start_s, end_s, usable=None) -> np.ndarray:
    """Per contact, the index of the (usable) contact it continues, -1 for none: same satellite,
    same station, starting within ``CONTIGUOUS_S`` of that one's end (the next piece of a window
    cut into pieces). Such a contact needs no re-pointing after its predecessor."""
    sat = np.asarray(satellite, np.int64)
    st = np.asarray(station, np.int64)
    start = np.asarray(start_s, float)
    end = np.asarray(end_s, float)
    ok = np.ones(sat.size, bool) if usable is None else np.asarray(usable, bool)
    prev = np.full(sat.size, -1, np.int64)
    ends: dict = {}
    for j in np.flatnonzero(ok).tolist():
        ends.setdefault((int(sat[j]), int(st[j])), []).append(j)
    for (a, b), members in ends.items():
        members = np.array(members, np.int64)
        members = members[np.argsort(end[members], kind="stable")]
        e = end[members]
        for j in members.tolist():
            k = int(np.searchsorted(e, start[j] - CONTIGUOUS_S, side="left"))
            while k < e.size and e[k] <= start[j] + CONTIGUOUS_S:
                if members[k] != j:
                    prev[j] = members[k]
                    break
                k += 1
    return prev


@dataclass(frozen=True)
class MilpProblem:
    """The programme in ``scipy.optimize.milp`` form; variables ``[x (n), c (k), y (m), t (0 or 1)]``.

    ``n_binary = n + k``; ``binary_contact`` (n_binary,) the contact of each binary variable,
    ``previous`` (n,) the contact each continues (-1: none) and ``continuation`` (n,) the
    column of its ``c`` variable (-1: none)."""

    n_contacts: int
    y_channel: np.ndarray  # (m,) channel of each y variable
    y_satellite: np.ndarray  # (m,) satellite of each y variable
    cost: np.ndarray  # minimise cost @ v
    matrix: object  # scipy.sparse csr, rows of A v <= ub
    upper: np.ndarray
    lower: np.ndarray
    has_t: bool
    total_key_bits: float
    share_scale: float  # t * share_scale = smallest K_l / w_l
    n_binary: int = -1
    binary_contact: np.ndarray | None = None
    previous: np.ndarray | None = None
    continuation: np.ndarray | None = None


def _resource_rows(group: np.ndarray, start: np.ndarray, busy_end: np.ndarray, capacity: np.ndarray):
    """Rows ``sum x_j <= cap`` over the contacts holding one resource at each contact's start."""
    rows, caps = [], []
    order = np.lexsort((start, group))
    g, s, e = group[order], start[order], busy_end[order]
    bounds = np.flatnonzero(np.diff(g)) + 1
    for part in np.split(np.arange(order.size), bounds):
        if part.size < 2:
            continue
        cap = int(capacity[g[part[0]]])
        ps, pe, idx = s[part], e[part], order[part]
        longest = float((pe - ps).max())
        first = np.searchsorted(ps, ps - longest, side="left")
        last_prev: frozenset | None = None
        for k in range(part.size):
            lo = first[k]
            # contacts that started at or before this start and still hold the resource
            cand = np.arange(lo, np.searchsorted(ps, ps[k], side="right"))
            active = cand[pe[cand] > ps[k]]
            if active.size <= cap:
                continue
            key = frozenset(active.tolist())
            if key == last_prev:
                continue
            last_prev = key
            rows.append(idx[active])
            caps.append(cap)
    return rows, caps


def build_problem(satellite, station, start_s, end_s, key_bits, telescopes, terminals, *,
                  retarget_s: float = 0.0, channel_pairs=None, channel_weights=None) -> MilpProblem:
    """The scheduling programme of the contacts (all usable: key > 0, capacity >= 1)."""
    from scipy import sparse

    n = int(start_s.size)
    previous = continuations(satellite, station, start_s, end_s) if retarget_s > 0 else np.full(n, -1, np.int64)
    has_prev = np.flatnonzero(previous >= 0)
    k_c = has_prev.size
    n_binary = n + k_c
    continuation = np.full(n, -1, np.int64)
    continuation[has_prev] = n + np.arange(k_c)
    binary_contact = np.concatenate([np.arange(n), has_prev]).astype(np.int64)
    # Each binary variable's busy interval: re-pointed [start - retarget, end), continuation [start, end).
    b_start = np.concatenate([start_s - retarget_s, start_s[has_prev]])
    b_end = np.concatenate([end_s, end_s[has_prev]])
    rows, caps = _resource_rows(station[binary_contact], b_start, b_end, telescopes)
    if terminals is not None:
        r2, c2 = _resource_rows(satellite[binary_contact], b_start, b_end, terminals)
        rows += r2
        caps += c2
    for j, col in zip(has_prev.tolist(), continuation[has_prev].tolist()):
        rows.append(np.array([j, col]))  # x_j + c_j <= 1
        caps.append(1)
    total = float(key_bits.sum()) or 1.0
    pairs = np.zeros((0, 2), np.int64) if channel_pairs is None else np.asarray(channel_pairs, np.int64).reshape(-1, 2)
    weights = np.ones(len(pairs)) if channel_weights is None else np.asarray(channel_weights, float)
    # y variables: (channel, satellite) where the satellite has contacts at both ends.
    y_ch, y_sat = [], []
    sat_at = {}
    for j in range(n):
        sat_at.setdefault(int(station[j]), set()).add(int(satellite[j]))
    for c, (a, b) in enumerate(pairs.tolist()):
        for s_ in sorted(sat_at.get(a, set()) & sat_at.get(b, set())):
            y_ch.append(c)
            y_sat.append(s_)
    y_ch = np.array(y_ch, np.int64)
    y_sat = np.array(y_sat, np.int64)
    m = y_ch.size
    has_t = len(pairs) > 0
    nv = n_binary + m + (1 if has_t else 0)
    data, ri, ci, ub, lb = [], [], [], [], []
    r = 0
    for members, cap in zip(rows, caps):
        data += [1.0] * members.size
        ri += [r] * members.size
        ci += members.tolist()
        ub.append(float(cap))
        lb.append(-np.inf)
        r += 1
    for j in has_prev.tolist():  # c_j <= x_p + c_p: a continuation only after its predecessor
        p_ = int(previous[j])
        cols = [int(continuation[j]), p_] + ([int(continuation[p_])] if continuation[p_] >= 0 else [])
        data += [1.0] + [-1.0] * (len(cols) - 1)
        ri += [r] * len(cols)
        ci += cols
        ub.append(0.0)
        lb.append(-np.inf)
        r += 1
    share_scale = 1.0
    if has_t:
        # Pool rows: for each (satellite, station) with y's, spent <= collected.
        key_at = {}
        for j in range(n):
            key_at.setdefault((int(satellite[j]), int(station[j])), []).append(j)
        pool_y: dict = {}
        for v, (c, s_) in enumerate(zip(y_ch.tolist(), y_sat.tolist())):
            a, b = pairs[c]
            pool_y.setdefault((s_, int(a)), []).append(v)
            pool_y.setdefault((s_, int(b)), []).append(v)
        for (s_, st), ys in pool_y.items():
            js = key_at[(s_, st)]
            js_c = [j for j in js if continuation[j] >= 0]
            data += [1.0] * len(ys) + [-float(key_bits[j]) / total for j in js + js_c]
            ri += [r] * (len(ys) + len(js) + len(js_c))
            ci += [n_binary + v for v in ys] + js + [int(continuation[j]) for j in js_c]
            ub.append(0.0)
            lb.append(-np.inf)
            r += 1
        # Share rows: t * scale * w_l <= K_l, with y in units of the total key.
        station_key = np.bincount(station, weights=key_bits, minlength=int(pairs.max()) + 1)
        bound = [min(station_key[a], station_key[b]) / total / weights[c] for c, (a, b) in enumerate(pairs.tolist())]
        share_scale = max(min(bound), 1e-300)
        for c in range(len(pairs)):
            ys = np.flatnonzero(y_ch == c)
            data += [share_scale * weights[c]] + [-1.0] * ys.size
            ri += [r] * (1 + ys.size)
            ci += [n_binary + m] + (n_binary + ys).tolist()
            ub.append(0.0)
            lb.append(-np.inf)
            r += 1
    matrix = sparse.csr_array((data, (ri, ci)), shape=(r, nv)) if r else sparse.csr_array((0, nv))
    cost = np.zeros(nv)
    if has_t:
        cost[n_binary + m] = -1.0
        cost[n_binary:n_binary + m] = -TIE_WEIGHT
        cost[:n_binary] = -TIE_WEIGHT * _CONTACT_WEIGHT * key_bits[binary_contact] / total
    else:
        cost[:n_binary] = -key_bits[binary_contact] / total
    return MilpProblem(n, y_ch, y_sat, cost, matrix, np.array(ub), np.array(lb), has_t, total,
                       share_scale * total, n_binary, binary_contact, previous, continuation)


def _binaries(problem: MilpProblem, chosen) -> np.ndarray:
    """The binary variables of flying the contacts ``chosen``: a contact whose predecessor is
    flown too is its continuation, any other is re-pointed."""
    flown = np.zeros(problem.n_contacts, bool)
    flown[np.asarray(chosen, np.int64)] = True
    v = np.zeros(problem.n_binary)
    prev = problem.previous
    cont = flown & (prev >= 0) & flown[np.maximum(prev, 0)]
    v[np.flatnonzero(flown & ~cont)] = 1.0
    v[problem.continuation[cont]] = 1.0
    return v


def contact_values(problem: MilpProblem, v: np.ndarray) -> np.ndarray:
    """Per contact, ``x_j + c_j`` of a solution ``v`` (how much of it is flown)."""
    out = np.zeros(problem.n_contacts)
    np.add.at(out, problem.binary_contact, v[:problem.n_binary])
    return out


def _chosen(problem: MilpProblem, v: np.ndarray) -> np.ndarray:
    return np.unique(problem.binary_contact[v[:problem.n_binary] > 0.5])


def _bounds(problem: MilpProblem, fixed_x=None):
    from scipy.optimize import Bounds

    n, nv = problem.n_binary, problem.cost.size
    lo, hi = np.zeros(nv), np.full(nv, np.inf)
    hi[:n] = 1.0
    if problem.has_t:
        hi[-1] = 1.0
    if fixed_x is not None:
        lo[:n] = hi[:n] = fixed_x
    return Bounds(lo, hi)


def _constraints(problem: MilpProblem):
    from scipy.optimize import LinearConstraint

    return [LinearConstraint(problem.matrix, problem.lower, problem.upper)] if problem.matrix.shape[0] else []


def solve_lp(problem: MilpProblem, fixed_x=None, max_iterations: int | None = None):
    """The linear relaxation (or, with ``fixed_x``, the binary variables fixed, the best relay of a
    fixed selection):
    ``(objective, v)`` where objective is ``-cost @ v`` (higher is better) and ``v`` all the
    variables; ``(None, None)`` when HiGHS's dual simplex did not finish within
    ``max_iterations`` (a count, not a time: the result does not depend on the machine)."""
    from scipy.optimize import linprog, milp

    if max_iterations is None:
        res = milp(problem.cost, constraints=_constraints(problem), bounds=_bounds(problem, fixed_x))
    else:
        b = _bounds(problem, fixed_x)
        res = linprog(problem.cost, A_ub=problem.matrix if problem.matrix.shape[0] else None,
                      b_ub=problem.upper if problem.matrix.shape[0] else None,
                      bounds=np.stack([b.lb, b.ub], axis=1), method="highs-ds",
                      options={"maxiter": int(max_iterations)})
    if res.x is None or res.status != 0:
        return None, None
    return float(-res.fun), res.x


def flow(problem: MilpProblem, chosen: np.ndarray):
    """``(objective, planned_bits)`` of flying the contacts ``chosen`` (indices): the
    programme's value with the relay at its best, and the key each ``y`` variable carries
    (bits, aligned with ``y_channel`` and ``y_satellite``)."""
    x = _binaries(problem, chosen)
    if not problem.has_t:
        return float(-(problem.cost[:problem.n_binary] @ x)), np.zeros(0)
    value, v = solve_lp(problem, x)
    if v is None:  # cannot happen for a feasible selection (y = 0 is feasible); stated, not assumed
        return 0.0, np.zeros(problem.y_channel.size)
    return value, v[problem.n_binary:problem.n_binary + problem.y_channel.size] * problem.total_key_bits


def evaluate(problem: MilpProblem, chosen: np.ndarray) -> float:
    """The objective of flying the contacts ``chosen`` (indices), their relay at its best."""
    return flow(problem, chosen)[0]


def solve_milp(problem: MilpProblem, node_limit: int, time_limit_s: float):
    """``(objective, chosen, bound, optimal)`` of the programme after at most ``node_limit``
    branch-and-bound nodes (deterministic), or ``time_limit_s`` as a safety cap (the one limit
    that makes the result depend on the machine); chosen None when HiGHS found no solution."""
    from scipy.optimize import milp

    integrality = np.zeros(problem.cost.size)
    integrality[:problem.n_binary] = 1
    res = milp(problem.cost, constraints=_constraints(problem), bounds=_bounds(problem), integrality=integrality,
               options={"node_limit": int(node_limit), "time_limit": max(float(time_limit_s), 0.01), "disp": False})
    bound = getattr(res, "mip_dual_bound", None)
    bound = None if bound is None or not np.isfinite(bound) else float(-bound)
    if res.x is None:
        return None, None, bound, False
    return float(-res.fun), _chosen(problem, res.x), bound, res.status == 0
