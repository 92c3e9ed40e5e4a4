"""Activity volume: tasks completed per specialist per ISO week by kind, overdue open tasks,
median hours from creation to completion."""

from __future__ import annotations

from datetime import date

import pytest
from factories import Factory, utc

from app.models.enums import TaskKind, TaskStatus
from app.services.metrics.activity import (
    activity_report,
    recent_weeks,
    week_label,
    weekly_totals,
    whole_weeks,
)

AS_OF = date(2024, 3, 13)  # a Wednesday in ISO week 2024-W11


@pytest.fixture
def f(session):
    return Factory(session)


def test_weeks_are_iso_weeks_ending_with_the_as_of_week():
    assert week_label(date(2024, 12, 30)) == "2025-W01"
    assert recent_weeks(AS_OF, 3) == ["2024-W09", "2024-W10", "2024-W11"]


def test_completed_tasks_per_branch_local_iso_week_and_kind(session, f):
    t = f.team()
    a, b = f.specialist(team=t), f.specialist(team=t)
    c = f.customer(specialist=a)
    done = TaskStatus.DONE
    # 23:30 on Sunday 10 March in Shanghai: week 10. 00:30 on Monday 11 March: week 11.
    f.task(customer=c, kind=TaskKind.PRE_SELL, created_at=utc(2024, 3, 10, 13, 30),
           completed_at=utc(2024, 3, 10, 15, 30))  # fmt: skip
    f.task(customer=c, kind=TaskKind.SERVICING, created_at=utc(2024, 3, 10, 12, 30),
           completed_at=utc(2024, 3, 10, 16, 30))  # fmt: skip
    f.task(customer=c, kind=TaskKind.SERVICING, created_at=utc(2024, 3, 11),
           completed_at=utc(2024, 3, 11, 10))  # fmt: skip
    # Outside the two weeks, or after the as-of day (01:00 on 14 March in Shanghai).
    f.task(customer=c, kind=TaskKind.SERVICING, created_at=utc(2024, 3, 1), status=done)
    f.task(customer=c, kind=TaskKind.SERVICING, created_at=utc(2024, 3, 13, 16), status=done,
           completed_at=utc(2024, 3, 13, 17))  # fmt: skip
    # Not done: not counted as completed.
    f.task(customer=c, kind=TaskKind.SERVICING, status=TaskStatus.FAILED,
           created_at=utc(2024, 3, 11), completed_at=utc(2024, 3, 11, 1))  # fmt: skip
    rows = {r.specialist_id: r for r in activity_report(session, as_of=AS_OF, weeks=2)}
    assert rows[a.id].done_by_week == {
        "2024-W10": {TaskKind.PRE_SELL: 1},
        "2024-W11": {TaskKind.SERVICING: 2},
    }
    assert rows[a.id].done_in("2024-W11") == 2
    # Hours to completion 2, 4 and 10: the median is 4.
    assert rows[a.id].median_hours_to_complete == 4.0
    assert rows[b.id].done_by_week == {} and rows[b.id].median_hours_to_complete is None
    totals = weekly_totals(list(rows.values()), ["2024-W10", "2024-W11"])
    assert totals == {TaskKind.PRE_SELL: [1, 0], TaskKind.SERVICING: [0, 2]}


def test_overdue_open_tasks(session, f):
    a = f.specialist()
    c = f.customer(specialist=a)
    overdue = [
        (TaskStatus.OPEN, date(2024, 3, 12)),
        (TaskStatus.IN_PROGRESS, date(2024, 3, 1)),
    ]
    not_overdue = [
        (TaskStatus.OPEN, AS_OF),  # due today
        (TaskStatus.OPEN, None),  # no due date
        (TaskStatus.DONE, date(2024, 3, 1)),
        (TaskStatus.FAILED, date(2024, 3, 1)),
        (TaskStatus.CANCELLED, date(2024, 3, 1)),
    ]
    for status, due in overdue + not_overdue:
        f.task(customer=c, status=status, due_date=due, created_at=utc(2024, 2, 20),
               completed_at=utc(2024, 2, 21) if status is TaskStatus.DONE else None)  # fmt: skip
    (row,) = activity_report(session, as_of=AS_OF)
    assert row.overdue_open == 2


def test_scope_by_team(session, f):
    t1, t2 = f.team(), f.team()
    a, b = f.specialist(team=t1), f.specialist(team=t2)
    assert [r.specialist_id for r in activity_report(session, as_of=AS_OF, team_ids=[t2.id])] == [
        b.id
    ]
    rows = activity_report(session, as_of=AS_OF, branch_id=a.branch_id)
    assert [r.specialist_id for r in rows] == [a.id, b.id]


def test_whole_weeks_leave_out_the_week_still_running():
    assert whole_weeks(AS_OF, 2) == ["2024-W09", "2024-W10"]  # Wednesday: W11 is running
    # Its Sunday is still going on when today's figures are shown: W11 is not whole yet.
    assert whole_weeks(date(2024, 3, 17), 2) == ["2024-W09", "2024-W10"]
    assert whole_weeks(date(2024, 3, 18), 1) == ["2024-W11"]  # Monday: the week before


def test_roster_tasks_per_week_is_the_mean_of_the_workbooks_whole_weeks(session, f):
    """The roster's "tasks done / week" is the mean of the last four whole weeks, the same
    weeks, counted the same branch-local way, as the meeting workbook's activity columns."""
    from app.services.people.roster import WEEKS_AVERAGED, roster

    a = f.specialist()
    c = f.customer(specialist=a)
    done = [
        utc(2024, 2, 11, 17),  # 01:00 on Monday 12 February in Shanghai: W07, the first week
        utc(2024, 2, 11, 15),  # 23:00 on Sunday 11 February: W06, before the four weeks
        utc(2024, 2, 20),
        utc(2024, 3, 1),
        utc(2024, 3, 10, 15, 30),  # 23:30 on Sunday 10 March: W10, the last whole week
        utc(2024, 3, 10, 16, 30),  # 00:30 on Monday 11 March: W11, still running
        utc(2024, 3, 12),
    ]
    for moment in done:
        f.task(customer=c, status=TaskStatus.DONE, created_at=utc(2024, 2, 1), completed_at=moment)
    weeks = whole_weeks(AS_OF, WEEKS_AVERAGED)
    (activity,) = activity_report(session, as_of=AS_OF, branch_id=a.branch_id)
    per_week = sum(activity.done_in(w) for w in weeks) / WEEKS_AVERAGED
    (row,) = roster(session, branch_id=a.branch_id, as_of=AS_OF)
    assert row.tasks_done_per_week == per_week == 4 / 4
