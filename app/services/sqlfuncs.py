"""Date arithmetic that SQLite and PostgreSQL spell differently, as portable SQL expressions;
and id lists cut to a size both take in one ``IN (...)``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Integer, String, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement


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
