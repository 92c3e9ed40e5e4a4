"""Persistency by group (keys and readable labels), scope filters, year on year, the monthly
trend and the table / CSV / JSON output of the command line."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import Factory
from sqlalchemy import event
from test_persistency import AS_OF, DUE, MARCH, book_policy

from app.models.enums import PaymentMode
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.formatting import render_persistency
from app.services.metrics.grouping import GroupingError
from app.services.metrics.persistency import (
    PersistencyRow,
    persistency_report,
    persistency_trend,
    persistency_with_yoy,
)
from app.services.periods import Period


@pytest.fixture
def f(session):
    return Factory(session)


@pytest.fixture
def two_teams(session, f):
    """Team 一队 with specialist E0001 (grid G001, two policies, one paid); team 二队 with
    E0002 (grid G002, one monthly policy of another product, unpaid)."""
    t1, t2 = f.team(name="一队"), f.team(name="二队")
    a = f.specialist(team=t1, employee_no="E0001", name="张三")
    b = f.specialist(team=t2, employee_no="E0002", name="李四")
    g1 = f.grid(owner=a, code="G001", name="春熙")
    g2 = f.grid(owner=b, code="G002", name="太古里")
    book_policy(f, customer=f.customer(specialist=a, grid=g1))
    book_policy(f, customer=f.customer(specialist=a, grid=g1), paid_fen=0, issued=date(2023, 3, 20))
    book_policy(f, customer=f.customer(specialist=b, grid=g2), mode=PaymentMode.MONTHLY,
                premium_fen=10_000, paid_fen=0, product="少儿险")  # fmt: skip
    refresh_persistency_base(session)
    return {"t1": t1, "t2": t2, "a": a, "b": b, "g1": g1, "g2": g2}


def grouped(session, by, **kw):
    rows = persistency_report(session, period=MARCH, as_of=AS_OF, by=by, **kw)
    return [(r.group_key, r.group, r.policies, r.persistency_premium) for r in rows]


def test_group_keys_and_labels(session, two_teams):
    t = two_teams
    half, zero = Decimal("0.5000"), Decimal("0.0000")
    assert grouped(session, "grid") == [
        (t["g1"].id, "G001 春熙", 2, half),
        (t["g2"].id, "G002 太古里", 1, zero),
    ]
    assert grouped(session, "specialist") == [
        (t["a"].id, "E0001 张三", 2, half),
        (t["b"].id, "E0002 李四", 1, zero),
    ]
    assert grouped(session, "team") == [
        (t["t1"].id, "一队", 2, half),
        (t["t2"].id, "二队", 1, zero),
    ]
    assert grouped(session, "payment_mode") == [
        (PaymentMode.ANNUAL, "annual", 2, half),
        (PaymentMode.MONTHLY, "monthly", 1, zero),
    ]
    assert grouped(session, "product") == [
        ("安康人寿", "安康人寿", 2, half),
        ("少儿险", "少儿险", 1, zero),
    ]
    assert grouped(session, "cohort") == [("2024-03", "2024-03", 3, Decimal("0.4762"))]


def test_cohort_is_the_due_month(session, f):
    book_policy(f, issued=date(2023, 1, 31))
    book_policy(f, issued=date(2023, 2, 1), paid_fen=0)
    book_policy(f, issued=date(2023, 2, 28))
    refresh_persistency_base(session)
    rows = persistency_report(session, period=Period.parse("2024-Q1"), as_of=AS_OF, by="cohort")
    assert [(r.group, r.policies, r.persisting_policies) for r in rows] == [
        ("2024-01", 1, 1),
        ("2024-02", 2, 1),
    ]


def test_two_fields_give_one_row_per_pair(session, two_teams):
    t = two_teams
    rows = persistency_report(session, period=MARCH, as_of=AS_OF, by=("specialist", "cohort"))
    assert [(r.group_key, r.group, r.policies) for r in rows] == [
        ((t["a"].id, "2024-03"), "E0001 张三 · 2024-03", 2),
        ((t["b"].id, "2024-03"), "E0002 李四 · 2024-03", 1),
    ]


def test_rows_without_a_grid_or_specialist_are_grouped_apart(session, f):
    book_policy(f)  # a customer with neither
    refresh_persistency_base(session)
    assert grouped(session, "grid") == [(None, "(no grid)", 1, Decimal("1.0000"))]
    unserved = "(unserved on the due date)"
    assert grouped(session, "team") == [(None, unserved, 1, Decimal("1.0000"))]
    assert grouped(session, "specialist") == [(None, unserved, 1, Decimal("1.0000"))]


def test_scope_filters(session, two_teams, f):
    t = two_teams
    assert grouped(session, None, team_ids=[t["t2"].id]) == [("all", "all", 1, Decimal("0.0000"))]
    assert grouped(session, None, specialist_ids=[t["a"].id])[0][2] == 2
    other = f.branch(code="OTHER")
    assert grouped(session, None, branch_id=other.id) == [("all", "all", 0, None)]
    assert grouped(session, None, branch_id=t["a"].branch_id)[0][2] == 3


def test_unknown_grouping_is_refused(session):
    with pytest.raises(GroupingError, match="agent"):
        persistency_report(session, period=MARCH, as_of=AS_OF, by="agent")


def test_year_on_year_change_in_points(session, f):
    book_policy(f, issued=date(2022, 3, 10), paid_fen=0)  # year-2 due 2023-03-10: unpaid
    book_policy(f, issued=date(2022, 3, 10))  # paid
    book_policy(f, issued=date(2022, 3, 10), paid_fen=0)  # unpaid
    book_policy(f)  # year-2 due 2024-03-10: paid
    refresh_persistency_base(session)
    (yoy,) = persistency_with_yoy(session, period=MARCH, as_of=AS_OF)
    assert yoy.current.persistency_premium == Decimal("1.0000")
    assert yoy.year_earlier is not None
    assert yoy.year_earlier.persistency_premium == Decimal("0.3333")
    assert yoy.change_points == Decimal("66.67")
    assert yoy.change_points_count == Decimal("66.67")


def test_year_on_year_prior_period_uses_the_same_as_of_date(session, f):
    # The prior period is read at the same as-of date: a year older, it is mature.
    book_policy(f, issued=date(2022, 3, 10))
    book_policy(f)
    refresh_persistency_base(session)
    (yoy,) = persistency_with_yoy(session, period=MARCH, as_of=DUE + timedelta(days=10))
    assert yoy.current.pending_policies == 1 and yoy.current.persistency_premium is None
    assert yoy.year_earlier is not None and yoy.year_earlier.persistency_premium == Decimal("1")
    assert yoy.change_points is None


def test_year_on_year_by_group_with_a_group_new_this_year(session, f):
    a, b = f.specialist(), f.specialist()
    book_policy(f, customer=f.customer(specialist=a), issued=date(2022, 3, 10), paid_fen=50_000)
    book_policy(f, customer=f.customer(specialist=a))
    book_policy(f, customer=f.customer(specialist=b))
    refresh_persistency_base(session)
    rows = persistency_with_yoy(session, period=MARCH, as_of=AS_OF, by="specialist")
    assert [(r.current.group_key, r.change_points) for r in rows] == [
        (a.id, Decimal("50.00")),
        (b.id, None),
    ]
    assert rows[1].year_earlier is None


def test_trend_gives_each_month_with_the_year_earlier_in_one_query(session, f, engine):
    book_policy(f, issued=date(2022, 3, 10), paid_fen=0)  # 2023-03: 0 %
    book_policy(f, issued=date(2022, 4, 10))  # 2023-04: 100 %
    book_policy(f)  # 2024-03: 100 %
    book_policy(f, issued=date(2023, 4, 10), paid_fen=25_000)  # 2024-04: 25 %
    refresh_persistency_base(session)
    months = Period.parse("2024-03").months() + Period.parse("2024-04").months()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "persistency_base" in statement or "persistency_month" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        points = persistency_trend(session, months=months, as_of=AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Every month is past its grace period: one query of the monthly cells answers it all.
    assert len(statements) == 1 and "persistency_month" in statements[0]
    assert [(p.month, p.rate, p.year_earlier, p.policies) for p in points] == [
        ("2024-03", Decimal("1.0000"), Decimal("0.0000"), 1),
        ("2024-04", Decimal("0.2500"), Decimal("1.0000"), 1),
    ]


def test_trend_marks_months_still_in_their_grace_period(session, f):
    """A month with policies still inside the grace period shows them as pending, and the
    trend chart's data names that month, so the chart can say the rate is not final."""
    from app.services.render.chart_data import trend_data

    p = book_policy(f)  # due 2024-03-10
    book_policy(f, issued=date(2023, 2, 10))  # due 2024-02-10, past its grace by April 20
    refresh_persistency_base(session)
    in_grace = DUE + timedelta(days=41)  # 2024-04-20
    months = Period.parse("2024-02").months() + MARCH.months()
    points = persistency_trend(session, months=months, as_of=in_grace)
    assert [(p.month, p.pending, p.rate) for p in points] == [
        ("2024-02", 0, Decimal("1.0000")),
        ("2024-03", 1, None),
    ]
    data = trend_data(session, branch_id=p.customer.branch_id, as_of=in_grace, months=3)
    assert data.months == ["2024-02", "2024-03", "2024-04"]
    assert data.pending_months == ["2024-03"]
    later = trend_data(session, branch_id=p.customer.branch_id, as_of=AS_OF, months=3)
    assert later.pending_months == []


