"""The command line: database choice, readable errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import main


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)


def test_init_creates_the_schema_with_db_before_or_after_the_command(tmp_path, capsys):
    before = tmp_path / "before.db"
    after = tmp_path / "after.db"
    assert main(["--db", f"sqlite:///{before}", "init"]) == 0
    assert main(["init", "--db", f"sqlite:///{after}"]) == 0
    assert before.exists() and after.exists()
    assert "database ready" in capsys.readouterr().out


def test_environment_variable_chooses_the_database(tmp_path, monkeypatch):
    target = tmp_path / "env.db"
    monkeypatch.setenv("GRIDDESK_DB", f"sqlite:///{target}")
    assert main(["init"]) == 0
    assert target.exists()


def test_flag_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_DB", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["--db", f"sqlite:///{tmp_path / 'flag.db'}", "init"]) == 0
    assert (tmp_path / "flag.db").exists()
    assert not (tmp_path / "env.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@h/db", "not supported"),
        ("postgresql://nobody:secret@127.0.0.1:1/none", "cannot be used"),
    ],
)
def test_broken_database_url_gives_a_readable_message(url, expected, capsys):
    assert main(["--db", url, "init"]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert "secret" not in err


def test_bad_period_is_reported_not_raised(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["--db", db, "metrics", "persistency", "--period", "2024-13"]) == 1
    assert "month must be 01 to 12" in capsys.readouterr().err


def test_console_script_exits_non_zero_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "--db", "mysql://x@y/z", "init"],
        capture_output=True,
        text=True,
        env={"GRIDDESK_SETTINGS_DIR": str(tmp_path), "PATH": ""},
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "not supported" in proc.stderr
