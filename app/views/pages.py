"""The pages of the main window, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from app.views.context import AppContext
from app.views.i18n import tr

_C = "MainWindow"


def page_factories() -> list[tuple[str, str, Callable[[AppContext, QWidget], QWidget]]]:
    """Return (key, title, factory) for each page."""
    from app.views.charts_page import ChartsPage
    from app.views.intake_page import IntakePage
    from app.views.map_page import MapPage
    from app.views.roster_page import RosterPage
    from app.views.tasks_page import TasksPage

    return [
        ("map", tr(_C, "Grid map"), MapPage),
        ("roster", tr(_C, "Specialists"), RosterPage),
        ("tasks", tr(_C, "Tasks"), TasksPage),
        ("charts", tr(_C, "Charts"), ChartsPage),
        ("intake", tr(_C, "Intake"), IntakePage),
    ]
