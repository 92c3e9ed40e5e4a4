"""Errors in words: no SQLAlchemy or Alembic text reaches the user; a locked database, a newer
schema, a read-only file, a concurrent change and a broken rule each have a sentence."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.cli import main
from app.cli.common import describe_error
from app.db import make_engine, migrate
from app.services.errors import REASONS


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    for name in ("GRIDDESK_DB", "GRIDDESK_USER", "GRIDDESK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _technical(message: str) -> bool:
    return any(t in message for t in ("sqlalche.me", "[SQL:", "Background on", "revision"))


def test_a_database_locked_by_another_writer_is_said_plainly(tmp_path):
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=100")
            with pytest.raises(OperationalError) as caught:
                conn.execute(text("INSERT INTO branch (code, name, city) VALUES ('x','x','x')"))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    message = describe_error(caught.value)
    assert message == REASONS["locked"] and not _technical(message)


def test_a_database_from_a_newer_griddesk_is_said_plainly(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    assert main(["--db", url, "init"]) == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    assert main(["--db", url, "metrics", "persistency", "--period", "2024-03"]) == 1
    err = capsys.readouterr().err
    assert REASONS["newer"] in err and not _technical(err)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (
            StaleDataError("UPDATE statement on table 'customer' expected to update 1 row(s)"),
            "stale",
        ),
        (
            IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: team.code")),
            "integrity",
        ),
        (
            OperationalError("INSERT", {}, Exception("attempt to write a readonly database")),
            "read_only",
        ),
        (OperationalError("SELECT", {}, Exception("no such table: grid")), "schema"),
        (OperationalError("SELECT", {}, Exception("file is not a database")), "not_a_database"),
        (
            OperationalError(
                "SELECT",
                {},
                Exception(
                    'connection failed: connection to server at "10.0.0.5", port 5432 '
                    "failed: Connection refused"
                ),
            ),
            "unreachable",
        ),
        (
            OperationalError(
                "COMMIT", {}, Exception("terminating connection due to administrator command")
            ),
            "unreachable",
        ),
    ],
)
def test_each_technical_error_has_a_sentence(exc, code):
    message = describe_error(exc)
    assert message == REASONS[code] and not _technical(message)
