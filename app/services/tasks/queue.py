"""Task queues: filtered id lists, pages of rows for the views, and reassignment."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from app.models import (
    AssignmentEvent,
    Branch,
    ChangeBatch,
    Customer,
    Grid,
    Policy,
    Specialist,
    Task,
)
from app.models.base import utcnow
from app.models.enums import OPEN_TASK_STATUSES, AssignmentReason, TaskKind, TaskStatus
from app.services.changes import Changes
from app.services.clock import local_date
from app.services.errors import NotAllowed, NotFound, StaleData
from app.services.messages import Message
from app.services.people.auth import UserInfo
from app.services.rebalance.changes import event, update_many

# The change batch of a manual reassignment of tasks, undone from the history.
REASSIGN_KIND = "reassign"


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a queue shows. Empty collections and None mean "any"."""

    as_of: date
    team_ids: frozenset[int] | None = None
    specialist_ids: frozenset[int] | None = None
    unassigned_only: bool = False  # tasks nobody holds (a grid without owner, the online seat)
    grid_ids: frozenset[int] | None = None
    kinds: frozenset[TaskKind] = field(default_factory=frozenset)
    statuses: frozenset[TaskStatus] = field(default_factory=frozenset)
    overdue_only: bool = False
    search: str = ""


@dataclass(frozen=True)
class TaskRow:
    id: int
    task_no: str
    kind: TaskKind
    status: TaskStatus
    customer_id: int
    customer_no: str
    customer_name: str
    policy_no: str | None
    specialist_id: int | None
    specialist_name: str | None
    employee_no: str | None
    grid_code: str | None
    channel: str
    created_at: datetime
    due_date: date | None
    completed_at: datetime | None
    outcome: str | None
    overdue: bool
    version: int


# Columns a queue may be sorted by, as the views name them.
SORT_COLUMNS = {
    "task_no": Task.task_no,
    "kind": Task.kind,
    "status": Task.status,
    "customer": Customer.name,
    "specialist": Specialist.name,
    "due_date": Task.due_date,
    "created_at": Task.created_at,
    "completed_at": Task.completed_at,
}


