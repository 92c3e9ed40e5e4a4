"""What a specialist who leaves (or goes on leave) leaves behind: their grids, customers, open
tasks and the premium falling due, for a supervisor to reassign before the leaving date.
Proposing the new owners is the rebalancer's job (app/services/rebalance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Customer, Grid, Policy, PremiumDue, Specialist, Task, Team
from app.models.enums import (
    OPEN_TASK_STATUSES,
    PolicyStatus,
    SpecialistStatus,
    TaskKind,
    TaskStatus,
)
from app.services.errors import NotFound

PREMIUM_HORIZON_DAYS = 90


@dataclass(frozen=True)
class LeavingGrid:
    id: int
    code: str
    name: str
    district: str | None
    # Pool customers in the grid, whoever serves them.
    customers: int
    locked: bool


@dataclass(frozen=True)
class LeavingCustomer:
    id: int
    customer_no: str
    name: str
    grid_id: int | None
    grid_code: str | None
    open_tasks: int
    premium_due_90d_fen: int
    locked: bool


@dataclass(frozen=True)
class LeavingTask:
    id: int
    task_no: str
    kind: TaskKind
    status: TaskStatus
    customer_id: int
    customer_no: str
    policy_no: str | None
    due_date: date | None
    # Due before the leaving date: the specialist may still do it, or it is overdue already.
    due_before_leaving: bool


@dataclass(frozen=True)
class LeavingImpact:
    """Everything to hand over when a specialist leaves on ``leaving_on``."""

    specialist_id: int
    employee_no: str
    name: str
    status: SpecialistStatus
    team_id: int
    team_code: str
    leaving_on: date
    grids: tuple[LeavingGrid, ...]
    customers: tuple[LeavingCustomer, ...]
    open_tasks: tuple[LeavingTask, ...]
    # Unpaid premium of the customers' in-force policies due in the 90 days from the leaving
    # date (amount due less what has come in).
    premium_due_90d_fen: int

    @property
    def premium_due_90d(self) -> Decimal:
        """The same amount in yuan."""
        return Decimal(self.premium_due_90d_fen) / 100


def leaving_impact(session: Session, *, specialist_id: int, leaving_on: date) -> LeavingImpact:
    """Return the grids, customers and open tasks of a specialist who leaves on ``leaving_on``,
    with the premium falling due in the next 90 days. Raises NotFound."""
    row = session.execute(
        select(
            Specialist.id,
            Specialist.employee_no,
            Specialist.name,
            Specialist.status,
            Specialist.team_id,
            Team.code,
        )
        .join(Team, Team.id == Specialist.team_id)
        .where(Specialist.id == specialist_id)
    ).first()
    if row is None:
        raise NotFound("specialist.not_found", specialist=specialist_id)

    in_grid = (
        select(Customer.grid_id, func.count().label("n"))
        .where(Customer.pool_entered_on.is_not(None), Customer.grid_id.is_not(None))
        .group_by(Customer.grid_id)
        .subquery()
    )
    grids = tuple(
        LeavingGrid(gid, code, name, district, n or 0, bool(locked))
        for gid, code, name, district, n, locked in session.execute(
            select(Grid.id, Grid.code, Grid.name, Grid.district, in_grid.c.n, Grid.locked)
            .outerjoin(in_grid, in_grid.c.grid_id == Grid.id)
            .where(Grid.owner_id == specialist_id)
            .order_by(Grid.code)
        )
    )

    end = leaving_on + timedelta(days=PREMIUM_HORIZON_DAYS)
    received = case(
        (PremiumDue.amount_received_fen > PremiumDue.amount_due_fen, PremiumDue.amount_due_fen),
        else_=PremiumDue.amount_received_fen,
    )
    premium = dict(
        session.execute(
            select(Policy.customer_id, func.sum(PremiumDue.amount_due_fen - received))
            .join(PremiumDue, PremiumDue.policy_id == Policy.id)
            .join(Customer, Customer.id == Policy.customer_id)
            .where(
                Customer.specialist_id == specialist_id,
                Policy.status == PolicyStatus.IN_FORCE,
                PremiumDue.due_date >= leaving_on,
                PremiumDue.due_date < end,
            )
            .group_by(Policy.customer_id)
        ).all()
    )
    tasks_of = dict(
        session.execute(
            select(Task.customer_id, func.count())
            .where(Task.specialist_id == specialist_id, Task.status.in_(OPEN_TASK_STATUSES))
            .group_by(Task.customer_id)
        ).all()
    )
    customers = tuple(
        LeavingCustomer(
            cid, no, name, gid, gcode, tasks_of.get(cid, 0), int(premium.get(cid) or 0), bool(lk)
        )
        for cid, no, name, gid, gcode, lk in session.execute(
            select(
                Customer.id,
                Customer.customer_no,
                Customer.name,
                Customer.grid_id,
                Grid.code,
                Customer.locked,
            )
            .outerjoin(Grid, Grid.id == Customer.grid_id)
            .where(Customer.specialist_id == specialist_id)
            .order_by(Grid.code.is_(None), Grid.code, Customer.customer_no)
        )
    )

    tasks = tuple(
        LeavingTask(
            tid,
            no,
            TaskKind(kind),
            TaskStatus(status),
            cid,
            cno,
            pno,
            due,
            due is not None and due < leaving_on,
        )
        for tid, no, kind, status, cid, cno, pno, due in session.execute(
            select(
                Task.id,
                Task.task_no,
                Task.kind,
                Task.status,
                Task.customer_id,
                Customer.customer_no,
                Policy.policy_no,
                Task.due_date,
            )
            .join(Customer, Customer.id == Task.customer_id)
            .outerjoin(Policy, Policy.id == Task.policy_id)
            .where(Task.specialist_id == specialist_id, Task.status.in_(OPEN_TASK_STATUSES))
            .order_by(Task.due_date.is_(None), Task.due_date, Task.task_no)
        )
    )
    return LeavingImpact(
        specialist_id=row[0],
        employee_no=row[1],
        name=row[2],
        status=SpecialistStatus(row[3]),
        team_id=row[4],
        team_code=row[5],
        leaving_on=leaving_on,
        grids=grids,
        customers=customers,
        open_tasks=tasks,
        premium_due_90d_fen=sum(c.premium_due_90d_fen for c in customers),
    )
