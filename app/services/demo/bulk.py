"""Fast bulk inserts of plain row dicts into the session's transaction.

The demo writes up to millions of rows. ``session.execute(insert(table), rows)`` spends most of
its time building and converting parameters row by row (~50k rows/s on SQLite here), so this
module converts dates, UTC datetimes and enum codes in tight loops to exactly what SQLAlchemy
would store (the columns' own bind processors for any other type) and hands tuples to the driver:
``executemany`` on SQLite, ``COPY`` on PostgreSQL. Rows of one call must all have the same keys;
enum columns take their code strings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, Enum, Table, bindparam, insert, text
from sqlalchemy.orm import Session

from app.models.base import UTCDateTime
from app.services.database.sqlfuncs import is_postgres

Processor = Callable[[Any], Any] | None


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _sqlite_utc(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format: "2024-03-01 08:30:00.000000".
    naive = _naive_utc(value)
    return None if naive is None else naive.isoformat(" ", "microseconds")


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _processors(table: Table, columns: Sequence[str], dialect) -> list[Processor]:
    out: list[Processor] = []
    sqlite = dialect.name == "sqlite"
    for name in columns:
        col_type = table.c[name].type
        if isinstance(col_type, UTCDateTime):
            out.append(_sqlite_utc if sqlite else _naive_utc)
        elif isinstance(col_type, Date):
            out.append(_sqlite_date if sqlite else None)
        elif isinstance(col_type, Enum):
            out.append(None)
        else:
            out.append(col_type.dialect_impl(dialect).bind_processor(dialect))
    return out


def _tuples(
    rows: list[dict[str, Any]], columns: Sequence[str], procs: list[Processor]
) -> list[tuple]:
    # Column by column with map() and zip(): the loops run in C, several times faster than a
    # Python loop over rows.
    data = []
    for name, proc in zip(columns, procs, strict=True):
        values = list(map(itemgetter(name), rows))
        data.append(list(map(proc, values)) if proc else values)
    return list(zip(*data, strict=True))


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` within the session's current transaction."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    columns = list(rows[0])
    if dialect.name == "sqlite":
        values = _tuples(rows, columns, _processors(table, columns, dialect))
        names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
        sql = (
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        conn.exec_driver_sql(sql, values)
        return
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        values = _tuples(rows, columns, _processors(table, columns, dialect))
        names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
        target = dialect.identifier_preparer.format_table(table)
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    conn.execute(insert(table), rows)


@contextmanager
def indexes_suspended(session: Session, tables: Sequence[str]) -> Iterator[None]:
    """On SQLite, drop the secondary indexes and the triggers of ``tables`` while the block
    loads them, and create them again after it (indexes first): one sort per index instead of
    a B-tree insert per row and index, and no trigger per row (the `city` demo 51 -> 30 s).

    The triggers' logs are not written meanwhile: the caller derives everything they would
    have marked afresh after the load. Within the caller's transaction, so a load that fails
    rolls the schema back with the rows. PostgreSQL (rows streamed with COPY) is left as is."""
    if is_postgres(session):
        yield
        return
    names = ", ".join(f":t{i}" for i in range(len(tables)))
    schema = session.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND sql IS NOT NULL AND tbl_name IN ({names}) ORDER BY type, name"
        ).bindparams(*(bindparam(f"t{i}", t) for i, t in enumerate(tables)))
    ).all()
    for kind, name, _ in schema:
        session.execute(text(f'DROP {kind.upper()} "{name}"'))
    # A larger page cache while the rows go in and the indexes are sorted: fewer dirty pages
    # spilled to the log and read back, fewer sort runs on disk.
    cache = session.execute(text("PRAGMA cache_size")).scalar_one()
    session.execute(text(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}"))
    try:
        yield
        for _, _, sql in sorted(schema, key=lambda row: row[0] != "index"):
            session.execute(text(sql))
    finally:
        session.execute(text(f"PRAGMA cache_size = {int(cache)}"))


# The page cache of a bulk load, KiB (SQLite's default is 2,000).
LOAD_CACHE_KIB = 262_144
