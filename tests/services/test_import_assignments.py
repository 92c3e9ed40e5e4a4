"""The assignments kind loads the history a branch kept before GridDesk: each customer's (and
grid's) rows become a timeline of assignment events, "who served on day D" and persistency by
specialist follow it, the current specialist agrees with it, bad rows reject the file whole, and
a re-import adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from factories import Factory
from sqlalchemy import select
from test_import_support import count, counts, write_table

from app.models import AssignmentEvent, Customer, Grid, Specialist
from app.models.enums import PaymentMode
from app.services.customers.history import specialist_on
from app.services.importer import ImportFailed, import_file
from app.services.metrics.base_table import refresh_persistency_base
from app.services.metrics.persistency import persistency_report
from app.services.periods import Period

ZH = ["客户号", "网格代码", "工号", "生效日期", "原因"]
EN = ["customer_no", "grid_code", "employee_no", "effective_on", "reason"]


@pytest.fixture
def people(session):
    """Specialists E1, E2, E3; customer C1 with nobody, C2 served by E3; grid G1 owned by E3."""
    f = Factory(session)
    e1, e2, e3 = (f.specialist(employee_no=f"E{k}") for k in (1, 2, 3))
    f.customer(customer_no="C1")
    f.customer(customer_no="C2", specialist=e3)
    f.grid(code="G1", owner=e3)
    session.commit()
    return {"E1": e1.id, "E2": e2.id, "E3": e3.id, "f": f}


def customer_id(session, number: str) -> int:
    return session.scalar(select(Customer.id).where(Customer.customer_no == number))


def history(session, **where) -> list[tuple]:
    e = AssignmentEvent
    stmt = select(e.effective_on, e.from_specialist_id, e.to_specialist_id, e.reason, e.actor)
    for column, value in where.items():
        stmt = stmt.where(getattr(e, column) == value)
    rows = session.execute(stmt.order_by(e.effective_on, e.at, e.id)).all()
    return [(d, f, t, r.value, a) for d, f, t, r, a in rows]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_customer_timeline_with_chinese_headers_answers_who_served_each_day(
    session, people, tmp_path, encoding
):
    e1, e2, e3 = people["E1"], people["E2"], people["E3"]
    rows = [  # out of date order, and in each accepted spelling of a date
        ["C1", None, "E2", "2024年6月1日", "均衡调整"],
        ["C1", None, "E1", "2024/1/10", "自动匹配"],
        ["C1", None, None, "2024-09-15", None],  # nobody from then on
        ["C1", None, "E3", "20250201", "手工"],
        ["C2", None, "E1", "2024-03-01", "专员离职"],
    ]
    path = write_table(tmp_path / "历史.csv", ZH, rows, encoding=encoding)
    result = import_file(session, "assignments", path)
    session.commit()
    assert (result.kind, result.rows, result.inserted, result.updated) == ("assignments", 5, 5, 0)

    c1, c2 = customer_id(session, "C1"), customer_id(session, "C2")
    expected = {
        date(2024, 1, 9): None,  # before the file: nobody, as before
        date(2024, 1, 10): e1,
        date(2024, 5, 31): e1,
        date(2024, 6, 1): e2,
        date(2024, 9, 14): e2,
        date(2024, 9, 15): None,
        date(2025, 1, 31): None,
        date(2025, 2, 1): e3,
        date(2026, 1, 1): e3,
    }
    assert {day: specialist_on(session, c1, day) for day in expected} == expected
    assert history(session, customer_id=c1) == [
        (date(2024, 1, 10), None, e1, "auto_match", "import"),
        (date(2024, 6, 1), e1, e2, "rebalance", "import"),
        (date(2024, 9, 15), e2, None, "manual", "import"),
        (date(2025, 2, 1), None, e3, "manual", "import"),
    ]
    # C2 had E3 before the file's first row: the first event comes from them.
    assert history(session, customer_id=c2) == [
        (date(2024, 3, 1), e3, e1, "specialist_left", "import")
    ]
    assert specialist_on(session, c2, date(2024, 2, 29)) == e3
    assert specialist_on(session, c2, date(2024, 3, 1)) == e1
    # The current state agrees with the latest row.
    assert session.get(Customer, c1).specialist_id == e3
    assert session.get(Customer, c2).specialist_id == e1


def test_grid_ownership_from_a_workbook_and_a_change_still_to_come(session, people, tmp_path):
    e1, e2, e3 = people["E1"], people["E2"], people["E3"]
    later = date.today() + timedelta(days=400)
    rows = [
        [None, "G1", "E1", date(2024, 1, 1), "rebalance"],
        [None, "G1", "E2", date(2024, 7, 1), None],
        ["C1", None, "E2", date(2024, 7, 1), "manual"],
        ["C1", None, "E1", later, "manual"],  # takes effect next year
    ]
    path = write_table(tmp_path / "assignments.xlsx", EN, rows)
    import_file(session, "assignments", path)
    session.commit()
    g1 = session.scalar(select(Grid.id).where(Grid.code == "G1"))
    assert history(session, grid_id=g1) == [
        (date(2024, 1, 1), e3, e1, "rebalance", "import"),
        (date(2024, 7, 1), e1, e2, "manual", "import"),
    ]
    assert session.get(Grid, g1).owner_id == e2
    c1 = customer_id(session, "C1")
    # The change to come is on record, but E2 serves C1 until it takes effect.
    assert [h[:3] for h in history(session, customer_id=c1)] == [
        (date(2024, 7, 1), None, e2),
        (later, e2, e1),
    ]
    assert session.get(Customer, c1).specialist_id == e2
    assert specialist_on(session, c1, date.today()) == e2


def test_persistency_by_specialist_follows_the_imported_history(session, people, tmp_path):
    """Two policies due inside the history, after the customer's specialist changed twice: each
    counts for who served on its due date, not for today's specialist, without a refresh."""
    f, e1, e2, e3 = people["f"], people["E1"], people["E2"], people["E3"]
    c = f.customer(customer_no="C9")
    for issued in (date(2023, 3, 1), date(2023, 8, 1)):
        p = f.policy(customer=c, mode=PaymentMode.MONTHLY, issued=issued, premium_fen=10_000)
        f.schedule(p, years=2)
    refresh_persistency_base(session)
    session.commit()
    year = Period.parse("2024")
    as_of = date(2025, 12, 31)
    before = persistency_report(session, period=year, as_of=as_of, by="specialist")
    assert [(r.group_key, r.policies) for r in before] == [(None, 2)]

    rows = [["C9", "E1", "2023-06-01"], ["C9", "E2", "2024-05-01"], ["C9", "E3", "2025-01-01"]]
    import_file(session, "assignments", write_table(tmp_path / "h.csv", ["客户号", "工号", "生效日期"], rows))  # fmt: skip
    session.commit()
    after = persistency_report(session, period=year, as_of=as_of, by="specialist")
    # Due 2024-03-01 (E1 since 2023-06-01) and 2024-08-01 (E2 since 2024-05-01); today E3.
    assert sorted((r.group_key, r.policies) for r in after) == [(e1, 1), (e2, 1)]
    assert session.get(Customer, c.id).specialist_id == e3


