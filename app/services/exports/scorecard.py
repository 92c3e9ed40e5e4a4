"""The scorecard workbook: a cover with the branch, the month, the standards and the
definitions, then one sheet per team with each specialist's five figures, met or not (a text
mark and a colour), the month before and the change. Print-ready: A4 landscape, one page wide,
the header rows repeated. The scorecard holds no customer's contact data; its cover says how
contact data would be shown, as the meeting workbook's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.orm import Session

from app.services.auth import UserInfo
from app.services.clock import branch_tz
from app.services.exports.files import ExportResult, atomic_target, shows_contact_data
from app.services.exports.scope import ExportScope
from app.services.exports.scorecard_labels import ScorecardTexts
from app.services.exports.sheets import (
    BOLD,
    FELL_FILL,
    FELL_FONT,
    PALE_FONT,
    ROSE_FILL,
    ROSE_FONT,
    TITLE_FONT,
    Col,
    print_setup,
    write_table,
)
from app.services.inert import make_workbook_inert
from app.services.messages import Message
from app.services.metrics.persistency import FEW_POLICIES
from app.services.metrics.scorecard import MEASURES, Mark, Scorecard, ScorecardRow, scorecard
from app.services.periods import Period
from app.services.progress import JobState, NullState, check

FIRST_ROW = 3  # the table's header row; a title line above it
COLS_PER_MEASURE = 4  # value, met?, previous month, change


@dataclass(frozen=True)
class ScorecardData:
    branch_name: str
    scope: ExportScope
    card: Scorecard
    exported_by: str | None  # None: the command line
    exported_at: datetime  # branch-local, naive
    contact_data_shown: bool


def collect_scorecard(
    session: Session,
    *,
    month: Period,
    as_of: date,
    scope: ExportScope,
    user: UserInfo | None = None,
) -> ScorecardData:
    from app.models import Branch

    branch = session.get_one(Branch, scope.branch_id)
    card = scorecard(
        session,
        branch_id=scope.branch_id,
        month=month,
        as_of=as_of,
        team_ids=scope.team_ids,
        specialist_ids=scope.specialist_ids,
    )
    return ScorecardData(
        branch_name=branch.name,
        scope=scope,
        card=card,
        exported_by=None if user is None else f"{user.display_name} ({user.login})",
        exported_at=datetime.now(branch_tz(branch.timezone)).replace(tzinfo=None, microsecond=0),
        contact_data_shown=shows_contact_data(user),
    )


def write_scorecard_workbook(
    session: Session,
    target: str | Path,
    *,
    month: Period,
    as_of: date,
    scope: ExportScope,
    lang: str = "zh_CN",
    user: UserInfo | None = None,
    state: JobState | None = None,
) -> ExportResult:
    """Write the scorecard workbook of ``month`` for ``scope`` to ``target`` (all or nothing)
    and return where it went."""
    state = state or NullState()
    t = ScorecardTexts(lang)
    state.report(0.1, Message("progress.scorecard"))
    data = collect_scorecard(session, month=month, as_of=as_of, scope=scope, user=user)
    check(state)
    state.report(0.8, Message("progress.workbook"))
    with atomic_target(target, suffixes=(".xlsx",)) as partial:
        sheets = render_scorecard(data, partial, t)
    state.report(1.0)
    return ExportResult(str(target), tuple(sheets), len(data.card.rows))


def render_scorecard(data: ScorecardData, path: Path, t: ScorecardTexts) -> list[str]:
    """Write the workbook of ``data`` to ``path``; return its sheet names."""
    wb = Workbook()
    cover = wb.active
    cover.title = t["sheet_cover"]
    names = sheet_names([name for _, name in data.card.teams()])
    for (team_id, team_name), title in zip(data.card.teams(), names, strict=True):
        rows = [r for r in data.card.rows if r.team_id == team_id]
        _team_sheet(wb.create_sheet(title), team_name, rows, data.card, t)
    if not names:  # nothing in scope: say so on a sheet of its own
        ws = wb.create_sheet(t["sc_month"])
        ws["A1"] = t["sc_no_rows"]
    _cover(cover, data, t, names)
    footer = f"{t['sc_month']} {data.card.month.label} · {t['as_of']} {data.card.as_of}"
    for ws in wb.worksheets:
        ws.oddHeader.center.text = f"&A · {footer}"
        ws.oddFooter.center.text = t["page_footer"]
    make_workbook_inert(wb)
    wb.save(path)
    return [ws.title for ws in wb.worksheets]


_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_names(teams: list[str]) -> list[str]:
    """Return a valid, unique sheet name for each team (31 characters, none of []:*?/\\)."""
    out: list[str] = []
    for name in teams:
        base = _BAD.sub("_", name).strip("'") or "team"
        title, n = base[:31], 2
        while title.lower() in (o.lower() for o in out):
            suffix = f" ({n})"
            title, n = base[: 31 - len(suffix)] + suffix, n + 1
        out.append(title)
    return out


def _cover(ws, data: ScorecardData, t: ScorecardTexts, sheets: list[str]) -> None:
    card = data.card
    ws["A1"] = t["sc_title"]
    ws["A1"].font = TITLE_FONT
    facts: list[tuple[str, object]] = [
        (t["branch"], data.branch_name),
        (t["scope"], data.scope.describe(t)),
        (t["sc_month"], card.month.label),
        (t["sc_previous"], card.previous.label),
        (t["as_of"], card.as_of),
        (t["exported_by"], data.exported_by or t["command_line"]),
        (t["exported_at"], data.exported_at),
        (t["masking"], t["unmasked"] if data.contact_data_shown else t["masked"]),
    ]
    row = 3
    for key, value in facts:
        ws.cell(row=row, column=1, value=key).font = BOLD
        cell = ws.cell(row=row, column=2, value=value)
        cell.alignment = Alignment(horizontal="left")
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        row += 1
    row = _cover_block(ws, row + 1, t["sc_standards"], _standards_text(card, t))
    defs = [f"{t['m_' + m]}: {t['def_' + m].format(grace=card.grace_days)}" for m in MEASURES]
    row = _cover_block(ws, row + 1, t["sc_definitions"], defs)
    _cover_block(ws, row + 1, t["contents"], sheets)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110
    ws.sheet_view.showGridLines = False
    print_setup(ws, header_rows=None)


def _standards_text(card: Scorecard, t: ScorecardTexts) -> list[str]:
    s = card.standards
    return [t[f"std_{m}"].format(pct=s.of(m)) for m in MEASURES[:4]] + [
        t["std_equity"].format(threshold=f"{card.equity_threshold:g}")
    ]


def _cover_block(ws, row: int, title: str, lines: list[str]) -> int:
    ws.cell(row=row, column=1, value=title).font = BOLD
    for i, line in enumerate(lines):
        cell = ws.cell(row=row + i, column=2, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return row + max(len(lines), 1)


def _columns(t: ScorecardTexts) -> list[Col]:
    cols = [Col(t["employee_no"]), Col(t["specialist"]), Col(t["sc_status"])]
    for m in MEASURES:
        kind = "points" if m == "equity" else "pct"
        cols += [
            Col(t[f"m_{m}"], kind),
            Col(t["sc_mark"]),
            Col(t["sc_before"], kind),
            Col(t["sc_change"], "points"),
        ]
    return [*cols, Col(t["sc_met_count"])]


def _mark_text(mark: Mark, t: ScorecardTexts) -> str:
    if mark.now.few:
        return t["sc_few"].format(n=FEW_POLICIES)
    if mark.measure == "equity" and mark.met is not None:
        return t["sc_no_flag"] if mark.met else t["sc_flag"]
    return {True: t["sc_met"], False: t["sc_not_met"], None: t["sc_none"]}[mark.met]


def _line(r: ScorecardRow, t: ScorecardTexts) -> list[object]:
    line: list[object] = [r.employee_no, r.name, t[f"sp_{r.status.value}"]]
    for mark in r.marks:
        line += [mark.now.value, _mark_text(mark, t), mark.before.value, mark.change]
    return [*line, f"{r.met} / {r.judged}"]


def _team_sheet(ws, team: str, rows: list[ScorecardRow], card: Scorecard, t) -> None:
    title = t["sc_sheet_title"].format(team=team, month=card.month.label, as_of=card.as_of)
    ws["A1"] = title
    ws["A1"].font = Font(name="Calibri", bold=True, size=13, color="1F3864")
    cols = _columns(t)
    write_table(
        ws, cols, [_line(r, t) for r in rows], first_row=FIRST_ROW, freeze_first_column=True
    )
    ws.freeze_panes = f"C{FIRST_ROW + 1}"  # employee number and name stay in view
    for i, r in enumerate(rows, FIRST_ROW + 1):
        for k, mark in enumerate(r.marks):
            col = 4 + k * COLS_PER_MEASURE
            for c, figure in ((col, mark.now), (col + 2, mark.before)):
                if figure.few:
                    ws.cell(row=i, column=c).font = PALE_FONT
            if mark.met is None:
                continue
            fill, font = (ROSE_FILL, ROSE_FONT) if mark.met else (FELL_FILL, FELL_FONT)
            for c in (col, col + 1):
                ws.cell(row=i, column=c).fill = fill
                ws.cell(row=i, column=c).font = font
    # One page wide, however many columns: a scorecard is read across a row.
    print_setup(ws, header_rows=(FIRST_ROW, FIRST_ROW))
    ws.page_setup.fitToWidth = 1
