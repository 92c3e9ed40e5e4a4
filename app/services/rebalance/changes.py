"""What applying and undoing a rebalance share: one lock-and-check (the rows locked in one
order, each checked against who should hold it, the stale-data report), version-checked
writes, history rows and the specialist-change SMS."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import bindparam, desc, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, ChangeBatch, Customer, Grid, Specialist
from app.models.base import utcnow
from app.models.enums import AssignmentReason, GridStatus, SpecialistStatus
from app.services.changes import Changes, some_if
from app.services.clock import branch_tz, local_date
from app.services.customers.notify import SmsCounts, Told, tell_customers
from app.services.database.sqlfuncs import chunks as id_chunks
from app.services.errors import NotAllowed, StaleData
from app.services.intake.sms import SpecialistContact
from app.services.messages import Clauses, Message

BATCH_KIND = "rebalance"
UNDO_KIND = "undo"
CHUNK = 400
chunks = partial(id_chunks, size=CHUNK)  # this module's IN (...) lists
SHOWN = 5


@dataclass(frozen=True)
class Person:
    id: int
    employee_no: str
    name: str
    phone: str | None
    team_id: int
    status: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.employee_no})"

    @property
    def who(self) -> Message:
        """The specialist's name and employee number, for a message."""
        return Message("who.person", name=self.name, employee_no=self.employee_no)


@dataclass(frozen=True)
class Leaving:
    """A specialist who leaves (status ``left`` from ``on``) or goes on leave (``leave``), recorded
    with the hand-over of their work so that rebalancing and matching skip them from then on."""

    specialist_id: int
    status: SpecialistStatus
    on: date


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
    # Waiting messages taken back: replaced by this change's message, or withdrawn outright.
    sms_replaced: int
    sms_withdrawn: int
    specialist_ids: frozenset[int]

    @property
    def sms(self) -> SmsCounts:
        """What the change did to the outbox."""
        return SmsCounts(self.sms_queued, self.sms_replaced, self.sms_withdrawn)

    @property
    def changes(self) -> Changes:
        return Changes(
            customers=some_if(self.customers_restored),
            grids=some_if(self.grids_restored),
            tasks=some_if(self.tasks_restored),
            specialists=self.specialist_ids,
            batch_id=self.undo_batch_id,
            undone_batch_id=self.batch_id,
        )


def record_leaving(session: Session, leaving: Leaving) -> dict[str, Any]:
    """Set the specialist's status (and leaving date); return what it was and is now, for the
    change batch, so that undo can put it back."""
    row = session.execute(
        select(Specialist.status, Specialist.left_on, Specialist.version)
        .where(Specialist.id == leaving.specialist_id)
        .with_for_update(of=Specialist)
    ).one()
    left_on = leaving.on if leaving.status == SpecialistStatus.LEFT else None
    update_one(
        session,
        Specialist,
        leaving.specialist_id,
        row.version,
        what=Message("named.specialist", specialist=leaving.specialist_id),
        status=leaving.status,
        left_on=left_on,
    )
    expire(session, Specialist, {leaving.specialist_id})
    return {
        "specialist_id": leaving.specialist_id,
        "status_before": str(row.status),
        "left_on_before": row.left_on.isoformat() if row.left_on else None,
        "status": str(leaving.status),
        "left_on": left_on.isoformat() if left_on else None,
    }


def restore_leaving(session: Session, recorded: dict[str, Any], stale: Stale) -> bool:
    """Put back the status a hand-over recorded, unless someone changed it since (then say so
    through ``stale``); return whether it was put back."""
    sid = int(recorded["specialist_id"])
    row = session.execute(
        select(Specialist.name, Specialist.status, Specialist.left_on, Specialist.version)
        .where(Specialist.id == sid)
        .with_for_update(of=Specialist)
    ).one()
    now_left_on = row.left_on.isoformat() if row.left_on else None
    if str(row.status) != recorded["status"] or now_left_on != recorded["left_on"]:
        stale.add("stale.status_changed", name=row.name, since=stale.since)
        return False
    before = recorded["left_on_before"]
    update_one(
        session,
        Specialist,
        sid,
        row.version,
        what=Message("named.specialist", specialist=row.name),
        status=SpecialistStatus(recorded["status_before"]),
        left_on=date.fromisoformat(before) if before else None,
    )
    expire(session, Specialist, {sid})
    return True


