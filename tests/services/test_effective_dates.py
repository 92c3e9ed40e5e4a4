"""Every assignment change holds from the day it takes effect, not the day it was recorded: a
back-dated intake serves its customers from their pool entry, and "who served this customer on
day D" follows the effective days of the history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from factories import Factory
from sqlalchemy import select

from app.db import alembic_config, make_engine, migrate
from app.models import AssignmentEvent
from app.models.enums import PaymentMode
from app.services.customers.history import specialist_on
from app.services.intake.intake import intake_agent
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.persistency import persistency_report
from app.services.periods import Period


def test_a_back_dated_intake_serves_from_the_pool_entry_day(session):
    """The held-out case: intake run today for a pool entry on 2024-01-15; the March 2024 dues
    belong to the specialist who owned the customers' grid, not to "(unserved)"."""
    f = Factory(session)
    owner = f.specialist(name="王芳")
    grid = f.grid(owner=owner, lon=104.0, lat=30.6)
    f.agent(code="A100", left_on=date(2024, 1, 15))
    agent_id = session.scalar(sa.text("SELECT id FROM agent WHERE agent_code = 'A100'"))
    for k in range(3):
        c = f.customer(lon=104.005, lat=30.605, agent_id=agent_id, name=f"客户{k}")
        p = f.policy(
            customer=c, mode=PaymentMode.MONTHLY, issued=date(2023, 3, 1), premium_fen=10_000
        )
        f.schedule(p, years=2)
    session.commit()
    result = intake_agent(session, agent_code="A100", on_date=date(2024, 1, 15), actor="senior")
    session.commit()
    assert result.customers_entered == 3
    days = set(session.scalars(select(AssignmentEvent.effective_on)))
    assert days == {date(2024, 1, 15)}
    refresh_persistency_base(session)
    session.commit()
    rows = persistency_report(
        session, period=Period.parse("2024-03"), as_of=date(2024, 12, 31), by="specialist"
    )
    assert [(r.group_key, r.policies) for r in rows] == [(owner.id, 3)]
    assert grid.owner_id == owner.id


def test_who_served_on_a_day_follows_the_effective_days(session):
    f = Factory(session)
    a, b = f.specialist(name="王芳"), f.specialist(name="李强")
    c = f.customer(specialist=b)
    session.add(
        AssignmentEvent(
            customer_id=c.id,
            from_specialist_id=a.id,
            to_specialist_id=b.id,
            reason="manual",
            actor="sup",
            at=datetime(2026, 12, 6, 10, 0, tzinfo=UTC),  # recorded today ...
            effective_on=date(2024, 6, 1),  # ... for a change that held from June 2024
        )
    )
    session.commit()
    assert specialist_on(session, c.id, date(2024, 5, 31)) == a.id
    assert specialist_on(session, c.id, date(2024, 6, 1)) == b.id  # the day it takes effect
    assert specialist_on(session, c.id, date(2025, 1, 1)) == b.id


def test_the_migration_dates_existing_changes_by_the_branch_day_they_were_recorded(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0004")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO branch (id, code, name, city, timezone, grace_days) "
                "VALUES (1, 'cd', '成都', '成都', 'Asia/Shanghai', 60)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO customer (id, branch_id, customer_no, name, address, step, locked, "
                "version) VALUES (1, 1, 'C1', '张三', '成都', 0, 0, 1)"
            )
        )
        # 20:30 UTC on 31 January is 04:30 on 1 February in Chengdu.
        conn.execute(
            sa.text(
                "INSERT INTO assignment_event (customer_id, reason, actor, at) "
                "VALUES (1, 'manual', 'sup', '2024-01-31 20:30:00.000000')"
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        day = conn.execute(sa.text("SELECT effective_on FROM assignment_event")).scalar()
    engine.dispose()
    assert str(day) == "2024-02-01"
