"""Removable chips ("Grid CH004 ✕") for the parts of the window's selection a page filters by.

A page puts one ``SelectionChips`` in its filter row, naming the parts it follows; a chip shows
while its part is set, and clicking it clears that part of the selection, on every page.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from app.views.i18n import arg, translate
from app.views.selection import Kind, Picked, Selection

# A small rounded button, flat until hovered, so it reads as a tag and not as a command.
CHIP_STYLE = (
    "QToolButton { border: 1px solid palette(mid); border-radius: 10px; padding: 1px 8px;"
    " background: palette(alternate-base); }"
    "QToolButton:hover { background: palette(midlight); }"
)


class Chip(QToolButton):
    """A flat button that names one filter and removes it when clicked."""

    def __init__(self, name: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setToolTip(tooltip)
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setStyleSheet(CHIP_STYLE)
        self.hide()

    def show_text(self, text: str | None) -> None:
        """Show the chip with ``text`` (None hides it)."""
        if text is None:
            self.hide()
            return
        self.setText(text)
        self.show()


def _name(names: Callable[[int], str | None] | None, ident: int) -> str:
    name = names(ident) if names is not None else None
    return name or f"#{ident}"


class SelectionChips(QWidget):
    """The chips of the selection's parts ``kinds`` that a page filters by.

    ``specialist_name`` and ``team_name`` return the name to show for an id (the page knows
    the people in its scope); the grid chip shows the code.
    """

    def __init__(
        self,
        selection: Selection,
        kinds: tuple[Kind, ...],
        *,
        specialist_name: Callable[[int], str | None] | None = None,
        team_name: Callable[[int], str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.selection = selection
        self._specialist_name = specialist_name
        self._team_name = team_name
        tips = {
            "grid": translate(
                "SelectionChips", "Picked on the map; click to show every grid again, on every page"
            ),
            "specialist": translate(
                "SelectionChips", "Click to show everyone again, on every page"
            ),
            "team": translate("SelectionChips", "Click to show every team again, on every page"),
        }
        self.chips: dict[Kind, Chip] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for kind in kinds:
            chip = Chip(f"{kind}_chip", tips[kind], self)
            chip.clicked.connect(lambda _=False, k=kind: self.selection.clear(k))
            layout.addWidget(chip)
            self.chips[kind] = chip
        selection.changed.connect(self.refresh)
        self.refresh(selection.current())

    def chip(self, kind: Kind) -> Chip:
        return self.chips[kind]

    def refresh(self, picked: Picked) -> None:
        """Show a chip for each part of ``picked`` this page follows."""
        texts: dict[Kind, str | None] = {
            "grid": arg(translate("SelectionChips", "Grid %1 ✕"), picked.grid)
            if picked.grid
            else None,
            "specialist": None
            if picked.specialist_id is None
            else arg(
                translate("SelectionChips", "Specialist %1 ✕"),
                _name(self._specialist_name, picked.specialist_id),
            ),
            "team": None
            if picked.team_id is None
            else arg(
                translate("SelectionChips", "Team %1 ✕"), _name(self._team_name, picked.team_id)
            ),
        }
        for kind, chip in self.chips.items():
            chip.show_text(texts[kind])
        shown = any(texts[k] is not None for k in self.chips)
        # Hidden when empty, so the filter row keeps no gap; never shown while it has no
        # parent yet (it would open as a window of its own).
        if not shown or self.parentWidget() is not None:
            self.setVisible(shown)
