"""What each grid of a plan's scope would take to a new owner, read for giving grids by hand
(on the rebalance page's map) under the same rules the plan was made with.

The figures come from the rebalancer's own readers (:func:`~.workload.grid_loads`,
:func:`~.workload.followers`, :func:`~.relationships.grid_disruption`), with the plan's
weights, as-of date, step lock and move costs, so a grid added by hand weighs exactly what it
would have weighed in the proposal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.services.rebalance.followers import followers
from app.services.rebalance.plan import Plan
from app.services.rebalance.relationships import grid_disruption
from app.services.rebalance.workload import grid_loads


@dataclass(frozen=True)
class GridOffer:
    """One grid as it would go to a new owner: its owner (employee number), whether it is
    locked, its version as read with its owner, its load, and the customers who follow it
    (the owner's unlocked customers in it, those the plan keeps for their step left out) with
    their versions."""

    grid_id: int
    code: str
    owner_no: str
    locked: bool
    version: int
    load: float
    customer_ids: tuple[int, ...]
    customer_versions: tuple[int, ...]
    disruption: float = 0.0
    broken: int = 0

    @property
    def customers(self) -> int:
        return len(self.customer_ids)


def read_grid_offers(session: Session, plan: Plan) -> dict[str, GridOffer]:
    """Return, by grid code, every active grid owned by one of the plan's specialists (the
    plan's scope) with what it would take to a new owner under the plan's rules."""
    owners = {s.id: s.employee_no for s in plan.specialists}
    keep = plan.keep_from_step
    grids = [
        g
        for g in grid_loads(
            session,
            branch_id=plan.branch_id,
            as_of=plan.as_of,
            weights=plan.weights,
            keep_from_step=keep,
            # A team's plan reads its own grids only (the whole branch for a branch's plan).
            owners=list(owners) if plan.scope else None,
        )
        if g.owner_id in owners
    ]
    ids = [g.grid_id for g in grids]
    follow: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in followers(session, ids, keep_from_step=keep):
        follow[f.grid_id].append((f.customer_id, f.version))
    hurt = grid_disruption(
        session, ids, as_of=plan.as_of, costs=plan.move_costs, keep_from_step=keep
    )
    offers = {}
    for g in grids:
        assert g.owner_id is not None  # filtered above
        who = follow.get(g.grid_id, [])
        d = hurt.get(g.grid_id)
        offers[g.code] = GridOffer(
            grid_id=g.grid_id,
            code=g.code,
            owner_no=owners[g.owner_id],
            locked=g.locked,
            version=g.version,
            load=g.load,
            customer_ids=tuple(c for c, _ in who),
            customer_versions=tuple(v for _, v in who),
            disruption=d.cost if d else 0.0,
            broken=d.broken if d else 0,
        )
    return offers
