"""The ``assignments`` kind: who served each customer and owned each grid, as a branch kept it
before GridDesk (DOMAIN.md, "Exchange files").

A row says "from ``effective_on`` on, this customer (or grid) is served (owned) by
``employee_no``" (nobody when it is empty). Rows are checked a chunk at a time like every
kind's, but written only once the whole file has been read, since one customer's rows may lie
anywhere in it. Then, per customer and per grid, its rows in date order give:

- one assignment event per row, from the previous row's specialist (for the first row: whoever
  the history already had serving them the day before) to the row's, effective on the row's
  day, recorded now;
- a row the history already holds (same customer or grid, day and specialist) is not written
  again, so a re-import adds nothing; when rows were added before it in the file since, the
  held event's "from" is set to the row before it, so the two agree;
- the customer's specialist (the grid's owner) becomes that of the latest row in effect today
  (rows dated later are recorded, to take effect on their day) unless a later change in
  effect today is on record, so the current state agrees with the history. Events recorded
  in GridDesk are otherwise left as they are.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Branch, ChangeBatch, Customer, Grid, Specialist
from app.models.base import utcnow
from app.models.enums import AssignmentReason, SpecialistStatus
from app.services.customers.history import IMPORT_KIND, counted
from app.services.database.sqlfuncs import one_of
from app.services.errors import NotAllowed
from app.services.importer.kinds import FileReason
from app.services.importer.scope import ids_in_branch
from app.services.importer.store import LOOKUP_CHUNK, table_of
from app.services.messages import Message

if TYPE_CHECKING:
    from app.services.importer.context import Context, Pending
    from app.services.rebalance.changes import UndoResult

CUSTOMER, GRID = "customer", "grid"
_NOUNS = {CUSTOMER: "noun.customer", GRID: "noun.grid"}  # for the messages
# Per holder: the event column naming it, its table, and the column of its current specialist.
HOLDERS = {
    CUSTOMER: (AssignmentEvent.customer_id, Customer, "specialist_id"),
    GRID: (AssignmentEvent.grid_id, Grid, "owner_id"),
}


def write_assignments(ctx: Context, chunk: list[Pending]) -> list[tuple[int, str, str]]:
    """Check a chunk of rows (exactly one of customer and grid; every number known in the
    branch) and hold them for ``write_history``; return the problems found."""
    s, bid = ctx.session, ctx.branch_id
    customers = ids_in_branch(s, Customer.customer_no, (p.values.get("customer_no") for p in chunk), bid)  # fmt: skip
    grids = ids_in_branch(s, Grid.code, (p.values.get("grid_code") for p in chunk), bid)
    people = ids_in_branch(s, Specialist.employee_no, (p.values.get("employee_no") for p in chunk), bid)  # fmt: skip
    problems: list[tuple[int, str, str]] = []
    held: list[tuple[tuple[str, int], date, int | None, AssignmentReason]] = []
    for p in chunk:
        v = p.values
        customer_no, grid_code, employee_no = (v.get(c) for c in ("customer_no", "grid_code", "employee_no"))  # fmt: skip
        if customer_no is not None and grid_code is not None:
            msg = "a row changes either a customer or a grid: leave customer_no or grid_code empty"
            problems.append((p.row, "grid_code", msg))
            continue
        if customer_no is None and grid_code is None:
            msg = "is empty, and so is grid_code: give the customer whose specialist changed or the grid whose owner did"  # fmt: skip
            problems.append((p.row, "customer_no", msg))
            continue
        if customer_no is not None:
            holder, holder_id = CUSTOMER, customers.get(customer_no)
            unknown = (p.row, "customer_no", f"no customer '{customer_no}' in this branch (import the customers first)")  # fmt: skip
        else:
            holder, holder_id = GRID, grids.get(grid_code)
            unknown = (p.row, "grid_code", f"no grid '{grid_code}' in this branch (import the grids first)")  # fmt: skip
        ok = holder_id is not None
        if not ok:
            problems.append(unknown)
        specialist_id = None if employee_no is None else people.get(employee_no)
        if employee_no is not None and specialist_id is None:
            msg = f"no specialist '{employee_no}' in this branch (import the specialists first)"
            problems.append((p.row, "employee_no", msg))
            ok = False
        if ok and holder_id is not None:
            reason = AssignmentReason(v.get("reason") or FileReason.MANUAL)
            held.append(((holder, holder_id), v["effective_on"], specialist_id, reason))
    if problems or not ctx.write:
        return problems
    for key, day, specialist_id, reason in held:
        # A row given twice lands on the same day; one with other values the key log refuses.
        ctx.assignments.setdefault(key, {})[day] = (specialist_id, reason)
    return []


class Recorded(NamedTuple):
    """An assignment event already on record."""

    id: int
    day: date
    from_id: int | None
    to_id: int | None


@dataclass
class Plan:
    """What one customer's (or grid's) rows write."""

    new: list[tuple[date, int | None, int | None, AssignmentReason]] = field(default_factory=list)
    matched: int = 0
    current: tuple[int | None] | None = None  # (specialist id,) when it changes


def plan_timeline(
    rows: list[tuple[date, tuple[int | None, AssignmentReason]]],
    recorded: list[Recorded],
    current: int | None,
    today: date,
) -> Plan:
    """Return what the rows of one holder (in date order) write, given its events on record
    (in effect order: effective day, recording time, id) and its current specialist."""
    plan = Plan()
    days = [r.day for r in recorded]
    first = bisect_left(days, rows[0][0])  # the first change on or after the first row's day
    previous = recorded[first].from_id if first < len(recorded) else current
    held: dict[tuple[date, int | None], int] = {}  # (day, to) -> position in ``recorded``
    for i, r in enumerate(recorded):
        held.setdefault((r.day, r.to_id), i)
    # The last row in effect today: (its day, its specialist, its event's position if held).
    now: tuple[date, int | None, int | None] | None = None
    for day, (to_id, reason) in rows:
        pos = held.get((day, to_id))
        if pos is None:
            plan.new.append((day, previous, to_id, reason))
        else:
            # On record already. Its "from" stays as recorded: history is never rewritten, and
            # "who served on day D" reads the "to" of the last change in effect (history.py).
            plan.matched += 1
        if day <= today:
            now = (day, to_id, pos)
        previous = to_id
    if now is None:
        return plan  # every row is still to come
    day, to_id, pos = now
    # That row's change must be the last in effect today: a new event is recorded after every
    # event of its day; a held one must be the last on record up to today.
    in_effect = bisect_right(days, today)
    latest = pos == in_effect - 1 if pos is not None else bisect_right(days, day) == in_effect
    if latest and to_id != current:
        plan.current = (to_id,)
    return plan


def write_history(ctx: Context) -> None:
    """Write the held rows as assignment events and bring the current specialists and grid
    owners up to date (see the module's docstring)."""
    now = utcnow()
    today = now.astimezone(ctx.tz).date()
    # One change batch: Edit > History lists the import, and its undo (app.services.importer.
    # undo_history) takes it back with what each holder had before.
    batch = ChangeBatch(branch_id=ctx.branch_id, kind=IMPORT_KIND, actor=ctx.actor, created_at=now)
    ctx.session.add(batch)
    ctx.session.flush()
    written = 0
    before: dict[str, int | None] = {}  # "customer:ID" -> its specialist before the import
    for holder in (CUSTOMER, GRID):
        ids = sorted(i for h, i in ctx.assignments if h == holder)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            recorded, current = _recorded(ctx.session, holder, chunk)
            plans = {
                i: plan_timeline(
                    sorted(ctx.assignments[(holder, i)].items()),
                    recorded.get(i, []),
                    current.get(i),
                    today,
                )  # fmt: skip
                for i in chunk
            }
            before.update(
                {f"{holder}:{i}": current.get(i) for i, p in plans.items() if p.current is not None}
            )
            _write(ctx.session, holder, plans, now, batch.id, ctx.actor)
            written += sum(len(p.new) for p in plans.values())
            ctx.count(sum(len(p.new) for p in plans.values()), sum(p.matched for p in plans.values()))  # fmt: skip
            if holder == CUSTOMER:
                ctx.customer_ids.update(
                    i for i, p in plans.items() if p.new or p.current is not None
                )
    if written:
        batch.plan = json.dumps(
            {"applied": {"customers": [], "events": written}, "current_before": before}
        )
    else:
        ctx.session.delete(batch)  # a re-import that changed nothing lists nothing
    ctx.session.flush()


def _recorded(
    session: Session, holder: str, ids: list[int]
) -> tuple[dict[int, list[Recorded]], dict[int, int | None]]:
    """Return the events on record of these holders, in effect order, and their current
    specialist."""
    column, model, current_column = HOLDERS[holder]
    e = AssignmentEvent
    stmt = (
        select(column, e.id, e.effective_on, e.from_specialist_id, e.to_specialist_id)
        .where(one_of(session, column, ids), counted())
        .order_by(column, e.effective_on, e.at, e.id)
    )
    recorded: dict[int, list[Recorded]] = {}
    for holder_id, event_id, day, from_id, to_id in session.execute(stmt):
        assert holder_id is not None
        recorded.setdefault(holder_id, []).append(Recorded(event_id, day, from_id, to_id))
    t = table_of(model)
    rows = session.execute(select(t.c.id, t.c[current_column]).where(one_of(session, t.c.id, ids)))
    return recorded, {i: sid for i, sid in rows}


def _write(
    session: Session, holder: str, plans: dict[int, Plan], now, batch_id: int, actor: str
) -> None:
    column, model, current_column = HOLDERS[holder]
    events = [
        {"customer_id": None, "grid_id": None, "task_id": None, column.key: holder_id,
         "from_specialist_id": from_id, "to_specialist_id": to_id, "reason": reason,
         "actor": actor, "at": now, "effective_on": day, "batch_id": batch_id}
        for holder_id, plan in plans.items()
        for day, from_id, to_id, reason in plan.new
    ]  # fmt: skip
    if events:
        session.execute(insert(table_of(AssignmentEvent)), events)
    moved = [{"h": i, "s": p.current[0]} for i, p in plans.items() if p.current is not None]
    if moved:
        t = table_of(model)
        session.execute(
            update(t)
            .where(t.c.id == bindparam("h"))
            .values({current_column: bindparam("s"), "version": t.c.version + 1}),
            moved,
        )


def undo_import(
    session: Session, batch_id: int, *, actor: str, team_scope: Collection[int] | None
) -> UndoResult:
    """Take back an imported history, in the caller's transaction: its rows stay (none is ever
    deleted) but no longer count (app.services.customers.history.counted), and every customer and grid
    whose specialist the import set gets back the one they had. Refused, with nothing written,
    when any of them changed hands since."""
    from app.services.rebalance.changes import Stale, close_batch

    if team_scope is not None:
        raise NotAllowed("import.senior_only_undo")
    batch = session.get(ChangeBatch, batch_id)
    assert batch is not None
    record = json.loads(batch.plan or "{}")
    e = AssignmentEvent
    rows = session.execute(
        select(e.id, e.customer_id, e.grid_id).where(e.batch_id == batch_id)
    ).all()
    last = max((r.id for r in rows), default=0)
    before = {
        (holder, int(raw)): sid
        for key, sid in record.get("current_before", {}).items()
        for holder, _, raw in [key.partition(":")]
    }
    # Every holder the import touched: those it wrote rows for, and those whose specialist it
    # set without one (a row already on record).
    customers = sorted(
        {r.customer_id for r in rows if r.customer_id is not None}
        | {i for h, i in before if h == CUSTOMER}
    )
    grids = sorted(
        {r.grid_id for r in rows if r.grid_id is not None} | {i for h, i in before if h == GRID}
    )
    tz = session.scalar(select(Branch.timezone).where(Branch.id == batch.branch_id))
    stale = Stale(session, tz or "Asia/Shanghai", since="since.import")
    for holder, column, ids in ((CUSTOMER, e.customer_id, customers), (GRID, e.grid_id, grids)):
        for start in range(0, len(ids), LOOKUP_CHUNK):
            part = ids[start : start + LOOKUP_CHUNK]
            for changed in session.scalars(
                select(column).where(column.in_(part), e.id > last, counted()).distinct()
            ):
                stale.add(
                    "stale.changed_hands",
                    what=Message(_NOUNS[holder]),
                    label=changed,
                    since=stale.since,
                )
    # Nobody gets work back who no longer works (as for every undo).
    receivers = sorted({sid for sid in before.values() if sid is not None})
    for name, status in session.execute(
        select(Specialist.name, Specialist.status).where(Specialist.id.in_(receivers))
    ):
        if status != SpecialistStatus.ACTIVE:
            stale.add("stale.not_active", who=name, specialist_status=status)
    stale.raise_if_any("advice.import_undo_whole")
    now = utcnow()
    undo = close_batch(
        session, batch_id, batch.branch_id, actor=actor, now=now, what=Message("noun.import")
    )
    for (holder, holder_id), specialist_id in before.items():
        _column, model, current_column = HOLDERS[holder]
        t = table_of(model)
        session.execute(
            update(t)
            .where(t.c.id == holder_id)
            .values({current_column: specialist_id, "version": t.c.version + 1})
        )
    from app.services.rebalance.changes import UndoResult

    return UndoResult(
        batch_id=batch_id,
        undo_batch_id=undo.id,
        grids_restored=len(grids),
        customers_restored=len(customers),
        tasks_restored=0,
        tasks_kept=0,
        sms_queued=0,
        sms_replaced=0,
        sms_withdrawn=0,
        specialist_ids=frozenset(),
    )
