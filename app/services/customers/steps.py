"""Derives each customer's 4-sell step and step dates from their done tasks (DOMAIN.md).

Evidence: a done task of kind ``pre_sell`` is evidence of step 1, ``renewal_collection`` or
``servicing`` of step 2, ``cross_sell`` of step 3, ``up_sell`` of step 4 (callbacks of none),
dated by the branch-local calendar day of ``completed_at``. Reaching a step implies the
earlier ones on that date when they have no earlier evidence, so a step's date is the earliest
evidence of that step OR of any higher one; the customer's step is the highest one reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import cast

from sqlalchemy import ColumnElement, CursorResult, Result, Table, case, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import Customer, Task
from app.models.enums import STEP_OF_TASK_KIND, TaskKind, TaskStatus
from app.services.database.sqlfuncs import branch_offsets, local_day, offset_for

CHUNK = 5_000
STEP_COLUMNS = ("pre_sell_on", "soft_sell_on", "cross_sell_on", "up_sell_on")


def kinds_at_or_above(level: int) -> list[TaskKind]:
    """Return the task kinds whose done tasks are evidence of reaching step ``level``."""
    return [k for k, step in STEP_OF_TASK_KIND.items() if step.level >= level]


def step_dates(evidence: dict[int, date]) -> list[date | None]:
    """Return the date each step 1-4 was reached, given the earliest evidence per step level."""
    dates: list[date | None] = [None] * 4
    running: date | None = None
    for level in (4, 3, 2, 1):
        seen = evidence.get(level)
        if seen is not None and (running is None or seen < running):
            running = seen
        dates[level - 1] = running
    return dates


def recompute_steps(session: Session, *, customer_ids: Iterable[int] | None = None) -> int:
    """Return how many customers' step or step dates changed after deriving them again for the
    given customers (all when None) from their done tasks."""
    offsets = branch_offsets(session)
    if customer_ids is None:
        return _recompute(session, None, offsets)
    ids = sorted(set(customer_ids))
    return sum(_recompute(session, ids[i : i + CHUNK], offsets) for i in range(0, len(ids), CHUNK))


def _recompute(session: Session, chunk: Sequence[int] | None, offsets: dict[int, int]) -> int:
    c = Customer.__table__.c
    day = local_day(Task.completed_at, offset_for(Customer.branch_id, offsets))
    evidence = (
        select(
            Task.customer_id.label("cid"),
            *(
                func.min(case((Task.kind.in_(kinds_at_or_above(level)), day))).label(f"d{level}")
                for level in (1, 2, 3, 4)
            ),
        )
        .join(Customer, Customer.id == Task.customer_id)
        .where(Task.status == TaskStatus.DONE, Task.completed_at.is_not(None))
        .group_by(Task.customer_id)
    )
    if chunk is not None:
        evidence = evidence.where(Task.customer_id.in_(chunk))
    ev = evidence.subquery()
    dates = [ev.c.d1, ev.c.d2, ev.c.d3, ev.c.d4]
    step = case(
        *((d.is_not(None), level) for level, d in reversed(list(enumerate(dates, 1)))), else_=0
    )
    changed = _differs(c, step, dates)
    t = cast(Table, Customer.__table__)
    written = _rowcount(
        session.execute(
            update(t)
            .where(t.c.id == ev.c.cid, changed)
            .values(step=step, **{col: d for col, d in zip(STEP_COLUMNS, dates, strict=True)})
        )
    )
    return written + _rowcount(session.execute(cleared_statement(chunk)))


def cleared_statement(chunk: Sequence[int] | None):
    """Return the statement that clears the steps of customers left without any evidence
    (their done tasks were cancelled or re-imported); of the ``chunk`` of customers, or all.

    NOT EXISTS, an anti-join on the task's customer index: PostgreSQL runs "NOT IN (a
    subquery)" row by row once the tasks outgrow work_mem (23 s for 500 customers on the large
    demo; benchmarks/bench_steps.py)."""
    t = cast(Table, Customer.__table__)
    has_evidence = (
        select(Task.id)
        .where(Task.customer_id == t.c.id)
        .where(Task.status == TaskStatus.DONE, Task.completed_at.is_not(None))
        .where(Task.kind.in_(kinds_at_or_above(1)))
    )
    cleared = (
        update(t)
        .where(~has_evidence.exists(), _differs(t.c, 0, [None] * 4))
        .values(step=0, **dict.fromkeys(STEP_COLUMNS))
    )
    if chunk is not None:
        cleared = cleared.where(t.c.id.in_(chunk))
    return cleared


def _rowcount(result: Result) -> int:
    return max(cast(CursorResult, result).rowcount or 0, 0)


def _differs(c, step, dates: list) -> ColumnElement[bool]:
    """True where the stored step or any step date is not the derived one."""
    stored = [getattr(c, col) for col in STEP_COLUMNS]
    return or_(
        c.step.is_distinct_from(step),
        *(
            s.is_not(None) if d is None else s.is_distinct_from(d)
            for s, d in zip(stored, dates, strict=True)
        ),
    )
