"""The tabu search behind the rebalancing optimiser: ejection chains (move, chain, swap,
exchange) under a falling target, with the move limit and capacities priced rather than
enforced inside the search. Pure Python on the indexed
:class:`~app.services.rebalance.optimise.Problem`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.construct import greedy, prune, round_lp
from app.services.rebalance.problem import Effort, out_of_time
from app.services.rebalance.state import EPS, INF_MOVES, State, loads_of, over_capacity

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem


def _pen(x: float, target: float) -> float:
    d = x - target
    return d * d if d > 0 else 0.0


class _Tabu:
    """The tabu search's settings and memory: target, move-limit penalty, forbidden hand-backs."""

    def __init__(self, st: State, max_moves: int | None, scale: float, rng: random.Random):
        self.st = st
        self.limit = INF_MOVES if max_moves is None else max_moves
        self.target = 0.0
        # Price of one move over the limit, in squared load units; adapted as the search runs.
        self.lam0 = (0.01 * scale) ** 2 or 1.0
        self.lam = self.lam0
        # Price of one customer over a capacity, likewise adapted.
        self.kappa0 = self.lam0 / 10
        self.kappa = self.kappa0
        self.forbidden: dict[tuple[int, int], int] = {}
        self.it = 0
        self.rng = rng

    def allowed(self, g: int, t: int) -> bool:
        return self.forbidden.get((g, t), -1) <= self.it

    def over_cost(self, dm: int) -> float:
        moved = self.st.moved
        return self.lam * (max(0, moved + dm - self.limit) - max(0, moved - self.limit))

    def apply(self, handovers: tuple[tuple[int, int], ...]) -> None:
        st = self.st
        for g, t in handovers:
            src = st.assign[g]
            st.move(g, t)
            self.forbidden[(g, src)] = self.it + 7 + self.rng.randrange(10)

    def cap_cost(self, *changes: tuple[int, int]) -> float:
        """Return the price of the capacity excess the (specialist, customer change) pairs
        add (negative when they remove some); a specialist may appear once."""
        cust, cap = self.st.cust, self.st.p.cap
        d = 0
        for s, dc in changes:
            if dc:
                d += over_capacity(cust[s] + dc, cap[s]) - over_capacity(cust[s], cap[s])
        return self.kappa * d

    def best_relief(self, s: int) -> tuple[float, tuple[tuple[int, int], ...] | None]:
        """Return the best (penalty change, hand-overs) taking load off ``s``: a grid to a
        neighbour; a grid to a neighbour who passes one on (to a third, or back: a swap); or
        one of the grids ``s`` gave away taken back while another goes instead. Capacities and
        the move limit are priced, not enforced, so the search can pass through plans that
        break them on its way to better ones."""
        st = self.st
        p = st.p
        T = self.target
        load = st.load
        gload, gcust, owner, elig = p.gload, p.gcust, p.owner, p.eligible
        ok = self.allowed
        cap_cost = self.cap_cost
        ls = load[s]
        pen_s = _pen(ls, T)
        best: tuple[tuple[int, int], ...] | None = None
        best_d = float("inf")
        for g in st.owned[s]:
            lg, cg, og = gload[g], gcust[g], owner[g]
            dm_out = -1 if s != og else 0
            ls1 = ls - lg
            for t in elig[g]:
                if t == s or not ok(g, t):
                    continue
                dm1 = dm_out + (t != og)
                lt = load[t]
                lt1 = lt + lg
                base_d = _pen(ls1, T) - pen_s - _pen(lt, T)
                d = base_d + _pen(lt1, T) + self.over_cost(dm1) + cap_cost((s, -cg), (t, cg))
                if d < best_d:
                    best_d, best = d, ((g, t),)
                if lt1 <= T and cap_cost((t, cg)) <= 0:
                    continue
                for h in st.owned[t]:
                    if h == g:
                        continue
                    lh, oh, ch = gload[h], owner[h], gcust[h]
                    dm_h = dm1 + (-1 if t != oh else 0)
                    lt2 = lt1 - lh
                    for u in elig[h]:
                        if u == t or not ok(h, u):
                            continue
                        if u == s:
                            d = _pen(ls1 + lh, T) - pen_s - _pen(lt, T) + _pen(lt2, T)
                            d += cap_cost((s, ch - cg), (t, cg - ch))
                        else:
                            lu = load[u]
                            d = base_d + _pen(lt2, T) + _pen(lu + lh, T) - _pen(lu, T)
                            d += cap_cost((s, -cg), (t, cg - ch), (u, ch))
                        d += self.over_cost(dm_h + (u != oh))
                        if d < best_d:
                            best_d, best = d, ((g, t), (h, u))
        for a in st.exported[s]:
            if not ok(a, s):
                continue
            t = st.assign[a]
            la, ca = gload[a], gcust[a]
            lt = load[t]
            pen_t = _pen(lt, T)
            for b in st.owned[s]:
                lb, cb, ob = gload[b], gcust[b], owner[b]
                dm_b = -1 + (-1 if s != ob else 0)
                ls2 = _pen(ls + la - lb, T) - pen_s
                for t2 in elig[b]:
                    if t2 == s or not ok(b, t2):
                        continue
                    if t2 == t:
                        d = ls2 + _pen(lt - la + lb, T) - pen_t
                        d += cap_cost((s, ca - cb), (t, cb - ca))
                    else:
                        l2 = load[t2]
                        d = ls2 + _pen(lt - la, T) - pen_t + _pen(l2 + lb, T) - _pen(l2, T)
                        d += cap_cost((s, ca - cb), (t, -ca), (t2, cb))
                    d += self.over_cost(dm_b + (t2 != ob))
                    if d < best_d:
                        best_d, best = d, ((a, s), (b, t2))
        return best_d, best

    def best_step(
        self, specialists: Sequence[int]
    ) -> tuple[float, tuple[tuple[int, int], ...] | None]:
        """Return the best relief of any of the given specialists, or hand-back when over
        the move limit."""
        chosen: tuple[float, tuple[tuple[int, int], ...] | None] = (float("inf"), None)
        for s in specialists:
            found = self.best_relief(s)
            if found[0] < chosen[0]:
                chosen = found
        if self.st.moved > self.limit:
            found = self.best_return()
            if found[0] < chosen[0]:
                chosen = found
        return chosen

    def best_return(self) -> tuple[float, tuple[tuple[int, int], ...] | None]:
        """Return the best single hand-back of a moved grid to its owner (to get under the
        move limit)."""
        st = self.st
        p = st.p
        T = self.target
        load = st.load
        best: tuple[tuple[int, int], ...] | None = None
        best_d = float("inf")
        for o in range(p.n_specs):
            for g in st.exported[o]:
                if not self.allowed(g, o):
                    continue
                x = st.assign[g]
                lg, cg = p.gload[g], p.gcust[g]
                d = (
                    _pen(load[x] - lg, T)
                    - _pen(load[x], T)
                    + _pen(load[o] + lg, T)
                    - _pen(load[o], T)
                    + self.over_cost(-1)
                    + self.cap_cost((x, -cg), (o, cg))
                )
                if d < best_d:
                    best_d, best = d, ((g, o),)
        return best_d, best


