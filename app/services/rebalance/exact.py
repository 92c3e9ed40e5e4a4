"""A mixed-integer polish of the rebalancing plan: HiGHS (through ``highspy``) on the part of the
model where the moves are, started from the heuristic's plan.

The full model (a binary per grid and specialist who may take it, the largest load as the
objective) is too slow to solve in seconds for 2,000 grids, but the moves that matter are few and
known in advance: grids owned by specialists above the LP bound, grids the LP solution moves (even
fractionally) and grids the heuristic's plan moves. Only those are free; every other grid stays
where the plan has it (with its owner). HiGHS gets the heuristic's plan as its first solution, so
the polish can only improve on it, and whatever it returns is checked again here against the move
limit and the capacities before it is used.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.state import EPS, loads_of

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem


def free_grids(
    problem: Problem,
    assign: Sequence[int],
    *,
    lower_bound: float,
    fractional: np.ndarray | None,
    pairs: list,
) -> set[int]:
    """Return the grids the polish may move: those owned by a specialist whose load today is
    above the lower bound, those the LP solution moves (in part) and those ``assign`` moves."""
    p = problem
    heavy = {s for s, load in enumerate(p.load0) if load > lower_bound - EPS}
    free = {g for g in range(p.n_grids) if p.owner[g] in heavy or assign[g] != p.owner[g]}
    if fractional is not None:
        free.update(
            g for (g, s), x in zip(pairs, fractional, strict=True) if x > 1e-6 and s != p.owner[g]
        )
    return free


def polish(
    problem: Problem,
    assign: Sequence[int],
    free: Iterable[int],
    *,
    max_moves: int | None,
    deadline: float,
    lower_bound: float = 0.0,
    nodes: int = 10,
) -> list[int]:
    """Return ``assign`` improved by a MILP over the ``free`` grids (the others stay put) in at
    most ``nodes`` branch-and-bound nodes, or ``assign`` itself when HiGHS finds nothing better
    (or fails: see :func:`app.services.rebalance.highs.run`). ``deadline`` is only a safety net."""
    import highspy
    from scipy.sparse import coo_matrix

    from app.services.rebalance.highs import limit_work, new_highs, run_from

    p = problem
    seconds = deadline - time.perf_counter()
    free_list = sorted(set(free))
    if seconds < 0.05 or not free_list or nodes <= 0:
        return list(assign)
    row_of = {g: r for r, g in enumerate(free_list)}
    S = p.n_specs
    n_free = len(free_list)
    # Load, customers and moves of the grids that stay where ``assign`` has them.
    base = np.array(p.base, dtype=float)
    base_cust = np.array(p.base_cust, dtype=float)
    fixed_moves = 0
    for g, s in enumerate(assign):
        if g not in row_of:
            base[s] += p.gload[g]
            base_cust[s] += p.gcust[g]
            fixed_moves += s != p.owner[g]
    pairs = [(g, s) for g in free_list for s in p.eligible[g]]
    n = len(pairs)
    # Rows: load of each specialist minus T (<= -base), customers (<= room), one holder per
    # free grid (= 1), moves (<= what the fixed grids leave of the limit).
    move_row = 2 * S + n_free
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for j, (g, s) in enumerate(pairs):
        rows += [s, S + s, 2 * S + row_of[g]]
        cols += [j, j, j]
        vals += [p.gload[g], float(p.gcust[g]), 1.0]
        if max_moves is not None and s != p.owner[g]:
            rows.append(move_row)
            cols.append(j)
            vals.append(1.0)
    rows += list(range(S))
    cols += [n] * S
    vals += [-1.0] * S
    n_rows = move_row + (1 if max_moves is not None else 0)
    a = coo_matrix((vals, (rows, cols)), shape=(n_rows, n + 1)).tocsc()
    row_lower = np.concatenate(
        [np.full(2 * S, -np.inf), np.ones(n_free), [-np.inf] if max_moves is not None else []]
    )
    row_upper = np.concatenate(
        [
            -base,
            np.asarray(p.cap, dtype=float) - base_cust,
            np.ones(n_free),
            [float(max_moves - fixed_moves)] if max_moves is not None else [],
        ]
    )
    incumbent = max(loads_of(p, assign), default=0.0)
    cost = np.zeros(n + 1)
    cost[n] = 1.0
    col_lower = np.concatenate([np.zeros(n), [max(float(base.max()), lower_bound)]])
    col_upper = np.concatenate([np.ones(n), [incumbent]])

    lp = highspy.HighsLp()
    lp.num_col_ = n + 1
    lp.num_row_ = n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous]
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    # Any plan within 0.01 % of the best possible will do.
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.passModel(lp)
    start = np.zeros(n + 1)
    for j, (g, s) in enumerate(pairs):
        if assign[g] == s:
            start[j] = 1.0
    start[n] = incumbent
    found = run_from(h, start, pairs, assign, p, max_moves, step="polish")
    if found is None:
        return list(assign)
    if max(loads_of(p, found), default=0.0) < incumbent - EPS:
        return found
    return list(assign)