def test_the_team_trend_keeps_the_policies_nobody_served_as_a_line_of_their_own(
    session, f, two_teams
):
    """Compared by team, the policies whose customer had no specialist on the due date are a
    line of their own, named by the caller and last, so the lines cover the whole branch."""
    from app.services.render.chart_data import trend_data

    book_policy(f, customer=f.customer(grid=two_teams["g1"]))  # in a grid, nobody serving
    refresh_persistency_base(session)
    branch = two_teams["a"].branch_id
    data = trend_data(
        session, branch_id=branch, as_of=AS_OF, months=22, by_team=True, unserved_label="无人"
    )
    assert [s.label for s in data.current] == ["一队", "二队", "无人"]
    march = data.months.index("2024-03")
    assert [s.values[march] for s in data.current] == [0.5, 0.0, 1.0]
    whole = trend_data(session, branch_id=branch, as_of=AS_OF, months=22)
    assert [s.label for s in whole.current] == [""]


def test_the_trend_starts_at_its_first_month_with_a_figure(session, f):
    """Months before any policy of the scope fell due (a team that began with the pilot) are
    not drawn as empty months at the start of the axis."""
    from app.services.render.chart_data import trend_data

    p = book_policy(f)  # the only policy: due 2024-03-10
    refresh_persistency_base(session)
    data = trend_data(session, branch_id=p.customer.branch_id, as_of=AS_OF, months=24)
    assert data.months[0] == "2024-03" and data.months[-1] == f"{AS_OF:%Y-%m}"  # not 2024-01
    assert data.current[0].values[0] is not None
    assert len(data.current[0].values) == len(data.current[0].bases) == len(data.months)


