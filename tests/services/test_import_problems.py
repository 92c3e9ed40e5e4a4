"""Bad input is rejected whole, with the file, the row a spreadsheet shows, the column and what is
wrong, and the database is exactly as it was, on both databases."""

from __future__ import annotations

import pytest
from test_import_support import (
    counts,
    make_branch,
    square,
    write_geojson,
    write_table,
)

import app.services.importer.pipeline as pipeline
from app.services.importer import ImportFailed, import_file
from app.services.messages import Message
from app.services.progress import Cancelled

DUES = ["policy_no", "policy_year", "due_date", "amount_due"]
CUSTOMERS = ["customer_no", "name", "id_number", "address", "agent_code"]
POLICIES = ["policy_no", "customer_no", "issue_date", "payment_mode", "modal_premium", "status"]
TASKS = ["task_no", "kind", "customer_no", "policy_no", "employee_no", "created_at", "status"]


@pytest.fixture
def branch(session, tmp_path):
    """Team T1, grids G1 and G2 (E1 owns G1), agent A1, customer C1, policy P1, from files."""
    return make_branch(session, tmp_path)


def rejects(session, kind, path, *expected: tuple[int | None, str | None, str]) -> ImportFailed:
    """Import ``path``, expect exactly ``expected`` (row, column, words in the message) and
    nothing written."""
    before = counts(session)
    with pytest.raises(ImportFailed) as err:
        import_file(session, kind, path)
    session.commit()
    assert counts(session) == before, "nothing may be written"
    problems = err.value.problems
    assert [(p.row, p.column) for p in problems] == [(r, c) for r, c, _ in expected]
    for p, (_r, _c, words) in zip(problems, expected, strict=True):
        assert p.file == path.name
        assert words in str(p.message), p.message
    assert path.name in str(err.value)
    return err.value


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (["P1", 2, "2024-02-30", 100], "due_date", "'2024-02-30' is not a real date"),
        (["P1", 2, "next year", 100], "due_date", "is not a date"),
        (["P1", 2, "2024-03-01", -5], "amount_due", "negative"),
        (["P1", 2, "2024-03-01", "12.345"], "amount_due", "more than two decimals"),
        (["P1", 2, "2024-03-01", "twelve"], "amount_due", "not an amount"),
        (["P1", "", "2024-03-01", 100], "policy_year", "required"),
        (["P1", "2.5", "2024-03-01", 100], "policy_year", "not a whole number"),
        (["P9", 2, "2024-03-01", 100], "policy_no", "no policy 'P9'"),
    ],
)
def test_a_bad_dues_cell(session, branch, row, column, words):
    good = ["P1", 1, "2023-03-01", 1200]
    rejects(session, "dues", write_table(branch / "bad.csv", DUES, [good, row]), (3, column, words))


def test_unknown_payment_mode_lists_the_ones_allowed(session, branch):
    path = write_table(
        branch / "p.csv", POLICIES, [["P2", "C1", "2024-01-01", "weekly", 1, "有效"]]
    )
    err = rejects(session, "policies", path, (2, "payment_mode", "'weekly' is not one of"))
    assert "annual (年交)" in str(err) and "single (趸交)" in str(err)


def test_unknown_references(session, branch):
    rejects(session, "policies", write_table(branch / "p.csv", POLICIES, [["P2", "C404", "2024-01-01", "年交", 1, "有效"]]),
            (2, "customer_no", "no customer 'C404'"))  # fmt: skip
    rejects(session, "customers", write_table(branch / "c.csv", CUSTOMERS, [["C2", "王五", None, "成都", "A404"]]),
            (2, "agent_code", "no departed agent 'A404'"))  # fmt: skip
    rejects(session, "specialists", write_table(branch / "s.csv", ["工号", "姓名", "团队代码", "负责网格"], [["E2", "赵敏", "T9", "G1、G7"]]),
            (2, "team_code", "no team 'T9'"), (2, "grids", "no grid G7"))  # fmt: skip
    rejects(session, "tasks", write_table(branch / "t.csv", TASKS, [["K1", "回访", "C9", "P9", "E9", "2024-03-01", "待办"]]),
            (2, "customer_no", "no customer 'C9'"), (2, "policy_no", "no policy 'P9'"),
            (2, "employee_no", "no specialist 'E9'"))  # fmt: skip


