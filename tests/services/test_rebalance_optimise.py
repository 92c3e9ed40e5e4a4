"""The rebalancing optimiser on small hand-made cities (no database).

Six square grids in a row, G0..G5, each touching the next. Specialist 1 owns G0-G2, specialist 2
owns G3-G4, specialist 3 owns G5. Loads: G0 2, G1 2, G2 7.6, the others 1; specialist 1 also has
1.0 of fixed load (a locked customer), so the loads are 12.6, 2 and 1.
"""

from __future__ import annotations

import pytest

from app.services.rebalance.optimise import (
    CUSTOMER,
    GRID,
    CustomerItem,
    GridItem,
    SpecialistItem,
    distance_km,
    propose,
)

LOADS = [2.0, 2.0, 7.6, 1.0, 1.0, 1.0]
CUSTOMERS = [2, 2, 4, 1, 1, 1]
OWNERS = [1, 1, 1, 2, 2, 3]


def _grids(locked=(), owners=OWNERS, loads=LOADS, customers=CUSTOMERS, items=None):
    items = items or {}
    return [
        GridItem(
            id=i,
            owner_id=owners[i],
            load=loads[i],
            customers=customers[i],
            centroid=(104.0 + 0.01 * i, 30.6),
            neighbours=tuple(j for j in (i - 1, i + 1) if 0 <= j < len(loads)),
            locked=i in locked,
            customer_items=items.get(i, ()),
        )
        for i in range(len(loads))
    ]


def _specialists(capacity=(100, 100, 100), teams=(1, 1, 2)):
    totals = {1: 1.0, 2: 0.0, 3: 0.0}
    cust = {1: 1, 2: 0, 3: 0}
    for owner, load, c in zip(OWNERS, LOADS, CUSTOMERS, strict=True):
        totals[owner] += load
        cust[owner] += c
    return [
        SpecialistItem(
            id=s, load=totals[s], customers=cust[s], capacity=capacity[s - 1], team_id=teams[s - 1]
        )
        for s in (1, 2, 3)
    ]


def _moves(proposal):
    return {(m.grid_id, m.from_id, m.to_id) for m in proposal.moves if m.kind == GRID}


def test_without_a_limit_the_heavy_grid_goes_next_door_and_the_neighbour_passes_one_on():
    p = propose(_grids(), _specialists(), allow_customer_moves=False)
    assert p.before_max == pytest.approx(12.6)
    # G2 to specialist 2, who gives G3 to 1 and G4 to 3: loads 6, 7.6, 2.
    assert _moves(p) == {(2, 1, 2), (3, 2, 1), (4, 2, 3)}
    assert p.after == pytest.approx({1: 6.0, 2: 7.6, 3: 2.0})
    assert p.after_max == pytest.approx(7.6)
    # Fractionally G2 could be split 0.8 / 6.8: no plan can go below 6.8.
    assert p.lower_bound == pytest.approx(6.8)


def test_move_limit_is_respected():
    p = propose(_grids(), _specialists(), max_moves=1, allow_customer_moves=False)
    assert _moves(p) == {(2, 1, 2)}
    assert p.after_max == pytest.approx(9.6)
    assert propose(_grids(), _specialists(), max_moves=0).moves == ()


def test_locked_grid_never_moves():
    p = propose(_grids(locked={2}), _specialists(), allow_customer_moves=False)
    assert all(m.grid_id != 2 for m in p.moves)
    # Nothing else can relieve specialist 1, so nothing is worth moving.
    assert p.moves == ()
    assert p.after_max == pytest.approx(12.6)


def test_capacity_keeps_the_heavy_grid_from_a_full_specialist():
    # Specialist 2 may serve 3 customers: G2's 4 do not fit even if they give away their own.
    p = propose(_grids(), _specialists(capacity=(100, 3, 100)), allow_customer_moves=False)
    assert all(m.grid_id != 2 for m in p.moves)
    ends = {1: 13, 2: 2, 3: 1}
    for m in p.moves:
        ends[m.from_id] -= CUSTOMERS[m.grid_id]
        ends[m.to_id] += CUSTOMERS[m.grid_id]
    assert ends[2] <= 3


