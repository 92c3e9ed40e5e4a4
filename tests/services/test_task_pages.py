"""The task queue read a page at a time from a key (keyset paging): every sort gives exactly
the rows of the whole ordered query, ties and NULLs included, and each page is read through an
index in the sort's order rather than by sorting the whole queue."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import case, func, select

from app.models import Branch, Customer, Specialist, Task, Team
from app.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from app.services.tasks.pages import _segments, page_key_query, task_page
from app.services.tasks.queue import SORT_COLUMNS, TaskFilter, _base

AS_OF = date(2026, 11, 20)


def _reference(session, f: TaskFilter, sort: str, descending: bool) -> list[int]:
    """The whole queue in one ordered query: NULLs first ascending (last descending), then the
    sort's value, then the customer's or specialist's id for a sort by name, then the task id."""
    keys = {
        "customer": [Customer.name, Customer.id],
        "specialist": [Specialist.name, Specialist.id],
    }.get(sort, [SORT_COLUMNS[sort]])
    null_last = case((keys[0].is_(None), 0), else_=1)
    cols = [null_last, *keys, Task.id]
    order = [c.desc() if descending else c.asc() for c in cols]
    return list(session.scalars(_base([Task.id], f).order_by(*order)))


def _paged(session, f: TaskFilter, sort: str, descending: bool, limit: int) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = task_page(session, f, sort, descending=descending, after=after, limit=limit)
        ids.extend(r.id for r in page.rows)
        assert len(page.rows) <= limit
        if page.after is None:
            return ids
        after = page.after


@pytest.fixture
def ties(session):
    """Tasks with equal due dates, no due date, no holder and no completion among them."""
    b = Branch(code="b", name="测试机构", city="成都")
    session.add(b)
    session.flush()
    team = Team(branch_id=b.id, code="T1", name="一队")
    session.add(team)
    session.flush()
    sps = [
        Specialist(branch_id=b.id, employee_no=f"E{i}", name=n, team_id=team.id)
        for i, n in enumerate(["王芳", "李强", "王芳"])  # two specialists of one name
    ]
    custs = [
        Customer(branch_id=b.id, customer_no=f"C{i}", name=n, address="x")
        for i, n in enumerate(["张三", "李四", "张三"])  # two customers of one name
    ]
    session.add_all(sps + custs)
    session.flush()
    statuses = list(TaskStatus)
    kinds = list(TaskKind)
    for i in range(40):
        done = statuses[i % len(statuses)]
        session.add(
            Task(
                task_no=f"T-{(i * 7) % 40:03d}",
                kind=kinds[i % len(kinds)],
                customer_id=custs[i % 3].id,
                specialist_id=None if i % 4 == 0 else sps[i % 3].id,
                created_at=datetime(2026, 11, 1 + i % 5, tzinfo=timezone.utc),
                due_date=None if i % 6 == 0 else date(2026, 11, 15 + i % 3),
                status=done,
                completed_at=(
                    datetime(2026, 11, 10 + i % 2, tzinfo=timezone.utc)
                    if not done.is_open
                    else None
                ),
            )
        )
    session.commit()
    return b


