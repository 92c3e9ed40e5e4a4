"""Disruption is part of a proposal: each moved customer costs by the 4-sell step they reached
(doubled when moved recently), every plan says what it breaks, and the proposal offers the
trade-off between balance and disruption, defaulting to its knee rather than to the plan that
shaves the last point of the peak at any cost."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from test_rebalance import AS_OF, city, persistency_ready  # noqa: F401 - fixtures

from app.models import AssignmentEvent, Customer
from app.models.enums import AssignmentReason
from app.services.rebalance.disruption import Candidate, MoveCosts, frontier, knee
from app.services.rebalance.make import make_plan
from app.services.rebalance.plan_file import plan_from_json
from app.services.rebalance.relationships import grid_disruption


def test_costs_rise_with_the_step_and_double_for_a_recent_move():
    costs = MoveCosts()
    assert [costs.cost(step, False) for step in range(5)] == [1, 2, 4, 8, 8]
    assert costs.cost(2, True) == 8
    assert MoveCosts.parse("1,1,2,3,5").by_step == (1, 1, 2, 3, 5)
    assert MoveCosts.parse("1,2,4,8,8,90,3") == MoveCosts((1, 2, 4, 8, 8), 90, 3.0)
    with pytest.raises(ValueError, match="five costs"):
        MoveCosts.parse("1,2")


def _peak_and_shuffles():
    """A peak of 1,000 that one grid of 137 customers relieves (to 830), fourteen others at 834;
    and fourteen grid moves among those that bring the largest load from 834 only to 830,
    moving 826 more customers."""
    loads = {"peak": 1000.0, "b": 600.0}
    customers = {"peak": 900, "b": 500}
    capacity = {"peak": 1000, "b": 1000}
    moves = [Candidate("peak", "b", 170.0, 137, 137 * 4.0)]
    for k in range(14):
        a, z = f"x{k}", f"y{k}"
        loads[a], loads[z] = 834.0, 700.0
        customers[a] = customers[z] = 400
        capacity[a] = capacity[z] = 1000
        moves.append(Candidate(a, z, 8.0, 59, 59 * 4.0))
    return moves, loads, customers, capacity


def test_the_knee_keeps_the_move_that_matters_and_drops_the_shuffles():
    moves, loads, customers, capacity = _peak_and_shuffles()
    points = frontier(moves, loads=loads, customers=customers, capacity=capacity)
    best, chosen = points[0], points[knee(points, before_max=1000.0)]
    assert best.after_max == pytest.approx(830.0) and best.moves == 15
    assert chosen.keep == (0,)  # the one grid off the peak
    assert chosen.after_max == pytest.approx(834.0) and chosen.customers == 137
    # Best balance first; each later point is worse balanced and less disruptive.
    for a, b in zip(points, points[1:], strict=False):
        assert a.after_max < b.after_max and a.disruption > b.disruption
    assert len(points) <= 8


def test_moves_that_cost_no_balance_are_never_proposed():
    moves, loads, customers, capacity = _peak_and_shuffles()
    useless = Candidate("b", "x0", 1.0, 80, 320.0)  # b is far below the peak either way
    points = frontier([*moves, useless], loads=loads, customers=customers, capacity=capacity)
    assert all(len(moves) not in p.keep for p in points)


def test_a_move_that_keeps_its_giver_within_capacity_stays_on_every_point():
    loads = {"a": 900.0, "b": 300.0, "c": 500.0, "d": 400.0}
    customers = {"a": 520, "b": 200, "c": 300, "d": 300}
    capacity = {"a": 470, "b": 600, "c": 600, "d": 600}
    moves = [
        Candidate("a", "b", 100.0, 80, 320.0),  # brings a under capacity
        Candidate("c", "d", 40.0, 30, 120.0),
    ]
    points = frontier(moves, loads=loads, customers=customers, capacity=capacity)
    assert all(0 in p.keep for p in points)
    assert all(p.over_capacity == 0 for p in points)


def test_grid_disruption_weighs_each_following_customer(Session, city):  # noqa: F811, N803
    with Session() as s, s.begin():
        c01, c02 = (
            s.scalars(select(Customer).where(Customer.customer_no == no)).one()
            for no in ("C01", "C02")
        )
        c01.step = 3  # cross-sell: 8
        c02.step = 2  # soft-sell, moved 30 days ago: 4 x 2
        s.add(
            AssignmentEvent(
                customer_id=c02.id,
                from_specialist_id=city["E2"],
                to_specialist_id=city["E1"],
                reason=AssignmentReason.MANUAL,
                actor="sup",
                at=datetime(2024, 6, 1, tzinfo=UTC),
            )
        )
    with Session() as s:
        hurt = grid_disruption(s, [city["CD-01"]], as_of=date(2024, 7, 1), costs=MoveCosts())
        later = grid_disruption(s, [city["CD-01"]], as_of=date(2025, 7, 1), costs=MoveCosts())
    # CD-01 holds C01, C02 and the locked C03, who does not follow the grid.
    assert (hurt[city["CD-01"]].cost, hurt[city["CD-01"]].broken) == (8 + 8, 2)
    assert later[city["CD-01"]].cost == 8 + 4  # the move is no longer recent


def test_a_proposal_says_what_it_breaks_and_offers_its_frontier(Session, city):  # noqa: F811, N803
    with Session() as s:
        plan = make_plan(s, branch_id=city["branch"], as_of=AS_OF, time_limit_s=1)
    assert plan.frontier and plan.point is not None
    point = plan.frontier[plan.point]
    assert plan.after_max == pytest.approx(point.after_max)
    assert plan.customers_moved == point.customers
    assert plan.disruption == pytest.approx(point.disruption)
    for i in range(len(plan.frontier)):
        other = plan.at_point(i)
        assert other.after_max == pytest.approx(plan.frontier[i].after_max)
        assert other.at_point(plan.point).moves == plan.moves  # back and forth
    data = plan.to_json()
    assert data["move_costs"]["by_step"] == [1, 2, 4, 8, 8]
    assert data["summary"]["customers_moved"] == plan.customers_moved
    assert data["summary"]["relationships_broken"] == plan.relationships_broken
    again = plan_from_json(data)
    assert again.disruption == pytest.approx(plan.disruption)
    assert again.move_costs == plan.move_costs


def test_the_knee_is_never_a_point_above_the_curve():
    """Points (largest load, disruption) whose bend lies at the second point; the last one
    costs much disruption for little balance and lies above the line to today."""
    from app.services.rebalance.disruption import FrontierPoint

    raw = [(831.6, 12409), (971.6, 8606), (989.8, 8488), (990.7, 8431), (1031.1, 7612)]
    points = [FrontierPoint((0,), y, x, 0, 0) for y, x in raw]
    assert knee(points, before_max=1094.6) != 4


def test_an_edited_plan_is_no_longer_a_point_of_the_trade_off(Session, city):  # noqa: F811, N803
    with Session() as s:
        plan = make_plan(s, branch_id=city["branch"], as_of=AS_OF, time_limit_s=1)
    edited = plan.without(0)
    assert edited.frontier == () and edited.point is None
    with pytest.raises(IndexError):
        edited.at_point(0)
