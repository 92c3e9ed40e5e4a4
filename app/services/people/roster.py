"""The specialist roster: one row per specialist with workload and results, and the detail
of one specialist (customers, grids, assignment history)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import AssignmentEvent, Customer, Grid, Specialist, Task, Team
from app.models.enums import OPEN_TASK_STATUSES, ContractType, SpecialistStatus, TaskStatus
from app.services.clock import start_of_day
from app.services.metrics.activity import WHOLE_WEEKS, branch_zone, week_monday, whole_weeks
from app.services.metrics.handoff import OnTime, on_time_shares
from app.services.periods import Period, add_months


@dataclass(frozen=True)
class RosterRow:
    specialist_id: int
    employee_no: str
    name: str
    phone: str | None
    team_id: int
    team_name: str
    contract_type: ContractType
    status: SpecialistStatus
    hire_date: date | None
    grid_codes: tuple[str, ...]
    customers: int
    capacity: int
    open_tasks: int
    overdue_tasks: int
    persistency_13: Decimal | None
    # Cumulative conversion to each 4-sell step over the last 12 months' pool entrants.
    conversion: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]
    tasks_done_per_week: float
    equity_gap: Decimal | None
    equity_flag: bool
    # First contact within the branch's target, over the last 90 days of pool entries
    # (app.services.metrics.handoff.on_time_shares); None: nobody settled yet.
    contact_on_time: OnTime | None = None
    # The policies past their grace period that the persistency rests on.
    persistency_policies: int = 0

    @property
    def load(self) -> float | None:
        """Customers served as a share of capacity."""
        return self.customers / self.capacity if self.capacity else None


WEEKS_AVERAGED = WHOLE_WEEKS  # "tasks done / week" is the mean of this many whole weeks


def trailing_year(as_of: date) -> Period:
    """Return the twelve whole months before ``as_of``'s month, as one period."""
    first = add_months(as_of.replace(day=1), -12)
    last = as_of.replace(day=1) - timedelta(days=1)
    return Period(first, last, f"{first:%Y-%m}…{last:%Y-%m}")


def roster(
    session: Session,
    *,
    branch_id: int,
    as_of: date,
    team_ids: Collection[int] | None = None,
) -> list[RosterRow]:
    """Return the roster of the branch (or of the given teams), by team then employee number."""
    sp = (
        select(
            Specialist.id,
            Specialist.employee_no,
            Specialist.name,
            Specialist.phone,
            Specialist.team_id,
            Team.name,
            Specialist.contract_type,
            Specialist.status,
            Specialist.hire_date,
            Specialist.capacity,
        )
        .join(Team, Team.id == Specialist.team_id)
        .where(Specialist.branch_id == branch_id)
    )
    if team_ids is not None:
        sp = sp.where(Specialist.team_id.in_(list(team_ids)))
    people = session.execute(sp.order_by(Team.code, Specialist.employee_no)).all()
    ids = [p[0] for p in people]
    if not ids:
        return []

    grids: dict[int, list[str]] = defaultdict(list)
    for owner, code in session.execute(
        select(Grid.owner_id, Grid.code).where(Grid.owner_id.in_(ids)).order_by(Grid.code)
    ):
        if owner is not None:  # always: only owned grids were asked for
            grids[owner].append(code)
    customers = {
        sid: n
        for sid, n in session.execute(
            select(Customer.specialist_id, func.count())
            .where(Customer.specialist_id.in_(ids))
            .group_by(Customer.specialist_id)
        )
    }
    is_open = Task.status.in_(OPEN_TASK_STATUSES)
    task_counts = {
        r[0]: (r[1], r[2])
        for r in session.execute(
            select(
                Task.specialist_id,
                func.count(),
                func.sum(case((Task.due_date < as_of, 1), else_=0)),
            )
            .where(is_open, Task.specialist_id.in_(ids))
            .group_by(Task.specialist_id)
        )
    }
    done_per_week = _done_per_week(session, ids, as_of, branch_id)
    on_time = on_time_shares(session, as_of=as_of, branch_id=branch_id, milestones=["contact"])
    results = _results(session, branch_id=branch_id, as_of=as_of, team_ids=team_ids)

    rows = []
    for p in people:
        sid = p[0]
        persistency, conversion, gap, flag, base = results.get(
            sid, (None, (None,) * 4, None, False, 0)
        )
        open_n, overdue_n = task_counts.get(sid, (0, 0))
        rows.append(
            RosterRow(
                specialist_id=sid,
                employee_no=p[1],
                name=p[2],
                phone=p[3],
                team_id=p[4],
                team_name=p[5],
                contract_type=ContractType(p[6]),
                status=SpecialistStatus(p[7]),
                hire_date=p[8],
                grid_codes=tuple(grids.get(sid, ())),
                customers=customers.get(sid, 0),
                capacity=p[9],
                open_tasks=open_n,
                overdue_tasks=int(overdue_n or 0),
                persistency_13=persistency,
                conversion=conversion,
                tasks_done_per_week=done_per_week.get(sid, 0.0),
                equity_gap=gap,
                equity_flag=flag,
                contact_on_time=on_time.get((sid, "contact")),
                persistency_policies=base,
            )
        )
    return rows


@dataclass(frozen=True)
class Unheld:
    """Open tasks nobody holds: customers in grids without an owner, or on the online seat."""

    open_tasks: int
    overdue_tasks: int


