"""The parts every export dialog has: the language of the file, where it goes (with Browse…),
a line for what is wrong, and Export / Cancel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from app.settings import Preferences
from app.views.i18n import LANGUAGES, effective_language, translate


def language_box() -> QComboBox:
    """The file's language, the user's own chosen first."""
    box = QComboBox()
    box.setObjectName("language")
    for code, name in LANGUAGES.items():
        box.addItem(name, code)
    box.setCurrentIndex(max(0, box.findData(effective_language(Preferences().language))))
    return box


def path_row(default: str, browse: Callable[[], None]) -> tuple[QLineEdit, QHBoxLayout]:
    """The file's path, and the row holding it beside Browse… (which calls ``browse``)."""
    path = QLineEdit(default)
    path.setObjectName("path")
    button = QPushButton(translate("ExportParts", "Browse…"))
    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(path, 1)
    row.addWidget(button)
    return path, row


def problem_label() -> QLabel:
    """Where the dialog says what is wrong with what was entered."""
    label = QLabel()
    label.setObjectName("problem")
    label.setStyleSheet("color: #b00020;")
    label.setWordWrap(True)
    return label


def export_buttons(dialog: QDialog) -> QDialogButtonBox:
    """Export and Cancel, wired to the dialog's accept and reject."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    if ok is not None:
        ok.setText(translate("ExportParts", "Export"))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
