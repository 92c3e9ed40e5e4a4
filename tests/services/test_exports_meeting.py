"""The meeting workbook, read back with openpyxl: sheets in the user's language, the figures of
the metrics services for the same scope, the formatting people rely on, native charts, masked
contact data, scope limits by role, and no half file on failure."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from export_demo import AS_OF, demo  # noqa: F401 - the module's demo fixture
from openpyxl import load_workbook
from sqlalchemy import select

from app.models import Customer, Team
from app.services.exports import ExportError, ScopeError, resolve_scope
from app.services.exports.meeting import SHEET_KEYS, write_meeting_workbook
from app.services.exports.meeting_data import ACTIVITY_WEEKS, latest_complete_month
from app.services.exports.sheets import Col, text_width
from app.services.files.xlsx import MIN_PRINT_SCALE, PAGE_WIDTH_UNITS
from app.services.messages import Message
from app.services.metrics.activity import week_span, whole_weeks
from app.services.metrics.funnel import funnel_report
from app.services.metrics.persistency import persistency_with_yoy
from app.services.periods import Period
from app.services.progress import Cancelled
from app.services.words import Texts

PERIOD = Period.parse("2026-Q2")
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def _write(demo, path, *, scope=None, lang="zh_CN", login=None):  # noqa: F811
    user = demo.user(login) if login else None
    with demo.Session() as s:
        sc = resolve_scope(s, scope, branch_id=demo.branch_id, user=user)
        write_meeting_workbook(s, path, period=PERIOD, as_of=AS_OF, scope=sc, lang=lang, user=user)
    return load_workbook(path)


def _table(ws) -> list[dict[str, object]]:
    rows = list(ws.iter_rows(values_only=True))
    header = [h.replace("\n", "") if isinstance(h, str) else h for h in rows[0]]  # wrapped
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _f(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def test_sheet_names_and_headers_are_in_the_chosen_language(demo, tmp_path):  # noqa: F811
    for lang in ("zh_CN", "en"):
        t = Texts(lang)
        wb = _write(demo, tmp_path / f"m-{lang}.xlsx", lang=lang)
        assert wb.sheetnames == [t[k] for k in SHEET_KEYS]
        assert wb[t["sheet_pers_team"]]["A1"].value == t["team"]
        assert wb[t["sheet_cover"]]["A1"].value == t["title"]
    assert Texts("zh_CN")["sheet_cover"] == "封面"
    assert all(len(Texts(lang)[k]) <= 31 for lang in ("zh_CN", "en") for k in SHEET_KEYS)


def test_persistency_equals_the_metrics_service_for_the_branch(demo, tmp_path):  # noqa: F811
    t = Texts("en")
    wb = _write(demo, tmp_path / "m.xlsx", lang="en")
    with demo.Session() as s:
        for key, by in (("sheet_pers_team", "team"), ("sheet_pers_specialist", "specialist")):
            expected = persistency_with_yoy(
                s, period=PERIOD, as_of=AS_OF, by=by, branch_id=demo.branch_id
            )
            got = _table(wb[t[key]])
            assert len(got) == len(expected) > 0
            for row, yoy in zip(got, expected, strict=True):
                r = yoy.current
                assert row[t["policies"]] == r.policies
                assert row[t["persisting_policies"]] == r.persisting_policies
                assert row[t["pending_policies"]] == r.pending_policies
                assert row[t["premium_due"]] == pytest.approx(r.premium_due_fen / 100)
                assert row[t["premium_received"]] == pytest.approx(r.premium_received_fen / 100)
                assert row[t["persistency_premium"]] == _f(r.persistency_premium)
                assert row[t["persistency_count"]] == _f(r.persistency_count)
                before = yoy.year_earlier.persistency_premium if yoy.year_earlier else None
                assert row[t["year_earlier"]] == _f(before)
                assert row[t["change_points"]] == _f(yoy.change_points)
                # Policies no specialist served on the due date are named as such.
                unserved = r.group_key is None
                assert (row[t[by]] == t["no_specialist_on_due"]) == unserved
            assert any(r.current.group_key is None for r in expected)  # the demo has some
        grids = persistency_with_yoy(
            s, period=PERIOD, as_of=AS_OF, by="grid", branch_id=demo.branch_id
        )
        assert len(_table(wb[t["sheet_pers_grid"]])) == len(grids)
        (total,) = persistency_with_yoy(s, period=PERIOD, as_of=AS_OF, branch_id=demo.branch_id)
    cover = {r[0]: r[1] for r in wb[t["sheet_cover"]].iter_rows(values_only=True) if r[0]}
    assert cover[t["persistency"]] == _f(total.current.persistency_premium)
    assert cover[t["pending_policies"]] == total.current.pending_policies == 0  # a past quarter
    assert t["sheet_pending"] not in [c.value for c in wb[t["sheet_pers_team"]]["A"]]
    assert len([c for c in wb[t["sheet_funnel"]]["A"] if c.value]) == 6  # header and 5 rows
    assert cover[t["period"]] == "2026-Q2"
    assert cover[t["exported_by"]] == t["command_line"]
    assert cover[t["masking"]] == t["masked"]


def test_the_hand_off_sheet_gives_persistency_by_days_to_first_contact(demo, tmp_path):  # noqa: F811
    from app.services.metrics.handoff import BAND_KEYS, persistency_by_contact_band

    t = Texts("en")
    wb = _write(demo, tmp_path / "m.xlsx", lang="en")
    got = _table(wb[t["sheet_handoff"]])
    with demo.Session() as s:
        expected = persistency_by_contact_band(
            s, period=PERIOD, as_of=AS_OF, branch_id=demo.branch_id
        )
    bands = [row for row in got if row[t["contact_band"]] in {t[f"band_{k}"] for k in BAND_KEYS}]
    assert [row[t["contact_band"]] for row in bands] == [t[f"band_{k}"] for k in BAND_KEYS]
    assert sum(r.policies for r in expected) > 0
    for row, r in zip(bands, expected, strict=True):
        assert row[t["policies"]] == r.policies
        assert row[t["persisting_policies"]] == r.persisting_policies
        assert row[t["premium_due"]] == pytest.approx(r.premium_due_fen / 100)
        assert row[t["persistency_premium"]] == _f(r.persistency_premium)
        assert row[t["persistency_count"]] == _f(r.persistency_count)


def test_a_team_scope_holds_that_teams_figures_and_funnel(demo, tmp_path):  # noqa: F811
    t = Texts("en")
    with demo.Session() as s:
        team_id, code = s.execute(select(Team.id, Team.code).order_by(Team.code)).first()
        wb = _write(demo, tmp_path / "team.xlsx", scope=f"team:{code}", lang="en")
        pers = persistency_with_yoy(
            s,
            period=PERIOD,
            as_of=AS_OF,
            by="specialist",
            branch_id=demo.branch_id,
            team_ids={team_id},
        )
        funnel = funnel_report(
            s, cohort=PERIOD, by="specialist", branch_id=demo.branch_id, team_ids={team_id}
        )
    got = _table(wb[t["sheet_pers_specialist"]])
    assert [r[t["policies"]] for r in got] == [y.current.policies for y in pers]
    assert [r[t["persistency_premium"]] for r in got] == [
        _f(y.current.persistency_premium) for y in pers
    ]
    teams = {r[t["team"]] for r in _table(wb[t["sheet_pers_team"]])}
    assert len(teams) == 1
    rows = _table(wb[t["sheet_funnel_specialist"]])
    assert [r[t["cohort_size"]] for r in rows] == [f.cohort_size for f in funnel]
    reached = t["reached_n"].format(step=t["step_1"])
    assert [r[reached] for r in rows] == [f.reached[0] for f in funnel]


def test_a_specialist_scope_has_one_specialist(demo, tmp_path):  # noqa: F811
    t = Texts("zh_CN")
    with demo.Session() as s:
        from app.models import Specialist

        emp = s.scalar(select(Specialist.employee_no).order_by(Specialist.employee_no))
    wb = _write(demo, tmp_path / "one.xlsx", scope=f"specialist:{emp}")
    rows = _table(wb[t["sheet_pers_specialist"]])
    assert len(rows) == 1 and str(rows[0][t["specialist"]]).startswith(emp)
    activity = wb[t["sheet_activity"]]
    assert all(str(r[t["specialist"]]).startswith(emp) for r in _table(activity))
    # Weeks read as the days they cover, as on the app's activity chart.
    weeks = [c.value for c in activity[1] if "完成" in str(c.value) and "/" in str(c.value)]
    assert all("–" in w and "W" not in w for w in weeks), weeks
    # The whole weeks the roster averages, then the running week, ending on the data's day.
    assert len(weeks) == ACTIVITY_WEEKS + 1
    whole = [week_span(w) for w in whole_weeks(AS_OF, ACTIVITY_WEEKS)]
    assert [w.split(" ")[0] for w in weeks[:-1]] == whole
    assert f"–{AS_OF.month}/{AS_OF.day} " in weeks[-1]
    assert all(r[t["employee_no"]] == emp for r in _table(wb[t["sheet_overdue"]]))


def test_formats_frozen_headers_filters_widths_and_print_setup(demo, tmp_path):  # noqa: F811
    t = Texts("zh_CN")
    wb = _write(demo, tmp_path / "m.xlsx")
    ws = wb[t["sheet_pers_team"]]
    header = [c.value.replace("\n", "") for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
    assert ws.cell(2, col[t["persistency_premium"]]).number_format == "0.0%"
    assert isinstance(ws.cell(2, col[t["persistency_premium"]]).value, float)
    assert ws.cell(2, col[t["premium_due"]]).number_format == "#,##0.00"
    assert ws.cell(2, col[t["change_points"]]).number_format.startswith("+0.00")
    # A header wraps onto two lines at most (a CJK character counts double), centred over
    # its column, and the header row is tall enough for two lines.
    assert ws.row_dimensions[1].height >= 2 * 15
    for h, i in col.items():
        cell = ws.cell(1, i)
        assert cell.alignment.wrap_text and cell.alignment.horizontal == "center"
        assert _column_width(ws, i) >= text_width(h) / 2, h
    # Printed pages say the sheet, the period and the as-of date.
    assert ws.oddHeader.center.text == f"&A · {t['period']} 2026-Q2 · {t['as_of']} {AS_OF}"
    # The activity sheet looks back from the as-of date, whatever the period: no period there.
    assert wb[t["sheet_activity"]].oddHeader.center.text == f"&A · {t['as_of']} {AS_OF}"
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any("<0" in (r.formula or [""])[0] for r in rules)  # a rate that fell is coloured
    assert ws.page_setup.orientation == "landscape"
    # fitToWidth left out is OOXML's default: one page wide.
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    # Printed, no sheet shrinks below about two thirds: a wide one takes more pages
    # across, each repeating the name column; the others stay one page wide.
    for sheet in wb.worksheets:
        width = _width(sheet)
        pages = sheet.page_setup.fitToWidth or 1
        assert width / pages <= PAGE_WIDTH_UNITS / MIN_PRINT_SCALE, sheet.title
        assert pages == 1 or width > PAGE_WIDTH_UNITS / MIN_PRINT_SCALE, sheet.title
        if pages > 1:
            assert sheet.print_title_cols == "$A:$A", sheet.title
    overdue = wb[t["sheet_overdue"]]
    due_col = [c.value for c in overdue[1]].index(t["due_date"]) + 1
    assert overdue.max_row > 1
    assert (
        overdue.cell(2, due_col).is_date and overdue.cell(2, due_col).number_format == "yyyy-mm-dd"
    )


def test_long_headers_break_between_words_not_inside_them():
    """Excel and LibreOffice break a wrapped CJK header wherever the column ends (继续率（保 /
    费）, or a lone closing bracket); a long header is given its own break, after a space or
    before a bracket, and one with no such place stays whole."""
    from app.services.exports.sheets import header_width, wrap_header

    assert wrap_header("13个月继续率（保费）") == "13个月继续率\n（保费）"
    assert wrap_header("入池至达成中位天数 · 建联加微") == "入池至达成中位天数 · \n建联加微"
    assert wrap_header("Policies past grace") == "Policies \npast grace"
    assert wrap_header("宽限期未满") == "宽限期未满"  # short: one line
    assert wrap_header("已过宽限期保单数") == "已过宽限期保单数"  # no place to break
    # The column is as wide as the longer line, in bold.
    assert header_width("13个月继续率\n（保费）") < header_width("13个月继续率（保费）")


def test_a_sheet_too_wide_for_one_page_prints_across_pages_repeating_its_names(tmp_path):
    """Twenty columns of wide numbers would shrink to a third on one A4 page: they print on
    as many pages across as keep two thirds of the size, each starting with the names."""
    from app.services.exports.sheets import write_table
    from app.services.files.xlsx_layout import LaidOutBook

    book = LaidOutBook()
    cols = [Col("Specialist")] + [Col(f"Amount {i}", "money") for i in range(20)]
    write_table(
        book.add_sheet("Wide"),
        cols,
        [["DW00001 董琪梅", *[1_234_567.89] * 20]],
        freeze_first_column=True,
    )
    book.save(tmp_path / "wide.xlsx")
    ws = load_workbook(tmp_path / "wide.xlsx")["Wide"]
    pages = ws.page_setup.fitToWidth or 1
    assert pages > 1 and _width(ws) / pages <= PAGE_WIDTH_UNITS / MIN_PRINT_SCALE
    assert ws.print_title_cols == "$A:$A"


def _width(ws) -> float:
    """The sheet's width in Excel's units: a <col> element may cover several equal columns."""
    return sum((d.width or 0) * (d.max - d.min + 1) for d in ws.column_dimensions.values() if d.min)


def _column_width(ws, col: int) -> float:
    """The width of column ``col`` (from 1), from the <col> element that covers it."""
    (width,) = [d.width for d in ws.column_dimensions.values() if d.min and d.min <= col <= d.max]
    return width


def test_rates_on_few_policies_are_marked_pale_and_never_coloured(demo, tmp_path):  # noqa: F811
    """A grid's rate on a handful of policies says so (few), is drawn pale, and its change on
    a year earlier is never coloured as news."""
    from app.services.metrics.persistency import FEW_POLICIES

    t = Texts("en")
    wb = _write(demo, tmp_path / "m.xlsx", lang="en")
    seen_few = seen_enough = 0
    for key, by in (("sheet_pers_grid", "grid"), ("sheet_pers_team", "team")):
        ws = wb[t[key]]
        rows = [r for r in _table(ws) if r[t[by]]]
        few = [r for r in rows if r[t["policies"]] is not None and r[t["policies"]] < FEW_POLICIES]
        enough = [r for r in rows if r[t["policies"]] and r[t["policies"]] >= FEW_POLICIES]
        seen_few, seen_enough = seen_few + len(few), seen_enough + len(enough)
        assert all(r[t["base"]] == t["few"] for r in few if r[t["policies"]])
        assert all(not r[t["base"]] for r in enough)
        header = [c.value.replace("\n", "") if c.value else c.value for c in ws[1]]
        base = f"${chr(ord('A') + header.index(t['policies']))}2"
        rules = [r for cf in ws.conditional_formatting for r in cf.rules]
        colouring = [r for r in rules if r.dxf is not None and r.dxf.fill is not None]
        assert colouring and all(f"{base}>={FEW_POLICIES}" in r.formula[0] for r in colouring)
        assert any(f"{base}<{FEW_POLICIES}" in r.formula[0] for r in rules if r.dxf.fill is None)
    assert seen_few and seen_enough  # the demo has both


def test_native_charts_for_the_trend_the_funnel_and_the_hand_off(demo, tmp_path):  # noqa: F811
    path = tmp_path / "m.xlsx"
    _write(demo, path)
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3
    kinds = {m[1] for c in charts for m in re.finditer(r"<(?:\w+:)?(lineChart|barChart)>", c)}
    assert kinds == {"lineChart", "barChart"}
    line = next(c for c in charts if "lineChart>" in c)
    bar = next(c for c in charts if "四步经营漏斗" in c)
    handoff = next(c for c in charts if "交接时效与继续率" in c)

    def refs(chart: str) -> set[str]:
        """The cell ranges a chart reads, sheet names unquoted (a CJK name needs no quotes)."""
        return {f.replace("'", "") for f in re.findall(r"<(?:\w+:)?f>(.*?)</", chart)}

    assert "交接时效与继续率!$G$2:$G$6" in refs(handoff)  # the premium-basis rate of each band
    # The series read the sheets' cells, so the charts stay live in Excel.
    assert {"继续率趋势!$B$2:$B$13", "继续率趋势!$C$2:$C$13"} <= refs(line)
    assert "四步经营漏斗!$B$2:$B$6" in refs(bar)
    # Straight lines between the months: a smoothed curve would show rates nobody measured
    # (a line series is straight unless it says smooth).
    smooth = re.findall(r'<(?:\w+:)?smooth val="(\w+)"', line)
    assert set(smooth) <= {"0", "false"}
    assert "<c:ser>" in line and line.count("<c:ser>") == 2


def test_trend_sheet_counts_the_policies_still_in_their_grace_period(demo, tmp_path):  # noqa: F811
    """A month whose grace period still runs on the as-of date shows a rate of the policies
    past it only; the sheet says how many are still pending, month by month."""
    from app.services.metrics.persistency import persistency_trend

    t = Texts("zh_CN")
    month = Period.parse(f"{AS_OF:%Y-%m}")
    with demo.Session() as s:
        sc = resolve_scope(s, None, branch_id=demo.branch_id)
        path = tmp_path / "now.xlsx"
        write_meeting_workbook(s, path, period=month, as_of=AS_OF, scope=sc, lang="zh_CN")
        months = [r[t["month"]] for r in _table(load_workbook(path)[t["sheet_trend"]])]
        points = persistency_trend(
            s,
            months=[Period.parse(m) for m in months],
            as_of=AS_OF,
            branch_id=demo.branch_id,
        )
    wb = load_workbook(path)
    # The cover says the month's rate is not final, and why.
    cover = {r[0]: r[1] for r in wb[t["sheet_cover"]].iter_rows(values_only=True) if r[0]}
    with demo.Session() as s:
        (total,) = persistency_with_yoy(s, period=month, as_of=AS_OF, branch_id=demo.branch_id)
    waiting = total.current.pending_policies
    assert waiting > 0 and cover[t["pending_policies"]] == waiting
    notes = [r[1] for r in wb[t["sheet_cover"]].iter_rows(values_only=True) if not r[0] and r[1]]
    # The month is not over yet: some of its policies are not even due.
    assert t["cover_pending_due"].format(n=f"{waiting:,}") in notes
    # Under each persistency table, why its rates are low or missing.
    # The month's pool entrants are days old: the funnel sheet warns about its later steps.
    funnel_notes = [c.value for c in wb[t["sheet_funnel"]]["A"] if c.value]
    assert t["funnel_young"].format(newest=0, oldest=AS_OF.day - 1) in funnel_notes
    for key in ("sheet_pers_team", "sheet_pers_specialist", "sheet_pers_grid"):
        assert t["sheet_pending"] in [c.value for c in wb[t[key]]["A"]], key
    rows = _table(wb[t["sheet_trend"]])
    pending = [r[t["pending_policies"]] for r in rows]
    assert pending == [p.pending for p in points]
    # The last months are still in their grace period (60 days), the first ones are not.
    assert pending[-1] > 0 and pending[-2] > 0 and pending[0] == 0


def _all_text(wb) -> list[str]:
    return [
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    ]


def test_contact_data_are_masked_for_an_analyst_and_shown_to_a_supervisor(demo, tmp_path):  # noqa: F811
    t = Texts("zh_CN")
    wb = _write(demo, tmp_path / "analyst.xlsx", login="analyst")
    cells = _all_text(wb)
    assert not [c for c in cells if PHONE.search(c) or ID_NUMBER.search(c)]
    phones = [r[t["phone"]] for r in _table(wb[t["sheet_overdue"]])]
    assert phones and all(re.fullmatch(r"1\d\d\*{4}\d{4}", p) for p in phones if p)

    wb = _write(demo, tmp_path / "supervisor.xlsx", login="supervisor")
    rows = _table(wb[t["sheet_overdue"]])
    with demo.Session() as s:
        real = dict(s.execute(select(Customer.customer_no, Customer.phone)).all())
    assert rows and all(r[t["phone"]] == real[r[t["customer_no"]]] for r in rows)
    cover = {r[0]: r[1] for r in wb[t["sheet_cover"]].iter_rows(values_only=True) if r[0]}
    assert cover[t["masking"]] == t["unmasked"]
    assert "supervisor" in cover[t["exported_by"]]


def test_scope_is_limited_by_role(demo):  # noqa: F811
    supervisor = demo.user("supervisor")
    with demo.Session() as s:
        codes = s.scalars(select(Team.code).order_by(Team.code)).all()
        own = s.scalars(select(Team.code).where(Team.id.in_(supervisor.team_ids))).all()
        other = next(c for c in codes if c not in own)
        default = resolve_scope(s, None, branch_id=demo.branch_id, user=supervisor)
        assert default.kind == "team" and default.team_ids == supervisor.team_ids
        for text in ("branch", f"team:{other}"):
            with pytest.raises(ScopeError):
                resolve_scope(s, text, branch_id=demo.branch_id, user=supervisor)
        senior = demo.user("senior")
        assert (
            resolve_scope(s, f"team:{other}", branch_id=demo.branch_id, user=senior).kind == "team"
        )
        for bad in ("team:NOPE", "specialist:NOPE", "grid:G1", "everything"):
            with pytest.raises(ScopeError):
                resolve_scope(s, bad, branch_id=demo.branch_id)


class _CancelAt:
    """A job state whose user cancels once the job reports the step ``code``."""

    def __init__(self, code: str) -> None:
        self.code, self.seen = code, False

    def report(self, fraction: float, step: Message | None = None) -> None:
        self.seen = self.seen or (step is not None and step.code == self.code)

    def cancelled(self) -> bool:
        return self.seen


def test_a_failed_export_leaves_no_file(demo, tmp_path):  # noqa: F811
    target = tmp_path / "m.xlsx"
    with demo.Session() as s:
        sc = resolve_scope(s, None, branch_id=demo.branch_id)
        with pytest.raises(Cancelled):
            write_meeting_workbook(
                s,
                target,
                period=PERIOD,
                as_of=AS_OF,
                scope=sc,
                state=_CancelAt("progress.workbook"),
            )
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(ExportError, match="does not exist"):
            write_meeting_workbook(
                s, tmp_path / "no" / "m.xlsx", period=PERIOD, as_of=AS_OF, scope=sc
            )
        with pytest.raises(ExportError, match=".xlsx"):
            write_meeting_workbook(s, tmp_path / "m.pdf", period=PERIOD, as_of=AS_OF, scope=sc)
    assert list(tmp_path.iterdir()) == []


def test_the_activity_weeks_on_a_sunday_end_with_that_day_s_week():
    """On a Sunday the week is still going on: the sheet lists the four whole weeks before
    it and the Sunday's week itself, as on any other day."""
    from app.services.exports.meeting_data import activity_weeks

    sunday = date(2026, 11, 22)
    weeks = activity_weeks(sunday)
    assert weeks[:-1] == whole_weeks(sunday, ACTIVITY_WEEKS)
    assert week_span(weeks[-1], sunday) == "11/16–11/22"
    assert activity_weeks(date(2026, 11, 23))[:-1] == whole_weeks(date(2026, 11, 23), 4)


def test_latest_complete_month_waits_for_the_grace_period():
    from datetime import date

    assert latest_complete_month(date(2026, 11, 20)).label == "2026-08"
    assert latest_complete_month(date(2026, 11, 30)).label == "2026-09"
