"""The settings dialog: language, database, map tiles."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from app.db import DatabaseUrlError, make_engine, normalise_url, redact
from app.settings import Preferences
from app.views.errors import error_text
from app.views.i18n import LANGUAGES


class SettingsDialog(QDialog):
    def __init__(self, parent=None, *, prefs: Preferences | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs or Preferences()
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(520)

        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem(self.tr("Follow the system"), "")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(self.prefs.language)))

        self.database = QLineEdit(self.prefs.database_url)
        self.database.setObjectName("database")
        self.database.setPlaceholderText(self.tr("Empty: the local database on this computer"))
        test = QPushButton(self.tr("Test connection"))
        test.clicked.connect(self.test_connection)
        db_row = QWidget()
        row = QHBoxLayout(db_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.database, 1)
        row.addWidget(test)

        self.tiles = QCheckBox(self.tr("Show online map tiles under the grids (needs network)"))
        self.tiles.setObjectName("tiles")
        self.tiles.setChecked(self.prefs.map_tiles)

        note = QLabel(
            self.tr("Language and database changes take effect the next time GridDesk starts.")
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Shared database URL"), db_row)
        form.addRow("", self.tiles)
        form.addRow(note)
        form.addRow(buttons)

    def _url(self) -> str:
        text = self.database.text().strip()
        return normalise_url(text) if text else ""

    def test_connection(self) -> None:
        try:
            url = self._url()
            if not url:
                QMessageBox.information(
                    self, self.tr("Database"), self.tr("The local database is always available.")
                )
                return
            engine = make_engine(url)
            with engine.connect():
                pass
            engine.dispose()
        except Exception as exc:
            QMessageBox.warning(self, self.tr("Database"), error_text(exc))
            return
        QMessageBox.information(
            self, self.tr("Database"), self.tr("Connected to %1.").replace("%1", redact(url))
        )

    def save(self) -> None:
        try:
            url = self._url()
        except DatabaseUrlError as exc:
            QMessageBox.warning(self, self.tr("Database"), str(exc))
            return
        self.prefs.language = self.language.currentData()
        self.prefs.database_url = url
        self.prefs.map_tiles = self.tiles.isChecked()
        self.accept()
