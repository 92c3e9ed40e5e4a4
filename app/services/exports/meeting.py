"""The meeting workbook: one .xlsx a supervisor brings to the weekly meeting.

A cover sheet, 13-month persistency by team, specialist and grid beside the year-earlier
figure, the persistency trend and the 4-sell funnel with native Excel charts (they stay live
when the numbers are edited), the funnel by specialist, activity volume, service-equity flags,
overdue tasks and coverage gaps. Numbers are stored as numbers with number formats; sheet
names and headers are in the chosen language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from app.models.enums import TaskKind
from app.services.exports.files import ExportResult, atomic_target
from app.services.exports.meeting_data import (
    ACTIVITY_WEEKS,
    MeetingData,
    Person,
    collect_meeting,
    trend_months,
)
from app.services.exports.meeting_handoff import handoff_sheet
from app.services.exports.scope import ExportScope
from app.services.exports.sheets import (
    BOLD,
    FELL_FONT,
    FLAG_FILL,
    LEFT,
    TITLE_FONT,
    Col,
    colour_changes,
    fill_rows,
    print_setup,
    write_table,
)
from app.services.files.xlsx_layout import Chart, LaidOutBook, Series, Sheet
from app.services.messages import Message
from app.services.metrics.activity import week_span
from app.services.metrics.funnel import YOUNG_COHORT_DAYS, cohort_age_days
from app.services.metrics.persistency import FEW_POLICIES, PersistencyYoY
from app.services.people.auth import UserInfo
from app.services.periods import Period
from app.services.progress import JobState, NullState, check
from app.services.words import Texts

SHEET_KEYS = (
    "sheet_cover",
    "sheet_pers_team",
    "sheet_pers_specialist",
    "sheet_pers_grid",
    "sheet_trend",
    "sheet_funnel",
    "sheet_funnel_specialist",
    "sheet_activity",
    "sheet_equity",
    "sheet_overdue",
    "sheet_coverage",
    "sheet_handoff",
)


def write_meeting_workbook(
    session: Session,
    target: str | Path,
    *,
    period: Period,
    as_of: date,
    scope: ExportScope,
    lang: str = "zh_CN",
    user: UserInfo | None = None,
    state: JobState | None = None,
) -> ExportResult:
    """Write the meeting workbook for ``scope`` and ``period`` to ``target`` (all or nothing)
    and return where it went. Contact data are masked unless ``user`` may see them."""
    state = state or NullState()
    t = Texts(lang)
    data = collect_meeting(session, period=period, as_of=as_of, scope=scope, user=user, state=state)
    check(state)
    state.report(0.85, Message("progress.workbook"))
    with atomic_target(target, suffixes=(".xlsx",)) as partial:
        rows = render_meeting(data, partial, t)
        check(state)
    state.report(1.0)
    return ExportResult(str(target), tuple(t[k] for k in SHEET_KEYS), rows)


def render_meeting(data: MeetingData, path: Path, t: Texts) -> int:
    """Write the workbook of ``data`` to ``path``; return the number of data rows."""
    wb = LaidOutBook()
    cover = wb.add_sheet(t["sheet_cover"])
    rows = 0
    for key, by, pers in (
        ("sheet_pers_team", "team", data.persistency_team),
        ("sheet_pers_specialist", "specialist", data.persistency_specialist),
        ("sheet_pers_grid", "grid", data.persistency_grid),
    ):
        rows += _persistency(wb.add_sheet(t[key]), pers, t, by, data.people)
    rows += _trend(wb.add_sheet(t["sheet_trend"]), data, t)
    rows += _funnel(wb.add_sheet(t["sheet_funnel"]), data, t)
    rows += _funnel_specialists(wb.add_sheet(t["sheet_funnel_specialist"]), data, t)
    rows += _activity(wb.add_sheet(t["sheet_activity"]), data, t)
    rows += _equity(wb.add_sheet(t["sheet_equity"]), data, t)
    rows += _overdue(wb.add_sheet(t["sheet_overdue"]), data, t)
    rows += _coverage(wb.add_sheet(t["sheet_coverage"]), data, t)
    rows += handoff_sheet(wb.add_sheet(t["sheet_handoff"]), data, t)
    _cover(cover, data, t)
    # Every printed page says what it is, for which period and as of when; the sheets that
    # look back from the as-of date (activity, equity, overdue tasks, coverage) have no period.
    as_of = f"{t['as_of']} {data.as_of.isoformat()}"
    by_period = {t[k] for k in (*SHEET_KEYS[:7], "sheet_handoff")}
    for ws in wb.sheets:
        period = f"{t['period']} {data.period.label} · " if ws.title in by_period else ""
        ws.printing.header = f"&A · {period}{as_of}"  # &A: the sheet's name
        ws.printing.footer = t["page_footer"]
    # Team, specialist, grid and product names come from outside: none may run as a formula
    # (the sheets write every text as text, a risky one with the quote prefix).
    wb.save(path, title=t["title"])
    return rows


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _cover(ws: Sheet, data: MeetingData, t: Texts) -> None:
    ws.write(1, 1, t["title"], TITLE_FONT)
    total = data.persistency_total
    facts = [
        (t["branch"], data.branch_name),
        (t["scope"], data.scope.describe(t)),
        (t["period"], data.period.label),
        (t["as_of"], data.as_of),
        (t["exported_by"], data.exported_by or t["command_line"]),
        (t["exported_at"], data.exported_at),
        (t["masking"], t["unmasked"] if data.contact_data_shown else t["masked"]),
        (t["persistency"], total.current.persistency_premium),
        (t["year_earlier"], total.year_earlier.persistency_premium if total.year_earlier else None),
        (t["change_points"], total.change_points),
        (t["pending_policies"], total.current.pending_policies),
    ]
    formats = {3: "yyyy-mm-dd", 5: "yyyy-mm-dd hh:mm", 7: "0.0%", 8: "0.0%", 9: "+0.00;-0.00"}
    for i, (key, value) in enumerate(facts):
        ws.write(3 + i, 1, key, BOLD)
        ws.write(3 + i, 2, value, {**LEFT, "num_format": formats[i]} if i in formats else LEFT)
    if total.current.pending_policies:  # the period is not over: say what the rate is
        key = "cover_pending_due" if data.period.end >= data.as_of else "cover_pending"
        note = t[key].format(n=f"{total.current.pending_policies:,}")
        ws.write(3 + len(facts), 2, note, FELL_FONT)
    row = 4 + len(facts)
    ws.write(row, 1, t["contents"], BOLD)
    notes = {
        "sheet_pers_team": t["note_persistency"].format(grace=data.grace_days),
        "sheet_trend": t["trend_title"],
        "sheet_funnel": t["note_funnel"].format(period=data.period.label),
        "sheet_activity": t["note_activity"].format(
            weeks=ACTIVITY_WEEKS, as_of=data.as_of.isoformat()
        ),
        "sheet_equity": t["note_equity"].format(threshold=f"{data.equity_threshold:g}"),
        "sheet_handoff": t["handoff_title"],
    }
    for i, key in enumerate(SHEET_KEYS[1:]):
        ws.write(row + 1 + i, 1, t[key])
        ws.write(row + 1 + i, 2, notes.get(key, ""))
    ws.widths.update({1: 22, 2: 90})
    ws.gridlines = False
    print_setup(ws, header_rows=None)


def _persistency(
    ws: Sheet, rows: Sequence[PersistencyYoY], t: Texts, by: str, people: dict[int, Person]
) -> int:
    cols = [Col(t[by])]
    if by == "specialist":
        cols.append(Col(t["team"]))
    cols += [
        Col(t["policies"], "int"),
        Col(t["persisting_policies"], "int"),
        Col(t["pending_policies"], "int"),
        Col(t["premium_due"], "money"),
        Col(t["premium_received"], "money"),
        Col(t["persistency_premium"], "pct"),
        Col(t["persistency_count"], "pct"),
        Col(t["year_earlier"], "pct"),
        Col(t["change_points"], "points"),
        Col(t["base"]),
    ]
    values = []
    for yoy in rows:
        r = yoy.current
        # Policies whose customer had no specialist on the due date: no team, no specialist.
        unserved = r.group_key is None and by in ("team", "specialist")
        line: list[object] = [
            t["no_specialist_on_due"] if unserved else t.group(by, r.group_key, r.group)
        ]
        if by == "specialist":
            line.append(_team_of(r.group_key, people))
        line += [
            r.policies,
            r.persisting_policies,
            r.pending_policies,
            _yuan(r.premium_due_fen),
            _yuan(r.premium_received_fen),
            r.persistency_premium,
            r.persistency_count,
            yoy.year_earlier.persistency_premium if yoy.year_earlier else None,
            yoy.change_points,
            t["few"] if 0 < r.policies < FEW_POLICIES else "",
        ]
        values.append(line)
    last = write_table(ws, cols, values, freeze_first_column=True)
    n = len(cols) - 1  # the change column; the base note follows it
    colour_changes(
        ws,
        change_col=n,
        rate_cols=(n - 3, n - 2),
        rows=range(2, last + 1) if values else range(0),
        base_col=3 if by == "specialist" else 2,
        min_base=FEW_POLICIES,
    )
    if any(yoy.current.pending_policies for yoy in rows):  # say why rates are low or missing
        ws.write(last + 2, 1, t["sheet_pending"], FELL_FONT)
    return len(values)


def _team_of(specialist_id: object, people: dict[int, Person]) -> str:
    p = people.get(specialist_id) if isinstance(specialist_id, int) else None
    return p.team if p else ""


def _trend(ws: Sheet, data: MeetingData, t: Texts) -> int:
    by_month = {p.month: p for p in data.trend}
    months = [m.label for m in trend_months(data.period, data.as_of)]
    cols = [
        Col(t["month"]),
        Col(t["persistency"], "pct"),
        Col(t["year_earlier"], "pct"),
        Col(t["policies"], "int"),
        Col(t["pending_policies"], "int"),
    ]
    values = []
    for m in months:
        p = by_month.get(m)
        values.append(
            [
                m,
                p.rate if p else None,
                p.year_earlier if p else None,
                p.policies if p else 0,
                p.pending if p else 0,
            ]
        )
    last = write_table(ws, cols, values)
    axis: dict[str, object] = {"name": t["persistency"], "num_format": "0%"}
    rates = [float(v) for line in values for v in line[1:3] if v is not None]
    if rates:  # start the axis near the data, not at 0%, so a few points show
        axis["min"] = max(0.0, int(min(rates) * 10 - 1) / 10)
        axis["max"] = min(1.0, int(max(rates) * 10 + 1) / 10)
    # Straight lines between months (no smoothing): a curve invents values. The year-earlier
    # line is dashed.
    ws.charts.append(
        Chart(
            "line",
            "F2",
            [
                Series((2, col, last, col), (2, 1, last, 1), name=(1, col), options=options)
                for col, options in ((2, {}), (3, {"line": {"dash_type": "dash"}}))
            ],
            title=t["trend_title"],
            x_axis={"name": t["month"]},
            y_axis=axis,
            legend={"position": "bottom"},
            size_cm=(18, 9),
        )
    )
    return len(values)


def _funnel(ws: Sheet, data: MeetingData, t: Texts) -> int:
    row = data.funnel_total
    cols = [
        Col(t["step"]),
        Col(t["reached"], "int"),
        Col(t["step_conversion"], "pct"),
        Col(t["cumulative_conversion"], "pct"),
        Col(t["median_days"], "num1"),
    ]
    values: list[list[object]] = [
        [t["cohort_size"], row.cohort_size if row else 0, None, None, None]
    ]
    for i in range(4):
        values.append(
            [
                t[f"step_{i + 1}"],
                row.reached[i] if row else 0,
                row.step_conversion[i] if row else None,
                row.cumulative_conversion[i] if row else None,
                row.median_days[i] if row else None,
            ]
        )
    last = write_table(ws, cols, values)
    # Horizontal bars read top-down like a funnel: the cohort on top (for a bar chart the
    # category axis is xlsxwriter's y axis).
    ws.charts.append(
        Chart(
            "bar",
            "G2",
            [
                Series(
                    (2, 2, last, 2),
                    (2, 1, last, 1),
                    name=(1, 2),
                    options={"data_labels": {"value": True}},
                )
            ],
            title=t["funnel_title"],
            x_axis={"num_format": "#,##0"},
            y_axis={"reverse": True},
            size_cm=(16, 8),
        )
    )
    newest, oldest = cohort_age_days(data.period, data.as_of)
    if newest < YOUNG_COHORT_DAYS:  # too young to judge the later steps: say so
        note = t["funnel_young"].format(newest=newest, oldest=oldest)
        ws.write(last + 2, 1, note, FELL_FONT)
    return len(values)


def _funnel_specialists(ws: Sheet, data: MeetingData, t: Texts) -> int:
    steps = [t[f"step_{i}"] for i in range(1, 5)]
    cols = [Col(t["specialist"]), Col(t["team"]), Col(t["cohort_size"], "int")]
    cols += [Col(t["reached_n"].format(step=s), "int") for s in steps]
    cols += [Col(t["conv_n"].format(step=s), "pct") for s in steps]
    cols += [Col(f"{t['median_days']} · {s}", "num1") for s in steps]
    values = [
        [
            t.group("specialist", r.group_key, r.group),
            _team_of(r.group_key, data.people),
            r.cohort_size,
            *r.reached,
            *r.step_conversion,
            *r.median_days,
        ]
        for r in data.funnel_specialists
    ]
    write_table(ws, cols, values, freeze_first_column=True)
    return len(values)


def _activity(ws: Sheet, data: MeetingData, t: Texts) -> int:
    cols = [Col(t["specialist"]), Col(t["team"])]
    cols += [Col(t["done_week"].format(week=week_span(w, data.as_of)), "int") for w in data.weeks]
    cols += [Col(t["done_kind"].format(kind=t.code("kind", k)), "int") for k in TaskKind]
    cols += [
        Col(t["done_total"], "int"),
        Col(t["overdue_open"], "int"),
        Col(t["median_hours"], "num1"),
    ]
    values = []
    for a in data.activity:
        p = data.people.get(a.specialist_id)
        by_kind = [sum(a.done_by_week.get(w, {}).get(k, 0) for w in data.weeks) for k in TaskKind]
        values.append(
            [
                p.label if p else str(a.specialist_id),
                p.team if p else "",
                *(a.done_in(w) for w in data.weeks),
                *by_kind,
                sum(a.done_in(w) for w in data.weeks),
                a.overdue_open,
                a.median_hours_to_complete,
            ]
        )
    write_table(ws, cols, values, freeze_first_column=True)
    return len(values)


def _equity(ws: Sheet, data: MeetingData, t: Texts) -> int:
    cols = [
        Col(t["specialist"]),
        Col(t["team"]),
        Col(t["tasks_without"], "int"),
        Col(t["rate_without"], "pct"),
        Col(t["hours_without"], "num1"),
        Col(t["tasks_with"], "int"),
        Col(t["rate_with"], "pct"),
        Col(t["hours_with"], "num1"),
        Col(t["gap_points"], "points"),
        Col(t["flagged"]),
    ]
    rows = sorted(data.equity, key=lambda r: (not r.flagged, -(r.gap_points or Decimal(-999))))
    values = []
    for r in rows:
        p = data.people.get(r.specialist_id)
        values.append(
            [
                p.label if p else str(r.specialist_id),
                p.team if p else "",
                r.tasks_without,
                r.rate_without,
                r.median_hours_without,
                r.tasks_with,
                r.rate_with,
                r.median_hours_with,
                r.gap_points,
                t["yes"] if r.flagged else t["no"],
            ]
        )
    write_table(ws, cols, values, freeze_first_column=True)
    flagged = [i + 2 for i, r in enumerate(rows) if r.flagged]
    fill_rows(ws, flagged, len(cols), FLAG_FILL)
    for line in flagged:
        ws.style(line, len(cols), {**BOLD, "font_color": "#9C5700"})
    return len(values)


def _overdue(ws: Sheet, data: MeetingData, t: Texts) -> int:
    cols = [
        Col(t["task_no"]),
        Col(t["kind"]),
        Col(t["status"]),
        Col(t["customer_no"]),
        Col(t["customer_name"]),
        Col(t["phone"]),
        Col(t["policy_no"]),
        Col(t["employee_no"]),
        Col(t["specialist_name"]),
        Col(t["grid_code"]),
        Col(t["due_date"], "date"),
        Col(t["days_overdue"], "int"),
    ]
    values = [
        [
            o.task.task_no,
            t.code("kind", o.task.kind),
            t.code("status", o.task.status),
            o.task.customer_no,
            o.task.customer_name,
            o.phone,
            o.task.policy_no,
            o.task.employee_no,
            o.task.specialist_name,
            o.task.grid_code,
            o.task.due_date,
            o.days_overdue,
        ]
        for o in data.overdue
    ]
    write_table(ws, cols, values)
    return len(values)


def _coverage(ws: Sheet, data: MeetingData, t: Texts) -> int:
    cov = data.coverage
    cols = [
        Col(t["gap"]),
        Col(t["item"]),
        Col(t["detail"]),
        Col(t["customers"], "int"),
        Col(t["capacity"], "int"),
        Col(t["load"], "pct"),
    ]
    values: list[list[object]] = [
        [t["gap_unmatched"], t["whole_branch"], "", cov.unmatched_customers, None, None],
        [t["gap_outside"], t["whole_branch"], "", cov.outside_coverage_customers, None, None],
        [t["gap_unserved"], t["whole_branch"], "", cov.unserved_customers, None, None],
    ]
    for g in cov.uncovered_grids:
        reason = t[f"reason_{g.reason}"]
        detail = f"{reason} · {g.owner_name}" if g.owner_name else reason
        values.append([t["gap_grid"], f"{g.code} {g.name}", detail, g.customers, None, None])
    for x in cov.over_capacity:
        values.append(
            [
                t["gap_over_capacity"],
                f"{x.employee_no} {x.name}",
                x.team,
                x.customers,
                x.capacity,
                x.share,
            ]
        )
    write_table(ws, cols, values)
    return len(values)