def test_grids_only_go_to_owners_of_touching_grids_unless_a_distance_allows():
    # G2 locked: specialist 1 could only shed G0 or G1, whose neighbours are all their own.
    p = propose(_grids(locked={2}), _specialists(), allow_customer_moves=False)
    assert p.moves == ()
    # Within 5 km (the grids are about 1 km apart) specialists 2 and 3 are close enough.
    assert distance_km((104.0, 30.6), (104.05, 30.6)) < 5
    p = propose(_grids(locked={2}), _specialists(), max_distance_km=5, allow_customer_moves=False)
    # Both go; specialist 1 keeps the locked G2 and the fixed load: 8.6.
    assert {0, 1} <= {m.grid_id for m in p.moves}
    assert p.after_max == pytest.approx(8.6)


def test_team_scope_leaves_other_teams_alone():
    # Specialist 3 is in team 2; only team 1 is in scope.
    p = propose(_grids(), _specialists(), scope_team_ids={1}, allow_customer_moves=False)
    assert all(3 not in (m.from_id, m.to_id) for m in p.moves)
    assert 3 not in p.after
    # Without specialist 3, specialist 2 takes G2 and gives G3 back: loads 6 and 8.6.
    assert _moves(p) == {(2, 1, 2), (3, 2, 1)}
    assert p.after_max == pytest.approx(8.6)


def test_a_grid_too_heavy_on_its_own_is_split_by_customers():
    # One grid of ten customers (load 1 each) next to a light neighbour: moving the grid would
    # only swap who is overloaded, so customers go one by one.
    items = {0: tuple(CustomerItem(id=100 + k, load=1.0, locked=k < 2) for k in range(10))}
    grids = [
        GridItem(0, 1, 10.0, 10, (104.0, 30.6), (1,), customer_items=items[0]),
        GridItem(1, 2, 1.0, 1, (104.01, 30.6), (0,)),
    ]
    specs = [SpecialistItem(1, 10.0, 10, 100), SpecialistItem(2, 1.0, 1, 100)]
    p = propose(grids, specs)
    assert all(m.kind == CUSTOMER for m in p.moves)
    assert len(p.moves) == 4
    assert p.after == pytest.approx({1: 6.0, 2: 5.0})
    # Locked customers stay.
    assert all(m.customer_id not in (100, 101) for m in p.moves)
    # With a limit of 3 moves, 3 customers go.
    p = propose(grids, specs, max_moves=3)
    assert len(p.moves) == 3
    assert p.after_max == pytest.approx(7.0)


def test_customer_moves_can_be_turned_off():
    items = tuple(CustomerItem(id=100 + k, load=1.0) for k in range(10))
    grids = [
        GridItem(0, 1, 10.0, 10, (104.0, 30.6), (1,), customer_items=items),
        GridItem(1, 2, 1.0, 1, (104.01, 30.6), (0,)),
    ]
    specs = [SpecialistItem(1, 10.0, 10, 100), SpecialistItem(2, 1.0, 1, 100)]
    assert propose(grids, specs, allow_customer_moves=False).moves == ()


def test_a_full_neighbour_passes_a_grid_on_to_make_room():
    # a1 - a2 - b1 - c1 in a row. 李 (2) is at capacity (5 customers, all in b1), so a2 can go
    # to them only if b1 goes on to 3, who has room.
    grids = [
        GridItem(0, 1, 5.0, 5, (104.0, 30.6), (1,)),
        GridItem(1, 1, 5.0, 5, (104.01, 30.6), (0, 2)),
        GridItem(2, 2, 1.0, 5, (104.02, 30.6), (1, 3)),
        GridItem(3, 3, 1.0, 1, (104.03, 30.6), (2,)),
    ]
    specs = [
        SpecialistItem(1, 10.0, 10, 100),
        SpecialistItem(2, 1.0, 5, 5),
        SpecialistItem(3, 1.0, 1, 100),
    ]
    p = propose(grids, specs, allow_customer_moves=False)
    assert _moves(p) == {(1, 1, 2), (2, 2, 3)}
    assert p.after == pytest.approx({1: 5.0, 2: 5.0, 3: 2.0})
