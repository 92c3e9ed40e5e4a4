"""Cells as the core systems and Excel write them, read into exact values (no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.models.enums import PaymentMode, PolicyStatus, TaskKind, TaskStatus
from app.services.importer.kinds import COLUMNS, MODES, TASK_KIND, TASK_STATUS, match_headers
from app.services.importer.readers import detect_encoding
from app.services.importer.values import (
    ValueProblem,
    clean,
    parse_amount_fen,
    parse_date,
    parse_datetime,
    parse_enum,
    parse_id_number,
    parse_phone,
    split_list,
    to_utc,
)


def read(parse, raw):
    return parse(clean(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("2024.03.01", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        (20240301, date(2024, 3, 1)),
        ("２０２４年３月１日", date(2024, 3, 1)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
        (datetime(2024, 3, 1, 17, 45), date(2024, 3, 1)),
        (date(2024, 2, 29), date(2024, 2, 29)),
    ],
)
def test_dates(raw, expected):
    assert read(parse_date, raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [("2024-02-30", "not a real date"), ("2023-02-29", "not a real date"),
     ("2024/13/1", "not a real date"), ("3/1/2024", "not a date"), ("soon", "not a date"),
     (45352, "not a date"), ("2024-03-01 soon", "not a date"), ("2024-03-015", "not a date"),
     ("2024-03-01 5", "not a date")],
)  # fmt: skip
def test_impossible_dates(raw, words):
    with pytest.raises(ValueProblem, match=words):
        read(parse_date, raw)


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2024-03-01 09:30", datetime(2024, 3, 1, 1, 30)),
        ("2024/3/1 9:30:15", datetime(2024, 3, 1, 1, 30, 15)),
        ("2024年3月1日 9时30分", datetime(2024, 3, 1, 1, 30)),
        ("2024-03-01T09:30:00.250", datetime(2024, 3, 1, 1, 30, 0, 250_000)),
        ("2024-03-01", datetime(2024, 2, 29, 16, 0)),
        ("2024-03-01T09:30:00Z", datetime(2024, 3, 1, 9, 30)),
        ("2024-03-01 09:30+0900", datetime(2024, 3, 1, 0, 30)),
        (datetime(2024, 3, 1, 9, 30), datetime(2024, 3, 1, 1, 30)),
        (
            datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2024, 3, 1, 14, 30),
        ),  # fmt: skip
    ],
)
def test_datetimes_are_branch_time_unless_they_say_otherwise(raw, utc):
    assert to_utc(read(parse_datetime, raw), SHANGHAI) == utc.replace(tzinfo=timezone.utc)


def test_impossible_times():
    with pytest.raises(ValueProblem, match="impossible time"):
        read(parse_datetime, "2024-03-01 25:00")
    with pytest.raises(ValueProblem, match="cannot be read"):
        read(parse_datetime, "2024-03-01 noon")


@pytest.mark.parametrize(
    ("raw", "fen"),
    [("1200", 120_000), ("1,234.50", 123_450), ("¥1,234.5", 123_450), ("￥1234.56", 123_456),
     ("１，２３４．５６", 123_456), ("1234.560", 123_456), ("RMB 99", 9_900), ("0", 0),
     ("1234元", 123_400), (1234, 123_400), (1234.5, 123_450), (0.1 + 0.2, 30),
     (1234.5600000000001, 123_456), (19.99, 1_999)],
)  # fmt: skip
def test_amounts_to_exact_fen(raw, fen):
    assert read(parse_amount_fen, raw) == fen


@pytest.mark.parametrize(
    ("raw", "words"),
    [("-5", "negative"), (-0.01, "negative"), ("1.234", "more than two decimals"),
     (1.005, "more than two decimals"), ("1.2.3", "not an amount"), ("NaN", "not an amount"),
     ("(5)", "not an amount")],
)  # fmt: skip
def test_bad_amounts(raw, words):
    with pytest.raises(ValueProblem, match=words):
        read(parse_amount_fen, raw)


@pytest.mark.parametrize(
    ("raw", "digits"),
    [(13812345678, "13812345678"), (13812345678.0, "13812345678"), ("138 1234 5678", "13812345678"),
     ("+86-138-1234-5678", "13812345678"), ("(028) 8555-1234", "02885551234"),
     ("１３８１２３４５６７８", "13812345678")],
)  # fmt: skip
def test_phone_numbers(raw, digits):
    assert read(parse_phone, raw) == digits


def test_not_phone_numbers():
    for raw in ("call me", "123", 1.3812345678e10 + 0.5):
        with pytest.raises(ValueProblem):
            read(parse_phone, raw)


def test_id_numbers():
    assert read(parse_id_number, "11010519491231002x") == "11010519491231002X"
    assert read(parse_id_number, " 510107199001012013 ") == "510107199001012013"
    for raw, words in [
        (110105194912310020, "lost its last digits"),  # an int from a number cell
        (1.10105194912310e17, "lost its last digits"),
        ("1.10105E+17", "scientific notation"),
        ("1.10105e+17", "scientific notation"),
        ("510107199001012014", "wrong check digit: expected 3"),
        ("110105194912310000", "Excel may have rounded it"),
        ("110105194902300027", "impossible birth date"),
        ("11010519491231002", "not an 18-character"),
    ]:
        with pytest.raises(ValueProblem, match=words):
            read(parse_id_number, raw)


def test_enum_codes_and_chinese_labels():
    for label, code in MODES.items():
        assert parse_enum(label, enum_cls=PaymentMode, labels=MODES) == PaymentMode(code)
    assert parse_enum("Annual", enum_cls=PaymentMode, labels=MODES) is PaymentMode.ANNUAL
    assert parse_enum("In Force", enum_cls=PolicyStatus, labels={}) is PolicyStatus.IN_FORCE
    expected = {"建联加微": "pre_sell", "续收": "renewal_collection", "保全": "servicing",
                "综拓推荐": "cross_sell", "加保销售": "up_sell", "回访": "callback"}  # fmt: skip
    for label, code in expected.items():
        assert parse_enum(label, enum_cls=TaskKind, labels=TASK_KIND) == TaskKind(code)
    expected = {"待办": "open", "进行中": "in_progress", "已完成": "done", "失败": "failed", "已取消": "cancelled"}  # fmt: skip
    for label, code in expected.items():
        assert parse_enum(label, enum_cls=TaskStatus, labels=TASK_STATUS) == TaskStatus(code)


def test_lists():
    assert read(split_list, "G1、G2;G3，G4；G5") == ["G1", "G2", "G3", "G4", "G5"]
    assert read(split_list, "G1") == ["G1"]


def test_headers_in_english_or_chinese_with_notes_in_any_order():
    found, missing = match_headers(
        "dues", ["备注", "Amount Due", "应缴日期（必填）", "POLICY_NO*", "保单年度", "保单号"]
    )
    assert found == {"amount_due": 1, "due_date": 2, "policy_no": 3, "policy_year": 4}
    assert missing == []
    found, missing = match_headers("dues", ["保单号"])
    assert [c.name for c in missing] == ["policy_year", "due_date", "amount_due"]
    # Every column of DOMAIN.md is matched by its Chinese header alone.
    for kind, cols in COLUMNS.items():
        found, missing = match_headers(kind, [c.zh for c in cols])
        assert (len(found), missing) == (len(cols), []), kind


@pytest.mark.parametrize(
    ("data", "encoding"),
    [("保单号".encode("gbk"), "gb18030"), ("保单号".encode(), "utf-8"),
     ("\ufeff保单号".encode(), "utf-8-sig"), ("保单号".encode("utf-16"), "utf-16"),
     (b"policy_no", "utf-8"), ("保单号".encode()[:-1], "utf-8")],
)  # fmt: skip
def test_encoding_detection(data, encoding):
    assert detect_encoding(data) == encoding
