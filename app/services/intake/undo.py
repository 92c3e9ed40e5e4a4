"""Undoing an intake: its customers leave the pool as if it had never run.

Each customer gets back the grid, match and specialist they had before; the waiting SMS are
withdrawn (a message the gateway already took cannot be called back, and no correction is
sent: the customer's agent did leave); the tasks the intake created that nobody has started are
cancelled, and those under way or done stay; an agent the intake gave a leaving date loses it
again. Refused, with nothing written, when any of the customers changed hands since.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Branch, ChangeBatch, Customer, DepartedAgent, Task
from app.models.base import utcnow
from app.models.enums import AssignmentReason, MatchMethod, TaskStatus
from app.services.customers.notify import withdraw_waiting
from app.services.errors import NotAllowed
from app.services.intake.coverage import UNDONE, close_marks
from app.services.intake.intake import chunks
from app.services.messages import Message
from app.services.rebalance.changes import Stale, UndoResult, close_batch, event


def undo_intake(
    session: Session,
    batch_id: int,
    *,
    actor: str,
    team_scope: Collection[int] | None,
) -> UndoResult:
    """Take the customers of the intake ``batch_id`` out of the pool again, in the caller's
    transaction; return what changed."""
    if team_scope is not None:
        raise NotAllowed("intake.senior_only_undo")
    batch = session.get(ChangeBatch, batch_id)
    assert batch is not None
    record: dict[str, Any] = json.loads(batch.plan or "{}")["intake"]
    on_date = date.fromisoformat(record["on_date"])
    before = {int(k): v for k, v in record["customers"].items()}
    branch = session.get(Branch, batch.branch_id)
    assert branch is not None
    stale = Stale(session, branch.timezone, since="since.intake")
    customers = {
        c.id: c
        for part in chunks(sorted(before))
        for c in session.scalars(
            select(Customer).where(Customer.id.in_(part)).order_by(Customer.id).with_for_update()
        )
    }
    for cid, (_grid, _method, _was, after) in before.items():
        c = customers[cid]
        if c.pool_entered_on != on_date or c.specialist_id != after:
            stale.add(
                "stale.changed_hands",
                what=Message("noun.customer"),
                label=c.customer_no,
                since=stale.since,
            )
    stale.raise_if_any("advice.intake_undo_whole")

    now = utcnow()
    undo = close_batch(
        session, batch_id, branch.id, actor=actor, now=now, what=Message("noun.intake")
    )
    events = []
    for cid, (grid, method, was, after) in before.items():
        c = customers[cid]
        c.pool_entered_on = None
        c.grid_id = grid
        c.match_method = None if method is None else MatchMethod(method)
        c.specialist_id = was
        if was != after:
            events.append(
                event(
                    customer_id=cid,
                    src=after,
                    dst=was,
                    actor=actor,
                    at=now,
                    effective_on=on_date,  # as if the intake had never held
                    batch=undo.id,
                    reason=AssignmentReason.UNDO,
                )
            )
    session.flush()
    if events:
        session.execute(insert(AssignmentEvent), events)
    withdrawn = withdraw_waiting(session, sorted(before), reason="the intake was undone")
    # Out of the pool, a customer is in no list: marks made since the intake end with it.
    close_marks(session, sorted(before), actor=actor, how=UNDONE)
    if record.get("dated_agent"):
        agent = session.scalar(
            select(DepartedAgent).where(
                DepartedAgent.agent_code == record["agent_code"],
                DepartedAgent.branch_id == branch.id,
            )
        )
        if agent is not None and agent.left_on == on_date:
            agent.left_on = None
    cancelled, kept = _cancel_unstarted(session, record.get("tasks", []), now)
    return UndoResult(
        batch_id=batch_id,
        undo_batch_id=undo.id,
        grids_restored=0,
        customers_restored=len(before),
        tasks_restored=cancelled,
        tasks_kept=kept,
        sms_queued=0,
        sms_replaced=0,
        sms_withdrawn=withdrawn,
        specialist_ids=frozenset(a for *_, a in before.values() if a is not None),
    )


def _cancel_unstarted(session: Session, task_ids: list[int], now) -> tuple[int, int]:
    """Cancel the intake's tasks nobody has started; return (cancelled, kept)."""
    cancelled = kept = 0
    for part in chunks(sorted(task_ids)):
        rows = session.execute(
            select(Task.id, Task.status, Task.version).where(Task.id.in_(part)).with_for_update()
        ).all()
        for tid, status, version in rows:
            if TaskStatus(status) != TaskStatus.OPEN:
                kept += 1
                continue
            session.execute(
                update(Task)
                .where(Task.id == tid, Task.version == version)
                .values(
                    status=TaskStatus.CANCELLED,
                    outcome="intake undone",
                    version=version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            cancelled += 1
    return cancelled, kept
