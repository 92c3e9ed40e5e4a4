"""Who goes with a grid to a new owner: the customers its owner serves, unlocked, and below the
step a plan keeps from (:func:`following`, the condition every rebalancing query shares), and
who they are for a set of grids (:func:`followers`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.models import Customer, Grid
from app.services.database.sqlfuncs import chunks as id_chunks

_chunks = partial(id_chunks, size=500)  # this module's IN (...) lists


def following(keep_from_step: int | None = None):
    """Conditions under which a customer goes with their grid: served by its owner, unlocked,
    and below ``keep_from_step`` when the plan keeps customers from that 4-sell step on."""
    # "+ 0": every caller knows the grids, so the customers are found by grid. Left to itself,
    # SQLite (no statistics) walked each grid owner's customers by specialist instead, all
    # 1,500 of them per grid on the large demo: 4.0 s instead of 0.65 s for the branch's loads.
    follows = and_((Customer.specialist_id + 0) == Grid.owner_id, Customer.locked.is_(False))
    if keep_from_step is not None:
        return and_(follows, Customer.step < keep_from_step)
    return follows


@dataclass(frozen=True)
class Follower:
    customer_id: int
    customer_no: str
    grid_id: int
    version: int


def followers(
    session: Session, grid_ids: Iterable[int], *, keep_from_step: int | None = None
) -> list[Follower]:
    """Return who would follow the given grids to a new owner (ids and versions only), by grid
    then customer number."""
    result = []
    for chunk in _chunks(sorted(set(grid_ids))):
        rows = session.execute(
            select(Customer.id, Customer.customer_no, Customer.grid_id, Customer.version)
            .join(Grid, Grid.id == Customer.grid_id)
            .where(Grid.id.in_(chunk), following(keep_from_step))
        )
        result += [Follower(r[0], r[1], r[2], r[3]) for r in rows if r[2] is not None]
    result.sort(key=lambda f: (f.grid_id, f.customer_no))
    return result
