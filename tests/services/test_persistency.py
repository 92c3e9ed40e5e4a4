"""13-month persistency pinned rule by rule with small hand-computed cases (DOMAIN.md).

Each policy below is annual, 1,000 yuan a year, issued 2023-03-10 unless said otherwise, so
the first due of policy year 2 is 2024-03-10; every other instalment is paid on time and only
that row is varied.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import Factory

from app.models import Branch, PremiumDue
from app.models.enums import PaymentMode, PolicyStatus
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.persistency import persistency_report
from app.services.periods import Period, add_months

AS_OF = date(2025, 12, 31)
MARCH = Period.parse("2024-03")
ISSUED = date(2023, 3, 10)
DUE = date(2024, 3, 10)


def book_policy(
    f: Factory,
    *,
    paid_fen: int | None = None,
    paid_on: date | None = None,
    year: int = 2,
    customer=None,
    **policy_kw,
):
    """Add a policy with three years of dues paid on time, then set the first due of policy
    ``year`` to ``paid_fen`` received on ``paid_on`` (defaults: in full, on the due date)."""
    policy_kw.setdefault("issued", ISSUED)
    policy_kw.setdefault("premium_fen", 100_000)
    p = f.policy(customer=customer, **policy_kw)
    dues = f.schedule(p, years=3)
    first = next((d for d in dues if d.policy_year == year), None)
    if first is not None:
        first.amount_received_fen = p.modal_premium_fen if paid_fen is None else paid_fen
        first.received_on = (paid_on or first.due_date) if first.amount_received_fen else None
    f.s.flush()
    return p


def report(session, period=MARCH, as_of=AS_OF, **kw):
    refresh_persistency_base(session)
    return persistency_report(session, period=period, as_of=as_of, **kw)


def only(rows):
    (row,) = rows
    return row


@pytest.fixture
def f(session):
    return Factory(session)


def test_grace_boundary_day_60_counts_day_61_does_not(session, f):
    book_policy(f, paid_on=DUE + timedelta(days=60))
    book_policy(f, paid_on=DUE + timedelta(days=61))
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (2, 1)
    assert (r.premium_due_fen, r.premium_received_fen) == (200_000, 100_000)
    assert r.persistency_premium == Decimal("0.5000")
    assert r.persistency_count == Decimal("0.5000")


def test_paid_before_the_due_date_counts(session, f):
    book_policy(f, paid_on=DUE - timedelta(days=20))
    assert only(report(session)).persistency_premium == Decimal("1.0000")


def test_grace_period_is_the_branchs_unless_given(session, f):
    book_policy(f, paid_on=DUE + timedelta(days=31))
    f.default_branch.grace_days = 30
    session.flush()
    assert only(report(session)).premium_received_fen == 0
    assert only(report(session, grace_days=31)).premium_received_fen == 100_000
    assert session.get(Branch, f.default_branch.id).grace_days == 30


def test_partial_payment_counts_its_amount_but_does_not_persist(session, f):
    book_policy(f, paid_fen=40_000)
    book_policy(f, paid_fen=100_000)
    r = only(report(session))
    assert r.premium_received_fen == 140_000
    assert r.persistency_premium == Decimal("0.7000")
    assert (r.policies, r.persisting_policies) == (2, 1)
    assert r.persistency_count == Decimal("0.5000")


def test_overpayment_is_capped_at_the_amount_due(session, f):
    book_policy(f, paid_fen=150_000)
    book_policy(f, paid_fen=0)
    r = only(report(session))
    assert (r.premium_due_fen, r.premium_received_fen) == (200_000, 100_000)
    assert r.persistency_premium == Decimal("0.5000")


def test_death_or_claim_before_the_due_date_is_excluded_on_or_after_it_stays(session, f):
    book_policy(f, status=PolicyStatus.DEATH, status_date=DUE - timedelta(days=1), paid_fen=0)
    book_policy(f, status=PolicyStatus.CLAIM, status_date=DUE - timedelta(days=90), paid_fen=0)
    book_policy(f, status=PolicyStatus.CLAIM, status_date=DUE, paid_fen=0)  # on the day: stays
    book_policy(f, status=PolicyStatus.DEATH, status_date=DUE + timedelta(days=5))
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (2, 1)
    assert (r.premium_due_fen, r.premium_received_fen) == (200_000, 100_000)


def test_surrender_and_lapse_stay_in_both_sides_unpaid(session, f):
    book_policy(
        f, status=PolicyStatus.SURRENDERED, status_date=DUE - timedelta(days=20), paid_fen=0
    )
    book_policy(f, status=PolicyStatus.LAPSED, status_date=DUE + timedelta(days=61), paid_fen=0)
    book_policy(f)
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (3, 1)
    assert r.persistency_premium == Decimal("0.3333")


def test_single_premium_policies_are_excluded(session, f):
    single = f.policy(mode=PaymentMode.SINGLE, issued=ISSUED)
    # Even a single-premium policy with a (mis-)recorded year-2 row stays out.
    f.due(single, policy_year=2, due_date=DUE)
    book_policy(f)
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
def test_first_due_of_year_two_is_the_13th_5th_3rd_instalment(session, f, mode, instalment):
    issued = date(2023, 1, 15)
    p = f.policy(mode=mode, issued=issued, premium_fen=10_000)
    dues = f.schedule(p, years=3)
    target = dues[instalment - 1]
    assert (target.policy_year, target.due_date) == (2, date(2024, 1, 15))
    target.amount_received_fen, target.received_on = 0, None
    session.flush()
    r = only(report(session, period=Period.parse("2024-01")))
    assert (r.policies, r.premium_due_fen, r.premium_received_fen) == (1, 10_000, 0)
    # The later instalments of year 2 (paid) are not counted: one row per policy over the year.
    whole_year = only(report(session, period=Period.parse("2024")))
    assert (whole_year.policies, whole_year.premium_received_fen) == (1, 0)


def test_the_earliest_due_of_the_year_is_taken_whatever_the_insert_order(session, f):
    p = f.policy(mode=PaymentMode.SEMIANNUAL, issued=ISSUED, premium_fen=50_000)
    f.due(p, policy_year=2, due_date=date(2024, 9, 10), received_fen=50_000, received_on=date(2024, 9, 10))  # fmt: skip
    f.due(p, policy_year=2, due_date=DUE, received_fen=0)
    assert only(report(session, period=Period.parse("2024"))).premium_received_fen == 0


def test_rows_are_taken_by_due_date_within_the_period(session, f):
    book_policy(f, issued=date(2023, 3, 31))  # due 2024-03-31: last day of the period
    book_policy(f, issued=date(2023, 4, 1))  # due 2024-04-01: next period
    book_policy(f, issued=date(2023, 1, 1))  # due 2024-01-01: first day of the quarter
    assert only(report(session)).policies == 1
    assert only(report(session, period=Period.parse("2024-Q1"))).policies == 2
    assert only(report(session, period=Period.parse("2024-Q2"))).policies == 1


def test_pending_rows_are_counted_apart_until_due_plus_grace_reaches_the_as_of_date(session, f):
    book_policy(f, paid_fen=0)
    book_policy(f)
    r = only(report(session, as_of=DUE + timedelta(days=59)))
    assert (r.policies, r.pending_policies, r.premium_due_fen) == (0, 2, 0)
    assert (r.persistency_premium, r.persistency_count) == (None, None)
    r = only(report(session, as_of=DUE + timedelta(days=60)))
    assert (r.policies, r.pending_policies, r.persisting_policies) == (2, 0, 1)


def test_receipts_after_the_as_of_date_do_not_count(session, f):
    book_policy(f, paid_on=DUE + timedelta(days=40))
    # Seen on due + 30 with a 30-day grace, the row is mature and the money not yet in.
    r = only(report(session, as_of=DUE + timedelta(days=30), grace_days=30))
    assert (r.policies, r.persisting_policies, r.premium_received_fen) == (1, 0, 0)
    # With the 60-day grace the same row is pending on that date, and counts once it is in.
    assert only(report(session, as_of=DUE + timedelta(days=30))).pending_policies == 1
    r = only(report(session, as_of=DUE + timedelta(days=60)))
    assert (r.persisting_policies, r.premium_received_fen) == (1, 100_000)


def test_count_basis_needs_the_full_amount_within_grace(session, f):
    book_policy(f)  # in full, on time: persists
    book_policy(f, paid_fen=99_999)  # one fen short
    book_policy(f, paid_on=DUE + timedelta(days=70))  # in full, too late
    book_policy(f, paid_fen=120_000, paid_on=DUE + timedelta(days=3))  # over, on time: persists
    r = only(report(session))
    assert (r.policies, r.persisting_policies) == (4, 2)
    assert r.persistency_count == Decimal("0.5000")
    assert r.premium_received_fen == 100_000 + 99_999 + 100_000
    assert r.persistency_premium == Decimal("0.7500")  # 299,999 / 400,000 rounds to 0.7500


def test_25_month_persistency_uses_the_first_due_of_policy_year_three(session, f):
    book_policy(f, issued=date(2022, 3, 10), year=3, paid_fen=0)  # year-3 due 2024-03-10
    book_policy(f, issued=date(2022, 3, 10), year=3)
    book_policy(f)  # its year-3 due is in 2025
    r = only(report(session, month=25))
    assert (r.policies, r.persisting_policies) == (2, 1)
    # The 13-month figure of March 2024 is the third policy only.
    assert only(report(session, month=13)).policies == 1


def test_only_13_and_25_months_exist(session, f):
    with pytest.raises(ValueError):
        report(session, month=37)


def test_a_policy_without_dues_in_policy_year_two_is_not_in_the_base(session, f):
    p = f.policy(issued=ISSUED)
    f.due(p, policy_year=1, due_date=ISSUED, received_fen=100_000, received_on=ISSUED)
    r = only(report(session, period=Period.parse("2024")))
    assert r.policies == 0 and r.persistency_premium is None
    assert session.query(PremiumDue).count() == 1


def test_monthly_policy_13th_instalment_due_on_a_short_month(session, f):
    # Issued on 31 January: instalments fall on the month's last day when it is shorter.
    p = f.policy(mode=PaymentMode.MONTHLY, issued=date(2023, 1, 31), premium_fen=10_000)
    dues = f.schedule(p, years=2)
    assert dues[1].due_date == date(2023, 2, 28)
    assert dues[12].due_date == add_months(date(2023, 1, 31), 12) == date(2024, 1, 31)
    assert only(report(session, period=Period.parse("2024-01"))).policies == 1
