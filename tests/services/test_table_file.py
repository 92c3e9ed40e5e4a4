"""Tables written as the user sees them: typed Excel cells, BOM CSV, atomic replacement."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from app.services.files.table_file import (
    DATE_FORMAT,
    PERCENT_FORMAT,
    TableData,
    display_width,
    fitted_widths,
    write_csv,
    write_table,
    write_xlsx,
)
from app.services.files.xlsx import sheet_name
from app.services.messages import Message
from app.services.progress import Cancelled


def sample() -> TableData:
    return TableData(
        headers=["工号", "姓名", "客户数", "继续率", "截止日期", "完成时间"],
        kinds=["text", "text", "number", "percent", "date", "datetime"],
        values=[
            ["E0012", "王小明", 120, Decimal("0.8734"), date(2026, 3, 1), None],
            ["E0007", "李娜", 95, None, date(2026, 2, 1), datetime(2026, 2, 3, 1, 30, tzinfo=UTC)],
            ["E0001", "张伟", 3.25, "—", None, datetime(2026, 1, 5, 9, 0)],
        ],
        texts=[
            ["E0012", "王小明", "120", "87.3%", "2026-03-01", ""],
            ["E0007", "李娜", "95", "—", "2026-02-01", "2026-02-03 09:30"],
            ["E0001", "张伟", "3.25", "—", "", "2026-01-05 09:00"],
        ],
    )


class FakeState:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.reports: list[float] = []
        self._cancel_after = cancel_after

    def report(self, fraction: float, step: Message | None = None) -> None:
        self.reports.append(fraction)

    def cancelled(self) -> bool:
        return self._cancel_after is not None and len(self.reports) >= self._cancel_after


def test_xlsx_has_typed_cells_under_a_bold_frozen_filtered_header(tmp_path):
    path = write_xlsx(tmp_path / "专员.xlsx", sample(), sheet_name="专员")
    ws = openpyxl.load_workbook(path).active
    assert ws.title == "专员"
    assert [c.value for c in ws[1]] == sample().headers
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    assert ws.max_row == 4

    assert ws["A2"].value == "E0012"  # a code with leading letters/zeros stays text
    assert ws["C2"].value == 120 and isinstance(ws["C2"].value, int)
    assert ws["C4"].value == pytest.approx(3.25)
    assert ws["D2"].value == pytest.approx(0.8734)
    assert ws["D2"].number_format == PERCENT_FORMAT
    assert ws["D3"].value is None  # no rate: an empty cell, not a zero
    assert ws["D4"].value == "—"
    assert ws["E2"].value == datetime(2026, 3, 1)  # Excel stores dates as datetimes
    assert ws["E2"].number_format == DATE_FORMAT
    assert ws["E4"].value is None
    # an aware time is written in the branch's time (Asia/Shanghai unless told), without the
    # zone Excel cannot hold, whatever zone the computer is set to
    assert ws["F3"].value == datetime(2026, 2, 3, 9, 30)


def test_xlsx_widths_fit_chinese_text(tmp_path):
    table = sample()
    widths = fitted_widths(table)
    assert widths[1] >= display_width("王小明") + 2
    assert display_width("王小明") == 6 and display_width("E0012") == 5
    ws = openpyxl.load_workbook(write_xlsx(tmp_path / "t.xlsx", table)).active
    # Excel stores a column's width with its cell padding (under a character more than the
    # width its dialog shows); adjacent columns of one width share an entry.
    (stored,) = [d.width for d in ws.column_dimensions.values() if d.min <= 2 <= d.max]
    assert widths[1] <= stored < widths[1] + 1


def test_csv_is_utf8_with_bom_and_holds_the_text_shown(tmp_path):
    path = write_csv(tmp_path / "t.csv", sample())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == sample().headers
    assert rows[1] == sample().texts[0]
    assert len(rows) == 4


def test_write_table_chooses_by_suffix_and_refuses_others(tmp_path):
    assert write_table(tmp_path / "a.CSV", sample()).read_bytes().startswith(b"\xef\xbb\xbf")
    assert openpyxl.load_workbook(write_table(tmp_path / "a.xlsx", sample())).active.max_row == 4
    with pytest.raises(ValueError, match="xlsx or .csv"):
        write_table(tmp_path / "a.xls", sample())


def test_a_failed_export_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "t.xlsx"
    target.write_bytes(b"the old file")
    big = TableData(
        headers=["n"],
        kinds=["number"],
        values=[[i] for i in range(500)],
        texts=[[str(i)] for i in range(500)],
    )
    with pytest.raises(Cancelled):
        write_xlsx(target, big, state=FakeState(cancel_after=3))
    assert target.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]

    state = FakeState()
    write_xlsx(target, big, state=state)
    assert openpyxl.load_workbook(target).active.max_row == 501
    assert state.reports and state.reports == sorted(state.reports)


def test_inconsistent_tables_and_bad_sheet_names():
    with pytest.raises(ValueError):
        TableData(headers=["a"], kinds=["text", "number"], values=[], texts=[])
    with pytest.raises(ValueError):
        TableData(headers=["a"], kinds=["money"], values=[], texts=[])
    assert sheet_name("任务 [2026/11]") == "任务 _2026_11_"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("") == "Sheet1"


def test_a_text_in_a_typed_column_cannot_run_as_a_formula(tmp_path):
    """A placeholder or any text in a number, percent or date column is written as text, and
    one that starts like a formula stays inert (not a live formula in the user's Excel)."""
    from openpyxl import load_workbook

    table = TableData(
        headers=["n", "rate", "day"],
        kinds=["number", "percent", "date"],
        values=[["=1+1", "—", "@SUM(A1)"], [3, 0.25, None]],
        texts=[["=1+1", "—", "@SUM(A1)"], ["3", "25.0%", ""]],
    )
    path = write_xlsx(tmp_path / "t.xlsx", table)
    ws = load_workbook(path).active
    assert [c.value for c in ws[2]] == ["=1+1", "—", "@SUM(A1)"]
    assert all(c.data_type == "s" for c in ws[2])
    assert ws["A3"].value == 3 and ws["B3"].number_format == PERCENT_FORMAT


def test_odd_values_and_names_still_give_a_workbook(tmp_path):
    """A number that is not one (NaN, infinity) and a long title ending in an apostrophe at
    the cut do not fail the export."""
    from openpyxl import load_workbook

    table = TableData(
        headers=["x"], kinds=["number"], values=[[float("nan")], [float("inf")], [2]],
        texts=[["nan"], ["inf"], ["2"]],
    )  # fmt: skip
    name = "A" * 30 + "'" + "B" * 5
    path = write_xlsx(tmp_path / "t.xlsx", table, sheet_name=name)
    wb = load_workbook(path)
    assert wb.sheetnames == ["A" * 30]
    assert wb.active["A4"].value == 2
