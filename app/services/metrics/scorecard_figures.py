"""The five figures of the monthly scorecard for one month, per specialist, as plain data.

See app/services/metrics/scorecard.py for the definitions; persistency, the hand-off share and
the equity flag are read from the services every other screen reads them from, so the
scorecard never has a figure of its own for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, not_, or_, select
from sqlalchemy.orm import Session

from app.models import Branch, Customer, Policy, PremiumDue, Task
from app.models.enums import TERMINATED_BY_EVENT, TaskStatus
from app.services.customers.history import specialists_on
from app.services.database.sqlfuncs import days_between, local_day, utc_offset_minutes
from app.services.metrics.equity import DEFAULT_THRESHOLD_POINTS, equity_report
from app.services.metrics.handoff import on_time_shares
from app.services.metrics.persistency import FEW_POLICIES, persistency_report
from app.services.metrics.rates import rate
from app.services.periods import Period

# The hand-off share covers the customers who entered the pool in this many days up to the
# month's end: the roster's window (handoff.ON_TIME_DAYS), so the two show one number.
CONTACT_DAYS = 90


@dataclass(frozen=True)
class Figure:
    """One figure of one specialist for one month.

    For the four shares ``value`` is numerator / denominator (4 decimals; None when nothing
    was settled); ``numerator`` and ``denominator`` are fen for renewal collected and
    persistency, counts for tasks and first contact; ``pending`` counts what is not settled
    yet (premium rows still in their grace period, tasks not yet due, customers still inside
    the first-contact target). For the equity flag ``value`` is the gap in points (None when
    either group had too few tasks to compare) and ``flagged`` says whether it flags.
    ``policies`` is what a premium rate rests on (the policies of persistency, the settled
    renewal rows of renewal collected; None for counts): on fewer than FEW_POLICIES the rate
    is shown, marked few, and not judged against the standard."""

    value: Decimal | None = None
    numerator: int = 0
    denominator: int = 0
    pending: int = 0
    flagged: bool = False
    policies: int | None = None

    @classmethod
    def share(
        cls, numerator: int, denominator: int, pending: int = 0, policies: int | None = None
    ) -> Figure:
        return cls(rate(numerator, denominator), numerator, denominator, pending, False, policies)

    @property
    def few(self) -> bool:
        """A rate resting on too few policies to judge (see FEW_POLICIES)."""
        return self.value is not None and self.policies is not None and self.policies < FEW_POLICIES

    @property
    def empty(self) -> bool:
        """Nothing to show: no rate (or gap) and nothing pending."""
        return self.value is None and not self.pending


def month_end(month: Period, as_of: date) -> date:
    """The day the month's clock-based figures are read on: its last day, or ``as_of`` when
    the month is still running."""
    return min(month.end, as_of)


def renewal_collected(
    session: Session, *, branch_id: int, month: Period, as_of: date
) -> dict[int, Figure]:
    """Return renewal premium collected against premium due per specialist (see the
    scorecard module's definition 1); rows nobody served on their due date are left out."""
    grace = session.get_one(Branch, branch_id).grace_days
    d = PremiumDue
    cutoff = as_of - timedelta(days=grace)
    mature = d.due_date <= cutoff
    in_grace = and_(
        d.received_on.is_not(None),
        days_between(d.received_on, d.due_date) <= grace,
        d.received_on <= as_of,
    )
    capped = case(
        (d.amount_received_fen > d.amount_due_fen, d.amount_due_fen), else_=d.amount_received_fen
    )
    kept = or_(
        Policy.status.not_in(TERMINATED_BY_EVENT),
        Policy.status_date.is_(None),
        Policy.status_date >= d.due_date,
    )
    stmt = (
        select(
            Policy.customer_id,
            d.due_date,
            func.sum(case((mature, d.amount_due_fen), else_=0)),
            func.sum(case((and_(mature, in_grace), capped), else_=0)),
            func.sum(case((mature, 0), else_=1)),
            func.sum(case((mature, 1), else_=0)),
        )
        .join(Policy, Policy.id == d.policy_id)
        .join(Customer, Customer.id == Policy.customer_id)
        .where(
            Customer.branch_id == branch_id,
            d.policy_year >= 2,
            d.due_date >= month.start,
            d.due_date <= month.end,
            kept,
        )
        .group_by(Policy.customer_id, d.due_date)
    )
    rows = session.execute(stmt).all()
    who = specialists_on(session, [(r[0], r[1]) for r in rows])
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for cid, day, due, got, pending, settled in rows:
        sid = who.get((cid, day))
        if sid is None:
            continue
        acc = sums[sid]
        acc[0] += int(got or 0)
        acc[1] += int(due or 0)
        acc[2] += int(pending or 0)
        acc[3] += int(settled or 0)
    return {sid: Figure.share(*acc) for sid, acc in sums.items()}


def persistency_13(
    session: Session,
    *,
    branch_id: int,
    month: Period,
    as_of: date,
    team_ids: Collection[int] | None,
    specialist_ids: Collection[int] | None,
) -> dict[int, Figure]:
    """Return 13-month persistency (premium basis) per specialist: the persistency report of
    the month by specialist, as the meeting workbook and ``griddesk metrics`` give it."""
    rows = persistency_report(
        session,
        period=month,
        as_of=as_of,
        by="specialist",
        branch_id=branch_id,
        team_ids=team_ids,
        specialist_ids=specialist_ids,
    )
    return {
        r.group_key: Figure(
            r.persistency_premium,
            r.premium_received_fen,
            r.premium_due_fen,
            r.pending_policies,
            policies=r.policies,
        )
        for r in rows
        if isinstance(r.group_key, int)
    }


def tasks_on_time(
    session: Session, *, branch_id: int, month: Period, as_of: date, people: Collection[int]
) -> dict[int, Figure]:
    """Return, per specialist holding them, the tasks due in the month done by their due date
    of those settled (see the scorecard module's definition 3)."""
    tz = session.get_one(Branch, branch_id).timezone
    done_day = local_day(Task.completed_at, literal(utc_offset_minutes(tz)))
    done = and_(Task.status == TaskStatus.DONE, done_day <= as_of)
    on_time = and_(done, done_day <= Task.due_date)
    pending = and_(not_(done), Task.status != TaskStatus.FAILED, Task.due_date >= as_of)
    stmt = (
        select(
            Task.specialist_id,
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((pending, 1), else_=0)),
        )
        .where(
            Task.specialist_id.in_(list(people)),
            Task.status != TaskStatus.CANCELLED,
            Task.due_date >= month.start,
            Task.due_date <= month.end,
        )
        .group_by(Task.specialist_id)
    )
    out = {}
    for sid, n, ok, waiting in session.execute(stmt):
        waiting = int(waiting or 0)
        out[sid] = Figure.share(int(ok or 0), int(n) - waiting, waiting)
    return out


def contact_on_time(
    session: Session, *, branch_id: int, month: Period, as_of: date
) -> dict[int, Figure]:
    """Return the first-contact on-time share per specialist as the roster shows it on the
    month's last day (or ``as_of``): hand-off clock, customers who entered the pool in the
    CONTACT_DAYS days to that day."""
    shares = on_time_shares(
        session,
        as_of=month_end(month, as_of),
        branch_id=branch_id,
        milestones=("contact",),
        days=CONTACT_DAYS,
    )
    return {sid: Figure.share(s.on_time, s.decided, s.open) for (sid, _m), s in shares.items()}


def equity_flag(
    session: Session,
    *,
    branch_id: int,
    month: Period,
    as_of: date,
    team_ids: Collection[int] | None,
) -> dict[int, Figure]:
    """Return the service-equity gap and flag per specialist as the equity report gives them
    on the month's last day (or ``as_of``)."""
    rows = equity_report(
        session,
        as_of=month_end(month, as_of),
        threshold_points=DEFAULT_THRESHOLD_POINTS,
        branch_id=branch_id,
        team_ids=team_ids,
    )
    return {
        r.specialist_id: Figure(r.gap_points, 0, r.tasks_without + r.tasks_with, 0, r.flagged)
        for r in rows
    }
