"""What the rebalance page and the leaving dialog say about how a plan was made."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.services.rebalance.plan import Plan, Weights
from app.views.rebalance_proposal import clock_note, plan_summary


def _plan(**kw) -> Plan:
    plan = Plan(
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        as_of=date(2026, 12, 1),
        branch_id=1,
        branch_code="B",
        scope=(),
        weights=Weights(),
        max_moves=None,
        max_distance_km=None,
        lower_bound=0.0,
        specialists=(),
        moves=(),
    )
    return replace(plan, **kw)


def test_a_plan_the_time_limit_cut_short_says_it_may_differ_when_proposed_again(qapp):
    assert clock_note(_plan()) == ""
    assert "time limit" not in plan_summary(_plan())
    cut = _plan(clock_stops=("search", "trade-off"))
    note = clock_note(cut)
    assert "search, trade-off" in note and "may differ" in note
    assert note in plan_summary(cut)
