"""Database URLs, engines and migrations: the one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, SessionTransactionOrigin, sessionmaker
from sqlalchemy.pool import QueuePool

from app.services.errors import DomainError

ENV_VAR = "GRIDDESK_DB"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseUrlError(DomainError, ValueError):
    """A database URL that cannot be used; the message says why."""


def default_db_path() -> Path:
    """Return the path of the embedded SQLite database in the user's data folder."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("GridDesk", appauthor=False)) / "griddesk.db"


def default_url() -> str:
    return f"sqlite:///{default_db_path()}"


def resolve_url(flag: str | None = None, settings_url: str | None = None) -> str:
    """Return the URL to use: the flag, else GRIDDESK_DB, else the settings, else the default;
    a URL without a password gets the one kept for it (app.credentials)."""
    from app.credentials import complete_url

    for candidate in (flag, os.environ.get(ENV_VAR), settings_url):
        if candidate and candidate.strip():
            return complete_url(normalise_url(candidate.strip()))
    return default_url()


def normalise_url(url: str) -> str:
    """Check a URL and pin the PostgreSQL driver to psycopg 3; raise DatabaseUrlError if unusable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError("dburl.unreadable", url=url) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    raise DatabaseUrlError("dburl.unsupported", backend=backend)


def redact(url: str) -> str:
    """Return the URL with any password hidden, for logs, the status bar and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_read_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


# Engines that open a file so that nothing can write to it.
_READ_ONLY: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str, *, read_only: bool = False, **kw) -> Engine:
    """Return an engine for ``url`` with the settings GridDesk relies on.

    ``read_only`` opens a SQLite file so that nothing can write to it (offline snapshots).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and read_only:
        path = Path(parsed.database or "").expanduser().resolve()
        if not path.is_file():
            raise DatabaseUrlError("dburl.no_file", path=str(path))
        kw.setdefault("poolclass", QueuePool)
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False
            ),
            **kw,
        )
        event.listen(engine, "connect", _sqlite_read_only)
        _READ_ONLY.add(engine)
        return engine
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, **kw)
        except NoSuchModuleError as exc:  # pragma: no cover - depends on the install
            raise DatabaseUrlError("dburl.no_driver", problem=str(exc)) from None
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kw.setdefault("pool_pre_ping", True)
    # Whatever the server's default: the funnel cells' settle relies on each statement seeing
    # what other transactions committed before it (app.services.metrics.funnel_cells).
    kw.setdefault("isolation_level", "READ COMMITTED")
    try:
        return create_engine(url, **kw)
    except NoSuchModuleError as exc:  # pragma: no cover
        raise DatabaseUrlError("dburl.no_driver", problem=str(exc)) from None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory of ``engine``; on SQLite a unit of work opened with
    ``session.begin()`` waits its turn to write (see _begin_immediate).

    The derived tables' settle before each commit is not installed here: the entry points use
    ``app.services.database.unit_of_work.sessionmaker``, which adds it to this factory."""
    maker = sessionmaker(engine, expire_on_commit=False)
    if engine not in _READ_ONLY and engine.dialect.name == "sqlite":
        event.listen(maker, "after_begin", _begin_immediate)
    return maker


def is_read_only(engine: Engine) -> bool:
    """Return True for an engine opened on an offline copy (read-only)."""
    return engine in _READ_ONLY


def _begin_immediate(session: Session, transaction, connection) -> None:
    """Start a unit of work opened with ``session.begin()`` as BEGIN IMMEDIATE on SQLite.

    Python's sqlite3 begins a transaction only before an INSERT, UPDATE or DELETE; a SAVEPOINT
    (an import's) begins a deferred one, which then reads. When it comes to write, SQLite cannot
    wait for another writer (that could deadlock two readers turned writers) and fails at once
    with "database is locked", whatever the busy timeout. Taking the write lock first waits up
    to the busy timeout instead, and everything the unit of work reads is what it writes over.
    Sessions that only read (no explicit begin) stay as they were, so they go on reading while
    an import writes.
    """
    if transaction.parent is not None or transaction.origin is not SessionTransactionOrigin.BEGIN:
        return
    if connection.connection.dbapi_connection.in_transaction:
        return  # bound to a connection whose transaction is already open (tests' savepoints)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


def alembic_config(engine: Engine):
    """Return an Alembic Config bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic runs on ``engine`` itself (env.py); the URL is only a label, so it holds no
    # password, and ConfigParser would read a "%" in it (an encoded "@", a path) as
    # interpolation.
    label = engine.url.render_as_string(hide_password=True)
    cfg.set_main_option("sqlalchemy.url", label.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Create the schema or bring it up to the newest revision (``app.opening.upgrade`` also
    re-secures a database that enforces the roles and settles the derived tables)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def head_revision() -> str:
    """Return the newest schema revision. The migrations are numbered (``0001_…``, ``0002_…``)
    and each one's revision id is its number, one after the other (a test checks this against
    Alembic's own reading), so the newest is the highest number: no need to load Alembic and
    every migration (0.2 s) each time the app or a command opens a database."""
    numbers = (p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("*_*.py"))
    return max(n for n in numbers if n.isdigit())


def needs_migration(engine: Engine) -> bool:
    """Return True when the database is not at the newest schema revision."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return True
        current = set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    return current != {head_revision()}


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("branch")
