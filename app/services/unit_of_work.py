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

A large change may leave the persistency base to a job after the commit: when a session that
says it may (:func:`may_defer`: the desktop app's writes) has logged more than
:data:`DEFER_FROM` customers, the commit settles the funnel cells (seconds at most) and keeps the
customers' marks; :func:`deferred` then says so, and the app runs :func:`bring_current` in the
background at once, its screens saying the figures are being updated until it is done. The
marks are committed with the change, so nothing is lost if that job never runs: the next
commit through the unit of work settles them.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker as SessionMaker  # noqa: N812

from app.db import is_read_only, make_sessionmaker
from app.services.metrics import base_table, funnel_cells

# Customers logged, above which a session that may defer leaves the base to a job after commit:
# a rebalance of a few dozen grids stays one transaction; a 200-grid plan on a big city's
# branch (37,000 customers, about 30 s of base rows) commits in seconds.
DEFER_FROM = 5_000
_MAY_DEFER = "griddesk.may_defer"
_DEFERRED = "griddesk.deferred"


def may_defer(session: Session) -> None:
    """Let this session's commit leave a large persistency refresh to a job after it."""
    session.info[_MAY_DEFER] = True


def deferred(session: Session) -> bool:
    """Say whether this session's last commit left the persistency base to a later job."""
    return bool(session.info.get(_DEFERRED))


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
    session.info.pop(_DEFERRED, None)
    if session.info.get(_MAY_DEFER):
        session.flush()
        if base_table.marked(session, DEFER_FROM) >= DEFER_FROM:
            funnel_cells.settle(session)
            session.info[_DEFERRED] = True
            return
    settle(session)


def sessionmaker(engine: Engine) -> SessionMaker[Session]:
    """Return the session factory of ``engine`` with the unit of work installed (none on a
    read-only engine: an offline copy's derived tables were written when it was taken)."""
    maker = make_sessionmaker(engine)
    if not is_read_only(engine):
        install(maker)
    return maker
