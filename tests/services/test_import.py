"""Importing the core systems' exchange files: formats, encodings, re-import, and every kind of
bad input rejected with file, row and column, leaving the database as it was."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.models import Customer, DepartedAgent, Grid, Policy, PremiumDue, Specialist, Task, Team
from app.services.importer import ImportFailed, import_file

ID_OK = "11010519491231002X"  # GB 11643 check digit is right


def write_csv(path, header, rows, encoding="utf-8"):
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_xlsx(path, header, rows, sheet="Sheet1"):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def base(session, tmp_path):
    """A branch with one team, one agent, one customer and one policy, imported from files."""
    import_file(
        session,
        "teams",
        write_csv(tmp_path / "t.csv", ["team_code", "team_name"], [["T1", "一队"]]),
    )
    import_file(
        session,
        "agents",
        write_csv(
            tmp_path / "a.csv", ["agent_code", "name", "left_on"], [["A1", "张代理", "2024-01-31"]]
        ),
    )
    import_file(
        session,
        "customers",
        write_csv(tmp_path / "c.csv", ["customer_no", "name", "phone", "id_number", "address", "agent_code"],
                  [["C1", "李四", "13812345678", ID_OK, "成都市锦江区春熙路1号", "A1"]]),
    )  # fmt: skip
    import_file(
        session,
        "policies",
        write_csv(tmp_path / "p.csv", ["policy_no", "customer_no", "issue_date", "payment_mode", "modal_premium", "status"],
                  [["P1", "C1", "2023-03-01", "annual", "1200.00", "in_force"]]),
    )  # fmt: skip
    session.commit()
    return tmp_path


def test_every_kind_imports_with_chinese_headers_and_core_value_formats(session, base):
    path = base / "dues.csv"
    path.write_bytes(
        "保单号,保单年度,应缴日期,应收保费,实收保费,实收日期,备注\n"
        'P1,1,2023年3月1日,"¥1,200.00",１２００,2023/3/2,首期\n'
        'P1,2,2024/3/1,"1,200",1300.5,2024-04-20,超额\n'.encode("gb18030")
    )
    result = import_file(session, "dues", path)
    session.commit()
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    dues = session.scalars(select(PremiumDue).order_by(PremiumDue.due_date)).all()
    assert [(d.due_date, d.amount_due_fen, d.amount_received_fen, d.received_on) for d in dues] == [
        (date(2023, 3, 1), 120_000, 120_000, date(2023, 3, 2)),
        (date(2024, 3, 1), 120_000, 130_050, date(2024, 4, 20)),
    ]


def test_reimport_updates_instead_of_duplicating(session, base):
    header = [
        "policy_no",
        "policy_year",
        "due_date",
        "amount_due",
        "amount_received",
        "received_date",
    ]
    import_file(
        session, "dues", write_csv(base / "d.csv", header, [["P1", 2, "2024-03-01", 1200, 0, ""]])
    )
    result = import_file(
        session,
        "dues",
        write_csv(base / "d.csv", header, [["P1", 2, "2024-03-01", 1200, 1200, "2024-03-05"]]),
    )
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert count(session, PremiumDue) == 1
    assert session.scalar(select(PremiumDue.amount_received_fen)) == 120_000


def test_xlsx_with_shuffled_columns_extra_column_excel_dates_and_numbers(session, base):
    path = write_xlsx(
        base / "tasks.xlsx",
        ["状态", "extra", "任务编号", "客户号", "任务类型", "创建时间", "完成时间", "渠道"],
        [
            [
                "已完成",
                "x",
                "T1",
                "C1",
                "建联加微",
                datetime(2024, 2, 1, 9, 30),
                datetime(2024, 2, 3, 10, 0),
                "线下",
            ]
        ],
        sheet="tasks",
    )
    import_file(session, "tasks", path)
    session.commit()
    task = session.scalars(select(Task)).one()
    assert task.kind.value == "pre_sell" and task.status.value == "done"
    assert task.created_at == datetime(2024, 2, 1, 1, 30, tzinfo=timezone.utc)  # Shanghai time
    assert session.scalar(select(Customer.pre_sell_on)) == date(2024, 2, 3)  # the step followed


def test_customers_from_xlsx_with_phone_stored_as_a_number(session, base):
    path = write_xlsx(
        base / "customers.xlsx",
        ["customer_no", "name", "phone", "address", "agent_code", "lon", "lat"],
        [["C2", "王五", 13912345678, "锦江区", "A1", 104.08, 30.65]],
    )
    import_file(session, "customers", path)
    session.commit()
    c = session.scalars(select(Customer).where(Customer.customer_no == "C2")).one()
    assert (c.phone, c.lon, c.lat) == ("13912345678", 104.08, 30.65)


def test_specialists_own_the_grids_they_list(session, base):
    grid = {"type": "Feature", "properties": {"code": "G1", "name": "春熙路网格", "communities": "春熙路、红星路"},
            "geometry": {"type": "Polygon", "coordinates": [[[104, 30], [104.1, 30], [104.1, 30.1], [104, 30.1], [104, 30]]]}}  # fmt: skip
    (base / "g.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [grid]}), encoding="utf-8"
    )
    import_file(session, "grids", base / "g.geojson")
    write_csv(base / "s.csv", ["工号", "姓名", "团队代码", "合同类型", "状态", "负责网格"],
              [["E1", "王芳", "T1", "劳动合同", "在职", "G1"]])  # fmt: skip
    import_file(session, "specialists", base / "s.csv")
    session.commit()
    g = session.scalars(select(Grid)).one()
    assert json.loads(g.communities) == ["春熙路", "红星路"]
    assert g.owner_id == session.scalar(select(Specialist.id).where(Specialist.employee_no == "E1"))


def _rejects(session, kind, path, row, column, words):
    before = {
        m: count(session, m) for m in (Team, DepartedAgent, Customer, Policy, PremiumDue, Task)
    }
    with pytest.raises(ImportFailed) as err:
        import_file(session, kind, path)
    session.commit()
    assert {m: count(session, m) for m in before} == before, "nothing may be written"
    problem = err.value.problems[0]
    assert problem.file == path.name
    assert (problem.row, problem.column) == (row, column)
    assert words in problem.message
    assert path.name in str(err.value)
    return err.value


DUES = ["policy_no", "policy_year", "due_date", "amount_due"]


@pytest.mark.parametrize(
    ("rows", "row", "column", "words"),
    [
        ([["P1", 2, "2024-02-30", 100]], 2, "due_date", "not a real date"),
        ([["P1", 2, "2024-03-01", -5]], 2, "amount_due", "negative"),
        ([["P9", 2, "2024-03-01", 100]], 2, "policy_no", "no policy 'P9'"),
        ([["P1", 2, "2024-03-01", "12.345"]], 2, "amount_due", "more than two decimals"),
        ([["P1", "", "2024-03-01", 100]], 2, "policy_year", "required"),
        (
            [["P1", 2, "2024-03-01", 100], ["P1", 2, "2024-03-01", 100]],
            3,
            "policy_no",
            "appears again",
        ),
    ],
)
def test_bad_dues_rows_are_rejected_with_row_and_column(session, base, rows, row, column, words):
    good = [["P1", 1, "2023-03-01", 1200]] * 0
    _rejects(session, "dues", write_csv(base / "bad.csv", DUES, good + rows), row, column, words)


def test_one_bad_row_late_in_the_file_rejects_all_of_it(session, base):
    rows = [["P1", 1, f"2023-{m:02d}-01", 100] for m in range(1, 13)] + [
        ["P1", 2, "not a date", 100]
    ]
    _rejects(
        session, "dues", write_csv(base / "late.csv", DUES, rows), 14, "due_date", "not a date"
    )


def test_unknown_payment_mode_and_unknown_customer(session, base):
    header = ["policy_no", "customer_no", "issue_date", "payment_mode", "modal_premium", "status"]
    _rejects(session, "policies", write_csv(base / "p1.csv", header, [["P2", "C1", "2024-01-01", "weekly", 1, "in_force"]]),
             2, "payment_mode", "'weekly' is not one of")  # fmt: skip
    _rejects(session, "policies", write_csv(base / "p2.csv", header, [["P2", "C404", "2024-01-01", "年交", 1, "有效"]]),
             2, "customer_no", "no customer 'C404'")  # fmt: skip


def test_id_number_mangled_by_excel_or_with_a_wrong_check_digit(session, base):
    header = ["customer_no", "name", "id_number", "address", "agent_code"]
    err = _rejects(session, "customers", write_xlsx(base / "c.xlsx", header, [["C3", "赵六", 110105194912310020, "x", "A1"]]),
                   2, "id_number", "lost its last digits")  # fmt: skip
    assert "text" in str(err)
    _rejects(session, "customers", write_csv(base / "c.csv", header, [["C3", "赵六", "1.10105E+17", "x", "A1"]]),
             2, "id_number", "scientific notation")  # fmt: skip
    _rejects(session, "customers", write_csv(base / "c2.csv", header, [["C3", "赵六", "110105194912310021", "x", "A1"]]),
             2, "id_number", "wrong check digit")  # fmt: skip


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02\x03binary\x00junk", "not a text"),
        (b"PK\x03\x04 not really a zip", "not a readable .xlsx"),
    ],
)
def test_garbage_files_get_a_message_not_a_traceback(session, base, content, words):
    path = base / "garbage.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", path)
    assert words in str(err.value)


def test_missing_required_column_names_it(session, base):
    path = write_csv(
        base / "nocol.csv", ["policy_no", "due_date", "amount_due"], [["P1", "2024-03-01", 1]]
    )
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", path)
    assert "policy_year (保单年度)" in str(err.value)


def test_header_only_file_imports_nothing(session, base):
    result = import_file(session, "dues", write_csv(base / "empty.csv", DUES, []))
    assert result.rows == 0


def test_several_problems_are_listed(session, base):
    rows = [["P1", 2, "bad", -1], ["P7", 2, "2024-01-01", 1]]
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", write_csv(base / "many.csv", DUES, rows))
    found = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "due_date"), (2, "amount_due")} <= found


def test_utf8_bom_and_semicolons(session, base):
    path = base / "bom.csv"
    path.write_bytes("\ufeffteam_code;team_name\nT2;二队\n".encode())
    import_file(session, "teams", path)
    session.commit()
    assert session.scalar(select(Team.name).where(Team.code == "T2")) == "二队"
