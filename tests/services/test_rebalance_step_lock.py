"""Keeping customers at or above a chosen 4-sell step in place: they stay with their specialist
through a proposal and its apply exactly as locked customers do, the plan says how many that
holds back, and the plan file records the step.

The city of test_rebalance: 王芳 (E1) owns CD-01..03; CD-03 holds C06-C09. Here C07 reached
step 3 (cross-sell) and C06 step 2."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_rebalance import AS_OF, city, persistency_ready, snapshot  # noqa: F401 - fixtures

from app.models import Customer
from app.services.errors import StaleData
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.make import make_plan
from app.services.rebalance.plan import PlanError
from app.services.rebalance.plan_file import read_plan, write_plan
from app.services.rebalance.workload import due_premium, grid_loads, step_locked


@pytest.fixture
def steps(Session, city):  # noqa: F811, N803
    with Session() as s, s.begin():
        s.execute(update(Customer).where(Customer.customer_no == "C07").values(step=3))
        s.execute(update(Customer).where(Customer.customer_no == "C06").values(step=2))
    return city


def _ids(s, *numbers: str) -> set[int]:
    return set(s.scalars(select(Customer.id).where(Customer.customer_no.in_(numbers))))


def _plan(Session, city, keep):  # noqa: F811, N803
    with Session() as s:
        return make_plan(s, branch_id=city["branch"], as_of=AS_OF, max_moves=1, keep_from_step=keep)


def test_the_count_says_how_many_customers_a_step_keeps_in_place(session, steps):
    count = {k: step_locked(session, branch_id=steps["branch"], keep_from_step=k) for k in (2, 3)}
    assert count == {2: 2, 3: 1}
    # C03 is locked already: reaching a step does not count it twice.
    session.execute(update(Customer).where(Customer.customer_no == "C03").values(step=4))
    assert step_locked(session, branch_id=steps["branch"], keep_from_step=3) == 1
    other_team = step_locked(
        session, branch_id=steps["branch"], keep_from_step=2, team_ids=[steps["T2"]]
    )
    assert other_team == 0


def test_a_grid_no_longer_carries_the_customers_its_step_keeps(session, steps):
    free = {g.code: g for g in grid_loads(session, branch_id=steps["branch"], as_of=AS_OF)}
    kept = {
        g.code: g
        for g in grid_loads(session, branch_id=steps["branch"], as_of=AS_OF, keep_from_step=3)
    }
    assert (free["CD-03"].customers, kept["CD-03"].customers) == (4, 3)
    # C07 takes themself and their 20,000 yuan due with them: 1 + 2.
    assert free["CD-03"].load - kept["CD-03"].load == pytest.approx(3.0)
    # The same when the dues are read once for the plan (due_premium).
    due = due_premium(session, branch_id=steps["branch"], as_of=AS_OF, keep_from_step=3)
    once = grid_loads(session, branch_id=steps["branch"], as_of=AS_OF, keep_from_step=3, due=due)
    assert {g.code: g for g in once} == kept


def test_a_kept_customer_stays_with_their_specialist_when_the_grid_moves(Session, steps):  # noqa: N803
    plan = _plan(Session, steps, 3)
    assert plan.keep_from_step == 3 and plan.step_locked == 1
    moved = {m.grid_code for m in plan.moves}
    assert moved == {"CD-03"}
    with Session() as s:
        c07, c06 = _ids(s, "C07"), _ids(s, "C06")
    followers = set(plan.grid_customers[steps["CD-03"]])
    assert not followers & c07 and c06 <= followers
    with Session() as s, s.begin():
        result = apply_plan(
            s, plan, actor="senior", user_may_cross_teams=True, team_scope=None, branch_scope=None
        )
    assert result.customers_moved == 3
    with Session() as s:
        snap = snapshot(s)
        assert (
            s.scalars(select(Customer.locked).where(Customer.customer_no == "C07")).one() is False
        )
    assert snap["customers"]["C07"] == steps["E1"]  # kept
    assert snap["customers"]["C06"] == snap["grids"]["CD-03"] == steps["E2"]


def test_a_customer_reaching_the_kept_step_since_the_plan_makes_it_stale(Session, steps):  # noqa: N803
    plan = _plan(Session, steps, 3)
    with Session() as s, s.begin():
        s.execute(update(Customer).where(Customer.customer_no == "C08").values(step=4))
        before = snapshot(s)
    message = "customer C08 reached 4-sell step 4, which this plan keeps in place, since"
    with Session() as s, s.begin(), pytest.raises(StaleData, match=message):
        apply_plan(
            s, plan, actor="senior", user_may_cross_teams=True, team_scope=None, branch_scope=None
        )
    with Session() as s:
        assert snapshot(s) == before


def test_the_plan_file_records_the_step_and_the_count(Session, steps, tmp_path):  # noqa: N803
    plan = _plan(Session, steps, 3)
    back = read_plan(write_plan(tmp_path / "plan.json", plan))
    assert (back.keep_from_step, back.step_locked) == (3, 1)
    assert '"keep_from_step": 3' in (tmp_path / "plan.json").read_text(encoding="utf-8")
    assert (
        read_plan(write_plan(tmp_path / "free.json", _plan(Session, steps, None))).keep_from_step
        is None
    )


def test_a_step_outside_the_ladder_is_refused(Session, steps):  # noqa: N803
    with pytest.raises(PlanError, match="4-sell step 1 to 4, not 5"):
        _plan(Session, steps, 5)
