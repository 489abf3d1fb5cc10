"""Link-aware contact scheduling as a mixed-integer programme (HiGHS through ``scipy.optimize.milp``).

The model, stated once here (:mod:`constellation.network` points to it):

* ``x_j`` in {0, 1}: contact ``j`` is flown (its whole QKD window).
* Resources. A contact holds its station's telescope and its satellite's terminal over
  ``[start, end + retarget_s)``: the next contact of that telescope or terminal may start
  only ``retarget_s`` after it ended. Except between the pieces of one track: a contact
  that another continues (same satellite, same station, starting when this one ends: the
  next 15-minute piece ``q`` of a MEO window) holds them over ``[start, end)``, and its
  re-pointing ``[end, end + retarget_s)`` is a variable ``r_j >= x_j - x_q`` in [0, 1]
  (re-point unless the telescope and terminal go on tracking into ``q``). At every
  interval's start, the intervals holding a resource number at most its capacity
  (telescopes per station, terminals per satellite). For intervals this is exact: the
  largest overlap of intervals occurs at some start, and ``c`` overlapping at most
  everywhere can be assigned to ``c`` telescopes (interval graphs are perfect; taken in
  order of start, a next piece takes the telescope its predecessor frees at that
  instant). Without pieces (no window over ``contacts.MAX_CONTACT_S``, e.g. LEO) there are
  no ``r`` and the programme is the interval programme of earlier releases.
* Relay, as a flow over the span. ``y[l, s] >= 0``: key of satellite ``s`` spent on relay
  channel ``l`` = (A, B). What ``s`` collects at a station bounds what all channels with an
  end there spend of it: ``sum over l at A of y[l, s] <= sum over s's contacts at A of
  key_j x_j``. Channel ``l`` gets ``K_l = sum_s y[l, s]``. This ignores the order of
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
    idx = np.flatnonzero(ok)
    if idx.size < 2:
        return prev
    # Merge the ends and the starts of each (satellite, station), in order of time (an end
    # before a start at the same instant): a start's nearest ends are the last end before it
    # and the first after it in that order.
    n = idx.size
    group = np.unique(np.stack([sat[idx], st[idx]], axis=1), axis=0, return_inverse=True)[1].ravel()
    groups = np.concatenate([group, group])
    times = np.concatenate([end[idx], start[idx]])
    is_end = np.concatenate([np.ones(n, bool), np.zeros(n, bool)])
    order = np.lexsort((~is_end, times, groups))
    position = np.arange(2 * n)
    end_here = is_end[order]
    last_end = np.maximum.accumulate(np.where(end_here, position, -1))
    next_end = np.minimum.accumulate(np.where(end_here, position, 2 * n)[::-1])[::-1]
    queries = np.flatnonzero(~end_here)
    j = order[queries] - n  # the contact (position in idx) whose start this is
    for near in (last_end[queries], next_end[queries]):
        valid = (near >= 0) & (near < 2 * n)
        near = np.clip(near, 0, 2 * n - 1)
        k = order[near]  # the contact (position in idx) whose end it is
        hit = valid & (groups[order[near]] == group[j]) & (k != j) & \
            (np.abs(times[order[near]] - start[idx[j]]) <= CONTIGUOUS_S) & (prev[idx[j]] < 0)
        prev[idx[j[hit]]] = idx[k[hit]]
    return prev


@dataclass(frozen=True)
class MilpProblem:
    """The programme in ``scipy.optimize.milp`` form; variables ``[x (n), r (n_r), y (m), t (0 or 1)]``.

    ``n_binary = n + n_r`` (the columns before ``y``; only ``x`` is integral)."""

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


def _resource_rows(group: np.ndarray, start: np.ndarray, busy_end: np.ndarray, capacity: np.ndarray,
                   maximal: bool = False):
    """Rows ``sum x_j <= cap`` over the contacts holding one resource at each contact's start;
    with ``maximal``, only where the set is not inside the next start's (no interval ends
    before the next start: the maximal cliques, fewer rows for the same feasible set)."""
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
            if maximal and k + 1 < part.size and pe[active].min() > ps[k + 1]:
                continue  # every one still holds it at the next start: that row includes this one
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
    following = np.full(n, -1, np.int64)
    if retarget_s > 0:
        previous = continuations(satellite, station, start_s, end_s)
        following[previous[previous >= 0]] = np.flatnonzero(previous >= 0)
    has_next = np.flatnonzero(following >= 0)
    n_r = has_next.size
    n_binary = n + n_r
    # Busy intervals: x_j [start, end + retarget) or, when a piece follows, [start, end) and
    # r_j [end, end + retarget).
    owner = np.concatenate([np.arange(n), has_next]).astype(np.int64)
    b_end = end_s + retarget_s
    b_end[has_next] = end_s[has_next]
    b_start = np.concatenate([start_s, end_s[has_next]])
    b_end = np.concatenate([b_end, end_s[has_next] + retarget_s])
    maximal = n_r > 0  # with pieces, only the maximal sets (without, the programme is kept as it was)
    rows, caps = _resource_rows(station[owner], b_start, b_end, telescopes, maximal)
    if terminals is not None:
        r2, c2 = _resource_rows(satellite[owner], b_start, b_end, terminals, maximal)
        rows += r2
        caps += c2
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
    for v_, j in enumerate(has_next.tolist()):  # x_j - x_q - r_j <= 0: re-point unless q is flown
        data += [1.0, -1.0, -1.0]
        ri += [r] * 3
        ci += [j, int(following[j]), n + v_]
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
            data += [1.0] * len(ys) + [-float(key_bits[j]) / total for j in js]
            ri += [r] * (len(ys) + len(js))
            ci += [n_binary + v for v in ys] + js
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
        cost[:n] = -TIE_WEIGHT * _CONTACT_WEIGHT * key_bits / total
    else:
        cost[:n] = -key_bits / total
    return MilpProblem(n, y_ch, y_sat, cost, matrix, np.array(ub), np.array(lb), has_t, total,
                       share_scale * total, n_binary)


def contact_values(problem: MilpProblem, v: np.ndarray) -> np.ndarray:
    """Per contact, ``x_j`` of a solution ``v`` (how much of it is flown)."""
    return v[:problem.n_contacts]


def _bounds(problem: MilpProblem, fixed_x=None):
    from scipy.optimize import Bounds

    n, nv = problem.n_contacts, problem.cost.size
    lo, hi = np.zeros(nv), np.full(nv, np.inf)
    hi[:problem.n_binary] = 1.0
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
    x = np.zeros(problem.n_contacts)
    x[np.asarray(chosen, np.int64)] = 1.0
    if not problem.has_t:
        return float(-(problem.cost[:problem.n_contacts] @ x)), np.zeros(0)
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
    integrality[:problem.n_contacts] = 1
    res = milp(problem.cost, constraints=_constraints(problem), bounds=_bounds(problem), integrality=integrality,
               options={"node_limit": int(node_limit), "time_limit": max(float(time_limit_s), 0.01), "disp": False})
    bound = getattr(res, "mip_dual_bound", None)
    bound = None if bound is None or not np.isfinite(bound) else float(-bound)
    if res.x is None:
        return None, None, bound, False
    return float(-res.fun), np.flatnonzero(res.x[:problem.n_contacts] > 0.5), bound, res.status == 0
