"""The first start on a new machine: open the demo branch, connect to the branch's shared
database, or create an empty branch (with its first senior supervisor) to import into."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.people.auth import UserInfo
from app.views.errors import error_text

DEMO, SHARED, EMPTY = "demo", "shared", "empty"


@dataclass(frozen=True)
class FirstRunChoice:
    """What the user chose: ``kind`` is DEMO, SHARED (``url`` tested and saved in the
    settings) or EMPTY (the branch and its first senior supervisor, ``user``, exist)."""

    kind: str
    url: str = ""
    user: UserInfo | None = None


class FirstRunDialog(QDialog):
    """Asks how to begin; ``choice`` holds the answer after accept(). Nothing is saved or
    created until the choice is sure: a shared database is connected to before its URL is
    saved, and an empty branch is made only with a valid first account."""

    def __init__(self, prefs, parent=None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.choice: FirstRunChoice | None = None
        self.setWindowTitle(self.tr("Welcome to GridDesk"))
        self.setMinimumWidth(560)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        title = QLabel(self.tr("How do you want to begin?"))
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.demo = QRadioButton(self.tr("Open the demo branch"))
        self.demo.setObjectName("choose_demo")
        self.shared = QRadioButton(self.tr("Connect to the branch's shared database"))
        self.shared.setObjectName("choose_shared")
        self.empty = QRadioButton(self.tr("Create an empty branch and import its first extracts"))
        self.empty.setObjectName("choose_empty")
        group = QButtonGroup(self)
        self.pages = QStackedWidget()
        for index, (button, page) in enumerate(
            ((self.demo, self._demo_page()), (self.shared, self._shared_page())),
        ):
            group.addButton(button, index)
            self.pages.addWidget(page)
        group.addButton(self.empty, 2)
        self.pages.addWidget(self._empty_page())
        group.idToggled.connect(self._toggled)
        self.demo.setChecked(True)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.go = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.go.setObjectName("go")
        self.go.setText(self.tr("Continue"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Quit"))
        buttons.accepted.connect(self.try_choice)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        for button in (self.demo, self.shared, self.empty):
            layout.addWidget(button)
        layout.addWidget(self.pages)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)

    # --- the three pages -------------------------------------------------------------------

    def _demo_page(self) -> QWidget:
        note = QLabel(
            self.tr(
                "A demo branch with made-up specialists, customers and policies, to try GridDesk "
                "out. It is a demo: nothing in it is real. It is built on this computer in a "
                "minute or so. Demo users: senior, supervisor, analyst; password demo1234."
            )
        )
        note.setObjectName("demo_note")
        note.setWordWrap(True)
        return _page(note)

    def _shared_page(self) -> QWidget:
        self.url = QLineEdit()
        self.url.setObjectName("url")
        self.url.setPlaceholderText("postgresql://server/database")
        note = QLabel(
            self.tr(
                "The address your branch's IT gave you. Without a user name in it, everyone "
                "signs in as themselves. GridDesk connects to it before saving it."
            )
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Database URL"), self.url)
        return _page(form, note)

    def _empty_page(self) -> QWidget:
        self.branch_code = QLineEdit()
        self.branch_code.setObjectName("branch_code")
        self.branch_name = QLineEdit()
        self.branch_name.setObjectName("branch_name")
        self.login = QLineEdit()
        self.login.setObjectName("login")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.again = QLineEdit()
        self.again.setObjectName("again")
        for field in (self.password, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("Branch code"), self.branch_code)
        form.addRow(self.tr("Branch name"), self.branch_name)
        form.addRow(QLabel(self.tr("The first senior supervisor, who adds the other users:")))
        form.addRow(self.tr("User name"), self.login)
        form.addRow(self.tr("Name"), self.display_name)
        form.addRow(self.tr("Password"), self.password)
        form.addRow(self.tr("Password again"), self.again)
        note = QLabel(
            self.tr(
                "The branch starts empty on this computer: import its teams, grids, "
                "specialists, agents, customers, policies and dues with File ▸ Import extract…"
            )
        )
        note.setWordWrap(True)
        return _page(form, note)

    def _toggled(self, index: int, on: bool) -> None:
        if on:  # the button turned off says nothing: the one turned on follows
            self._chosen(index)

    def _chosen(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.error.hide()

    # --- the answer ------------------------------------------------------------------------

    def try_choice(self) -> None:
        """Carry out the choice as far as it can be checked here; accept, or say what is
        wrong and save nothing."""
        try:
            if self.demo.isChecked():
                self.choice = FirstRunChoice(DEMO)
            elif self.shared.isChecked():
                self.choice = self._connect()
            else:
                self.choice = self._start_branch()
        except _Refused as exc:
            self._fail(str(exc))
            return
        self.accept()

    def _connect(self) -> FirstRunChoice:
        from app.opening import check_url

        text = self.url.text().strip()
        if not text:
            raise _Refused(self.tr("Enter the shared database's URL."))
        try:
            url = check_url(text)
        except Exception as exc:
            raise _Refused(
                self.tr("GridDesk could not connect to this database; nothing was saved.")
                + "\n"
                + error_text(exc)
            ) from None
        self.prefs.database_url = url  # without its password, which goes to the keyring
        return FirstRunChoice(SHARED, url=url)

    def _start_branch(self) -> FirstRunChoice:
        from app.db import default_url
        from app.opening import open_database
        from app.services.people.auth import authenticate
        from app.services.people.branches import start_branch

        code = self.branch_code.text().strip()
        if not code or not self.branch_name.text().strip():
            raise _Refused(self.tr("Enter the branch's code and name."))
        if len(code) > 32 or any(c.isspace() for c in code):
            raise _Refused(self.tr("A branch code has 1 to 32 characters and no spaces."))
        if self.password.text() != self.again.text():
            raise _Refused(self.tr("The two passwords differ."))
        login, password = self.login.text().strip(), self.password.text()
        opened = open_database(default_url(), creates=True)
        assert opened.Session is not None
        try:
            with opened.Session() as s, s.begin():
                start_branch(
                    s,
                    code=self.branch_code.text(),
                    name=self.branch_name.text(),
                    login=login,
                    display_name=self.display_name.text(),
                    password=password,
                )
            with opened.Session() as s, s.begin():
                user = authenticate(s, login, password)
        except Exception as exc:
            raise _Refused(error_text(exc)) from None
        finally:
            opened.Session.kw["bind"].dispose()
        self.prefs.last_login = login
        return FirstRunChoice(EMPTY, user=user)

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class _Refused(Exception):
    """A choice that cannot be carried out, in the user's words."""


def _page(*parts) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(24, 4, 0, 4)
    for part in parts:
        if isinstance(part, QWidget):
            layout.addWidget(part)
        else:
            layout.addLayout(part)
    layout.addStretch(1)
    return page
