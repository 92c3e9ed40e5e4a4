"""The SMS outbox keeps at most one waiting message per customer, and texts a customer only
when their specialist really changes from the one they were last told about."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import Factory
from sqlalchemy import select, update

from app.models import Notification
from app.models.enums import NotificationStatus, NotificationTemplate
from app.services.customers.notify import SmsCounts, Told, tell_customers
from app.services.intake.sms import SpecialistContact

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _tell(session, customer, before, now, *, agent_left=False) -> SmsCounts:
    """Tell ``customer`` that ``now`` (a specialist, or None) serves them instead of ``before``."""
    told = Told(
        customer.id,
        customer.name,
        customer.id_number,
        None if now is None else now.id,
        None if now is None else SpecialistContact(now.name, now.phone),
        before_id=None if before is None else before.id,
    )
    return tell_customers(session, [told], signature="成都分公司", now=NOW, agent_left=agent_left)


def _outbox(session, customer) -> list[tuple[str, str, int | None]]:
    return [
        (str(status), str(template), named)
        for status, template, named in session.execute(
            select(Notification.status, Notification.template, Notification.specialist_id)
            .where(Notification.customer_id == customer.id)
            .order_by(Notification.id)
        )
    ]


def _send_all(session) -> None:
    session.execute(
        update(Notification)
        .where(Notification.status == NotificationStatus.QUEUED)
        .values(status=NotificationStatus.SENT)
    )


def _waiting_bodies(session) -> list[str]:
    return session.scalars(
        select(Notification.body).where(Notification.status == NotificationStatus.QUEUED)
    ).all()


def test_a_second_change_before_the_export_replaces_the_waiting_message(session):
    f = Factory(session)
    a, b, c = f.specialist(name="王芳"), f.specialist(name="李强"), f.specialist(name="赵敏")
    cust = f.customer(specialist=a)
    assert _tell(session, cust, a, b) == SmsCounts(queued=1)
    assert _tell(session, cust, b, c) == SmsCounts(replaced=1)
    (body,) = _waiting_bodies(session)
    assert "赵敏" in body
    assert [s for s, _, _ in _outbox(session, cust)] == ["withdrawn", "queued"]


def test_a_change_back_before_the_export_withdraws_and_texts_nobody(session):
    f = Factory(session)
    a, b, c = f.specialist(name="王芳"), f.specialist(name="李强"), f.specialist(name="赵敏")
    cust = f.customer(specialist=a)
    _tell(session, cust, a, b)
    _tell(session, cust, b, c)
    assert _tell(session, cust, c, a) == SmsCounts(withdrawn=1)  # back with whom they knew
    assert _waiting_bodies(session) == []
    assert [s for s, _, _ in _outbox(session, cust)] == ["withdrawn", "withdrawn"]


def test_after_the_message_left_a_change_back_is_one_correction(session):
    f = Factory(session)
    a, b = f.specialist(name="王芳"), f.specialist(name="李强")
    cust = f.customer(specialist=a)
    _tell(session, cust, a, b)
    _send_all(session)  # the customer was told about 李强
    assert _tell(session, cust, b, a) == SmsCounts(queued=1)
    assert _outbox(session, cust) == [
        ("sent", "specialist_change", b.id),
        ("queued", "specialist_change", a.id),
    ]
    (body,) = _waiting_bodies(session)
    assert "王芳" in body


def test_an_agent_change_message_still_waiting_keeps_saying_why(session):
    f = Factory(session)
    a, b = f.specialist(name="王芳"), f.specialist(name="李强")
    cust = f.customer()
    assert _tell(session, cust, None, a, agent_left=True) == SmsCounts(queued=1)
    assert _tell(session, cust, a, b) == SmsCounts(replaced=1)
    (body,) = _waiting_bodies(session)
    assert "原服务人员已离职" in body and "李强" in body
    # Undone before the export: the customer still has to hear that their agent left.
    assert _tell(session, cust, b, a) == SmsCounts(replaced=1)
    (body,) = _waiting_bodies(session)
    assert "原服务人员已离职" in body and "王芳" in body
    assert _outbox(session, cust)[-1] == ("queued", NotificationTemplate.AGENT_CHANGE.value, a.id)


def test_back_to_nobody_withdraws_what_waits(session):
    f = Factory(session)
    a = f.specialist(name="王芳")
    cust = f.customer()
    _tell(session, cust, None, a)
    assert _tell(session, cust, a, None) == SmsCounts(withdrawn=1)
    assert [s for s, _, _ in _outbox(session, cust)] == ["withdrawn"]


def test_back_to_nobody_before_the_agent_change_text_left_still_says_the_agent_left(session):
    f = Factory(session)
    a = f.specialist(name="王芳")
    cust = f.customer()
    _tell(session, cust, None, a, agent_left=True)
    assert _tell(session, cust, a, None) == SmsCounts(replaced=1)
    (body,) = _waiting_bodies(session)
    assert "原服务人员已离职" in body and "王芳" not in body
