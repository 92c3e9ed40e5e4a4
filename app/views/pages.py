"""The pages of the main window, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from app.views.context import AppContext
from app.views.i18n import tr


def page_factories() -> list[tuple[str, str, Callable[[AppContext, QWidget], QWidget]]]:
    """Return (key, title, factory) for each page."""
    from app.views.tasks_page import TasksPage

    c = "MainWindow"
    return [
        ("tasks", tr(c, "Tasks"), lambda ctx, parent: TasksPage(ctx, parent)),
    ]
