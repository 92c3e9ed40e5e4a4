"""Applying a rebalancing plan in the caller's transaction, and undoing an applied one.

Both first lock and read every row they will change (``SELECT ... FOR UPDATE`` on PostgreSQL),
compare it with what the plan (or the batch) expects, and refuse with :class:`StaleData`
naming what changed before writing anything. A row whose version moved on only for reasons that
do not touch the move (a new phone number, a 4-sell step) is still moved: nothing of the other
change is lost, because only the specialist columns are written. Every write checks the version
it read (``WHERE version = :seen``), so a writer that slipped in between is caught as well.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import desc, insert, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.models import (
    AssignmentEvent,
    Branch,
    ChangeBatch,
    Customer,
    Grid,
    Notification,
    Specialist,
    Task,
)
from app.models.base import utcnow
from app.models.enums import (
    OPEN_TASK_STATUSES,
    AssignmentReason,
    GridStatus,
    NotificationStatus,
    NotificationTemplate,
    SpecialistStatus,
    TaskStatus,
)
from app.services.clock import local_date
from app.services.errors import NotAllowed, NotFound, StaleData
from app.services.intake.sms import SpecialistContact, specialist_change_text
from app.services.metrics.base_table import refresh_persistency_base
from app.services.rebalance.optimise import CUSTOMER, GRID
from app.services.rebalance.plan import Plan, PlanError

BATCH_KIND = "rebalance"
UNDO_KIND = "undo"
_CHUNK = 400
_SHOWN = 5


@dataclass(frozen=True)
class ApplyResult:
    batch_id: int
    grids_moved: int
    customers_moved: int
    tasks_moved: int
    sms_queued: int
    # Whose workloads changed, for the views to refresh.
    specialist_ids: frozenset[int]


@dataclass(frozen=True)
class UndoResult:
    batch_id: int  # the rebalance undone
    undo_batch_id: int
    grids_restored: int
    customers_restored: int
    tasks_restored: int
    # Tasks moved by the rebalance and closed since: they stay with who closed them.
    tasks_kept: int
    sms_queued: int
    specialist_ids: frozenset[int]


@dataclass(frozen=True)
class _Person:
    id: int
    employee_no: str
    name: str
    phone: str | None
    team_id: int
    status: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.employee_no})"


class _Stale:
    """Collects what changed, and raises one StaleData that lists it."""

    def __init__(self, session: Session, tz: str, *, since_text: str) -> None:
        self.session = session
        self.tz = tz
        self.since_text = since_text
        self.reasons: list[str] = []

    def add(self, text: str) -> None:
        self.reasons.append(text)

    def reassigned(
        self, what: str, label: str, *, column, row_id: int, after: datetime | int, now_id
    ) -> None:
        """Say who gave ``what label`` to whom, from the newest history row after ``after``
        (a time, or an event id), else just who holds it now."""
        stmt = select(AssignmentEvent.actor, AssignmentEvent.at, AssignmentEvent.to_specialist_id)
        stmt = stmt.where(column == row_id)
        if isinstance(after, datetime):
            stmt = stmt.where(AssignmentEvent.at > after)
        else:
            stmt = stmt.where(AssignmentEvent.id > after)
        event = self.session.execute(stmt.order_by(desc(AssignmentEvent.id)).limit(1)).first()
        holder = self._who(now_id)
        if event is None:
            self.add(f"{what} {label} is now with {holder}, a change made {self.since_text}")
            return
        actor, at, _ = event
        self.add(
            f"{what} {label} was reassigned to {holder} by {actor} {self._when(at)} "
            f"{self.since_text}"
        )

    def _who(self, specialist_id: int | None) -> str:
        if specialist_id is None:
            return "nobody"
        row = self.session.execute(
            select(Specialist.name, Specialist.employee_no).where(Specialist.id == specialist_id)
        ).first()
        return f"{row[0]} ({row[1]})" if row else f"specialist {specialist_id}"

    def _when(self, at: datetime) -> str:
        local = at.astimezone(_zone(self.tz))
        if local_date(utcnow(), self.tz) == local.date():
            return f"at {local:%H:%M}"
        return f"on {local:%Y-%m-%d} at {local:%H:%M}"

    def raise_if_any(self, advice: str) -> None:
        if not self.reasons:
            return
        shown = "; ".join(self.reasons[:_SHOWN])
        more = len(self.reasons) - _SHOWN
        if more > 0:
            shown += f"; and {more} more change(s)"
        raise StaleData(f"{shown}. {advice}")


def _zone(name: str):
    from app.services.clock import branch_tz

    return branch_tz(name)


# --- apply --------------------------------------------------------------------------------


def apply_plan(
    session: Session, plan: Plan, *, actor: str, user_may_cross_teams: bool
) -> ApplyResult:
    """Apply the plan's moves in the caller's transaction and return what changed.

    Grids change owner; the owner's unlocked customers in them follow, as do the open tasks the
    owner held for those customers (closed tasks stay with who closed them); each moved customer
    gets a specialist-change SMS in the outbox; every change is written to the assignment history
    under one change batch, which :func:`undo_batch` can reverse. Raises StaleData (nothing
    written) when anything the plan relies on changed since it was made, NotAllowed when a move
    crosses teams and the user may not do that, PlanError for a plan from elsewhere.
    """
    if not plan.moves:
        raise PlanError("the plan has no moves to apply")
    branch = session.get(Branch, plan.branch_id)
    if branch is None or branch.code != plan.branch_code:
        raise PlanError(
            f"the plan was made for branch {plan.branch_code}, which is not in this database"
        )
    stale = _Stale(session, branch.timezone, since_text="since this plan was made")
    people = _people(session, {m.from_no for m in plan.moves} | {m.to_no for m in plan.moves})
    for s in plan.specialists:
        p = people.get(s.employee_no)
        if p is not None and p.id != s.id:
            raise PlanError("the plan was made on another database (specialist ids differ)")
    for m in plan.moves:
        target = people.get(m.to_no)
        if target is None or people.get(m.from_no) is None:
            missing = m.to_no if target is None else m.from_no
            stale.add(f"specialist {missing} no longer exists")
        elif target.status != SpecialistStatus.ACTIVE:
            stale.add(f"{target.label} is no longer active ({target.status})")
    if not user_may_cross_teams:
        for m in plan.moves:
            a, b = people.get(m.from_no), people.get(m.to_no)
            if a is not None and b is not None and a.team_id != b.team_id:
                raise NotAllowed(
                    f"moving {m.grid_code} from {a.label} to {b.label} crosses teams; "
                    "only a senior supervisor may do that"
                )
    stale.raise_if_any("Make a new proposal.")

    grid_moves = [m for m in plan.moves if m.kind == GRID]
    customer_moves = [m for m in plan.moves if m.kind == CUSTOMER]
    grid_ids = sorted({m.grid_id for m in grid_moves})
    if len(grid_ids) != len(grid_moves):
        raise PlanError("the plan moves the same grid twice")
    grids = {
        r.id: r
        for chunk in _chunks(grid_ids)
        for r in session.execute(
            select(Grid.id, Grid.code, Grid.owner_id, Grid.locked, Grid.status, Grid.version)
            .where(Grid.id.in_(chunk), Grid.branch_id == branch.id)
            .order_by(Grid.id)
            .with_for_update(of=Grid)
        )
    }
    stale_grids: set[int] = set()
    for m in grid_moves:
        g = grids.get(m.grid_id)
        if g is None:
            stale.add(f"grid {m.grid_code} no longer exists")
            stale_grids.add(m.grid_id)
            continue
        if g.code != m.grid_code:
            raise PlanError("the plan was made on another database (grid ids differ)")
        source = people[m.from_no]
        if g.owner_id != source.id:
            stale_grids.add(m.grid_id)
            stale.reassigned(
                "grid",
                m.grid_code,
                column=AssignmentEvent.grid_id,
                row_id=g.id,
                after=plan.created_at,
                now_id=g.owner_id,
            )
        elif g.locked:
            stale.add(f"grid {m.grid_code} was locked {stale.since_text}")
        elif g.status != GridStatus.ACTIVE:
            stale.add(f"grid {m.grid_code} was retired {stale.since_text}")

    # Customers: everyone now in a moved grid, and everyone the plan names.
    planned: dict[int, tuple[int, str]] = {}  # customer id -> (grid id, from employee no)
    for m in grid_moves:
        for cid in plan.grid_customers.get(m.grid_id, ()):
            planned[cid] = (m.grid_id, m.from_no)
    for m in customer_moves:
        if m.customer_id in planned:
            raise PlanError(
                f"customer {m.customer_no} is moved on their own and with grid "
                f"{planned[m.customer_id][0]}"
            )
        assert m.customer_id is not None
        planned[m.customer_id] = (m.grid_id, m.from_no)
    customers = _lock_customers(session, grid_ids, planned)
    labels = {m.customer_id: m.customer_no for m in customer_moves}
    for cid, (gid, from_no) in planned.items():
        if gid in stale_grids and cid not in labels:
            continue  # said already: the whole grid changed hands
        c = customers.get(cid)
        label = labels.get(cid) or (c.customer_no if c is not None else str(cid))
        if c is None:
            stale.add(f"customer {label} no longer exists")
        elif c.specialist_id != people[from_no].id:
            stale.reassigned(
                "customer",
                label,
                column=AssignmentEvent.customer_id,
                row_id=cid,
                after=plan.created_at,
                now_id=c.specialist_id,
            )
        elif c.grid_id != gid:
            stale.add(f"customer {label} was moved to another grid {stale.since_text}")
        elif c.locked:
            stale.add(f"customer {label} was locked {stale.since_text}")
    stale.raise_if_any("Make a new proposal.")

    # Who goes where: (customer row, from id, to id).
    moving: list[tuple[Any, int, int]] = []
    in_grid: dict[int | None, list[Any]] = defaultdict(list)
    for c in customers.values():
        in_grid[c.grid_id].append(c)
    for m in grid_moves:
        src, dst = people[m.from_no].id, people[m.to_no].id
        moving += [
            (c, src, dst) for c in in_grid[m.grid_id] if c.specialist_id == src and not c.locked
        ]
    for m in customer_moves:
        assert m.customer_id is not None
        moving.append((customers[m.customer_id], people[m.from_no].id, people[m.to_no].id))
    tasks = _lock_open_tasks(session, {c.id: src for c, src, _ in moving})
    destination = {c.id: dst for c, _, dst in moving}

    now = utcnow()
    batch = ChangeBatch(branch_id=branch.id, kind=BATCH_KIND, actor=actor, created_at=now)
    session.add(batch)
    session.flush()
    grid_rows = [(grids[m.grid_id], people[m.from_no].id, people[m.to_no].id) for m in grid_moves]
    for g, _src, dst in grid_rows:
        _update_one(session, Grid, g.id, g.version, owner_id=dst, what=f"grid {g.code}")
    _update_many(
        session, Customer, [(c.id, c.version, dst) for c, _src, dst in moving], "specialist_id"
    )
    _update_many(
        session,
        Task,
        [(t.id, t.version, destination[t.customer_id]) for t in tasks],
        "specialist_id",
    )
    events = [
        _event(grid_id=g.id, src=src, dst=dst, actor=actor, at=now, batch=batch.id)
        for g, src, dst in grid_rows
    ]
    events += [
        _event(customer_id=c.id, src=src, dst=dst, actor=actor, at=now, batch=batch.id)
        for c, src, dst in moving
    ]
    events += [
        _event(
            task_id=t.id,
            src=t.specialist_id,
            dst=destination[t.customer_id],
            actor=actor,
            at=now,
            batch=batch.id,
        )
        for t in tasks
    ]
    session.execute(insert(AssignmentEvent), events)
    by_id = {p.id: p for p in people.values()}
    sms = _queue_sms(session, branch.name, [(c, dst) for c, _src, dst in moving], by_id, now)
    applied = {
        "grids": [[g.id, src, dst, g.version + 1] for g, src, dst in grid_rows],
        "customers": [[c.id, src, dst, c.version + 1] for c, src, dst in moving],
        "tasks": [
            [t.id, t.specialist_id, destination[t.customer_id], t.version + 1] for t in tasks
        ],
    }
    batch.plan = json.dumps({"plan": plan.to_json(), "applied": applied}, ensure_ascii=False)
    session.flush()
    if moving:
        refresh_persistency_base(session, customer_ids=[c.id for c, _, _ in moving])
    touched = {src for _, src, _ in grid_rows} | {dst for _, _, dst in grid_rows}
    touched |= {src for _, src, _ in moving} | {dst for _, _, dst in moving}
    return ApplyResult(
        batch_id=batch.id,
        grids_moved=len(grid_rows),
        customers_moved=len(moving),
        tasks_moved=len(tasks),
        sms_queued=sms,
        specialist_ids=frozenset(touched),
    )


def _people(session: Session, employee_nos: Iterable[str]) -> dict[str, _Person]:
    rows = session.execute(
        select(
            Specialist.id,
            Specialist.employee_no,
            Specialist.name,
            Specialist.phone,
            Specialist.team_id,
            Specialist.status,
        )
        .where(Specialist.employee_no.in_(sorted(set(employee_nos))))
        .order_by(Specialist.id)
        .with_for_update(read=True, of=Specialist)
    )
    return {r[1]: _Person(r[0], r[1], r[2], r[3], r[4], str(r[5])) for r in rows}


def _customer_columns():
    return (
        Customer.id,
        Customer.customer_no,
        Customer.name,
        Customer.id_number,
        Customer.grid_id,
        Customer.specialist_id,
        Customer.locked,
        Customer.version,
    )


def _lock_customers(
    session: Session, grid_ids: Sequence[int], planned: dict[int, Any]
) -> dict[int, Any]:
    """Lock and return the customers now in the given grids and those the plan names."""
    found: dict[int, Any] = {}
    for chunk in _chunks(list(grid_ids)):
        for r in session.execute(
            select(*_customer_columns())
            .where(Customer.grid_id.in_(chunk))
            .order_by(Customer.id)
            .with_for_update(of=Customer)
        ):
            found[r.id] = r
    rest = sorted(set(planned) - set(found))
    for chunk in _chunks(rest):
        for r in session.execute(
            select(*_customer_columns())
            .where(Customer.id.in_(chunk))
            .order_by(Customer.id)
            .with_for_update(of=Customer)
        ):
            found[r.id] = r
    return found


def _lock_open_tasks(session: Session, holder: dict[int, int]) -> list[Any]:
    """Lock and return the open tasks of the given customers held by their specialist
    (customer id -> specialist id): the tasks that follow the customer."""
    tasks = []
    for chunk in _chunks(sorted(holder)):
        for r in session.execute(
            select(Task.id, Task.customer_id, Task.specialist_id, Task.version)
            .where(Task.customer_id.in_(chunk), Task.status.in_(OPEN_TASK_STATUSES))
            .order_by(Task.id)
            .with_for_update(of=Task)
        ):
            if r.specialist_id is not None and r.specialist_id == holder[r.customer_id]:
                tasks.append(r)
    return tasks


def _update_one(session: Session, model, row_id: int, seen: int, *, what: str, **values) -> None:
    result = cast(
        CursorResult,
        session.execute(
            update(model)
            .where(model.id == row_id, model.version == seen)
            .values(**values, version=seen + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise StaleData(f"{what} was changed by someone else while saving; nothing was saved")
    _expire(session, model, {row_id})


def _update_many(session: Session, model, rows: Sequence[tuple[int, int, int]], column: str):
    """Set ``column`` of each (id, version seen, value) row, checking every version."""
    by_value: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row_id, seen, value in rows:
        by_value[value].append((row_id, seen))
    for value, pairs in by_value.items():
        for chunk in _chunks(pairs):
            result = cast(
                CursorResult,
                session.execute(
                    update(model)
                    .where(tuple_(model.id, model.version).in_(chunk))
                    .values({column: value, "version": model.version + 1})
                    .execution_options(synchronize_session=False)
                ),
            )
            if result.rowcount != len(chunk):
                raise StaleData(
                    f"{model.__tablename__} rows were changed by someone else while saving; "
                    "nothing was saved"
                )
    _expire(session, model, {r[0] for r in rows})


def _expire(session: Session, model, ids: set[int]) -> None:
    """Forget cached ORM copies of rows changed here by Core updates."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:
            session.expire(obj)


