"""Capacity comes first: when the team has room, no specialist ends above capacity, even one who
is not the most loaded; when it has not, the plan says by how much capacity falls short and
spreads the excess in proportion to capacity. The same holds when a specialist leaves."""

from __future__ import annotations

import itertools
import time

import pytest
from factories import Factory
from test_rebalance import AS_OF, persistency_ready  # noqa: F401 - fixture

from app.services.leaving.handover import make_handover_plan
from app.services.rebalance.capacity import (
    _fewest_above,
    _Pushes,
    above_limits,
    capacity_limits,
    fit_capacity,
)
from app.services.rebalance.editing import workload_changes
from app.services.rebalance.make import make_plan
from app.services.rebalance.optimise import build_problem, propose
from app.services.rebalance.problem import GRID, GridItem, Problem, SpecialistItem


def _grid(i, owner, customers, neighbours, locked=False):
    """Return grid ``i`` of a test city, its load its customers."""
    return GridItem(
        id=i,
        owner_id=owner,
        load=float(customers),
        customers=customers,
        centroid=(104.0 + 0.01 * i, 30.6),
        neighbours=tuple(neighbours),
        locked=locked,
    )


def _row(owners, customers, locked=()):
    """Return grids in a row, each touching the next, a grid's load its customers."""
    return [
        _grid(i, o, c, (j for j in (i - 1, i + 1) if 0 <= j < len(owners)), i in locked)
        for i, (o, c) in enumerate(zip(owners, customers, strict=True))
    ]


def test_a_specialist_above_capacity_is_brought_within_it_when_the_team_has_room():
    # 1 carries the largest workload on a locked grid (nothing can relieve them); 秦 (2, capacity
    # 470) serves 545 in five grids; 3 next door has room. Balancing alone moves nothing.
    grids = _row([1, 2, 2, 2, 2, 2, 3], [900, 109, 109, 109, 109, 109, 100], locked={0})
    specs = [
        SpecialistItem(1, 900.0, 900, 1000),
        SpecialistItem(2, 545.0, 545, 470),
        SpecialistItem(3, 100.0, 100, 600),
    ]
    p = propose(grids, specs, allow_customer_moves=False)
    # The fewest moves that bring 秦 within capacity: one grid to 3.
    assert [(m.kind, m.grid_id, m.from_id, m.to_id) for m in p.moves] == [(GRID, 5, 2, 3)]
    assert p.after == pytest.approx({1: 900.0, 2: 436.0, 3: 209.0})


def test_capacity_comes_before_the_move_limit_allows_balance():
    # With one move allowed, it goes to capacity, not to shaving the largest workload.
    grids = _row([1, 1, 2, 2, 2, 3], [300, 300, 200, 200, 200, 50])
    specs = [
        SpecialistItem(1, 600.0, 600, 1000),
        SpecialistItem(2, 600.0, 600, 450),
        SpecialistItem(3, 50.0, 50, 1000),
    ]
    p = propose(grids, specs, max_moves=1, allow_customer_moves=False)
    assert [(m.grid_id, m.from_id, m.to_id) for m in p.moves] == [(4, 2, 3)]


def test_without_room_the_excess_is_shared_in_proportion_to_capacity():
    assert capacity_limits(90, [30, 60]) == [30, 60]  # room for all: capacity itself
    assert capacity_limits(135, [30, 60]) == [45, 90]  # 1.5 x capacity each


def _team(f, capacities):
    team = f.team(code="T1")
    return [
        f.specialist(team=team, employee_no=f"E{k + 1}", capacity=cap)
        for k, cap in enumerate(capacities)
    ]


def _grid_with(f, owner, i, customers):
    g = f.grid(owner=owner, code=f"G{i}", lon=104.0 + 0.01 * i, lat=30.6)
    for _ in range(customers):
        f.customer(specialist=owner, grid=g)
    return g


def test_a_plan_brings_everyone_within_capacity_and_says_so(session, persistency_ready):  # noqa: F811
    f = Factory(session)
    big, qin, room = _team(f, (100, 7, 50))
    locked = _grid_with(f, big, 0, 12)
    locked.locked = True
    for i in (1, 2, 3):
        _grid_with(f, qin, i, 3)
    _grid_with(f, room, 4, 1)
    session.flush()
    plan = make_plan(session, branch_id=f.default_branch.id, as_of=AS_OF)
    assert [(m.grid_code, m.from_no, m.to_no) for m in plan.moves] == [("G3", "E2", "E3")]
    assert plan.customers_after() == {"E1": 12, "E2": 6, "E3": 4}
    assert plan.above_capacity == 0 and plan.capacity_short == 0
    assert plan.frontier and plan.frontier[0].over_capacity == 0


def test_a_handover_without_room_ends_everyone_at_the_same_share_of_capacity(
    session,
    persistency_ready,  # noqa: F811
):
    # Q (capacity 10) and F (capacity 20) take over from L: 45 customers for 30 places, so
    # each ends at 150 % of capacity, not at the same raw workload (Q 200 %, F 125 %).
    f = Factory(session)
    q, leaver, fe = _team(f, (10, 100, 20))
    _grid_with(f, q, 0, 5)
    for i in range(1, 7):
        _grid_with(f, leaver, i, 5)
    _grid_with(f, fe, 7, 10)
    session.flush()
    h = make_handover_plan(session, specialist_id=leaver.id, as_of=AS_OF, team_ids=[q.team_id])
    after = {w.employee_no: w for w in workload_changes(h.plan)}
    assert (after["E1"].customers_after, after["E3"].customers_after) == (15, 30)
    assert h.plan.capacity_short == 15
    assert h.plan.above_capacity == 15


