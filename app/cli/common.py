"""What every command shares: errors, argument types, the --db option and opening the database."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date

DEBUG_ENV = "GRIDDESK_DEBUG"

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
    return p


def describe_error(exc: BaseException) -> str:
    """Return a message for the user about ``exc`` (no traceback, no password)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.db import DatabaseUrlError

    if isinstance(exc, (CommandError, DatabaseUrlError)):
        return str(exc)
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


def open_db(args: argparse.Namespace, *, migrate_sqlite: bool = True):
    """Return (url, engine, sessionmaker) for the database the arguments choose."""
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

    url = resolve_url(getattr(args, "db", None), settings_db_url())
    engine = make_engine(url)
    if needs_migration(engine):
        if is_sqlite(engine) and migrate_sqlite:
            migrate(engine)
        elif not has_schema(engine):
            raise CommandError(f"{redact(url)} has no GridDesk schema yet: run 'griddesk init'")
        else:
            raise CommandError(
                f"{redact(url)} has an older schema: run 'griddesk init' to migrate it"
            )
    return url, engine, make_sessionmaker(engine)
