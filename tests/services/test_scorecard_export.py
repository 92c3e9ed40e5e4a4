"""The scorecard workbook and ``griddesk export scorecard``, on both databases: every figure it
shares with the meeting workbook and the command line is the same number (13-month persistency
by specialist; the equity gap and flag), the workbook round-trips through openpyxl print-ready,
and a supervisor gets their own team only.

The meeting workbook has no renewal-collected, tasks-on-time or first-contact figure: those are
checked against hand-built cases in test_scorecard.py."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from export_demo import AS_OF, demo  # noqa: F401 - the module's demo fixture
from openpyxl import load_workbook

from app.cli import main
from app.services.exports import resolve_scope
from app.services.exports.meeting import write_meeting_workbook
from app.services.exports.meeting_data import latest_complete_month
from app.services.exports.scorecard import FIRST_ROW, write_scorecard_workbook
from app.services.metrics.scorecard import MEASURES, scorecard
from app.services.words import Texts

MONTH = latest_complete_month(AS_OF)  # 2026-08: every premium past its grace period


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    monkeypatch.delenv("GRIDDESK_USER", raising=False)
    monkeypatch.setenv("GRIDDESK_PASSWORD", "demo1234")


@pytest.fixture(scope="module")
def cli(demo):  # noqa: F811
    """The demo, usable by the command line: the run's PostgreSQL database holds the models'
    schema without Alembic's record of it, which the command line asks for; record it for
    this module and take it away afterwards (as test_rebalance_determinism.py does)."""
    from alembic import command

    from app.db import alembic_config, needs_migration

    engine = demo.Session.kw["bind"]
    stamped = needs_migration(engine)
    if stamped:
        command.stamp(alembic_config(engine), "head")
    yield demo
    if stamped:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE alembic_version")


def _cli(demo, login, *args):  # noqa: F811
    return main(["--db", demo.url, "--user", login, *args])


def _scorecard_sheets(path) -> dict[str, list[tuple]]:
    """Return each team sheet's data rows, keyed 'employee_no name'."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows(min_row=FIRST_ROW + 1, values_only=True):
            if row[0]:
                out[f"{row[0]} {row[1]}"] = row
    return out


def _value_col(measure: str) -> int:
    """0-based column of a measure's value in a team sheet (after no., name, status)."""
    return 3 + 4 * MEASURES.index(measure)


def _sheet_rows(wb, title: str) -> list[tuple]:
    rows = list(wb[title].iter_rows(values_only=True))
    return rows[1:]


def test_persistency_and_equity_reconcile_with_the_meeting_workbook_and_the_cli(
    cli, tmp_path, capsys
):
    demo = cli  # noqa: F811
    senior = demo.user("senior")
    t = Texts("en")
    card_path, meeting_path, month_end_path = (
        tmp_path / "scorecard.xlsx",
        tmp_path / "meeting.xlsx",
        tmp_path / "meeting-month-end.xlsx",
    )
    with demo.Session() as s:
        scope = resolve_scope(s, None, branch_id=demo.branch_id, user=senior)
        write_scorecard_workbook(
            s, card_path, month=MONTH, as_of=AS_OF, scope=scope, lang="en", user=senior
        )
        write_meeting_workbook(
            s, meeting_path, period=MONTH, as_of=AS_OF, scope=scope, lang="en", user=senior
        )
        # The equity sheet looks back from its as-of date: the scorecard's is the month's end.
        write_meeting_workbook(
            s, month_end_path, period=MONTH, as_of=MONTH.end, scope=scope, lang="en", user=senior
        )
    card = _scorecard_sheets(card_path)
    assert len(card) >= 10

    meeting = {
        r[0]: r[7] for r in _sheet_rows(load_workbook(meeting_path), t["sheet_pers_specialist"])
    }
    assert (
        _cli(
            demo,
            "senior",
            "metrics",
            "persistency",
            "--period",
            MONTH.label,
            "--as-of",
            AS_OF.isoformat(),
            "--by",
            "specialist",
            "--format",
            "csv",
        )
        == 0
    )
    cli = {
        r["group"]: r["persistency_premium"]
        for r in csv.DictReader(io.StringIO(capsys.readouterr().out))
    }
    compared = 0
    for who, row in card.items():
        value = row[_value_col("persistency")]
        if value is None:
            assert who not in meeting and who not in cli
            continue
        assert Decimal(str(value)) == Decimal(str(meeting[who])) == Decimal(cli[who]), who
        compared += 1
    assert compared >= 8

    equity = {
        r[0]: (r[8], r[9]) for r in _sheet_rows(load_workbook(month_end_path), t["sheet_equity"])
    }
    flagged = 0
    for who, row in card.items():
        gap, mark = row[_value_col("equity")], row[_value_col("equity") + 1]
        want_gap, want_flag = equity[who]
        assert gap == want_gap, who
        assert ("⚠" in mark) == (want_flag == t["yes"]), who
        flagged += want_flag == t["yes"]
    assert flagged >= 1  # the demo has a flagged specialist: the case is exercised


