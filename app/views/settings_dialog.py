"""The settings dialog: language, database, map tiles, workload weights."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app import credentials
from app.db import DatabaseUrlError, normalise_url, redact
from app.opening import check_url
from app.services.rebalance.disruption import MoveCosts
from app.services.rebalance.workload import Weights
from app.settings import Preferences
from app.views.errors import error_text
from app.views.i18n import LANGUAGES, arg


class SettingsDialog(QDialog):
    def __init__(self, parent=None, *, prefs: Preferences | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs or Preferences()
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(640)

        self.language = QComboBox()
        self.language.setObjectName("language")
        self.language.addItem(self.tr("Follow the system"), "")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(self.prefs.language)))

        # The field never shows the password: it shows ***, and the real URL stays here until
        # the user edits the field.
        saved = self.prefs.database_url
        self._saved_url = credentials.complete_url(saved) if saved else ""
        self._shown_url = credentials.masked(self._saved_url)
        self.database = QLineEdit(self._shown_url)
        self.database.setObjectName("database")
        self.database.setPlaceholderText(self.tr("Empty: the local database on this computer"))
        # Wide enough for the hint, or a PostgreSQL URL, to show whole.
        self.database.setMinimumWidth(
            self.database.fontMetrics().horizontalAdvance(self.database.placeholderText()) + 24
        )
        test = QPushButton(self.tr("Test connection"))
        test.clicked.connect(self.test_connection)
        db_row = QWidget()
        row = QHBoxLayout(db_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.database, 1)
        row.addWidget(test)
        self.session_note = QLabel(
            self.tr(
                "This computer has no password store: GridDesk keeps the database password "
                "only until it closes, and asks for it again at the next start."
            )
        )
        self.session_note.setObjectName("session_note")
        self.session_note.setWordWrap(True)
        self._keyring = credentials.keyring_available()

        self.tiles = QCheckBox(self.tr("Show online map tiles under the grids (needs network)"))
        self.tiles.setObjectName("tiles")
        self.tiles.setChecked(self.prefs.map_tiles)

        weights = self.prefs.workload_weights
        self.weight_customer = self._weight_box("weight_customer", weights.customer)
        self.weight_task = self._weight_box("weight_open_task", weights.open_task)
        self.weight_premium = self._weight_box("weight_premium", weights.premium_per_10k_yuan)
        defaults = QPushButton(self.tr("Defaults"))
        defaults.clicked.connect(self._default_weights)
        weights_box = QGroupBox(self.tr("Workload weights (rebalancing)"))
        wform = QFormLayout(weights_box)
        wform.addRow(self.tr("A customer counts"), self.weight_customer)
        wform.addRow(self.tr("An open task counts"), self.weight_task)
        wform.addRow(self.tr("10,000 yuan due in the next 90 days counts"), self.weight_premium)
        wform.addRow("", defaults)

        costs = self.prefs.move_costs
        self.step_costs = [
            self._weight_box(f"move_cost_{k}", v) for k, v in enumerate(costs.by_step)
        ]
        steps_row = QHBoxLayout()
        for k, box in enumerate(self.step_costs):
            steps_row.addWidget(QLabel(str(k)))
            steps_row.addWidget(box)
        self.recent_days = QSpinBox()
        self.recent_days.setObjectName("recent_days")
        self.recent_days.setRange(0, 3650)
        self.recent_days.setValue(costs.recent_days)
        self.recent_factor = self._weight_box("recent_factor", costs.recent_factor)
        recent_row = QHBoxLayout()
        recent_row.addWidget(self.recent_factor)
        recent_row.addWidget(QLabel(self.tr("× when moved in the last")))
        recent_row.addWidget(self.recent_days)
        recent_row.addWidget(QLabel(self.tr("days")))
        costs_box = QGroupBox(self.tr("What moving a customer costs (rebalancing)"))
        cform = QFormLayout(costs_box)
        cform.addRow(self.tr("By 4-sell step reached"), steps_row)
        cform.addRow(self.tr("A recent move weighs"), recent_row)

        note = QLabel(
            self.tr("Language and database changes take effect the next time GridDesk starts.")
        )
        note.setWordWrap(True)
        note.setStyleSheet("font-size: 11px;")  # small, in the normal text colour: readable

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Shared database URL"), db_row)
        form.addRow("", self.session_note)
        form.addRow("", self.tiles)
        form.addRow(weights_box)
        form.addRow(costs_box)
        form.addRow(note)
        form.addRow(buttons)
        # Only now, in the layout: shown before, the note would open as a window of its own.
        self.database.textChanged.connect(self._update_session_note)
        self._update_session_note()

    @staticmethod
    def _weight_box(name: str, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setRange(0.0, 100.0)
        box.setDecimals(2)
        box.setSingleStep(0.1)
        box.setValue(value)
        return box

    def _default_weights(self) -> None:
        d = Weights()
        self.weight_customer.setValue(d.customer)
        self.weight_task.setValue(d.open_task)
        self.weight_premium.setValue(d.premium_per_10k_yuan)

    def weights(self) -> Weights:
        """Return the weights as the dialog shows them."""
        return Weights(
            customer=self.weight_customer.value(),
            open_task=self.weight_task.value(),
            premium_per_10k_yuan=self.weight_premium.value(),
        )

    def move_costs(self) -> MoveCosts:
        """Return the costs of moving a customer as the dialog shows them."""
        steps = [box.value() for box in self.step_costs]
        return MoveCosts(
            (steps[0], steps[1], steps[2], steps[3], steps[4]),
            self.recent_days.value(),
            self.recent_factor.value(),
        )

    def _edited(self) -> bool:
        return self.database.text().strip() != self._shown_url

    def _url(self) -> str:
        """Return the URL the field stands for, with its password: the saved one while the
        field is as shown, else the new text (a password left as *** stays the saved one)."""
        if not self._edited():
            return self._saved_url
        text = self.database.text().strip()
        return credentials.unmask(normalise_url(text), self._saved_url) if text else ""

    def _update_session_note(self) -> None:
        _, password = credentials.split_password(self.database.text().strip())
        self.session_note.setVisible(not self._keyring and password is not None)

    def test_connection(self) -> None:
        try:
            url = self._url()
            if not url:
                QMessageBox.information(
                    self, self.tr("Database"), self.tr("The local database is always available.")
                )
                return
            # Whether the app could reach it: a missing or foreign file is reported, never
            # created; a server must answer (one that asks each person for their own password
            # counts). Tables to create or upgrade are the app's to offer when it opens it.
            check_url(url)
        except Exception as exc:
            QMessageBox.warning(self, self.tr("Database"), error_text(exc))
            return
        QMessageBox.information(
            self, self.tr("Database"), arg(self.tr("Connected to %1."), redact(url))
        )

    def save(self) -> None:
        try:
            url = self._url()
        except DatabaseUrlError as exc:
            QMessageBox.warning(self, self.tr("Database"), error_text(exc))
            return
        self.prefs.language = self.language.currentData()
        bare, password = credentials.split_password(url)
        same_account = credentials.account(bare) == credentials.account(self._saved_url)
        if self._edited() and url and password is None and same_account:
            # The user took the password out: the server needs none (trust, .pgpass).
            credentials.forget_password(bare)
        self.prefs.database_url = url
        self.prefs.map_tiles = self.tiles.isChecked()
        self.prefs.workload_weights = self.weights()
        self.prefs.move_costs = self.move_costs()
        self.accept()
