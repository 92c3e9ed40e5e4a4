"""Import of the exchange files branches receive from the core systems (DOMAIN.md).

Every table kind reads from CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030) or XLSX, with
English or Chinese headers in any order; grids read from GeoJSON. An import is all or
nothing: it runs inside a savepoint, and any bad row rejects the file, naming the file, the
row as a spreadsheet shows it, the column and what is wrong. Rows are read, checked and
written a chunk at a time, so a file of millions of rows needs little memory. Re-importing a
file updates the rows by their key and leaves rows that are not in the file alone.

    readers.py   files to rows (encodings, XLSX sheets)
    values.py    cells to values (dates, amounts, phone and ID numbers, codes)
    kinds.py     the columns of each kind
    pipeline.py  the row loop: parse, check keys, chunk, collect problems
    writers.py   per kind: references to ids, checks across columns, writes
    assignments.py  the assignment history: timelines per customer and grid, written at the end
    scope.py     references looked up in the import's branch only; other branches' rows refused
    store.py     insert-or-update by key, one executemany a chunk
    grids.py     GeoJSON grids
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch
from app.services.clock import branch_tz
from app.services.importer.context import Context
from app.services.importer.problems import ImportFailed, ImportResult, Problem
from app.services.importer.values import MAX_AMOUNT_YUAN
from app.services.messages import Message
from app.services.progress import JobState, NullState

__all__ = ["KINDS", "ImportFailed", "ImportResult", "Problem", "import_file"]

KINDS: tuple[str, ...] = (
    "grids",
    "teams",
    "specialists",
    "agents",
    "customers",
    "policies",
    "dues",
    "tasks",
    "assignments",
)


def import_file(
    session: Session,
    kind: str,
    path: str | Path,
    *,
    branch_id: int | None = None,
    state: JobState | None = None,
    actor: str = "import",
) -> ImportResult:
    """Return what importing the exchange file ``path`` of ``kind`` did; raise ImportFailed,
    with the database as it was, when anything in it is wrong. The caller commits. ``actor``
    (the signed-in user's login) is who the history records for the changes it makes."""
    state = state or NullState()
    path = Path(path)
    if kind not in KINDS:
        raise ImportFailed(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    Message("import.unknown_kind", kind=kind, choices=list(KINDS)),
                )
            ]  # fmt: skip
        )
    savepoint = session.begin_nested()  # flushes what the session had pending first
    try:
        result = _import(session, kind, path, branch_id, state, actor)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    # The rows were written with Core statements: objects the session holds may be stale.
    session.expire_all()
    state.report(1.0, Message("progress.rows_imported", rows=result.rows))
    return result


def _import(
    session: Session, kind: str, path: Path, branch_id: int | None, state: JobState, actor: str
) -> ImportResult:
    bid, tz = _branch(session, branch_id, path.name)
    limit = session.scalar(select(Branch.max_amount_yuan).where(Branch.id == bid)) or (
        MAX_AMOUNT_YUAN
    )
    ctx = Context(session, bid, branch_tz(tz), frozenset(), max_amount_yuan=limit, actor=actor)
    if kind == "grids":
        from app.services.importer.grids import existing_grids, read_grids, write_grids

        rows, found = read_grids(path, existing_grids(session, bid))
        if found:
            raise ImportFailed([Problem(path.name, n, col, msg) for n, col, msg in found])
        ctx.count(*write_grids(session, bid, rows))
        count = len(rows)
    else:
        from app.services.importer.pipeline import import_table

        count = import_table(ctx, kind, path, state)
        if kind == "assignments":  # a timeline may span chunks: written once all is read
            from app.services.importer.assignments import write_history

            write_history(ctx)
    _after_import(session, kind, ctx)
    return ImportResult(kind, path.name, count, ctx.inserted, ctx.updated, tuple(ctx.notices))


def _branch(session: Session, branch_id: int | None, name: str) -> tuple[int, str | None]:
    """Return the id and time zone of the branch to import into (creating a default branch in
    an empty database)."""
    if branch_id is not None:
        branch = session.get(Branch, branch_id)
        if branch is None:
            raise ImportFailed(
                [Problem(name, None, None, Message("branch.not_found", branch=branch_id))]
            )
        return branch.id, branch.timezone
    found = session.execute(select(Branch.id, Branch.timezone).limit(2)).all()
    if len(found) == 1:
        return found[0]
    if not found:
        branch = Branch(code="default", name="默认机构", city="")
        session.add(branch)
        session.flush()
        return branch.id, branch.timezone
    raise ImportFailed(
        [
            Problem(
                name,
                None,
                None,
                Message("import.branch_needed"),
            )
        ]  # fmt: skip
    )


# From this many rows written, PostgreSQL is told about them before the derived data is refreshed.
BULK_ROWS = 10_000


def _after_import(session: Session, kind: str, ctx: Context) -> None:
    """Refresh what is derived from the imported rows and not kept by the unit of work: the
    customers' 4-sell steps after tasks, and the matches of pool customers after grids."""
    if ctx.inserted + ctx.updated >= BULK_ROWS:
        from app.services.database.sqlfuncs import BULK_TABLES, refresh_statistics

        refresh_statistics(session, BULK_TABLES)
    # Policies, dues and assignments need nothing here: the unit of work rewrites the base rows
    # of every policy whose dues or columns they changed, and sets again who served each
    # customer whose specialist or history they changed, before the import commits.
    if kind == "tasks" and ctx.customer_ids:
        from app.services.customers.steps import recompute_steps

        recompute_steps(session, customer_ids=ctx.customer_ids)
    if kind == "grids" and ctx.inserted + ctx.updated:
        # New or redrawn grids may now take pool customers still without one: those waiting
        # in the unmatched queue and those marked outside coverage.
        from app.services.intake.unmatched import rematch_unmatched

        matched = rematch_unmatched(session, ctx.branch_id, actor=ctx.actor)
        if matched:
            ctx.notices.append(
                f"{matched} pool customers without a grid were matched to the grids imported"
            )
