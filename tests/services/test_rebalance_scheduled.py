"""Plans applied with a later effective date: stored without moving anyone or texting anyone,
applied on their day with the history holding from that day (even when the release runs
later), refused then when overtaken, cancellable before, never two on the same grid.

The city of test_rebalance: 王芳 (E1, T1) owns CD-01..03, 李强 (E2, T1) CD-04..05, 赵敏 (E3,
T2) CD-06. With one move the plan gives CD-03 to 李强."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update
from test_rebalance import AS_OF, city, persistency_ready, snapshot  # noqa: F401 - fixtures

from app.models import AssignmentEvent, ChangeBatch, Grid, Notification
from app.services.errors import NotFound, StaleData
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.make import make_plan
from app.services.rebalance.plan import PlanError
from app.services.rebalance.scheduled import (
    APPLIED,
    CANCELLED,
    REFUSED,
    SCHEDULED,
    cancel_scheduled,
    list_scheduled,
    release_due,
    schedule_plan,
)

DAY = date(2030, 1, 1)  # the first of a month well after today


def _plan(Session, city, *, max_moves=1):  # noqa: F811, N803
    with Session() as s:
        return make_plan(s, branch_id=city["branch"], as_of=AS_OF, max_moves=max_moves)


def _schedule(Session, plan, day=DAY, *, team_scope=None):  # noqa: N803
    with Session() as s, s.begin():
        return schedule_plan(
            s,
            plan,
            effective_on=day,
            actor="senior",
            user_may_cross_teams=team_scope is None,
            team_scope=team_scope,
            branch_scope=None,
        )


def _release(Session, city, today):  # noqa: F811, N803
    with Session() as s, s.begin():
        return release_due(s, branch_id=city["branch"], team_scope=None, today=today)


def _counts(s) -> tuple[int, int, int]:
    return tuple(
        s.scalar(select(func.count()).select_from(m))
        for m in (Notification, ChangeBatch, AssignmentEvent)
    )


def test_scheduling_moves_nobody_and_texts_nobody_until_the_day(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city)
    with Session() as s:
        before, counts = snapshot(s), _counts(s)
    info = _schedule(Session, plan)
    assert (info.status, info.effective_on, info.moves) == (SCHEDULED, DAY, len(plan.moves))
    with Session() as s:
        assert snapshot(s) == before and _counts(s) == counts
        (listed,) = list_scheduled(s, branch_id=city["branch"], team_scope=None)
    assert listed.id == info.id
    assert _release(Session, city, date(2029, 12, 31)) == []  # the day before: nothing
    with Session() as s:
        assert snapshot(s) == before


def test_on_its_day_the_plan_applies_as_of_that_day_even_when_released_later(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city)
    _schedule(Session, plan)
    (done,) = _release(Session, city, date(2030, 1, 4))  # nobody opened GridDesk until the 4th
    assert done.refused is None and done.applied.grids_moved == 1
    with Session() as s:
        assert s.get(Grid, city["CD-03"]).owner_id == city["E2"]
        days = set(
            s.scalars(
                select(AssignmentEvent.effective_on).where(
                    AssignmentEvent.batch_id == done.applied.batch_id
                )
            )
        )
        assert days == {DAY}
        assert s.scalar(select(func.count()).select_from(Notification)) == done.applied.sms_queued
        assert done.applied.sms_queued > 0
        (info,) = list_scheduled(s, branch_id=city["branch"], team_scope=None)
    assert (info.status, info.batch_id, info.decided_by) == (
        APPLIED,
        done.applied.batch_id,
        "system",
    )
    assert _release(Session, city, date(2030, 1, 5)) == []  # applied once only


def test_a_plan_overtaken_before_its_day_is_refused_then_and_says_why(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city)
    _schedule(Session, plan)
    with Session() as s, s.begin():  # CD-03 changes hands meanwhile
        s.execute(
            update(Grid)
            .where(Grid.id == city["CD-03"])
            .values(owner_id=city["E3"], version=Grid.version + 1)
        )
    with Session() as s:
        before = snapshot(s)
    (done,) = _release(Session, city, DAY)
    assert done.applied is None and "CD-03" in str(done.refused)
    with Session() as s:
        assert snapshot(s) == before
        (info,) = list_scheduled(s, branch_id=city["branch"], team_scope=None)
    assert info.status == REFUSED and "CD-03" in str(info.outcome)


def test_a_scheduled_plan_is_cancelled_before_its_day(Session, city):  # noqa: F811, N803
    info = _schedule(Session, _plan(Session, city))
    with Session() as s, s.begin():
        cancelled = cancel_scheduled(
            s, info.id, actor="senior", branch_id=city["branch"], team_scope=None
        )
    assert (cancelled.status, cancelled.decided_by) == (CANCELLED, "senior")
    assert _release(Session, city, DAY) == []
    with Session() as s, s.begin(), pytest.raises(PlanError, match="cancelled already"):
        cancel_scheduled(s, info.id, actor="senior", branch_id=city["branch"], team_scope=None)
    # Another team's supervisor does not see it at all.
    with Session() as s, s.begin(), pytest.raises(NotFound):
        cancel_scheduled(
            s, info.id, actor="sup2", branch_id=city["branch"], team_scope=[city["T2"]]
        )


def test_two_scheduled_plans_never_move_the_same_grid(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city)
    _schedule(Session, plan)
    with pytest.raises(PlanError, match="moves some of the same grids"):
        _schedule(Session, plan, date(2030, 2, 1))


def test_a_day_not_after_today_is_refused_and_so_is_a_stale_plan(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city)
    with pytest.raises(PlanError, match="apply the plan now instead"):
        _schedule(Session, plan, date(2020, 1, 1))
    with Session() as s, s.begin():  # applied now: the same plan cannot be scheduled after
        apply_plan(
            s, plan, actor="senior", user_may_cross_teams=True, team_scope=None, branch_scope=None
        )
    with Session() as s:
        counts = _counts(s)
    with pytest.raises(StaleData, match="CD-03"):
        _schedule(Session, plan)
    with Session() as s:
        assert _counts(s) == counts
        assert list_scheduled(s, branch_id=city["branch"], team_scope=None) == []
