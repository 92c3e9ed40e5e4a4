"""The pages of the main window, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from app.views.context import AppContext
from app.views.i18n import tr


def page_factories() -> list[tuple[str, str, Callable[[AppContext, QWidget], QWidget]]]:
    """Return (key, title, factory) for each page."""
    from app.views.charts_page import ChartsPage
    from app.views.intake_page import IntakePage
    from app.views.map_page import MapPage
    from app.views.roster_page import RosterPage
    from app.views.tasks_page import TasksPage

    c = "MainWindow"
    return [
        ("map", tr(c, "Grid map"), MapPage),
        ("roster", tr(c, "Specialists"), RosterPage),
        ("tasks", tr(c, "Tasks"), TasksPage),
        ("charts", tr(c, "Charts"), ChartsPage),
        ("intake", tr(c, "Intake"), IntakePage),
    ]
