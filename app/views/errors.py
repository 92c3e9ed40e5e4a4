"""Readable messages for errors that reach the GUI."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.services.errors import DomainError
from app.services.messages import MESSAGES, Message, Wording, render
from app.views.i18n import translate
from app.views.labels import ROLES, SCHEDULED_STATUSES, SPECIALIST_STATUSES, label, listed

# Message parameters that hold a code of the domain, shown by their label.
CODED = {
    "role": ROLES,
    "specialist_status": SPECIALIST_STATUSES,
    "plan_status": SCHEDULED_STATUSES,
}


class _UserLanguage(Wording):
    """A message in the user's language: the catalogue's template translated (context
    "messages"), coded parameters by their labels, lists separated as the language does."""

    def template(self, code: str) -> str:
        return translate("messages", MESSAGES[code])

    def value(self, name: str, value: object) -> object:
        table = CODED.get(name)
        return value if table is None else label(table, value)

    def items(self, parts: list[str]) -> str:
        return listed(parts)

    def clauses(self, parts: list[str]) -> str:
        return translate("messages", "; ").join(parts)

    def alternatives(self, parts: list[str]) -> str:
        return translate("messages", ", or ").join(parts)


def message_text(message: Message | DomainError) -> str:
    """Return a service's message (or domain error) in the user's language."""
    return render(message.code, message.params, _UserLanguage())


def error_text(exc: BaseException | str) -> str:
    """Return what to tell the user about ``exc``: the message, never a traceback."""
    if isinstance(exc, str):
        return exc
    if isinstance(exc, DomainError):
        return message_text(exc)
    from sqlalchemy.exc import OperationalError

    from app.services.errors import reason_code

    code = reason_code(exc)
    if code is not None:
        return _reasons()[code]
    if isinstance(exc, OperationalError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (
            translate("errors", "The database cannot be reached or used:")
            + "\n"
            + orig
            + "\n\n"
            + translate(
                "errors",
                "Check the server address, port and network, or the URL in File → Settings; "
                "your IT department can help with a shared database.",
            )
        )
    return str(exc).strip() or type(exc).__name__


def show_error(widget: QWidget, title: str, exc: BaseException | str) -> None:
    """Tell the user what went wrong in a box over ``widget``'s window: the window's own
    ``show_error`` when it has one (the main window), else a warning box. Never blocks."""
    window = widget.window()
    handler = getattr(window, "show_error", None)
    if callable(handler) and window is not widget:
        handler(title, exc)
        return
    from app.views.messages import inform

    inform(window, title, error_text(exc), warning=True)


def _reasons() -> dict[str, str]:
    """The user's words for each technical error code (app.services.errors.REASONS)."""
    return {
        "stale": translate(
            "errors", "Someone else changed this data in the meantime: reload and try again."
        ),
        "locked": translate(
            "errors", "The database is busy: someone else is saving. Try again in a moment."
        ),
        "unreachable": translate(
            "errors",
            "The database server cannot be reached: it may be stopped or restarting, or the "
            "network is down. Try again in a moment; GridDesk carries on once it is back (if it "
            "never worked, check the server address in File → Settings).",
        ),
        "read_only": translate(
            "errors",
            "This database is read-only here (an offline copy, or a file you may not change).",
        ),
        "schema": translate(
            "errors",
            "This database's tables do not match this GridDesk: run 'griddesk init' (for a "
            "shared database, ask whoever looks after it).",
        ),
        "newer": translate(
            "errors",
            "This database was last upgraded by a newer GridDesk: install that version.",
        ),
        "integrity": translate(
            "errors",
            "The change would break a rule of the data (a duplicate, or a reference to "
            "something missing); nothing was saved.",
        ),
        "not_a_database": translate(
            "errors", "This file is not a GridDesk database, or it is damaged."
        ),
    }
