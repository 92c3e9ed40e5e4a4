"""The unit of work: every session that writes brings the derived tables current before it
commits, whoever wrote and whatever they wrote.

Two derived tables follow the customers:

- the persistency base and its monthly cells (``app.services.metrics.base_table`` and
  ``summary``), stale for the customers ``app.models.derived``'s triggers log when a customer's
  branch, grid or specialist changes or their assignment history does, and for the policies
  they log when a policy or a premium due of years 2-3 is written;
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
customers' marks; :func:`deferred` then says so, and the app runs :func:`settle_everything` in
the background at once, its screens saying the figures are being updated until it is done. The
marks are committed with the change, so nothing is lost if that job never runs: the next
window's start (or ``griddesk init``) settles them. A commit settles only its own
transaction's marks, so nobody needs rights over another user's customers to commit.
"""

from __future__ import annotations

from sqlalchemy import Engine, event, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker as SessionMaker  # noqa: N812

from app.db import is_read_only, make_sessionmaker
from app.models import PersistencyDirty, PolicyDirty
from app.services.database.sqlfuncs import is_postgres
from app.services.metrics import base_table, funnel_cells

# Customers logged, above which a session that may defer leaves the base to a job after commit:
# a rebalance of a few dozen grids stays one transaction; a 200-grid plan on a big city's
# branch (30,000 customers, about 5 s of base rows) commits in seconds.
DEFER_FROM = 5_000
# Customers a background settle takes per transaction: SQLite's write lock is held for about
# a second each on the large demo (30,000 customers: 7 transactions, 8 s in all), so the
# user's next write never waits for the whole job. 2,000 took as long in all.
SETTLE_CHUNK = 5_000
_MAY_DEFER = "griddesk.may_defer"
_DEFERRED = "griddesk.deferred"
_FLOOR = "griddesk.marks_floor"


def may_defer(session: Session) -> None:
    """Let this session's commit leave a large persistency refresh to a job after it."""
    session.info[_MAY_DEFER] = True


def deferred(session: Session) -> bool:
    """Say whether this session's last commit left the persistency base to a later job."""
    return bool(session.info.get(_DEFERRED))


def _own(session: Session) -> base_table.Marks:
    """The marks this session's transaction wrote: on PostgreSQL by their transaction id; on
    SQLite, one writer at a time, those above each log's largest id when the transaction began
    (none when it never began: it wrote nothing)."""
    if is_postgres(session):
        return lambda log: log.tx == func.txid_current_if_assigned()
    floors = session.info.get(_FLOOR)
    if floors is None:
        return lambda log: false()
    return lambda log: log.id > floors[log.__tablename__]


def settle(session: Session) -> None:
    """Bring the derived tables current with what this session's transaction has written."""
    session.flush()  # the triggers log what the flush writes
    base_table.settle(session, only=_own(session))
    funnel_cells.settle(session)


def pending(session: Session) -> bool:
    """Return True when this session sees writes the derived tables do not hold yet (anyone's)."""
    return base_table.pending(session) or funnel_cells.pending(session)


def settle_everything(maker: SessionMaker[Session], *, chunk: int = SETTLE_CHUNK) -> int:
    """Settle every mark anyone left (a large change's, or a writer's outside the unit of
    work), ``chunk`` customers per transaction; return how many customers."""
    done = 0
    while True:
        with maker() as session, session.begin():
            n = base_table.settle(session, limit=chunk)
            funnel_cells.settle(session)
        done += n
        if n < chunk:
            return done


def bring_current(engine: Engine) -> None:
    """Settle and commit what a migration (or a writer outside the unit of work) left logged."""
    settle_everything(make_sessionmaker(engine))


def install(maker: SessionMaker[Session]) -> None:
    """Settle the derived tables before every commit of the sessions ``maker`` makes."""
    event.listen(maker, "after_begin", _note_floor)
    event.listen(maker, "before_commit", _before_commit)


def _note_floor(session: Session, transaction, connection) -> None:
    """On SQLite, note each log's largest mark when the transaction begins: the marks above it
    are this transaction's (a unit of work holds the write lock from its BEGIN IMMEDIATE)."""
    if transaction.parent is not None or connection.dialect.name != "sqlite":
        return
    session.info[_FLOOR] = {
        log.__tablename__: connection.execute(select(func.coalesce(func.max(log.id), 0))).scalar()
        for log in (PersistencyDirty, PolicyDirty)
    }


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outermost commit settles (and takes the locks only then)
    session.info.pop(_DEFERRED, None)
    session.flush()  # the triggers log what the flush writes (and it begins the transaction)
    if (
        session.info.get(_MAY_DEFER)
        and base_table.marked(session, DEFER_FROM, _own(session)) >= DEFER_FROM
    ):
        # On SQLite the funnel cells wait for the job too (1.3 against 3.9 s of commit for a
        # 200-grid plan on `large`): while their marks are there, a funnel report reads the
        # customers themselves (exact, slower), so nothing shows stale figures. On PostgreSQL
        # the funnel marks are not kept per transaction, so any later commit would settle
        # them, which a user may not do for another's customers: they are settled here.
        if is_postgres(session):
            funnel_cells.settle(session)
        session.info[_DEFERRED] = True
        session.info.pop(_FLOOR, None)
        return
    settle(session)
    session.info.pop(_FLOOR, None)


def sessionmaker(engine: Engine) -> SessionMaker[Session]:
    """Return the session factory of ``engine`` with the unit of work installed (none on a
    read-only engine: an offline copy's derived tables were written when it was taken)."""
    maker = make_sessionmaker(engine)
    if not is_read_only(engine):
        install(maker)
    return maker
