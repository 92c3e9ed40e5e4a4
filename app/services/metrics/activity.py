"""Activity volume: tasks completed per specialist per week by kind, overdue open tasks, and
the median hours from a task's creation to its completion."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Specialist, Task
from app.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from app.services.clock import local_date, start_of_day


def week_label(day: date) -> str:
    """Return the ISO week of ``day`` as '2026-W07'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def recent_weeks(as_of: date, weeks: int) -> list[str]:
    """Return the labels of the ``weeks`` ISO weeks ending with the one holding ``as_of``."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [week_label(monday - timedelta(weeks=i)) for i in range(weeks - 1, -1, -1)]


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
    """Return each specialist's completed tasks per ISO week (the last ``weeks`` weeks),
    overdue open tasks on ``as_of`` and median hours to completion over those weeks."""
    first_week = recent_weeks(as_of, weeks)[0]
    start_day = date.fromisocalendar(int(first_week[:4]), int(first_week[6:]), 1)
    start, end = start_of_day(start_day), start_of_day(as_of + timedelta(days=1))
    people = select(Specialist.id)
    if branch_id is not None:
        people = people.where(Specialist.branch_id == branch_id)
    if team_ids is not None:
        people = people.where(Specialist.team_id.in_(list(team_ids)))
    ids = list(session.scalars(people))
    done: dict[int, dict[str, dict[TaskKind, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    hours: dict[int, list[float]] = defaultdict(list)
    for sid, kind, created, completed in session.execute(
        select(Task.specialist_id, Task.kind, Task.created_at, Task.completed_at).where(
            Task.status == TaskStatus.DONE,
            Task.completed_at >= start,
            Task.completed_at < end,
            Task.specialist_id.in_(people),
        )
    ):
        done[sid][week_label(local_date(completed))][TaskKind(kind)] += 1
        hours[sid].append((completed - created).total_seconds() / 3600)
    overdue = {
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
            done_by_week={w: dict(k) for w, k in done.get(sid, {}).items()},
            overdue_open=overdue.get(sid, 0),
            median_hours_to_complete=round(median(hours[sid]), 1) if hours.get(sid) else None,
        )
        for sid in ids
    ]


def weekly_totals(rows: list[SpecialistActivity], weeks: list[str]) -> dict[TaskKind, list[int]]:
    """Return, per task kind, the completed tasks of all given specialists in each week."""
    totals: dict[TaskKind, list[int]] = {}
    for kind in TaskKind:
        series = [sum(r.done_by_week.get(w, {}).get(kind, 0) for r in rows) for w in weeks]
        if any(series):
            totals[kind] = series
    return totals
