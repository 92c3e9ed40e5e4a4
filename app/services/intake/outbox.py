"""The SMS outbox and the company's SMS gateway: export the queued messages as the CSV the
gateway takes, and read the gateway's results back (sent or failed), all or nothing."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from app.models import Branch, Customer, Notification
from app.models.base import utcnow
from app.models.enums import NotificationStatus
from app.services.changes import Changes, some_if
from app.services.clock import branch_tz
from app.services.errors import DomainError
from app.services.files.atomic import atomic_path
from app.services.files.inert import InertCsvWriter
from app.services.intake.intake import chunks
from app.services.messages import Message

EXPORT_COLUMNS = ("message_id", "phone", "content", "template", "created_at")

# Result file headers as gateways and people write them -> our column.
_RESULT_HEADERS = {
    "message_id": "message_id",
    "messageid": "message_id",
    "msg_id": "message_id",
    "id": "message_id",
    "消息编号": "message_id",
    "消息id": "message_id",
    "短信编号": "message_id",
    "status": "status",
    "状态": "status",
    "发送状态": "status",
    "sent_at": "sent_at",
    "发送时间": "sent_at",
    "error": "error",
    "error_message": "error",
    "失败原因": "error",
    "错误信息": "error",
}
_STATUS_WORDS = {
    "sent": NotificationStatus.SENT,
    "success": NotificationStatus.SENT,
    "delivered": NotificationStatus.SENT,
    "成功": NotificationStatus.SENT,
    "已发送": NotificationStatus.SENT,
    "发送成功": NotificationStatus.SENT,
    "failed": NotificationStatus.FAILED,
    "fail": NotificationStatus.FAILED,
    "failure": NotificationStatus.FAILED,
    "失败": NotificationStatus.FAILED,
    "发送失败": NotificationStatus.FAILED,
}
_MOMENT = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_ERROR_LENGTH = 200


# The importer (app/services/importer) had no shared Problem/ImportFailed yet when this was
# written: these two mirror what DOMAIN.md asks of every import message.
@dataclass(frozen=True)
class Problem:
    """One bad cell: the file, the row as a spreadsheet shows it, the column, what is wrong
    (a Message for the file as a whole, English words for a row's values)."""

    file: str
    row: int
    column: str
    message: str | Message

    def words(self) -> Message:
        """The problem with where it is, as a message."""
        where = [
            self.file,
            Message("import.at_row", row=self.row),
            Message("import.at_column", column=self.column),
        ]
        return Message("import.problem", where=where, message=self.message)

    def __str__(self) -> str:
        return str(self.words())


class ImportFailed(DomainError):
    """A file rejected as a whole; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0].words() if problems else Message("outbox.unreadable")
        if len(problems) > 1:
            super().__init__("outbox.failed_more", problem=first, more=len(problems) - 1)
        else:
            super().__init__("outbox.failed", problem=first)
        self.problems = problems


@dataclass(frozen=True)
class OutboxUpdate:
    """What a gateway result file changed."""

    file: str
    rows: int
    sent: int
    failed: int
    # Message ids in the file that this database does not hold (left alone).
    unknown_ids: tuple[int, ...]

    @property
    def changes(self) -> Changes:
        """Messages sent start the hand-off clock's first milestone: customers' figures."""
        return Changes(customers=some_if(self.sent + self.failed))


@dataclass(frozen=True)
class OutboxSummary:
    queued: int
    # Queued messages the export leaves out until the customer's phone number is known.
    queued_without_phone: int
    sent: int
    failed: int
    # Handed to the gateway, its result not imported yet.
    exported: int = 0


def _phone_known():
    """The SQL twin of :func:`app.services.intake.sms.phone_known`."""
    return (Customer.phone.is_not(None)) & (func.length(func.trim(Customer.phone)) > 0)


def outbox_summary(session: Session, *, branch_id: int | None = None) -> OutboxSummary:
    """Return the outbox counts by status."""
    stmt = select(Notification.status, func.count()).join(
        Customer, Customer.id == Notification.customer_id
    )
    if branch_id is not None:
        stmt = stmt.where(Customer.branch_id == branch_id)
    counts = {
        NotificationStatus(s): n for s, n in session.execute(stmt.group_by(Notification.status))
    }
    no_phone = (
        select(func.count())
        .select_from(Notification)
        .join(Customer, Customer.id == Notification.customer_id)
        .where(Notification.status == NotificationStatus.QUEUED, ~_phone_known())
    )
    if branch_id is not None:
        no_phone = no_phone.where(Customer.branch_id == branch_id)
    return OutboxSummary(
        queued=counts.get(NotificationStatus.QUEUED, 0),
        queued_without_phone=session.scalar(no_phone) or 0,
        sent=counts.get(NotificationStatus.SENT, 0),
        failed=counts.get(NotificationStatus.FAILED, 0),
        exported=counts.get(NotificationStatus.EXPORTED, 0),
    )


def export_outbox(
    session: Session,
    path: str | os.PathLike[str],
    *,
    status: str | NotificationStatus = NotificationStatus.QUEUED,
    branch_id: int | None = None,
) -> int:
    """Return the number of messages written to ``path`` as the gateway's CSV.

    The file is UTF-8 with a BOM (Excel opens it right) with the columns message_id, phone,
    content, template, created_at (branch-local time). The phone number is written in full:
    the gateway cannot send without it, so this file holds customers' contact data and only
    roles allowed to import may export it (the caller checks). Messages whose customer has no
    phone number are left out and stay queued until one is known. The queued messages written
    become ``exported``, in the caller's transaction: they have left GridDesk, so a later change
    no longer takes them back (it texts a correction instead), and the next export does not
    send them twice (``status="exported"`` writes them again, for a file the gateway lost). The
    result file the gateway returns marks them sent or failed.
    """
    status = NotificationStatus(status)
    stmt = (
        select(
            Notification.id,
            Customer.phone,
            Notification.body,
            Notification.template,
            Notification.created_at,
            Branch.timezone,
        )
        .join(Customer, Customer.id == Notification.customer_id)
        .join(Branch, Branch.id == Customer.branch_id)
        .where(Notification.status == status, _phone_known())
        .order_by(Notification.id)
    )
    if branch_id is not None:
        stmt = stmt.where(Customer.branch_id == branch_id)
    target = Path(path)
    written = 0
    written_ids: list[int] = []
    # Written beside the target and renamed, so a gateway job never picks up half a file.
    with atomic_path(target) as partial, partial.open("w", encoding="utf-8-sig", newline="") as f:
        out = InertCsvWriter(csv.writer(f))
        out.writerow(EXPORT_COLUMNS)
        for mid, phone, body, template, created, tz in session.execute(stmt):
            local = created.astimezone(branch_tz(tz)).strftime("%Y-%m-%d %H:%M:%S")
            out.writerow((mid, (phone or "").strip(), body, str(template), local))
            written_ids.append(mid)
            written += 1
    if status is NotificationStatus.QUEUED:
        for part in chunks(written_ids):
            session.execute(
                update(Notification)
                .where(Notification.id.in_(part), Notification.status == NotificationStatus.QUEUED)
                .values(status=NotificationStatus.EXPORTED)
            )
    return written


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed([Problem(path.name, 1, "-", Message("outbox.encoding"))])


def _parse_moment(text: str) -> tuple[datetime, bool] | None:
    """Return (datetime, whether it carried its own offset) or None if unreadable."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = t.replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "")
    m = _MOMENT.match(t)
    if not m:
        return None
    y, mo, d, hh, mm, ss, zone = m.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if zone:
        if zone == "Z":
            return moment.replace(tzinfo=UTC), True
        aware = datetime.fromisoformat(f"{date(2000, 1, 1)}T00:00:00{zone}")
        return moment.replace(tzinfo=aware.tzinfo), True
    return moment, False


@dataclass(frozen=True)
class _Result:
    row: int
    message_id: int
    status: NotificationStatus
    sent_at: datetime | None
    sent_at_aware: bool
    error: str | None


def _read_results(path: Path) -> list[_Result]:
    name = path.name
    lines = list(csv.reader(io.StringIO(_read_text(path), newline="")))
    if not lines:
        raise ImportFailed([Problem(name, 1, "-", Message("outbox.empty"))])
    columns: dict[str, int] = {}
    for i, header in enumerate(lines[0]):
        key = _RESULT_HEADERS.get(unicodedata.normalize("NFKC", header).strip().lower())
        if key and key not in columns:
            columns[key] = i
    missing = [c for c in ("message_id", "status") if c not in columns]
    if missing:
        raise ImportFailed([Problem(name, 1, c, Message("outbox.column_missing")) for c in missing])

    def cell(values: list[str], column: str) -> str:
        i = columns.get(column)
        return values[i].strip() if i is not None and i < len(values) else ""

    problems: list[Problem] = []
    results: list[_Result] = []
    first_status: dict[int, tuple[int, NotificationStatus]] = {}
    for row_no, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        raw_id = unicodedata.normalize("NFKC", cell(values, "message_id"))
        if not raw_id.isdigit() or int(raw_id) <= 0:
            problems.append(
                Problem(
                    name, row_no, "message_id", f"'{raw_id}' is not a message id from the export"
                )
            )
            continue
        mid = int(raw_id)
        raw_status = cell(values, "status")
        status = _STATUS_WORDS.get(unicodedata.normalize("NFKC", raw_status).lower())
        if status is None:
            problems.append(
                Problem(
                    name,
                    row_no,
                    "status",
                    f"'{raw_status}' is not a status: write sent or failed (成功 / 失败)",
                )
            )
            continue
        seen = first_status.get(mid)
        if seen is not None and seen[1] != status:
            problems.append(
                Problem(
                    name,
                    row_no,
                    "status",
                    f"message {mid} is {seen[1]} on row {seen[0]} and {status} here",
                )
            )
            continue
        first_status.setdefault(mid, (row_no, status))
        raw_moment = cell(values, "sent_at")
        moment: tuple[datetime, bool] | None = None
        if raw_moment:
            moment = _parse_moment(raw_moment)
            if moment is None:
                problems.append(
                    Problem(
                        name,
                        row_no,
                        "sent_at",
                        f"'{raw_moment}' is not a time: write it as 2024-03-01 09:30:00",
                    )
                )
                continue
        error = cell(values, "error")[:_ERROR_LENGTH] or None
        results.append(
            _Result(
                row=row_no,
                message_id=mid,
                status=status,
                sent_at=moment[0] if moment else None,
                sent_at_aware=moment[1] if moment else False,
                error=error if status is NotificationStatus.FAILED else None,
            )
        )
    if problems:
        raise ImportFailed(problems)
    return results


def import_outbox_results(
    session: Session, path: str | os.PathLike[str], *, branch_id: int | None = None
) -> OutboxUpdate:
    """Return what the gateway's result file (message_id, status, sent_at, error) changed.

    Status is sent or failed (also 成功 / 失败); a time without an offset is branch-local. One
    bad row rejects the file with the file, row, column and reason (ImportFailed) and nothing
    changes. Message ids this database does not hold are reported, not changed.
    """
    file = Path(path)
    results = _read_results(file)
    ids = sorted({r.message_id for r in results})
    zone_of: dict[int, str] = {}
    for part in chunks(ids):
        zone_of.update(
            session.execute(
                select(Notification.id, Branch.timezone)
                .join(Customer, Customer.id == Notification.customer_id)
                .join(Branch, Branch.id == Customer.branch_id)
                .where(
                    Notification.id.in_(part),
                    true() if branch_id is None else Customer.branch_id == branch_id,
                )
            ).all()
        )
    now = utcnow()
    changes: dict[int, dict] = {}
    for r in results:
        if r.message_id not in zone_of:
            continue
        sent_at = None
        if r.status is NotificationStatus.SENT:
            sent_at = r.sent_at or now
            if not r.sent_at_aware and r.sent_at is not None:
                sent_at = r.sent_at.replace(tzinfo=branch_tz(zone_of[r.message_id]))
            sent_at = sent_at.astimezone(UTC)
        changes[r.message_id] = {
            "id": r.message_id,
            "status": r.status,
            "sent_at": sent_at,
            "error": r.error,
        }
    # A message taken back before it left was never in a gateway file: a result for it is
    # reported (as unknown) and changes nothing.
    withdrawn: set[int] = set()
    for part in chunks(sorted(changes)):
        withdrawn.update(
            session.scalars(
                select(Notification.id).where(
                    Notification.id.in_(part), Notification.status == NotificationStatus.WITHDRAWN
                )
            )
        )
    for mid in withdrawn:
        del changes[mid]
    if changes:
        session.execute(update(Notification), list(changes.values()))
    statuses = [c["status"] for c in changes.values()]
    return OutboxUpdate(
        file=file.name,
        rows=len(results),
        sent=statuses.count(NotificationStatus.SENT),
        failed=statuses.count(NotificationStatus.FAILED),
        unknown_ids=tuple(i for i in ids if i not in zone_of or i in withdrawn),
    )
