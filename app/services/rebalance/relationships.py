"""What moving customers would break, read from the database: per grid (its owner's unlocked
customers, who follow it) and per customer, the disruption weighed by ``MoveCosts`` and how many
customers have a relationship to lose (4-sell step 2 or more)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Customer, Grid
from app.services.rebalance.disruption import RELATIONSHIP_STEP, MoveCosts
from app.services.rebalance.followers import following

_CHUNK = 500


@dataclass(frozen=True)
class Disruption:
    """What moving some customers breaks."""

    cost: float = 0.0
    customers: int = 0
    # Of them, those at 4-sell step 2 or more: the relationship the programme exists to build.
    broken: int = 0


def _recently_moved(as_of: date, costs: MoveCosts) -> ColumnElement[bool]:
    """A move that took effect in the recent window (by its effective day: an imported history
    recorded today of a change made years ago is not recent)."""
    e = AssignmentEvent
    return exists(
        select(e.id).where(
            e.customer_id == Customer.id,
            e.effective_on >= costs.recent_since(as_of),
            e.effective_on <= as_of,
            e.from_specialist_id.is_not(None),
        )
    )


def grid_disruption(
    session: Session,
    grid_ids: Iterable[int],
    *,
    as_of: date,
    costs: MoveCosts,
    keep_from_step: int | None = None,
) -> dict[int, Disruption]:
    """Return, per grid, what moving it to another owner breaks (customers kept in place by
    ``keep_from_step`` do not go with it and break nothing)."""
    return _disruption(session, Grid.id, sorted(set(grid_ids)), as_of, costs, keep_from_step)


def customer_disruption(
    session: Session, customer_ids: Iterable[int], *, as_of: date, costs: MoveCosts
) -> dict[int, Disruption]:
    """Return, per customer, what moving them alone breaks."""
    return _disruption(session, Customer.id, sorted(set(customer_ids)), as_of, costs)


def _disruption(
    session: Session,
    key,
    ids: Sequence[int],
    as_of: date,
    costs: MoveCosts,
    keep_from_step: int | None = None,
) -> dict[int, Disruption]:
    recent = _recently_moved(as_of, costs)
    sums: dict[int, list[float]] = {}
    for i in range(0, len(ids), _CHUNK):
        each = (
            select(key.label("k"), Customer.step.label("step"), recent.label("recent"))
            .select_from(Customer)
            .join(Grid, Grid.id == Customer.grid_id)
            .where(key.in_(ids[i : i + _CHUNK]), following(keep_from_step))
            .subquery()
        )
        rows = session.execute(
            select(each.c.k, each.c.step, each.c.recent, func.count()).group_by(
                each.c.k, each.c.step, each.c.recent
            )
        )
        for k, step, moved, n in rows:
            acc = sums.setdefault(k, [0.0, 0, 0])
            acc[0] += costs.cost(step or 0, bool(moved)) * n
            acc[1] += n
            acc[2] += n if (step or 0) >= RELATIONSHIP_STEP else 0
    return {k: Disruption(v[0], int(v[1]), int(v[2])) for k, v in sums.items()}
