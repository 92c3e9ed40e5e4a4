"""The command line: database choice, readable errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
import uuid

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
        ("postgresql://nobody:secret@127.0.0.1:1/none", "server cannot be reached"),
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
    assert main(["--db", db, "init"]) == 0
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


HARD_PASSWORD = "P@ss:w0rd%/#?"


@pytest.mark.pg_only
def test_a_password_with_any_characters_works_and_never_shows(pg_server_url, tmp_path, capsys):
    """A database password with @ : % / # ? in it (percent-encoded in the URL, as URLs want)
    serves every command, Alembic's included, and no message prints it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    role, db = f"gd_{uuid.uuid4().hex[:8]}", f"griddesk_pw_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(pg_server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        quoted = HARD_PASSWORD.replace("'", "''")  # DDL takes no parameters
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{quoted}'"))
        conn.execute(text(f'CREATE DATABASE "{db}" OWNER {role}'))
    try:
        url = (
            make_url(pg_server_url)
            .set(username=role, password=HARD_PASSWORD, database=db)
            .render_as_string(hide_password=False)
        )
        assert "%40" in url and "%25" in url  # the URL carries it encoded
        assert main(["--db", url, "init"]) == 0
        period = ["metrics", "persistency", "--period", "2024-03", "--as-of", "2024-12-31"]
        assert main(["--db", url, *period]) == 0
        assert main(["--db", url, "metrics", "persistency", "--period", "2024-13"]) == 1
        printed = capsys.readouterr()
        for secret in (HARD_PASSWORD, "P%40ss", "w0rd"):
            assert secret not in printed.out + printed.err
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_a_sqlite_path_with_a_percent_sign_works(tmp_path):
    folder = tmp_path / "100% branch"
    folder.mkdir()
    assert main(["--db", f"sqlite:///{folder / 'a%b.db'}", "init"]) == 0
