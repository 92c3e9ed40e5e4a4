"""The detail export: the customers, policies and tasks of a scope, one row each, as an .xlsx
(one sheet per table) or a .csv (one table).

Rows stream from the database (``yield_per``) into xlsxwriter's constant-memory workbook
(``files.xlsx.book``) or a CSV writer, so memory stays flat whatever the row count; the file
is written beside the target under a temporary name and renamed at the end (a failure leaves
no half file).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.models import Branch, Customer, DepartedAgent, Grid, Policy, Specialist, Task, Team
from app.services.clock import branch_tz
from app.services.exports.files import (
    ExportError,
    ExportResult,
    atomic_target,
    contact_masks,
    suffix_error,
)
from app.services.exports.scope import ExportScope
from app.services.exports.sheets import FORMATS, Col, fit_width, text_width
from app.services.files.inert import InertCsvWriter
from app.services.files.xlsx import Column, Print, book
from app.services.messages import Message
from app.services.people.auth import UserInfo
from app.services.progress import JobState, NullState, check
from app.services.words import Texts

TABLES = ("customers", "policies", "tasks")
YIELD_PER = 2_000
# The header of the exported workbooks (app.services.exports.sheets), as xlsxwriter words it.
_HEADER = {"font_name": "Calibri", "bold": True, "font_color": "#1F3864", "bg_color": "#DDEBF7"}


@dataclass(frozen=True)
class DetailTable:
    """One table of the detail export: its sheet name, columns and a stream of rows."""

    key: str
    title: str
    columns: tuple[Col, ...]
    count: int
    rows: Iterable[Sequence[object]]


def _customers_in(scope: ExportScope):
    """Return the SELECT of the ids of the scope's customers (by their current specialist)."""
    stmt = select(Customer.id).where(Customer.branch_id == scope.branch_id)
    if scope.specialist_ids is not None:
        return stmt.where(Customer.specialist_id.in_(list(scope.specialist_ids)))
    if scope.team_ids is not None:
        members = select(Specialist.id).where(Specialist.team_id.in_(list(scope.team_ids)))
        return stmt.where(Customer.specialist_id.in_(members))
    return stmt


def _customers(scope: ExportScope, t: Texts):
    cols = (
        Col(t["customer_no"], width=12),
        Col(t["customer_name"], width=8),
        Col(t["phone"], width=11),
        Col(t["id_number"], width=18),
        Col(t["address"], width=50),
        Col(t["grid_code"], width=9),
        Col(t["grid_name"], width=16),
        Col(t["employee_no"], width=9),
        Col(t["specialist_name"], width=8),
        Col(t["team"], width=10),
        Col(t["pool_entered_on"], "date"),
        Col(t["agent_code"], width=10),
        Col(t["step_reached"], width=10),
    )
    stmt = (
        select(
            Customer.customer_no,
            Customer.name,
            Customer.phone,
            Customer.id_number,
            Customer.address,
            Grid.code,
            Grid.name,
            Specialist.employee_no,
            Specialist.name,
            Team.name,
            Customer.pool_entered_on,
            DepartedAgent.agent_code,
            Customer.step,
        )
        .outerjoin(Grid, Grid.id == Customer.grid_id)
        .outerjoin(Specialist, Specialist.id == Customer.specialist_id)
        .outerjoin(Team, Team.id == Specialist.team_id)
        .outerjoin(DepartedAgent, DepartedAgent.id == Customer.agent_id)
        .where(Customer.id.in_(_customers_in(scope)))
        .order_by(Customer.id)
    )
    return cols, stmt, select(func.count()).where(Customer.id.in_(_customers_in(scope)))