def test_trend_by_group(session, two_teams):
    t = two_teams
    points = persistency_trend(session, months=[MARCH], as_of=AS_OF, by="team")
    assert [(p.group_key, p.group, p.rate, p.year_earlier) for p in points] == [
        (t["t1"].id, "一队", Decimal("0.5000"), None),
        (t["t2"].id, "二队", Decimal("0.0000"), None),
    ]


# -- output of the command line ---------------------------------------------------------------

ROWS = [
    PersistencyRow("all", "all", 2, 1, 1, 110_000, 100_050, Decimal("0.9095"), Decimal("0.5")),
]


def test_csv_has_the_columns_domain_names_with_yuan_and_4_decimal_rates(session, two_teams):
    rows = persistency_report(session, period=MARCH, as_of=AS_OF)
    lines = render_persistency(rows, "csv").splitlines()
    assert lines == [
        "group,policies,persisting_policies,pending_policies,premium_due,premium_received,"
        "persistency_premium,persistency_count",
        "all,3,1,0,2100.00,1000.00,0.4762,0.3333",
    ]
    assert (
        render_persistency(ROWS, "csv").splitlines()[1] == "all,2,1,1,1100.00,1000.50,0.9095,0.5000"
    )


def test_csv_empty_rate_when_nothing_is_mature(session, f):
    rows = persistency_report(session, period=MARCH, as_of=AS_OF)
    assert render_persistency(rows, "csv").splitlines()[1] == "all,0,0,0,0.00,0.00,,"


