"""Rebalancing scenarios kept in the database: named, with their settings, author and date;
seen only within the keeper's scope; compared side by side with another scenario or with
today; refused on apply once the assignments they were based on changed.

The city of test_rebalance: 王芳 (E1, T1) owns CD-01..03, 李强 (E2, T1) CD-04..05, 赵敏 (E3,
T2) CD-06. With one move the plan gives CD-03 (4 customers) to 李强; without a limit it also
gives CD-04 to 王芳 and CD-05 to 赵敏."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from test_rebalance import AS_OF, city, persistency_ready, snapshot  # noqa: F401 - fixtures

from app.models import Scenario, Specialist
from app.services.errors import NotAllowed, NotFound, StaleData
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.make import make_plan
from app.services.rebalance.plan import PlanError
from app.services.rebalance.scenarios import (
    TODAY,
    compare,
    delete_scenario,
    keep_scenario,
    list_scenarios,
    load_scenario,
)


def _plan(Session, city, *, max_moves=None, team=None, keep_from_step=None):  # noqa: F811, N803
    with Session() as s:
        return make_plan(
            s,
            branch_id=city["branch"],
            as_of=AS_OF,
            max_moves=max_moves,
            team_ids=None if team is None else [city[team]],
            keep_from_step=keep_from_step,
        )


def _keep(Session, plan, name, *, author="senior", team_scope=None):  # noqa: N803
    with Session() as s, s.begin():
        return keep_scenario(
            s, plan, name=name, author=author, team_scope=team_scope, branch_scope=None
        )


def _both(Session, city):  # noqa: F811, N803
    """Keep "one move" and "no limit"."""
    _keep(Session, _plan(Session, city, max_moves=1), "one move")
    _keep(Session, _plan(Session, city), "no limit")


def test_a_kept_scenario_is_stored_with_its_settings_author_and_date(Session, city):  # noqa: F811, N803
    plan = _plan(Session, city, max_moves=1, keep_from_step=3)
    kept = _keep(Session, plan, "  六月  方案 ", author="wangfang")
    assert kept.name == "六月 方案"  # spaces tidied
    with Session() as s:
        (info,) = list_scenarios(s, branch_id=city["branch"], team_scope=None)
        back = load_scenario(s, "六月 方案", branch_id=city["branch"], team_scope=None)
        assert s.scalar(select(func.count()).select_from(Scenario)) == 1
    assert (info.author, info.as_of, info.max_moves, info.keep_from_step) == (
        "wangfang",
        AS_OF,
        1,
        3,
    )
    assert info.created_at.tzinfo is not None and info.team_code is None
    assert (info.moves, info.customers_moved) == (len(plan.moves), plan.customers_moved)
    assert back.moves == plan.moves and back.weights == plan.weights
    assert back.grid_versions == plan.grid_versions
    assert back.customer_versions == plan.customer_versions
    assert back.created_at == plan.created_at
    with pytest.raises(PlanError, match='a scenario named "六月 方案" exists already'):
        _keep(Session, plan, "六月 方案")
    with pytest.raises(PlanError, match="give the scenario a name"):
        _keep(Session, plan, "   ")


def test_a_supervisor_keeps_and_sees_their_own_teams_scenarios_only(Session, city):  # noqa: F811, N803
    t1, t2 = {city["T1"]}, {city["T2"]}
    team_plan = _plan(Session, city, max_moves=1, team="T1")
    _keep(Session, team_plan, "一队", author="sup1", team_scope=t1)
    with pytest.raises(NotAllowed, match="their own team only"):
        _keep(Session, _plan(Session, city), "全分公司", author="sup1", team_scope=t1)
    _keep(Session, _plan(Session, city), "全分公司")  # a senior supervisor may
    with Session() as s:
        seen = {
            "T1": [i.name for i in list_scenarios(s, branch_id=city["branch"], team_scope=t1)],
            "T2": [i.name for i in list_scenarios(s, branch_id=city["branch"], team_scope=t2)],
            "senior": {
                i.name for i in list_scenarios(s, branch_id=city["branch"], team_scope=None)
            },
        }
        with pytest.raises(NotFound, match='no scenario named "一队"'):
            load_scenario(s, "一队", branch_id=city["branch"], team_scope=t2)
        with pytest.raises(NotFound):
            compare(s, "全分公司", TODAY, branch_id=city["branch"], team_scope=t1, as_of=AS_OF)
    assert seen == {"T1": ["一队"], "T2": [], "senior": {"一队", "全分公司"}}
    with Session() as s, s.begin(), pytest.raises(NotFound):
        delete_scenario(s, "一队", branch_id=city["branch"], team_scope=t2)
    with Session() as s, s.begin():
        delete_scenario(s, "一队", branch_id=city["branch"], team_scope=t1)
    with Session() as s:
        assert [i.name for i in list_scenarios(s, branch_id=city["branch"], team_scope=None)] == [
            "全分公司"
        ]


def test_two_scenarios_side_by_side(Session, city):  # noqa: F811, N803
    _both(Session, city)
    with Session() as s:
        c = compare(
            s, "one move", "no limit", branch_id=city["branch"], team_scope=None, as_of=AS_OF
        )
    assert (c.left.name, c.right.name) == ("one move", "no limit")
    rows = {r.employee_no: r for r in c.rows}
    # One move: 王芳 12.6 - 7.6, 李强 2 + 7.6; no limit: 7.6, 赵敏 gets CD-05.
    assert rows["E1"].left_load == pytest.approx(5.0)
    assert rows["E2"].left_load == pytest.approx(9.6)
    assert (rows["E2"].left_customers, rows["E2"].right_customers) == (6, 4)
    assert rows["E2"].capacity == 400
    assert rows["E3"].left_load == pytest.approx(1.0)
    assert rows["E3"].right_load == pytest.approx(2.0)
    assert (c.left.largest, c.right.largest) == pytest.approx((9.6, 7.6))
    assert c.left.above_capacity == c.right.above_capacity == 0
    assert (c.left.customers_moved, c.left.sms) == (4, 4)
    assert (c.right.customers_moved, c.right.sms) == (6, 6)
    # CD-03 goes to 李强 in both; CD-04 and CD-05 only in the second.
    assert [(d.grid_code, d.left_name, d.right_name) for d in c.grids] == [
        ("CD-04", "李强", "王芳"),
        ("CD-05", "李强", "赵敏"),
    ]


def test_a_scenario_against_today_either_way_round(Session, city):  # noqa: F811, N803
    # 王芳 serves 9 customers and may serve 8: above capacity today, not after the move.
    with Session() as s, s.begin():
        s.execute(update(Specialist).where(Specialist.employee_no == "E1").values(capacity=8))
    _both(Session, city)
    with Session() as s:
        c = compare(s, "one move", TODAY, branch_id=city["branch"], team_scope=None, as_of=AS_OF)
        flipped = compare(
            s, TODAY, "one move", branch_id=city["branch"], team_scope=None, as_of=AS_OF
        )
    assert c.right.is_today and (c.right.moves, c.right.customers_moved, c.right.sms) == (0, 0, 0)
    rows = {r.employee_no: r for r in c.rows}
    assert (rows["E1"].right_load, rows["E1"].right_customers) == (pytest.approx(12.6), 9)
    assert c.right.largest == pytest.approx(12.6)
    assert (c.right.over_capacity, c.right.above_capacity) == (("E1",), 1)
    assert (c.left.over_capacity, c.left.above_capacity) == ((), 0)
    assert [(d.grid_code, d.left_name, d.right_name) for d in c.grids] == [
        ("CD-03", "李强", "王芳")
    ]
    assert flipped.left.is_today and flipped.right.name == "one move"
    assert [(d.grid_code, d.left_name, d.right_name) for d in flipped.grids] == [
        ("CD-03", "王芳", "李强")
    ]
    assert {r.employee_no: r.left_load for r in flipped.rows} == {
        r.employee_no: r.right_load for r in c.rows
    }


def test_a_scenario_overtaken_since_it_was_kept_is_refused_naming_the_moves(Session, city):  # noqa: F811, N803
    _both(Session, city)
    with Session() as s, s.begin():
        apply_plan(
            s,
            load_scenario(s, "one move", branch_id=city["branch"], team_scope=None),
            actor="senior",
            user_may_cross_teams=True,
            team_scope=None,
            branch_scope=None,
        )
    with Session() as s:
        before = snapshot(s)
    with Session() as s, s.begin(), pytest.raises(StaleData) as refused:
        apply_plan(
            s,
            load_scenario(s, "no limit", branch_id=city["branch"], team_scope=None),
            actor="senior",
            user_may_cross_teams=True,
            team_scope=None,
            branch_scope=None,
        )
    assert "grid CD-03 was reassigned to 李强 (E2) by senior" in str(refused.value)
    assert "CD-04" not in str(refused.value)  # still as the scenario found it
    with Session() as s:
        assert snapshot(s) == before


def test_a_scenario_is_renamed_within_its_scope_and_names_stay_unique(Session, city):  # noqa: F811, N803
    from app.services.rebalance.scenarios import rename_scenario

    _both(Session, city)
    with Session() as s, s.begin():
        new = rename_scenario(
            s, "one move", "  一步 方案 ", branch_id=city["branch"], team_scope=None
        )
    assert new == "一步 方案"
    with Session() as s:
        names = {i.name for i in list_scenarios(s, branch_id=city["branch"], team_scope=None)}
        assert names == {"一步 方案", "no limit"}
        plan = load_scenario(s, "一步 方案", branch_id=city["branch"], team_scope=None)
    assert plan.max_moves == 1
    with Session() as s, s.begin(), pytest.raises(PlanError, match="exists already"):
        rename_scenario(s, "no limit", "一步 方案", branch_id=city["branch"], team_scope=None)
    with Session() as s, s.begin(), pytest.raises(PlanError, match="give the scenario a name"):
        rename_scenario(s, "no limit", "  ", branch_id=city["branch"], team_scope=None)
    # A supervisor of T2 does not see branch scenarios at all.
    with Session() as s, s.begin(), pytest.raises(NotFound):
        rename_scenario(s, "no limit", "x", branch_id=city["branch"], team_scope=[city["T2"]])
