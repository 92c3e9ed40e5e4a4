"""Database passwords live in the keyring (or this run's memory), never in griddesk.ini or on a
command line, and the URL GridDesk opens at start has them back."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy.engine import make_url

from app import credentials
from app.db import resolve_url

PASSWORD = "Sesame-4711"
BARE = "postgresql+psycopg://alice@db.example:5432/grid"
FULL = f"postgresql+psycopg://alice:{PASSWORD}@db.example:5432/grid"
ACCOUNT = "alice@db.example:5432/grid"


@pytest.fixture
def settings_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "settings"
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(folder))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    monkeypatch.delenv(credentials.PASSWORD_ENV, raising=False)
    credentials.forget_session()
    yield folder
    credentials.forget_session()
    keyring.set_keyring(fail.Keyring())  # later tests never reach a real keyring either


def ini_text(settings_dir: Path) -> str:
    return (settings_dir / "griddesk.ini").read_text(encoding="utf-8")


def test_a_saved_url_keeps_its_password_in_the_keyring_and_start_gets_it_back(vault, settings_dir):
    from app.settings import Preferences

    Preferences().database_url = FULL
    assert PASSWORD not in ini_text(settings_dir)
    assert vault.entries == {("GridDesk", ACCOUNT): PASSWORD}
    assert Preferences().database_url == BARE
    # What start-up (and the command line) opens: the settings' URL, completed.
    assert resolve_url(None, Preferences().database_url) == FULL


def test_without_a_keyring_the_password_is_kept_for_this_run_only(no_keyring, settings_dir):
    from app.settings import Preferences

    assert not credentials.keyring_available()
    Preferences().database_url = FULL
    assert PASSWORD not in ini_text(settings_dir)
    assert resolve_url(None, Preferences().database_url) == FULL
    credentials.forget_session()  # the next start: the password is asked for again
    assert resolve_url(None, Preferences().database_url) == BARE


@pytest.mark.parametrize("store", ["vault", "no_keyring"])
def test_an_old_settings_file_with_a_password_is_cleaned_on_first_read(
    store, request, settings_dir
):
    from PySide6.QtCore import QSettings

    from app.settings import Preferences

    request.getfixturevalue(store)
    old = QSettings(str(settings_dir / "griddesk.ini"), QSettings.Format.IniFormat)
    old.setValue("prefs/database_url", FULL)
    old.setValue("prefs/language", "en")
    old.sync()
    assert PASSWORD in ini_text(settings_dir)

    assert Preferences().database_url == BARE
    assert PASSWORD not in ini_text(settings_dir)
    assert Preferences().language == "en"  # the rest of the file is as it was
    assert resolve_url(None, Preferences().database_url) == FULL


def test_any_character_in_a_password_survives_the_keyring(vault, settings_dir):
    from app.settings import Preferences

    hard = "p@ss:w/rd%#?&Zebra"
    Preferences().database_url = credentials.with_password(BARE, hard)
    assert "Zebra" not in ini_text(settings_dir)  # neither plain nor percent-encoded
    assert make_url(resolve_url(None, Preferences().database_url)).password == hard


def test_a_restart_hands_a_session_password_to_the_child_only(no_keyring, monkeypatch):
    credentials.save_password(FULL, PASSWORD)
    env = credentials.child_environment(BARE)
    assert env == {credentials.PASSWORD_ENV: PASSWORD}
    assert credentials.PASSWORD_ENV not in os.environ  # the parent's own stays clean

    # The child: a new run that finds the password in its environment and takes it out.
    credentials.forget_session()
    monkeypatch.setenv(credentials.PASSWORD_ENV, PASSWORD)
    credentials.take_environment_password()
    assert credentials.PASSWORD_ENV not in os.environ
    assert resolve_url(BARE) == FULL
    # A second restart from the child hands it over again.
    assert credentials.child_environment(BARE) == env


def test_a_restart_needs_no_environment_when_the_keyring_has_the_password(vault):
    credentials.save_password(FULL, PASSWORD)
    assert credentials.child_environment(BARE) == {}
    assert credentials.child_environment(FULL) == {}


def test_db_arguments_lose_their_passwords():
    args = credentials.without_passwords(["--db", FULL, "--verbose", f"--db={FULL}", "init"])
    assert args == ["--db", BARE, "--verbose", f"--db={BARE}", "init"]
    assert credentials.without_passwords(["--db", "sqlite:///x.db"]) == ["--db", "sqlite:///x.db"]


def test_local_files_and_urls_without_a_user_never_ask_the_keyring(vault):
    assert credentials.account("sqlite:///x.db") is None
    assert resolve_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert credentials.child_environment("sqlite:////tmp/x.db") == {}
    assert vault.entries == {}