def unheld_tasks(session: Session, *, branch_id: int, as_of: date) -> Unheld:
    """Return the branch's open tasks that no specialist holds, and how many are overdue."""
    n, overdue = session.execute(
        select(func.count(), func.sum(case((Task.due_date < as_of, 1), else_=0)))
        .select_from(Task)
        .join(Customer, Customer.id == Task.customer_id)
        .where(
            Customer.branch_id == branch_id,
            Task.specialist_id.is_(None),
            Task.status.in_(OPEN_TASK_STATUSES),
        )
    ).one()
    return Unheld(int(n or 0), int(overdue or 0))


def _done_per_week(
    session: Session, ids: list[int], as_of: date, branch_id: int, weeks: int = WEEKS_AVERAGED
) -> dict[int, float]:
    """Return the tasks each specialist completed per week, averaged over the last ``weeks``
    whole weeks (Monday to Sunday, branch-local; see :func:`activity.whole_weeks`)."""
    first = whole_weeks(as_of, weeks)[0]
    monday = week_monday(first)
    tz = branch_zone(session, branch_id)
    start, end = start_of_day(monday, tz), start_of_day(monday + timedelta(weeks=weeks), tz)
    counts = session.execute(
        select(Task.specialist_id, func.count())
        .where(
            Task.status == TaskStatus.DONE,
            Task.completed_at >= start,
            Task.completed_at < end,
            Task.specialist_id.in_(ids),
        )
        .group_by(Task.specialist_id)
    )
    return {sid: n / weeks for sid, n in counts if sid is not None}


def _results(session, *, branch_id, as_of, team_ids):
    """Return (13-month persistency, cumulative conversion, equity gap, flag, the policies the
    persistency rests on) per specialist."""
    from app.services.metrics.equity import equity_report
    from app.services.metrics.funnel import funnel_report
    from app.services.metrics.persistency import persistency_report

    year = trailing_year(as_of)
    persistency = {
        r.group_key: r
        for r in persistency_report(
            session,
            period=year,
            as_of=as_of,
            by="specialist",
            branch_id=branch_id,
            team_ids=team_ids,
        )
    }
    conversion = {
        r.group_key: r.cumulative_conversion
        for r in funnel_report(
            session, cohort=year, by="specialist", branch_id=branch_id, team_ids=team_ids
        )
    }
    equity = {
        r.specialist_id: r
        for r in equity_report(session, as_of=as_of, branch_id=branch_id, team_ids=team_ids)
    }
    out = {}
    for sid in set(persistency) | set(conversion) | set(equity):
        e = equity.get(sid)
        gap = None if e is None or e.gap_points is None else e.gap_points / 100
        p = persistency.get(sid)
        out[sid] = (
            p.persistency_premium if p else None,
            conversion.get(sid, (None,) * 4),
            gap,
            bool(e and e.flagged),
            p.policies if p else 0,
        )
    return out


# --- one specialist -------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRow:
    id: int
    customer_no: str
    name: str
    phone: str | None
    id_number: str | None
    address: str
    grid_code: str | None
    pool_entered_on: date | None
    step: int
    open_tasks: int


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    what: str  # "customer", "grid" or "task"
    subject: str
    from_name: str | None
    to_name: str | None
    reason: str
    actor: str


def specialist_customers(session: Session, specialist_id: int) -> list[CustomerRow]:
    """Return the customers the specialist serves now, by customer number."""
    open_tasks = (
        select(Task.customer_id, func.count().label("n"))
        .where(Task.specialist_id == specialist_id, Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.customer_id)
        .subquery()
    )
    stmt = (
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.phone,
            Customer.id_number,
            Customer.address,
            Grid.code,
            Customer.pool_entered_on,
            Customer.step,
            func.coalesce(open_tasks.c.n, 0),
        )
        .outerjoin(Grid, Grid.id == Customer.grid_id)
        .outerjoin(open_tasks, open_tasks.c.customer_id == Customer.id)
        .where(Customer.specialist_id == specialist_id)
        .order_by(Customer.customer_no)
    )
    return [CustomerRow(*r) for r in session.execute(stmt)]


def specialist_history(
    session: Session, specialist_id: int, *, limit: int = 500
) -> list[HistoryRow]:
    """Return the newest assignment changes to or from the specialist."""
    src, dst = aliased(Specialist), aliased(Specialist)
    stmt = (
        select(
            AssignmentEvent.at,
            AssignmentEvent.customer_id,
            AssignmentEvent.grid_id,
            AssignmentEvent.task_id,
            Customer.name,
            Grid.code,
            Task.task_no,
            src.name,
            dst.name,
            AssignmentEvent.reason,
            AssignmentEvent.actor,
        )
        .outerjoin(Customer, Customer.id == AssignmentEvent.customer_id)
        .outerjoin(Grid, Grid.id == AssignmentEvent.grid_id)
        .outerjoin(Task, Task.id == AssignmentEvent.task_id)
        .outerjoin(src, src.id == AssignmentEvent.from_specialist_id)
        .outerjoin(dst, dst.id == AssignmentEvent.to_specialist_id)
        .where(
            or_(
                AssignmentEvent.from_specialist_id == specialist_id,
                AssignmentEvent.to_specialist_id == specialist_id,
            )
        )
        .order_by(AssignmentEvent.at.desc(), AssignmentEvent.id.desc())
        .limit(limit)
    )
    out = []
    for r in session.execute(stmt):
        if r[1] is not None:
            what, subject = "customer", r[4]
        elif r[2] is not None:
            what, subject = "grid", r[5]
        else:
            what, subject = "task", r[6]
        out.append(HistoryRow(r[0], what, subject or "", r[7], r[8], str(r[9]), r[10]))
    return out
