"""The persistency base table and the attribution of each row to the specialist who served
the customer on the due date (from the assignment history), and history.specialist_on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import Factory, utc
from sqlalchemy import select
from test_persistency import AS_OF, DUE, ISSUED, MARCH, book_policy

from app.models import PersistencyBase
from app.models.enums import PaymentMode, PolicyStatus
from app.services.customers.history import specialist_on, specialists_on
from app.services.metrics.base_table import refresh_attribution, refresh_persistency_base
from app.services.metrics.persistency import persistency_report


@pytest.fixture
def f(session):
    return Factory(session)


def base_rows(session) -> dict[tuple[int, int], PersistencyBase]:
    session.expire_all()
    return {(r.policy_id, r.policy_year): r for r in session.scalars(select(PersistencyBase))}


def by_specialist(session) -> dict[int | None, int]:
    rows = persistency_report(session, period=MARCH, as_of=AS_OF, by="specialist")
    return {r.group_key: r.policies for r in rows}


def test_base_rows_copy_the_first_due_of_years_two_and_three(session, f):
    a = f.specialist()
    g = f.grid(owner=a)
    c = f.customer(specialist=a, grid=g)
    p = f.policy(customer=c, mode=PaymentMode.QUARTERLY, premium_fen=30_000, issued=ISSUED,
                 status=PolicyStatus.DEATH, status_date=date(2025, 1, 2), product="鑫福年金")  # fmt: skip
    dues = f.schedule(p, years=3)
    dues[4].amount_received_fen, dues[4].received_on = 45_000, DUE + timedelta(days=7)
    dues[8].amount_received_fen, dues[8].received_on = 0, None
    f.policy(customer=c, mode=PaymentMode.SINGLE)
    session.flush()
    assert refresh_persistency_base(session) == 2
    rows = base_rows(session)
    assert set(rows) == {(p.id, 2), (p.id, 3)}
    y2, y3 = rows[(p.id, 2)], rows[(p.id, 3)]
    assert (y2.due_date, y2.amount_due_fen, y2.received_fen) == (DUE, 30_000, 30_000)
    assert (y2.received_on, y2.days_late) == (DUE + timedelta(days=7), 7)
    assert (y3.due_date, y3.received_fen, y3.received_on, y3.days_late) == (
        date(2025, 3, 10), 0, None, None
    )  # fmt: skip
    for r in (y2, y3):
        assert r.terminated_on == date(2025, 1, 2)
        assert (r.customer_id, r.grid_id, r.specialist_id) == (c.id, g.id, a.id)
        assert (r.payment_mode, r.product, r.branch_id) == (
            PaymentMode.QUARTERLY, "鑫福年金", c.branch_id
        )  # fmt: skip


def test_surrender_date_is_not_a_termination_date(session, f):
    p = book_policy(f, status=PolicyStatus.SURRENDERED, status_date=DUE - timedelta(days=1))
    refresh_persistency_base(session)
    assert base_rows(session)[(p.id, 2)].terminated_on is None


def test_customer_moved_after_the_due_date_counts_for_the_earlier_specialist(session, f):
    a, b = f.specialist(), f.specialist()
    after = f.customer(specialist=a)
    book_policy(f, customer=after)
    f.move(after, b, at=utc(2024, 6, 1))
    before = f.customer(specialist=a)
    book_policy(f, customer=before)
    f.move(before, b, at=utc(2024, 1, 1))
    refresh_persistency_base(session)
    assert by_specialist(session) == {a.id: 1, b.id: 1}


@pytest.mark.parametrize(
    ("moved_at", "served_by"),
    [
        (utc(2024, 3, 9, 16, 0), "b"),  # 00:00 on the due date in Shanghai: B served that day
        (utc(2024, 3, 10, 15, 59), "b"),  # 23:59 on the due date: a move during the day counts
        (utc(2024, 3, 10, 16, 0), "a"),  # 00:00 the day after: A served on the due date
    ],
)
def test_the_due_date_ends_at_midnight_in_the_branchs_time_zone(session, f, moved_at, served_by):
    people = {"a": f.specialist(), "b": f.specialist()}
    c = f.customer(specialist=people["a"])
    book_policy(f, customer=c)
    f.move(c, people["b"], at=moved_at)
    refresh_persistency_base(session)
    assert by_specialist(session) == {people[served_by].id: 1}
    assert specialist_on(session, c.id, DUE) == people[served_by].id


def test_several_moves_the_first_after_the_due_date_decides(session, f):
    a, b, c_ = f.specialist(), f.specialist(), f.specialist()
    cust = f.customer(specialist=a)
    book_policy(f, customer=cust)
    f.move(cust, b, at=utc(2024, 2, 1))  # before: B holds the customer on the due date
    f.move(cust, c_, at=utc(2024, 5, 1))  # after: taken from B
    f.move(cust, a, at=utc(2024, 9, 1))
    refresh_persistency_base(session)
    assert by_specialist(session) == {b.id: 1}


def test_a_customer_without_a_specialist_on_the_due_date(session, f):
    a = f.specialist()
    cust = f.customer(specialist=None)
    book_policy(f, customer=cust)
    f.move(cust, a, at=utc(2024, 4, 1))  # assigned only after the due date
    refresh_persistency_base(session)
    rows = persistency_report(session, period=MARCH, as_of=AS_OF, by="specialist")
    assert [(r.group_key, r.group, r.policies) for r in rows] == [
        (None, "(unserved on the due date)", 1)
    ]


def test_refresh_of_some_policies_or_customers_leaves_the_others(session, f):
    a, b = f.specialist(), f.specialist()
    c1, c2 = f.customer(specialist=a), f.customer(specialist=a)
    p1 = book_policy(f, customer=c1)
    p2 = book_policy(f, customer=c2)
    assert refresh_persistency_base(session) == 4  # two policies, years 2 and 3
    # Both customers move before the due date, but only c1 is refreshed (by customer).
    for c in (c1, c2):
        f.move(c, b, at=utc(2024, 1, 1))
    assert refresh_persistency_base(session, customer_ids=[c1.id]) == 2
    rows = base_rows(session)
    assert rows[(p1.id, 2)].specialist_id == b.id
    assert rows[(p2.id, 2)].specialist_id == a.id
    assert refresh_persistency_base(session, policy_ids=[p2.id]) == 2
    assert base_rows(session)[(p2.id, 2)].specialist_id == b.id
    assert refresh_persistency_base(session, policy_ids=[], customer_ids=[]) == 0
    assert len(base_rows(session)) == 4


def test_refresh_attribution_after_a_move_recorded_later(session, f):
    a, b = f.specialist(), f.specialist()
    g1, g2 = f.grid(owner=a), f.grid(owner=b)
    moved_early = f.customer(specialist=a, grid=g1)
    moved_late = f.customer(specialist=a, grid=g1)
    p_early = book_policy(f, customer=moved_early)
    p_late = book_policy(f, customer=moved_late)
    refresh_persistency_base(session)
    f.move(moved_early, b, at=utc(2024, 1, 5))
    moved_early.grid_id = g2.id
    f.move(moved_late, b, at=utc(2024, 8, 5))
    session.flush()
    assert refresh_attribution(session, customer_ids=[moved_early.id, moved_late.id]) == 4
    rows = base_rows(session)
    assert (rows[(p_early.id, 2)].specialist_id, rows[(p_early.id, 2)].grid_id) == (b.id, g2.id)
    # Year 3 (due 2025-03-10) is after both moves: B's as well.
    assert rows[(p_early.id, 3)].specialist_id == b.id
    assert rows[(p_late.id, 2)].specialist_id == a.id
    assert rows[(p_late.id, 3)].specialist_id == b.id


def test_history_agrees_with_the_base_table(session, f):
    a, b, c_ = f.specialist(), f.specialist(), f.specialist()
    customers = [f.customer(specialist=a) for _ in range(3)]
    for cust in customers:
        book_policy(f, customer=cust)
    f.move(customers[0], b, at=utc(2024, 2, 1))
    f.move(customers[1], b, at=utc(2024, 7, 1))
    f.move(customers[1], c_, at=utc(2025, 7, 1))
    refresh_persistency_base(session)
    rows = base_rows(session).values()
    pairs = [(r.customer_id, r.due_date) for r in rows]
    served = specialists_on(session, pairs)
    assert served == {(r.customer_id, r.due_date): r.specialist_id for r in rows}
    assert served[(customers[1].id, DUE)] == a.id
    assert served[(customers[1].id, date(2025, 3, 10))] == b.id
    assert specialist_on(session, customers[2].id, date(2020, 1, 1)) == a.id
    assert specialist_on(session, 999_999, DUE) is None