def test_id_numbers_excel_mangled_or_with_a_wrong_check_digit(session, branch):
    err = rejects(session, "customers", write_table(branch / "c.xlsx", CUSTOMERS, [
        ["C2", "王五", 110105194912310020, "成都", "A1"],  # an int cell: digits already rounded
        ["C3", "钱六", 1.10105194912310e17, "成都", "A1"],
    ]), (2, "id_number", "lost its last digits"), (3, "id_number", "lost its last digits"))  # fmt: skip
    assert "format the column as text" in str(err)
    rejects(session, "customers", write_table(branch / "c.csv", CUSTOMERS, [
        ["C2", "王五", "1.10105E+17", "成都", "A1"],
        ["C3", "钱六", "110105194912310021", "成都", "A1"],
        ["C4", "孙七", "110105194913310024", "成都", "A1"],
        ["C5", "周八", "11010519491231002", "成都", "A1"],
    ]), (2, "id_number", "scientific notation"), (3, "id_number", "wrong check digit: expected X"),
        (4, "id_number", "impossible birth date"), (5, "id_number", "not an 18-character"))  # fmt: skip


def test_long_numbers_excel_stored_as_numbers_are_refused_as_keys(session, branch):
    path = write_table(branch / "p.xlsx", POLICIES, [[8800123456789012345, "C1", "2024-01-01", "年交", 100, "有效"]])  # fmt: skip
    rejects(session, "policies", path, (2, "policy_no", "may have lost digits"))


@pytest.mark.parametrize("chunk", [5_000, 1])  # in one chunk, and across chunks written apart
def test_the_same_key_with_other_values(session, branch, monkeypatch, chunk):
    monkeypatch.setattr(pipeline, "CHUNK", chunk)
    rows = [["P1", 1, "2023-03-01", 1200], ["P1", 2, "2024-03-01", 1200], ["P1", 1, "2023-03-01", 1300]]  # fmt: skip
    rejects(session, "dues", write_table(branch / "d.csv", DUES, rows),
            (4, "policy_no", "the same policy_no + due_date as row 2"))  # fmt: skip


def test_text_longer_than_the_database_keeps(session, branch):
    path = write_table(branch / "c.csv", ["客户号", "姓名", "地址", "原代理人代码"], [["C2", "王五", "成都" * 101, "A1"]])  # fmt: skip
    rejects(session, "customers", path, (2, "address", "is 202 characters long: at most 200 fit"))


def test_checks_across_columns(session, branch):
    rejects(session, "policies", write_table(branch / "p.csv", [*POLICIES, "status_date"], [["P2", "C1", "2020-01-01", "年交", 100, "身故终止", None]]),
            (2, "status_date", "ended by death needs the date"))  # fmt: skip
    rejects(session, "customers", write_table(branch / "c.csv", ["客户号", "姓名", "地址", "经度", "原代理人代码"], [["C2", "王五", "成都", 104.1, "A1"]]),
            (2, "lat", "both longitude and latitude"))  # fmt: skip


def test_a_done_task_needs_its_completion_time_and_a_received_amount_its_date(session, branch):
    rejects(session, "tasks", write_table(branch / "t.csv", TASKS, [["K1", "保全", "C1", None, None, "2024-03-01 10:00", "已完成"]]),
            (2, "completed_at", "completion time"))  # fmt: skip
    rejects(session, "dues", write_table(branch / "d.csv", [*DUES, "amount_received"], [["P1", 1, "2023-03-01", 1200, 1200]]),
            (2, "received_date", "date is missing"))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"  \r\n\r\n", "is empty"),
        ("binary.csv", b"\x00\x01\x02\x03binary\x00junk", "not a text (CSV) or Excel"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n....", "not a text (CSV) or Excel"),
        ("fake.xlsx", b"PK\x03\x04 not really a zip", "not a readable .xlsx"),
        ("renamed.xlsx", b"policy_no,due_date\n", "not a valid .xlsx"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old .xls workbook"),
    ],
)
def test_files_that_are_not_exchange_files(session, branch, name, content, words):
    path = branch / name
    path.write_bytes(content)
    rejects(session, "dues", path, (None, None, words))


def test_missing_file_and_unknown_kind(session, branch):
    with pytest.raises(ImportFailed, match="does not exist"):
        import_file(session, "dues", branch / "nowhere.csv")
    with pytest.raises(ImportFailed, match="unknown kind 'premiums'"):
        import_file(session, "premiums", branch / "nowhere.csv")