def close_batch(
    session: Session, batch_id: int, branch_id: int, *, actor: str, now: datetime, what: Message
) -> ChangeBatch:
    """Mark the change batch undone by ``actor`` (refusing if someone did meanwhile) and return
    the undo batch that records it, flushed. ``what`` names the kind of change, for the
    refusal."""
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
        raise StaleData("undo.undone_meanwhile", what=what, batch=batch_id)
    expire(session, ChangeBatch, {batch_id})
    undo = ChangeBatch(
        branch_id=branch_id,
        kind=UNDO_KIND,
        actor=actor,
        created_at=now,
        plan=json.dumps({"undoes": batch_id}),
    )
    session.add(undo)
    session.flush()
    return undo


def outside_scope(people: Iterable[Person], team_scope: Collection[int] | None) -> None:
    """Raise NotAllowed when any of ``people`` is outside ``team_scope`` (the teams a supervisor
    leads; None for a user who sees the whole branch): a change may touch only the customers,
    grids and tasks of the user's own teams."""
    if team_scope is None:
        return
    outside = sorted({p.label: p.who for p in people if p.team_id not in team_scope}.items())
    shown = [who for _, who in outside[:3]]
    if len(outside) > 3:
        raise NotAllowed("change.outside_teams_more", people=shown, more=len(outside) - 3)
    if outside:
        raise NotAllowed("change.outside_teams", people=shown)


class Stale:
    """Collects what changed, and raises one StaleData that lists it."""

    def __init__(self, session: Session, tz: str, *, since: str) -> None:
        self.session = session
        self.tz = tz
        # Since when the changes count, for the messages: a code ("since.plan").
        self.since = Message(since)
        self.reasons: list[Message] = []

    def add(self, code: str, **params: object) -> None:
        """Note a change: a code of the message catalogue and its parameters."""
        self.reasons.append(Message(code, **params))

    def reassigned(
        self, what: str, label: str, *, column, row_id: int, after: datetime | int, now_id
    ) -> None:
        """Say who gave ``what label`` to whom (``what`` is a noun's code: "noun.grid"), from
        the newest history row after ``after`` (a time, or an event id), else just who holds
        it now."""
        stmt = select(AssignmentEvent.actor, AssignmentEvent.at, AssignmentEvent.to_specialist_id)
        stmt = stmt.where(column == row_id)
        if isinstance(after, datetime):
            stmt = stmt.where(AssignmentEvent.at > after)
        else:
            stmt = stmt.where(AssignmentEvent.id > after)
        event = self.session.execute(stmt.order_by(desc(AssignmentEvent.id)).limit(1)).first()
        holder = self._who(now_id)
        noun = Message(what)
        if event is None:
            self.add("stale.now_with", what=noun, label=label, holder=holder, since=self.since)
            return
        actor, at, _ = event
        self.add(
            "stale.reassigned",
            what=noun,
            label=label,
            holder=holder,
            actor=actor,
            when=self._when(at),
            since=self.since,
        )

    def _who(self, specialist_id: int | None) -> Message:
        if specialist_id is None:
            return Message("who.nobody")
        row = self.session.execute(
            select(Specialist.name, Specialist.employee_no).where(Specialist.id == specialist_id)
        ).first()
        if row is None:
            return Message("named.specialist", specialist=specialist_id)
        return Message("who.person", name=row[0], employee_no=row[1])

    def _when(self, at: datetime) -> Message:
        local = at.astimezone(branch_tz(self.tz))
        if local_date(utcnow(), self.tz) == local.date():
            return Message("when.today", time=f"{local:%H:%M}")
        return Message("when.day", day=f"{local:%Y-%m-%d}", time=f"{local:%H:%M}")

    def raise_if_any(self, advice: str) -> None:
        """Raise StaleData listing the changes noted, if any; ``advice`` (a code) says what to
        do about them."""
        if not self.reasons:
            return
        shown = Clauses(self.reasons[:SHOWN])
        more = len(self.reasons) - SHOWN
        if more > 0:
            raise StaleData("stale.changes_more", changes=shown, more=more, advice=Message(advice))
        raise StaleData("stale.changes", changes=shown, advice=Message(advice))


def lock_rows(
    session: Session, model, columns: Sequence, key, keys: Iterable, *where
) -> Iterator[Any]:
    """Lock and yield the rows of ``model`` whose ``key`` is one of ``keys`` (``SELECT … FOR
    UPDATE``), chunk by chunk and in id order: apply and undo lock grids, then customers, then
    tasks, each in id order, so two writers take turns and never deadlock, and each row read
    stays as read until the commit."""
    for chunk in chunks(sorted(set(keys))):
        yield from session.execute(
            select(*columns)
            .where(key.in_(chunk), *where)
            .order_by(model.id)
            .with_for_update(of=model)
        )


