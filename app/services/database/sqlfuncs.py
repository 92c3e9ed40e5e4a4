"""SQL that SQLite and PostgreSQL spell differently, as portable expressions: date arithmetic,
branch-local days, hours between two times, grouped medians; id lists cut to a size both take
in one ``IN (...)``; and the statements only one dialect has (PostgreSQL's advisory locks and
``= ANY(array)``, each dialect's upsert). The one place GridDesk speaks either dialect.

Times are stored as naive UTC. A branch's local calendar day is found with a fixed offset from
UTC per branch (its offset today). That is exact for Asia/Shanghai, which has had no daylight
saving since 1991; for a zone with daylight saving it is off by the shift's hour near midnight
on summer days, a trade accepted to keep every derivation one set-based statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    Table,
    any_,
    case,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from app.db import is_sqlite
from app.models import Branch
from app.services.clock import branch_tz


class days_between(FunctionElement):  # noqa: N801 - reads as SQL
    """``days_between(later, earlier)``: whole days from ``earlier`` to ``later`` (two dates)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


class month_of(FunctionElement):  # noqa: N801
    """``month_of(date)``: the month as 'YYYY-MM' text."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(day, **kw)})"


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"to_char({compiler.process(day, **kw)}, 'YYYY-MM')"


# The tables a demo build or a large import fills, read by the refreshes that follow.
BULK_TABLES = (
    "customer",
    "policy",
    "premium_due",
    "task",
    "assignment_event",
    "specialist",
    "grid",
)


def refresh_statistics(session: Session, tables: Sequence[str]) -> None:
    """Let PostgreSQL's planner know about rows just written in bulk (this transaction's own
    included): planned on the statistics of the empty tables, the set-based refreshes that
    follow a demo build or a large import chose nested loops and ran for minutes instead of
    seconds. SQLite plans from its indexes and needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in tables)))


def chunks(items: Sequence, size: int = 500) -> Iterator[list]:
    """Yield ``items`` in lists of at most ``size``: each one ``IN (...)`` list, well below
    SQLite's and PostgreSQL's parameter limits."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def utc_offset_minutes(tz_name: str | None) -> int:
    """Return how many minutes the zone is ahead of UTC today (480 for Asia/Shanghai)."""
    offset = datetime.now(branch_tz(tz_name)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def branch_offsets(session: Session) -> dict[int, int]:
    """Return each branch's UTC offset in minutes, by branch id."""
    return {
        bid: utc_offset_minutes(tz)
        for bid, tz in session.execute(select(Branch.id, Branch.timezone))
    }


def offset_for(branch_col: Any, offsets: dict[int, int]) -> ColumnElement[int]:
    """Return the UTC offset of the row's branch as an SQL expression (a literal when every
    branch shares one offset, the usual case)."""
    distinct = set(offsets.values())
    if len(distinct) <= 1:
        return literal(distinct.pop() if distinct else utc_offset_minutes(None))
    return case(offsets, value=branch_col, else_=utc_offset_minutes(None))


class local_day(FunctionElement):  # noqa: N801 - reads as SQL
    """``local_day(utc_ts, offset_minutes)``: the calendar date of a naive UTC time in a zone."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    ts, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({ts}, ({minutes}) || ' minutes')"


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    ts, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST({ts} + make_interval(mins => CAST({minutes} AS INTEGER)) AS DATE)"


class utc_day_end(FunctionElement):  # noqa: N801
    """``utc_day_end(day, offset_minutes)``: the naive UTC time at which the local day after
    ``day`` begins, i.e. the exclusive end of ``day`` in the zone."""

    type = DateTime()
    inherit_cache = True
    name = "utc_day_end"


@compiles(utc_day_end, "sqlite")
def _day_end_sqlite(element, compiler, **kw):
    day, minutes = (compiler.process(c, **kw) for c in element.clauses)
    # Same text shape as stored times ('YYYY-MM-DD HH:MM:SS'); a stored time equal to the
    # boundary sorts after it because of its '.ffffff' tail, so `>=` keeps its meaning.
    return f"datetime({day}, (1440 - ({minutes})) || ' minutes')"


@compiles(utc_day_end, "postgresql")
def _day_end_pg(element, compiler, **kw):
    day, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"({day} + make_interval(mins => CAST(1440 - ({minutes}) AS INTEGER)))"


class hours_between(FunctionElement):  # noqa: N801
    """``hours_between(later, earlier)``: hours from one stored time to another, as a float."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_pg(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


def grouped_medians(session: Session, values: Select) -> dict[tuple, float]:
    """Return the median of the last column of ``values`` per combination of the other
    columns (the mean of the two middle values for an even count, as statistics.median).

    Computed in the database with window functions, so only one row per group comes back.
    """
    sub = values.subquery()
    cols = list(sub.c)
    keys, value = cols[:-1], cols[-1]
    partition = keys or None
    ranked = select(
        *keys,
        value.label("v"),
        func.row_number().over(partition_by=partition, order_by=value).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()
    rkeys = [ranked.c[k.name] for k in keys]
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    stmt = select(*rkeys, func.avg(ranked.c.v)).where(middle)
    if rkeys:
        stmt = stmt.group_by(*rkeys)
    return {tuple(r[:-1]): float(r[-1]) for r in session.execute(stmt) if r[-1] is not None}


def key_of(row: Sequence[Any], width: int) -> tuple:
    """Return the first ``width`` values of a result row as a dictionary key."""
    return tuple(row[:width])


# -- statements only one dialect has ------------------------------------------------------------


def is_postgres(session: Session) -> bool:
    """Return True when ``session`` works on PostgreSQL (the other of the two: app.db's
    is_sqlite is the one test of the dialect)."""
    return not is_sqlite(session)


def lock_branches(session: Session, lock_class: int, branch_ids: Iterable[int]) -> None:
    """On PostgreSQL, take one transaction-scoped advisory lock per branch, in order (so two
    transactions locking the same branches take turns and never deadlock); on SQLite nothing:
    a writer there holds the whole file from its BEGIN IMMEDIATE."""
    if not is_postgres(session):
        return
    for branch in sorted(set(branch_ids)):
        session.execute(select(func.pg_advisory_xact_lock(lock_class, branch)))


def upsert(session: Session, table: Table) -> Any:
    """Return ``INSERT INTO table`` in the session's dialect, which has
    ``on_conflict_do_update`` (SQLite and PostgreSQL spell it alike, but each has its own)."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def one_of(session: Session, column: Any, values: list) -> ColumnElement[bool]:
    """Return ``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter instead of
    thousands (psycopg spent more time splitting those queries than the server running them)."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)
