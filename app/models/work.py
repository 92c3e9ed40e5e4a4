"""Tasks, the SMS outbox, the assignment history and rebalance batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow
from app.models.enums import (
    AssignmentReason,
    Channel,
    NotificationStatus,
    NotificationTemplate,
    TaskKind,
    TaskStatus,
)
from app.models.types import enum_column

# The task queue's sort keys after the status (see app/services/tasks/queue.py), one index each.
TASK_PAGE_KEYS = (
    ("id", ()),
    ("task_no", ("task_no",)),
    ("kind", ("kind",)),
    ("due_date", ("due_date",)),
    ("created_at", ("created_at",)),
    ("completed_at", ("completed_at",)),
    ("specialist", ("specialist_id",)),
    ("customer", ("customer_id",)),
)


# The sorts of the queue of tasks nobody holds that read a partial index (by customer, the
# customers are walked by name; by specialist, nobody holds them).
UNHELD = "specialist_id IS NULL"
UNHELD_KEYS = ("id", "task_no", "kind", "due_date", "created_at", "completed_at")
SERVICE_YEAR_COLUMNS = (
    "kind",
    "created_at",
    "specialist_id",
    "status",
    "due_date",
    "completed_at",
    "customer_id",
)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_specialist_status", "specialist_id", "status", "due_date"),
        Index("ix_task_status_completed", "status", "completed_at", "kind", "specialist_id"),
        # The task queue's keyset pages: one index range scan per status for each sort.
        *(Index(f"ix_task_page_{name}", "status", *cols, "id") for name, cols in TASK_PAGE_KEYS),
        # The same for the tasks nobody holds (a few in every hundred, nearly all open): their
        # queue's pages are range scans too, not a sort of all of them.
        *(
            Index(
                f"ix_task_unheld_{name}",
                "status",
                *cols,
                "id",
                sqlite_where=text(UNHELD),
                postgresql_where=text(UNHELD),
            )
            for name, cols in TASK_PAGE_KEYS
            if name in UNHELD_KEYS
        ),
        # The year's service tasks for the equity report (metrics.equity): a range of it by
        # kind and creation time holds every column the report reads, so the report is one
        # index range scan, not a walk of every task of every specialist.
        Index("ix_task_service_year", *SERVICE_YEAR_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[TaskKind] = enum_column(TaskKind)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policy.id"))
    specialist_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"))
    channel: Mapped[Channel] = enum_column(Channel, default=Channel.OFFLINE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[TaskStatus] = enum_column(TaskStatus, default=TaskStatus.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Notification(Base):
    """An SMS waiting in the outbox; the company gateway sends it, outside this program."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_status_created", "status", "created_at"),
        Index("ix_notification_customer_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    template: Mapped[NotificationTemplate] = enum_column(NotificationTemplate)
    # The rendered message text.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[NotificationStatus] = enum_column(
        NotificationStatus, default=NotificationStatus.QUEUED
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
    # The specialist the message names (None: it names nobody, or it predates this column).
    specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialist.id", name="fk_notification_specialist_id_specialist")
    )
    # The specialist the customer knew before this message: a change back to them withdraws it.
    known_specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialist.id", name="fk_notification_known_specialist_id_specialist")
    )


def _recorded_day(context) -> date:
    """The default effective day: the day the change was recorded, in the default branch time
    zone. Every service passes the day it means; this covers rows written by hand (tests)."""
    from zoneinfo import ZoneInfo

    at = context.get_current_parameters().get("at") or utcnow()
    if at.tzinfo is None:
        from datetime import UTC

        at = at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo("Asia/Shanghai")).date()


class AssignmentEvent(Base):
    """One change of a customer's specialist or a grid's owner. Never deleted."""

    __tablename__ = "assignment_event"
    __table_args__ = (
        Index("ix_assignment_event_customer_at", "customer_id", "at"),
        Index("ix_assignment_event_grid_at", "grid_id", "at"),
        Index("ix_assignment_event_customer_effective", "customer_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Exactly one of customer_id / grid_id / task_id says what changed hands.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    from_specialist_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"))
    to_specialist_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"))
    reason: Mapped[AssignmentReason] = enum_column(AssignmentReason)
    # The login of who made the change ("system" for automatic ones).
    actor: Mapped[str] = mapped_column(String(50), default="system")
    # When it was recorded (UTC) ...
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ... and the branch-local day from which it holds: "who served the customer on day D"
    # reads this (an intake dated 2024-01-15 serves from that day, whenever it was run).
    effective_on: Mapped[date] = mapped_column(Date, default=_recorded_day)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("change_batch.id"), index=True)


class ChangeBatch(Base):
    """A group of assignment changes applied together (a rebalance plan), so it can be undone."""

    __tablename__ = "change_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The plan as applied, JSON, for the record and for undo.
    plan: Mapped[str] = mapped_column(Text, default="{}")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(50))


class Scenario(Base):
    """A rebalancing proposal kept under a name to compare with others and apply later: the
    plan file's JSON (settings, moves and the versions they rely on), who kept it and when."""

    __tablename__ = "rebalance_scenario"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    # The one team the plan is limited to (its supervisors see it); None for the whole branch
    # or several teams (senior supervisors only).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    author: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    plan: Mapped[str] = mapped_column(Text)


class ScheduledPlan(Base):
    """A rebalancing plan applied with a later effective date: stored until that day, then
    applied (app.services.rebalance.scheduled); it can be cancelled before. ``status`` is
    scheduled, applied, cancelled or refused (overtaken by then: ``outcome`` says why)."""

    __tablename__ = "scheduled_plan"
    __table_args__ = (Index("ix_scheduled_plan_status_effective", "status", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    # The one team the plan is limited to (its supervisors see it); None: the branch.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    # The plan file's JSON, and what its author may do (applied with their rights).
    plan: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(50))
    may_cross_teams: Mapped[bool] = mapped_column(Boolean, default=False)
    # The author's teams as a JSON list, or null for the whole branch.
    team_scope: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("change_batch.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
