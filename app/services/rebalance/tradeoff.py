"""The plans between today and the best balance that break the least.

The best-balance plan answers one question: how low can the largest workload go? A supervisor
also asks what a smaller gain would cost. For each of a few ceilings on the largest workload,
from the best plan's own to today's (and none at all: capacity only), this finds the grid moves
that bring every specialist under the ceiling, keep the capacities the best plan keeps
(``problem.cap``) and the move limit, at the least weighted disruption (what the grids' moved
customers cost: :class:`~app.services.rebalance.disruption.MoveCosts`). Each plan is its own
choice of grids, not a part of the best plan: a grid whose customers have climbed the 4-sell
ladder is swapped for one of newer customers carrying the same load.

The method, per ceiling:
- from below, loosest ceiling first, from today's plan: load pushed off whoever is above the
  ceiling (or their capacity), the cheapest disruption per unit relieved first, through chains
  when the neighbours are full;
- from above, tightest ceiling first, from the best plan (each plan a feasible start for the
  next): a local search that gives a moved grid back to its owner, or gives it back and moves a
  cheaper grid of the same owner instead, while everyone stays under the ceiling and within
  capacity, best saving first, until none is left (it also cleans the pushed plans); the
  cheaper of the two is kept;
- then, when the grids that can matter are at most ``milp_max_free``, a MILP (HiGHS, one
  thread, a node limit) of least disruption over them, started from that plan. On the
  benchmark's branch (2,000 grids) the local search alone gives nearly the same curve, and the
  MILP's root costs about half a second a ceiling, so it is kept for a team's few hundred.
Both stop on work, never on the clock (``deadline`` is a safety net), so the same data gives the
same plans. Pure: no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.problem import out_of_time, plan_ok
from app.services.rebalance.state import EPS, State, loads_of

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem

# Where the ceilings lie: the share of the way from the best plan's largest workload back to
# today's. Closer together near the best balance, where each step costs the most.
CEILINGS = (0.0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7)
# A move of a grid with no customer to disrupt still counts a little: no pointless moves.
MOVE_COST = 1e-3


def least_disruption(
    problem: Problem,
    best: Sequence[int],
    cost: Sequence[float],
    *,
    max_moves: int | None,
    deadline: float,
    nodes: int = 20,
    milp_max_free: int = 250,
    ceilings: Sequence[float] = CEILINGS,
) -> list[list[int]]:
    """Return, per ceiling (a share of the way from ``best``'s largest load back to today's,
    then no ceiling), the assignment of least disruption with nobody above it, within the move
    limit and ``problem.cap``; ``cost`` is each movable grid's disruption. ``best`` must keep
    those rules. Plans that come out the same are returned once."""
    p = problem
    if p.n_grids == 0:
        return []
    top = max(loads_of(p, best), default=0.0)
    today = max(p.load0, default=0.0)
    levels = [top + f * max(0.0, today - top) for f in ceilings] + [math.inf]
    # From below, loosest first: today's plan, load pushed off whoever is above each ceiling.
    pushed: dict[float, list[int]] = {}
    current: list[int] | None = list(p.owner)
    for level in reversed(levels):
        current = _push(p, current, cost, level, max_moves) if current is not None else None
        if current is None:
            break
        pushed[level] = current = _shed(p, current, cost, level)
    # From above, tightest first: the best plan, moves given back; the cheaper of the two.
    plans: list[list[int]] = []
    current = list(best)
    for level in levels:
        if out_of_time(deadline, "trade-off"):
            break
        current = _shed(p, current, cost, level)
        below = pushed.get(level)
        if below is not None and disruption_of(p, below, cost) < disruption_of(p, current, cost):
            current = list(below)
        free = _free(p, current, level, milp_max_free)
        if 0 < len(free) <= milp_max_free and nodes > 0:
            current = _milp(p, current, cost, free, level, max_moves, deadline, nodes)
        if current not in plans:
            plans.append(list(current))
    return plans


def disruption_of(problem: Problem, assign: Sequence[int], cost: Sequence[float]) -> float:
    """Return the weighted disruption of the grids ``assign`` moves."""
    return sum(cost[g] for g, s in enumerate(assign) if s != problem.owner[g])


def _shed(p: Problem, assign: Sequence[int], cost: Sequence[float], level: float) -> list[int]:
    """Return ``assign`` with moves given back, or exchanged for cheaper grids of the same
    owner, while every load stays at most ``level`` (and no higher than it already is, for a
    specialist already above it) and every count within ``p.cap``."""
    st = State(p, assign, None)
    ceiling = [max(level, x) + EPS for x in st.load]

    def fits(s: int, dload: float, dcust: int) -> bool:
        return st.load[s] + dload <= ceiling[s] and st.cust[s] + dcust <= p.cap[s]

    while True:
        best_saving = EPS
        best_change: tuple[tuple[int, int], ...] | None = None
        for g in range(p.n_grids):
            x = st.assign[g]
            o = p.owner[g]
            if x == o:
                continue
            lg, cg = p.gload[g], p.gcust[g]
            # Back to its owner.
            if fits(o, lg, cg) and cost[g] + MOVE_COST > best_saving:
                best_saving, best_change = cost[g] + MOVE_COST, ((g, o),)
            # Back, while a cheaper grid of the owner goes (to the same holder or another).
            for h in sorted(st.owned[o]):
                if h == g or p.owner[h] != o or cost[h] >= cost[g] - best_saving:
                    continue
                lh, ch = p.gload[h], p.gcust[h]
                if not fits(o, lg - lh, cg - ch):
                    continue
                for u in p.eligible[h]:
                    if u == o:
                        continue
                    ok = (
                        fits(x, lh - lg, ch - cg)
                        if u == x
                        else fits(x, -lg, -cg) and fits(u, lh, ch)
                    )
                    if ok:
                        best_saving, best_change = cost[g] - cost[h], ((g, o), (h, u))
                        break
        if best_change is None:
            return st.assign
        for g, t in best_change:
            st.move(g, t)


def _push(
    p: Problem, assign: Sequence[int], cost: Sequence[float], level: float, max_moves: int | None
) -> list[int] | None:
    """Return ``assign`` with load pushed off every specialist above ``level`` or their
    capacity: each time, off the one furthest above, the hand-over costing the least
    disruption per unit relieved (a grid given back to its owner costs nothing), to someone who
    stays under both if anyone can, else to the one it takes least above the ceiling, who then
    passes load on in turn (a chain); a grid handed over here moves no more, so it ends. None
    when that leaves someone above, or breaks the move limit."""
    st = State(p, assign, None)
    limit = math.inf if max_moves is None else max_moves
    held: list[list[int]] = [[] for _ in range(p.n_specs)]
    for g, s in enumerate(st.assign):
        held[s].append(g)
    settled: set[int] = set()
    while True:
        above = [s for s in range(p.n_specs) if st.load[s] > level + EPS or st.cust[s] > p.cap[s]]
        if not above:
            return st.assign if plan_ok(p, st.assign, max_moves) else None
        s = max(above, key=lambda x: (st.load[x] - level, st.cust[x] - p.cap[x], -x))
        excess_load = st.load[s] - level
        excess_cust = st.cust[s] - p.cap[s]
        best_key: tuple[float, float, int, int] | None = None
        best: tuple[int, int] | None = None
        for g in held[s]:
            if g in settled:
                continue
            lg, cg, o = p.gload[g], p.gcust[g], p.owner[g]
            relief = min(lg, excess_load) if excess_load > EPS else min(cg, excess_cust)
            if relief <= 0 or (o == s and st.moved >= limit):
                continue
            price = 0.0 if o != s else cost[g] + MOVE_COST
            for u in p.eligible[g]:
                if u == s or (o != s and u != o):  # a moved grid goes back, not further
                    continue
                over = max(0.0, st.load[u] + lg - level) + max(0, st.cust[u] + cg - p.cap[u])
                key = (over, price / relief, g, u)
                if best_key is None or key < best_key:
                    best_key, best = key, (g, u)
        if best is None:
            return None
        g, u = best
        held[s].remove(g)
        held[u].append(g)
        settled.add(g)
        st.move(g, u)


def _free(p: Problem, assign: Sequence[int], level: float, most: int) -> list[int]:
    """Return the grids whose holder may change in the MILP: all of them when there are at most
    ``most``; otherwise those of specialists above the ceiling today and of everyone the plan
    involves."""
    if p.n_grids <= most:
        return list(range(p.n_grids))
    involved = {s for s, x in enumerate(p.load0) if x > level}
    for g, s in enumerate(assign):
        if s != p.owner[g]:
            involved.update((s, p.owner[g]))
    return [g for g in range(p.n_grids) if p.owner[g] in involved or assign[g] in involved]


def _milp(
    p: Problem,
    assign: list[int],
    cost: Sequence[float],
    free: Sequence[int],
    level: float,
    max_moves: int | None,
    deadline: float,
    nodes: int,
) -> list[int]:
    """Return the plan of least disruption over the ``free`` grids with every load at most
    ``level`` (or what it already is), started from ``assign``; ``assign`` when HiGHS finds
    nothing cheaper."""
    from scipy.sparse import coo_matrix

    from app.services.rebalance.exact import FreeModel
    from app.services.rebalance.highs import binary_model, limit_work, new_highs, run_from

    m = FreeModel.of(p, assign, free, max_moves)
    n = len(m.pairs)
    a = coo_matrix((m.vals, (m.rows, m.cols)), shape=(m.n_rows, n)).tocsc()
    loads = loads_of(p, assign)
    upper = np.array([max(level, x) if math.isfinite(level) else np.inf for x in loads])
    weights = np.array(
        [cost[g] + MOVE_COST if s != p.owner[g] else 0.0 for g, s in m.pairs], dtype=float
    )
    lp = binary_model(
        weights, np.zeros(n), np.ones(n), a, m.row_lower, m.row_upper(upper), binaries=n
    )
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.passModel(lp)
    found = run_from(h, m.start(assign), m.pairs, assign, p, max_moves, step="least disruption")
    if found is None:
        return assign
    if disruption_of(p, found, cost) < disruption_of(p, assign, cost) - EPS and all(
        x <= u + EPS for x, u in zip(loads_of(p, found), upper, strict=True)
    ):
        return found
    return assign