def _policies(scope: ExportScope, t: Texts):
    cols = (
        Col(t["policy_no"], width=14),
        Col(t["customer_no"], width=12),
        Col(t["customer_name"], width=8),
        Col(t["product"], width=18),
        Col(t["issue_date"], "date"),
        Col(t["payment_mode"], width=8),
        Col(t["modal_premium"], "money", width=12),
        Col(t["policy_status"], width=8),
        Col(t["status_date"], "date"),
        Col(t["employee_no"], width=9),
        Col(t["specialist_name"], width=8),
        Col(t["team"], width=10),
        Col(t["grid_code"], width=9),
    )
    stmt = (
        select(
            Policy.policy_no,
            Customer.customer_no,
            Customer.name,
            Policy.product,
            Policy.issue_date,
            Policy.payment_mode,
            Policy.modal_premium_fen,
            Policy.status,
            Policy.status_date,
            Specialist.employee_no,
            Specialist.name,
            Team.name,
            Grid.code,
        )
        .join(Customer, Customer.id == Policy.customer_id)
        .outerjoin(Specialist, Specialist.id == Customer.specialist_id)
        .outerjoin(Team, Team.id == Specialist.team_id)
        .outerjoin(Grid, Grid.id == Customer.grid_id)
        .where(Policy.customer_id.in_(_customers_in(scope)))
        .order_by(Policy.id)
    )
    count = select(func.count()).where(Policy.customer_id.in_(_customers_in(scope)))
    return cols, stmt, count


def _tasks(scope: ExportScope, t: Texts):
    cols = (
        Col(t["task_no"], width=16),
        Col(t["kind"], width=10),
        Col(t["status"], width=6),
        Col(t["customer_no"], width=12),
        Col(t["customer_name"], width=8),
        Col(t["policy_no"], width=14),
        Col(t["employee_no"], width=9),
        Col(t["specialist_name"], width=8),
        Col(t["team"], width=10),
        Col(t["channel"], width=8),
        Col(t["created_at"], "datetime"),
        Col(t["due_date"], "date"),
        Col(t["completed_at"], "datetime"),
        Col(t["outcome"], width=20),
    )
    worker = aliased(Specialist)
    stmt = (
        select(
            Task.task_no,
            Task.kind,
            Task.status,
            Customer.customer_no,
            Customer.name,
            Policy.policy_no,
            worker.employee_no,
            worker.name,
            Team.name,
            Task.channel,
            Task.created_at,
            Task.due_date,
            Task.completed_at,
            Task.outcome,
        )
        .join(Customer, Customer.id == Task.customer_id)
        .outerjoin(Policy, Policy.id == Task.policy_id)
        .outerjoin(worker, worker.id == Task.specialist_id)
        .outerjoin(Team, Team.id == worker.team_id)
        .where(Task.customer_id.in_(_customers_in(scope)))
        .order_by(Task.id)
    )
    return cols, stmt, select(func.count()).where(Task.customer_id.in_(_customers_in(scope)))


def _converters(key: str, t: Texts, user: UserInfo | None, tz: ZoneInfo) -> list[Callable | None]:
    """Return, per column, how a database value becomes a cell value (None: as it is)."""
    phone, id_number = contact_masks(user)

    def local(v: datetime | None) -> datetime | None:
        return None if v is None else v.astimezone(tz).replace(tzinfo=None)

    def code(table: str) -> Callable:
        return lambda v: t.code(table, v)

    if key == "customers":
        step = lambda v: t[f"step_{v}"] if v else t["step_0"]  # noqa: E731
        return [None, None, phone, id_number, None, None, None, None, None, None, None, None, step]
    if key == "policies":
        money = lambda v: Decimal(v) / 100  # noqa: E731
        return [None, None, None, None, None, code("mode"), money, code("policy")] + [None] * 5
    conv: list[Callable | None] = [None, code("kind"), code("status")] + [None] * 6
    return conv + [code("channel"), local, None, local, None]


_BUILDERS = {"customers": _customers, "policies": _policies, "tasks": _tasks}
_SHEETS = {"customers": "sheet_customers", "policies": "sheet_policies", "tasks": "sheet_tasks"}


