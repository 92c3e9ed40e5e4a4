"""The laid-out sheets (app.services.files.xlsx_layout), read back with openpyxl: a style added to
one cell stays on that cell although its column shares one style object, texts stay text, and
dates get a date format."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from openpyxl import load_workbook

from app.services.files.xlsx_layout import LaidOutBook


def test_a_style_added_to_one_cell_of_a_shared_column_style_stays_on_that_cell(tmp_path):
    book = LaidOutBook()
    ws = book.add_sheet("表")
    money = {"num_format": "#,##0.00"}  # one object for the whole column, as write_table does
    for r in range(1, 5):
        ws.write(r, 1, 1234.5 * r, money)
        ws.write(r, 2, f'=HYPERLINK("x") #{r}' if r == 2 else f"王{r}", {"bold": False})
    ws.style(3, 1, {"bold": True, "font_color": "#9C0006"})  # one cell coloured afterwards
    ws.write(4, 1, 99.0)  # a value replaced keeps the cell's style
    ws.write(1, 3, date(2026, 11, 25))
    ws.write(2, 3, datetime(2026, 11, 25, 8, 30))
    ws.write(3, 3, date(2026, 1, 2), {"num_format": "yyyy/mm/dd"})
    book.save(tmp_path / "t.xlsx")

    sheet = load_workbook(tmp_path / "t.xlsx")["表"]
    assert [sheet.cell(r, 1).number_format for r in range(1, 5)] == ["#,##0.00"] * 4
    assert [bool(sheet.cell(r, 1).font.b) for r in range(1, 5)] == [False, False, True, False]
    assert str(sheet.cell(3, 1).font.color.rgb).endswith("9C0006")
    assert sheet.cell(4, 1).value == 99.0
    # The risky text is a string with the quote prefix; the others have none.
    assert sheet.cell(2, 2).data_type == "s" and sheet.cell(2, 2).quotePrefix
    assert not any(sheet.cell(r, 2).quotePrefix for r in (1, 3, 4))
    assert [sheet.cell(r, 3).number_format for r in (1, 2, 3)] == [
        "yyyy-mm-dd",
        "yyyy-mm-dd hh:mm",
        "yyyy/mm/dd",
    ]
    assert sheet.cell(2, 3).value == datetime(2026, 11, 25, 8, 30)


def test_sheet_names_excel_would_refuse_are_made_valid_and_unique(tmp_path):
    """Team and specialist names become sheet names: a team called like the cover, a name cut
    just after an apostrophe, rare CJK characters Excel counts twice, and the tenth namesake
    all give a workbook that saves and opens, each sheet under its own name."""
    from app.services.exports.scorecard import sheet_names
    from app.services.exports.visits import specialist_sheet_name

    teams = ["封面", "x" * 30 + "'s team", "𠀀" * 20 + "组", *["金牛成华组"] * 11, "History"]
    names = sheet_names(teams, reserved=("封面",))
    people = [("E1", "O'"), ("E1", "O'"), ("E2", "𠀀" * 40)]  # what the name reads of a list
    lists = [SimpleNamespace(employee_no=no, specialist_name=name) for no, name in people]
    taken = {"汇总"}
    visit_names = [specialist_sheet_name(vl, taken) for vl in lists]

    book = LaidOutBook()
    for title in ["封面", *names, "汇总", *visit_names]:
        book.add_sheet(title).write(1, 1, title)
    book.save(tmp_path / "names.xlsx")  # xlsxwriter raises on a name Excel refuses
    saved = load_workbook(tmp_path / "names.xlsx").sheetnames
    assert saved == ["封面", *names, "汇总", *visit_names]
    assert len({n.lower() for n in saved}) == len(saved)
    assert all(len(n.encode("utf-16-le")) // 2 <= 31 for n in saved)
    assert not any(n.startswith("'") or n.endswith("'") for n in saved)
    assert "history" not in {n.lower() for n in saved}
