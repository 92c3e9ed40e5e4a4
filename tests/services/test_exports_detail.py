"""The detail export (customers, policies, tasks): every row of the scope, streamed into a
write-only workbook or a CSV, masked by role, all or nothing; and the workbooks open in
LibreOffice."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from export_demo import AS_OF, demo  # noqa: F401 - the module's demo fixture
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.models import Customer, Policy, Specialist, Task
from app.services.exports import ExportError, resolve_scope
from app.services.exports.detail import write_detail
from app.services.exports.meeting import write_meeting_workbook
from app.services.messages import Message
from app.services.periods import Period
from app.services.progress import Cancelled
from app.services.words import Texts

PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def _export(demo, path, *, scope=None, login=None, tables=None, lang="zh_CN", state=None):  # noqa: F811
    user = demo.user(login) if login else None
    with demo.Session() as s:
        sc = resolve_scope(s, scope, branch_id=demo.branch_id, user=user)
        return write_detail(s, path, scope=sc, lang=lang, user=user, tables=tables, state=state)


def _counts(demo, team_ids=None):  # noqa: F811
    with demo.Session() as s:
        customers = select(Customer.id)
        if team_ids is not None:
            members = select(Specialist.id).where(Specialist.team_id.in_(team_ids))
            customers = customers.where(Customer.specialist_id.in_(members))
        return {
            "customers": s.scalar(select(func.count()).where(Customer.id.in_(customers))),
            "policies": s.scalar(select(func.count()).where(Policy.customer_id.in_(customers))),
            "tasks": s.scalar(select(func.count()).where(Task.customer_id.in_(customers))),
        }


@pytest.mark.slow
def test_workbook_has_every_row_of_the_scope_typed_and_formatted(demo, tmp_path):  # noqa: F811
    t = Texts("en")
    supervisor = demo.user("supervisor")
    path = tmp_path / "detail.xlsx"
    result = _export(demo, path, login="supervisor", lang="en")
    wb = load_workbook(path)
    assert wb.sheetnames == [t["sheet_customers"], t["sheet_policies"], t["sheet_tasks"]]
    expected = _counts(demo, supervisor.team_ids)
    assert result.rows == sum(expected.values())
    for key, sheet in zip(("customers", "policies", "tasks"), wb.worksheets, strict=True):
        assert sheet.max_row - 1 == expected[key] > 0
        assert sheet.freeze_panes == "A2"
        assert (
            sheet.auto_filter.ref
            == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        )
        assert all(c.font.b for c in sheet[1])
        assert sheet.page_setup.orientation == "landscape"
    policies = wb[t["sheet_policies"]]
    header = [c.value for c in policies[1]]
    premium = policies.cell(2, header.index(t["modal_premium"]) + 1)
    assert isinstance(premium.value, (int, float)) and premium.number_format == "#,##0.00"
    issued = policies.cell(2, header.index(t["issue_date"]) + 1)
    assert issued.is_date and issued.value.date() <= AS_OF
    with demo.Session() as s:
        no = policies.cell(2, 1).value
        fen = s.scalar(select(Policy.modal_premium_fen).where(Policy.policy_no == no))
    assert premium.value == pytest.approx(fen / 100)
    tasks = wb[t["sheet_tasks"]]
    created = tasks.cell(2, [c.value for c in tasks[1]].index(t["created_at"]) + 1)
    assert isinstance(created.value, datetime) and created.number_format == "yyyy-mm-dd hh:mm"
    kinds = {r[1] for r in tasks.iter_rows(min_row=2, values_only=True)}
    assert kinds <= {
        t.code("kind", k)
        for k in (
            "pre_sell",
            "renewal_collection",
            "servicing",
            "cross_sell",
            "up_sell",
            "callback",
        )
    }


def _cells(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [v for row in csv.reader(fh) for v in row if v]
    wb = load_workbook(path, read_only=True)
    return [
        str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    ]


@pytest.mark.slow
def test_no_full_phone_or_id_number_for_an_analyst(demo, tmp_path):  # noqa: F811
    for name, tables in (("d.xlsx", None), ("c.csv", ["customers"])):
        path = tmp_path / name
        _export(demo, path, login="analyst", tables=tables)
        cells = _cells(path)
        assert len(cells) > 10_000
        assert not [c for c in cells if PHONE.search(c) or ID_NUMBER.search(c)], name
        assert any(re.fullmatch(r"1\d\d\*{4}\d{4}", c) for c in cells)
        assert any(re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", c) for c in cells)
    # The command line without a user masks as well.
    path = tmp_path / "anon.csv"
    _export(demo, path, tables=["customers"])
    assert not [c for c in _cells(path) if PHONE.search(c) or ID_NUMBER.search(c)]


def test_a_supervisor_sees_their_customers_contact_data(demo, tmp_path):  # noqa: F811
    t = Texts("zh_CN")
    path = tmp_path / "c.csv"
    _export(demo, path, login="supervisor", tables=["customers"])
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with demo.Session() as s:
        real = {
            no: (phone, idn)
            for no, phone, idn in s.execute(
                select(Customer.customer_no, Customer.phone, Customer.id_number)
            )
        }
    assert rows and all(
        (r[t["phone"]], r[t["id_number"]]) == tuple(v or "" for v in real[r[t["customer_no"]]])
        for r in rows
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese with a BOM


def test_csv_holds_one_table_and_bad_targets_are_refused(demo, tmp_path):  # noqa: F811
    with pytest.raises(ExportError, match="one table"):
        _export(demo, tmp_path / "all.csv")
    with pytest.raises(ExportError, match="unknown table"):
        _export(demo, tmp_path / "x.xlsx", tables=["grids"])
    with pytest.raises(ExportError, match=r"\.xlsx or \.csv"):
        _export(demo, tmp_path / "x.ods")
    with pytest.raises(ExportError, match="does not exist"):
        _export(demo, tmp_path / "missing" / "x.xlsx")
    assert list(tmp_path.iterdir()) == []


class _CancelAfter:
    def __init__(self, reports: int) -> None:
        self.left = reports

    def report(self, fraction: float, step: Message | None = None) -> None:
        self.left -= 1

    def cancelled(self) -> bool:
        return self.left <= 0


@pytest.mark.slow
def test_a_cancelled_export_leaves_no_half_file_and_keeps_an_old_one(demo, tmp_path):  # noqa: F811
    for name, tables in (("d.xlsx", None), ("t.csv", ["tasks"])):
        target = tmp_path / name
        with pytest.raises(Cancelled):
            _export(demo, target, tables=tables, state=_CancelAfter(3))
        assert list(tmp_path.iterdir()) == []
    target = tmp_path / "t.csv"
    target.write_text("yesterday's export")
    with pytest.raises(Cancelled):
        _export(demo, target, tables=["tasks"], state=_CancelAfter(3))
    assert target.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


# -- a real spreadsheet program ---------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui",
)
@pytest.mark.slow
def test_libreoffice_opens_and_converts_the_workbooks(demo, tmp_path):  # noqa: F811
    with demo.Session() as s:
        emp = s.scalar(select(Specialist.employee_no).order_by(Specialist.employee_no))
        sc = resolve_scope(s, f"specialist:{emp}", branch_id=demo.branch_id)
        meeting = tmp_path / "meeting.xlsx"
        write_meeting_workbook(s, meeting, period=Period.parse("2026-Q2"), as_of=AS_OF, scope=sc)
        detail = tmp_path / "detail.xlsx"
        write_detail(s, detail, scope=sc)
    out = tmp_path / "out"
    profile = (tmp_path / "lo-profile").as_uri()
    env = {**os.environ, "HOME": str(tmp_path)}
    # CSV as UTF-8 (76), comma-separated (44), double-quoted (34).
    targets = (
        (meeting, "pdf", "pdf"),
        (detail, "csv", "csv:Text - txt - csv (StarCalc):44,34,76"),
    )
    for book, fmt, convert_to in targets:
        done = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                convert_to,
                "--outdir",
                str(out),
                str(book),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        converted = out / f"{book.stem}.{fmt}"
        assert done.returncode == 0 and converted.exists(), done.stderr or done.stdout
    pdf = (out / "meeting.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 10  # the cover and every sheet printed
    lines = (out / "detail.csv").read_text(encoding="utf-8", errors="replace").splitlines()
    assert lines[0].startswith("客户号") and len(lines) > 1  # the first sheet, as Calc read it
