"""The demo reads as a branch at work on whatever day it is built for: the task queue mostly
ahead of the last day with a minority overdue, and grids with enough policies to judge their
persistency, but a couple too small to judge. Checked on the small demo built at two dates a
year apart, each read as of its own last day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Branch, DepartedAgent, Grid, PremiumDue, Task
from app.models.enums import TaskStatus
from app.services.clock import local_date
from app.services.demo.dates import pilot_start_for
from app.services.metrics.persistency import FEW_POLICIES, persistency_report
from app.services.people.roster import trailing_year

DATES = (date(2025, 6, 15), date(2024, 6, 15))
OPEN = (TaskStatus.OPEN.value, TaskStatus.IN_PROGRESS.value)


@dataclass
class Demo:
    Session: sessionmaker[Session]
    as_of: date


@pytest.fixture(scope="module", params=DATES, ids=[d.isoformat() for d in DATES])
def demo(request, module_demo) -> Iterator[Demo]:
    with module_demo(seed=7, as_of=request.param) as Session:  # noqa: N806
        yield Demo(Session, request.param)


def test_the_data_ends_on_the_day_the_demo_is_built_for(demo: Demo):
    """Every date is relative to the build date: nothing is left at a fixed calendar day."""
    as_of = demo.as_of
    with demo.Session() as s:
        branch = s.scalars(select(Branch)).one()
        latest_agent = s.scalar(select(func.max(DepartedAgent.left_on)))
        received = s.scalar(select(func.max(PremiumDue.received_on)))
        dues = s.execute(select(func.min(PremiumDue.due_date), func.max(PremiumDue.due_date))).one()
        created = s.scalars(select(Task.created_at)).all()
        completed = s.scalars(select(Task.completed_at).where(Task.completed_at.is_not(None))).all()
    assert branch.pilot_start == pilot_start_for(as_of)
    assert latest_agent == as_of
    assert as_of - timedelta(days=3) <= received <= as_of
    assert as_of - timedelta(days=4 * 366) <= dues[0] and dues[1] <= as_of + timedelta(days=90)
    assert max(local_date(t) for t in created) <= as_of
    assert as_of - timedelta(days=3) <= max(local_date(t) for t in completed) <= as_of


def test_the_open_queue_lies_mostly_ahead_with_a_minority_overdue(demo: Demo):
    as_of = demo.as_of
    with demo.Session() as s:
        rows = s.execute(select(Task.kind, Task.due_date).where(Task.status.in_(OPEN))).all()
    assert len(rows) > 500 and all(r.due_date is not None for r in rows)
    overdue = [r for r in rows if r.due_date < as_of]
    assert 0.05 <= len(overdue) / len(rows) <= 0.15
    # Spread over the weeks after the last day, not piled on one date.
    weeks = Counter((r.due_date - as_of).days // 7 for r in rows if r.due_date >= as_of)
    assert sum(1 for n in weeks.values() if n >= 0.05 * len(rows)) >= 4
    assert max(Counter(r.due_date for r in rows).values()) <= 0.05 * len(rows)
    # Each kind's deadline as the queue sets it: renewals by the premium's due date, at most
    # 60 days ahead; a first contact within 7 days of the hand-off; a service within 5 days.
    horizon = {"renewal_collection": 60, "pre_sell": 7, "servicing": 5, "callback": 3}
    for kind, days in horizon.items():
        assert all(r.due_date <= as_of + timedelta(days=days) for r in rows if r.kind == kind)
    renewals = [r for r in rows if r.kind == "renewal_collection"]
    assert sum(r.due_date < as_of for r in renewals) / len(renewals) <= 0.15


def test_few_grids_have_too_few_policies_to_judge(demo: Demo):
    """The trailing year's 13-month persistency of most grids rests on FEW_POLICIES policies
    or more; a couple of grids on the city's edge rest on fewer (the "few" marking shows)."""
    as_of = demo.as_of
    with demo.Session() as s:
        grids = s.scalars(select(Grid.id)).all()
        rows = persistency_report(s, period=trailing_year(as_of), as_of=as_of, by="grid")
    policies = {r.group_key: r.policies for r in rows}
    few = [g for g in grids if policies.get(g, 0) < FEW_POLICIES]
    assert 1 <= len(few) <= 0.1 * len(grids)
