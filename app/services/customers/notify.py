"""Telling customers who serves them: one waiting SMS per customer at most, and none for a change
the customer never needs to hear about.

Every change of a customer's specialist (intake, unmatched-queue filing, rebalance, hand-over,
undo) goes through ``tell_customers``. The outbox keeps at most one message per customer waiting
to be sent: a later change before the gateway took it replaces it. Each message remembers the
specialist the customer knew before it (the one they had when the first of a chain of unsent
messages was queued); a change that returns the customer to that specialist withdraws what waits
and queues nothing. So applying a plan and undoing it before the outbox is exported texts
nobody; after the export, undo queues one correction naming the specialist the customer has
again.

Withdrawn messages stay in the outbox with the status ``withdrawn`` and the reason, for the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from app.models import Notification
from app.models.enums import NotificationStatus, NotificationTemplate
from app.services.database.sqlfuncs import chunks as id_chunks
from app.services.intake.sms import SpecialistContact, agent_change_text, specialist_change_text

CHUNK = 500
_chunks = partial(id_chunks, size=CHUNK)  # this module's IN (...) lists


@dataclass(frozen=True)
class SmsCounts:
    """What a change did to the outbox."""

    queued: int = 0  # new messages, where none was waiting
    replaced: int = 0  # a waiting message withdrawn and a new one queued in its place
    withdrawn: int = 0  # a waiting message withdrawn and nothing queued

    def __add__(self, other: SmsCounts) -> SmsCounts:
        return SmsCounts(
            self.queued + other.queued,
            self.replaced + other.replaced,
            self.withdrawn + other.withdrawn,
        )

    @property
    def waiting_added(self) -> int:
        """Messages now waiting that were not before (queued), net of those taken back."""
        return self.queued - self.withdrawn


@dataclass(frozen=True)
class Told:
    """A customer whose specialist changed: who served them just before (None: nobody) and who
    serves them now (None: nobody)."""

    customer_id: int
    name: str
    id_number: str | None
    specialist_id: int | None
    contact: SpecialistContact | None
    before_id: int | None = None


def tell_customers(
    session: Session,
    told: Sequence[Told],
    *,
    signature: str,
    now: datetime,
    agent_left: bool = False,
    dry_run: bool = False,
) -> SmsCounts:
    """Bring the outbox up to date with ``told`` in the caller's transaction; return the counts
    (with ``dry_run``, only the counts: nothing is written, for a confirmation to quote).

    ``agent_left`` is for customers entering the pool: their message says their agent left and
    who serves them now. A waiting agent-change message is rewritten as an agent-change message
    too, so the customer still learns why.
    """
    waiting = _waiting(session, [t.customer_id for t in told])
    withdraw: list[tuple[int, str]] = []
    rows: list[dict] = []
    queued = replaced = withdrawn = 0
    for t in told:
        pending = waiting.get(t.customer_id, [])
        # Whom the customer knows: as before the first message still waiting, else as just now.
        known = pending[0].known_id if pending else t.before_id
        # An agent-change text that has not left yet is never just taken back: whatever the
        # specialist now, the customer must still hear that their agent left.
        told_why = any(p.template == NotificationTemplate.AGENT_CHANGE for p in pending)
        agent_left_now = agent_left or told_why
        if not agent_left_now and (t.specialist_id == known or t.contact is None):
            why = (
                "back with the specialist the customer knew"
                if t.specialist_id == known
                else "nobody to name"
            )
            withdraw += [(p.id, f"withdrawn: {why}") for p in pending]
            withdrawn += len(pending)
            continue
        as_agent_change = agent_left_now or told_why
        withdraw += [(p.id, "replaced by a later change") for p in pending]
        if pending:
            replaced += 1
            withdrawn += len(pending) - 1
        else:
            queued += 1
        rows.append(_message(t, signature, now, as_agent_change, known))
    if dry_run:
        return SmsCounts(queued=queued, replaced=replaced, withdrawn=withdrawn)
    if withdraw:
        table: Table = Notification.__table__  # type: ignore[assignment]
        for reason in sorted({r for _, r in withdraw}):
            ids = [n for n, r in withdraw if r == reason]
            for part in _chunks(ids):
                session.execute(
                    update(table)
                    .where(table.c.id.in_(part), table.c.status == NotificationStatus.QUEUED)
                    .values(status=NotificationStatus.WITHDRAWN, error=reason[:200])
                )
    if rows:
        session.execute(insert(Notification), rows)
    return SmsCounts(queued=queued, replaced=replaced, withdrawn=withdrawn)


def withdraw_waiting(session: Session, customer_ids: Sequence[int], *, reason: str) -> int:
    """Withdraw every message still waiting for these customers (the change that queued them
    was taken back as a whole); return how many."""
    table: Table = Notification.__table__  # type: ignore[assignment]
    withdrawn = 0
    for part in _chunks(sorted(set(customer_ids))):
        result = session.execute(
            update(table)
            .where(table.c.customer_id.in_(part), table.c.status == NotificationStatus.QUEUED)
            .values(status=NotificationStatus.WITHDRAWN, error=f"withdrawn: {reason}"[:200])
        )
        withdrawn += result.rowcount or 0  # type: ignore[attr-defined]
    return withdrawn


def _message(
    t: Told, signature: str, now: datetime, as_agent_change: bool, known: int | None
) -> dict:
    body = (
        agent_change_text(
            signature=signature, customer_name=t.name, id_number=t.id_number, specialist=t.contact
        )
        if as_agent_change
        else specialist_change_text(
            signature=signature,
            customer_name=t.name,
            id_number=t.id_number,
            specialist=t.contact,  # type: ignore[arg-type]
        )
    )
    return {
        "customer_id": t.customer_id,
        "template": (
            NotificationTemplate.AGENT_CHANGE
            if as_agent_change
            else NotificationTemplate.SPECIALIST_CHANGE
        ),
        "body": body,
        "created_at": now,
        "status": NotificationStatus.QUEUED,
        "specialist_id": t.specialist_id,
        "known_specialist_id": known,
    }


@dataclass(frozen=True)
class _Waiting:
    id: int
    template: NotificationTemplate
    known_id: int | None


def _waiting(session: Session, customer_ids: Sequence[int]) -> dict[int, list[_Waiting]]:
    """Return, per customer, the messages waiting to be sent, oldest first."""
    out: dict[int, list[_Waiting]] = {}
    n = Notification
    for part in _chunks(sorted(set(customer_ids))):
        for cid, nid, template, known in session.execute(
            select(n.customer_id, n.id, n.template, n.known_specialist_id)
            .where(n.customer_id.in_(part), n.status == NotificationStatus.QUEUED)
            .order_by(n.id)
        ):
            out.setdefault(cid, []).append(_Waiting(nid, NotificationTemplate(template), known))
    return out
