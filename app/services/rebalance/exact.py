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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.problem import out_of_time
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


@dataclass
class FreeModel:
    """The rows every MILP over part of the plan shares: the grids in ``free`` get a binary per
    specialist who may take them, every other grid stays where the plan has it. Row order:
    each specialist's load (its upper bound set by the caller), their customers (at most
    ``problem.cap``), one holder per free grid, and the moves (what the fixed grids leave of the
    limit, when there is one)."""

    pairs: list[tuple[int, int]]
    rows: list[int]
    cols: list[int]
    vals: list[float]
    base: np.ndarray
    row_lower: np.ndarray
    n_rows: int
    _cust_upper: np.ndarray
    _tail_upper: np.ndarray

    @classmethod
    def of(
        cls, p: Problem, assign: Sequence[int], free_list: Sequence[int], max_moves: int | None
    ) -> FreeModel:
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
        limited = max_moves is not None
        return cls(
            pairs=pairs,
            rows=rows,
            cols=cols,
            vals=vals,
            base=base,
            row_lower=np.concatenate(
                [np.full(2 * S, -np.inf), np.ones(n_free), [-np.inf] if limited else []]
            ),
            n_rows=move_row + (1 if limited else 0),
            _cust_upper=np.asarray(p.cap, dtype=float) - base_cust,
            _tail_upper=np.concatenate(
                [np.ones(n_free), [] if max_moves is None else [float(max_moves - fixed_moves)]]
            ),
        )

    def row_upper(self, load_upper: np.ndarray) -> np.ndarray:
        """Return the rows' upper bounds with each specialist's load row at ``load_upper``
        less what the fixed grids give them."""
        return np.concatenate([load_upper - self.base, self._cust_upper, self._tail_upper])

    def start(self, assign: Sequence[int]) -> np.ndarray:
        """Return the pairs' values for ``assign`` (a warm start)."""
        return np.array([1.0 if assign[g] == s else 0.0 for g, s in self.pairs])


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
    from scipy.sparse import coo_matrix

    from app.services.rebalance.highs import binary_model, limit_work, new_highs, run_from

    p = problem
    free_list = sorted(set(free))
    if not free_list or nodes <= 0 or out_of_time(deadline, "polish", 0.05):
        return list(assign)
    m = FreeModel.of(p, assign, free_list, max_moves)
    S = p.n_specs
    n = len(m.pairs)
    # The largest load T: a last column, in every load row (load - T <= -base).
    rows = m.rows + list(range(S))
    cols = m.cols + [n] * S
    vals = m.vals + [-1.0] * S
    a = coo_matrix((vals, (rows, cols)), shape=(m.n_rows, n + 1)).tocsc()
    row_upper = m.row_upper(np.zeros(S))
    base = m.base
    incumbent = max(loads_of(p, assign), default=0.0)
    cost = np.zeros(n + 1)
    cost[n] = 1.0
    col_lower = np.concatenate([np.zeros(n), [max(float(base.max()), lower_bound)]])
    col_upper = np.concatenate([np.ones(n), [incumbent]])

    lp = binary_model(cost, col_lower, col_upper, a, m.row_lower, row_upper, binaries=n)
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    # Any plan within 0.01 % of the best possible will do.
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.passModel(lp)
    start = np.append(m.start(assign), incumbent)
    found = run_from(h, start, m.pairs, assign, p, max_moves, step="polish")
    if found is None:
        return list(assign)
    if max(loads_of(p, found), default=0.0) < incumbent - EPS:
        return found
    return list(assign)