def _event(
    *,
    src: int | None,
    dst: int | None,
    actor: str,
    at: datetime,
    batch: int,
    grid_id: int | None = None,
    customer_id: int | None = None,
    task_id: int | None = None,
    reason: AssignmentReason = AssignmentReason.REBALANCE,
) -> dict[str, Any]:
    return {
        "grid_id": grid_id,
        "customer_id": customer_id,
        "task_id": task_id,
        "from_specialist_id": src,
        "to_specialist_id": dst,
        "reason": reason,
        "actor": actor,
        "at": at,
        "batch_id": batch,
    }


def _queue_sms(
    session: Session,
    signature: str,
    moved: Sequence[tuple[Any, int]],
    people: dict[int, _Person],
    now: datetime,
) -> int:
    """Queue a specialist-change SMS per (customer row, new specialist id); return how many."""
    missing = {dst for _, dst in moved} - set(people)
    if missing:
        for r in session.execute(
            select(Specialist.id, Specialist.employee_no, Specialist.name, Specialist.phone).where(
                Specialist.id.in_(sorted(missing))
            )
        ):
            people[r[0]] = _Person(r[0], r[1], r[2], r[3], 0, "")
    rows = [
        {
            "customer_id": c.id,
            "template": NotificationTemplate.SPECIALIST_CHANGE,
            "body": specialist_change_text(
                signature=signature,
                customer_name=c.name,
                id_number=c.id_number,
                specialist=SpecialistContact(people[dst].name, people[dst].phone),
            ),
            "created_at": now,
            "status": NotificationStatus.QUEUED,
        }
        for c, dst in moved
    ]
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


