"""The change history people can undo: every change batch (a rebalance, a hand-over) kept in the
database, shared by everyone on it and surviving restarts, with what each batch moved."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AssignmentEvent, ChangeBatch, Specialist
from app.services.customers.history import IMPORT_KIND
from app.services.rebalance.changes import BATCH_KIND

INTAKE_KIND = "intake"  # app.services.intake.intake's, named here to keep this module light
REASSIGN_KIND = "reassign"  # app.services.tasks.queue'
KINDS = (BATCH_KIND, INTAKE_KIND, REASSIGN_KIND, IMPORT_KIND)


@dataclass(frozen=True)
class BatchRow:
    """One change batch as the history lists it."""

    id: int
    kind: str  # "rebalance", "handover", "intake", "reassign" (tasks by hand) or "import"
    actor: str
    created_at: datetime
    effective_on: date | None
    grids: int
    customers: int
    tasks: int
    sms: int
    undone_at: datetime | None
    undone_by: str | None
    # Changes of specialist an imported history recorded (other kinds: 0).
    events: int = 0
    # Whom a hand-over was for (the leaver's name), or an intake (the departed agent's code).
    leaver: str = ""

    @property
    def undoable(self) -> bool:
        return self.undone_at is None


def list_batches(
    session: Session,
    *,
    branch_id: int,
    team_scope: Collection[int] | None = None,
    limit: int = 200,
) -> list[BatchRow]:
    """Return the branch's change batches, newest first; with ``team_scope`` (a supervisor's
    teams) only those that moved nobody outside those teams."""
    batches = session.execute(
        select(
            ChangeBatch.id,
            ChangeBatch.actor,
            ChangeBatch.created_at,
            ChangeBatch.plan,
            ChangeBatch.undone_at,
            ChangeBatch.undone_by,
            ChangeBatch.kind,
        )
        .where(ChangeBatch.branch_id == branch_id, ChangeBatch.kind.in_(KINDS))
        .order_by(ChangeBatch.created_at.desc(), ChangeBatch.id.desc())
        # A supervisor's teams may be in few of the newest: read further, keep ``limit``.
        .limit(limit if team_scope is None else limit * 20)
    ).all()
    ids = [b.id for b in batches]
    if not ids:
        return []
    e = AssignmentEvent
    effective = dict(
        session.execute(
            select(e.batch_id, func.min(e.effective_on))
            .where(e.batch_id.in_(ids))
            .group_by(e.batch_id)
        ).all()
    )
    teams: dict[int, set[int]] = {}
    if team_scope is not None:
        involved = session.execute(
            select(e.batch_id, Specialist.team_id)
            .join(
                Specialist,
                (Specialist.id == e.from_specialist_id) | (Specialist.id == e.to_specialist_id),
            )
            .where(e.batch_id.in_(ids))
            .distinct()
        )
        for bid, team in involved:
            if bid is not None:
                teams.setdefault(bid, set()).add(team)
    records = {b.id: json.loads(b.plan or "{}") for b in batches}  # each parsed once
    leavers = _leavers(session, records.values())
    out: list[BatchRow] = []
    for b in batches:
        if len(out) >= limit:
            break
        if team_scope is not None and not (teams.get(b.id) and teams[b.id] <= set(team_scope)):
            continue  # another team's, or the branch's (an intake nobody in their teams got)
        record = records[b.id]
        applied = record.get("applied", {})
        sms = record.get("sms", {})
        leaving = record.get("leaving")
        intake = record.get("intake")
        out.append(
            BatchRow(
                id=b.id,
                kind=_kind(b.kind, record),
                actor=b.actor,
                created_at=b.created_at,
                effective_on=effective.get(b.id),
                grids=len(applied.get("grids", ())),
                customers=len(applied.get("customers", ())),
                tasks=len(applied.get("tasks", ())),
                events=int(applied.get("events", 0)),
                sms=int(sms.get("queued", 0)) + int(sms.get("replaced", 0)),
                undone_at=b.undone_at,
                undone_by=b.undone_by,
                leaver=leavers.get(int(leaving["specialist_id"]), "")
                if leaving
                else intake["agent_code"]
                if intake
                else "",
            )
        )
    return out


def _kind(kind: str, record: dict) -> str:
    """Return what the history calls a batch of ``kind`` with this record."""
    if kind == IMPORT_KIND:
        return "import"
    if kind == REASSIGN_KIND:
        return "reassign"
    if record.get("intake"):
        return "intake"
    return "handover" if record.get("leaving") else "rebalance"


def _leavers(session: Session, records: Iterable[dict]) -> dict[int, str]:
    ids = {int(r["leaving"]["specialist_id"]) for r in records if r.get("leaving")}
    if not ids:
        return {}
    return dict(
        session.execute(select(Specialist.id, Specialist.name).where(Specialist.id.in_(ids))).all()
    )
