"""Offline snapshots: copy a branch (or a user's teams) from the shared database into a local
SQLite file with the same schema, for review where no network reaches the server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Engine,
    Select,
    Table,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.orm import Session as OrmSession

from app.db import make_engine, migrate, redact
from app.models import (
    AssignmentEvent,
    Base,
    Customer,
    DepartedAgent,
    Grid,
    PersistencyDirty,
    Policy,
    PolicyDirty,
    SnapshotInfo,
    Specialist,
    Task,
    Team,
    User,
)
from app.models.base import utcnow
from app.services.errors import DomainError
from app.services.files.atomic import atomic_path
from app.services.messages import Message
from app.services.metrics import funnel_cells, summary
from app.services.metrics.base_table import refresh_attribution, refresh_persistency_base
from app.services.people.auth import UserInfo, mask_id_number, mask_phone
from app.services.progress import JobState, NullState, check

CHUNK = 5_000
# Rough bytes a row takes in a SQLite file, per table, for the size estimate.
ROW_BYTES = {
    "premium_due": 60,
    "task": 120,
    "customer": 260,
    "policy": 110,
    "persistency_base": 90,
    "notification": 220,
    "assignment_event": 70,
    "grid": 2_500,
}
# Not copied: the snapshot's own description, and the monthly persistency cells, which are
# written anew from the copied base rows (a team's snapshot holds only its own rows).
SKIPPED = {
    "snapshot_info", "persistency_month", "funnel_month", "funnel_dirty", "persistency_dirty",
    "policy_dirty",
}  # fmt: skip


class SnapshotError(DomainError):
    """An offline copy that cannot be taken as asked."""


@dataclass(frozen=True)
class SnapshotPlan:
    """What a snapshot will copy: rows per table and an estimate of the file size."""

    rows: dict[str, int]
    estimated_bytes: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class SnapshotResult:
    path: str
    rows: dict[str, int]
    bytes: int
    taken_at: datetime


@dataclass(frozen=True)
class SnapshotMeta:
    taken_at: datetime
    taken_by: str
    source: str


def _scoped_selects(
    branch_id: int, team_ids: Collection[int] | None, taker_id: int | None
) -> dict[str, Select]:
    """Return, per table name, the SELECT of the rows that belong in the snapshot.

    A branch snapshot holds the branch; a team snapshot holds the teams' customers with their
    policies, dues, tasks, messages and history, the grids they live in or the teams own, and of
    everything else only the rows those refer to (a specialist of another team who once served a
    customer, say: ``_redactions`` removes such a person's phone). No user but the one who took
    the copy is in it, and no password hash at all.
    """
    t = Base.metadata.tables
    ae, pb = AssignmentEvent, t["persistency_base"]
    customers = select(Customer.id).where(Customer.branch_id == branch_id)
    if team_ids is not None:
        in_team = select(Specialist.id).where(Specialist.team_id.in_(list(team_ids)))
        customers = customers.where(Customer.specialist_id.in_(in_team))
    policies = select(Policy.id).where(Policy.customer_id.in_(customers))
    tasks = select(Task.id).where(Task.customer_id.in_(customers))
    grid_ids: Select
    specialist_ids: Select
    teams: Select
    agents: Select
    if team_ids is None:
        grid_ids = select(Grid.id).where(Grid.branch_id == branch_id)
        specialist_ids = select(Specialist.id).where(Specialist.branch_id == branch_id)
        teams = select(Team.id).where(Team.branch_id == branch_id)
        agents = select(DepartedAgent.id).where(DepartedAgent.branch_id == branch_id)
    else:
        grids = union(
            select(Grid.id).where(Grid.owner_id.in_(in_team)),
            select(Customer.grid_id).where(Customer.id.in_(customers)),
            select(pb.c.grid_id).where(pb.c.customer_id.in_(customers)),
            select(ae.grid_id).where(ae.customer_id.in_(customers)),
        )
        grid_ids = select(grids.subquery().c[0])
        grid_events = and_(ae.customer_id.is_(None), ae.task_id.is_(None), ae.grid_id.in_(grid_ids))
        touched = or_(ae.customer_id.in_(customers), ae.task_id.in_(tasks), grid_events)
        specialists = union(
            in_team,
            select(Task.specialist_id).where(Task.id.in_(tasks)),
            select(pb.c.specialist_id).where(pb.c.customer_id.in_(customers)),
            select(Grid.owner_id).where(Grid.id.in_(grid_ids)),
            select(ae.from_specialist_id).where(touched),
            select(ae.to_specialist_id).where(touched),
        )
        specialist_ids = select(specialists.subquery().c[0])
        teams = select(Specialist.team_id).where(Specialist.id.in_(specialist_ids))
        agents = select(Customer.agent_id).where(Customer.id.in_(customers))
    events = and_(
        or_(ae.customer_id.is_(None), ae.customer_id.in_(customers)),
        or_(ae.task_id.is_(None), ae.task_id.in_(tasks)),
        or_(ae.grid_id.is_(None), ae.grid_id.in_(grid_ids)),
        or_(ae.from_specialist_id.is_(None), ae.from_specialist_id.in_(specialist_ids)),
        or_(ae.to_specialist_id.is_(None), ae.to_specialist_id.in_(specialist_ids)),
    )
    taker = (User.id == taker_id) if taker_id is not None else false()
    return {
        "branch": select(t["branch"]).where(t["branch"].c.id == branch_id),
        "team": select(t["team"]).where(t["team"].c.id.in_(teams)),
        "specialist": select(t["specialist"]).where(t["specialist"].c.id.in_(specialist_ids)),
        "agent": select(t["agent"]).where(t["agent"].c.id.in_(agents)),
        # Not the password hash: the copy keeps none (_redactions), and a database that
        # enforces roles lets nobody read it (app.services.database.roles).
        "app_user": select(*(c for c in t["app_user"].c if c.name != "password_hash")).where(
            taker, User.branch_id == branch_id
        ),
        "user_team": select(t["user_team"]).where(
            t["user_team"].c.user_id == (taker_id if taker_id is not None else -1),
            t["user_team"].c.team_id.in_(teams),
        ),
        "grid": select(t["grid"]).where(t["grid"].c.id.in_(grid_ids)),
        "address_rule": select(t["address_rule"]).where(t["address_rule"].c.grid_id.in_(grid_ids)),
        "change_batch": select(t["change_batch"]).where(
            t["change_batch"].c.branch_id == branch_id,
            t["change_batch"].c.id.in_(select(ae.batch_id).where(events)),
        ),
        "customer": select(t["customer"]).where(t["customer"].c.id.in_(customers)),
        "policy": select(t["policy"]).where(t["policy"].c.id.in_(policies)),
        "premium_due": select(t["premium_due"]).where(t["premium_due"].c.policy_id.in_(policies)),
        "persistency_base": select(t["persistency_base"]).where(
            t["persistency_base"].c.customer_id.in_(customers)
        ),
        "task": select(t["task"]).where(t["task"].c.id.in_(tasks)),
        # Addresses marked outside coverage (and marks ended): those of the customers copied.
        "coverage_mark": select(t["coverage_mark"]).where(
            t["coverage_mark"].c.customer_id.in_(customers)
        ),
        "notification": select(t["notification"]).where(
            t["notification"].c.customer_id.in_(customers)
        ),
        "assignment_event": select(t["assignment_event"]).where(events),
        # Kept rebalancing scenarios: the branch's, or those kept for the teams copied.
        "rebalance_scenario": select(t["rebalance_scenario"]).where(
            t["rebalance_scenario"].c.branch_id == branch_id,
            true() if team_ids is None else t["rebalance_scenario"].c.team_id.in_(list(team_ids)),
        ),
        # Plans waiting for their day (and decided ones): as the scenarios.
        "scheduled_plan": select(t["scheduled_plan"]).where(
            t["scheduled_plan"].c.branch_id == branch_id,
            true() if team_ids is None else t["scheduled_plan"].c.team_id.in_(list(team_ids)),
        ),
    }


_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
# A password hash nobody can match: the copy keeps who took it, never a way to sign in as them.
NO_PASSWORD = "!offline-copy"


def _redactions(
    team_ids: Collection[int] | None, masked: bool
) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Return, per table name, what to change in each row before it is written to the copy."""

    def user(row: dict[str, Any]) -> None:
        row["password_hash"] = NO_PASSWORD

    def customer(row: dict[str, Any]) -> None:
        row["phone"] = mask_phone(row["phone"]) or None
        row["id_number"] = mask_id_number(row["id_number"]) or None

    def specialist(row: dict[str, Any]) -> None:
        if team_ids is not None and row["team_id"] not in team_ids:
            row["phone"] = None  # another team's person, named in this team's history only

    def batch(row: dict[str, Any]) -> None:
        if team_ids is not None:
            row["plan"] = "{}"  # the plan as applied names customers of every team

    def message(row: dict[str, Any]) -> None:
        # A text names the specialist with their work phone, who may be of another team.
        row["body"] = _PHONE.sub(lambda m: mask_phone(m.group(0)), row["body"] or "")

    out: dict[str, Callable[[dict[str, Any]], None]] = {
        "app_user": user,
        "specialist": specialist,
        "change_batch": batch,
    }
    if masked:
        out["customer"] = customer
    if masked or team_ids is not None:
        out["notification"] = message
    return out


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def snapshot_scope(
    user: UserInfo | None, team_ids: Collection[int] | None
) -> frozenset[int] | None:
    """Return the teams a copy taken by ``user`` holds (None: the whole branch); raise
    SnapshotError when ``team_ids`` asks for a team outside the user's scope."""
    allowed = None if user is None else user.team_scope()
    if team_ids is None:
        return allowed
    asked = frozenset(team_ids)
    if allowed is not None and not asked <= allowed:
        raise SnapshotError("snapshot.own_teams")
    return asked


def plan_snapshot(
    source: Engine,
    *,
    branch_id: int,
    user: UserInfo | None = None,
    team_ids: Collection[int] | None = None,
) -> SnapshotPlan:
    """Return how many rows each table will copy and about how large the file will be."""
    scope = snapshot_scope(user, team_ids)
    selects = _scoped_selects(branch_id, scope, None if user is None else user.id)
    rows = {}
    with source.connect() as conn:
        for table in _tables():
            stmt = selects[table.name]
            rows[table.name] = conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    size = sum(n * ROW_BYTES.get(name, 100) for name, n in rows.items()) + 500_000
    return SnapshotPlan(rows=rows, estimated_bytes=size)


def take_snapshot(
    source: Engine,
    target: str | Path,
    *,
    branch_id: int,
    user: UserInfo | None,
    team_ids: Collection[int] | None = None,
    state: JobState | None = None,
) -> SnapshotResult:
    """Copy what ``user`` may see of the branch (or of the given teams, within it) into a new
    SQLite file at ``target``, with customers' contact data masked unless the user's role shows
    it (a copy taken by nobody in particular is masked).

    The file is written under a temporary name and renamed when complete, so a cancelled or
    failed snapshot never leaves a half-written file where the user asked for one; only its
    owner may read it.
    """
    state = state or NullState()
    target = Path(target)
    if target.exists() and target.is_dir():
        raise SnapshotError("export.folder", target=str(target))
    scope = snapshot_scope(user, team_ids)
    plan = plan_snapshot(source, branch_id=branch_id, user=user, team_ids=scope)
    with atomic_path(target) as partial:
        taken_at, copied = _copy(source, partial, branch_id, scope, user, plan, state)
    state.report(1.0)
    return SnapshotResult(
        path=str(target), rows=copied, bytes=target.stat().st_size, taken_at=taken_at
    )


def _copy(
    source: Engine,
    partial: Path,
    branch_id: int,
    scope: frozenset[int] | None,
    user: UserInfo | None,
    plan: SnapshotPlan,
    state: JobState,
) -> tuple[datetime, dict[str, int]]:
    """Write the copy into ``partial``; return when it was taken and the rows per table."""
    taker_id = None if user is None else user.id
    redact_rows = _redactions(scope, masked=user is None or not user.sees_contact_data)
    dest = make_engine(f"sqlite:///{partial}")
    try:
        migrate(dest)
        selects = _scoped_selects(branch_id, scope, taker_id)
        done_rows, total = 0, max(plan.total_rows, 1)
        copied: dict[str, int] = {}
        with source.connect() as src, dest.begin() as out:
            out.execute(text("PRAGMA foreign_keys=OFF"))
            src = src.execution_options(stream_results=True, yield_per=CHUNK)
            for table in _tables():
                n = 0
                result = src.execute(selects[table.name])
                change = redact_rows.get(table.name)
                for chunk in result.mappings().partitions(CHUNK):
                    check(state)
                    rows = [dict(r) for r in chunk]
                    if change is not None:
                        for row in rows:
                            change(row)
                    out.execute(insert(table), rows)
                    n += len(chunk)
                    done_rows += len(chunk)
                    state.report(
                        done_rows / total, Message("progress.copying_table", table=table.name)
                    )
                copied[table.name] = n
            # Customers whose base rows the source has not brought current yet (a large
            # change whose figures are still being updated): set again in the copy.
            stale = set(src.execute(select(PersistencyDirty.customer_id).distinct()).scalars())
            stale_policies = set(src.execute(select(PolicyDirty.policy_id).distinct()).scalars())
            with OrmSession(bind=out) as cells:
                # The marks the copy's own triggers wrote while the history, policies and dues
                # went in name nothing stale: the base rows were copied as they are.
                cells.execute(delete(PersistencyDirty))
                cells.execute(delete(PolicyDirty))
                # The copy's ids are read only when something is stale (a million policies
                # on a big city's branch).
                if stale_policies:
                    copied_policies = set(cells.scalars(select(Policy.id))) & stale_policies
                    if copied_policies:
                        refresh_persistency_base(cells, policy_ids=sorted(copied_policies))
                if stale:
                    copied_customers = set(cells.scalars(select(Customer.id))) & stale
                    if copied_customers:
                        refresh_attribution(cells, customer_ids=sorted(copied_customers))
                summary.rebuild(cells)
                funnel_cells.rebuild(cells)
                cells.flush()
            taken_at = utcnow()
            out.execute(
                insert(cast(Table, SnapshotInfo.__table__)),
                [
                    {
                        "taken_at": taken_at,
                        "taken_by": "cli" if user is None else user.login,
                        "source": redact(str(source.url.render_as_string(hide_password=False))),
                        "branch_id": branch_id,
                        "team_ids": None if scope is None else json.dumps(sorted(scope)),
                    }
                ],
            )
            problems = out.execute(text("PRAGMA foreign_key_check")).fetchall()
            if problems:
                raise SnapshotError("snapshot.inconsistent", n=len(problems))
        with dest.connect() as conn:
            conn.execute(text("PRAGMA journal_mode=DELETE"))
    finally:
        dest.dispose()
    return taken_at, copied


def snapshot_meta(engine: Engine) -> SnapshotMeta | None:
    """Return when and from where this database was copied, or None for a live database."""
    from sqlalchemy import inspect

    if not inspect(engine).has_table("snapshot_info"):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(SnapshotInfo.taken_at, SnapshotInfo.taken_by, SnapshotInfo.source).limit(1)
        ).first()
    return None if row is None else SnapshotMeta(*row)


def snapshot_user(engine: Engine) -> UserInfo | None:
    """Return who an offline copy opens as: the user who took it (the copy holds what their role
    may see, and no password to check), a read-only viewer for a copy taken by nobody in
    particular, or None for a copy from before copies kept their taker (sign in as usual)."""
    from sqlalchemy.orm import selectinload

    from app.models.enums import Role
    from app.services.people.auth import user_info

    with OrmSession(engine) as s:
        info = s.scalars(select(SnapshotInfo).limit(1)).first()
        if info is None:
            return None
        taker = s.scalars(
            select(User).where(User.password_hash == NO_PASSWORD).options(selectinload(User.teams))
        ).first()
        if taker is not None:
            return user_info(taker)
        if s.scalar(select(func.count()).select_from(User)):
            return None  # an older copy with its users: they sign in
        return UserInfo(
            id=0,
            login=info.taken_by,
            display_name=info.taken_by,
            role=Role.ANALYST,
            branch_id=info.branch_id,
            team_ids=frozenset(),
        )
