"""Declarative base, naming conventions and small column types shared by every model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive-UTC so SQLite and PostgreSQL behave alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def create_with_schema(
    statements: Callable[[str], list[str]], *, pg_functions: Iterable[str] = ()
) -> None:
    """Have ``Base.metadata.create_all`` also run ``statements(dialect)`` (triggers and their
    functions) on SQLite and PostgreSQL, and ``drop_all`` drop the PostgreSQL functions."""
    from sqlalchemy import DDL, event

    for dialect in ("sqlite", "postgresql"):
        for stmt in statements(dialect):
            # DDL formats its text with %, so a literal % (strftime's) is written %%.
            ddl = DDL(stmt.replace("%", "%%")).execute_if(dialect=dialect)
            event.listen(Base.metadata, "after_create", ddl)
    for fn in pg_functions:
        drop = DDL(f"DROP FUNCTION IF EXISTS {fn}()").execute_if(dialect="postgresql")
        event.listen(Base.metadata, "after_drop", drop)