def test_missing_required_columns_are_named_on_row_1(session, branch):
    path = write_table(
        branch / "d.csv", ["保单号", "应缴日期", "note"], [["P1", "2024-03-01", "x"]]
    )
    err = rejects(
        session, "dues", path, (1, "policy_year", "保单年度"), (1, "amount_due", "应收保费")
    )
    assert "headers found: 保单号, 应缴日期, note" in str(err)


def test_many_problems_are_collected_and_the_message_is_cut(session, branch):
    rows = [["P1", "x", f"2024-13-{d:02d}", -1] for d in range(1, 31)]
    with pytest.raises(ImportFailed) as err:
        import_file(session, "dues", write_table(branch / "d.csv", DUES, rows))
    problems = err.value.problems
    assert len(problems) == pipeline.MAX_PROBLEMS
    assert [(p.row, p.column) for p in problems[:3]] == [(2, "policy_year"), (2, "due_date"), (2, "amount_due")]  # fmt: skip
    text = str(err.value)
    assert text.splitlines()[0] == "d.csv was not imported, nothing was changed:"
    assert "d.csv, row 2, column due_date: '2024-13-01' is not a real date" in text
    assert f"… and {pipeline.MAX_PROBLEMS - 20} more problems" in text


def test_a_bad_row_after_chunks_were_written_leaves_nothing(session, branch, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    rows = [["P1", y, f"{2022 + y}-03-01", 1200] for y in range(1, 8)] + [["P404", 8, "2031-03-01", 1]]  # fmt: skip
    rejects(session, "dues", write_table(branch / "d.csv", DUES, rows), (9, "policy_no", "no policy 'P404'"))  # fmt: skip
    # The session goes on: the same file without its bad row imports.
    result = import_file(session, "dues", write_table(branch / "d2.csv", DUES, rows[:-1]))
    session.commit()
    assert (result.rows, result.inserted) == (7, 7)


def test_a_cancelled_import_leaves_nothing(session, branch, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)

    class CancelAfterFirstChunk:
        def __init__(self) -> None:
            self.reports: list[float] = []

        def report(self, fraction: float, step: Message | None = None) -> None:
            self.reports.append(fraction)

        def cancelled(self) -> bool:
            return len(self.reports) >= 1

    before = counts(session)
    rows = [["P1", y, f"{2022 + y}-03-01", 1200] for y in range(1, 8)]
    state = CancelAfterFirstChunk()
    with pytest.raises(Cancelled):
        import_file(session, "dues", write_table(branch / "d.csv", DUES, rows), state=state)
    session.commit()
    assert counts(session) == before
    assert 0 < state.reports[0] < 1


def test_grids_geojson_problems_name_the_feature(session, tmp_path):
    bow_tie = {"type": "Polygon", "coordinates": [[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1], [104, 30]]]}  # fmt: skip
    projected = square(500_000, 3_400_000, 100)  # metres, not degrees
    point = {"type": "Point", "coordinates": [104, 30]}
    path = write_geojson(tmp_path / "grids.geojson", [
        ({"code": "G1", "name": "好网格"}, square(104, 30)),
        ({"code": "G2", "name": "自相交"}, bow_tie),
        ({"code": "G3", "name": "投影坐标"}, projected),
        ({"code": "G4", "name": "点"}, point),
        ({"code": "G1", "name": ""}, square(105, 30)),
    ])  # fmt: skip
    err = rejects(session, "grids", path,
                  (2, "geometry", "not a valid polygon"), (3, "geometry", "WGS84"),
                  (4, "geometry", "is a Point"), (5, "name", "required"),
                  (5, "code", "appears again (first in feature 1)"))  # fmt: skip
    assert "grids.geojson, feature 2, column geometry" in str(err)
    for content, words in ((b"{not json", "not valid GeoJSON"), (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
                           (b"\xff\xfe\x00garbage", "not a GeoJSON text file"), (b"", "is empty")):  # fmt: skip
        path.write_bytes(content)
        rejects(session, "grids", path, (None, None, words))


def test_a_missing_column_is_named_on_the_header_row_below_a_title(session, branch):
    path = write_table(branch / "d.xlsx", ["应收保费清单"], [[], ["保单号", "保单年度", "应缴日期"], ["P1", 1, "2023-03-01"]])  # fmt: skip
    rejects(
        session, "dues", path, (3, "amount_due", "write amount_due or 应收保费 in the header row")
    )
