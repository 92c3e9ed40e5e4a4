"""Open the database the user or a command chose: the one way the app and the command line
open databases, so that both refuse the same things the same way.

It resolves the URL; refuses to create a SQLite file unless asked (init, demo, the app's
first start), and a SQLite file that is not GridDesk's; opens an offline copy read-only and
refuses any change to it; migrates one person's SQLite file; says a shared database needs
'griddesk init' (or asks, through a callback, in the app); and leaves a PostgreSQL URL without
a user name for each person to sign in as their own database role (app.services.database.roles).

No Qt here: the app passes its dialogs in as callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import credentials
from app.db import (
    default_db_path,
    default_url,
    has_schema,
    is_sqlite,
    make_engine,
    migrate,
    needs_migration,
    normalise_url,
    redact,
    resolve_url,
)
from app.services.database import roles as db_roles
from app.services.database.unit_of_work import bring_current
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.errors import DomainError
from app.services.people.auth import UserInfo


class OpenRefused(DomainError):
    """The database cannot be opened (or changed) as asked: the code ("open.missing", ...)
    says why, and str() is the English sentence the command line prints."""


class OpenCancelled(Exception):
    """The user said no to a question asked while opening (a password, a migration)."""


@dataclass
class OpenedDatabase:
    """A database ready to work on."""

    url: str
    label: str  # the URL with its password hidden
    # None until someone signs in, on a database where each person connects as themselves.
    Session: sessionmaker[Session] | None
    read_only: bool = False
    # Where an offline copy was taken from and when (an aware UTC datetime); the app shows
    # them as snapshot_label, in the user's local time.
    snapshot_source: str = ""
    snapshot_taken_at: datetime | None = None
    snapshot_label: str = ""
    # Who an offline copy opens as (it keeps no passwords); None: sign in.
    user: UserInfo | None = None
    # A shared database that enforces the roles itself: each person signs in as their own
    # database role, and the server checks the password (app.services.database.roles).
    per_user: bool = False

    @property
    def engine(self) -> Engine | None:
        return None if self.Session is None else self.Session.kw["bind"]


# (what, label) -> True to go on: what is "create" (no tables yet) or "upgrade".
ConfirmMigration = Callable[[str, str], bool]
# url -> the password typed, or None when the user cancelled.
AskPassword = Callable[[str], "str | None"]


def chosen_url(flag: str | None, settings_url: str | None) -> str:
    """Return the URL to open: the flag, else GRIDDESK_DB, else the settings, else the
    embedded file (app.db.resolve_url)."""
    return resolve_url(flag, settings_url)


def first_start(url: str) -> bool:
    """Whether ``url`` is the embedded database and it holds no branch yet: a new machine
    (or a first start left before its choice was made)."""
    if url != default_url():
        return False
    path = default_db_path()
    return not path.exists() or _look_at_sqlite(path) == "empty"


def check_url(url: str) -> str:
    """Return ``url`` checked and normalised once it names a database GridDesk can reach: a
    GridDesk SQLite file, or a PostgreSQL server that lets it in (for a URL without a user
    name, a server that asks each person for their own role's password). Raises
    DatabaseUrlError, OpenRefused or the connection's error."""
    from app.services.database.roles import signs_in_per_user

    url = normalise_url(url.strip())
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise OpenRefused("open.missing", path=str(path))
        if _look_at_sqlite(path) == "foreign":
            raise OpenRefused("open.foreign", path=str(path))
        return url
    engine = make_engine(credentials.complete_url(url))
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        # A server that asks each person for their own role's password was reached: it
        # refused who we are (28...), or libpq had no password to answer it with (its own
        # message, which carries no code).
        asked = sqlstate.startswith("28") or "no password supplied" in str(exc.orig or exc)
        if not (signs_in_per_user(url) and asked):
            raise
    finally:
        engine.dispose()
    return url


def open_database(
    url: str,
    *,
    creates: bool = False,
    writes: bool = False,
    migrate_sqlite: bool = True,
    settings_url: str = "",
    ask_password: AskPassword | None = None,
    confirm_migration: ConfirmMigration | None = None,
) -> OpenedDatabase:
    """Return the database at ``url`` opened for work.

    ``creates``: a SQLite file that does not exist may be created (else OpenRefused
    "missing"). ``writes``: the caller will change data, so an offline copy is refused (it
    opens read-only otherwise). ``migrate_sqlite``: bring a SQLite file's schema up to date
    (else refuse an older one). ``ask_password`` is asked while the server refuses the
    password (a password for ``settings_url``'s account is kept, app.credentials);
    ``confirm_migration`` is asked before creating or upgrading a shared database's tables
    (without it, OpenRefused). Raises OpenRefused, OpenCancelled, or the connection's error."""
    from app.services.database.roles import signs_in_per_user

    label = redact(url)
    if signs_in_per_user(url):  # nobody connects before signing in
        return OpenedDatabase(url=url, label=label, Session=None, per_user=True)
    path = sqlite_path(url)
    if path is not None and not creates and not path.exists():
        raise OpenRefused("open.missing", path=str(path))
    if path is not None and path.exists():
        kind = _look_at_sqlite(path)
        if kind == "foreign":
            raise OpenRefused("open.foreign", path=str(path))
        if kind == "snapshot":  # an offline copy: opened so that nothing changes it
            return _open_snapshot(url, writes=writes)
    engine, url = connect(url, settings_url=settings_url, ask_password=ask_password)
    label = redact(url)
    try:
        _bring_up_to_date(engine, label, migrate_sqlite, confirm_migration)
    except BaseException:
        engine.dispose()
        raise
    return OpenedDatabase(url=url, label=label, Session=session_factory(engine))


def connect(
    url: str, *, settings_url: str = "", ask_password: AskPassword | None = None
) -> tuple[Engine, str]:
    """Return an engine that connects, and its URL, asking for the password while the server
    refuses it (when there is someone to ask)."""
    while True:
        engine = make_engine(url)
        try:
            with engine.connect():
                return engine, url
        except OperationalError as exc:
            engine.dispose()
            if ask_password is None or not _refused_password(url, exc):
                raise
        password = ask_password(url)
        if password is None:
            raise OpenCancelled()
        url = credentials.with_password(url, password)
        if settings_url and credentials.account(url) == credentials.account(settings_url):
            credentials.save_password(url, password)  # the saved database: keyring, or this run


def _refused_password(url: str, exc: OperationalError) -> bool:
    """True when the server turned ``url`` away for a missing or wrong password."""
    if credentials.account(url) is None:
        return False
    if getattr(exc.orig, "sqlstate", None) == "28P01":  # invalid_password
        return True
    return "password" in str(exc.orig or exc).lower()  # libpq's "no password supplied"


def _open_snapshot(url: str, *, writes: bool) -> OpenedDatabase:
    """Return the offline copy at ``url`` opened read-only; refuse it to a caller that
    ``writes``."""
    from app.services.files.snapshot import snapshot_meta, snapshot_user

    label = redact(url)
    if writes:
        raise OpenRefused("open.snapshot", label=label)
    engine = make_engine(url, read_only=True)
    meta = snapshot_meta(engine)
    Session = session_factory(engine)  # noqa: N806
    refuse_changes(Session, label)
    return OpenedDatabase(
        url=url,
        label=label,
        Session=Session,
        read_only=True,
        snapshot_source=meta.source if meta else "",
        snapshot_taken_at=meta.taken_at if meta else None,
        snapshot_label=f"{meta.source} @ {meta.taken_at:%Y-%m-%d %H:%M} UTC" if meta else "",
        user=snapshot_user(engine),
    )


def refuse_changes(Session: sessionmaker[Session], label: str) -> None:  # noqa: N803
    """Make every change through ``Session``'s sessions raise OpenRefused "snapshot" (the
    file is opened read-only as well: this gives the reason in words)."""

    def refuse(*_args) -> None:
        raise OpenRefused("open.snapshot", label=label)

    def refuse_dml(state) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            refuse()

    event.listen(Session, "before_flush", refuse)
    event.listen(Session, "do_orm_execute", refuse_dml)


def _bring_up_to_date(
    engine: Engine, label: str, migrate_sqlite: bool, confirm: ConfirmMigration | None
) -> None:
    """Migrate one person's SQLite file; a shared database only when confirmed."""
    if not needs_migration(engine):
        return
    if is_sqlite(engine) and migrate_sqlite:
        upgrade(engine)  # one person's file: created, or brought up to date
        return
    what = "upgrade" if has_schema(engine) else "create"
    if is_sqlite(engine) or confirm is None:
        raise OpenRefused("open.old_schema" if what == "upgrade" else "open.no_schema", label=label)
    if not confirm(what, label):
        raise OpenCancelled()
    upgrade(engine)


def upgrade(engine: Engine) -> None:
    """Create the schema or bring it up to the newest revision; on a database that enforces
    GridDesk's roles, grant its new tables to them; then write the derived rows a migration
    left to be written."""
    migrate(engine)
    if db_roles.is_secured(engine):
        db_roles.secure(engine)
    bring_current(engine)


def sign_in_as_database_role(opened: OpenedDatabase, login: str, password: str) -> UserInfo:
    """Connect to ``opened`` as the database role of ``login`` and return the user; the
    opened database then works through that connection (the last user's connections go).
    Raises SignInFailed when the server turns the role away, OpenRefused when the schema
    is older than this GridDesk."""
    from app.services.database.roles import (
        DatabaseRoleError,
        per_user_url,
        refused_sign_in,
        signed_in_user,
    )
    from app.services.people.auth import SignInFailed

    try:
        engine = make_engine(per_user_url(opened.url, login, password))
    except DatabaseRoleError:
        raise SignInFailed("auth.wrong") from None
    try:
        stale = needs_migration(engine)
    except OperationalError as exc:
        engine.dispose()
        if refused_sign_in(exc):
            raise SignInFailed("auth.wrong") from None
        raise
    if stale:
        engine.dispose()
        raise OpenRefused("open.old_schema_owner", label=opened.label)
    Session = session_factory(engine)  # noqa: N806
    try:
        with Session() as s, s.begin():
            user = signed_in_user(s)
    except BaseException:
        engine.dispose()
        raise
    if opened.Session is not None:  # signed out and in again
        opened.Session.kw["bind"].dispose()
    opened.Session = Session
    return user


def is_offline_copy(path: Path) -> bool:
    """Whether the file at ``path`` is an offline copy (read without changing it)."""
    return path.is_file() and _look_at_sqlite(path) == "snapshot"


def foreign_sqlite(path: Path) -> bool:
    """Return True when the SQLite file at ``path`` holds tables but none of GridDesk's."""
    return _look_at_sqlite(path) == "foreign"


def _look_at_sqlite(path: Path) -> str:
    """Return what the SQLite file at ``path`` is: "foreign" (tables, none of GridDesk's),
    "snapshot" (an offline copy), "empty" (no branch in it), or "" (GridDesk's with a branch,
    or not readable as SQLite: the engine will say why). Read without changing it: opening it as GridDesk does would switch
    it to WAL."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return ""
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if names and not ({"branch", "alembic_version"} & names):
            return "foreign"
        if "snapshot_info" in names and conn.execute("SELECT 1 FROM snapshot_info").fetchone():
            return "snapshot"
        if "branch" not in names or not conn.execute("SELECT 1 FROM branch").fetchone():
            return "empty"
        return ""
    except sqlite3.DatabaseError:
        return ""
    finally:
        conn.close()


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)
