"""A customer locked to their specialist is handed over only deliberately: named on their own in
a hand-over (the dialog's "Give them to"), still locked afterwards, and given back by undo; a
lock put on after the plan was made still stops the apply."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_rebalance import (  # noqa: F401 - fixtures
    AS_OF,
    apply_as_team_supervisor,
    city,
    persistency_ready,
    snapshot,
)

from app.models import Customer
from app.services.errors import StaleData
from app.services.leaving.handover import make_handover_plan
from app.services.leaving.left_behind import with_left_behind
from app.services.rebalance.apply import apply_plan, undo_batch


def test_locked_customer_handed_over_stays_locked_and_undo_works(Session, city):  # noqa: F811, N803
    with Session() as s:
        before = snapshot(s)
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
        assert h.left_behind.to_give == 1
        g = with_left_behind(s, h, to_employee_no="E2", may_cross_teams=False)
    assert g.left_behind.locked_customers == 0
    r = apply_as_team_supervisor(Session, city, g.plan)
    with Session() as s:
        c03 = s.scalars(select(Customer).where(Customer.customer_no == "C03")).one()
        assert (c03.specialist_id, c03.locked) == (city["E2"], True)
    with Session() as s, s.begin():
        undo_batch(s, actor="sup", team_scope={city["T1"]}, batch_id=r.batch_id)
    with Session() as s:
        assert snapshot(s) == before
        assert s.scalars(select(Customer.locked).where(Customer.customer_no == "C03")).one()
    # Locked after the plan was made: still refused.
    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
        g = with_left_behind(s, h, to_employee_no="E2", may_cross_teams=False)
    with Session() as s, s.begin():
        s.execute(update(Customer).where(Customer.customer_no == "C03").values(locked=False))
    with Session() as s, s.begin():
        s.execute(
            update(Customer)
            .where(Customer.customer_no == "C03")
            .values(locked=True, version=Customer.version + 1)
        )

    with Session() as s, s.begin(), pytest.raises(StaleData, match="C03 was locked"):
        apply_plan(
            s,
            g.plan,
            actor="sup",
            user_may_cross_teams=False,
            team_scope={city["T1"]},
            branch_scope=None,
        )
