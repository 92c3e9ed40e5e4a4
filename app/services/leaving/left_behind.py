"""What a hand-over leaves behind, and giving it to one specialist.

A hand-over plan (:mod:`.handover`) moves the leaver's unlocked grids and the customers outside
them; what it cannot move is reported as :class:`LeftBehind`. The supervisor may then give the
unlocked customers left behind (those in locked grids or without a grid) to one specialist in
scope: :func:`with_left_behind` adds them to the plan as single-customer moves, applied and
undone with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Customer, Grid, Task
from app.models.enums import OPEN_TASK_STATUSES
from app.services.database.sqlfuncs import chunks
from app.services.errors import NotAllowed
from app.services.messages import Message
from app.services.rebalance.dues import premium_due_by_customer
from app.services.rebalance.plan import Plan, PlanError, PlanMove, PlanSpecialist, sequence
from app.services.rebalance.problem import CUSTOMER, GRID
from app.services.rebalance.workload import Weights, grid_versions


@dataclass(frozen=True)
class LeftBehind:
    """What the handover plan cannot move: a person must deal with it."""

    locked_grids: tuple[str, ...]  # grid codes
    # Customers of the leaver who stay with them: locked, in a locked grid, or without a grid.
    locked_customers: int
    customers_in_locked_grids: int
    customers_without_grid: int
    # Open tasks the leaver holds for customers who stay with them or are served by others.
    open_tasks_staying: int

    @property
    def to_give(self) -> int:
        """Unlocked customers left behind, whom :func:`with_left_behind` can add to the plan."""
        return self.locked_customers + self.customers_in_locked_grids + self.customers_without_grid

    @property
    def anything(self) -> bool:
        return bool(
            self.locked_grids
            or self.locked_customers
            or self.customers_in_locked_grids
            or self.customers_without_grid
            or self.open_tasks_staying
        )


@dataclass(frozen=True)
class Handover:
    plan: Plan
    leaver_no: str
    left_behind: LeftBehind
    # Customers left behind that with_left_behind added to the plan, and who takes them.
    given: int = 0
    given_to: str | None = None


def left_behind_targets(handover: Handover, *, may_cross_teams: bool) -> list[PlanSpecialist]:
    """Return who may take the customers the plan leaves behind: the specialists in the plan's
    scope other than the leaver, of the leaver's team unless the user may move work across
    teams; by team, then employee number."""
    plan = handover.plan
    team = plan.specialist(handover.leaver_no).team_code
    return sorted(
        (
            s
            for s in plan.specialists
            if s.employee_no != handover.leaver_no and (may_cross_teams or s.team_code == team)
        ),
        key=lambda s: (s.team_code, s.employee_no),
    )


def with_left_behind(
    session: Session, handover: Handover, *, to_employee_no: str, may_cross_teams: bool
) -> Handover:
    """Return the handover with the unlocked customers it leaves behind (in locked grids,
    without a grid), as they are now, added as single-customer moves to ``to_employee_no``;
    their open tasks held by the leaver go with them, as with every move.

    Locked customers stay out: applying a plan keeps a locked customer with their specialist
    and refuses a plan that moves one. Raises PlanError when that specialist is the leaver or
    outside the plan's scope, or when nothing is left to add; NotAllowed for someone of another
    team when the user may not move work across teams."""
    plan, leaver_no = handover.plan, handover.leaver_no
    if to_employee_no == leaver_no:
        raise PlanError("handover.to_leaver", leaver=leaver_no)
    try:
        target = plan.specialist(to_employee_no)
    except KeyError:
        raise PlanError("handover.not_in_scope", specialist=to_employee_no) from None
    if target not in left_behind_targets(handover, may_cross_teams=may_cross_teams):
        raise NotAllowed(
            "handover.crosses_teams",
            leaver=leaver_no,
            target=Message("who.person", name=target.name, employee_no=to_employee_no),
        )
    leaver = plan.specialist(leaver_no)
    moved_grids = {m.grid_id for m in plan.moves if m.kind == GRID}
    in_plan = {m.customer_id for m in plan.moves if m.customer_id is not None}
    for g in moved_grids:
        in_plan.update(plan.grid_customers.get(g, ()))
    rows = [
        r
        for r in session.execute(
            select(
                Customer.id,
                Customer.customer_no,
                Customer.grid_id,
                Customer.locked,
                Customer.version,
                Grid.code,
            )
            .outerjoin(Grid, Grid.id == Customer.grid_id)
            .where(Customer.specialist_id == leaver.id)
            .order_by(Customer.customer_no)
        )
        # A locked customer does not follow their grid: named on their own, wherever they are.
        if r.id not in in_plan and (r.locked or r.grid_id not in moved_grids)
    ]
    if not rows:
        raise PlanError("handover.nothing_left_behind", leaver=leaver_no)
    loads = customer_loads(session, [r.id for r in rows], leaver.id, plan.as_of, plan.weights)
    added = tuple(
        PlanMove(
            kind=CUSTOMER,
            # A customer without a grid has none: applying matches the customer's grid as None.
            grid_id=r.grid_id,  # type: ignore[arg-type]
            grid_code=r.code or "—",
            customer_id=r.id,
            customer_no=r.customer_no,
            from_no=leaver_no,
            to_no=to_employee_no,
            load=loads[r.id][0],
            customers=1,
        )
        for r in rows
    )
    given = replace(
        plan,
        moves=sequence(plan.moves + added, plan.loads_before()),
        customer_versions={**plan.customer_versions, **{r.id: r.version for r in rows}},
        grid_versions={**grid_versions(session, [r.grid_id for r in rows]), **plan.grid_versions},
    )
    return replace(
        handover,
        plan=given,
        left_behind=replace(
            handover.left_behind,
            locked_customers=0,
            customers_in_locked_grids=0,
            customers_without_grid=0,
            open_tasks_staying=tasks_staying(session, leaver.id, in_plan | {r.id for r in rows}),
        ),
        given=handover.given + len(rows),
        given_to=to_employee_no,
    )


def tasks_staying(session: Session, holder_id: int, moved: Iterable[int]) -> int:
    """Return how many open tasks ``holder_id`` holds for customers outside ``moved``."""
    moved = set(moved)
    held = session.execute(
        select(Task.customer_id).where(
            Task.specialist_id == holder_id, Task.status.in_(OPEN_TASK_STATUSES)
        )
    ).scalars()
    return sum(1 for c in held if c not in moved)


def customer_loads(
    session: Session, ids: list[int], holder_id: int, as_of: date, weights: Weights
) -> dict[int, tuple[float, int]]:
    """Return customer id -> (load, open tasks held by ``holder_id``) for the given customers."""
    if not ids:
        return {}
    tasks: dict[int, int] = {}
    premium: dict[int, int] = {}
    for chunk in chunks(ids):
        tasks.update(
            session.execute(
                select(Task.customer_id, func.count())
                .where(
                    Task.customer_id.in_(chunk),
                    Task.specialist_id == holder_id,
                    Task.status.in_(OPEN_TASK_STATUSES),
                )
                .group_by(Task.customer_id)
            ).all()
        )
        premium.update(premium_due_by_customer(session, chunk, as_of))
    return {
        c: (weights.load(1, tasks.get(c, 0), int(premium.get(c, 0))), tasks.get(c, 0)) for c in ids
    }
