"""Capacity comes first: before balancing workloads, the rebalancer brings every specialist
within their capacity (customers they can serve) with as few moves as it can.

When the specialists in scope have room for all their customers together, each one's limit is
their capacity. When they have not, capacity falls short by the difference, and each limit is
the capacity scaled up by the same factor (rounded up): the excess is spread in proportion to
capacity, so everybody ends at about the same share of it, not the same raw workload.

:func:`fit_capacity` finds the assignment with the fewest customers above the limits (then the
fewest moves) with a MILP (HiGHS, limited by nodes), and the balancing search then keeps every
specialist within their limit, or within what this step left them when it could do no better
(a move limit, or grids nobody near may take). Pure: no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.problem import out_of_time
from app.services.rebalance.state import over_capacity

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem


def capacity_limits(total: int, capacity: Sequence[int]) -> list[int]:
    """Return the most customers each specialist should end with: their capacity when the
    ``total`` customers they share fit in all of ``capacity``, otherwise every capacity scaled
    up by the same factor and rounded up (the excess spread in proportion to capacity)."""
    room = sum(capacity)
    if total <= room:
        return list(capacity)
    if room <= 0:  # no capacity at all: spread evenly
        return [math.ceil(total / len(capacity))] * len(capacity)
    return [math.ceil(c * total / room) for c in capacity]


def customers_of(problem: Problem, assign: Sequence[int]) -> list[int]:
    """Return each specialist's customers under an assignment of the movable grids."""
    cust = list(problem.base_cust)
    for g, s in enumerate(assign):
        cust[s] += problem.gcust[g]
    return cust


def above_limits(problem: Problem, assign: Sequence[int]) -> int:
    """Return the customers above the specialists' limits, added up."""
    cust = customers_of(problem, assign)
    return sum(over_capacity(c, k) for c, k in zip(cust, problem.limit, strict=True))


def fit_capacity(
    problem: Problem, *, max_moves: int | None, deadline: float, nodes: int = 50
) -> list[int]:
    """Return the assignment with the fewest customers above the limits, then the fewest
    moves (within ``max_moves``), and set ``problem.cap`` to what the balancing search may
    give each specialist: their limit, or what they end with here when that is more.

    Today's assignment is returned unchanged when nobody is above their limit, or when HiGHS
    finds nothing better within ``nodes`` nodes (``deadline`` is only a safety net)."""
    p = problem
    start = list(p.owner)
    if above_limits(p, start) > 0:
        found = _fewest_above(p, start, max_moves=max_moves, deadline=deadline, nodes=nodes)
        if found is not None and above_limits(p, found) < above_limits(p, start):
            start = found
    p.cap = [max(k, c) for k, c in zip(p.limit, customers_of(p, start), strict=True)]
    return start


def _fewest_above(
    problem: Problem, start: list[int], *, max_moves: int | None, deadline: float, nodes: int
) -> list[int] | None:
    """Solve the MILP: a binary per (grid, specialist who may take it), each specialist's
    customers above their limit; minimise those (each worth more than every move together),
    then the moves."""
    from scipy.sparse import coo_matrix

    from app.services.rebalance.highs import binary_model, limit_work, new_highs, run_from

    p = problem
    S, G = p.n_specs, p.n_grids
    if G == 0:
        return None
    pairs = [(g, s) for g in range(G) for s in p.eligible[g]]
    n = len(pairs)
    weight = float(G + 1)
    # Rows: customers minus the excess (<= limit - fixed customers), one holder per grid,
    # moves (<= the limit).
    limited = max_moves is not None
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    cost = np.zeros(n + S)
    for j, (g, s) in enumerate(pairs):
        rows += [s, S + g]
        cols += [j, j]
        vals += [float(p.gcust[g]), 1.0]
        if s != p.owner[g]:
            cost[j] = 1.0
            if limited:
                rows.append(S + G)
                cols.append(j)
                vals.append(1.0)
    rows += list(range(S))
    cols += [n + s for s in range(S)]
    vals += [-1.0] * S
    cost[n:] = weight
    n_rows = S + G + (1 if limited else 0)
    a = coo_matrix((vals, (rows, cols)), shape=(n_rows, n + S)).tocsc()
    row_lower = np.concatenate([np.full(S, -np.inf), np.ones(G), [-np.inf] if limited else []])
    row_upper = np.concatenate(
        [
            np.asarray(p.limit, dtype=float) - np.asarray(p.base_cust, dtype=float),
            np.ones(G),
            [float(max_moves)] if limited else [],  # type: ignore[arg-type]
        ]
    )
    lp = binary_model(
        cost,
        np.zeros(n + S),
        np.concatenate([np.ones(n), np.full(S, np.inf)]),
        a,
        row_lower,
        row_upper,
        binaries=n,
    )
    if out_of_time(deadline, "capacity", 0.05):
        return None
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    h.passModel(lp)
    warm = np.zeros(n + S)
    for j, (g, s) in enumerate(pairs):
        if start[g] == s:
            warm[j] = 1.0
    cust = customers_of(p, start)
    for s in range(S):
        warm[n + s] = over_capacity(cust[s], p.limit[s])
    # The MILP's own plan may put a specialist above today's count: check the limits only.
    return run_from(h, warm, pairs, start, p, max_moves, step="capacity", check_capacity=False)