@pytest.mark.parametrize("sort", list(SORT_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_paging_by_every_sort_gives_the_whole_ordered_queue_with_ties_and_nulls(
    session, ties, sort, descending
):
    holders = frozenset(session.scalars(select(Specialist.id).where(Specialist.name == "王芳")))
    for f in (
        TaskFilter(as_of=AS_OF),
        TaskFilter(as_of=AS_OF, statuses=frozenset(OPEN_TASK_STATUSES)),
        TaskFilter(as_of=AS_OF, overdue_only=True),
        # Queues of named holders are read holder by holder; of nobody, by their own indexes
        # (by customer, holder by holder too).
        TaskFilter(as_of=AS_OF, specialist_ids=holders),
        TaskFilter(as_of=AS_OF, unassigned_only=True),
    ):
        want = _reference(session, f, sort, descending)
        assert want  # the filter selects something
        for limit in (1, 3, 7):
            got = _paged(session, f, sort, descending, limit)
            assert got == want, (f, limit)


@pytest.mark.parametrize("sort", list(SORT_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("way", ["walked", "sorted"])
def test_both_ways_to_a_page_give_the_same_queue(session, ties, monkeypatch, sort, descending, way):
    """A queue the filter selects many of is found by walking the sort's order, a few read and
    sorted (walked_statuses decides per status): forced either way, every filter that has both
    ways gives the whole ordered queue, page after page."""
    from app.services.tasks import pages as tasks

    if way == "walked":  # every status counts as many, and any sample as dense
        monkeypatch.setattr(tasks, "SORT_AT_MOST", 0)
        monkeypatch.setattr(tasks, "SORT_AT_MOST_WALKING_TASKS", 0)
        monkeypatch.setattr(tasks, "SAMPLE_OVERDUE_AT_LEAST", 0)
    else:
        monkeypatch.setattr(tasks, "SORT_AT_MOST", 10**9)
        monkeypatch.setattr(tasks, "SORT_AT_MOST_WALKING_TASKS", 10**9)
    team = frozenset(session.scalars(select(Team.id)))
    kind = frozenset({TaskKind(session.scalar(select(Task.kind).order_by(Task.id)))})
    for f in (
        TaskFilter(as_of=AS_OF, overdue_only=True),
        TaskFilter(as_of=AS_OF, unassigned_only=True),
        TaskFilter(as_of=AS_OF, team_ids=team),
        TaskFilter(as_of=AS_OF, team_ids=team, statuses=frozenset(OPEN_TASK_STATUSES)),
        TaskFilter(as_of=AS_OF, kinds=kind),
    ):
        want = _reference(session, f, sort, descending)
        assert want
        for limit in (1, 3, 7):
            assert _paged(session, f, sort, descending, limit) == want, (f, limit)


@pytest.fixture(scope="module")
def demo(module_demo):
    with module_demo(seed=3, as_of=AS_OF, migrated=True) as Session:  # noqa: N806
        yield Session


@pytest.mark.parametrize("sort", list(SORT_COLUMNS))
def test_paging_through_a_demo_team_matches_the_full_query(demo, sort):
    with demo() as s:
        team_id = s.scalar(select(Team.id).order_by(Team.id))
        f = TaskFilter(as_of=AS_OF, team_ids=frozenset({team_id}))
        for descending in (False, True):
            want = _reference(s, f, sort, descending)
            got = _paged(s, f, sort, descending, 997)
            assert len(want) > 997  # more than one page
            assert len(set(got)) == len(got)
            assert got == want


def test_the_first_page_of_open_tasks_reads_no_more_than_it_shows(demo):
    with demo() as s:
        f = TaskFilter(as_of=AS_OF, statuses=frozenset(OPEN_TASK_STATUSES))
        page = task_page(s, f, "due_date", limit=50)
        assert len(page.rows) == 50 and page.after is not None
        assert all(r.status.is_open for r in page.rows)
        nxt = task_page(s, f, "due_date", after=page.after, limit=50)
        assert not {r.id for r in page.rows} & {r.id for r in nxt.rows}


@pytest.mark.parametrize("sort", list(SORT_COLUMNS))
@pytest.mark.parametrize("descending", [False, True])
def test_a_page_is_an_index_range_scan_not_a_sort_of_the_queue(demo, backend, sort, descending):
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    _assert_range_scans(
        demo,
        TaskFilter(as_of=AS_OF, statuses=frozenset({TaskStatus.OPEN})),
        sort,
        descending,
        ("USING COVERING INDEX ix_task_page_",),
    )


@pytest.mark.parametrize("sort", [s for s in SORT_COLUMNS if s not in ("customer", "specialist")])
@pytest.mark.parametrize("descending", [False, True])
def test_a_page_of_the_tasks_nobody_holds_is_a_range_scan_too(demo, backend, sort, descending):
    """Their own partial indexes: a page of them no longer sorts every task nobody holds (up
    to a quarter of a second a page on a big branch)."""
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    f = TaskFilter(as_of=AS_OF, unassigned_only=True, statuses=frozenset({TaskStatus.OPEN}))
    # By due date, the holder's (specialist_id, status, due_date) index is that range already;
    # by status, (status, specialist_id, id); every other sort reads its own partial index.
    used = {
        "due_date": "USING COVERING INDEX ix_task_specialist_status",
        "status": "USING COVERING INDEX ix_task_page_specialist",
    }.get(sort, f"USING INDEX ix_task_unheld_{sort} ")
    _assert_range_scans(demo, f, sort, descending, (used,))


def _assert_range_scans(
    demo, f: TaskFilter, sort: str, descending: bool, indexes: tuple[str, ...]
) -> None:
    with demo() as s:
        conn = s.connection()
        first = task_page(s, f, sort, descending=descending, limit=5)
        assert first.after is not None
        # Every segment from its start (a sort on a column that may be NULL has two), and the
        # second page from the key the first ended at.
        starts = [(seg, None) for seg in range(len(_segments(sort, descending)))]
        for seg, after in [*starts, (first.after[0], first.after[1:])]:
            stmt = page_key_query(f, sort, descending=descending, segment=seg, after=after)
            sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            on_task = [p for p in plan if " task " in f"{p} "]
            assert on_task, plan
            assert all(any(i in p for i in indexes) for p in on_task), plan
            assert not any("TEMP B-TREE" in p for p in plan), plan


def _plan(s, f: TaskFilter, sort: str, *, descending=False, segment=0, after=None) -> list[str]:
    """The plan of one segment's page as task_page reads it (its walked statuses included)."""
    from app.services.tasks.pages import walked_statuses

    conn = s.connection()
    walk = walked_statuses(s, f, sort, descending=descending, segment=segment, after=after)
    stmt = page_key_query(f, sort, descending=descending, segment=segment, after=after, walk=walk)
    sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_the_next_page_of_one_kind_sorted_by_kind_is_a_range_scan(demo, backend):
    """One kind, sorted by kind: every task has the same kind, so the next page starts at the
    last task's id. Before, SQLite ranged over kinds from there on and sorted by id (63 ms a
    page on a big city)."""
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    f = TaskFilter(
        as_of=AS_OF,
        kinds=frozenset({TaskKind.RENEWAL_COLLECTION}),
        statuses=frozenset({TaskStatus.OPEN}),
    )
    with demo() as s:
        first = task_page(s, f, "kind", limit=5)
        plan = _plan(s, f, "kind", segment=first.after[0], after=first.after[1:])
        assert any("ix_task_page_kind (status=? AND kind=? AND id>?)" in p for p in plan), plan
        assert not any("TEMP B-TREE" in p for p in plan), plan


def test_a_teams_few_tasks_sorted_by_customer_are_read_by_holder(demo, backend):
    """A team's open tasks sorted by customer name: read holder by holder and sorted, not by
    walking every customer of the branch by name (most hold other teams' tasks; 118 ms a
    page on a big city)."""
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with demo() as s:
        team = s.scalar(select(Team.id).order_by(Team.id))
        f = TaskFilter(
            as_of=AS_OF, team_ids=frozenset({team}), statuses=frozenset({TaskStatus.OPEN})
        )
        plan = _plan(s, f, "customer")
        assert any(p.startswith("SEARCH task") and "specialist_id=?" in p for p in plan), plan
        assert not any("ix_customer_name_id" in p for p in plan), plan


def test_many_tasks_nobody_holds_sorted_by_customer_walk_the_customers(demo, backend, monkeypatch):
    """Many tasks nobody holds (88,000 done on a big city), sorted by customer name: the
    customers are walked by name and each one's tasks looked up, rather than all of them read
    and sorted (220 ms a page); a few are still read and sorted."""
    from app.services.tasks import pages as tasks

    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    f = TaskFilter(as_of=AS_OF, unassigned_only=True, statuses=frozenset({TaskStatus.DONE}))
    with demo() as s:
        many = s.scalar(
            select(func.count()).where(Task.status == TaskStatus.DONE, Task.specialist_id.is_(None))
        )
        assert many > 10
        monkeypatch.setattr(tasks, "SORT_AT_MOST", many - 1)
        walked = _plan(s, f, "customer")
        assert any("SCAN customer USING COVERING INDEX ix_customer_name_id" in p for p in walked)
        assert not any("TEMP B-TREE" in p for p in walked), walked
        monkeypatch.setattr(tasks, "SORT_AT_MOST", many)
        assert any("TEMP B-TREE" in p for p in _plan(s, f, "customer"))


def test_many_overdue_tasks_walk_the_sorts_index_unless_few_are_ahead(demo, backend, monkeypatch):
    """Overdue tasks sorted by task number: with many overdue ahead in that order, the page
    walks the task-number index and skips the rest (before: every overdue task was read by due
    date and sorted, 45-80 ms a page on a big city); when few of the next tasks are overdue
    (the newest are seldom overdue yet) they are read and sorted after all."""
    from app.services.tasks import pages as tasks

    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    f = TaskFilter(as_of=AS_OF, overdue_only=True, statuses=frozenset({TaskStatus.OPEN}))
    with demo() as s:
        overdue = s.scalar(
            select(func.count()).where(Task.status == TaskStatus.OPEN, Task.due_date < AS_OF)
        )
        assert overdue > 10
        monkeypatch.setattr(tasks, "SORT_AT_MOST_WALKING_TASKS", overdue - 1)
        monkeypatch.setattr(tasks, "SAMPLE_OVERDUE_AT_LEAST", 1)
        walked = _plan(s, f, "task_no")
        assert any("ix_task_page_task_no" in p for p in walked), walked
        assert not any("TEMP B-TREE" in p for p in walked), walked
        monkeypatch.setattr(tasks, "SAMPLE_OVERDUE_AT_LEAST", tasks.SAMPLE + 1)
        assert any("TEMP B-TREE" in p for p in _plan(s, f, "task_no"))


def test_the_count_reads_the_customers_and_holders_only_when_the_filter_does(demo, backend):
    """The count the page shows after the rows: the same number as the whole query, and for a
    filter on the tasks alone it reads no customer (counting through that join looked every
    task's customer up: 4 s on a big city instead of 0.1 s)."""
    from app.services.tasks.queue import count_tasks

    with demo() as s:
        team = s.scalar(select(Team.id).order_by(Team.id))
        grid = s.scalar(select(Customer.grid_id).where(Customer.grid_id.is_not(None)))
        name = s.scalar(select(Customer.name).order_by(Customer.id))
        for f in (
            TaskFilter(as_of=AS_OF),
            TaskFilter(as_of=AS_OF, statuses=frozenset(OPEN_TASK_STATUSES)),
            TaskFilter(as_of=AS_OF, overdue_only=True),
            TaskFilter(as_of=AS_OF, unassigned_only=True),
            TaskFilter(as_of=AS_OF, team_ids=frozenset({team})),
            TaskFilter(as_of=AS_OF, grid_ids=frozenset({grid})),
            TaskFilter(as_of=AS_OF, search=name[:1]),
        ):
            assert count_tasks(s, f) == len(_reference(s, f, "due_date", False)) > 0, f
        from app.services.tasks.queue import count_query

        conn = s.connection()
        f = TaskFilter(as_of=AS_OF, statuses=frozenset(OPEN_TASK_STATUSES))
        sql = count_query(f).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        if backend == "sqlite":
            plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            assert not any(p.startswith(("SEARCH customer", "SCAN customer")) for p in plan), plan
        else:
            plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}")]
            assert not any(" on customer" in p for p in plan), plan
