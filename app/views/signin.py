"""The sign-in dialog: user name and password, checked against the argon2 hashes (or, on a
shared database that enforces the roles itself, by the server as the user's own role)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)
from sqlalchemy.orm import Session, sessionmaker

from app.services.people.auth import AccountLocked, SignInFailed, UserInfo, authenticate
from app.views.i18n import arg


class SignInDialog(QDialog):
    """Asks for a user name and password; ``user`` holds the signed-in user after accept()."""

    def __init__(
        self,
        Session: sessionmaker[Session] | None,  # noqa: N803
        *,
        db_label: str,
        last_login: str = "",
        demo_hint: str = "",
        authenticate: Callable[[str, str], UserInfo] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._Session = Session
        # Checks a user name and password and returns the user (SignInFailed when wrong);
        # by default against the database's argon2 hashes.
        self._authenticate = authenticate or self._check_hash
        self.user: UserInfo | None = None
        self.setWindowTitle(self.tr("Sign in to GridDesk"))
        self.setMinimumWidth(380)

        title = QLabel(self.tr("GridDesk · Community grid workbench"))
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        from app.views.database_names import database_label

        database = QLabel(arg(self.tr("Database: %1"), database_label(db_label)))
        database.setToolTip(db_label)
        database.setStyleSheet("font-size: 11px;")  # small, in the normal text colour: readable
        database.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.login = QLineEdit(last_login)
        self.login.setObjectName("login")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("User name"), self.login)
        form.addRow(self.tr("Password"), self.password)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(database)
        layout.addLayout(form)
        if demo_hint:
            hint = QLabel(demo_hint)
            hint.setObjectName("demo_hint")
            hint.setWordWrap(True)
            hint.setStyleSheet("font-size: 11px;")
            layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.password if last_login else self.login).setFocus()

    def try_sign_in(self) -> None:
        """Check the credentials; accept the dialog or say what is wrong."""
        login, password = self.login.text().strip(), self.password.text()
        if not login or not password:
            self._fail(self.tr("Enter your user name and password."))
            return
        try:
            self.user = self._authenticate(login, password)
        except SignInFailed:
            self._fail(self.tr("Wrong user name or password."))
            return
        except AccountLocked as exc:
            self._fail(
                arg(
                    self.tr(
                        "Too many wrong passwords: this account is locked. Try again in %1 minutes."
                    ),
                    str(exc.minutes),
                )
            )
            return
        except Exception as exc:  # the server is gone, the schema is older: say so here
            from app.views.errors import error_text

            self._fail(error_text(exc))
            return
        self.accept()

    def _check_hash(self, login: str, password: str) -> UserInfo:
        assert self._Session is not None
        # Not s.begin(): on SQLite that takes the write lock at once, and a wrong password
        # is counted in a transaction of its own, which would then wait for this one.
        with self._Session() as s:
            user = authenticate(s, login, password)
            s.commit()
            return user

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.password.selectAll()
        self.password.setFocus()
