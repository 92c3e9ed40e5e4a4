"""The scorecard workbook: a cover with the branch, the month, the standards and the
definitions, then one sheet per team with each specialist's five figures, met or not (a text
mark and a colour), the month before and the change. Print-ready: A4 landscape, one page wide,
the header rows repeated. The scorecard holds no customer's contact data; its cover says how
contact data would be shown, as the meeting workbook's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.services.clock import branch_tz
from app.services.exports.files import ExportResult, atomic_target, shows_contact_data
from app.services.exports.scope import ExportScope
from app.services.exports.sheets import (
    BOLD,
    FELL,
    FONT,
    LEFT,
    PALE_FONT,
    ROSE,
    TITLE_FONT,
    WRAPPED,
    Col,
    print_setup,
    write_table,
)
from app.services.files.xlsx import sheet_name
from app.services.files.xlsx_layout import LaidOutBook, Sheet
from app.services.messages import Message
from app.services.metrics.persistency import FEW_POLICIES
from app.services.metrics.scorecard import MEASURES, Mark, Scorecard, ScorecardRow, scorecard
from app.services.people.auth import UserInfo
from app.services.periods import Period
from app.services.progress import JobState, NullState, check
from app.services.words import Texts

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
    t = Texts(lang)
    state.report(0.1, Message("progress.scorecard"))
    data = collect_scorecard(session, month=month, as_of=as_of, scope=scope, user=user)
    check(state)
    state.report(0.8, Message("progress.workbook"))
    with atomic_target(target, suffixes=(".xlsx",)) as partial:
        sheets = render_scorecard(data, partial, t)
    state.report(1.0)
    return ExportResult(str(target), tuple(sheets), len(data.card.rows))


def render_scorecard(data: ScorecardData, path: Path, t: Texts) -> list[str]:
    """Write the workbook of ``data`` to ``path``; return its sheet names."""
    wb = LaidOutBook()
    cover = wb.add_sheet(t["sheet_cover"])
    names = sheet_names([name for _, name in data.card.teams()], reserved=(cover.title,))
    for (team_id, team_name), title in zip(data.card.teams(), names, strict=True):
        rows = [r for r in data.card.rows if r.team_id == team_id]
        _team_sheet(wb.add_sheet(title), team_name, rows, data.card, t)
    if not names:  # nothing in scope: say so on a sheet of its own
        wb.add_sheet(t["sc_month"]).write(1, 1, t["sc_no_rows"])
    _cover(cover, data, t, names)
    footer = f"{t['sc_month']} {data.card.month.label} · {t['as_of']} {data.card.as_of}"
    for ws in wb.sheets:
        ws.printing.header = f"&A · {footer}"
        ws.printing.footer = t["page_footer"]
    wb.save(path, title=t["sc_title"])  # every text as text: a team name may start with "="
    return [ws.title for ws in wb.sheets]


def sheet_names(teams: list[str], *, reserved: Sequence[str] = ()) -> list[str]:
    """Return a valid sheet name for each team, unique in the workbook (``reserved``: the names
    of its other sheets, the cover's)."""
    taken = {name.lower() for name in reserved}
    return [sheet_name(name, taken, fallback="team") for name in teams]


def _cover(ws: Sheet, data: ScorecardData, t: Texts, sheets: list[str]) -> None:
    card = data.card
    ws.write(1, 1, t["sc_title"], TITLE_FONT)
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
        ws.write(row, 1, key, BOLD)
        ws.write(row, 2, value, LEFT)  # dates and times in their own formats
        row += 1
    row = _cover_block(ws, row + 1, t["sc_standards"], _standards_text(card, t))
    defs = [f"{t['m_' + m]}: {t['def_' + m].format(grace=card.grace_days)}" for m in MEASURES]
    row = _cover_block(ws, row + 1, t["sc_definitions"], defs)
    _cover_block(ws, row + 1, t["contents"], sheets)
    ws.widths.update({1: 18, 2: 110})
    ws.gridlines = False
    print_setup(ws, header_rows=None)


def _standards_text(card: Scorecard, t: Texts) -> list[str]:
    s = card.standards
    return [t[f"std_{m}"].format(pct=s.of(m)) for m in MEASURES[:4]] + [
        t["std_equity"].format(threshold=f"{card.equity_threshold:g}")
    ]


def _cover_block(ws: Sheet, row: int, title: str, lines: list[str]) -> int:
    ws.write(row, 1, title, BOLD)
    for i, line in enumerate(lines):
        ws.write(row + i, 2, line, WRAPPED)
    return row + max(len(lines), 1)


def _columns(t: Texts) -> list[Col]:
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


def _mark_text(mark: Mark, t: Texts) -> str:
    if mark.now.few:
        return t["sc_few"].format(n=FEW_POLICIES)
    if mark.measure == "equity" and mark.met is not None:
        return t["sc_no_flag"] if mark.met else t["sc_flag"]
    return {True: t["sc_met"], False: t["sc_not_met"], None: t["sc_none"]}[mark.met]


def _line(r: ScorecardRow, t: Texts) -> list[object]:
    line: list[object] = [r.employee_no, r.name, t[f"sp_{r.status.value}"]]
    for mark in r.marks:
        line += [mark.now.value, _mark_text(mark, t), mark.before.value, mark.change]
    return [*line, f"{r.met} / {r.judged}"]


def _team_sheet(ws: Sheet, team: str, rows: list[ScorecardRow], card: Scorecard, t) -> None:
    title = t["sc_sheet_title"].format(team=team, month=card.month.label, as_of=card.as_of)
    ws.write(
        1, 1, title, {"font_name": FONT, "bold": True, "font_size": 13, "font_color": "#1F3864"}
    )
    cols = _columns(t)
    write_table(
        ws, cols, [_line(r, t) for r in rows], first_row=FIRST_ROW, freeze_first_column=True
    )
    ws.freeze = (FIRST_ROW + 1, 3)  # employee number and name stay in view
    for i, r in enumerate(rows, FIRST_ROW + 1):
        for k, mark in enumerate(r.marks):
            col = 4 + k * COLS_PER_MEASURE
            for c, figure in ((col, mark.now), (col + 2, mark.before)):
                if figure.few:
                    ws.style(i, c, PALE_FONT)
            if mark.met is None:
                continue
            for c in (col, col + 1):
                ws.style(i, c, ROSE if mark.met else FELL)
    # One page wide, however many columns: a scorecard is read across a row.
    print_setup(ws, header_rows=(FIRST_ROW, FIRST_ROW))
    ws.printing.pages_wide = 1
    ws.printing.title_columns = None
