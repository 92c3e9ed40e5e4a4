"""Undoing a rebalance never leaves a grid's customers apart from its owner: a customer who
joined a moved grid after the rebalance (an intake matched them to the grid's new owner) would
stay with that owner while the grid went back, so the undo is refused, saying so.

The city of test_rebalance: 王芳 (E1, T1) owns CD-01..03, 李强 (E2, T1) CD-04..05, 赵敏 (E3,
T2) CD-06. With one move the plan gives CD-03 to 李强."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_rebalance import AS_OF, city, persistency_ready, snapshot  # noqa: F401 - fixtures

from app.models import AssignmentEvent, Branch, Customer, Grid
from app.models.enums import AssignmentReason
from app.services.errors import StaleData
from app.services.rebalance.apply import apply_plan, undo_batch
from app.services.rebalance.make import make_plan


def _apply_one_move(Session, city):  # noqa: F811, N803
    with Session() as s:
        plan = make_plan(s, branch_id=city["branch"], as_of=AS_OF, max_moves=1)
    assert [(m.grid_code, m.to_no) for m in plan.moves] == [("CD-03", "E2")]
    with Session() as s, s.begin():
        return apply_plan(
            s, plan, actor="senior", user_may_cross_teams=True, team_scope=None, branch_scope=None
        ).batch_id


def _joins(Session, city, grid_code: str) -> None:  # noqa: F811, N803
    """A new pool customer matched to the grid's owner, as an intake does."""
    with Session() as s, s.begin():
        grid = s.scalar(select(Grid).where(Grid.code == grid_code))
        c = Customer(
            branch_id=city["branch"],
            customer_no="C-NEW",
            name="新客户",
            address="成都",
            grid_id=grid.id,
            specialist_id=grid.owner_id,
        )
        s.add(c)
        s.flush()
        s.add(
            AssignmentEvent(
                customer_id=c.id,
                to_specialist_id=grid.owner_id,
                reason=AssignmentReason.AUTO_MATCH,
                at=datetime.now(UTC),
            )
        )


def test_an_undo_that_would_leave_a_newly_joined_customer_apart_is_refused(Session, city):  # noqa: F811, N803
    batch = _apply_one_move(Session, city)
    _joins(Session, city, "CD-03")
    with Session() as s:
        before = snapshot(s)
    with Session() as s, s.begin(), pytest.raises(StaleData) as refused:
        undo_batch(s, actor="senior", team_scope=None, batch_id=batch, branch_id=city["branch"])
    assert "CD-03" in str(refused.value) and "1 customer" in str(refused.value)
    with Session() as s:
        assert snapshot(s) == before  # nothing written


def test_a_customer_who_joined_another_grid_does_not_stop_the_undo(Session, city):  # noqa: F811, N803
    batch = _apply_one_move(Session, city)
    _joins(Session, city, "CD-04")  # 李强's own grid, not moved by the plan
    with Session() as s, s.begin():
        undo_batch(s, actor="senior", team_scope=None, batch_id=batch, branch_id=city["branch"])
    with Session() as s:
        assert s.get(Grid, city["CD-03"]).owner_id == city["E1"]
        assert s.scalar(select(Branch.code)) == "CD"
