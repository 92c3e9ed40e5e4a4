"""Service equity (服务公平): does a specialist serve customers who never bought more as well as
those who did? Compares completion rate and median completion time of service and renewal
tasks between the two groups; a gap above the threshold flags the specialist."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer, Specialist, Task
from app.models.enums import TaskKind, TaskStatus
from app.services.clock import start_of_day
from app.services.metrics.persistency import rate

SERVICE_KINDS = (TaskKind.SERVICING, TaskKind.RENEWAL_COLLECTION)
DEFAULT_THRESHOLD_POINTS = 10
# Fewer tasks than this in either group give no comparison (too noisy to flag anyone).
MIN_TASKS = 5


@dataclass(frozen=True)
class EquityRow:
    specialist_id: int
    tasks_without: int
    tasks_with: int
    rate_without: Decimal | None  # customers who never reached cross-sell or up-sell
    rate_with: Decimal | None  # customers who reached cross-sell or up-sell
    median_hours_without: float | None
    median_hours_with: float | None
    gap_points: Decimal | None  # rate_with minus rate_without, in points
    flagged: bool


def equity_report(
    session: Session,
    *,
    as_of: date,
    days: int = 365,
    threshold_points: float = DEFAULT_THRESHOLD_POINTS,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
) -> list[EquityRow]:
    """Return the equity comparison per specialist over service and renewal tasks created in
    the ``days`` before ``as_of``.

    A task counts in the completion rate when it is done, failed, or still open past its due
    date; a done task is a completion. Cancelled tasks and open tasks not yet due are left out.
    """
    people = select(Specialist.id)
    if branch_id is not None:
        people = people.where(Specialist.branch_id == branch_id)
    if team_ids is not None:
        people = people.where(Specialist.team_id.in_(list(team_ids)))
    start = start_of_day(as_of - timedelta(days=days))
    stmt = (
        select(
            Task.specialist_id,
            Customer.step,
            Task.status,
            Task.due_date,
            Task.created_at,
            Task.completed_at,
        )
        .join(Customer, Customer.id == Task.customer_id)
        .where(
            Task.kind.in_(SERVICE_KINDS),
            Task.created_at >= start,
            Task.status != TaskStatus.CANCELLED,
            Task.specialist_id.in_(people),
        )
    )
    counted: dict[tuple[int, bool], int] = defaultdict(int)
    completed: dict[tuple[int, bool], int] = defaultdict(int)
    hours: dict[tuple[int, bool], list[float]] = defaultdict(list)
    for sid, step, status, due, created, done_at in session.execute(stmt):
        status = TaskStatus(status)
        if status.is_open and (due is None or due >= as_of):
            continue
        key = (sid, (step or 0) >= 3)
        counted[key] += 1
        if status is TaskStatus.DONE:
            completed[key] += 1
            if done_at is not None:
                hours[key].append((done_at - created).total_seconds() / 3600)
    out = []
    for sid in session.scalars(people):
        n0, n1 = counted[(sid, False)], counted[(sid, True)]
        r0, r1 = rate(completed[(sid, False)], n0), rate(completed[(sid, True)], n1)
        gap = None
        if n0 >= MIN_TASKS and n1 >= MIN_TASKS and r0 is not None and r1 is not None:
            gap = (r1 - r0) * 100
        h0, h1 = hours.get((sid, False)), hours.get((sid, True))
        out.append(
            EquityRow(
                specialist_id=sid,
                tasks_without=n0,
                tasks_with=n1,
                rate_without=r0,
                rate_with=r1,
                median_hours_without=round(median(h0), 1) if h0 else None,
                median_hours_with=round(median(h1), 1) if h1 else None,
                gap_points=gap,
                flagged=gap is not None and gap > Decimal(str(threshold_points)),
            )
        )
    return out
