"""The figures of the meeting workbook, read from the metrics services as plain data.

Nothing is computed here that a metrics service computes: persistency, the funnel, activity,
equity and coverage come from ``app.services.metrics``; this module only picks the scope, the
months of the trend and the overdue tasks, and names the specialists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch, Customer, Grid, Specialist, Team
from app.services.clock import branch_tz
from app.services.exports.files import contact_masks, shows_contact_data
from app.services.exports.scope import ExportScope
from app.services.messages import Message
from app.services.metrics.activity import (
    WHOLE_WEEKS,
    SpecialistActivity,
    activity_report,
    recent_weeks,
)
from app.services.metrics.coverage import Coverage, coverage_report
from app.services.metrics.equity import DEFAULT_THRESHOLD_POINTS, EquityRow, equity_report
from app.services.metrics.funnel import FunnelRow, funnel_report
from app.services.metrics.handoff import (
    HandoffTargets,
    handoff_targets,
    persistency_by_contact_band,
)
from app.services.metrics.persistency import (
    PersistencyRow,
    PersistencyYoY,
    TrendPoint,
    persistency_trend,
    persistency_with_yoy,
)
from app.services.people.auth import UserInfo
from app.services.periods import Period, last_months
from app.services.progress import JobState, NullState, check
from app.services.tasks.queue import TaskFilter, TaskRow, task_ids, task_rows

ACTIVITY_WEEKS = WHOLE_WEEKS


def activity_weeks(as_of: date) -> list[str]:
    """Return the weeks of the activity sheet: the last ACTIVITY_WEEKS whole weeks (those the
    roster's weekly average covers) and the week of ``as_of``, up to that day."""
    return recent_weeks(as_of, ACTIVITY_WEEKS + 1)


TREND_MONTHS = 12


@dataclass(frozen=True)
class Person:
    employee_no: str
    name: str
    team: str

    @property
    def label(self) -> str:
        return f"{self.employee_no} {self.name}"


@dataclass(frozen=True)
class OverdueTask:
    task: TaskRow
    phone: str  # masked unless the user may see contact data
    days_overdue: int


@dataclass(frozen=True)
class MeetingData:
    branch_name: str
    scope: ExportScope
    period: Period
    as_of: date
    exported_by: str | None  # None: the command line
    exported_at: datetime  # branch-local, naive (Excel has no time zones)
    contact_data_shown: bool
    grace_days: int
    persistency_total: PersistencyYoY
    persistency_team: list[PersistencyYoY]
    persistency_specialist: list[PersistencyYoY]
    persistency_grid: list[PersistencyYoY]
    trend: list[TrendPoint]
    funnel_total: FunnelRow | None
    funnel_specialists: list[FunnelRow]
    weeks: list[str]
    activity: list[SpecialistActivity]
    equity: list[EquityRow]
    equity_threshold: float
    overdue: list[OverdueTask]
    coverage: Coverage
    people: dict[int, Person] = field(default_factory=dict)
    # Persistency of the period by days to first contact (metrics.handoff.BAND_KEYS order).
    handoff_bands: list[PersistencyRow] = field(default_factory=list)
    handoff_targets: HandoffTargets = field(default_factory=HandoffTargets)


def latest_complete_month(as_of: date, grace_days: int = 60) -> Period:
    """Return the latest month whose premiums are all past their grace period on ``as_of``:
    the first month a meeting can judge in full."""
    month = Period.month(as_of.year, as_of.month)
    while month.end + timedelta(days=grace_days) > as_of:
        prev = month.start - timedelta(days=1)
        month = Period.month(prev.year, prev.month)
    return month


def collect_meeting(
    session: Session,
    *,
    period: Period,
    as_of: date,
    scope: ExportScope,
    user: UserInfo | None = None,
    state: JobState | None = None,
) -> MeetingData:
    """Return every figure of the meeting workbook for ``scope`` and ``period``."""
    state = state or NullState()
    branch = session.get(Branch, scope.branch_id)
    assert branch is not None
    b, teams, people = scope.branch_id, scope.team_ids, scope.specialist_ids
    state.report(0.05, Message("progress.persistency"))
    pers = {
        by: persistency_with_yoy(
            session,
            period=period,
            as_of=as_of,
            by=by,
            branch_id=b,
            team_ids=teams,
            specialist_ids=people,
        )
        for by in ("team", "specialist", "grid")
    }
    (total_pers,) = persistency_with_yoy(
        session, period=period, as_of=as_of, branch_id=b, team_ids=teams, specialist_ids=people
    )
    bands = persistency_by_contact_band(
        session, period=period, as_of=as_of, branch_id=b, team_ids=teams, specialist_ids=people
    )
    check(state)
    state.report(0.25, Message("progress.trend"))
    trend = _trend(session, scope, period=period, as_of=as_of)
    check(state)
    state.report(0.35, Message("progress.funnel"))
    totals = funnel_report(
        session, cohort=period, branch_id=b, team_ids=teams, specialist_ids=people
    )
    funnel_sp = funnel_report(
        session, cohort=period, by="specialist", branch_id=b, team_ids=teams, specialist_ids=people
    )
    check(state)
    state.report(0.45, Message("progress.activity"))
    weeks = activity_weeks(as_of)
    activity = _only(
        activity_report(session, as_of=as_of, weeks=len(weeks), branch_id=b, team_ids=teams),
        scope,
    )
    equity = _only(equity_report(session, as_of=as_of, branch_id=b, team_ids=teams), scope)
    check(state)
    state.report(0.6, Message("progress.tasks"))
    overdue = _overdue(session, scope, as_of=as_of, user=user)
    check(state)
    state.report(0.75, Message("progress.coverage"))
    coverage = _coverage(
        session, coverage_report(session, branch_id=scope.branch_id, as_of=as_of), scope
    )
    return MeetingData(
        branch_name=branch.name,
        scope=scope,
        period=period,
        as_of=as_of,
        exported_by=None if user is None else f"{user.display_name} ({user.login})",
        exported_at=datetime.now(branch_tz(branch.timezone)).replace(tzinfo=None, microsecond=0),
        contact_data_shown=shows_contact_data(user),
        grace_days=branch.grace_days,
        persistency_total=total_pers,
        persistency_team=pers["team"],
        persistency_specialist=pers["specialist"],
        persistency_grid=pers["grid"],
        trend=trend,
        funnel_total=totals[0] if totals else None,
        funnel_specialists=funnel_sp,
        weeks=weeks,
        activity=activity,
        equity=equity,
        equity_threshold=DEFAULT_THRESHOLD_POINTS,
        overdue=overdue,
        coverage=coverage,
        people=_people(session, scope.branch_id),
        handoff_bands=bands,
        handoff_targets=handoff_targets(session, scope.branch_id),
    )


def trend_months(period: Period, as_of: date) -> list[Period]:
    """Return the twelve months ending with the period's last month (or the as-of month)."""
    return last_months(min(period.end, as_of), TREND_MONTHS)


def _trend(session: Session, scope: ExportScope, *, period: Period, as_of: date):
    months = trend_months(period, as_of)
    if scope.specialist_ids is None:
        return persistency_trend(
            session, months=months, as_of=as_of, branch_id=scope.branch_id, team_ids=scope.team_ids
        )
    # The trend service groups by specialist but does not filter by one: group and pick.
    points = persistency_trend(
        session,
        months=months,
        as_of=as_of,
        by="specialist",
        branch_id=scope.branch_id,
        team_ids=scope.team_ids,
    )
    return [p for p in points if p.group_key in scope.specialist_ids]


def _only(rows: list, scope: ExportScope) -> list:
    if scope.specialist_ids is None:
        return rows
    return [r for r in rows if r.specialist_id in scope.specialist_ids]


def _overdue(
    session: Session, scope: ExportScope, *, as_of: date, user: UserInfo | None
) -> list[OverdueTask]:
    f = TaskFilter(
        as_of=as_of,
        team_ids=scope.team_ids,
        specialist_ids=scope.specialist_ids,
        overdue_only=True,
    )
    rows = task_rows(session, task_ids(session, f, sort="due_date"), as_of=as_of)
    phone_of, _ = contact_masks(user)
    ids = sorted({r.customer_id for r in rows})
    phones: dict[int, str | None] = {}
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        phones.update(
            session.execute(select(Customer.id, Customer.phone).where(Customer.id.in_(chunk))).all()
        )  # type: ignore[arg-type]
    return [
        OverdueTask(r, phone_of(phones.get(r.customer_id)), (as_of - r.due_date).days)
        for r in rows
        if r.due_date is not None
    ]


def _coverage(session: Session, cov: Coverage, scope: ExportScope) -> Coverage:
    """Keep the gaps of the scope: its active specialists' loads and the grids whose (last)
    owner is in it. The unmatched, outside-coverage and unserved counts are the branch's (no team owns them)."""
    if scope.kind == "branch":
        return cov
    if scope.specialist_ids is not None:
        members = set(scope.specialist_ids)
    else:
        members = set(
            session.scalars(
                select(Specialist.id).where(Specialist.team_id.in_(list(scope.team_ids or ())))
            )
        )
    owner_of = dict(
        session.execute(
            select(Grid.id, Grid.owner_id).where(
                Grid.id.in_([g.grid_id for g in cov.uncovered_grids])
            )
        ).all()
    )
    loads = [x for x in cov.loads if x.specialist_id in members]
    grids = [g for g in cov.uncovered_grids if owner_of.get(g.grid_id) in members]
    return Coverage(
        cov.unmatched_customers,
        cov.unserved_customers,
        grids,
        loads,
        outside_coverage_customers=cov.outside_coverage_customers,
    )


def _people(session: Session, branch_id: int) -> dict[int, Person]:
    return {
        sid: Person(emp, name, team)
        for sid, emp, name, team in session.execute(
            select(Specialist.id, Specialist.employee_no, Specialist.name, Team.name)
            .join(Team, Team.id == Specialist.team_id)
            .where(Specialist.branch_id == branch_id)
        )
    }
