"""What the query-plan tests share: the plan SQLite chose for the last statement a call ran on
a table."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


def last_plan(session: Session, table: str, call: Callable[[], object]) -> list[str]:
    """Run ``call()`` and return SQLite's EXPLAIN QUERY PLAN lines for the last statement it
    sent that names ``table``."""
    seen: list[tuple] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if table in statement:
            seen.append((statement, parameters))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(bind, "before_cursor_execute", keep)
    statement, parameters = seen[-1]
    return [
        r[3]
        for r in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    ]
