"""The weekly visit lists of one or more specialists as a file: a PDF to print (one A4 page
per working day and specialist, see ``visits_pdf``) or a workbook.

The workbook has a summary sheet (one row per specialist: customers to visit, planned, not
planned, the route against the unordered list) and one sheet per specialist, because a
supervisor prints and hands out one sheet to each: the stops day by day in route order, with
the unplanned ones after them. Phones are masked as in the meeting workbook; every text is made
inert (a name starting with ``=`` stays text); each sheet prints on A4 fitted to the page's
width with its title and header rows repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Specialist
from app.models.enums import SpecialistStatus
from app.services.exports.files import ExportResult, atomic_target
from app.services.exports.scope import ExportScope
from app.services.exports.sheets import BOLD, TITLE_FONT, WRAPPED, Col, write_table
from app.services.exports.visit_words import (
    day_label,
    gathered_text,
    grid_text,
    km,
    route_text,
    todo_text,
)
from app.services.files.xlsx import sheet_name
from app.services.files.xlsx_layout import LaidOutBook, Sheet
from app.services.messages import Message
from app.services.people.auth import UserInfo
from app.services.progress import JobState, NullState, check
from app.services.visits.lists import MAX_PER_DAY, Stop, VisitList, build_visit_lists
from app.services.words import Texts

SUFFIXES = (".pdf", ".xlsx")
# Fixed widths (narrow characters) of the long text columns, wrapped, so that a sheet prints one
# A4 page wide.
GRID_WIDTH, ADDRESS_WIDTH, TODO_WIDTH = 16, 28, 38
TABLE_ROW = 4  # the header row of every sheet's table; rows 1-2 say what the sheet is


def write_visit_lists(
    session: Session,
    target: str | Path,
    *,
    specialist_ids: Sequence[int],
    week_monday: date,
    as_of: date,
    user: UserInfo | None = None,
    lang: str = "zh_CN",
    per_day: int = MAX_PER_DAY,
    state: JobState | None = None,
) -> ExportResult:
    """Write the specialists' visit lists for the week to ``target`` (.pdf or .xlsx, all or
    nothing) and return where they went; rows are the customers listed."""
    state = state or NullState()
    t = Texts(lang)
    suffix = Path(target).suffix.lower()
    with atomic_target(target, suffixes=SUFFIXES) as partial:
        state.report(0.05, Message("progress.visit_lists"))
        lists = build_visit_lists(
            session, specialist_ids, week_monday, as_of, user=user, per_day=per_day
        )
        check(state)
        state.report(0.5, Message("progress.visit_file"))
        if suffix == ".pdf":
            from app.services.exports.visits_pdf import render_pdf

            parts = render_pdf(lists, partial, t, per_day=per_day, state=state)
        else:
            parts = render_workbook(lists, partial, t)
        check(state)
    state.report(1.0)
    return ExportResult(str(target), tuple(parts), sum(len(v.stops) for v in lists))


def scope_specialists(session: Session, scope: ExportScope) -> list[int]:
    """Return the specialists whose lists a scope asks for, by employee number: the one named,
    or the active specialists of the teams or the branch."""
    if scope.specialist_ids is not None:
        return sorted(scope.specialist_ids)
    stmt = select(Specialist.id).where(
        Specialist.branch_id == scope.branch_id, Specialist.status == SpecialistStatus.ACTIVE
    )
    if scope.team_ids is not None:
        stmt = stmt.where(Specialist.team_id.in_(list(scope.team_ids)))
    return list(session.scalars(stmt.order_by(Specialist.employee_no)))


def specialist_sheet_name(vl: VisitList, taken: set[str]) -> str:
    """Return a sheet name for the specialist: employee number and name, valid for Excel and
    unique in the workbook (``taken``: its names so far, lower-cased)."""
    return sheet_name(f"{vl.employee_no} {vl.specialist_name}", taken)


def render_workbook(lists: Sequence[VisitList], path: Path, t: Texts) -> list[str]:
    """Write the workbook to ``path``; return its sheet names."""
    wb = LaidOutBook()
    summary = wb.add_sheet(t["visits_sheet_summary"])
    taken = {summary.title.lower()}
    names = [specialist_sheet_name(vl, taken) for vl in lists]
    _summary(summary, lists, t)
    for vl, name in zip(lists, names, strict=True):
        _specialist_sheet(wb.add_sheet(name), vl, t)
    for ws in wb.sheets:
        ws.printing.footer = t["page_footer"]
    wb.save(path, title=t["visits_title"])  # every text as text: a name may start with "="
    return [summary.title, *names]


def _heading(ws: Sheet, title: str, lines: Sequence[str]) -> None:
    ws.write(1, 1, title, TITLE_FONT)
    ws.write(2, 1, " · ".join(lines))


def _week_text(vl: VisitList, t: Texts) -> str:
    sunday = vl.week_monday + timedelta(days=6)
    return f"{t['visits_week']} {vl.week_label} ({vl.week_monday:%Y-%m-%d} – {sunday:%Y-%m-%d})"


def _masking(vl: VisitList, t: Texts) -> str:
    return t["unmasked"] if vl.contact_data_shown else t["masked"]


def _summary(ws: Sheet, lists: Sequence[VisitList], t: Texts) -> None:
    first = lists[0] if lists else None
    facts = (
        [_week_text(first, t), f"{t['as_of']} {first.as_of}", _masking(first, t)] if first else []
    )
    _heading(ws, t["visits_title"], facts)
    cols = [
        Col(t["employee_no"]),
        Col(t["visits_specialist"]),
        Col(t["team"]),
        Col(t["visits_stops"], "int"),
        Col(t["visits_planned"], "int"),
        Col(t["visits_unplanned_n"], "int"),
        Col(t["visits_route_km"], "num1"),
        Col(t["visits_unordered_km"], "num1"),
    ]
    rows = [
        [
            vl.employee_no,
            vl.specialist_name,
            vl.team_name,
            len(vl.stops),
            len(vl.stops) - len(vl.unplanned),
            len(vl.unplanned),
            round(vl.route_m / 1000, 1),
            round(vl.unordered_m / 1000, 1),
        ]
        for vl in lists
    ]
    last = write_table(ws, cols, rows, first_row=TABLE_ROW)
    if first:
        ws.write(last + 2, 1, gathered_text(first, t))
    ws.printing.title_rows = (1, TABLE_ROW)


def _specialist_sheet(ws: Sheet, vl: VisitList, t: Texts) -> None:
    routes = "，".join(f"{day_label(d.day, t)} {km(d.route_m)}" for d in vl.days)
    _heading(
        ws,
        f"{t['visits_title']} · {vl.employee_no} {vl.specialist_name} · {vl.team_name}",
        [
            _week_text(vl, t),
            route_text(vl, t),
            t["visits_day_routes"].format(days=routes),
            f"{t['as_of']} {vl.as_of}",
            _masking(vl, t),
        ],
    )
    cols = [
        Col(t["visits_day"]),
        Col(t["visits_order"], "int"),
        Col(t["grid"], width=GRID_WIDTH),
        Col(t["customer_no"]),
        Col(t["customer_name"]),
        Col(t["phone"]),
        Col(t["address"], width=ADDRESS_WIDTH),
        Col(t["visits_todo"], width=TODO_WIDTH),
        Col(t["visits_first_due"], "date"),
        Col(t["visits_amount"], "money"),
        Col(t["visits_note"]),
    ]
    rows = []
    for d in vl.days:
        rows += [_row(day_label(d.day, t), i, s, t) for i, s in enumerate(d.stops, 1)]
    rows += [_row(t["visits_unplanned"], i, s, t) for i, s in enumerate(vl.unplanned, 1)]
    last = write_table(ws, cols, rows, first_row=TABLE_ROW)
    for r in range(TABLE_ROW + 1, last + 1):
        for c in (3, 7, 8):  # grid, address, what to do: wrapped in fixed widths
            ws.style(r, c, WRAPPED)
    ws.write(last + 2, 1, gathered_text(vl, t))
    ws.write(TABLE_ROW - 1, 1, route_text(vl, t), BOLD)
    ws.printing.title_rows = (1, TABLE_ROW)


def _row(day: str, order: int, s: Stop, t: Texts) -> list[object]:
    dues = [x.due_date for x in s.todos if x.due_date is not None]
    premium = sum(x.amount_fen or 0 for x in s.todos if x.what == "premium")
    return [
        day,
        order,
        grid_text(s, t),
        s.customer_no,
        s.name,
        s.phone,
        s.address,
        "\n".join(todo_text(x, t) for x in s.todos),
        min(dues) if dues else None,
        Decimal(premium) / 100 if premium else None,
        "" if s.located else t["visits_no_coords"],
    ]
