"""The 4-sell ladder: step dates derived from done tasks, and the cohort funnel."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from app.models import Branch, Customer, Task
from app.models.enums import TaskKind, TaskStatus
from app.services.metrics.funnel import funnel_report
from app.services.periods import Period
from app.services.steps import recompute_steps, step_dates


def test_reaching_a_step_implies_the_earlier_ones_without_earlier_evidence():
    d = date
    assert step_dates({3: d(2024, 5, 1)}) == [d(2024, 5, 1)] * 3 + [None]
    assert step_dates({1: d(2024, 1, 2), 3: d(2024, 5, 1)}) == [
        d(2024, 1, 2),
        d(2024, 5, 1),
        d(2024, 5, 1),
        None,
    ]
    assert step_dates({2: d(2024, 6, 1), 4: d(2024, 3, 1)}) == [d(2024, 3, 1)] * 4


def _customer(session, branch, no, entered):
    c = Customer(branch_id=branch.id, customer_no=no, name=no, address="x", pool_entered_on=entered)
    session.add(c)
    session.flush()
    return c


def _done(session, c, kind, when, n=[0]):  # noqa: B006 - a counter for task numbers
    n[0] += 1
    session.add(
        Task(task_no=f"T{n[0]}", kind=kind, customer_id=c.id, status=TaskStatus.DONE,
             created_at=when, completed_at=when)
    )  # fmt: skip


def test_steps_and_funnel_from_done_tasks(session):
    b = Branch(code="b", name="b", city="成都")
    session.add(b)
    session.flush()
    jan = date(2024, 1, 10)
    c1 = _customer(session, b, "C1", jan)
    c2 = _customer(session, b, "C2", jan)
    c3 = _customer(session, b, "C3", jan)
    _customer(session, b, "C4", jan)
    _customer(session, b, "OTHER", date(2024, 2, 1))  # another cohort
    utc = timezone.utc
    _done(session, c1, TaskKind.PRE_SELL, datetime(2024, 1, 20, 2, tzinfo=utc))
    _done(session, c1, TaskKind.RENEWAL_COLLECTION, datetime(2024, 2, 9, 2, tzinfo=utc))
    _done(session, c1, TaskKind.UP_SELL, datetime(2024, 4, 9, 2, tzinfo=utc))
    _done(
        session, c2, TaskKind.SERVICING, datetime(2024, 1, 30, 17, tzinfo=utc)
    )  # 01:00 on 31 Jan in Shanghai
    _done(session, c3, TaskKind.PRE_SELL, datetime(2024, 1, 12, 2, tzinfo=utc))
    session.add(Task(task_no="OPEN", kind=TaskKind.CROSS_SELL, customer_id=c3.id, status=TaskStatus.OPEN,
                     created_at=datetime(2024, 1, 12, tzinfo=utc)))  # fmt: skip
    session.flush()
    recompute_steps(session)
    session.commit()
    session.expire_all()
    assert (session.get(Customer, c1.id).step, session.get(Customer, c1.id).cross_sell_on) == (
        4,
        date(2024, 4, 9),
    )
    assert session.get(Customer, c2.id).pre_sell_on == date(2024, 1, 31)
    assert session.get(Customer, c3.id).step == 1  # an open task is no evidence

    (row,) = funnel_report(session, cohort=Period.parse("2024-01"))
    assert row.cohort_size == 4
    assert row.reached == (3, 2, 1, 1)
    assert row.step_conversion == (
        Decimal("0.7500"),
        Decimal("0.6667"),
        Decimal("0.5000"),
        Decimal("1.0000"),
    )
    assert row.cumulative_conversion == (
        Decimal("0.7500"),
        Decimal("0.5000"),
        Decimal("0.2500"),
        Decimal("0.2500"),
    )
    # Days from pool entry (10 Jan): step 1 reached on 20 Jan, 31 Jan and 12 Jan -> 10, 21, 2.
    assert row.median_days[0] == 10
    assert row.median_days[3] == 90