def _pushed(grids, specs, max_moves=None):
    p = build_problem(grids, specs)
    assign = _Pushes(p, p.owner, max_moves, float("inf")).run()
    moved = [(p.grid_ids[g], p.spec_ids[p.owner[g]], p.spec_ids[s]) for g, s in enumerate(assign)]
    return [m for m in moved if m[1] != m[2]], above_limits(p, assign)


def _chain_case():
    # 1 is 50 above capacity and can only hand grid 1 to 2, who is full; 2 can pass its grid 3
    # on to 3, who has room. No single move clears 1.
    grids = _row([1, 1, 2, 2, 3], [300, 150, 100, 250, 50])
    specs = [
        SpecialistItem(1, 450.0, 450, 400),
        SpecialistItem(2, 350.0, 350, 350),
        SpecialistItem(3, 50.0, 50, 1000),
    ]
    return grids, specs


def test_the_quick_pushes_clear_an_excess_through_a_full_neighbour():
    # The pushes that start the capacity step (before its MILP) hand on along a chain.
    moves, above = _pushed(*_chain_case())
    assert above == 0
    assert sorted(moves) == [(1, 1, 2), (3, 2, 3)]


def test_the_quick_pushes_keep_to_the_move_limit():
    moves, above = _pushed(*_chain_case(), max_moves=1)
    assert moves == []  # the chain needs two moves; one alone clears nothing
    assert above == 50


def test_the_quick_pushes_take_the_fewest_moves_that_clear_the_excess():
    # 2 is 100 above; their grids 1 (100) or 2 (60 + 40 = two moves) could go. The pushes
    # take the fewest moves: one grid, and nothing handed to 3 that 3 did not need.
    grids = _row([1, 2, 2, 2, 3], [50, 100, 60, 40, 10])
    specs = [
        SpecialistItem(1, 50.0, 50, 1000),
        SpecialistItem(2, 200.0, 200, 100),
        SpecialistItem(3, 10.0, 10, 1000),
    ]
    moves, above = _pushed(grids, specs)
    assert above == 0
    assert moves == [(1, 2, 1)]


def test_with_too_few_moves_to_clear_it_the_excess_left_is_the_least_possible():
    # Two moves cannot bring 3 within capacity; the best two leave 43 customers above the
    # limits (found by trying every assignment). A MILP stopped within a few per cent of its
    # bound left 44.
    rows = [
        (1, 5, (3, 6), False),
        (3, 20, (3, 5, 8), False),
        (2, 1, (3,), False),
        (3, 1, (0, 1, 2), False),
        (3, 0, (6,), True),
        (1, 5, (1, 7), False),
        (1, 80, (0, 4, 7, 9), False),
        (3, 40, (5, 6, 8, 9), False),
        (3, 20, (1, 7), False),
        (3, 80, (6, 7), False),
    ]
    grids = [_grid(i, *row) for i, row in enumerate(rows)]
    specs = [
        SpecialistItem(1, 90.0, 90, 90),
        SpecialistItem(2, 1.0, 1, 45),
        SpecialistItem(3, 164.0, 164, 113),
    ]
    p = build_problem(grids, specs)
    best = min(above_limits(p, a) for a in itertools.product(*p.eligible) if p.moved(a) <= 2)
    found = fit_capacity(p, max_moves=2, deadline=time.perf_counter() + 60)
    assert best == 43
    assert above_limits(p, found) == best


def test_a_milp_step_never_keeps_a_plan_highs_misreports():
    # HiGHS 1.16, started from today's plan on this model, reported "optimal" at an objective
    # it never reached and returned the starting plan: 119 customers above the limits where
    # one move leaves 52 (the whole model tried by hand: 4 grids, 4 specialists).
    p = Problem(
        spec_ids=[10, 11, 12, 13],
        grid_ids=[0, 1, 2, 3],
        owner=[3, 2, 2, 1],
        gload=[2.0, 80.0, 2.0, 40.0],
        gcust=[2, 80, 2, 40],
        eligible=[[3, 1, 2], [2, 1], [2, 1], [1, 2]],
        base=[0.0, 0.0, 37.0, 0.0],
        base_cust=[0, 0, 37, 0],
        cap=[25, 107, 0, 31],
        load0=[0.0, 40.0, 119.0, 2.0],
        grid_index={g: g for g in range(4)},
        spec_index={s: i for i, s in enumerate([10, 11, 12, 13])},
    )
    best = min((above_limits(p, a), p.moved(a)) for a in itertools.product(*p.eligible))
    found = _fewest_above(
        p, list(p.owner), max_moves=5, deadline=time.perf_counter() + 60, nodes=50
    )
    assert above_limits(p, p.owner) == 119
    assert best == (52, 1)
    assert found is not None and (above_limits(p, found), p.moved(found)) == best
