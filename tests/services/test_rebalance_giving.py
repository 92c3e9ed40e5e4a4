"""Giving grids to a specialist by hand (the rebalance page's map): grids the plan moves are
redirected or dropped, grids it leaves alone are added as whole-grid moves carrying the load,
customers and versions the rebalancer reads, and the apply moves exactly those grids or refuses
when one changed since.

The city of test_rebalance: 王芳 (E1, T1) owns CD-01..03, 李强 (E2, T1) CD-04..05, 赵敏 (E3, T2)
CD-06. CD-01 holds C01-C03 (C03 locked), CD-02 C04-C05. The one-move plan gives CD-03 (7.6)
from 王芳 (12.6) to 李强 (2)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_rebalance import (  # noqa: F401 - fixtures
    AS_OF,
    city,
    persistency_ready,
    plan_one_move,
    snapshot,
)

from app.models import Customer, Grid
from app.services.errors import StaleData
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.editing import Edits, allowed_takers, give_grids, grid_sources
from app.services.rebalance.make import make_plan
from app.services.rebalance.offers import read_grid_offers
from app.services.rebalance.plan import PlanError, PlanMove
from app.services.rebalance.plan_file import read_plan, write_plan
from app.services.rebalance.workload import grid_loads


def _ids(s, *numbers: str) -> set[int]:
    return set(s.scalars(select(Customer.id).where(Customer.customer_no.in_(numbers))))


def _give(Session, plan, codes, to_no, *, edits=None, may_cross_teams=True):  # noqa: N803
    with Session() as s:
        offers = read_grid_offers(s, plan)
    return give_grids(edits or Edits(plan), codes, to_no, offers, may_cross_teams=may_cross_teams)


def _apply(Session, plan, **kw):  # noqa: N803
    with Session() as s, s.begin():
        return apply_plan(
            s,
            plan,
            actor="senior",
            user_may_cross_teams=kw.get("cross", True),
            team_scope=None,
            branch_scope=None,
        )


def test_offers_weigh_each_grid_as_the_plan_does(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    with Session() as s:
        offers = read_grid_offers(s, plan)
        loads = {g.code: g for g in grid_loads(s, branch_id=city["branch"], as_of=AS_OF)}
        c01_02 = _ids(s, "C01", "C02")
    assert set(offers) == {f"CD-0{i}" for i in range(1, 7)}
    for code, offer in offers.items():
        assert offer.load == pytest.approx(loads[code].load)
        assert offer.version == loads[code].version
        assert offer.customers == loads[code].customers
    assert offers["CD-03"].owner_no == "E1" and offers["CD-06"].owner_no == "E3"
    # The locked C03 stays with 王芳: it is not among those who follow CD-01.
    assert set(offers["CD-01"].customer_ids) == c01_02


def test_an_added_grid_carries_its_load_customers_and_versions(Session, city, tmp_path):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    edited = _give(Session, plan, ["CD-01"], "E3").edited()
    assert [(m.grid_code, m.from_no, m.to_no) for m in edited.moves] == [
        ("CD-03", "E1", "E2"),
        ("CD-01", "E1", "E3"),
    ]
    added = edited.moves[1]
    assert (added.kind, added.load, added.customers) == ("grid", pytest.approx(2.0), 2)
    with Session() as s:
        version = s.scalar(select(Grid.version).where(Grid.code == "CD-01"))
        followers = dict(
            s.execute(
                select(Customer.id, Customer.version).where(
                    Customer.customer_no.in_(["C01", "C02"])
                )
            ).all()
        )
    assert edited.grid_versions[city["CD-01"]] == version
    assert set(edited.grid_customers[city["CD-01"]]) == set(followers)
    assert {c: edited.customer_versions[c] for c in followers} == followers
    after = edited.loads_after()
    assert after["E1"] == pytest.approx(12.6 - 7.6 - 2.0)
    assert after["E3"] == pytest.approx(3.0)
    assert (added.from_before, added.to_after) == (pytest.approx(5.0), pytest.approx(3.0))
    # An edit, not a point of the trade-off any more; the file keeps what the apply checks.
    assert edited.point is None and not edited.frontier
    back = read_plan(write_plan(tmp_path / "plan.json", edited))
    assert back.grid_customers == edited.grid_customers
    assert back.grid_versions == edited.grid_versions


def test_a_moved_grid_is_redirected_and_given_back_drops_its_move(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    redirected = _give(Session, plan, ["CD-03"], "E3")
    assert len(redirected.plan.moves) == 1  # the proposal's own move, sent elsewhere
    assert [(m.grid_code, m.to_no) for m in redirected.edited().moves] == [("CD-03", "E3")]
    back = _give(Session, plan, ["CD-03"], "E1", edits=redirected)
    assert back.edited().moves == ()
    # Given again, the dropped move comes back.
    again = _give(Session, plan, ["CD-03"], "E2", edits=back)
    assert [(m.grid_code, m.to_no) for m in again.edited().moves] == [("CD-03", "E2")]
    # An added grid given back to its owner drops its move too; a grid left alone stays so.
    added = _give(Session, plan, ["CD-01", "CD-02"], "E2")
    assert len(added.edited().moves) == 3
    dropped = _give(Session, plan, ["CD-01"], "E1", edits=added)
    assert [m.grid_code for m in dropped.edited().moves] == ["CD-03", "CD-02"]
    kept = _give(Session, plan, ["CD-04"], "E2", edits=dropped)
    assert kept.edited().moves == dropped.edited().moves


def test_customers_moved_one_by_one_go_with_their_grid_instead(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city).without(0)
    with Session() as s:
        c06 = s.scalar(select(Customer.id).where(Customer.customer_no == "C06"))
        version = s.scalar(select(Grid.version).where(Grid.code == "CD-03"))
    single = plan.with_added_moves(
        [
            PlanMove(
                kind="customer",
                grid_id=city["CD-03"],
                grid_code="CD-03",
                customer_id=c06,
                customer_no="C06",
                from_no="E1",
                to_no="E2",
                load=2.0,
                customers=1,
            )
        ],
        grid_versions={city["CD-03"]: version},
        customer_versions={c06: 1},
        grid_customers={},
    )
    edited = _give(Session, single, ["CD-03"], "E3").edited()
    assert [(m.kind, m.grid_code, m.to_no) for m in edited.moves] == [("grid", "CD-03", "E3")]
    assert c06 in edited.grid_customers[city["CD-03"]]


def test_the_step_lock_and_locked_grids_are_respected(Session, city):  # noqa: F811, N803
    with Session() as s, s.begin():
        s.execute(update(Customer).where(Customer.customer_no == "C04").values(step=3))
        s.execute(update(Grid).where(Grid.code == "CD-05").values(locked=True))
    with Session() as s:
        plan = make_plan(s, branch_id=city["branch"], as_of=AS_OF, max_moves=1, keep_from_step=3)
        c05 = _ids(s, "C05")
    edited = _give(Session, plan, ["CD-02"], "E2").edited()
    added = next(m for m in edited.moves if m.grid_code == "CD-02")
    assert (added.customers, added.load) == (1, pytest.approx(1.0))  # C04 stays: step 3
    assert set(edited.grid_customers[city["CD-02"]]) == c05
    with pytest.raises(PlanError, match="grid CD-05 is locked"):
        _give(Session, plan, ["CD-02", "CD-05"], "E1")
    result = _apply(Session, edited)
    with Session() as s:
        snap = snapshot(s)
    assert snap["customers"]["C04"] == city["E1"] and snap["customers"]["C05"] == city["E2"]
    assert result.grids_moved == len(edited.moves)


def test_only_the_plans_scope_and_a_supervisors_own_team(Session, city):  # noqa: F811, N803
    with Session() as s:
        team = make_plan(s, branch_id=city["branch"], as_of=AS_OF, team_ids=[city["T1"]])
        offers = read_grid_offers(s, team)
    assert "CD-06" not in offers  # 赵敏's, of the other team
    with pytest.raises(PlanError, match="grid CD-06 is outside this plan's scope"):
        _give(Session, team, ["CD-06"], "E1")
    branch = plan_one_move(Session, city)
    with pytest.raises(PlanError, match="crosses teams"):
        _give(Session, branch, ["CD-01"], "E3", may_cross_teams=False)
    with Session() as s:
        sources = grid_sources(branch, ["CD-01", "CD-03"], read_grid_offers(s, branch))
    assert sources == {"CD-01": "E1", "CD-03": "E1"}
    own = allowed_takers(branch, set(sources.values()), may_cross_teams=False)
    assert [p.employee_no for p in own] == ["E1", "E2"]
    anyone = allowed_takers(branch, set(sources.values()), may_cross_teams=True, excluded={"E2"})
    assert [p.employee_no for p in anyone] == ["E1", "E3"]


def test_the_apply_moves_exactly_the_given_grids(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    with Session() as s:
        before = snapshot(s)
    edited = _give(Session, plan, ["CD-01", "CD-02"], "E2").edited()
    edited = _give(Session, edited, ["CD-02"], "E3").edited()
    result = _apply(Session, edited)
    assert (result.grids_moved, result.customers_moved) == (3, 4 + 2 + 2)
    with Session() as s:
        after = snapshot(s)
    owners = dict(before["grids"])
    owners.update({"CD-01": city["E2"], "CD-02": city["E3"], "CD-03": city["E2"]})
    assert after["grids"] == owners
    assert after["customers"]["C03"] == city["E1"]  # locked: stays
    assert (after["customers"]["C01"], after["customers"]["C04"]) == (city["E2"], city["E3"])
    moved = {k for k, v in after["customers"].items() if v != before["customers"][k]}
    assert moved == {"C01", "C02", "C04", "C05", "C06", "C07", "C08", "C09"}


def test_an_added_grid_that_changed_since_refuses_the_whole_plan(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    edited = _give(Session, plan, ["CD-01"], "E3").edited()
    with Session() as s, s.begin():
        s.execute(
            update(Grid)
            .where(Grid.code == "CD-01")
            .values(owner_id=city["E2"], version=Grid.version + 1)
        )
        before = snapshot(s)
    with pytest.raises(StaleData, match="CD-01"):
        _apply(Session, edited)
    with Session() as s:
        assert snapshot(s) == before


def test_a_follower_locked_since_refuses_the_plan(Session, city):  # noqa: F811, N803
    plan = plan_one_move(Session, city)
    edited = _give(Session, plan, ["CD-02"], "E2").edited()
    with Session() as s, s.begin():
        s.execute(
            update(Customer)
            .where(Customer.customer_no == "C05")
            .values(locked=True, version=Customer.version + 1)
        )
        before = snapshot(s)
    with pytest.raises(StaleData, match="customer C05 was locked"):
        _apply(Session, edited)
    with Session() as s:
        assert snapshot(s) == before


def test_a_teams_offers_read_its_own_grids_with_the_branchs_figures(Session, city):  # noqa: F811, N803
    """A team's plan reads the loads of its own grids only (quicker on a big branch); each
    offer carries the figures a branch-wide read gives that grid."""
    from app.services.rebalance.workload import due_premium, workloads

    with Session() as s:
        team = make_plan(s, branch_id=city["branch"], as_of=AS_OF, team_ids=[city["T1"]])
        offers = read_grid_offers(s, team)
        loads = {g.code: g for g in grid_loads(s, branch_id=city["branch"], as_of=AS_OF)}
        owners = [p.id for p in team.specialists]
        scoped = due_premium(s, branch_id=city["branch"], as_of=AS_OF, grid_owners=owners)
        own = grid_loads(s, branch_id=city["branch"], as_of=AS_OF, owners=owners, due=scoped)
        # Read for some grids, the premium cannot stand for the branch's specialists' loads.
        with pytest.raises(ValueError, match="other grids"):
            workloads(s, branch_id=city["branch"], as_of=AS_OF, due=scoped)
        with pytest.raises(ValueError, match="other grids"):
            grid_loads(s, branch_id=city["branch"], as_of=AS_OF, due=scoped)
    mine = {code for code, g in loads.items() if g.owner_id in owners}
    assert set(offers) == mine == {g.code for g in own} and mine != set(loads)
    assert any(g.premium_due_fen for g in own)  # the fixture's grids have premium due
    for g in own:
        whole = loads[g.code]
        assert (g.load, g.customers, g.open_tasks, g.premium_due_fen, g.version) == (
            whole.load,
            whole.customers,
            whole.open_tasks,
            whole.premium_due_fen,
            whole.version,
        )
        assert offers[g.code].load == pytest.approx(whole.load)
