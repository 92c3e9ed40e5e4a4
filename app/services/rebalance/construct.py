"""Plans built without the tabu search: the quick greedy, the rounded LP solution, the pruning
of moves that do not help, and customer moves out of grids too heavy on their own."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.state import EPS, INF_MOVES, State

if TYPE_CHECKING:
    from app.services.rebalance.problem import GridItem, Move, Problem


def _relief(st: State, s: int) -> tuple[tuple[int, int], ...] | None:
    """Return the move, swap or two-step chain that leaves the largest of the loads it touches
    lowest, if that is below the load of ``s`` today."""
    p = st.p
    load, cust, cap = st.load, st.cust, p.cap
    gload, gcust, owner, elig = p.gload, p.gcust, p.owner, p.eligible
    room = st.budget - st.moved
    ls = load[s]
    best_m = ls - EPS
    best: tuple[tuple[int, int], ...] | None = None
    for g in st.owned[s]:
        lg, cg, og = gload[g], gcust[g], owner[g]
        dm_out = -1 if s != og else 0
        for t in elig[g]:
            if t == s:
                continue
            dm1 = dm_out + (1 if t != og else 0)
            lt1 = load[t] + lg
            m = max(ls - lg, lt1)
            if m < best_m and dm1 <= room and cust[t] + cg <= cap[t]:
                best_m, best = m, ((g, t),)
            if lt1 < best_m:
                continue
            for h in st.owned[t]:
                lh, oh = gload[h], owner[h]
                dm_h = -1 if t != oh else 0
                for u in elig[h]:
                    if u == t:
                        continue
                    dm = dm1 + dm_h + (1 if u != oh else 0)
                    if dm > room or cust[t] + cg - gcust[h] > cap[t]:
                        continue
                    if u == s:
                        m = max(ls - lg + lh, lt1 - lh)
                        ok = cust[s] - cg + gcust[h] <= cap[s]
                    else:
                        m = max(ls - lg, lt1 - lh, load[u] + lh)
                        ok = cust[u] + gcust[h] <= cap[u]
                    if m < best_m and ok:
                        best_m, best = m, ((g, t), (h, u))
    return best


GREEDY_GRACE_S = 10.0


def greedy(
    problem: Problem,
    *,
    max_moves: int | None,
    deadline: float,
    start: Sequence[int] | None = None,
) -> list[int]:
    """Return the quick greedy's assignment from ``start`` (today's by default): relieve the
    most loaded specialist with the best move, swap or two-step chain while that lowers the
    largest load.

    It runs to its end whatever the clock says (it takes milliseconds, FIELD-NOTES), so a busy
    computer still gets the same starting plan, never an empty proposal; ``deadline`` is only
    a safety net, ten seconds late."""
    st = State(problem, problem.owner if start is None else start, max_moves)
    while time.perf_counter() < deadline + GREEDY_GRACE_S:
        s = max(range(problem.n_specs), key=st.load.__getitem__)
        found = _relief(st, s)
        if found is None:
            break
        for g, t in found:
            st.move(g, t)
    return st.assign


def round_lp(
    problem: Problem, fractional: np.ndarray, pairs: list, *, max_moves: int | None
) -> list[int]:
    """Return the LP solution rounded grid by grid to its largest share, within the move limit
    (the least-supported moves are given back first). Capacities may be broken: the search
    repairs them."""
    p = problem
    best_share = [-1.0] * p.n_grids
    assign = list(p.owner)
    share_owner = [0.0] * p.n_grids
    for j, (g, s) in enumerate(pairs):
        x = float(fractional[j])
        if s == p.owner[g]:
            share_owner[g] = x
        if x > best_share[g] + EPS or (abs(x - best_share[g]) <= EPS and s == p.owner[g]):
            best_share[g] = x
            assign[g] = s
    st = State(p, p.owner, max_moves)
    order = sorted(
        (g for g in range(p.n_grids) if assign[g] != p.owner[g]), key=lambda g: share_owner[g]
    )
    for g in order:
        t = assign[g]
        if st.moved < st.budget:
            st.move(g, t)
    return st.assign


def prune(problem: Problem, assign: Sequence[int]) -> list[int]:
    """Return the assignment without the moves that do not help: a grid goes back to its owner
    when the owner would then carry no more than its holder carries now; and two grids that
    two specialists swapped go back to their owners when neither would then carry more than
    the largest load of the plan (the swap moved customers and changed nothing that counts)."""
    st = State(problem, assign, None)
    p = problem
    changed = True
    while changed:
        changed = False
        moved = [g for g in range(p.n_grids) if st.assign[g] != p.owner[g]]
        for g in sorted(moved, key=lambda g: p.gload[g]):
            o, x = p.owner[g], st.assign[g]
            if st.load[o] + p.gload[g] <= st.load[x] + EPS and st.cust[o] + p.gcust[g] <= p.cap[o]:
                st.move(g, o)
                changed = True
        changed = _undo_a_swap(st) or changed
    return st.assign


def _undo_a_swap(st: State) -> bool:
    """Give back the first pair of grids two specialists swapped whose return keeps both
    within the plan's largest load and their capacities; return whether one was found. The
    pair moving the most customers goes first."""
    p = st.p
    top = st.max_load() + EPS
    by_pair: dict[tuple[int, int], list[int]] = {}
    for g in range(p.n_grids):
        if st.assign[g] != p.owner[g]:
            by_pair.setdefault((p.owner[g], st.assign[g]), []).append(g)
    pairs = []
    for (a, b), given in by_pair.items():
        for g in given:
            for h in by_pair.get((b, a), ()):
                pairs.append((p.gcust[g] + p.gcust[h], g, h, a, b))
    for _customers, g, h, a, b in sorted(pairs, reverse=True):
        # Back to their owners: a takes g back and gives h back to b.
        load_a = st.load[a] + p.gload[g] - p.gload[h]
        load_b = st.load[b] - p.gload[g] + p.gload[h]
        cust_a = st.cust[a] + p.gcust[g] - p.gcust[h]
        cust_b = st.cust[b] - p.gcust[g] + p.gcust[h]
        if (
            load_a <= top
            and load_b <= top
            and cust_a <= max(p.cap[a], st.cust[a])
            and (cust_b <= max(p.cap[b], st.cust[b]))
        ):
            st.move(g, a)
            st.move(h, b)
            return True
    return False


def split_heavy_grids(
    problem: Problem,
    grids: Sequence[GridItem],
    assign: Sequence[int],
    loads: list[float],
    *,
    target: float,
    budget: int | None,
) -> list[Move]:
    """Return customer moves out of grids too heavy on their own, while they lower the largest
    load; ``loads`` is updated to match.

    A grid is too heavy when its holder, left with nothing but that grid and their fixed load,
    would still be above ``target``. Its unlocked customers may go, one by one, to the owners of
    neighbouring grids (the specialists who may take the grid itself), within capacities and
    the move budget. Only grids that keep their owner are split.
    """
    from app.services.rebalance.problem import CUSTOMER, Move

    p = problem
    items = {g.id: g.customer_items for g in grids if g.customer_items}
    if not items or budget == 0:
        return []
    cust = list(p.base_cust)
    for g, s in enumerate(assign):
        cust[s] += p.gcust[g]
    # Per holder, the heavy grids they keep, with the customers still in them (lightest last).
    heavy: dict[int, list[tuple[int, list]]] = {}
    for k, gid in enumerate(p.grid_ids):
        s = assign[k]
        if s != p.owner[k] or gid not in items or p.base[s] + p.gload[k] <= target:
            continue
        movable = sorted((c for c in items[gid] if not c.locked), key=lambda c: c.load)
        heavy.setdefault(s, []).append((k, movable))
    moves: list[Move] = []
    left = INF_MOVES if budget is None else budget
    while left > 0 and heavy:
        s = max(range(p.n_specs), key=loads.__getitem__)
        if s not in heavy:
            break
        ls = loads[s]
        best = None
        best_m = ls - EPS
        for k, movable in heavy[s]:
            for i, c in enumerate(movable):
                for t in p.eligible[k]:
                    if t == s or cust[t] + 1 > p.cap[t]:
                        continue
                    m = max(ls - c.load, loads[t] + c.load)
                    if m < best_m:
                        best_m, best = m, (k, i, t)
        if best is None:
            break
        k, i, t = best
        c = heavy[s][[h[0] for h in heavy[s]].index(k)][1].pop(i)
        loads[s] -= c.load
        loads[t] += c.load
        cust[s] -= 1
        cust[t] += 1
        left -= 1
        moves.append(
            Move(
                kind=CUSTOMER,
                grid_id=p.grid_ids[k],
                from_id=p.spec_ids[s],
                to_id=p.spec_ids[t],
                load=c.load,
                customers=1,
                customer_id=c.id,
            )
        )
    return moves
