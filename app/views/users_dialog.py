"""File ▸ Users: the accounts of the senior supervisor's branch, with Add, Reset password and
Deactivate. The changes go through app.services.people.accounts, which checks them again."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.models.base import utcnow
from app.models.enums import Role
from app.services.people.accounts import (
    MIN_PASSWORD,
    AccountRow,
    add_account,
    branch_teams,
    deactivate_account,
    list_accounts,
    reset_password,
)
from app.views.calendar import local_text
from app.views.context import AppContext, call
from app.views.errors import error_text
from app.views.i18n import arg, translate
from app.views.labels import ROLES, label
from app.views.layout import fit_columns
from app.views.messages import ask, inform
from app.views.table_models import ROW_ROLE, Column, RowTableModel


def _state(r: AccountRow) -> str:
    if not r.active:
        return translate("UsersDialog", "Deactivated")
    if r.locked(utcnow()):
        return arg(translate("UsersDialog", "Locked until %1"), local_text(r.locked_until, "%H:%M"))
    return translate("UsersDialog", "Active")


def columns() -> list[Column[AccountRow]]:
    return [
        Column("login", translate("UsersDialog", "User name"), lambda r: r.login),
        Column("name", translate("UsersDialog", "Name"), lambda r: r.display_name),
        Column("role", translate("UsersDialog", "Role"), lambda r: label(ROLES, r.role.value)),
        Column("teams", translate("UsersDialog", "Teams"), lambda r: ", ".join(r.team_codes)),
        Column("state", translate("UsersDialog", "State"), _state, alert=lambda r: not r.active),
        Column(
            "last_sign_in",
            translate("UsersDialog", "Last sign-in"),
            lambda r: local_text(r.last_sign_in) or translate("UsersDialog", "never"),
        ),
    ]


def password_problem(password: str, again: str) -> str:
    """Return what is wrong with a new password typed twice ('' when nothing is)."""
    if len(password) < MIN_PASSWORD:
        return arg(
            translate("UsersDialog", "A password needs at least %1 characters."), str(MIN_PASSWORD)
        )
    if password != again:
        return translate("UsersDialog", "The two passwords differ.")
    return ""


def _password_fields() -> tuple[QLineEdit, QLineEdit]:
    fields = []
    for name in ("password", "again"):
        field = QLineEdit()
        field.setObjectName(name)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        fields.append(field)
    return fields[0], fields[1]


def _error_label() -> QLabel:
    error = QLabel()
    error.setObjectName("error")
    error.setStyleSheet("color: #b3261e;")
    error.setWordWrap(True)
    error.hide()
    return error


class UsersDialog(QDialog):
    """The accounts of the branch, by user name.

    Signals:
        account_changed(object): after an account was added, given a new password or
            deactivated, with the service's AccountRow.
    """

    account_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Users"))
        self.model = RowTableModel(columns(), self)
        self.table = QTableView()
        self.table.setObjectName("users_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().currentRowChanged.connect(self._update)
        self.add_button = QPushButton(self.tr("Add…"))
        self.add_button.setObjectName("add_user")
        self.add_button.clicked.connect(lambda: self.add_user())
        self.reset_button = QPushButton(self.tr("Reset password…"))
        self.reset_button.setObjectName("reset_password")
        self.reset_button.clicked.connect(lambda: self.reset_selected())
        self.deactivate_button = QPushButton(self.tr("Deactivate…"))
        self.deactivate_button.setObjectName("deactivate_user")
        self.deactivate_button.clicked.connect(lambda: self.deactivate_selected())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        for button in (self.add_button, self.reset_button, self.deactivate_button):
            bottom.addWidget(button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(820, 420)
        self.reload()

    def reload(self) -> None:
        self.model.set_rows(call(self.ctx, list_accounts, actor=self.ctx.user))
        fit_columns(self.table)
        self._update()

    def selected(self) -> AccountRow | None:
        index = self.table.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def select_login(self, login: str) -> None:
        """Make the account ``login`` the current row."""
        for row in range(self.model.rowCount()):
            if self.model.row_at(row).login == login:
                self.table.selectRow(row)
                return

    def _update(self, *_args) -> None:
        row = self.selected()
        self.reset_button.setEnabled(row is not None)
        self.deactivate_button.setEnabled(row is not None and row.active)

    # --- the changes ---------------------------------------------------------------------

    def add_user(self) -> AddUserDialog:
        """Open the form for a new account (window-modal) and return it; OK adds the user."""
        form = AddUserDialog(call(self.ctx, branch_teams, actor=self.ctx.user), self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        actor = self.ctx.user

        def add() -> None:
            v = form.values()
            self._change(
                "add",
                lambda s: add_account(s, actor=actor, **v),
                self.tr("User %1 added."),
            )

        form.accepted.connect(add)
        form.open()
        return form

    def reset_selected(self) -> NewPasswordDialog | None:
        """Ask for a new password of the selected account and return the form; OK sets it."""
        row = self.selected()
        if row is None:
            return None
        form = NewPasswordDialog(row.login, self)
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        actor = self.ctx.user

        def reset() -> None:
            password = form.password.text()
            self._change(
                "reset",
                lambda s: reset_password(s, actor=actor, login=row.login, password=password),
                self.tr("%1 has a new password."),
            )

        form.accepted.connect(reset)
        form.open()
        return form

    def deactivate_selected(self) -> QMessageBox | None:
        """Ask before deactivating the selected account; return the open question."""
        row = self.selected()
        if row is None or not row.active:
            return None
        actor = self.ctx.user
        return ask(
            self,
            self.tr("Deactivate"),
            arg(
                self.tr("Deactivate %1 (%2)? They will no longer be able to sign in."),
                row.login,
                row.display_name,
            ),
            lambda: self._change(
                "deactivate",
                lambda s: deactivate_account(s, actor=actor, login=row.login),
                self.tr("%1 is deactivated."),
            ),
            yes_text=self.tr("Deactivate"),
        )

    def _change(self, key: str, fn, done_text: str) -> None:
        self.ctx.runner.start(
            f"users.{key}",
            self.ctx.write(fn),
            on_done=lambda row: self._changed(row, done_text),
            on_error=self._refused,
            progress_parent=self,
            progress_title=self.tr("Saving…"),
        )

    def _changed(self, row: AccountRow, done_text: str) -> None:
        self.reload()
        self.select_login(row.login)
        inform(self, self.tr("Users"), arg(done_text, row.login))
        self.account_changed.emit(row)

    def _refused(self, exc: BaseException) -> None:
        self.reload()
        inform(self, self.tr("Users"), error_text(exc), warning=True)


class AddUserDialog(QDialog):
    """The form of a new account: user name, name, role, teams (a supervisor's), password."""

    def __init__(self, teams: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add user"))
        self.login = QLineEdit()
        self.login.setObjectName("login")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.role = QComboBox()
        self.role.setObjectName("role")
        for role in (Role.SUPERVISOR, Role.ANALYST, Role.SENIOR_SUPERVISOR):
            self.role.addItem(label(ROLES, role.value), role.value)
        self.teams = QListWidget()
        self.teams.setObjectName("teams")
        for code, name in teams:
            item = QListWidgetItem(f"{code} · {name}", self.teams)
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.role.currentIndexChanged.connect(self._role_changed)
        self.password, self.again = _password_fields()
        form = QFormLayout()
        form.addRow(self.tr("User name"), self.login)
        form.addRow(self.tr("Name"), self.display_name)
        form.addRow(self.tr("Role"), self.role)
        form.addRow(self.tr("Teams"), self.teams)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Password again"), self.again)
        self.error = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Add"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._role_changed()

    def chosen_role(self) -> Role:
        return Role(self.role.currentData())

    def set_role(self, role: Role) -> None:
        self.role.setCurrentIndex(self.role.findData(role.value))

    def check_team(self, code: str) -> None:
        for i in range(self.teams.count()):
            item = self.teams.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == code:
                item.setCheckState(Qt.CheckState.Checked)

    def team_codes(self) -> list[str]:
        if self.chosen_role() is not Role.SUPERVISOR:
            return []  # seniors and analysts see the whole branch
        items = (self.teams.item(i) for i in range(self.teams.count()))
        return [
            i.data(Qt.ItemDataRole.UserRole)
            for i in items
            if i.checkState() == Qt.CheckState.Checked
        ]

    def values(self) -> dict:
        """Return the account as add_account takes it."""
        return {
            "login": self.login.text().strip(),
            "display_name": self.display_name.text().strip(),
            "role": self.chosen_role(),
            "team_codes": self.team_codes(),
            "password": self.password.text(),
        }

    def _role_changed(self, *_args) -> None:
        self.teams.setEnabled(self.chosen_role() is Role.SUPERVISOR)

    def accept(self) -> None:
        """Close with OK when the form is complete; else say what is missing."""
        v = self.values()
        problem = ""
        if not v["login"] or any(ch.isspace() for ch in v["login"]):
            problem = self.tr("Enter a user name without spaces.")
        elif not v["display_name"]:
            problem = self.tr("Enter the name the app shows for this user.")
        elif v["role"] is Role.SUPERVISOR and not v["team_codes"]:
            problem = self.tr("Tick the supervisor's teams.")
        else:
            problem = password_problem(v["password"], self.again.text())
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()


class NewPasswordDialog(QDialog):
    """Asks for an account's new password, twice."""

    def __init__(self, login: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Reset password"))
        self.password, self.again = _password_fields()
        form = QFormLayout()
        form.addRow(arg(self.tr("New password for %1"), login), self.password)
        form.addRow(self.tr("Password again"), self.again)
        self.error = _error_label()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def accept(self) -> None:
        """Close with OK when the two passwords match and are long enough."""
        problem = password_problem(self.password.text(), self.again.text())
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()