def tabu_search(
    problem: Problem,
    start: Sequence[int],
    *,
    max_moves: int | None,
    lower_bound: float,
    deadline: float,
    seed: int,
    incumbent: Sequence[int] | None = None,
    max_steps: int,
    alpha: float = 0.5,
    focus: int = 3,
    patience: int = 3000,
    stats: dict[str, float] | None = None,
) -> list[int]:
    """Return the best assignment within the move limit and capacities found by a tabu search
    from ``start`` (which may break them), or ``incumbent`` (which must not) if nothing better.

    Each step takes the best hand-over (move, chain, swap, exchange) off one of the ``focus``
    most loaded specialists (or off one over capacity), judged by the squared excess over a
    target set ``alpha`` of the way from the lower bound to the best largest load so far. The
    move limit and the capacities are soft inside the search (a price per move over the limit
    and per customer over a capacity, raised while broken and lowered while kept), so the
    search can pass through plans that break them; only plans that keep them are kept.

    It ends after ``max_steps`` steps, or ``patience`` steps without a better plan, or at the
    lower bound; ``deadline`` is only a safety net (the plan must not depend on the clock).
    """
    st = State(problem, start, None)
    search = _Tabu(st, max_moves, max(lower_bound, 1e-9), random.Random(seed))
    limit = search.limit
    best_assign = list(incumbent if incumbent is not None else problem.owner)
    best_max = max(loads_of(problem, best_assign), default=0.0)
    if st.moved <= limit and st.over_cap == 0 and st.max_load() < best_max:
        best_assign, best_max = list(st.assign), st.max_load()
    ref = min(best_max, st.max_load())
    n = problem.n_specs
    since = 0
    while best_max > lower_bound * (1 + 1e-6) + EPS and since < patience:
        if search.it >= max_steps:
            break
        if search.it % 16 == 0 and out_of_time(deadline, "search"):
            break
        search.it += 1
        since += 1
        search.target = lower_bound + alpha * (ref - lower_bound)
        over = [s for s in range(n) if st.load[s] > search.target]
        over.sort(key=st.load.__getitem__, reverse=True)
        candidates = over[:focus]
        if st.over_cap:
            full = sorted(range(n), key=lambda s: problem.cap[s] - st.cust[s])[:2]
            candidates += [s for s in full if st.cust[s] > problem.cap[s] and s not in candidates]
        chosen = search.best_step(candidates)
        if chosen[1] is None:  # all forbidden or none possible: look wider, then forget
            chosen = search.best_step(over)
        if chosen[1] is None and search.forbidden:
            search.forbidden.clear()
            chosen = search.best_step(over)
        if chosen[1] is None:
            break
        search.apply(chosen[1])
        within = st.moved <= limit
        if within and st.over_cap == 0:
            m = st.max_load()
            if m < best_max - EPS:
                best_max, best_assign, ref, since = m, list(st.assign), m, 0
        if within:
            search.lam = max(search.lam * 0.98, search.lam0 * 1e-3)
        else:
            search.lam = min(search.lam * 1.05, search.lam0 * 1e4)
        if st.over_cap:
            search.kappa = min(search.kappa * 1.05, search.kappa0 * 1e4)
        else:
            search.kappa = max(search.kappa * 0.98, search.kappa0 * 1e-3)
    if stats is not None:
        stats["tabu_steps"] = stats.get("tabu_steps", 0) + search.it
    return best_assign


