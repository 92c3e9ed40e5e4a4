"""The log file: where it goes, what the command line writes to it, and that no password does."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from app import __version__
from app.cli import main
from app.logs import LOG_NAME, log_dir, mask_secrets, setup_logging

# Every character a URL or a log parser might trip on.
PASSWORD = "P@ss:w0rd%/#?"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, log_file):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    monkeypatch.delenv("GRIDDESK_DEBUG", raising=False)


def _log_text(tmp_path: Path) -> str:
    return (tmp_path / "logs" / LOG_NAME).read_text(encoding="utf-8")


def test_command_line_logs_its_start_command_and_exit_status(tmp_path):
    assert main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "init"]) == 0
    text = _log_text(tmp_path)
    assert f"GridDesk {__version__} command init started" in text
    assert f"sqlite:///{tmp_path / 'x.db'}" in text
    assert "command init ended with exit status 0" in text


def test_failing_command_logs_its_traceback_but_not_the_password(tmp_path, capsys):
    assert main(["--db", "mysql://u:secret@h/db", "init"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err  # the terminal: one readable line
    text = _log_text(tmp_path)
    assert "Traceback (most recent call last)" in text
    assert "DatabaseUrlError" in text
    assert "mysql://u:***@h/db" in text
    assert "command init ended with exit status 1" in text
    assert "secret" not in text


def test_filter_masks_a_hard_password_in_urls_plain_text_and_tracebacks(tmp_path):
    encoded = quote(PASSWORD, safe="")
    url = f"postgresql+psycopg://clerk:{encoded}@db.example:5432/grid"
    setup_logging()
    log = logging.getLogger("griddesk.test")
    log.info("connecting to %s", url)
    log.info("raw postgresql://clerk:%s@db.example/grid", PASSWORD)
    log.warning("environment GRIDDESK_PASSWORD=%s", PASSWORD)
    log.warning("dsn host=db.example password=%s user=clerk", PASSWORD)
    try:
        raise RuntimeError(f"cannot connect to {url}\nGRIDDESK_PASSWORD={PASSWORD}")
    except RuntimeError:
        log.exception("failed")
    text = _log_text(tmp_path)
    for secret in (PASSWORD, encoded, "w0rd"):
        assert secret not in text
    assert text.count("postgresql+psycopg://clerk:***@db.example:5432/grid") == 2
    assert "postgresql://clerk:***@db.example/grid" in text
    assert "environment GRIDDESK_PASSWORD=***\n" in text
    assert "dsn host=db.example password=***\n" in text  # the rest of the line, whatever it is
    assert "RuntimeError: cannot connect" in text


def test_mask_leaves_urls_without_passwords_alone():
    for text in ("sqlite:///C:/data/griddesk.db", "postgresql://clerk@db.example:5432/grid"):
        assert mask_secrets(text) == text


def test_log_goes_to_the_platform_log_folder_unless_told_otherwise(monkeypatch):
    from platformdirs import user_log_dir

    monkeypatch.delenv("GRIDDESK_LOG_DIR")
    monkeypatch.delenv("GRIDDESK_SETTINGS_DIR")
    assert log_dir() == Path(user_log_dir("GridDesk", appauthor=False))
