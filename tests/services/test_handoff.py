"""The hand-off clock (DOMAIN.md): days from pool entry to the SMS sent, first contact and
first service; the customers late on a target; each specialist's on-time share; persistency by
first-contact delay band. Each case is built with known delays and checked exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import Factory, utc

from app.models import Notification
from app.models.enums import NotificationStatus, NotificationTemplate, TaskKind
from app.services.customers.steps import recompute_steps
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.contact_bands import BAND_KEYS, band_of
from app.services.metrics.handoff import (
    HandoffTargets,
    TargetError,
    clocks,
    late_handoffs,
    on_time_shares,
    persistency_by_contact_band,
)
from app.services.periods import Period

ENTERED = date(2024, 1, 1)
AS_OF = date(2025, 12, 31)
TARGETS = HandoffTargets(sms_days=1, contact_days=7, service_days=30)


@pytest.fixture
def f(session):
    return Factory(session)


def at_day(day: date):
    """10:00 in Shanghai on ``day`` (02:00 UTC), so the local day is ``day``."""
    return utc(day.year, day.month, day.day, 2)


def done(f, customer, kind: TaskKind, day: date):
    f.task(customer=customer, kind=kind, created_at=at_day(ENTERED), completed_at=at_day(day))


def sms(f, customer, day: date | None, status=NotificationStatus.SENT):
    f.s.add(
        Notification(
            customer_id=customer.id,
            template=NotificationTemplate.AGENT_CHANGE,
            body="…",
            status=status,
            sent_at=at_day(day) if day else None,
        )
    )
    f.s.flush()


def contacted_after(f, specialist, days: int | None, entered=ENTERED):
    """A customer in the pool since ``entered`` first contacted ``days`` later (None: never)."""
    c = f.customer(specialist=specialist, pool_entered_on=entered)
    if days is not None:
        done(f, c, TaskKind.PRE_SELL, entered + timedelta(days=days))
    return c


def test_milestones_are_dated_by_the_local_day_and_ignore_what_came_after_the_as_of_date(
    session, f
):
    s = f.specialist()
    c = f.customer(specialist=s, pool_entered_on=ENTERED)
    sms(f, c, date(2024, 1, 3), status=NotificationStatus.FAILED)  # not sent: no milestone
    sms(f, c, date(2024, 1, 2))
    # 2024-01-05 23:30 UTC is 2024-01-06 07:30 in Shanghai.
    f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=utc(2024, 1, 5, 23, 30))
    done(f, c, TaskKind.RENEWAL_COLLECTION, date(2024, 3, 1))
    recompute_steps(session)
    (clock,) = clocks(session, as_of=AS_OF)
    assert (clock.sms_on, clock.contact_on, clock.service_on) == (
        date(2024, 1, 2),
        date(2024, 1, 6),
        date(2024, 3, 1),
    )
    assert (clock.delay("sms"), clock.delay("contact"), clock.delay("service")) == (1, 5, 60)
    (before,) = clocks(session, as_of=date(2024, 2, 1))
    assert before.service_on is None and before.delay("service") is None


def test_a_service_first_counts_as_first_contact_too(session, f):
    c = f.customer(specialist=f.specialist(), pool_entered_on=ENTERED)
    done(f, c, TaskKind.SERVICING, date(2024, 1, 4))
    recompute_steps(session)
    (clock,) = clocks(session, as_of=AS_OF)
    assert clock.delay("contact") == clock.delay("service") == 3


def test_late_lists_customers_past_a_target_oldest_first_with_what_they_missed(session, f):
    s = f.specialist(name="董琪梅")
    grid = f.grid(owner=s)
    as_of = date(2024, 3, 1)
    on_target_day = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(7))
    sms(f, on_target_day, as_of - timedelta(7))
    one_day_over = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(8))
    sms(f, one_day_over, as_of - timedelta(8))
    no_sms = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(2))
    contacted = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(20))
    sms(f, contacted, as_of - timedelta(20))
    done(f, contacted, TaskKind.PRE_SELL, as_of - timedelta(15))
    served_late = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(40))
    sms(f, served_late, as_of - timedelta(40))
    done(f, served_late, TaskKind.PRE_SELL, as_of - timedelta(39))
    done(f, served_late, TaskKind.SERVICING, as_of + timedelta(1))  # after the as-of date
    all_done = f.customer(specialist=s, grid=grid, pool_entered_on=as_of - timedelta(100))
    sms(f, all_done, as_of - timedelta(100))
    done(f, all_done, TaskKind.RENEWAL_COLLECTION, as_of - timedelta(90))
    f.customer(specialist=s, grid=grid)  # never entered the pool
    recompute_steps(session)

    late = late_handoffs(session, as_of=as_of, branch_id=s.branch_id, targets=TARGETS)
    assert [(r.customer_id, r.missed, r.days_waiting, r.days_over) for r in late] == [
        (served_late.id, ("service",), 40, 10),
        (one_day_over.id, ("contact",), 8, 1),
        (no_sms.id, ("sms",), 2, 1),
    ]
    assert {r.specialist_name for r in late} == {"董琪梅"}
    assert {r.grid_code for r in late} == {grid.code}
    assert on_target_day.id not in {r.customer_id for r in late}
    # Scoped to another specialist, nobody is listed.
    other = f.specialist()
    assert (
        late_handoffs(
            session, as_of=as_of, branch_id=s.branch_id, targets=TARGETS, specialist_ids=[other.id]
        )
        == []
    )


def test_the_branch_targets_decide_who_is_late(session, f):
    s = f.specialist()
    branch = f.default_branch
    c = contacted_after(f, s, None, entered=date(2024, 3, 1) - timedelta(10))
    sms(f, c, c.pool_entered_on)
    recompute_steps(session)
    assert [
        r.customer_id for r in late_handoffs(session, as_of=date(2024, 3, 1), branch_id=branch.id)
    ] == [c.id]
    branch.handoff_contact_days = 14
    session.flush()
    assert late_handoffs(session, as_of=date(2024, 3, 1), branch_id=branch.id) == []


def test_on_time_share_counts_settled_customers_for_who_had_them_when_it_was_settled(session, f):
    a, b = f.specialist(name="A"), f.specialist(name="B")
    as_of = date(2024, 6, 30)
    entered = as_of - timedelta(days=30)
    on_time = contacted_after(f, b, 3, entered=entered)  # b had them on day 3
    f.move(on_time, a, at=at_day(entered + timedelta(days=10)))  # a has them since day 10
    contacted_after(f, a, 9, entered=entered)  # late: settled on day 7, with a
    never = contacted_after(f, b, None, entered=entered)  # late: settled on day 7, with b
    f.move(never, a, at=at_day(entered + timedelta(days=20)))
    contacted_after(f, a, None, entered=as_of - timedelta(days=3))  # still within its target
    contacted_after(f, a, None, entered=as_of - timedelta(days=90))  # entered over 90 days ago
    recompute_steps(session)
    shares = on_time_shares(
        session, as_of=as_of, branch_id=a.branch_id, milestones=["contact"], targets=TARGETS
    )
    assert (shares[(a.id, "contact")].decided, shares[(a.id, "contact")].on_time) == (1, 0)
    assert shares[(a.id, "contact")].open == 1
    assert (shares[(b.id, "contact")].decided, shares[(b.id, "contact")].on_time) == (2, 1)
    assert shares[(b.id, "contact")].share == Decimal("0.5000")
    assert shares[(a.id, "contact")].share == Decimal("0.0000")


@pytest.mark.parametrize(
    ("days", "band"),
    [(0, "0-7"), (7, "0-7"), (8, "8-30"), (30, "8-30"), (31, "31-90"), (90, "31-90"),
     (91, "91+"), (400, "91+"), (None, "never"), (-2, "0-7")],
)  # fmt: skip
def test_band_edges(days, band):
    assert band_of(days) == band


def test_persistency_by_contact_band_counts_each_band_exactly(session, f):
    """One customer per delay; each with one annual policy whose year-2 due (2024-03-10)
    is paid in full, except the 31-90 band's second policy and the never band's policy."""
    from test_persistency import book_policy

    s = f.specialist()
    cases = {0: True, 7: True, 8: True, 30: True, 31: True, 90: False, 91: True, None: False}
    for days, paid in cases.items():
        c = contacted_after(f, s, days)
        book_policy(f, customer=c, paid_fen=None if paid else 0)
    late_contact = contacted_after(f, s, None)  # contacted after the as-of date: never
    done(f, late_contact, TaskKind.PRE_SELL, AS_OF + timedelta(days=5))
    book_policy(f, customer=late_contact)
    book_policy(f, customer=f.customer(specialist=s))  # not in the pool: left out
    recompute_steps(session)
    refresh_persistency_base(session)
    rows = persistency_by_contact_band(session, period=Period.parse("2024-03"), as_of=AS_OF)
    assert [r.group_key for r in rows] == list(BAND_KEYS)
    got = {r.group_key: (r.policies, r.persisting_policies, r.persistency_premium) for r in rows}
    assert got == {
        "0-7": (2, 2, Decimal("1.0000")),
        "8-30": (2, 2, Decimal("1.0000")),
        "31-90": (2, 1, Decimal("0.5000")),
        "91+": (1, 1, Decimal("1.0000")),
        "never": (2, 1, Decimal("0.5000")),
    }
    # A period with no due policies still has every band, each empty and without a rate.
    empty = persistency_by_contact_band(session, period=Period.parse("2024-04"), as_of=AS_OF)
    assert [(r.group_key, r.policies, r.persistency_premium) for r in empty] == [
        (k, 0, None) for k in BAND_KEYS
    ]


def test_targets_must_be_in_order_and_in_range():
    assert HandoffTargets().check() == HandoffTargets(1, 7, 30)
    with pytest.raises(TargetError, match="in order"):
        HandoffTargets(1, 30, 7).check()
    with pytest.raises(TargetError, match="between 0 and 365"):
        HandoffTargets(1, 7, 400).check()
