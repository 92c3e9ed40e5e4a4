"""The unit of work: every session that writes brings the derived tables current before it
commits, whoever wrote and whatever they wrote.

Two derived tables follow the customers:

- the persistency base and its monthly cells (``app.services.metrics.base_table`` and
  ``summary``), stale for the customers ``app.models.derived``'s triggers log when a customer's
  branch, grid or specialist changes or their assignment history does;
- the funnel cells (``app.services.metrics.funnel_cells``), stale for the (branch, specialist,
  month) keys ``app.models.funnel``'s triggers log when a customer's steps or specialist change.

:func:`settle` rewrites what the logs name in the writer's own transaction, so a committed move
is never misattributed and a failed one leaves nothing half written. The writers (rebalance,
undo, intake, leaving, imports, the demo) do not call it: the entry points install it on their
session factories (``app.opening`` for the app and every command), and :func:`sessionmaker`
is that factory for tests and benchmarks. ``app.db`` knows nothing of it.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker as SessionMaker  # noqa: N812

from app.db import is_read_only, make_sessionmaker
from app.services.metrics import base_table, funnel_cells


def settle(session: Session) -> None:
    """Bring every derived table current with what this session has written."""
    session.flush()  # the triggers log what the flush writes
    base_table.settle(session)
    funnel_cells.settle(session)


def pending(session: Session) -> bool:
    """Return True when this session sees writes the derived tables do not hold yet."""
    return base_table.pending(session) or funnel_cells.pending(session)


def bring_current(engine: Engine) -> None:
    """Settle and commit what a migration (or a writer outside the unit of work) left logged."""
    with make_sessionmaker(engine)() as session, session.begin():
        settle(session)


def install(maker: SessionMaker[Session]) -> None:
    """Settle the derived tables before every commit of the sessions ``maker`` makes."""
    event.listen(maker, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit settles (and takes the locks only then)
    settle(session)


def sessionmaker(engine: Engine) -> SessionMaker[Session]:
    """Return the session factory of ``engine`` with the unit of work installed (none on a
    read-only engine: an offline copy's derived tables were written when it was taken)."""
    maker = make_sessionmaker(engine)
    if not is_read_only(engine):
        install(maker)
    return maker
