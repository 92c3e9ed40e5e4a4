"""Large-neighbourhood search with exact sub-problems: the plan is improved one region at a
time, each region (the most loaded specialist above a target, the specialists within reach
around them and the grids they hold) solved as a small MILP with HiGHS (``highspy``) while
everything else stays put.

A region's MILP minimises the load above the target (heavily weighted) and then the number of
moves, so regions give back the moves they do not need and leave them to the others under the
shared move limit (moves outside the region count against it; grids moved elsewhere may go back
to their owners). No load may rise above the plan's largest, so that never rises. Every
solution is checked again with :func:`app.services.rebalance.problem.plan_ok` before it is kept.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.highs import binary_model, limit_work, new_highs, run_from
from app.services.rebalance.problem import out_of_time, plan_ok
from app.services.rebalance.state import EPS, loads_of

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem


def solve_region(
    problem: Problem,
    assign: Sequence[int],
    region: Collection[int],
    *,
    max_moves: int | None,
    deadline: float,
    target: float,
    ceiling: float | None = None,
    excess_weight: float | None = None,
    returns: bool = False,
    nodes: int = 1,
) -> list[int]:
    """Return ``assign`` with the grids held by the ``region``'s specialists redistributed
    among them by a MILP (the other grids stay put), or ``assign`` itself when that does not
    improve it (or HiGHS is not installed or finds nothing within the deadline).

    The MILP minimises the region's load above ``target`` (summed over its specialists, each
    load unit worth ``excess_weight`` moves; default: 1,000 per 1 % of the target) plus its
    moves, with no specialist above ``ceiling`` (default: the region's largest load today), so
    the plan's largest load never rises and a region without excess gives back the moves it
    does not need, for the others under the shared limit. HiGHS stops after ``nodes``
    branch-and-bound nodes; ``deadline`` is only a safety net."""
    from scipy.sparse import coo_matrix

    p = problem
    if out_of_time(deadline, "regions", 0.01):
        return list(assign)
    inside = set(region)
    free = [g for g in range(p.n_grids) if assign[g] in inside]
    pairs = [(g, s) for g in free for s in p.eligible[g] if s in inside]
    if returns:
        # Grids moved elsewhere may go back to their owners, freeing moves for the region.
        extra = [g for g in range(p.n_grids) if assign[g] not in inside and assign[g] != p.owner[g]]
        free += extra
        pairs += [(g, s) for g in extra for s in (assign[g], p.owner[g])]
    specs = sorted({s for _, s in pairs})
    col_of = {s: i for i, s in enumerate(specs)}
    if not free or len(pairs) == len(free):  # nothing can change hands
        return list(assign)
    loads = loads_of(p, assign)
    cust = list(p.base_cust)
    for g, s in enumerate(assign):
        cust[s] += p.gcust[g]
    R = len(specs)
    base = np.array([loads[s] for s in specs], dtype=float)
    base_cust = np.array([cust[s] for s in specs], dtype=float)
    for g in free:
        i = col_of[assign[g]]
        base[i] -= p.gload[g]
        base_cust[i] -= p.gcust[g]
    if ceiling is None:
        ceiling = max(loads[s] for s in specs)
    ceiling = max(ceiling, max(loads[s] for s in specs))
    if excess_weight is None:
        excess_weight = 1e5 / max(target, 1e-9)
    w = excess_weight

    def score(a: Sequence[int]) -> float:
        ls = loads_of(p, a)
        return w * sum(max(0.0, ls[s] - target) for s in specs) + p.moved(a, free)

    row_of = {g: r for r, g in enumerate(free)}
    n = len(pairs)
    # Columns: a binary per (free grid, region specialist), then each specialist's excess.
    # Rows: load minus excess (<= target - base), customers (<= room), one holder per free
    # grid (= 1), moves (<= what the fixed grids leave of the limit).
    move_row = 2 * R + len(free)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    cost = np.zeros(n + R)
    for j, (g, s) in enumerate(pairs):
        i = col_of[s]
        rows += [i, R + i, 2 * R + row_of[g]]
        cols += [j, j, j]
        vals += [p.gload[g], float(p.gcust[g]), 1.0]
        if s != p.owner[g]:
            cost[j] = 1.0
            if max_moves is not None:
                rows.append(move_row)
                cols.append(j)
                vals.append(1.0)
    rows += list(range(R))
    cols += [n + i for i in range(R)]
    vals += [-1.0] * R
    cost[n:] = w
    limited = max_moves is not None
    n_rows = move_row + (1 if limited else 0)
    a = coo_matrix((vals, (rows, cols)), shape=(n_rows, n + R)).tocsc()
    fixed_moves = 0
    if limited:
        fixed_moves = p.moved(assign) - p.moved(assign, free)
    cap = np.array([p.cap[s] for s in specs], dtype=float)
    row_lower = np.concatenate(
        [np.full(2 * R, -np.inf), np.ones(len(free)), [-np.inf] if limited else []]
    )
    row_upper = np.concatenate(
        [
            target - base,
            cap - base_cust,
            np.ones(len(free)),
            [float(max_moves - fixed_moves)] if limited else [],  # type: ignore[operator]
        ]
    )
    # Excess of each specialist: at most what takes them to the ceiling.
    excess_upper = np.maximum(ceiling - target, 0.0) * np.ones(R)
    lp = binary_model(
        cost,
        np.zeros(n + R),
        np.concatenate([np.ones(n), excess_upper]),
        a,
        row_lower,
        row_upper,
        binaries=n,
    )
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.5)
    h.passModel(lp)
    start = np.zeros(n + R)
    for j, (g, s) in enumerate(pairs):
        if assign[g] == s:
            start[j] = 1.0
    for i, s in enumerate(specs):
        start[n + i] = max(0.0, loads[s] - target)
    found = run_from(h, start, pairs, assign, p, max_moves, step="region")
    if found is None:
        return list(assign)
    if max(loads_of(p, found)[s] for s in specs) > ceiling + EPS:
        return list(assign)
    if score(found) < score(assign) - 1e-6:
        return found
    return list(assign)


def _neighbours(problem: Problem) -> list[set[int]]:
    """Return, per specialist, the specialists who may take one of their grids or give them
    one (on today's ownership)."""
    p = problem
    near: list[set[int]] = [set() for _ in range(p.n_specs)]
    for g in range(p.n_grids):
        o = p.owner[g]
        for s in p.eligible[g]:
            if s != o:
                near[o].add(s)
                near[s].add(o)
    return near


def grow_region(
    problem: Problem,
    assign: Sequence[int],
    centre: int,
    loads: Sequence[float],
    near: list[set[int]],
    *,
    max_grids: int,
) -> set[int]:
    """Return the specialists around ``centre`` (ring by ring, the most loaded first in each
    ring) holding at most ``max_grids`` grids between them (the centre always)."""
    held = [0] * problem.n_specs
    for s in assign:
        held[s] += 1
    region = {centre}
    total = held[centre]
    ring = [centre]
    while ring:
        nxt = sorted({t for s in ring for t in near[s]} - region, key=lambda t: (-loads[t], t))
        ring = []
        for t in nxt:
            if total + held[t] > max_grids:
                return region
            region.add(t)
            total += held[t]
            ring.append(t)
    return region


def large_neighbourhood_search(
    problem: Problem,
    assign: Sequence[int],
    *,
    max_moves: int | None,
    lower_bound: float,
    deadline: float,
    max_grids: int = 100,
    regions: int = 6,
    region_nodes: int = 1,
    step: float = 0.003,
    returns: bool = True,
) -> list[int]:
    """Return ``assign`` improved region by region, ``regions`` regions of at most
    ``region_nodes`` MILP nodes each (``deadline`` is only a safety net).

    A target a little below the largest load (``step`` of the lower bound, or less near it) is
    set; regions are solved around the specialists still above it, the most loaded first, each
    taking their load above the target down and giving back moves they do not need. When no one
    is above the target any more, the plan is kept and the target lowered; when every such region
    has been tried in vain, regions around the moved grids elsewhere free moves for another
    round, and then the target comes half as far below the largest load."""
    p = problem
    if not plan_ok(p, assign, max_moves):
        return list(assign)
    near = _neighbours(p)
    best = list(assign)
    current = list(assign)
    tried: set[int] = set()
    delta = step * lower_bound
    best_max = max(loads_of(p, best), default=0.0)
    ceiling = best_max
    target = max(lower_bound, ceiling - delta)
    solved = 0
    while not out_of_time(deadline, "regions", 0.02):
        loads = loads_of(p, current)
        top = max(loads, default=0.0)
        if top < best_max - EPS:
            best, best_max = list(current), top
        if best_max <= lower_bound * (1 + 1e-6) + EPS or solved >= regions:
            break
        if top <= target + EPS:  # target reached: aim lower
            ceiling = top
            target = max(lower_bound, ceiling - delta)
            tried.clear()
            continue
        over = [s for s in range(p.n_specs) if loads[s] > target + EPS and s not in tried]
        if over:
            centre = max(over, key=lambda s: (loads[s], -s))
        else:
            moved: dict[int, int] = {}
            for g, s in enumerate(current):
                if s != p.owner[g]:
                    moved[s] = moved.get(s, 0) + 1
            spare = [s for s in moved if s not in tried]
            if not spare:
                if delta < 1e-6 * lower_bound:
                    break
                tried.clear()
                delta /= 2
                target = max(lower_bound, ceiling - delta)
                continue
            centre = max(spare, key=lambda s: (moved[s], -s))
        region = grow_region(p, current, centre, loads, near, max_grids=max_grids)
        tried.add(centre)
        solved += 1
        found = solve_region(
            p,
            current,
            region,
            max_moves=max_moves,
            deadline=deadline,
            target=target,
            ceiling=ceiling,
            returns=returns,
            nodes=region_nodes,
        )
        if found != current:
            current = found
    return best