def detail_tables(
    session: Session,
    *,
    scope: ExportScope,
    lang: str = "zh_CN",
    user: UserInfo | None = None,
    tables: Sequence[str] = TABLES,
) -> list[DetailTable]:
    """Return the tables of the detail export with their row counts and lazy row streams
    (contact data masked unless ``user`` may see them). Iterate them inside the session."""
    t = Texts(lang)
    tz_name = session.scalar(select(Branch.timezone).where(Branch.id == scope.branch_id))
    tz = branch_tz(tz_name)
    out = []
    for key in tables:
        if key not in _BUILDERS:
            raise ExportError("export.unknown_table", table=key, choices=list(TABLES))
        cols, stmt, count = _BUILDERS[key](scope, t)
        convs = _converters(key, t, user, tz)
        out.append(
            DetailTable(
                key,
                t[_SHEETS[key]],
                cols,
                int(session.scalar(count) or 0),
                _stream(session, stmt, convs),
            )
        )
    return out


def _stream(session: Session, stmt, convs: list[Callable | None]) -> Iterator[list[object]]:
    changed = [(i, f) for i, f in enumerate(convs) if f is not None]
    for row in session.execute(stmt.execution_options(yield_per=YIELD_PER)):
        out = list(row)
        for i, f in changed:
            v = out[i]
            if v is not None:
                out[i] = f(v)
        yield out


def write_detail(
    session: Session,
    target: str | Path,
    *,
    scope: ExportScope,
    lang: str = "zh_CN",
    user: UserInfo | None = None,
    tables: Sequence[str] | None = None,
    state: JobState | None = None,
) -> ExportResult:
    """Write the scope's customers, policies and tasks to ``target`` (.xlsx: one sheet each;
    .csv: exactly one table) all or nothing, and return where it went."""
    state = state or NullState()
    suffix = Path(target).suffix.lower()
    if suffix == ".csv":
        if tables is None or len(tables) != 1:
            raise ExportError("export.csv_one_table")
    elif suffix != ".xlsx":
        raise suffix_error(Path(target), (".xlsx", ".csv"))
    chosen = detail_tables(session, scope=scope, lang=lang, user=user, tables=tables or TABLES)
    total = max(sum(x.count for x in chosen), 1)
    with atomic_target(target, suffixes=(".xlsx", ".csv")) as partial:
        progress = _Progress(state, total)
        if suffix == ".csv":
            rows = write_csv(partial, chosen[0], progress)
        else:
            rows = write_xlsx(partial, chosen, progress)
    state.report(1.0)
    return ExportResult(str(target), tuple(x.title for x in chosen), rows)


class _Progress:
    """Counts rows written, reports every few thousand and stops when cancelled."""

    def __init__(self, state: JobState, total: int) -> None:
        self.state, self.total, self.done = state, total, 0

    def tick(self, n: int, sheet: str) -> None:
        self.done += n
        check(self.state)
        self.state.report(
            min(self.done / self.total, 0.99), Message("progress.writing_sheet", sheet=sheet)
        )


def write_xlsx(
    path: str | Path, tables: Iterable[DetailTable], progress: _Progress | None = None
) -> int:
    """Stream the tables into a workbook at ``path``; return the rows written."""
    written = 0
    with book(Path(path)) as b:
        for table in tables:
            columns = [
                Column(
                    col.header,
                    None if col.kind == "text" else FORMATS[col.kind],
                    fit_width(max(text_width(col.header), col.width or len(FORMATS[col.kind]))),
                )
                for col in table.columns
            ]
            written += b.stream_sheet(
                table.title,
                columns,
                table.rows,
                header=_HEADER,
                printed=Print(),
                every=YIELD_PER,
                on_rows=None if progress is None else partial(progress.tick, sheet=table.title),
            )
    return written


def _csv_value(v: object) -> object:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    return v


def write_csv(path: str | Path, table: DetailTable, progress: _Progress | None = None) -> int:
    """Write one table as UTF-8 CSV with a BOM (Excel then reads Chinese correctly)."""
    kinds = [i for i, col in enumerate(table.columns) if col.kind in ("date", "datetime", "money")]
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = InertCsvWriter(csv.writer(fh))
        writer.writerow([col.header for col in table.columns])
        for row in table.rows:
            for i in kinds:
                if row[i] is not None:
                    row[i] = _csv_value(row[i])  # type: ignore[index]
            writer.writerow(row)
            n += 1
            if progress is not None and n % YIELD_PER == 0:
                progress.tick(YIELD_PER, table.title)
    if progress is not None:
        progress.tick(n % YIELD_PER, table.title)
    return n
