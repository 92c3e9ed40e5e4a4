"""The weekly visit list (issue 19): what is gathered for a specialist and a week, the grouping
by community, the walking order and its length, the working days, and a build from an offline
snapshot opened read-only."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import numpy as np
import pytest
from factories import Factory, utc

from app.db import make_engine
from app.models.enums import Channel, PolicyStatus, TaskKind, TaskStatus
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.files.snapshot import take_snapshot
from app.services.visits.lists import (
    MAX_PER_DAY,
    Community,
    Stop,
    Todo,
    WeekError,
    build_visit_list,
    plan_days,
    week_of,
)
from app.services.visits.route import distance_matrix, path_length, route, shortest_path

MONDAY = date(2025, 12, 1)  # 2025-W49
AS_OF = date(2025, 12, 2)  # the Tuesday


@pytest.fixture
def f(session):
    return Factory(session)


@pytest.fixture
def world(f):
    """Specialist A with two grids (codes sorted the other way round from their creation), a
    customer with no grid and one with no coordinates; specialist B next door."""
    a, b = f.specialist(name="甲"), f.specialist(name="乙")
    north = f.grid(owner=a, code="G2", name="北苑", lon=104.00, lat=30.70)
    south = f.grid(owner=a, code="G1", name="南苑", lon=104.00, lat=30.60)
    recent = AS_OF  # entered the pool today: within every hand-off target

    def cust(grid, lon, lat, **kw):
        kw.setdefault("pool_entered_on", recent)
        kw.setdefault("pre_sell_on", recent)
        kw.setdefault("soft_sell_on", recent)
        return f.customer(specialist=a, grid=grid, lon=lon, lat=lat, **kw)

    c = {
        "due": cust(south, 104.001, 30.601),
        "overdue": cust(south, 104.009, 30.609),
        "next_week": cust(south, 104.005, 30.605),
        "premium": cust(north, 104.001, 30.701),
        "renewal": cust(north, 104.008, 30.708),
        "late": cust(
            None,
            104.03,
            30.65,
            pool_entered_on=AS_OF - timedelta(days=20),
            pre_sell_on=None,
            soft_sell_on=None,
        ),
        "nowhere": cust(north, None, None),
    }
    t = {
        "due": f.task(
            customer=c["due"],
            kind=TaskKind.SERVICING,
            status=TaskStatus.OPEN,
            due_date=MONDAY + timedelta(days=3),
        ),
        "overdue": f.task(
            customer=c["overdue"],
            kind=TaskKind.PRE_SELL,
            status=TaskStatus.IN_PROGRESS,
            due_date=MONDAY - timedelta(days=5),
        ),
    }
    f.task(
        customer=c["next_week"],
        kind=TaskKind.SERVICING,
        status=TaskStatus.OPEN,
        due_date=MONDAY + timedelta(days=8),
    )
    f.task(
        customer=c["due"],
        kind=TaskKind.SERVICING,
        status=TaskStatus.DONE,
        due_date=MONDAY + timedelta(days=1),
        created_at=utc(2025, 11, 1),
    )
    f.task(
        customer=c["due"],
        kind=TaskKind.CALLBACK,
        status=TaskStatus.OPEN,
        channel=Channel.ONLINE,
        due_date=MONDAY,
    )
    f.task(
        customer=c["nowhere"],
        kind=TaskKind.SERVICING,
        status=TaskStatus.OPEN,
        due_date=MONDAY + timedelta(days=4),
    )
    p = f.policy(customer=c["premium"], policy_no="P-DUE")
    f.due(p, policy_year=2, due_date=MONDAY + timedelta(days=20))
    f.due(p, policy_year=3, due_date=MONDAY + timedelta(days=30))  # the 31st day: too late
    paid = f.policy(customer=c["premium"], policy_no="P-PAID")
    f.due(
        paid,
        policy_year=2,
        due_date=MONDAY + timedelta(days=2),
        received_fen=100_000,
        received_on=MONDAY,
    )
    lapsed = f.policy(customer=c["premium"], policy_no="P-LAPSED", status=PolicyStatus.LAPSED)
    f.due(lapsed, policy_year=2, due_date=MONDAY + timedelta(days=2))
    covered = f.policy(customer=c["renewal"], policy_no="P-COVERED")
    f.due(covered, policy_year=2, due_date=MONDAY + timedelta(days=5))
    f.task(
        customer=c["renewal"],
        kind=TaskKind.RENEWAL_COLLECTION,
        status=TaskStatus.OPEN,
        policy_id=covered.id,
        due_date=MONDAY + timedelta(days=12),
    )
    other = f.customer(specialist=b, lon=104.0, lat=30.6)
    f.task(customer=other, kind=TaskKind.SERVICING, status=TaskStatus.OPEN, due_date=MONDAY)
    f.s.flush()
    return {"a": a, "b": b, "c": c, "t": t}


def _todos(vl) -> dict[str, list[Todo]]:
    return {s.customer_no: list(s.todos) for s in vl.stops}


def test_gathers_tasks_of_the_week_overdue_ones_premiums_and_late_handoffs(session, world):
    vl = build_visit_list(session, world["a"].id, MONDAY, AS_OF)
    c = world["c"]
    got = _todos(vl)
    assert set(got) == {c[k].customer_no for k in ("due", "overdue", "premium", "late", "nowhere")}
    (due,) = got[c["due"].customer_no]  # the done, online and next-week tasks are left out
    assert (due.what, due.task_kind, due.overdue) == ("task", "servicing", False)
    (over,) = got[c["overdue"].customer_no]
    assert (over.what, over.task_no, over.overdue) == ("task", world["t"]["overdue"].task_no, True)
    (prem,) = got[c["premium"].customer_no]  # not the paid, the lapsed or the 31st-day one
    assert (prem.what, prem.policy_no, prem.amount_fen) == ("premium", "P-DUE", 100_000)
    assert prem.due_date == MONDAY + timedelta(days=20)
    assert vl.premium_until == MONDAY + timedelta(days=29)
    (late,) = got[c["late"].customer_no]
    assert late.what == "handoff" and late.missed == ("sms", "contact")
    assert late.days_over == 20 - 1  # 20 days waiting, SMS target 1 day
    # The customer with an open renewal task for the policy is not listed again.
    assert c["renewal"].customer_no not in got


def test_groups_by_community_no_grid_last_unlocated_at_the_end(session, world):
    vl = build_visit_list(session, world["a"].id, MONDAY, AS_OF)
    assert [(g.grid_code, g.grid_name) for g in vl.communities] == [
        ("G1", "南苑"),
        ("G2", "北苑"),
        (None, None),
    ]
    north = vl.communities[1]
    assert north.stops[-1].customer_no == world["c"]["nowhere"].customer_no
    assert north.unlocated == 1 and not north.stops[-1].located
    assert vl.route_m <= vl.unordered_m
    assert vl.route_m > 0


def test_the_week_is_spread_over_monday_to_friday(session, world):
    vl = build_visit_list(session, world["a"].id, MONDAY, AS_OF)
    assert [d.day for d in vl.days] == [MONDAY + timedelta(days=k) for k in range(5)]
    planned = [s.customer_no for d in vl.days for s in d.stops]
    assert sorted(planned) == sorted(s.customer_no for s in vl.stops) and not vl.unplanned
    monday = {s.customer_no for s in vl.days[0].stops}
    # What cannot wait goes first: the overdue task and the late hand-off.
    assert {world["c"]["overdue"].customer_no, world["c"]["late"].customer_no} <= monday


def test_the_phone_is_masked_for_an_analyst_and_shown_to_a_supervisor(session, world):
    from app.models.enums import Role
    from app.services.people.auth import UserInfo

    world["c"]["due"].phone = "13812345678"
    session.flush()

    def phone(role):
        team = frozenset({world["a"].team_id})
        user = role and UserInfo(1, "u", "U", role, world["a"].branch_id, team)
        vl = build_visit_list(session, world["a"].id, MONDAY, AS_OF, user=user)
        return next(s.phone for s in vl.stops if s.customer_no == world["c"]["due"].customer_no)

    assert phone(Role.ANALYST) == "138****5678"
    assert phone(Role.SUPERVISOR) == "13812345678"
    assert phone(None) == "138****5678"  # no user (the command line): masked


def _stop(n: int, lon: float | None, lat: float | None, todos=()) -> Stop:
    return Stop(n, f"C{n:03d}", f"客户{n}", "", "地址", lon, lat, "G1", "网格", tuple(todos))


def test_days_hold_at_most_the_cap_and_the_rest_is_unplanned():
    stops = tuple(_stop(i, 104 + i / 1000, 30.6) for i in range(MAX_PER_DAY * 5 + 7))
    days, left = plan_days([Community("G1", "网格", stops, 0.0, 0.0)], MONDAY)
    assert [len(d.stops) for d in days] == [MAX_PER_DAY] * 5
    assert len(left) == 7
    few = tuple(_stop(i, 104 + i / 1000, 30.6) for i in range(12))
    days, left = plan_days([Community("G1", "网格", few, 0.0, 0.0)], MONDAY)
    assert [len(d.stops) for d in days] == [3, 3, 2, 2, 2] and not left  # spread evenly
    # A task due on Wednesday is done by Wednesday even at the end of the route.
    wed = Todo("task", "servicing", "K1", MONDAY + timedelta(days=2))
    late = (*few[:-1], _stop(99, 104.5, 30.6, [wed]))
    days, _ = plan_days([Community("G1", "网格", late, 0.0, 0.0)], MONDAY)
    assert 99 in {s.customer_id for d in days[:3] for s in d.stops}


def test_week_of_reads_iso_weeks_and_days():
    assert week_of("2025-W49") == MONDAY
    assert week_of("2025-12-03") == MONDAY
    with pytest.raises(WeekError):
        week_of("next week")


def _brute_force(d: np.ndarray) -> float:
    n = len(d)
    return min(path_length(d, p) for p in itertools.permutations(range(n)))


@pytest.mark.parametrize("seed", range(6))
def test_the_route_is_the_optimum_on_seven_points(seed):
    rng = random.Random(seed)
    lon = [104 + rng.random() * 0.02 for _ in range(7)]
    lat = [30.6 + rng.random() * 0.02 for _ in range(7)]
    d = distance_matrix(lon, lat)
    order, length, _ = route(lon, lat)
    assert sorted(order) == list(range(7))
    assert length == pytest.approx(_brute_force(d), abs=1e-6)


@pytest.mark.parametrize("n", [2, 3, 10, 40, 120])
def test_the_route_is_never_longer_than_the_given_order(n):
    rng = np.random.default_rng(n)
    lon, lat = 104 + rng.random(n) * 0.05, 30.6 + rng.random(n) * 0.05
    order, length, unordered = route(lon, lat)
    assert sorted(order) == list(range(n))
    assert length <= unordered + 1e-9
    assert length == pytest.approx(path_length(distance_matrix(lon, lat), order))
    if n >= 10:
        assert length < unordered * 0.8  # random order wanders; the route does not


def test_haversine_distance_is_right():
    # One degree of latitude is about 111.2 km.
    d = distance_matrix([104.0, 104.0], [30.0, 31.0])
    assert d[0, 1] == pytest.approx(111_195, rel=1e-3)
    assert shortest_path(d) == [0, 1]


def test_the_list_builds_from_a_read_only_snapshot(engine, session, world, tmp_path):
    session.commit()
    target = tmp_path / "offline.sqlite"
    take_snapshot(engine, target, branch_id=world["a"].branch_id, user=None)
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    try:
        with session_factory(ro)() as s:
            vl = build_visit_list(s, world["a"].id, MONDAY, AS_OF)
    finally:
        ro.dispose()
    live = build_visit_list(session, world["a"].id, MONDAY, AS_OF)
    assert [x.customer_no for x in vl.stops] == [x.customer_no for x in live.stops]
    assert vl.route_m == pytest.approx(live.route_m)
