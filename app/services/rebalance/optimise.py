"""The rebalancing optimiser: which grids (and, for a grid too heavy on its own, which customers)
to hand to another specialist so that nobody is above capacity and then the largest workload is
as small as possible.

Pure: plain items in, plain moves out, no database; the benchmark calls it directly.

The model. Every specialist in scope carries a fixed load (locked grids, locked customers,
customers outside the grids they own, tasks of customers elsewhere) plus the load of the
unlocked grids they own. A grid may go to an active specialist in scope who owns a grid touching
it, or one owning a grid within ``max_distance_km`` of it (centroid to centroid), always measured
on today's ownership so territories stay together. Capacity comes first
(:mod:`app.services.rebalance.capacity`): the fewest customers above capacity (or, when the
specialists together have too little, above capacity scaled up alike), then the largest
workload; a specialist the first step cannot bring within it gains no customers. At most
``max_moves`` grids end with another owner (a grid given back to its owner frees a move).

The method, per FIELD-NOTES "Geometry and optimisation": the LP relaxation (scipy HiGHS) gives the
lower bound and a fractional plan; its rounding and a quick greedy both seed a local search with
ejection chains (move, swap, chains of two hand-overs) under a falling target, for a fixed
amount of work (:class:`Effort`: steps, MILP nodes, regions), never for a time, so the plan does
not depend on how fast or busy the computer is. See :mod:`app.services.rebalance.search` and
:mod:`app.services.rebalance.construct`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

import numpy as np

from app.services.rebalance.capacity import capacity_limits
from app.services.rebalance.problem import (
    CUSTOMER,
    GRID,
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON_EQUATOR,
    SAFETY_LIMIT_S,
    CustomerItem,
    Effort,
    GridItem,
    Move,
    Problem,
    Proposal,
    SpecialistItem,
    clock_stops,
    distance_km,
)

__all__ = [
    "CUSTOMER",
    "GRID",
    "SAFETY_LIMIT_S",
    "CustomerItem",
    "Effort",
    "GridItem",
    "Move",
    "Problem",
    "Proposal",
    "SpecialistItem",
    "build_problem",
    "distance_km",
    "lp_bound",
    "propose",
]


def build_problem(
    grids: Sequence[GridItem],
    specialists: Sequence[SpecialistItem],
    *,
    scope_team_ids: Collection[int] | None = None,
    max_distance_km: float | None = None,
) -> Problem:
    """Return the indexed problem: who is in scope, which grids may move, and to whom, and
    the most customers each should end with (:func:`~.capacity.capacity_limits`)."""
    specs = [s for s in specialists if scope_team_ids is None or s.team_id in set(scope_team_ids)]
    spec_index = {s.id: i for i, s in enumerate(specs)}
    by_id = {g.id: g for g in grids}
    # Who owns grids next to each grid, and (for the distance rule) where each one's grids lie.
    candidates: list[tuple[GridItem, list[int]]] = []
    near = _near_owners(grids, spec_index, max_distance_km) if max_distance_km else {}
    for g in grids:
        if g.locked or g.owner_id not in spec_index:
            continue
        own = spec_index[g.owner_id]
        elig = [own]
        for h in g.neighbours:
            other = by_id.get(h)
            if other is not None and other.owner_id in spec_index:
                i = spec_index[other.owner_id]
                if i not in elig:
                    elig.append(i)
        for i in near.get(g.id, ()):
            if i not in elig:
                elig.append(i)
        candidates.append((g, elig))
    base = [s.load for s in specs]
    base_cust = [s.customers for s in specs]
    limit = capacity_limits(sum(s.customers for s in specs), [s.capacity for s in specs])
    grid_ids: list[int] = []
    owner: list[int] = []
    gload: list[float] = []
    gcust: list[int] = []
    eligible: list[list[int]] = []
    for g, elig in candidates:
        own = elig[0]
        base[own] -= g.load
        base_cust[own] -= g.customers
        if len(elig) == 1:  # nowhere to go: its load stays with the owner
            base[own] += g.load
            base_cust[own] += g.customers
            continue
        grid_ids.append(g.id)
        owner.append(own)
        gload.append(float(g.load))
        gcust.append(int(g.customers))
        eligible.append(elig)
    return Problem(
        spec_ids=[s.id for s in specs],
        grid_ids=grid_ids,
        owner=owner,
        gload=gload,
        gcust=gcust,
        eligible=eligible,
        base=base,
        base_cust=base_cust,
        cap=[max(k, s.customers) for k, s in zip(limit, specs, strict=True)],
        load0=[float(s.load) for s in specs],
        grid_index={gid: k for k, gid in enumerate(grid_ids)},
        spec_index=spec_index,
        limit=limit,
    )


def _near_owners(
    grids: Sequence[GridItem], spec_index: dict[int, int], max_distance_km: float
) -> dict[int, list[int]]:
    """Return, per grid id, the specialists owning a grid whose centroid is within reach."""
    from scipy.spatial import cKDTree

    owned = [g for g in grids if g.owner_id in spec_index]
    if not owned:
        return {}
    lat0 = math.radians(sum(g.centroid[1] for g in owned) / len(owned))
    xy = np.array(
        [
            (
                g.centroid[0] * KM_PER_DEG_LON_EQUATOR * math.cos(lat0),
                g.centroid[1] * KM_PER_DEG_LAT,
            )
            for g in owned
        ]
    )
    tree = cKDTree(xy)
    result: dict[int, list[int]] = {}
    for g, hits in zip(owned, tree.query_ball_point(xy, r=max_distance_km), strict=True):
        result[g.id] = sorted({spec_index[owned[j].owner_id] for j in hits})  # type: ignore[index]
    return result


def lp_bound(problem: Problem, *, max_moves: int | None) -> tuple[float, np.ndarray | None, list]:
    """Return the LP-relaxation lower bound on the largest load, the fractional solution and the
    (grid, specialist) pair of each of its variables."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    p = problem
    floor = max(p.base) if p.base else 0.0
    if p.n_grids == 0:
        return floor, None, []
    pairs = [(g, s) for g in range(p.n_grids) for s in p.eligible[g]]
    n = len(pairs)
    t_col = n
    rows_eq, cols_eq = [], []
    rows_ub, cols_ub, vals_ub = [], [], []
    move_row = 2 * p.n_specs
    for j, (g, s) in enumerate(pairs):
        rows_eq.append(g)
        cols_eq.append(j)
        rows_ub += [s, p.n_specs + s]
        cols_ub += [j, j]
        vals_ub += [p.gload[g], float(p.gcust[g])]
        if max_moves is not None and s != p.owner[g]:
            rows_ub.append(move_row)
            cols_ub.append(j)
            vals_ub.append(1.0)
    for s in range(p.n_specs):
        rows_ub.append(s)
        cols_ub.append(t_col)
        vals_ub.append(-1.0)
    n_ub = 2 * p.n_specs + (1 if max_moves is not None else 0)
    a_ub = coo_matrix((vals_ub, (rows_ub, cols_ub)), shape=(n_ub, n + 1)).tocsr()
    b_ub = [-b for b in p.base] + [float(c - b) for c, b in zip(p.cap, p.base_cust, strict=True)]
    if max_moves is not None:
        b_ub.append(float(max_moves))
    a_eq = coo_matrix(([1.0] * n, (rows_eq, cols_eq)), shape=(p.n_grids, n + 1)).tocsr()
    c = np.zeros(n + 1)
    c[t_col] = 1.0
    bounds = [(0.0, 1.0)] * n + [(floor, None)]
    res = linprog(
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(p.n_grids), bounds=bounds, method="highs"
    )
    if res.status != 0:  # infeasible only if capacities are already broken: no useful bound
        return floor, None, pairs
    return float(res.x[t_col]), res.x[:n], pairs


