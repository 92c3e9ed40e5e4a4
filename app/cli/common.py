"""What every command shares: errors, argument types, the --db option and opening the database."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from app.services.auth import UserInfo

DEBUG_ENV = "GRIDDESK_DEBUG"
USER_ENV = "GRIDDESK_USER"
PASSWORD_ENV = "GRIDDESK_PASSWORD"

Handler = Callable[[argparse.Namespace], int]
Handlers = dict[str, Handler]


class CommandError(Exception):
    """A failure to report to the user as one readable message (exit status 1)."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date: write it as 2024-03-31"
        ) from None


def common_parser() -> argparse.ArgumentParser:
    # --db may stand before or after the command: the subparsers carry it too, without a default
    # of their own so they do not overwrite a value given before the command.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///file.db or postgresql://user@host/db); "
        "default: $GRIDDESK_DB, then the settings, then the local file",
    )
    p.add_argument(
        "--user",
        metavar="LOGIN",
        default=argparse.SUPPRESS,
        help="who runs the command, on a database with users (default: $GRIDDESK_USER); the "
        "password comes from $GRIDDESK_PASSWORD or is asked for",
    )
    return p


def describe_error(exc: BaseException) -> str:
    """Return a message for the user about ``exc`` (no traceback, no password)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.db import DatabaseUrlError
    from app.services.errors import REASONS, reason_code

    if isinstance(exc, (CommandError, DatabaseUrlError)):
        return str(exc)
    code = reason_code(exc)
    if code is not None:
        return REASONS[code]
    if isinstance(exc, OperationalError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"the database cannot be used: {orig}"
    if isinstance(exc, ProgrammingError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (
            f"the database refused the request: {orig} (is the schema current? run 'griddesk init')"
        )
    text = str(exc).strip() or type(exc).__name__
    return text


@dataclass
class Opened:
    """The database a command works on, and who runs the command."""

    url: str
    engine: Any
    Session: Any
    # Who signed in (None: the database has no users yet, so nobody can, or need, sign in).
    user: UserInfo | None
    read_only: bool = False

    @property
    def actor(self) -> str:
        """Who the history records for a change made by this command."""
        return self.user.login if self.user is not None else "cli"

    def today(self) -> date:
        """Return today in the calendar of the user's branch (of the first branch when nobody
        signed in), whatever time zone this computer is set to."""
        from sqlalchemy import select

        from app.models import Branch
        from app.models.base import utcnow
        from app.services.clock import local_date

        with self.Session() as s:
            stmt = select(Branch.timezone).order_by(Branch.id).limit(1)
            if self.user is not None:
                stmt = stmt.where(Branch.id == self.user.branch_id)
            return local_date(utcnow(), s.scalar(stmt))


def open_db(
    args: argparse.Namespace,
    *,
    writes: bool = False,
    creates: bool = False,
    migrate_sqlite: bool = True,
) -> Opened:
    """Open the database the arguments choose and sign its user in.

    A SQLite file that does not exist is created only by a command that ``creates`` (init,
    demo); any other fails with "no database at …". An offline copy opens read-only and a
    command that ``writes`` is refused on it. On a database with users, the user named by
    ``--user`` (or GRIDDESK_USER) signs in with the password from GRIDDESK_PASSWORD or a prompt
    (an offline copy opens as whoever took it, as in the app)."""
    from app.config import settings_db_url
    from app.db import (
        has_schema,
        is_sqlite,
        make_engine,
        make_sessionmaker,
        migrate,
        needs_migration,
        redact,
        resolve_url,
    )
    from app.services.db_roles import signs_in_per_user
    from app.services.snapshot import snapshot_meta, snapshot_user

    url = resolve_url(getattr(args, "db", None), settings_db_url())
    if signs_in_per_user(url):
        return _open_as_database_role(args, url)
    path = sqlite_path(url)
    if path is not None and not creates and not path.exists():
        raise CommandError(f"no database at {path}: create one with 'griddesk init'")
    if path is not None and path.exists() and foreign_sqlite(path):
        raise CommandError(f"{path} is not a GridDesk database; GridDesk leaves it alone")
    engine = make_engine(url)
    if is_sqlite(engine) and has_schema(engine) and snapshot_meta(engine) is not None:
        if writes:
            raise CommandError(
                f"{redact(url)} is an offline copy, which is read-only: make the change in the "
                "branch's database"
            )
        engine.dispose()
        engine = make_engine(url, read_only=True)
        return Opened(url, engine, make_sessionmaker(engine), snapshot_user(engine), True)
    if needs_migration(engine):
        if is_sqlite(engine) and migrate_sqlite:
            migrate(engine)  # one person's file: created, or brought up to date
        elif not has_schema(engine):
            raise CommandError(f"{redact(url)} has no GridDesk schema yet: run 'griddesk init'")
        else:
            raise CommandError(
                f"{redact(url)} has an older schema: run 'griddesk init' to migrate it"
            )
    Session = make_sessionmaker(engine)  # noqa: N806
    # Creating a database needs nobody; changing one that has users needs one of them.
    return Opened(url, engine, Session, sign_in(args, Session))


def foreign_sqlite(path: Path) -> bool:
    """Return True when the SQLite file at ``path`` holds tables but none of GridDesk's (read
    without changing it: opening it as GridDesk would switch it to WAL)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False  # not readable as SQLite: the engine will say why
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return bool(names) and not ({"branch", "alembic_version"} & names)


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def sign_in(args: argparse.Namespace, Session) -> UserInfo | None:  # noqa: N803
    """Return the user the command runs as, after checking their password; None when the
    database has no users yet. ``--user`` alone is never trusted."""
    from sqlalchemy import func, select

    from app.models import User
    from app.services.auth import SignInFailed, authenticate

    with Session() as s:
        if not s.scalar(select(func.count()).select_from(User).where(User.active.is_(True))):
            return None
        login, password = _credentials(args)
        try:
            user = authenticate(s, login, password)
        except SignInFailed:
            raise CommandError("wrong user name or password") from None
        s.commit()  # a rehashed password, if argon2's parameters moved on
    return user


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    """Return who runs the command and their password (GRIDDESK_PASSWORD, else asked for)."""
    login = getattr(args, "user", None) or os.environ.get(USER_ENV)
    if not login:
        raise CommandError(
            "this database has users: say who you are with --user LOGIN (the password "
            f"comes from {PASSWORD_ENV} or is asked for)"
        )
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if sys.stdin is None or not sys.stdin.isatty():
            raise CommandError(
                f"no password for {login}: set {PASSWORD_ENV}, or run the command in a "
                "terminal to be asked for it"
            )
        password = getpass.getpass(f"GridDesk password for {login}: ")
    return login, password


