"""A database error means the same to the user whatever language the server speaks: a branch's
PostgreSQL set up in Chinese (lc_messages) words its errors in Chinese, so GridDesk reads them
by SQLSTATE. The messages below are PostgreSQL 15's own Chinese translations; the error classes
are psycopg's, as the driver raises them. SQLite's errors are read by result code, from a real
SQLite file."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors as pg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from app.services.errors import REASONS, reason_code


def _wrapped(orig: Exception) -> DBAPIError:
    """The error as SQLAlchemy hands it on (an OperationalError, a ProgrammingError, …)."""
    return DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (pg.LockNotAvailable('无法在关系 "customer"中的记录上获得锁'), "locked"),
        (pg.DeadlockDetected("检测到死锁"), "locked"),
        (pg.UndefinedTable('关系 "persistency_month" 不存在'), "schema"),
        (pg.UndefinedColumn('字段 "grid_id" 不存在'), "schema"),
        (pg.ReadOnlySqlTransaction("不能在一个只读模式的事务中执行INSERT"), "read_only"),
        (pg.AdminShutdown("由于管理员命令中断联接"), "unreachable"),
        (pg.CannotConnectNow("数据库系统停止中"), "unreachable"),
        (pg.UniqueViolation("重复键违反唯一约束"), "integrity"),
    ],
    ids=lambda v: getattr(v, "sqlstate", v),
)
def test_a_chinese_servers_errors_are_read_by_their_sqlstate(error, reason):
    assert reason_code(_wrapped(error)) == reason
    assert reason in REASONS


def test_sqlite_errors_are_read_by_their_result_code(tmp_path):
    path = tmp_path / "branch.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    try:
        with pytest.raises(DBAPIError) as busy, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert busy.value.orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
        assert reason_code(busy.value) == "locked"
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    (tmp_path / "not.db").write_bytes(b"this is no database file, only text " * 100)
    other = create_engine(f"sqlite:///{tmp_path / 'not.db'}")
    try:
        with pytest.raises(DBAPIError) as bad, other.connect() as conn:
            conn.execute(text("SELECT * FROM sqlite_master"))
        assert reason_code(bad.value) == "not_a_database"
    finally:
        other.dispose()
