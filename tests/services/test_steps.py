"""The 4-sell step and step dates of each customer, derived from their done tasks."""

from __future__ import annotations

from datetime import date

import pytest
from factories import Factory, utc

from app.models import Customer
from app.models.enums import TaskKind, TaskStatus
from app.services.customers.steps import recompute_steps, step_dates

d = date


@pytest.fixture
def f(session):
    return Factory(session)


def ladder(session, customer) -> tuple:
    session.expire_all()
    c = session.get(Customer, customer.id)
    return (c.step, c.pre_sell_on, c.soft_sell_on, c.cross_sell_on, c.up_sell_on)


def test_step_dates_imply_earlier_steps_without_earlier_evidence():
    assert step_dates({}) == [None] * 4
    assert step_dates({3: d(2024, 5, 1)}) == [d(2024, 5, 1)] * 3 + [None]
    assert step_dates({1: d(2024, 1, 2), 3: d(2024, 5, 1)}) == [
        d(2024, 1, 2), d(2024, 5, 1), d(2024, 5, 1), None
    ]  # fmt: skip
    # Evidence of a higher step earlier than a lower step's own evidence dates the lower step.
    assert step_dates({2: d(2024, 6, 1), 4: d(2024, 3, 1)}) == [d(2024, 3, 1)] * 4


def test_each_task_kind_is_evidence_of_its_step(session, f):
    kinds = {
        TaskKind.PRE_SELL: (1, d(2024, 2, 1), None, None, None),
        TaskKind.RENEWAL_COLLECTION: (2, d(2024, 2, 1), d(2024, 2, 1), None, None),
        TaskKind.SERVICING: (2, d(2024, 2, 1), d(2024, 2, 1), None, None),
        TaskKind.CROSS_SELL: (3, d(2024, 2, 1), d(2024, 2, 1), d(2024, 2, 1), None),
        TaskKind.UP_SELL: (4,) + (d(2024, 2, 1),) * 4,
        TaskKind.CALLBACK: (0, None, None, None, None),
    }
    customers = {k: f.customer() for k in kinds}
    for kind, c in customers.items():
        f.task(customer=c, kind=kind, created_at=utc(2024, 1, 20), completed_at=utc(2024, 2, 1, 3))
    assert recompute_steps(session) == 5  # the callback-only customer had nothing to change
    for kind, c in customers.items():
        assert ladder(session, c) == kinds[kind], kind


def test_each_step_dated_by_its_earliest_evidence_or_a_higher_steps(session, f):
    c = f.customer()
    f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 20, 2))
    f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 15, 2))
    f.task(customer=c, kind=TaskKind.SERVICING, completed_at=utc(2024, 3, 9, 2))
    f.task(customer=c, kind=TaskKind.UP_SELL, completed_at=utc(2024, 2, 9, 2))
    recompute_steps(session)
    # Up-sell on 9 Feb implies soft- and cross-sell that day (servicing came only later).
    assert ladder(session, c) == (4, d(2024, 1, 15), d(2024, 2, 9), d(2024, 2, 9), d(2024, 2, 9))


def test_completion_day_is_the_branch_local_day(session, f):
    c = f.customer()
    # 17:00 UTC on 30 January is 01:00 on 31 January in Shanghai.
    f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 30, 17))
    other = f.customer()
    f.task(customer=other, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 30, 15, 59))
    recompute_steps(session)
    assert ladder(session, c)[1] == d(2024, 1, 31)
    assert ladder(session, other)[1] == d(2024, 1, 30)


def test_only_done_tasks_are_evidence(session, f):
    c = f.customer()
    f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 12))
    for status in (
        TaskStatus.OPEN,
        TaskStatus.IN_PROGRESS,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
    ):
        f.task(customer=c, kind=TaskKind.UP_SELL, status=status, completed_at=utc(2024, 1, 13))
    recompute_steps(session)
    assert ladder(session, c) == (1, d(2024, 1, 12), None, None, None)


def test_recompute_follows_changed_tasks_and_counts_only_changes(session, f):
    c = f.customer()
    t = f.task(customer=c, kind=TaskKind.CROSS_SELL, completed_at=utc(2024, 4, 1))
    assert recompute_steps(session) == 1
    assert recompute_steps(session) == 0  # nothing changed
    t.status = TaskStatus.CANCELLED  # the evidence went away (e.g. corrected by a re-import)
    session.flush()
    assert recompute_steps(session, customer_ids=[c.id]) == 1
    assert ladder(session, c) == (0, None, None, None, None)


def test_only_the_given_customers_are_recomputed(session, f):
    c1, c2 = f.customer(), f.customer()
    for c in (c1, c2):
        f.task(customer=c, kind=TaskKind.SERVICING, completed_at=utc(2024, 4, 1))
    assert recompute_steps(session, customer_ids=[c1.id]) == 1
    assert ladder(session, c1)[0] == 2
    assert ladder(session, c2)[0] == 0
    assert recompute_steps(session, customer_ids=[]) == 0
