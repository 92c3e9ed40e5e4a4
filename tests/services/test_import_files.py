"""Files as branches really save them: encodings, delimiters, header spellings and order, extra
columns, workbooks with several sheets, Excel's own cell types, and row numbers that match what
a spreadsheet shows."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from test_import_support import ID_OK, count, make_branch, write_table

from app.models import Customer, DepartedAgent, PremiumDue, Team
from app.services.importer import ImportFailed, import_file

DUES = ["保单号", "保单年度", "应缴日期", "应收保费", "实收保费", "实收日期"]


@pytest.fixture
def branch(session, tmp_path):
    """Team T1, grids G1 and G2 (E1 owns G1), agent A1, customer C1, policy P1, from files."""
    return make_branch(session, tmp_path)


def dues(session) -> list[tuple]:
    return session.execute(
        select(PremiumDue.policy_year, PremiumDue.due_date, PremiumDue.amount_due_fen,
               PremiumDue.amount_received_fen, PremiumDue.received_on).order_by(PremiumDue.due_date)
    ).all()  # fmt: skip


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_csv_in_every_encoding_excel_saves(session, tmp_path, encoding):
    delimiter = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" is tab-separated
    path = write_table(tmp_path / "teams.csv", ["团队代码", "团队名称", "主管"],
                       [["T1", "锦江一队", "欧阳娜"], ["T2", "青羊二队", "司马懿"]],
                       encoding=encoding, delimiter=delimiter)  # fmt: skip
    import_file(session, "teams", path)
    session.commit()
    assert session.execute(select(Team.code, Team.name, Team.supervisor_name).order_by(Team.code)).all() == [
        ("T1", "锦江一队", "欧阳娜"), ("T2", "青羊二队", "司马懿")]  # fmt: skip


def test_gb18030_characters_beyond_gbk(session, tmp_path):
    # 𠮷 is outside GBK: only GB18030 (or Unicode) can carry it.
    path = write_table(
        tmp_path / "a.csv", ["代理人代码", "姓名"], [["A1", "𠮷祥"]], encoding="gb18030"
    )
    import_file(session, "agents", path)
    assert session.scalar(select(DepartedAgent.name)) == "𠮷祥"


def test_semicolons_shuffled_columns_extra_columns_and_header_notes(session, branch):
    header = ["备注", "实收日期", "应收保费(元)", "保单号*", "Due Date", "policy year", "实收保费"]
    path = write_table(branch / "d.csv", header,
                       [["首期", "2023-03-02", "1,200", "P1", "2023-03-01", "1", "1200"]],
                       delimiter=";")  # fmt: skip
    import_file(session, "dues", path)
    assert dues(session) == [(1, date(2023, 3, 1), 120_000, 120_000, date(2023, 3, 2))]


def test_value_spellings_of_the_core_systems(session, branch):
    rows = [
        ["P1", "1", "2023-03-01", "¥1,200.00", "１，２００．００", "2023年3月2日"],
        ["P1", "２", "2024/3/1", "￥1200", "1200.5", "20240305"],
        ["P1", 3, "２０２５－０３－０１", " 1200 ", "", ""],
        ["P1", "4", "2026-03-01 00:00:00", "1,200.10", "0", None],
    ]
    import_file(session, "dues", write_table(branch / "d.csv", DUES, rows))
    assert dues(session) == [
        (1, date(2023, 3, 1), 120_000, 120_000, date(2023, 3, 2)),
        (2, date(2024, 3, 1), 120_000, 120_050, date(2024, 3, 5)),
        (3, date(2025, 3, 1), 120_000, 0, None),
        (4, date(2026, 3, 1), 120_010, 0, None),
    ]


def test_excel_cell_types(session, branch):
    rows = [
        ["P1", 1, datetime(2023, 3, 1), 1200, 1200.0, date(2023, 3, 2)],
        ["P1", 2.0, date(2024, 3, 1), 1234.5600000000001, 0.1 + 0.2, datetime(2024, 3, 9, 15, 0)],
    ]
    import_file(session, "dues", write_table(branch / "d.xlsx", DUES, rows))
    assert dues(session) == [
        (1, date(2023, 3, 1), 120_000, 120_000, date(2023, 3, 2)),
        # Floats are read as Excel shows them (15 significant digits), not as binary noise.
        (2, date(2024, 3, 1), 123_456, 30, date(2024, 3, 9)),
    ]


def test_workbook_sheet_named_after_the_kind_or_else_the_first(session, branch):
    path = write_table(branch / "book.xlsx", ["客户号", "姓名", "地址", "原代理人代码"],
                       [["C2", "王五", "成都", "A1"]], sheet="customers", extra_sheets=("封面",))  # fmt: skip
    import_file(session, "customers", path)
    assert session.scalar(select(Customer.name).where(Customer.customer_no == "C2")) == "王五"

    path = write_table(branch / "应收.xlsx", DUES, [["P1", 1, "2023-03-01", 1200, None, None]],
                       sheet="应收保费", extra_sheets=("封面",))  # fmt: skip
    import_file(session, "dues", path)
    assert count(session, PremiumDue) == 1

    # No sheet is named after the kind: the first sheet is read (here the wrong one).
    path = write_table(branch / "other.xlsx", DUES, [["P1", 2, "2024-03-01", 1200, None, None]],
                       sheet="数据", extra_sheets=("封面",))  # fmt: skip
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", path)
    assert err.value.problems[0].row == 1


def test_row_numbers_are_the_ones_a_spreadsheet_shows(session, branch):
    # Row 2 holds a line break inside quotes and row 3 is blank: the bad row is still row 5.
    text = (
        "customer_no,name,address,agent_code\r\n"
        'C2,王五,"成都市\r\n锦江区",A1\r\n'
        "\r\n"
        "C3,钱六,成都,A1\r\n"
        "C4,孙七,成都,A404\r\n"
    )
    path = branch / "c.csv"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(ImportFailed) as err:
        import_file(session, "customers", path)
    assert [(p.row, p.column) for p in err.value.problems] == [(5, "agent_code")]
    path.write_text(text.replace("A404", "A1"), encoding="utf-8", newline="")
    result = import_file(session, "customers", path)
    assert result.rows == 3  # the blank row is not a row of data
    assert session.scalar(select(Customer.address).where(Customer.customer_no == "C2")) == "成都市\r\n锦江区"  # fmt: skip


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_header_only_file_imports_nothing(session, branch, suffix):
    result = import_file(session, "dues", write_table(branch / f"empty.{suffix}", DUES, []))
    assert (result.rows, result.inserted, result.updated) == (0, 0, 0)


def test_identical_repeated_rows_are_accepted(session, branch):
    row = ["C2", "王五", "13800000000", ID_OK, "成都", "A1"]
    path = write_table(branch / "c.csv", ["客户号", "姓名", "手机号", "证件号码", "地址", "原代理人代码"], [row, row])  # fmt: skip
    result = import_file(session, "customers", path)
    assert result.rows == 2
    assert count(session, Customer) == 2  # C1 from the branch fixture, and C2 once


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_title_rows_above_the_header(session, branch, suffix):
    # Core-system exports often open with a title and a blank line; rows keep their numbers.
    rows = [[None] * 6, DUES, ["P1", 1, "2023-03-01", 1200, None, None], ["P1", 2, "2024-02-30", 1200, None, None]]  # fmt: skip
    path = write_table(branch / f"d.{suffix}", ["应收保费清单（2024年3月）"], rows)
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", path)
    assert [(p.row, p.column) for p in err.value.problems] == [(5, "due_date")]


def test_excel_separator_hint_line(session, branch):
    path = branch / "d.csv"
    path.write_text(
        "sep=;\n保单号;保单年度;应缴日期;应收保费\nP1;1;2023-03-01;1.200,00x\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", path)
    # The hint line is not shown by Excel: the header is row 1, the data row 2.
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "amount_due")]
