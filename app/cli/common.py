"""What every command shares: errors, argument types, the --db option and opening the database."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.services.people.auth import UserInfo

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
    from app.opening import OpenRefused
    from app.services.errors import REASONS, reason_code

    if isinstance(exc, (CommandError, DatabaseUrlError, OpenRefused)):
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
    """Open the database the arguments choose (app.opening, as the app does) and sign its
    user in.

    A SQLite file that does not exist is created only by a command that ``creates`` (init,
    demo); any other fails with "no database at …". An offline copy opens read-only and a
    command that ``writes`` is refused on it. On a database with users, the user named by
    ``--user`` (or GRIDDESK_USER) signs in with the password from GRIDDESK_PASSWORD or a prompt
    (an offline copy opens as whoever took it, as in the app)."""
    from app.config import settings_db_url_unless
    from app.opening import chosen_url, open_database

    url = chosen_url(getattr(args, "db", None), settings_db_url_unless(getattr(args, "db", None)))
    opened = open_database(url, creates=creates, writes=writes, migrate_sqlite=migrate_sqlite)
    if opened.per_user:
        return _open_as_database_role(args, opened)
    Session = opened.Session  # noqa: N806
    assert Session is not None
    if opened.read_only:
        return Opened(opened.url, opened.engine, Session, opened.user, True)
    # Creating a database needs nobody; changing one that has users needs one of them.
    return Opened(opened.url, opened.engine, Session, sign_in(args, Session))


def sign_in(args: argparse.Namespace, Session) -> UserInfo | None:  # noqa: N803
    """Return the user the command runs as, after checking their password; None when the
    database has no users yet. ``--user`` alone is never trusted."""
    from sqlalchemy import func, select

    from app.models import User
    from app.services.people.auth import SignInFailed, authenticate

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


def _open_as_database_role(args: argparse.Namespace, opened) -> Opened:
    """Sign in to a shared database that enforces the roles itself as the user's own database
    role: the server checks the password (app.services.database.roles)."""
    from app.opening import sign_in_as_database_role
    from app.services.people.auth import SignInFailed

    login, password = _credentials(args)
    try:
        user = sign_in_as_database_role(opened, login, password)
    except SignInFailed:
        raise CommandError("wrong user name or password") from None
    return Opened(opened.url, opened.engine, opened.Session, user)


def require(user: UserInfo | None, allowed: bool, what: str) -> None:
    """Refuse, naming who may, when ``user`` (None: no users yet, so anyone) may not ``what``."""
    if user is not None and not allowed:
        raise CommandError(f"{user.login} ({user.role}) may not {what}")


def only_branch(s, user=None) -> int:
    """Return the signed-in user's branch or, for a command run without a user, the database's
    one branch (``find_branch``, for the commands that take no --branch)."""
    from app.services.exports.scope import ScopeError, find_branch

    try:
        return find_branch(s, None, user)
    except ScopeError as exc:
        if exc.code == "scope.branch_needed":
            raise CommandError(
                "the database holds several branches: sign in (--user) to choose yours"
            ) from exc
        raise
