"""The monthly scorecard (app/services/metrics/scorecard.py): each figure on a hand-built case
with exact values, met or not at the standard's edge, the previous month beside, the standards
kept per branch, and migration 0011 up and down."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from factories import Factory, utc

from app.models.enums import PaymentMode, PolicyStatus, TaskKind, TaskStatus
from app.services.customers.steps import recompute_steps
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.equity import equity_report
from app.services.metrics.handoff import on_time_shares
from app.services.metrics.scorecard import (
    Figure,
    Mark,
    StandardError,
    Standards,
    scorecard,
    scorecard_standards,
)
from app.services.metrics.scorecard_figures import (
    contact_on_time,
    renewal_collected,
    tasks_on_time,
)
from app.services.people.branches import SettingError, set_scorecard_standards
from app.services.periods import Period

OCT = Period.month(2025, 10)
SEP = Period.month(2025, 9)
AS_OF = date(2025, 12, 31)


@pytest.fixture
def f(session):
    return Factory(session)


def at_day(day: date, hour_utc: int = 2):
    """10:00 in Shanghai on ``day`` by default (02:00 UTC)."""
    return utc(day.year, day.month, day.day, hour_utc)


def test_renewal_collected_counts_renewal_rows_within_grace_capped_for_who_served_the_due_date(
    session, f
):
    a, b = f.specialist(), f.specialist()
    c1 = f.customer(specialist=a, pool_entered_on=date(2025, 1, 1))
    p = f.policy(customer=c1, issued=date(2023, 10, 10))
    f.due(
        p,
        policy_year=3,
        due_date=date(2025, 10, 10),
        amount_due_fen=100_000,
        received_fen=100_000,
        received_on=date(2025, 12, 9),
    )  # day 60 of grace: counts
    p2 = f.policy(customer=c1)
    f.due(
        p2,
        policy_year=2,
        due_date=date(2025, 10, 20),
        amount_due_fen=50_000,
        received_fen=60_000,
        received_on=date(2025, 10, 20),
    )  # overpaid: capped at 50,000
    p3 = f.policy(customer=c1)
    f.due(
        p3,
        policy_year=2,
        due_date=date(2025, 10, 5),
        amount_due_fen=40_000,
        received_fen=40_000,
        received_on=date(2025, 12, 5),
    )  # day 61: too late
    p4 = f.policy(customer=c1)
    f.due(p4, policy_year=1, due_date=date(2025, 10, 15), amount_due_fen=999_000)  # first year
    p5 = f.policy(customer=c1, status=PolicyStatus.DEATH, status_date=date(2025, 10, 1))
    f.due(p5, policy_year=2, due_date=date(2025, 10, 25), amount_due_fen=70_000)  # died before
    f.due(p2, policy_year=2, due_date=date(2025, 11, 20), amount_due_fen=50_000)  # November
    # c2 moved from a to b on 15 October: the 12 October row is a's, the 20 October row b's.
    c2 = f.customer(specialist=a, pool_entered_on=date(2025, 1, 1))
    q = f.policy(customer=c2, mode=PaymentMode.MONTHLY, premium_fen=30_000)
    f.due(
        q,
        policy_year=2,
        due_date=date(2025, 10, 12),
        amount_due_fen=30_000,
        received_fen=30_000,
        received_on=date(2025, 10, 13),
    )
    f.due(q, policy_year=2, due_date=date(2025, 10, 20), amount_due_fen=20_000)
    move = f.move(c2, b, at=utc(2025, 10, 15, 2))
    move.effective_on = date(2025, 10, 15)
    session.flush()

    got = renewal_collected(session, branch_id=f.default_branch.id, month=OCT, as_of=AS_OF)
    # Four settled rows rest a's rate (10/5, 10/10, 10/20 and c2's 10/12), one b's.
    assert got[a.id] == Figure(Decimal("0.8182"), 180_000, 220_000, 0, policies=4)
    assert got[b.id] == Figure(Decimal("0.0000"), 0, 20_000, 0, policies=1)
    # As of 10 December the rows due after 11 October are still in their grace period.
    early = renewal_collected(
        session, branch_id=f.default_branch.id, month=OCT, as_of=date(2025, 12, 10)
    )
    assert early[a.id] == Figure(Decimal("0.7143"), 100_000, 140_000, 2, policies=2)
    assert early[b.id] == Figure(None, 0, 0, 1, policies=0)


def test_tasks_on_time_by_the_local_day_with_late_failed_cancelled_and_pending(session, f):
    a = f.specialist()
    c = f.customer(specialist=a)

    def task(due: date, status=TaskStatus.DONE, done=None):
        f.task(
            customer=c,
            kind=TaskKind.SERVICING,
            status=status,
            due_date=due,
            created_at=at_day(date(2025, 9, 1)),
            completed_at=done,
        )

    task(date(2025, 10, 5), done=at_day(date(2025, 10, 5)))  # on time
    task(date(2025, 10, 6), done=at_day(date(2025, 10, 7)))  # late
    task(date(2025, 10, 8), status=TaskStatus.FAILED)  # failed: late
    task(date(2025, 10, 9), status=TaskStatus.OPEN)  # past due, open: late
    task(date(2025, 10, 10), status=TaskStatus.CANCELLED)  # left out
    task(date(2025, 10, 25), status=TaskStatus.OPEN)  # not yet due: pending
    task(date(2025, 10, 20), status=TaskStatus.IN_PROGRESS)  # due on the as-of day: pending
    task(date(2025, 10, 12), done=utc(2025, 10, 12, 15, 30))  # 23:30 local: on time
    task(date(2025, 10, 12), done=utc(2025, 10, 12, 16, 30))  # 00:30 local next day: late
    task(date(2025, 10, 15), done=at_day(date(2025, 10, 25)))  # done after the as-of date: late
    task(date(2025, 9, 30), done=at_day(date(2025, 9, 30)))  # September: on time

    as_of = date(2025, 10, 20)
    kw = {"branch_id": f.default_branch.id, "as_of": as_of, "people": [a.id]}
    assert tasks_on_time(session, month=OCT, **kw)[a.id] == Figure(Decimal("0.2857"), 2, 7, 2)
    card = scorecard(session, branch_id=f.default_branch.id, month=OCT, as_of=as_of)
    mark = card.rows[0].mark("tasks")
    assert mark.before == Figure(Decimal("1.0000"), 1, 1, 0)
    assert mark.change == Decimal("-71.43")
    assert (mark.met, mark.met_before) == (False, True)
    assert card.previous == SEP


def test_first_contact_on_time_is_the_hand_off_share_on_the_months_last_day(session, f):
    a = f.specialist()

    def customer(entered: date, contacted: date | None):
        c = f.customer(specialist=a, pool_entered_on=entered)
        if contacted:
            f.task(customer=c, kind=TaskKind.PRE_SELL, completed_at=at_day(contacted))

    customer(date(2025, 10, 1), date(2025, 10, 5))  # 4 days: on time
    customer(date(2025, 10, 1), date(2025, 10, 20))  # 19 days: late
    customer(date(2025, 10, 1), date(2025, 11, 2))  # not reached by 31 October: late
    customer(date(2025, 10, 28), None)  # 3 days in on 31 October: pending
    customer(date(2025, 7, 1), date(2025, 7, 2))  # entered before the 90 days: not counted
    recompute_steps(session)

    got = contact_on_time(session, branch_id=f.default_branch.id, month=OCT, as_of=AS_OF)
    assert got[a.id] == Figure(Decimal("0.3333"), 1, 3, 1)
    roster = on_time_shares(
        session, as_of=OCT.end, branch_id=f.default_branch.id, milestones=("contact",)
    )[(a.id, "contact")]
    assert (roster.on_time, roster.decided, roster.open) == (1, 3, 1)


def test_equity_flag_is_the_equity_report_on_the_months_last_day(session, f):
    a = f.specialist()
    never = f.customer(specialist=a)
    bought = f.customer(specialist=a)
    bought.step = 3
    for k in range(5):
        status = TaskStatus.DONE if k < 3 else TaskStatus.FAILED
        f.task(
            customer=never,
            status=status,
            created_at=at_day(date(2025, 10, 1)),
            due_date=date(2025, 10, 3),
        )
        f.task(customer=bought, created_at=at_day(date(2025, 10, 1)), due_date=date(2025, 10, 3))
    session.flush()
    card = scorecard(session, branch_id=f.default_branch.id, month=OCT, as_of=AS_OF)
    mark = card.rows[0].mark("equity")
    (report,) = equity_report(session, as_of=OCT.end, branch_id=f.default_branch.id)
    assert report.flagged and mark.now.flagged
    assert mark.now.value == report.gap_points == Decimal("40.00")
    assert mark.met is False
    assert mark.before.value is None and mark.met_before is None  # September: no tasks yet


def _second_year_dues(f, customer, received: list[int]) -> None:
    """One policy per amount, issued 2024-10-10 with its first year paid; its second-year
    premium of 100,000 fen, due 2025-10-10 (October's persistency), received as given."""
    for amount in received:
        p = f.policy(customer=customer, issued=date(2024, 10, 10))
        f.due(
            p,
            policy_year=1,
            due_date=date(2024, 10, 10),
            amount_due_fen=100_000,
            received_fen=100_000,
            received_on=date(2024, 10, 10),
        )
        f.due(
            p,
            policy_year=2,
            due_date=date(2025, 10, 10),
            amount_due_fen=100_000,
            received_fen=amount,
            received_on=date(2025, 10, 10) if amount else None,
        )


def test_persistency_meets_its_standard_at_the_edge(session, f):
    a = f.specialist()
    c = f.customer(specialist=a, pool_entered_on=date(2024, 1, 1))
    # 30 policies (enough to judge): 25 paid in full, one half, four not at all: 85.00 %.
    _second_year_dues(f, c, [100_000] * 25 + [50_000] + [0] * 4)
    refresh_persistency_base(session)
    branch_id = f.default_branch.id
    mark = (
        scorecard(session, branch_id=branch_id, month=OCT, as_of=AS_OF).rows[0].mark("persistency")
    )
    assert mark.now == Figure(Decimal("0.8500"), 2_550_000, 3_000_000, 0, policies=30)
    assert mark.standard == 85 and mark.met is True
    set_scorecard_standards(
        session, actor=None, branch_id=branch_id, standards=Standards(90, 86, 80, 80)
    )
    mark = (
        scorecard(session, branch_id=branch_id, month=OCT, as_of=AS_OF).rows[0].mark("persistency")
    )
    assert mark.standard == 86 and mark.met is False


def test_a_premium_rate_on_a_few_policies_is_shown_but_not_judged(session, f):
    """One lapse in a handful of policies moves a rate by twenty points: under 30 policies
    the scorecard shows it, marked few, and neither meets nor misses the standard."""
    a = f.specialist()
    c = f.customer(specialist=a, pool_entered_on=date(2024, 1, 1))
    _second_year_dues(f, c, [100_000, 0])  # 50 %: far under the standard, on two policies
    refresh_persistency_base(session)
    row = scorecard(session, branch_id=f.default_branch.id, month=OCT, as_of=AS_OF).rows[0]
    for measure in ("persistency", "renewal"):
        mark = row.mark(measure)
        assert mark.now.value == Decimal("0.5000") and mark.now.few, measure
        assert mark.met is None, measure
    assert row.judged == row.met  # neither counts as a miss
    # The tasks and contact shares count tasks and customers: never "few" by policies.
    assert not Figure(Decimal("0.5"), 1, 2).few


@pytest.mark.parametrize(
    ("value", "standard", "met"),
    [("0.8000", 80, True), ("0.7999", 80, False), ("1.0000", 100, True), ("0.0000", 0, True)],
)
def test_a_share_meets_its_standard_from_the_standard_up(value, standard, met):
    figure = Figure(Decimal(value), 1, 1)
    assert Mark("tasks", figure, Figure(), standard).met is met
    assert Mark("tasks", Figure(None, 0, 0, 3), Figure(), standard).met is None  # all pending


def test_standards_are_kept_per_branch_and_checked(session, f):
    branch = f.default_branch
    assert scorecard_standards(session, branch.id) == Standards(90, 85, 80, 80)
    set_scorecard_standards(
        session, actor=None, branch_id=branch.id, standards=Standards(95, 80, 70, 60)
    )
    session.expire_all()
    assert scorecard_standards(session, branch.id) == Standards(95, 80, 70, 60)
    with pytest.raises(StandardError, match="0 to 100"):
        Standards(101, 85, 80, 80).check()
    with pytest.raises(SettingError, match="tasks standard"):
        set_scorecard_standards(
            session, actor=None, branch_id=branch.id, standards=Standards(90, 85, -1, 80)
        )


def test_a_left_specialist_without_figures_is_left_out(session, f):
    from app.models.enums import SpecialistStatus

    stays = f.specialist()
    f.specialist(status=SpecialistStatus.LEFT)
    card = scorecard(session, branch_id=f.default_branch.id, month=OCT, as_of=AS_OF)
    assert [r.specialist_id for r in card.rows] == [stays.id]
    assert all(m.met is None for m in card.rows[0].marks)


def test_migration_0011_adds_the_standards_and_takes_them_away(tmp_path):
    from alembic import command
    from sqlalchemy import inspect, text

    from app.db import alembic_config, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0010")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO branch (id, code, name, city, timezone, grace_days) "
                "VALUES (1, 'cd', '成都', '成都', 'Asia/Shanghai', 60)"
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT scorecard_renewal_pct, scorecard_persistency_pct, scorecard_tasks_pct, "
                "scorecard_contact_pct, handoff_contact_days FROM branch"
            )
        ).one()
    assert tuple(row) == (90, 85, 80, 80, 7)
    command.downgrade(cfg, "0010")
    columns = {c["name"] for c in inspect(engine).get_columns("branch")}
    assert not any(c.startswith("scorecard_") for c in columns)
    assert "handoff_contact_days" in columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM branch")).scalar() == "cd"
    engine.dispose()
