"""Errors services raise for the user to read: what went wrong and what to do."""

from __future__ import annotations

from app.services.messages import Message, render


class DomainError(Exception):
    """A refusal or a problem for the user to read: ``code`` is a key of
    app.services.messages.MESSAGES and ``params`` fill in its template. ``str()`` is the
    English sentence (what the command line prints); the views word the code in the user's
    language."""

    def __init__(self, code: str, /, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    @property
    def message(self) -> Message:
        """The error's code and parameters, as a value."""
        return Message(self.code, **self.params)

    def __str__(self) -> str:
        return render(self.code, self.params)


class NotAllowed(DomainError):
    """The signed-in user's role does not allow this change."""


class StaleData(DomainError):
    """Someone else changed the data this change was based on; reload and try again."""


class NotFound(DomainError):
    """A referenced row does not exist (any more)."""


# What a database or migration error means for the user, by code; the views word the codes
# in the user's language, the command line prints these English sentences. No SQLAlchemy or
# Alembic text reaches anyone.
REASONS = {
    "stale": "Someone else changed this data in the meantime: reload and try again.",
    "locked": "The database is busy: someone else is saving. Try again in a moment.",
    "unreachable": "The database server cannot be reached: it may be stopped or restarting, or "
    "the network is down. Try again in a moment; GridDesk carries on once it is back (if it "
    "never worked, check the server address in File → Settings).",
    "read_only": "This database is read-only here (an offline copy, or a file you may not change).",
    "schema": "This database's tables do not match this GridDesk: run 'griddesk init' (for a "
    "shared database, ask whoever looks after it).",
    "newer": "This database was last upgraded by a newer GridDesk: install that version.",
    "integrity": "The change would break a rule of the data (a duplicate, or a reference to "
    "something missing); nothing was saved.",
    "not_a_database": "This file is not a GridDesk database, or it is damaged.",
}


# What the database's own error codes mean. PostgreSQL words its messages in the server's
# language (lc_messages: a branch server set up in Chinese says "关系 … 不存在"), so its errors are
# read by SQLSTATE (psycopg's ``sqlstate``), class first; SQLite's by result code.
_PG_STATES = {
    "55P03": "locked",  # lock_not_available
    "40P01": "locked",  # deadlock_detected
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now (starting up, shutting down)
    "25006": "read_only",  # read_only_sql_transaction
    "42P01": "schema",  # undefined_table
    "42703": "schema",  # undefined_column
    "3F000": "schema",  # invalid_schema_name
}
_PG_CLASSES = {"08": "unreachable", "23": "integrity"}  # connection exception, integrity
_SQLITE_CODES = {
    5: "locked",
    6: "locked",
    8: "read_only",
    11: "not_a_database",
    26: "not_a_database",
}
# BUSY, LOCKED, READONLY, CORRUPT, NOTADB (primary result codes: the low byte of the extended)

# Errors that carry no code: libpq's own connection failures (raised before any server spoke;
# libpq's texts are English in the wheels GridDesk ships) and SQLite's generic SQLITE_ERROR,
# whose texts SQLite never translates.
_UNREACHABLE = (
    "connection refused",
    "connection failed",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "the connection is closed",
    "connection timeout expired",
    "could not receive data",
    "could not send data",
    "connection reset",
    "no route to host",
    "network is unreachable",
    "the database system is shutting down",
    "the database system is starting up",
    "consuming input failed",
)


def reason_code(exc: BaseException) -> str | None:
    """Return the code in REASONS of a technical error (None for any other)."""
    from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, ProgrammingError
    from sqlalchemy.orm.exc import StaleDataError

    orig = getattr(exc, "orig", None)
    text = str(orig or exc).lower()
    if getattr(exc, "connection_invalidated", False):
        return "unreachable"
    if isinstance(exc, StaleDataError):
        return "stale"
    if "can't locate revision" in text:  # Alembic's own
        return "newer"
    if by_code := _coded_reason(orig):
        return by_code
    if isinstance(exc, IntegrityError):
        return "integrity"
    if isinstance(exc, (OperationalError, ProgrammingError, DatabaseError)):
        if "database is locked" in text or "could not obtain lock" in text:
            return "locked"
        if any(words in text for words in _UNREACHABLE):
            return "unreachable"
        if "readonly" in text or "read-only" in text:
            return "read_only"
        if "no such table" in text or "no such column" in text or "does not exist" in text:
            return "schema"
        if "file is not a database" in text or "malformed" in text:
            return "not_a_database"
    return None


def _coded_reason(orig: object) -> str | None:
    """Return the reason the driver's error code gives (None without a code, or another)."""
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and len(state) == 5:
        return _PG_STATES.get(state) or _PG_CLASSES.get(state[:2])
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_CODES.get(code & 0xFF)
    return None