def propose(
    grids: Sequence[GridItem],
    specialists: Sequence[SpecialistItem],
    *,
    max_moves: int | None = None,
    scope_team_ids: Collection[int] | None = None,
    max_distance_km: float | None = None,
    allow_customer_moves: bool = True,
    time_limit_s: float = SAFETY_LIMIT_S,
    effort: Effort = Effort(),  # noqa: B008 - frozen
    seed: int = 0,
    grid_costs: Mapping[int, float] | None = None,
) -> Proposal:
    """Return the proposed moves that bring the largest workload down the most, within the rules
    and at most ``max_moves`` moves (grids and customers together; None: no limit).

    With ``grid_costs`` (grid id -> the disruption of moving it), the proposal also holds the
    plans of least disruption under ceilings between that plan's largest workload and today's
    (``Proposal.alternatives``: :mod:`app.services.rebalance.tradeoff`).

    The search is limited by ``effort`` (work, not time): the same items and settings give the
    same moves. ``time_limit_s`` is only a safety net, far above what ``effort`` needs; a step
    it stopped is named in the proposal's ``clock_stops``. A solver step that failed is named
    in its ``solver_failures``."""
    from app.services.rebalance.highs import failures

    with failures() as failed, clock_stops() as stopped:
        proposal = _propose(
            grids,
            specialists,
            max_moves=max_moves,
            scope_team_ids=scope_team_ids,
            max_distance_km=max_distance_km,
            allow_customer_moves=allow_customer_moves,
            time_limit_s=time_limit_s,
            effort=effort,
            seed=seed,
            grid_costs=grid_costs,
        )
    return replace(proposal, solver_failures=tuple(failed), clock_stops=tuple(stopped))


