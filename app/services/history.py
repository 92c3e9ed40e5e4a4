"""Who served a customer on a given day, from the assignment history.

The rule (the same the persistency base applies in SQL): the specialist a customer had on day
D is the ``from_specialist_id`` of their first move at or after the end of D (the next local
midnight in the branch's time zone), or their current specialist when they have not moved
since. A move during D itself therefore counts: the new specialist served that day.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, Branch, Customer
from app.services.clock import end_of_day

CHUNK = 5_000


class ServingTimeline:
    """The moves of some customers, to answer "who served them on day D"."""

    def __init__(
        self,
        events: dict[int, list[tuple[datetime, int | None]]],
        current: dict[int, int | None],
        zones: dict[int, str | None] | None = None,
    ):
        # events[customer] = [(at, from_specialist_id)] in time order
        self._events = events
        self._times = {c: [at for at, _ in ev] for c, ev in events.items()}
        self._current = current
        self._zones = zones or {}

    @classmethod
    def load(cls, session: Session, customer_ids: Iterable[int] | None = None) -> ServingTimeline:
        """Return the timeline of the given customers (all when None), read in chunks."""
        stmt = (
            select(
                AssignmentEvent.customer_id, AssignmentEvent.at, AssignmentEvent.from_specialist_id
            )
            .where(AssignmentEvent.customer_id.is_not(None))
            .order_by(AssignmentEvent.customer_id, AssignmentEvent.at, AssignmentEvent.id)
        )
        cur = select(Customer.id, Customer.specialist_id, Branch.timezone).join(
            Branch, Branch.id == Customer.branch_id
        )
        ids = None if customer_ids is None else sorted(set(customer_ids))
        chunks = [None] if ids is None else [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        events: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
        current: dict[int, int | None] = {}
        zones: dict[int, str | None] = {}
        for chunk in chunks:
            s1 = stmt if chunk is None else stmt.where(AssignmentEvent.customer_id.in_(chunk))
            for cid, at, frm in session.execute(s1):
                if cid is not None:
                    events[cid].append((at, frm))
            s2 = cur if chunk is None else cur.where(Customer.id.in_(chunk))
            for cid, sid, tz in session.execute(s2):
                current[cid] = sid
                zones[cid] = tz
        return cls(dict(events), current, zones)

    def moved_customers(self) -> list[int]:
        """Return the customers with at least one move on record."""
        return list(self._events)

    def specialist_on(self, customer_id: int, day: date) -> int | None:
        """Return who served the customer on ``day`` (None: nobody, or an unknown customer)."""
        times = self._times.get(customer_id)
        if times:
            i = bisect_left(times, end_of_day(day, self._zones.get(customer_id)))
            if i < len(times):
                return self._events[customer_id][i][1]
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
