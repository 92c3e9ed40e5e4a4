"""Task queues a page at a time (keyset paging): each page read from the key the last one
ended at, through an index in the sort's order, so the first page and the thousandth cost the
same. The filter, the rows and the count are in ``app.services.tasks.queue``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, tuple_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Join

from app.models import Customer, Specialist, Task
from app.models.enums import OPEN_TASK_STATUSES, TaskStatus
from app.services.tasks.queue import SORT_COLUMNS, TaskFilter, TaskRow, filter_conditions, task_rows

# A page is read by walking an index in the sort's order from the key after which it starts,
# so the first page and the thousandth cost the same: no id list, no OFFSET, no count first.
# Each sort's key ends in task.id, so ties (two tasks due the same day) have one order. A
# queue is read one status at a time, each an index range scan on (status, sort key, id) (the
# indexes of migration 0009), and the few rows of each are merged in the database. A column
# that may be NULL is read as two segments (the NULLs by id, then the values; backwards when
# descending), which is SQLite's order for NULLs and gives both databases one order.

PAGE_SIZE = 200


class _CrossJoin(Join):
    """An inner join whose left side SQLite must read first (its CROSS JOIN); a plain join
    elsewhere."""

    inherit_cache = True


class _Unindexed(ColumnElement[Any]):
    """A column SQLite must not read an index for (written ``+column``); the column itself
    elsewhere."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _sqlite_unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


