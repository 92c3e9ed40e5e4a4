"""Undoing an applied rebalance: every grid, customer and open task back where it was.

Like applying, it locks and checks every row before writing and refuses with
:class:`StaleData` naming what changed hands after the rebalance.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import partial
from typing import Any

from sqlalchemy import desc, exists, func, insert, select, true
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Branch, ChangeBatch, Customer, Grid, Specialist, Task
from app.models.base import utcnow
from app.models.enums import OPEN_TASK_STATUSES, AssignmentReason, SpecialistStatus, TaskStatus
from app.services.errors import NotAllowed, NotFound, StaleData
from app.services.messages import Message
from app.services.rebalance.changes import (
    BATCH_KIND,
    GRID_COLUMNS,
    Person,
    Stale,
    UndoResult,
    check_grid,
    check_holder,
    chunks,
    close_batch,
    customer_columns,
    event,
    expire,
    lock_rows,
    outside_scope,
    queue_sms,
    restore_leaving,
    update_many,
    update_one,
)


def latest_batch(session: Session, *, branch_id: int | None = None) -> int | None:
    """Return the id of the newest rebalance not undone yet (in the branch), or None."""
    stmt = select(ChangeBatch.id).where(
        ChangeBatch.kind == BATCH_KIND, ChangeBatch.undone_at.is_(None)
    )
    if branch_id is not None:
        stmt = stmt.where(ChangeBatch.branch_id == branch_id)
    return session.scalar(stmt.order_by(desc(ChangeBatch.created_at), desc(ChangeBatch.id)))


def undo_batch(
    session: Session,
    *,
    actor: str,
    team_scope: Collection[int] | None,
    batch_id: int | None = None,
    branch_id: int | None = None,
) -> UndoResult:
    """Put every grid, customer and open task of a change batch back where it was, in the
    caller's transaction, and return what changed; the newest rebalance not undone when
    ``batch_id`` is None. ``branch_id`` is also the user's branch: a batch of another is refused.
    Intake and assignment-import batches are undone by their own modules.

    Tasks closed since stay with who closed them. Raises NotFound when there is nothing to undo,
    StaleData (nothing written) when one of the rows changed hands after the rebalance or the
    batch was undone meanwhile, NotAllowed when it moved anyone outside ``team_scope`` (the
    teams the user is limited to; None for the whole branch).
    """
    if batch_id is None:
        batch_id = latest_batch(session, branch_id=branch_id)
        if batch_id is None:
            raise NotFound("undo.nothing")
    batch = session.execute(
        select(ChangeBatch.id, ChangeBatch.branch_id, ChangeBatch.kind, ChangeBatch.undone_at)
        .where(ChangeBatch.id == batch_id)
        .with_for_update(of=ChangeBatch)
    ).first()
    from app.services.customers.history import IMPORT_KIND
    from app.services.intake.intake import INTAKE_KIND
    from app.services.tasks.queue import REASSIGN_KIND

    if batch is not None and batch.kind == IMPORT_KIND:
        if batch.undone_at is not None:
            raise StaleData("undo.already_undone", batch=batch_id)
        if branch_id is not None and batch.branch_id != branch_id:
            raise NotAllowed("undo.other_branch", batch=batch_id)
        from app.services.importer.assignments import undo_import

        return undo_import(session, batch_id, actor=actor, team_scope=team_scope)
    if batch is None or batch.kind not in (BATCH_KIND, INTAKE_KIND, REASSIGN_KIND):
        raise NotFound("undo.not_undoable", batch=batch_id)
    if branch_id is not None and batch.branch_id != branch_id:
        raise NotAllowed("undo.other_branch", batch=batch_id)
    if batch.undone_at is not None:
        raise StaleData("undo.already_undone", batch=batch_id)
    if batch.kind == INTAKE_KIND:
        from app.services.intake.undo import undo_intake

        return undo_intake(session, batch_id, actor=actor, team_scope=team_scope)
    branch = session.get(Branch, batch.branch_id)
    assert branch is not None
    return _undo_moves(session, batch_id, branch, actor=actor, team_scope=team_scope)


def _undo_moves(
    session: Session,
    batch_id: int,
    branch: Branch,
    *,
    actor: str,
    team_scope: Collection[int] | None,
) -> UndoResult:
    """Undo a rebalance, hand-over or task reassignment: lock and check every row it moved,
    then move them back under a new batch."""
    events = session.execute(
        select(
            AssignmentEvent.id,
            AssignmentEvent.grid_id,
            AssignmentEvent.customer_id,
            AssignmentEvent.task_id,
            AssignmentEvent.from_specialist_id,
            AssignmentEvent.to_specialist_id,
            AssignmentEvent.effective_on,
        )
        .where(
            AssignmentEvent.batch_id == batch_id,
            AssignmentEvent.reason.in_((AssignmentReason.REBALANCE, AssignmentReason.MANUAL)),
        )
        .order_by(AssignmentEvent.id)
    ).all()
    involved = {e.from_specialist_id for e in events} | {e.to_specialist_id for e in events}
    outside_scope(
        (
            Person(r.id, r.employee_no, r.name, None, r.team_id, "")
            for r in session.execute(
                select(
                    Specialist.id, Specialist.employee_no, Specialist.name, Specialist.team_id
                ).where(Specialist.id.in_(sorted(i for i in involved if i is not None)))
            )
        ),
        team_scope,
    )
    last_event = max((e.id for e in events), default=0)
    stale = Stale(session, branch.timezone, since="since.rebalance")
    # Nobody gets work back who no longer works: apply checks its targets, so does undo
    # (except the leaver of a hand-over being undone, whose status undo itself restores).
    # What the batch recorded when applied (read once): its leaving, the versions it left.
    record = json.loads(
        session.scalar(select(ChangeBatch.plan).where(ChangeBatch.id == batch_id)) or "{}"
    )
    recorded_leaving = record.get("leaving")
    leaver = int(recorded_leaving["specialist_id"]) if recorded_leaving else None
    receivers = {e.from_specialist_id for e in events} - {None, leaver}
    for name, status in session.execute(
        select(Specialist.name, Specialist.status).where(Specialist.id.in_(sorted(receivers)))
    ):
        if status != SpecialistStatus.ACTIVE:
            stale.add("stale.not_active", who=name, specialist_status=status)
    grid_ev = {e.grid_id: e for e in events if e.grid_id is not None}
    cust_ev = {e.customer_id: e for e in events if e.customer_id is not None}
    task_ev = {e.task_id: e for e in events if e.task_id is not None}
    grids = _lock_grids(session, grid_ev, stale, last_event)
    _joined_since(session, grid_ev, grids, set(cust_ev), stale, last_event)
    # Customer id -> version the rebalance left: one locked then and unchanged since was moved
    # deliberately while locked (a hand-over) and goes back the same way.
    left_at = {r[0]: r[3] for r in record.get("applied", {}).get("customers", [])}
    customers = _lock_customers(session, cust_ev, stale, last_event, left_at)
    restore_tasks, kept = _lock_tasks(session, task_ev, stale, last_event)
    if recorded_leaving:
        restore_leaving(session, recorded_leaving, stale)  # a hand-over: the leaver works again
    stale.raise_if_any("advice.undo_whole")

    now = utcnow()
    undo = close_batch(
        session, batch_id, branch.id, actor=actor, now=now, what=Message("noun.rebalance")
    )
    for gid, e in grid_ev.items():
        g = grids[gid]
        update_one(
            session,
            Grid,
            gid,
            g.version,
            owner_id=e.from_specialist_id,
            what=Message("named.grid", grid=g.code),
        )
    expire(session, Grid, set(grid_ev))
    update_many(
        session,
        Customer,
        [(cid, customers[cid].version, e.from_specialist_id) for cid, e in cust_ev.items()],
        "specialist_id",
    )
    update_many(
        session, Task, [(t.id, t.version, src) for t, src in restore_tasks], "specialist_id"
    )
    # Each row back from where it went, as if the change had never held.
    stamp = partial(event, actor=actor, at=now, batch=undo.id, reason=AssignmentReason.UNDO)
    rows = [
        stamp(grid_id=gid, src=e.to_specialist_id, dst=e.from_specialist_id,
              effective_on=e.effective_on)
        for gid, e in grid_ev.items()
    ]  # fmt: skip
    rows += [
        stamp(customer_id=cid, src=e.to_specialist_id, dst=e.from_specialist_id,
              effective_on=e.effective_on)
        for cid, e in cust_ev.items()
    ]  # fmt: skip
    rows += [
        stamp(task_id=t.id, src=t.specialist_id, dst=src, effective_on=task_ev[t.id].effective_on)
        for t, src in restore_tasks
    ]
    if rows:
        session.execute(insert(AssignmentEvent), rows)
    back = [
        (customers[cid], e.to_specialist_id, e.from_specialist_id) for cid, e in cust_ev.items()
    ]
    sms = queue_sms(session, branch.name, list(back), {}, now)
    session.flush()  # the customers' base rows are rewritten by the unit of work
    touched = {e.from_specialist_id for e in events} | {e.to_specialist_id for e in events}
    return UndoResult(
        batch_id=batch_id,
        undo_batch_id=undo.id,
        grids_restored=len(grid_ev),
        customers_restored=len(cust_ev),
        tasks_restored=len(restore_tasks),
        tasks_kept=kept,
        sms_queued=sms.queued,
        sms_replaced=sms.replaced,
        sms_withdrawn=sms.withdrawn,
        specialist_ids=frozenset(s for s in touched if s is not None),
    )


def _lock_grids(
    session: Session, grid_ev: dict[int, Any], stale: Stale, last_event: int
) -> dict[int, Any]:
    """Lock the grids the batch moved; note in ``stale`` those that changed since."""
    grids = {r.id: r for r in lock_rows(session, Grid, GRID_COLUMNS, Grid.id, grid_ev)}
    for gid, e in grid_ev.items():
        g = grids[gid]
        check_grid(stale, g, label=g.code, owner=e.to_specialist_id, after=last_event)
    return grids


def _joined_since(
    session: Session,
    grid_ev: dict[int, Any],
    grids: dict[int, Any],
    moved: set[int],
    stale: Stale,
    last_event: int,
) -> None:
    """Note in ``stale`` the grids going back whose owner has customers there who joined after
    the batch (an intake, a filed address): undone, they would stay with that owner while the
    grid went back, apart from its owner. Locked customers keep their specialist by design."""
    since = exists(
        select(AssignmentEvent.id).where(
            AssignmentEvent.customer_id == Customer.id, AssignmentEvent.id > last_event
        )
    )
    owners = {gid: e.to_specialist_id for gid, e in grid_ev.items()}
    for chunk in chunks(sorted(owners)):
        found = session.execute(
            select(Customer.grid_id, Customer.specialist_id, func.count())
            .where(Customer.grid_id.in_(chunk), ~Customer.locked, since)
            .where(Customer.id.not_in(moved) if moved else true())
            .group_by(Customer.grid_id, Customer.specialist_id)
        )
        for gid, sid, n in found:
            if gid is not None and sid is not None and sid == owners[gid]:
                code = "stale.grid_joined_one" if n == 1 else "stale.grid_joined"
                stale.add(code, grid=grids[gid].code, n=n, since=stale.since)


def _lock_customers(
    session: Session,
    cust_ev: dict[int, Any],
    stale: Stale,
    last_event: int,
    left_at: dict[int, int],
) -> dict[int, Any]:
    """Lock the customers the batch moved; note in ``stale`` those that changed since."""
    columns = customer_columns()
    customers = {r.id: r for r in lock_rows(session, Customer, columns, Customer.id, cust_ev)}
    for cid, e in cust_ev.items():
        c = customers[cid]
        if check_holder(
            stale,
            "noun.customer",
            c.customer_no,
            expected=e.to_specialist_id,
            now=c.specialist_id,
            column=AssignmentEvent.customer_id,
            row_id=cid,
            after=last_event,
        ):
            continue
        if c.locked and c.version != left_at.get(cid):
            stale.add("stale.customer_locked", customer=c.customer_no, since=stale.since)
    return customers


def _lock_tasks(
    session: Session, task_ev: dict[int, Any], stale: Stale, last_event: int
) -> tuple[list[tuple[Any, int]], int]:
    """Lock the tasks the batch moved; note in ``stale`` open ones that changed hands since;
    return the open ones to move back (with their former holder) and how many were closed
    since (they stay with who closed them)."""
    columns = (Task.id, Task.task_no, Task.status, Task.specialist_id, Task.version)
    tasks = {r.id: r for r in lock_rows(session, Task, columns, Task.id, task_ev)}
    kept = 0
    restore_tasks = []
    for tid, e in task_ev.items():
        t = tasks[tid]
        if TaskStatus(t.status) not in OPEN_TASK_STATUSES:
            kept += 1
        elif not check_holder(
            stale,
            "noun.task",
            t.task_no,
            expected=e.to_specialist_id,
            now=t.specialist_id,
            column=AssignmentEvent.task_id,
            row_id=tid,
            after=last_event,
        ):
            restore_tasks.append((t, e.from_specialist_id))
    return restore_tasks, kept
