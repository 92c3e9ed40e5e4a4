"""The settings dialog never shows a database password nor writes it to griddesk.ini; a restart
names no password on its command line; start-up asks for a password the server refuses."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import keyring
import psycopg
import pytest
from keyring.backends import fail
from sqlalchemy.exc import OperationalError

from app import credentials
from app.db import resolve_url
from app.settings import Preferences
from app.views.settings_dialog import SettingsDialog

PASSWORD = "Sesame-4711"
BARE = "postgresql+psycopg://alice@db.example:5432/grid"
FULL = f"postgresql+psycopg://alice:{PASSWORD}@db.example:5432/grid"
ACCOUNT = "alice@db.example:5432/grid"


@pytest.fixture
def settings_dir(tmp_path, monkeypatch) -> Path:
    # The package conftest points GRIDDESK_SETTINGS_DIR here too; said again to be read here.
    folder = tmp_path / "settings"
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(folder))
    monkeypatch.delenv(credentials.PASSWORD_ENV, raising=False)
    credentials.forget_session()
    yield folder
    credentials.forget_session()
    keyring.set_keyring(fail.Keyring())  # later tests never reach a real keyring either


def ini_text(settings_dir: Path) -> str:
    return (settings_dir / "griddesk.ini").read_text(encoding="utf-8")


def test_a_typed_password_goes_to_the_keyring_not_the_settings_file(qtbot, vault, settings_dir):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.database.setText(FULL.replace("+psycopg", ""))  # as a user types it
    dialog.save()
    assert PASSWORD not in ini_text(settings_dir)
    assert vault.entries == {("GridDesk", ACCOUNT): PASSWORD}
    assert resolve_url(None, Preferences().database_url) == FULL


def test_the_field_shows_stars_and_keeps_the_real_password_aside(qtbot, vault, settings_dir):
    Preferences().database_url = FULL
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.database.text() == "postgresql+psycopg://alice:***@db.example:5432/grid"
    dialog.save()  # untouched: the password is still the real one
    assert vault.entries == {("GridDesk", ACCOUNT): PASSWORD}
    assert PASSWORD not in ini_text(settings_dir)

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.database.setText(dialog.database.text().replace("/grid", "/grid2"))  # *** left as is
    dialog.save()
    assert vault.entries[("GridDesk", ACCOUNT + "2")] == PASSWORD

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.database.setText(FULL.replace(PASSWORD, "NewOne-99"))  # edited: the new text counts
    dialog.save()
    assert vault.entries[("GridDesk", ACCOUNT)] == "NewOne-99"
    assert "NewOne-99" not in ini_text(settings_dir) and PASSWORD not in ini_text(settings_dir)

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.database.setText(BARE)  # the password taken out: the server needs none
    dialog.save()
    assert ("GridDesk", ACCOUNT) not in vault.entries
    assert resolve_url(None, Preferences().database_url) == BARE


def test_without_a_keyring_the_dialog_says_the_password_will_be_asked_again(
    qtbot, no_keyring, settings_dir
):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.session_note.isVisible()  # the local file: nothing to say
    dialog.database.setText(FULL)
    assert dialog.session_note.isVisible()
    dialog.save()
    assert PASSWORD not in ini_text(settings_dir)
    assert resolve_url(None, Preferences().database_url) == FULL  # for the rest of this run


def test_with_a_keyring_the_dialog_says_nothing_of_asking_again(qtbot, vault):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.database.setText(FULL)
    assert not dialog.session_note.isVisible()


def test_the_restart_after_a_database_change_names_no_password(qtbot, make_ctx, vault, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.views.main_window import MainWindow, restart_command

    w = MainWindow(make_ctx("senior"))
    qtbot.addWidget(w)
    w.show()
    restarts: list[str | None] = []
    monkeypatch.setattr(w, "restart", lambda database=None: restarts.append(database))

    dialog = w.open_settings()
    dialog.database.setText(FULL)
    dialog.save()

    def box() -> QMessageBox | None:
        shown = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
        return shown[0] if shown else None

    qtbot.waitUntil(lambda: box() is not None, timeout=5000)
    box().button(QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert restarts and restarts[0] is not None
    _program, arguments = restart_command(["--verbose"], database=restarts[0])
    assert not any(PASSWORD in a for a in arguments)
    # The restarted GridDesk finds the password in the keyring.
    assert resolve_url(arguments[arguments.index("--db") + 1]) == FULL


class FakeEngine:
    """A server that refuses a connection without the right password, as libpq says it."""

    def __init__(self, url: str, **_kw) -> None:
        self.url = url

    def connect(self):
        if PASSWORD not in self.url:
            orig = psycopg.OperationalError("fe_sendauth: no password supplied")
            raise OperationalError("connect", {}, orig)
        return nullcontext()

    def dispose(self) -> None:
        pass


def test_start_up_asks_for_a_password_the_server_wants(qtbot, no_keyring, monkeypatch):
    import pytest
    from PySide6.QtWidgets import QInputDialog

    from app import opening
    from app.views import startup

    monkeypatch.setattr(opening, "make_engine", FakeEngine)
    answers = iter([(PASSWORD, True)])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: next(answers)))
    connected = opening.connect(BARE, settings_url=BARE, ask_password=startup.ask_password)
    assert connected[1] == FULL
    assert credentials.child_environment(BARE) == {credentials.PASSWORD_ENV: PASSWORD}
    assert credentials.PASSWORD_ENV not in os.environ

    credentials.forget_session()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", False)))
    with pytest.raises(opening.OpenCancelled):  # cancelled: nothing opens
        opening.connect(BARE, ask_password=startup.ask_password)
