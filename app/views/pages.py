"""The pages of the main window, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, Protocol, runtime_checkable

from PySide6.QtWidgets import QWidget

from app.views.context import AppContext
from app.views.i18n import tr

_C = "MainWindow"


Factory = Callable[[AppContext, QWidget], QWidget]


@runtime_checkable
class Page(Protocol):
    """What the main window asks of each page besides being a widget: to hear that the
    data changed (the window's data_changed signal, with what changed)."""

    def on_data_changed(self, change: Any) -> None: ...


def lazy(module: str, name: str) -> Factory:
    """Return a factory that imports ``module`` only when the page is first built (the charts
    page pulls in matplotlib, the map page folium: the window shows before either loads)."""

    def factory(ctx: AppContext, parent: QWidget) -> QWidget:
        return getattr(import_module(module), name)(ctx, parent)

    return factory


def page_factories() -> list[tuple[str, str, Factory]]:
    """Return (key, title, factory) for each page."""
    return [
        ("map", tr(_C, "Grid map"), lazy("app.views.map_page", "MapPage")),
        ("roster", tr(_C, "Specialists"), lazy("app.views.roster_page", "RosterPage")),
        ("tasks", tr(_C, "Tasks"), lazy("app.views.tasks_page", "TasksPage")),
        ("charts", tr(_C, "Charts"), lazy("app.views.charts_page", "ChartsPage")),
        ("intake", tr(_C, "Intake"), lazy("app.views.intake_page", "IntakePage")),
        ("rebalance", tr(_C, "Rebalance"), lazy("app.views.rebalance_page", "RebalancePage")),
        # Last, so the pages before keep their Ctrl+number shortcuts.
        ("scorecard", tr(_C, "Scorecard"), lazy("app.views.scorecard_page", "ScorecardPage")),
    ]
