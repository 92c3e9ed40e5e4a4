"""Activity volume: tasks completed per specialist per week by kind, overdue open tasks, and
the median hours from a task's creation to its completion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, func, literal, select
from sqlalchemy.orm import Session

from app.models import Branch, Specialist, Task
from app.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from app.services.clock import end_of_day, start_of_day
from app.services.database.sqlfuncs import (
    days_between,
    grouped_medians,
    hours_between,
    local_day,
    utc_offset_minutes,
)


def week_label(day: date) -> str:
    """Return the ISO week of ``day`` as '2026-W07'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# The roster's "tasks done / week" is the mean of this many whole weeks, and the meeting
# workbook's activity sheet lists them, then the week of the as-of day.
WHOLE_WEEKS = 4


def week_monday(week: str) -> date:
    """Return the Monday of an ISO week label ('2026-W37'); raise ValueError if it is none."""
    return date.fromisocalendar(int(week[:4]), int(week[6:]), 1)


def recent_weeks(as_of: date, weeks: int) -> list[str]:
    """Return the labels of the ``weeks`` ISO weeks ending with the one holding ``as_of``."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [week_label(monday - timedelta(weeks=i)) for i in range(weeks - 1, -1, -1)]


def whole_weeks(as_of: date, weeks: int) -> list[str]:
    """Return the labels of the last ``weeks`` ISO weeks (Monday to Sunday) that ended before
    ``as_of``: the week holding ``as_of`` is never one, not even on its Sunday, which is still
    going on when the app shows today's figures. The roster's weekly average covers these
    weeks, which the workbook lists one by one."""
    return recent_weeks(as_of - timedelta(days=as_of.weekday() + 1), weeks)


def week_span(week: str, until: date | None = None) -> str:
    """Return an ISO week label ('2026-W37') as the days it covers ('9/7–9/13'), as people
    read a calendar; a week still running on ``until`` ends there ('11/23–11/27'), so a
    partial week does not pass for a whole one. Anything else is returned as given."""
    try:
        monday = week_monday(week)
    except ValueError:
        return week
    sunday = monday + timedelta(days=6)
    if until is not None and monday <= until < sunday:
        sunday = until
    return f"{monday.month}/{monday.day}–{sunday.month}/{sunday.day}"


@dataclass(frozen=True)
class SpecialistActivity:
    specialist_id: int
    done_by_week: dict[str, dict[TaskKind, int]]
    overdue_open: int
    median_hours_to_complete: float | None

    def done_in(self, week: str) -> int:
        return sum(self.done_by_week.get(week, {}).values())


def activity_report(
    session: Session,
    *,
    as_of: date,
    weeks: int = 12,
    branch_id: int | None = None,
    team_ids: Collection[int] | None = None,
) -> list[SpecialistActivity]:
    """Return, for every specialist in scope, the tasks completed per ISO week and kind over
    the last ``weeks`` weeks (up to the end of ``as_of``), the open tasks overdue on ``as_of``
    (status open or in progress, due before it) and the median hours from creation to
    completion of the tasks completed in those weeks.

    Weeks and days are branch-local; everything is counted in the database."""
    first_week = recent_weeks(as_of, weeks)[0]
    monday = week_monday(first_week)
    tz = branch_zone(session, branch_id)
    start, end = start_of_day(monday, tz), end_of_day(as_of, tz)
    people = select(Specialist.id)
    if branch_id is not None:
        people = people.where(Specialist.branch_id == branch_id)
    if team_ids is not None:
        people = people.where(Specialist.team_id.in_(list(team_ids)))
    ids = list(session.scalars(people.order_by(Specialist.id)))
    done = (Task.status == TaskStatus.DONE, Task.completed_at >= start, Task.completed_at < end)
    offset = literal(utc_offset_minutes(tz))
    week = (days_between(local_day(Task.completed_at, offset), literal(monday, Date)) // 7).label(
        "week"
    )
    counts: dict[int, dict[str, dict[TaskKind, int]]] = defaultdict(lambda: defaultdict(dict))
    for sid, n_week, kind, n in session.execute(
        select(Task.specialist_id, week, Task.kind, func.count())
        .where(*done, Task.specialist_id.in_(people))
        .group_by(Task.specialist_id, week, Task.kind)
    ):
        counts[sid][week_label(monday + timedelta(weeks=int(n_week)))][TaskKind(kind)] = n
    hours = grouped_medians(
        session,
        select(Task.specialist_id, hours_between(Task.completed_at, Task.created_at)).where(
            *done, Task.specialist_id.in_(people)
        ),
    )
    overdue: dict[int | None, int] = {
        sid: n
        for sid, n in session.execute(
            select(Task.specialist_id, func.count())
            .where(
                Task.status.in_(OPEN_TASK_STATUSES),
                Task.due_date < as_of,
                Task.specialist_id.in_(people),
            )
            .group_by(Task.specialist_id)
        )
    }
    return [
        SpecialistActivity(
            specialist_id=sid,
            done_by_week={w: dict(k) for w, k in counts.get(sid, {}).items()},
            overdue_open=overdue.get(sid, 0),
            median_hours_to_complete=round(hours[(sid,)], 1) if (sid,) in hours else None,
        )
        for sid in ids
    ]


def branch_zone(session: Session, branch_id: int | None) -> str | None:
    if branch_id is None:
        return None
    return session.scalar(select(Branch.timezone).where(Branch.id == branch_id))


def weekly_totals(rows: list[SpecialistActivity], weeks: list[str]) -> dict[TaskKind, list[int]]:
    """Return, per task kind, the completed tasks of all given specialists in each week."""
    totals: dict[TaskKind, list[int]] = {}
    for kind in TaskKind:
        series = [sum(r.done_by_week.get(w, {}).get(kind, 0) for r in rows) for w in weeks]
        if any(series):
            totals[kind] = series
    return totals
