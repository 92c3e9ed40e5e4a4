"""Readable messages for errors that reach the GUI."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.views.i18n import tr


def error_text(exc: BaseException | str) -> str:
    """Return what to tell the user about ``exc``: the message, never a traceback."""
    if isinstance(exc, str):
        return exc
    from sqlalchemy.exc import OperationalError

    from app.opening import OpenRefused
    from app.services.errors import NotAllowed, NotFound, StaleData, reason_code

    if isinstance(exc, OpenRefused):
        return open_refusal_text(exc)
    code = reason_code(exc)
    if code is not None:
        return _reasons()[code]
    if isinstance(exc, StaleData):
        return tr("errors", "Someone else changed this data in the meantime.") + "\n" + str(exc)
    if isinstance(exc, (NotAllowed, NotFound)):
        return str(exc)
    if isinstance(exc, OperationalError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (
            tr("errors", "The database cannot be reached or used:")
            + "\n"
            + orig
            + "\n\n"
            + tr(
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
        "stale": tr(
            "errors", "Someone else changed this data in the meantime: reload and try again."
        ),
        "locked": tr(
            "errors", "The database is busy: someone else is saving. Try again in a moment."
        ),
        "unreachable": tr(
            "errors",
            "The database server cannot be reached: it may be stopped or restarting, or the "
            "network is down. Try again in a moment; GridDesk carries on once it is back (if it "
            "never worked, check the server address in File → Settings).",
        ),
        "read_only": tr(
            "errors",
            "This database is read-only here (an offline copy, or a file you may not change).",
        ),
        "schema": tr(
            "errors",
            "This database's tables do not match this GridDesk: run 'griddesk init' (for a "
            "shared database, ask whoever looks after it).",
        ),
        "newer": tr(
            "errors",
            "This database was last upgraded by a newer GridDesk: install that version.",
        ),
        "integrity": tr(
            "errors",
            "The change would break a rule of the data (a duplicate, or a reference to "
            "something missing); nothing was saved.",
        ),
        "not_a_database": tr("errors", "This file is not a GridDesk database, or it is damaged."),
    }


def open_refusal_text(exc) -> str:
    """Return the user's words for why a database was not opened or changed (an
    app.opening.OpenRefused): the command line's sentence, in the user's language."""
    words = {
        "missing": tr("errors", "no database at %1: create one with 'griddesk init'"),
        "foreign": tr("errors", "%1 is not a GridDesk database; GridDesk leaves it alone"),
        "snapshot": tr(
            "errors",
            "%1 is an offline copy, which is read-only: make the change in the branch's database",
        ),
        "no_schema": tr("errors", "%1 has no GridDesk schema yet: run 'griddesk init'"),
        "old_schema": tr("errors", "%1 has an older schema: run 'griddesk init' to migrate it"),
        "old_schema_owner": tr(
            "errors", "%1 has an older schema: its owner must run 'griddesk init' on it"
        ),
    }
    params = exc.params
    return words[exc.code].replace("%1", params.get("path") or params.get("label") or "")
