"""Coverage: pool customers with no grid, grids with no active specialist, and customers per
specialist against capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Customer, Grid, Specialist, Team
from app.models.enums import GridStatus, SpecialistStatus


@dataclass(frozen=True)
class UncoveredGrid:
    grid_id: int
    code: str
    name: str
    owner_name: str | None
    reason: str  # "no owner", "owner on leave", "owner left"
    customers: int


@dataclass(frozen=True)
class Load:
    specialist_id: int
    employee_no: str
    name: str
    team: str
    customers: int
    capacity: int

    @property
    def share(self) -> float | None:
        return self.customers / self.capacity if self.capacity else None


@dataclass(frozen=True)
class Coverage:
    unmatched_customers: int
    uncovered_grids: list[UncoveredGrid]
    loads: list[Load]

    @property
    def over_capacity(self) -> list[Load]:
        return [x for x in self.loads if x.share is not None and x.share > 1]


def coverage_report(session: Session, *, branch_id: int, as_of: date | None = None) -> Coverage:
    """Return the coverage gaps of the branch."""
    unmatched = session.scalar(
        select(func.count()).where(
            Customer.branch_id == branch_id,
            Customer.pool_entered_on.is_not(None),
            Customer.grid_id.is_(None),
        )
    )
    owner = aliased(Specialist)
    per_grid = (
        select(Customer.grid_id, func.count().label("n")).group_by(Customer.grid_id).subquery()
    )
    not_active = or_(owner.id.is_(None), owner.status != SpecialistStatus.ACTIVE)
    if as_of is not None:
        not_active = or_(not_active, and_(owner.left_on.is_not(None), owner.left_on <= as_of))
    uncovered = []
    for gid, code, name, oname, status, _left_on, n in session.execute(
        select(Grid.id, Grid.code, Grid.name, owner.name, owner.status, owner.left_on, per_grid.c.n)
        .outerjoin(owner, owner.id == Grid.owner_id)
        .outerjoin(per_grid, per_grid.c.grid_id == Grid.id)
        .where(Grid.branch_id == branch_id, Grid.status == GridStatus.ACTIVE, not_active)
        .order_by(Grid.code)
    ):
        if oname is None:
            reason = "no owner"
        elif str(getattr(status, "value", status)) == "leave":
            reason = "owner on leave"
        else:
            reason = "owner left"
        uncovered.append(UncoveredGrid(gid, code, name, oname, reason, int(n or 0)))
    counts = {
        sid: n
        for sid, n in session.execute(
            select(Customer.specialist_id, func.count())
            .where(Customer.branch_id == branch_id)
            .group_by(Customer.specialist_id)
        )
    }
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
            .where(Specialist.branch_id == branch_id, Specialist.status == SpecialistStatus.ACTIVE)
            .order_by(Specialist.employee_no)
        )
    ]
    return Coverage(unmatched_customers=int(unmatched or 0), uncovered_grids=uncovered, loads=loads)