def _propose(
    grids: Sequence[GridItem],
    specialists: Sequence[SpecialistItem],
    *,
    max_moves: int | None,
    scope_team_ids: Collection[int] | None,
    max_distance_km: float | None,
    allow_customer_moves: bool,
    time_limit_s: float,
    effort: Effort,
    seed: int,
    grid_costs: Mapping[int, float] | None,
) -> Proposal:
    from app.services.rebalance.capacity import fit_capacity
    from app.services.rebalance.construct import split_heavy_grids
    from app.services.rebalance.search import solve
    from app.services.rebalance.state import loads_of

    started = time.perf_counter()
    deadline = started + max(0.05, time_limit_s)
    stats: dict[str, float] = {}
    problem = build_problem(
        grids, specialists, scope_team_ids=scope_team_ids, max_distance_km=max_distance_km
    )
    before = dict(zip(problem.spec_ids, problem.load0, strict=True))
    before_max = max(problem.load0, default=0.0)
    # Capacity first: the balancing search starts from a plan with the fewest customers above
    # capacity and keeps it so (problem.cap).
    start = fit_capacity(
        problem, max_moves=max_moves, deadline=deadline, nodes=effort.capacity_nodes
    )
    bound, fractional, pairs = lp_bound(problem, max_moves=max_moves)
    assign = solve(
        problem,
        start=start,
        max_moves=max_moves,
        lower_bound=bound,
        fractional=fractional,
        pairs=pairs,
        deadline=deadline,
        effort=effort,
        seed=seed,
        stats=stats,
    )
    loads = loads_of(problem, assign)
    moves = _grid_moves(problem, assign)
    alternatives: tuple[tuple[Move, ...], ...] = ()
    if grid_costs is not None:
        from app.services.rebalance.tradeoff import least_disruption

        cost = [float(grid_costs.get(g, 0.0)) for g in problem.grid_ids]
        plans = least_disruption(
            problem,
            assign,
            cost,
            max_moves=max_moves,
            deadline=deadline,
            nodes=effort.tradeoff_nodes,
        )
        alternatives = tuple(tuple(_grid_moves(problem, a)) for a in plans)
    if allow_customer_moves:
        budget = None if max_moves is None else max_moves - len(moves)
        moves += split_heavy_grids(
            problem,
            grids,
            assign,
            loads,
            target=bound,
            budget=budget,
        )
    after = dict(zip(problem.spec_ids, loads, strict=True))
    return Proposal(
        moves=tuple(moves),
        before=before,
        after=after,
        before_max=before_max,
        after_max=max(loads, default=0.0),
        lower_bound=min(bound, before_max),
        seconds=time.perf_counter() - started,
        stats=stats,
        alternatives=alternatives,
    )


def _grid_moves(problem: Problem, assign: Sequence[int]) -> list[Move]:
    """Return the grid moves of an assignment of the movable grids."""
    return [
        Move(
            kind=GRID,
            grid_id=problem.grid_ids[k],
            from_id=problem.spec_ids[problem.owner[k]],
            to_id=problem.spec_ids[s],
            load=problem.gload[k],
            customers=problem.gcust[k],
        )
        for k, s in enumerate(assign)
        if s != problem.owner[k]
    ]
