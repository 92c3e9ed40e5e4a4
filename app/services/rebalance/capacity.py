"""Capacity comes first: before balancing workloads, the rebalancer brings every specialist
within their capacity (customers they can serve) with as few moves as it can.

When the specialists in scope have room for all their customers together, each one's limit is
their capacity. When they have not, capacity falls short by the difference, and each limit is
the capacity scaled up by the same factor (rounded up): the excess is spread in proportion to
capacity, so everybody ends at about the same share of it, not the same raw workload.

:func:`fit_capacity` finds the assignment with the fewest customers above the limits (then the
fewest moves) in two steps:

- pushes (:class:`_Pushes`): grids are handed from whoever is furthest above their limit to a
  neighbour with room, through chains of up to three hand-overs when the neighbours are full,
  then moves that turn out unneeded are handed back; a fraction of a second on a big city;
- a MILP (HiGHS, limited by nodes) started from that plan; when the pushes left nobody above,
  it only saves moves and stops within :data:`CAPACITY_GAP` of the best it can prove (its root
  cuts alone took 15-19 s on a city of 2,000 grids when it had to close the gap).

The balancing search then keeps every specialist within their limit, or within what this step
left them when it could do no better (a move limit, or grids nobody near may take). Pure: no
database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.services.rebalance.problem import out_of_time
from app.services.rebalance.state import over_capacity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from app.services.rebalance.problem import Problem

# Once the pushes leave nobody above their limit, the MILP (minimising the moves alone) stops
# when its plan is within this fraction of the best it can prove: the last move or two it would
# find take it seconds to minutes on a big city. While customers stay above their limits it
# closes the gap as before (a gap on the excess would leave customers above for nothing).
CAPACITY_GAP = 0.03
# The longest chain of hand-overs a push tries, and the most hand-overs it looks at to choose
# one (a work limit: with the distance rule a grid may go to dozens of specialists, and the
# chains three deep would number millions).
_CHAIN = 3
_STEP_WORK = 20_000


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

    Today's assignment is returned unchanged when nobody is above their limit, or when neither
    the pushes nor HiGHS (within ``nodes`` nodes) find anything better (``deadline`` is only a
    safety net)."""
    p = problem
    start = list(p.owner)
    if above_limits(p, start) > 0:
        pushed = _Pushes(p, start, max_moves, deadline).run()
        found = _fewest_above(p, pushed, max_moves=max_moves, deadline=deadline, nodes=nodes)
        best = min(
            [pushed] if found is None else [pushed, found],
            key=lambda a: (above_limits(p, a), p.moved(a)),
        )
        if above_limits(p, best) < above_limits(p, start):
            start = best
    p.cap = [max(k, c) for k, c in zip(p.limit, customers_of(p, start), strict=True)]
    return start