@compiles(_CrossJoin, "sqlite")
def _sqlite_cross_join(element: _CrossJoin, compiler: Any, **kw: Any) -> str:
    return compiler.visit_join(element, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


@dataclass(frozen=True)
class TaskPage:
    """One page of a queue: its rows, and the key to read the next page from (None at the end)."""

    rows: list[TaskRow]
    after: tuple | None


@dataclass(frozen=True)
class _Segment:
    cond: ColumnElement[bool] | None  # which tasks the segment holds
    keys: tuple[Any, ...]  # the columns it is ordered by, the last always Task.id
    join_customer: bool = False
    join_specialist: bool = False


def _segments(sort: str, descending: bool) -> list[_Segment]:
    if sort not in SORT_COLUMNS:
        raise ValueError(f"unknown sort {sort!r}")
    if sort == "customer":
        segs = [_Segment(None, (Customer.name, Customer.id, Task.id), join_customer=True)]
    elif sort == "specialist":
        segs = [
            _Segment(Task.specialist_id.is_(None), (Task.id,)),
            _Segment(
                Task.specialist_id.is_not(None),
                (Specialist.name, Specialist.id, Task.id),
                join_specialist=True,
            ),
        ]
    elif sort in ("due_date", "completed_at"):
        col = SORT_COLUMNS[sort]
        segs = [_Segment(col.is_(None), (Task.id,)), _Segment(col.is_not(None), (col, Task.id))]
    else:
        segs = [_Segment(None, (SORT_COLUMNS[sort], Task.id))]
    return segs[::-1] if descending else segs


def _page_statuses(f: TaskFilter) -> list[TaskStatus]:
    statuses = set(f.statuses) if f.statuses else set(TaskStatus)
    if f.overdue_only:
        statuses &= set(OPEN_TASK_STATUSES)
    return sorted(statuses)


def _key_query(
    f: TaskFilter,
    seg: _Segment,
    status: TaskStatus,
    descending: bool,
    after,
    limit: int,
    walk: bool = False,
):
    """The keys of one status's tasks in one segment, from ``after`` on, in the sort's order.

    ``walk`` (see walked_statuses): the filter selects many of this status's tasks, so they
    are found by walking the sort's order rather than read through the filter and sorted."""
    team_by_holder = (
        f.team_ids is not None and seg.join_customer and not walk and f.specialist_ids is None
    )
    walk_overdue = f.overdue_only and walk
    plain = replace(
        f,
        statuses=frozenset(),
        team_ids=None if team_by_holder else f.team_ids,
        overdue_only=f.overdue_only and not walk_overdue,
    )
    conds = [Task.status == status, *filter_conditions(plain)]
    if team_by_holder:
        # A team's few tasks of this status, read by holder: walking every customer by name
        # would pass over the other teams' tasks.
        conds.append(Task.specialist_id.in_(_team_members(f.team_ids or frozenset())))
    if walk_overdue:
        # Many overdue: walk the sort's index and skip the rest (not the due-date index,
        # which would read every overdue task and sort them). The page's statuses are open.
        conds.append(_Unindexed(Task.due_date) < f.as_of)
    if seg.cond is not None:
        conds.append(seg.cond)
    need_customer = seg.join_customer or bool(f.search.strip()) or f.grid_ids is not None
    need_specialist = seg.join_specialist or (f.team_ids is not None and not team_by_holder)
    # Sorted by name, the customers (or specialists) are walked in (name, id) order and their
    # tasks read from the index: SQLite is told that order with CROSS JOIN.
    # The tasks nobody holds have partial indexes of their own (ix_task_unheld_*) for every
    # sort but the customer's, where they are read by holder as named holders' are, unless
    # there are many of them (walk).
    pinned = (
        f.specialist_ids is not None
        or (f.unassigned_only and seg.join_customer and not walk)
        or team_by_holder
    ) and not seg.join_specialist
    source: Any = Task.__table__
    if seg.join_customer and not pinned:
        source = _CrossJoin(Customer.__table__, source, Customer.id == Task.customer_id)
    elif need_customer:
        source = source.join(Customer.__table__, Customer.id == Task.customer_id)
    if seg.join_specialist:
        source = _CrossJoin(Specialist.__table__, source, Specialist.id == Task.specialist_id)
    elif need_specialist:
        source = source.join(Specialist.__table__, Specialist.id == Task.specialist_id)
    stmt = select(*seg.keys).select_from(source)
    keys: list[Any] = list(seg.keys)
    if pinned:
        # A queue of named holders (or of nobody, by customer) is read by holder, and only
        # its own tasks sorted: walking the branch's whole sort order would pass over every
        # other holder's.
        keys = [_Unindexed(k) for k in keys]
    if after is not None:
        cols, values = list(keys), list(after)
        # A leading key the filter holds at one value, which the key starts at too (one kind
        # sorted by kind, or this subquery's status sorted by status), decides nothing: left in,
        # SQLite would range over that column alone and sort the rest.
        while len(cols) > 1 and _held_at(f, status, seg.keys[len(keys) - len(cols)], values[0]):
            cols, values = cols[1:], values[1:]
        # Bound with the columns' types, so that times and enums are stored forms.
        types = [k.type for k in seg.keys[len(keys) - len(cols) :]]
        start = tuple_(*(literal(v, type_=t) for t, v in zip(types, values, strict=True)))
        conds.append(tuple_(*cols) < start if descending else tuple_(*cols) > start)
    order = [k.desc() if descending else k.asc() for k in keys]
    return stmt.where(*conds).order_by(*order).limit(limit)


def _held_at(f: TaskFilter, status: TaskStatus, column: Any, value: Any) -> bool:
    """Whether the filter holds ``column`` at ``value`` in the subquery of ``status``."""
    if column is Task.status:
        return value == status
    if column is Task.kind:
        return len(f.kinds) == 1 and value in f.kinds
    return False


def _team_members(team_ids: Collection[int]) -> Any:
    return select(Specialist.id).where(Specialist.team_id.in_(list(team_ids)))


# A filter that selects more than this many tasks of one status is read by walking the sort's
# order and skipping what it leaves out; up to this many are read through the filter and
# sorted. Counted only as far as this, from an index alone. Walking customers by name probes
# each one's tasks (8,000 rows sort in ~20 ms, about what the walk costs then); walking a task
# index skips a row for a lookup, so it pays sooner (7,300 overdue of 80,000 open tasks:
# 17 ms sorted, 2 ms walked).
SORT_AT_MOST = 8_000
SORT_AT_MOST_WALKING_TASKS = 2_000


def walked_statuses(
    session: Session,
    f: TaskFilter,
    sort: str,
    *,
    descending: bool = False,
    segment: int = 0,
    after=None,
) -> frozenset[TaskStatus]:
    """Return the statuses whose tasks in this segment the filter selects so many of that
    walking the sort's order (from ``after``) is the cheaper way to a page (see SORT_AT_MOST).

    Three queues have both ways: the tasks nobody holds sorted by customer, a team's tasks
    sorted by customer, and the overdue tasks sorted by anything but the due date. Overdue
    tasks also cluster in the sort's order (the newest are rarely overdue yet), so for them
    the walk's next SAMPLE tasks are looked at too: it is taken only if enough are overdue."""
    seg = _segments(sort, descending)[segment]
    if seg.join_specialist or f.specialist_ids is not None or f.search.strip():
        return frozenset()
    at_most = SORT_AT_MOST
    if f.unassigned_only and seg.join_customer:
        which: ColumnElement[bool] = Task.specialist_id.is_(None)
    elif f.team_ids is not None and seg.join_customer:
        which = Task.specialist_id.in_(_team_members(f.team_ids))
    elif f.overdue_only and sort != "due_date":
        which = Task.due_date < f.as_of
        if not seg.join_customer:
            at_most = SORT_AT_MOST_WALKING_TASKS
    else:
        return frozenset()
    walked = set()
    for status in _page_statuses(f):
        some = select(Task.id).where(Task.status == status, which).limit(at_most + 1)
        if (session.scalar(select(func.count()).select_from(some.subquery())) or 0) <= at_most:
            continue
        if f.overdue_only and not _overdue_ahead(session, f, seg, status, descending, after):
            continue
        walked.add(status)
    return frozenset(walked)


# How far ahead a walk through overdue tasks looks, and how many of those must be overdue for
# the walk to find a page soon (2 %: a page of 200 within some 10,000 tasks).
SAMPLE = 1_000
SAMPLE_OVERDUE_AT_LEAST = 20


def _overdue_ahead(
    session: Session, f: TaskFilter, seg: _Segment, status: TaskStatus, descending: bool, after
) -> bool:
    """Whether enough of the next SAMPLE tasks in the walk's order are overdue."""
    ahead = _key_query(
        replace(f, overdue_only=False), seg, status, descending, after, SAMPLE
    ).add_columns(Task.due_date)
    sub = ahead.subquery()
    overdue = select(func.count()).select_from(sub).where(sub.c.due_date < f.as_of)
    return (session.scalar(overdue) or 0) >= SAMPLE_OVERDUE_AT_LEAST


def page_key_query(
    f: TaskFilter,
    sort: str,
    *,
    descending: bool = False,
    segment: int = 0,
    after=None,
    limit: int = PAGE_SIZE,
    walk: Collection[TaskStatus] = frozenset(),
):
    """The statement reading one segment's keys (for EXPLAIN in tests and benchmarks);
    ``walk`` as walked_statuses returns."""
    seg = _segments(sort, descending)[segment]
    parts = [
        _key_query(f, seg, st, descending, after, limit, st in walk).subquery().select()
        for st in _page_statuses(f)
    ]
    if len(parts) == 1:
        st = _page_statuses(f)[0]
        return _key_query(f, seg, st, descending, after, limit, st in walk)
    merged = union_all(*parts).subquery()
    cols = list(merged.c)
    order = [c.desc() if descending else c.asc() for c in cols]
    return select(*cols).order_by(*order).limit(limit)


def task_page(
    session: Session,
    f: TaskFilter,
    sort: str = "due_date",
    *,
    descending: bool = False,
    after: tuple | None = None,
    limit: int = PAGE_SIZE,
) -> TaskPage:
    """Return up to ``limit`` tasks the filter selects, in the sort's order, after the key
    ``after`` (None: from the start), and the key to continue from."""
    segs = _segments(sort, descending)
    start, key = (0, None) if after is None else (after[0], tuple(after[1:]))
    if not _page_statuses(f):
        return TaskPage([], None)
    found: list[tuple] = []  # (segment, *key)
    for i in range(start, len(segs)):
        if f.unassigned_only and segs[i].join_specialist:
            continue  # tasks nobody holds have no holder's name
        want = limit - len(found)
        stmt = page_key_query(
            f,
            sort,
            descending=descending,
            segment=i,
            after=key if i == start else None,
            limit=want,
            walk=walked_statuses(
                session,
                f,
                sort,
                descending=descending,
                segment=i,
                after=key if i == start else None,
            ),
        )
        found.extend((i, *r) for r in session.execute(stmt))
        if len(found) >= limit:
            break
    rows = task_rows(session, [k[-1] for k in found], as_of=f.as_of)
    more = len(found) >= limit
    return TaskPage(rows, found[-1] if more and found else None)