def filter_conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of the filter (on task, customer and specialist)."""
    conds: list[ColumnElement[bool]] = []
    if f.team_ids is not None:
        conds.append(Specialist.team_id.in_(f.team_ids))
    if f.specialist_ids is not None:
        conds.append(Task.specialist_id.in_(f.specialist_ids))
    if f.unassigned_only:
        conds.append(Task.specialist_id.is_(None))
    if f.grid_ids is not None:
        conds.append(Customer.grid_id.in_(f.grid_ids))
    if f.kinds:
        conds.append(Task.kind.in_(f.kinds))
    if f.statuses:
        conds.append(Task.status.in_(f.statuses))
    if f.overdue_only:
        conds.append(and_(Task.status.in_(OPEN_TASK_STATUSES), Task.due_date < f.as_of))
    text = f.search.strip()
    if text:
        like = f"%{text}%"
        conds.append(
            or_(Task.task_no.like(like), Customer.name.like(like), Customer.customer_no.like(like))
        )
    return conds


def _base(columns, f: TaskFilter):
    stmt = (
        select(*columns)
        .select_from(Task)
        .join(Customer, Customer.id == Task.customer_id)
        .outerjoin(Specialist, Specialist.id == Task.specialist_id)
    )
    conds = filter_conditions(f)
    return stmt.where(*conds) if conds else stmt


def task_ids(
    session: Session, f: TaskFilter, *, sort: str = "due_date", descending: bool = False
) -> list[int]:
    """Return the ids of the tasks the filter selects, in the order asked for."""
    col = SORT_COLUMNS[sort]
    order = [col.desc() if descending else col.asc(), Task.id]
    if (
        sort == "customer"
        or sort == "specialist"
        or f.search
        or f.team_ids is not None
        or f.grid_ids is not None
    ):
        stmt = _base([Task.id], f)
    else:  # no join needed: much faster on large queues
        conds = filter_conditions(f)
        stmt = select(Task.id).where(*conds) if conds else select(Task.id)
    return list(session.scalars(stmt.order_by(*order)))


def _row_columns(owner_grid) -> list[Any]:
    return [
        Task.id,
        Task.task_no,
        Task.kind,
        Task.status,
        Customer.id,
        Customer.customer_no,
        Customer.name,
        Policy.policy_no,
        Task.specialist_id,
        Specialist.name,
        Specialist.employee_no,
        owner_grid.code,
        Task.channel,
        Task.created_at,
        Task.due_date,
        Task.completed_at,
        Task.outcome,
        Task.version,
    ]


def _task_row(r: Any, as_of: date) -> TaskRow:
    status = TaskStatus(r[3])
    return TaskRow(
        id=r[0],
        task_no=r[1],
        kind=TaskKind(r[2]),
        status=status,
        customer_id=r[4],
        customer_no=r[5],
        customer_name=r[6],
        policy_no=r[7],
        specialist_id=r[8],
        specialist_name=r[9],
        employee_no=r[10],
        grid_code=r[11],
        channel=str(r[12]),
        created_at=r[13],
        due_date=r[14],
        completed_at=r[15],
        outcome=r[16],
        overdue=status.is_open and r[14] is not None and r[14] < as_of,
        version=r[17],
    )


def task_rows(session: Session, ids: Sequence[int], *, as_of: date) -> list[TaskRow]:
    """Return the rows of the given task ids, in the same order."""
    if not ids:
        return []
    owner_grid = aliased(Grid)
    stmt = (
        select(*_row_columns(owner_grid))
        .select_from(Task)
        .join(Customer, Customer.id == Task.customer_id)
        .outerjoin(Policy, Policy.id == Task.policy_id)
        .outerjoin(Specialist, Specialist.id == Task.specialist_id)
        .outerjoin(owner_grid, owner_grid.id == Customer.grid_id)
        .where(Task.id.in_(list(ids)))
    )
    by_id = {r[0]: _task_row(r, as_of) for r in session.execute(stmt)}
    return [by_id[i] for i in ids if i in by_id]


def count_tasks(session: Session, f: TaskFilter) -> int:
    """Return how many tasks the filter selects."""
    return session.scalar(count_query(f)) or 0


def count_query(f: TaskFilter) -> Any:
    """The statement counting the filter's tasks. Joined to the customers or specialists only
    when the filter reads them: every task has a customer, and counting through that join
    looked up each task's customer (4 s for a big city's 2M tasks, against 0.1 s without)."""
    stmt: Any = select(func.count()).select_from(Task)
    if f.search.strip() or f.grid_ids is not None:
        stmt = stmt.join(Customer, Customer.id == Task.customer_id)
    if f.team_ids is not None:
        stmt = stmt.join(Specialist, Specialist.id == Task.specialist_id)
    conds = filter_conditions(f)
    return stmt.where(*conds) if conds else stmt


@dataclass(frozen=True)
class Reassigned:
    """What a reassignment changed, for the views to refresh."""

    task_ids: tuple[int, ...]
    from_specialist_ids: frozenset[int]
    to_specialist_id: int

    @property
    def changes(self) -> Changes:
        return Changes(
            tasks=frozenset(self.task_ids),
            specialists=self.from_specialist_ids | {self.to_specialist_id},
        )


def reassign_tasks(
    session: Session,
    *,
    user: UserInfo,
    versions: dict[int, int],
    to_specialist_id: int,
) -> Reassigned:
    """Move open tasks (id -> version the user saw) to another specialist, all or nothing.

    Raises NotAllowed when the role or team scope forbids it, StaleData when any task changed
    since it was read, NotFound for an unknown task or specialist.
    """
    if not user.may_reassign_tasks:
        raise NotAllowed("tasks.role")
    target = _reassign_target(session, user, to_specialist_id)
    rows = _reassignable_tasks(session, user, versions)
    now = utcnow()
    tz = session.scalar(select(Branch.timezone).where(Branch.id == target.branch_id))
    # In id order, as apply locks tasks: two writers taking the same rows in opposite orders
    # would wait for each other for good (the load test found such a deadlock).
    moved = sorted((r for r in rows if r.specialist_id != to_specialist_id), key=lambda r: r.id)
    if moved:
        # Every version checked again as it is written: a change between our read and this
        # write refuses the lot.
        update_many(
            session, Task, [(r.id, r.version, to_specialist_id) for r in moved], "specialist_id"
        )
        # One change batch: Edit > History lists it, and undo gives the tasks back.
        batch = ChangeBatch(
            branch_id=user.branch_id,
            kind=REASSIGN_KIND,
            actor=user.login,
            created_at=now,
            plan=json.dumps(
                {"applied": {"tasks": [[r.id, r.specialist_id, to_specialist_id] for r in moved]}}
            ),
        )
        session.add(batch)
        session.flush()
        stamp = partial(
            event,
            actor=user.login,
            at=now,
            effective_on=local_date(now, tz),
            batch=batch.id,
            reason=AssignmentReason.MANUAL,
        )
        session.execute(
            cast(Table, AssignmentEvent.__table__).insert(),
            [stamp(task_id=r.id, src=r.specialist_id, dst=to_specialist_id) for r in moved],
        )
    return Reassigned(
        task_ids=tuple(r.id for r in moved),
        from_specialist_ids=frozenset(r.specialist_id for r in moved if r.specialist_id),
        to_specialist_id=to_specialist_id,
    )


def _reassign_target(session: Session, user: UserInfo, to_specialist_id: int) -> Specialist:
    """The specialist tasks go to: in the user's branch, active, and in the user's teams."""
    target = session.get(Specialist, to_specialist_id)
    if target is None:
        raise NotFound("specialist.not_found", specialist=to_specialist_id)
    if target.branch_id != user.branch_id:
        raise NotAllowed("tasks.target_other_branch", name=target.name)
    if target.status.value != "active":
        raise NotAllowed(
            "tasks.target_not_active",
            who=Message("who.person", name=target.name, employee_no=target.employee_no),
        )
    scope = user.team_scope()
    if scope is not None and target.team_id not in scope:
        raise NotAllowed("tasks.target_other_team", name=target.name)
    return target


def _reassignable_tasks(session: Session, user: UserInfo, versions: dict[int, int]) -> list[Any]:
    """Read the tasks and check each still exists unchanged, is open, and is in the user's
    branch and teams."""
    scope = user.team_scope()
    ids = sorted(versions)
    # Whose team a task belongs to: its holder's; for a task nobody holds, the team of the
    # customer's specialist, else of the owner of the customer's grid.
    holder, server, owner = aliased(Specialist), aliased(Specialist), aliased(Specialist)
    rows = session.execute(
        select(
            Task.id,
            Task.task_no,
            Task.status,
            Task.version,
            Task.specialist_id,
            func.coalesce(holder.team_id, server.team_id, owner.team_id).label("team_id"),
            Customer.branch_id,
        )
        .join(Customer, Customer.id == Task.customer_id)
        .outerjoin(holder, holder.id == Task.specialist_id)
        .outerjoin(server, server.id == Customer.specialist_id)
        .outerjoin(Grid, Grid.id == Customer.grid_id)
        .outerjoin(owner, owner.id == Grid.owner_id)
        .where(Task.id.in_(ids))
    ).all()
    found = {r.id: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound("tasks.gone", n=len(missing))
    elsewhere = [r.task_no for r in rows if r.branch_id != user.branch_id]
    if elsewhere:
        raise NotAllowed("tasks.other_branch", tasks=elsewhere[:5])
    stale = [r.task_no for r in rows if r.version != versions[r.id]]
    if stale:
        raise StaleData(
            "tasks.changed_more" if len(stale) > 5 else "tasks.changed",
            n=len(stale),
            tasks=stale[:5],
        )
    closed = [r.task_no for r in rows if not TaskStatus(r.status).is_open]
    if closed:
        raise NotAllowed("tasks.closed", tasks=closed[:5])
    if scope is not None:
        outside = [r.task_no for r in rows if r.team_id not in scope]
        if outside:
            raise NotAllowed("tasks.outside_team", tasks=outside[:5])
    return list(rows)


def open_task_counts(
    session: Session, *, specialist_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Return open tasks per specialist id."""
    stmt = (
        select(Task.specialist_id, func.count())
        .where(Task.status.in_(OPEN_TASK_STATUSES), Task.specialist_id.is_not(None))
        .group_by(Task.specialist_id)
    )
    if specialist_ids is not None:
        stmt = stmt.where(Task.specialist_id.in_(list(specialist_ids)))
    return {sid: n for sid, n in session.execute(stmt) if sid is not None}
