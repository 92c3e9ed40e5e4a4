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


# How PostgreSQL and psycopg say that the server went away or cannot be reached.
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

    text = str(getattr(exc, "orig", None) or exc).lower()
    if getattr(exc, "connection_invalidated", False):
        return "unreachable"
    if isinstance(exc, StaleDataError):
        return "stale"
    if "can't locate revision" in text:
        return "newer"
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
