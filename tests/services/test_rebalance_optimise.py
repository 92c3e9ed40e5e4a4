"""The rebalancing optimiser on small hand-made cities (no database).

Six square grids in a row, G0..G5, each touching the next. Specialist 1 owns G0-G2, specialist 2
owns G3-G4, specialist 3 owns G5. Loads: G0 2, G1 2, G2 7.6, the others 1; specialist 1 also has
1.0 of fixed load (a locked customer), so the loads are 12.6, 2 and 1.
"""

from __future__ import annotations

import pytest

from app.services.rebalance.optimise import propose
from app.services.rebalance.problem import (
    CUSTOMER,
    GRID,
    CustomerItem,
    GridItem,
    SpecialistItem,
    distance_km,
    plan_ok,
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


def _lattice_city(seed, side=3, n_specs=3, capacity=None):
    """Return a side x side lattice of grids (touching left/right/up/down) with random loads,
    customers and owners (each specialist owning at least one grid), one grid locked."""
    import random

    rng = random.Random(seed)
    n = side * side
    owners = [k % n_specs + 1 for k in range(n)]
    rng.shuffle(owners)
    loads = [round(rng.uniform(1, 10), 2) for _ in range(n)]
    customers = [rng.randint(1, 6) for _ in range(n)]
    locked = rng.randrange(n)
    grids = []
    for i in range(n):
        r, c = divmod(i, side)
        near = [
            (r + dr) * side + c + dc
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
            if 0 <= r + dr < side and 0 <= c + dc < side
        ]
        grids.append(
            GridItem(
                id=i,
                owner_id=owners[i],
                load=loads[i],
                customers=customers[i],
                centroid=(104.0 + 0.01 * c, 30.6 + 0.01 * r),
                neighbours=tuple(near),
                locked=i == locked,
            )
        )
    specs = []
    for s in range(1, n_specs + 1):
        held = sum(c for c, o in zip(customers, owners, strict=True) if o == s)
        cap = capacity if capacity is not None else 100
        specs.append(
            SpecialistItem(
                id=s,
                load=sum(x for x, o in zip(loads, owners, strict=True) if o == s),
                customers=held,
                capacity=cap,
            )
        )
    return grids, specs


def _brute_force(grids, specs, max_moves):
    """Return the smallest largest load over every plan keeping the rules (enumerated)."""
    import itertools

    from app.services.rebalance.optimise import build_problem
    from app.services.rebalance.state import loads_of

    p = build_problem(grids, specs)
    best = max(p.load0)
    for assign in itertools.product(*p.eligible):
        moves = sum(s != o for s, o in zip(assign, p.owner, strict=True))
        if max_moves is not None and moves > max_moves:
            continue
        cust = list(p.base_cust)
        for g, s in enumerate(assign):
            cust[s] += p.gcust[g]
        if any(c > k for c, k in zip(cust, p.cap, strict=True)):
            continue
        best = min(best, max(loads_of(p, assign)))
    return best


def _check_rules(grids, specs, proposal, max_moves):
    """Assert the proposal keeps the move limit, the capacities, the locks and the neighbours."""
    by_id = {g.id: g for g in grids}
    holder = {g.id: g.owner_id for g in grids}
    for m in proposal.moves:
        g = by_id[m.grid_id]
        assert not g.locked
        assert m.from_id == g.owner_id
        assert m.to_id in {by_id[h].owner_id for h in g.neighbours}
        holder[m.grid_id] = m.to_id
    if max_moves is not None:
        assert len(proposal.moves) <= max_moves
    for s in specs:
        held = sum(g.customers for g in grids if holder[g.id] == s.id)
        assert held <= max(s.capacity, s.customers)
        load = sum(g.load for g in grids if holder[g.id] == s.id)
        assert proposal.after[s.id] == pytest.approx(load)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_moves", [1, 2, 3, None])
def test_small_cities_reach_the_brute_force_optimum_within_the_rules(seed, max_moves):
    capacity = 18 if seed % 2 else None  # every other city with tight capacities
    grids, specs = _lattice_city(seed, capacity=capacity)
    p = propose(grids, specs, max_moves=max_moves, allow_customer_moves=False, time_limit_s=1.0)
    _check_rules(grids, specs, p, max_moves)
    assert p.after_max == pytest.approx(_brute_force(grids, specs, max_moves))
    assert p.lower_bound <= p.after_max + 1e-9


def test_the_milp_polish_keeps_the_rules_and_never_makes_a_plan_worse():
    import time

    from app.services.rebalance import exact
    from app.services.rebalance.optimise import build_problem
    from app.services.rebalance.state import loads_of

    for seed in range(6):
        grids, specs = _lattice_city(seed, n_specs=4, capacity=20)
        p = build_problem(grids, specs)
        for max_moves in (0, 1, 2, 4, None):
            start = list(p.owner)
            found = exact.polish(
                p,
                start,
                range(p.n_grids),
                max_moves=max_moves,
                deadline=time.perf_counter() + 1.0,
            )
            assert plan_ok(p, found, max_moves)
            assert max(loads_of(p, found)) <= max(loads_of(p, start)) + 1e-9
            # With every grid free and a tiny model, HiGHS proves the optimum.
            if max_moves is not None and max_moves <= 2:
                assert max(loads_of(p, found)) == pytest.approx(
                    _brute_force(grids, specs, max_moves)
                )


def test_plan_ok_rejects_plans_breaking_a_rule():
    from app.services.rebalance.optimise import build_problem

    p = build_problem(_grids(), _specialists(capacity=(100, 3, 100)))
    assert plan_ok(p, p.owner, 0)
    g2 = p.grid_index[2]
    moved = list(p.owner)
    moved[g2] = p.spec_index[2]
    assert not plan_ok(p, moved, 0)  # over the move limit
    assert not plan_ok(p, moved, None)  # 4 more customers for specialist 2 (capacity 3)
    far = list(p.owner)
    far[p.grid_index[3]] = p.spec_index[3]  # G3 does not touch specialist 3's grid
    assert not plan_ok(p, far, None)


def _score(p, assign, specs, target, weight):
    from app.services.rebalance.state import loads_of

    loads = loads_of(p, assign)
    moves = sum(1 for g, s in enumerate(assign) if s != p.owner[g])
    return weight * sum(max(0.0, loads[s] - target) for s in specs) + moves


def test_a_region_solve_keeps_the_rules_and_never_makes_a_plan_worse():
    import random
    import time

    from app.services.rebalance import exact, region
    from app.services.rebalance.optimise import build_problem
    from app.services.rebalance.state import loads_of

    rng = random.Random(7)
    for seed in range(6):
        grids, specs = _lattice_city(seed, side=4, n_specs=5, capacity=20)
        p = build_problem(grids, specs)
        for max_moves in (0, 1, 3, None):
            start = exact.polish(
                p,
                p.owner,
                range(p.n_grids),
                max_moves=max_moves,
                deadline=time.perf_counter() + 0.2,
            )
            assert plan_ok(p, start, max_moves)
            loads = loads_of(p, start)
            centre = rng.randrange(p.n_specs)
            inside = {centre} | {rng.randrange(p.n_specs)}
            target = max(loads) * rng.uniform(0.8, 1.0)
            for returns in (False, True):
                found = region.solve_region(
                    p,
                    start,
                    inside,
                    max_moves=max_moves,
                    deadline=time.perf_counter() + 1.0,
                    target=target,
                    returns=returns,
                    excess_weight=10.0,
                )
                assert plan_ok(p, found, max_moves)
                assert max(loads_of(p, found)) <= max(loads) + 1e-9
                everyone = range(p.n_specs)
                assert (
                    _score(p, found, everyone, target, 10.0)
                    <= _score(p, start, everyone, target, 10.0) + 1e-9
                )
                if not returns:  # grids move only between the region's specialists
                    for g, s in enumerate(found):
                        if s != start[g]:
                            assert s in inside and start[g] in inside


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_moves", [1, 2, 3, None])
def test_the_region_search_reaches_the_brute_force_optimum_on_small_cities(seed, max_moves):
    import time

    from app.services.rebalance import region
    from app.services.rebalance.optimise import build_problem, lp_bound
    from app.services.rebalance.state import loads_of

    capacity = 18 if seed % 2 else None
    grids, specs = _lattice_city(seed, capacity=capacity)
    p = build_problem(grids, specs)
    bound, _, _ = lp_bound(p, max_moves=max_moves)
    # Regions hold every grid here, so each solve is exact and the descent ends at the optimum.
    found = region.large_neighbourhood_search(
        p,
        p.owner,
        max_moves=max_moves,
        lower_bound=bound,
        deadline=time.perf_counter() + 5.0,
        max_grids=100,
        regions=100,
        region_nodes=10_000,
    )
    assert plan_ok(p, found, max_moves)
    assert max(loads_of(p, found)) == pytest.approx(_brute_force(grids, specs, max_moves), rel=1e-4)


def test_a_swap_that_changes_nothing_that_counts_is_given_back():
    """Specialist 1 gave G2 to specialist 2 and took G3 back in exchange, while the largest
    load is specialist 3's: the swap moved customers (and SMS) for nothing, so both grids go
    back to their owners. A swap that lowers the largest load stays."""
    from app.services.rebalance.construct import prune
    from app.services.rebalance.optimise import build_problem
    from app.services.rebalance.state import loads_of

    loads = [1.0, 1.0, 3.0, 2.0, 1.0, 9.0]  # specialist 3 holds the heaviest load alone
    grids = _grids(loads=loads)
    specs = [
        SpecialistItem(id=1, load=5.0, customers=8, capacity=100, team_id=1),
        SpecialistItem(id=2, load=3.0, customers=2, capacity=100, team_id=1),
        SpecialistItem(id=3, load=9.0, customers=1, capacity=100, team_id=2),
    ]
    p = build_problem(grids, specs)
    index = {gid: i for i, gid in enumerate(p.grid_ids)}
    swapped = list(p.owner)
    swapped[index[2]], swapped[index[3]] = p.owner[index[3]], p.owner[index[2]]
    assert max(loads_of(p, swapped)) == max(loads_of(p, p.owner))  # nothing that counts
    assert prune(p, swapped) == p.owner
    # With specialist 3 lighter, the same swap evens out the two heaviest: it stays.
    light = [SpecialistItem(id=3, load=1.0, customers=1, capacity=100, team_id=2), *specs[:2]]
    p = build_problem(_grids(loads=[1.0, 1.0, 3.0, 2.0, 1.0, 1.0]), light)
    index = {gid: i for i, gid in enumerate(p.grid_ids)}
    swapped = list(p.owner)
    swapped[index[2]], swapped[index[3]] = p.owner[index[3]], p.owner[index[2]]
    assert max(loads_of(p, swapped)) < max(loads_of(p, p.owner))
    assert prune(p, swapped) == swapped


def test_a_busy_computer_still_gets_the_greedy_plan_not_an_empty_one():
    """The greedy start runs to its end whatever the clock says: with its deadline already
    passed (a computer too busy to give the search any time) it still relieves the peak."""
    import time

    from app.services.rebalance.construct import greedy
    from app.services.rebalance.optimise import build_problem
    from app.services.rebalance.state import loads_of

    problem = build_problem(_grids(), _specialists())
    assign = greedy(problem, max_moves=None, deadline=time.perf_counter() - 1.0)
    assert assign != list(problem.owner)
    assert max(loads_of(problem, assign)) < 12.6
    assert assign == greedy(problem, max_moves=None, deadline=time.perf_counter() - 1.0)
