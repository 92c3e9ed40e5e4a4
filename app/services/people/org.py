"""Lookups of teams, specialists and grids for pickers and filters."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Grid, Specialist, Team
from app.models.enums import SpecialistStatus


@dataclass(frozen=True)
class TeamRef:
    id: int
    code: str
    name: str
    supervisor_name: str | None


@dataclass(frozen=True)
class SpecialistRef:
    id: int
    employee_no: str
    name: str
    team_id: int
    status: SpecialistStatus

    @property
    def label(self) -> str:
        return f"{self.name} ({self.employee_no})"


@dataclass(frozen=True)
class GridRef:
    id: int
    code: str
    name: str
    district: str | None
    owner_id: int | None


@dataclass(frozen=True)
class BranchRef:
    id: int
    code: str
    name: str
    city: str
    grace_days: int
    timezone: str = "Asia/Shanghai"


def branch(session: Session, branch_id: int) -> BranchRef:
    b = session.get(Branch, branch_id)
    if b is None:
        raise LookupError(f"branch {branch_id} does not exist")
    return BranchRef(b.id, b.code, b.name, b.city, b.grace_days, b.timezone)


def teams(
    session: Session, *, branch_id: int, team_ids: Collection[int] | None = None
) -> list[TeamRef]:
    """Return the branch's teams (those in ``team_ids`` when given), by code."""
    stmt = select(Team.id, Team.code, Team.name, Team.supervisor_name).where(
        Team.branch_id == branch_id
    )
    if team_ids is not None:
        stmt = stmt.where(Team.id.in_(list(team_ids)))
    return [TeamRef(*r) for r in session.execute(stmt.order_by(Team.code))]


def specialists(
    session: Session,
    *,
    branch_id: int,
    team_ids: Collection[int] | None = None,
    active_only: bool = False,
) -> list[SpecialistRef]:
    """Return the branch's specialists (in the given teams), by employee number."""
    stmt = select(
        Specialist.id,
        Specialist.employee_no,
        Specialist.name,
        Specialist.team_id,
        Specialist.status,
    ).where(Specialist.branch_id == branch_id)
    if team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(team_ids)))
    if active_only:
        stmt = stmt.where(Specialist.status == SpecialistStatus.ACTIVE)
    return [
        SpecialistRef(r[0], r[1], r[2], r[3], SpecialistStatus(r[4]))
        for r in session.execute(stmt.order_by(Specialist.employee_no))
    ]


def grids(session: Session, *, branch_id: int) -> list[GridRef]:
    stmt = select(Grid.id, Grid.code, Grid.name, Grid.district, Grid.owner_id).where(
        Grid.branch_id == branch_id
    )
    return [GridRef(*r) for r in session.execute(stmt.order_by(Grid.code))]


@dataclass(frozen=True)
class AgentRow:
    """A departed agent: their customers, how many are in the pool already, and how many an
    intake would take in now (not in the pool yet, with a policy in force)."""

    id: int
    agent_code: str
    name: str
    left_on: date | None
    customers: int
    in_pool: int
    waiting: int

    @property
    def no_policy_in_force(self) -> int:
        """Customers outside the pool with no policy in force: intake leaves them out."""
        return self.customers - self.in_pool - self.waiting


def departed_agents(session: Session, *, branch_id: int) -> list[AgentRow]:
    """Return the branch's departed agents, those with customers waiting for intake first."""
    from sqlalchemy import and_, case, exists, func

    from app.models import Customer, DepartedAgent, Policy
    from app.models.enums import PolicyStatus

    in_force = exists().where(
        Policy.customer_id == Customer.id, Policy.status == PolicyStatus.IN_FORCE
    )
    stmt = (
        select(
            DepartedAgent.id,
            DepartedAgent.agent_code,
            DepartedAgent.name,
            DepartedAgent.left_on,
            func.count(Customer.id),
            func.coalesce(func.sum(case((Customer.pool_entered_on.is_not(None), 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((and_(Customer.pool_entered_on.is_(None), in_force), 1), else_=0)),
                0,
            ),
        )
        .outerjoin(Customer, Customer.agent_id == DepartedAgent.id)
        .where(DepartedAgent.branch_id == branch_id)
        .group_by(
            DepartedAgent.id, DepartedAgent.agent_code, DepartedAgent.name, DepartedAgent.left_on
        )
    )
    rows = [AgentRow(*r) for r in session.execute(stmt)]
    return sorted(
        rows, key=lambda r: (r.waiting == 0, -(r.left_on.toordinal() if r.left_on else 0))
    )


def senior_supervisors(session: Session, *, branch_id: int) -> list[str]:
    """Return the display names of the branch's active senior supervisors (who to ask)."""
    from app.models import User
    from app.models.enums import Role

    return list(
        session.scalars(
            select(User.display_name)
            .where(
                User.branch_id == branch_id,
                User.role == Role.SENIOR_SUPERVISOR,
                User.active.is_(True),
            )
            .order_by(User.display_name)
        )
    )
