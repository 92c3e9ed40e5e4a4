"""Message boxes that do not block the event loop.

``QMessageBox.information()`` and friends run a nested event loop until the user answers: a
background job finishing meanwhile is delivered inside it, and a widget test cannot answer it.
These open the box window-modal with ``open()`` and call back when it is answered.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def inform(parent: QWidget, title: str, text: str, *, warning: bool = False) -> QMessageBox:
    """Show ``text`` in a box with an OK button and return the box (already open)."""
    icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask(
    parent: QWidget, title: str, text: str, on_yes: Callable[[], object], *, yes_text: str = ""
) -> QMessageBox:
    """Ask a yes/no question; call ``on_yes`` if the user says yes. Return the open box."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    if yes_text:
        box.button(QMessageBox.StandardButton.Yes).setText(yes_text)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(button) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            on_yes()

    box.buttonClicked.connect(answered)
    box.open()
    return box


def sms_outcome(counts) -> str:
    """Return what a change did (or will do) to the SMS outbox ("SMS: 12 queued, 3 replaced,
    1 withdrawn") in the user's language; ``counts`` is an app.services.customers.notify.SmsCounts."""
    from app.views.i18n import arg, translate

    return arg(
        translate("sms", "SMS: %1 queued, %2 replaced, %3 withdrawn"),
        f"{counts.queued:,}",
        f"{counts.replaced:,}",
        f"{counts.withdrawn:,}",
    )