def _open_as_database_role(args: argparse.Namespace, url: str) -> Opened:
    """Open a shared database that enforces the roles itself, signed in as the user's own
    database role: the server checks the password (app.services.db_roles)."""
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine, make_sessionmaker, needs_migration, redact
    from app.services.auth import SignInFailed
    from app.services.db_roles import (
        DatabaseRoleError,
        per_user_url,
        refused_sign_in,
        signed_in_user,
    )

    login, password = _credentials(args)
    try:
        engine = make_engine(per_user_url(url, login, password))
    except DatabaseRoleError:
        raise CommandError("wrong user name or password") from None
    try:
        stale = needs_migration(engine)
    except OperationalError as exc:
        engine.dispose()
        if refused_sign_in(exc):
            raise CommandError("wrong user name or password") from None
        raise
    if stale:
        raise CommandError(
            f"{redact(url)} has an older schema: its owner must run 'griddesk init' on it"
        )
    Session = make_sessionmaker(engine)  # noqa: N806
    with Session() as s:
        try:
            user = signed_in_user(s)
        except SignInFailed:
            raise CommandError("wrong user name or password") from None
        s.commit()
    return Opened(url, engine, Session, user)


def require(user: UserInfo | None, allowed: bool, what: str) -> None:
    """Refuse, naming who may, when ``user`` (None: no users yet, so anyone) may not ``what``."""
    if user is not None and not allowed:
        raise CommandError(f"{user.login} ({user.role}) may not {what}")