def test_json_has_the_same_keys_and_exact_numbers():
    (obj,) = json.loads(render_persistency(ROWS, "json"), parse_float=Decimal)
    assert obj == {
        "group": "all",
        "policies": 2,
        "persisting_policies": 1,
        "pending_policies": 1,
        "premium_due": Decimal("1100.00"),
        "premium_received": Decimal("1000.50"),
        "persistency_premium": Decimal("0.9095"),
        "persistency_count": Decimal("0.5000"),
    }
    text = render_persistency(ROWS, "json")
    assert '"premium_due": 1100.00' in text and '"persistency_count": 0.5000' in text
    groups = [PersistencyRow("2024-03", "2024-03", 0, 0, 0, 0, 0, None, None)]
    (obj,) = json.loads(render_persistency(groups, "json"))
    assert obj["group"] == "2024-03" and obj["persistency_premium"] is None


def test_table_aligns_columns_counting_chinese_characters_as_two(session, two_teams):
    rows = persistency_report(session, period=MARCH, as_of=AS_OF, by="grid")
    lines = render_persistency(rows, "table").splitlines()
    assert lines[0].startswith("group") and set(lines[1]) == {"-", " "}
    assert lines[2].startswith("G001 春熙  ") and lines[3].startswith("G002 太古里  ")
    # Numbers are right-aligned: every cell of a column ends at the same terminal column,
    # where a Chinese character takes two.
    ends = [_cell_ends(line) for line in lines]
    assert all(len(e) == 8 for e in ends)
    assert all(e[1:] == ends[0][1:] for e in ends)
    assert "2000.00" in lines[2] and "100.00" in lines[3]


def _cell_ends(line: str) -> list[int]:
    """Return the terminal column where each cell (text without a double space) ends."""
    return [_terminal_width(line[: m.end()]) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _terminal_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="table, csv or json"):
        render_persistency(ROWS, "xml")


@pytest.mark.parametrize("by", [None, "team", "specialist", "grid", "contact_band"])
def test_a_period_is_read_from_the_base_index_alone(session, backend, by):
    """The reports the meeting workbook reads for the months still in their grace period (by
    grid: 3 s, by days to first contact: 5 s on a branch of 1.5 million base rows, when each
    row of the period was looked up) read the period's index range and nothing else of the
    base."""
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from query_plans import last_plan

    from app.services.metrics import persistency

    plan = last_plan(
        session,
        "persistency_base",
        lambda: persistency._aggregate_base(
            session, start=MARCH.start, end=MARCH.end, as_of=AS_OF, year=2, grace=60,
            by=[by] if by else [], branch_id=None, team_ids=None, specialist_ids=None,
        ),
    )  # fmt: skip
    on_base = [p for p in plan if "persistency_base" in p]
    assert on_base == [
        "SEARCH persistency_base USING COVERING INDEX ix_persistency_base_year_date "
        "(policy_year=? AND due_date>? AND due_date<?)"
    ], plan
