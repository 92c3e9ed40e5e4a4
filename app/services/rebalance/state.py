"""The working state of the rebalancing search: who holds which grid, and what that makes of
each specialist's load, customers and moves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.rebalance.problem import Problem

EPS = 1e-9
INF_MOVES = 1 << 30


def loads_of(problem: Problem, assign: Sequence[int]) -> list[float]:
    """Return each specialist's load under an assignment of the movable grids."""
    loads = list(problem.base)
    for g, s in enumerate(assign):
        loads[s] += problem.gload[g]
    return loads


def over_capacity(customers: int, capacity: int) -> int:
    """Return how many customers are above the capacity (0 if none)."""
    return customers - capacity if customers > capacity else 0


class State:
    """A working assignment with its loads, customers, holdings and move count."""

    def __init__(self, problem: Problem, assign: Sequence[int], max_moves: int | None) -> None:
        p = problem
        self.p = p
        self.assign = list(assign)
        self.load = list(p.base)
        self.cust = list(p.base_cust)
        self.owned: list[set[int]] = [set() for _ in range(p.n_specs)]
        # Grids each specialist owns today that are now held by someone else.
        self.exported: list[set[int]] = [set() for _ in range(p.n_specs)]
        self.moved = 0
        for g, s in enumerate(self.assign):
            self.load[s] += p.gload[g]
            self.cust[s] += p.gcust[g]
            self.owned[s].add(g)
            if s != p.owner[g]:
                self.moved += 1
                self.exported[p.owner[g]].add(g)
        self.budget = INF_MOVES if max_moves is None else max_moves
        # Customers above capacity, summed over specialists (0 in any plan we keep).
        self.over_cap = sum(over_capacity(c, k) for c, k in zip(self.cust, p.cap, strict=True))

    def move(self, g: int, t: int) -> None:
        p = self.p
        s = self.assign[g]
        if s == t:
            return
        cap, cust, cg = p.cap, self.cust, p.gcust[g]
        self.over_cap += (
            over_capacity(cust[s] - cg, cap[s])
            - over_capacity(cust[s], cap[s])
            + over_capacity(cust[t] + cg, cap[t])
            - over_capacity(cust[t], cap[t])
        )
        self.load[s] -= p.gload[g]
        self.load[t] += p.gload[g]
        cust[s] -= cg
        cust[t] += cg
        self.owned[s].discard(g)
        self.owned[t].add(g)
        o = p.owner[g]
        self.moved += (t != o) - (s != o)
        if t == o:
            self.exported[o].discard(g)
        else:
            self.exported[o].add(g)
        self.assign[g] = t

    def max_load(self) -> float:
        return max(self.load, default=0.0)
