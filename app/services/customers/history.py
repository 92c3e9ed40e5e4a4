"""Who served a customer on a given day, from the assignment history.

The rule (the same the persistency base applies in SQL): moves are read in the order they take
effect (``effective_on``, in the branch's calendar; moves of the same day in the order they
were recorded). The specialist a customer had on day D is their current one when no move takes
effect after D; otherwise whom the last move in effect on D gave them to, or, when no move was
in effect yet, whom the first later move took them from. (When every move's "from" is the one
before's "to" the two halves agree; the first is right where an imported history left a gap.) A move taking effect
on D itself therefore counts: the new specialist served that day. The day a change was
*recorded* plays no part: an intake run today for a pool entry of 2024-01-15 serves from then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, ChangeBatch, Customer

CHUNK = 5_000
# The change batch of an imported assignment history (app.services.importer.assignments).
IMPORT_KIND = "assignments"


def counted() -> ColumnElement[bool]:
    """The assignment events that count: all but those of an imported history since undone
    (its rows stay, as every row does, but no longer say who served whom)."""
    e = AssignmentEvent
    return ~exists(
        select(ChangeBatch.id).where(
            ChangeBatch.id == e.batch_id,
            ChangeBatch.kind == IMPORT_KIND,
            ChangeBatch.undone_at.is_not(None),
        )
    )


class ServingTimeline:
    """The moves of some customers, to answer "who served them on day D"."""

    def __init__(
        self,
        events: dict[int, list[tuple[date, int | None, int | None]]],
        current: dict[int, int | None],
    ):
        # events[customer] = [(effective_on, from_specialist_id, to_specialist_id)], in effect
        # order
        self._events = events
        self._days = {c: [ev_[0] for ev_ in ev] for c, ev in events.items()}
        self._current = current

    @classmethod
    def load(cls, session: Session, customer_ids: Iterable[int] | None = None) -> ServingTimeline:
        """Return the timeline of the given customers (all when None), read in chunks."""
        e = AssignmentEvent
        stmt = (
            select(e.customer_id, e.effective_on, e.from_specialist_id, e.to_specialist_id)
            .where(e.customer_id.is_not(None), counted())
            .order_by(e.customer_id, e.effective_on, e.at, e.id)
        )
        cur = select(Customer.id, Customer.specialist_id)
        ids = None if customer_ids is None else sorted(set(customer_ids))
        chunks = [None] if ids is None else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        events: dict[int, list[tuple[date, int | None, int | None]]] = defaultdict(list)
        current: dict[int, int | None] = {}
        for chunk in chunks:
            s1 = stmt if chunk is None else stmt.where(e.customer_id.in_(chunk))
            for cid, day, frm, to in session.execute(s1):
                if cid is not None:
                    events[cid].append((day, frm, to))
            s2 = cur if chunk is None else cur.where(Customer.id.in_(chunk))
            for cid, sid in session.execute(s2):
                current[cid] = sid
        return cls(dict(events), current)

    def moved_customers(self) -> list[int]:
        """Return the customers with at least one move on record."""
        return list(self._events)

    def specialist_on(self, customer_id: int, day: date) -> int | None:
        """Return who served the customer on ``day`` (None: nobody, or an unknown customer)."""
        days = self._days.get(customer_id)
        if days:
            i = bisect_right(days, day)  # the first move taking effect after ``day``
            if i < len(days):
                moves = self._events[customer_id]
                return moves[i - 1][2] if i else moves[i][1]
        return self._current.get(customer_id)


def specialist_on(session: Session, customer_id: int, day: date) -> int | None:
    """Return the id of the specialist who served ``customer_id`` on ``day`` (None: nobody)."""
    return ServingTimeline.load(session, [customer_id]).specialist_on(customer_id, day)


def specialists_on(
    session: Session, pairs: Iterable[tuple[int, date]]
) -> dict[tuple[int, date], int | None]:
    """Return who served each (customer id, day) pair, keyed by the pair; one read per
    5,000 customers."""
    wanted = list(dict.fromkeys(pairs))
    timeline = ServingTimeline.load(session, {cid for cid, _ in wanted})
    return {(cid, day): timeline.specialist_on(cid, day) for cid, day in wanted}


def effective_days(
    session: Session, column: Any, ids: Sequence[int], day: date, *, today: date
) -> dict[int, date]:
    """Return, per customer (or grid) id of ``column``, the day a change asked for ``day`` can
    take effect: never before the last change on record for it that is in effect by
    ``today``. Each one's history then takes effect in the order it was recorded, so "who
    served on day D" reads one unbroken chain (a change dated before one already on record
    would cut it). A change still to come (an imported row dated next month) is not passed:
    it stays a change to come after this one."""
    out = dict.fromkeys(ids, day)
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        for holder, last in session.execute(
            select(column, func.max(AssignmentEvent.effective_on))
            .where(column.in_(part), counted(), AssignmentEvent.effective_on <= today)
            .group_by(column)
        ):
            if last is not None and last > day:
                out[holder] = last
    return out
