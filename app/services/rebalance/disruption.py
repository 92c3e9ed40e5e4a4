"""What a rebalance costs the customers it moves, and the trade-off between balance and that cost.

Every moved customer gets an SMS, loses the specialist they added on WeChat and starts the 4-sell
ladder again with a stranger; the further they had climbed, the more is lost. ``MoveCosts``
weighs one moved customer by the step they reached (defaults: step 0 -> 1, 1 -> 2, 2 -> 4,
3 and 4 -> 8), doubled for a customer moved in the last 180 days.

``frontier`` weighs the optimiser's plans (the best balance, and the least disruptive plan
under each of a few ceilings on the largest workload: :mod:`app.services.rebalance.tradeoff`)
together with the best plan handed back one move at a time, each time the move that costs the
least balance per unit of disruption saved (first those that cost no balance at all, largest
disruption first), never one whose return would put its giver above capacity (or, when the team
has too little, above their share of the excess); it keeps the non-dominated ones. ``knee``
picks the point where more disruption stops buying much balance. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

EPS = 1e-9
DEFAULT_STEP_COSTS = (1.0, 2.0, 4.0, 8.0, 8.0)
# Customers at or above this step have a relationship to lose: "relationships broken".
RELATIONSHIP_STEP = 2


@dataclass(frozen=True)
class MoveCosts:
    """The disruption of moving one customer, by the 4-sell step reached (0-4)."""

    by_step: tuple[float, float, float, float, float] = DEFAULT_STEP_COSTS
    recent_days: int = 180
    recent_factor: float = 2.0

    def cost(self, step: int, recently_moved: bool) -> float:
        """Return the disruption of moving a customer at ``step``."""
        base = self.by_step[max(0, min(4, int(step)))]
        return base * (self.recent_factor if recently_moved else 1.0)

    def recent_since(self, as_of: date) -> date:
        """Return the first day that counts as 'moved recently' on ``as_of``."""
        return as_of - timedelta(days=self.recent_days)

    def as_dict(self) -> dict[str, object]:
        return {
            "by_step": list(self.by_step),
            "recent_days": self.recent_days,
            "recent_factor": self.recent_factor,
        }

    @classmethod
    def parse(cls, text: str) -> MoveCosts:
        """Return the costs written as five numbers for steps 0-4 ("1,2,4,8,8"), optionally
        followed by the days that count as recent and their factor ("1,2,4,8,8,180,2")."""
        parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
        if len(parts) not in (5, 7):
            raise ValueError(
                f"'{text}': give five costs for steps 0-4 (as 1,2,4,8,8), optionally followed "
                "by the days that count as recent and their factor (as ,180,2)"
            )
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"'{text}': every cost must be a number") from None
        if any(v < 0 for v in values):
            raise ValueError(f"'{text}': costs cannot be negative")
        steps = (values[0], values[1], values[2], values[3], values[4])
        if len(values) == 7:
            return cls(steps, int(values[5]), values[6])
        return cls(steps)

    def text(self) -> str:
        """Return the costs as ``parse`` reads them."""
        return ",".join(f"{v:g}" for v in (*self.by_step, self.recent_days, self.recent_factor))


@dataclass(frozen=True)
class Candidate:
    """One move of the best-balance plan, as the frontier weighs it."""

    src: Hashable
    dst: Hashable
    load: float
    customers: int
    disruption: float


@dataclass(frozen=True)
class FrontierPoint:
    """One plan on the trade-off curve: the moves kept (indices into the candidates) and what
    they do."""

    keep: tuple[int, ...]
    after_max: float
    disruption: float
    customers: int
    # Customers above capacity after the plan, added up over specialists.
    over_capacity: int

    @property
    def moves(self) -> int:
        return len(self.keep)


def frontier(
    moves: Sequence[Candidate],
    *,
    loads: Mapping[Hashable, float],
    customers: Mapping[Hashable, int],
    capacity: Mapping[Hashable, int],
    limits: Mapping[Hashable, int] | None = None,
    max_points: int = 8,
    best: Sequence[int] | None = None,
    plans: Sequence[Sequence[int]] = (),
) -> list[FrontierPoint]:
    """Return the non-dominated plans (customers above capacity, largest workload and
    disruption), best balance first, at most ``max_points`` of them; only plans better than
    today (fewer customers above capacity, or better balanced), so never the empty plan.

    The plans weighed are ``plans`` (each the indices of its moves in ``moves``) and the
    subsets of the best plan ``best`` (by default every move) handed back one move at a time.
    No move is handed back that would put its giver above their limit (``limits``, by default
    their capacity), so the plan with the fewest moves still brings everybody within capacity
    when the best plan does."""
    limits = capacity if limits is None else limits
    keep = set(range(len(moves)) if best is None else best)
    points = [
        _point(set(plan), moves, *_after(plan, moves, loads, customers), capacity) for plan in plans
    ]
    load, cust = _after(keep, moves, loads, customers)
    points.append(_point(keep, moves, load, cust, capacity))
    while keep:
        i = _cheapest_return(keep, moves, load, cust, limits)
        if i is None:
            break
        m = moves[i]
        keep.discard(i)
        load[m.src] += m.load
        load[m.dst] -= m.load
        cust[m.src] += m.customers
        cust[m.dst] -= m.customers
        if keep:
            points.append(_point(keep, moves, load, cust, capacity))
    # A point no better balanced than today (chains of moves half undone can be worse) is
    # beaten by making no move at all.
    today = max(loads.values(), default=0.0)
    over_today = sum(max(0, c - capacity.get(s, c)) for s, c in customers.items())
    better = [p for p in points if p.after_max < today - EPS or p.over_capacity < over_today]
    return _thin(_non_dominated(better), max_points, today)


def knee(points: Sequence[FrontierPoint], *, before_max: float | None = None) -> int:
    """Return the index of the point where the curve bends most: beyond it, more disruption
    buys little balance. The curve runs from the best balance to today (no move: the largest
    load ``before_max``, no disruption), which is never chosen itself."""
    if not points:
        raise ValueError("no points")
    xs = [p.disruption for p in points]
    ys = [p.after_max for p in points]
    if before_max is not None:
        xs.append(0.0)
        ys.append(before_max)
    if len(xs) < 3:
        return 0
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 - x0 < EPS or y1 - y0 < EPS:
        return 0
    norm = [((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)) for x, y in zip(xs, ys, strict=True)]
    (ax, ay), (bx, by) = norm[0], norm[-1]
    dx, dy = bx - ax, by - ay
    length = (dx * dx + dy * dy) ** 0.5

    def below(p: tuple[float, float]) -> float:
        # How far below the chord from the best balance to today a point lies: less load for
        # its disruption than the straight line gives. A point above it is a poor bargain.
        return -(dy * (p[0] - ax) - dx * (p[1] - ay)) / length

    best = max(range(len(points)), key=lambda i: (below(norm[i]), -i))
    return best if below(norm[best]) > 0.05 else 0


def _after(keep, moves, loads, customers) -> tuple[dict, dict]:
    """Return the loads and customers once the moves ``keep`` (indices) are made."""
    load = dict(loads)
    cust = dict(customers)
    for i in keep:
        m = moves[i]
        load[m.src] -= m.load
        load[m.dst] += m.load
        cust[m.src] -= m.customers
        cust[m.dst] += m.customers
    return load, cust


def _point(keep, moves, load, cust, capacity) -> FrontierPoint:
    return FrontierPoint(
        keep=tuple(sorted(keep)),
        after_max=max(load.values(), default=0.0),
        disruption=sum(moves[i].disruption for i in keep),
        customers=sum(moves[i].customers for i in keep),
        over_capacity=sum(max(0, c - capacity.get(s, c)) for s, c in cust.items()),
    )


def _cheapest_return(keep, moves, load, cust, capacity) -> int | None:
    """Return the kept move whose return to its owner costs the least balance per unit of
    disruption saved, among those that leave its owner within capacity (so the customers above
    capacity never grow along the curve); None if no move may go back."""
    top = sorted(load.items(), key=lambda kv: kv[1], reverse=True)[:3]
    best_key, best = None, None
    for i in keep:
        m = moves[i]
        back = cust[m.src] + m.customers
        if back > capacity.get(m.src, back):
            continue  # the move is what keeps its giver within capacity
        others = next((v for k, v in top if k not in (m.src, m.dst)), None)
        if others is None:
            others = max((v for k, v in load.items() if k not in (m.src, m.dst)), default=0.0)
        new_max = max(others, load[m.src] + m.load, load[m.dst] - m.load)
        rise = max(0.0, new_max - top[0][1])
        key = (rise / max(m.disruption, EPS), -m.disruption, i)
        if best_key is None or key < best_key:
            best_key, best = key, i
    return best


def _non_dominated(points: list[FrontierPoint]) -> list[FrontierPoint]:
    """Return the points no other point beats on customers above capacity, balance and
    disruption (capacity first), best balance first."""
    out: list[FrontierPoint] = []
    for p in sorted(points, key=lambda p: (p.disruption, p.over_capacity, p.after_max)):
        if not any(
            q.over_capacity <= p.over_capacity and q.after_max <= p.after_max + EPS for q in out
        ):
            out.append(p)
    return sorted(out, key=lambda p: (p.over_capacity, p.after_max, p.disruption))


def _thin(points: list[FrontierPoint], most: int, before_max: float) -> list[FrontierPoint]:
    """Return at most ``most`` points spread along the curve, keeping both ends and the knee."""
    if len(points) <= most:
        return points
    k = knee(points, before_max=before_max)
    wanted = {0, len(points) - 1, k}
    step = (len(points) - 1) / (most - 1)
    for j in range(most):
        if len(wanted) >= most:
            break
        wanted.add(round(j * step))
    return [points[i] for i in sorted(wanted)]
