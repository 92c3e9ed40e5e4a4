"""13-month persistency pinned rule by rule with small hand-computed cases (DOMAIN.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.models import AssignmentEvent, Branch, Customer, Policy, PremiumDue, Specialist, Team
from app.models.enums import AssignmentReason, PaymentMode, PolicyStatus
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.formatting import render_persistency
from app.services.metrics.persistency import persistency_report, persistency_with_yoy
from app.services.periods import Period, add_months

AS_OF = date(2025, 12, 31)
MARCH = Period.parse("2024-03")
DUE = date(2024, 3, 10)  # first due of policy year 2 for a policy issued 2023-03-10


class Book:
    """Builds policies with their dues; each policy gets its own customer."""

    def __init__(self, session):
        self.s = session
        self.branch = Branch(code="b", name="测试", city="成都")
        session.add(self.branch)
        session.flush()
        self.team = Team(branch_id=self.branch.id, code="T", name="一队")
        session.add(self.team)
        session.flush()
        self.a = Specialist(
            branch_id=self.branch.id, employee_no="A", name="甲", team_id=self.team.id
        )
        self.b = Specialist(
            branch_id=self.branch.id, employee_no="B", name="乙", team_id=self.team.id
        )
        session.add_all([self.a, self.b])
        session.flush()
        self.n = 0

    def policy(self, *, mode=PaymentMode.ANNUAL, premium=1000, issued=date(2023, 3, 10), status=PolicyStatus.IN_FORCE,
               status_date=None, paid=None, paid_on=None, specialist=None, product="寿险"):  # fmt: skip
        """Add a policy with every instalment up to policy year 3; year 2's first instalment is
        received as given (``paid`` yuan on ``paid_on``), all others paid on time."""
        self.n += 1
        sp = specialist or self.a
        c = Customer(
            branch_id=self.branch.id,
            customer_no=f"C{self.n}",
            name="客户",
            address="x",
            specialist_id=sp.id,
        )
        self.s.add(c)
        self.s.flush()
        p = Policy(policy_no=f"P{self.n}", customer_id=c.id, issue_date=issued, payment_mode=mode,
                   modal_premium_fen=premium * 100, status=status, status_date=status_date, product=product)  # fmt: skip
        self.s.add(p)
        self.s.flush()
        per_year = mode.per_year or 1
        step = 12 // per_year
        for k in range(per_year * 3 if mode is not PaymentMode.SINGLE else 1):
            due = add_months(issued, k * step)
            year = k // per_year + 1
            first_of_year2 = year == 2 and k % per_year == 0
            if first_of_year2:
                received, on = (
                    (premium if paid is None else paid),
                    (due if paid_on is None else paid_on),
                )
            else:
                received, on = premium, due
            self.s.add(PremiumDue(policy_id=p.id, policy_year=year, due_date=due, amount_due_fen=premium * 100,
                                  amount_received_fen=int(received * 100), received_on=on if received else None))  # fmt: skip
        self.s.flush()
        return p

    def done(self):
        refresh_persistency_base(self.s)
        self.s.commit()


def report(session, period=MARCH, as_of=AS_OF, **kw):
    return persistency_report(session, period=period, as_of=as_of, **kw)


@pytest.fixture
def book(session):
    return Book(session)


def only(rows):
    (row,) = rows
    return row


def test_grace_boundary_day_60_counts_day_61_does_not(session, book):
    book.policy(paid_on=DUE + timedelta(days=60))
    book.policy(paid_on=DUE + timedelta(days=61))
    book.done()
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (2, 1)
    assert (r.premium_due_fen, r.premium_received_fen) == (200_000, 100_000)
    assert r.persistency_premium == Decimal("0.5000") and r.persistency_count == Decimal("0.5000")


def test_partial_payment_counts_its_amount_but_not_as_persisting(session, book):
    book.policy(paid=400)
    book.policy(paid=1000)
    book.done()
    r = only(report(session))
    assert r.premium_received_fen == 140_000
    assert r.persistency_premium == Decimal("0.7000")
    assert r.persisting_policies == 1  # count basis: only the full payment


def test_overpayment_is_capped_at_the_amount_due(session, book):
    book.policy(paid=1500)
    book.policy(paid=0)
    book.done()
    r = only(report(session))
    assert r.premium_received_fen == 100_000
    assert r.persistency_premium == Decimal("0.5000")


def test_death_before_the_due_date_is_excluded_after_it_stays(session, book):
    book.policy(status=PolicyStatus.DEATH, status_date=DUE - timedelta(days=1), paid=0)
    book.policy(status=PolicyStatus.CLAIM, status_date=DUE, paid=0)  # on the due date: stays
    book.policy(status=PolicyStatus.DEATH, status_date=DUE + timedelta(days=5))
    book.done()
    r = only(report(session))
    assert r.policies == 2
    assert r.persistency_premium == Decimal("0.5000")


def test_surrender_stays_in_both_sides_unpaid(session, book):
    book.policy(status=PolicyStatus.SURRENDERED, status_date=DUE - timedelta(days=20), paid=0)
    book.policy()
    book.done()
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (2, 1)


def test_single_premium_policies_are_excluded(session, book):
    book.policy(mode=PaymentMode.SINGLE)
    book.policy()
    book.done()
    assert only(report(session)).policies == 1


@pytest.mark.parametrize(
    ("mode", "instalment"),
    [
        (PaymentMode.MONTHLY, 13),
        (PaymentMode.QUARTERLY, 5),
        (PaymentMode.SEMIANNUAL, 3),
        (PaymentMode.ANNUAL, 2),
    ],
)
def test_first_due_of_year_two_is_the_right_instalment(session, book, mode, instalment):
    issued = date(2023, 1, 15)
    book.policy(mode=mode, issued=issued, paid=0)
    book.done()
    due = add_months(issued, (instalment - 1) * (12 // mode.per_year))
    assert due == date(2024, 1, 15)
    r = only(report(session, period=Period.parse("2024-01")))
    assert (r.policies, r.premium_received_fen) == (1, 0)
    # The other instalments of year 2 are not counted again: once over the whole year.
    assert only(report(session, period=Period.parse("2024"))).policies == 1


def test_pending_rows_are_counted_apart(session, book):
    book.policy(paid=0)
    book.done()
    as_of = DUE + timedelta(days=59)  # due + grace is after the as-of date
    r = only(report(session, as_of=as_of))
    assert (r.policies, r.pending_policies, r.persistency_premium) == (0, 1, None)
    r = only(report(session, as_of=DUE + timedelta(days=60)))
    assert (r.policies, r.pending_policies) == (1, 0)


def test_receipts_after_the_as_of_date_do_not_count(session, book):
    book.policy(paid_on=DUE + timedelta(days=40))
    book.done()
    as_of = DUE + timedelta(days=60)
    assert only(report(session, as_of=as_of)).persisting_policies == 1
    # Seen from a day before the money came, the row is mature only with a shorter grace.
    r = only(report(session, as_of=DUE + timedelta(days=30), grace_days=30))
    assert (r.policies, r.persisting_policies) == (1, 0)


def test_attributed_to_who_served_on_the_due_date(session, book):
    p = book.policy(specialist=book.a)
    book.s.flush()
    c = session.get(Customer, p.customer_id)
    # Moved from A to B after the due date: the row stays A's.
    c.specialist_id = book.b.id
    session.add(AssignmentEvent(customer_id=c.id, from_specialist_id=book.a.id, to_specialist_id=book.b.id,
                                reason=AssignmentReason.MANUAL, at=datetime(2024, 6, 1, tzinfo=timezone.utc)))  # fmt: skip
    q = book.policy(specialist=book.a)
    c2 = session.get(Customer, q.customer_id)
    # Moved before the due date: B's.
    c2.specialist_id = book.b.id
    session.add(AssignmentEvent(customer_id=c2.id, from_specialist_id=book.a.id, to_specialist_id=book.b.id,
                                reason=AssignmentReason.MANUAL, at=datetime(2024, 1, 1, tzinfo=timezone.utc)))  # fmt: skip
    book.done()
    rows = {r.group_key: r.policies for r in report(session, by="specialist")}
    assert rows == {book.a.id: 1, book.b.id: 1}


def test_grouping_by_payment_mode_and_csv_columns(session, book):
    book.policy(mode=PaymentMode.ANNUAL, issued=date(2023, 3, 1))
    book.policy(mode=PaymentMode.MONTHLY, issued=date(2023, 3, 1), paid=0, premium=100)
    book.done()
    rows = report(session, by="payment_mode")
    assert {r.group: r.persistency_premium for r in rows} == {
        "annual": Decimal("1.0000"),
        "monthly": Decimal("0.0000"),
    }
    csv = render_persistency(report(session), "csv").splitlines()
    assert csv[0] == (
        "group,policies,persisting_policies,pending_policies,premium_due,premium_received,"
        "persistency_premium,persistency_count"
    )
    assert csv[1] == "all,2,1,0,1100.00,1000.00,0.9091,0.5000"


def test_year_on_year_change_in_points(session, book):
    book.policy(issued=date(2022, 3, 10), paid=0)  # year-2 due 2023-03-10: unpaid
    book.policy(issued=date(2022, 3, 10))
    book.policy(issued=date(2023, 3, 10))  # year-2 due 2024-03-10: paid
    book.done()
    (yoy,) = persistency_with_yoy(session, period=MARCH, as_of=AS_OF)
    assert yoy.current.persistency_premium == Decimal("1.0000")
    assert yoy.year_earlier.persistency_premium == Decimal("0.5000")
    assert yoy.change_points == Decimal("50.00")


def test_25_month_uses_policy_year_three(session, book):
    book.policy(issued=date(2022, 3, 10), paid=0)
    book.done()
    r = only(report(session, month=25))  # year-3 due 2024-03-10, paid on time
    assert (r.policies, r.persisting_policies) == (1, 1)