def check_holder(
    stale: Stale,
    what: str,
    label: str,
    *,
    expected: int | None,
    now: int | None,
    column,
    row_id: int,
    after: datetime | int,
) -> bool:
    """Note in ``stale`` a grid, customer or task no longer held by whom the change expects
    (``what``: a noun's code; ``after``: when the change was made, as a time or an event id);
    return True when it changed hands."""
    if now == expected:
        return False
    stale.reassigned(what, label, column=column, row_id=row_id, after=after, now_id=now)
    return True


GRID_COLUMNS = (Grid.id, Grid.code, Grid.owner_id, Grid.locked, Grid.status, Grid.version)


def check_grid(
    stale: Stale, g: Any, *, label: str, owner: int | None, after: datetime | int
) -> bool:
    """Note in ``stale`` a grid (a row of GRID_COLUMNS) that is no longer ``owner``'s, or is
    locked or retired since; return True when it changed hands."""
    if check_holder(
        stale,
        "noun.grid",
        label,
        expected=owner,
        now=g.owner_id,
        column=AssignmentEvent.grid_id,
        row_id=g.id,
        after=after,
    ):
        return True
    if g.locked:
        stale.add("stale.grid_locked", grid=label, since=stale.since)
    elif g.status != GridStatus.ACTIVE:
        stale.add("stale.grid_retired", grid=label, since=stale.since)
    return False


def customer_columns():
    return (
        Customer.id,
        Customer.customer_no,
        Customer.name,
        Customer.id_number,
        Customer.grid_id,
        Customer.specialist_id,
        Customer.locked,
        Customer.step,
        Customer.version,
    )


def update_one(session: Session, model, row_id: int, seen: int, *, what: Message, **values) -> None:
    """Write one row if it still has the version seen; the caller expires cached copies.
    ``what`` names the row, for the refusal."""
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
        raise StaleData("stale.changed_while_saving", what=what)


def update_many(session: Session, model, rows: Sequence[tuple[int, int, int]], column: str):
    """Set ``column`` of each (id, version seen, value) row, checking every version."""
    table = model.__table__
    stmt = (
        table.update()
        .where(table.c.id == bindparam("row_id"), table.c.version == bindparam("seen"))
        .values({column: bindparam("value"), "version": bindparam("next")})
    )
    for chunk in id_chunks(list(rows), 5000):
        params = [{"row_id": i, "seen": v, "value": x, "next": v + 1} for i, v, x in chunk]
        result = cast(CursorResult, session.execute(stmt, params))
        # Both drivers report the rows an executemany changed (supports_sane_multi_rowcount).
        if result.rowcount != len(chunk):
            raise StaleData(
                "stale.rows_changed_while_saving", rows=Message(_ROWS[model.__tablename__])
            )
    expire(session, model, {r[0] for r in rows})


# The rows update_many writes, named for a refusal.
_ROWS = {"customer": "noun.customer_rows", "task": "noun.task_rows"}


def expire(session: Session, model, ids: set[int]) -> None:
    """Forget cached ORM copies of rows changed here by Core updates."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:
            session.expire(obj)


def event(
    *,
    src: int | None,
    dst: int | None,
    actor: str,
    at: datetime,
    effective_on: date,
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
        "effective_on": effective_on,
        "batch_id": batch,
    }


def queue_sms(
    session: Session,
    signature: str,
    moved: Sequence[tuple[Any, int | None, int | None]],
    people: dict[int, Person],
    now: datetime,
) -> SmsCounts:
    """Tell each (customer row, specialist id before, specialist id now; None for nobody) who
    serves them now, one waiting message per customer at most (``app.services.customers.notify``); return
    what changed in the outbox."""
    missing = {dst for _, _, dst in moved if dst is not None} - set(people)
    if missing:
        for r in session.execute(
            select(Specialist.id, Specialist.employee_no, Specialist.name, Specialist.phone).where(
                Specialist.id.in_(sorted(missing))
            )
        ):
            people[r[0]] = Person(r[0], r[1], r[2], r[3], 0, "")
    told = [
        Told(
            customer_id=c.id,
            name=c.name,
            id_number=c.id_number,
            specialist_id=dst,
            contact=None if dst is None else SpecialistContact(people[dst].name, people[dst].phone),
            before_id=src,
        )
        for c, src, dst in moved
    ]
    return tell_customers(session, told, signature=signature, now=now)
