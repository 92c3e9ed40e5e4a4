"""The SMS outbox: the gateway CSV out, the gateway's results back in, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Branch, Customer, Notification
from app.models.enums import NotificationStatus, NotificationTemplate
from app.services.intake.outbox import (
    ImportFailed,
    export_outbox,
    import_outbox_results,
    outbox_summary,
)

CREATED = datetime(2024, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Chengdu


@pytest.fixture
def outbox(session):
    b = Branch(code="CD", name="XX人寿成都分公司", city="成都")
    other = Branch(code="CQ", name="XX人寿重庆分公司", city="重庆")
    session.add_all([b, other])
    session.flush()

    def customer(branch, no, phone):
        c = Customer(branch_id=branch.id, customer_no=no, name="张三", phone=phone, address="x")
        session.add(c)
        session.flush()
        return c

    with_phone = customer(b, "C1", "13900001111")
    no_phone = customer(b, "C2", None)
    elsewhere = customer(other, "C3", "13900003333")

    def sms(c, body, status=NotificationStatus.QUEUED):
        n = Notification(
            customer_id=c.id,
            template=NotificationTemplate.AGENT_CHANGE,
            body=body,
            created_at=CREATED,
            status=status,
        )
        session.add(n)
        session.flush()
        return n

    msgs = {
        "first": sms(with_phone, '【XX人寿】尊敬的张先生，您好，含逗号,和"引号"'),
        "second": sms(with_phone, "第二条"),
        "no_phone": sms(no_phone, "无手机号"),
        "sent": sms(with_phone, "已发送", NotificationStatus.SENT),
        "elsewhere": sms(elsewhere, "重庆"),
    }
    session.commit()
    return {"branch": b, "msgs": msgs}


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def states(session):
    return {
        n.id: (n.status, n.sent_at, n.error)
        for n in session.scalars(select(Notification).execution_options(populate_existing=True))
    }


def test_export_writes_the_gateway_csv_with_bom_and_full_phone(session, outbox, tmp_path):
    m = outbox["msgs"]
    path = tmp_path / "outbox.csv"
    assert export_outbox(session, path, branch_id=outbox["branch"].id) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "message_id,phone,content,template,created_at"
    assert lines[1] == (
        f'{m["first"].id},13900001111,"【XX人寿】尊敬的张先生，您好，含逗号,和""引号""",'
        "agent_change,2024-03-01 09:30:00"
    )
    assert lines[2].startswith(f"{m['second'].id},13900001111,第二条,")
    # The messages written have left GridDesk: the next export does not send them twice.
    assert session.get(Notification, m["first"].id).status == NotificationStatus.EXPORTED
    # Every branch when none is given; the phone-less message stays queued for later.
    assert export_outbox(session, tmp_path / "all.csv") == 1
    assert session.get(Notification, m["no_phone"].id).status == NotificationStatus.QUEUED
    summary = outbox_summary(session, branch_id=outbox["branch"].id)
    assert (summary.queued, summary.queued_without_phone, summary.sent, summary.failed) == (
        1,
        1,
        1,
        0,
    )
    assert summary.exported == 2
    # A file the gateway lost is written again from the exported ones, changing nothing.
    again = tmp_path / "again.csv"
    assert export_outbox(session, again, status="exported", branch_id=outbox["branch"].id) == 2
    assert again.read_bytes().decode("utf-8-sig").split("\r\n")[1:3] == lines[1:3]


def test_results_round_trip_marks_sent_and_failed(session, outbox, tmp_path):
    m = outbox["msgs"]
    export_outbox(session, tmp_path / "outbox.csv")
    results = write(
        tmp_path / "results.csv",
        "message_id,status,sent_at,error\n"
        f"{m['first'].id},成功,2024/3/1 10:05,\n"
        f"{m['second'].id},failed,,号码停机\n"
        f"{m['elsewhere'].id},sent,2024-03-01T02:06:00Z,\n"
        "999999,sent,,\n",
    )
    update = import_outbox_results(session, results)
    session.commit()
    assert (update.rows, update.sent, update.failed, update.unknown_ids) == (4, 2, 1, (999999,))
    got = states(session)
    assert got[m["first"].id] == (
        NotificationStatus.SENT,
        datetime(2024, 3, 1, 2, 5, tzinfo=UTC),  # 10:05 Chengdu time
        None,
    )
    assert got[m["second"].id] == (NotificationStatus.FAILED, None, "号码停机")
    assert got[m["elsewhere"].id][1] == datetime(2024, 3, 1, 2, 6, tzinfo=UTC)
    assert got[m["no_phone"].id][0] == NotificationStatus.QUEUED
    assert export_outbox(session, tmp_path / "again.csv") == 0


def test_gbk_results_with_chinese_headers_are_read(session, outbox, tmp_path):
    m = outbox["msgs"]
    results = write(
        tmp_path / "results.csv",
        f"短信编号,发送状态,发送时间,失败原因\r\n{m['first'].id},失败,,空号\r\n",
        encoding="gbk",
    )
    update = import_outbox_results(session, results)
    assert (update.sent, update.failed) == (0, 1)
    assert states(session)[m["first"].id] == (NotificationStatus.FAILED, None, "空号")


@pytest.mark.parametrize(
    ("bad_line", "where"),
    [
        ("{second},maybe,,", "row 3, column status: 'maybe' is not a status"),
        ("abc,sent,,", "row 3, column message_id"),
        ("{second},sent,yesterday,", "row 3, column sent_at"),
        ("{first},failed,,", "row 3, column status: message"),
    ],
)
def test_a_bad_row_rejects_the_file_and_changes_nothing(session, outbox, tmp_path, bad_line, where):
    m = outbox["msgs"]
    before = states(session)
    results = write(
        tmp_path / "results.csv",
        "message_id,status,sent_at,error\n"
        f"{m['first'].id},sent,,\n"
        + bad_line.format(first=m["first"].id, second=m["second"].id)
        + "\n",
    )
    with pytest.raises(ImportFailed) as err:
        import_outbox_results(session, results)
    assert str(err.value).startswith(f"results.csv, {where}")
    session.rollback()
    assert states(session) == before


def test_a_file_without_the_status_column_is_rejected(session, outbox, tmp_path):
    results = write(tmp_path / "r.csv", "message_id,result\n1,sent\n")
    with pytest.raises(ImportFailed, match="r.csv, row 1, column status: this column is missing"):
        import_outbox_results(session, results)


def test_results_touch_only_the_branch_of_who_imports_them(session, outbox, tmp_path):
    m = outbox["msgs"]
    mine, theirs = m["first"].id, m["elsewhere"].id
    path = write(tmp_path / "r.csv", f"message_id,status\n{mine},sent\n{theirs},sent\n")
    result = import_outbox_results(session, path, branch_id=outbox["branch"].id)
    assert result.sent == 1 and result.unknown_ids == (theirs,)
    assert states(session)[theirs][0] == NotificationStatus.QUEUED
