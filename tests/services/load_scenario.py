"""Concurrent sessions on one PostgreSQL database: imports, plan applies, reassignments and
reads for a bounded time, then the totals checked. The load test (tests/services/test_load.py)
runs it for a few seconds; benchmarks/bench_load.py runs it longer and prints the figures.

The branch: specialists E01.. in one team, two grids each in a row of touching squares, each
grid's customers served by its owner and each customer with an open task. Workers take turns by
kind (import, apply, reassign, read), each unit of work in a session of its own, as the app's
windows do. A plan apply or reassignment refused because another session changed the rows first
(StaleData) is the expected answer to a race, counted apart from errors.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from factories import Factory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from test_import_support import write_table

from app.models import AssignmentEvent, ChangeBatch, Customer, Grid, Notification, Task
from app.models.enums import NotificationStatus, Role, TaskStatus
from app.services.errors import StaleData
from app.services.importer import import_file
from app.services.leaving.handover import make_handover_plan
from app.services.people.auth import UserInfo
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.workload import workloads
from app.services.tasks.queue import TaskFilter, reassign_tasks, task_ids

AS_OF = date(2024, 6, 30)
KINDS = ("import", "apply", "reassign", "read")
IMPORT_ROWS = 30


@dataclass(frozen=True)
class Branch:
    branch_id: int
    specialist_ids: tuple[int, ...]
    employee_nos: tuple[str, ...]


@dataclass
class Figures:
    """What the sessions did, and what the check found."""

    sessions: int = 0
    seconds: float = 0.0
    committed: Counter = field(default_factory=Counter)  # units of work by kind
    refused: Counter = field(default_factory=Counter)  # StaleData: lost a race, nothing written
    idle: Counter = field(default_factory=Counter)  # nothing to do (no moves, no task moved)
    errors: list[str] = field(default_factory=list)  # anything else
    imported: dict[str, int] = field(default_factory=dict)  # customer-number prefix -> rows
    not_imported: list[str] = field(default_factory=list)  # prefixes of failed imports
    batches: int = 0  # change batches the committed applies and reassignments made
    sms_made: int = 0  # messages the committed applies say they queued (new or replacing)
    rows_checked: int = 0
    # Customers of a grid served by someone else than its owner (the branch has no locked
    # customer nor any other deliberate exception), listed apart from ``problems`` so that the
    # figures name them: seen under load until the hand-over recorded the version of each grid
    # its single customers live in from the row their new owner was read from
    # (docs/reliability.md).
    apart: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken invariants

    @property
    def operations(self) -> int:
        return sum(self.committed.values())


def build_branch(
    Session: sessionmaker[OrmSession],  # noqa: N803
    *,
    specialists: int = 8,
    customers_per_grid: int = 6,
) -> Branch:
    """Make the branch described above; return its ids."""
    with Session() as s, s.begin():
        f = Factory(s)
        f.agent(code="A1")
        people = [
            f.specialist(employee_no=f"E{k + 1:02d}", phone=f"138000000{k:02d}")
            for k in range(specialists)
        ]
        for i in range(2 * specialists):
            owner = people[i // 2]
            grid = f.grid(code=f"G{i + 1:02d}", owner=owner, lon=104.0 + 0.01 * i)
            # Uneven grids, so that the proposals have moves to make.
            for _ in range(customers_per_grid * (1 + i % 3)):
                c = f.customer(specialist=owner, grid=grid)
                f.task(customer=c, status=TaskStatus.OPEN)
        return Branch(
            f.default_branch.id,
            tuple(p.id for p in people),
            tuple(p.employee_no for p in people),
        )


def run_load(
    Session: sessionmaker[OrmSession],  # noqa: N803
    branch: Branch,
    folder: Path,
    *,
    sessions: int = 8,
    seconds: float = 3.0,
    seed: int = 1,
) -> Figures:
    """Run ``sessions`` workers for ``seconds``; return what they did (not yet checked)."""
    figures = Figures(sessions=sessions)
    lock = threading.Lock()
    stop = threading.Event()
    user = UserInfo(1, "load", "Load", Role.SENIOR_SUPERVISOR, branch.branch_id, frozenset())

    def one(kind: str, rng: random.Random, worker: int, n: int) -> bool:
        """Do one unit of work of ``kind``; return False when there was nothing to do."""
        if kind == "import":
            prefix = f"L{worker}-{n}-"
            rows = [
                [f"{prefix}{i:03d}", f"新客户{i}", "13812345678", "", "成都市锦江区", "A1"]
                for i in range(IMPORT_ROWS)
            ]
            path = write_table(
                folder / f"w{worker}-{n}.csv",
                ["customer_no", "name", "phone", "id_number", "address", "agent_code"],
                rows,
            )
            try:
                with Session() as s, s.begin():
                    import_file(s, "customers", path, branch_id=branch.branch_id)
            except BaseException:
                with lock:
                    figures.not_imported.append(prefix)
                raise
            with lock:
                figures.imported[prefix] = IMPORT_ROWS
        elif kind == "apply":
            # A hand-over plan of someone holding grids: it always has moves, and the grids keep
            # changing hands as long as the load runs.
            with Session() as s:
                holders = sorted(
                    set(s.scalars(select(Grid.owner_id).where(Grid.owner_id.is_not(None))))
                )
                leaver = rng.choice(holders)
                plan = make_handover_plan(
                    s, specialist_id=leaver, as_of=AS_OF, team_ids=None, time_limit_s=0.2
                ).plan
            if not plan.moves:
                return False
            with Session() as s, s.begin():
                result = apply_plan(
                    s,
                    plan,
                    actor=f"w{worker}",
                    user_may_cross_teams=True,
                    team_scope=None,
                    branch_scope=branch.branch_id,
                )
            with lock:
                figures.sms_made += result.sms_queued + result.sms_replaced
                figures.batches += 1
        elif kind == "reassign":
            with Session() as s:
                open_ids = s.execute(
                    select(Task.id, Task.version, Task.specialist_id)
                    .where(Task.status == TaskStatus.OPEN)
                    .order_by(Task.id)
                ).all()
            picked = rng.sample(open_ids, k=min(3, len(open_ids)))
            holders = {r.specialist_id for r in picked}
            to = rng.choice([i for i in branch.specialist_ids if i not in holders])
            with Session() as s, s.begin():
                moved = reassign_tasks(
                    s, user=user, versions={r.id: r.version for r in picked}, to_specialist_id=to
                )
            if not moved.task_ids:
                return False
            with lock:
                figures.batches += 1
        else:
            with Session() as s:
                workloads(s, branch_id=branch.branch_id, as_of=AS_OF)
                task_ids(s, TaskFilter(as_of=AS_OF))
        return True

    def work(worker: int) -> None:
        rng = random.Random(seed * 1000 + worker)
        kind = KINDS[worker % len(KINDS)]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                did = one(kind, rng, worker, n)
            except StaleData:
                with lock:
                    figures.refused[kind] += 1
                continue
            except Exception:
                with lock:
                    figures.errors.append(f"{kind}: {traceback.format_exc(limit=3)}")
                continue
            with lock:
                (figures.committed if did else figures.idle)[kind] += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(sessions)]
    started = time.monotonic()
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(120)
    figures.seconds = time.monotonic() - started
    if any(t.is_alive() for t in threads):
        figures.errors.append("a session did not finish within two minutes of the stop")
    return figures


def check_totals(Session: sessionmaker[OrmSession], figures: Figures) -> Figures:  # noqa: N803
    """Check what the database holds against what the sessions committed; fill
    ``figures.problems`` (empty when nothing was lost) and ``figures.rows_checked``."""
    bad = figures.problems
    with Session() as s:
        # Every committed import is there whole, and nothing of a failed one.
        for prefix, rows in figures.imported.items():
            found = s.scalar(select(func.count()).where(Customer.customer_no.startswith(prefix)))
            if found != rows:
                bad.append(f"import {prefix}: {found} of {rows} rows")
        for prefix in figures.not_imported:
            found = s.scalar(select(func.count()).where(Customer.customer_no.startswith(prefix)))
            if found:
                bad.append(f"failed import {prefix} left {found} rows")

        # Each customer of a grid has one current specialist: the grid's owner (grid moves take
        # the customers along), and the last assignment event about them says the same.
        customers = s.execute(
            select(Customer.id, Customer.specialist_id, Grid.owner_id).join(
                Grid, Grid.id == Customer.grid_id
            )
        ).all()
        last_to = _last_events(s, AssignmentEvent.customer_id)
        for c in customers:
            if c.specialist_id is None:
                bad.append(f"customer {c.id}: no specialist, grid owner {c.owner_id}")
            elif c.specialist_id != c.owner_id:
                figures.apart.append(
                    f"customer {c.id}: specialist {c.specialist_id}, grid owner {c.owner_id}"
                )
            if c.id in last_to and last_to[c.id] != c.specialist_id:
                bad.append(f"customer {c.id}: history says {last_to[c.id]}, row {c.specialist_id}")
        tasks = s.execute(select(Task.id, Task.specialist_id)).all()
        task_last = _last_events(s, AssignmentEvent.task_id)
        for t in tasks:
            if t.id in task_last and task_last[t.id] != t.specialist_id:
                bad.append(f"task {t.id}: history says {task_last[t.id]}, row {t.specialist_id}")

        # The outbox: one message for each the applies queued, at most one waiting a customer.
        messages = s.scalar(select(func.count()).select_from(Notification))
        if messages != figures.sms_made:
            bad.append(f"{messages} messages in the outbox, the applies made {figures.sms_made}")
        doubled = s.scalar(
            select(func.count()).select_from(
                select(Notification.customer_id)
                .where(Notification.status == NotificationStatus.QUEUED)
                .group_by(Notification.customer_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        if doubled:
            bad.append(f"{doubled} customers with more than one message waiting")

        # One change batch per committed apply and reassignment.
        batches = s.scalar(select(func.count()).select_from(ChangeBatch))
        if batches != figures.batches:
            bad.append(f"{batches} change batches for {figures.batches} committed changes")
        events = s.scalar(select(func.count()).select_from(AssignmentEvent))
        figures.rows_checked = (
            len(customers)
            + len(tasks)
            + messages
            + batches
            + events
            + sum(figures.imported.values())
        )
        if s.get_bind().dialect.name == "postgresql":
            bad.extend(_hanging(s))
    return figures


def _last_events(s: OrmSession, column) -> dict[int, int | None]:
    """The specialist the latest assignment event of each customer (or task) names."""
    e = AssignmentEvent
    latest = (
        select(column.label("key"), func.max(e.id).label("id"))
        .where(column.is_not(None))
        .group_by(column)
        .subquery()
    )
    rows = s.execute(select(latest.c.key, e.to_specialist_id).join(e, e.id == latest.c.id))
    return {key: to for key, to in rows}


def _hanging(s: OrmSession) -> list[str]:
    """Sessions of this database other than ours still in a transaction, and locks waited for."""
    found = []
    busy = s.execute(
        text(
            "SELECT pid, state, wait_event_type FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (state LIKE 'idle in transaction%' OR state = 'active')"
        )
    ).all()
    found += [f"session {pid} left {state} ({wait})" for pid, state, wait in busy]
    # Of this database's sessions only: another run on the same server is not ours to judge.
    waiting = s.scalar(
        text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
    )
    if waiting:
        found.append(f"{waiting} locks still waited for")
    return found


def report(figures: Figures) -> str:
    """The figures in a few lines, for the benchmark and the test's output."""
    per_s = figures.operations / figures.seconds if figures.seconds else 0.0
    kinds = ", ".join(f"{k} {figures.committed[k]} (+{figures.refused[k]} refused)" for k in KINDS)
    return (
        f"{figures.sessions} sessions for {figures.seconds:.1f} s: {figures.operations} units of "
        f"work committed ({per_s:.1f}/s): {kinds}; {len(figures.errors)} errors; "
        f"{figures.rows_checked:,} rows checked, {len(figures.problems)} problems, "
        f"{len(figures.apart)} customers apart from their grid's owner"
    )