def test_the_workbook_round_trips_with_the_services_figures_and_prints_on_a4(
    demo,  # noqa: F811
    tmp_path,
):
    senior = demo.user("senior")
    path = tmp_path / "scorecard.xlsx"
    with demo.Session() as s:
        scope = resolve_scope(s, None, branch_id=demo.branch_id, user=senior)
        result = write_scorecard_workbook(
            s, path, month=MONTH, as_of=AS_OF, scope=scope, lang="zh_CN", user=senior
        )
        expected = scorecard(s, branch_id=demo.branch_id, month=MONTH, as_of=AS_OF)
    wb = load_workbook(path)
    assert wb.sheetnames == list(result.sheets)
    assert wb.sheetnames == ["封面", *(name for _, name in expected.teams())]
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(values_only=True) if r[0]}
    assert cover["机构"] and cover["数据截至"].date() == AS_OF
    assert cover["考核月份"] == MONTH.label and cover["对比月份"] == expected.previous.label
    # Said as the meeting workbook says it (the scorecard itself holds no contact data).
    assert ("已脱敏" in cover["客户联系方式"]) is not senior.sees_contact_data
    rows = _scorecard_sheets(path)
    pale = {
        row[0].value: [bool(c.font.color and str(c.font.color.rgb).endswith("A0A0A0")) for c in row]
        for ws in wb.worksheets[1:]
        for row in ws.iter_rows(min_row=FIRST_ROW + 1)
        if row[0].value
    }
    few = 0
    for r in expected.rows:
        line = rows[f"{r.employee_no} {r.name}"]
        for m in MEASURES:
            mark = r.mark(m)
            col = _value_col(m)
            now = None if mark.now.value is None else float(mark.now.value)
            before = None if mark.before.value is None else float(mark.before.value)
            assert (line[col], line[col + 2]) == (now, before), (r.name, m)
            assert line[col + 3] == (None if mark.change is None else float(mark.change))
            text = line[col + 1]
            if mark.now.few:  # shown, and said to be too few to judge
                few += 1
                assert text == "少量（不足 30 份），不评判"
                assert pale[r.employee_no][col]  # the value itself is pale
            elif mark.met is None:
                assert text.startswith("—")
            else:
                assert text.startswith("✓" if mark.met else ("⚠" if m == "equity" else "✗"))
        assert line[-1] == f"{r.met} / {r.judged}"
    assert few  # the demo's month has rates on a few policies, which the sheet must say
    for ws in wb.worksheets[1:]:
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
        # fitToWidth left out is OOXML's default: one page wide.
        assert (ws.page_setup.fitToWidth or 1) == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == f"${FIRST_ROW}:${FIRST_ROW}"
        text = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
        assert not re.search(r"(?<!\d)1\d{10}(?!\d)", text)  # no phone number anywhere


def test_the_command_line_writes_it_scoped_by_role(cli, tmp_path, capsys):
    demo = cli  # noqa: F811
    from sqlalchemy import select

    from app.models import Team

    supervisor = demo.user("supervisor")
    with demo.Session() as s:
        own = s.scalars(select(Team.code).where(Team.id.in_(supervisor.team_ids))).all()
        other = s.scalars(select(Team.code).where(Team.id.not_in(supervisor.team_ids))).first()
        own_names = s.scalars(select(Team.name).where(Team.id.in_(supervisor.team_ids))).all()
    common = ["--month", MONTH.label, "--as-of", AS_OF.isoformat(), "--lang", "en"]
    out = tmp_path / "own.xlsx"
    assert _cli(demo, "supervisor", "export", "scorecard", *common, "--out", str(out)) == 0
    assert f"written: {out}" in capsys.readouterr().out
    assert sorted(load_workbook(out).sheetnames[1:]) == sorted(own_names)
    refused = tmp_path / "other.xlsx"
    code = _cli(
        demo,
        "supervisor",
        "export",
        "scorecard",
        *common,
        "--scope",
        f"team:{other}",
        "--out",
        str(refused),
    )
    assert code == 1
    err = capsys.readouterr().err
    assert f"team '{other}' is not one of your teams" in err and "Traceback" not in err
    assert not refused.exists()
    assert own  # the supervisor has a team of their own
    bad = ["--month", "2026-Q3", "--as-of", AS_OF.isoformat(), "--out", str(refused)]
    assert _cli(demo, "senior", "export", "scorecard", *bad) == 1
    assert "takes a month" in capsys.readouterr().err


def test_only_the_senior_supervisor_sets_the_standards_from_the_command_line(cli, capsys):
    demo = cli  # noqa: F811
    assert _cli(demo, "supervisor", "branch", "--scorecard-standards", "95,85,80,80") == 1
    assert "may not change the branch's settings" in capsys.readouterr().err
    assert _cli(demo, "senior", "branch", "--scorecard-standards", "95,85") == 1
    assert "four whole percentages" in capsys.readouterr().err
    assert _cli(demo, "senior", "branch", "--scorecard-standards", "95,85,80,101") == 1
    assert "0 to 100" in capsys.readouterr().err
    try:
        assert _cli(demo, "senior", "branch", "--scorecard-standards", "95,86,70,60") == 0
        assert "renewal collected >= 95 %, 13-month persistency >= 86 %" in (
            capsys.readouterr().out
        )
    finally:
        assert _cli(demo, "senior", "branch", "--scorecard-standards", "90,85,80,80") == 0
