"""Service equity: completion rate and median completion time of servicing and renewal tasks
for customers who never reached cross-sell or up-sell versus those who did; a gap above the
threshold flags the specialist."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import Factory, utc

from app.models.enums import TaskKind, TaskStatus
from app.services.metrics.equity import equity_report

AS_OF = date(2024, 6, 30)
CREATED = utc(2024, 5, 1)


@pytest.fixture
def f(session):
    return Factory(session)


def tasks(f, customer, *statuses, hours=None, kind=TaskKind.SERVICING, due=date(2024, 5, 20)):
    for i, status in enumerate(statuses):
        done_at = CREATED + timedelta(hours=hours[i]) if hours else None
        f.task(customer=customer, kind=kind, status=status, created_at=CREATED,
               completed_at=done_at, due_date=due)  # fmt: skip


def people(f, session):
    """Return a specialist with one customer below step 3 and one who bought more (step 3)."""
    s = f.specialist()
    return s, f.customer(specialist=s, step=2), f.customer(specialist=s, step=3)


DONE, FAILED, OPEN = TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.OPEN


def test_gap_above_the_threshold_flags_the_specialist(session, f):
    s, never, bought = people(f, session)
    tasks(f, bought, *[DONE] * 5, hours=[1, 2, 3, 4, 5], kind=TaskKind.RENEWAL_COLLECTION)
    tasks(f, never, *[DONE] * 4, hours=[10, 20, 30, 40])
    tasks(f, never, OPEN)  # open and overdue: counted, not completed
    tasks(f, never, OPEN, due=AS_OF)  # not yet overdue: left out
    tasks(f, never, TaskStatus.CANCELLED)  # left out
    tasks(f, never, *[FAILED] * 3, kind=TaskKind.CROSS_SELL)  # not a service task
    (row,) = equity_report(session, as_of=AS_OF)
    assert (row.tasks_without, row.tasks_with) == (5, 5)
    assert (row.rate_without, row.rate_with) == (Decimal("0.8000"), Decimal("1.0000"))
    assert (row.median_hours_without, row.median_hours_with) == (25.0, 3.0)
    assert row.gap_points == Decimal("20") and row.flagged


def test_a_gap_of_exactly_the_threshold_does_not_flag(session, f):
    s, never, bought = people(f, session)
    tasks(f, bought, *[DONE] * 5)
    tasks(f, never, *[DONE] * 9, FAILED)
    (row,) = equity_report(session, as_of=AS_OF)
    assert row.gap_points == Decimal("10") and not row.flagged
    (row,) = equity_report(session, as_of=AS_OF, threshold_points=5)
    assert row.flagged


def test_serving_non_buyers_better_does_not_flag(session, f):
    s, never, bought = people(f, session)
    tasks(f, bought, *[DONE] * 3, *[FAILED] * 2)
    tasks(f, never, *[DONE] * 5)
    (row,) = equity_report(session, as_of=AS_OF)
    assert row.gap_points == Decimal("-40") and not row.flagged


def test_too_few_tasks_give_no_comparison(session, f):
    s, never, bought = people(f, session)
    tasks(f, bought, *[DONE] * 4)
    tasks(f, never, *[FAILED] * 6)
    (row,) = equity_report(session, as_of=AS_OF)
    assert (row.rate_with, row.rate_without) == (Decimal("1.0000"), Decimal("0.0000"))
    assert row.gap_points is None and not row.flagged
    (row,) = equity_report(session, as_of=AS_OF, min_tasks=4)
    assert row.flagged


def test_only_tasks_created_in_the_window_count(session, f):
    s, never, bought = people(f, session)
    f.task(customer=never, status=FAILED, created_at=utc(2023, 6, 1), due_date=date(2023, 6, 5))
    f.task(customer=never, status=FAILED, created_at=utc(2024, 7, 1), due_date=date(2024, 7, 5))
    f.task(customer=never, status=DONE, created_at=utc(2024, 1, 1))
    (row,) = equity_report(session, as_of=AS_OF)
    assert (row.tasks_without, row.rate_without) == (1, Decimal("1.0000"))
    (row,) = equity_report(session, as_of=AS_OF, days=30)
    assert (row.tasks_without, row.rate_without, row.rate_with) == (0, None, None)


def test_every_specialist_in_scope_has_a_row(session, f):
    t1, t2 = f.team(), f.team()
    a, b = f.specialist(team=t1), f.specialist(team=t2)
    assert [r.specialist_id for r in equity_report(session, as_of=AS_OF)] == [a.id, b.id]
    (row,) = equity_report(session, as_of=AS_OF, team_ids=[t2.id])
    assert (row.specialist_id, row.tasks_with, row.flagged) == (b.id, 0, False)


def test_a_done_task_with_no_completion_time_counts_as_done_but_not_in_the_median(session, f):
    """On both databases (they sort missing times at opposite ends): the median is of the
    times there are."""
    s, never, bought = people(f, session)
    tasks(f, never, DONE, DONE, DONE, hours=[10, 20, 60])
    tasks(f, bought, DONE, DONE, hours=[1, 3])
    for customer in (never, never, bought):  # done, completion time missing (an old import)
        task = f.task(customer=customer, kind=TaskKind.SERVICING, status=DONE, created_at=CREATED)
        task.completed_at = None
    session.flush()
    (row,) = equity_report(session, as_of=AS_OF)
    assert (row.tasks_without, row.tasks_with) == (5, 3)
    assert (row.rate_without, row.rate_with) == (Decimal("1.0000"), Decimal("1.0000"))
    assert (row.median_hours_without, row.median_hours_with) == (20.0, 2.0)


def test_a_team_scope_reports_its_own_specialists_with_their_own_tasks(session, f):
    team_a, team_b = f.team(), f.team()
    a, b = f.specialist(team=team_a), f.specialist(team=team_b)
    for who, n in ((a, 2), (b, 6)):
        tasks(f, f.customer(specialist=who, step=1), *[DONE] * n, hours=list(range(1, n + 1)))
    (row,) = equity_report(session, as_of=AS_OF, team_ids=[team_a.id])
    assert (row.specialist_id, row.tasks_without, row.median_hours_without) == (a.id, 2, 1.5)


def test_the_report_reads_the_years_service_tasks_from_one_covering_index(session, backend):
    """One range of ``ix_task_service_year`` (kind, creation time), not every task of every
    specialist: 8 s on a branch of 2 million tasks before."""
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from app.services.metrics.equity import equity_query

    conn = session.connection()
    sql = equity_query(AS_OF).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    on_task = [p for p in plan if " task " in f"{p} "]
    assert on_task and all("USING COVERING INDEX ix_task_service_year" in p for p in on_task)