def rejects(session, path, row: int | None, column: str, words: str) -> None:
    """Import ``path``, expect one problem at (row, column) saying ``words``, nothing written."""
    before = counts(session)
    specialists = dict(session.execute(select(Customer.customer_no, Customer.specialist_id)).all())  # fmt: skip
    with pytest.raises(ImportFailed) as err:
        import_file(session, "assignments", path)
    session.commit()
    assert counts(session) == before, "nothing may be written"
    assert dict(session.execute(select(Customer.customer_no, Customer.specialist_id)).all()) == specialists  # fmt: skip
    problems = err.value.problems
    assert [(p.file, p.row, p.column) for p in problems] == [(path.name, row, column)]
    assert words in str(problems[0].message), problems[0].message
    assert path.name in str(err.value)


GOOD = ["C1", None, "E1", "2024-01-10", None]


@pytest.mark.parametrize(
    ("bad", "column", "words"),
    [
        (["C1", None, "E9", "2024-02-01", None], "employee_no", "no specialist 'E9'"),
        (["C1", "G1", "E1", "2024-02-01", None], "grid_code", "either a customer or a grid"),
        ([None, None, "E1", "2024-02-01", None], "customer_no", "so is grid_code"),
        (["C1", None, "E1", "2024-02-30", None], "effective_on", "not a real date"),
        (["C1", None, "E1", "soon", None], "effective_on", "is not a date"),
        (["C1", None, "E1", None, None], "effective_on", "required"),
        (["C7", None, "E1", "2024-02-01", None], "customer_no", "no customer 'C7'"),
        ([None, "G7", "E1", "2024-02-01", None], "grid_code", "no grid 'G7'"),
        (["C1", None, "E1", "2024-02-01", "import"], "reason", "is not one of"),
        (["C1", None, "E2", "2024-01-10", None], "effective_on", "the same effective_on"),
    ],
)
def test_a_bad_row_rejects_the_file_naming_row_and_column(
    session, people, tmp_path, bad, column, words
):
    path = write_table(tmp_path / "bad.csv", ZH, [GOOD, ["C2", None, "E2", "2024-01-01", None], bad])  # fmt: skip
    rejects(session, path, 4, column, words)


def test_references_stay_in_the_import_branch(session, people, tmp_path):
    f = people["f"]
    other = f.branch(code="CQ")
    team = f.team(branch=other)
    f.specialist(team=team, employee_no="Q1")
    f.customer(customer_no="Q-C1", branch=other)
    session.commit()
    bid = f.default_branch.id
    for row, column, words in [
        (["Q-C1", None, "E1", "2024-01-10", None], "customer_no", "no customer 'Q-C1'"),
        (["C1", None, "Q1", "2024-01-10", None], "employee_no", "no specialist 'Q1'"),
    ]:
        path = write_table(tmp_path / "scoped.csv", ZH, [row])
        before = counts(session)
        with pytest.raises(ImportFailed) as err:
            import_file(session, "assignments", path, branch_id=bid)
        session.commit()
        assert counts(session) == before
        [problem] = err.value.problems
        assert (problem.row, problem.column) == (2, column)
        assert words in str(problem.message)


