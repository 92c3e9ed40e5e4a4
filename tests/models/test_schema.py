"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import ast
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from app.db import make_engine, migrate, needs_migration
from app.models import Base, Branch, Customer, Task
from app.models.enums import TaskKind, TaskStatus
from app.services.database.unit_of_work import sessionmaker as session_factory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_url(backend, tmp_path, request):
    """A URL of a database with nothing in it, not even tables."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = request.config.getoption("--pg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"griddesk_mig_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_create_the_schema_the_models_describe(fresh_url):
    engine = make_engine(fresh_url)
    assert needs_migration(engine)
    migrate(engine)
    assert not needs_migration(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []
    migrate(engine)  # running it again is harmless
    engine.dispose()


def test_the_newest_revision_is_the_one_alembic_reads(tmp_path):
    """needs_migration reads the newest revision from the migrations' numbers (fast); the
    numbering must match Alembic's own chain: one head, each revision its file's number,
    revising the one before."""
    from alembic.script import ScriptDirectory

    from app.db import alembic_config, head_revision

    script = ScriptDirectory.from_config(alembic_config(make_engine(f"sqlite:///{tmp_path}/x.db")))
    assert script.get_heads() == [head_revision()]
    for rev in script.walk_revisions():
        assert Path(rev.module.__file__).name.startswith(f"{rev.revision}_")
        if rev.down_revision is not None:
            assert int(rev.down_revision) == int(rev.revision) - 1


def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    Base.metadata.create_all(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    Session = session_factory(engine)
    with pytest.raises(IntegrityError), Session() as s, s.begin():
        s.add(Customer(branch_id=999, customer_no="C1", name="张三", address="x"))


def test_datetimes_round_trip_as_aware_utc(session):
    branch = Branch(code="b", name="b", city="成都")
    session.add(branch)
    session.flush()
    cust = Customer(branch_id=branch.id, customer_no="C1", name="张三", address="锦江区")
    session.add(cust)
    session.flush()
    shanghai = timezone(timedelta(hours=8))
    created = datetime(2024, 3, 1, 9, 30, tzinfo=shanghai)
    session.add(
        Task(
            task_no="T1",
            kind=TaskKind.PRE_SELL,
            customer_id=cust.id,
            created_at=created,
            due_date=date(2024, 3, 8),
            status=TaskStatus.OPEN,
        )
    )
    session.commit()
    session.expire_all()
    got = session.scalar(select(Task.created_at))
    assert got == created
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.hour == 1  # 09:30 in Shanghai is 01:30 UTC


def test_domain_code_imports_no_qt():
    offenders = []
    for folder in ("app/models", "app/services"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n.split(".")[0] in ("PySide6", "shiboken6") for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