class _Pushes:
    """Greedy hand-overs that take customers off the specialists above their limits.

    Each step takes the specialist furthest above their limit and hands over the chain that
    clears their excess with the fewest moves (or, when none clears it, removes the most excess
    per move): a grid to a neighbour with room, or to a full neighbour who hands another grid
    on. Chains are looked for one hand-over long, then two, then :data:`_CHAIN`, until one
    clears the excess, looking at no more than :data:`_STEP_WORK` hand-overs a step. A grid
    handed on again adds no move, and one handed back to its owner takes a move away. Then
    every moved grid whose owner can take it back (directly or by a chain that costs less than
    the move it saves) goes back. Deterministic: the same problem gives the same plan
    (``deadline`` is only a safety net)."""

    def __init__(
        self, problem: Problem, assign: Sequence[int], max_moves: int | None, deadline: float
    ) -> None:
        self.p = problem
        self.assign = list(assign)
        self.cust = customers_of(problem, assign)
        self.held: list[list[int]] = [[] for _ in range(problem.n_specs)]
        for g, s in enumerate(self.assign):
            self.held[s].append(g)
        self.moves = problem.moved(assign)
        self.max_moves = max_moves
        self.deadline = deadline
        self.work = 0

    def run(self) -> list[int]:
        self._push()
        self._hand_back()
        return self.assign

    def _move(self, g: int, t: int) -> None:
        s = self.assign[g]
        self.moves += self._cost(g, t)
        self.held[s].remove(g)
        self.held[t].append(g)
        self.cust[s] -= self.p.gcust[g]
        self.cust[t] += self.p.gcust[g]
        self.assign[g] = t

    def _cost(self, g: int, t: int) -> int:
        """The moves a hand-over of ``g`` to ``t`` adds (-1: back to its owner)."""
        owner = self.p.owner[g]
        if t == owner:
            return -1
        return 1 if self.assign[g] == owner else 0

    def _chains(
        self, s: int, need: int, depth: int, seen: frozenset[int]
    ) -> Iterator[tuple[int, list[tuple[int, int]], int]]:
        """Yield (moves added, hand-overs, customers) for the chains of at most ``depth``
        hand-overs that take a grid of at least ``need`` customers off ``s`` and end with
        someone who has room, while ``self.work`` lasts (one per hand-over looked at)."""
        p = self.p
        for g in self.held[s]:
            size = p.gcust[g]
            if size < need or size == 0:
                continue
            for t in p.eligible[g]:
                if t in seen:
                    continue
                self.work -= 1
                if self.work < 0:
                    return
                cost = self._cost(g, t)
                over = self.cust[t] + size - p.limit[t]
                if over <= 0:
                    yield cost, [(g, t)], size
                elif depth > 1:
                    for more, rest, _ in self._chains(t, over, depth - 1, seen | {t}):
                        yield cost + more, [(g, t), *rest], size

    def _push(self) -> None:
        p = self.p
        stuck: set[int] = set()
        while not out_of_time(self.deadline, "capacity"):
            over = [s for s in range(p.n_specs) if self.cust[s] > p.limit[s] and s not in stuck]
            if not over:
                return
            s = max(over, key=lambda s: (self.cust[s] - p.limit[s], -s))
            excess = self.cust[s] - p.limit[s]
            best: tuple[tuple[float, ...], list[tuple[int, int]]] | None = None
            self.work = _STEP_WORK
            for depth in range(1, _CHAIN + 1):
                for cost, chain, size in self._chains(s, 1, depth, frozenset({s})):
                    if self.max_moves is not None and self.moves + cost > self.max_moves:
                        continue
                    if size >= excess:  # clears it: the fewest moves, then the smallest grid
                        key: tuple[float, ...] = (0, cost, len(chain), size)
                    else:  # the most excess per move
                        key = (1, cost / size, len(chain), -size)
                    if best is None or key < best[0]:
                        best = (key, chain)
                if (best is not None and best[0][0] == 0) or self.work < 0:
                    break
            if best is None:
                stuck.add(s)
                continue
            for g, t in best[1]:
                self._move(g, t)

    def _hand_back(self) -> None:
        p = self.p
        for _ in range(20):
            if out_of_time(self.deadline, "capacity"):
                return
            handed = False
            moved = sorted(
                (g for g, s in enumerate(self.assign) if s != p.owner[g]),
                key=lambda g: (p.gcust[g], g),
            )
            for g in moved:
                owner, now = p.owner[g], self.assign[g]
                if now == owner:
                    continue
                over = self.cust[owner] + p.gcust[g] - p.limit[owner]
                if over <= 0:
                    self._move(g, owner)
                    handed = True
                    continue
                best: tuple[tuple[int, int], list[tuple[int, int]]] | None = None
                self.work = _STEP_WORK
                for cost, chain, _ in self._chains(owner, over, 2, frozenset({owner, now})):
                    if cost < 1 and (best is None or (cost, len(chain)) < best[0]):
                        best = ((cost, len(chain)), chain)
                if best is not None:
                    self._move(g, owner)
                    for h, t in best[1]:
                        self._move(h, t)
                    handed = True
            if not handed:
                return


def _fewest_above(
    problem: Problem, start: list[int], *, max_moves: int | None, deadline: float, nodes: int
) -> list[int] | None:
    """Solve the MILP from ``start``: a binary per (grid, specialist who may take it), each
    specialist's customers above their limit; minimise those (each worth more than every move
    together), then the moves. When ``start`` already has nobody above, the model keeps it so
    and minimises the moves alone."""
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
    cust = customers_of(p, start)
    clear = all(c <= k for c, k in zip(cust, p.limit, strict=True))
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
        np.concatenate([np.ones(n), np.zeros(S) if clear else np.full(S, np.inf)]),
        a,
        row_lower,
        row_upper,
        binaries=n,
    )
    if out_of_time(deadline, "capacity", 0.05):
        return None
    h = new_highs()
    limit_work(h, nodes=nodes, deadline=deadline)
    if clear:  # only the moves are left to minimise: within the gap is as good
        h.setOptionValue("mip_rel_gap", CAPACITY_GAP)
    h.passModel(lp)
    warm = np.zeros(n + S)
    for j, (g, s) in enumerate(pairs):
        if start[g] == s:
            warm[j] = 1.0
    for s in range(S):
        warm[n + s] = over_capacity(cust[s], p.limit[s])
    # The MILP's own plan may put a specialist above today's count: check the limits only.
    return run_from(h, warm, pairs, start, p, max_moves, step="capacity", check_capacity=False)
