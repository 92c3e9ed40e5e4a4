"""Import of the exchange files branches receive from the core systems (DOMAIN.md).

Every kind reads from CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX, with English or Chinese
headers in any order. An import is all or nothing: it runs inside a savepoint and any bad row
rejects the file, naming the file, the row as a spreadsheet shows it, the column and the
problem. Rows are read and written a chunk at a time, so large files need little memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Branch
from app.services.importer.columns import COLUMNS, SHEET_NAMES, match_headers
from app.services.importer.readers import FileProblem, open_table
from app.services.importer.values import ValueProblem, text
from app.services.importer.writers import KEYS, WRITERS, ChunkResult, Pending
from app.services.progress import JobState, NullState, check

KINDS: tuple[str, ...] = (
    "grids",
    "teams",
    "specialists",
    "agents",
    "customers",
    "policies",
    "dues",
    "tasks",
)
CHUNK = 5_000
MAX_PROBLEMS = 50
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ImportFailed(Exception):
    """The file was rejected; nothing of it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            lines.append(f"… and {len(problems) - SHOWN_PROBLEMS} more problems")
        head = (
            f"{problems[0].file}: the file was not imported (nothing was changed)"
            if problems
            else ""
        )
        super().__init__("\n".join([head, *lines]))


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file: str
    rows: int
    inserted: int
    updated: int


def _branch(session: Session, branch_id: int | None, name: str) -> int:
    if branch_id is not None:
        if session.get(Branch, branch_id) is None:
            raise ImportFailed([Problem(name, None, None, f"branch {branch_id} does not exist")])
        return branch_id
    ids = session.scalars(select(Branch.id).limit(2)).all()
    if len(ids) == 1:
        return ids[0]
    if not ids:
        branch = Branch(code="default", name="默认机构", city="")
        session.add(branch)
        session.flush()
        return branch.id
    raise ImportFailed(
        [
            Problem(
                name,
                None,
                None,
                "this database holds several branches: say which one (--branch CODE)",
            )
        ]
    )


def import_file(
    session: Session,
    kind: str,
    path: str | Path,
    *,
    branch_id: int | None = None,
    state: JobState | None = None,
) -> ImportResult:
    """Import one exchange file of ``kind`` and return what it did; raise ImportFailed (with
    the database unchanged) when any row is wrong."""
    state = state or NullState()
    path = Path(path)
    name = path.name
    if kind not in KINDS:
        raise ImportFailed(
            [Problem(name, None, None, f"unknown kind '{kind}': choose one of {', '.join(KINDS)}")]
        )
    savepoint = session.begin_nested()
    try:
        bid = _branch(session, branch_id, name)
        result = (
            _import_grids(session, bid, path)
            if kind == "grids"
            else _import_table(session, bid, kind, path, state)
        )
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _import_grids(session: Session, branch_id: int, path: Path) -> ImportResult:
    from app.services.importer.grids import read_grids, write_grids

    rows, problems = read_grids(path)
    if problems:
        # GeoJSON has no rows: "row" is the feature's position in the collection.
        raise ImportFailed([Problem(path.name, n, col, msg) for n, col, msg in problems])
    if not rows:
        raise ImportFailed([Problem(path.name, None, None, "holds no grid features")])
    inserted, updated = write_grids(session, branch_id, rows)
    return ImportResult("grids", path.name, len(rows), inserted, updated)


def _parsed_rows(
    kind: str, table, found: dict[str, int], problems: list[Problem], name: str, read: list[int]
) -> Iterator[Pending]:
    cols = COLUMNS[kind]
    for rownum, cells in table.rows:
        read[0] += sum(len(str(c)) + 1 for c in cells if c is not None)  # about the bytes read
        values: dict[str, object] = {}
        ok = True
        for c in cols:
            pos = found.get(c.name)
            raw = cells[pos] if pos is not None and pos < len(cells) else None
            if raw is None or text(raw) == "":
                if c.required:
                    problems.append(Problem(name, rownum, c.name, "is required but empty"))
                    ok = False
                continue
            try:
                values[c.name] = c.parse(raw)
            except ValueProblem as exc:
                problems.append(Problem(name, rownum, c.name, str(exc)))
                ok = False
        if ok:
            yield Pending(rownum, values)


def _import_table(
    session: Session, branch_id: int, kind: str, path: Path, state: JobState
) -> ImportResult:
    name = path.name
    try:
        table = open_table(path, kind, SHEET_NAMES.get(kind, ()))
    except FileProblem as exc:
        raise ImportFailed([Problem(name, None, None, str(exc))]) from None
    found, missing = match_headers(kind, table.headers)
    if missing:
        raise ImportFailed(
            [
                Problem(
                    name,
                    1,
                    None,
                    f"required column missing: {', '.join(missing)} (headers found: {', '.join(h for h in table.headers if h) or 'none'})",
                )
            ]
        )
    size = max(path.stat().st_size, 1)
    problems: list[Problem] = []
    seen: dict[tuple, int] = {}
    total = ChunkResult()
    rows = 0
    chunk: list[Pending] = []
    read = [0]

    def flush() -> None:
        if problems:  # keep reading to list more problems, but write nothing more
            chunk.clear()
            return
        result = ChunkResult()
        WRITERS[kind](session, branch_id, chunk, result)
        problems.extend(Problem(name, r, c, m) for r, c, m in result.problems)
        total.inserted += result.inserted
        total.updated += result.updated
        total.policy_ids |= result.policy_ids
        total.customer_ids |= result.customer_ids
        chunk.clear()

    try:
        for pending in _parsed_rows(kind, table, found, problems, name, read):
            key = tuple(pending.values.get(k) for k in KEYS[kind])
            if key in seen:
                problems.append(
                    Problem(
                        name,
                        pending.row,
                        KEYS[kind][0],
                        f"'{key[0]}' appears again (first on row {seen[key]})",
                    )
                )
            else:
                seen[key] = pending.row
            rows += 1
            chunk.append(pending)
            if len(chunk) >= CHUNK:
                flush()
                check(state)
                state.report(min(0.95, read[0] / size), f"{rows:,} rows")
            if len(problems) >= MAX_PROBLEMS:
                break
    except FileProblem as exc:
        problems.append(Problem(name, None, None, str(exc)))
    if chunk:
        flush()
    if problems:
        raise ImportFailed(problems)
    _after_import(session, kind, total)
    state.report(1.0, f"{rows:,} rows")
    return ImportResult(kind, name, rows, total.inserted, total.updated)


def _after_import(session: Session, kind: str, result: ChunkResult) -> None:
    """Refresh what is derived from the imported rows (persistency base, 4-sell steps)."""
    if kind in ("policies", "dues") and result.policy_ids:
        from app.services.metrics.base_table import refresh_persistency_base

        refresh_persistency_base(session, policy_ids=result.policy_ids)
    if kind == "tasks" and result.customer_ids:
        from app.services.steps import recompute_steps

        recompute_steps(session, customer_ids=result.customer_ids)