def test_a_file_without_customer_or_grid_column_is_refused(session, people, tmp_path):
    path = write_table(tmp_path / "nohead.csv", ["工号", "生效日期"], [["E1", "2024-01-10"]])
    rejects(
        session, path, 1, "customer_no", "write customer_no or 客户号, or grid_code or 网格代码"
    )


def test_a_reimport_writes_no_duplicates_and_an_earlier_row_joins_the_timeline(
    session, people, tmp_path
):
    e1, e2 = people["E1"], people["E2"]
    rows = [["C1", None, "E1", "2024-03-01", None], [None, "G1", "E2", "2024-03-01", None],
            ["C1", None, "E2", "2024-08-01", None]]  # fmt: skip
    path = write_table(tmp_path / "h.csv", ZH, rows)
    import_file(session, "assignments", path)
    session.commit()
    events = count(session, AssignmentEvent)
    assert events == 3

    result = import_file(session, "assignments", path)
    session.commit()
    assert (result.inserted, result.updated) == (0, 3)
    assert count(session, AssignmentEvent) == events

    # The branch found an older row: it joins the timeline before the rows already loaded,
    # and the rows on record are never rewritten (their "from" stays as recorded).
    path = write_table(tmp_path / "h2.csv", ZH, [["C1", None, "E2", "2023-11-01", None], *rows])
    result = import_file(session, "assignments", path)
    session.commit()
    assert (result.inserted, result.updated) == (1, 3)
    c1 = customer_id(session, "C1")
    assert [h[:3] for h in history(session, customer_id=c1)] == [
        (date(2023, 11, 1), None, e2),
        (date(2024, 3, 1), None, e1),
        (date(2024, 8, 1), e1, e2),
    ]
    assert specialist_on(session, c1, date(2024, 1, 1)) == e2
    assert specialist_on(session, c1, date(2023, 10, 31)) is None
    assert session.get(Customer, c1).specialist_id == e2


def test_an_imported_history_is_listed_and_undone_from_the_history(session, people, tmp_path):
    from app.services.rebalance.apply import undo_batch
    from app.services.rebalance.batches import list_batches

    c1 = customer_id(session, "C1")
    rows = [["C1", None, "E1", "2024-03-01", None], [None, "G1", "E2", "2024-03-01", None]]
    path = write_table(tmp_path / "h.csv", ZH, rows)
    import_file(session, "assignments", path)
    session.commit()
    branch_id = people["f"].default_branch.id
    (row,) = list_batches(session, branch_id=branch_id)
    assert (row.kind, row.events, row.undoable) == ("import", 2, True)
    assert specialist_on(session, c1, date(2024, 6, 1)) == people["E1"]
    undone = undo_batch(session, actor="senior", team_scope=None, batch_id=row.id)
    session.commit()
    assert (undone.customers_restored, undone.grids_restored) == (1, 1)
    # As if never imported: C1 had nobody, G1 is E3's again; the rows stay on record.
    assert specialist_on(session, c1, date(2024, 6, 1)) is None
    assert session.get(Customer, c1).specialist_id is None
    assert (
        session.get(Grid, session.scalar(select(Grid.id).where(Grid.code == "G1"))).owner_id
        == (people["E3"])
    )
    assert count(session, AssignmentEvent) == 2
    assert not list_batches(session, branch_id=branch_id)[0].undoable
    # Imported again, it counts again.
    import_file(session, "assignments", path)
    session.commit()
    assert specialist_on(session, c1, date(2024, 6, 1)) == people["E1"]


def test_undoing_an_import_gives_nobody_work_back_who_has_left(session, people, tmp_path):
    from app.models.enums import SpecialistStatus
    from app.services.errors import StaleData
    from app.services.rebalance.apply import undo_batch
    from app.services.rebalance.batches import list_batches

    path = write_table(tmp_path / "h.csv", ZH, [["C2", None, "E1", "2024-03-01", None]])
    import_file(session, "assignments", path)
    session.commit()
    (row,) = list_batches(session, branch_id=people["f"].default_branch.id)
    session.get(Specialist, people["E3"]).status = SpecialistStatus.LEFT  # C2's before
    session.commit()
    with pytest.raises(StaleData, match="no longer active"):
        undo_batch(session, actor="senior", team_scope=None, batch_id=row.id)


def test_the_history_names_who_imported_it(session, people, tmp_path):
    from app.models import ChangeBatch

    path = write_table(tmp_path / "a.csv", EN, [["C1", None, "E1", "2024-01-10", "manual"]])
    import_file(session, "assignments", path, actor="wangfang")
    session.commit()
    assert [a for *_, a in history(session, customer_id=customer_id(session, "C1"))] == ["wangfang"]
    assert session.scalars(select(ChangeBatch.actor)).all() == ["wangfang"]
