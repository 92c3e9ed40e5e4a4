"""The 4-sell funnel of a pool-entry cohort: reached counts, step and cumulative conversion,
median days to each step, groups, and the command line's output."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import Factory, utc

from app.models.enums import TaskKind
from app.services.customers.steps import recompute_steps
from app.services.metrics import funnel_cells
from app.services.metrics.formatting import render_funnel
from app.services.metrics.funnel import funnel_report
from app.services.periods import Period

JAN = Period.parse("2024-01")
ENTERED = date(2024, 1, 10)


@pytest.fixture
def f(session):
    return Factory(session)


def reach(f, customer, *steps: tuple[TaskKind, int]) -> None:
    """Record a done task of each kind ``days`` days after the customer entered the pool."""
    for kind, days in steps:
        day = customer.pool_entered_on + timedelta(days=days)
        f.task(customer=customer, kind=kind, completed_at=utc(day.year, day.month, day.day, 2))


@pytest.fixture(params=["customers", "cells"])
def settled(request, session):
    """Call before a report: with "cells" the session commits, so the report adds up the
    monthly cells; with "customers" it still holds its changes and reads the customers. Both
    must give the hand-computed figures."""

    def ready() -> None:
        if request.param == "cells":
            session.commit()
            assert not funnel_cells.pending(session)
        else:
            assert funnel_cells.pending(session)

    return ready


@pytest.fixture
def cohort(session, f):
    """Four January customers (and one from February):
    C1 pre-sell +10, renewal +30, up-sell +90; C2 servicing +21 (implies pre-sell +21);
    C3 pre-sell +2; C4 nothing."""
    a, b = f.specialist(employee_no="E1", name="甲"), f.specialist(employee_no="E2", name="乙")
    c = [f.customer(specialist=a if i < 2 else b, pool_entered_on=ENTERED) for i in range(4)]
    feb = f.customer(specialist=a, pool_entered_on=date(2024, 2, 1))
    reach(
        f, c[0], (TaskKind.PRE_SELL, 10), (TaskKind.RENEWAL_COLLECTION, 30), (TaskKind.UP_SELL, 90)
    )
    reach(f, c[1], (TaskKind.SERVICING, 21))
    reach(f, c[2], (TaskKind.PRE_SELL, 2))
    reach(f, feb, (TaskKind.UP_SELL, 1))
    recompute_steps(session)
    return {"a": a, "b": b}


def test_cohort_counts_conversions_and_medians(session, cohort, settled):
    settled()
    (row,) = funnel_report(session, cohort=JAN)
    assert (row.group_key, row.group, row.cohort_size) == ("all", "all", 4)
    assert row.reached == (3, 2, 1, 1)
    assert row.step_conversion == (
        Decimal("0.7500"),  # 3 / 4 (the cohort)
        Decimal("0.6667"),  # 2 / 3
        Decimal("0.5000"),  # 1 / 2
        Decimal("1.0000"),  # 1 / 1
    )
    assert row.cumulative_conversion == (
        Decimal("0.7500"),
        Decimal("0.5000"),
        Decimal("0.2500"),
        Decimal("0.2500"),
    )
    # Step 1: days 10, 21, 2 -> 10. Step 2: days 30 and 21 -> mean of the middle two, 25.5.
    # Steps 3 and 4: day 90 (up-sell implies cross-sell that day).
    assert row.median_days == (10.0, 25.5, 90.0, 90.0)


def test_funnel_by_specialist_and_by_cohort_month(session, cohort, settled):
    settled()
    rows = funnel_report(session, cohort=JAN, by="specialist")
    assert [(r.group_key, r.group, r.cohort_size, r.reached) for r in rows] == [
        (cohort["a"].id, "E1 甲", 2, (2, 2, 1, 1)),
        (cohort["b"].id, "E2 乙", 2, (1, 0, 0, 0)),
    ]
    assert rows[1].step_conversion == (Decimal("0.5000"), Decimal("0.0000"), None, None)
    assert rows[1].median_days == (2.0, None, None, None)
    months = funnel_report(session, cohort=Period.parse("2024-Q1"), by="cohort")
    assert [(r.group, r.cohort_size, r.reached[3]) for r in months] == [
        ("2024-01", 4, 1),
        ("2024-02", 1, 1),
    ]


def test_funnel_by_team_and_grid(session, f, settled):
    t = f.team(name="一队")
    a = f.specialist(team=t)
    g = f.grid(owner=a, code="G9", name="望江")
    f.customer(specialist=a, grid=g, pool_entered_on=ENTERED)
    f.customer(pool_entered_on=ENTERED)  # no specialist, no grid
    recompute_steps(session)
    settled()
    teams = funnel_report(session, cohort=JAN, by="team")
    assert [(r.group_key, r.group, r.cohort_size) for r in teams] == [
        (t.id, "一队", 1),
        (None, "(no team)", 1),
    ]
    grids = funnel_report(session, cohort=JAN, by="grid")
    assert [(r.group, r.cohort_size) for r in grids] == [("G9 望江", 1), ("(no grid)", 1)]
    scoped = funnel_report(session, cohort=JAN, team_ids=[t.id])
    assert scoped[0].cohort_size == 1


def test_empty_cohort_gives_one_row_with_no_rates(session, cohort, settled):
    settled()
    (row,) = funnel_report(session, cohort=Period.parse("2023-12"))
    assert (row.cohort_size, row.reached) == (0, (0, 0, 0, 0))
    assert row.step_conversion == (None,) * 4 and row.median_days == (None,) * 4
    assert funnel_report(session, cohort=Period.parse("2023-12"), by="specialist") == []


def test_funnel_csv_and_json(session, cohort, settled):
    settled()
    rows = funnel_report(session, cohort=JAN)
    lines = render_funnel(rows, "csv").splitlines()
    assert lines[0].split(",")[:6] == [
        "group",
        "cohort_size",
        "reached_pre_sell",
        "reached_soft_sell",
        "reached_cross_sell",
        "reached_up_sell",
    ]
    assert lines[1] == (
        "all,4,3,2,1,1,0.7500,0.6667,0.5000,1.0000,0.7500,0.5000,0.2500,0.2500,10,25.5,90,90"
    )
    (obj,) = json.loads(render_funnel(rows, "json"), parse_float=Decimal)
    assert obj["step_conversion_2"] == Decimal("0.6667") and obj["median_days_2"] == Decimal("25.5")
