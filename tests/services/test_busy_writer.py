"""SQLite with a second writer (another GridDesk, the command line): an import, a plan apply
or a reassignment waits for the other writer, up to the busy timeout (5 s), and then goes
through; when the other writer holds on past it, the user reads that the database is busy, and
nothing of the change is written.

The other writer commits a change before it lets go, as a real one does: a unit of work that
had already begun deferred and read (an import's savepoint does) would find its snapshot out of
date and fail at once, without waiting: what the busy timeout looked like before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from factories import Factory
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from test_import_support import write_table

from app.cli import main
from app.db import make_engine, migrate
from app.models import ChangeBatch, Customer, Grid, Task
from app.models.enums import Role, TaskStatus
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.errors import REASONS, reason_code
from app.services.importer import import_file
from app.services.people.auth import UserInfo
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.make import make_plan
from app.services.tasks.queue import reassign_tasks

# How long the other writer keeps the lock when it lets go in time: well inside the timeout,
# long enough for the change under test to have started and be waiting.
HOLD_S = 1.5


@pytest.fixture
def branch(tmp_path, monkeypatch):
    """A migrated SQLite file: 王芳 (E1) owns G1 (3 customers, one open task) and G2 (2),
    李强 (E2) owns G3 (1). Yields its URL, session factory and ids."""
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    for name in ("GRIDDESK_DB", "GRIDDESK_USER", "GRIDDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "branch.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        f = Factory(s)
        f.agent(code="A1")
        e1 = f.specialist(employee_no="E1", name="王芳")
        e2 = f.specialist(employee_no="E2", name="李强")
        grids = [
            f.grid(code=f"G{i + 1}", owner=owner, lon=104.0 + 0.01 * i)
            for i, owner in enumerate((e1, e1, e2))
        ]
        for grid, n in zip(grids, (3, 2, 1), strict=True):
            for _ in range(n):
                f.customer(specialist=grid.owner, grid=grid)
        first = s.scalars(select(Customer).where(Customer.grid_id == grids[0].id)).first()
        task = f.task(customer=first, status=TaskStatus.OPEN)
        ids = {"branch": f.default_branch.id, "team": f.default_team.id, "E1": e1.id,
               "E2": e2.id, "task": task.id}  # fmt: skip
    yield path, Session, ids
    engine.dispose()


@contextmanager
def other_writer(path: Path, *, until: threading.Event | None = None) -> Iterator[None]:
    """Another connection takes the write lock and writes; it commits after HOLD_S seconds,
    or, with ``until``, once that is set (the change under test has given up)."""
    locked, done = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE branch SET name = name || '·'")
            locked.set()
            if until is None:
                done.wait(HOLD_S)
            else:
                until.wait(60)
            conn.execute("COMMIT")
        finally:
            conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        if until is not None:
            until.set()
        thread.join(60)


def customers_csv(tmp_path: Path) -> Path:
    header = ["customer_no", "name", "phone", "id_number", "address", "agent_code"]
    rows = [
        [f"N{k:03d}", f"新客户{k}", "13812345678", "", "成都市锦江区", "A1"] for k in range(200)
    ]
    return write_table(tmp_path / "customers.csv", header, rows)


def senior(ids) -> UserInfo:
    return UserInfo(1, "senior", "主管", Role.SENIOR_SUPERVISOR, ids["branch"], frozenset())


def do_import(Session, ids, tmp_path):  # noqa: N803
    path = customers_csv(tmp_path)

    def run():
        with Session() as s, s.begin():
            return import_file(s, "customers", path, branch_id=ids["branch"])

    def done(s) -> bool:
        return s.scalar(select(func.count()).where(Customer.customer_no.like("N%"))) == 200

    return run, done


def do_apply(Session, ids, tmp_path):  # noqa: N803
    with Session() as s:
        plan = make_plan(s, branch_id=ids["branch"], as_of=date(2024, 6, 30), max_moves=1)
    assert plan.moves

    def run():
        with Session() as s, s.begin():
            return apply_plan(
                s,
                plan,
                actor="senior",
                user_may_cross_teams=True,
                team_scope=None,
                branch_scope=ids["branch"],
            )

    def done(s) -> bool:
        moved = s.scalar(select(Grid.owner_id).where(Grid.code == plan.moves[0].grid_code))
        return moved == ids["E2"] and s.scalar(select(func.count(ChangeBatch.id))) == 1

    return run, done


def do_reassign(Session, ids, tmp_path):  # noqa: N803
    with Session() as s:
        version = s.get(Task, ids["task"]).version

    def run():
        with Session() as s, s.begin():
            return reassign_tasks(
                s, user=senior(ids), versions={ids["task"]: version}, to_specialist_id=ids["E2"]
            )

    def done(s) -> bool:
        return s.get(Task, ids["task"]).specialist_id == ids["E2"]

    return run, done


CHANGES = {"import": do_import, "apply": do_apply, "reassign": do_reassign}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_waits_for_the_other_writer_and_then_succeeds(branch, tmp_path, change):
    path, Session, ids = branch  # noqa: N806
    run, done = CHANGES[change](Session, ids, tmp_path)
    with other_writer(path):
        run()  # started while the other writer holds the lock and is about to commit
    with Session() as s:
        assert done(s)


@pytest.mark.slow
@pytest.mark.parametrize("change", ["apply", "reassign"])  # the import: through the command line
def test_past_the_busy_timeout_the_user_reads_the_database_is_busy_and_nothing_is_written(
    branch, tmp_path, change
):
    path, Session, ids = branch  # noqa: N806
    run, done = CHANGES[change](Session, ids, tmp_path)
    gave_up = threading.Event()
    with other_writer(path, until=gave_up), pytest.raises(OperationalError) as caught:
        try:
            run()
        finally:
            gave_up.set()
    assert reason_code(caught.value) == "locked"
    with Session() as s:
        assert not done(s)


@pytest.mark.slow
def test_the_command_line_import_says_the_database_is_busy_in_words(branch, tmp_path, capsys):
    path, Session, _ids = branch  # noqa: N806
    file = customers_csv(tmp_path)
    gave_up = threading.Event()
    with other_writer(path, until=gave_up):
        try:
            code = main(["--db", f"sqlite:///{path}", "import", "customers", str(file)])
        finally:
            gave_up.set()
    err = capsys.readouterr().err
    assert code == 1
    assert REASONS["locked"] in err
    assert "sqlalche.me" not in err and "[SQL:" not in err and "Traceback" not in err
    # Once the other writer is done, the same command goes through.
    assert main(["--db", f"sqlite:///{path}", "import", "customers", str(file)]) == 0
    with Session() as s:
        assert s.scalar(select(func.count()).where(Customer.customer_no.like("N%"))) == 200
