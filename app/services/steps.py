"""Derives each customer's 4-sell step and step dates from their done tasks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from app.models import Customer, Task
from app.models.enums import STEP_OF_TASK_KIND, TaskKind, TaskStatus
from app.services.clock import local_date

CHUNK = 5_000
STEP_COLUMNS = ("pre_sell_on", "soft_sell_on", "cross_sell_on", "up_sell_on")


def step_dates(evidence: dict[int, date]) -> list[date | None]:
    """Return the date each step 1-4 was reached, given the earliest evidence per step.

    Reaching a step implies the earlier ones on that date when they have no earlier evidence.
    """
    dates: list[date | None] = [None] * 4
    running: date | None = None
    for level in (4, 3, 2, 1):
        seen = evidence.get(level)
        if seen is not None and (running is None or seen < running):
            running = seen
        dates[level - 1] = running
    return dates


def recompute_steps(session: Session, *, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute step and step dates of the given customers (all when None); return how many."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    stmt = (
        select(Task.customer_id, Task.kind, func.min(Task.completed_at))
        .where(Task.status == TaskStatus.DONE, Task.completed_at.is_not(None))
        .group_by(Task.customer_id, Task.kind)
    )
    chunks = [None] if ids is None else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    changed = 0
    for chunk in chunks:
        evidence: dict[int, dict[int, date]] = defaultdict(dict)
        s = stmt if chunk is None else stmt.where(Task.customer_id.in_(chunk))
        for cid, kind, first in session.execute(s):
            step = STEP_OF_TASK_KIND.get(TaskKind(kind))
            if step is None:
                continue
            day = local_date(first)
            known = evidence[cid].get(step.level)
            if known is None or day < known:
                evidence[cid][step.level] = day
        targets = chunk if chunk is not None else session.scalars(select(Customer.id)).all()
        rows = []
        for cid in targets:
            dates = step_dates(evidence.get(cid, {}))
            level = max((i + 1 for i, d in enumerate(dates) if d is not None), default=0)
            rows.append({"cid": cid, "step": level, **dict(zip(STEP_COLUMNS, dates, strict=True))})
        t = Customer.__table__
        for i in range(0, len(rows), CHUNK):
            session.execute(
                update(t)
                .where(t.c.id == bindparam("cid"))
                .values(step=bindparam("step"), **{c: bindparam(c) for c in STEP_COLUMNS}),
                rows[i : i + CHUNK],
            )
        changed += len(rows)
    return changed