# The MILP polish is used only at move limits up to this, or on problems of at most MILP_SMALL
# grids (see solve).
MILP_MAX_MOVES = 50
MILP_SMALL = 150


def solve(
    problem: Problem,
    *,
    max_moves: int | None,
    lower_bound: float,
    fractional: np.ndarray | None,
    pairs: list,
    deadline: float,
    start: Sequence[int] | None = None,
    effort: Effort = Effort(),  # noqa: B008 - frozen
    seed: int = 0,
    search_share: float = 0.1,
    milp_max_free: int = 500,
    regions_search_share: float = 0.5,
    stats: dict[str, float] | None = None,
) -> list[int]:
    """Return the best assignment of the movable grids found with ``effort``, within the move
    limit and ``problem.cap`` (``start``, today's by default, must keep them): the tabu
    search started from the rounded LP solution (from the greedy's when there is none), or the
    greedy's own if that is better; then, when the moves are few enough, a MILP over the grids
    where they are (:mod:`app.services.rebalance.exact`) started from that plan.

    The MILP is used when the grids it would free (all of them when there are at most
    ``milp_max_free``; otherwise those owned by specialists above the bound or moved by the
    LP) are at most ``milp_max_free``, and the move limit is at most :data:`MILP_MAX_MOVES`
    or the problem has at most :data:`MILP_SMALL` grids: then the tabu search takes only
    ``search_share`` of its steps and HiGHS ``effort.milp_nodes`` nodes. On the benchmark
    (2,000 grids) that is the case at a limit of 50 moves. Otherwise, under a move limit, the
    tabu search takes ``regions_search_share`` of its steps and a large-neighbourhood search
    with exact regions (:mod:`app.services.rebalance.region`) solves ``effort.regions``
    regions; with no limit the tabu search takes all its steps (the regions did not help
    there). Every part stops on its work; ``deadline`` is only a safety net."""
    from app.services.rebalance import exact, region

    if problem.n_grids == 0:
        return []
    start = list(problem.owner if start is None else start)
    if problem.n_grids <= milp_max_free:  # small enough for the whole model
        free = set(range(problem.n_grids))
    else:
        free = exact.free_grids(
            problem, start, lower_bound=lower_bound, fractional=fractional, pairs=pairs
        )
    # The polish pays where moves are scarce or the whole problem small; with many moves on a
    # few hundred grids its root node alone took 7-15 s (the city demo) and the tabu search,
    # left a tenth of its steps, found worse plans than with all of them.
    use_milp = 0 < len(free) <= milp_max_free and (
        max_moves is not None and max_moves <= MILP_MAX_MOVES or problem.n_grids <= MILP_SMALL
    )
    use_regions = not use_milp and max_moves is not None
    steps = effort.tabu_steps
    if use_milp:
        steps = round(search_share * steps)
    elif use_regions:
        steps = round(regions_search_share * steps)
    quick = greedy(problem, max_moves=max_moves, deadline=deadline, start=start)
    first = quick
    if fractional is not None:
        first = round_lp(problem, fractional, pairs, max_moves=max_moves)
    found = tabu_search(
        problem,
        first,
        max_moves=max_moves,
        lower_bound=lower_bound,
        deadline=deadline,
        seed=seed,
        incumbent=quick,
        max_steps=steps,
        patience=effort.patience,
        stats=stats,
    )

    def key(a: Sequence[int]) -> tuple[float, int]:
        moves = problem.moved(a)
        return round(max(loads_of(problem, a), default=0.0), 9), moves

    best = min((found, quick), key=key)
    if use_milp and max(loads_of(problem, best), default=0.0) > lower_bound * (1 + 1e-6) + EPS:
        free |= {g for g, s in enumerate(best) if s != problem.owner[g]}
        best = exact.polish(
            problem,
            best,
            free,
            max_moves=max_moves,
            deadline=deadline,
            lower_bound=lower_bound,
            nodes=effort.milp_nodes,
        )
    elif use_regions:
        best = region.large_neighbourhood_search(
            problem,
            prune(problem, best),
            max_moves=max_moves,
            lower_bound=lower_bound,
            deadline=deadline,
            regions=effort.regions,
            region_nodes=effort.region_nodes,
        )
    return prune(problem, best)
