"""The pages of the main window, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.services.changes import Changes
from app.settings import WindowState
from app.views.context import AppContext
from app.views.i18n import translate


class PageWidget(QWidget):
    """A page of the main window. The window wires every page the same way: it hears the
    page's signals and tells it what changed; a page that has nothing to say or keep leaves
    the defaults.

    Signals:
        changed(Changes): the page wrote to the database; every page hears it.
        applied(Applied): a plan was applied here; Edit ▸ Undo can take it back.
        tasks_requested(): show the Tasks page (the selection says whose tasks).
        unheld_tasks_requested(): show the tasks nobody holds.
    """

    # The page shows persistency figures: while a change's figures are being brought current
    # (AppContext.updating) the window says so above it.
    reads_persistency = False

    changed = Signal(object)
    applied = Signal(object)
    tasks_requested = Signal()
    unheld_tasks_requested = Signal()

    def activate(self) -> None:
        """The page is shown: load what it shows, the first time."""

    def on_changes(self, changes: Changes) -> None:
        """Something was written (here or elsewhere): read again what ``changes`` touched."""
        raise NotImplementedError

    def set_undo_action(self, action: QAction) -> None:
        """The window's Edit ▸ Undo, for pages that offer it beside their own buttons."""

    def save_state(self, ws: WindowState, key: str) -> None:
        """Keep the page's layout (splitters, column order) under ``key``."""

    def restore_state(self, ws: WindowState, key: str) -> None:
        """Put back what save_state kept."""


Factory = Callable[[AppContext, QWidget], PageWidget]


def lazy(module: str, name: str) -> Factory:
    """Return a factory that imports ``module`` only when the page is first built (the charts
    page pulls in matplotlib, the map page folium: the window shows before either loads)."""

    def factory(ctx: AppContext, parent: QWidget) -> PageWidget:
        page = getattr(import_module(module), name)(ctx, parent)
        if not isinstance(page, PageWidget):
            raise TypeError(f"{module}.{name} is not a PageWidget")
        return page

    return factory


def page_factories() -> list[tuple[str, str, Factory]]:
    """Return (key, title, factory) for each page."""
    return [
        ("map", translate("MainWindow", "Grid map"), lazy("app.views.map_page", "MapPage")),
        (
            "roster",
            translate("MainWindow", "Specialists"),
            lazy("app.views.roster_page", "RosterPage"),
        ),
        ("tasks", translate("MainWindow", "Tasks"), lazy("app.views.tasks_page", "TasksPage")),
        ("charts", translate("MainWindow", "Charts"), lazy("app.views.charts_page", "ChartsPage")),
        ("intake", translate("MainWindow", "Intake"), lazy("app.views.intake_page", "IntakePage")),
        (
            "rebalance",
            translate("MainWindow", "Rebalance"),
            lazy("app.views.rebalance_page", "RebalancePage"),
        ),
        # Last, so the pages before keep their Ctrl+number shortcuts.
        (
            "scorecard",
            translate("MainWindow", "Scorecard"),
            lazy("app.views.scorecard_page", "ScorecardPage"),
        ),
    ]
