"""Coverage (DOMAIN.md): pool customers with no grid (those waiting in the unmatched queue apart
from those marked outside coverage), active grids with no active specialist,
and customers per specialist against capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Customer, Grid, Specialist, Team
from app.models.enums import GridStatus, SpecialistStatus
from app.services.intake.coverage import open_mark


@dataclass(frozen=True)
class UncoveredGrid:
    grid_id: int
    code: str
    name: str
    owner_name: str | None
    reason: str  # "no owner", "owner on leave", "owner left"
    customers: int  # pool customers in the grid


@dataclass(frozen=True)
class Load:
    specialist_id: int
    employee_no: str
    name: str
    team: str
    customers: int  # pool customers served now
    capacity: int

    @property
    def share(self) -> float | None:
        """Customers over capacity (1.0 = full); None when the capacity is 0."""
        return self.customers / self.capacity if self.capacity else None


@dataclass(frozen=True)
class Coverage:
    unmatched_customers: int  # in the pool with no grid, waiting in the unmatched queue
    unserved_customers: int  # in the pool with no specialist, or one no longer active
    uncovered_grids: list[UncoveredGrid]
    loads: list[Load]  # every active specialist, by employee number
    # In the pool with no grid, their address marked outside the branch's coverage.
    outside_coverage_customers: int = 0

    @property
    def over_capacity(self) -> list[Load]:
        return [x for x in self.loads if x.share is not None and x.share > 1]


def coverage_report(session: Session, *, branch_id: int, as_of: date | None = None) -> Coverage:
    """Return the coverage gaps of the branch. A specialist is active when their status is
    active and, given ``as_of``, they have not left on or before it."""
    in_pool = and_(Customer.branch_id == branch_id, Customer.pool_entered_on.is_not(None))
    no_grid, outside = session.execute(
        select(func.count(), func.sum(case((open_mark(), 1), else_=0)))
        .select_from(Customer)
        .where(in_pool, Customer.grid_id.is_(None))
    ).one()
    owner = aliased(Specialist)
    inactive = or_(owner.id.is_(None), owner.status != SpecialistStatus.ACTIVE)
    if as_of is not None:
        inactive = or_(inactive, and_(owner.left_on.is_not(None), owner.left_on <= as_of))
    unserved = session.scalar(
        select(func.count())
        .select_from(Customer)
        .outerjoin(owner, owner.id == Customer.specialist_id)
        .where(in_pool, inactive)
    )
    per_grid = (
        select(Customer.grid_id, func.count().label("n"))
        .where(in_pool)
        .group_by(Customer.grid_id)
        .subquery()
    )
    uncovered = []
    for gid, code, name, oname, status, n in session.execute(
        select(Grid.id, Grid.code, Grid.name, owner.name, owner.status, per_grid.c.n)
        .outerjoin(owner, owner.id == Grid.owner_id)
        .outerjoin(per_grid, per_grid.c.grid_id == Grid.id)
        .where(Grid.branch_id == branch_id, Grid.status == GridStatus.ACTIVE, inactive)
        .order_by(Grid.code)
    ):
        if oname is None:
            reason = "no owner"
        elif status == SpecialistStatus.LEAVE:
            reason = "owner on leave"
        else:
            reason = "owner left"
        uncovered.append(UncoveredGrid(gid, code, name, oname, reason, int(n or 0)))
    counts: dict[int | None, int] = {
        sid: n
        for sid, n in session.execute(
            select(Customer.specialist_id, func.count())
            .where(in_pool)
            .group_by(Customer.specialist_id)
        )
    }
    active = Specialist.status == SpecialistStatus.ACTIVE
    if as_of is not None:
        active = and_(active, or_(Specialist.left_on.is_(None), Specialist.left_on > as_of))
    loads = [
        Load(sid, emp, name, team, counts.get(sid, 0), cap)
        for sid, emp, name, team, cap in session.execute(
            select(
                Specialist.id,
                Specialist.employee_no,
                Specialist.name,
                Team.name,
                Specialist.capacity,
            )
            .join(Team, Team.id == Specialist.team_id)
            .where(Specialist.branch_id == branch_id, active)
            .order_by(Specialist.employee_no)
        )
    ]
    return Coverage(
        unmatched_customers=int(no_grid or 0) - int(outside or 0),
        outside_coverage_customers=int(outside or 0),
        unserved_customers=int(unserved or 0),
        uncovered_grids=uncovered,
        loads=loads,
    )
