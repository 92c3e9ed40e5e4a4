"""Offline snapshots: copy a branch (or a user's teams) from the shared database into a local
SQLite file with the same schema, for review where no network reaches the server."""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, Select, Table, func, insert, or_, select, text
from sqlalchemy.orm import Session as OrmSession

from app.db import make_engine, migrate, redact
from app.models import (
    AssignmentEvent,
    Base,
    Customer,
    Grid,
    Policy,
    SnapshotInfo,
    Specialist,
    Task,
    User,
)
from app.models.base import utcnow
from app.services.metrics import funnel_cells, summary
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
SKIPPED = {"snapshot_info", "persistency_month", "funnel_month", "funnel_dirty"}


class SnapshotError(Exception):
    pass


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


def _scoped_selects(branch_id: int, team_ids: Collection[int] | None) -> dict[str, Select]:
    """Return, per table name, the SELECT of the rows that belong in the snapshot."""
    t = Base.metadata.tables
    customers = select(Customer.id).where(Customer.branch_id == branch_id)
    if team_ids is not None:
        in_team = select(Specialist.id).where(Specialist.team_id.in_(list(team_ids)))
        customers = customers.where(Customer.specialist_id.in_(in_team))
    policies = select(Policy.id).where(Policy.customer_id.in_(customers))
    tasks = select(Task.id).where(Task.customer_id.in_(customers))
    users = select(User.id).where(User.branch_id == branch_id)
    by_branch = lambda name: select(t[name]).where(t[name].c.branch_id == branch_id)  # noqa: E731
    return {
        "branch": select(t["branch"]).where(t["branch"].c.id == branch_id),
        "team": by_branch("team"),
        "specialist": by_branch("specialist"),
        "agent": by_branch("agent"),
        "app_user": by_branch("app_user"),
        "user_team": select(t["user_team"]).where(t["user_team"].c.user_id.in_(users)),
        "grid": by_branch("grid"),
        "address_rule": by_branch("address_rule"),
        "change_batch": by_branch("change_batch"),
        "customer": select(t["customer"]).where(t["customer"].c.id.in_(customers)),
        "policy": select(t["policy"]).where(t["policy"].c.id.in_(policies)),
        "premium_due": select(t["premium_due"]).where(t["premium_due"].c.policy_id.in_(policies)),
        "persistency_base": select(t["persistency_base"]).where(
            t["persistency_base"].c.customer_id.in_(customers)
        ),
        "task": select(t["task"]).where(t["task"].c.id.in_(tasks)),
        "notification": select(t["notification"]).where(
            t["notification"].c.customer_id.in_(customers)
        ),
        "assignment_event": select(t["assignment_event"]).where(
            or_(AssignmentEvent.customer_id.is_(None), AssignmentEvent.customer_id.in_(customers)),
            or_(AssignmentEvent.task_id.is_(None), AssignmentEvent.task_id.in_(tasks)),
            or_(
                AssignmentEvent.grid_id.is_(None),
                AssignmentEvent.grid_id.in_(select(Grid.id).where(Grid.branch_id == branch_id)),
            ),
        ),
    }


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def plan_snapshot(
    source: Engine, *, branch_id: int, team_ids: Collection[int] | None = None
) -> SnapshotPlan:
    """Return how many rows each table will copy and about how large the file will be."""
    selects = _scoped_selects(branch_id, team_ids)
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
    team_ids: Collection[int] | None = None,
    taken_by: str,
    state: JobState | None = None,
) -> SnapshotResult:
    """Copy the branch (or the given teams' customers) into a new SQLite file at ``target``.

    The file is written under a temporary name and renamed when complete, so a cancelled or
    failed snapshot never leaves a half-written file where the user asked for one.
    """
    state = state or NullState()
    target = Path(target)
    if target.exists() and target.is_dir():
        raise SnapshotError(f"{target} is a folder, not a file name")
    plan = plan_snapshot(source, branch_id=branch_id, team_ids=team_ids)
    partial = target.with_name(target.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    dest = make_engine(f"sqlite:///{partial}")
    try:
        migrate(dest)
        selects = _scoped_selects(branch_id, team_ids)
        done_rows, total = 0, max(plan.total_rows, 1)
        copied: dict[str, int] = {}
        with source.connect() as src, dest.begin() as out:
            out.execute(text("PRAGMA foreign_keys=OFF"))
            src = src.execution_options(stream_results=True, yield_per=CHUNK)
            for table in _tables():
                n = 0
                result = src.execute(selects[table.name])
                for chunk in result.mappings().partitions(CHUNK):
                    check(state)
                    out.execute(insert(table), [dict(r) for r in chunk])
                    n += len(chunk)
                    done_rows += len(chunk)
                    state.report(done_rows / total, table.name)
                copied[table.name] = n
            with OrmSession(bind=out) as cells:
                summary.rebuild(cells)
                funnel_cells.rebuild(cells)
                cells.flush()
            taken_at = utcnow()
            out.execute(
                insert(cast(Table, SnapshotInfo.__table__)),
                [
                    {
                        "taken_at": taken_at,
                        "taken_by": taken_by,
                        "source": redact(str(source.url.render_as_string(hide_password=False))),
                        "branch_id": branch_id,
                        "team_ids": None if team_ids is None else json.dumps(sorted(team_ids)),
                    }
                ],
            )
            problems = out.execute(text("PRAGMA foreign_key_check")).fetchall()
            if problems:
                raise SnapshotError(
                    f"the copy is inconsistent: {len(problems)} rows refer to rows outside the scope"
                )
        with dest.connect() as conn:
            conn.execute(text("PRAGMA journal_mode=DELETE"))
        dest.dispose()
        os.replace(partial, target)
    except BaseException:
        dest.dispose()
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    state.report(1.0, "")
    return SnapshotResult(
        path=str(target), rows=copied, bytes=target.stat().st_size, taken_at=taken_at
    )


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
