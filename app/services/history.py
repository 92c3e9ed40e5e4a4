"""Who served a customer on a given day, from the assignment history."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Customer
from app.services.clock import end_of_day


class ServingTimeline:
    """The customer moves of some customers, to answer "who served them on day D"."""

    def __init__(
        self, events: dict[int, list[tuple[datetime, int | None]]], current: dict[int, int | None]
    ):
        # events[customer] = [(at, from_specialist_id)] in time order
        self._events = events
        self._times = {c: [at for at, _ in ev] for c, ev in events.items()}
        self._current = current

    @classmethod
    def load(cls, session: Session, customer_ids: Iterable[int] | None = None) -> ServingTimeline:
        """Read the customer moves (and current specialists) of the given customers (or all)."""
        stmt = (
            select(
                AssignmentEvent.customer_id, AssignmentEvent.at, AssignmentEvent.from_specialist_id
            )
            .where(AssignmentEvent.customer_id.is_not(None))
            .order_by(AssignmentEvent.customer_id, AssignmentEvent.at, AssignmentEvent.id)
        )
        cur = select(Customer.id, Customer.specialist_id)
        ids = None if customer_ids is None else sorted(set(customer_ids))
        events: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
        current: dict[int, int | None] = {}
        chunks = [None] if ids is None else [ids[i : i + 5000] for i in range(0, len(ids), 5000)]
        for chunk in chunks:
            s1 = stmt if chunk is None else stmt.where(AssignmentEvent.customer_id.in_(chunk))
            for cid, at, frm in session.execute(s1):
                events[cid].append((at, frm))
            s2 = cur if chunk is None else cur.where(Customer.id.in_(chunk))
            current.update({cid: sid for cid, sid in session.execute(s2)})
        return cls(dict(events), current)

    def has_moves(self, customer_id: int) -> bool:
        return customer_id in self._events

    def moved_customers(self) -> list[int]:
        """Return the customers with at least one move on record."""
        return list(self._events)

    def specialist_on(self, customer_id: int, day: date, tz: str | None = None) -> int | None:
        """Return who served the customer on ``day``: the specialist the first move after that
        day took them from, or today's specialist when they have not moved since."""
        times = self._times.get(customer_id)
        if times:
            # A move during the day itself counts: the new specialist served that day.
            i = bisect_left(times, end_of_day(day, tz))
            if i < len(times):
                return self._events[customer_id][i][1]
        return self._current.get(customer_id)


def specialist_on(session: Session, customer_id: int, day: date) -> int | None:
    """Return the id of the specialist who served ``customer_id`` on ``day`` (None: nobody)."""
    return ServingTimeline.load(session, [customer_id]).specialist_on(customer_id, day)