# --- undo ---------------------------------------------------------------------------------


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
    batch_id: int | None = None,
    branch_id: int | None = None,
) -> UndoResult:
    """Put every grid, customer and open task of a rebalance back where it was, in the caller's
    transaction, and return what changed; the newest rebalance not undone when ``batch_id`` is
    None.

    Tasks closed since stay with who closed them. Raises NotFound when there is nothing to undo,
    StaleData (nothing written) when one of the rows changed hands after the rebalance or the
    batch was undone meanwhile.
    """
    if batch_id is None:
        batch_id = latest_batch(session, branch_id=branch_id)
        if batch_id is None:
            raise NotFound("there is no rebalance to undo")
    batch = session.execute(
        select(ChangeBatch.id, ChangeBatch.branch_id, ChangeBatch.kind, ChangeBatch.undone_at)
        .where(ChangeBatch.id == batch_id)
        .with_for_update(of=ChangeBatch)
    ).first()
    if batch is None or batch.kind != BATCH_KIND:
        raise NotFound(f"change batch {batch_id} is not a rebalance")
    if batch.undone_at is not None:
        raise StaleData(f"rebalance {batch_id} was already undone")
    branch = session.get(Branch, batch.branch_id)
    assert branch is not None
    events = session.execute(
        select(
            AssignmentEvent.id,
            AssignmentEvent.grid_id,
            AssignmentEvent.customer_id,
            AssignmentEvent.task_id,
            AssignmentEvent.from_specialist_id,
            AssignmentEvent.to_specialist_id,
        )
        .where(
            AssignmentEvent.batch_id == batch_id,
            AssignmentEvent.reason == AssignmentReason.REBALANCE,
        )
        .order_by(AssignmentEvent.id)
    ).all()
    last_event = max((e.id for e in events), default=0)
    stale = _Stale(session, branch.timezone, since_text="after that rebalance")
    grid_ev = {e.grid_id: e for e in events if e.grid_id is not None}
    cust_ev = {e.customer_id: e for e in events if e.customer_id is not None}
    task_ev = {e.task_id: e for e in events if e.task_id is not None}

    grids = {
        r.id: r
        for chunk in _chunks(sorted(grid_ev))
        for r in session.execute(
            select(Grid.id, Grid.code, Grid.owner_id, Grid.locked, Grid.version)
            .where(Grid.id.in_(chunk))
            .order_by(Grid.id)
            .with_for_update(of=Grid)
        )
    }
    for gid, e in grid_ev.items():
        g = grids[gid]
        if g.owner_id != e.to_specialist_id:
            stale.reassigned(
                "grid",
                g.code,
                column=AssignmentEvent.grid_id,
                row_id=gid,
                after=last_event,
                now_id=g.owner_id,
            )
        elif g.locked:
            stale.add(f"grid {g.code} was locked {stale.since_text}")
    customers = {
        r.id: r
        for chunk in _chunks(sorted(cust_ev))
        for r in session.execute(
            select(*_customer_columns())
            .where(Customer.id.in_(chunk))
            .order_by(Customer.id)
            .with_for_update(of=Customer)
        )
    }
    for cid, e in cust_ev.items():
        c = customers[cid]
        if c.specialist_id != e.to_specialist_id:
            stale.reassigned(
                "customer",
                c.customer_no,
                column=AssignmentEvent.customer_id,
                row_id=cid,
                after=last_event,
                now_id=c.specialist_id,
            )
        elif c.locked:
            stale.add(f"customer {c.customer_no} was locked {stale.since_text}")
    tasks = {
        r.id: r
        for chunk in _chunks(sorted(task_ev))
        for r in session.execute(
            select(Task.id, Task.task_no, Task.status, Task.specialist_id, Task.version)
            .where(Task.id.in_(chunk))
            .order_by(Task.id)
            .with_for_update(of=Task)
        )
    }
    kept = 0
    restore_tasks = []
    for tid, e in task_ev.items():
        t = tasks[tid]
        if TaskStatus(t.status) not in OPEN_TASK_STATUSES:
            kept += 1
        elif t.specialist_id != e.to_specialist_id:
            stale.reassigned(
                "task",
                t.task_no,
                column=AssignmentEvent.task_id,
                row_id=tid,
                after=last_event,
                now_id=t.specialist_id,
            )
        else:
            restore_tasks.append((t, e.from_specialist_id))
    stale.raise_if_any("It can no longer be undone as a whole.")

    now = utcnow()
    done = cast(
        CursorResult,
        session.execute(
            update(ChangeBatch)
            .where(ChangeBatch.id == batch_id, ChangeBatch.undone_at.is_(None))
            .values(undone_at=now, undone_by=actor)
            .execution_options(synchronize_session=False)
        ),
    )
    if done.rowcount != 1:
        raise StaleData(f"rebalance {batch_id} was undone by someone else meanwhile")
    _expire(session, ChangeBatch, {batch_id})
    undo = ChangeBatch(
        branch_id=branch.id,
        kind=UNDO_KIND,
        actor=actor,
        created_at=now,
        plan=json.dumps({"undoes": batch_id}),
    )
    session.add(undo)
    session.flush()
    for gid, e in grid_ev.items():
        g = grids[gid]
        _update_one(
            session, Grid, gid, g.version, owner_id=e.from_specialist_id, what=f"grid {g.code}"
        )
    _update_many(
        session,
        Customer,
        [(cid, customers[cid].version, e.from_specialist_id) for cid, e in cust_ev.items()],
        "specialist_id",
    )
    _update_many(
        session, Task, [(t.id, t.version, src) for t, src in restore_tasks], "specialist_id"
    )
    reason = AssignmentReason.UNDO
    rows = [
        _event(
            grid_id=gid,
            src=e.to_specialist_id,
            dst=e.from_specialist_id,
            actor=actor,
            at=now,
            batch=undo.id,
            reason=reason,
        )
        for gid, e in grid_ev.items()
    ]
    rows += [
        _event(
            customer_id=cid,
            src=e.to_specialist_id,
            dst=e.from_specialist_id,
            actor=actor,
            at=now,
            batch=undo.id,
            reason=reason,
        )
        for cid, e in cust_ev.items()
    ]
    rows += [
        _event(
            task_id=t.id,
            src=t.specialist_id,
            dst=src,
            actor=actor,
            at=now,
            batch=undo.id,
            reason=reason,
        )
        for t, src in restore_tasks
    ]
    if rows:
        session.execute(insert(AssignmentEvent), rows)
    back = [(customers[cid], e.from_specialist_id) for cid, e in cust_ev.items()]
    sms = _queue_sms(
        session, branch.name, [(c, dst) for c, dst in back if dst is not None], {}, now
    )
    session.flush()
    if cust_ev:
        refresh_persistency_base(session, customer_ids=sorted(cust_ev))
    touched = {e.from_specialist_id for e in events} | {e.to_specialist_id for e in events}
    return UndoResult(
        batch_id=batch_id,
        undo_batch_id=undo.id,
        grids_restored=len(grid_ev),
        customers_restored=len(cust_ev),
        tasks_restored=len(restore_tasks),
        tasks_kept=kept,
        sms_queued=sms,
        specialist_ids=frozenset(s for s in touched if s is not None),
    )
